/*
 * http: "GET / HTTP/1.1" with a Host header naming the target's address. The fingerprint is an
 * HTTP status line at the very start of the reply ("HTTP/1.1 200", "HTTP/1.0 404", "HTTP/2 301")
 * with a code between 100 and 599 — a keyword later in a banner is not HTTP. HTTP-based APIs
 * (docker, kubernetes, ...) refine it at a higher priority.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_http_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/", NULL, buf, cap);
}

bool hs_http_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_status_line(data, len, "HTTP");
    return code >= 100 && code <= 599;
}
