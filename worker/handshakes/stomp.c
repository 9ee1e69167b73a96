/*
 * stomp: a STOMP CONNECT frame (STOMP 1.2) with the target as host. The fingerprint is a
 * CONNECTED or ERROR frame: the command on its own line followed by a "name:value" header line
 * — which also tells STOMP's "ERROR\n" apart from memcached's bare "ERROR\r\n".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_stomp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX];
    hs_host(&t->daddr, ip);
    size_t n = hs_printf(buf, cap, "CONNECT\naccept-version:1.0,1.1,1.2\nhost:%s\n\n", ip);
    if (n == 0 || n + 1 > cap)
        return 0;
    buf[n] = '\0'; /* frames end with NUL */
    return n + 1;
}

bool hs_stomp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t i;
    if (hs_starts(data, len, "CONNECTED\n") || hs_starts(data, len, "CONNECTED\r\n"))
        i = data[9] == '\n' ? 10 : 11;
    else if (hs_starts(data, len, "ERROR\n") || hs_starts(data, len, "ERROR\r\n"))
        i = data[5] == '\n' ? 6 : 7;
    else
        return false;
    size_t line = hs_line_len(data + i, len - i);
    if (line == 0 || !hs_text(data + i, line))
        return false;
    for (size_t j = 0; j < line; j++) {
        if (data[i + j] == ':')
            return j > 0;
        if (data[i + j] == ' ')
            return false;
    }
    return false;
}
