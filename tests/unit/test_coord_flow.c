/*
 * Tests of the coordinator as a whole: coord_serve runs on a thread with a real database in a
 * temporary directory and real ZeroMQ ipc sockets; the test plays the command line and one or
 * two workers by speaking the wire protocol. Covered: submit errors and success, Hello/Welcome,
 * Assign contents, the rate split again (SetRate) as workers come and go, batches acked after
 * commit and idempotent on re-send, garbage dropped and counted, lease expiry handing a silent
 * worker's shard to another, ShardDone finishing the job, cancel, a restarted coordinator
 * resuming the job with the worker keeping its lease, and
 * a burst of batches stored in one transaction with one unstorable batch left unacked.
 */
#include "tests/unit/coord_harness.h"

#define W1_IP 0xC6120102u
#define W2_IP 0xC6120202u

static const char *lab_job = "name = \"flow\"\n"
                             "targets = \"198.18.4.0/24\"\n"
                             "allow_reserved = \"198.18.0.0/15\"\n"
                             "ports = \"80,8080\"\n"
                             "rate = 100\n"
                             "shards = 3\n"
                             "seed = 5\n"
                             "handshakes = \"wait,http\"\n";

static void test_submit_errors(void **state)
{
    server_t *s = *state;
    server_start(s);
    Lzr__Envelope *rep = submit(s, "targets = \"198.18.4.0/24\"\nports = \"80\"\nbogus = 1\n");
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_ERROR);
    assert_string_equal(rep->error->message,
                        "lab.toml:3: bogus: unknown key (known: name, "
                        "targets, targets_file, exclude, allow_reserved, blocklist_file, "
                        "allowlist_file, ports, "
                        "rate, seed, handshakes, fallback, timeout_ms, retransmit_ms, "
                        "cooldown_ms, acking_firewall_probes, report_all, shards, max_targets, "
                        "max_runtime, [vantage])");
    wire_free(&rep);
    /* Nothing was stored. */
    char err[256];
    store_t *st = store_open_readonly(s->db, err, sizeof err);
    uint64_t *ids;
    size_t n;
    assert_int_equal(store_job_ids(st, NULL, &ids, &n), LZR_OK);
    assert_int_equal(n, 0);
    free(ids);
    store_close(&st);

    /* Garbage on the control socket gets an error reply, and the server keeps serving. */
    zsock_t *z = connect_to(s->control);
    zstr_send(z, "\x08\x01\x52\xff");
    Lzr__Envelope *e = expect(z, LZR__ENVELOPE__BODY_ERROR);
    wire_free(&e);
    zsock_destroy(&z);
    rep = submit(s, lab_job);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_SUBMIT_REPLY);
    assert_int_equal(rep->submit_reply->job_id, 1);
    assert_int_equal(rep->submit_reply->n_shards, 3);
    wire_free(&rep);
    server_stop(s);
}

/* A Hello with an IPv6 scan IP (text) beside the IPv4 one. */
static void hello6(zsock_t *z, const char *name, uint32_t ip, const char *ip6)
{
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = (char *)name;
    h.scan_ip = ip;
    lzr_addr_t a;
    assert_int_equal(addr_parse(ip6, &a), LZR_OK);
    h.scan_ip6 = (ProtobufCBinaryData){.len = 16, .data = a.v6};
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(z, &env);
}

static lzr_record_t record6(const char *ip, const char *src)
{
    lzr_record_t r = make_record(0, 80, 0, CLASS_SERVICE, "http");
    assert_int_equal(addr_parse(ip, &r.ip), LZR_OK);
    assert_int_equal(addr_parse(src, &r.source_ip), LZR_OK);
    return r;
}

/* A job of both families: its size counts both; it is leased only to a worker with an IPv6
 * scan IP; an IPv6 record is stored when its target is in the job and its source is that
 * worker's IPv6 scan IP, and dropped and counted otherwise. */
static void test_ipv6_job(void **state)
{
    server_t *s = *state;
    server_start(s);
    const char *toml = "targets = [\"198.18.4.0/30\", \"2001:2::1:0/126\"]\n"
                       "allow_reserved = [\"198.18.0.0/15\", \"2001:2::/48\"]\n"
                       "ports = \"80\"\nrate = 100\nshards = 1\nseed = 5\n";
    uint64_t job = submit_job(s, toml);
    zsock_t *w4 = connect_to(s->listen);
    hello(w4, "w4", W1_IP, 0, 0);
    Lzr__Envelope *env = expect(w4, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);
    assert_false(arrives(w4, LZR__ENVELOPE__BODY_ASSIGN, 600)); /* no IPv6 scan IP */

    zsock_t *w6 = connect_to(s->listen);
    hello6(w6, "w6", W2_IP, "2001:2::21");
    env = expect(w6, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);
    env = expect(w6, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->perm_size, 8); /* 4 IPv4 + 4 IPv6 addresses × 1 port */
    assert_string_equal(env->assign->targets[1], "2001:2::1:0/126");
    wire_free(&env);

    lzr_record_t recs[4] = {
        record6("2001:2::1:1", "2001:2::21"),                      /* stored */
        record6("2001:2::1:9", "2001:2::21"),                      /* outside the job */
        record6("2001:2::1:2", "2001:2::99"),                      /* not w6's scan IP */
        make_record(0xC6120402, 80, W2_IP, CLASS_SERVICE, "http"), /* IPv4, stored */
    };
    send_records(w6, job, 0, 1, recs, 4);
    env = expect(w6, LZR__ENVELOPE__BODY_ACK);
    wire_free(&env);
    assert_int_equal(results_in_db(s, job), 2);
    Lzr__WorkersRequest wr = LZR__WORKERS_REQUEST__INIT;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_WORKERS;
    req.workers = &wr;
    Lzr__Envelope *rep = control(s, &req);
    assert_int_equal(rep->workers_reply->untrusted, 2);
    size_t with6 = 0;
    for (size_t i = 0; i < rep->workers_reply->n_workers; i++)
        with6 += rep->workers_reply->workers[i]->scan_ip6.len == 16;
    assert_int_equal(with6, 1);
    wire_free(&rep);

    /* A Hello whose IPv6 scan IP is not 16 bytes is malformed and refused. */
    zsock_t *bad = connect_to(s->listen);
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = "bad";
    h.scan_ip = 0xC6120909;
    uint8_t four[4] = {1, 2, 3, 4};
    h.scan_ip6 = (ProtobufCBinaryData){.len = 4, .data = four};
    Lzr__Envelope he = LZR__ENVELOPE__INIT;
    he.body_case = LZR__ENVELOPE__BODY_HELLO;
    he.hello = &h;
    send_env(bad, &he);
    env = expect(bad, LZR__ENVELOPE__BODY_REFUSE);
    assert_non_null(strstr(env->refuse->reason, "16 bytes"));
    wire_free(&env);
    zsock_destroy(&bad);
    zsock_destroy(&w4);
    zsock_destroy(&w6);
    server_stop(s);
}

static void test_full_flow(void **state)
{
    server_t *s = *state;
    server_start(s);
    Lzr__Envelope *rep = submit(s, lab_job);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_SUBMIT_REPLY);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);

    zsock_t *w1 = connect_to(s->listen);
    hello(w1, "w1", 0xC6120102, 0, 0);
    Lzr__Envelope *env = expect(w1, LZR__ENVELOPE__BODY_WELCOME);
    assert_int_equal(env->welcome->heartbeat_ms, 200);
    assert_false(env->welcome->lease_kept);
    wire_free(&env);

    /* The Assign carries what the job file and job_plan say. */
    env = expect(w1, LZR__ENVELOPE__BODY_ASSIGN);
    Lzr__Assign *a = env->assign;
    char err[256];
    job_spec_t *spec = job_parse(lab_job, strlen(lab_job), "lab.toml", err, sizeof err);
    assert_non_null(spec);
    perm_params_t p;
    assert_int_equal(job_plan(spec, 0, 1, &p, err, sizeof err), LZR_OK);
    assert_int_equal(a->job_id, job);
    assert_int_equal(a->shard, 0);
    assert_int_equal(a->n_shards, 3);
    assert_int_equal(a->perm_size, 512);
    assert_int_equal(a->perm_prime, p.prime);
    assert_int_equal(a->perm_generator, p.generator);
    assert_int_equal(a->perm_start, p.start);
    uint64_t b0, e0;
    perm_shard_range(&p, 0, 3, &b0, &e0);
    assert_int_equal(a->pos_begin, b0);
    assert_int_equal(a->pos_end, e0);
    assert_int_equal(a->cookie_key.len, 16);
    assert_int_equal(a->rate, 100); /* one worker holds the whole rate */
    assert_int_equal(a->n_handshakes, 2);
    assert_string_equal(a->handshakes[1], "http");
    /* No fallback key in the file: the default tier goes to the workers. */
    assert_int_equal(a->n_fallback, 3);
    assert_string_equal(a->fallback[0], "mqtt");
    assert_string_equal(a->fallback[2], "postgres");
    assert_string_equal(a->ports, "80,8080");
    assert_int_equal(a->n_targets, 1);
    assert_string_equal(a->allow_reserved[0], "198.18.0.0/15");
    job_destroy(&spec);
    wire_free(&env);

    /* A second worker: the rate is now split over two. */
    zsock_t *w2 = connect_to(s->listen);
    hello(w2, "w2", 0xC6120202, 0, 0);
    env = expect(w2, LZR__ENVELOPE__BODY_WELCOME);
    wire_free(&env);
    env = expect(w2, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 1);
    assert_int_equal(env->assign->rate, 50);
    wire_free(&env);
    /* ... and w1, which was given the whole rate, is told its new share: the job's total
     * stays at 100/s. */
    env = expect(w1, LZR__ENVELOPE__BODY_SET_RATE);
    assert_int_equal(env->set_rate->lease->job_id, job);
    assert_int_equal(env->set_rate->lease->shard, 0);
    assert_int_equal(env->set_rate->rate, 50);
    wire_free(&env);

    /* Results: acked after commit; the same batch again adds nothing. */
    send_batch(w1, lab_job, job, 0, 1, 0, 3, W1_IP);
    env = expect(w1, LZR__ENVELOPE__BODY_ACK);
    assert_int_equal(env->ack->seq, 1);
    wire_free(&env);
    assert_int_equal(results_in_db(s, job), 3);
    send_batch(w1, lab_job, job, 0, 1, 0, 3, W1_IP);
    env = expect(w1, LZR__ENVELOPE__BODY_ACK);
    wire_free(&env);
    assert_int_equal(results_in_db(s, job), 3);

    /* Garbage from a worker is dropped; the session goes on. */
    zstr_send(w1, "not a protobuf at all \xff\xff");
    zstr_sendx(w1, "two", "frames", NULL);
    send_batch(w1, lab_job, job, 0, 2, 15, 2, W1_IP);
    env = expect(w1, LZR__ENVELOPE__BODY_ACK);
    assert_int_equal(env->ack->seq, 2);
    wire_free(&env);
    assert_int_equal(results_in_db(s, job), 5);

    /* w1 finishes shard 0 and gets shard 2. */
    shard_done(w1, job, 0);
    env = expect(w1, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 2);
    wire_free(&env);

    /* w2 goes silent: after the lease timeout its shard 1 is free again, and once w1 is done
     * with shard 2 it gets shard 1. w1 keeps its lease alive with heartbeats. */
    for (int i = 0; i < 10; i++) {
        heartbeat(w1, job, 2);
        usleep(200000);
    }
    /* w2 is gone: w1 has the whole rate again. */
    env = expect(w1, LZR__ENVELOPE__BODY_SET_RATE);
    assert_int_equal(env->set_rate->lease->shard, 2);
    assert_int_equal(env->set_rate->rate, 100);
    wire_free(&env);
    shard_done(w1, job, 2);
    env = expect(w1, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 1);
    wire_free(&env);

    /* The silent worker comes back with stale results: they are still stored and acked. */
    send_batch(w2, lab_job, job, 1, 1, 31, 1, W2_IP);
    env = expect(w2, LZR__ENVELOPE__BODY_REFUSE);
    assert_false(env->refuse->fatal);
    wire_free(&env);

    /* Workers list and status over the control socket. */
    Lzr__WorkersRequest wr = LZR__WORKERS_REQUEST__INIT;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_WORKERS;
    req.workers = &wr;
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_WORKERS_REPLY);
    assert_int_equal(rep->workers_reply->n_workers, 1);
    assert_string_equal(rep->workers_reply->workers[0]->name, "w1");
    assert_int_equal(rep->workers_reply->workers[0]->lease->shard, 1);
    assert_true(rep->workers_reply->malformed >= 2);
    wire_free(&rep);

    shard_done(w1, job, 1);
    for (int i = 0; i < 50; i++) {
        char st[16];
        job_state(s, job, st, sizeof st);
        if (strcmp(st, "done") == 0)
            break;
        usleep(50000);
    }
    char st[16];
    job_state(s, job, st, sizeof st);
    assert_string_equal(st, "done");

    Lzr__StatusRequest sr = LZR__STATUS_REQUEST__INIT;
    sr.job_id = job;
    req.body_case = LZR__ENVELOPE__BODY_STATUS;
    req.status = &sr;
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_STATUS_REPLY);
    assert_int_equal(rep->status_reply->n_jobs, 1);
    assert_string_equal(rep->status_reply->jobs[0]->state, "done");
    assert_int_equal(rep->status_reply->jobs[0]->shards_done, 3);
    assert_int_equal(rep->status_reply->jobs[0]->results, 5);
    assert_int_equal(rep->status_reply->jobs[0]->targets_done, 512);
    wire_free(&rep);

    zsock_destroy(&w1);
    zsock_destroy(&w2);
    server_stop(s);
}

static void test_restart_and_cancel(void **state)
{
    server_t *s = *state;
    server_start(s);
    Lzr__Envelope *rep = submit(s, lab_job);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    zsock_t *w = connect_to(s->listen);
    hello(w, "w1", 0xC6120102, 0, 0);
    Lzr__Envelope *env = expect(w, LZR__ENVELOPE__BODY_ASSIGN);
    assert_int_equal(env->assign->shard, 0);
    wire_free(&env);
    send_batch(w, lab_job, job, 0, 1, 0, 2, W1_IP);
    env = expect(w, LZR__ENVELOPE__BODY_ACK);
    wire_free(&env);

    /* Restart: the job resumes; the worker's heartbeat meets a stranger, is asked to register,
     * and keeps its lease by naming it. */
    server_stop(s);
    server_start(s);
    heartbeat(w, job, 0);
    env = expect(w, LZR__ENVELOPE__BODY_REFUSE);
    assert_false(env->refuse->fatal);
    wire_free(&env);
    hello(w, "w1", 0xC6120102, job, 0);
    env = expect(w, LZR__ENVELOPE__BODY_WELCOME);
    assert_true(env->welcome->lease_kept);
    wire_free(&env);
    send_batch(w, lab_job, job, 0, 2, 2, 2, W1_IP);
    env = expect(w, LZR__ENVELOPE__BODY_ACK);
    wire_free(&env);
    assert_int_equal(results_in_db(s, job), 4);

    /* A second worker under the same name but another key... without CURVE both are "", so it
     * replaces the first; its claim of someone else's shard fails. */
    zsock_t *w2 = connect_to(s->listen);
    hello(w2, "w2", 0xC6120202, job, 0);
    env = expect(w2, LZR__ENVELOPE__BODY_WELCOME);
    assert_false(env->welcome->lease_kept);
    wire_free(&env);
    env = expect(w2, LZR__ENVELOPE__BODY_CANCEL);
    wire_free(&env);

    /* Cancel the job: the worker holding a shard is told. */
    Lzr__CancelRequest cr = LZR__CANCEL_REQUEST__INIT;
    cr.job_id = job;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_CANCEL_JOB;
    req.cancel_job = &cr;
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_OK);
    wire_free(&rep);
    env = expect(w, LZR__ENVELOPE__BODY_CANCEL);
    assert_int_equal(env->cancel->lease->job_id, job);
    wire_free(&env);
    char st[16];
    job_state(s, job, st, sizeof st);
    assert_string_equal(st, "cancelled");
    rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_ERROR);
    assert_non_null(strstr(rep->error->message, "already cancelled"));
    wire_free(&rep);

    zsock_destroy(&w);
    zsock_destroy(&w2);
    server_stop(s);
}

/* Batches that arrive together are stored in one transaction and acked after it; when one of
 * them cannot be stored, the others still are, and only it goes unacked. */
static void test_group_commit(void **state)
{
    server_t *s = *state;
    server_start(s);
    Lzr__Envelope *rep = submit(s, lab_job);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000); /* the running coordinator writes too */
    /* The third batch's first target cannot be stored. */
    uint32_t bad_ip;
    uint16_t bad_port;
    assert_int_equal(shard_targets(lab_job, 0, 48, 1, &bad_ip, &bad_port), 1);
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER boom BEFORE INSERT ON results WHEN NEW.ip = %u AND NEW.port = %u"
             " BEGIN SELECT RAISE(ABORT, 'boom'); END",
             bad_ip, bad_port);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    zsock_t *w = connect_to(s->listen);
    hello(w, "w1", 0xC6120102, 0, 0);
    Lzr__Envelope *env = expect(w, LZR__ENVELOPE__BODY_ASSIGN);
    wire_free(&env);
    /* Four batches back to back; the third holds the target the trigger refuses. */
    for (uint64_t seq = 1; seq <= 4; seq++)
        send_batch(w, lab_job, job, 0, seq, 16 * (size_t)seq, 8, W1_IP);
    bool acked[5] = {false};
    for (int i = 0; i < 3; i++) {
        env = expect(w, LZR__ENVELOPE__BODY_ACK);
        assert_in_range(env->ack->seq, 1, 4);
        acked[env->ack->seq] = true;
        wire_free(&env);
    }
    assert_true(acked[1] && acked[2] && acked[4]);
    assert_false(acked[3]);
    assert_int_equal(results_in_db(s, job), 24);
    /* No Ack for the third comes later either. */
    zsock_set_rcvtimeo(w, 600);
    for (int i = 0; i < 5; i++) {
        env = NULL;
        char err[256];
        if (wire_recv(w, NULL, NULL, &env, err, sizeof err) != LZR_OK)
            break;
        assert_int_not_equal(env->body_case, LZR__ENVELOPE__BODY_ACK);
        wire_free(&env);
    }
    zsock_destroy(&w);
    server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_errors, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_full_flow, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_job, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_cancel, harness_setup, harness_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, harness_setup, harness_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
