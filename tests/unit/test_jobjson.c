/*
 * Unit tests for coordinator/jobjson against a real SQLite store: a job submitted, partly
 * scanned (records stored, one shard's counters kept) and ended by max_runtime gives one JSON
 * document with its configuration as the coordinator resolved it, the seed, times, summed
 * counters, records per class and per protocol, its state, reason and shards per state; an
 * unknown job is an error.
 */
#include "common/err.h"
#include "coordinator/job.h"
#include "coordinator/jobjson.h"
#include "coordinator/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/store_fixture.h"

static const char job_text[] = "name = \"sample\"\n"
                               "targets = \"1.2.3.0/24\"\n"
                               "ports = \"80,443\"\n"
                               "rate = 100\n"
                               "seed = 99\n"
                               "max_targets = \"10%\"\n"
                               "max_runtime = 60\n"
                               "shards = 4\n";

/* Submits job_text as the coordinator does: parse, plan, insert. */
static uint64_t submit(store_t *s)
{
    char err[512];
    job_spec_t *j = job_parse(job_text, strlen(job_text), "sample.toml", err, sizeof err);
    assert_non_null(j);
    store_job_t row;
    memset(&row, 0, sizeof row);
    assert_int_equal(job_plan(j, 1, 1, &row.perm, err, sizeof err), LZR_OK);
    snprintf(row.name, sizeof row.name, "%s", j->name);
    snprintf(row.filename, sizeof row.filename, "sample.toml");
    row.toml = (char *)job_text;
    row.seed = j->seed;
    snprintf(row.key_hex, sizeof row.key_hex, "00112233445566778899aabbccddeeff");
    row.rate = j->rate;
    row.n_shards = j->shards;
    row.size = j->size;
    row.span = j->span;
    row.passes = 1;
    uint64_t id = 0;
    assert_int_equal(store_job_insert(s, &row, &id, err, sizeof err), LZR_OK);
    job_destroy(&j);
    return id;
}

static void test_document(void **state)
{
    fixture_t *f = *state;
    uint64_t id = submit(f->s);
    assert_int_equal(store_job_set_state(f->s, id, "running"), LZR_OK);
    store_shard_t sh;
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", 1, NULL, 0, UINT64_MAX / 2, &sh),
                     LZR_OK);
    lzr_record_t recs[] = {fixture_rec(0x01020301, 80, CLASS_SERVICE, "http"),
                           fixture_rec(0x01020302, 80, CLASS_SERVICE, "http"),
                           fixture_rec(0x01020303, 443, CLASS_SERVICE, "tls"),
                           fixture_rec(0x01020304, 80, CLASS_CLOSED, "")};
    char err[512];
    assert_int_equal(store_put_batch(f->s, id, sh.idx, "w1", recs, 4, err, sizeof err), LZR_OK);
    assert_int_equal(store_shard_done(f->s, id, sh.idx, "w1"), LZR_OK);
    store_shard_stats_t st = {
        .syns = 13, .frames = 40, .replies = 9, .pcap_drops = 2, .blocked = 1};
    assert_int_equal(store_shard_stats(f->s, id, sh.idx, &st), LZR_OK);
    uint32_t dropped = 0;
    assert_int_equal(store_shards_drop(f->s, id, &dropped), LZR_OK);
    assert_int_equal(dropped, 3);
    assert_int_equal(store_job_note(f->s, id, "max_runtime of 60 s reached"), LZR_OK);
    assert_int_equal(store_job_set_state(f->s, id, "done"), LZR_OK);

    char doc[8192] = "";
    FILE *out = fmemopen(doc, sizeof doc - 1, "w");
    assert_non_null(out);
    assert_int_equal(jobjson_write(out, f->s, id, "9.9", err, sizeof err), LZR_OK);
    fclose(out);
    const char *want[] = {
        "{\n  \"version\": \"9.9\",\n  \"job_id\": 1,",
        "\"name\": \"sample\"",
        "\"state\": \"done\"",
        "\"reason\": \"max_runtime of 60 s reached\"",
        "\"shards\": {\"total\":4,\"done\":1,\"leased\":0,\"pending\":0,\"dropped\":3}",
        "\"results\": 4",
        "\"targets\":[\"1.2.3.0/24\"]",
        "\"ports\":\"80,443\"",
        "\"max_targets\":\"10%\"",
        "\"size\":512,\"targets_total\":52,\"rate\":100",
        "\"max_runtime_s\":60",
        "\"seed\": \"99\"",
        "\"probes_sent\": 13",
        "\"frames_sent\": 40",
        "\"replies\": 9",
        "\"pcap_drops\": 2",
        "\"blocklisted\": 1",
        "\"classes\": {\"service\":3,\"closed\":1}",
        "\"http\":2",
        "\"tls\":1",
        "\n}\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(doc, want[i]))
            fail_msg("missing %s in\n%s", want[i], doc);
    }
    assert_null(strstr(doc, "\"end\": null")); /* done: it has an end */
    assert_null(strstr(doc, "\"start\": null"));
    const char *st_at = strstr(doc, "\"start\": \""), *end_at = strstr(doc, "\"end\": \"");
    assert_true(st_at && end_at && strncmp(st_at + 10, end_at + 8, 27) <= 0); /* in order */

    out = fmemopen(doc, sizeof doc - 1, "w");
    assert_int_equal(jobjson_write(out, f->s, id + 1, "9.9", err, sizeof err), LZR_ENOTFOUND);
    fclose(out);
    assert_string_equal(err, "job 2: no such job");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_document, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
