/*
 * pfx2as: the prefixes sit in one array sorted by length (longest first), then by network;
 * a lookup tries each length present, longest first, with a binary search in that length's
 * slice, so it costs at most 33 searches and allocates nothing.
 */
#include "coordinator/pfx2as.h"
#include "common/grow.h"

#include "common/addr.h"
#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 256

typedef struct entry {
    uint32_t net;
    uint8_t len;
    size_t line;
    char origin[PFX2AS_ORIGIN_MAX];
} entry_t;

struct pfx2as {
    entry_t *v;
    size_t n;
    size_t start[33], end[33]; /* slice of v per prefix length */
    size_t origins;
};

static void fail(char *err, size_t errlen, const char *name, size_t line, const char *fmt, ...)
{
    int k = snprintf(err, errlen, "%s:%zu: ", name, line);
    if (k < 0 || (size_t)k >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* AS numbers (1 to 10 digits, at most 2^32-1) joined by '_' or ','. */
static bool origin_valid(const char *s)
{
    while (*s) {
        uint64_t v = 0;
        size_t digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            v = v * 10 + (uint64_t)(*s - '0');
            if (digits > 10 || v > UINT32_MAX)
                return false;
        }
        if (digits == 0)
            return false;
        if (*s == '\0')
            return true;
        if (*s != '_' && *s != ',')
            return false;
        s++;
        if (*s == '\0')
            return false; /* a trailing separator */
    }
    return false;
}

/* Splits line at runs of tabs and spaces into at most max fields; returns how many. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (*p) {
        while (*p == '\t' || *p == ' ')
            p++;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        f[n++] = p;
        while (*p && *p != '\t' && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static int entry_cmp(const void *x, const void *y)
{
    const entry_t *a = x, *b = y;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    if (a->net != b->net)
        return a->net < b->net ? -1 : 1;
    return a->line < b->line ? -1 : (a->line > b->line);
}

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Parses one line into e; LZR_EEMPTY for a blank or comment line. */
static int parse_line(const char *text, size_t len, const char *name, size_t lineno, entry_t *e,
                      char *err, size_t errlen)
{
    if (memchr(text, '\0', len)) {
        fail(err, errlen, name, lineno, "contains a NUL byte");
        return LZR_EPARSE;
    }
    if (len >= LINE_MAX_LEN) {
        fail(err, errlen, name, lineno, "line longer than %d bytes", LINE_MAX_LEN - 1);
        return LZR_EPARSE;
    }
    char line[LINE_MAX_LEN];
    memcpy(line, text, len);
    line[len] = '\0';
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    char *f[3];
    size_t n = split(line, f, 3);
    if (n == 0 || f[0][0] == '#')
        return LZR_EEMPTY;
    if (n != 3) {
        fail(err, errlen, name, lineno,
             "expected PREFIX, LENGTH and AS separated by tabs, got %zu %s", n > 3 ? (size_t)4 : n,
             n > 3 ? "or more fields" : (n == 1 ? "field" : "fields"));
        return LZR_EPARSE;
    }
    uint32_t net;
    if (addr_parse_ipv4(f[0], &net) != LZR_OK) {
        fail(err, errlen, name, lineno, "\"%s\" is not a dotted IPv4 address", f[0]);
        return LZR_EPARSE;
    }
    char *end;
    errno = 0;
    unsigned long l = strtoul(f[1], &end, 10);
    if (f[1][0] < '0' || f[1][0] > '9' || *end || errno || l > 32) {
        fail(err, errlen, name, lineno, "prefix length \"%s\" is not 0-32", f[1]);
        return LZR_EPARSE;
    }
    uint32_t mask = l ? ~UINT32_C(0) << (32 - l) : 0;
    if (net & ~mask) {
        fail(err, errlen, name, lineno, "%s/%lu has host bits set", f[0], l);
        return LZR_EPARSE;
    }
    if (strlen(f[2]) >= PFX2AS_ORIGIN_MAX || !origin_valid(f[2])) {
        fail(err, errlen, name, lineno,
             "AS \"%.40s\" is not AS numbers joined by '_' (multi-origin) or ',' (AS-set)", f[2]);
        return LZR_EPARSE;
    }
    e->net = net;
    e->len = (uint8_t)l;
    e->line = lineno;
    snprintf(e->origin, sizeof e->origin, "%s", f[2]);
    return LZR_OK;
}

static int index_table(pfx2as_t *t, const char *name, char *err, size_t errlen)
{
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, entry_cmp);
    for (int l = 0; l <= 32; l++)
        t->start[l] = t->end[l] = 0;
    for (size_t i = 0; i < t->n; i++) {
        const entry_t *e = &t->v[i];
        if (i && e->len == t->v[i - 1].len && e->net == t->v[i - 1].net) {
            char a[INET_ADDRSTRLEN];
            struct in_addr in = {htonl(e->net)};
            inet_ntop(AF_INET, &in, a, sizeof a);
            fail(err, errlen, name, e->line, "%s/%u repeats the prefix of line %zu", a,
                 (unsigned)e->len, t->v[i - 1].line);
            return LZR_EPARSE;
        }
        if (i == 0 || e->len != t->v[i - 1].len)
            t->start[e->len] = i;
        t->end[e->len] = i + 1;
    }
    if (t->n) {
        const char **o = malloc(t->n * sizeof *o);
        if (!o) {
            snprintf(err, errlen, "%s: out of memory", name);
            return LZR_ENOMEM;
        }
        for (size_t i = 0; i < t->n; i++)
            o[i] = t->v[i].origin;
        qsort(o, t->n, sizeof *o, str_cmp);
        t->origins = 1;
        for (size_t i = 1; i < t->n; i++)
            t->origins += strcmp(o[i], o[i - 1]) != 0;
        free(o);
    }
    return LZR_OK;
}

pfx2as_t *pfx2as_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    pfx2as_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    size_t cap = 0, lineno = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        entry_t e;
        int rc = parse_line(text + pos, ll, name, lineno, &e, err, errlen);
        pos += ll + (nl != NULL);
        if (rc == LZR_EEMPTY)
            continue;
        if (rc != LZR_OK) {
            pfx2as_free(&t);
            return NULL;
        }
        entry_t *g = grow(t->v, t->n, &cap, sizeof *g, 256);
        if (!g) {
            snprintf(err, errlen, "%s: out of memory", name);
            pfx2as_free(&t);
            return NULL;
        }
        t->v = g;
        t->v[t->n++] = e;
    }
    if (index_table(t, name, err, errlen) != LZR_OK) {
        pfx2as_free(&t);
        return NULL;
    }
    return t;
}

pfx2as_t *pfx2as_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *g = realloc(buf, nc);
            if (!g) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = g;
            cap = nc;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return NULL;
    }
    pfx2as_t *t = pfx2as_parse(buf, len, path, err, errlen);
    free(buf);
    return t;
}

const char *pfx2as_lookup(const pfx2as_t *t, uint32_t ip)
{
    for (int l = 32; l >= 0; l--) {
        size_t lo = t->start[l], hi = t->end[l];
        if (lo == hi)
            continue;
        uint32_t net = l ? ip & (~UINT32_C(0) << (32 - l)) : 0;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (t->v[mid].net == net)
                return t->v[mid].origin;
            if (t->v[mid].net < net)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

size_t pfx2as_count(const pfx2as_t *t)
{
    return t->n;
}

size_t pfx2as_origins(const pfx2as_t *t)
{
    return t->origins;
}

void pfx2as_free(pfx2as_t **tp)
{
    pfx2as_t *t = tp ? *tp : NULL;
    if (!t)
        return;
    free(t->v);
    free(t);
    *tp = NULL;
}
