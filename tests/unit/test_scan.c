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

/* Each front-end check of the options, through scan_main: the flag and the value named. */
static void test_option_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *flag, *value, *msg;
    } rows[] = {
        {"--source-ip", "198.18.1", "--source-ip: \"198.18.1\" is not an IPv4 address"},
        {"--source-ip6", "198.18.1.3", "--source-ip6: \"198.18.1.3\" is not an IPv6 address"},
        {"--source-ip6", "2001:2::/64", "--source-ip6: \"2001:2::/64\" is not an IPv6 address"},
        {"--source-ports", "1000-2000", "--source-ports: \"1000-2000\" is not LO-HI"},
        {"--source-ports", "40000", "--source-ports: \"40000\" is not LO-HI"},
        {"--acking-firewall-probes", "65", "--acking-firewall-probes: at most 64"},
        {"--cooldown-ms", "0", "--cooldown-ms: 0 is out of range (1-3600000)"},
        {"--cooldown-ms", "3600001", "--cooldown-ms: 3600001 is out of range (1-3600000)"},
        {"--handshakes", "http,nosuch", "--handshakes: handshake list: \"nosuch\" is not a"},
        {"--handshakes", "",
         "--handshakes: handshake list: empty name in \"\" (the empty entry at position 1)"},
        {"--fallback", "nosuch", "--fallback: handshake list: \"nosuch\" is not a handshake"},
        {"--rate", "fast", "--rate: \"fast\" is not a number"},
        {"--send-threads", "0", "--send-threads: 0 is out of range (1-16)"},
        {"--send-threads", "17", "--send-threads: 17 is out of range (1-16)"},
        {"--send-threads", "2x", "--send-threads: \"2x\" is not a number"},
        {"--format", "xml", "--format: \"xml\" is not jsonl, zgrab2 or lzr-go"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char msg[1024];
        int rc = run_scan(msg, sizeof msg, BASE, "--targets", "198.18.4.0/24", "--allow-reserved",
                          "198.18.0.0/15", "--dry-run", "--output", "/dev/null", rows[i].flag,
                          rows[i].value, NULL);
        if (rc != 2 || !strstr(msg, rows[i].msg))
            fail_msg("%s %s: exit %d, stderr \"%s\", want \"%s\"", rows[i].flag, rows[i].value, rc,
                     msg, rows[i].msg);
    }
    /* Two ways of sending at once. */
    char msg[1024];
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets", "198.18.4.0/24",
                              "--allow-reserved", "198.18.0.0/15", "--dry-run", "--output",
                              "/dev/null", "--xdp", "--tx-ring", NULL),
                     2);
    assert_non_null(strstr(msg, "--tx-ring and --xdp: choose one"));
}

/* A dry run through the whole front end: options, targets, spec, plan, probe list. */
static void test_dry_run(void **state)
{
    (void)state;
    char msg[2048];
    char path[] = "/tmp/lzr-test-scan.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets", "198.18.4.0/30",
                              "--allow-reserved", "198.18.0.0/15", "--no-default-blocklist",
                              "--seed", "7", "--dry-run", "--output", path, NULL),
                     0);
    assert_non_null(strstr(msg, "4 addresses × 1 ports from 198.18.1.2, seed 7"));
    assert_non_null(strstr(msg, "4 probes listed, 0 blocklisted"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "198.18.1.2:"));
        assert_non_null(strstr(line, ":80 seq "));
        n++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(n, 4);
}

/* Both families in one dry run: the walk covers the IPv4 and the IPv6 targets, each probe from
 * its family's scan IP, IPv6 in brackets; IPv6 targets without --source-ip6 are refused. */
static void test_dry_run_ipv6(void **state)
{
    (void)state;
    char msg[2048], path[] = "/tmp/lzr-test-scan6.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--targets", "2001:2:0:4::/126,198.18.4.1",
                              "--allow-reserved", "198.18.0.0/15,2001:2::/48", "--seed", "7",
                              "--dry-run", "--output", "/dev/null", NULL),
                     2);
    assert_non_null(strstr(msg, "IPv6 targets need the scan's IPv6 address: give --source-ip6"));
    assert_int_equal(run_scan(msg, sizeof msg, BASE, "--source-ip6", "2001:2::12", "--targets",
                              "2001:2:0:4::/126,198.18.4.1", "--allow-reserved",
                              "198.18.0.0/15,2001:2::/48", "--no-default-blocklist", "--seed", "7",
                              "--dry-run", "--output", path, NULL),
                     0);
    assert_non_null(strstr(msg, "5 addresses × 1 ports from 198.18.1.2 and 2001:2::12, seed 7"));
    assert_non_null(strstr(msg, "5 probes listed, 0 blocklisted"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int n4 = 0, n6 = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "[2001:2::12]:", 13) == 0 && strstr(line, "> [2001:2:0:4::") &&
            strstr(line, "]:80 seq "))
            n6++;
        else if (strncmp(line, "198.18.1.2:", 11) == 0 && strstr(line, "> 198.18.4.1:80 seq "))
            n4++;
        else
            fail_msg("unexpected probe line: %s", line);
    }
    fclose(f);
    unlink(path);
    assert_int_equal(n4, 1);
    assert_int_equal(n6, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_input_refusals),
        cmocka_unit_test(test_option_refusals), cmocka_unit_test(test_dry_run),
        cmocka_unit_test(test_dry_run_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
