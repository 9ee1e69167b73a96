/*
 * cassandra: a CQL native-protocol v4 OPTIONS frame (stream 1). The fingerprint is a response
 * frame header: version byte with the response bit (0x81-0x86), known flag bits only, an opcode
 * that answers OPTIONS or a startup (ERROR, READY, AUTHENTICATE, SUPPORTED) and a body length
 * under 256 MiB. A server of another protocol version answers with an ERROR in its own version.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00};

HS_FIXED_PAYLOAD(cassandra, probe)

bool hs_cassandra_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8 || data[0] < 0x81 || data[0] > 0x86 || (data[1] & 0xe0))
        return false;
    /* v1 and v2 have a one-byte stream id, v3+ two bytes */
    size_t op = data[0] <= 0x82 ? 3 : 4;
    if (len < op + 5)
        return false;
    uint8_t code = data[op];
    uint32_t body = hs_be32(data + op + 1);
    return (code == 0x00 || code == 0x02 || code == 0x03 || code == 0x06) && body >= 2 &&
           body < (1u << 28);
}
