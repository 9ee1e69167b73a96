/*
 * pptp: a PPTP Start-Control-Connection-Request (RFC 2637 2.1). The fingerprint is any PPTP
 * control message: a length of at least 12, message type 1 (control), the magic cookie
 * 0x1A2B3C4D and a defined control message type.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_pptp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put16(&b, 156);        /* length */
    hs_put16(&b, 1);          /* control message */
    hs_put32(&b, 0x1a2b3c4d); /* magic cookie */
    hs_put16(&b, 1);          /* Start-Control-Connection-Request */
    hs_put16(&b, 0);          /* reserved */
    hs_put16(&b, 0x0100);     /* protocol version 1.0 */
    hs_put16(&b, 0);          /* reserved */
    hs_put32(&b, 1);          /* framing: asynchronous */
    hs_put32(&b, 1);          /* bearer: analog */
    hs_put16(&b, 0);          /* maximum channels */
    hs_put16(&b, 1);          /* firmware revision */
    uint8_t name[64] = "lzr";
    hs_putmem(&b, name, sizeof name); /* host name */
    uint8_t vendor[64] = "lzr";
    hs_putmem(&b, vendor, sizeof vendor);
    return hs_done(&b);
}

bool hs_pptp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 10)
        return false;
    uint16_t type = hs_be16(data + 8);
    return hs_be16(data) >= 12 && hs_be16(data + 2) == 1 && hs_be32(data + 4) == 0x1a2b3c4d &&
           type >= 1 && type <= 15;
}
