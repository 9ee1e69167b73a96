/*
 * packet: building and parsing the frames the worker sends and receives — Ethernet II, IPv4
 * (no options on send) and TCP (an MSS option on SYNs). Parsing checks every length before it
 * reads, so a truncated, lying or hostile frame is rejected, never read past its end.
 * Addresses, ports and numbers are in host byte order in both structs.
 */
#ifndef LZR_PACKET_H
#define LZR_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define PACKET_MAX_FRAME 1514

typedef struct pkt_out {
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    uint8_t ttl;
    uint16_t ip_id;
    bool mss_option; /* add MSS 1460 (SYNs) */
    const uint8_t *payload;
    size_t payload_len;
} pkt_out_t;

typedef struct pkt_in {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    uint8_t ttl;
    const uint8_t *payload; /* points into the parsed frame */
    size_t payload_len;
} pkt_in_t;

/* Writes the frame for p into frame (cap bytes) with correct IPv4 and TCP checksums; returns its
 * length, or 0 when it does not fit. */
size_t packet_build(uint8_t *frame, size_t cap, const pkt_out_t *p);

/* Parses a captured frame of the given pcap link type (DLT_EN10MB with at most one VLAN tag,
 * DLT_RAW as 12 or 14, LINKTYPE_RAW 101, DLT_IPV4, DLT_LINUX_SLL or DLT_LINUX_SLL2) holding
 * IPv4/TCP into out. Returns LZR_OK, or LZR_EPARSE for anything else or anything malformed (bad
 * lengths, IP fragments, not TCP). The payload ends where the IP total length says (link padding
 * is not payload). Checksums are not verified. */
int packet_parse(const uint8_t *frame, size_t len, int linktype, pkt_in_t *out);

#endif
