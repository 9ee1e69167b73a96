/*
 * packet: building and parsing the frames the worker sends and receives — Ethernet II, IPv4 (no
 * options on send) or IPv6 (no extension headers on send), and TCP (an MSS option on SYNs).
 * Parsing checks every length before it reads, so a truncated, lying or hostile frame is
 * rejected, never read past its end. Ports and numbers are in host byte order in both structs;
 * addresses as lzr_addr_t keeps them.
 */
#ifndef LZR_PACKET_H
#define LZR_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define PACKET_MAX_FRAME 1514
#define PACKET_MAX_EXT   8 /* IPv6 extension headers walked before a frame is refused */

/* What frames in both directions share: the IP addresses (one family for both), the TCP header's
 * fields, the hop count and the payload. The family is the addresses' own tag: IPv4 frames fill
 * src.v4 and dst.v4 (host order), IPv6 frames src.v6 and dst.v6. */
typedef struct pkt_seg {
    lzr_addr_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    uint8_t ttl; /* IPv4's TTL or IPv6's hop limit */
    const uint8_t *payload;
    size_t payload_len;
} pkt_seg_t;

/* A frame to send: its segment, and what only the sender sets. */
typedef struct pkt_out {
    pkt_seg_t seg;
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint16_t ip_id;  /* IPv4's identification; IPv6 has none */
    bool mss_option; /* add an MSS option (SYNs): 1460 over IPv4, 1440 over IPv6 */
} pkt_out_t;

/* A parsed frame: its segment, payload pointing into the frame. */
typedef pkt_seg_t pkt_in_t;

/* Writes the frame for p into frame (cap bytes) with correct IP and TCP checksums, IPv4 or IPv6
 * as the addresses' family says; returns its length, or 0 when it does not fit or the two
 * addresses are not of one family. */
size_t packet_build(uint8_t *frame, size_t cap, const pkt_out_t *p);

/* Parses a captured frame of the given pcap link type (DLT_EN10MB with at most one VLAN tag,
 * DLT_RAW as 12 or 14, LINKTYPE_RAW 101, DLT_LINUX_SLL or DLT_LINUX_SLL2, all of which carry
 * IPv4 or IPv6; DLT_IPV4, IPv4 only) holding a TCP segment into out, whose addresses then carry
 * the packet's family. IPv6 hop-by-hop, routing (segments left 0) and destination options headers
 * are skipped, at most PACKET_MAX_EXT of them. Returns LZR_OK, or LZR_EPARSE for anything else or
 * anything malformed (bad lengths, fragments of either family, not TCP). The payload ends where
 * IPv4's total length or IPv6's payload length says (link padding is not payload). Checksums are
 * not verified. */
int packet_parse(const uint8_t *frame, size_t len, int linktype, pkt_in_t *out);

#endif
