/*
 * java_rmi: Java RMI's JRMP (1099). The probe is the stream header "JRMI", version 2, protocol
 * StreamProtocol (0x4B); the fingerprint is the server's ProtocolAck: 0x4E, then the client's
 * host as seen by the server (a modified-UTF-8 string with a two-byte length, 1 to 255 bytes of
 * host-name characters) and, when present, a port below 65536.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {'J', 'R', 'M', 'I', 0x00, 0x02, 0x4b};

HS_FIXED_PAYLOAD(java_rmi, probe)

static bool host_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '-' || c == ':' || c == '%' || c == '_';
}

bool hs_java_rmi_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 4 || data[0] != 0x4e)
        return false;
    size_t n = hs_be16(data + 1);
    if (n == 0 || n > 255 || len < 3 + n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!host_char(data[3 + i]))
            return false;
    return len < 3 + n + 4 || hs_be32(data + 3 + n) <= 65535;
}
