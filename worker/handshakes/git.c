/*
 * git: git-daemon (9418). The probe is a pkt-line "git-upload-pack /" request with the target as
 * host. The fingerprint is a pkt-line at the start — four hex digits giving a length of at
 * least 4 — whose content is "ERR ", "version ", or a 40-hex object id and a space (the first
 * advertised ref).
 */
#include "worker/handshakes/hs_util.h"

#include <stdio.h>

size_t hs_git_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX], line[96];
    hs_host(&t->daddr, ip);
    int n = snprintf(line, sizeof line, "git-upload-pack /%chost=%s%c", 0, ip, 0);
    if (n < 0 || (size_t)n >= sizeof line)
        return 0;
    hs_buf_t b = {.p = buf, .cap = cap};
    char head[5];
    snprintf(head, sizeof head, "%04x", (unsigned)n + 4);
    hs_putmem(&b, head, 4);
    hs_putmem(&b, line, (size_t)n);
    return hs_done(&b);
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool hs_git_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8)
        return false;
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int v = hexval(data[i]);
        if (v < 0)
            return false;
        n = n * 16 + v;
    }
    if (n < 8)
        return false;
    const uint8_t *p = data + 4;
    size_t pl = len - 4;
    if (hs_starts(p, pl, "ERR ") || hs_starts(p, pl, "version "))
        return true;
    if (pl < 41 || n < 45)
        return false;
    for (int i = 0; i < 40; i++)
        if (hexval(p[i]) < 0)
            return false;
    return p[40] == ' ';
}
