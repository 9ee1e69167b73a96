/*
 * vnc: RFB servers speak first with a 12-byte ProtocolVersion "RFB 003.008\n" (RFC 6143 7.1.1),
 * so the probe is nothing. The fingerprint is exactly that shape: "RFB ", three digits, ".",
 * three digits, newline.
 */
#include "worker/handshakes/hs_util.h"

bool hs_vnc_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 12 || !hs_starts(data, len, "RFB ") || data[7] != '.' || data[11] != '\n')
        return false;
    for (int i = 4; i < 11; i++)
        if (i != 7 && (data[i] < '0' || data[i] > '9'))
            return false;
    return true;
}
