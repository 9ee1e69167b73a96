/*
 * ajp13: the Apache JServ Protocol (Tomcat's 8009). The probe is a CPing packet (0x12 0x34, length
 * 1, type 10); the fingerprint is a container-to-server packet: "AB", a length of 1 to 8186 and a
 * defined message type (3 body chunk, 4 headers, 5 end, 6 get body, 9 CPong).
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x12, 0x34, 0x00, 0x01, 0x0a};

HS_FIXED_PAYLOAD(ajp13, probe)

bool hs_ajp13_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 5 || data[0] != 'A' || data[1] != 'B')
        return false;
    uint16_t n = hs_be16(data + 2);
    uint8_t type = data[4];
    return n >= 1 && n <= 8186 && (type == 9 ? n == 1 : (type >= 3 && type <= 6));
}
