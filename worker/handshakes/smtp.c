/*
 * smtp: SMTP servers greet first with "220 host ESMTP ..." (RFC 5321 4.2), so the probe is
 * nothing. The fingerprint is a 220 or 554 greeting line (single or "220-" multi-line) of
 * printable text whose first line names SMTP or ESMTP as a word. It outranks ftp, whose fallback
 * would take any 220.
 */
#include "worker/handshakes/hs_util.h"

static bool word_at(const uint8_t *s, size_t len, size_t i, size_t n)
{
    bool before = i == 0 || s[i - 1] == ' ' || s[i - 1] == '-' || s[i - 1] == '(';
    bool after = i + n == len || s[i + n] == ' ' || s[i + n] == ';' || s[i + n] == ')' ||
                 s[i + n] == ',' || s[i + n] == '.';
    return before && after;
}

bool hs_smtp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    int code = hs_reply_code(data, len);
    if (code != 220 && code != 554)
        return false;
    size_t line = hs_line_len(data, len);
    if (!hs_text(data, line))
        return false;
    for (size_t i = 4; i + 4 <= line; i++) {
        if (hs_starts_ci(data + i, line - i, "ESMTP") && word_at(data, line, i, 5))
            return true;
        if (hs_starts_ci(data + i, line - i, "SMTP") && word_at(data, line, i, 4))
            return true;
    }
    return false;
}
