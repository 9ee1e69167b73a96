/*
 * couchdb: "GET /" over HTTP. The fingerprint is an HTTP reply from CouchDB: "Server: CouchDB/"
 * or the welcome document {"couchdb":"Welcome", ...}.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_couchdb_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/", NULL, buf, cap);
}

bool hs_couchdb_match(const uint8_t *data, size_t len)
{
    size_t bl;
    const uint8_t *b;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    if (hs_header_starts(data, len, "Server", "CouchDB/"))
        return true;
    return (b = hs_body(data, len, &bl)) && hs_json_member(b, bl, "couchdb", "Welcome");
}
