/*
 * cwmp: TR-069 (CWMP) endpoints — a CPE's connection-request server on 7547 or an ACS. The probe
 * is "GET /" over HTTP. The fingerprint is an HTTP reply that carries CWMP's structure: a SOAP
 * body in the urn:dslforum-org:cwmp namespace, a "SOAPAction" header naming cwmp, or a Server
 * header of a TR-069 stack (one that names TR069/TR-069/CWMP).
 */
#include "worker/handshakes/hs_util.h"

size_t hs_cwmp_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    return hs_http_request(t, "GET", "/", NULL, buf, cap);
}

bool hs_cwmp_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    size_t bl;
    const uint8_t *b;
    if (hs_status_line(data, len, "HTTP") < 100)
        return false;
    if (hs_reply_header_has(r, "Server", "TR069") || hs_reply_header_has(r, "Server", "TR-069") ||
        hs_reply_header_has(r, "Server", "CWMP") || hs_reply_header_has(r, "SOAPAction", "cwmp"))
        return true;
    return (b = hs_reply_body(r, &bl)) && hs_contains(b, bl, "urn:dslforum-org:cwmp-") &&
           hs_contains_ci(b, bl, "Envelope");
}
