/*
 * kubernetes: "GET /version" over HTTP. The fingerprint is an HTTP reply whose JSON body has the
 * API server's structure: the /version object ("gitVersion" with "goVersion"), a Status object
 * ("kind": "Status" with "apiVersion"), or an APIVersions list.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_kubernetes_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/version", NULL, buf, cap);
}

bool hs_kubernetes_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t bl;
    const uint8_t *b;
    if (hs_status_line(data, len, "HTTP") < 100 || !(b = hs_reply_body(r, &bl)))
        return false;
    if (hs_json_member(b, bl, "gitVersion", NULL) && hs_json_member(b, bl, "goVersion", NULL))
        return true;
    if (hs_json_member(b, bl, "kind", "Status") && hs_json_member(b, bl, "apiVersion", "v1"))
        return true;
    return hs_json_member(b, bl, "kind", "APIVersions");
}
