/*
 * enip: EtherNet/IP (CIP over TCP, 44818). The probe is a ListIdentity encapsulation request;
 * the fingerprint is an encapsulation header (24 bytes, little-endian): a known command, a data
 * length that fits what arrived, a defined status and zero options.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[24] = {0x63, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
                                  'l',  'z',  'r',  0,    0, 0, 0, 0, 0, 0, 0, 0};

HS_FIXED_PAYLOAD(enip, probe)

bool hs_enip_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 24)
        return false;
    uint16_t cmd = hs_le16(data);
    uint32_t status = hs_le32(data + 8);
    bool known = cmd == 0x0004 || cmd == 0x0063 || cmd == 0x0064 || cmd == 0x0065 ||
                 cmd == 0x0066 || cmd == 0x006f || cmd == 0x0070;
    bool status_ok = status <= 3 || status == 0x64 || status == 0x65 || status == 0x69;
    return known && status_ok && hs_le32(data + 20) == 0 && hs_le16(data + 2) <= 65511 &&
           (cmd != 0x0063 || status != 0 || hs_le16(data + 2) >= 2);
}
