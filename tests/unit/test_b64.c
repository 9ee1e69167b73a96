/*
 * Unit tests for common/b64: the RFC 4648 §10 vectors both ways, buffer-size limits, rejection
 * of malformed input, and the encoder against libsodium's on every length and alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/b64.h"
#include "common/err.h"

static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_encode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *p = rfc4648[i].plain;
        char out[32];
        memset(out, 'X', sizeof(out));
        size_t n = b64_encode((const uint8_t *)p, strlen(p), out, sizeof(out));
        assert_int_equal(n, strlen(rfc4648[i].encoded));
        assert_string_equal(out, rfc4648[i].encoded);
        assert_int_equal(b64_encoded_size(strlen(p)), strlen(rfc4648[i].encoded) + 1);
    }
}

static void test_decode_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        uint8_t out[16];
        size_t n = 99;
        assert_int_equal(b64_decode(rfc4648[i].encoded, out, sizeof(out), &n), LZR_OK);
        assert_int_equal(n, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, n);
    }
}

static void test_encode_exact_capacity(void **state)
{
    (void)state;
    char out[9];
    /* "foobar" needs 8 characters and a NUL: 9 fits, 8 does not. */
    assert_int_equal(b64_encode((const uint8_t *)"foobar", 6, out, 9), 8);
    assert_string_equal(out, "Zm9vYmFy");
    assert_int_equal(b64_encode((const uint8_t *)"foobar", 6, out, 8), 0);
    assert_int_equal(b64_encode((const uint8_t *)"", 0, out, 0), 0);
}

static void test_binary_roundtrip(void **state)
{
    (void)state;
    uint8_t in[256], back[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)(255 - i);
    size_t n = b64_encode(in, sizeof(in), enc, sizeof(enc));
    assert_int_equal(n, 344); /* 4 * ceil(256 / 3) */
    size_t m = 0;
    assert_int_equal(b64_decode(enc, back, sizeof(back), &m), LZR_OK);
    assert_int_equal(m, 256);
    assert_memory_equal(in, back, 256);
}

/* The table encoder against libsodium's on every length up to 300 and every byte value: a wrong
 * table entry, shift or padding rule shows as a differing string. */
static void test_encode_matches_libsodium(void **state)
{
    (void)state;
    uint8_t in[300];
    char ours[b64_encoded_size(sizeof in)], theirs[sizeof ours];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof in; i++) {
        x = x * 1103515245u + 12345u;
        in[i] = i < 256 ? (uint8_t)i : (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t off = 0; off + n <= sizeof in; off += n ? n : 1) {
            size_t len = b64_encode(in + off, n, ours, sizeof ours);
            sodium_bin2base64(theirs, sizeof theirs, in + off, n, sodium_base64_VARIANT_ORIGINAL);
            assert_int_equal(len, strlen(theirs));
            assert_string_equal(ours, theirs);
        }
    }
}

static void test_decode_rejects(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    assert_int_equal(b64_decode("Zm9v!", out, sizeof(out), &n), LZR_EPARSE);
    assert_int_equal(b64_decode("Zg", out, sizeof(out), &n), LZR_EPARSE);   /* no padding */
    assert_int_equal(b64_decode("Zm9-", out, sizeof(out), &n), LZR_EPARSE); /* URL alphabet */
    assert_int_equal(b64_decode("Zm9vYmFy", out, 5, &n), LZR_EPARSE);       /* too small */
    assert_int_equal(b64_decode("Zm9vYmFy", out, 6, &n), LZR_OK);
    assert_int_equal(n, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648),
        cmocka_unit_test(test_decode_rfc4648),
        cmocka_unit_test(test_encode_exact_capacity),
        cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_encode_matches_libsodium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
