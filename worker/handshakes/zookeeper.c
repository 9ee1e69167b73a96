/*
 * zookeeper: a ZooKeeper ConnectRequest (length-prefixed jute record: protocol 0, zxid 0, timeout
 * 30 s, session 0, 16-byte empty password, read-write). The fingerprint is the ConnectResponse —
 * length 36 or 37, protocol version 0, a positive negotiated timeout and a 16-byte password —
 * or the answer to a four-letter word, "Zookeeper version: ".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_zookeeper_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put32(&b, 45); /* record length */
    hs_put32(&b, 0);  /* protocol version */
    hs_put32(&b, 0);  /* last zxid seen (64 bits) */
    hs_put32(&b, 0);
    hs_put32(&b, 30000); /* session timeout, ms */
    hs_put32(&b, 0);     /* session id (64 bits) */
    hs_put32(&b, 0);
    hs_put32(&b, 16); /* password */
    for (int i = 0; i < 16; i++)
        hs_put8(&b, 0);
    hs_put8(&b, 0); /* read-only: no */
    return hs_done(&b);
}

bool hs_zookeeper_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (hs_starts(data, len, "Zookeeper version: "))
        return true;
    if (len < 24)
        return false;
    uint32_t n = hs_be32(data), timeout = hs_be32(data + 8);
    return (n == 36 || n == 37) && hs_be32(data + 4) == 0 && timeout > 0 && timeout < 3600000 &&
           hs_be32(data + 20) == 16;
}
