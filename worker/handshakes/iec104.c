/*
 * iec104: IEC 60870-5-104 telecontrol (2404). The probe is a STARTDT act U-frame; the fingerprint
 * is a whole APCI at the start: start byte 0x68, an APDU length of 4 to 253 that the bytes
 * received fill, and a well-formed control field — a U-frame with exactly one function bit and
 * zero trailing octets, an S-frame, or an I-frame whose ASDU has a defined type, a non-zero
 * object count and a defined cause of transmission.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x68, 0x04, 0x07, 0x00, 0x00, 0x00};

HS_FIXED_PAYLOAD(iec104, probe)

/* ASDU type identifications defined by IEC 60870-5-101/104. */
static bool known_type(uint8_t t)
{
    return (t >= 1 && t <= 21) || (t >= 30 && t <= 40) || (t >= 45 && t <= 51) ||
           (t >= 58 && t <= 64) || t == 70 || (t >= 100 && t <= 107) || (t >= 110 && t <= 113) ||
           (t >= 120 && t <= 127);
}

bool hs_iec104_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 6 || data[0] != 0x68 || data[1] < 4 || data[1] > 253)
        return false;
    /* the APDU is whole, and whatever follows starts another APDU */
    size_t end = 2 + (size_t)data[1];
    if (len < end || (len > end && data[end] != 0x68))
        return false;
    uint8_t c = data[2];
    if ((c & 3) == 3) { /* U-frame */
        uint8_t f = c & 0xfc;
        bool one = f == 0x04 || f == 0x08 || f == 0x10 || f == 0x20 || f == 0x40 || f == 0x80;
        return one && data[1] == 4 && data[3] == 0 && data[4] == 0 && data[5] == 0;
    }
    if ((c & 3) == 1) /* S-frame */
        return data[1] == 4 && data[3] == 0 && (data[4] & 1) == 0;
    /* I-frame: sequence numbers, then an ASDU with a defined type and cause of transmission */
    if (data[1] < 10 || (data[4] & 1) != 0)
        return false;
    uint8_t cot = data[8] & 0x3f;
    return known_type(data[6]) && (data[7] & 0x7f) != 0 && cot >= 1 && cot <= 47;
}
