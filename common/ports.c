/*
 * ports: turns an operator's port text ("22,80,8000-8100") into the ordered list of TCP ports a
 * job probes. Items are separated by commas and may carry blanks around them; each item is a
 * port or an inclusive "lo-hi" range. Ports keep the order in which they first appear, so the
 * job's author decides which ports a worker reaches first; repeats are dropped with a bitmap.
 */
#include "ports.h"
#include "common/grow.h"
#include "text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define MAX_PORT    65535
#define ITEM_QUOTE  48 /* longest item text echoed back in a message */
#define NUM_DIGITS  9  /* more digits than this cannot be a port, and cannot overflow */
#define BITMAP_SIZE ((MAX_PORT + 1) / 64)

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses the decimal number s[0..n) into *v. Returns LZR_EPARSE for anything that is not all
 * digits and LZR_ERANGE for 0 or values above 65535. */
static int parse_port(const char *s, size_t n, const char *item, size_t itemlen, uint32_t *v,
                      char *err, size_t errlen)
{
    char q[ITEM_QUOTE + 8];
    text_quote(item, itemlen, ITEM_QUOTE, q, sizeof(q));
    if (n == 0) {
        snprintf(err, errlen, "\"%s\": a port number is missing", q);
        return LZR_EPARSE;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            snprintf(err, errlen, "\"%s\" is not a port or a port range (e.g. 80 or 8000-8100)", q);
            return LZR_EPARSE;
        }
        if (i < NUM_DIGITS)
            x = x * 10 + (uint64_t)(s[i] - '0');
    }
    if (n > NUM_DIGITS || x == 0 || x > MAX_PORT) {
        char num[ITEM_QUOTE + 8];
        text_quote(s, n, ITEM_QUOTE, num, sizeof(num));
        if (n == itemlen)
            snprintf(err, errlen, "\"%s\" is not a port (1-65535)", q);
        else
            snprintf(err, errlen, "\"%s\": %s is not a port (1-65535)", q, num);
        return LZR_ERANGE;
    }
    *v = (uint32_t)x;
    return LZR_OK;
}

/* Parses one trimmed item into [*lo, *hi]. */
static int parse_item(const char *s, size_t n, uint32_t *lo, uint32_t *hi, char *err, size_t errlen)
{
    const char *dash = memchr(s, '-', n);
    if (!dash) {
        int rc = parse_port(s, n, s, n, lo, err, errlen);
        *hi = *lo;
        return rc;
    }
    size_t left = (size_t)(dash - s);
    int rc = parse_port(s, left, s, n, lo, err, errlen);
    if (rc == LZR_OK)
        rc = parse_port(dash + 1, n - left - 1, s, n, hi, err, errlen);
    if (rc != LZR_OK)
        return rc;
    if (*lo > *hi) {
        char q[ITEM_QUOTE + 8];
        text_quote(s, n, ITEM_QUOTE, q, sizeof(q));
        snprintf(err, errlen, "\"%s\": the range is reversed (%u > %u); write it low-high", q, *lo,
                 *hi);
        return LZR_ERANGE;
    }
    return LZR_OK;
}

int ports_parse(const char *spec, port_list_t *out, char *err, size_t errlen)
{
    if (!out)
        return LZR_EINVAL;
    out->ports = NULL;
    out->n = 0;
    if (!spec) {
        snprintf(err, errlen, "no port list given");
        return LZR_EINVAL;
    }

    size_t len = strlen(spec), p = 0;
    while (p < len && is_blank(spec[p]))
        p++;
    char whole[ITEM_QUOTE + 8];
    text_quote(spec, len, ITEM_QUOTE, whole, sizeof(whole));
    if (p == len) {
        snprintf(err, errlen, "\"%s\": the port list is empty", whole);
        return LZR_EPARSE;
    }

    uint64_t *seen = calloc(BITMAP_SIZE, sizeof(*seen));
    uint16_t *ports = NULL;
    size_t n = 0, cap = 0;
    int rc = LZR_OK;
    if (!seen) {
        snprintf(err, errlen, "out of memory parsing ports");
        return LZR_ENOMEM;
    }

    size_t itemno = 0;
    for (size_t start = 0;; itemno++) {
        const char *comma = memchr(spec + start, ',', len - start);
        size_t stop = comma ? (size_t)(comma - spec) : len;
        size_t a = start, b = stop;
        while (a < b && is_blank(spec[a]))
            a++;
        while (b > a && is_blank(spec[b - 1]))
            b--;
        if (a == b) {
            snprintf(err, errlen, "\"%s\": item %zu of the port list is empty", whole, itemno + 1);
            rc = LZR_EPARSE;
            goto fail;
        }
        uint32_t lo, hi;
        rc = parse_item(spec + a, b - a, &lo, &hi, err, errlen);
        if (rc != LZR_OK)
            goto fail;
        for (uint32_t port = lo; port <= hi; port++) {
            uint64_t bit = UINT64_C(1) << (port % 64);
            if (seen[port / 64] & bit)
                continue;
            seen[port / 64] |= bit;
            uint16_t *np = grow(ports, n, &cap, sizeof *np, 16);
            if (!np) {
                snprintf(err, errlen, "out of memory parsing ports");
                rc = LZR_ENOMEM;
                goto fail;
            }
            ports = np;
            ports[n++] = (uint16_t)port;
        }
        if (!comma)
            break;
        start = stop + 1;
    }
    free(seen);
    out->ports = ports;
    out->n = n;
    return LZR_OK;

fail:
    free(seen);
    free(ports);
    return rc;
}

void ports_free(port_list_t *l)
{
    if (!l)
        return;
    free(l->ports);
    l->ports = NULL;
    l->n = 0;
}

/* Reads the digits at *s (at most 5) into *v and moves *s past them; false when there are none
 * or more than 5. */
static bool read_digits(const char **s, uint32_t *v)
{
    size_t n = 0;
    uint32_t x = 0;
    while (isdigit((unsigned char)(*s)[n]) && n < 6)
        x = x * 10 + (uint32_t)((*s)[n++] - '0');
    *s += n;
    *v = x;
    return n > 0 && n <= 5;
}

int ports_parse_range(const char *s, uint16_t min, uint16_t *lo, uint16_t *hi)
{
    uint32_t a, b;
    if (!s || !read_digits(&s, &a) || *s++ != '-' || !read_digits(&s, &b) || *s)
        return LZR_EPARSE;
    if (a < min || b > MAX_PORT || a > b)
        return LZR_EPARSE;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return LZR_OK;
}
