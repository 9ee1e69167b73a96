/*
 * Tests of the scheduler (coord_sched) on its own: a coordinator state with a real store in a
 * scratch directory and sessions made by hand, one sched_run at a time, checked against the
 * sessions and the store. The worker socket is a real ROUTER with no peers, so what the
 * scheduler sends goes nowhere. Covered: a waiting job starts only with enough workers;
 * shards go one per idle worker and the rate is split over the holders; a new worker gets a
 * shard and the others a smaller share; a silent worker's shard goes to another in the same
 * pass; a ShardDone the store did not take is stored by the next pass that can write, and
 * the job closes; during a back-off the pass changes nothing; pipelined shards: one more lease
 * only after the worker's walk is done, up to the draining leases its Hello allows (one for a
 * worker that did not say), the draining leases not counted in the rate split, each finished
 * on its own, and a silent worker's leases all back to the pool.
 */
#include "common/clock.h"
#include "common/err.h"
#include "coordinator/coord_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct fixture {
    char dir[64];
    coord_options_t opt;
    coord_t *c;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/lzr-sched-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    char db[128], err[256];
    snprintf(db, sizeof db, "%s/lzr.db", f->dir);
    f->opt.lease_timeout_ms = 1500;
    f->opt.heartbeat_ms = 200;
    coord_t *c = calloc(1, sizeof *c);
    c->opt = &f->opt;
    c->lease_timeout_us = 1500000;
    c->store = store_open(db, err, sizeof err);
    c->workers = zsock_new(ZMQ_ROUTER);
    if (!c->store || !c->workers)
        return -1;
    zsock_set_sndtimeo(c->workers, 0);
    f->c = c;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    coord_t *c = f->c;
    for (size_t i = 0; i < c->n_jobs; i++)
        jobrt_free(&c->jobs[i]);
    free(c->jobs);
    verify_job_free(&c->verify);
    zsock_destroy(&c->workers);
    store_close(&c->store);
    free(c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Stores a job as `lzr-coord submit` does; returns its id. */
static uint64_t add_job(coord_t *c, uint32_t shards, uint32_t rate, uint32_t min_workers)
{
    char toml[512], err[256];
    snprintf(toml, sizeof toml,
             "name = \"sched\"\ntargets = \"198.18.4.0/24\"\nallow_reserved = \"198.18.0.0/15\"\n"
             "ports = \"80\"\nrate = %u\nshards = %u\nseed = 3\n[vantage]\nmin_workers = %u\n",
             rate, shards, min_workers);
    job_spec_t *j = job_parse(toml, strlen(toml), "sched.toml", err, sizeof err);
    assert_non_null(j);
    store_job_t row;
    memset(&row, 0, sizeof row);
    assert_int_equal(job_plan(j, 3, 1, &row.perm, err, sizeof err), LZR_OK);
    cookie_key_t key;
    cookie_key_random(&key);
    cookie_key_to_hex(&key, row.key_hex);
    snprintf(row.name, sizeof row.name, "sched");
    snprintf(row.filename, sizeof row.filename, "sched.toml");
    row.toml = toml;
    row.seed = j->seed;
    row.rate = j->rate;
    row.n_shards = j->shards;
    row.passes = j->compare;
    row.size = j->size;
    uint64_t id = 0;
    assert_int_equal(store_job_insert(c->store, &row, &id, err, sizeof err), LZR_OK);
    job_destroy(&j);
    return id;
}

static session_t *add_session(coord_t *c, const char *name, uint32_t ip)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used)
            continue;
        s->used = true;
        snprintf(s->name, sizeof s->name, "%s", name);
        memcpy(s->rid, name, strlen(name));
        s->rid_len = strlen(name);
        s->scan_ip = ip;
        s->last_seen_us = clock_wall_us();
        return s;
    }
    fail_msg("no free session");
    return NULL;
}

static void job_is(coord_t *c, uint64_t id, const char *state)
{
    store_job_t row;
    assert_int_equal(store_job_get(c->store, id, &row), LZR_OK);
    assert_string_equal(row.state, state);
    store_job_clear(&row);
}

static void counts_are(coord_t *c, uint64_t id, uint32_t pending, uint32_t leased, uint32_t done)
{
    uint32_t p, l, d;
    assert_int_equal(store_shard_counts(c->store, id, &p, &l, &d), LZR_OK);
    assert_int_equal(p, pending);
    assert_int_equal(l, leased);
    assert_int_equal(d, done);
}

static void test_start_lease_and_split(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    uint64_t job = add_job(c, 3, 90, 2);
    session_t *a = add_session(c, "a", 0xC6120101);
    sched_run(c);
    job_is(c, job, "waiting"); /* two workers wanted, one connected */
    assert_false(a->has_lease);

    session_t *b = add_session(c, "b", 0xC6120201);
    sched_run(c);
    job_is(c, job, "running");
    assert_true(a->has_lease && b->has_lease);
    assert_int_not_equal(a->shard, b->shard);
    assert_int_equal(a->rate, 45); /* 90/s over two holders */
    assert_int_equal(b->rate, 45);
    counts_are(c, job, 1, 2, 0);

    /* A third worker takes the last shard; the others' share drops to a third. */
    session_t *d = add_session(c, "d", 0xC6120301);
    sched_run(c);
    assert_true(d->has_lease);
    assert_int_equal(a->rate, 30);
    assert_int_equal(b->rate, 30);
    assert_int_equal(d->rate, 30);
    counts_are(c, job, 0, 3, 0);
}

static void test_silent_worker_replaced(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    uint64_t job = add_job(c, 1, 10, 1);
    session_t *a = add_session(c, "a", 0xC6120101);
    sched_run(c);
    assert_true(a->has_lease);
    session_t *b = add_session(c, "b", 0xC6120201);
    sched_run(c);
    assert_false(b->has_lease); /* one shard, held */

    a->last_seen_us = clock_wall_us() - 2000000; /* silent past the lease timeout */
    sched_run(c);
    assert_false(a->used);
    assert_true(b->has_lease);
    assert_int_equal(b->shard, 0);
    store_shard_t sh;
    assert_int_equal(store_shard_get(c->store, job, 0, &sh), LZR_OK);
    assert_string_equal(sh.owner, "b");
    assert_true(session_held_before(c, "a", job, 0));
}

static void test_unstored_done_then_job_done(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    uint64_t job = add_job(c, 1, 10, 1);
    session_t *a = add_session(c, "a", 0xC6120101);
    sched_run(c);
    assert_true(a->has_lease);

    /* The worker's ShardDone met a back-off: nothing changes until it ends. */
    a->done_unstored = true;
    c->db_retry_us = clock_wall_us() + 60000000;
    c->db_failing = true;
    sched_run(c);
    counts_are(c, job, 0, 1, 0);
    job_is(c, job, "running");
    assert_true(a->has_lease);

    /* The back-off is over: the pass stores the shard done and closes the job. */
    c->db_retry_us = 0;
    sched_run(c);
    assert_false(c->db_failing);
    assert_false(a->done_unstored);
    assert_false(a->has_lease);
    counts_are(c, job, 0, 0, 1);
    job_is(c, job, "done");
    assert_null(jobrt_find(c, job));
}

/* Shard of job id in the store is owned by name and leased. */
static void owned_by(coord_t *c, uint64_t job, uint32_t shard, const char *name)
{
    store_shard_t sh;
    assert_int_equal(store_shard_get(c->store, job, shard, &sh), LZR_OK);
    assert_string_equal(sh.owner, name);
    assert_int_equal(sh.state, SHARD_LEASED);
}

/* A worker whose walk is done takes one more shard, its earlier lease draining beside it, until
 * it holds as many draining leases as its Hello said it can (COORD_MAX_DRAINS here), never
 * more; the draining leases send no SYN, so the rate is split over the shards being walked. */
static void test_drains_after_walk_done(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    const uint32_t k = COORD_MAX_DRAINS;
    uint64_t job = add_job(c, k + 2, 100, 1);
    session_t *a = add_session(c, "a", 0xC6120101);
    a->max_drains = k;
    sched_run(c);
    assert_true(a->has_lease);
    sched_run(c);
    assert_int_equal(session_drain_count(a), 0); /* its walk is not done: one lease */
    counts_are(c, job, k + 1, 1, 0);

    for (uint32_t n = 1; n <= k; n++) {
        uint32_t walked = a->shard;
        a->walk_done = true;
        sched_run(c);
        assert_int_equal(session_drain_count(a), n);
        assert_non_null(session_draining(a, job, walked));
        assert_null(session_draining(a, job, a->shard));
        assert_int_not_equal(a->shard, walked);
        assert_false(a->walk_done); /* the new lease's walk starts */
        owned_by(c, job, walked, "a");
        owned_by(c, job, a->shard, "a");
        counts_are(c, job, k + 1 - n, n + 1, 0);
        assert_int_equal(a->rate, 100);
    }

    /* Its last walk is done too: still k draining leases, the last shard stays in the pool. */
    a->walk_done = true;
    sched_run(c);
    assert_int_equal(session_drain_count(a), k);
    counts_are(c, job, 1, k + 1, 0);

    /* Two more workers: one takes the last shard, one idles. Three sessions, but two shards
     * walked: 50/s each (the draining leases are not holders). */
    session_t *b = add_session(c, "b", 0xC6120201);
    session_t *d = add_session(c, "d", 0xC6120301);
    sched_run(c);
    assert_true(b->has_lease != d->has_lease);
    counts_are(c, job, 0, k + 2, 0);
    assert_int_equal(a->rate, 50);
    assert_int_equal((b->has_lease ? b : d)->rate, 50);

    /* Each draining shard is done in turn: a holds its walking lease alone. */
    for (uint32_t n = 0; n < k; n++) {
        drain_lease_t *dl = &a->drains[n];
        assert_true(dl->held);
        sched_drain_finished(c, a, dl);
        assert_false(dl->held);
        counts_are(c, job, 0, k + 1 - n, n + 1);
    }
    assert_int_equal(session_drain_count(a), 0);
    assert_true(a->has_lease);
}

/* A worker whose Hello did not say how many draining leases it can hold (max_drains 0: one from
 * before the field) keeps one at most, as it did. */
static void test_older_worker_one_drain(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    uint64_t job = add_job(c, 3, 100, 1);
    session_t *a = add_session(c, "a", 0xC6120101);
    sched_run(c);
    a->walk_done = true;
    sched_run(c);
    assert_int_equal(session_drain_count(a), 1);
    a->walk_done = true;
    sched_run(c);
    assert_int_equal(session_drain_count(a), 1);
    counts_are(c, job, 1, 2, 0);
}

/* A worker that dies holding several leases: all go back to the pool in the pass that ends it,
 * and its batches for any of them are still let in as re-sends. */
static void test_silent_worker_many_leases(void **state)
{
    coord_t *c = ((fixture_t *)*state)->c;
    uint64_t job = add_job(c, 5, 100, 1);
    session_t *a = add_session(c, "a", 0xC6120101);
    a->max_drains = COORD_MAX_DRAINS;
    sched_run(c);
    uint32_t held[4];
    for (size_t i = 0; i < 4; i++) {
        held[i] = a->shard;
        a->walk_done = i < 3;
        sched_run(c);
    }
    assert_int_equal(session_drain_count(a), 3);
    for (size_t i = 0; i < 4; i++)
        assert_true(session_holds(a, job, held[i]));
    assert_null(session_draining(a, job, held[3])); /* the one it walks */
    counts_are(c, job, 1, 4, 0);

    a->last_seen_us = clock_wall_us() - 2000000; /* silent past the lease timeout */
    sched_run(c);
    assert_false(a->used);
    counts_are(c, job, 5, 0, 0);
    for (size_t i = 0; i < 4; i++)
        assert_true(session_held_before(c, "a", job, held[i]));

    session_t *b = add_session(c, "b", 0xC6120201);
    sched_run(c);
    assert_true(b->has_lease);
    assert_int_equal(session_drain_count(b), 0);
    counts_are(c, job, 4, 1, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_lease_and_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_worker_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unstored_done_then_job_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drains_after_walk_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_worker_one_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_worker_many_leases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
