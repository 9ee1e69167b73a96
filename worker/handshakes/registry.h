/*
 * registry: the handshake table, built from the protocol list of common/catalogue.h. Each entry
 * of the list names a file worker/handshakes/<name>.c that exports hs_<name>_payload (unless the
 * protocol is FINGERPRINT only) and hs_<name>_match (unless it is LISTEN); registry.c pairs them
 * with the entry's name, default ports and priority into the table that handshake_at/find/
 * list_parse/fingerprint (handshake.h) walk. Adding a protocol is its file plus one line in the
 * catalogue; a missing function is a link error.
 */
#ifndef LZR_HS_REGISTRY_H
#define LZR_HS_REGISTRY_H

#include <stdio.h>

#include "common/catalogue.h"
#include "worker/handshakes/handshake.h"

#define LZR_HS_DECLARE(n, iana, ports, prio, kind)                                                 \
    size_t hs_##n##_payload(const hs_target_t *t, uint8_t *buf, size_t cap);                       \
    bool hs_##n##_match(hs_reply_t *r);
LZR_PROTOCOLS(LZR_HS_DECLARE)
#undef LZR_HS_DECLARE

/* The handshakes that have a probe and list port among their default ports, in registry order:
 * the protocols a server on that port is expected to speak (e.g. 1883 → mqtt). Stores at most
 * max into out and returns how many matched (which may exceed max). */
size_t handshake_for_port(uint16_t port, const handshake_t **out, size_t max);

/* Prints one line per handshake — name, priority, payload size for a sample target (or "-" when
 * it has no probe), default ports — under a header line; for `lzr-worker handshakes`. */
void handshake_print_table(FILE *out);

#endif
