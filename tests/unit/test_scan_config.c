/*
 * Unit tests for worker/scan_config: a spec and a vantage become an engine configuration with
 * every setting carried over and the handshake names resolved in the registry; a name the
 * registry does not know, or one without a probe, is refused naming the setting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "worker/scan_config.h"

static void make_spec(scan_spec_t *s, const char *hs, const char *fb)
{
    char err[256];
    assert_int_equal(scan_spec_init(s), LZR_OK);
    assert_int_equal(targets_lift_reserved(s->targets, "198.51.100.0/24", err, sizeof err), LZR_OK);
    assert_int_equal(targets_allow(s->targets, "198.51.100.0/30", err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(s->targets, err, sizeof err), LZR_OK);
    assert_int_equal(ports_parse("443,80", &s->ports, err, sizeof err), LZR_OK);
    assert_int_equal(scan_names_parse(hs, false, &s->handshakes, err, sizeof err), LZR_OK);
    assert_int_equal(scan_names_parse(fb, true, &s->fallback, err, sizeof err), LZR_OK);
}

static void test_carries_everything(void **state)
{
    (void)state;
    scan_spec_t s;
    make_spec(&s, "wait,tls,http", "redis");
    s.rate = 1234;
    s.timeout_ms = 777;
    s.retransmit_ms = 333;
    s.acking_firewall_probes = 3;
    s.cooldown_ms = 55;
    s.max_probes = 9;
    s.max_runtime_ms = 8000;
    s.report_all = true;
    scan_vantage_t v = {.iface = "eth7",
                        .source_ip = 0xC6120002u,
                        .gateway_mac = {1, 2, 3, 4, 5, 6},
                        .have_gateway_mac = true,
                        .sport_lo = 41000,
                        .sport_hi = 42000};
    engine_config_t c;
    char err[256];
    assert_int_equal(scan_config_build(&s, &v, SCAN_NAMES_KEY, &c, err, sizeof err), LZR_OK);
    assert_string_equal(c.iface, "eth7");
    assert_int_equal(c.source_ip, 0xC6120002u);
    assert_memory_equal(c.gateway_mac, v.gateway_mac, 6);
    assert_true(c.have_gateway_mac);
    assert_int_equal(c.sport_lo, 41000);
    assert_int_equal(c.sport_hi, 42000);
    assert_ptr_equal(c.targets, s.targets);
    assert_ptr_equal(c.ports, &s.ports);
    assert_int_equal(c.n_handshakes, 3);
    assert_string_equal(c.handshakes[0]->name, "wait");
    assert_string_equal(c.handshakes[2]->name, "http");
    assert_int_equal(c.n_fallback, 1);
    assert_string_equal(c.fallback[0]->name, "redis");
    assert_int_equal(c.rate, 1234);
    assert_int_equal(c.timeout_ms, 777);
    assert_int_equal(c.retransmit_ms, 333);
    assert_int_equal(c.acking_firewall_probes, 3);
    assert_int_equal(c.cooldown_ms, 55);
    assert_int_equal(c.max_probes, 9);
    assert_int_equal(c.max_runtime_ms, 8000);
    assert_true(c.report_all);
    assert_false(c.discovery_only);
    assert_null(c.blocklist); /* the caller's */
    assert_null(c.capture);
    scan_spec_free(&s);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *hs, *fb, *msg;
    } rows[] = {
        {"http,nosuch", "", "--handshakes: handshake list: \"nosuch\" is not a handshake"},
        {"http,http", "", "--handshakes: handshake list: \"http\" is listed twice"},
        {"http", "nosuch", "--fallback: handshake list: \"nosuch\" is not a handshake"},
        {"http", "mqtt,redis,postgres,mysql,mssql", "--fallback: handshake list:"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        scan_spec_t s;
        make_spec(&s, rows[i].hs, rows[i].fb);
        scan_vantage_t v = {.sport_lo = 40000, .sport_hi = 65535};
        engine_config_t c;
        char err[256] = "";
        assert_true(scan_config_build(&s, &v, SCAN_NAMES_FLAG, &c, err, sizeof err) < 0);
        if (!strstr(err, rows[i].msg))
            fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err, rows[i].msg);
        scan_spec_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carries_everything),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
