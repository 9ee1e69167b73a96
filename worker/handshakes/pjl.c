/*
 * pjl: network printers on 9100 (raw/JetDirect) answer the PJL command "@PJL INFO ID" with the
 * command echoed and the printer model. The probe wraps it in Universal Exit Language escapes;
 * the fingerprint is a reply that starts (after an optional UEL) with "@PJL " and an upper-case
 * keyword.
 */
#include "worker/handshakes/hs_util.h"

static const char probe[] = "\x1b%-12345X@PJL INFO ID\r\n\x1b%-12345X\r\n";

size_t hs_pjl_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, probe, sizeof probe - 1);
}

bool hs_pjl_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (hs_starts(data, len, "\x1b%-12345X")) {
        data += 9;
        len -= 9;
    }
    return hs_starts(data, len, "@PJL ") && len > 5 && data[5] >= 'A' && data[5] <= 'Z';
}
