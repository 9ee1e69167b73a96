/*
 * A hostile worker against the real coordinator (issue 14): coord_serve on a thread with a real
 * database, ZeroMQ ipc sockets with CURVE and zauth, and workers that speak the real protobuf
 * over DEALERs with their own key pairs. One of them holds a valid key and a shard of its own
 * and tries everything else: finishing and failing shards it does not hold, results for shards
 * and jobs it was never given, targets outside the job or its shard, a forged source IP, other
 * workers' rows rewritten, another worker's name and routing id, every session slot. Each is
 * refused and counted, and the stored results, scan sources and shards are byte for byte those
 * of the same run without the attacks. Also: failures counted as failures with back-off, the
 * job cancelled only by real failures (reason in status, every worker told), and a database
 * that is read-only or deleted stops the coordinator without another Ack. Pipelined shards:
 * a worker that did not say how many draining leases it can hold holds one beside its walking
 * lease, stores and finishes either, still not a third; a Hello naming three draining leases
 * keeps them all, their batches stored and each ShardDone taken.
 */
#include "tests/unit/coord_harness.h"

#include <sys/stat.h>
#include <sys/wait.h>

#define W1_IP 0xC6120102u
#define W2_IP 0xC6120202u
#define W3_IP 0xC6120302u

static const char *trust_job = "name = \"trust\"\n"
                               "targets = \"198.18.4.0/24\"\n"
                               "allow_reserved = \"198.18.0.0/15\"\n"
                               "ports = \"80,8080\"\n"
                               "rate = 100\n"
                               "shards = 3\n"
                               "seed = 7\n"
                               "handshakes = \"wait,http\"\n";

/* Key pairs: the coordinator's, and workers k[0..2] whose public keys are admitted. */
typedef struct keys {
    zcert_t *coord;
    zcert_t *k[3];
    zcert_t *stranger; /* not admitted */
} keys_t;

static void keys_make(server_t *s, keys_t *k)
{
    char path[256];
    snprintf(s->keys, sizeof s->keys, "%s/keys", s->dir);
    snprintf(path, sizeof path, "%s/workers", s->keys);
    assert_int_equal(mkdir(s->keys, 0700), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    k->coord = zcert_new();
    snprintf(path, sizeof path, "%s/coordinator.key", s->keys);
    assert_int_equal(zcert_save(k->coord, path), 0);
    for (int i = 0; i < 3; i++) {
        k->k[i] = zcert_new();
        snprintf(path, sizeof path, "%s/workers/k%d.key", s->keys, i);
        assert_int_equal(zcert_save_public(k->k[i], path), 0);
    }
    k->stranger = zcert_new();
}

static void keys_free(keys_t *k)
{
    zcert_destroy(&k->coord);
    for (int i = 0; i < 3; i++)
        zcert_destroy(&k->k[i]);
    zcert_destroy(&k->stranger);
}

static zsock_t *worker(server_t *s, keys_t *k, int key)
{
    return connect_curve(s->listen, key < 0 ? k->stranger : k->k[key], k->coord);
}

/* A worker socket that names its own routing id (ZMQ_ROUTING_ID), as any peer may. */
static zsock_t *worker_rid(server_t *s, keys_t *k, int key, const char *rid)
{
    zsock_t *z = zsock_new(ZMQ_DEALER);
    assert_non_null(z);
    zsock_set_linger(z, 0);
    zsock_set_rcvtimeo(z, 3000);
    zcert_apply(k->k[key], z);
    zsock_set_curve_serverkey(z, zcert_public_txt(k->coord));
    assert_int_equal(zmq_setsockopt(zsock_resolve(z), ZMQ_ROUTING_ID, rid, strlen(rid)), 0);
    assert_int_equal(zsock_connect(z, "%s", s->listen), 0);
    return z;
}

/* Registers name and returns the shard of its Assign. */
static uint32_t join(zsock_t *z, const char *name, uint32_t ip)
{
    hello(z, name, ip, 0, 0);
    Lzr__Envelope *env = expect(z, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);
    env = expect(z, LZR__ENVELOPE__BODY_ASSIGN);
    uint32_t shard = env->assign->shard;
    wire_free(&env);
    return shard;
}

static void expect_ack(zsock_t *z, uint64_t seq)
{
    Lzr__Envelope *env = expect(z, LZR__ENVELOPE__BODY_ACK);
    assert_int_equal(env->ack->seq, seq);
    wire_free(&env);
}

/* Expects a fatal Refuse whose reason contains what. */
static void expect_fatal(zsock_t *z, const char *what)
{
    Lzr__Envelope *env = expect(z, LZR__ENVELOPE__BODY_REFUSE);
    assert_true(env->refuse->fatal);
    if (!strstr(env->refuse->reason, what))
        fail_msg("refusal \"%s\" does not say \"%s\"", env->refuse->reason, what);
    wire_free(&env);
}

/* Every row of the query's result as text, blobs in hex; malloc'd. */
static char *dump(const char *db_path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            char cell[2200] = "";
            if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
                const uint8_t *b = sqlite3_column_blob(st, i);
                int n = sqlite3_column_bytes(st, i);
                for (int j = 0; j < n && j < 1024; j++)
                    snprintf(cell + 2 * j, 3, "%02x", b[j]);
            } else if (sqlite3_column_text(st, i)) {
                snprintf(cell, sizeof cell, "%s", (const char *)sqlite3_column_text(st, i));
            }
            size_t need = strlen(cell) + 2;
            if (len + need + 1 > cap) {
                cap = 2 * (len + need + 1);
                out = realloc(out, cap);
            }
            len += (size_t)snprintf(out + len, cap - len, "%s%c", cell,
                                    i + 1 == sqlite3_column_count(st) ? '\n' : '|');
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static char *dump_all(server_t *s)
{
    char *r = dump(s->db, "SELECT * FROM results ORDER BY job_id, ip, port");
    char *src = dump(s->db, "SELECT * FROM scan_sources ORDER BY source_ip, job_id");
    char *sh = dump(s->db, "SELECT job_id, idx, pos_begin, pos_end, state, lease_owner, attempts"
                           " FROM shards ORDER BY job_id, idx");
    size_t n = strlen(r) + strlen(src) + strlen(sh) + 16;
    char *all = malloc(n);
    snprintf(all, n, "%s--\n%s--\n%s", r, src, sh);
    free(r);
    free(src);
    free(sh);
    return all;
}

/* The honest part of a run: worker i (scan IP ip) stores its shard's targets first..first+n-1
 * with class cls. */
static void honest_batch(zsock_t *z, uint64_t job, uint32_t shard, uint64_t seq, size_t first,
                         size_t n, uint32_t ip, lzr_class_t cls, const char *proto)
{
    uint32_t ips[16];
    uint16_t ports[16];
    assert_int_equal(shard_targets(trust_job, shard, first, n, ips, ports), n);
    lzr_record_t r[16];
    for (size_t i = 0; i < n; i++)
        r[i] = make_record(ips[i], ports[i], ip, cls, proto);
    send_records(z, job, shard, seq, r, n);
    expect_ack(z, seq);
}

/* Everything w3 (key 2, holding shard 2) tries against the others, on top of its own honest
 * work. Returns how many refusals the coordinator should have counted for w3. */
static uint64_t attack(server_t *s, keys_t *k, zsock_t *w3, uint64_t job)
{
    uint64_t refused = 0;
    /* 1. Finish a shard someone else holds. */
    shard_done(w3, job, 0);
    refused++;
    /* 3. Fail it, five times over: not the holder, so nothing counts. */
    for (int i = 0; i < 5; i++)
        shard_done_err(w3, job, 1, "injected failure");
    refused += 5;
    /* 2. Results for a shard it does not hold: w1's rows rewritten as telnet. */
    uint32_t ip[8];
    uint16_t port[8];
    assert_int_equal(shard_targets(trust_job, 0, 0, 8, ip, port), 8);
    lzr_record_t forged[8];
    for (int i = 0; i < 8; i++) {
        forged[i] = make_record(ip[i], port[i], W3_IP, CLASS_SERVICE, "telnet");
        memcpy(forged[i].data, "login: ", 7);
        forged[i].data_len = 7;
    }
    send_records(w3, job, 0, 100, forged, 8);
    expect_ack(w3, 100); /* acked, so an honest late worker moves on; nothing stored */
    refused++;
    /* ... for a job it was never given ... */
    send_records(w3, job + 41, 2, 101, forged, 8);
    expect_ack(w3, 101);
    refused++;
    /* ... and, under its own lease, records outside its shard, outside the job, or from a
     * source IP that is not its own. */
    uint32_t mine_ip[2];
    uint16_t mine_port[2];
    assert_int_equal(shard_targets(trust_job, 2, 20, 2, mine_ip, mine_port), 2);
    lzr_record_t bad[6] = {
        forged[0],                                                 /* w1's row, shard 0 */
        make_record(0xC6130001, 80, W3_IP, CLASS_SERVICE, "http"), /* 198.19.0.1: not a target */
        make_record(mine_ip[0], 22, W3_IP, CLASS_SERVICE, "ssh"),  /* port not in the job */
        make_record(mine_ip[0], mine_port[0], W1_IP, CLASS_CLOSED, ""),      /* w1's scan IP */
        make_record(mine_ip[1], mine_port[1], 0xC6120999, CLASS_CLOSED, ""), /* made-up IP */
        make_record(ip[1], port[1], W3_IP, CLASS_CLOSED, ""),                /* shard 0 again */
    };
    send_records(w3, job, 2, 102, bad, 6);
    expect_ack(w3, 102);
    refused += 6;
    /* 5. Another key's name, while its owner is connected. */
    zsock_t *thief = worker(s, k, 2);
    hello(thief, "w1", W3_IP, job, 0);
    expect_fatal(thief, "belongs to another key");
    zsock_destroy(&thief);
    return refused;
}

/* One run: w1, w2, w3 each scan their shard and store results; with hostile, w3 also attacks.
 * Returns the dump of what was stored. */
static char *run(server_t *s, bool hostile)
{
    keys_t k;
    keys_make(s, &k);
    server_start(s);
    Lzr__Envelope *rep = submit(s, trust_job);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_SUBMIT_REPLY);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    zsock_t *w1 = worker(s, &k, 0), *w2 = worker(s, &k, 1), *w3 = worker(s, &k, 2);
    assert_int_equal(join(w1, "w1", W1_IP), 0);
    assert_int_equal(join(w2, "w2", W2_IP), 1);
    assert_int_equal(join(w3, "w3", W3_IP), 2);

    honest_batch(w1, job, 0, 1, 0, 8, W1_IP, CLASS_SERVICE, "http");
    honest_batch(w2, job, 1, 1, 0, 8, W2_IP, CLASS_SERVICE, "http");
    honest_batch(w3, job, 2, 1, 0, 8, W3_IP, CLASS_SERVICE, "http");
    uint64_t refused = hostile ? attack(s, &k, w3, job) : 0;
    honest_batch(w1, job, 0, 2, 8, 8, W1_IP, CLASS_CLOSED, "");
    honest_batch(w3, job, 2, 2, 8, 8, W3_IP, CLASS_ACKS_NO_DATA, "");

    /* Workers list: the attacker's refusals counted against it, none against the others. */
    Lzr__WorkersRequest wr = LZR__WORKERS_REQUEST__INIT;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_WORKERS;
    req.workers = &wr;
    rep = control(s, &req);
    assert_int_equal(rep->workers_reply->n_workers, 3);
    for (size_t i = 0; i < 3; i++) {
        const Lzr__WorkerInfo *w = rep->workers_reply->workers[i];
        assert_int_equal(w->refused, strcmp(w->name, "w3") == 0 ? refused : 0);
    }
    /* The thief's Hello counts too. */
    assert_int_equal(rep->workers_reply->untrusted, refused + (hostile ? 1 : 0));
    wire_free(&rep);

    /* The real holders finish; none was told its lease was lost. */
    shard_done(w1, job, 0);
    shard_done(w2, job, 1);
    shard_done(w3, job, 2);
    wait_state(s, job, "done");
    assert_false(arrives(w1, LZR__ENVELOPE__BODY_CANCEL, 300));
    assert_false(arrives(w2, LZR__ENVELOPE__BODY_CANCEL, 100));
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    zsock_destroy(&w3);
    server_stop(s);
    keys_free(&k);
    return dump_all(s);
}

static void test_hostile_worker_changes_nothing(void **state)
{
    server_t *honest = *state;
    char *want = run(honest, false);
    server_t *hostile;
    assert_int_equal(harness_setup((void **)&hostile), 0);
    char *got = run(hostile, true);
    /* 40 rows: 16 + 8 + 16 */
    size_t rows = 0;
    for (const char *p = want; *p && strncmp(p, "--", 2) != 0; p = strchr(p, '\n') + 1)
        rows++;
    assert_int_equal(rows, 40);
    assert_string_equal(got, want);
    free(want);
    free(got);
    harness_teardown((void **)&hostile);
}

/* Names are bound to keys for good, routing ids to the key that opened the session, a scan IP to
 * one live worker, and one key gets at most COORD_MAX_SESSIONS_PER_KEY sessions. */
static void test_names_and_sessions(void **state)
{
    server_t *s = *state;
    keys_t k;
    keys_make(s, &k);
    server_start(s);
    Lzr__Envelope *rep = submit(s, trust_job);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);

    /* w1 holds shard 0 on a routing id the attacker knows. */
    zsock_t *w1 = worker_rid(s, &k, 0, "victim");
    zsock_t *w2 = worker(s, &k, 1);
    assert_int_equal(join(w1, "w1", W1_IP), 0);
    assert_int_equal(join(w2, "w2", W2_IP), 1);

    /* A scan IP belongs to one live worker. */
    zsock_t *copycat = worker(s, &k, 2);
    hello(copycat, "copycat", W2_IP, 0, 0);
    expect_fatal(copycat, "scan IP 198.18.2.2 belongs to worker w2");
    zsock_destroy(&copycat);

    /* One key, many names: the fifth session is refused. */
    zsock_t *many[COORD_MAX_SESSIONS_PER_KEY + 1];
    Lzr__Envelope *env;
    for (int i = 0; i <= COORD_MAX_SESSIONS_PER_KEY; i++) {
        char name[16];
        snprintf(name, sizeof name, "many%d", i);
        many[i] = worker(s, &k, 2);
        hello(many[i], name, 0xC6120500 + (uint32_t)i, 0, 0);
        if (i < COORD_MAX_SESSIONS_PER_KEY) {
            env = expect(many[i], LZR__ENVELOPE__BODY_WELCOME);
            wire_free(&env);
        } else {
            expect_fatal(many[i], "already has");
        }
    }
    for (int i = 0; i <= COORD_MAX_SESSIONS_PER_KEY; i++)
        zsock_destroy(&many[i]);
    /* The sessions above take a while on a loaded machine: w1 renews its lease so that it is
     * still w1's, whatever the clock did, when the hijacker speaks. */
    heartbeat(w1, job, 0);

    /* Another key on w1's routing id: ZeroMQ hands the id over, the coordinator does not. */
    zsock_t *hijack = worker_rid(s, &k, 2, "victim");
    usleep(200000);
    shard_done(hijack, job, 0);
    usleep(300000);
    char err[256];
    store_t *st = store_open_readonly(s->db, err, sizeof err);
    store_shard_t sh;
    assert_int_equal(store_shard_get(st, job, 0, &sh), LZR_OK);
    assert_int_equal(sh.state, SHARD_LEASED);
    assert_string_equal(sh.owner, "w1");
    store_close(&st);
    zsock_destroy(&hijack);

    /* A key that is not admitted never gets a session. Five tries: each refusal is counted,
     * one line is logged. */
    fflush(stderr);
    FILE *log = tmpfile();
    int saved = dup(STDERR_FILENO);
    dup2(fileno(log), STDERR_FILENO);
    bool welcomed = false;
    for (int i = 0; i < 5; i++) {
        zsock_t *stranger = worker(s, &k, -1);
        hello(stranger, "stranger", 0xC6120601, 0, 0);
        welcomed |= arrives(stranger, LZR__ENVELOPE__BODY_WELCOME, 300);
        zsock_destroy(&stranger);
    }
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_false(welcomed);
    rewind(log);
    char line[1024];
    int lines = 0;
    while (fgets(line, sizeof line, log))
        lines += strstr(line, "refused a worker whose key is not in") != NULL;
    fclose(log);
    assert_int_equal(lines, 1);

    /* w2 leaves; once its session is over, its name is still its key's. */
    zsock_destroy(&w2);
    usleep(2000000);
    zsock_t *thief = worker(s, &k, 0);
    hello(thief, "w2", 0xC6120802, job, 1);
    expect_fatal(thief, "belongs to another key");
    zsock_destroy(&thief);
    w2 = worker(s, &k, 1);
    hello(w2, "w2", W2_IP, 0, 0);
    env = expect(w2, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);

    /* The operator revokes w2: its session ends, and the name is free for another key. */
    Lzr__RevokeRequest rr = LZR__REVOKE_REQUEST__INIT;
    rr.name = "w2";
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_REVOKE;
    req.revoke = &rr;
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_OK);
    wire_free(&rep);
    expect_fatal(w2, "revoked");
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_ERROR);
    wire_free(&rep);
    zsock_t *heir = worker(s, &k, 2);
    hello(heir, "w2", 0xC6120702, 0, 0);
    env = expect(heir, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);

    /* Counted: the copycat, the fifth session, the hijacker's message, the thief. */
    Lzr__WorkersRequest wr = LZR__WORKERS_REQUEST__INIT;
    req.body_case = LZR__ENVELOPE__BODY_WORKERS;
    req.workers = &wr;
    rep = control(s, &req);
    assert_int_equal(rep->workers_reply->refused_peers, 5);
    assert_int_equal(rep->workers_reply->untrusted, 4);
    wire_free(&rep);

    zsock_destroy(&heir);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
    keys_free(&k);
}

/* What `lzr-coord workers` says of worker name: the refusals counted against it, or with
 * draining set, how many draining leases it holds (UINT64_MAX when not listed). */
static uint64_t worker_field(server_t *s, const char *name, bool draining)
{
    Lzr__WorkersRequest wr = LZR__WORKERS_REQUEST__INIT;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_WORKERS;
    req.workers = &wr;
    Lzr__Envelope *rep = control(s, &req);
    uint64_t n = UINT64_MAX;
    for (size_t i = 0; i < rep->workers_reply->n_workers; i++) {
        const Lzr__WorkerInfo *w = rep->workers_reply->workers[i];
        if (strcmp(w->name, name) == 0)
            n = draining ? w->draining : w->refused;
    }
    wire_free(&rep);
    return n;
}

/* The refusals counted against worker name. */
static uint64_t refused_of(server_t *s, const char *name)
{
    return worker_field(s, name, false);
}

/* Pipelined shards: once w1's walk is done it gets a second shard and holds two leases; its
 * batches and ShardDone for either are taken, its third walk_done brings no third lease (its
 * Hello did not say max_drains: one draining lease, as before the field), and the shard another
 * worker holds stays refused to it. */
static void test_two_leases(void **state)
{
    server_t *s = *state;
    server_start(s);
    uint64_t job = submit_job(s, trust_job);
    zsock_t *w1 = connect_to(s->listen);
    assert_int_equal(join(w1, "w1", W1_IP), 0);
    assert_false(arrives(w1, LZR__ENVELOPE__BODY_ASSIGN, 600)); /* walk not done: one lease */
    heartbeat_walk(w1, job, 0, true);
    Lzr__Envelope *env = expect(w1, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 1);
    wire_free(&env);
    heartbeat_walk(w1, job, 1, true); /* both walks done: still two leases, shard 2 stays */
    assert_false(arrives(w1, LZR__ENVELOPE__BODY_ASSIGN, 600));
    zsock_t *w2 = connect_to(s->listen);
    assert_int_equal(join(w2, "w2", W2_IP), 2);

    honest_batch(w1, job, 0, 1, 0, 8, W1_IP, CLASS_SERVICE, "http"); /* the draining shard */
    honest_batch(w1, job, 1, 2, 0, 8, W1_IP, CLASS_SERVICE, "http");
    assert_int_equal(refused_of(s, "w1"), 0);
    honest_batch(w1, job, 2, 3, 0, 8, W1_IP, CLASS_SERVICE, "http"); /* w2's: acked, refused */
    shard_done(w1, job, 2);
    for (int i = 0; i < 100 && refused_of(s, "w1") < 2; i++)
        usleep(20000); /* the ShardDone and the control request race */
    assert_int_equal(refused_of(s, "w1"), 2);
    assert_int_equal(results_in_db(s, job), 16);

    shard_done(w1, job, 0); /* the draining lease first, then the other */
    shard_done(w1, job, 1);
    honest_batch(w2, job, 2, 1, 0, 8, W2_IP, CLASS_SERVICE, "http");
    shard_done(w2, job, 2);
    wait_state(s, job, "done");
    assert_int_equal(results_in_db(s, job), 24);
    assert_int_equal(refused_of(s, "w1"), 2);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
}

/* The trust job in five shards: room for a walking lease and three draining ones. */
static const char *pipe_job = "name = \"pipe\"\n"
                              "targets = \"198.18.4.0/24\"\n"
                              "allow_reserved = \"198.18.0.0/15\"\n"
                              "ports = \"80,8080\"\n"
                              "rate = 100\n"
                              "shards = 5\n"
                              "seed = 7\n"
                              "handshakes = \"wait,http\"\n";

/* Sends w1's Hello naming walking shard `walking` of job (none when job is 0), draining shards
 * drains[0..n), and max_drains; returns the Welcome. */
static Lzr__Envelope *hello_drains(zsock_t *z, uint64_t job, uint32_t walking,
                                   const uint32_t *drains, size_t n, uint32_t max_drains)
{
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = "w1";
    h.scan_ip = W1_IP;
    h.max_drains = max_drains;
    Lzr__Lease lease = LZR__LEASE__INIT, d[8], *dp[8];
    assert_true(n <= 8);
    if (job) {
        lease.job_id = job;
        lease.shard = walking;
        h.lease = &lease;
    }
    for (size_t i = 0; i < n; i++) {
        lzr__lease__init(&d[i]);
        d[i].job_id = job;
        d[i].shard = drains[i];
        dp[i] = &d[i];
    }
    h.drain = dp;
    h.n_drain = n;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(z, &env);
    return expect(z, LZR__ENVELOPE__BODY_WELCOME);
}

/* The next Assign to z is of shard want. */
static void expect_assign(zsock_t *z, uint32_t want)
{
    Lzr__Envelope *env = expect(z, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, want);
    wire_free(&env);
}

/* A Hello that names its walking lease and, beside it, three draining ones (as after a
 * coordinator restart) keeps all four: every shard's batches are stored, not refused, and none
 * is leased again. A Hello that names fewer lets the others go back to the pool, and every
 * shard the worker still holds finishes with its own ShardDone. */
static void test_hello_keeps_drains(void **state)
{
    server_t *s = *state;
    server_start(s);
    uint64_t job = submit_job(s, pipe_job);
    zsock_t *w1 = connect_to(s->listen);
    Lzr__Envelope *env = hello_drains(w1, 0, 0, NULL, 0, LZR_MAX_DRAINS);
    wire_free(&env);
    expect_assign(w1, 0);
    for (uint32_t sh = 0; sh < 3; sh++) { /* each walk done: the next shard, the earlier drains */
        heartbeat_walk(w1, job, sh, true);
        expect_assign(w1, sh + 1);
    }

    const uint32_t all[3] = {0, 1, 2}, some[2] = {0, 2};
    env = hello_drains(w1, job, 3, all, 3, LZR_MAX_DRAINS);
    assert_true(env->welcome->lease_kept);
    assert_int_equal(env->welcome->n_drain_kept, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(env->welcome->drain_kept[i]);
    wire_free(&env);
    for (uint32_t sh = 0; sh < 4; sh++) {
        send_batch(w1, pipe_job, job, sh, sh + 1, 0, 8, W1_IP);
        expect_ack(w1, sh + 1);
    }
    assert_int_equal(results_in_db(s, job), 32);
    assert_int_equal(refused_of(s, "w1"), 0);
    assert_int_equal(worker_field(s, "w1", true), 3); /* `workers` shows them */

    env = hello_drains(w1, job, 3, some, 2, LZR_MAX_DRAINS); /* shard 1 back to the pool */
    assert_true(env->welcome->lease_kept);
    assert_int_equal(env->welcome->n_drain_kept, 2);
    assert_true(env->welcome->drain_kept[0] && env->welcome->drain_kept[1]);
    wire_free(&env);
    assert_int_equal(worker_field(s, "w1", true), 2);
    zsock_t *w2 = connect_to(s->listen);
    assert_int_equal(join(w2, "w2", W2_IP), 1);
    shard_done(w1, job, 0);
    shard_done(w1, job, 2);
    shard_done(w1, job, 3); /* w1 walks nothing now: it takes the last shard */
    expect_assign(w1, 4);
    shard_done(w2, job, 1);
    shard_done(w1, job, 4);
    wait_state(s, job, "done");
    assert_int_equal(refused_of(s, "w1"), 0);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
}

/* A Hello claims only what is its own: a shard still pending, which nobody assigned the worker,
 * is not kept (the worker is told to drop it), and the shard stays in the pool for the
 * scheduler, which hands out shard 1 first. */
static void test_hello_claims_only_its_own(void **state)
{
    server_t *s = *state;
    keys_t k;
    keys_make(s, &k);
    server_start(s);
    Lzr__Envelope *rep = submit(s, trust_job);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    zsock_t *w1 = worker(s, &k, 0);
    assert_int_equal(join(w1, "w1", W1_IP), 0);

    zsock_t *w2 = worker(s, &k, 1);
    hello(w2, "w2", W2_IP, job, 2);
    Lzr__Envelope *env = expect(w2, LZR__ENVELOPE__BODY_WELCOME);
    assert_false(env->welcome->lease_kept);
    wire_free(&env);
    env = expect(w2, LZR__ENVELOPE__BODY_CANCEL);
    assert_int_equal(env->cancel->lease->shard, 2);
    wire_free(&env);
    env = expect(w2, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 1);
    wire_free(&env);

    char err[256];
    store_t *ro = store_open_readonly(s->db, err, sizeof err);
    store_shard_t sh;
    assert_int_equal(store_shard_get(ro, job, 2, &sh), LZR_OK);
    assert_int_equal(sh.state, SHARD_PENDING);
    assert_int_equal(store_shard_get(ro, job, 1, &sh), LZR_OK);
    assert_string_equal(sh.owner, "w2");
    store_close(&ro);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
    keys_free(&k);
}

/* Leases are not failures; failures back off; five real failures cancel the job, with the reason
 * shown by status, and every other worker on the job is stopped and stores nothing more. */
static void test_failures(void **state)
{
    server_t *s = *state;
    s->opt.retry_ms = 100;
    server_start(s);
    uint64_t job = submit_job(s, trust_job);
    zsock_t *w1 = connect_to(s->listen);
    assert_int_equal(join(w1, "w1", W1_IP), 0);
    /* Four reconnects: four more leases of shard 0, no failure. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(join(w1, "w1", W1_IP), 0);
    zsock_t *w2 = connect_to(s->listen);
    assert_int_equal(join(w2, "w2", W2_IP), 1);
    honest_batch(w2, job, 1, 1, 0, 4, W2_IP, CLASS_SERVICE, "http");

    /* A transient error: the job goes on; shard 0 waits out its back-off, so w1 gets shard 2. */
    shard_done_err(w1, job, 0, "transient");
    Lzr__Envelope *env = expect(w1, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 2);
    wire_free(&env);
    char st[16];
    job_state(s, job, st, sizeof st);
    assert_string_equal(st, "running");

    /* w1 keeps failing shards until shard 0 has failed five times. */
    uint32_t holding = 2;
    for (int guard = 0; guard < 40; guard++) {
        heartbeat(w2, job, 1); /* w2 stays alive, on its shard */
        shard_done_err(w1, job, holding, "no such handshake");
        env = NULL;
        char err[256];
        zsock_set_rcvtimeo(w1, 1000);
        bool cancelled = false;
        while (wire_recv(w1, NULL, NULL, &env, err, sizeof err) == LZR_OK) {
            Lzr__Envelope__BodyCase b = env->body_case;
            if (b == LZR__ENVELOPE__BODY_ASSIGN)
                holding = env->assign->shard;
            wire_free(&env);
            if (b == LZR__ENVELOPE__BODY_ASSIGN)
                break;
        }
        job_state(s, job, st, sizeof st);
        cancelled = strcmp(st, "cancelled") == 0;
        if (cancelled)
            break;
    }
    assert_string_equal(st, "cancelled");
    /* The shard that failed five times (0 or 2, as the back-offs fell) is the one named. */
    char err[256];
    store_t *ro = store_open_readonly(s->db, err, sizeof err);
    store_shard_t sh, sh2;
    assert_int_equal(store_shard_get(ro, job, 0, &sh), LZR_OK);
    assert_int_equal(store_shard_get(ro, job, 2, &sh2), LZR_OK);
    assert_true(sh.attempts == 5 || sh2.attempts == 5);
    uint32_t failed = sh.attempts == 5 ? 0 : 2;
    store_close(&ro);

    /* w2 is told to stop; its heartbeat and its claim of the shard get nothing back. */
    env = expect(w2, LZR__ENVELOPE__BODY_CANCEL);
    assert_int_equal(env->cancel->lease->shard, 1);
    wire_free(&env);
    honest_batch(w2, job, 1, 2, 4, 4, W2_IP, CLASS_SERVICE, "http"); /* acked, not stored */
    assert_int_equal(results_in_db(s, job), 4);
    hello(w2, "w2", W2_IP, job, 1);
    env = expect(w2, LZR__ENVELOPE__BODY_WELCOME);
    assert_false(env->welcome->lease_kept);
    wire_free(&env);
    ro = store_open_readonly(s->db, err, sizeof err);
    assert_int_equal(store_shard_get(ro, job, 1, &sh), LZR_OK);
    assert_int_not_equal(sh.state, SHARD_LEASED);
    store_close(&ro);

    /* status says why. */
    Lzr__StatusRequest sr = LZR__STATUS_REQUEST__INIT;
    sr.job_id = job;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_STATUS;
    req.status = &sr;
    Lzr__Envelope *rep = control(s, &req);
    char want[64];
    snprintf(want, sizeof want, "shard %u failed 5 times", failed);
    assert_non_null(strstr(rep->status_reply->jobs[0]->reason, want));
    assert_non_null(strstr(rep->status_reply->jobs[0]->reason, "no such handshake"));
    wire_free(&rep);
    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
}

/* The database file deleted, or its directory moved away, under a running coordinator: no Ack
 * for the next batch, and coord_serve returns with the reason. */
static void db_gone(server_t *s, bool whole_dir)
{
    char moved[200];
    server_start(s);
    Lzr__Envelope *rep = submit(s, trust_job);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    zsock_t *w = connect_to(s->listen);
    assert_int_equal(join(w, "w1", W1_IP), 0);
    honest_batch(w, job, 0, 1, 0, 4, W1_IP, CLASS_SERVICE, "http");
    if (whole_dir) {
        snprintf(moved, sizeof moved, "%s-moved", s->dir);
        assert_int_equal(rename(s->dir, moved), 0);
    } else {
        assert_int_equal(unlink(s->db), 0);
    }
    uint32_t ip;
    uint16_t port;
    shard_targets(trust_job, 0, 4, 1, &ip, &port);
    lzr_record_t r = make_record(ip, port, W1_IP, CLASS_SERVICE, "http");
    send_records(w, job, 0, 3, &r, 1);
    assert_false(arrives(w, LZR__ENVELOPE__BODY_ACK, 800));
    for (int i = 0; i < 50 && !s->rc; i++)
        usleep(20000);
    assert_int_equal(server_join(s), LZR_EDB);
    assert_non_null(strstr(s->err, "gone"));
    zsock_destroy(&w);
    if (whole_dir)
        assert_int_equal(rename(moved, s->dir), 0);
}

static void test_db_deleted(void **state)
{
    db_gone(*state, false);
}

static void test_db_dir_moved(void **state)
{
    db_gone(*state, true);
}

/* Started on a database it cannot write, the coordinator refuses to start. Root writes any
 * file, so the coordinator runs as nobody, on a database owned by root. */
static void test_db_readonly(void **state)
{
    server_t *s = *state;
    char err[256];
    store_t *st = store_open(s->db, err, sizeof err);
    assert_non_null(st);
    store_close(&st);
    chmod(s->dir, 0755);
    chmod(s->db, 0644);
    if (geteuid() != 0)
        chmod(s->db, 0444);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        s->opt.listen = s->listen;
        s->opt.db_path = s->db;
        s->opt.lease_timeout_ms = 1500;
        s->opt.heartbeat_ms = 200;
        char e[512] = "";
        volatile sig_atomic_t stop = 0;
        int rc = coord_serve(&s->opt, &stop, e, sizeof e);
        _exit(rc == LZR_EDB && strstr(e, "read-only") ? 0 : (fprintf(stderr, "%d %s\n", rc, e), 1));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First, before this process has a ZeroMQ context to fork. */
        cmocka_unit_test_setup_teardown(test_db_readonly, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_worker_changes_nothing, harness_setup,
                                        harness_teardown),
        cmocka_unit_test_setup_teardown(test_names_and_sessions, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_failures, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_hello_claims_only_its_own, harness_setup,
                                        harness_teardown),
        cmocka_unit_test_setup_teardown(test_two_leases, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_hello_keeps_drains, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_db_deleted, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_db_dir_moved, harness_setup, harness_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
