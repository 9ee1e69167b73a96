/*
 * pop3: POP3 servers greet first with "+OK ..." (RFC 1939 4), so the probe is nothing. The
 * fingerprint is a "+OK" status indicator at the start, followed by a space or the line end, on
 * a printable line. (Redis's "+OK" is never its first word to our probes; it answers "+PONG".)
 */
#include "worker/handshakes/hs_util.h"

bool hs_pop3_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (!hs_starts(data, len, "+OK") || len < 4 || (data[3] != ' ' && data[3] != '\r'))
        return false;
    return hs_text(data, hs_line_len(data, len));
}
