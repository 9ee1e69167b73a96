/*
 * ssl: servers that only speak SSL 2 or SSL 3. No probe of its own — the tls ClientHello draws
 * them out too (an SSL 3 server answers with a version 3.0 ServerHello or alert, an SSL 2 server
 * with an SSL 2 SERVER-HELLO) — so this is a fingerprint that tells them from TLS.
 */
#include "worker/handshakes/hs_util.h"

bool hs_ssl_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    return hs_tls_classify(data, len) == HS_TLS_SSL;
}
