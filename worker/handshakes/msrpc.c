/*
 * msrpc: DCE/RPC over TCP (Microsoft RPC endpoint mapper, 135). The probe is a connection-oriented
 * bind to the endpoint mapper interface (e1af8308-5d1f-11c9-91a4-08002b14a0fa v3) with NDR
 * transfer syntax. The fingerprint is a connection-oriented PDU header: version 5.0, a reply
 * type (bind_ack, bind_nak, fault, response, shutdown), a defined data representation and a
 * fragment length of at least 16.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t epm_uuid[16] = {0x08, 0x83, 0xaf, 0xe1, 0x1f, 0x5d, 0xc9, 0x11,
                                     0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa};
static const uint8_t ndr_uuid[16] = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
                                     0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60};

size_t hs_msrpc_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put8(&b, 5); /* version 5.0 */
    hs_put8(&b, 0);
    hs_put8(&b, 11);          /* bind */
    hs_put8(&b, 0x03);        /* first and last fragment */
    hs_put32(&b, 0x10000000); /* little-endian, ASCII, IEEE floats */
    hs_put16le(&b, 72);       /* fragment length */
    hs_put16le(&b, 0);        /* auth length */
    hs_put32le(&b, 1);        /* call id */
    hs_put16le(&b, 4280);     /* max xmit */
    hs_put16le(&b, 4280);     /* max recv */
    hs_put32le(&b, 0);        /* association group */
    hs_put8(&b, 1);           /* one context */
    hs_put8(&b, 0);
    hs_put16le(&b, 0);
    hs_put16le(&b, 0); /* context id */
    hs_put8(&b, 1);    /* one transfer syntax */
    hs_put8(&b, 0);
    hs_putmem(&b, epm_uuid, 16);
    hs_put16le(&b, 3); /* interface version 3.0 */
    hs_put16le(&b, 0);
    hs_putmem(&b, ndr_uuid, 16);
    hs_put32le(&b, 2); /* NDR version 2 */
    return hs_done(&b);
}

bool hs_msrpc_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 16 || data[0] != 5 || data[1] != 0)
        return false;
    uint8_t type = data[2];
    if (type != 2 && type != 3 && type != 12 && type != 13 && type != 17)
        return false;
    if ((data[4] != 0x10 && data[4] != 0x00) || data[5] > 3)
        return false;
    uint16_t frag = data[4] ? hs_le16(data + 8) : hs_be16(data + 8);
    return frag >= 16;
}
