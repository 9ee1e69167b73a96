/*
 * handshake: what lzr sends to draw a service out and how it recognises what comes back. Each
 * protocol lives in one file of worker/handshakes/ that exports its probe and matcher; the list
 * in common/catalogue.h names them all, so a new protocol is one file plus one line there
 * (registry.h). A handshake with a NULL payload is a fingerprint only (lzr recognises it but has
 * no probe for it); "wait" sends nothing and lets a server that speaks first speak.
 */
#ifndef LZR_HANDSHAKE_H
#define LZR_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/defaults.h" /* the default lists and their limits */

#define HANDSHAKE_MAX_PAYLOAD 1024

/* The connection a payload is built for: our scan IP, the target, its port. */
typedef struct hs_target {
    lzr_addr_t saddr;
    lzr_addr_t daddr;
    uint16_t dport;
} hs_target_t;

/* Header lines a reply keeps found (hs_reply_header); later ones are looked up by scanning on. */
#define HS_REPLY_HEADERS 32

/* A reply as every matcher sees it: its bytes and, found once on the first ask and kept for
 * the matchers after it, the lines of its header block (offset and length of each) and its
 * body. Only hs_reply_init and hs_util's hs_reply_* read or fill the fields past len. */
typedef struct hs_reply {
    const uint8_t *data;
    size_t len;
    bool parsed;
    uint8_t n_lines;
    size_t end;  /* the header block's end */
    size_t rest; /* where lines past the HS_REPLY_HEADERS kept start (end when none) */
    const uint8_t *body;
    size_t body_len;
    struct {
        uint32_t at, len;
    } line[HS_REPLY_HEADERS];
} hs_reply_t;

/* A reply of len bytes at data, nothing found yet. */
void hs_reply_init(hs_reply_t *r, const uint8_t *data, size_t len);

typedef struct handshake {
    const char *name;          /* protocol label used in output, e.g. "http" */
    const char *default_ports; /* IANA/customary ports, "80,8080" */
    int priority;              /* higher wins when several fingerprints match */
    /* Writes the probe for t into buf (cap ≥ HANDSHAKE_MAX_PAYLOAD) and returns its length;
     * NULL when the protocol has no probe of ours. */
    size_t (*payload)(const hs_target_t *t, uint8_t *buf, size_t cap);
    /* True when r (a server's first bytes, possibly truncated) is this protocol. NULL for
     * "wait". Must read only r->data[0..len). */
    bool (*match)(hs_reply_t *r);
} handshake_t;

/* h's matcher on len bytes at data (h->match must not be NULL). */
bool handshake_match(const handshake_t *h, const uint8_t *data, size_t len);

/* The handshake of the catalogue's protocol i (the same index: both tables come from one list,
 * LZR_PROTOCOL_COUNT long), or NULL past the end. */
const handshake_t *handshake_at(size_t i);

/* The handshake called name, or NULL. */
const handshake_t *handshake_find(const char *name);

/* Parses "wait,tls,http" into out (at most max entries); a name that is not registered or has no
 * probe yields LZR_EPARSE and a message naming it. Returns the count (≥ 1) or a negative code. */
int handshake_list_parse(const char *csv, const handshake_t **out, size_t max, char *err,
                         size_t errlen);

struct scan_names;

/* As handshake_list_parse for a list already split into names (common/scan_spec.h): each name
 * is looked up, checked for a probe and for repeats, in order. */
int handshake_list_resolve(const struct scan_names *names, const handshake_t **out, size_t max,
                           char *err, size_t errlen);

/* The protocol whose fingerprint matches data best (highest priority), or "unknown" when len > 0
 * and nothing matches, or NULL when len is 0. */
const char *handshake_fingerprint(const uint8_t *data, size_t len);

#endif
