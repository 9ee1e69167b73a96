/*
 * imap: IMAP servers greet first with an untagged "* OK", "* PREAUTH" or "* BYE" (RFC 9051
 * 7.1), so the probe is nothing. The fingerprint is that greeting at the start of the reply on a
 * printable line.
 */
#include "worker/handshakes/hs_util.h"

bool hs_imap_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (!hs_starts(data, len, "* OK ") && !hs_starts(data, len, "* PREAUTH ") &&
        !hs_starts(data, len, "* BYE "))
        return false;
    return hs_text(data, hs_line_len(data, len));
}
