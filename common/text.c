/*
 * text: see text.h.
 */
#include "text.h"

#include <string.h>

void text_quote(const char *s, size_t n, size_t max, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < outlen; i++) {
        if (i == max) {
            memcpy(out + j, "...", 3);
            j += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        out[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[j] = '\0';
}

int text_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
