/*
 * nats: a NATS server speaks first with "INFO {json}\r\n" describing itself, so the probe is
 * nothing. The fingerprint is "INFO " then a JSON object that has a "server_id" member.
 */
#include "worker/handshakes/hs_util.h"

bool hs_nats_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (!hs_starts(data, len, "INFO {"))
        return false;
    size_t line = hs_line_len(data, len);
    return hs_json_member(data + 5, line - 5, "server_id", NULL);
}
