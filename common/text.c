/*
 * text: see text.h.
 */
#include "text.h"

#include "err.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
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

int text_json_member(const char *json, const char *key, const char **val, size_t *n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return LZR_ENOTFOUND;
    p += strlen(pat);
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != ':')
        return LZR_EPARSE;
    while (isspace((unsigned char)*p))
        p++;
    bool quoted = *p == '"';
    p += quoted;
    const char *end = p;
    while (*end &&
           (quoted ? *end != '"' : (*end != ',' && *end != '}' && !isspace((unsigned char)*end))))
        end++;
    if (quoted && *end != '"')
        return LZR_EPARSE;
    *val = p;
    *n = (size_t)(end - p);
    return LZR_OK;
}

size_t text_uint(char *out, uint64_t v)
{
    char tmp[TEXT_UINT_MAX];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}

void text_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}
