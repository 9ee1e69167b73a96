/*
 * Unit tests for common/text: quoting untrusted bytes into messages, hex digits, and members of
 * flat JSON objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/text.h"

static void test_quote(void **state)
{
    (void)state;
    char out[32];
    text_quote("22,80", 5, 16, out, sizeof out);
    assert_string_equal(out, "22,80");
    text_quote("a\nb\x01\xff", 5, 16, out, sizeof out);
    assert_string_equal(out, "a?b??");
    text_quote("0123456789abcdef", 16, 4, out, sizeof out);
    assert_string_equal(out, "0123...");
    /* Only n bytes are read, and a small buffer is never overrun. */
    text_quote("abcdef", 3, 16, out, sizeof out);
    assert_string_equal(out, "abc");
    char tiny[6];
    text_quote("abcdefgh", 8, 16, tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
}

static void test_hex_digit(void **state)
{
    (void)state;
    const char *digits = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        assert_int_equal(text_hex_digit(digits[i]), i);
        assert_int_equal(text_hex_digit(digits[i] >= 'a' ? digits[i] - 32 : digits[i]), i);
    }
    assert_int_equal(text_hex_digit('g'), -1);
    assert_int_equal(text_hex_digit('/'), -1);
    assert_int_equal(text_hex_digit(':'), -1);
    assert_int_equal(text_hex_digit('@'), -1);
}

static void test_json_member(void **state)
{
    (void)state;
    const char *obj = "{\"saddr\": \"198.18.0.1\", \"sport\":80,\"why\":\"\"}";
    const char *v;
    size_t n;
    assert_int_equal(text_json_member(obj, "saddr", &v, &n), LZR_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(v, "198.18.0.1", n);
    assert_int_equal(text_json_member(obj, "sport", &v, &n), LZR_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "80", n);
    assert_int_equal(text_json_member(obj, "why", &v, &n), LZR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(text_json_member(obj, "daddr", &v, &n), LZR_ENOTFOUND);
    assert_int_equal(text_json_member("{\"a\" 1}", "a", &v, &n), LZR_EPARSE);
    assert_int_equal(text_json_member("{\"a\":\"open", "a", &v, &n), LZR_EPARSE);
}

/* Numbers in decimal without printf, and names copied within their field. */
static void test_uint_and_copy(void **state)
{
    (void)state;
    char buf[TEXT_UINT_MAX + 1];
    static const struct {
        uint64_t v;
        const char *text;
    } rows[] = {
        {0, "0"}, {9, "9"}, {10, "10"}, {65535, "65535"}, {UINT64_MAX, "18446744073709551615"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = text_uint(buf, rows[i].v);
        buf[n] = '\0';
        assert_int_equal(n, strlen(rows[i].text));
        assert_string_equal(buf, rows[i].text);
    }
    char name[6];
    text_copy(name, sizeof name, "http");
    assert_string_equal(name, "http");
    text_copy(name, sizeof name, "memcached");
    assert_string_equal(name, "memca");
    text_copy(name, 1, "x");
    assert_string_equal(name, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_json_member),
        cmocka_unit_test(test_uint_and_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
