/*
 * elasticsearch: "GET /" over HTTP. The fingerprint is an HTTP reply from Elasticsearch or
 * OpenSearch: the "X-elastic-product: Elasticsearch" header (7.14+, also on 401s), or the root
 * JSON document with "cluster_name" and a "version" object holding "lucene_version".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_elasticsearch_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/", NULL, buf, cap);
}

bool hs_elasticsearch_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t bl;
    const uint8_t *b;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    if (hs_reply_header_starts(r, "X-elastic-product", "Elasticsearch"))
        return true;
    return (b = hs_reply_body(r, &bl)) && hs_json_member(b, bl, "cluster_name", NULL) &&
           hs_json_member(b, bl, "lucene_version", NULL);
}
