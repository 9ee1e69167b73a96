/*
 * Unit tests for worker/optout: the host's blocklist file of both families — IPv4 entries in
 * the plain set, IPv6 entries as excludes that targets6_excludes answers (prefixes of any length),
 * a bad line named by file and line, and a caller that wants no IPv6 set.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/optout.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct in6_addr in6(const char *s)
{
    struct in6_addr a;
    assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
    return a;
}

static void test_both_families(void **state)
{
    (void)state;
    char path[] = "/tmp/test_optout_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# opt-outs\n198.18.4.0/30\n2001:2:0:16::10\n2001:2:0:32::/64 198.18.9.9\n");
    targets_t *set = NULL;
    targets6_t *set6 = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(optout_load(path, &set, &set6, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 4);
    assert_non_null(set);
    assert_non_null(set6);
    assert_true(targets_contains(set, 0xC6120402));
    assert_true(targets_contains(set, 0xC6120909));
    struct in6_addr a = in6("2001:2:0:16::10"), b = in6("2001:2:0:32::ab"),
                    c = in6("2001:2:0:16::11");
    assert_true(targets6_excludes(set6, &a));
    assert_true(targets6_excludes(set6, &b)); /* inside the /64 */
    assert_false(targets6_excludes(set6, &c));
    targets_destroy(&set);
    targets6_destroy(&set6);

    /* Without an IPv6 set the IPv6 lines are checked and left out. */
    assert_int_equal(optout_load(path, &set, NULL, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 2);
    targets_destroy(&set);

    /* IPv6 only: no IPv4 set. */
    write_file(path, "2001:2::5\n");
    assert_int_equal(optout_load(path, &set, &set6, &n, err, sizeof err), LZR_OK);
    assert_null(set);
    assert_non_null(set6);
    assert_int_equal(n, 1);
    targets6_destroy(&set6);

    /* A bad IPv6 line is named by file and line, and nothing is returned. */
    write_file(path, "198.18.4.1\n2001:2::zz\n");
    assert_int_not_equal(optout_load(path, &set, &set6, &n, err, sizeof err), LZR_OK);
    assert_non_null(strstr(err, ":2: "));
    assert_null(set);
    assert_null(set6);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
