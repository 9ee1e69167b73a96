/*
 * hs_util: the small byte-level helpers every handshake file shares — big/little-endian reads,
 * prefix and line tests for text banners, an HTTP status-line and header reader for the
 * HTTP-shaped protocols, and a bounds-checked writer for building probes. Matchers read only
 * data[0..len) through these; payload builders never write past cap.
 */
#ifndef LZR_HS_UTIL_H
#define LZR_HS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/handshakes/registry.h" /* each file's hs_<name>_payload and _match */

static inline uint16_t hs_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t hs_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint16_t hs_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t hs_le32(const uint8_t *p)
{
    return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* True when data begins with the bytes of s (exact case). */
bool hs_starts(const uint8_t *data, size_t len, const char *s);

/* True when data begins with s, ignoring ASCII case. */
bool hs_starts_ci(const uint8_t *data, size_t len, const char *s);

/* The first occurrence of the n bytes of needle in data[0..len), or NULL (data itself for n 0).
 * memmem's per-call set-up costs more than the search over a reply's few hundred bytes; this
 * skips to each candidate first byte with memchr and compares there. */
const uint8_t *hs_find(const uint8_t *data, size_t len, const char *needle, size_t n);

/* True when needle occurs in data[0..len) (exact bytes). */
bool hs_contains(const uint8_t *data, size_t len, const char *needle);

/* True when needle occurs in data[0..len), ignoring ASCII case. */
bool hs_contains_ci(const uint8_t *data, size_t len, const char *needle);

/* Length of the first line of data, without its CR LF (len when no newline). */
size_t hs_line_len(const uint8_t *data, size_t len);

/* True when every byte of data[0..len) is printable ASCII, tab, CR or LF. */
bool hs_text(const uint8_t *data, size_t len);

/* A three-digit reply code at the start of data followed by ' ', '-', CR, LF or the end
 * (FTP, SMTP, NNTP style); returns the code or -1. */
int hs_reply_code(const uint8_t *data, size_t len);

/* The status code of a status line "PROTO/d.d NNN" (or "PROTO/d NNN") at the start of data,
 * e.g. proto "HTTP"; -1 when data does not start with one. */
int hs_status_line(const uint8_t *data, size_t len, const char *proto);

/* Finds header name (case-insensitive; a name has no ':') in the header block of an HTTP-style
 * reply; sets *val and *vlen to its trimmed value. False when absent. The block is cut into
 * lines on the first lookup and kept in r for the next ones. */
bool hs_reply_header(hs_reply_t *r, const char *name, const uint8_t **val, size_t *vlen);

/* True when header name is present and its value contains needle (case-insensitive). */
bool hs_reply_header_has(hs_reply_t *r, const char *name, const char *needle);

/* True when header name is present and its value starts with prefix (case-insensitive). */
bool hs_reply_header_starts(hs_reply_t *r, const char *name, const char *prefix);

/* The body of r (after CR LF CR LF), kept from the header block's cut; NULL when the headers
 * never end so. */
const uint8_t *hs_reply_body(hs_reply_t *r, size_t *blen);

/* The body of an HTTP-style message (after CR LF CR LF); NULL when the headers never end. */
const uint8_t *hs_body(const uint8_t *data, size_t len, size_t *blen);

/* True when the JSON text contains the member "key": value (value a string, matched exactly),
 * or "key": anything when value is NULL. Tolerates whitespace around the colon. */
bool hs_json_member(const uint8_t *json, size_t len, const char *key, const char *value);

/* What a reply is as TLS/SSL records (tls.c): HS_TLS_NONE, a TLS 1.0+ ServerHello or alert
 * (HS_TLS_TLS), or an SSL 2/3 one (HS_TLS_SSL). Shared by the tls and ssl fingerprints. */
enum { HS_TLS_NONE, HS_TLS_SSL, HS_TLS_TLS };
int hs_tls_classify(const uint8_t *data, size_t len);

/* Defines hs_<name>_payload for a protocol whose probe is the same bytes for every target: the
 * array probe. */
#define HS_FIXED_PAYLOAD(name, probe)                                                              \
    size_t hs_##name##_payload(const hs_target_t *t, uint8_t *buf, size_t cap)                     \
    {                                                                                              \
        (void)t;                                                                                   \
        return hs_copy(buf, cap, probe, sizeof probe);                                             \
    }

/* Copies n bytes into buf when they fit in cap; returns n, or 0 when they do not. */
size_t hs_copy(uint8_t *buf, size_t cap, const void *src, size_t n);

/* snprintf into buf; returns the length, or 0 when the text does not fit in cap. */
size_t hs_printf(uint8_t *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Room for hs_host's text. */
#define HS_HOST_MAX (ADDR_TEXT_MAX + 2)

/* a as a URL or a Host header names a host: "198.18.0.5", or "[2001:2::5]"; returns buf. */
char *hs_host(const lzr_addr_t *a, char buf[HS_HOST_MAX]);

/* a as one 32-bit number, for probes that put an address into a number field or vary their
 * bytes by it: an IPv4 address itself, an IPv6 address its last four bytes. */
uint32_t hs_addr32(const lzr_addr_t *a);

/* An HTTP/1.1 request "METHOD path" with Host (the target's address, with :port unless it is
 * 80), User-Agent, Accept and any extra header lines (each ending CR LF), ending CR LF CR LF. */
size_t hs_http_request(const hs_target_t *t, const char *method, const char *path,
                       const char *extra, uint8_t *buf, size_t cap);

/* A bounds-checked byte writer for binary probes: writes past cap set overflow and are dropped,
 * so a builder checks once at the end. */
typedef struct hs_buf {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool overflow;
} hs_buf_t;

void hs_put8(hs_buf_t *b, uint8_t v);
void hs_put16(hs_buf_t *b, uint16_t v);
void hs_put24(hs_buf_t *b, uint32_t v);
void hs_put32(hs_buf_t *b, uint32_t v);
void hs_put16le(hs_buf_t *b, uint16_t v);
void hs_put32le(hs_buf_t *b, uint32_t v);
void hs_putmem(hs_buf_t *b, const void *src, size_t n);
void hs_putstr(hs_buf_t *b, const char *s);

/* Reserves a 16-bit (or 24-bit) big-endian length field and returns its offset; hs_close16/24
 * later fill it with the number of bytes written after it. */
size_t hs_open16(hs_buf_t *b);
void hs_close16(hs_buf_t *b, size_t at);
size_t hs_open24(hs_buf_t *b);
void hs_close24(hs_buf_t *b, size_t at);

/* The final length of b, or 0 when anything overflowed. */
size_t hs_done(const hs_buf_t *b);

#endif
