/*
 * verify: the worker's side of multi-vantage verification. It makes ordinary kernel TCP
 * connections from chosen source IPs (the original scan IP, fresh IPs) to hosts that stopped
 * answering the scanner, many at once, and records how each was answered. Kernel sockets use
 * the kernel's ephemeral ports, which lie outside the scanner's range, so the scanner's firewall
 * rule does not touch them. verify_run strings the attempts together into the evidence that
 * common/verdict.h decides on.
 */
#ifndef LZR_VERIFY_H
#define LZR_VERIFY_H

#include "common/verdict.h"

#include <stddef.h>
#include <stdint.h>

typedef struct verify_attempt {
    lzr_addr_t src, dst; /* of one family */
    uint16_t port;
    const uint8_t *payload; /* sent once connected, then the connection is closed; NULL: none */
    size_t paylen;
    answer_t answer; /* filled in */
} verify_attempt_t;

typedef struct verify_target {
    lzr_addr_t ip;
    uint16_t port;
    uint16_t random_port; /* the ephemeral port tried from the original IP (0: pick one) */
} verify_target_t;

/* Makes every attempt at once and waits at most timeout_ms for their answers. Connections
 * without payload are aborted with a RST as soon as they are answered. Returns LZR_OK or a
 * negative code with a message (no sockets left, say). */
int verify_attempts(verify_attempt_t *a, size_t n, uint32_t timeout_ms, char *err, size_t errlen);

/* Verifies n targets from one host that holds the original scan IP and two fresh IPs: first
 * the original and the fresh IP together on the port, and the original on a random ephemeral
 * port; then, for the targets that answer only the fresh IP, the trigger test from trigger_ip.
 * The three IPs are of the targets' family. Fills ev[i]. */
int verify_run(const lzr_addr_t *orig_ip, const lzr_addr_t *fresh_ip, const lzr_addr_t *trigger_ip,
               verify_target_t *t, size_t n, uint32_t timeout_ms, verify_evidence_t *ev, char *err,
               size_t errlen);

/* The trigger test alone, from trigger_ip, for the targets t[i] with want[i] set: bare
 * handshake, another; data, another. Fills ev[i].after_bare and ev[i].after_data. */
int verify_trigger(const lzr_addr_t *trigger_ip, const verify_target_t *t, const bool *want,
                   size_t n, uint32_t timeout_ms, verify_evidence_t *ev, char *err, size_t errlen);

#endif
