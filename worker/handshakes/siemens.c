/*
 * siemens: S7comm on ISO-on-TCP (102). The probe is a COTP Connection Request in TPKT with the
 * TSAPs of a CPU in rack 0 slot 2 (source 0x0100, destination 0x0102). The fingerprint is a TPKT
 * (version 3) carrying either a COTP Connection Confirm (0xD0) whose parameters include a
 * calling or called TSAP (0xC1/0xC2), or a COTP data TPDU (0x02 0xF0) with an S7 header
 * (protocol id 0x32, ROSCTR 1-7).
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {
    0x03, 0x00, 0x00, 0x16,                   /* TPKT, length 22 */
    0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, /* COTP CR: LI 17, src ref 1, class 0 */
    0xc1, 0x02, 0x01, 0x00,                   /* calling TSAP */
    0xc2, 0x02, 0x01, 0x02,                   /* called TSAP: rack 0, slot 2 */
    0xc0, 0x01, 0x0a,                         /* TPDU size 1024 */
};

HS_FIXED_PAYLOAD(siemens, probe)

bool hs_siemens_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8 || data[0] != 3 || data[1] != 0 || hs_be16(data + 2) < 7)
        return false;
    size_t li = data[4];
    if (data[5] == 0xf0 && li == 2)
        return len >= 9 && data[7] == 0x32 && data[8] >= 1 && data[8] <= 7;
    if (data[5] != 0xd0 || li < 6 || 5 + li > len)
        return false;
    /* parameters follow the 6 fixed bytes of the confirm: code, length, value */
    for (size_t i = 11; i + 2 <= 5 + li;) {
        uint8_t code = data[i], plen = data[i + 1];
        if (code == 0xc1 || code == 0xc2)
            return true;
        i += 2 + plen;
    }
    return false;
}
