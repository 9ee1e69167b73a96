/*
 * postgres: a protocol 3.0 StartupMessage for user "lzr", database "lzr". A server answers with
 * an authentication request or an ErrorResponse (unknown role, no pg_hba.conf entry). The
 * fingerprint is one of those backend messages: 'R' with length 8 to 2048 and a defined
 * authentication code, or 'E'/'N' with a plausible length whose first field is a severity
 * ('S' or 'V') spelled as PostgreSQL does (FATAL, ERROR, PANIC, ...).
 */
#include "worker/handshakes/hs_util.h"

size_t hs_postgres_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    static const char params[] = "user\0lzr\0database\0lzr\0application_name\0lzr\0";
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put32(&b, (uint32_t)(8 + sizeof params)); /* params plus the final NUL */
    hs_put32(&b, 0x00030000);                    /* protocol 3.0 */
    hs_putmem(&b, params, sizeof params);
    return hs_done(&b);
}

bool hs_postgres_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 9)
        return false;
    uint32_t mlen = hs_be32(data + 1);
    if (data[0] == 'R') {
        uint32_t code = hs_be32(data + 5);
        return mlen >= 8 && mlen <= 2048 && (code <= 12 && code != 1 && code != 4 && code != 6);
    }
    if (data[0] != 'E' && data[0] != 'N')
        return false;
    if (mlen < 10 || mlen > 8192 || (data[5] != 'S' && data[5] != 'V'))
        return false;
    static const char *const sev[] = {"ERROR",  "FATAL", "PANIC", "WARNING",
                                      "NOTICE", "DEBUG", "INFO",  "LOG"};
    for (size_t i = 0; i < sizeof sev / sizeof sev[0]; i++)
        if (hs_starts(data + 6, len - 6, sev[i]))
            return true;
    return false;
}
