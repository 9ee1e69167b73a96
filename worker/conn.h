/*
 * conn: the state the worker keeps for one (address, port) from its first SYN-ACK until the
 * target is classified. It lives in the connection table's pool (conntab), so it is small and
 * fixed in size; payloads and replies are never stored here — data is fingerprinted the moment
 * it arrives. Together with the table's index slot and the timer wheel's node it stays within
 * 64 bytes per in-flight connection.
 */
#ifndef LZR_CONN_H
#define LZR_CONN_H

#include <stdint.h>

typedef struct conn {
    uint32_t daddr; /* IPv4: the target's address, host order; IPv6: its index in targets6 (key) */
    uint16_t dport; /* target port (key) */
    uint16_t sport; /* our source port on the current connection */
    uint32_t seq0;  /* our ISN on the current connection */
    uint32_t rseq0; /* the target's ISN on the current connection */
    uint32_t sent_us; /* engine clock (µs, wrapping) of our last probe, for the RTT */
    uint32_t rtt_us;  /* our first stateful packet → the target's next one */
    uint16_t window;  /* window of the first SYN-ACK */
    uint16_t paylen;  /* bytes of payload our ACK carried on this connection */
    uint8_t state;    /* lzr's connection state (worker/lzr.c) */
    uint8_t hs;       /* index of the current handshake in the job's list */
    uint8_t tried;    /* handshakes tried so far */
    uint8_t ttl_synack;
    uint8_t ttl_last;
    uint8_t synack_retx; /* SYN-ACK retransmissions seen after our ACK */
    uint8_t flags;       /* CONN_F_* evidence bits (worker/lzr.c) */
    uint8_t retries : 7; /* our retransmissions on this connection */
    uint8_t v6 : 1;      /* an IPv6 target: daddr is an index into targets6 (key) */
    uint16_t aux;        /* per-state scratch: acking-firewall probes sent/answered */
    uint16_t aux2;
} conn_t;

_Static_assert(sizeof(conn_t) <= 40, "conn_t must stay small: 64 B per connection in all");

#endif
