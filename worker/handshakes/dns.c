/*
 * dns: a DNS-over-TCP query (RFC 1035 4.2.2: two-byte length prefix) for version.bind, class
 * CHAOS, type TXT — answered locally by BIND, dnsmasq, Unbound and others without recursion.
 * The fingerprint is a DNS response: plausible length prefix, QR set, a standard opcode, at most
 * one question and small record counts.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {
    0x00, 0x1e,             /* length: 30 */
    0x4c, 0x5a,             /* id "LZ" */
    0x01, 0x00,             /* standard query, recursion desired */
    0x00, 0x01, 0x00, 0x00, /* one question, no answers */
    0x00, 0x00, 0x00, 0x00, /* no authority, no additional */
    7,    'v',  'e',  'r',  's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0, 0x00, 0x10, /* TXT */
    0x00, 0x03,                                                                       /* CHAOS */
};

HS_FIXED_PAYLOAD(dns, probe)

bool hs_dns_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 14)
        return false;
    uint16_t mlen = hs_be16(data);
    const uint8_t *m = data + 2;
    int opcode = (m[2] >> 3) & 0x0f;
    if (mlen < 12 || !(m[2] & 0x80) || opcode > 2 || (m[3] & 0x40))
        return false;
    uint16_t qd = hs_be16(m + 4), an = hs_be16(m + 6), ns = hs_be16(m + 8), ar = hs_be16(m + 10);
    if (qd > 1 || an > 256 || ns > 256 || ar > 256)
        return false;
    /* a reply with records must be longer than its header */
    return qd + an + ns + ar == 0 || mlen > 12;
}
