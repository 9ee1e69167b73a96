/*
 * b64: standard base64 (RFC 4648 §4, with padding) for the data field of output records. The
 * work is done by libsodium's sodium_bin2base64 / sodium_base642bin with the ORIGINAL variant;
 * this file only adds the size checks and lzr's error codes.
 */
#include "b64.h"

#include <string.h>

#include <sodium.h>

#include "err.h"

size_t b64_encoded_size(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    size_t need = b64_encoded_size(n);
    if (out == NULL || out_cap < need)
        return 0;
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    sodium_bin2base64(out, out_cap, in, n, sodium_base64_VARIANT_ORIGINAL);
    return need - 1;
}

int b64_decode(const char *in, uint8_t *out, size_t out_cap, size_t *n)
{
    size_t bin_len = 0;
    const char *end = NULL;
    uint8_t dummy;

    if (in == NULL || n == NULL)
        return LZR_EPARSE;
    size_t in_len = strlen(in);
    if (in_len == 0) {
        *n = 0;
        return LZR_OK;
    }
    /* libsodium wants a writable buffer even when nothing fits; a too-small buffer fails. */
    if (out == NULL || out_cap == 0) {
        out = &dummy;
        out_cap = 0;
    }
    if (sodium_base642bin(out, out_cap, in, in_len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return LZR_EPARSE;
    /* Trailing bytes that are not base64 (end short of the input) make the string malformed. */
    if (end != in + in_len)
        return LZR_EPARSE;
    *n = bin_len;
    return LZR_OK;
}
