/*
 * ssh: SSH servers speak first (RFC 4253 4.2), so "wait" draws them out and so does any other
 * probe; our own probe is a client identification string, which a server that waits for the
 * client's (rare) also answers. The fingerprint is the identification string at the start of the
 * reply: "SSH-" protoversion ("2.0", "1.99", "1.5") "-" softwareversion.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_ssh_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    return hs_copy(buf, cap, "SSH-2.0-lzr\r\n", 13);
}

bool hs_ssh_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t i = 4;
    if (!hs_starts(data, len, "SSH-"))
        return false;
    if (i >= len || data[i] < '1' || data[i] > '2')
        return false;
    i++;
    if (i >= len || data[i] != '.')
        return false;
    i++;
    size_t start = i;
    while (i < len && data[i] >= '0' && data[i] <= '9')
        i++;
    if (i == start || (i < len && data[i] != '-'))
        return false;
    /* the software version is printable and has no spaces before its comment */
    return i + 1 >= len || (data[i + 1] > 0x20 && data[i + 1] < 0x7f);
}
