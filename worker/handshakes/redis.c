/*
 * redis: the probe is the inline command "PING\r\n". The fingerprint is a RESP reply Redis (or a
 * compatible server) gives a client that has not authenticated: "+PONG", or an error whose code
 * is Redis's own — "-NOAUTH ", "-DENIED Redis", "-ERR unknown command", "-ERR wrong number of
 * arguments", "-WRONGPASS". A bare "-ERR" is not enough: POP3 uses it too.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_redis_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, "PING\r\n", 6);
}

bool hs_redis_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    static const char *const replies[] = {
        "+PONG\r\n",
        "-NOAUTH ",
        "-DENIED Redis",
        "-ERR unknown command",
        "-ERR wrong number of arguments",
        "-WRONGPASS ",
        "-ERR Client sent AUTH",
    };
    size_t line = hs_line_len(data, len);
    if (!hs_text(data, line))
        return false;
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++)
        if (hs_starts(data, len, replies[i]))
            return true;
    return false;
}
