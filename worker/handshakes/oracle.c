/*
 * oracle: an Oracle TNS CONNECT packet carrying a connect descriptor for the target. Listeners
 * answer ACCEPT, REFUSE, REDIRECT or RESEND. The fingerprint is a TNS header: a packet length
 * of at least 8, zero packet checksum, a reply packet type (2 accept, 4 refuse, 5 redirect,
 * 11 resend, 12 marker), a zero reserved byte and zero header checksum.
 */
#include "worker/handshakes/hs_util.h"

#include <stdio.h>

size_t hs_oracle_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[ADDR_TEXT_MAX], desc[288];
    addr_format(&t->daddr, ip); /* a connect descriptor names an IPv6 host bare */
    int n = snprintf(desc, sizeof desc,
                     "(DESCRIPTION=(CONNECT_DATA=(SID=lzr)(CID=(PROGRAM=lzr)(HOST=lzr)(USER=lzr)))"
                     "(ADDRESS=(PROTOCOL=TCP)(HOST=%s)(PORT=%u)))",
                     ip, t->dport);
    if (n < 0 || (size_t)n >= sizeof desc)
        return 0;
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put16(&b, (uint16_t)(58 + n)); /* packet length */
    hs_put16(&b, 0);                  /* packet checksum */
    hs_put8(&b, 1);                   /* CONNECT */
    hs_put8(&b, 0);
    hs_put16(&b, 0);           /* header checksum */
    hs_put16(&b, 0x013a);      /* version 314 */
    hs_put16(&b, 0x012c);      /* lowest compatible 300 */
    hs_put16(&b, 0x0c41);      /* service options */
    hs_put16(&b, 0x2000);      /* session data unit */
    hs_put16(&b, 0x7fff);      /* max transmission unit */
    hs_put16(&b, 0x7f08);      /* NT protocol characteristics */
    hs_put16(&b, 0);           /* line turnaround */
    hs_put16(&b, 0x0100);      /* value of 1 in hardware */
    hs_put16(&b, (uint16_t)n); /* connect data length */
    hs_put16(&b, 58);          /* connect data offset */
    hs_put32(&b, 0x00000800);  /* max receivable connect data */
    hs_put8(&b, 0x41);         /* connect flags */
    hs_put8(&b, 0x41);
    for (int i = 0; i < 24; i++) /* trace and connection ids, unused */
        hs_put8(&b, 0);
    hs_putmem(&b, desc, (size_t)n);
    return hs_done(&b);
}

bool hs_oracle_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8 || hs_be16(data) < 8 || hs_be16(data + 2) != 0 || data[5] != 0 ||
        hs_be16(data + 6) != 0)
        return false;
    uint8_t type = data[4];
    return type == 2 || type == 4 || type == 5 || type == 11 || type == 12;
}
