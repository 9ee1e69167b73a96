/*
 * rdp: an X.224 Connection Request in TPKT with an RDP Negotiation Request offering TLS and
 * CredSSP (MS-RDPBCGR 2.2.1.1). The fingerprint is a TPKT (version 3) X.224 Connection Confirm
 * (0xD0) that is RDP's: followed by an RDP Negotiation Response or Failure (type 2 or 3, length
 * 8), or a bare 11-byte confirm with no parameters (older servers). S7's confirm carries TSAP
 * parameters instead, and is siemens.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {
    0x03, 0x00, 0x00, 0x13,                         /* TPKT, length 19 */
    0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,       /* X.224 CR: LI 14, dst/src ref 0, class 0 */
    0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, /* RDP_NEG_REQ: TLS | CredSSP */
};

HS_FIXED_PAYLOAD(rdp, probe)

bool hs_rdp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 11 || data[0] != 3 || data[1] != 0 || data[5] != 0xd0)
        return false;
    uint16_t tpkt = hs_be16(data + 2);
    uint8_t li = data[4];
    if (li == 6)
        return tpkt == 11;
    if (li != 14 || tpkt != 19 || len < 15)
        return false;
    return (data[11] == 0x02 || data[11] == 0x03) && hs_le16(data + 13) == 8;
}
