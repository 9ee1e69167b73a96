/*
 * xmpp: opens a client stream (RFC 6120 4.2) to the target's address. The fingerprint is the
 * server's stream header: optional XML declaration, then a <stream:stream ...> or <stream:error>
 * element at the start whose opening tag declares the http://etherx.jabber.org/streams
 * namespace — an HTML page that mentions it is not XMPP.
 */
#include "worker/handshakes/hs_util.h"

#include <string.h>

size_t hs_xmpp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX];
    hs_host(&t->daddr, ip);
    return hs_printf(buf, cap,
                     "<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
                     "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
                     ip);
}

bool hs_xmpp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t i = 0;
    if (hs_starts(data, len, "<?xml")) {
        const uint8_t *end = hs_find(data, len, "?>", 2);
        if (!end)
            return false;
        i = (size_t)(end - data) + 2;
    }
    while (i < len && (data[i] == ' ' || data[i] == '\r' || data[i] == '\n' || data[i] == '\t'))
        i++;
    if (!hs_starts(data + i, len - i, "<stream:stream") &&
        !hs_starts(data + i, len - i, "<stream:error") &&
        !hs_starts(data + i, len - i, "<stream:features"))
        return false;
    /* the namespace must be declared inside this first tag */
    const uint8_t *close = memchr(data + i, '>', len - i);
    size_t tag = close ? (size_t)(close - (data + i)) : len - i;
    return hs_contains(data + i, tag, "http://etherx.jabber.org/streams") ||
           hs_starts(data + i, len - i, "<stream:error");
}
