/*
 * hs_util: shared byte helpers for the handshake files (see hs_util.h). Everything here is
 * bounds-checked against the length it is given, because matchers run on arbitrary bytes from
 * the network.
 */
#include "worker/handshakes/hs_util.h"

#include "common/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool hs_starts(const uint8_t *data, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(data, s, n) == 0;
}

/* True when the n bytes at data are s's first n, case aside. */
static bool equal_ci(const uint8_t *data, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(data[i]) != lower((unsigned char)s[i]))
            return false;
    return true;
}

bool hs_starts_ci(const uint8_t *data, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && equal_ci(data, s, n);
}

const uint8_t *hs_find(const uint8_t *data, size_t len, const char *needle, size_t n)
{
    if (n == 0)
        return data;
    const uint8_t *end = data + len;
    for (const uint8_t *p = data; (size_t)(end - p) >= n; p++) {
        p = memchr(p, (unsigned char)needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
    }
    return NULL;
}

bool hs_contains(const uint8_t *data, size_t len, const char *needle)
{
    return hs_find(data, len, needle, strlen(needle)) != NULL;
}

bool hs_contains_ci(const uint8_t *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (equal_ci(data + i, needle, n))
            return true;
    return false;
}

size_t hs_line_len(const uint8_t *data, size_t len)
{
    const uint8_t *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    if (n > 0 && data[n - 1] == '\r')
        n--;
    return n;
}

bool hs_text(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (!(c >= 0x20 && c < 0x7f) && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

static bool digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

int hs_reply_code(const uint8_t *data, size_t len)
{
    if (len < 3 || !digit(data[0]) || !digit(data[1]) || !digit(data[2]))
        return -1;
    if (len > 3 && data[3] != ' ' && data[3] != '-' && data[3] != '\r' && data[3] != '\n')
        return -1;
    return (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
}

int hs_status_line(const uint8_t *data, size_t len, const char *proto)
{
    size_t n = strlen(proto), i;
    if (len < n + 1 || memcmp(data, proto, n) != 0 || data[n] != '/')
        return -1;
    i = n + 1;
    if (i >= len || !digit(data[i]))
        return -1;
    i++;
    if (i < len && data[i] == '.') {
        i++;
        if (i >= len || !digit(data[i]))
            return -1;
        i++;
    }
    if (i + 4 > len || data[i] != ' ')
        return -1;
    i++;
    if (!digit(data[i]) || !digit(data[i + 1]) || !digit(data[i + 2]))
        return -1;
    if (i + 3 < len && data[i + 3] != ' ' && data[i + 3] != '\r' && data[i + 3] != '\n')
        return -1;
    return (data[i] - '0') * 100 + (data[i + 1] - '0') * 10 + (data[i + 2] - '0');
}

/* End of the header block: offset of the blank line, or len when it never comes. *crlf is where
 * CR LF CR LF starts, NULL when it does not occur. */
static size_t header_end(const uint8_t *data, size_t len, const uint8_t **crlf)
{
    const uint8_t *p = *crlf = hs_find(data, len, "\r\n\r\n", 4);
    if (p)
        return (size_t)(p - data) + 2;
    p = hs_find(data, len, "\n\n", 2);
    return p ? (size_t)(p - data) + 1 : len;
}

/* The next header line at or after *i before end: a run of bytes up to a newline, its CR
 * dropped; newlines before it are skipped. Its offset and length go to *at and *n and *i moves
 * past it; false at the block's end. */
static bool next_line(const uint8_t *data, size_t end, size_t *i, size_t *at, size_t *n)
{
    while (*i < end && (data[*i] == '\r' || data[*i] == '\n'))
        (*i)++;
    if (*i >= end)
        return false;
    *at = *i;
    *n = hs_line_len(data + *i, end - *i);
    *i += *n;
    return true;
}

void hs_reply_init(hs_reply_t *r, const uint8_t *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->parsed = false;
}

/* Cuts r's header block into lines, past its first (status) line, keeping the first
 * HS_REPLY_HEADERS. */
static void reply_parse(hs_reply_t *r)
{
    const uint8_t *crlf;
    r->end = header_end(r->data, r->len, &crlf);
    r->body = crlf ? crlf + 4 : NULL;
    r->body_len = crlf ? r->len - (size_t)(r->body - r->data) : 0;
    size_t i = hs_line_len(r->data, r->end), at, n;
    r->n_lines = 0;
    while (r->n_lines < HS_REPLY_HEADERS && next_line(r->data, r->end, &i, &at, &n)) {
        r->line[r->n_lines].at = (uint32_t)at;
        r->line[r->n_lines++].len = (uint32_t)n;
    }
    r->rest = i;
    r->parsed = true;
}

/* True when the line of n bytes at line is header name (nn bytes): the name, case aside, then a
 * colon. The value, trimmed of blanks, goes to *val and *vlen. */
static bool line_is(const uint8_t *line, size_t n, const char *name, size_t nn, const uint8_t **val,
                    size_t *vlen)
{
    if (n <= nn || line[nn] != ':' || !equal_ci(line, name, nn))
        return false;
    size_t a = nn + 1, b = n;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
        b--;
    *val = line + a;
    *vlen = b - a;
    return true;
}

bool hs_reply_header(hs_reply_t *r, const char *name, const uint8_t **val, size_t *vlen)
{
    if (!r->parsed)
        reply_parse(r);
    size_t nn = strlen(name);
    for (unsigned k = 0; k < r->n_lines; k++)
        if (line_is(r->data + r->line[k].at, r->line[k].len, name, nn, val, vlen))
            return true;
    size_t i = r->rest, at, n; /* a block of more lines than were kept */
    while (next_line(r->data, r->end, &i, &at, &n))
        if (line_is(r->data + at, n, name, nn, val, vlen))
            return true;
    return false;
}

bool hs_reply_header_has(hs_reply_t *r, const char *name, const char *needle)
{
    const uint8_t *v;
    size_t vl;
    return hs_reply_header(r, name, &v, &vl) && hs_contains_ci(v, vl, needle);
}

bool hs_reply_header_starts(hs_reply_t *r, const char *name, const char *prefix)
{
    const uint8_t *v;
    size_t vl;
    return hs_reply_header(r, name, &v, &vl) && hs_starts_ci(v, vl, prefix);
}

const uint8_t *hs_reply_body(hs_reply_t *r, size_t *blen)
{
    if (!r->parsed)
        reply_parse(r);
    *blen = r->body_len;
    return r->body;
}

const uint8_t *hs_body(const uint8_t *data, size_t len, size_t *blen)
{
    const uint8_t *p = hs_find(data, len, "\r\n\r\n", 4);
    if (!p)
        return NULL;
    p += 4;
    *blen = len - (size_t)(p - data);
    return p;
}

bool hs_json_member(const uint8_t *json, size_t len, const char *key, const char *value)
{
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn + 2 <= len; i++) {
        const uint8_t *q = memchr(json + i, '"', len - i); /* the next string's opening quote */
        if (!q || (size_t)(q - json) + kn + 2 > len)
            return false;
        i = (size_t)(q - json);
        if (memcmp(json + i + 1, key, kn) != 0 || json[i + 1 + kn] != '"')
            continue;
        size_t j = i + kn + 2;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\r' || json[j] == '\n'))
            j++;
        if (j >= len || json[j] != ':')
            continue;
        j++;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\r' || json[j] == '\n'))
            j++;
        if (!value)
            return j < len;
        size_t vn = strlen(value);
        if (j + vn + 2 <= len && json[j] == '"' && memcmp(json + j + 1, value, vn) == 0 &&
            json[j + 1 + vn] == '"')
            return true;
    }
    return false;
}

size_t hs_copy(uint8_t *buf, size_t cap, const void *src, size_t n)
{
    if (n > cap)
        return 0;
    memcpy(buf, src, n);
    return n;
}

size_t hs_printf(uint8_t *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

char *hs_host(const lzr_addr_t *a, char buf[HS_HOST_MAX])
{
    if (a->family != ADDR_IPV6)
        return addr_format(a, buf);
    buf[0] = '[';
    size_t n = strlen(addr_format(a, buf + 1)) + 1;
    buf[n++] = ']';
    buf[n] = '\0';
    return buf;
}

uint32_t hs_addr32(const lzr_addr_t *a)
{
    if (a->family != ADDR_IPV6)
        return a->v4;
    return (uint32_t)a->v6[12] << 24 | (uint32_t)a->v6[13] << 16 | (uint32_t)a->v6[14] << 8 |
           a->v6[15];
}

size_t hs_http_request(const hs_target_t *t, const char *method, const char *path,
                       const char *extra, uint8_t *buf, size_t cap)
{
    /* Built piece by piece, not with printf: a full-mode scan sends one per target. */
    char host[HS_HOST_MAX + 1 + TEXT_UINT_MAX];
    size_t n = strlen(hs_host(&t->daddr, host));
    if (t->dport != 80 && t->dport != 0) {
        host[n++] = ':';
        n += text_uint(host + n, t->dport);
    }
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_putstr(&b, method);
    hs_putstr(&b, " ");
    hs_putstr(&b, path);
    hs_putstr(&b, " HTTP/1.1\r\nHost: ");
    hs_putmem(&b, host, n);
    hs_putstr(&b, "\r\nUser-Agent: lzr\r\nAccept: */*\r\n");
    hs_putstr(&b, extra ? extra : "");
    hs_putstr(&b, "\r\n");
    /* hs_printf's contract, which this keeps: the text and its NUL fit, or nothing. */
    return b.len < cap ? hs_done(&b) : 0;
}

void hs_putmem(hs_buf_t *b, const void *src, size_t n)
{
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

void hs_put8(hs_buf_t *b, uint8_t v)
{
    hs_putmem(b, &v, 1);
}

void hs_put16(hs_buf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    hs_putmem(b, x, 2);
}

void hs_put24(hs_buf_t *b, uint32_t v)
{
    uint8_t x[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    hs_putmem(b, x, 3);
}

void hs_put32(hs_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    hs_putmem(b, x, 4);
}

void hs_put16le(hs_buf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    hs_putmem(b, x, 2);
}

void hs_put32le(hs_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    hs_putmem(b, x, 4);
}

void hs_putstr(hs_buf_t *b, const char *s)
{
    hs_putmem(b, s, strlen(s));
}

/* A length field of `width` bytes at the end of b, to be filled in by close_len. */
static size_t open_len(hs_buf_t *b, unsigned width)
{
    size_t at = b->len;
    hs_putmem(b, "\0\0\0", width);
    return at;
}

/* Writes, big-endian into the field open_len left at `at`, the length of what follows it. */
static void close_len(hs_buf_t *b, size_t at, unsigned width)
{
    if (b->overflow)
        return;
    size_t n = b->len - at - width;
    for (unsigned i = 0; i < width; i++)
        b->p[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

size_t hs_open16(hs_buf_t *b)
{
    return open_len(b, 2);
}

void hs_close16(hs_buf_t *b, size_t at)
{
    close_len(b, at, 2);
}

size_t hs_open24(hs_buf_t *b)
{
    return open_len(b, 3);
}

void hs_close24(hs_buf_t *b, size_t at)
{
    close_len(b, at, 3);
}

size_t hs_done(const hs_buf_t *b)
{
    return b->overflow ? 0 : b->len;
}
