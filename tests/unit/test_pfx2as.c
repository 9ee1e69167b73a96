/*
 * Unit tests for coordinator/pfx2as: parsing of CAIDA's pfx2as lines (tabs or spaces, comments,
 * CRLF), longest-prefix match with nested prefixes, addresses no prefix covers, multi-origin
 * and AS-set labels kept verbatim, a default route, and the error message (file:line) of each
 * kind of bad line; loading from a real file and a missing one.
 */
#include "coordinator/pfx2as.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static pfx2as_t *parse(const char *text, char *err, size_t errlen)
{
    return pfx2as_parse(text, strlen(text), "p.txt", err, errlen);
}

static void test_longest_prefix(void **state)
{
    (void)state;
    char err[256] = "";
    pfx2as_t *t = parse("# lab ranges\n"
                        "198.18.0.0\t15\t64496\n"
                        "\n"
                        "198.18.2.0\t24\t64497\n"
                        "198.18.2.128 25 64498_64499\r\n"
                        "198.18.2.192\t26\t64500,64501\n"
                        "198.18.2.7\t32\t64502",
                        err, sizeof err);
    assert_non_null(t);
    assert_string_equal(err, "");
    assert_int_equal(pfx2as_count(t), 5);
    assert_int_equal(pfx2as_origins(t), 5);
    assert_string_equal(pfx2as_lookup(t, IP(198, 18, 2, 1)), "64497");
    assert_string_equal(pfx2as_lookup(t, IP(198, 18, 2, 7)), "64502");
    assert_string_equal(pfx2as_lookup(t, IP(198, 18, 2, 130)), "64498_64499");
    assert_string_equal(pfx2as_lookup(t, IP(198, 18, 2, 200)), "64500,64501");
    assert_string_equal(pfx2as_lookup(t, IP(198, 18, 3, 0)), "64496");
    assert_string_equal(pfx2as_lookup(t, IP(198, 19, 255, 255)), "64496");
    assert_null(pfx2as_lookup(t, IP(198, 20, 0, 0)));
    assert_null(pfx2as_lookup(t, IP(198, 17, 255, 255)));
    assert_null(pfx2as_lookup(t, 0));
    pfx2as_free(&t);
    assert_null(t);
}

static void test_default_route_and_empty(void **state)
{
    (void)state;
    char err[256] = "";
    pfx2as_t *t = parse("0.0.0.0\t0\t64511\n10.0.0.0\t8\t64510\n", err, sizeof err);
    assert_non_null(t);
    assert_string_equal(pfx2as_lookup(t, IP(10, 1, 2, 3)), "64510");
    assert_string_equal(pfx2as_lookup(t, IP(255, 255, 255, 255)), "64511");
    assert_string_equal(pfx2as_lookup(t, 0), "64511");
    assert_int_equal(pfx2as_origins(t), 2);
    pfx2as_free(&t);
    t = parse("# nothing\n\n", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(pfx2as_count(t), 0);
    assert_int_equal(pfx2as_origins(t), 0);
    assert_null(pfx2as_lookup(t, IP(1, 2, 3, 4)));
    pfx2as_free(&t);
}

static void expect_error(const char *text, const char *want)
{
    char err[256] = "";
    pfx2as_t *t = parse(text, err, sizeof err);
    if (t || !strstr(err, want)) {
        print_error("input %s: got \"%s\", want \"%s\"\n", text, err, want);
        pfx2as_free(&t);
        fail();
    }
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("1.2.3.0\t24\t1\n2001:db8::\t32\t2\n",
                 "p.txt:2: \"2001:db8::\" is not a dotted IPv4");
    expect_error("1.2.3\t24\t1\n", "p.txt:1: \"1.2.3\" is not a dotted IPv4");
    expect_error("1.2.3.0\t33\t1\n", "p.txt:1: prefix length \"33\" is not 0-32");
    expect_error("1.2.3.0\t-1\t1\n", "prefix length \"-1\"");
    expect_error("1.2.3.0\t2x\t1\n", "prefix length \"2x\"");
    expect_error("1.2.3.1\t24\t1\n", "p.txt:1: 1.2.3.1/24 has host bits set");
    expect_error("1.2.3.0\t24\tAS1\n", "p.txt:1: AS \"AS1\" is not AS numbers");
    expect_error("1.2.3.0\t24\t1_\n", "AS \"1_\"");
    expect_error("1.2.3.0\t24\t1__2\n", "AS \"1__2\"");
    expect_error("1.2.3.0\t24\t4294967296\n", "AS \"4294967296\"");
    expect_error("1.2.3.0\t24\n", "p.txt:1: expected PREFIX, LENGTH and AS");
    expect_error("1.2.3.0\t24\t1\t2\n", "got 4 or more fields");
    expect_error("\n\n1.2.3.0\t24\t1\n1.2.3.0\t24\t2\n",
                 "p.txt:4: 1.2.3.0/24 repeats the prefix of line 3");
    char nul[] = "1.2.3.0\t24\t1\n1.2.3.0\x00\t24\t1\n";
    char err[256] = "";
    assert_null(pfx2as_parse(nul, sizeof nul - 1, "p.txt", err, sizeof err));
    assert_non_null(strstr(err, "p.txt:2: contains a NUL byte"));
    char longl[400];
    memset(longl, '1', sizeof longl);
    longl[sizeof longl - 1] = '\0';
    expect_error(longl, "p.txt:1: line longer than");
}

static void test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/lzr-pfx2as-XXXXXX", err[256] = "";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    /* Enough lines to grow the table a few times. */
    for (int i = 0; i < 1000; i++)
        fprintf(f, "10.%d.%d.0\t24\t%d\n", i / 256, i % 256, 64496 + i % 16);
    fclose(f);
    pfx2as_t *t = pfx2as_load(path, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(pfx2as_count(t), 1000);
    assert_int_equal(pfx2as_origins(t), 16);
    assert_string_equal(pfx2as_lookup(t, IP(10, 3, 231, 9)), "64503"); /* i = 999 */
    assert_null(pfx2as_lookup(t, IP(10, 3, 232, 0)));
    pfx2as_free(&t);
    unlink(path);
    assert_null(pfx2as_load(path, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    assert_non_null(strstr(err, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_default_route_and_empty),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
