/*
 * addr: one network address as the front ends and the scan spec carry it. The struct is tagged
 * by family so IPv6 can join later without changing its users' signatures; today only IPv4
 * parses. IPv4 addresses are kept in host byte order, as targets_t and the engine use them.
 */
#ifndef LZR_ADDR_H
#define LZR_ADDR_H

#include <stdint.h>

typedef enum { ADDR_NONE = 0, ADDR_IPV4 = 4 } addr_family_t;

typedef struct lzr_addr {
    addr_family_t family;
    uint32_t v4; /* host byte order; valid when family is ADDR_IPV4 */
} lzr_addr_t;

#define ADDR_TEXT_MAX 46 /* room for any address's text, IPv6 included, and its NUL */

/* Parses dotted-quad text ("198.18.0.1", nothing before or after) into out; LZR_OK, or
 * LZR_EPARSE with out untouched. */
int addr_parse(const char *s, lzr_addr_t *out);

/* As addr_parse, for the callers that hold a bare IPv4 address (host byte order). */
int addr_parse_ipv4(const char *s, uint32_t *out);

/* Writes a's text into buf (ADDR_TEXT_MAX bytes) and returns buf; "-" for ADDR_NONE. */
char *addr_format(const lzr_addr_t *a, char *buf);

#endif
