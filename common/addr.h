/*
 * addr: one network address as the front ends, the scan spec and the frame layer carry it,
 * tagged by family. IPv4 addresses are kept in host byte order, as targets_t and the engine use
 * them; IPv6 addresses are kept as their 16 bytes in network order, the form the wire, inet_pton
 * and the cookie hash all use.
 */
#ifndef LZR_ADDR_H
#define LZR_ADDR_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { ADDR_NONE = 0, ADDR_IPV4 = 4, ADDR_IPV6 = 6 } addr_family_t;

typedef struct lzr_addr {
    addr_family_t family;
    union {
        uint32_t v4;    /* host byte order; valid when family is ADDR_IPV4 */
        uint8_t v6[16]; /* network byte order; valid when family is ADDR_IPV6 */
    };
} lzr_addr_t;

#define ADDR_TEXT_MAX 46 /* room for any address's text, IPv6 included, and its NUL */

/* The IPv4 address ip (host byte order) as an lzr_addr_t. */
static inline lzr_addr_t addr_ipv4(uint32_t ip)
{
    return (lzr_addr_t){.family = ADDR_IPV4, .v4 = ip};
}

/* Parses an address's text into out: dotted-quad IPv4 ("198.18.0.1") or IPv6 in any form
 * inet_pton reads ("2001:2::b", "::ffff:198.18.0.1"; no zone, no prefix, nothing before or
 * after). LZR_OK, or LZR_EPARSE with out untouched. */
int addr_parse(const char *s, lzr_addr_t *out);

/* As addr_parse, for the callers that hold a bare IPv4 address (host byte order); IPv6 text is
 * LZR_EPARSE here. */
int addr_parse_ipv4(const char *s, uint32_t *out);

/* Writes a's text into buf (ADDR_TEXT_MAX bytes) and returns buf: dotted quad, or IPv6 in the
 * canonical form of RFC 5952 (lower case, longest zero run as "::"); "-" for ADDR_NONE. */
char *addr_format(const lzr_addr_t *a, char *buf);

/* True when a and b are the same family and the same address. */
bool addr_equal(const lzr_addr_t *a, const lzr_addr_t *b);

/* Orders addresses as the store lists them: IPv4 before IPv6, each family numerically (no
 * address first). Negative, zero or positive, as for qsort. */
int addr_compare(const lzr_addr_t *a, const lzr_addr_t *b);

#endif
