/*
 * text: small helpers for the parsers of common/ — quoting untrusted input safely inside an
 * error message, and reading hex digits.
 */
#ifndef LZR_TEXT_H
#define LZR_TEXT_H

#include <stddef.h>

/* Copies the n bytes at s into out (outlen bytes, NUL-terminated) as printable ASCII — any other
 * byte becomes '?' — cut after max characters with "...", so a message can quote input that came
 * from anywhere. */
void text_quote(const char *s, size_t n, size_t max, char *out, size_t outlen);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int text_hex_digit(int c);

#endif
