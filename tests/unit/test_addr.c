/*
 * Unit tests for common/addr: which texts are IPv4 and IPv6 addresses, the host byte order of
 * IPv4 results and the network order of IPv6 ones, the canonical text written back (RFC 5952),
 * and equality.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"
#include "common/err.h"

static void test_parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        uint32_t v4;
    } rows[] = {
        {"198.18.0.1", LZR_OK, 0xC6120001u},
        {"0.0.0.0", LZR_OK, 0},
        {"255.255.255.255", LZR_OK, 0xFFFFFFFFu},
        {"10.0.0.255", LZR_OK, 0x0A0000FFu},
        {"256.0.0.1", LZR_EPARSE, 0},
        {"1.2.3", LZR_EPARSE, 0},
        {"1.2.3.4.5", LZR_EPARSE, 0},
        {"1.2.3.4 ", LZR_EPARSE, 0},
        {" 1.2.3.4", LZR_EPARSE, 0},
        {"1.2.3.4/32", LZR_EPARSE, 0},
        {"example.org", LZR_EPARSE, 0},
        {"", LZR_EPARSE, 0},
        {NULL, LZR_EPARSE, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lzr_addr_t a = {.family = ADDR_NONE, .v4 = 7};
        int rc = addr_parse(rows[i].text, &a);
        if (rc != rows[i].rc)
            fail_msg("\"%s\": %d, expected %d", rows[i].text ? rows[i].text : "(null)", rc,
                     rows[i].rc);
        assert_int_equal(a.family, rc == LZR_OK ? ADDR_IPV4 : ADDR_NONE);
        assert_int_equal(a.v4, rc == LZR_OK ? rows[i].v4 : 7);
        uint32_t v = 7;
        assert_int_equal(addr_parse_ipv4(rows[i].text, &v), rows[i].rc);
        assert_int_equal(v, rc == LZR_OK ? rows[i].v4 : 7);
    }
}

/* IPv6 text: what parses, the 16 bytes it gives, and what is refused. addr_parse_ipv4 refuses
 * every one of them. */
static void test_parse_ipv6(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        uint8_t v6[16];
    } rows[] = {
        {"2001:2:0:20::b", LZR_OK, {0x20, 0x01, 0, 2, 0, 0, 0, 0x20, [15] = 0x0b}},
        {"2001:0002:0000:0020:0000:0000:0000:000B",
         LZR_OK,
         {0x20, 0x01, 0, 2, 0, 0, 0, 0x20, [15] = 0x0b}},
        {"::", LZR_OK, {0}},
        {"::1", LZR_OK, {[15] = 1}},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         LZR_OK,
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff}},
        {"::ffff:198.18.0.1", LZR_OK, {[10] = 0xff, [11] = 0xff, [12] = 198, [13] = 18, [15] = 1}},
        {"2001:2::1:2:3:4:5", LZR_OK, {0x20, 0x01, 0, 2, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5}},
        {"2001:2::b/128", LZR_EPARSE, {0}},
        {"fe80::1%eth0", LZR_EPARSE, {0}},
        {"2001:2::b ", LZR_EPARSE, {0}},
        {" 2001:2::b", LZR_EPARSE, {0}},
        {"[2001:2::b]", LZR_EPARSE, {0}},
        {"2001:2::b::1", LZR_EPARSE, {0}},
        {"1:2:3:4:5:6:7:8:9", LZR_EPARSE, {0}},
        {"1:2:3:4:5:6:7", LZR_EPARSE, {0}},
        {"2001:2::10000", LZR_EPARSE, {0}},
        {"2001:2::g", LZR_EPARSE, {0}},
        {":::", LZR_EPARSE, {0}},
        {"::ffff:198.18.0.256", LZR_EPARSE, {0}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lzr_addr_t a = {.family = ADDR_NONE, .v4 = 7};
        int rc = addr_parse(rows[i].text, &a);
        if (rc != rows[i].rc)
            fail_msg("\"%s\": %d, expected %d", rows[i].text, rc, rows[i].rc);
        if (rc == LZR_OK) {
            assert_int_equal(a.family, ADDR_IPV6);
            assert_memory_equal(a.v6, rows[i].v6, 16);
        } else {
            assert_int_equal(a.family, ADDR_NONE);
            assert_int_equal(a.v4, 7);
        }
        uint32_t v = 7;
        assert_int_equal(addr_parse_ipv4(rows[i].text, &v), LZR_EPARSE);
        assert_int_equal(v, 7);
    }
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const char *texts[] = {"198.18.0.1", "0.0.0.0", "255.255.255.255", "10.20.30.40"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        lzr_addr_t a;
        char buf[ADDR_TEXT_MAX];
        assert_int_equal(addr_parse(texts[i], &a), LZR_OK);
        assert_string_equal(addr_format(&a, buf), texts[i]);
    }
    lzr_addr_t none = {0};
    char buf[ADDR_TEXT_MAX];
    assert_string_equal(addr_format(&none, buf), "-");
}

/* Any spelling of an IPv6 address comes back in RFC 5952's one form: lower case, no leading
 * zeros, the longest run of zero fields (the first of equal runs) as "::", never for a single
 * field, and IPv4-mapped addresses with their dotted quad. */
static void test_format_ipv6_canonical(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"2001:2:0:20:0:0:0:b", "2001:2:0:20::b"},
        {"2001:0002:0000:0020:0000:0000:0000:000B", "2001:2:0:20::b"},
        {"2001:2:0:0:1:0:0:1", "2001:2::1:0:0:1"},
        {"2001:2:0:1:1:1:1:1", "2001:2:0:1:1:1:1:1"},
        {"2001:2:0:0:0:1:0:0", "2001:2::1:0:0"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"2001:2:0:0:0:0:0:0", "2001:2::"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {"::FFFF:C612:1", "::ffff:198.18.0.1"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lzr_addr_t a, back;
        char buf[ADDR_TEXT_MAX];
        assert_int_equal(addr_parse(rows[i].in, &a), LZR_OK);
        assert_string_equal(addr_format(&a, buf), rows[i].out);
        assert_int_equal(addr_parse(buf, &back), LZR_OK);
        assert_true(addr_equal(&a, &back));
    }
    /* The longest text fits ADDR_TEXT_MAX with its NUL. */
    lzr_addr_t a;
    char buf[ADDR_TEXT_MAX];
    assert_int_equal(addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &a), LZR_OK);
    assert_string_equal(addr_format(&a, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(addr_parse("::ffff:255.255.255.255", &a), LZR_OK);
    assert_string_equal(addr_format(&a, buf), "::ffff:255.255.255.255");
}

/* Equality needs the same family and the same address; 198.18.0.1 and its IPv4-mapped IPv6 form
 * are different addresses to lzr. */
static void test_equal(void **state)
{
    (void)state;
    lzr_addr_t a, b, c, m;
    assert_int_equal(addr_parse("2001:2::b", &a), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:0::B", &b), LZR_OK);
    assert_int_equal(addr_parse("2001:2::c", &c), LZR_OK);
    assert_true(addr_equal(&a, &b));
    assert_false(addr_equal(&a, &c));
    for (int i = 0; i < 16; i++) {
        lzr_addr_t d = a;
        d.v6[i] ^= 0x01;
        assert_false(addr_equal(&a, &d));
    }
    lzr_addr_t v4 = {.family = ADDR_IPV4, .v4 = 0xC6120001u};
    lzr_addr_t v4b = {.family = ADDR_IPV4, .v4 = 0xC6120001u};
    assert_int_equal(addr_parse("::ffff:198.18.0.1", &m), LZR_OK);
    assert_true(addr_equal(&v4, &v4b));
    v4b.v4++;
    assert_false(addr_equal(&v4, &v4b));
    assert_false(addr_equal(&v4, &m));
    assert_false(addr_equal(&m, &v4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_ipv6),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_ipv6_canonical),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
