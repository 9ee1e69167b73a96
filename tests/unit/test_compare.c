/*
 * Unit tests for the comparison across vantage points on a real SQLite file: the scheduler
 * gives each pass's copy of a shard to another scan IP, batches of a compared job are kept per
 * scan IP, and coordinator/compare reads them back — per vantage, one source IP against all of
 * them together, what only some vantages saw with the host's verdict — in text, JSON lines, CSV,
 * the report's section and its SVG panel. A database of schema 3 still reads as one pass.
 */
#include "common/err.h"
#include "coordinator/compare.h"
#include "coordinator/report.h"
#include "coordinator/store.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/store_fixture.h"

#define VP1 0xC6120A0Au /* 198.18.10.10 */
#define VP2 0xC6121410u /* 198.18.20.16 */
#define HX  0xC612000Au /* 198.18.0.10: the same from both */
#define HY  0xC6120014u /* 198.18.0.20: a service to one, lost to the other */
#define HZ  0xC612001Eu /* 198.18.0.30: answers only the first */
#define HW  0xC6120028u /* 198.18.0.40: answers only the second */

static uint64_t add_job(store_t *s, uint64_t size, uint32_t shards, uint32_t passes)
{
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "cmp");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "targets = \"198.18.0.0/24\"\nports = \"80\"\n";
    j.seed = 5;
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.rate = 100;
    j.n_shards = shards;
    j.passes = passes;
    j.size = size;
    assert_int_equal(perm_init(&j.perm, size, 5), LZR_OK);
    j.created_us = 1;
    uint64_t id = 0;
    char err[256];
    assert_int_equal(store_job_insert(s, &j, &id, err, sizeof err), LZR_OK);
    return id;
}

static lzr_record_t rec(uint32_t ip, uint16_t port, lzr_class_t cls, const char *proto,
                        uint32_t src)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(ip);
    r.port = port;
    r.cls = cls;
    snprintf(r.protocol, sizeof r.protocol, "%s", proto);
    r.source_ip = addr_ipv4(src);
    r.ts_us = 7;
    return r;
}

/* Each pass's copy of a shard goes to a scan IP that has not scanned that shard; a worker
 * whose scan IP scanned every shard once waits for another; a job of one pass is unaffected. */
static void test_scheduler_passes(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 2, 2);
    store_job_t row;
    assert_int_equal(store_job_get(f->s, id, &row), LZR_OK);
    assert_int_equal(row.passes, 2);
    assert_int_equal(row.n_shards, 2);
    store_job_clear(&row);
    uint32_t pending, leased, done;
    assert_int_equal(store_shard_counts(f->s, id, &pending, &leased, &done), LZR_OK);
    assert_int_equal(pending, 4);

    store_shard_t a, b, c, d, x;
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", VP1, NULL, 0, 100, &a), LZR_OK);
    assert_int_equal(a.idx, 0);
    assert_int_equal(a.pass, 0);
    assert_int_equal(a.scan_ip, VP1);
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", VP1, NULL, 0, 100, &b), LZR_OK);
    assert_int_equal(b.idx, 1);
    /* Shards 2 and 3 are the second pass of 0 and 1: not from VP1 again. */
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", VP1, NULL, 0, 100, &x), LZR_ENOTFOUND);
    assert_int_equal(store_shard_lease_next(f->s, id, "w2", VP2, NULL, 0, 100, &c), LZR_OK);
    assert_int_equal(c.idx, 2);
    assert_int_equal(c.pass, 1);
    assert_int_equal(c.pos_begin, a.pos_begin);
    assert_int_equal(c.pos_end, a.pos_end);
    /* A lease lost and taken again keeps the rule: shard 2 back to the pool is still not
     * VP1's, but the second worker takes it again. */
    assert_int_equal(store_shard_release(f->s, id, 2, "w2"), LZR_OK);
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", VP1, NULL, 0, 100, &x), LZR_ENOTFOUND);
    assert_int_equal(store_shard_lease_next(f->s, id, "w2", VP2, NULL, 0, 100, &c), LZR_OK);
    assert_int_equal(c.idx, 2);
    assert_int_equal(store_shard_lease_next(f->s, id, "w2", VP2, NULL, 0, 100, &d), LZR_OK);
    assert_int_equal(d.idx, 3);
    assert_int_equal(d.pos_begin, b.pos_begin);

    /* One pass: the same worker takes every shard. */
    uint64_t one = add_job(f->s, 1000, 2, 1);
    assert_int_equal(store_shard_lease_next(f->s, one, "w1", VP1, NULL, 0, 100, &a), LZR_OK);
    assert_int_equal(store_shard_lease_next(f->s, one, "w1", VP1, NULL, 0, 100, &b), LZR_OK);
    assert_int_equal(store_shard_lease_next(f->s, one, "w1", VP1, NULL, 0, 100, &x), LZR_ENOTFOUND);
}

/* The scenario of the comparison tests: one shard per pass, pass 1 from VP1, pass 2 from VP2. */
static uint64_t scan_two_vantages(store_t *s)
{
    uint64_t id = add_job(s, 256, 1, 2);
    store_shard_t sh;
    assert_int_equal(store_shard_lease_next(s, id, "vp1", VP1, NULL, 0, 100, &sh), LZR_OK);
    assert_int_equal(sh.idx, 0);
    assert_int_equal(store_shard_lease_next(s, id, "vp2", VP2, NULL, 0, 100, &sh), LZR_OK);
    assert_int_equal(sh.idx, 1);
    lzr_record_t a[] = {
        rec(HX, 22, CLASS_CLOSED, "", VP1),
        rec(HX, 80, CLASS_SERVICE, "http", VP1),
        rec(HY, 80, CLASS_SERVICE, "http", VP1),
        rec(HZ, 443, CLASS_LOST_AFTER_SYNACK, "", VP1),
    };
    lzr_record_t b[] = {
        rec(HX, 22, CLASS_CLOSED, "", VP2),
        rec(HX, 80, CLASS_SERVICE, "http", VP2),
        rec(HY, 80, CLASS_LOST_AFTER_SYNACK, "", VP2),
        rec(HW, 8080, CLASS_SERVICE, "redis", VP2),
        rec(HZ, 443, CLASS_SILENT, "", VP2), /* report_all: Z shuns VP2 */
    };
    char err[256];
    assert_int_equal(store_put_batch(s, id, 0, "vp1", a, 4, err, sizeof err), LZR_OK);
    assert_int_equal(store_put_batch(s, id, 1, "vp2", b, 5, err, sizeof err), LZR_OK);
    /* Sent again (a lost Ack): nothing changes. */
    assert_int_equal(store_put_batch(s, id, 1, "vp2", b, 5, err, sizeof err), LZR_OK);
    assert_int_equal(store_shard_done(s, id, 0, "vp1"), LZR_OK);
    assert_int_equal(store_shard_done(s, id, 1, "vp2"), LZR_OK);
    store_verdict_t v[2];
    memset(v, 0, sizeof v);
    v[0].ip = addr_ipv4(HY);
    v[0].port = 80;
    snprintf(v[0].verdict, sizeof v[0].verdict, "shunning");
    v[1].ip = addr_ipv4(HZ);
    v[1].port = 443;
    snprintf(v[1].verdict, sizeof v[1].verdict, "churn");
    snprintf(v[0].evidence, sizeof v[0].evidence, "{}");
    snprintf(v[1].evidence, sizeof v[1].evidence, "{}");
    assert_int_equal(store_verdicts_put(s, id, v, 2, err, sizeof err), LZR_OK);
    return id;
}

static int count_row(void *ctx, const lzr_record_t *r, const char *worker)
{
    (void)r;
    (void)worker;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void test_build(void **state)
{
    fixture_t *f = *state;
    uint64_t id = scan_two_vantages(f->s);
    /* results keeps the union: one row per (ip, port), a service from either side wins, and
     * an answer wins over a silence. */
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 5);
    }
    uint64_t n = 0;
    assert_int_equal(store_results_each(f->s, id, "service", NULL, count_row, &n), LZR_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(store_results_each(f->s, id, "lost_after_synack", NULL, count_row, &n),
                     LZR_OK);
    assert_int_equal(n, 1); /* Z:443 (Y:80 is a service) */

    char err[256];
    compare_t *c = compare_build(f->s, id, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->passes, 2);
    assert_int_equal(c->n_vantages, 2);
    const compare_vantage_t *v1 = &c->vantages[0], *v2 = &c->vantages[1];
    assert_int_equal(v1->ip.v4, VP1);
    assert_string_equal(v1->worker, "vp1");
    assert_int_equal(v1->shards, 1);
    assert_int_equal(v1->targets, 256);
    assert_int_equal(v1->cls[CLASS_SERVICE], 2);
    assert_int_equal(v1->cls[CLASS_CLOSED], 1);
    assert_int_equal(v1->cls[CLASS_LOST_AFTER_SYNACK], 1);
    assert_int_equal(v1->answered, 4);
    assert_int_equal(v1->hosts, 3); /* X, Y, Z */
    assert_int_equal(v2->ip.v4, VP2);
    assert_int_equal(v2->cls[CLASS_SERVICE], 2);
    assert_int_equal(v2->hosts, 3); /* X, Y, W */
    assert_int_equal(v2->cls[CLASS_SILENT], 1);
    assert_int_equal(v2->answered, 4);

    assert_int_equal(c->pass_services[0], 2);
    assert_int_equal(c->pass_services[1], 2);
    assert_int_equal(c->union_services, 3);
    assert_true(compare_one_ip_services(c) > 1.99 && compare_one_ip_services(c) < 2.01);
    assert_int_equal(c->pass_hosts[0], 3);
    assert_int_equal(c->union_hosts, 4);

    /* Services from one scan IP only: Y:80 (with its host's verdict) and W:8080. Hosts with
     * targets seen from only some: Y (a service to one, lost to the other), Z and W. */
    assert_int_equal(c->n_service_items, 2);
    assert_int_equal(c->n_items, 5);
    const compare_item_t *y = &c->items[0];
    assert_int_equal(y->ip.v4, HY);
    assert_int_equal(y->port, 80);
    assert_int_equal(y->vantages_seen, 1);
    assert_string_equal(y->verdict, "shunning");
    assert_int_equal(y->n_seen, 2);
    assert_int_equal(y->seen[0].source_ip.v4, VP1);
    assert_int_equal(y->seen[0].cls, CLASS_SERVICE);
    assert_string_equal(y->seen[0].protocol, "http");
    assert_int_equal(y->seen[1].cls, CLASS_LOST_AFTER_SYNACK);
    assert_int_equal(c->items[1].ip.v4, HW);
    assert_string_equal(c->items[1].verdict, "");
    const compare_item_t *hy = &c->items[2];
    assert_int_equal(hy->ip.v4, HY);
    assert_int_equal(hy->port, 0);
    assert_int_equal(hy->vantages_seen, 2);
    assert_int_equal(hy->targets_differ, 1);
    assert_int_equal(hy->n_seen, 2);
    assert_int_equal(hy->seen[1].port, 80);
    const compare_item_t *z = &c->items[3];
    assert_int_equal(z->ip.v4, HZ);
    assert_int_equal(z->port, 0);
    assert_string_equal(z->verdict, "churn");
    assert_int_equal(z->vantages_seen, 1);
    assert_int_equal(z->n_seen, 2);
    assert_int_equal(z->seen[1].cls, CLASS_SILENT);
    assert_int_equal(z->seen[0].source_ip.v4, VP1);
    assert_int_equal(z->seen[0].port, 443);
    assert_int_equal(z->seen[0].cls, CLASS_LOST_AFTER_SYNACK);
    assert_int_equal(c->items[4].ip.v4, HW);
    compare_free(&c);
    assert_null(c);
}

static char *written(const compare_t *c, compare_format_t fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(compare_write(c, fmt, m), LZR_OK);
    fclose(m);
    return buf;
}

static void test_formats(void **state)
{
    fixture_t *f = *state;
    uint64_t id = scan_two_vantages(f->s);
    char err[256];
    compare_t *c = compare_build(f->s, id, err, sizeof err);
    assert_non_null(c);
    compare_format_t fmt;
    assert_int_equal(compare_format_parse("csv", &fmt), LZR_OK);
    assert_int_equal(fmt, COMPARE_CSV);
    assert_int_equal(compare_format_parse("xml", &fmt), LZR_EINVAL);

    char *t = written(c, COMPARE_TEXT);
    assert_non_null(strstr(t, "198.18.10.10"));
    assert_non_null(strstr(t, "with one source IP: 2.0 (mean of the passes: 2, 2); with all 2 "
                              "together: 3 (+50.0%)"));
    assert_non_null(strstr(t, "targets per class       198.18.10.10    198.18.20.16\n"));
    assert_non_null(strstr(t, "\n  lost_after_synack                1               1\n"));
    assert_null(strstr(t, "zero_window")); /* no vantage saw one */
    assert_non_null(strstr(t, "198.18.0.20:80"));
    assert_non_null(strstr(t, "[verdict: shunning]"));
    assert_non_null(strstr(t,
                           "198.18.0.20:80        service from 1 of 2 scan IPs: 198.18.10.10 "
                           "service/http; 198.18.20.16 lost_after_synack  [verdict: shunning]\n"));
    assert_non_null(strstr(t, "hosts with targets seen from only some vantages: 3\n"));
    assert_non_null(
        strstr(t, "198.18.0.30           answered 1 scan IP; 1 target differs: :443 "
                  "198.18.10.10 lost_after_synack; :443 198.18.20.16 silent  [verdict: churn]\n"));
    free(t);

    char *j = written(c, COMPARE_JSONL);
    assert_non_null(strstr(j, "{\"kind\":\"union\",\"job\":1,\"passes\":2,\"vantages\":2,"
                              "\"services\":3,\"hosts\":4,\"one_ip_services\":2.0"));
    assert_non_null(strstr(j, "\"what\":\"service\",\"ip\":\"198.18.0.20\",\"port\":80,"
                              "\"vantages_seen\":1,\"passes\":2,\"verdict\":\"shunning\","
                              "\"seen\":[{\"vantage\":\"198.18.10.10\",\"port\":80,"
                              "\"class\":\"service\",\"protocol\":\"http\"}"));
    size_t lines = 0;
    for (const char *p = j; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2 + 2 + 1 + 5); /* vantages, passes, union, items */
    free(j);

    char *v = written(c, COMPARE_CSV);
    assert_non_null(strstr(v, "kind,pass,vantage,worker,ip,port,"));
    assert_non_null(strstr(v, "vantage,,198.18.10.10,vp1,,,1,256,4,3,2,,,,\n"));
    assert_non_null(strstr(v, "vantage_class,,198.18.20.16,vp2,,,,1,,,,silent,,,\n"));
    assert_non_null(strstr(v, "union,,,,,,,,,4,3,,,2,\n"));
    assert_non_null(strstr(
        v, "only_some_host,,198.18.10.10,,198.18.0.30,443,,,,,,lost_after_synack,,1,churn\n"));
    free(v);
    compare_free(&c);

    /* The report of the job carries the comparison as a section and an SVG panel. */
    report_t *r = report_build(f->s, id, err, sizeof err);
    assert_non_null(r);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(report_text(r, m), LZR_OK);
    fclose(m);
    assert_non_null(strstr(buf, "Comparison across vantage points: job 1"));
    free(buf);
    m = open_memstream(&buf, &len);
    assert_int_equal(report_svg(r, m), LZR_OK);
    fclose(m);
    assert_non_null(strstr(buf, "<title>all together: 3 services</title>"));
    assert_non_null(strstr(buf, "</svg>\n"));
    free(buf);
    report_free(&r);
}

/* A job of one pass keeps no rows per scan IP and compares as one pass; so does every job of a
 * schema-3 database read without upgrading it. */
static void test_one_pass_and_old_schema(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 256, 1, 1);
    lzr_record_t r = rec(HX, 80, CLASS_SERVICE, "http", VP1);
    char err[256];
    assert_int_equal(store_put_batch(f->s, id, 0, "vp1", &r, 1, err, sizeof err), LZR_OK);
    compare_t *c = compare_build(f->s, id, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->passes, 1);
    assert_int_equal(c->n_vantages, 0);
    compare_free(&c);
    assert_null(compare_build(f->s, 99, err, sizeof err));
    assert_non_null(strstr(err, "no job 99"));
    report_t *rep = report_build(f->s, id, err, sizeof err);
    assert_non_null(rep);
    report_free(&rep);

    uint64_t two = scan_two_vantages(f->s);
    store_close(&f->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP TABLE vantage_results; DROP INDEX shards_scan;"
            " ALTER TABLE jobs DROP COLUMN passes;"
            " ALTER TABLE shards DROP COLUMN pass;"
            " ALTER TABLE shards DROP COLUMN scan_ip;"
            " ALTER TABLE jobs DROP COLUMN reason;"
            " DROP INDEX results_seq; ALTER TABLE results DROP COLUMN seq;"
            " ALTER TABLE jobs DROP COLUMN span; ALTER TABLE jobs DROP COLUMN started_us;"
            " ALTER TABLE shards DROP COLUMN dropped; ALTER TABLE shards DROP COLUMN syns;"
            " ALTER TABLE shards DROP COLUMN frames; ALTER TABLE shards DROP COLUMN replies;"
            " ALTER TABLE shards DROP COLUMN pcap_drops; ALTER TABLE shards DROP COLUMN blocked;"
            " ALTER TABLE jobs DROP COLUMN size6; ALTER TABLE shards DROP COLUMN scan_ip6;"
            " PRAGMA user_version=3",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    store_t *ro = store_open_readonly(f->path, err, sizeof err);
    assert_non_null(ro);
    c = compare_build(ro, two, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->passes, 1);
    compare_free(&c);
    store_close(&ro);
    /* Opened for writing, it is upgraded to version 5 and the job reads as one pass. */
    f->s = store_open(f->path, err, sizeof err);
    assert_non_null(f->s);
    store_job_t row;
    assert_int_equal(store_job_get(f->s, two, &row), LZR_OK);
    assert_int_equal(row.passes, 1);
    store_job_clear(&row);
}

/* A job of both families compared from two workers, each with an IPv4 and an IPv6 scan IP:
 * the IPv6 scan IPs are vantages of their own, with the shards they finished and their share
 * of the IPv6 pairs; an IPv6 service one of them lost is an item, printed as [addr]:port. */
static void test_ipv6_vantages(void **state)
{
    fixture_t *f = *state;
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "cmp6");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "";
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.rate = 100;
    j.n_shards = 1;
    j.passes = 2;
    j.size = 300;
    j.size6 = 44;
    assert_int_equal(perm_init(&j.perm, j.size, 5), LZR_OK);
    uint64_t id = 0;
    char err[256];
    assert_int_equal(store_job_insert(f->s, &j, &id, err, sizeof err), LZR_OK);
    lzr_addr_t s6[2], host6;
    assert_int_equal(addr_parse("2001:2::a", &s6[0]), LZR_OK);
    assert_int_equal(addr_parse("2001:2::14", &s6[1]), LZR_OK);
    assert_int_equal(addr_parse("2001:2:0:16::5", &host6), LZR_OK);
    const char *who[2] = {"vp1", "vp2"};
    uint32_t v4[2] = {VP1, VP2};
    lzr_class_t cls[2] = {CLASS_SERVICE, CLASS_LOST_AFTER_SYNACK};
    for (uint32_t k = 0; k < 2; k++) {
        store_shard_t sh;
        assert_int_equal(store_shard_lease_next(f->s, id, who[k], v4[k], &s6[k], 0, 100, &sh),
                         LZR_OK);
        assert_int_equal(sh.idx, k);
        lzr_record_t r = rec(HX, 80, CLASS_SERVICE, "http", v4[k]);
        lzr_record_t r6 = r;
        r6.ip = host6;
        r6.source_ip = s6[k];
        r6.cls = cls[k];
        snprintf(r6.protocol, sizeof r6.protocol, "%s", k ? "" : "http");
        lzr_record_t both[2] = {r, r6};
        assert_int_equal(store_put_batch(f->s, id, k, who[k], both, 2, err, sizeof err), LZR_OK);
        assert_int_equal(store_shard_done(f->s, id, k, who[k]), LZR_OK);
    }
    compare_t *c = compare_build(f->s, id, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->n_vantages, 4);
    /* IPv4 first, then IPv6, as the store orders them */
    for (int k = 0; k < 2; k++) {
        const compare_vantage_t *v = &c->vantages[k], *v6 = &c->vantages[k + 2];
        assert_int_equal(v->ip.v4, v4[k]);
        assert_true(addr_equal(&v6->ip, &s6[k]));
        assert_int_equal(v6->shards, 1);
        assert_int_equal(v->targets, 256);
        assert_int_equal(v6->targets, 44);
        assert_string_equal(v6->worker, who[k]);
    }
    assert_int_equal(c->n_service_items, 1);
    assert_true(addr_equal(&c->items[0].ip, &host6));
    assert_true(addr_equal(&c->items[0].seen[0].source_ip, &s6[0]));
    char *out = NULL;
    size_t len = 0;
    FILE *fo = open_memstream(&out, &len);
    assert_int_equal(compare_write(c, COMPARE_TEXT, fo), LZR_OK);
    fclose(fo);
    assert_non_null(strstr(out, "[2001:2:0:16::5]:80"));
    assert_non_null(strstr(out, "2001:2::14"));
    assert_null(strstr(out, "0.0.0.0"));
    free(out);
    compare_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scheduler_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_pass_and_old_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_vantages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
