/*
 * b64: standard base64 (with padding) of byte strings, for the output's data field; a table
 * encodes, libsodium decodes.
 */
#ifndef LZR_B64_H
#define LZR_B64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, including the NUL. */
size_t b64_encoded_size(size_t n);

/* Encodes n bytes of in into out (out_cap ≥ b64_encoded_size(n)); returns the string length or
 * 0 when out is too small. */
size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);

/* Decodes a base64 string; returns LZR_OK and the length in *n, or LZR_EPARSE. */
int b64_decode(const char *in, uint8_t *out, size_t out_cap, size_t *n);

#endif
