/*
 * The worker's agent against a coordinator played by the test: agent_run on a thread, a real
 * ROUTER socket over ipc:// with CURVE and the ZAP authenticator set up as the coordinator sets
 * them up (key files as `lzr-coord keygen` writes them), and the real protobuf messages. Only
 * the probe engine is replaced (through agent_options_t.engine), since a unit test has no raw
 * sockets: the stand-in walks the shard's permutation exactly as the engine does and emits one
 * record per element, honouring `hold`, `rate` and the stop flag. Covered: Hello → Welcome →
 * Assign → every record of the shard in acked batches → ShardDone; a batch left unacked is sent
 * again, and ShardDone waits for its Ack; an unacked coordinator holds the engine instead of
 * losing records; Cancel; a Welcome that gives the shard away; an engine failure; a fatal
 * Refuse; an unknown worker key; a verification request with real loopback connections;
 * pipelined shards (each assigned once the one before has walked, LZR_MAX_DRAINS draining beside
 * the walking one and no more, each batch holding one shard's records; after a coordinator
 * restart the Hello names every draining lease, and the one its Welcome does not keep stops).
 */
#include "common/err.h"
#include "common/permutation.h"
#include "common/verdict.h"
#include "common/wire.h"
#include "worker/agent.h"
#include "worker/agent_cli.h"
#include "worker/batchwin.h"

#include <czmq.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define SCAN_IP  0x7f000001u /* 127.0.0.1: the verification test connects from it */
#define FRESH_IP 0x7f000002u
#define JOB      7u

/* What the stand-in engine does (set before the Assign). */
static volatile bool fake_fail;
static volatile uint64_t fake_holds; /* ms the stand-in waited on `hold`, over all runs */
/* Pipelined runs: the walk emits the even elements and reports walk_done; the odd ones (the
 * "tails") follow once the test opens the shard's gate (fake_gate[shard] = its pos_begin + 1). */
#define PIPE_SHARDS (LZR_MAX_DRAINS + 2)
static volatile bool fake_pipe;
static volatile uint64_t fake_gate[PIPE_SHARDS];
static volatile int fake_running; /* stand-in engines running now */
/* The source ports each stand-in run was given, in the order the runs started. */
static uint16_t fake_ports[PIPE_SHARDS + 1][2];
static volatile int fake_started;
/* How the last stand-in run was told to send: the agent's options, through the shard's config. */
static volatile send_path_t fake_send_path;
static volatile uint32_t fake_send_threads;

/* Whether the gate of the shard starting at pos_begin is open. */
static bool fake_gate_open(uint64_t pos_begin)
{
    for (size_t i = 0; i < PIPE_SHARDS; i++)
        if (fake_gate[i] == pos_begin + 1)
            return true;
    return false;
}

/* Emits the record of element el of the shard cfg describes. */
static void fake_emit(const engine_config_t *cfg, uint64_t el, engine_emit_fn emit, void *ctx,
                      engine_stats_t *st)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(targets_at(cfg->targets, el / cfg->ports->n));
    r.port = cfg->ports->ports[el % cfg->ports->n];
    r.source_ip = addr_ipv4(cfg->source_ip);
    r.cls = CLASS_SERVICE;
    snprintf(r.protocol, sizeof r.protocol, "http");
    r.data_len = (uint16_t)(el % 100);
    memset(r.data, 'x', r.data_len);
    st->hits++;
    emit(ctx, &r);
}

/* The tails of a pipelined run: waits for the shard's gate, then emits the odd elements. */
static void fake_tails(const engine_config_t *cfg, engine_control_t *ctl, engine_emit_fn emit,
                       engine_tick_fn tick, void *ctx, engine_stats_t *st)
{
    st->walk_done = true;
    tick(ctx, st);
    while (!fake_gate_open(cfg->pos_begin) && !atomic_load(&ctl->stop))
        usleep(1000);
    perm_iter_t it;
    perm_iter_init(&it, &cfg->perm, cfg->pos_begin, cfg->pos_end);
    uint64_t el;
    while (!atomic_load(&ctl->stop) && perm_next(&it, &el))
        if (el & 1)
            fake_emit(cfg, el, emit, ctx, st);
}

static int fake_engine(const engine_config_t *cfg, engine_control_t *ctl, engine_emit_fn emit,
                       engine_tick_fn tick, void *ctx, engine_stats_t *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->targets_total = cfg->pos_end - cfg->pos_begin;
    if (fake_fail) {
        snprintf(err, errlen, "stand-in engine failure");
        return LZR_EIO;
    }
    fake_send_path = cfg->send_path;
    fake_send_threads = cfg->send_threads;
    int k = __atomic_fetch_add(&fake_started, 1, __ATOMIC_SEQ_CST);
    if (k < PIPE_SHARDS + 1) {
        fake_ports[k][0] = cfg->sport_lo;
        fake_ports[k][1] = cfg->sport_hi;
    }
    __atomic_add_fetch(&fake_running, 1, __ATOMIC_SEQ_CST);
    perm_iter_t it;
    perm_iter_init(&it, &cfg->perm, cfg->pos_begin, cfg->pos_end);
    uint64_t el;
    while (!atomic_load(&ctl->stop) && perm_next(&it, &el)) {
        while (atomic_load(&ctl->hold) && !atomic_load(&ctl->stop)) {
            usleep(1000);
            st->hold_wait_ms++;
            fake_holds++;
        }
        st->targets_done++;
        st->syns++;
        st->sent++;
        if (!fake_pipe || !(el & 1))
            fake_emit(cfg, el, emit, ctx, st);
        if ((st->targets_done & 63) == 0)
            tick(ctx, st);
        if (cfg->rate)
            usleep(1000000u / cfg->rate);
    }
    if (fake_pipe)
        fake_tails(cfg, ctl, emit, tick, ctx, st);
    __atomic_sub_fetch(&fake_running, 1, __ATOMIC_SEQ_CST);
    return LZR_OK;
}

typedef struct fixture {
    char dir[64];
    char ep[160];
    char cdir[160], wdir[160]; /* the coordinator's keys (workers/ inside), the worker's */
    zcert_t *coord;
    zactor_t *auth;
    zsock_t *router;
    zframe_t *rid; /* the agent's routing id, from its first message */
    agent_options_t opt;
    volatile sig_atomic_t stop;
    pthread_t thread;
    bool running;
    int rc;
    char err[512];
} fixture_t;

static void make_keys(fixture_t *f, bool admit)
{
    char path[256];
    snprintf(f->cdir, sizeof f->cdir, "%s/coord", f->dir);
    snprintf(f->wdir, sizeof f->wdir, "%s/w1", f->dir);
    snprintf(path, sizeof path, "%s/workers", f->cdir);
    assert_int_equal(mkdir(f->cdir, 0700), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(mkdir(f->wdir, 0700), 0);
    f->coord = zcert_new();
    snprintf(path, sizeof path, "%s/coordinator.key", f->cdir);
    assert_int_equal(zcert_save(f->coord, path), 0);
    snprintf(path, sizeof path, "%s/coordinator.key", f->wdir);
    assert_int_equal(zcert_save_public(f->coord, path), 0);
    zcert_t *w = zcert_new();
    snprintf(path, sizeof path, "%s/worker.key", f->wdir);
    assert_int_equal(zcert_save(w, path), 0);
    if (admit) {
        snprintf(path, sizeof path, "%s/workers/w1.key", f->cdir);
        assert_int_equal(zcert_save_public(w, path), 0);
    }
    zcert_destroy(&w);
}

/* The coordinator's side: a CURVE server ROUTER whose ZAP handler admits keys in workers/. */
static void bind_router(fixture_t *f)
{
    char wkeys[256];
    snprintf(wkeys, sizeof wkeys, "%s/workers", f->cdir);
    f->auth = zactor_new(zauth, NULL);
    assert_non_null(f->auth);
    zstr_sendx(f->auth, "CURVE", wkeys, NULL);
    zsock_wait(f->auth);
    f->router = zsock_new(ZMQ_ROUTER);
    assert_non_null(f->router);
    zsock_set_linger(f->router, 0);
    zsock_set_rcvtimeo(f->router, 8000);
    zcert_apply(f->coord, f->router);
    zsock_set_curve_server(f->router, 1);
    zsock_set_zap_domain(f->router, "lzr");
    assert_true(zsock_bind(f->router, "%s", f->ep) >= 0);
}

static void *agent_thread(void *arg)
{
    fixture_t *f = arg;
    f->rc = agent_run(&f->opt, &f->stop, f->err, sizeof f->err);
    return NULL;
}

static void start_agent(fixture_t *f, uint16_t sport_hi, uint32_t max_drains)
{
    agent_options_init(&f->opt);
    f->opt.endpoint = f->ep;
    f->opt.keys_dir = f->wdir;
    snprintf(f->opt.name, sizeof f->opt.name, "w1");
    snprintf(f->opt.iface, sizeof f->opt.iface, "lo");
    f->opt.scan_ip = SCAN_IP;
    f->opt.fresh[0] = FRESH_IP;
    f->opt.n_fresh = 1;
    addr_parse("::1", &f->opt.scan_ip6); /* the IPv6 verification attempt connects from it */
    f->opt.no_default_blocklist = true;
    f->opt.send_path = SEND_TX_RING; /* each shard's engine must be told (test_shard_flow) */
    f->opt.send_threads = 3;
    f->opt.engine = fake_engine;
    if (sport_hi)
        f->opt.sport_hi = sport_hi;
    f->opt.max_drains = max_drains;
    f->stop = 0;
    assert_int_equal(pthread_create(&f->thread, NULL, agent_thread, f), 0);
    f->running = true;
}

/* Stops the agent and returns what agent_run returned. */
static int join_agent(fixture_t *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
    f->running = false;
    return f->rc;
}

/* A fixture whose agent is admitted or not, with source ports 40000-sport_hi (0: the default). */
static int setup_with(void **state, bool admit, uint16_t sport_hi, uint32_t max_drains)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/lzr-agent-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->ep, sizeof f->ep, "ipc://%s/workers.sock", f->dir);
    make_keys(f, admit);
    bind_router(f);
    fake_fail = false;
    fake_pipe = false;
    memset((void *)fake_gate, 0, sizeof fake_gate);
    fake_started = 0;
    start_agent(f, sport_hi, max_drains);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, true, 0, 0);
}

/* Source ports 40000-41023: four slices of 256. */
static int setup_narrow(void **state)
{
    return setup_with(state, true, 41023, 0);
}

/* A worker told --max-drains 2. */
static int setup_two_drains(void **state)
{
    return setup_with(state, true, 0, 2);
}

static int setup_stranger(void **state)
{
    return setup_with(state, false, 0, 0);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->running)
        join_agent(f);
    zframe_destroy(&f->rid);
    zsock_destroy(&f->router);
    zactor_destroy(&f->auth);
    zcert_destroy(&f->coord);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- the coordinator's side of the protocol ------------------------------------------------ */

/* The next message from the agent, of any kind; fails after the socket's timeout. */
static Lzr__Envelope *next_msg(fixture_t *f)
{
    zframe_t *rid = NULL;
    char user[64], err[256];
    Lzr__Envelope *env = NULL;
    if (wire_recv(f->router, &rid, user, &env, err, sizeof err) != LZR_OK)
        fail_msg("no message from the agent: %s", err);
    if (!f->rid)
        f->rid = zframe_dup(rid);
    zframe_destroy(&rid);
    return env;
}

/* The next message of kind want, skipping heartbeats. */
static Lzr__Envelope *expect(fixture_t *f, Lzr__Envelope__BodyCase want)
{
    for (;;) {
        Lzr__Envelope *env = next_msg(f);
        if (env->body_case == want)
            return env;
        if (env->body_case != LZR__ENVELOPE__BODY_HEARTBEAT)
            fail_msg("expected %s, got %s", wire_body_name(want), wire_body_name(env->body_case));
        wire_free(&env);
    }
}

static void to_agent(fixture_t *f, Lzr__Envelope *env)
{
    char err[256];
    assert_int_equal(wire_send(f->router, f->rid, env, err, sizeof err), LZR_OK);
}

static void welcome(fixture_t *f, bool lease_kept)
{
    Lzr__Welcome w = LZR__WELCOME__INIT;
    w.heartbeat_ms = 100;
    w.lease_kept = lease_kept;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    to_agent(f, &env);
}

/* Receives the Hello and answers Welcome; checks what the Hello says of the worker. */
static void register_agent(fixture_t *f)
{
    Lzr__Envelope *env = expect(f, LZR__ENVELOPE__BODY_HELLO);
    assert_string_equal(env->hello->name, "w1");
    assert_int_equal(env->hello->scan_ip, SCAN_IP);
    assert_int_equal(env->hello->n_fresh_ips, 1);
    assert_int_equal(env->hello->fresh_ips[0], FRESH_IP);
    assert_int_equal(env->hello->sport_lo, 40000);
    assert_int_equal(env->hello->sport_hi, f->opt.sport_hi);
    assert_int_equal(env->hello->max_drains,
                     f->opt.max_drains ? f->opt.max_drains : LZR_MAX_DRAINS);
    assert_null(env->hello->lease);
    wire_free(&env);
    welcome(f, false);
}

/* The shard of the test's job: `targets` × ports 80,443, seed 11, shard `shard` of n_shards (2
 * when 0). */
typedef struct shard_spec {
    const char *targets;
    uint32_t shard;
    uint32_t n_shards;
    uint32_t rate;
    perm_params_t perm;
    uint64_t begin, end;
} shard_spec_t;

/* The job's target set, as the agent builds it from the Assign (loopback lifted). */
static targets_t *shard_target_set(const shard_spec_t *s)
{
    char err[256];
    targets_t *t = targets_new();
    assert_int_equal(targets_lift_reserved(t, "127.0.0.0/8", err, sizeof err), LZR_OK);
    assert_int_equal(targets_allow(t, s->targets, err, sizeof err), LZR_OK);
    assert_int_equal(targets_finalize(t, err, sizeof err), LZR_OK);
    return t;
}

static void plan(shard_spec_t *s)
{
    targets_t *t = shard_target_set(s);
    assert_int_equal(perm_init(&s->perm, targets_count(t) * 2, 11), LZR_OK);
    if (!s->n_shards)
        s->n_shards = 2;
    perm_shard_range(&s->perm, s->shard, s->n_shards, &s->begin, &s->end);
    targets_destroy(&t);
}

static void assign(fixture_t *f, shard_spec_t *s)
{
    plan(s);
    static uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char *targets[] = {(char *)s->targets};
    char *allow[] = {"127.0.0.0/8"};
    char *hs[] = {"http"};
    Lzr__Assign a = LZR__ASSIGN__INIT;
    a.job_id = JOB;
    a.job_name = "agent-test";
    a.shard = s->shard;
    a.n_shards = s->n_shards;
    a.perm_size = s->perm.size;
    a.perm_prime = s->perm.prime;
    a.perm_generator = s->perm.generator;
    a.perm_start = s->perm.start;
    a.pos_begin = s->begin;
    a.pos_end = s->end;
    a.cookie_key.data = key;
    a.cookie_key.len = sizeof key;
    a.rate = s->rate;
    a.n_handshakes = 1;
    a.handshakes = hs;
    a.n_targets = 1;
    a.targets = targets;
    a.n_allow_reserved = 1;
    a.allow_reserved = allow;
    a.ports = "80,443";
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ASSIGN;
    env.assign = &a;
    to_agent(f, &env);
}

/* A Refuse, not fatal, as a restarted coordinator answers a worker it does not know. */
static void register_again(fixture_t *f)
{
    Lzr__Refuse r = LZR__REFUSE__INIT;
    r.reason = "unknown session: send Hello";
    Lzr__Envelope env = wire_envelope(LZR__ENVELOPE__BODY_REFUSE, &r);
    to_agent(f, &env);
}

static void ack(fixture_t *f, uint64_t seq)
{
    Lzr__Ack a = LZR__ACK__INIT;
    a.seq = seq;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ACK;
    env.ack = &a;
    to_agent(f, &env);
}

static void cancel(fixture_t *f, uint32_t shard)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = JOB;
    lease.shard = shard;
    Lzr__Cancel c = LZR__CANCEL__INIT;
    c.lease = &lease;
    c.reason = "job cancelled";
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_CANCEL;
    env.cancel = &c;
    to_agent(f, &env);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The (ip << 16 | port) of every element of the shard, sorted; returns how many. */
static size_t expected_pairs(const shard_spec_t *s, uint64_t *out)
{
    targets_t *t = shard_target_set(s);
    static const uint16_t ports[] = {80, 443};
    perm_iter_t it;
    perm_iter_init(&it, &s->perm, s->begin, s->end);
    uint64_t el;
    size_t n = 0;
    while (perm_next(&it, &el))
        out[n++] = (uint64_t)targets_at(t, el / 2) << 16 | ports[el % 2];
    targets_destroy(&t);
    qsort(out, n, sizeof *out, cmp_u64);
    return n;
}

/* Everything until ShardDone: records of batches not seen before go into pairs (sorted on
 * return), every batch acked. Returns the ShardDone; *n_pairs and *batches count. */
static Lzr__Envelope *collect(fixture_t *f, uint64_t *pairs, size_t *n_pairs, size_t *batches)
{
    uint64_t seen[512];
    size_t n_seen = 0;
    *n_pairs = 0;
    *batches = 0;
    for (;;) {
        Lzr__Envelope *env = next_msg(f);
        if (env->body_case == LZR__ENVELOPE__BODY_SHARD_DONE) {
            qsort(pairs, *n_pairs, sizeof *pairs, cmp_u64);
            return env;
        }
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH) {
            Lzr__ResultBatch *b = env->batch;
            assert_int_equal(b->lease->job_id, JOB);
            bool dup = false;
            for (size_t i = 0; i < n_seen; i++)
                dup |= seen[i] == b->seq;
            if (!dup) {
                assert_true(n_seen < 512);
                seen[n_seen++] = b->seq;
                for (size_t i = 0; i < b->n_records; i++)
                    pairs[(*n_pairs)++] = (uint64_t)b->records[i]->ip << 16 | b->records[i]->port;
                ++*batches;
            }
            ack(f, b->seq);
        }
        wire_free(&env);
    }
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Hello → Welcome → Assign → every (ip, port) of the shard exactly once, in acked batches of at
 * most AGENT_BATCH_RECORDS → ShardDone with the engine's counters; heartbeats name the shard. */
static void test_shard_flow(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    shard_spec_t s = {.targets = "127.1.0.0/22", .shard = 1};
    assign(f, &s);
    static uint64_t want[4096], got[8192];
    size_t n_want = expected_pairs(&s, want), n_got, batches;
    assert_true(n_want > 3 * AGENT_BATCH_RECORDS);
    Lzr__Envelope *done = collect(f, got, &n_got, &batches);
    assert_int_equal(done->shard_done->lease->job_id, JOB);
    assert_int_equal(done->shard_done->lease->shard, 1);
    assert_string_equal(done->shard_done->error, "");
    assert_int_equal(done->shard_done->stats->hits, n_want);
    assert_int_equal(done->shard_done->stats->targets_total, s.end - s.begin);
    wire_free(&done);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want * sizeof *want);
    assert_true(batches >= (n_want + AGENT_BATCH_RECORDS - 1) / AGENT_BATCH_RECORDS);
    /* the worker's way of sending reached the shard's engine */
    assert_int_equal(fake_send_path, SEND_TX_RING);
    assert_int_equal(fake_send_threads, 3);
    /* idle again: a heartbeat without a lease, nothing queued */
    Lzr__Envelope *hb = expect(f, LZR__ENVELOPE__BODY_HEARTBEAT);
    assert_null(hb->heartbeat->lease);
    assert_int_equal(hb->heartbeat->queued_records, 0);
    wire_free(&hb);
    assert_int_equal(join_agent(f), LZR_OK);
}

/* A batch left unacked comes again, byte for byte the same batch, after BATCHWIN_RESEND_MS; the
 * shard is reported done only once it is acked. */
static void test_resend_after_missing_ack(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    shard_spec_t s = {.targets = "127.2.0.0/26", .shard = 0}; /* 64 pairs: one batch */
    assign(f, &s);
    Lzr__Envelope *first = expect(f, LZR__ENVELOPE__BODY_BATCH);
    uint64_t seq = first->batch->seq;
    size_t n = first->batch->n_records;
    uint64_t t0 = zclock_mono();
    Lzr__Envelope *again = NULL;
    for (;;) {
        Lzr__Envelope *env = next_msg(f);
        /* the shard's only batch is out and unacked: no ShardDone may come */
        assert_int_not_equal(env->body_case, LZR__ENVELOPE__BODY_SHARD_DONE);
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH) {
            again = env;
            break;
        }
        wire_free(&env);
    }
    int64_t waited = zclock_mono() - t0;
    assert_true(waited >= BATCHWIN_RESEND_MS - 100);
    assert_int_equal(again->batch->seq, seq);
    assert_int_equal(again->batch->n_records, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(again->batch->records[i]->ip, first->batch->records[i]->ip);
        assert_int_equal(again->batch->records[i]->port, first->batch->records[i]->port);
    }
    wire_free(&first);
    wire_free(&again);
    ack(f, seq);
    Lzr__Envelope *done = expect(f, LZR__ENVELOPE__BODY_SHARD_DONE);
    assert_string_equal(done->shard_done->error, "");
    wire_free(&done);
}

/* A coordinator that acks nothing: the window fills, the queue reaches its high-water mark and
 * the engine is held, with no record lost; acks then let the shard finish with every pair. */
static void test_unacked_holds_engine(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    fake_holds = 0;
    /* 8192 pairs: more than the window and the queue's high-water mark together */
    shard_spec_t s = {.targets = "127.3.0.0/19", .shard = 0};
    assign(f, &s);
    /* AGENT_WINDOW batches come, then nothing but heartbeats while the engine is held */
    static uint64_t want[16384], got[16384];
    uint64_t seqs[AGENT_WINDOW];
    size_t n_first = 0;
    for (size_t i = 0; i < AGENT_WINDOW; i++) {
        Lzr__Envelope *b = expect(f, LZR__ENVELOPE__BODY_BATCH);
        seqs[i] = b->batch->seq;
        for (size_t k = 0; k < b->batch->n_records; k++)
            got[n_first++] = (uint64_t)b->batch->records[k]->ip << 16 | b->batch->records[k]->port;
        wire_free(&b);
    }
    uint32_t queued = 0;
    uint64_t done_before = 0, done_after = 0;
    for (int i = 0; i < 8; i++) {
        Lzr__Envelope *hb = expect(f, LZR__ENVELOPE__BODY_HEARTBEAT);
        queued = hb->heartbeat->queued_records;
        done_before = done_after;
        done_after = hb->heartbeat->targets_done;
        wire_free(&hb);
    }
    /* held from half the ring on; the window took some since, not enough to release it */
    assert_true(queued >= AGENT_QUEUE_RECORDS / 4);
    assert_true(queued <= AGENT_QUEUE_RECORDS / 2 + 64);
    assert_int_equal(done_before, done_after); /* held: no progress between heartbeats */
    assert_true(fake_holds > 0);
    for (size_t i = 0; i < AGENT_WINDOW; i++)
        ack(f, seqs[i]);
    size_t n_want = expected_pairs(&s, want), n_rest, batches;
    assert_true(n_want > AGENT_WINDOW * AGENT_BATCH_RECORDS + AGENT_QUEUE_RECORDS / 2);
    Lzr__Envelope *done = collect(f, got + n_first, &n_rest, &batches);
    assert_string_equal(done->shard_done->error, "");
    wire_free(&done);
    /* every pair once: none lost while held, none sent twice under two sequence numbers */
    assert_int_equal(n_first + n_rest, n_want);
    qsort(got, n_want, sizeof *got, cmp_u64);
    assert_memory_equal(got, want, n_want * sizeof *want);
}

/* Cancel stops the shard: no ShardDone, heartbeats without a lease, and the next Assign runs. */
static void test_cancel(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    shard_spec_t s = {.targets = "127.4.0.0/22", .shard = 0, .rate = 200}; /* ~10 s */
    assign(f, &s);
    Lzr__Envelope *b = expect(f, LZR__ENVELOPE__BODY_BATCH);
    ack(f, b->batch->seq);
    wire_free(&b);
    cancel(f, 1); /* another shard's: ignored */
    cancel(f, 0);
    bool idle = false;
    for (int i = 0; i < 40 && !idle; i++) {
        Lzr__Envelope *env = next_msg(f);
        assert_int_not_equal(env->body_case, LZR__ENVELOPE__BODY_SHARD_DONE);
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH)
            ack(f, env->batch->seq);
        idle = env->body_case == LZR__ENVELOPE__BODY_HEARTBEAT && !env->heartbeat->lease;
        wire_free(&env);
    }
    assert_true(idle);
    shard_spec_t s2 = {.targets = "127.5.0.0/26", .shard = 1};
    assign(f, &s2);
    static uint64_t got[1024];
    size_t n_got, batches;
    Lzr__Envelope *done = collect(f, got, &n_got, &batches);
    assert_int_equal(done->shard_done->lease->shard, 1);
    assert_string_equal(done->shard_done->error, "");
    wire_free(&done);
}

/* A Welcome after a coordinator restart that does not keep the lease stops the shard; the
 * agent's new Hello names the shard it was scanning. */
static void test_lease_given_away(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    shard_spec_t s = {.targets = "127.6.0.0/22", .shard = 1, .rate = 200};
    assign(f, &s);
    Lzr__Envelope *b = expect(f, LZR__ENVELOPE__BODY_BATCH);
    wire_free(&b);
    register_again(f);
    Lzr__Envelope *h = expect(f, LZR__ENVELOPE__BODY_HELLO);
    assert_non_null(h->hello->lease);
    assert_int_equal(h->hello->lease->job_id, JOB);
    assert_int_equal(h->hello->lease->shard, 1);
    wire_free(&h);
    welcome(f, false);
    bool idle = false;
    for (int i = 0; i < 60 && !idle; i++) {
        Lzr__Envelope *m = next_msg(f);
        assert_int_not_equal(m->body_case, LZR__ENVELOPE__BODY_SHARD_DONE);
        idle = m->body_case == LZR__ENVELOPE__BODY_HEARTBEAT && !m->heartbeat->lease;
        wire_free(&m);
    }
    assert_true(idle);
}

/* An engine that fails: ShardDone carries its error. */
static void test_engine_failure(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    fake_fail = true;
    shard_spec_t s = {.targets = "127.7.0.0/26", .shard = 0};
    assign(f, &s);
    Lzr__Envelope *done = expect(f, LZR__ENVELOPE__BODY_SHARD_DONE);
    assert_string_equal(done->shard_done->error, "stand-in engine failure");
    wire_free(&done);
}

/* A fatal Refuse ends agent_run with the coordinator's reason. */
static void test_fatal_refuse(void **state)
{
    fixture_t *f = *state;
    Lzr__Envelope *h = expect(f, LZR__ENVELOPE__BODY_HELLO);
    wire_free(&h);
    Lzr__Refuse r = LZR__REFUSE__INIT;
    r.reason = "name w1 is taken";
    r.fatal = true;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_REFUSE;
    env.refuse = &r;
    to_agent(f, &env);
    pthread_join(f->thread, NULL);
    f->running = false;
    assert_int_equal(f->rc, LZR_EPERM);
    assert_non_null(strstr(f->err, "name w1 is taken"));
}

/* A worker key the coordinator does not admit: agent_run gives up and says which key to add. */
static void test_unknown_key(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100 && f->rc == 0; i++)
        usleep(50000);
    pthread_join(f->thread, NULL);
    f->running = false;
    assert_int_equal(f->rc, LZR_EPERM);
    assert_non_null(strstr(f->err, "refused this worker's key"));
    assert_non_null(strstr(f->err, "workers/w1.key"));
}

/* What the coordinator saw of pipelined shards: records by the shard their batch named. */
typedef struct pipe_seen {
    uint64_t seqs[1024];
    size_t n_seqs;
    uint64_t got[PIPE_SHARDS][512];
    size_t n_got[PIPE_SHARDS];
    uint64_t batches[PIPE_SHARDS];
} pipe_seen_t;

/* Files a batch's records under its lease's shard (once per seq) and acks it. */
static void pipe_batch(fixture_t *f, pipe_seen_t *p, const Lzr__ResultBatch *b)
{
    assert_int_equal(b->lease->job_id, JOB);
    assert_true(b->lease->shard < PIPE_SHARDS);
    bool dup = false;
    for (size_t i = 0; i < p->n_seqs; i++)
        dup |= p->seqs[i] == b->seq;
    if (!dup) {
        assert_true(p->n_seqs < 1024);
        p->seqs[p->n_seqs++] = b->seq;
        uint32_t sh = b->lease->shard;
        for (size_t i = 0; i < b->n_records; i++) {
            assert_true(p->n_got[sh] < 512);
            p->got[sh][p->n_got[sh]++] = (uint64_t)b->records[i]->ip << 16 | b->records[i]->port;
        }
        p->batches[sh]++;
    }
    ack(f, b->seq);
}

/* Acks batches and files their records under their lease's shard until a heartbeat says shard
 * walk_shard's walk is done (returns NULL), a ShardDone comes (returned) or, with hello, a
 * Hello (returned). */
static Lzr__Envelope *pump_until(fixture_t *f, pipe_seen_t *p, uint32_t walk_shard, bool hello)
{
    for (;;) {
        Lzr__Envelope *env = next_msg(f);
        if (env->body_case == LZR__ENVELOPE__BODY_SHARD_DONE ||
            (hello && env->body_case == LZR__ENVELOPE__BODY_HELLO))
            return env;
        if (env->body_case == LZR__ENVELOPE__BODY_HEARTBEAT && env->heartbeat->lease &&
            env->heartbeat->lease->shard == walk_shard && env->heartbeat->walk_done) {
            wire_free(&env);
            return NULL;
        }
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH)
            pipe_batch(f, p, env->batch);
        wire_free(&env);
    }
}

static Lzr__Envelope *pump(fixture_t *f, pipe_seen_t *p, uint32_t walk_shard)
{
    return pump_until(f, p, walk_shard, false);
}

/* Starts n shards of a job of PIPE_SHARDS, each assigned once the one before has walked: all n
 * run at once, the earlier ones draining. */
static void pipeline_start(fixture_t *f, shard_spec_t *sp, size_t n, pipe_seen_t *p)
{
    fake_pipe = true;
    register_agent(f);
    memset(p, 0, sizeof *p);
    for (uint32_t sh = 0; sh < PIPE_SHARDS; sh++)
        sp[sh] = (shard_spec_t){.targets = "127.1.0.0/23", .shard = sh, .n_shards = PIPE_SHARDS};
    for (uint32_t sh = 0; sh < n; sh++) {
        assign(f, &sp[sh]);
        assert_null(pump(f, p, sh));
    }
    assert_int_equal(fake_running, n); /* the earlier ones drain while the last one walked */
    /* Runs held at once scan from disjoint slices of the agent's source ports. */
    assert_int_equal(fake_started, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(fake_ports[i][0] >= f->opt.sport_lo && fake_ports[i][0] <= fake_ports[i][1]);
        assert_true(fake_ports[i][1] <= f->opt.sport_hi);
        assert_true(fake_ports[i][1] - fake_ports[i][0] + 1 >= 256);
        for (size_t j = 0; j < i; j++)
            assert_true(fake_ports[i][1] < fake_ports[j][0] || fake_ports[j][1] < fake_ports[i][0]);
    }
}

/* Once the batch of shard sh's walk is in, opens its gate and checks that its ShardDone,
 * error-free, is the next one. */
static void pipeline_finish(fixture_t *f, shard_spec_t *sp, uint32_t sh, pipe_seen_t *p)
{
    while (p->batches[sh] == 0) {
        Lzr__Envelope *env = next_msg(f);
        assert_int_not_equal(env->body_case, LZR__ENVELOPE__BODY_SHARD_DONE);
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH)
            pipe_batch(f, p, env->batch);
        wire_free(&env);
    }
    fake_gate[sh] = sp[sh].begin + 1;
    Lzr__Envelope *done = pump(f, p, UINT32_MAX);
    assert_non_null(done);
    assert_int_equal(done->shard_done->lease->shard, sh);
    assert_string_equal(done->shard_done->error, "");
    wire_free(&done);
}

/* Checks that shard sh's records all arrived, once each, in batches naming it. */
static void pipeline_check(shard_spec_t *sp, uint32_t sh, pipe_seen_t *p)
{
    static uint64_t want[512];
    size_t n_want = expected_pairs(&sp[sh], want);
    qsort(p->got[sh], p->n_got[sh], sizeof p->got[sh][0], cmp_u64);
    assert_int_equal(p->n_got[sh], n_want);
    assert_memory_equal(p->got[sh], want, n_want * sizeof *want);
    assert_true(p->batches[sh] >= 2); /* the walk's records, then the tails' */
}

/* Pipelined shards: each shard starts once the one before has walked (walk_done in its
 * heartbeat), until LZR_MAX_DRAINS drain beside the walking one; one more Assign is ignored;
 * each shard's records arrive exactly once in batches naming that shard, and each ShardDone
 * comes when its own shard is finished, in whatever order the tails end. */
static void test_pipelined_shards(void **state)
{
    fixture_t *f = *state;
    static shard_spec_t sp[PIPE_SHARDS];
    static pipe_seen_t p;
    const uint32_t n = LZR_MAX_DRAINS + 1;
    pipeline_start(f, sp, n, &p);
    assign(f, &sp[n]);                 /* one more: refused, LZR_MAX_DRAINS draining at most */
    pipeline_finish(f, sp, n - 1, &p); /* the walking one first, then the oldest onwards */
    for (uint32_t sh = 0; sh + 1 < n; sh++)
        pipeline_finish(f, sp, sh, &p);
    for (uint32_t sh = 0; sh < n; sh++)
        pipeline_check(sp, sh, &p);
    assert_int_equal(p.n_got[n], 0);
    Lzr__Envelope *hb = expect(f, LZR__ENVELOPE__BODY_HEARTBEAT);
    assert_null(hb->heartbeat->lease); /* idle: the extra Assign started nothing */
    wire_free(&hb);
    assert_int_equal(fake_running, 0);
    assert_int_equal(join_agent(f), LZR_OK);
}

/* A worker told --max-drains 2 says so in its Hello (register_agent) and holds three runs at
 * most: with two draining and the third walked, one more Assign is ignored, and the three
 * finish with their records exactly once. */
static void test_max_drains_bound(void **state)
{
    fixture_t *f = *state;
    static shard_spec_t sp[PIPE_SHARDS];
    static pipe_seen_t p;
    const uint32_t n = 3;
    pipeline_start(f, sp, n, &p);
    assign(f, &sp[n]); /* a fourth: ignored */
    for (int i = 0; i < 20; i++)
        usleep(10000);
    assert_int_equal(fake_started, n);
    assert_int_equal(fake_running, n);
    for (uint32_t sh = 0; sh < n; sh++)
        pipeline_finish(f, sp, sh, &p);
    for (uint32_t sh = 0; sh < n; sh++)
        pipeline_check(sp, sh, &p);
    assert_int_equal(p.n_got[n], 0);
    assert_int_equal(fake_started, n);
    assert_int_equal(join_agent(f), LZR_OK);
}

/* --max-drains: 1 to LZR_MAX_DRAINS, else refused (exit 2); without it the default follows the
 * memory available, a quarter of it in 128 MiB capture rings, one for the walking run and one
 * opened ahead. */
static void test_max_drains_option(void **state)
{
    (void)state;
    static const struct {
        const char *arg;
        int rc;
        uint32_t want;
    } rows[] = {{NULL, 0, 0}, {"1", 0, 1},  {"7", 0, 7},   {"0", 2, 0},
                {"8", 2, 0},  {"-1", 2, 0}, {"two", 2, 0}, {"", 2, 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *argv[12] = {
            "--coordinator", "ipc:///nonexistent", "--iface",    "lo",
            "--scan-ip",     "127.0.0.1",          "--insecure", "--no-default-blocklist"};
        int argc = 8;
        if (rows[i].arg) {
            argv[argc++] = "--max-drains";
            argv[argc++] = (char *)rows[i].arg;
        }
        agent_options_t o;
        agent_options_init(&o);
        int rc = agent_parse_args(argc, argv, &o);
        if (rc != rows[i].rc || (rc == 0 && o.max_drains != rows[i].want))
            fail_msg("--max-drains %s: exit %d, max_drains %u",
                     rows[i].arg ? rows[i].arg : "(none)", rc, o.max_drains);
    }
    const uint64_t mib = 1 << 20;
    assert_int_equal(agent_drains_for_memory(0), 1);
    assert_int_equal(agent_drains_for_memory(1024 * mib), 1);  /* 256 MiB: two rings */
    assert_int_equal(agent_drains_for_memory(1536 * mib), 1);  /* three: walk, drain, ahead */
    assert_int_equal(agent_drains_for_memory(2048 * mib), 2);  /* four */
    assert_int_equal(agent_drains_for_memory(4608 * mib), 7);  /* nine */
    assert_int_equal(agent_drains_for_memory(64ull << 30), 7); /* never more than the protocol's */
}

/* Source ports cut in only four slices: the agent holds at most four runs. With three draining
 * and the fourth walked, its heartbeats keep walk_done false (no ports for a fifth shard) until
 * a drain ends; the fifth shard then scans from the slice that drain freed, apart from the
 * three runs still held. */
static void test_narrow_ports_bound_runs(void **state)
{
    fixture_t *f = *state;
    static shard_spec_t sp[PIPE_SHARDS];
    static pipe_seen_t p;
    const uint32_t n = 4;
    pipeline_start(f, sp, n - 1, &p);
    assign(f, &sp[n - 1]);
    /* Three heartbeats (100 ms apart) after shard 3's walk: none may say it is done. */
    int beats = 0;
    for (int msgs = 0; beats < 3; msgs++) {
        assert_true(msgs < 200);
        Lzr__Envelope *env = next_msg(f);
        assert_int_not_equal(env->body_case, LZR__ENVELOPE__BODY_SHARD_DONE);
        if (env->body_case == LZR__ENVELOPE__BODY_BATCH)
            pipe_batch(f, &p, env->batch);
        if (env->body_case == LZR__ENVELOPE__BODY_HEARTBEAT && env->heartbeat->lease &&
            env->heartbeat->lease->shard == n - 1 && fake_running == (int)n) {
            assert_false(env->heartbeat->walk_done);
            beats += p.batches[n - 1] > 0; /* counted once its walk's records are in */
        }
        wire_free(&env);
    }
    assert_int_equal(fake_running, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(fake_ports[i][1] - fake_ports[i][0] + 1 == 256);
        for (size_t j = 0; j < i; j++)
            assert_true(fake_ports[i][1] < fake_ports[j][0] || fake_ports[j][1] < fake_ports[i][0]);
    }
    pipeline_finish(f, sp, 0, &p);   /* frees shard 0's slice */
    assert_null(pump(f, &p, n - 1)); /* now the walk's end is told */
    assign(f, &sp[n]);
    for (int i = 0; i < 200 && fake_started != (int)n + 1; i++)
        usleep(10000);
    assert_int_equal(fake_started, n + 1);
    assert_int_equal(fake_ports[n][0], fake_ports[0][0]);
    assert_int_equal(fake_ports[n][1], fake_ports[0][1]);
    for (uint32_t sh = 1; sh <= n; sh++)
        pipeline_finish(f, sp, sh, &p);
    for (uint32_t sh = 0; sh <= n; sh++)
        pipeline_check(sp, sh, &p);
    assert_int_equal(fake_running, 0);
    assert_int_equal(join_agent(f), LZR_OK);
}

/* After a coordinator restart (a Refuse), the Hello names the walking lease and, beside it,
 * every draining one, oldest first, and says how many it can hold; the Welcome keeps all but
 * one, whose run stops without a ShardDone while the others finish. */
static void test_hello_names_drains(void **state)
{
    fixture_t *f = *state;
    static shard_spec_t sp[PIPE_SHARDS];
    static pipe_seen_t p;
    const uint32_t n = 4, lost = 1;
    pipeline_start(f, sp, n, &p);
    register_again(f);
    Lzr__Envelope *h = pump_until(f, &p, UINT32_MAX, true);
    assert_int_equal(h->body_case, LZR__ENVELOPE__BODY_HELLO);
    assert_int_equal(h->hello->max_drains, LZR_MAX_DRAINS);
    assert_non_null(h->hello->lease);
    assert_int_equal(h->hello->lease->shard, n - 1);
    assert_int_equal(h->hello->n_drain, n - 1);
    for (uint32_t i = 0; i + 1 < n; i++)
        assert_int_equal(h->hello->drain[i]->shard, i);
    wire_free(&h);
    protobuf_c_boolean kept[3] = {true, true, true};
    kept[lost] = false;
    Lzr__Welcome w = LZR__WELCOME__INIT;
    w.heartbeat_ms = 100;
    w.lease_kept = true;
    w.drain_kept = kept;
    w.n_drain_kept = n - 1;
    Lzr__Envelope env = wire_envelope(LZR__ENVELOPE__BODY_WELCOME, &w);
    to_agent(f, &env);
    for (int i = 0; i < 200 && fake_running != (int)n - 1; i++)
        usleep(10000);
    assert_int_equal(fake_running, n - 1); /* the lost one stopped */
    for (uint32_t sh = 0; sh < n; sh++)
        if (sh != lost)
            pipeline_finish(f, sp, sh, &p);
    assert_int_equal(fake_running, 0);
    assert_int_equal(join_agent(f), LZR_OK);
}

/* A compare request over loopback: a listening port answers SYN-ACK, a closed one RST; a source
 * that is not the worker's is refused. Real kernel connections from 127.0.0.1, and from ::1
 * for an IPv6 attempt; an attempt that mixes families is refused. */
/* The agent's sending options: parsed into the options, bad ones refused (exit 2). */
static void test_send_options(void **state)
{
    (void)state;
    char *base[] = {"--coordinator", "ipc:///nonexistent", "--iface",    "lo",
                    "--scan-ip",     "127.0.0.1",          "--insecure", "--no-default-blocklist"};
    static const struct {
        const char *a, *b; /* up to two more arguments */
        int rc;
        send_path_t path;
        uint32_t threads;
    } rows[] = {
        {NULL, NULL, 0, SEND_MMSG, 0},
        {"--xdp", NULL, 0, SEND_XSK, 0},
        {"--tx-ring", NULL, 0, SEND_TX_RING, 0},
        {"--send-threads", "4", 0, SEND_MMSG, 4},
        {"--xdp", "--tx-ring", 2, SEND_XSK, 0},
        {"--send-threads", "0", 2, SEND_MMSG, 0},
        {"--send-threads", "17", 2, SEND_MMSG, 0},
        {"--send-threads", "two", 2, SEND_MMSG, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *argv[12];
        int argc = 0;
        for (size_t k = 0; k < sizeof base / sizeof base[0]; k++)
            argv[argc++] = base[k];
        if (rows[i].a)
            argv[argc++] = (char *)rows[i].a;
        if (rows[i].b)
            argv[argc++] = (char *)rows[i].b;
        agent_options_t o;
        agent_options_init(&o);
        int rc = agent_parse_args(argc, argv, &o);
        if (rc != rows[i].rc ||
            (rc == 0 && (o.send_path != rows[i].path || o.send_threads != rows[i].threads)))
            fail_msg("row %zu (%s %s): exit %d, path %d, threads %u", i, rows[i].a ? rows[i].a : "",
                     rows[i].b ? rows[i].b : "", rc, o.send_path, o.send_threads);
    }
}

static void test_verify(void **state)
{
    fixture_t *f = *state;
    register_agent(f);
    zsock_t *listener = zsock_new(ZMQ_STREAM);
    int port = zsock_bind(listener, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    Lzr__VerifyAttempt at[2] = {LZR__VERIFY_ATTEMPT__INIT, LZR__VERIFY_ATTEMPT__INIT};
    at[0].src = SCAN_IP;
    at[0].ip = SCAN_IP;
    at[0].port = (uint32_t)port;
    at[1].src = FRESH_IP;
    at[1].ip = SCAN_IP;
    at[1].port = 9; /* discard: nothing listens on the test host's loopback */
    Lzr__VerifyAttempt *ap[2] = {&at[0], &at[1]};
    Lzr__VerifyRequest req = LZR__VERIFY_REQUEST__INIT;
    req.job_id = JOB;
    req.task = 42;
    req.phase = LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE;
    req.timeout_ms = 500;
    req.n_attempts = 2;
    req.attempts = ap;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_VERIFY;
    env.verify = &req;
    to_agent(f, &env);
    Lzr__Envelope *res = expect(f, LZR__ENVELOPE__BODY_VERIFY_RESULT);
    assert_int_equal(res->verify_result->task, 42);
    assert_string_equal(res->verify_result->error, "");
    assert_int_equal(res->verify_result->n_attempts, 2);
    assert_int_equal(res->verify_result->attempts[0]->answer, ANSWER_SYNACK);
    assert_int_equal(res->verify_result->attempts[1]->answer, ANSWER_RST);
    wire_free(&res);
    at[1].src = 0x7f000009u; /* not announced by the worker */
    req.task = 43;
    to_agent(f, &env);
    res = expect(f, LZR__ENVELOPE__BODY_VERIFY_RESULT);
    assert_int_equal(res->verify_result->task, 43);
    assert_non_null(strstr(res->verify_result->error, "not this worker's"));
    assert_int_equal(res->verify_result->n_attempts, 0);
    wire_free(&res);

    /* IPv6: from the worker's IPv6 scan IP (::1) to a listener on ::1, answered in IPv6. */
    zsock_t *listener6 = zsock_new(ZMQ_STREAM);
    zsock_set_ipv6(listener6, 1);
    int port6 = zsock_bind(listener6, "tcp://[::1]:*");
    assert_true(port6 > 0);
    static const uint8_t lo6[16] = {[15] = 1};
    Lzr__VerifyAttempt at6 = LZR__VERIFY_ATTEMPT__INIT;
    at6.src6 = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)lo6};
    at6.ip6 = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)lo6};
    at6.port = (uint32_t)port6;
    Lzr__VerifyAttempt *ap6[1] = {&at6};
    req.task = 44;
    req.n_attempts = 1;
    req.attempts = ap6;
    to_agent(f, &env);
    res = expect(f, LZR__ENVELOPE__BODY_VERIFY_RESULT);
    assert_int_equal(res->verify_result->task, 44);
    assert_string_equal(res->verify_result->error, "");
    assert_int_equal(res->verify_result->n_attempts, 1);
    const Lzr__VerifyAttempt *back = res->verify_result->attempts[0];
    assert_int_equal(back->answer, ANSWER_SYNACK);
    assert_int_equal(back->src6.len, 16);
    assert_memory_equal(back->ip6.data, lo6, 16);
    assert_int_equal(back->src, 0);
    wire_free(&res);
    /* An attempt that mixes families is refused. */
    at6.src6.len = 0;
    at6.src = SCAN_IP;
    req.task = 45;
    to_agent(f, &env);
    res = expect(f, LZR__ENVELOPE__BODY_VERIFY_RESULT);
    assert_non_null(strstr(res->verify_result->error, "mix families"));
    assert_int_equal(res->verify_result->n_attempts, 0);
    wire_free(&res);
    zsock_destroy(&listener6);
    zsock_destroy(&listener);
}

int main(void)
{
    zsys_init();
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shard_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_after_missing_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unacked_holds_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_given_away, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup_stranger, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
        cmocka_unit_test(test_send_options),
        cmocka_unit_test_setup_teardown(test_pipelined_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_names_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_ports_bound_runs, setup_narrow, teardown),
        cmocka_unit_test_setup_teardown(test_max_drains_bound, setup_two_drains, teardown),
        cmocka_unit_test(test_max_drains_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
