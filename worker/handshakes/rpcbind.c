/*
 * rpcbind: ONC RPC over TCP (RFC 5531), e.g. the portmapper on 111 or NFS on 2049. The probe is a
 * NULL call to the portmapper (program 100000, version 2) in one record fragment. The fingerprint
 * is a record mark with the last-fragment bit and a plausible length, then a REPLY (message
 * type 1) whose reply status is accepted (0) or denied (1).
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {
    0x80, 0x00, 0x00, 0x28,                         /* last fragment, 40 bytes */
    0x4c, 0x5a, 0x52, 0x21,                         /* xid */
    0x00, 0x00, 0x00, 0x00,                         /* CALL */
    0x00, 0x00, 0x00, 0x02,                         /* RPC version 2 */
    0x00, 0x01, 0x86, 0xa0,                         /* program 100000 */
    0x00, 0x00, 0x00, 0x02,                         /* version 2 */
    0x00, 0x00, 0x00, 0x00,                         /* procedure NULL */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* credentials AUTH_NONE */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* verifier AUTH_NONE */
};

HS_FIXED_PAYLOAD(rpcbind, probe)

bool hs_rpcbind_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 16 || !(data[0] & 0x80))
        return false;
    uint32_t frag = hs_be32(data) & 0x7fffffff;
    return frag >= 12 && frag <= (1u << 20) && hs_be32(data + 8) == 1 && hs_be32(data + 12) <= 1;
}
