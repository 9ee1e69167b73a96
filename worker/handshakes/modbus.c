/*
 * modbus: Modbus/TCP (502). The probe is Read Device Identification (function 0x2B, MEI 0x0E,
 * basic objects) to unit 0. The fingerprint is an MBAP header: protocol id 0, a length of 2 to
 * 254 that matches the bytes received (or a following frame), and a function code that is
 * either normal or an exception (high bit) with a defined exception code.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x4c, 0x5a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x2b, 0x0e, 0x01, 0x00};

HS_FIXED_PAYLOAD(modbus, probe)

bool hs_modbus_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 9 || hs_be16(data + 2) != 0)
        return false;
    size_t n = hs_be16(data + 4);
    uint8_t fc = data[7];
    if (n < 2 || n > 254 || (fc & 0x7f) == 0)
        return false;
    if (fc & 0x80) {
        if (n != 3 || data[8] == 0 || data[8] > 0x0b)
            return false;
    }
    if (len < 6 + n)
        return false;
    /* anything after the frame must be another MBAP frame */
    return len == 6 + n || (len >= 6 + n + 4 && hs_be16(data + 6 + n + 2) == 0);
}
