/*
 * amqp: the AMQP 0-9-1 protocol header "AMQP\0\0\x09\x01". The fingerprint is the server's
 * answer: a connection.start method frame (type 1, channel 0, class 10, method 10, frame end
 * 0xCE when whole), or — from a server of another version — its own protocol header, "AMQP"
 * followed by four version bytes.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

HS_FIXED_PAYLOAD(amqp, probe)

bool hs_amqp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len == 8 && hs_starts(data, len, "AMQP"))
        return data[4] <= 3 && data[5] <= 1 && data[6] <= 10;
    if (len < 11 || data[0] != 1 || hs_be16(data + 1) != 0)
        return false;
    uint32_t size = hs_be32(data + 3);
    if (size < 4 || size > (1u << 20) || hs_be16(data + 7) != 10 || hs_be16(data + 9) != 10)
        return false;
    return len < size + 8 || data[size + 7] == 0xce;
}
