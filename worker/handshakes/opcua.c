/*
 * opcua: OPC UA binary (opc.tcp, 4840). The probe is a Hello message with the target's endpoint
 * URL; the fingerprint is the server's Acknowledge ("ACKF", size 28) or Error ("ERRF", size at
 * least 16) message header.
 */
#include "worker/handshakes/hs_util.h"

#include <stdio.h>

size_t hs_opcua_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX], url[96];
    hs_host(&t->daddr, ip);
    int n = snprintf(url, sizeof url, "opc.tcp://%s:%u", ip, t->dport);
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_putstr(&b, "HELF");
    hs_put32le(&b, (uint32_t)(32 + n)); /* message size */
    hs_put32le(&b, 0);                  /* protocol version */
    hs_put32le(&b, 65536);              /* receive buffer */
    hs_put32le(&b, 65536);              /* send buffer */
    hs_put32le(&b, 0);                  /* max message size: no limit */
    hs_put32le(&b, 0);                  /* max chunk count: no limit */
    hs_put32le(&b, (uint32_t)n);
    hs_putmem(&b, url, (size_t)n);
    return hs_done(&b);
}

bool hs_opcua_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 8)
        return false;
    uint32_t size = hs_le32(data + 4);
    if (hs_starts(data, len, "ACKF"))
        return size == 28;
    if (hs_starts(data, len, "ERRF"))
        return size >= 16 && size <= 65536;
    return false;
}
