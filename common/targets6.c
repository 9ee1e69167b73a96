/*
 * targets6: see targets6.h. Addresses are handled as 128-bit numbers (two halves) so ranges
 * compare and subtract like IPv4's; the finalized set is an array of addresses.
 */
#include "common/targets6.h"
#include "common/grow.h"

#include "common/err.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_QUOTE     64         /* longest entry text echoed back in a message */
#define N_RESERVED_MAX 16         /* room for the entries of reserved[] */
#define TARGETS6_MAX   (1u << 24) /* addresses in one set: 256 MiB of them */

typedef struct u128 {
    uint64_t hi, lo;
} u128_t;

typedef struct range6 {
    u128_t lo, hi; /* inclusive */
} range6_t;

typedef struct range6_vec {
    range6_t *v;
    size_t n, cap;
} range6_vec_t;

struct targets6 {
    range6_vec_t allow, exclude, lifted; /* exclude is sorted and merged when finalizing */
    range6_t reserved[N_RESERVED_MAX];
    struct in6_addr *set; /* the finalized set: sorted, distinct */
    uint64_t count, dropped, excluded;
    bool finalized;
};

/* IANA's IPv6 Special-Purpose Address Registry, and multicast: out of every scan unless lifted
 * (2001:2::/48 is the benchmarking range, the twin of 198.18.0.0/15). */
static const char *const reserved[] = {
    "::/128",            /* unspecified */
    "::1/128",           /* loopback */
    "::ffff:0:0/96",     /* IPv4-mapped */
    "64:ff9b::/96",      /* IPv4/IPv6 translation */
    "64:ff9b:1::/48",    /* local-use IPv4/IPv6 translation */
    "100::/64",          /* discard-only */
    "100:0:0:1::/64",    /* dummy prefix */
    "2001::/23",         /* IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT … */
    "2001:db8::/32",     /* documentation */
    "2002::/16",         /* 6to4 */
    "2620:4f:8000::/48", /* AS112 direct delegation */
    "3fff::/20",         /* documentation */
    "5f00::/16",         /* segment routing SIDs */
    "fc00::/7",          /* unique local */
    "fe80::/10",         /* link local */
    "ff00::/8",          /* multicast */
};
#define N_RESERVED (sizeof reserved / sizeof reserved[0])
_Static_assert(N_RESERVED <= N_RESERVED_MAX, "room for every reserved range");

static u128_t from_in6(const struct in6_addr *a)
{
    u128_t x = {0, 0};
    for (int i = 0; i < 8; i++) {
        x.hi = x.hi << 8 | a->s6_addr[i];
        x.lo = x.lo << 8 | a->s6_addr[i + 8];
    }
    return x;
}

static struct in6_addr to_in6(u128_t x)
{
    struct in6_addr a;
    for (int i = 7; i >= 0; i--) {
        a.s6_addr[i] = (uint8_t)x.hi;
        a.s6_addr[i + 8] = (uint8_t)x.lo;
        x.hi >>= 8;
        x.lo >>= 8;
    }
    return a;
}

static int cmp128(u128_t a, u128_t b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static u128_t add128(u128_t a, uint64_t n)
{
    u128_t r = {a.hi + (a.lo + n < a.lo), a.lo + n};
    return r;
}

/* The addresses of a /len prefix around x. */
static range6_t prefix_range(u128_t x, unsigned len)
{
    uint64_t mhi = len >= 64 ? ~0ull : len ? ~0ull << (64 - len) : 0;
    uint64_t mlo = len <= 64 ? 0 : len >= 128 ? ~0ull : ~0ull << (128 - len);
    range6_t r = {{x.hi & mhi, x.lo & mlo}, {x.hi | ~mhi, x.lo | ~mlo}};
    return r;
}

/* Parses "addr" or "addr/len" (s[0..n)) into a range; LZR_EPARSE with a message otherwise. */
static int parse_entry(const char *s, size_t n, range6_t *r, unsigned *len, char *err,
                       size_t errlen)
{
    char text[INET6_ADDRSTRLEN + 8], q[SPEC_QUOTE + 8];
    text_quote(s, n, SPEC_QUOTE, q, sizeof q);
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    struct in6_addr a;
    bool ok = an < INET6_ADDRSTRLEN;
    if (ok) {
        memcpy(text, s, an);
        text[an] = '\0';
        ok = inet_pton(AF_INET6, text, &a) == 1;
    }
    if (!ok) {
        snprintf(err, errlen,
                 "\"%s\" is not an IPv6 address or prefix (expected x:x::x or x:x::/n)", q);
        return LZR_EPARSE;
    }
    *len = 128;
    if (slash) {
        size_t ln = n - an - 1;
        unsigned v = 0;
        bool ok = ln > 0 && ln <= 3;
        for (size_t i = 0; ok && i < ln; i++) {
            ok = slash[1 + i] >= '0' && slash[1 + i] <= '9';
            v = v * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (!ok || v > 128) {
            snprintf(err, errlen, "\"%s\": the prefix length after '/' must be a number 0-128", q);
            return LZR_EPARSE;
        }
        *len = v;
    }
    *r = prefix_range(from_in6(&a), *len);
    return LZR_OK;
}

static range6_t reserved_range(size_t k)
{
    range6_t r;
    unsigned len;
    char err[8];
    parse_entry(reserved[k], strlen(reserved[k]), &r, &len, err, sizeof err);
    return r;
}

static int vec_push(range6_vec_t *v, range6_t r)
{
    range6_t *g = grow(v->v, v->n, &v->cap, sizeof *g, 16);
    if (!g)
        return LZR_ENOMEM;
    v->v = g;
    v->v[v->n++] = r;
    return LZR_OK;
}

/* Adds each entry of spec to v; an allow entry (min_len > 0) must be at least /min_len. */
static int add_list(targets6_t *t, range6_vec_t *v, const char *spec, unsigned min_len, char *err,
                    size_t errlen)
{
    if (t->finalized) {
        snprintf(err, errlen, "the IPv6 targets are already final");
        return LZR_EINVAL;
    }
    const char *p = spec;
    int rc = LZR_OK;
    while (rc == LZR_OK && *p) {
        size_t skip = strspn(p, ", \t\r\n");
        p += skip;
        size_t n = strcspn(p, ", \t\r\n");
        if (n == 0)
            break;
        range6_t r;
        unsigned len;
        rc = parse_entry(p, n, &r, &len, err, errlen);
        if (rc == LZR_OK && len < min_len) {
            char q[SPEC_QUOTE + 8];
            text_quote(p, n, SPEC_QUOTE, q, sizeof q);
            snprintf(err, errlen,
                     "\"%s\": IPv6 prefixes are expanded only up to /%u (65,536 addresses); list "
                     "the addresses to scan (a hitlist) instead",
                     q, min_len);
            rc = LZR_ERANGE;
        }
        if (rc == LZR_OK)
            rc = vec_push(v, r);
        p += n;
    }
    return rc;
}

int targets6_check_entry(const char *s, size_t n, char *err, size_t errlen)
{
    range6_t r;
    unsigned len;
    return parse_entry(s, n, &r, &len, err, errlen);
}

targets6_t *targets6_new(void)
{
    targets6_t *t = calloc(1, sizeof *t);
    for (size_t k = 0; t && k < N_RESERVED; k++)
        t->reserved[k] = reserved_range(k);
    return t;
}

void targets6_destroy(targets6_t **t)
{
    if (!*t)
        return;
    free((*t)->allow.v);
    free((*t)->exclude.v);
    free((*t)->lifted.v);
    free((*t)->set);
    free(*t);
    *t = NULL;
}

bool targets6_is_entry(const char *s)
{
    return strchr(s, ':') != NULL;
}

int targets6_allow(targets6_t *t, const char *spec, char *err, size_t errlen)
{
    return add_list(t, &t->allow, spec, TARGETS6_MIN_PREFIX, err, errlen);
}

int targets6_exclude(targets6_t *t, const char *spec, char *err, size_t errlen)
{
    return add_list(t, &t->exclude, spec, 0, err, errlen);
}

int targets6_lift_reserved(targets6_t *t, const char *spec, char *err, size_t errlen)
{
    return add_list(t, &t->lifted, spec, 0, err, errlen);
}

static bool in_range(range6_t r, u128_t x)
{
    return cmp128(r.lo, x) <= 0 && cmp128(x, r.hi) <= 0;
}

static bool in_any(const range6_vec_t *v, u128_t x)
{
    for (size_t i = 0; i < v->n; i++)
        if (in_range(v->v[i], x))
            return true;
    return false;
}

/* in_any for a sorted, merged vector, in O(log n). */
static bool in_sorted(const range6_vec_t *v, u128_t x)
{
    size_t lo = 0, hi = v->n; /* the first range whose end is ≥ x lies in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp128(v->v[mid].hi, x) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n && in_range(v->v[lo], x);
}

bool targets6_excludes(const targets6_t *t, const struct in6_addr *a)
{
    return in_any(&t->exclude, from_in6(a));
}

static int cmp_range_lo(const void *a, const void *b)
{
    return cmp128(((const range6_t *)a)->lo, ((const range6_t *)b)->lo);
}

/* Sorts v and merges the ranges that overlap or touch. */
static void sort_merge(range6_vec_t *v)
{
    if (v->n == 0)
        return;
    qsort(v->v, v->n, sizeof *v->v, cmp_range_lo);
    size_t n = 1;
    for (size_t i = 1; i < v->n; i++) {
        range6_t *last = &v->v[n - 1];
        bool touches = last->hi.hi == ~0ull && last->hi.lo == ~0ull;
        if (!touches)
            touches = cmp128(v->v[i].lo, add128(last->hi, 1)) <= 0;
        if (touches) {
            if (cmp128(v->v[i].hi, last->hi) > 0)
                last->hi = v->v[i].hi;
        } else {
            v->v[n++] = v->v[i];
        }
    }
    v->n = n;
}

/* How many addresses range r (at most a /64's worth) holds. */
static uint64_t range_size(range6_t r)
{
    return r.hi.lo - r.lo.lo + 1;
}

/* True when x lies in the default blocklist and no range of t->lifted covers it; *k is the
 * blocklist's entry. */
static bool blocked(const targets6_t *t, u128_t x, size_t *k)
{
    for (size_t i = 0; i < N_RESERVED; i++) {
        if (in_range(t->reserved[i], x)) {
            *k = i;
            return !in_any(&t->lifted, x);
        }
    }
    return false;
}

bool targets6_is_reserved(const struct in6_addr *a)
{
    u128_t x = from_in6(a);
    for (size_t k = 0; k < N_RESERVED; k++)
        if (in_range(reserved_range(k), x))
            return true;
    return false;
}

static int cmp_in6(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct in6_addr));
}

/* Puts the addresses of allow entry e that survive the blocklist and the excludes into the set;
 * LZR_ERESERVED when the blocklist takes every one of them. */
static int expand_entry(targets6_t *t, range6_t e, char *err, size_t errlen)
{
    uint64_t reserved_here = 0;
    size_t k = 0;
    for (u128_t x = e.lo;; x = add128(x, 1)) {
        if (blocked(t, x, &k))
            reserved_here++;
        else if (in_sorted(&t->exclude, x))
            t->excluded++;
        else
            t->set[t->count++] = to_in6(x); /* finalize sized the set for every entry */
        if (cmp128(x, e.hi) == 0)
            break;
    }
    t->dropped += reserved_here;
    if (reserved_here == range_size(e)) {
        char a[INET6_ADDRSTRLEN];
        struct in6_addr lo = to_in6(e.lo);
        inet_ntop(AF_INET6, &lo, a, sizeof a);
        snprintf(err, errlen,
                 "%s lies in the reserved range %s, which scans skip by default; to scan it, "
                 "lift the range with --allow-reserved %s or allow_reserved in the job file",
                 a, reserved[k], reserved[k]);
        return LZR_ERESERVED;
    }
    return LZR_OK;
}

int targets6_finalize(targets6_t *t, char *err, size_t errlen)
{
    uint64_t want = 0;
    for (size_t i = 0; i < t->allow.n; i++)
        want += range_size(t->allow.v[i]);
    if (want > TARGETS6_MAX) {
        snprintf(err, errlen, "%llu IPv6 addresses are more than one scan takes (%u)",
                 (unsigned long long)want, TARGETS6_MAX);
        return LZR_ERANGE;
    }
    t->set = malloc((want ? want : 1) * sizeof *t->set);
    if (!t->set)
        return LZR_ENOMEM;
    t->finalized = true;
    sort_merge(&t->exclude);
    for (size_t i = 0; i < t->allow.n; i++) {
        int rc = expand_entry(t, t->allow.v[i], err, errlen);
        if (rc != LZR_OK)
            return rc;
    }
    qsort(t->set, t->count, sizeof *t->set, cmp_in6);
    uint64_t n = 0;
    for (uint64_t i = 0; i < t->count; i++)
        if (n == 0 || memcmp(&t->set[n - 1], &t->set[i], sizeof *t->set) != 0)
            t->set[n++] = t->set[i];
    t->count = n;
    if (n == 0) {
        snprintf(err, errlen, "no IPv6 address is left to scan");
        return LZR_EEMPTY;
    }
    return LZR_OK;
}

uint64_t targets6_count(const targets6_t *t)
{
    return t->count;
}

const struct in6_addr *targets6_at(const targets6_t *t, uint64_t index)
{
    return &t->set[index];
}

int64_t targets6_index_of(const targets6_t *t, const struct in6_addr *a)
{
    const struct in6_addr *hit = bsearch(a, t->set, t->count, sizeof *t->set, cmp_in6);
    return hit ? hit - t->set : -1;
}

uint64_t targets6_reserved_dropped(const targets6_t *t)
{
    return t->dropped;
}

uint64_t targets6_excluded(const targets6_t *t)
{
    return t->excluded;
}
