/*
 * Unit tests for common/metajson: protocols are counted in a fixed table (names beyond it are
 * "(other)"), and the block of counts is valid JSON members with the seed as a string, times
 * (null when unset), the rate achieved and the classes that occurred.
 */
#include "common/metajson.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_count(void **state)
{
    (void)state;
    metajson_protocols_t p = {0};
    metajson_add_protocol(&p, "http", 1);
    metajson_add_protocol(&p, "", 1);
    metajson_add_protocol(&p, NULL, 1);
    metajson_add_protocol(&p, "http", 4);
    metajson_add_protocol(&p, "ssh", 1);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.counts[0], 5);
    char name[24];
    for (int i = 0; i < METAJSON_PROTOCOLS + 5; i++) {
        snprintf(name, sizeof name, "p%d", i);
        metajson_add_protocol(&p, name, 1);
    }
    assert_int_equal(p.n, METAJSON_PROTOCOLS);
    assert_int_equal(p.other, 7);
}

static void test_counts(void **state)
{
    (void)state;
    metajson_protocols_t p = {0};
    metajson_add_protocol(&p, "mqtt", 2);
    metajson_add_protocol(&p, "a\"b", 1);
    metajson_counts_t m = {.seed = 18446744073709551615ull,
                           .start_us = 2000000,
                           .seconds = 4.0,
                           .probes = 10,
                           .frames = 30,
                           .replies = 7,
                           .pcap_drops = 1,
                           .blocked = 3,
                           .protocols = &p};
    m.per_class[CLASS_CLOSED] = 4;
    char doc[2048] = "";
    FILE *f = fmemopen(doc, sizeof doc - 1, "w");
    assert_non_null(f);
    metajson_key(f, "first", true);
    fputs("1", f);
    metajson_counts(f, &m);
    fclose(f);
    const char *want[] = {
        "\n  \"first\": 1,\n  \"seed\": \"18446744073709551615\",",
        "\"start\": \"1970-01-01T00:00:02.000000Z\"",
        "\"end\": null",
        "\"probes_sent\": 10",
        "\"rate_achieved\": 2.5",
        "\"frames_sent\": 30",
        "\"replies\": 7",
        "\"pcap_drops\": 1",
        "\"blocklisted\": 3",
        "\"classes\": {\"closed\":4}",
        "\"protocols\": {\"mqtt\":2,\"a\\\"b\":1}",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(doc, want[i]))
            fail_msg("missing %s in\n%s", want[i], doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
