/*
 * mssql: a TDS PRELOGIN packet (MS-TDS 2.2.6.5) asking for version, encryption off, instance,
 * thread id and MARS. The fingerprint is a TDS tabular-result packet (type 0x04, status EOM) of
 * plausible length whose payload is either a PRELOGIN option list starting with VERSION
 * (offset within the packet, length 6) or an ERROR/LOGINACK token stream.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_mssql_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    /* five options of 5 bytes and a terminator, then 6 + 1 + 1 + 4 + 1 bytes of data */
    const uint16_t data_off = 5 * 5 + 1;
    hs_put8(&b, 0x12); /* PRELOGIN */
    hs_put8(&b, 0x01); /* end of message */
    hs_put16(&b, (uint16_t)(8 + data_off + 13));
    hs_put16(&b, 0); /* SPID */
    hs_put8(&b, 1);  /* packet id */
    hs_put8(&b, 0);  /* window */
    static const uint8_t opts[][2] = {{0x00, 6}, {0x01, 1}, {0x02, 1}, {0x03, 4}, {0x04, 1}};
    uint16_t off = data_off;
    for (size_t i = 0; i < 5; i++) {
        hs_put8(&b, opts[i][0]);
        hs_put16(&b, off);
        hs_put16(&b, opts[i][1]);
        off = (uint16_t)(off + opts[i][1]);
    }
    hs_put8(&b, 0xff);
    static const uint8_t vals[] = {0x0f, 0x00, 0x07, 0xd0, 0x00, 0x00, /* client version */
                                   0x00,                               /* ENCRYPT_OFF */
                                   0x00,                               /* default instance */
                                   0x00, 0x00, 0x00, 0x00,             /* thread id */
                                   0x00};                              /* MARS off */
    hs_putmem(&b, vals, sizeof vals);
    return hs_done(&b);
}

bool hs_mssql_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 9 || data[0] != 0x04 || (data[1] & ~0x09u))
        return false;
    uint16_t plen = hs_be16(data + 2);
    if (plen < 9 || plen > 32768 || data[7] != 0)
        return false;
    uint8_t tok = data[8];
    if (tok == 0xaa || tok == 0xad) /* ERROR or LOGINACK token */
        return true;
    if (tok != 0x00 || len < 13)
        return false;
    uint16_t off = hs_be16(data + 9);
    return hs_be16(data + 11) == 6 && off >= 6 && (size_t)off + 6 <= (size_t)plen - 8;
}
