/*
 * registry: builds the handshake table from the catalogue (common/catalogue.h) and answers the
 * lookups in handshake.h — by index, by name, a job's comma-separated list, and the fingerprint of
 * a reply (the highest priority that matches wins, ties go to the earlier entry).
 */
#include "worker/handshakes/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/scan_spec.h"

/* What each kind of catalogue entry wires in: a FINGERPRINT has no probe, LISTEN no matcher. */
#define HS_PAYLOAD_PROBE(n)       hs_##n##_payload
#define HS_PAYLOAD_FINGERPRINT(n) NULL
#define HS_PAYLOAD_LISTEN(n)      hs_##n##_payload
#define HS_MATCH_PROBE(n)         hs_##n##_match
#define HS_MATCH_FINGERPRINT(n)   hs_##n##_match
#define HS_MATCH_LISTEN(n)        NULL

#define LZR_HS_ENTRY(n, iana, ports, prio, kind)                                                   \
    {.name = #n,                                                                                   \
     .default_ports = ports,                                                                       \
     .priority = LZR_PRIO_##prio,                                                                  \
     .payload = HS_PAYLOAD_##kind(n),                                                              \
     .match = HS_MATCH_##kind(n)},
static const handshake_t table[LZR_PROTOCOL_COUNT] = {LZR_PROTOCOLS(LZR_HS_ENTRY)};
#undef LZR_HS_ENTRY

const handshake_t *handshake_at(size_t i)
{
    return i < LZR_PROTOCOL_COUNT ? &table[i] : NULL;
}

/* The table and the catalogue come from one list, so an entry's index is the same in both. */
const handshake_t *handshake_find(const char *name)
{
    const protocol_t *p = catalogue_find(name);
    return p ? &table[p - catalogue_at(0)] : NULL;
}

int handshake_list_resolve(const scan_names_t *names, const handshake_t **out, size_t max,
                           char *err, size_t errlen)
{
    size_t n = 0;
    for (size_t k = 0; k < names->n; k++) {
        const char *name = names->v[k];
        const handshake_t *h = handshake_find(name);
        if (!h) {
            snprintf(err, errlen, "handshake list: \"%s\" is not a handshake", name);
            return LZR_EPARSE;
        }
        if (!h->payload) {
            snprintf(err, errlen, "handshake list: \"%s\" is a fingerprint only, it has no probe",
                     name);
            return LZR_EPARSE;
        }
        for (size_t i = 0; i < n; i++) {
            if (out[i] == h) {
                snprintf(err, errlen, "handshake list: \"%s\" is listed twice", name);
                return LZR_EPARSE;
            }
        }
        if (n == max) {
            snprintf(err, errlen, "handshake list: \"%s\" is one more than the %zu allowed", name,
                     max);
            return LZR_ERANGE;
        }
        out[n++] = h;
    }
    return (int)n;
}

int handshake_list_parse(const char *csv, const handshake_t **out, size_t max, char *err,
                         size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (!csv || !out || max == 0) {
        snprintf(err, errlen, "handshake list: no list or no room to store it");
        return LZR_EINVAL;
    }
    scan_names_t names;
    char sub[256];
    int rc = scan_names_parse(csv, false, &names, sub, sizeof sub);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "handshake list: %s", sub);
        return rc;
    }
    return handshake_list_resolve(&names, out, max, err, errlen);
}

/* True when the comma-separated port list names port. */
static bool lists_port(const char *ports, uint16_t port)
{
    const char *p = ports;
    while (*p) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p)
            return false;
        if (v == port)
            return true;
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return false;
    }
    return false;
}

size_t handshake_for_port(uint16_t port, const handshake_t **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < LZR_PROTOCOL_COUNT; i++) {
        const handshake_t *h = &table[i];
        if (!h->payload || !h->match || !lists_port(h->default_ports, port))
            continue;
        if (n < max && out)
            out[n] = h;
        n++;
    }
    return n;
}

/* The entries with a matcher, highest priority first and, within a priority, in table order: the
 * first that matches a reply is its fingerprint, and the matchers below it need not run (an HTTP
 * answer, the commonest, skips about fifty). Built once, by whichever engine thread asks first. */
static const handshake_t *by_priority[LZR_PROTOCOL_COUNT];
static size_t n_by_priority;
static pthread_once_t by_priority_once = PTHREAD_ONCE_INIT;

static void order_by_priority(void)
{
    for (size_t i = 0; i < LZR_PROTOCOL_COUNT; i++) {
        const handshake_t *h = &table[i];
        if (!h->match)
            continue;
        size_t k = n_by_priority++;
        for (; k > 0 && by_priority[k - 1]->priority < h->priority; k--)
            by_priority[k] = by_priority[k - 1];
        by_priority[k] = h;
    }
}

const char *handshake_fingerprint(const uint8_t *data, size_t len)
{
    if (!data || len == 0)
        return NULL;
    pthread_once(&by_priority_once, order_by_priority);
    hs_reply_t r; /* one for every matcher: an HTTP answer's headers are found once */
    hs_reply_init(&r, data, len);
    for (size_t i = 0; i < n_by_priority; i++)
        if (by_priority[i]->match(&r))
            return by_priority[i]->name;
    return "unknown";
}

bool handshake_match(const handshake_t *h, const uint8_t *data, size_t len)
{
    hs_reply_t r;
    hs_reply_init(&r, data, len);
    return h->match(&r);
}

void handshake_print_table(FILE *out)
{
    /* A documentation address (RFC 5737) stands in for a target so per-target probes have a
     * representative size. */
    hs_target_t t = {.saddr = addr_ipv4(0xC0000201), .daddr = addr_ipv4(0xC6336407), .dport = 8080};
    uint8_t buf[HANDSHAKE_MAX_PAYLOAD];
    fprintf(out, "%-18s %8s %8s  %s\n", "name", "priority", "payload", "default ports");
    for (size_t i = 0; i < LZR_PROTOCOL_COUNT; i++) {
        const handshake_t *h = &table[i];
        char size[16] = "-";
        if (h->payload)
            snprintf(size, sizeof size, "%zu", h->payload(&t, buf, sizeof buf));
        fprintf(out, "%-18s %8d %8s  %s\n", h->name, h->priority, size, h->default_ports);
    }
}
