/*
 * cookie: the stateless SYN cookie of the discovery stage. One SipHash-2-4 (libsodium's
 * crypto_shorthash, 16-byte key, 8-byte tag) per connection gives the SYN's sequence number and
 * its source port, so a reply can be matched to a probe without any per-probe state.
 *
 * The hashed message is the two addresses as they go on the wire, then the port and salt, every
 * field big-endian:
 *   IPv4, 16 bytes: 0-3 saddr, 4-7 daddr, 8-9 dport, 10-11 zero, 12-15 salt;
 *   IPv6, 40 bytes: 0-15 saddr, 16-31 daddr, 32-33 dport, 34-35 zero, 36-39 salt.
 * The lengths differ, and SipHash mixes the length in, so the two families never share a
 * message.
 * The tag's first four bytes, read little-endian, are the sequence number; its last four, read
 * little-endian, pick the source port: sport_lo + (value mod (sport_hi - sport_lo + 1)).
 */
#include "cookie.h"
#include "text.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "err.h"

_Static_assert(crypto_shorthash_KEYBYTES == LZR_COOKIE_KEY_BYTES, "cookie key is a SipHash key");
_Static_assert(crypto_shorthash_BYTES == 8, "SipHash-2-4 gives 8 bytes");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void sodium_setup(void)
{
    sodium_status = sodium_init();
}

/* sodium_init is idempotent and thread safe, but it takes a lock; pthread_once keeps it off the
 * per-packet path. */
static int ensure_sodium(void)
{
    pthread_once(&sodium_once, sodium_setup);
    return sodium_status < 0 ? LZR_ESYS : LZR_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cookie_key_random(cookie_key_t *key)
{
    if (ensure_sodium() != LZR_OK)
        return LZR_ESYS;
    randombytes_buf(key->bytes, sizeof(key->bytes));
    return LZR_OK;
}

int cookie_key_for_shard(const cookie_key_t *job, uint32_t shard, cookie_key_t *out)
{
    if (ensure_sodium() != LZR_OK)
        return LZR_ESYS;
    static const uint8_t label[4] = {'s', 'h', 'r', 'd'};
    uint8_t msg[sizeof label + 4];
    memcpy(msg, label, sizeof label);
    put_be32(msg + sizeof label, shard);
    /* Two SipHash tags under the job key, over distinct inputs, make the 16-byte shard key. */
    crypto_shorthash(out->bytes, msg, sizeof msg, job->bytes);
    msg[0] ^= 0x80;
    crypto_shorthash(out->bytes + 8, msg, sizeof msg, job->bytes);
    return LZR_OK;
}

int cookie_key_from_hex(cookie_key_t *key, const char *hex)
{
    uint8_t tmp[LZR_COOKIE_KEY_BYTES];

    if (hex == NULL)
        return LZR_EPARSE;
    for (size_t i = 0; i < LZR_COOKIE_KEY_BYTES; i++) {
        /* A NUL is not a hex digit, so the low digit is never read past the terminator. */
        int hi = text_hex_digit(hex[2 * i]);
        int lo = hi < 0 ? -1 : text_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LZR_EPARSE;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    if (hex[2 * LZR_COOKIE_KEY_BYTES] != '\0')
        return LZR_EPARSE;
    memcpy(key->bytes, tmp, sizeof(tmp));
    return LZR_OK;
}

void cookie_key_to_hex(const cookie_key_t *key, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < LZR_COOKIE_KEY_BYTES; i++) {
        hex[2 * i] = digits[key->bytes[i] >> 4];
        hex[2 * i + 1] = digits[key->bytes[i] & 0x0f];
    }
    hex[2 * LZR_COOKIE_KEY_BYTES] = '\0';
}

/* Writes a's bytes as they go on the wire (4 or 16) at p; returns how many. */
static size_t put_addr(uint8_t *p, const lzr_addr_t *a)
{
    if (a->family == ADDR_IPV6) {
        memcpy(p, a->v6, sizeof a->v6);
        return sizeof a->v6;
    }
    put_be32(p, a->v4);
    return 4;
}

/* SipHash of the connection's addresses, port and salt, one message layout for both families. */
static void cookie_tag(const cookie_key_t *key, const lzr_addr_t *saddr, const lzr_addr_t *daddr,
                       uint16_t dport, uint32_t salt, uint8_t tag[crypto_shorthash_BYTES])
{
    assert(saddr->family == daddr->family &&
           (saddr->family == ADDR_IPV4 || saddr->family == ADDR_IPV6));
    uint8_t msg[2 * 16 + 8];
    size_t n = put_addr(msg, saddr);
    n += put_addr(msg + n, daddr);
    msg[n] = (uint8_t)(dport >> 8);
    msg[n + 1] = (uint8_t)dport;
    msg[n + 2] = msg[n + 3] = 0;
    put_be32(msg + n + 4, salt);
    crypto_shorthash(tag, msg, n + 8, key->bytes);
}

cookie_t cookie_make(const cookie_key_t *key, const lzr_addr_t *saddr, const lzr_addr_t *daddr,
                     uint16_t dport, uint32_t salt, uint16_t sport_lo, uint16_t sport_hi)
{
    uint8_t tag[crypto_shorthash_BYTES];
    cookie_t c;

    (void)ensure_sodium();
    cookie_tag(key, saddr, daddr, dport, 0, tag);
    /* The port is salt 0's plus the salt, so the handshakes of one target take successive ports:
     * a later SYN never lands on a 4-tuple an earlier handshake left half-open at the target,
     * which would answer it with an ACK for the old sequence instead of a SYN-ACK. An inverted
     * range is the caller's mistake; treat it as the single port sport_lo. */
    uint32_t span = sport_hi >= sport_lo ? (uint32_t)sport_hi - sport_lo + 1 : 1;
    c.sport = (uint16_t)(sport_lo + ((uint64_t)get_le32(tag + 4) + salt) % span);
    if (salt)
        cookie_tag(key, saddr, daddr, dport, salt, tag);
    c.seq = get_le32(tag);
    return c;
}

bool cookie_validate(const cookie_key_t *key, const lzr_addr_t *saddr, uint16_t sport,
                     const lzr_addr_t *daddr, uint16_t dport, uint32_t ack, uint32_t salt,
                     uint16_t sport_lo, uint16_t sport_hi)
{
    cookie_t c = cookie_make(key, saddr, daddr, dport, salt, sport_lo, sport_hi);
    return ack == c.seq + 1u && sport == c.sport;
}
