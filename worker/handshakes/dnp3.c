/*
 * dnp3: a DNP3 data-link "request link status" frame (IEEE 1815 9.2) from master 1024 to outstation
 * 1. The fingerprint is a data-link header: start bytes 0x05 0x64, a length of at least 5, and a
 * header CRC (CRC-16/DNP) that checks out — ten bytes that random data almost never satisfies.
 */
#include "worker/handshakes/hs_util.h"

static uint16_t crc_dnp(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xa6bc) : (uint16_t)(crc >> 1);
    }
    return (uint16_t)~crc;
}

size_t hs_dnp3_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    uint8_t f[10] = {0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x00, 0x04};
    uint16_t crc = crc_dnp(f, 8);
    f[8] = (uint8_t)crc;
    f[9] = (uint8_t)(crc >> 8);
    return hs_copy(buf, cap, f, sizeof f);
}

bool hs_dnp3_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 10 || data[0] != 0x05 || data[1] != 0x64 || data[2] < 5)
        return false;
    return crc_dnp(data, 8) == hs_le16(data + 8);
}
