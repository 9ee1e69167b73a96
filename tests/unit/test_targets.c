/*
 * Unit tests for common/targets: entry parsing and its messages, allow/exclude/lift semantics,
 * the default blocklist and its error, counting and index → address mapping checked against a
 * brute-force model, and finalizing 10^5 entries quickly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/targets.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Sizes of the fourteen blocklist ranges, written out independently of the implementation. */
static const uint64_t RESERVED_TOTAL = (UINT64_C(1) << 24) * 3   /* 0/8, 10/8, 127/8 */
                                       + (UINT64_C(1) << 22)     /* 100.64/10 */
                                       + (UINT64_C(1) << 16) * 2 /* 169.254/16, 192.168/16 */
                                       + (UINT64_C(1) << 20)     /* 172.16/12 */
                                       + 256 * 4 /* 192.0.0/24, 192.0.2/24, 198.51.100/24,
                                                    203.0.113/24 */
                                       + (UINT64_C(1) << 17)      /* 198.18/15 */
                                       + (UINT64_C(1) << 28) * 2; /* 224/4, 240/4 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* targets_index_of inverts targets_at over a set with holes, and refuses addresses outside. */
static void test_index_of(void **state)
{
    (void)state;
    char err[256];
    targets_t *t = targets_new();
    assert_int_equal(targets_allow(t, "8.8.8.0/24, 9.9.9.9, 1.1.1.250-1.1.2.5", err, sizeof err),
                     LZR_OK);
    assert_int_equal(targets_exclude(t, "8.8.8.16/28", err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof err), LZR_OK);
    for (uint64_t i = 0; i < targets_count(t); i++)
        assert_int_equal(targets_index_of(t, targets_at(t, i)), (int64_t)i);
    assert_int_equal(targets_index_of(t, IP(8, 8, 8, 20)), -1);
    assert_int_equal(targets_index_of(t, IP(1, 1, 1, 249)), -1);
    assert_int_equal(targets_index_of(t, IP(9, 9, 9, 10)), -1);
    assert_int_equal(targets_index_of(t, IP(1, 1, 2, 0)), 6);
    targets_destroy(&t);
}

static void test_parse_forms(void **state)
{
    (void)state;
    uint32_t lo, hi;
    char err[256] = "";
    assert_int_equal(targets_parse_range("1.2.3.4", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(1, 2, 3, 4));
    assert_int_equal(hi, IP(1, 2, 3, 4));
    assert_int_equal(targets_parse_range("10.20.30.0/24", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(10, 20, 30, 0));
    assert_int_equal(hi, IP(10, 20, 30, 255));
    assert_int_equal(targets_parse_range("198.18.0.0/15", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(198, 18, 0, 0));
    assert_int_equal(hi, IP(198, 19, 255, 255));
    /* Host bits below the prefix are ignored: the whole network is meant. */
    assert_int_equal(targets_parse_range("1.2.3.77/28", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(1, 2, 3, 64));
    assert_int_equal(hi, IP(1, 2, 3, 79));
    assert_int_equal(targets_parse_range("0.0.0.0/0", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, UINT32_MAX);
    assert_int_equal(targets_parse_range("9.9.9.9/32", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(9, 9, 9, 9));
    assert_int_equal(hi, IP(9, 9, 9, 9));
    assert_int_equal(targets_parse_range("1.2.3.4-1.2.4.9", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, IP(1, 2, 3, 4));
    assert_int_equal(hi, IP(1, 2, 4, 9));
    assert_int_equal(targets_parse_range("5.5.5.5-5.5.5.5", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, hi);
    assert_int_equal(targets_parse_range("255.255.255.255", &lo, &hi, err, sizeof(err)), LZR_OK);
    assert_int_equal(lo, UINT32_MAX);
}

static void expect_bad_range(const char *spec, const char *needle)
{
    uint32_t lo = 7, hi = 7;
    char err[256] = "";
    int rc = targets_parse_range(spec, &lo, &hi, err, sizeof(err));
    if (rc != LZR_EPARSE || !strstr(err, needle))
        fail_msg("targets_parse_range(\"%s\") = %d (%s), want LZR_EPARSE and a message "
                 "containing %s",
                 spec, rc, err, needle);
    assert_int_equal(lo, 7);
    assert_int_equal(hi, 7);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    expect_bad_range("1.2.3", "\"1.2.3\"");
    expect_bad_range("1.2.3.4/33", "\"1.2.3.4/33\"");
    expect_bad_range("1.2.3.4/33", "33");
    expect_bad_range("1.2.3.256", "\"1.2.3.256\"");
    expect_bad_range("1.2.3.256", "256");
    expect_bad_range("5.5.5.5-1.1.1.1", "\"5.5.5.5-1.1.1.1\"");
    expect_bad_range("5.5.5.5-1.1.1.1", "reversed");
    expect_bad_range("", "\"\"");
    expect_bad_range("1.2.3.4.5", "\"1.2.3.4.5\"");
    expect_bad_range("1.2.3.4/", "\"1.2.3.4/\"");
    expect_bad_range("/24", "\"/24\"");
    expect_bad_range("1.2.3.4/2x", "\"1.2.3.4/2x\"");
    expect_bad_range("1.2.3.4-", "\"1.2.3.4-\"");
    expect_bad_range("1.2.3.4-1.2.3.5/24", "\"1.2.3.4-1.2.3.5/24\"");
    expect_bad_range("01.2.3.4", "leading zero");
    expect_bad_range("1.2.3.1000", "\"1.2.3.1000\"");
    expect_bad_range("a.b.c.d", "\"a.b.c.d\"");
    expect_bad_range(" 1.2.3.4", "\" 1.2.3.4\"");
    expect_bad_range("1..2.3", "\"1..2.3\"");
    expect_bad_range("-1.2.3.4", "\"-1.2.3.4\"");
    expect_bad_range("1.2.3.4\n", "\"1.2.3.4?\"");
}

static targets_t *finalized(const char *allow, const char *exclude, const char *lift)
{
    char err[512] = "";
    targets_t *t = targets_new();
    assert_non_null(t);
    if (lift)
        assert_int_equal(targets_lift_reserved(t, lift, err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_allow(t, allow, err, sizeof(err)), LZR_OK);
    if (exclude)
        assert_int_equal(targets_exclude(t, exclude, err, sizeof(err)), LZR_OK);
    int rc = targets_finalize(t, err, sizeof(err));
    if (rc != LZR_OK)
        fail_msg("finalize(%s) = %d: %s", allow, rc, err);
    return t;
}

static void test_allow_exclude(void **state)
{
    (void)state;
    /* Overlapping and adjacent entries merge; exclusions punch holes; order is ascending. */
    targets_t *t = finalized("1.1.1.0/24, 1.1.1.128-1.1.2.9\n8.8.8.8,8.8.8.9 1.1.0.255",
                             "1.1.1.10-1.1.1.19 1.1.2.9 9.9.9.9/8", NULL);
    /* 1.1.0.255 joins 1.1.1.0-1.1.2.9; minus 11 excluded addresses; plus the two 8.8.8.x. */
    assert_int_equal(targets_count(t), 1 + 256 + 9 - 10 + 2);
    assert_int_equal(targets_at(t, 0), IP(1, 1, 0, 255));
    assert_int_equal(targets_at(t, 1), IP(1, 1, 1, 0));
    assert_int_equal(targets_at(t, 10), IP(1, 1, 1, 9));
    assert_int_equal(targets_at(t, 11), IP(1, 1, 1, 20));
    assert_int_equal(targets_at(t, 1 + 256 + 9 - 10 - 1), IP(1, 1, 2, 8));
    assert_int_equal(targets_at(t, 1 + 256 + 9 - 10), IP(8, 8, 8, 8));
    assert_int_equal(targets_at(t, 1 + 256 + 9 - 10 + 1), IP(8, 8, 8, 9));
    assert_true(targets_contains(t, IP(1, 1, 1, 9)));
    assert_false(targets_contains(t, IP(1, 1, 1, 10)));
    assert_false(targets_contains(t, IP(1, 1, 1, 19)));
    assert_true(targets_contains(t, IP(1, 1, 1, 20)));
    assert_false(targets_contains(t, IP(1, 1, 2, 9)));
    assert_false(targets_contains(t, IP(1, 1, 0, 254)));
    assert_false(targets_contains(t, IP(8, 8, 8, 10)));
    assert_int_equal(targets_reserved_dropped(t), 0);
    targets_destroy(&t);
    assert_null(t);

    /* Exclude wins even over an identical allow entry; an exclusion may be reserved space. */
    t = finalized("20.0.0.0/8", "20.0.0.0/9 10.0.0.0/8", NULL);
    assert_int_equal(targets_count(t), 1u << 23);
    assert_int_equal(targets_at(t, 0), IP(20, 128, 0, 0));
    targets_destroy(&t);
}

static void test_reserved_error(void **state)
{
    (void)state;
    char err[512] = "";
    targets_t *t = targets_new();
    assert_int_equal(targets_allow(t, "198.18.1.0/24", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_ERESERVED);
    assert_non_null(strstr(err, "198.18.1.0/24"));
    assert_non_null(strstr(err, "reserved range 198.18.0.0/15"));
    assert_non_null(strstr(err, "--allow-reserved 198.18.0.0/15"));
    assert_non_null(strstr(err, "allow_reserved in the job file"));
    assert_int_equal(targets_count(t), 0);
    /* A failed finalize leaves the set open: lifting the range now lets it through. */
    assert_int_equal(targets_lift_reserved(t, "198.18.0.0/15", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_count(t), 256);
    assert_int_equal(targets_at(t, 0), IP(198, 18, 1, 0));
    assert_int_equal(targets_at(t, 255), IP(198, 18, 1, 255));
    assert_int_equal(targets_reserved_dropped(t), 0);
    targets_destroy(&t);

    /* The lab's order of calls: lift, then allow. */
    t = finalized("198.18.1.0/24", NULL, "198.18.0.0/15");
    assert_int_equal(targets_count(t), 256);
    targets_destroy(&t);

    /* A lift covers only what it names: half of 198.18/15 stays reserved. */
    t = targets_new();
    assert_int_equal(targets_lift_reserved(t, "198.18.0.0/16", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_allow(t, "198.18.5.0/24 198.19.1.1", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_ERESERVED);
    assert_non_null(strstr(err, "198.19.1.1 "));
    assert_non_null(strstr(err, "198.18.0.0/15"));
    targets_destroy(&t);

    t = finalized("198.18.0.0/15", NULL, "198.18.0.0/16");
    assert_int_equal(targets_count(t), 1u << 16);
    assert_int_equal(targets_reserved_dropped(t), 1u << 16);
    assert_false(targets_contains(t, IP(198, 19, 0, 0)));
    assert_true(targets_contains(t, IP(198, 18, 255, 255)));
    targets_destroy(&t);

    /* An entry spanning two reserved ranges names both. */
    t = targets_new();
    assert_int_equal(targets_allow(t, "224.0.0.0/3", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_ERESERVED);
    assert_non_null(strstr(err, "224.0.0.0/3"));
    assert_non_null(strstr(err, "--allow-reserved 224.0.0.0/4"));
    assert_non_null(strstr(err, "--allow-reserved 240.0.0.0/4"));
    targets_destroy(&t);

    /* A single reserved address, and a range written A-B. */
    t = targets_new();
    assert_int_equal(targets_allow(t, "1.1.1.1, 10.1.2.3-10.1.2.9", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_ERESERVED);
    assert_non_null(strstr(err, "10.1.2.3-10.1.2.9"));
    assert_non_null(strstr(err, "10.0.0.0/8"));
    targets_destroy(&t);

    /* Lifting space that is not reserved is refused, so typos do not go unnoticed. */
    t = targets_new();
    assert_int_equal(targets_lift_reserved(t, "8.8.8.0/24", err, sizeof(err)), LZR_EINVAL);
    assert_non_null(strstr(err, "8.8.8.0/24"));
    assert_int_equal(targets_lift_reserved(t, "1.2.3", err, sizeof(err)), LZR_EPARSE);
    targets_destroy(&t);
}

static void test_whole_internet(void **state)
{
    (void)state;
    targets_t *t = finalized("0.0.0.0/0", NULL, NULL);
    uint64_t want = (UINT64_C(1) << 32) - RESERVED_TOTAL;
    assert_int_equal(targets_count(t), want);
    assert_int_equal(targets_reserved_dropped(t), RESERVED_TOTAL);
    assert_int_equal(targets_at(t, 0), IP(1, 0, 0, 0));
    assert_int_equal(targets_at(t, want - 1), IP(223, 255, 255, 255));
    /* 1/8 .. 9/8 come first, then 11.0.0.0 follows 9.255.255.255. */
    assert_int_equal(targets_at(t, 9 * (UINT64_C(1) << 24) - 1), IP(9, 255, 255, 255));
    assert_int_equal(targets_at(t, 9 * (UINT64_C(1) << 24)), IP(11, 0, 0, 0));
    assert_true(targets_contains(t, IP(8, 8, 8, 8)));
    assert_true(targets_contains(t, IP(100, 63, 255, 255)));
    assert_false(targets_contains(t, IP(100, 64, 0, 0)));
    assert_false(targets_contains(t, IP(10, 1, 1, 1)));
    assert_false(targets_contains(t, IP(198, 18, 1, 1)));
    assert_false(targets_contains(t, IP(255, 255, 255, 255)));
    assert_false(targets_contains(t, 0));
    targets_destroy(&t);

    /* With every range lifted the set is all 2^32 addresses, including both ends. */
    t = finalized("0.0.0.0/0", NULL,
                  "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
                  "192.0.0.0/24 192.0.2.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 "
                  "203.0.113.0/24 224.0.0.0/4 240.0.0.0/4");
    assert_int_equal(targets_count(t), UINT64_C(1) << 32);
    assert_int_equal(targets_at(t, 0), 0);
    assert_int_equal(targets_at(t, UINT32_MAX), UINT32_MAX);
    assert_int_equal(targets_at(t, 123456789), 123456789);
    assert_int_equal(targets_reserved_dropped(t), 0);
    targets_destroy(&t);

    /* Partly reserved entries keep their public part. */
    t = finalized("10.0.0.0/7", NULL, NULL);
    assert_int_equal(targets_count(t), 1u << 24);
    assert_int_equal(targets_at(t, 0), IP(11, 0, 0, 0));
    assert_int_equal(targets_reserved_dropped(t), 1u << 24);
    targets_destroy(&t);

    t = finalized("255.255.255.255", NULL, "240.0.0.0/4");
    assert_int_equal(targets_count(t), 1);
    assert_int_equal(targets_at(t, 0), UINT32_MAX);
    assert_true(targets_contains(t, UINT32_MAX));
    targets_destroy(&t);
}

static void test_is_reserved(void **state)
{
    (void)state;
    static const struct {
        uint32_t addr;
        bool reserved;
    } cases[] = {
        {IP(0, 0, 0, 0), true},          {IP(0, 255, 255, 255), true},
        {IP(1, 0, 0, 0), false},         {IP(9, 255, 255, 255), false},
        {IP(10, 0, 0, 0), true},         {IP(11, 0, 0, 0), false},
        {IP(100, 63, 255, 255), false},  {IP(100, 64, 0, 0), true},
        {IP(100, 127, 255, 255), true},  {IP(100, 128, 0, 0), false},
        {IP(127, 0, 0, 1), true},        {IP(169, 253, 255, 255), false},
        {IP(169, 254, 1, 1), true},      {IP(169, 255, 0, 0), false},
        {IP(172, 15, 255, 255), false},  {IP(172, 16, 0, 0), true},
        {IP(172, 31, 255, 255), true},   {IP(172, 32, 0, 0), false},
        {IP(192, 0, 0, 7), true},        {IP(192, 0, 1, 0), false},
        {IP(192, 0, 2, 200), true},      {IP(192, 0, 3, 0), false},
        {IP(192, 168, 3, 3), true},      {IP(192, 169, 0, 0), false},
        {IP(198, 17, 255, 255), false},  {IP(198, 18, 0, 0), true},
        {IP(198, 19, 255, 255), true},   {IP(198, 20, 0, 0), false},
        {IP(198, 51, 100, 1), true},     {IP(198, 51, 101, 0), false},
        {IP(203, 0, 113, 9), true},      {IP(203, 0, 114, 0), false},
        {IP(223, 255, 255, 255), false}, {IP(224, 0, 0, 0), true},
        {IP(239, 255, 255, 255), true},  {IP(240, 0, 0, 0), true},
        {IP(255, 255, 255, 255), true},  {IP(8, 8, 8, 8), false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[16];
        if (targets_is_reserved(cases[i].addr) != cases[i].reserved)
            fail_msg("targets_is_reserved(%s) should be %d", targets_ntoa(cases[i].addr, buf),
                     cases[i].reserved);
    }
}

static void test_bad_entries(void **state)
{
    (void)state;
    char err[512] = "";
    targets_t *t = targets_new();
    /* A bad entry rejects the whole call, so the good entry before it is not kept either. */
    assert_int_equal(targets_allow(t, "1.1.1.1, 1.2.3", err, sizeof(err)), LZR_EPARSE);
    assert_non_null(strstr(err, "\"1.2.3\""));
    assert_int_equal(targets_allow(t, "1.2.3.4/33", err, sizeof(err)), LZR_EPARSE);
    assert_non_null(strstr(err, "\"1.2.3.4/33\""));
    assert_int_equal(targets_allow(t, "", err, sizeof(err)), LZR_EPARSE);
    assert_int_equal(targets_allow(t, " ,\n", err, sizeof(err)), LZR_EPARSE);
    assert_int_equal(targets_exclude(t, "5.5.5.5-1.1.1.1", err, sizeof(err)), LZR_EPARSE);
    assert_non_null(strstr(err, "\"5.5.5.5-1.1.1.1\""));
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_EEMPTY);
    targets_destroy(&t);

    /* Everything allowed is excluded: nothing to scan. */
    t = targets_new();
    assert_int_equal(targets_allow(t, "1.2.3.0/24", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_exclude(t, "1.2.0.0/16", err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_EEMPTY);
    assert_int_equal(targets_count(t), 0);
    /* No more changes once finalized. */
    assert_int_equal(targets_allow(t, "1.1.1.1", err, sizeof(err)), LZR_EINVAL);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_EINVAL);
    targets_destroy(&t);
    targets_destroy(&t); /* already NULL: a no-op */
}

static void test_ntoa(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(targets_ntoa(IP(192, 168, 0, 1), buf), "192.168.0.1");
    assert_string_equal(targets_ntoa(0, buf), "0.0.0.0");
    assert_string_equal(targets_ntoa(UINT32_MAX, buf), "255.255.255.255");
}

/* A tiny xorshift so the random tests are reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Random intervals in 1.0.0.0/14, checked address by address against a bitmap model. */
static void test_against_model(void **state)
{
    (void)state;
    const uint32_t base = IP(1, 0, 0, 0), span = 1u << 14;
    uint64_t s = 0x1234567;
    for (int round = 0; round < 20; round++) {
        uint8_t *model = calloc(span, 1);
        targets_t *t = targets_new();
        char spec[64], a[16], b[16], err[256];
        for (int k = 0; k < 30; k++) {
            uint32_t lo = (uint32_t)(rnd(&s) % span), len = (uint32_t)(rnd(&s) % 300);
            uint32_t hi = lo + len < span ? lo + len : span - 1;
            bool excl = rnd(&s) % 3 == 0;
            snprintf(spec, sizeof(spec), "%s-%s", targets_ntoa(base + lo, a),
                     targets_ntoa(base + hi, b));
            int rc = excl ? targets_exclude(t, spec, err, sizeof(err))
                          : targets_allow(t, spec, err, sizeof(err));
            assert_int_equal(rc, LZR_OK);
            for (uint32_t x = lo; x <= hi; x++)
                model[x] = excl ? 2 : (model[x] == 2 ? 2 : 1);
        }
        uint64_t want = 0;
        for (uint32_t x = 0; x < span; x++)
            want += model[x] == 1;
        int rc = targets_finalize(t, err, sizeof(err));
        if (want == 0) {
            assert_int_equal(rc, LZR_EEMPTY);
        } else {
            assert_int_equal(rc, LZR_OK);
            assert_int_equal(targets_count(t), want);
            uint64_t idx = 0;
            for (uint32_t x = 0; x < span; x++) {
                assert_int_equal(targets_contains(t, base + x), model[x] == 1);
                if (model[x] == 1)
                    assert_int_equal(targets_at(t, idx++), base + x);
            }
            assert_false(targets_contains(t, base - 1));
            assert_false(targets_contains(t, base + span));
        }
        targets_destroy(&t);
        free(model);
    }
}

/* 10^5 single addresses and 10^5 exclusions: finalize must sort and merge, not compare pairs. */
static void test_many_entries(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint32_t *addrs = malloc(N * sizeof(uint32_t));
    char *spec = malloc((size_t)N * 17);
    char *excl = malloc((size_t)N * 17);
    char err[256];
    uint64_t s = 42;
    size_t off = 0, eoff = 0;
    for (size_t i = 0; i < N; i++) {
        /* 1.0.0.0 - 9.255.255.255 holds no reserved space. */
        addrs[i] = IP(1, 0, 0, 0) + (uint32_t)(rnd(&s) % (9u << 24));
        off += (size_t)sprintf(spec + off, "%u.%u.%u.%u,", addrs[i] >> 24, (addrs[i] >> 16) & 255,
                               (addrs[i] >> 8) & 255, addrs[i] & 255);
        uint32_t e = IP(20, 0, 0, 0) + (uint32_t)(rnd(&s) % (1u << 24));
        eoff += (size_t)sprintf(excl + eoff, "%u.%u.%u.%u ", e >> 24, (e >> 16) & 255,
                                (e >> 8) & 255, e & 255);
    }
    spec[off - 1] = '\0';
    excl[eoff - 1] = '\0';
    qsort(addrs, N, sizeof(uint32_t), cmp_u32);
    size_t uniq = 0;
    for (size_t i = 0; i < N; i++)
        if (i == 0 || addrs[i] != addrs[i - 1])
            addrs[uniq++] = addrs[i];

    targets_t *t = targets_new();
    double t0 = now_s();
    assert_int_equal(targets_allow(t, spec, err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_exclude(t, excl, err, sizeof(err)), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof(err)), LZR_OK);
    double elapsed = now_s() - t0;
    if (elapsed > 1.0)
        fail_msg("parsing and finalizing 2*10^5 entries took %.3f s", elapsed);
    assert_int_equal(targets_count(t), uniq);
    for (size_t i = 0; i < uniq; i++)
        assert_int_equal(targets_at(t, i), addrs[i]);
    targets_destroy(&t);
    free(addrs);
    free(spec);
    free(excl);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A list file in ZMap's format: comments, blank lines, several entries on a line. */
static void test_read_file(void **state)
{
    (void)state;
    char err[512] = "", path[] = "/tmp/lzr-targets-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# opt-outs\n\n10.0.0.0/8   # a private network: a plain list takes it\n"
                     "  1.2.3.4 1.2.3.8-1.2.3.9,5.6.7.0/30\n\t# indented comment\n");
    targets_t *l = targets_new_list();
    assert_int_equal(targets_allow_file(l, path, err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(l, err, sizeof err), LZR_OK);
    assert_int_equal(targets_count(l), (1u << 24) + 1 + 2 + 4);
    assert_true(targets_contains(l, 0x0a010203));
    assert_true(targets_contains(l, 0x05060703));
    targets_destroy(&l);

    /* The same file as a blocklist: excluded, and counted. */
    targets_t *t = targets_new();
    assert_int_equal(targets_allow(t, "1.2.3.0/24", err, sizeof err), LZR_OK);
    assert_int_equal(targets_exclude_file(t, path, err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets_count(t), 256 - 3);
    assert_int_equal(targets_excluded(t), 3);
    assert_false(targets_contains(t, 0x01020304));
    targets_destroy(&t);

    /* A bad line names the file, the line and the value; nothing after it is added. */
    write_file(path, "1.2.3.4\n# fine\n1.2.3.x/24\n9.9.9.9\n");
    l = targets_new_list();
    assert_int_equal(targets_allow_file(l, path, err, sizeof err), LZR_EPARSE);
    char want[600];
    snprintf(want, sizeof want, "%s:3: \"1.2.3.x/24\" is not", path);
    assert_non_null(strstr(err, want));
    targets_destroy(&l);

    /* IPv6 lines are checked and leave an IPv4 set alone; a bad one is named like any other. */
    write_file(path, "2001:db8::/32 # documentation\n1.2.3.4 fe80::1\n");
    l = targets_new_list();
    assert_int_equal(targets_allow_file(l, path, err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(l, err, sizeof err), LZR_OK);
    assert_int_equal(targets_count(l), 1);
    targets_destroy(&l);
    write_file(path, "1.2.3.4\n2001:db8::/129\n");
    l = targets_new_list();
    assert_int_equal(targets_allow_file(l, path, err, sizeof err), LZR_EPARSE);
    snprintf(want, sizeof want, "%s:2: \"2001:db8::/129\"", path);
    assert_non_null(strstr(err, want));
    targets_destroy(&l);

    assert_int_equal(targets_read_file("/nonexistent/bl.conf", NULL, NULL, err, sizeof err),
                     LZR_EIO);
    assert_non_null(strstr(err, "/nonexistent/bl.conf: No such file"));
    unlink(path);
}

/* An allowlist narrows the targets: everything outside it is excluded. */
static void test_restrict(void **state)
{
    (void)state;
    char err[512] = "";
    targets_t *list = targets_new_list();
    assert_int_equal(
        targets_allow(list, "0.0.0.0/30 1.2.3.128/25 255.255.255.255", err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(list, err, sizeof err), LZR_OK);
    targets_t *t = targets_new();
    assert_int_equal(targets_allow(t, "1.2.0.0/16", err, sizeof err), LZR_OK);
    assert_int_equal(targets_restrict(t, list, err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof err), LZR_OK);
    assert_int_equal(targets_count(t), 128);
    assert_int_equal(targets_at(t, 0), 0x01020380);
    targets_destroy(&t);
    targets_destroy(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_of),       cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),  cmocka_unit_test(test_allow_exclude),
        cmocka_unit_test(test_reserved_error), cmocka_unit_test(test_whole_internet),
        cmocka_unit_test(test_is_reserved),    cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_ntoa),           cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_many_entries),   cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_restrict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
