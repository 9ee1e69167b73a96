/*
 * tls: a TLS 1.2-compatible ClientHello that also offers TLS 1.3 (supported_versions and an
 * X25519 key share), with no SNI since the target is an address. The fingerprint accepts what a
 * TLS server sends back to anything — a ServerHello or an alert record — and also the HTTP 400
 * that common TLS servers (nginx, Apache, Go) send when plain HTTP reaches their TLS port, since
 * that names the service on that port as TLS.
 */
#include "worker/handshakes/hs_util.h"

static const uint16_t suites[] = {
    0x1301, 0x1302, 0x1303,                         /* TLS 1.3 AEADs */
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, /* ECDHE with AEAD */
    0xc009, 0xc013, 0xc00a, 0xc014,                 /* ECDHE with CBC */
    0x009c, 0x009d, 0x002f, 0x0035, 0x000a,         /* RSA key exchange */
    0x00ff,                                         /* renegotiation SCSV */
};

static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                   0x0401, 0x0501, 0x0601, 0x0203, 0x0201};

size_t hs_tls_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put8(&b, 0x16); /* handshake record */
    hs_put16(&b, 0x0301);
    size_t rec = hs_open16(&b);
    hs_put8(&b, 0x01); /* ClientHello */
    size_t hello = hs_open24(&b);
    hs_put16(&b, 0x0303);
    for (int i = 0; i < 32; i++) /* client random: fixed, varied by target */
        hs_put8(&b, (uint8_t)(i * 37 + 11 + (hs_addr32(&t->daddr) >> (8 * (i % 4))) + t->dport));
    hs_put8(&b, 32); /* legacy session id, as TLS 1.3 middlebox compatibility mode sends */
    for (int i = 0; i < 32; i++)
        hs_put8(&b, (uint8_t)(0xa0 + i));
    hs_put16(&b, sizeof suites);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        hs_put16(&b, suites[i]);
    hs_put8(&b, 1); /* compression: null only */
    hs_put8(&b, 0);
    size_t exts = hs_open16(&b);

    hs_put16(&b, 0x000a); /* supported_groups: x25519, P-256, P-384, P-521 */
    hs_put16(&b, 10);
    hs_put16(&b, 8);
    hs_put16(&b, 0x001d);
    hs_put16(&b, 0x0017);
    hs_put16(&b, 0x0018);
    hs_put16(&b, 0x0019);

    hs_put16(&b, 0x000b); /* ec_point_formats: uncompressed */
    hs_put16(&b, 2);
    hs_put8(&b, 1);
    hs_put8(&b, 0);

    hs_put16(&b, 0x000d); /* signature_algorithms */
    hs_put16(&b, (uint16_t)(sizeof sigalgs + 2));
    hs_put16(&b, sizeof sigalgs);
    for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
        hs_put16(&b, sigalgs[i]);

    hs_put16(&b, 0x002b); /* supported_versions: 1.3, 1.2, 1.1, 1.0 */
    hs_put16(&b, 9);
    hs_put8(&b, 8);
    hs_put16(&b, 0x0304);
    hs_put16(&b, 0x0303);
    hs_put16(&b, 0x0302);
    hs_put16(&b, 0x0301);

    hs_put16(&b, 0x0033); /* key_share: X25519, the curve's base point as public value */
    hs_put16(&b, 38);
    hs_put16(&b, 36);
    hs_put16(&b, 0x001d);
    hs_put16(&b, 32);
    hs_put8(&b, 9);
    for (int i = 1; i < 32; i++)
        hs_put8(&b, 0);

    hs_put16(&b, 0x002d); /* psk_key_exchange_modes: psk_dhe_ke */
    hs_put16(&b, 2);
    hs_put8(&b, 1);
    hs_put8(&b, 1);

    hs_put16(&b, 0x0017); /* extended_master_secret */
    hs_put16(&b, 0);
    hs_put16(&b, 0x0023); /* session_ticket */
    hs_put16(&b, 0);

    hs_close16(&b, exts);
    hs_close24(&b, hello);
    hs_close16(&b, rec);
    return hs_done(&b);
}

/* The HTTP 400 pages TLS servers send for plain HTTP on their TLS port. */
static bool plain_http_on_tls_port(const uint8_t *data, size_t len)
{
    size_t blen;
    const uint8_t *body;
    if (hs_status_line(data, len, "HTTP") != 400 || !(body = hs_body(data, len, &blen)))
        return false;
    return hs_contains(body, blen, "The plain HTTP request was sent to HTTPS port") ||
           hs_starts(body, blen, "Client sent an HTTP request to an HTTPS server") ||
           hs_contains(body, blen, "speaking plain HTTP to an SSL-enabled server port");
}

int hs_tls_classify(const uint8_t *data, size_t len)
{
    if (len >= 7 && (data[0] & 0x80) && data[2] == 0x04) {
        /* SSL 2 SERVER-HELLO: session-id-hit, certificate type X.509, version 0x0002 */
        size_t rl = (size_t)((data[0] & 0x7f) << 8 | data[1]);
        if (rl >= 11 && data[3] <= 1 && data[4] == 1 && hs_be16(data + 5) == 0x0002)
            return HS_TLS_SSL;
        return HS_TLS_NONE;
    }
    if (len < 6 || (data[0] != 0x15 && data[0] != 0x16) || data[1] != 3 || data[2] > 4)
        return HS_TLS_NONE;
    uint16_t rl = hs_be16(data + 3);
    int minor = data[2];
    if (data[0] == 0x15) {
        /* a plaintext alert: two bytes, level warning(1) or fatal(2), a defined description */
        if (rl != 2 || len < 7 || (data[5] != 1 && data[5] != 2) || data[6] > 120)
            return HS_TLS_NONE;
    } else {
        /* a ServerHello: at least version, random, session id length, suite, compression */
        if (rl < 4 || rl > 16384 + 2048 || data[5] != 0x02)
            return HS_TLS_NONE;
        if (len >= 9) {
            uint32_t hl = (uint32_t)data[6] << 16 | (uint32_t)data[7] << 8 | data[8];
            if (hl < 38 || hl > 0xffff)
                return HS_TLS_NONE;
        }
        if (len >= 11) {
            if (data[9] != 3 || data[10] > 3)
                return HS_TLS_NONE;
            minor = data[10];
        }
    }
    return minor == 0 ? HS_TLS_SSL : HS_TLS_TLS;
}

bool hs_tls_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    return hs_tls_classify(data, len) == HS_TLS_TLS || plain_http_on_tls_port(data, len);
}
