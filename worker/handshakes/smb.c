/*
 * smb: an SMB1 NEGOTIATE in a NetBIOS session message offering NT LM 0.12 and the SMB2 dialects,
 * which SMB1 and SMB2/3 servers (Windows, Samba) both answer. The fingerprint is a NetBIOS
 * session message (type 0, 17-bit length) that holds an SMB1 ("\xFFSMB"), SMB2 ("\xFESMB") or
 * encrypted SMB3 ("\xFDSMB") header, with a length that covers that header.
 */
#include "worker/handshakes/hs_util.h"

size_t hs_smb_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    static const char dialects[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put8(&b, 0x00); /* session message */
    size_t nb = hs_open24(&b);
    hs_putmem(&b, "\xffSMB", 4);
    hs_put8(&b, 0x72);          /* NEGOTIATE */
    hs_put32(&b, 0);            /* status */
    hs_put8(&b, 0x18);          /* flags: canonical paths, case-insensitive */
    hs_put16le(&b, 0xc853);     /* flags2: unicode, NT status, extended security, long names */
    hs_put16(&b, 0);            /* pid high */
    for (int i = 0; i < 8; i++) /* security features */
        hs_put8(&b, 0);
    hs_put16(&b, 0);        /* reserved */
    hs_put16le(&b, 0xffff); /* tid */
    hs_put16le(&b, 0xfeff); /* pid */
    hs_put16(&b, 0);        /* uid */
    hs_put16(&b, 0);        /* mid */
    hs_put8(&b, 0);         /* word count */
    hs_put16le(&b, sizeof dialects);
    hs_putmem(&b, dialects, sizeof dialects);
    hs_close24(&b, nb);
    return hs_done(&b);
}

bool hs_smb_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8 || data[0] != 0x00 || (data[1] & 0xfe))
        return false;
    uint32_t n = (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    if (hs_starts(data + 4, len - 4, "\xffSMB"))
        return n >= 32;
    if (hs_starts(data + 4, len - 4, "\xfeSMB"))
        return n >= 64 && (len < 8 + 2 || hs_le16(data + 8) == 64);
    if (hs_starts(data + 4, len - 4, "\xfdSMB"))
        return n >= 52;
    return false;
}
