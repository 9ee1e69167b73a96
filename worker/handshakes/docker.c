/*
 * docker: "GET /version" over HTTP, as the Docker Engine API answers it. The fingerprint is an
 * HTTP reply with the engine's headers: "Server: Docker/...", or "Api-Version" together with
 * "Docker-Experimental" or "Ostype".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_docker_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/version", NULL, buf, cap);
}

bool hs_docker_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    const uint8_t *v;
    size_t vl;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    if (hs_reply_header_starts(r, "Server", "Docker/"))
        return true;
    return hs_reply_header(r, "Api-Version", &v, &vl) &&
           (hs_reply_header(r, "Docker-Experimental", &v, &vl) ||
            hs_reply_header(r, "Ostype", &v, &vl));
}
