/*
 * text: small string helpers — quoting untrusted input safely inside an error message, reading
 * hex digits, reading a member of the flat JSON objects ZMap and our evidence column write, and
 * writing numbers and copying names on the per-target paths without printf.
 */
#ifndef LZR_TEXT_H
#define LZR_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Copies the n bytes at s into out (outlen bytes, NUL-terminated) as printable ASCII — any other
 * byte becomes '?' — cut after max characters with "...", so a message can quote input that came
 * from anywhere. */
void text_quote(const char *s, size_t n, size_t max, char *out, size_t outlen);

/* The value of member key of a flat JSON object (no nesting, no escapes in the values read):
 * *val and *n are its text, without the quotes of a string. LZR_OK; LZR_ENOTFOUND when the
 * object has no such member; LZR_EPARSE when no ':' follows the key or a string has no end. */
int text_json_member(const char *json, const char *key, const char **val, size_t *n);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int text_hex_digit(int c);

/* The decimal digits of v at out (at most TEXT_UINT_MAX, no NUL); returns how many. Written
 * without printf: records and probes format numbers per target, and vsnprintf was most of what
 * formatting one cost. */
#define TEXT_UINT_MAX 20
size_t text_uint(char *out, uint64_t v);

/* src into dst (cap bytes, cap ≥ 1), cut to cap - 1 bytes and NUL-terminated. */
void text_copy(char *dst, size_t cap, const char *src);

#endif
