/*
 * coord_harness: what the coordinator's whole-program tests share. coord_serve runs on a thread
 * with a real database in a temporary directory and real ZeroMQ ipc sockets (CURVE when the test
 * asks for keys); the test plays the command line and workers by speaking the wire protocol.
 * Included by test_coord_flow.c and test_coord_trust.c only.
 */
#ifndef LZR_TEST_COORD_HARNESS_H
#define LZR_TEST_COORD_HARNESS_H

#include "common/err.h"
#include "common/wire.h"
#include "coordinator/coord.h"
#include "coordinator/job.h"
#include "coordinator/store.h"

#include <pthread.h>
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

#define HARNESS_UNUSED __attribute__((unused))

typedef struct server {
    char dir[64];
    char db[128];
    char listen[160];
    char control[160];
    char keys[160]; /* "" = no CURVE */
    coord_options_t opt;
    volatile sig_atomic_t stop;
    pthread_t thread;
    bool running; /* the thread is started and not joined yet */
    int rc;
    char err[512];
} server_t;

static void *serve_thread(void *arg)
{
    server_t *s = arg;
    s->rc = coord_serve(&s->opt, &s->stop, s->err, sizeof s->err);
    if (s->rc)
        fprintf(stderr, "coord_serve: %s\n", s->err);
    return NULL;
}

/* Starts the coordinator; returns once its control socket exists. */
static HARNESS_UNUSED void server_start(server_t *s)
{
    s->stop = 0;
    s->rc = 0;
    s->opt.listen = s->listen;
    s->opt.control = NULL;
    s->opt.db_path = s->db;
    s->opt.keys_dir = s->keys[0] ? s->keys : NULL;
    s->opt.lease_timeout_ms = 1500;
    s->opt.heartbeat_ms = 200;
    assert_int_equal(pthread_create(&s->thread, NULL, serve_thread, s), 0);
    s->running = true;
    for (int i = 0; i < 100 && access(s->control + 6, F_OK) != 0; i++)
        usleep(20000);
    assert_int_equal(access(s->control + 6, F_OK), 0);
}

/* Stops the coordinator and returns what coord_serve returned. */
static HARNESS_UNUSED int server_join(server_t *s)
{
    s->stop = 1;
    if (s->running)
        pthread_join(s->thread, NULL);
    s->running = false;
    return s->rc;
}

static HARNESS_UNUSED void server_stop(server_t *s)
{
    assert_int_equal(server_join(s), LZR_OK);
}

static HARNESS_UNUSED int harness_setup(void **state)
{
    server_t *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/lzr-coord-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->db, sizeof s->db, "%s/lzr.db", s->dir);
    snprintf(s->listen, sizeof s->listen, "ipc://%s/workers.sock", s->dir);
    coord_control_endpoint(s->db, s->control, sizeof s->control);
    *state = s;
    return 0;
}

/* Also after a failed check, which leaves the test early: the server thread is stopped before
 * what it reads is freed. */
static HARNESS_UNUSED int harness_teardown(void **state)
{
    server_t *s = *state;
    server_join(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", s->dir, s->dir);
    int rc = system(cmd);
    free(s);
    return rc == 0 ? 0 : -1;
}

/* A DEALER connected to ep; with CURVE when server_key (the coordinator's public key file)
 * and cert (the worker's key pair) are given. */
static HARNESS_UNUSED zsock_t *connect_curve(const char *ep, zcert_t *cert, zcert_t *server)
{
    zsock_t *z = zsock_new(ZMQ_DEALER);
    assert_non_null(z);
    zsock_set_linger(z, 0);
    zsock_set_rcvtimeo(z, 3000);
    if (cert && server) {
        zcert_apply(cert, z);
        zsock_set_curve_serverkey(z, zcert_public_txt(server));
    }
    assert_int_equal(zsock_connect(z, "%s", ep), 0);
    return z;
}

static HARNESS_UNUSED zsock_t *connect_to(const char *ep)
{
    return connect_curve(ep, NULL, NULL);
}

static HARNESS_UNUSED void send_env(zsock_t *z, Lzr__Envelope *env)
{
    char err[256];
    assert_int_equal(wire_send(z, NULL, env, err, sizeof err), LZR_OK);
}

/* Receives the next message of the wanted kind, skipping others (heartbeat-driven noise). */
static HARNESS_UNUSED Lzr__Envelope *expect(zsock_t *z, Lzr__Envelope__BodyCase want)
{
    for (int i = 0; i < 20; i++) {
        Lzr__Envelope *env = NULL;
        char err[256];
        int rc = wire_recv(z, NULL, NULL, &env, err, sizeof err);
        if (rc != LZR_OK)
            fail_msg("waiting for %s: %s", wire_body_name(want), err);
        if (env->body_case == want)
            return env;
        wire_free(&env);
    }
    fail_msg("no %s", wire_body_name(want));
    return NULL;
}

/* Whether a message of kind want arrives within ms (others are skipped). */
static HARNESS_UNUSED bool arrives(zsock_t *z, Lzr__Envelope__BodyCase want, int ms)
{
    zsock_set_rcvtimeo(z, ms);
    bool seen = false;
    for (int i = 0; i < 50 && !seen; i++) {
        Lzr__Envelope *env = NULL;
        char err[256];
        if (wire_recv(z, NULL, NULL, &env, err, sizeof err) != LZR_OK)
            break;
        seen = env->body_case == want;
        wire_free(&env);
    }
    zsock_set_rcvtimeo(z, 3000);
    return seen;
}

static HARNESS_UNUSED Lzr__Envelope *control(server_t *s, Lzr__Envelope *req)
{
    zsock_t *z = connect_to(s->control);
    send_env(z, req);
    Lzr__Envelope *rep = NULL;
    char err[256];
    assert_int_equal(wire_recv(z, NULL, NULL, &rep, err, sizeof err), LZR_OK);
    zsock_destroy(&z);
    return rep;
}

static HARNESS_UNUSED Lzr__Envelope *submit(server_t *s, const char *toml)
{
    Lzr__SubmitRequest r = LZR__SUBMIT_REQUEST__INIT;
    r.filename = "lab.toml";
    r.job_toml = (char *)toml;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SUBMIT;
    env.submit = &r;
    return control(s, &env);
}

static HARNESS_UNUSED void hello(zsock_t *z, const char *name, uint32_t ip, uint64_t job,
                                 uint32_t shard)
{
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = (char *)name;
    h.scan_ip = ip;
    Lzr__Lease lease = LZR__LEASE__INIT;
    if (job) {
        lease.job_id = job;
        lease.shard = shard;
        h.lease = &lease;
    }
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(z, &env);
}

/* A heartbeat for (job, shard); walk_done says the shard's SYN walk is done. */
static HARNESS_UNUSED void heartbeat_walk(zsock_t *z, uint64_t job, uint32_t shard, bool walk_done)
{
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    hb.lease = &lease;
    hb.targets_done = 5;
    hb.targets_total = 10;
    hb.walk_done = walk_done;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_env(z, &env);
}

static HARNESS_UNUSED void heartbeat(zsock_t *z, uint64_t job, uint32_t shard)
{
    heartbeat_walk(z, job, shard, false);
}

/* Submits the job file toml and returns the new job's id. */
static HARNESS_UNUSED uint64_t submit_job(server_t *s, const char *toml)
{
    Lzr__Envelope *rep = submit(s, toml);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_SUBMIT_REPLY);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    return job;
}

/* The targets of shard `shard` of the job file toml (planned with its own seed) in the order a
 * worker walks them: from the first-th on, at most n, into ip/port. Returns how many. */
static HARNESS_UNUSED size_t shard_targets(const char *toml, uint32_t shard, size_t first, size_t n,
                                           uint32_t *ip, uint16_t *port)
{
    char err[256];
    job_spec_t *spec = job_parse(toml, strlen(toml), "lab.toml", err, sizeof err);
    assert_non_null(spec);
    perm_params_t p;
    assert_int_equal(job_plan(spec, 0, 1, &p, err, sizeof err), LZR_OK);
    uint64_t b, e, el;
    perm_shard_range(&p, shard, spec->shards, &b, &e);
    perm_iter_t it;
    perm_iter_init(&it, &p, b, e);
    size_t k = 0, got = 0;
    while (got < n && perm_next(&it, &el)) {
        if (k++ < first)
            continue;
        ip[got] = targets_at(spec->set, el / spec->ports.n);
        port[got] = spec->ports.ports[el % spec->ports.n];
        got++;
    }
    job_destroy(&spec);
    return got;
}

/* A record as a worker would send it for (ip, port), seen from src. */
static HARNESS_UNUSED lzr_record_t make_record(uint32_t ip, uint16_t port, uint32_t src,
                                               lzr_class_t cls, const char *protocol)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(ip);
    r.port = port;
    r.source_ip = addr_ipv4(src);
    r.cls = cls;
    snprintf(r.protocol, sizeof r.protocol, "%s", protocol);
    r.ttl_synack = 64;
    r.window = 29200;
    r.ts_us = 1000000u + ip % 1000;
    return r;
}

static HARNESS_UNUSED void send_records(zsock_t *z, uint64_t job, uint32_t shard, uint64_t seq,
                                        const lzr_record_t *recs, size_t n)
{
    Lzr__Record *m = calloc(n ? n : 1, sizeof *m);
    Lzr__Record **mp = calloc(n ? n : 1, sizeof *mp);
    for (size_t i = 0; i < n; i++) {
        wire_record_from(&m[i], &recs[i]);
        mp[i] = &m[i];
    }
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__ResultBatch b = LZR__RESULT_BATCH__INIT;
    b.lease = &lease;
    b.seq = seq;
    b.n_records = n;
    b.records = mp;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    send_env(z, &env);
    free(m);
    free(mp);
}

/* Sends n http service records for targets first.. of shard (of job file toml), seen from src. */
static HARNESS_UNUSED void send_batch(zsock_t *z, const char *toml, uint64_t job, uint32_t shard,
                                      uint64_t seq, size_t first, size_t n, uint32_t src)
{
    uint32_t ip[64];
    uint16_t port[64];
    assert_true(n <= 64);
    assert_int_equal(shard_targets(toml, shard, first, n, ip, port), n);
    lzr_record_t recs[64];
    for (size_t i = 0; i < n; i++)
        recs[i] = make_record(ip[i], port[i], src, CLASS_SERVICE, "http");
    send_records(z, job, shard, seq, recs, n);
}

static HARNESS_UNUSED void shard_done_err(zsock_t *z, uint64_t job, uint32_t shard,
                                          const char *error)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__ShardDone d = LZR__SHARD_DONE__INIT;
    d.lease = &lease;
    d.error = (char *)(error ? error : "");
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SHARD_DONE;
    env.shard_done = &d;
    send_env(z, &env);
}

static HARNESS_UNUSED void shard_done(zsock_t *z, uint64_t job, uint32_t shard)
{
    shard_done_err(z, job, shard, NULL);
}

static HARNESS_UNUSED uint64_t results_in_db(server_t *s, uint64_t job)
{
    char err[256];
    store_t *st = store_open_readonly(s->db, err, sizeof err);
    assert_non_null(st);
    uint64_t n = 0;
    assert_int_equal(store_result_count(st, job, &n), LZR_OK);
    store_close(&st);
    return n;
}

static HARNESS_UNUSED void job_state(server_t *s, uint64_t job, char *state, size_t cap)
{
    char err[256];
    store_t *st = store_open_readonly(s->db, err, sizeof err);
    assert_non_null(st);
    store_job_t row;
    assert_int_equal(store_job_get(st, job, &row), LZR_OK);
    snprintf(state, cap, "%s", row.state);
    store_job_clear(&row);
    store_close(&st);
}

/* Waits up to 3 s for job to reach state. */
static HARNESS_UNUSED void wait_state(server_t *s, uint64_t job, const char *want)
{
    char st[16] = "";
    for (int i = 0; i < 60; i++) {
        job_state(s, job, st, sizeof st);
        if (strcmp(st, want) == 0)
            return;
        usleep(50000);
    }
    assert_string_equal(st, want);
}

#endif
