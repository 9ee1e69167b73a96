/*
 * ipmi: IPMI over RMCP (623). The probe is an IPMI 1.5 Get Channel Authentication Capabilities
 * request in an RMCP packet; the fingerprint is an RMCP header (version 6, reserved 0, class ASF
 * or IPMI) and, for IPMI, an unauthenticated session header whose message is a response
 * addressed back to the remote console (requester 0x81, odd network function).
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {
    0x06, 0x00, 0xff, 0x07,                         /* RMCP: v1.0, no ack, class IPMI */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* auth none, sequence 0 */
    0x00, 0x09,                                     /* session 0, message length 9 */
    0x20, 0x18, 0xc8,                               /* BMC, app request, checksum */
    0x81, 0x00, 0x38,                               /* console, seq 0, Get Chan Auth Caps */
    0x8e, 0x04, 0xb5,                               /* channel current (v2), admin, checksum */
};

HS_FIXED_PAYLOAD(ipmi, probe)

bool hs_ipmi_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 4 || data[0] != 0x06 || data[1] != 0x00)
        return false;
    uint8_t cls = data[3] & 0x7f;
    if (cls == 0x06) /* ASF: IANA enterprise 4542 */
        return len >= 8 && hs_be32(data + 4) == 4542;
    if (cls != 0x07 || len < 14)
        return false;
    size_t m = 13;       /* message length after auth type, sequence and session id */
    if (data[4] == 0x06) /* RMCP+: payload type, session id, sequence, length */
        return len >= 16 && (data[5] & 0x3f) <= 0x15;
    if (data[4] != 0x00) {
        if (data[4] > 0x05)
            return false;
        m += 16; /* auth code */
    }
    if (len < m + 3)
        return false;
    return data[m] >= 7 && data[m + 1] == 0x81 && ((data[m + 2] >> 2) & 1) == 1;
}
