/*
 * ldap: an anonymous LDAPv3 simple bind (RFC 4511 4.2). The fingerprint is an LDAPMessage in BER:
 * a SEQUENCE (0x30) with a valid definite length, an INTEGER message id of 1 to 4 bytes, then a
 * response protocolOp tag — bindResponse, searchResEntry/Done, extendedResponse (as in the
 * Notice of Disconnection) and the other [APPLICATION n] responses.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
                                0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00};

HS_FIXED_PAYLOAD(ldap, probe)

bool hs_ldap_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 7 || data[0] != 0x30)
        return false;
    size_t i = 2;
    if (data[1] & 0x80) { /* long form: 1 to 4 length bytes */
        size_t n = data[1] & 0x7f;
        if (n == 0 || n > 4 || len < 2 + n + 5)
            return false;
        i = 2 + n;
    } else if (data[1] < 5) {
        return false;
    }
    if (data[i] != 0x02 || data[i + 1] < 1 || data[i + 1] > 4)
        return false;
    i += 2 + data[i + 1];
    if (i >= len)
        return false;
    uint8_t op = data[i];
    /* bindResponse 1, searchResEntry 4, searchResDone 5, modify 7, add 9, del 11, modDN 13,
     * compare 15, searchResRef 19 (constructed), extendedResponse 24, intermediate 25 */
    return op == 0x61 || op == 0x64 || op == 0x65 || op == 0x67 || op == 0x69 || op == 0x6b ||
           op == 0x6d || op == 0x6f || op == 0x73 || op == 0x78 || op == 0x79;
}
