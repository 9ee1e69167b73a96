/*
 * Unit tests for common/addr: which texts are IPv4 addresses, the host byte order of the
 * result, and the text written back.
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
        {"::1", LZR_EPARSE, 0}, /* IPv6 does not parse yet */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
