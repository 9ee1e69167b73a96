/*
 * record: names of the scan classes and the JSON line written for each (ip, port) result. The
 * worker (standalone scans) and the coordinator (exports) both call record_to_json, so the two
 * write byte-identical lines; docs/output.md documents the fields.
 */
#include "record.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "err.h"
#include "text.h"

static const char *const class_names[CLASS_COUNT] = {
#define LZR_CLASS_NAME(e, name, short, colour) [e] = name,
    LZR_CLASS_LIST(LZR_CLASS_NAME)
#undef LZR_CLASS_NAME
};

const char *record_class_name(lzr_class_t c)
{
    if ((unsigned)c >= CLASS_COUNT)
        return "invalid";
    return class_names[c];
}

int record_class_parse(const char *name, lzr_class_t *out)
{
    if (name == NULL)
        return LZR_EINVAL;
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (strcmp(name, class_names[c]) == 0) {
            *out = (lzr_class_t)c;
            return LZR_OK;
        }
    }
    return LZR_EINVAL;
}

/* An append-only writer over the caller's buffer; once something does not fit, every later
 * append is dropped and the result reports failure. */
typedef struct {
    char *buf;
    size_t cap, len;
    bool full;
} out_t;

static void put_raw(out_t *o, const char *s, size_t n)
{
    if (o->full || o->len + n >= o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_str(out_t *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

static void put_uint(out_t *o, uint64_t v)
{
    char tmp[TEXT_UINT_MAX];
    put_raw(o, tmp, text_uint(tmp, v));
}

/* A member name (with its leading comma and colon) and its number. */
static void put_member_uint(out_t *o, const char *name, uint64_t v)
{
    put_str(o, name);
    put_uint(o, v);
}

/* v as exactly width digits, zero-padded (width ≤ 8 and v < 10^width): a timestamp's fraction. */
static void put_digits(out_t *o, unsigned v, size_t width)
{
    char tmp[8];
    for (size_t i = width; i > 0; i--) {
        tmp[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    put_raw(o, tmp, width);
}

static void put_fmt(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(out_t *o, const char *fmt, ...)
{
    char tmp[96];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        o->full = true;
        return;
    }
    put_raw(o, tmp, (size_t)n);
}

/* One byte of a JSON string: quote, backslash and control characters escaped; with ascii_only
 * also every byte outside printable ASCII (as \u00XX), with html also <, > and & (as Go does). */
static void put_json_byte(out_t *o, unsigned char c, bool ascii_only, bool html)
{
    const char *esc = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                                  : NULL;
    if (esc)
        put_raw(o, esc, 2);
    else if (c < 0x20 || (ascii_only && c >= 0x7f) || (html && (c == '<' || c == '>' || c == '&')))
        put_fmt(o, "\\u%04x", c);
    else
        put_raw(o, (const char *)&c, 1);
}

/* A JSON string from a fixed-size char field that may lack its NUL. Bytes outside ASCII are
 * written as \u00XX so the line stays valid UTF-8 whatever the field holds. */
static void put_json_string(out_t *o, const char *s, size_t maxlen)
{
    size_t n = strnlen(s, maxlen);
    put_raw(o, "\"", 1);
    for (size_t i = 0; i < n; i++)
        put_json_byte(o, (unsigned char)s[i], true, false);
    put_raw(o, "\"", 1);
}

static void put_ip(out_t *o, lzr_addr_t ip)
{
    char text[ADDR_TEXT_MAX];
    put_raw(o, "\"", 1);
    put_str(o, addr_format(&ip, text));
    put_raw(o, "\"", 1);
}

/* RFC 3339 in UTC with microseconds: "2026-11-25T08:30:00.123456Z"; with go_style, as Go writes
 * a time.Time in JSON: the fraction without trailing zeros, none for a whole second
 * ("2026-11-25T08:30:00.1Z", "2026-11-25T08:30:00Z"). */
static void put_timestamp(out_t *o, uint64_t ts_us, bool go_style)
{
    /* A thread's records come in time order, so the date and time of day change once a second:
     * gmtime_r runs once per second, not once per record. */
    static _Thread_local time_t cached_secs = (time_t)-1;
    static _Thread_local char cached[48]; /* "2026-11-25T08:30:00" */
    time_t secs = (time_t)(ts_us / 1000000);
    unsigned usec = (unsigned)(ts_us % 1000000);
    if (secs != cached_secs) {
        struct tm tm;
        if (gmtime_r(&secs, &tm) == NULL) {
            o->full = true;
            return;
        }
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_secs = secs;
    }
    /* The fraction: six digits, or with go_style without its trailing zeros (none at all for a
     * whole second). */
    size_t width = 6;
    while (go_style && width > 0 && usec % 10 == 0) {
        usec /= 10;
        width--;
    }
    put_raw(o, "\"", 1);
    put_str(o, cached);
    if (width) {
        put_raw(o, ".", 1);
        put_digits(o, usec, width);
    }
    put_raw(o, "Z\"", 2);
}

size_t record_to_json(const lzr_record_t *r, char *buf, size_t cap)
{
    out_t o = {.buf = buf, .cap = cap, .len = 0, .full = buf == NULL || cap == 0};
    char data[((LZR_DATA_MAX + 2) / 3) * 4 + 1];
    size_t data_len = r->data_len > LZR_DATA_MAX ? LZR_DATA_MAX : r->data_len;

    if (!o.full)
        buf[0] = '\0';
    b64_encode(r->data, data_len, data, sizeof(data));

    put_str(&o, "{\"ip\":");
    put_ip(&o, r->ip);
    put_member_uint(&o, ",\"port\":", r->port);
    put_str(&o, ",\"source_ip\":");
    put_ip(&o, r->source_ip);
    put_str(&o, ",\"class\":\"");
    put_str(&o, record_class_name(r->cls));
    put_str(&o, "\",\"protocol\":");
    put_json_string(&o, r->protocol, sizeof(r->protocol));
    put_str(&o, ",\"handshake\":");
    put_json_string(&o, r->handshake, sizeof(r->handshake));
    put_member_uint(&o, ",\"handshakes_tried\":", r->handshakes_tried);
    put_member_uint(&o, ",\"window\":", r->window);
    put_member_uint(&o, ",\"ttl_synack\":", r->ttl_synack);
    put_member_uint(&o, ",\"ttl_last\":", r->ttl_last);
    put_member_uint(&o, ",\"synack_retransmits\":", r->synack_retransmits);
    put_str(&o, r->acked_data ? ",\"acked_data\":true" : ",\"acked_data\":false");
    put_member_uint(&o, ",\"data_len\":", data_len);
    put_str(&o, ",\"data\":\"");
    put_str(&o, data);
    put_member_uint(&o, "\",\"rtt_us\":", r->rtt_us);
    put_str(&o, ",\"ts\":");
    put_timestamp(&o, r->ts_us, false);
    put_str(&o, "}");

    if (o.full) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return 0;
    }
    return o.len;
}

size_t record_to_zgrab2(const lzr_record_t *r, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return 0;
    buf[0] = '\0';
    size_t plen = strnlen(r->protocol, sizeof(r->protocol));
    if (r->cls != CLASS_SERVICE || plen == 0 || strncmp(r->protocol, "unknown", plen) == 0)
        return 0;
    /* A label from a worker is not trusted: anything but [A-Za-z0-9._-] would break the CSV. */
    char tag[sizeof(r->protocol) + 1];
    for (size_t i = 0; i < plen; i++) {
        char c = r->protocol[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        tag[i] = ok ? c : '_';
    }
    tag[plen] = '\0';
    char ip[ADDR_TEXT_MAX];
    int n = snprintf(buf, cap, "%s,,%s,%u", addr_format(&r->ip, ip), tag, (unsigned)r->port);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* Length of the valid UTF-8 sequence at s[0..n) (Go's rules: shortest form, no surrogates, at
 * most U+10FFFF), or 0 when the byte at s starts none. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The server's bytes as a JSON string the way Go's encoding/json writes a string holding them,
 * as LZR-Go does: valid UTF-8 passes through, each invalid byte becomes \ufffd, control
 * characters and the HTML-sensitive <, >, & are escaped, and so are U+2028 and U+2029. */
static void put_go_string(out_t *o, const uint8_t *s, size_t n)
{
    put_raw(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = utf8_len(s + i, n - i);
        if (len == 0) {
            put_str(o, "\\ufffd");
            i++;
            continue;
        }
        if (len > 1) {
            if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
                put_fmt(o, "\\u202%c", s[i + 2] == 0xa8 ? '8' : '9');
            else
                put_raw(o, (const char *)s + i, len);
            i += len;
            continue;
        }
        put_json_byte(o, c, false, true);
        i++;
    }
    put_raw(o, "\"", 1);
}

size_t record_to_lzrgo(const lzr_record_t *r, char *buf, size_t cap)
{
    out_t o = {.buf = buf, .cap = cap, .len = 0, .full = buf == NULL || cap == 0};
    if (!o.full)
        buf[0] = '\0';
    /* LZR-Go writes only targets that answered the SYN with a SYN-ACK. */
    if (o.full || r->cls == CLASS_CLOSED || r->cls == CLASS_SILENT)
        return 0;
    size_t data_len = r->data_len > LZR_DATA_MAX ? LZR_DATA_MAX : r->data_len;
    bool named = r->cls == CLASS_SERVICE && r->protocol[0];
    /* The flags of the last packet the target sent: data, a FIN or RST after the handshake, or
     * only the SYN-ACK. */
    bool rst = r->cls == CLASS_RST_AFTER_HANDSHAKE;
    bool fin = r->cls == CLASS_FIN_AFTER_HANDSHAKE;
    bool syn = !data_len && !rst && !fin && r->cls != CLASS_ACKS_NO_DATA;
    unsigned ttl = r->ttl_last ? r->ttl_last : r->ttl_synack;

    put_str(&o, "{\"saddr\":");
    put_ip(&o, r->ip);
    put_str(&o, ",\"daddr\":");
    put_ip(&o, r->source_ip);
    put_fmt(&o, ",\"sport\":%u,\"dport\":0,\"seqnum\":0,\"acknum\":0,\"window\":%u,\"ttl\":%u",
            (unsigned)r->port, (unsigned)r->window, ttl);
    put_fmt(&o, ",\"Counter\":0,\"ACK\":true,\"ACKed\":%s,\"SYN\":%s,\"RST\":%s,\"FIN\":%s",
            r->acked_data ? "true" : "false", syn ? "true" : "false", rst ? "true" : "false",
            fin ? "true" : "false");
    put_fmt(&o, ",\"PUSH\":%s,\"HandshakeNum\":%u,\"fingerprint\":", data_len ? "true" : "false",
            r->handshakes_tried ? (unsigned)r->handshakes_tried - 1 : 0u);
    if (named)
        put_json_string(&o, r->protocol, sizeof(r->protocol));
    else
        put_str(&o, "\"unknown\"");
    put_str(&o, ",\"Timestamp\":");
    put_timestamp(&o, r->ts_us, true);
    if (data_len) {
        put_str(&o, ",\"data\":");
        put_go_string(&o, r->data, data_len);
    }
    if (r->cls == CLASS_ACKING_FIREWALL)
        put_str(&o, ",\"ackingFirewall\":true");
    put_str(&o, "}");
    if (o.full) {
        buf[0] = '\0';
        return 0;
    }
    return o.len;
}

size_t record_json_string(const char *s, char *buf, size_t cap)
{
    out_t o = {.buf = buf, .cap = cap, .len = 0, .full = buf == NULL || cap == 0};
    put_json_string(&o, s, strlen(s));
    return o.full ? 0 : o.len;
}

size_t record_json_time(uint64_t ts_us, char *buf, size_t cap)
{
    out_t o = {.buf = buf, .cap = cap, .len = 0, .full = buf == NULL || cap == 0};
    put_timestamp(&o, ts_us, false);
    return o.full ? 0 : o.len;
}
