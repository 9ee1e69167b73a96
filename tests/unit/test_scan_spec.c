/*
 * Unit tests for common/scan_spec: splitting handshake lists, building a job's target set
 * from its lists, and the bounds every front end shares, each checked against a spec that is
 * valid but for the one setting under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/scan_spec.h"

/* A valid spec: 198.51.100.0/30 × {80, 443}, one handshake, job-file timings. */
static void valid_spec(scan_spec_t *s)
{
    char err[256];
    assert_int_equal(scan_spec_init(s), LZR_OK);
    assert_int_equal(targets_lift_reserved(s->targets, "198.51.100.0/24", err, sizeof err), LZR_OK);
    assert_int_equal(targets_allow(s->targets, "198.51.100.0/30", err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(s->targets, err, sizeof err), LZR_OK);
    assert_int_equal(ports_parse("80,443", &s->ports, err, sizeof err), LZR_OK);
    assert_int_equal(scan_names_parse("http", false, &s->handshakes, err, sizeof err), LZR_OK);
    s->timeout_ms = 4000;
    s->retransmit_ms = 1000;
}

static void test_names_table(void **state)
{
    (void)state;
    static const struct {
        const char *csv;
        bool allow_empty;
        int rc;
        size_t n;
        const char *first, *last, *msg;
    } rows[] = {
        {"wait,tls,http", false, LZR_OK, 3, "wait", "http", NULL},
        {" wait ,\ttls", false, LZR_OK, 2, "wait", "tls", NULL},
        {"http", false, LZR_OK, 1, "http", "http", NULL},
        {"", true, LZR_OK, 0, NULL, NULL, NULL},
        {" \t", true, LZR_OK, 0, NULL, NULL, NULL},
        {"", false, LZR_EPARSE, 0, NULL, NULL, "empty entry at position 1"},
        {"a,,b", false, LZR_EPARSE, 0, NULL, NULL,
         "empty name in \"a,,b\" (the empty entry at position 2)"},
        {"a,", true, LZR_EPARSE, 0, NULL, NULL, "empty entry at position 2"},
        {"averyveryveryverylongnamethatisnotahandshake", false, LZR_EPARSE, 0, NULL, NULL,
         "is not a handshake"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        scan_names_t n;
        char err[256] = "";
        int rc = scan_names_parse(rows[i].csv, rows[i].allow_empty, &n, err, sizeof err);
        if (rc != rows[i].rc)
            fail_msg("\"%s\": %d (%s), expected %d", rows[i].csv, rc, err, rows[i].rc);
        if (rc != LZR_OK) {
            assert_non_null(strstr(err, rows[i].msg));
            continue;
        }
        assert_int_equal(n.n, rows[i].n);
        if (n.n) {
            assert_string_equal(n.v[0], rows[i].first);
            assert_string_equal(n.v[n.n - 1], rows[i].last);
        }
    }
    /* One name more than the room: refused, not truncated. */
    char many[SCAN_SPEC_MAX_NAMES * 3 + 8] = "";
    for (int i = 0; i <= SCAN_SPEC_MAX_NAMES; i++)
        strcat(many, i ? ",x" : "x");
    scan_names_t n;
    char err[256];
    assert_int_equal(scan_names_parse(many, false, &n, err, sizeof err), LZR_ERANGE);
}

/* Each row changes one setting of a valid spec; the field and message say what is wrong. */
static void test_validate_table(void **state)
{
    (void)state;
    enum { T_TIMEOUT, T_RETX, T_RETX_GIVEN, T_ACK, T_COOL, T_NOHS, T_DISC, T_NOPORTS };
    static const struct {
        int what;
        uint32_t value;
        int rc;
        scan_field_t field;
        const char *msg;
    } rows[] = {
        {T_TIMEOUT, 10, LZR_OK, 0, NULL},
        {T_TIMEOUT, 600000, LZR_OK, 0, NULL},
        {T_TIMEOUT, 9, LZR_ERANGE, SCAN_FIELD_TIMEOUT, "9 is not 10-600000"},
        {T_TIMEOUT, 600001, LZR_ERANGE, SCAN_FIELD_TIMEOUT, "600001 is not 10-600000"},
        {T_RETX, 9000, LZR_OK, 0, NULL}, /* not given: above the timeout means no resend */
        {T_RETX_GIVEN, 4000, LZR_OK, 0, NULL},
        {T_RETX_GIVEN, 10, LZR_OK, 0, NULL},
        {T_RETX_GIVEN, 4001, LZR_ERANGE, SCAN_FIELD_RETRANSMIT,
         "4001 is not 10 to timeout_ms (4000)"},
        {T_RETX_GIVEN, 9, LZR_ERANGE, SCAN_FIELD_RETRANSMIT, "9 is not 10 to"},
        {T_ACK, 64, LZR_OK, 0, NULL},
        {T_ACK, 65, LZR_ERANGE, SCAN_FIELD_ACKING, "at most 64"},
        {T_COOL, 0, LZR_OK, 0, NULL},
        {T_COOL, 3600000, LZR_OK, 0, NULL},
        {T_COOL, 3600001, LZR_ERANGE, SCAN_FIELD_COOLDOWN, "3600001 is out of range (1-3600000)"},
        {T_NOHS, 0, LZR_EINVAL, SCAN_FIELD_HANDSHAKES, "no handshakes"},
        {T_DISC, 0, LZR_OK, 0, NULL}, /* a SYN scan needs no handshake */
        {T_NOPORTS, 0, LZR_EINVAL, SCAN_FIELD_PORTS, "no ports"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        scan_spec_t s;
        valid_spec(&s);
        switch (rows[i].what) {
        case T_TIMEOUT:
            s.timeout_ms = rows[i].value;
            break;
        case T_RETX:
            s.retransmit_ms = rows[i].value;
            break;
        case T_RETX_GIVEN:
            s.retransmit_ms = rows[i].value;
            s.retransmit_given = true;
            break;
        case T_ACK:
            s.acking_firewall_probes = rows[i].value;
            break;
        case T_COOL:
            s.cooldown_ms = rows[i].value;
            break;
        case T_NOHS:
            s.handshakes.n = 0;
            break;
        case T_DISC:
            s.handshakes.n = 0;
            s.discovery_only = true;
            break;
        case T_NOPORTS:
            ports_free(&s.ports);
            break;
        }
        scan_field_t f = SCAN_FIELD_COUNT;
        char err[256] = "";
        int rc = scan_spec_validate(&s, SCAN_NAMES_KEY, &f, err, sizeof err);
        if (rc != rows[i].rc)
            fail_msg("row %zu: %d (%s), expected %d", i, rc, err, rows[i].rc);
        if (rc != LZR_OK) {
            assert_int_equal(f, rows[i].field);
            if (!strstr(err, rows[i].msg))
                fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].msg);
        }
        scan_spec_free(&s);
        assert_null(s.targets);
    }
}

static void test_validate_targets_and_naming(void **state)
{
    (void)state;
    scan_spec_t s;
    char err[256];
    scan_field_t f;
    assert_int_equal(scan_spec_init(&s), LZR_OK); /* a target set not finalized: no targets */
    assert_int_equal(scan_spec_validate(&s, SCAN_NAMES_FLAG, &f, err, sizeof err), LZR_EINVAL);
    assert_int_equal(f, SCAN_FIELD_TARGETS);
    scan_spec_free(&s);

    valid_spec(&s);
    s.timeout_ms = 500;
    s.retransmit_ms = 900;
    s.retransmit_given = true;
    assert_int_equal(scan_spec_validate(&s, SCAN_NAMES_FLAG, &f, err, sizeof err), LZR_ERANGE);
    assert_string_equal(scan_field_name(f, SCAN_NAMES_FLAG), "--retransmit-ms");
    assert_non_null(strstr(err, "900 is not 10 to --timeout-ms (500)"));
    assert_string_equal(scan_field_name(f, SCAN_NAMES_KEY), "retransmit_ms");
    assert_string_equal(scan_field_name(SCAN_FIELD_COUNT, SCAN_NAMES_KEY), "?");
    scan_spec_free(&s);
}

/* The lists of a job in the Assign's order: lift, allow, exclude, then the allowlist. */
static void test_targets_from_lists(void **state)
{
    (void)state;
    char *allow[] = {"198.18.4.0/24"}, *exclude[] = {"198.18.4.0/26"}, *lift[] = {"198.18.0.0/15"},
         *allowlist[] = {"198.18.4.0/25"};
    scan_spec_t s;
    char err[256];
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    assert_int_equal(scan_spec_targets_from_lists(&s, allow, 1, exclude, 1, lift, 1, allowlist, 1,
                                                  err, sizeof err),
                     LZR_OK);
    assert_int_equal(targets_count(s.targets), 64); /* .64-.127 */
    scan_spec_free(&s);

    /* Without the lift, the reserved range is refused, naming it. */
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    assert_int_equal(
        scan_spec_targets_from_lists(&s, allow, 1, NULL, 0, NULL, 0, NULL, 0, err, sizeof err),
        LZR_ERESERVED);
    assert_non_null(strstr(err, "198.18.4.0/24"));
    scan_spec_free(&s);
}

/* Entries of both families, mixed in one string or one file, each reach their own set; the
 * address space counts both; a family without allow entries stays empty. */
static void test_mixed_families(void **state)
{
    (void)state;
    scan_spec_t s;
    char err[512];
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    assert_int_equal(scan_spec_add(&s, SCAN_LIFT, "198.18.0.0/15, 2001:2::/48", err, sizeof err),
                     LZR_OK);
    assert_int_equal(
        scan_spec_add(&s, SCAN_ALLOW, "198.18.4.0/30,2001:2::1:0/126 2001:2::9", err, sizeof err),
        LZR_OK);
    assert_int_equal(scan_spec_add(&s, SCAN_EXCLUDE, "2001:2::1:3,198.18.4.3", err, sizeof err),
                     LZR_OK);
    char path[] = "/tmp/test_scan_spec_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char body[] = "# hitlist\n2001:2::20\n198.18.4.9 2001:2::21\n";
    assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    assert_int_equal(scan_spec_allow_file(&s, path, err, sizeof err), LZR_OK);
    assert_int_equal(s.n_allow4, 2);
    assert_int_equal(s.n_allow6, 4);
    assert_int_equal(scan_spec_finalize(&s, err, sizeof err), LZR_OK);
    assert_int_equal(targets_count(s.targets), 4);   /* .0-.2 and .9 */
    assert_int_equal(targets6_count(s.targets6), 6); /* ::1:0-::1:2, ::9, ::20, ::21 */
    assert_int_equal(scan_spec_addresses(&s), 10);
    scan_spec_free(&s);

    /* IPv6 only: the IPv4 set stays empty and is not an error. */
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    assert_int_equal(scan_spec_add(&s, SCAN_LIFT, "2001:2::/48", err, sizeof err), LZR_OK);
    assert_int_equal(scan_spec_add(&s, SCAN_ALLOW, "2001:2::5", err, sizeof err), LZR_OK);
    assert_int_equal(scan_spec_finalize(&s, err, sizeof err), LZR_OK);
    assert_int_equal(scan_spec_addresses(&s), 1);
    scan_spec_free(&s);

    /* A bad entry of either family, in a file, names the file and line. */
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    const char bad[] = "198.18.4.1\n2001:2::/64\n";
    assert_int_equal(write(fd, bad, sizeof bad - 1), (ssize_t)(sizeof bad - 1));
    close(fd);
    assert_int_not_equal(scan_spec_allow_file(&s, path, err, sizeof err), LZR_OK);
    assert_non_null(strstr(err, ":2: "));
    assert_non_null(strstr(err, "/112"));
    /* Nothing allowed at all: the IPv4 set's "allow list is empty". */
    scan_spec_free(&s);
    assert_int_equal(scan_spec_init(&s), LZR_OK);
    assert_int_equal(scan_spec_finalize(&s, err, sizeof err), LZR_EEMPTY);
    scan_spec_free(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_table),
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_validate_targets_and_naming),
        cmocka_unit_test(test_targets_from_lists),
        cmocka_unit_test(test_mixed_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
