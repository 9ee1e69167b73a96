/*
 * x11: an X11 connection setup (little-endian byte order 'l', protocol 11.0, no authorization).
 * The fingerprint is the server's setup reply in either byte order: status Failed (0), Success
 * (1) or Authenticate (2), protocol major 11, minor 0, and for Failed a reason that fits the
 * declared additional length.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[12] = {'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0};

HS_FIXED_PAYLOAD(x11, probe)

bool hs_x11_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8 || data[0] > 2)
        return false;
    bool le = hs_le16(data + 2) == 11 && hs_le16(data + 4) == 0;
    bool be = hs_be16(data + 2) == 11 && hs_be16(data + 4) == 0;
    if (!le && !be)
        return false;
    uint16_t words = le ? hs_le16(data + 6) : hs_be16(data + 6);
    if (data[0] == 0) /* Failed: the reason is data[1] bytes, padded to words */
        return data[1] <= 4u * words;
    return words >= (data[0] == 1 ? 8 : 0);
}
