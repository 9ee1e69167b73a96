/*
 * handshake: what lzr sends to draw a service out and how it recognises what comes back. Each
 * protocol lives in one file of worker/handshakes/ and exports one const handshake_t; the list
 * in registry.h names them all, so a new protocol is one file plus one line there. A handshake
 * with a NULL payload is a fingerprint only (lzr recognises it but has no probe for it); "wait"
 * sends nothing and lets a server that speaks first speak.
 */
#ifndef LZR_HANDSHAKE_H
#define LZR_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HANDSHAKE_MAX_PAYLOAD 1024
#define HANDSHAKE_MAX_LIST    16

/* The default handshake list of `lzr-worker scan` and of a job file: the LZR paper's order. */
#define HANDSHAKE_DEFAULT_LIST "wait,tls,http,dns,pptp"

/* The default fallback tier: protocols whose servers never answer a foreign probe (they stall or
 * close silently), tried last on targets that behaved like a real service but stayed unnamed
 * (docs/worker.md). */
#define HANDSHAKE_DEFAULT_FALLBACK "mqtt,redis,postgres"

/* The most fallback handshakes a list may hold, and so the most tried per target. */
#define HANDSHAKE_MAX_FALLBACK 4

/* The connection a payload is built for (host byte order). */
typedef struct hs_target {
    uint32_t saddr;
    uint32_t daddr;
    uint16_t dport;
} hs_target_t;

typedef struct handshake {
    const char *name;          /* protocol label used in output, e.g. "http" */
    const char *default_ports; /* IANA/customary ports, "80,8080" */
    int priority;              /* higher wins when several fingerprints match */
    /* Writes the probe for t into buf (cap ≥ HANDSHAKE_MAX_PAYLOAD) and returns its length;
     * NULL when the protocol has no probe of ours. */
    size_t (*payload)(const hs_target_t *t, uint8_t *buf, size_t cap);
    /* True when data (a server's first bytes, possibly truncated) is this protocol. NULL for
     * "wait". Must read only data[0..len). */
    bool (*match)(const uint8_t *data, size_t len);
} handshake_t;

/* Every registered handshake, in registry order. */
size_t handshake_count(void);
const handshake_t *handshake_at(size_t i);

/* The handshake called name, or NULL. */
const handshake_t *handshake_find(const char *name);

/* Parses "wait,tls,http" into out (at most max entries); a name that is not registered or has no
 * probe yields LZR_EPARSE and a message naming it. Returns the count (≥ 1) or a negative code. */
int handshake_list_parse(const char *csv, const handshake_t **out, size_t max, char *err,
                         size_t errlen);

/* The protocol whose fingerprint matches data best (highest priority), or "unknown" when len > 0
 * and nothing matches, or NULL when len is 0. */
const char *handshake_fingerprint(const uint8_t *data, size_t len);

#endif
