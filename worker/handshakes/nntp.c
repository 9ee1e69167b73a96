/*
 * nntp: NNTP servers greet first with 200 (posting allowed) or 201 (no posting), RFC 3977 5.1,
 * so the probe is nothing. The fingerprint is one of those codes followed by a space and a
 * printable, CR LF terminated line.
 */
#include "worker/handshakes/hs_util.h"

bool hs_nntp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_reply_code(data, len);
    if ((code != 200 && code != 201) || len < 5 || data[3] != ' ')
        return false;
    size_t line = hs_line_len(data, len);
    return line < len && hs_text(data, line);
}
