/*
 * epmd: the Erlang port mapper (4369), which names the Erlang nodes (RabbitMQ, CouchDB, ...) on a
 * host. The probe is NAMES_REQ; the reply is epmd's own port as four bytes then one
 * "name <node> at port <n>\n" line per node. The fingerprint is that line after the port, or,
 * with no nodes, exactly the four bytes 4369.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x00, 0x01, 'n'};

HS_FIXED_PAYLOAD(epmd, probe)

bool hs_epmd_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 4 || hs_be32(data) > 65535)
        return false;
    if (len == 4)
        return hs_be32(data) == 4369;
    return hs_starts(data + 4, len - 4, "name ") && hs_contains(data + 4, len - 4, " at port ");
}
