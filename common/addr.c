/*
 * addr: parsing and printing of lzr_addr_t (see addr.h). inet_pton does the reading, so the
 * accepted text is exactly what the C library calls an IPv4 address: four decimal parts.
 */
#include "common/addr.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <stdio.h>

int addr_parse(const char *s, lzr_addr_t *out)
{
    struct in_addr in;
    if (!s || inet_pton(AF_INET, s, &in) != 1)
        return LZR_EPARSE;
    *out = (lzr_addr_t){.family = ADDR_IPV4, .v4 = ntohl(in.s_addr)};
    return LZR_OK;
}

int addr_parse_ipv4(const char *s, uint32_t *out)
{
    lzr_addr_t a;
    int rc = addr_parse(s, &a);
    if (rc == LZR_OK)
        *out = a.v4;
    return rc;
}

char *addr_format(const lzr_addr_t *a, char *buf)
{
    if (a->family != ADDR_IPV4) {
        snprintf(buf, ADDR_TEXT_MAX, "-");
        return buf;
    }
    struct in_addr in = {.s_addr = htonl(a->v4)};
    if (!inet_ntop(AF_INET, &in, buf, ADDR_TEXT_MAX))
        snprintf(buf, ADDR_TEXT_MAX, "-");
    return buf;
}
