/*
 * Unit tests for coordinator/store on a real SQLite file in a temporary directory: schema and
 * WAL mode, jobs and shards tiling the permutation, leases (next, renew, expire, release),
 * idempotent result batches, and reading everything back after reopening.
 */
#include "common/clock.h"
#include "common/err.h"
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

static uint64_t add_job(store_t *s, uint64_t size, uint32_t shards)
{
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "t");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "targets = \"1.2.3.0/24\"\nports = \"80\"\n";
    j.seed = 9;
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.rate = 100;
    j.n_shards = shards;
    j.size = size;
    assert_int_equal(perm_init(&j.perm, size, 9), LZR_OK);
    j.created_us = 1;
    uint64_t id = 0;
    char err[256];
    assert_int_equal(store_job_insert(s, &j, &id, err, sizeof err), LZR_OK);
    assert_true(id > 0);
    return id;
}

/* store_contacted for two IPv4 addresses. */
static bool contacted4(store_t *s, uint32_t source_ip, uint32_t ip)
{
    lzr_addr_t a = addr_ipv4(source_ip), b = addr_ipv4(ip);
    return store_contacted(s, &a, &b);
}

static void test_schema_and_wal(void **state)
{
    fixture_t *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    const char *tables[] = {"jobs",     "shards",   "workers",     "results",
                            "verdicts", "contacts", "scan_sources"};
    for (size_t i = 0; i < 7; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        sqlite3_finalize(st);
    }
    /* A database from a newer lzr is refused. */
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    store_t *s2 = store_open(f->path, err, sizeof err);
    assert_null(s2);
    assert_non_null(strstr(err, "schema version 99"));
    assert_null(store_open_readonly(f->path, err, sizeof err));
}

static void test_job_and_shards(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 4);
    store_job_t j;
    assert_int_equal(store_job_get(f->s, id, &j), LZR_OK);
    assert_string_equal(j.state, "waiting");
    assert_string_equal(j.key_hex, "00112233445566778899aabbccddeeff");
    assert_string_equal(j.toml, "targets = \"1.2.3.0/24\"\nports = \"80\"\n");
    assert_int_equal(j.n_shards, 4);
    assert_int_equal(j.seed, 9);
    perm_params_t p;
    perm_init(&p, 1000, 9);
    assert_int_equal(j.perm.prime, p.prime);
    assert_int_equal(j.perm.generator, p.generator);
    assert_int_equal(j.perm.start, p.start);
    store_job_clear(&j);
    assert_int_equal(store_job_get(f->s, id + 1, &j), LZR_ENOTFOUND);

    /* Shards tile [0, cycle length) without gaps. */
    uint64_t next = 0;
    for (uint32_t i = 0; i < 4; i++) {
        store_shard_t sh;
        assert_int_equal(store_shard_get(f->s, id, i, &sh), LZR_OK);
        assert_int_equal(sh.pos_begin, next);
        assert_true(sh.pos_end > sh.pos_begin);
        assert_int_equal(sh.state, SHARD_PENDING);
        next = sh.pos_end;
    }
    assert_int_equal(next, perm_cycle_len(&p));

    uint64_t *ids;
    size_t n;
    assert_int_equal(store_job_ids(f->s, "waiting", &ids, &n), LZR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], id);
    free(ids);
    assert_int_equal(store_job_set_state(f->s, id, "running"), LZR_OK);
    assert_int_equal(store_job_ids(f->s, "waiting", &ids, &n), LZR_OK);
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(store_job_set_state(f->s, 999, "running"), LZR_ENOTFOUND);
}

static void test_leases(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 3);
    assert_int_equal(store_job_set_state(f->s, id, "running"), LZR_OK);
    store_shard_t a, b, c, d;
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", 1, NULL, 0, 100, &a), LZR_OK);
    assert_int_equal(a.idx, 0);
    assert_int_equal(a.state, SHARD_LEASED);
    assert_string_equal(a.owner, "w1");
    assert_int_equal(a.attempts, 0); /* failures, not leases */
    assert_int_equal(store_shard_lease_next(f->s, id, "w2", 1, NULL, 0, 100, &b), LZR_OK);
    assert_int_equal(b.idx, 1);
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", 1, NULL, 0, 300, &c), LZR_OK);
    assert_int_equal(c.idx, 2);
    assert_int_equal(store_shard_lease_next(f->s, id, "w3", 1, NULL, 0, 100, &d), LZR_ENOTFOUND);

    /* Only the owner renews. */
    assert_int_equal(store_shard_renew(f->s, id, 0, "w2", 500), LZR_ENOTFOUND);
    assert_int_equal(store_shard_renew(f->s, id, 0, "w1", 500), LZR_OK);
    uint32_t p, l, dn;
    assert_int_equal(store_shard_counts(f->s, id, &p, &l, &dn), LZR_OK);
    assert_int_equal(p, 0);
    assert_int_equal(l, 3);

    /* At t=200, w2's lease (100) expired; w1's (500 and 300) not. */
    int expired;
    assert_int_equal(store_shards_expire(f->s, 200, &expired), LZR_OK);
    assert_int_equal(expired, 1);
    assert_int_equal(store_shard_get(f->s, id, 1, &b), LZR_OK);
    assert_int_equal(b.state, SHARD_PENDING);
    assert_string_equal(b.owner, "");
    /* A pending shard can be taken back by renewing (a worker after a coordinator restart). */
    assert_int_equal(store_shard_renew(f->s, id, 1, "w2", 900), LZR_OK);
    assert_int_equal(store_shard_release(f->s, id, 1, "w1"), LZR_ENOTFOUND);
    assert_int_equal(store_shard_release(f->s, id, 1, "w2"), LZR_OK);
    assert_int_equal(store_shard_lease_next(f->s, id, "w3", 1, NULL, 0, 100, &d), LZR_OK);
    assert_int_equal(d.idx, 1);
    assert_int_equal(d.attempts, 0);

    /* Failures count only from the holder, and back off 1 s, 2 s, ... */
    uint32_t failures;
    uint64_t retry;
    assert_int_equal(store_shard_fail(f->s, id, 1, "w1", 1000, 1000000, &failures, &retry),
                     LZR_ENOTFOUND);
    assert_int_equal(store_shard_fail(f->s, id, 1, "w3", 1000, 1000000, &failures, &retry), LZR_OK);
    assert_int_equal(failures, 1);
    assert_int_equal(retry, 1000 + 1000000);
    assert_int_equal(store_shard_lease_next(f->s, id, "w3", 1, NULL, 2000, 100, &d), LZR_ENOTFOUND);
    assert_int_equal(store_shard_lease_next(f->s, id, "w3", 1, NULL, 1001000, 100, &d), LZR_OK);
    assert_int_equal(store_shard_fail(f->s, id, 1, "w3", 0, 1000000, &failures, &retry), LZR_OK);
    assert_int_equal(failures, 2);
    assert_int_equal(retry, 2000000);
    assert_int_equal(store_shard_lease_next(f->s, id, "w3", 1, NULL, 2000000, 100, &d), LZR_OK);

    /* Only the holder finishes a shard. */
    assert_int_equal(store_shard_done(f->s, id, 0, "w2"), LZR_ENOTFOUND);
    assert_int_equal(store_shard_done(f->s, id, 0, "w1"), LZR_OK);
    assert_int_equal(store_shard_done(f->s, id, 7, "w1"), LZR_ENOTFOUND);
    assert_int_equal(store_shard_renew(f->s, id, 0, "w1", 900), LZR_ENOTFOUND);
    assert_int_equal(store_shard_counts(f->s, id, &p, &l, &dn), LZR_OK);
    assert_int_equal(dn, 1);
    assert_int_equal(l, 2);
    store_shard_t s0;
    store_shard_get(f->s, id, 0, &s0);
    {
        uint64_t cnt;
        assert_int_equal(store_positions_done(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, s0.pos_end - s0.pos_begin);
    }

    /* Cancelling frees every lease. */
    assert_int_equal(store_job_set_state(f->s, id, "cancelled"), LZR_OK);
    assert_int_equal(store_shard_counts(f->s, id, &p, &l, &dn), LZR_OK);
    assert_int_equal(l, 0);
    assert_int_equal(p, 2);
    store_job_t j;
    assert_int_equal(store_job_get(f->s, id, &j), LZR_OK);
    assert_string_equal(j.state, "cancelled");
    assert_true(j.finished_us > 0);
    store_job_clear(&j);
    /* A cancelled job's shards cannot be taken back; the reason is kept. */
    assert_int_equal(store_shard_renew(f->s, id, 1, "w3", 900), LZR_ENOTFOUND);
    assert_int_equal(store_job_cancel(f->s, id, "shard 1 failed 5 times"), LZR_OK);
    char reason[64];
    store_job_reason(f->s, id, reason, sizeof reason);
    assert_string_equal(reason, "shard 1 failed 5 times");
}

typedef struct collected {
    lzr_record_t r[16];
    char worker[16][16];
    size_t n;
} collected_t;

static int collect(void *ctx, const lzr_record_t *r, const char *worker)
{
    collected_t *c = ctx;
    if (c->n < 16) {
        c->r[c->n] = *r;
        snprintf(c->worker[c->n], sizeof c->worker[0], "%s", worker);
        c->n++;
    }
    return 0;
}

static int collect_v(void *ctx, const lzr_record_t *r, const char *worker, const char *verdict)
{
    (void)verdict;
    return collect(ctx, r, worker);
}

/* results --follow: each row once, in the order it was first stored, from a reader that asks
 * again from where it left off; a row a later batch replaces is not handed over again. */
static void test_results_since(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 2), other = add_job(f->s, 1000, 2);
    char err[256];
    lzr_record_t b1[2] = {fixture_rec(0x01020309, 22, CLASS_SERVICE, "ssh"),
                          fixture_rec(0x01020301, 80, CLASS_ZERO_WINDOW, "")};
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", b1, 2, err, sizeof err), LZR_OK);
    assert_int_equal(store_put_batch(f->s, other, 0, "w1", b1, 2, err, sizeof err), LZR_OK);
    char err2[256];
    store_t *r = store_open_readonly(f->path, err2, sizeof err2);
    assert_non_null(r);
    int64_t after = -1;
    collected_t c = {0};
    assert_int_equal(store_results_since(r, id, NULL, NULL, &after, collect_v, &c), LZR_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.r[0].ip.v4, 0x01020309); /* stored order, not address order */
    assert_int_equal(c.r[1].ip.v4, 0x01020301);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_results_since(r, id, NULL, NULL, &after, collect_v, &c), LZR_OK);
    assert_int_equal(c.n, 0);
    lzr_record_t b2[2] = {fixture_rec(0x01020301, 80, CLASS_SERVICE, "http"),
                          fixture_rec(0x01020305, 443, CLASS_SERVICE, "tls")};
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", b2, 2, err, sizeof err), LZR_OK);
    assert_int_equal(store_results_since(r, id, NULL, NULL, &after, collect_v, &c), LZR_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.r[0].port, 443);
    uint64_t n = 0;
    assert_int_equal(store_result_count(f->s, id, &n), LZR_OK);
    assert_int_equal(n, 3);
    store_close(&r);
}

/* An IPv6 row is stored as its 16 bytes and read back as IPv6; the same (address, port) stored
 * again replaces it; IPv4 rows sort before IPv6 rows, and IPv6 rows bytewise. */
static void test_ipv6_rows(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 2);
    char err[256];
    lzr_record_t b[3] = {fixture_rec(0, 80, CLASS_SERVICE, "http"),
                         fixture_rec(0, 80, CLASS_ZERO_WINDOW, ""),
                         fixture_rec(0xC6120005, 80, CLASS_SERVICE, "http")};
    assert_int_equal(addr_parse("2001:2::1:b", &b[0].ip), LZR_OK);
    assert_int_equal(addr_parse("2001:2::a", &b[1].ip), LZR_OK);
    assert_int_equal(addr_parse("2001:2::1", &b[0].source_ip), LZR_OK);
    b[1].source_ip = b[0].source_ip;
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", b, 3, err, sizeof err), LZR_OK);
    b[1].cls = CLASS_SERVICE; /* a later service replaces the zero-window row */
    snprintf(b[1].protocol, sizeof b[1].protocol, "ssh");
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", &b[1], 1, err, sizeof err), LZR_OK);
    collected_t c = {0};
    assert_int_equal(store_results_each_verdict(f->s, id, NULL, NULL, collect_v, &c), LZR_OK);
    assert_int_equal(c.n, 3);
    char t[ADDR_TEXT_MAX];
    assert_int_equal(c.r[0].ip.family, ADDR_IPV4);
    assert_string_equal(addr_format(&c.r[1].ip, t), "2001:2::a");
    assert_string_equal(c.r[1].protocol, "ssh");
    assert_string_equal(addr_format(&c.r[1].source_ip, t), "2001:2::1");
    assert_string_equal(addr_format(&c.r[2].ip, t), "2001:2::1:b");
}

static void test_batches(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 2);
    lzr_record_t b1[3] = {fixture_rec(0x01020304, 22, CLASS_SERVICE, "ssh"),
                          fixture_rec(0x01020304, 80, CLASS_ZERO_WINDOW, ""),
                          fixture_rec(0x01020305, 22, CLASS_SERVICE, "unknown")};
    char err[256];
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", b1, 3, err, sizeof err), LZR_OK);
    /* Re-sent batch: no new rows. */
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", b1, 3, err, sizeof err), LZR_OK);
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 3);
    }
    /* Re-scan by another worker: a later non-service result does not erase a service; a
     * later service replaces a non-service. */
    lzr_record_t b2[2] = {fixture_rec(0x01020304, 22, CLASS_LOST_AFTER_SYNACK, ""),
                          fixture_rec(0x01020304, 80, CLASS_SERVICE, "http")};
    b2[0].source_ip = b2[1].source_ip = addr_ipv4(0xC6120201);
    assert_int_equal(store_put_batch(f->s, id, 0, "w2", b2, 2, err, sizeof err), LZR_OK);
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 3);
    }

    collected_t c = {0};
    assert_int_equal(store_results_each(f->s, id, NULL, NULL, collect, &c), LZR_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.r[0].port, 22);
    assert_int_equal(c.r[0].cls, CLASS_SERVICE);
    assert_string_equal(c.r[0].protocol, "ssh");
    assert_string_equal(c.worker[0], "w1");
    assert_int_equal(c.r[0].data_len, 3);
    assert_memory_equal(c.r[0].data, "SSH", 3);
    assert_int_equal(c.r[1].port, 80);
    assert_int_equal(c.r[1].cls, CLASS_SERVICE);
    assert_string_equal(c.r[1].protocol, "http");
    assert_string_equal(c.worker[1], "w2");
    assert_int_equal(c.r[1].source_ip.v4, 0xC6120201);

    memset(&c, 0, sizeof c);
    assert_int_equal(store_results_each(f->s, id, "service", "unknown", collect, &c), LZR_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.r[0].ip.v4, 0x01020305);

    /* The two scan IPs are noted once each for the job, not once per result, and each is
     * burned for every host (a scan probes all its targets); other addresses stay fresh. */
    sqlite3 *db;
    sqlite3_open(f->path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM scan_sources WHERE job_id = ?", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM contacts", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(contacted4(f->s, 0xC6120101, 0x01020304));
    assert_true(contacted4(f->s, 0xC6120201, 0x09090909));
    assert_false(contacted4(f->s, 0xC6120301, 0x01020304));
    uint32_t fresh = 0xC6120301, host = 0x01020304;
    lzr_addr_t fresh_a = addr_ipv4(fresh), host_a = addr_ipv4(host);
    assert_int_equal(store_contacts_add(f->s, id, &fresh_a, &host_a, 1, 7), LZR_OK);
    assert_true(contacted4(f->s, fresh, host));
    assert_false(contacted4(f->s, fresh, 0x01020305));

    /* Reopen read-only: the same rows. */
    store_t *ro = store_open_readonly(f->path, err, sizeof err);
    assert_non_null(ro);
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(ro, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 3);
    }
    store_close(&ro);
}

/* A version-2 database (contacts filled per result, no scan_sources) is upgraded in place:
 * the scan IPs of its results are burned as scan sources. */
static void test_upgrade_from_v2(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 2);
    lzr_record_t r = fixture_rec(0x01020304, 22, CLASS_SERVICE, "ssh");
    r.source_ip = addr_ipv4(0xC6120401);
    char err[256];
    assert_int_equal(store_put_batch(f->s, id, 0, "w1", &r, 1, err, sizeof err), LZR_OK);
    store_close(&f->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP TABLE scan_sources; DROP TABLE vantage_results; DROP INDEX shards_scan;"
            " ALTER TABLE jobs DROP COLUMN passes; ALTER TABLE shards DROP COLUMN pass;"
            " ALTER TABLE shards DROP COLUMN scan_ip; ALTER TABLE jobs DROP COLUMN reason;"
            " DROP INDEX results_seq; ALTER TABLE results DROP COLUMN seq;"
            " ALTER TABLE jobs DROP COLUMN span; ALTER TABLE jobs DROP COLUMN started_us;"
            " ALTER TABLE shards DROP COLUMN dropped; ALTER TABLE shards DROP COLUMN syns;"
            " ALTER TABLE shards DROP COLUMN frames; ALTER TABLE shards DROP COLUMN replies;"
            " ALTER TABLE shards DROP COLUMN pcap_drops; ALTER TABLE shards DROP COLUMN blocked;"
            " ALTER TABLE jobs DROP COLUMN size6; ALTER TABLE shards DROP COLUMN scan_ip6;"
            " PRAGMA user_version=2",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    f->s = store_open(f->path, err, sizeof err);
    assert_non_null(f->s);
    assert_true(contacted4(f->s, 0xC6120401, 0x05060708));
    assert_false(contacted4(f->s, 0xC6120402, 0x01020304));
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 1);
    }
}

static void test_batch_atomic(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 1);
    /* A trigger makes the third insert fail: the batch leaves no row behind; without the
     * trigger the same batch commits whole. */
    sqlite3 *db;
    sqlite3_open(f->path, &db);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER boom BEFORE INSERT ON results WHEN NEW.port = 3"
                                  " BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    lzr_record_t b[3] = {fixture_rec(1, 1, CLASS_CLOSED, ""), fixture_rec(2, 2, CLASS_CLOSED, ""),
                         fixture_rec(3, 3, CLASS_CLOSED, "")};
    char err[256] = "";
    assert_int_equal(store_put_batch(f->s, id, 0, "w", b, 3, err, sizeof err), LZR_EDB);
    assert_non_null(strstr(err, "boom"));
    assert_false(store_put_outage(f->s)); /* the rows' fault, not the database's */
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 0);
    }
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_put_batch(f->s, id, 0, "w", b, 3, err, sizeof err), LZR_OK);
    {
        uint64_t cnt;
        assert_int_equal(store_result_count(f->s, id, &cnt), LZR_OK);
        assert_int_equal(cnt, 3);
    }
    /* Workers. */
    assert_int_equal(
        store_worker_upsert(f->s, "w1", "KEY", 0xC6120102, "198.18.1.3", "eth0", "0.1", 10),
        LZR_OK);
    assert_int_equal(store_worker_upsert(f->s, "w1", "KEY", 0xC6120104, "", "eth1", "0.1", 20),
                     LZR_OK);
    assert_int_equal(store_worker_seen(f->s, "w1", 30), LZR_OK);
    sqlite3_open(f->path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT scan_ip, first_seen_us, last_seen_us FROM workers", -1, &st,
                       NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "198.18.1.4");
    assert_int_equal(sqlite3_column_int(st, 1), 10);
    assert_int_equal(sqlite3_column_int(st, 2), 30);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* A name is bound to its key until revoked. */
    char key[64];
    assert_int_equal(store_worker_key(f->s, "w1", key, sizeof key), LZR_OK);
    assert_string_equal(key, "KEY");
    assert_int_equal(store_worker_key(f->s, "w9", key, sizeof key), LZR_ENOTFOUND);
    assert_int_equal(store_worker_revoke(f->s, "w1"), LZR_OK);
    assert_int_equal(store_worker_key(f->s, "w1", key, sizeof key), LZR_ENOTFOUND);
    assert_int_equal(store_worker_revoke(f->s, "w1"), LZR_ENOTFOUND);
}

/* A count the database cannot give is an error, never a zero. */
static void test_count_errors(void **state)
{
    fixture_t *f = *state;
    uint64_t id = add_job(f->s, 1000, 1);
    uint64_t n = 7;
    assert_int_equal(store_result_count(f->s, id, &n), LZR_OK);
    assert_int_equal(n, 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE results RENAME TO gone_results;"
                                  " ALTER TABLE verdicts RENAME TO gone_verdicts;"
                                  " ALTER TABLE shards RENAME TO gone_shards",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    n = 7;
    assert_int_equal(store_result_count(f->s, id, &n), LZR_EDB);
    assert_int_equal(n, 0);
    assert_int_equal(store_verdict_count(f->s, id, &n), LZR_EDB);
    assert_int_equal(store_candidate_count(f->s, id, 1, &n), LZR_EDB);
    assert_int_equal(store_positions_done(f->s, id, &n), LZR_EDB);
    uint32_t p, l, d;
    assert_int_equal(store_shard_counts(f->s, id, &p, &l, &d), LZR_EDB);
}

/* Job bounds: a job with a span keeps its shards inside it; running stamps started_us once; at
 * max_runtime the pending shards are dropped (done, not scanned) and counted apart. */
static void test_bounds(void **state)
{
    fixture_t *f = *state;
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "b");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "targets = \"1.2.3.0/24\"\nports = \"80\"\n";
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.rate = 100;
    j.n_shards = 4;
    j.size = 1000;
    assert_int_equal(perm_init(&j.perm, j.size, 3), LZR_OK);
    j.span = perm_prefix_end(&j.perm, 100);
    uint64_t id = 0;
    char err[256];
    assert_int_equal(store_job_insert(f->s, &j, &id, err, sizeof err), LZR_OK);
    store_job_t row;
    assert_int_equal(store_job_get(f->s, id, &row), LZR_OK);
    assert_int_equal(row.span, j.span);
    assert_int_equal(row.started_us, 0);
    store_job_clear(&row);
    store_shard_t last;
    assert_int_equal(store_shard_get(f->s, id, 3, &last), LZR_OK);
    assert_int_equal(last.pos_end, j.span);

    uint64_t before = clock_wall_us();
    assert_int_equal(store_job_set_state(f->s, id, "running"), LZR_OK);
    assert_int_equal(store_job_get(f->s, id, &row), LZR_OK);
    uint64_t started = row.started_us;
    store_job_clear(&row);
    assert_true(started + 1000 >= before && started <= clock_wall_us() + 1000);
    assert_int_equal(store_job_set_state(f->s, id, "running"), LZR_OK);
    assert_int_equal(store_job_get(f->s, id, &row), LZR_OK);
    assert_int_equal(row.started_us, started); /* the first start counts */
    store_job_clear(&row);

    store_shard_t sh;
    assert_int_equal(store_shard_lease_next(f->s, id, "w1", 1, NULL, 0, UINT64_MAX / 2, &sh),
                     LZR_OK);
    uint32_t n = 0;
    assert_int_equal(store_shards_drop(f->s, id, &n), LZR_OK);
    assert_int_equal(n, 3);
    uint32_t ndrop = 0;
    assert_int_equal(store_shards_dropped(f->s, id, &ndrop), LZR_OK);
    assert_int_equal(ndrop, 3);
    uint32_t pending, leased, done;
    assert_int_equal(store_shard_counts(f->s, id, &pending, &leased, &done), LZR_OK);
    assert_int_equal(pending, 0);
    assert_int_equal(leased, 1);
    assert_int_equal(done, 3);
    uint64_t pos = 7;
    assert_int_equal(store_positions_done(f->s, id, &pos), LZR_OK);
    assert_int_equal(pos, 0); /* dropped is not scanned */
    assert_int_equal(store_shard_done(f->s, id, sh.idx, "w1"), LZR_OK);
    assert_int_equal(store_positions_done(f->s, id, &pos), LZR_OK);
    assert_int_equal(pos, sh.pos_end - sh.pos_begin);
    assert_int_equal(store_shards_drop(f->s, id, &n), LZR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_job_note(f->s, id, "max_runtime reached"), LZR_OK);
    char reason[64];
    store_job_reason(f->s, id, reason, sizeof reason);
    assert_string_equal(reason, "max_runtime reached");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_and_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
