/*
 * couchdb: "GET /" over HTTP. The fingerprint is an HTTP reply from CouchDB: "Server: CouchDB/"
 * or the welcome document {"couchdb":"Welcome", ...}.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_couchdb_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/", NULL, buf, cap);
}

bool hs_couchdb_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t bl;
    const uint8_t *b;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    if (hs_reply_header_starts(r, "Server", "CouchDB/"))
        return true;
    return (b = hs_reply_body(r, &bl)) && hs_json_member(b, bl, "couchdb", "Welcome");
}
