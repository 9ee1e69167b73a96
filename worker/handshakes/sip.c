/*
 * sip: a SIP OPTIONS request over TCP (RFC 3261 11) with the mandatory Via, From, To, Call-ID,
 * CSeq and Max-Forwards headers. The fingerprint is a SIP status line at the start of the reply,
 * "SIP/2.0 200".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_sip_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char dst[HS_HOST_MAX], src[HS_HOST_MAX];
    hs_host(&t->daddr, dst);
    hs_host(&t->saddr, src);
    return hs_printf(buf, cap,
                     "OPTIONS sip:%s:%u SIP/2.0\r\n"
                     "Via: SIP/2.0/TCP %s;branch=z9hG4bK-lzr-%08x\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:lzr@%s>;tag=lzr\r\n"
                     "To: <sip:%s:%u>\r\n"
                     "Call-ID: lzr-%08x@%s\r\n"
                     "CSeq: 1 OPTIONS\r\n"
                     "Contact: <sip:lzr@%s>\r\n"
                     "Accept: application/sdp\r\n"
                     "Content-Length: 0\r\n\r\n",
                     dst, t->dport, src, hs_addr32(&t->daddr), src, dst, t->dport,
                     hs_addr32(&t->daddr), src, src);
}

bool hs_sip_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_status_line(data, len, "SIP");
    return code >= 100 && code <= 699;
}
