/*
 * irc: registers with NICK and USER (RFC 2812 3.1). Most servers speak first anyway, with
 * ":irc.example NOTICE * :*** Looking up your hostname". The fingerprint is an IRC message at the
 * start: ":prefix" then a NOTICE/ERROR/PING/CAP/MODE command or a three-digit numeric, or an
 * unprefixed "NOTICE AUTH :", "ERROR :" or "PING :".
 */
#include "worker/handshakes/hs_util.h"

size_t hs_irc_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    static const char probe[] = "NICK lzr\r\nUSER lzr 0 * :lzr\r\n";
    return hs_copy(buf, cap, probe, sizeof probe - 1);
}

static bool command(const uint8_t *s, size_t len)
{
    static const char *const cmds[] = {"NOTICE ", "ERROR ", "PING ", "CAP ", "MODE ", "PRIVMSG "};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (hs_starts(s, len, cmds[i]))
            return true;
    return len >= 4 && hs_reply_code(s, len) >= 1 && s[3] == ' ';
}

bool hs_irc_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t line = hs_line_len(data, len);
    if (!hs_text(data, line))
        return false;
    if (hs_starts(data, line, "NOTICE AUTH :") || hs_starts(data, line, "ERROR :") ||
        hs_starts(data, line, "PING :"))
        return true;
    if (line < 4 || data[0] != ':')
        return false;
    size_t i = 1;
    while (i < line && data[i] > ' ')
        i++;
    if (i == 1 || i >= line || data[i] != ' ')
        return false;
    return command(data + i + 1, line - i - 1);
}
