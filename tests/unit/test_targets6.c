/*
 * Unit tests for common/targets6: hitlists and small prefixes, the /112 limit, excludes, the
 * IPv6 special-purpose blocklist and lifting it, order, duplicates and lookups.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/targets6.h"

static struct in6_addr in6(const char *s)
{
    struct in6_addr a;
    assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
    return a;
}

static void assert_at(const targets6_t *t, uint64_t i, const char *want)
{
    char got[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, targets6_at(t, i), got, sizeof got);
    assert_string_equal(got, want);
}

/* A hitlist in any order with a repeat, and a /126, come out sorted and distinct. */
static void test_hitlist_and_prefix(void **state)
{
    (void)state;
    targets6_t *t = targets6_new();
    char err[256];
    assert_int_equal(targets6_allow(t, "2600::9, 2600::1 2600::9", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_allow(t, "2a00:1:2:3::/126", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets6_count(t), 6);
    assert_at(t, 0, "2600::1");
    assert_at(t, 1, "2600::9");
    assert_at(t, 2, "2a00:1:2:3::");
    assert_at(t, 5, "2a00:1:2:3::3");
    struct in6_addr a = in6("2a00:1:2:3::2"), b = in6("2a00:1:2:3::4");
    assert_int_equal(targets6_index_of(t, &a), 4);
    assert_int_equal(targets6_index_of(t, &b), -1);
    targets6_destroy(&t);
    assert_null(t);
}

/* /112 is the largest prefix expanded; a /111 is refused with a message naming the limit. */
static void test_prefix_limit(void **state)
{
    (void)state;
    targets6_t *t = targets6_new();
    char err[256];
    assert_int_equal(targets6_allow(t, "2600::/111", err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "\"2600::/111\""));
    assert_non_null(strstr(err, "/112"));
    assert_int_equal(targets6_allow(t, "2600::/112", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets6_count(t), 65536);
    assert_at(t, 65535, "2600::ffff");
    targets6_destroy(&t);
}

static void test_bad_entries(void **state)
{
    (void)state;
    targets6_t *t = targets6_new();
    char err[256];
    const char *bad[] = {"2600::g", "2600::1/129", "2600::1/", "2600::1/1x", "1.2.3.4", ":::"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(targets6_allow(t, bad[i], err, sizeof err), LZR_EPARSE);
        assert_non_null(strstr(err, bad[i]));
    }
    targets6_destroy(&t);
}

/* Excludes of any length win; what they take is counted. */
static void test_exclude(void **state)
{
    (void)state;
    targets6_t *t = targets6_new();
    char err[256];
    assert_int_equal(targets6_allow(t, "2600::/120 2601::5", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_exclude(t, "2600::80/121, 2601::/32", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_exclude(t, "2600::7f", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets6_count(t), 127);
    assert_int_equal(targets6_excluded(t), 128 + 1 + 1);
    assert_at(t, 126, "2600::7e");
    targets6_destroy(&t);
}

/* The benchmarking range is reserved: an entry wholly in it fails with how to lift it, and
 * lifting it (the lab's way) lets the entry through. */
static void test_reserved_and_lift(void **state)
{
    (void)state;
    char err[512];
    targets6_t *t = targets6_new();
    assert_int_equal(targets6_allow(t, "2001:2:0:20::b", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_ERESERVED);
    assert_non_null(strstr(err, "2001::/23"));
    assert_non_null(strstr(err, "--allow-reserved"));
    targets6_destroy(&t);

    t = targets6_new();
    assert_int_equal(targets6_allow(t, "2001:2:0:20::b fe80::1 2600::1", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_lift_reserved(t, "2001:2::/48", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_ERESERVED); /* fe80::1 */
    targets6_destroy(&t);

    t = targets6_new();
    assert_int_equal(targets6_allow(t, "2001:2:0:20::b 2600::1", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_lift_reserved(t, "2001:2::/48", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets6_count(t), 2);
    assert_at(t, 0, "2001:2:0:20::b");
    targets6_destroy(&t);

    const char *yes[] = {"::1",     "::",          "::ffff:198.18.0.1", "fe80::1", "fd00::1",
                         "ff02::1", "2001:db8::1", "3fff::1",           "2002::1", "64:ff9b::1"};
    const char *no[] = {"2600::1", "2a00::1", "2001:4860::8888", "2400:cb00::1"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        struct in6_addr a = in6(yes[i]);
        assert_true(targets6_is_reserved(&a));
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        struct in6_addr a = in6(no[i]);
        assert_false(targets6_is_reserved(&a));
    }
}

/* A /120 of which only half is lifted keeps that half and counts the other as dropped; an
 * entry the excludes take whole leaves nothing to scan. */
static void test_partly_reserved(void **state)
{
    (void)state;
    char err[256];
    targets6_t *t = targets6_new();
    assert_int_equal(targets6_allow(t, "2001:2::/120", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_lift_reserved(t, "2001:2::80/121", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets6_count(t), 128);
    assert_int_equal(targets6_reserved_dropped(t), 128);
    assert_at(t, 0, "2001:2::80");
    targets6_destroy(&t);
    t = targets6_new();
    assert_int_equal(targets6_allow(t, "2600::1", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_exclude(t, "2600::1", err, sizeof err), LZR_OK);
    assert_int_equal(targets6_finalize(t, err, sizeof err), LZR_EEMPTY);
    targets6_destroy(&t);
}

static void test_is_entry(void **state)
{
    (void)state;
    assert_true(targets6_is_entry("2001:2::1"));
    assert_true(targets6_is_entry("::1"));
    assert_false(targets6_is_entry("198.18.0.1"));
    assert_false(targets6_is_entry("198.18.0.0/15"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hitlist_and_prefix), cmocka_unit_test(test_prefix_limit),
        cmocka_unit_test(test_bad_entries),        cmocka_unit_test(test_exclude),
        cmocka_unit_test(test_reserved_and_lift),  cmocka_unit_test(test_partly_reserved),
        cmocka_unit_test(test_is_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
