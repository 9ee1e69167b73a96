/*
 * The coordinator on a full disk: its database lives on a 16 MiB tmpfs the test mounts (tests
 * run as root) and fills with a file in the middle of a job. Shown: no batch is acked that the
 * database does not hold, neither the shard nor the job is marked done while the store cannot
 * take it, a worker whose registration it cannot store is asked to say Hello again, the
 * coordinator keeps answering status, and once the file is gone it stores the
 * batches sent again and finishes the job by itself; PRAGMA integrity_check is ok at the end.
 */
#include "tests/unit/coord_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define W1_IP   0xC6120102u
#define PER     16 /* records per batch */
#define BATCHES 32 /* 512 targets: the whole shard */

static const char *disk_job = "name = \"disk\"\n"
                              "targets = \"198.18.4.0/24\"\n"
                              "allow_reserved = \"198.18.0.0/15\"\n"
                              "ports = \"80,8080\"\n"
                              "rate = 100\n"
                              "shards = 1\n"
                              "seed = 7\n"
                              "handshakes = \"http\"\n";

static void mount_dir(const server_t *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/disk", s->dir);
}

static int disk_setup(void **state)
{
    if (harness_setup(state) != 0)
        return -1;
    server_t *s = *state;
    char mnt[128];
    mount_dir(s, mnt, sizeof mnt);
    if (mkdir(mnt, 0700) != 0 || mount("lzr-test", mnt, "tmpfs", 0, "size=16m,mode=0700") != 0) {
        fprintf(stderr, "mount tmpfs on %s: %s (this test needs root)\n", mnt, strerror(errno));
        return -1;
    }
    snprintf(s->db, sizeof s->db, "%s/disk/lzr.db", s->dir);
    coord_control_endpoint(s->db, s->control, sizeof s->control);
    return 0;
}

static int disk_teardown(void **state)
{
    server_t *s = *state;
    server_join(s);
    char mnt[128];
    mount_dir(s, mnt, sizeof mnt);
    umount2(mnt, MNT_DETACH);
    return harness_teardown(state);
}

/* Fills the file system of path's directory with the file path until it has no byte left. */
static void fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(fd >= 0);
    static char block[4096];
    memset(block, 0xaa, sizeof block);
    size_t chunk = sizeof block;
    while (chunk) {
        ssize_t n = write(fd, block, chunk);
        if (n < 0 && errno == ENOSPC)
            chunk /= 2;
        else
            assert_true(n > 0);
    }
    close(fd);
}

/* The PER records of batch seq (1-based), each with 1000 bytes of data so that batches fill
 * the log quickly. */
static void batch_records(uint64_t seq, lzr_record_t *recs)
{
    uint32_t ip[PER];
    uint16_t port[PER];
    assert_int_equal(shard_targets(disk_job, 0, (seq - 1) * PER, PER, ip, port), PER);
    for (size_t i = 0; i < PER; i++) {
        recs[i] = make_record(ip[i], port[i], W1_IP, CLASS_SERVICE, "http");
        recs[i].data_len = 1000;
        memset(recs[i].data, 'a' + (int)(seq % 26), recs[i].data_len);
    }
}

/* Sends batch seq and waits up to ms for its Ack (heartbeats keep the session). */
static bool send_acked(zsock_t *w, uint64_t job, uint64_t seq, int ms)
{
    lzr_record_t recs[PER];
    batch_records(seq, recs);
    send_records(w, job, 0, seq, recs, PER);
    zsock_set_rcvtimeo(w, 100);
    bool acked = false;
    for (int waited = 0; waited < ms && !acked; waited += 100) {
        Lzr__Envelope *env = NULL;
        char err[256];
        if (wire_recv(w, NULL, NULL, &env, err, sizeof err) == LZR_OK) {
            acked = env->body_case == LZR__ENVELOPE__BODY_ACK && env->ack->seq == seq;
            wire_free(&env);
        }
        heartbeat(w, 0, 0);
    }
    zsock_set_rcvtimeo(w, 3000);
    return acked;
}

/* How many of batch seq's records the database holds (read on a connection of its own). */
static int stored_of(server_t *s, uint64_t job, uint64_t seq)
{
    lzr_record_t recs[PER];
    batch_records(seq, recs);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM results WHERE job_id = ? AND ip = ?"
                                        " AND port = ? AND length(data) > 0",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int n = 0;
    for (size_t i = 0; i < PER; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job);
        sqlite3_bind_int64(st, 2, recs[i].ip.v4);
        sqlite3_bind_int64(st, 3, recs[i].port);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n += sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void shard_state(server_t *s, uint64_t job, char *out, size_t cap)
{
    char err[256];
    store_t *st = store_open_readonly(s->db, err, sizeof err);
    assert_non_null(st);
    store_shard_t sh;
    assert_int_equal(store_shard_get(st, job, 0, &sh), LZR_OK);
    snprintf(out, cap, "%s", sh.state == SHARD_DONE ? "done" : "not done");
    store_close(&st);
}

static void integrity_ok(server_t *s)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Status while the disk is full: answered, and it shows the job running, its shard not done. */
static void status_running(server_t *s, uint64_t job)
{
    Lzr__StatusRequest r = LZR__STATUS_REQUEST__INIT;
    r.job_id = job;
    Lzr__Envelope req = LZR__ENVELOPE__INIT;
    req.body_case = LZR__ENVELOPE__BODY_STATUS;
    req.status = &r;
    Lzr__Envelope *rep = control(s, &req);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_STATUS_REPLY);
    assert_int_equal(rep->status_reply->n_jobs, 1);
    assert_string_equal(rep->status_reply->jobs[0]->state, "running");
    assert_int_equal(rep->status_reply->jobs[0]->shards_done, 0);
    wire_free(&rep);
}

/* Takes the last bytes the database could still write to: rows in a table of the test's own,
 * one small transaction each, until the disk refuses three in a row; then the file system's
 * last bytes with filler. After this, no write of the coordinator fits, not even one page. */
static void fill_all(sqlite3 *db, const char *filler)
{
    fill(filler);
    for (int refused = 0; refused < 3;) {
        int rc = sqlite3_exec(db, "INSERT INTO ballast VALUES (randomblob(200))", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            continue;
        assert_int_equal(rc & 0xff, SQLITE_FULL);
        refused++;
    }
    fill(filler);
}

static void test_full_disk(void **state)
{
    server_t *s = *state;
    server_start(s);
    Lzr__Envelope *rep = submit(s, disk_job);
    assert_int_equal(rep->body_case, LZR__ENVELOPE__BODY_SUBMIT_REPLY);
    uint64_t job = rep->submit_reply->job_id;
    wire_free(&rep);
    zsock_t *w = connect_to(s->listen);
    hello(w, "w1", W1_IP, 0, 0);
    Lzr__Envelope *env = expect(w, LZR__ENVELOPE__BODY_ASSIGN);
    wire_free(&env);
    assert_true(send_acked(w, job, 1, 3000));
    assert_int_equal(stored_of(s, job, 1), PER);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000); /* the coordinator writes too */
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE ballast (b BLOB)", NULL, NULL, NULL),
                     SQLITE_OK);
    char filler[160];
    snprintf(filler, sizeof filler, "%s/disk/filler", s->dir);

    /* The disk fills mid-job: the next batch is not acked, and not stored; the coordinator
     * keeps answering. */
    fill_all(db, filler);
    assert_false(send_acked(w, job, 2, 1500));
    assert_int_equal(stored_of(s, job, 2), 0);
    status_running(s, job);
    /* A worker whose registration cannot be stored is asked to say Hello again, not welcomed. */
    zsock_t *w2 = connect_to(s->listen);
    hello(w2, "w2", W1_IP + 1, 0, 0);
    env = expect(w2, LZR__ENVELOPE__BODY_REFUSE);
    assert_false(env->refuse->fatal);
    wire_free(&env);
    zsock_destroy(&w2);

    /* Space is back: the batch sent again is stored and acked, and so are the rest. */
    assert_int_equal(unlink(filler), 0);
    for (uint64_t q = 2; q <= BATCHES; q++) {
        bool ok = false;
        for (int tries = 0; tries < 20 && !ok; tries++)
            ok = send_acked(w, job, q, 1000);
        assert_true(ok);
        assert_int_equal(stored_of(s, job, q), PER);
    }

    /* Full again when the worker reports its shard done: neither the shard nor the job is done
     * while the store cannot take it. */
    fill_all(db, filler);
    shard_done(w, job, 0);
    for (int i = 0; i < 15; i++) {
        heartbeat(w, 0, 0);
        usleep(100000);
    }
    char st[16];
    shard_state(s, job, st, sizeof st);
    assert_string_equal(st, "not done");
    job_state(s, job, st, sizeof st);
    assert_string_equal(st, "running");
    status_running(s, job);

    /* Space is back: the coordinator stores the ShardDone it kept and finishes the job, without
     * another word from the worker. */
    assert_int_equal(unlink(filler), 0);
    for (int i = 0; i < 150 && strcmp(st, "done") != 0; i++) {
        heartbeat(w, 0, 0);
        usleep(100000);
        job_state(s, job, st, sizeof st);
    }
    assert_string_equal(st, "done");
    shard_state(s, job, st, sizeof st);
    assert_string_equal(st, "done");
    assert_int_equal(results_in_db(s, job), BATCHES * PER);
    sqlite3_close(db);
    zsock_destroy(&w);
    server_stop(s);
    integrity_ok(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_disk, disk_setup, disk_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
