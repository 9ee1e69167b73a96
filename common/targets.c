/*
 * targets: the IPv4 address set of a scan job. Allow, exclude and lift entries are collected as
 * inclusive intervals; finalize sorts and merges each list (O(n log n), so 10^5 entries take
 * milliseconds) and sweeps them into allow − exclude − (blocklist − lifted). The result is a
 * sorted array of disjoint intervals plus a prefix count per interval, so the permutation's
 * index → address step and membership tests are binary searches.
 */
#include "targets.h"
#include "common/grow.h"
#include "common/targets6.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

#define SPEC_QUOTE 64 /* longest entry text echoed back in a message */

typedef struct range {
    uint32_t lo, hi; /* inclusive */
} range_t;

typedef struct range_vec {
    range_t *v;
    size_t n, cap;
} range_vec_t;

struct targets {
    range_vec_t allow;   /* entries as given, in order (kept for the reserved-range check) */
    range_vec_t exclude; /* entries as given */
    range_vec_t lifted;  /* blocklist ranges the job lifted */
    range_vec_t set;     /* the finalized set: sorted, disjoint, non-adjacent */
    uint64_t *before;    /* before[i]: addresses in set.v[0..i) */
    uint64_t count;
    uint64_t dropped;
    uint64_t excluded;
    bool finalized;
    bool plain; /* no default blocklist: an operator's list */
};

/* The IANA special-purpose ranges that stay out of every scan unless lifted (RFC 6890 and its
 * successors), sorted by start address. */
static const struct {
    uint32_t net;
    unsigned prefix;
} reserved[] = {
    {0x00000000u, 8},  /* 0.0.0.0/8 "this network" */
    {0x0a000000u, 8},  /* 10.0.0.0/8 private */
    {0x64400000u, 10}, /* 100.64.0.0/10 shared address space (CGN) */
    {0x7f000000u, 8},  /* 127.0.0.0/8 loopback */
    {0xa9fe0000u, 16}, /* 169.254.0.0/16 link local */
    {0xac100000u, 12}, /* 172.16.0.0/12 private */
    {0xc0000000u, 24}, /* 192.0.0.0/24 IETF protocol assignments */
    {0xc0000200u, 24}, /* 192.0.2.0/24 TEST-NET-1 */
    {0xc0a80000u, 16}, /* 192.168.0.0/16 private */
    {0xc6120000u, 15}, /* 198.18.0.0/15 benchmarking */
    {0xc6336400u, 24}, /* 198.51.100.0/24 TEST-NET-2 */
    {0xcb007100u, 24}, /* 203.0.113.0/24 TEST-NET-3 */
    {0xe0000000u, 4},  /* 224.0.0.0/4 multicast */
    {0xf0000000u, 4},  /* 240.0.0.0/4 reserved, and broadcast */
};
#define N_RESERVED (sizeof(reserved) / sizeof(reserved[0]))

static uint32_t prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : ~UINT32_C(0) << (32 - prefix);
}

static range_t reserved_range(size_t i)
{
    uint32_t m = prefix_mask(reserved[i].prefix);
    return (range_t){reserved[i].net & m, reserved[i].net | ~m};
}

char *targets_ntoa(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
             addr & 0xff);
    return buf;
}

/* Writes [lo, hi] the way an operator would: an address, a CIDR when it is one, or "A-B". */
static void format_range(range_t r, char *buf, size_t len)
{
    char a[16], b[16];
    targets_ntoa(r.lo, a);
    if (r.lo == r.hi) {
        snprintf(buf, len, "%s", a);
        return;
    }
    uint64_t size = (uint64_t)r.hi - r.lo + 1;
    if ((size & (size - 1)) == 0 && (r.lo & (uint32_t)(size - 1)) == 0) {
        unsigned prefix = 32;
        while (size > 1) {
            size >>= 1;
            prefix--;
        }
        snprintf(buf, len, "%s/%u", a, prefix);
        return;
    }
    snprintf(buf, len, "%s-%s", a, targets_ntoa(r.hi, b));
}

/* Parses a strict dotted quad from s[0..n). Each part is 1-3 decimal digits without a leading
 * zero (so "010" cannot be mistaken for octal) and at most 255. */
/* Says in err that spec[0..n) is no address, CIDR or range; LZR_EPARSE. */
static int not_an_entry(const char *spec, size_t n, char *err, size_t errlen)
{
    char q[SPEC_QUOTE + 8];
    text_quote(spec, n, SPEC_QUOTE, q, sizeof(q));
    snprintf(err, errlen,
             "\"%s\" is not an IPv4 address, CIDR or range "
             "(expected a.b.c.d, a.b.c.d/n or a.b.c.d-e.f.g.h)",
             q);
    return LZR_EPARSE;
}

static int parse_addr(const char *s, size_t n, const char *spec, size_t speclen, uint32_t *out,
                      char *err, size_t errlen)
{
    char q[SPEC_QUOTE + 8];
    uint32_t addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                goto bad;
            i++;
        }
        size_t d = 0;
        uint32_t v = 0;
        while (i + d < n && isdigit((unsigned char)s[i + d]) && d < 4) {
            v = v * 10 + (uint32_t)(s[i + d] - '0');
            d++;
        }
        if (d == 0 || d > 3)
            goto bad;
        if (d > 1 && s[i] == '0') {
            text_quote(spec, speclen, SPEC_QUOTE, q, sizeof(q));
            snprintf(err, errlen,
                     "\"%s\": %.*s has a leading zero; write IPv4 octets in plain decimal", q,
                     (int)d, s + i);
            return LZR_EPARSE;
        }
        if (v > 255) {
            text_quote(spec, speclen, SPEC_QUOTE, q, sizeof(q));
            snprintf(err, errlen, "\"%s\": %u is not an octet (0-255)", q, v);
            return LZR_EPARSE;
        }
        addr = addr << 8 | v;
        i += d;
    }
    if (i != n)
        goto bad;
    *out = addr;
    return LZR_OK;
bad:
    return not_an_entry(spec, speclen, err, errlen);
}

/* Parses one entry s[0..n) into an inclusive range. A CIDR with host bits set covers its whole
 * network, as in most scanners' allow lists. */
static int parse_range_n(const char *s, size_t n, range_t *r, char *err, size_t errlen)
{
    char q[SPEC_QUOTE + 8];
    if (n == 0) {
        snprintf(err, errlen,
                 "\"\" is empty: expected an IPv4 address, CIDR (a.b.c.d/n) or range "
                 "(a.b.c.d-e.f.g.h)");
        return LZR_EPARSE;
    }
    const char *slash = memchr(s, '/', n);
    const char *dash = memchr(s, '-', n);
    if (slash && !dash) {
        size_t left = (size_t)(slash - s), plen = n - left - 1;
        uint32_t addr;
        int rc = parse_addr(s, left, s, n, &addr, err, errlen);
        if (rc != LZR_OK)
            return rc;
        unsigned prefix = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)slash[1 + i]) || i >= 3) {
                plen = 0;
                break;
            }
            prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
        }
        text_quote(s, n, SPEC_QUOTE, q, sizeof(q));
        if (plen == 0) {
            snprintf(err, errlen, "\"%s\": the prefix length after '/' must be a number 0-32", q);
            return LZR_EPARSE;
        }
        if (prefix > 32) {
            snprintf(err, errlen, "\"%s\": prefix length %u is out of range (0-32)", q, prefix);
            return LZR_EPARSE;
        }
        uint32_t m = prefix_mask(prefix);
        r->lo = addr & m;
        r->hi = addr | ~m;
        return LZR_OK;
    }
    if (dash && !slash) {
        size_t left = (size_t)(dash - s);
        int rc = parse_addr(s, left, s, n, &r->lo, err, errlen);
        if (rc == LZR_OK)
            rc = parse_addr(dash + 1, n - left - 1, s, n, &r->hi, err, errlen);
        if (rc != LZR_OK)
            return rc;
        if (r->lo > r->hi) {
            char a[16], b[16];
            text_quote(s, n, SPEC_QUOTE, q, sizeof(q));
            snprintf(err, errlen, "\"%s\": the range is reversed (%s > %s); write it low-high", q,
                     targets_ntoa(r->lo, a), targets_ntoa(r->hi, b));
            return LZR_EPARSE;
        }
        return LZR_OK;
    }
    if (!dash && !slash) {
        int rc = parse_addr(s, n, s, n, &r->lo, err, errlen);
        r->hi = r->lo;
        return rc;
    }
    return not_an_entry(s, n, err, errlen);
}

int targets_parse_range(const char *spec, uint32_t *lo, uint32_t *hi, char *err, size_t errlen)
{
    if (!spec || !lo || !hi)
        return LZR_EINVAL;
    range_t r;
    int rc = parse_range_n(spec, strlen(spec), &r, err, errlen);
    if (rc == LZR_OK) {
        *lo = r.lo;
        *hi = r.hi;
    }
    return rc;
}

static int vec_push(range_vec_t *v, range_t r)
{
    range_t *g = grow(v->v, v->n, &v->cap, sizeof *g, 16);
    if (!g)
        return LZR_ENOMEM;
    v->v = g;
    v->v[v->n++] = r;
    return LZR_OK;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses a list of entries separated by commas and/or blanks and appends them to v. The call is
 * all or nothing: on any bad entry, v is left as it was. */
static int add_list(targets_t *t, range_vec_t *v, const char *what, const char *spec, char *err,
                    size_t errlen)
{
    if (!t || !spec)
        return LZR_EINVAL;
    if (t->finalized) {
        char q[SPEC_QUOTE + 8];
        text_quote(spec, strlen(spec), SPEC_QUOTE, q, sizeof(q));
        snprintf(err, errlen, "cannot %s \"%s\": the target set is already finalized", what, q);
        return LZR_EINVAL;
    }
    size_t len = strlen(spec), old = v->n, entries = 0;
    for (size_t i = 0; i < len;) {
        if (is_sep(spec[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && !is_sep(spec[j]))
            j++;
        range_t r;
        int rc = parse_range_n(spec + i, j - i, &r, err, errlen);
        if (rc == LZR_OK && vec_push(v, r) != LZR_OK) {
            snprintf(err, errlen, "out of memory adding targets");
            rc = LZR_ENOMEM;
        }
        if (rc != LZR_OK) {
            v->n = old;
            return rc;
        }
        entries++;
        i = j;
    }
    if (entries == 0)
        return parse_range_n(spec, 0, &(range_t){0, 0}, err, errlen);
    return LZR_OK;
}

targets_t *targets_new(void)
{
    return calloc(1, sizeof(targets_t));
}

targets_t *targets_new_list(void)
{
    targets_t *t = calloc(1, sizeof(targets_t));
    if (t)
        t->plain = true;
    return t;
}

void targets_destroy(targets_t **t)
{
    if (!t || !*t)
        return;
    free((*t)->allow.v);
    free((*t)->exclude.v);
    free((*t)->lifted.v);
    free((*t)->set.v);
    free((*t)->before);
    free(*t);
    *t = NULL;
}

int targets_allow(targets_t *t, const char *spec, char *err, size_t errlen)
{
    return add_list(t, t ? &t->allow : NULL, "allow", spec, err, errlen);
}

int targets_exclude(targets_t *t, const char *spec, char *err, size_t errlen)
{
    return add_list(t, t ? &t->exclude : NULL, "exclude", spec, err, errlen);
}

int targets_lift_reserved(targets_t *t, const char *spec, char *err, size_t errlen)
{
    if (!t)
        return LZR_EINVAL;
    size_t old = t->lifted.n;
    int rc = add_list(t, &t->lifted, "lift", spec, err, errlen);
    if (rc != LZR_OK)
        return rc;
    /* Lifting space that is not reserved at all is most likely a typo in the job; say so rather
     * than let the job later fail with a reserved-range error that names a different range. */
    for (size_t i = old; i < t->lifted.n; i++) {
        range_t l = t->lifted.v[i];
        bool hits = false;
        for (size_t k = 0; k < N_RESERVED && !hits; k++) {
            range_t b = reserved_range(k);
            hits = l.lo <= b.hi && b.lo <= l.hi;
        }
        if (!hits) {
            char r[40];
            format_range(l, r, sizeof(r));
            snprintf(err, errlen,
                     "%s is not in any reserved range; only reserved space (e.g. 198.18.0.0/15) "
                     "needs lifting",
                     r);
            t->lifted.n = old;
            return LZR_EINVAL;
        }
    }
    return LZR_OK;
}

static int cmp_range(const void *a, const void *b)
{
    const range_t *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return 0;
}

/* Copies in into out, sorted and merged into disjoint, non-adjacent ranges; 0 or -1 (no memory). */
static int sort_merge(const range_vec_t *in, range_vec_t *out)
{
    out->v = NULL;
    out->n = out->cap = 0;
    if (in->n == 0)
        return 0;
    out->v = malloc(in->n * sizeof(range_t));
    if (!out->v)
        return -1;
    memcpy(out->v, in->v, in->n * sizeof(range_t));
    qsort(out->v, in->n, sizeof(range_t), cmp_range);
    size_t w = 0;
    for (size_t i = 1; i < in->n; i++) {
        range_t r = out->v[i];
        /* Merge overlapping and adjacent ranges; hi == UINT32_MAX cannot be followed. */
        if (out->v[w].hi == UINT32_MAX || r.lo <= out->v[w].hi + 1) {
            if (r.hi > out->v[w].hi)
                out->v[w].hi = r.hi;
        } else {
            out->v[++w] = r;
        }
    }
    out->n = out->cap = w + 1;
    return 0;
}

/* out = a − b for sorted, disjoint lists; out must have room for a.n + b.n ranges. */
static void subtract(const range_vec_t *a, const range_vec_t *b, range_vec_t *out)
{
    size_t j = 0;
    out->n = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint64_t lo = a->v[i].lo, hi = a->v[i].hi;
        while (j < b->n && b->v[j].hi < lo)
            j++;
        for (size_t k = j; k < b->n && b->v[k].lo <= hi && lo <= hi; k++) {
            if (b->v[k].lo > lo)
                out->v[out->n++] = (range_t){(uint32_t)lo, b->v[k].lo - 1};
            lo = (uint64_t)b->v[k].hi + 1;
        }
        if (lo <= hi)
            out->v[out->n++] = (range_t){(uint32_t)lo, (uint32_t)hi};
    }
}

static uint64_t total(const range_vec_t *v)
{
    uint64_t n = 0;
    for (size_t i = 0; i < v->n; i++)
        n += (uint64_t)v->v[i].hi - v->v[i].lo + 1;
    return n;
}

/* Index of the range in sorted, disjoint v that contains addr, or -1. */
static ptrdiff_t find(const range_vec_t *v, uint32_t addr)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->v[mid].hi < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->n && v->v[lo].lo <= addr)
        return (ptrdiff_t)lo;
    return -1;
}

/* Builds the message for an allow entry that lies wholly in reserved space: it names the entry,
 * each blocklist range it touches, and the two ways to lift them. */
static void reserved_message(range_t entry, char *err, size_t errlen)
{
    char e[40], ranges[400] = "", flags[600] = "";
    size_t nr = 0;
    format_range(entry, e, sizeof(e));
    for (size_t k = 0; k < N_RESERVED; k++) {
        range_t b = reserved_range(k);
        if (!(entry.lo <= b.hi && b.lo <= entry.hi))
            continue;
        char r[40];
        format_range(b, r, sizeof(r));
        size_t rl = strlen(ranges), fl = strlen(flags);
        snprintf(ranges + rl, sizeof(ranges) - rl, "%s%s", nr ? ", " : "", r);
        snprintf(flags + fl, sizeof(flags) - fl, "%s--allow-reserved %s", nr ? " " : "", r);
        nr++;
    }
    snprintf(err, errlen,
             "%s lies in the reserved range%s %s, which scans skip by default; to scan it, lift "
             "the range with %s or allow_reserved in the job file",
             e, nr > 1 ? "s" : "", ranges, flags);
}

/* The blocklist in force into *block: the reserved ranges (none for a plain set) minus the
 * lifted ones. LZR_OK or LZR_ENOMEM. */
static int blocklist_in_force(const targets_t *t, const range_vec_t *lifted, range_vec_t *block)
{
    range_vec_t all_reserved = {0}, base = {0};
    range_t res[N_RESERVED];
    for (size_t k = 0; k < N_RESERVED; k++)
        res[k] = reserved_range(k);
    all_reserved.v = res;
    all_reserved.n = t->plain ? 0 : N_RESERVED;
    int rc = LZR_ENOMEM;
    if (sort_merge(&all_reserved, &base) == 0) {
        block->v = malloc((base.n + lifted->n) * sizeof(range_t));
        if (block->v) {
            subtract(&base, lifted, block);
            rc = LZR_OK;
        }
    }
    free(base.v);
    return rc;
}

/* An allow entry wholly inside the blocklist is a mistake the operator must see, not a silent
 * no-op; the entries are checked in the order they were given. */
static int check_allow_entries(const targets_t *t, const range_vec_t *block, char *err,
                               size_t errlen)
{
    for (size_t i = 0; i < t->allow.n; i++) {
        range_t e = t->allow.v[i];
        ptrdiff_t k = find(block, e.lo);
        if (k >= 0 && block->v[k].hi >= e.hi) {
            reserved_message(e, err, errlen);
            return LZR_ERESERVED;
        }
    }
    return LZR_OK;
}

/* Everything to take out into *off: the exclusions and the blocklist, merged. */
static int ranges_off(const range_vec_t *excl, const range_vec_t *block, range_vec_t *off)
{
    range_vec_t tmp = {0};
    tmp.v = malloc((excl->n + block->n + 1) * sizeof(range_t));
    if (!tmp.v)
        return LZR_ENOMEM;
    memcpy(tmp.v, block->v, block->n * sizeof(range_t));
    if (excl->n)
        memcpy(tmp.v + block->n, excl->v, excl->n * sizeof(range_t));
    tmp.n = excl->n + block->n;
    int rc = sort_merge(&tmp, off) ? LZR_ENOMEM : LZR_OK;
    free(tmp.v);
    return rc;
}

/* Fills the set (allow − off), its prefix counts and the counters; LZR_OK or LZR_ENOMEM. */
static int build_set(targets_t *t, const range_vec_t *allow, const range_vec_t *block,
                     const range_vec_t *off)
{
    /* Reserved addresses dropped from the allow list: |allow| − |allow − blocklist|. */
    range_vec_t kept = {0};
    kept.v = malloc((allow->n + block->n + 1) * sizeof(range_t));
    if (!kept.v)
        return LZR_ENOMEM;
    subtract(allow, block, &kept);
    t->dropped = total(allow) - total(&kept);
    free(kept.v);
    uint64_t kept_n = total(allow) - t->dropped;

    t->set.v = malloc((allow->n + off->n + 1) * sizeof(range_t));
    if (!t->set.v)
        return LZR_ENOMEM;
    subtract(allow, off, &t->set);
    t->set.cap = allow->n + off->n + 1;
    t->before = malloc((t->set.n + 1) * sizeof(uint64_t));
    if (!t->before) {
        free(t->set.v);
        t->set.v = NULL;
        t->set.n = 0;
        return LZR_ENOMEM;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < t->set.n; i++) {
        t->before[i] = acc;
        acc += (uint64_t)t->set.v[i].hi - t->set.v[i].lo + 1;
    }
    t->before[t->set.n] = acc;
    t->count = acc;
    t->excluded = kept_n - acc;
    t->finalized = true;
    return LZR_OK;
}

int targets_finalize(targets_t *t, char *err, size_t errlen)
{
    if (!t)
        return LZR_EINVAL;
    if (t->finalized) {
        snprintf(err, errlen, "the target set is already finalized");
        return LZR_EINVAL;
    }
    if (t->allow.n == 0) {
        snprintf(err, errlen, "no targets: the allow list is empty");
        return LZR_EEMPTY;
    }
    int rc = LZR_ENOMEM;
    range_vec_t allow = {0}, excl = {0}, lifted = {0}, block = {0}, off = {0};
    if (sort_merge(&t->allow, &allow) || sort_merge(&t->exclude, &excl) ||
        sort_merge(&t->lifted, &lifted))
        goto out;
    rc = blocklist_in_force(t, &lifted, &block);
    if (rc == LZR_OK)
        rc = check_allow_entries(t, &block, err, errlen);
    if (rc == LZR_OK)
        rc = ranges_off(&excl, &block, &off);
    if (rc == LZR_OK)
        rc = build_set(t, &allow, &block, &off);
    if (rc == LZR_OK && t->count == 0) {
        snprintf(err, errlen,
                 "no targets left: the exclude list and reserved ranges remove every allowed "
                 "address");
        rc = LZR_EEMPTY;
    }
out:
    if (rc == LZR_ENOMEM)
        snprintf(err, errlen, "out of memory finalizing targets");
    free(allow.v);
    free(excl.v);
    free(lifted.v);
    free(block.v);
    free(off.v);
    return rc;
}

uint64_t targets_count(const targets_t *t)
{
    return t && t->finalized ? t->count : 0;
}

uint32_t targets_at(const targets_t *t, uint64_t index)
{
    if (!t || !t->finalized || index >= t->count)
        return 0;
    /* The last range whose prefix count is ≤ index holds the address. */
    size_t lo = 0, hi = t->set.n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->before[mid] <= index)
            lo = mid;
        else
            hi = mid;
    }
    return t->set.v[lo].lo + (uint32_t)(index - t->before[lo]);
}

bool targets_contains(const targets_t *t, uint32_t addr)
{
    if (!t || !t->finalized)
        return false;
    return find(&t->set, addr) >= 0;
}

int64_t targets_index_of(const targets_t *t, uint32_t addr)
{
    if (!t || !t->finalized)
        return -1;
    ptrdiff_t i = find(&t->set, addr);
    if (i < 0)
        return -1;
    return (int64_t)(t->before[i] + (addr - t->set.v[i].lo));
}

uint64_t targets_excluded(const targets_t *t)
{
    return t ? t->excluded : 0;
}

int targets_restrict(targets_t *t, const targets_t *list, char *err, size_t errlen)
{
    if (!t || !list || !list->finalized)
        return LZR_EINVAL;
    /* The gaps between the list's intervals, and before and after them. */
    uint64_t next = 0;
    for (size_t i = 0; i <= list->set.n; i++) {
        uint64_t end = i < list->set.n ? list->set.v[i].lo : (uint64_t)UINT32_MAX + 1;
        if (end > next) {
            char a[16], b[16], spec[40];
            snprintf(spec, sizeof spec, "%s-%s", targets_ntoa((uint32_t)next, a),
                     targets_ntoa((uint32_t)(end - 1), b));
            int rc = targets_exclude(t, spec, err, errlen);
            if (rc != LZR_OK)
                return rc;
        }
        if (i < list->set.n)
            next = (uint64_t)list->set.v[i].hi + 1;
    }
    return LZR_OK;
}

int targets_restrict_entries(targets_t *t, char *const *entries, size_t n, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "the allowlist is empty, so nothing could be scanned");
        return LZR_EEMPTY;
    }
    targets_t *list = targets_new_list();
    if (!list) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    int rc = LZR_OK;
    for (size_t i = 0; i < n && rc == LZR_OK; i++)
        rc = targets_allow(list, entries[i], err, errlen);
    if (rc == LZR_OK)
        rc = targets_finalize(list, err, errlen);
    if (rc == LZR_OK)
        rc = targets_restrict(t, list, err, errlen);
    targets_destroy(&list);
    return rc;
}

int targets_read_file(const char *path, targets_entry_fn fn, void *ctx, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LZR_EIO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a file of addresses", path);
        fclose(f);
        return LZR_EIO;
    }
    char line[1024], sub[512];
    int lineno = 0, rc = LZR_OK;
    while (rc == LZR_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "%s:%d: the line is longer than %zu characters", path, lineno,
                     sizeof line - 2);
            rc = LZR_EPARSE;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        /* Each blank-separated word is one entry, as in ZMap's files. */
        for (char *p = line, *save = NULL, *w; rc == LZR_OK && (w = strtok_r(p, " \t\r\n,", &save));
             p = NULL) {
            range_t r;
            if (targets6_is_entry(w))
                rc = targets6_check_entry(w, strlen(w), sub, sizeof sub);
            else
                rc = parse_range_n(w, strlen(w), &r, sub, sizeof sub);
            if (rc == LZR_OK)
                rc = fn(ctx, w, lineno, sub, sizeof sub);
            if (rc != LZR_OK)
                snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
        }
    }
    if (rc == LZR_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = LZR_EIO;
    }
    fclose(f);
    return rc;
}

/* An IPv4 set's file readers leave IPv6 entries out: no IPv4 set holds them. */
static int add_allow_entry(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line;
    return targets6_is_entry(entry) ? LZR_OK : targets_allow(ctx, entry, err, errlen);
}

static int add_exclude_entry(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line;
    return targets6_is_entry(entry) ? LZR_OK : targets_exclude(ctx, entry, err, errlen);
}

int targets_allow_file(targets_t *t, const char *path, char *err, size_t errlen)
{
    return targets_read_file(path, add_allow_entry, t, err, errlen);
}

int targets_exclude_file(targets_t *t, const char *path, char *err, size_t errlen)
{
    return targets_read_file(path, add_exclude_entry, t, err, errlen);
}

uint64_t targets_reserved_dropped(const targets_t *t)
{
    return t ? t->dropped : 0;
}

bool targets_is_reserved(uint32_t addr)
{
    for (size_t k = 0; k < N_RESERVED; k++) {
        range_t b = reserved_range(k);
        if (addr >= b.lo && addr <= b.hi)
            return true;
    }
    return false;
}
