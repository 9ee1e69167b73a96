/*
 * memcached_ascii: memcached's text protocol. The probe is "version\r\n"; the fingerprint is the
 * answer "VERSION <digit>..." or the text protocol's error replies at the start of a line —
 * "ERROR\r\n" exactly (what memcached says to a line it does not know, such as our HTTP GET),
 * or "CLIENT_ERROR " / "SERVER_ERROR ".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_memcached_ascii_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, "version\r\n", 9);
}

bool hs_memcached_ascii_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (hs_starts(data, len, "VERSION ") && len > 8 && data[8] >= '0' && data[8] <= '9')
        return hs_text(data, hs_line_len(data, len));
    if (hs_starts(data, len, "ERROR\r\n"))
        return true;
    if (hs_starts(data, len, "CLIENT_ERROR ") || hs_starts(data, len, "SERVER_ERROR "))
        return hs_text(data, hs_line_len(data, len));
    return false;
}
