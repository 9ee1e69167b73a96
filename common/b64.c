/*
 * b64: standard base64 (RFC 4648 §4, with padding) for the data field of output records.
 * Encoding is a plain table lookup per 6 bits: every record of a scan passes through it, and
 * libsodium's encoder is written to take the same time whatever the bytes (for secrets), which
 * made it cost several times more. Decoding, off the scan's path, is libsodium's
 * sodium_base642bin with the ORIGINAL variant.
 */
#include "b64.h"

#include <string.h>

#include <sodium.h>

#include "err.h"

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

size_t b64_encode(const uint8_t *in, size_t n, char *out, size_t out_cap)
{
    size_t need = b64_encoded_size(n);
    if (out == NULL || out_cap < need)
        return 0;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[v >> 12 & 63];
        o[2] = b64_alphabet[v >> 6 & 63];
        o[3] = b64_alphabet[v & 63];
    }
    if (i < n) { /* one or two bytes left: padded to four characters */
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[v >> 12 & 63];
        o[2] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
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
