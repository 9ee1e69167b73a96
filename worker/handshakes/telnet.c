/*
 * telnet: telnet servers usually open with option negotiation (RFC 854/855): IAC (0xFF) then
 * WILL, WONT, DO or DONT (0xFB-0xFE) and an option, or IAC SB for a subnegotiation. The probe is
 * nothing. Three bytes are little structure, so this is a weak fingerprint: it requires the
 * reply to keep to IAC sequences until the first text.
 */
#include "worker/handshakes/hs_util.h"

bool hs_telnet_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t i = 0, cmds = 0;
    while (i < len && data[i] == 0xff) {
        if (i + 1 >= len)
            break;
        uint8_t c = data[i + 1];
        if (c >= 0xfb && c <= 0xfe) {
            if (i + 2 >= len)
                break;
            if (data[i + 2] > 49 && data[i + 2] != 255) /* options beyond RFC 2217's range */
                return false;
            i += 3;
        } else if (c == 0xfa) { /* subnegotiation: up to IAC SE */
            size_t j = i + 2;
            while (j + 1 < len && !(data[j] == 0xff && data[j + 1] == 0xf0))
                j++;
            i = j + 2;
        } else if (c >= 0xf1 && c <= 0xf9) { /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA */
            i += 2;
        } else {
            return false;
        }
        cmds++;
    }
    return cmds > 0 && (i >= len || data[i] < 0x80 || data[i] == 0xff);
}
