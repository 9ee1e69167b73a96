/*
 * mysql: MySQL and MariaDB speak first with an initial handshake packet, so the probe is nothing.
 * The fingerprint is a MySQL packet at the start: a three-byte little-endian length that fits,
 * sequence 0, then protocol version 10 (or 9) and a printable, NUL-terminated server version,
 * or an ERR packet (0xFF, an error code 1000-2999 and printable text) — what a server that
 * refuses the host sends instead.
 */
#include "worker/handshakes/hs_util.h"

#include <string.h>

bool hs_mysql_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 7 || data[3] != 0)
        return false;
    size_t plen = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16;
    if (plen < 3 || plen > 1024)
        return false;
    size_t end = len < 4 + plen ? len : 4 + plen;
    if (data[4] == 0x0a || data[4] == 0x09) {
        const uint8_t *nul = memchr(data + 5, 0, end - 5);
        size_t vlen = nul ? (size_t)(nul - (data + 5)) : end - 5;
        if (!nul && end == 4 + plen)
            return false;
        return vlen >= 1 && vlen < 64 && hs_text(data + 5, vlen) && data[5] >= '0' &&
               data[5] <= '9';
    }
    if (data[4] == 0xff) {
        uint16_t code = hs_le16(data + 5);
        return code >= 1000 && code <= 2999 && end > 7 && hs_text(data + 7, end - 7);
    }
    return false;
}
