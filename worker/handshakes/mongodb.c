/*
 * mongodb: an OP_QUERY isMaster command on admin.$cmd — the legacy handshake every MongoDB
 * version still answers. The fingerprint is a wire-protocol reply (little-endian): a message
 * length that covers its header, opcode OP_REPLY (1) with one or zero documents whose BSON
 * length fits, or OP_MSG (2013) with a body section and a BSON document. It outranks modbus,
 * whose looser header can line up with a short MongoDB reply.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_mongodb_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    static const uint8_t doc[] = {19,  0,   0,   0, 0x10, 'i', 's', 'M', 'a', 's',
                                  't', 'e', 'r', 0, 1,    0,   0,   0,   0};
    hs_put32le(&b, 16 + 4 + 11 + 8 + sizeof doc); /* message length */
    hs_put32le(&b, 0x4c5a5221);                   /* request id */
    hs_put32le(&b, 0);                            /* response to */
    hs_put32le(&b, 2004);                         /* OP_QUERY */
    hs_put32le(&b, 0);                            /* flags */
    hs_putmem(&b, "admin.$cmd", 11);
    hs_put32le(&b, 0);   /* skip */
    hs_put32le(&b, ~0u); /* return -1: one document, close cursor */
    hs_putmem(&b, doc, sizeof doc);
    return hs_done(&b);
}

bool hs_mongodb_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 16)
        return false;
    uint32_t mlen = hs_le32(data), op = hs_le32(data + 12);
    if (mlen < 16 || mlen > 48 * 1024 * 1024)
        return false;
    if (op == 1) {
        if (mlen < 36 || len < 36 || hs_le32(data + 16) > 0x0f)
            return false;
        uint32_t ndocs = hs_le32(data + 32);
        if (ndocs > 1)
            return false;
        if (ndocs == 0 || len < 40)
            return true;
        uint32_t dlen = hs_le32(data + 36);
        return dlen >= 5 && dlen <= mlen - 36;
    }
    if (op == 2013) {
        if (mlen < 26 || len < 25 || (hs_le32(data + 16) & ~0x10003u) || data[20] != 0)
            return false;
        uint32_t dlen = hs_le32(data + 21);
        return dlen >= 5 && dlen <= mlen - 21;
    }
    return false;
}
