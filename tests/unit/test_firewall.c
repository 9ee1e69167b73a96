/*
 * Unit tests for worker/firewall's self-test against a real kernel: the test process moves into
 * a network namespace of its own (unshare), brings its loopback up and checks 127.0.0.1 with
 * the scanner's default source ports under the rules an operator might have. A kernel that
 * resets SYN-ACKs on the range is refused; our nftables rule passes on the positive control's
 * RST; a rule that drops only part of the range is refused; RSTs dropped on output pass; and a
 * rule that swallows the control too falls back to judging by silence; the IPv6 path (::1) is
 * refused without an ip6 rule and passes with the one firewall_install writes. Needs root and nft;
 * the tests skip without them. Nothing here times anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/firewall.h"

#include "own_netns.h"

#define LOOPBACK 0x7f000001u

static const lzr_addr_t lo4 = {.family = ADDR_IPV4, .v4 = LOOPBACK};
static lzr_addr_t lo6; /* ::1, set in setup_netns */
#define LO 40000
#define HI 65535

static bool have_netns;

/* Runs an nft script in the test's namespace; true when nft took it. */
static bool nft(const char *script)
{
    FILE *f = popen("nft -f - 2>/dev/null", "w");
    if (!f)
        return false;
    fputs(script, f);
    return pclose(f) == 0;
}

static int setup_netns(void **state)
{
    (void)state;
    assert_int_equal(addr_parse("::1", &lo6), LZR_OK);
    have_netns = own_netns() && system("nft list tables >/dev/null 2>&1") == 0;
    return 0;
}

static void flush_rules(void)
{
    nft("flush ruleset\n");
}

#define NEED_NETNS()                                                                               \
    do {                                                                                           \
        if (!have_netns)                                                                           \
            skip();                                                                                \
        flush_rules();                                                                             \
    } while (0)

/* No rule at all: the kernel resets the probe, and the worker must not start. */
static void test_refuses_kernel_that_resets(void **state)
{
    (void)state;
    NEED_NETNS();
    char err[1024] = "";
    firewall_proof_t proof;
    assert_int_equal(firewall_selftest(&lo4, LO, HI, &proof, err, sizeof err), LZR_EFIREWALL);
    assert_non_null(strstr(err, "with RST"));
    assert_non_null(strstr(err, "--manage-firewall"));
    assert_int_equal(proof.probe_port, 52768);
}

/* Our own rule: the probe is dropped, the control (just below the range) is reset, and that
 * RST settles the test. */
static void test_passes_with_rule_on_control(void **state)
{
    (void)state;
    NEED_NETNS();
    char err[1024] = "";
    assert_int_equal(firewall_install(LOOPBACK, NULL, LO, HI, err, sizeof err), LZR_OK);
    firewall_proof_t proof;
    int rc = firewall_selftest(&lo4, LO, HI, &proof, err, sizeof err);
    firewall_remove();
    assert_int_equal(rc, LZR_OK);
    assert_true(proof.control_answered);
    assert_int_equal(proof.control_port, LO - 1);
    /* The rule is gone again: refused. */
    assert_int_equal(firewall_selftest(&lo4, LO, HI, &proof, err, sizeof err), LZR_EFIREWALL);
}

/* Runs the self-test on the default range with one extra nftables rule in place (a chain on
 * hook in table t); returns its result and fills proof. */
static int selftest_with_rule(const char *hook, const char *rule, firewall_proof_t *proof)
{
    char script[512], err[1024] = "";
    snprintf(script, sizeof script,
             "table inet t {\n  chain c {\n    type filter hook %s priority 0; policy accept;\n"
             "    %s\n  }\n}\n",
             hook, rule);
    assert_true(nft(script));
    return firewall_selftest(&lo4, LO, HI, proof, err, sizeof err);
}

/* A rule that drops only the low half of the range leaves the probe port (the middle) open:
 * refused, even though the control answers fast. */
static void test_refuses_partial_rule(void **state)
{
    (void)state;
    NEED_NETNS();
    firewall_proof_t proof;
    assert_int_equal(
        selftest_with_rule("input", "ip daddr 127.0.0.1 tcp dport 40000-50000 drop", &proof),
        LZR_EFIREWALL);
}

/* RSTs from the scanner's ports dropped on output (zmap's usual advice): none leaves, so the
 * handshakes are safe; the control's RST (another source port) still comes. */
static void test_passes_with_output_rst_drop(void **state)
{
    (void)state;
    NEED_NETNS();
    firewall_proof_t proof;
    assert_int_equal(
        selftest_with_rule("output", "tcp sport 40000-65535 tcp flags & rst == rst drop", &proof),
        LZR_OK);
    assert_true(proof.control_answered);
}

/* A rule that drops every TCP segment to the address swallows the control too: no proof that
 * the kernel handled the probe, so the test falls back to listening the full wait, and passes
 * on silence as it always did. */
static void test_falls_back_when_control_is_dropped(void **state)
{
    (void)state;
    NEED_NETNS();
    firewall_proof_t proof;
    assert_int_equal(
        selftest_with_rule("input", "ip daddr 127.0.0.1 tcp dport 1-65535 drop", &proof), LZR_OK);
    assert_false(proof.control_answered);
}

/* The control sits above the range when the range starts at port 1. */
static void test_control_above_range(void **state)
{
    (void)state;
    NEED_NETNS();
    char err[1024] = "";
    assert_int_equal(firewall_install(LOOPBACK, NULL, 1, 30000, err, sizeof err), LZR_OK);
    firewall_proof_t proof;
    int rc = firewall_selftest(&lo4, 1, 30000, &proof, err, sizeof err);
    firewall_remove();
    assert_int_equal(rc, LZR_OK);
    assert_int_equal(proof.control_port, 30001);
    assert_true(proof.control_answered);
}

/* The IPv6 path: without a rule the kernel resets SYN-ACKs to ::1 on the range; the rule
 * firewall_install writes for an IPv6 scan IP (nft's ip6 daddr) drops them, the control's RST
 * comes, and the IPv4 rule alone does not cover IPv6. */
static void test_ipv6_path(void **state)
{
    (void)state;
    NEED_NETNS();
    char err[1024] = "";
    firewall_proof_t proof;
    assert_int_equal(firewall_selftest(&lo6, LO, HI, &proof, err, sizeof err), LZR_EFIREWALL);
    assert_non_null(strstr(err, "with RST (scan IP ::1)"));
    assert_non_null(strstr(err, "ip6 daddr ::1 tcp dport 40000-65535 drop"));
    assert_int_equal(firewall_install(LOOPBACK, NULL, LO, HI, err, sizeof err), LZR_OK);
    int rc = firewall_selftest(&lo6, LO, HI, &proof, err, sizeof err);
    firewall_remove();
    assert_int_equal(rc, LZR_EFIREWALL); /* an IPv4 rule leaves IPv6 open */
    assert_int_equal(firewall_install(LOOPBACK, &lo6, LO, HI, err, sizeof err), LZR_OK);
    rc = firewall_selftest(&lo6, LO, HI, &proof, err, sizeof err);
    int rc4 = firewall_selftest(&lo4, LO, HI, NULL, err, sizeof err);
    firewall_remove();
    assert_int_equal(rc, LZR_OK);
    assert_int_equal(rc4, LZR_OK);
    assert_true(proof.control_answered);
}

/* The rule text: one inet table, the IPv4 rule always, the IPv6 one only with an IPv6 address. */
static void test_script_text(void **state)
{
    (void)state;
    char buf[768];
    lzr_addr_t a6;
    assert_int_equal(addr_parse("2001:2:0:1::5", &a6), LZR_OK);
    firewall_script(buf, sizeof buf, "t1", 0xC6120105u, &a6, 40000, 65535);
    assert_non_null(strstr(buf, "table inet t1 {"));
    assert_non_null(strstr(buf, "    ip daddr 198.18.1.5 tcp dport 40000-65535 drop\n"));
    assert_non_null(strstr(buf, "    ip6 daddr 2001:2:0:1::5 tcp dport 40000-65535 drop\n"));
    firewall_script(buf, sizeof buf, "t1", 0xC6120105u, NULL, 40000, 65535);
    assert_null(strstr(buf, "ip6"));
    firewall_hint(&a6, 40000, 65535, buf, sizeof buf);
    assert_non_null(strstr(buf, "input ip6 daddr 2001:2:0:1::5 tcp dport 40000-65535 drop"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_kernel_that_resets),
        cmocka_unit_test(test_passes_with_rule_on_control),
        cmocka_unit_test(test_refuses_partial_rule),
        cmocka_unit_test(test_passes_with_output_rst_drop),
        cmocka_unit_test(test_falls_back_when_control_is_dropped),
        cmocka_unit_test(test_control_above_range),
        cmocka_unit_test(test_ipv6_path),
        cmocka_unit_test(test_script_text),
    };
    return cmocka_run_group_tests(tests, setup_netns, NULL);
}
