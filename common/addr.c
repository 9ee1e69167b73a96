/*
 * addr: parsing and printing of lzr_addr_t (see addr.h). inet_pton does the reading, so the
 * accepted text is exactly what the C library calls an IPv4 address (four decimal parts) or an
 * IPv6 address; inet_ntop does the writing, and glibc's follows RFC 5952.
 */
#include "common/addr.h"

#include "common/err.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int addr_parse(const char *s, lzr_addr_t *out)
{
    struct in_addr in;
    struct in6_addr in6;
    if (!s)
        return LZR_EPARSE;
    if (inet_pton(AF_INET, s, &in) == 1) {
        *out = (lzr_addr_t){.family = ADDR_IPV4, .v4 = ntohl(in.s_addr)};
        return LZR_OK;
    }
    if (inet_pton(AF_INET6, s, &in6) == 1) {
        out->family = ADDR_IPV6;
        memcpy(out->v6, in6.s6_addr, sizeof out->v6);
        return LZR_OK;
    }
    return LZR_EPARSE;
}

int addr_parse_ipv4(const char *s, uint32_t *out)
{
    lzr_addr_t a;
    if (addr_parse(s, &a) != LZR_OK || a.family != ADDR_IPV4)
        return LZR_EPARSE;
    *out = a.v4;
    return LZR_OK;
}

char *addr_format(const lzr_addr_t *a, char *buf)
{
    const char *ok = NULL;
    if (a->family == ADDR_IPV4) { /* by hand: inet_ntop formats IPv4 with sprintf */
        size_t n = 0;
        for (int shift = 24; shift >= 0; shift -= 8) {
            n += text_uint(buf + n, (a->v4 >> shift) & 0xff);
            buf[n++] = shift ? '.' : '\0';
        }
        return buf;
    }
    if (a->family == ADDR_IPV6)
        ok = inet_ntop(AF_INET6, a->v6, buf, ADDR_TEXT_MAX);
    if (!ok)
        snprintf(buf, ADDR_TEXT_MAX, "-");
    return buf;
}

bool addr_equal(const lzr_addr_t *a, const lzr_addr_t *b)
{
    if (a->family != b->family)
        return false;
    if (a->family == ADDR_IPV4)
        return a->v4 == b->v4;
    if (a->family == ADDR_IPV6)
        return memcmp(a->v6, b->v6, sizeof a->v6) == 0;
    return true;
}

int addr_compare(const lzr_addr_t *a, const lzr_addr_t *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->family == ADDR_IPV4)
        return a->v4 < b->v4 ? -1 : a->v4 > b->v4;
    if (a->family == ADDR_IPV6)
        return memcmp(a->v6, b->v6, sizeof a->v6);
    return 0;
}
