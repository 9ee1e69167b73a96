/*
 * rtsp: "OPTIONS rtsp://<ip>:<port>/ RTSP/1.0" with a CSeq (RFC 2326 10.1). The fingerprint is
 * an RTSP status line at the start of the reply, "RTSP/1.0 200".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_rtsp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX];
    hs_host(&t->daddr, ip);
    return hs_printf(buf, cap,
                     "OPTIONS rtsp://%s:%u/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: lzr\r\n\r\n", ip,
                     t->dport);
}

bool hs_rtsp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_status_line(data, len, "RTSP");
    return code >= 100 && code <= 599;
}
