/*
 * ftp: FTP servers greet first with a 220 reply (RFC 959), so the probe is nothing. The
 * fingerprint is a 220 (or 120 "ready soon", 421 "service not available") reply line of printable
 * text at the start of the reply, or vsftpd's fatal "500 OOPS: " refusal. Any 220 greeting
 * counts — that is the fallback — and smtp, which greets with 220 too, wins when its line names
 * (E)SMTP.
 */
#include "worker/handshakes/hs_util.h"

bool hs_ftp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_reply_code(data, len);
    if (code == 500 && hs_starts(data, len, "500 OOPS: "))
        return hs_text(data, hs_line_len(data, len));
    if (code != 220 && code != 120 && code != 421)
        return false;
    size_t line = hs_line_len(data, len);
    if (!hs_text(data, line))
        return false;
    /* 120 and 421 are shared with other protocols: ask for the word FTP then */
    return code == 220 || hs_contains_ci(data, line, "FTP");
}
