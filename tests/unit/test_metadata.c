/*
 * Unit tests for worker/metadata: the document holds the configuration, the seed as a string
 * and the counts, with command-line text escaped.
 */
#include "common/err.h"
#include "worker/metadata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_write(void **state)
{
    (void)state;
    char err[256], path[] = "/tmp/lzr-meta-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    targets_t *t = targets_new();
    assert_int_equal(targets_allow(t, "1.2.3.0/30", err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof err), LZR_OK);
    engine_config_t cfg = {.iface = "eth0",
                           .source_ip = 0x01020304,
                           .targets = t,
                           .rate = 77,
                           .sport_lo = 40000,
                           .sport_hi = 65535,
                           .max_probes = 3};
    engine_stats_t st = {.syns = 10, .replies = 4, .blocked = 2};
    st.per_class[CLASS_SERVICE] = 3;
    metajson_protocols_t p = {0};
    metajson_add_protocol(&p, "http", 1);
    char *argv[] = {"scan", "--targets", "a\"b\\c"};
    scan_meta_t m = {.argc = 3,
                     .argv = argv,
                     .cfg = &cfg,
                     .ports = "80,443",
                     .seed = 18446744073709551615ull,
                     .start_us = 1000000,
                     .end_us = 3000000,
                     .seconds = 2.0,
                     .stats = &st,
                     .protocols = &p};
    assert_int_equal(metadata_write(path, &m, err, sizeof err), LZR_OK);
    char doc[4096] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const char *want[] = {
        "\"command\": [\"lzr-worker\",\"scan\",\"--targets\",\"a\\\"b\\\\c\"]",
        "\"seed\": \"18446744073709551615\"",
        "\"start\": \"1970-01-01T00:00:01.000000Z\"",
        "\"source_ip\":\"1.2.3.4\",\"source_ip6\":null,\"addresses\":4,\"ports\":\"80,443\"",
        "\"max_targets\":3",
        "\"rate_achieved\": 5.0",
        "\"blocklisted\": 2",
        "\"classes\": {\"service\":3}",
        "\"protocols\": {\"http\":1}",
        "\"blocklist_file\":null",
        "\"dry_run\": false",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(doc, want[i]))
            fail_msg("missing %s in\n%s", want[i], doc);
    }
    assert_int_equal(metadata_write("/nonexistent/m.json", &m, err, sizeof err), LZR_EIO);
    assert_non_null(strstr(err, "/nonexistent/m.json: No such file"));
    targets_destroy(&t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
