/*
 * kafka: an ApiVersions v0 request (api key 18) with correlation id "LZR!". The fingerprint is the
 * response: a size that covers at least the header, our correlation id echoed, error code 0 or
 * 35 (UNSUPPORTED_VERSION) and an api_versions array of 0 to 1000 entries whose first key is a
 * small api key. Kafka responses carry no magic, so the echoed id is the anchor.
 */
#include "worker/handshakes/hs_util.h"

#define KAFKA_CORRELATION 0x4c5a5221u

size_t hs_kafka_payload(const hs_target_t *t, uint8_t *buf, size_t cap)
{
    (void)t;
    hs_buf_t b = {.p = buf, .cap = cap};
    hs_put32(&b, 13);                /* size */
    hs_put16(&b, 18);                /* ApiVersions */
    hs_put16(&b, 0);                 /* version 0 */
    hs_put32(&b, KAFKA_CORRELATION); /* correlation id */
    hs_put16(&b, 3);                 /* client id */
    hs_putstr(&b, "lzr");
    return hs_done(&b);
}

bool hs_kafka_match(hs_reply_t *r)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    if (len < 10)
        return false;
    uint32_t size = hs_be32(data);
    uint16_t err = hs_be16(data + 8);
    if (size < 6 || size > (1u << 24) || hs_be32(data + 4) != KAFKA_CORRELATION)
        return false;
    if (err != 0 && err != 35)
        return false;
    if (len < 14)
        return true;
    uint32_t n = hs_be32(data + 10);
    return n <= 1000 && (n == 0 || len < 16 || hs_be16(data + 14) < 200);
}
