/*
 * text: small helpers for the parsers of common/ — quoting untrusted input safely inside an
 * error message, reading hex digits, and reading a member of the flat JSON objects ZMap and our
 * evidence column write.
 */
#ifndef LZR_TEXT_H
#define LZR_TEXT_H

#include <stddef.h>

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

#endif
