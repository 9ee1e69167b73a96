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

/* --input-file: a bad line names the file and line, --all and a percentage are refused, and a
 * file with bare addresses needs --ports; all before anything is sent (exit 2). */
static void test_input_refusals(void **state)
{
    (void)state;
    char msg[1024], path[] = "/tmp/test_scan_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "198.18.4.1:80\n198.18.4.2\n198.18.4.x,80\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--input-file", path, NULL), 2);
    char want[128];
    snprintf(want, sizeof want, "--input-file: %s:3: \"198.18.4.x\"", path);
    assert_non_null(strstr(msg, want));
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--input-file", path, "--all", NULL), 2);
    assert_non_null(strstr(msg, "--all cannot report the silent targets of a list"));
    assert_int_equal(
        run_scan(msg, sizeof msg, BASE, "--input-file", path, "--max-targets", "5%", NULL), 2);
    assert_non_null(strstr(msg, "--max-targets takes a count with a list"));
    FILE *f = fopen(path, "w");
    fputs("198.18.4.1:80\n198.18.4.2\n", f);
    fclose(f);
    assert_int_equal(run_scan(msg, sizeof msg, "--iface", "lo", "--source-ip", "198.18.1.2",
                              "--input-file", path, NULL),
                     2);
    assert_non_null(strstr(msg, "lists addresses without a port; --ports is required"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_input_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
