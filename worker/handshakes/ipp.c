/*
 * ipp: an IPP Get-Printer-Attributes request (RFC 8011 4.2.5) POSTed over HTTP as
 * application/ipp. The fingerprint is an HTTP reply that is IPP: Content-Type application/ipp,
 * or a Server header that names IPP ("CUPS/2.4 IPP/2.1").
 */
#include "worker/handshakes/hs_util.h"

#include <stdio.h>

size_t hs_ipp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    char ip[HS_HOST_MAX], uri[96], extra[128];
    uint8_t body[160];
    hs_host(&t->daddr, ip);
    int un = snprintf(uri, sizeof uri, "ipp://%s:%u/ipp/print", ip, t->dport);
    hs_buf_t b = {.p = body, .cap = sizeof body};
    hs_put16(&b, 0x0101); /* IPP 1.1 */
    hs_put16(&b, 0x000b); /* Get-Printer-Attributes */
    hs_put32(&b, 1);      /* request id */
    hs_put8(&b, 0x01);    /* operation-attributes-tag */
    hs_put8(&b, 0x47);    /* charset */
    hs_put16(&b, 18);
    hs_putstr(&b, "attributes-charset");
    hs_put16(&b, 5);
    hs_putstr(&b, "utf-8");
    hs_put8(&b, 0x48); /* naturalLanguage */
    hs_put16(&b, 27);
    hs_putstr(&b, "attributes-natural-language");
    hs_put16(&b, 5);
    hs_putstr(&b, "en-us");
    hs_put8(&b, 0x45); /* uri */
    hs_put16(&b, 11);
    hs_putstr(&b, "printer-uri");
    hs_put16(&b, (uint16_t)un);
    hs_putstr(&b, uri);
    hs_put8(&b, 0x03); /* end-of-attributes-tag */
    size_t bn = hs_done(&b);
    if (bn == 0)
        return 0;
    snprintf(extra, sizeof extra, "Content-Type: application/ipp\r\nContent-Length: %zu\r\n", bn);
    size_t n = hs_http_request(t, "POST", "/ipp/print", extra, buf, cap);
    if (n == 0 || n + bn > cap)
        return 0;
    return n + hs_copy(buf + n, cap - n, body, bn);
}

bool hs_ipp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    return hs_reply_header_starts(r, "Content-Type", "application/ipp") ||
           hs_reply_header_has(r, "Server", "IPP/");
}
