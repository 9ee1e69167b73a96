/*
 * jdwp: the Java Debug Wire Protocol handshake — the client sends the 14 ASCII bytes
 * "JDWP-Handshake" and the debuggee echoes them. An exposed JDWP port runs arbitrary code, so it
 * is worth naming. The fingerprint is the echo.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_jdwp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, "JDWP-Handshake", 14);
}

bool hs_jdwp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    return hs_starts(data, len, "JDWP-Handshake");
}
