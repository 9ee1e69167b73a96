/*
 * bgp: a BGP-4 OPEN message (RFC 4271 4.2) from private AS 64512 with the scanner's address as
 * BGP identifier. Unconfigured peers answer with a NOTIFICATION, configured ones with their OPEN.
 * The fingerprint is the message header: 16 bytes of 0xFF marker, a length of 19 to 4096 and a
 * type from 1 (OPEN) to 5 (ROUTE-REFRESH).
 */
#include "worker/handshakes/hs_util.h"

size_t hs_bgp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    hs_buf_t b = {.p = buf, .cap = cap};
    for (int i = 0; i < 16; i++)
        hs_put8(&b, 0xff);
    hs_put16(&b, 29);
    hs_put8(&b, 1);      /* OPEN */
    hs_put8(&b, 4);      /* version */
    hs_put16(&b, 64512); /* my AS */
    hs_put16(&b, 90);    /* hold time */
    hs_put32(&b, hs_addr32(&t->saddr));
    hs_put8(&b, 0); /* no optional parameters */
    return hs_done(&b);
}

bool hs_bgp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 19)
        return false;
    for (int i = 0; i < 16; i++)
        if (data[i] != 0xff)
            return false;
    uint16_t n = hs_be16(data + 16);
    return n >= 19 && n <= 4096 && data[18] >= 1 && data[18] <= 5;
}
