/*
 * mqtt: an MQTT 3.1.1 CONNECT (clean session, client id "lzr"). The fingerprint is a CONNACK at
 * the start: fixed header 0x20; for MQTT 3.x remaining length 2, session-present 0 or 1 and a
 * return code 0-5; for MQTT 5 a longer remaining length, flags 0 or 1 and a reason code 0 or
 * 0x80-0x9F.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x10, 0x0f, 0x00, 0x04, 'M',  'Q', 'T', 'T', 0x04,
                                0x02, 0x00, 0x3c, 0x00, 0x03, 'l', 'z', 'r'};

HS_FIXED_PAYLOAD(mqtt, probe)

bool hs_mqtt_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 4 || data[0] != 0x20 || data[2] > 1)
        return false;
    if (data[1] == 2)
        return data[3] <= 5;
    return data[1] > 2 && data[1] < 0x80 && (data[3] == 0 || (data[3] >= 0x80 && data[3] <= 0x9f));
}
