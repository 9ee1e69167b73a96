/*
 * Tests of lzr-worker scan's option checks: options that would make a scan wrong or endless are
 * refused (exit 2) with a message naming the option, before anything touches the network.
 */
#include "worker/scan.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Runs scan_main on the NULL-terminated arguments; *msg gets what it wrote to stderr. */
static int run_scan(char *msg, size_t cap, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "scan";
    va_list ap;
    va_start(ap, cap);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = scan_main(argc, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(msg, 1, cap - 1, tmp);
    msg[n] = '\0';
    fclose(tmp);
    return rc;
}

#define BASE "--iface", "lo", "--source-ip", "198.18.1.2", "--ports", "80"

static void test_refusals(void **state)
{
    (void)state;
    char msg[1024];
    assert_int_equal(run_scan(msg, sizeof msg, "--iface", "averyveryverylongname0", "--source-ip",
                              "198.18.1.2", "--ports", "80", "--targets", "198.18.4.0/24", NULL),
                     2);
    assert_non_null(strstr(msg, "--iface: \"averyveryverylongname0\" is longer than"));

    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets-file", "/tmp", NULL), 2);
    assert_non_null(strstr(msg, "--targets-file: /tmp: is a directory"));

    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets", "198.18.4.0/24",
                              "--allow-reserved", "198.18.0.0/15", "--timeout-ms", "4000000000",
                              NULL),
                     2);
    assert_non_null(strstr(msg, "--timeout-ms: 4000000000 is not 10-600000"));

    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets", "198.18.4.0/24",
                              "--allow-reserved", "198.18.0.0/15", "--timeout-ms", "500",
                              "--retransmit-ms", "900", NULL),
                     2);
    assert_non_null(strstr(msg, "--retransmit-ms: 900 is not 10 to --timeout-ms (500)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
