/*
 * Unit tests for common/ports: the port list text of a job file or the command line, its order
 * and de-duplication, and the messages that name a bad item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/ports.h"

static void test_list_and_range(void **state)
{
    (void)state;
    port_list_t l;
    char err[256] = "";
    assert_int_equal(ports_parse("22,80,8000-8100", &l, err, sizeof(err)), LZR_OK);
    assert_int_equal(l.n, 2 + 101);
    assert_int_equal(l.ports[0], 22);
    assert_int_equal(l.ports[1], 80);
    assert_int_equal(l.ports[2], 8000);
    assert_int_equal(l.ports[102], 8100);
    for (size_t i = 2; i < l.n; i++)
        assert_int_equal(l.ports[i], 8000 + (i - 2));
    ports_free(&l);
    assert_null(l.ports);
    assert_int_equal(l.n, 0);
}

static void test_order_and_duplicates(void **state)
{
    (void)state;
    port_list_t l;
    char err[256] = "";
    /* First appearance wins: 443 stays ahead of 22 although 22 comes again later. */
    assert_int_equal(ports_parse("443, 22 ,80-82,81,22,443,1", &l, err, sizeof(err)), LZR_OK);
    const uint16_t want[] = {443, 22, 80, 81, 82, 1};
    assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < l.n; i++)
        assert_int_equal(l.ports[i], want[i]);
    ports_free(&l);
}

static void test_extremes(void **state)
{
    (void)state;
    port_list_t l;
    char err[256] = "";
    assert_int_equal(ports_parse("1-65535", &l, err, sizeof(err)), LZR_OK);
    assert_int_equal(l.n, 65535);
    assert_int_equal(l.ports[0], 1);
    assert_int_equal(l.ports[65534], 65535);
    ports_free(&l);
    assert_int_equal(ports_parse("65535", &l, err, sizeof(err)), LZR_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ports[0], 65535);
    ports_free(&l);
    assert_int_equal(ports_parse("7-7", &l, err, sizeof(err)), LZR_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ports[0], 7);
    ports_free(&l);
}

/* Each bad spec must fail with the expected code, leave out empty, and quote the bad item. */
static void expect_bad(const char *spec, int code, const char *quoted)
{
    port_list_t l = {(uint16_t *)0x1, 99};
    char err[256] = "";
    int rc = ports_parse(spec, &l, err, sizeof(err));
    if (rc != code || !strstr(err, quoted))
        fail_msg("ports_parse(\"%s\") = %d (%s), want %d and a message containing %s", spec, rc,
                 err, code, quoted);
    assert_null(l.ports);
    assert_int_equal(l.n, 0);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_bad("0", LZR_ERANGE, "\"0\" is not a port (1-65535)");
    expect_bad("22,70000", LZR_ERANGE, "\"70000\" is not a port (1-65535)");
    expect_bad("65536", LZR_ERANGE, "\"65536\"");
    expect_bad("99999999999999999999999", LZR_ERANGE, "\"99999999999999999999999\"");
    expect_bad("90-80", LZR_ERANGE, "\"90-80\"");
    expect_bad("90-80", LZR_ERANGE, "reversed");
    expect_bad("80-70000", LZR_ERANGE, "\"80-70000\": 70000 is not a port");
    expect_bad("0-10", LZR_ERANGE, "\"0-10\"");
    expect_bad("22,,80", LZR_EPARSE, "\"22,,80\"");
    expect_bad("22,,80", LZR_EPARSE, "item 2");
    expect_bad("22,", LZR_EPARSE, "empty");
    expect_bad(",22", LZR_EPARSE, "item 1");
    expect_bad("http", LZR_EPARSE, "\"http\"");
    expect_bad("22,http,80", LZR_EPARSE, "\"http\"");
    expect_bad("80-", LZR_EPARSE, "\"80-\"");
    expect_bad("-80", LZR_EPARSE, "\"-80\"");
    expect_bad("1-2-3", LZR_EPARSE, "\"1-2-3\"");
    expect_bad("+80", LZR_EPARSE, "\"+80\"");
    expect_bad("8 0", LZR_EPARSE, "\"8 0\"");
    expect_bad("", LZR_EPARSE, "empty");
    expect_bad("   ", LZR_EPARSE, "empty");
}

static void test_null_buffers(void **state)
{
    (void)state;
    port_list_t l;
    /* A caller without an error buffer still gets the code, and nothing crashes. */
    assert_int_equal(ports_parse("http", &l, NULL, 0), LZR_EPARSE);
    assert_int_equal(ports_parse(NULL, &l, NULL, 0), LZR_EINVAL);
    assert_int_equal(ports_parse("80", NULL, NULL, 0), LZR_EINVAL);
    ports_free(NULL);
}

/* --source-ports: one "LO-HI" range, strict; each row is text, the lowest LO allowed, and the
 * expected result (lo, hi when it parses). */
static void test_source_range(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint16_t min;
        int rc;
        uint16_t lo, hi;
    } rows[] = {
        {"40000-65535", 1024, LZR_OK, 40000, 65535},
        {"1024-1024", 1024, LZR_OK, 1024, 1024},
        {"30000-31000", 1024, LZR_OK, 30000, 31000},
        {"1-2", 1, LZR_OK, 1, 2},
        {"1023-2000", 1024, LZR_EPARSE, 0, 0},
        {"2000-1999", 1024, LZR_EPARSE, 0, 0},
        {"40000-65536", 1024, LZR_EPARSE, 0, 0},
        {"40000-99999", 1024, LZR_EPARSE, 0, 0},
        {"40000-100000", 1024, LZR_EPARSE, 0, 0},
        {"40000", 1024, LZR_EPARSE, 0, 0},
        {"40000-", 1024, LZR_EPARSE, 0, 0},
        {"-40000", 1024, LZR_EPARSE, 0, 0},
        {"40000-50000x", 1024, LZR_EPARSE, 0, 0},
        {" 40000-50000", 1024, LZR_EPARSE, 0, 0},
        {"40000 - 50000", 1024, LZR_EPARSE, 0, 0},
        {"+40000-50000", 1024, LZR_EPARSE, 0, 0},
        {"40000-50000-60000", 1024, LZR_EPARSE, 0, 0},
        {"", 1024, LZR_EPARSE, 0, 0},
        {NULL, 1024, LZR_EPARSE, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint16_t lo = 7, hi = 7;
        int rc = ports_parse_range(rows[i].text, rows[i].min, &lo, &hi);
        if (rc != rows[i].rc)
            fail_msg("\"%s\": %d, expected %d", rows[i].text ? rows[i].text : "(null)", rc,
                     rows[i].rc);
        assert_int_equal(lo, rc == LZR_OK ? rows[i].lo : 7);
        assert_int_equal(hi, rc == LZR_OK ? rows[i].hi : 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_range), cmocka_unit_test(test_order_and_duplicates),
        cmocka_unit_test(test_extremes),       cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_null_buffers),   cmocka_unit_test(test_source_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
