/*
 * socks5: a SOCKS5 greeting offering "no authentication" (RFC 1928 3). The fingerprint is the
 * two-byte method selection, and nothing else: version 5 and a method of 0 (none), 1 (GSSAPI),
 * 2 (user/password) or 0xFF (no acceptable method). Two bytes are little, hence the exact length
 * and the weak priority.
 */
#include "worker/handshakes/hs_util.h"

static const uint8_t probe[] = {0x05, 0x01, 0x00};

HS_FIXED_PAYLOAD(socks5, probe)

bool hs_socks5_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    return len == 2 && data[0] == 0x05 &&
           (data[1] == 0x00 || data[1] == 0x01 || data[1] == 0x02 || data[1] == 0xff);
}
