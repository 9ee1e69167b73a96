/*
 * Unit tests for common/cookie: libsodium's crypto_shorthash against the SipHash paper's
 * SipHash-2-4 vector and against a reference SipHash written here from the paper, the exact
 * message layout of cookie_make for both families, IPv4 values pinned from before IPv6 joined,
 * sensitivity to every input (each byte of an IPv6 address), the source-port range, and
 * cookie_validate's acceptance rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/addr.h"
#include "common/cookie.h"
#include "common/err.h"

/* Reference SipHash-2-4 (Aumasson and Bernstein, 2012), kept apart from libsodium so the two
 * can check each other. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13) ^ v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17) ^ v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t ref_siphash24(const uint8_t key[16], const uint8_t *m, size_t len)
{
    uint64_t k0 = le64(key, 8), k1 = le64(key + 8, 8);
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    size_t full = len / 8 * 8;
    for (size_t i = 0; i <= full; i += 8) {
        uint64_t w;
        if (i < full)
            w = le64(m + i, 8);
        else
            w = le64(m + i, len - full) | (uint64_t)(len & 0xff) << 56;
        v[3] ^= w;
        sip_round(v);
        sip_round(v);
        v[0] ^= w;
    }
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static cookie_key_t key_a, key_b;

/* cookie_make and cookie_validate for IPv4 addresses given in host order. */
static cookie_t mk4(const cookie_key_t *k, uint32_t s, uint32_t d, uint16_t dport, uint32_t salt,
                    uint16_t lo, uint16_t hi)
{
    lzr_addr_t sa = {.family = ADDR_IPV4, .v4 = s}, da = {.family = ADDR_IPV4, .v4 = d};
    return cookie_make(k, &sa, &da, dport, salt, lo, hi);
}

static bool ok4(const cookie_key_t *k, uint32_t s, uint16_t sport, uint32_t d, uint16_t dport,
                uint32_t ack, uint32_t salt, uint16_t lo, uint16_t hi)
{
    lzr_addr_t sa = {.family = ADDR_IPV4, .v4 = s}, da = {.family = ADDR_IPV4, .v4 = d};
    return cookie_validate(k, &sa, sport, &da, dport, ack, salt, lo, hi);
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 16; i++) {
        key_a.bytes[i] = (uint8_t)i;
        key_b.bytes[i] = (uint8_t)(0xf0 + i);
    }
    return sodium_init() < 0 ? -1 : 0;
}

static void test_siphash_paper_vector(void **state)
{
    (void)state;
    uint8_t key[16], msg[15], out[8];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_int_equal(crypto_shorthash(out, msg, sizeof(msg), key), 0);
    /* The paper's Appendix A gives the tag as the 64-bit value a129ca6149be45e5; the output
     * bytes are that value little-endian. */
    static const uint8_t want[8] = {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1};
    assert_memory_equal(out, want, 8);
    assert_true(le64(out, 8) == 0xa129ca6149be45e5ULL);
    assert_true(ref_siphash24(key, msg, sizeof(msg)) == 0xa129ca6149be45e5ULL);
}

static void test_siphash_matches_reference(void **state)
{
    (void)state;
    uint8_t msg[64], out[8];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(msg); len++) {
        crypto_shorthash(out, msg, len, key_b.bytes);
        assert_true(le64(out, 8) == ref_siphash24(key_b.bytes, msg, len));
    }
}

static void test_make_layout(void **state)
{
    (void)state;
    uint32_t saddr = 0xc6120001, daddr = 0xc6130a0b, salt = 0x01020304;
    uint16_t dport = 8080;
    uint8_t msg[16] = {0xc6, 0x12, 0x00, 0x01, 0xc6, 0x13, 0x0a, 0x0b,
                       0x1f, 0x90, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};
    uint64_t h = ref_siphash24(key_a.bytes, msg, sizeof(msg));
    memset(msg + 12, 0, 4);
    uint64_t h0 = ref_siphash24(key_a.bytes, msg, sizeof(msg));
    cookie_t c = mk4(&key_a, saddr, daddr, dport, salt, 40000, 65535);
    assert_int_equal(c.seq, (uint32_t)h);
    assert_int_equal(c.sport, 40000 + ((h0 >> 32) + salt) % 25536);
    c = mk4(&key_a, saddr, daddr, dport, 0, 40000, 65535);
    assert_int_equal(c.seq, (uint32_t)h0);
    assert_int_equal(c.sport, 40000 + (h0 >> 32) % 25536);
}

/* A target's handshakes (salts 0, 1, 2 …) never share a source port while there are ports
 * enough, also where the range wraps: an earlier handshake's half-open connection at the target
 * would swallow the later SYN. */
static void test_successive_salts_distinct_ports(void **state)
{
    (void)state;
    for (uint32_t d = 0; d < 200; d++) {
        uint8_t seen[8] = {0};
        for (uint32_t salt = 0; salt < 8; salt++) {
            cookie_t c = mk4(&key_a, 7, d, 80, salt, 50000, 50007);
            assert_true(c.sport >= 50000 && c.sport <= 50007);
            assert_int_equal(seen[c.sport - 50000], 0);
            seen[c.sport - 50000] = 1;
        }
        cookie_t c0 = mk4(&key_a, 7, d, 80, 0, 40000, 65535);
        cookie_t c3 = mk4(&key_a, 7, d, 80, 3, 40000, 65535);
        assert_int_equal((c3.sport - 40000 + 25536 - (c0.sport - 40000)) % 25536, 3);
    }
}

static void test_make_deterministic_and_sensitive(void **state)
{
    (void)state;
    uint32_t s = 0xc6120001, d = 0xc6130005, salt = 7;
    uint16_t p = 443;
    cookie_t base = mk4(&key_a, s, d, p, salt, 40000, 65535);
    cookie_t again = mk4(&key_a, s, d, p, salt, 40000, 65535);
    assert_int_equal(base.seq, again.seq);
    assert_int_equal(base.sport, again.sport);

    cookie_t v[5] = {
        mk4(&key_b, s, d, p, salt, 40000, 65535),     mk4(&key_a, s + 1, d, p, salt, 40000, 65535),
        mk4(&key_a, s, d + 1, p, salt, 40000, 65535), mk4(&key_a, s, d, p + 1, salt, 40000, 65535),
        mk4(&key_a, s, d, p, salt + 1, 40000, 65535),
    };
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(v[i].seq, base.seq);
    /* Source ports collide by chance 1 in 25536; over five changes at least one must differ. */
    int differ = 0;
    for (int i = 0; i < 5; i++)
        differ += v[i].sport != base.sport;
    assert_true(differ >= 4);
}

static void test_sport_range(void **state)
{
    (void)state;
    int seen_lo = 0, seen_hi = 0;
    for (uint32_t d = 0; d < 2000; d++) {
        cookie_t c = mk4(&key_a, 1, d, 80, 0, 50000, 50003);
        assert_true(c.sport >= 50000 && c.sport <= 50003);
        seen_lo |= c.sport == 50000;
        seen_hi |= c.sport == 50003;
        c = mk4(&key_a, 1, d, 80, 0, 61000, 61000);
        assert_int_equal(c.sport, 61000);
        c = mk4(&key_a, 1, d, 80, 0, 0, 65535);
        (void)c; /* every uint16_t is in range; this must simply not misbehave */
        c = mk4(&key_a, 1, d, 80, 0, 65535, 65535);
        assert_int_equal(c.sport, 65535);
    }
    assert_true(seen_lo && seen_hi);
}

static void test_validate(void **state)
{
    (void)state;
    uint32_t s = 0xc6120001, d = 0xc6130005, salt = 3;
    uint16_t p = 22;
    cookie_t c = mk4(&key_a, s, d, p, salt, 40000, 65535);
    assert_true(ok4(&key_a, s, c.sport, d, p, c.seq + 1, salt, 40000, 65535));
    assert_false(ok4(&key_a, s, c.sport, d, p, c.seq, salt, 40000, 65535));
    assert_false(ok4(&key_a, s, c.sport, d, p, c.seq + 2, salt, 40000, 65535));
    uint16_t other = c.sport == 65535 ? 40000 : c.sport + 1;
    assert_false(ok4(&key_a, s, other, d, p, c.seq + 1, salt, 40000, 65535));
    assert_false(ok4(&key_a, s, c.sport, d, p, c.seq + 1, salt + 1, 40000, 65535));
    assert_false(ok4(&key_b, s, c.sport, d, p, c.seq + 1, salt, 40000, 65535));
    assert_false(ok4(&key_a, s, c.sport, d, p + 1, c.seq + 1, salt, 40000, 65535));
}

/* IPv4 cookies as the engine and coordinator compute them: these values were computed by
 * cookie.c before IPv6 joined, and must never change (workers of two builds share a job). */
static void test_ipv4_pinned(void **state)
{
    (void)state;
    static const struct {
        uint32_t salt, seq;
        uint16_t sport;
    } rows[] = {
        {0, 0x9d61c512u, 58710},
        {1, 0x592de19fu, 58711},
        {0x01020304u, 0x9c081e8fu, 62938},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cookie_t c = mk4(&key_a, 0xc6120001, 0xc6130a0b, 8080, rows[i].salt, 40000, 65535);
        assert_int_equal(c.seq, rows[i].seq);
        assert_int_equal(c.sport, rows[i].sport);
    }
}

static lzr_addr_t v6(const char *text)
{
    lzr_addr_t a;
    assert_int_equal(addr_parse(text, &a), LZR_OK);
    assert_int_equal(a.family, ADDR_IPV6);
    return a;
}

/* The IPv6 message: both 16-byte addresses, the port, two zero bytes, the salt; 40 bytes. */
static void test_make_layout_v6(void **state)
{
    (void)state;
    lzr_addr_t s = v6("2001:2::1"), d = v6("2001:2:0:20::b");
    uint32_t salt = 0x01020304;
    uint8_t msg[40] = {0x20, 0x01, 0x00, 0x02, [15] = 0x01, 0x20,        0x01, 0x00,
                       0x02, 0x00, 0x00, 0x00, 0x20,        [31] = 0x0b, 0x1f, 0x90,
                       0x00, 0x00, 0x01, 0x02, 0x03,        0x04};
    uint64_t h = ref_siphash24(key_a.bytes, msg, sizeof(msg));
    memset(msg + 36, 0, 4);
    uint64_t h0 = ref_siphash24(key_a.bytes, msg, sizeof(msg));
    cookie_t c = cookie_make(&key_a, &s, &d, 8080, salt, 40000, 65535);
    assert_int_equal(c.seq, (uint32_t)h);
    assert_int_equal(c.sport, 40000 + ((h0 >> 32) + salt) % 25536);
    c = cookie_make(&key_a, &s, &d, 8080, 0, 40000, 65535);
    assert_int_equal(c.seq, (uint32_t)h0);
    assert_int_equal(c.sport, 40000 + (h0 >> 32) % 25536);
}

/* An IPv6 reply validates; the same reply with any one byte of either address changed, or from
 * the IPv4-mapped twin of an IPv4 target, does not. */
static void test_validate_v6(void **state)
{
    (void)state;
    lzr_addr_t s = v6("2001:2::1"), d = v6("2001:2:0:20::b");
    uint16_t p = 443;
    uint32_t salt = 5;
    cookie_t c = cookie_make(&key_a, &s, &d, p, salt, 40000, 65535);
    assert_true(cookie_validate(&key_a, &s, c.sport, &d, p, c.seq + 1, salt, 40000, 65535));
    assert_false(cookie_validate(&key_a, &s, c.sport, &d, p, c.seq, salt, 40000, 65535));
    assert_false(cookie_validate(&key_b, &s, c.sport, &d, p, c.seq + 1, salt, 40000, 65535));
    assert_false(cookie_validate(&key_a, &s, c.sport, &d, p + 1, c.seq + 1, salt, 40000, 65535));
    assert_false(cookie_validate(&key_a, &s, c.sport, &d, p, c.seq + 1, salt + 1, 40000, 65535));
    for (int i = 0; i < 16; i++) {
        for (uint8_t bit = 1; bit; bit = (uint8_t)(bit << 1)) {
            lzr_addr_t s2 = s, d2 = d;
            s2.v6[i] ^= bit;
            d2.v6[i] ^= bit;
            cookie_t cs = cookie_make(&key_a, &s2, &d, p, salt, 40000, 65535);
            cookie_t cd = cookie_make(&key_a, &s, &d2, p, salt, 40000, 65535);
            assert_int_not_equal(cs.seq, c.seq);
            assert_int_not_equal(cd.seq, c.seq);
            assert_false(
                cookie_validate(&key_a, &s2, c.sport, &d, p, c.seq + 1, salt, 40000, 65535));
            assert_false(
                cookie_validate(&key_a, &s, c.sport, &d2, p, c.seq + 1, salt, 40000, 65535));
        }
    }
    /* Swapping the two addresses is another connection. */
    assert_false(cookie_validate(&key_a, &d, c.sport, &s, p, c.seq + 1, salt, 40000, 65535));

    /* 198.18.0.1 -> 198.19.10.11 and ::ffff:198.18.0.1 -> ::ffff:198.19.10.11 hash apart. */
    lzr_addr_t ms = v6("::ffff:198.18.0.1"), md = v6("::ffff:198.19.10.11");
    cookie_t c4 = mk4(&key_a, 0xc6120001, 0xc6130a0b, 80, 0, 40000, 65535);
    cookie_t cm = cookie_make(&key_a, &ms, &md, 80, 0, 40000, 65535);
    assert_int_not_equal(c4.seq, cm.seq);
    assert_false(cookie_validate(&key_a, &ms, c4.sport, &md, 80, c4.seq + 1, 0, 40000, 65535));
}

/* Successive salts of an IPv6 target take successive ports, as over IPv4. */
static void test_salts_v6(void **state)
{
    (void)state;
    lzr_addr_t s = v6("2001:2::1"), d = v6("2001:2:0:20::b");
    cookie_t c0 = cookie_make(&key_a, &s, &d, 80, 0, 40000, 65535);
    for (uint32_t salt = 1; salt < 8; salt++) {
        cookie_t c = cookie_make(&key_a, &s, &d, 80, salt, 40000, 65535);
        assert_int_equal((c.sport - 40000 + 25536 - (c0.sport - 40000)) % 25536, salt);
        assert_int_not_equal(c.seq, c0.seq);
        assert_true(cookie_validate(&key_a, &s, c.sport, &d, 80, c.seq + 1, salt, 40000, 65535));
    }
}

static void test_key_hex(void **state)
{
    (void)state;
    char hex[33];
    cookie_key_to_hex(&key_b, hex);
    assert_string_equal(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    cookie_key_t k;
    assert_int_equal(cookie_key_from_hex(&k, "F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"), LZR_OK);
    assert_memory_equal(k.bytes, key_b.bytes, 16);
    assert_int_equal(cookie_key_from_hex(&k, "000102030405060708090a0b0c0d0e0f"), LZR_OK);
    assert_memory_equal(k.bytes, key_a.bytes, 16);

    cookie_key_t untouched = key_b;
    assert_int_equal(cookie_key_from_hex(&untouched, "000102030405060708090a0b0c0d0e0"),
                     LZR_EPARSE);
    assert_int_equal(cookie_key_from_hex(&untouched, "000102030405060708090a0b0c0d0e0f0"),
                     LZR_EPARSE);
    assert_int_equal(cookie_key_from_hex(&untouched, "0001020304050607080g0a0b0c0d0e0f"),
                     LZR_EPARSE);
    assert_int_equal(cookie_key_from_hex(&untouched, ""), LZR_EPARSE);
    assert_int_equal(cookie_key_from_hex(&untouched, NULL), LZR_EPARSE);
    assert_memory_equal(untouched.bytes, key_b.bytes, 16);
}

static void test_key_random(void **state)
{
    (void)state;
    cookie_key_t a, b;
    static const uint8_t zero[16];
    assert_int_equal(cookie_key_random(&a), LZR_OK);
    assert_int_equal(cookie_key_random(&b), LZR_OK);
    assert_memory_not_equal(a.bytes, b.bytes, 16);
    assert_memory_not_equal(a.bytes, zero, 16);
}

/* Shard keys: deterministic, distinct per shard and per job, and a reply to a SYN of shard 1
 * does not validate under shard 2's key. */
static void test_key_for_shard(void **state)
{
    (void)state;
    cookie_key_t job, other, k1, k1b, k2, k1o;
    assert_int_equal(cookie_key_from_hex(&job, "000102030405060708090a0b0c0d0e0f"), LZR_OK);
    assert_int_equal(cookie_key_from_hex(&other, "100102030405060708090a0b0c0d0e0f"), LZR_OK);
    assert_int_equal(cookie_key_for_shard(&job, 1, &k1), LZR_OK);
    assert_int_equal(cookie_key_for_shard(&job, 1, &k1b), LZR_OK);
    assert_int_equal(cookie_key_for_shard(&job, 2, &k2), LZR_OK);
    assert_int_equal(cookie_key_for_shard(&other, 1, &k1o), LZR_OK);
    assert_memory_equal(k1.bytes, k1b.bytes, sizeof k1.bytes);
    assert_memory_not_equal(k1.bytes, k2.bytes, sizeof k1.bytes);
    assert_memory_not_equal(k1.bytes, k1o.bytes, sizeof k1.bytes);
    assert_memory_not_equal(k1.bytes, job.bytes, sizeof k1.bytes);
    assert_memory_not_equal(k1.bytes + 8, k1.bytes, 8);
    cookie_t c = mk4(&k1, 0xC6120000u, 0xC6122011u, 80, 0, 40000, 65535);
    assert_true(ok4(&k1, 0xC6120000u, c.sport, 0xC6122011u, 80, c.seq + 1, 0, 40000, 65535));
    assert_false(ok4(&k2, 0xC6120000u, c.sport, 0xC6122011u, 80, c.seq + 1, 0, 40000, 65535));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_paper_vector),
        cmocka_unit_test(test_siphash_matches_reference),
        cmocka_unit_test(test_make_layout),
        cmocka_unit_test(test_successive_salts_distinct_ports),
        cmocka_unit_test(test_make_deterministic_and_sensitive),
        cmocka_unit_test(test_sport_range),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_ipv4_pinned),
        cmocka_unit_test(test_make_layout_v6),
        cmocka_unit_test(test_validate_v6),
        cmocka_unit_test(test_salts_v6),
        cmocka_unit_test(test_key_hex),
        cmocka_unit_test(test_key_random),
        cmocka_unit_test(test_key_for_shard),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
