/*
 * fuzz_record: arbitrary bytes, as any server may send, as a record's data and protocol label,
 * written in each of the record's line formats. Every line must fit its documented bound, be
 * NUL-free up to its length, and hold no raw newline (one record, one line); the LZR-Go line's
 * data must be valid UTF-8, as Go's encoding/json would write it. Seeds: tests/fuzz/corpus/record/
 * (server banners from the fingerprint corpus, and the escapes Go's JSON makes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"

/* True when s[0..n) is valid UTF-8 (no overlong forms, no surrogates). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (len == 0 || i + len > n)
            return 0;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static void check_line(const char *line, size_t n, size_t cap)
{
    if (n >= cap || strlen(line) != n || memchr(line, '\n', n) || memchr(line, '\r', n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lzr_record_t r;
    static char line[LZR_LZRGO_MAX];
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(0xc6120001);
    r.source_ip = addr_ipv4(0xc6130001);
    if (size > 3 && (data[3] & 1)) { /* an IPv6 record: its text is the longest an address gets */
        r.ip.family = r.source_ip.family = ADDR_IPV6;
        for (int i = 0; i < 16; i++)
            r.ip.v6[i] = r.source_ip.v6[i] = data[(size_t)i % size];
    }
    r.port = size ? data[0] : 0;
    r.cls = size ? (lzr_class_t)(data[0] % CLASS_COUNT) : CLASS_SERVICE;
    r.handshakes_tried = size > 1 ? data[1] : 0;
    r.ts_us = size > 2 ? (uint64_t)data[2] * 123457 : 0;
    r.data_len = (uint16_t)(size > LZR_DATA_MAX ? LZR_DATA_MAX : size);
    memcpy(r.data, data, r.data_len);
    memcpy(r.protocol, data, size < sizeof r.protocol ? size : sizeof r.protocol);

    size_t n = record_to_json(&r, line, 4096);
    check_line(line, n, 4096);
    if (n == 0 || !valid_utf8((const unsigned char *)line, n))
        abort();
    n = record_to_zgrab2(&r, line, 128);
    check_line(line, n, 128);
    if (memchr(line, '"', n) || (n && strchr(line, ',') == strrchr(line, ',')))
        abort();
    n = record_to_lzrgo(&r, line, sizeof line);
    check_line(line, n, sizeof line);
    if ((n == 0) != (r.cls == CLASS_CLOSED || r.cls == CLASS_SILENT))
        abort();
    if (!valid_utf8((const unsigned char *)line, n))
        abort();
    return 0;
}
