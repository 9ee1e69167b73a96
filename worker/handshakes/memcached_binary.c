/*
 * memcached_binary: memcached's binary protocol. The probe is a Version request (magic 0x80,
 * opcode 0x0b); the fingerprint is a response header: magic 0x81, a known opcode, raw data type,
 * a defined status, and a total body length that covers the key and extras.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[24] = {0x80, 0x0b};

HS_FIXED_PAYLOAD(memcached_binary, probe)

bool hs_memcached_binary_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 24 || data[0] != 0x81 || data[1] > 0x48 || data[5] != 0)
        return false;
    uint16_t status = hs_be16(data + 6);
    bool status_ok =
        status <= 0x08 || status == 0x20 || status == 0x21 || (status >= 0x81 && status <= 0x86);
    uint32_t body = hs_be32(data + 8);
    return status_ok && body >= (uint32_t)hs_be16(data + 2) + data[4] && body < (1u << 20);
}
