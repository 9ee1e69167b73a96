/*
 * fox: the Niagara Fox protocol of Tridium building-automation controllers. The probe is a fox
 * hello message; the fingerprint is a fox message header at the start: "fox a ", a sequence
 * number, a space, a channel (-1 or a number), then " fox ".
 */
#include "worker/handshakes/hs_util.h"

static const char probe[] = "fox a 1 -1 fox hello\n{\nfox.version=s:1.0\nid=i:1\n};;\n";

size_t hs_fox_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, probe, sizeof probe - 1);
}

static size_t number(const uint8_t *s, size_t len, size_t i)
{
    size_t start = i;
    if (i < len && s[i] == '-')
        i++;
    size_t digits = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > digits ? i : start;
}

bool hs_fox_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (!hs_starts(data, len, "fox a "))
        return false;
    size_t i = number(data, len, 6);
    if (i == 6 || i >= len || data[i] != ' ')
        return false;
    size_t j = number(data, len, i + 1);
    return j != i + 1 && hs_starts(data + j, len - j, " fox ");
}
