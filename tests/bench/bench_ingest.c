/*
 * bench_ingest: how many result records per second a running coordinator takes in, through the
 * whole path a cluster scan uses: worker DEALER socket with CURVE keys → ZeroMQ → the
 * coordinator's ROUTER → store_put_batch → SQLite. It plays one or more workers the way
 * worker/agent.c does (Hello, wait for Welcome and an Assign of a shard, then ResultBatch
 * messages on that lease with at most --window of them unacked, heartbeats every second) but
 * makes the records up instead of scanning, so the coordinator is the only thing measured. Each
 * record is a distinct (ip, port) of the shard the worker was assigned (the coordinator refuses
 * targets outside it), an HTTP service record with --data-bytes of response. The shard's
 * targets are sent in ascending (ip, port) order, not in the order a scan meets them: SQLite
 * appends rows in key order much faster than it inserts them at random (docs/benchmarks.md). The
 * clock runs from the first batch sent to the last Ack received; then the rows of the job are
 * counted in the database (read-only, WAL lets it read while the coordinator runs). Prints
 * key=value lines for tests/bench/run.sh. Exit status 1 when a worker is not assigned, a batch is
 * never acked, or the rows do not match; it never asserts timings.
 */
#include "common/err.h"
#include "common/permutation.h"
#include "common/wire.h"

#include <czmq.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_WORKERS 16
#define BENCH_MAX_WINDOW  64
#define RESEND_MS         3000
#define HEARTBEAT_MS      1000
/* The job of ingest.sh: 198.18.0.0/15 × ports 80-87; element e of its permutation is address
 * 198.18.0.0 + e / 8, port 80 + e % 8. */
#define BENCH_BASE_IP   0xC6120000u
#define BENCH_ADDRS     131072u
#define BENCH_MAX_PORTS 8u

typedef struct {
    uint64_t seq;
    uint8_t *buf;
    size_t len;
    uint64_t sent_ms;
} inflight_t;

typedef struct {
    char name[32];
    zsock_t *sock;
    bool welcomed, assigned;
    uint64_t job_id;
    uint32_t shard;
    uint8_t *targets;           /* bitmap of the assigned shard's targets (elements) */
    uint64_t size, cursor;      /* elements of the job; the next one to look at */
    uint64_t next_rec, end_rec; /* records [next_rec, end_rec) still to send */
    uint64_t next_seq;
    inflight_t win[BENCH_MAX_WINDOW];
    size_t n_win;
    uint64_t last_hb_ms;
} fake_worker_t;

typedef struct {
    const char *endpoint, *keys, *db;
    int workers;
    uint64_t records;
    size_t batch, window, data_bytes;
    unsigned timeout_s;
} opts_t;

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_ingest --endpoint tcp://127.0.0.1:PORT --keys DIR --db FILE\n"
                    "       [--workers 1] [--records 500000] [--batch 256] [--window 8]\n"
                    "       [--data-bytes 160] [--timeout 120]\n"
                    "DIR is from `lzr-coord keygen DIR w1 w2 ...`; worker i uses DIR/wi/.\n");
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (!s[0] || *end || v < lo || v > hi)
        return LZR_EINVAL;
    *out = v;
    return LZR_OK;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    *o = (opts_t){.workers = 1,
                  .records = 500000,
                  .batch = 256,
                  .window = 8,
                  .data_bytes = 160,
                  .timeout_s = 120};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (!v) {
            fprintf(stderr, "bench_ingest: %s needs a value\n", k);
            return LZR_EINVAL;
        }
        i++;
        if (strcmp(k, "--endpoint") == 0)
            o->endpoint = v;
        else if (strcmp(k, "--keys") == 0)
            o->keys = v;
        else if (strcmp(k, "--db") == 0)
            o->db = v;
        else if (strcmp(k, "--workers") == 0 && !parse_u64(v, 1, BENCH_MAX_WORKERS, &n))
            o->workers = (int)n;
        else if (strcmp(k, "--records") == 0 &&
                 !parse_u64(v, 1, (uint64_t)BENCH_ADDRS * BENCH_MAX_PORTS, &n))
            o->records = n;
        else if (strcmp(k, "--batch") == 0 && !parse_u64(v, 1, LZR_WIRE_MAX_BATCH, &n))
            o->batch = n;
        else if (strcmp(k, "--window") == 0 && !parse_u64(v, 1, BENCH_MAX_WINDOW, &n))
            o->window = n;
        else if (strcmp(k, "--data-bytes") == 0 && !parse_u64(v, 0, LZR_DATA_MAX, &n))
            o->data_bytes = n;
        else if (strcmp(k, "--timeout") == 0 && !parse_u64(v, 1, 3600, &n))
            o->timeout_s = (unsigned)n;
        else {
            fprintf(stderr, "bench_ingest: bad option or value: %s %s\n", k, v);
            return LZR_EINVAL;
        }
    }
    if (!o->endpoint || !o->keys || !o->db) {
        fprintf(stderr, "bench_ingest: --endpoint, --keys and --db are required\n");
        return LZR_EINVAL;
    }
    return LZR_OK;
}

/* A DEALER with the worker's CURVE key pair and the coordinator's public key, as the agent. */
static int worker_open(fake_worker_t *w, const opts_t *o)
{
    char path[4096];
    w->sock = zsock_new(ZMQ_DEALER);
    if (!w->sock)
        return LZR_EIO;
    zsock_set_linger(w->sock, 0);
    zsock_set_sndtimeo(w->sock, 1000);
    zsock_set_maxmsgsize(w->sock, LZR_WIRE_MAX_BYTES + 1024);
    snprintf(path, sizeof path, "%s/%s/worker.key", o->keys, w->name);
    zcert_t *mine = zcert_load(path);
    snprintf(path, sizeof path, "%s/%s/coordinator.key", o->keys, w->name);
    zcert_t *server = zcert_load(path);
    if (!mine || !server) {
        fprintf(stderr, "bench_ingest: cannot load the keys in %s/%s/\n", o->keys, w->name);
        zcert_destroy(&mine);
        zcert_destroy(&server);
        return LZR_EINVAL;
    }
    zcert_apply(mine, w->sock);
    zsock_set_curve_serverkey(w->sock, zcert_public_txt(server));
    zcert_destroy(&mine);
    zcert_destroy(&server);
    if (zsock_connect(w->sock, "%s", o->endpoint) < 0) {
        fprintf(stderr, "bench_ingest: cannot connect to %s\n", o->endpoint);
        return LZR_EIO;
    }
    return LZR_OK;
}

static int send_env(fake_worker_t *w, Lzr__Envelope *env)
{
    char err[256];
    int rc = wire_send(w->sock, NULL, env, err, sizeof err);
    if (rc != LZR_OK)
        fprintf(stderr, "bench_ingest: %s: %s\n", w->name, err);
    return rc;
}

static int send_hello(fake_worker_t *w, int idx)
{
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = w->name;
    h.version = "0.1";
    h.scan_ip = 0xC6120000u + 11u + 10u * (uint32_t)idx; /* 198.18.0.11, .21, ... */
    h.iface = "eth0";
    h.sport_lo = 40000;
    h.sport_hi = 65535;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return send_env(w, &env);
}

static int send_heartbeat(fake_worker_t *w, uint64_t now_ms)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = w->job_id;
    lease.shard = w->shard;
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    hb.lease = w->assigned ? &lease : NULL;
    hb.queued_records = (uint32_t)(w->end_rec - w->next_rec);
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    w->last_hb_ms = now_ms;
    return send_env(w, &env);
}

/* Record k of the run: an HTTP service on target el of the job, as the load range yields. */
static void make_record(lzr_record_t *r, uint64_t k, uint64_t el, uint32_t source_ip,
                        size_t data_bytes)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";
    memset(r, 0, offsetof(lzr_record_t, data));
    r->ip = addr_ipv4(BENCH_BASE_IP + (uint32_t)(el / BENCH_MAX_PORTS));
    r->port = (uint16_t)(80 + el % BENCH_MAX_PORTS);
    r->source_ip = addr_ipv4(source_ip);
    r->cls = CLASS_SERVICE;
    snprintf(r->protocol, sizeof r->protocol, "http");
    snprintf(r->handshake, sizeof r->handshake, "http");
    r->handshakes_tried = 1;
    r->window = 64240;
    r->ttl_synack = 63;
    r->ttl_last = 63;
    r->acked_data = true;
    r->rtt_us = 150 + (uint32_t)(k % 97);
    r->ts_us = wall_us();
    r->data_len = (uint16_t)data_bytes;
    for (size_t i = 0; i < data_bytes; i++)
        r->data[i] = i < sizeof head - 1 ? (uint8_t)head[i] : (uint8_t)('a' + (k + i) % 26);
}

/* Packs the next batch of w and sends it; the packed bytes stay in the window for re-sending. */
static int send_batch(fake_worker_t *w, const opts_t *o, uint32_t source_ip)
{
    static lzr_record_t recs[LZR_WIRE_MAX_BATCH];
    static Lzr__Record m[LZR_WIRE_MAX_BATCH];
    static Lzr__Record *mp[LZR_WIRE_MAX_BATCH];
    size_t n = 0;
    while (n < o->batch && w->next_rec < w->end_rec) {
        while (w->cursor < w->size && !(w->targets[w->cursor / 8] & (1u << (w->cursor % 8))))
            w->cursor++;
        uint64_t el = w->cursor++;
        if (el >= w->size) {
            fprintf(stderr, "bench_ingest: %s: shard %u has fewer targets than its records\n",
                    w->name, w->shard);
            return LZR_ERANGE;
        }
        make_record(&recs[n], w->next_rec++, el, source_ip, o->data_bytes);
        wire_record_from(&m[n], &recs[n]);
        mp[n] = &m[n];
        n++;
    }
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = w->job_id;
    lease.shard = w->shard;
    Lzr__ResultBatch b = LZR__RESULT_BATCH__INIT;
    b.lease = &lease;
    b.seq = ++w->next_seq;
    b.n_records = n;
    b.records = mp;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    inflight_t *p = &w->win[w->n_win];
    if (wire_pack(&env, &p->buf, &p->len) != LZR_OK) {
        fprintf(stderr, "bench_ingest: cannot encode a batch of %zu records\n", n);
        return LZR_ENOMEM;
    }
    p->seq = b.seq;
    p->sent_ms = mono_us() / 1000;
    w->n_win++;
    return wire_send_raw(w->sock, NULL, p->buf, p->len);
}

/* Handles one message for w; returns LZR_OK, or an error when the coordinator refuses it. */
static int on_message(fake_worker_t *w)
{
    char err[256];
    Lzr__Envelope *env = NULL;
    if (wire_recv(w->sock, NULL, NULL, &env, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "bench_ingest: %s: %s\n", w->name, err);
        return LZR_OK;
    }
    int rc = LZR_OK;
    switch (env->body_case) {
    case LZR__ENVELOPE__BODY_WELCOME:
        w->welcomed = true;
        break;
    case LZR__ENVELOPE__BODY_ASSIGN:
        if (!w->assigned) {
            w->assigned = true;
            w->job_id = env->assign->job_id;
            w->shard = env->assign->shard;
            perm_params_t p = {.size = env->assign->perm_size,
                               .prime = env->assign->perm_prime,
                               .generator = env->assign->perm_generator,
                               .start = env->assign->perm_start};
            perm_iter_t it;
            perm_iter_init(&it, &p, env->assign->pos_begin, env->assign->pos_end);
            w->size = p.size;
            w->targets = calloc(p.size / 8 + 1, 1);
            if (!w->targets) {
                rc = LZR_ENOMEM;
                break;
            }
            for (uint64_t el; perm_next(&it, &el);)
                w->targets[el / 8] |= (uint8_t)(1u << (el % 8));
        }
        break;
    case LZR__ENVELOPE__BODY_ACK:
        for (size_t i = 0; i < w->n_win; i++) {
            if (w->win[i].seq != env->ack->seq)
                continue;
            free(w->win[i].buf);
            w->win[i] = w->win[--w->n_win];
            break;
        }
        break;
    case LZR__ENVELOPE__BODY_CANCEL:
        fprintf(stderr, "bench_ingest: %s: cancelled: %s\n", w->name,
                env->cancel->reason ? env->cancel->reason : "");
        rc = LZR_EPROTO;
        break;
    case LZR__ENVELOPE__BODY_REFUSE:
        fprintf(stderr, "bench_ingest: %s: refused: %s\n", w->name,
                env->refuse->reason ? env->refuse->reason : "");
        rc = LZR_EPROTO;
        break;
    default:
        break;
    }
    wire_free(&env);
    return rc;
}

static long long count_rows(const char *db, uint64_t job_id)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM results WHERE job_id = ?", -1, &st, NULL) ==
            SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    if (!st || n < 0)
        fprintf(stderr, "bench_ingest: cannot count rows in %s: %s\n", db,
                h ? sqlite3_errmsg(h) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse_args(argc, argv, &o) != LZR_OK) {
        usage();
        return 1;
    }
    zsys_init();
    zsys_set_logstream(NULL);
    static fake_worker_t ws[BENCH_MAX_WORKERS];
    zpoller_t *poller = NULL;
    int status = 1;
    uint64_t per = o.records / (uint64_t)o.workers;
    for (int i = 0; i < o.workers; i++) {
        fake_worker_t *w = &ws[i];
        snprintf(w->name, sizeof w->name, "w%d", i + 1);
        /* Worker i sends records [i * per, (i + 1) * per); the last takes the remainder. */
        w->next_rec = (uint64_t)i * per;
        w->end_rec = i == o.workers - 1 ? o.records : w->next_rec + per;
        if (worker_open(w, &o) != LZR_OK)
            goto out;
        if (!poller)
            poller = zpoller_new(w->sock, NULL);
        else
            zpoller_add(poller, w->sock);
        if (send_hello(w, i) != LZR_OK)
            goto out;
    }
    uint64_t deadline = mono_us() + (uint64_t)o.timeout_s * 1000000u;
    uint64_t t0 = 0, t1 = 0, resent = 0;
    /* Phase 1: every worker welcomed and holding a shard. Phase 2: batches until all acked. */
    for (;;) {
        uint64_t now = mono_us();
        if (now > deadline) {
            fprintf(stderr, "bench_ingest: timed out after %u s (%s)\n", o.timeout_s,
                    t0 ? "batches not acked" : "no Assign for every worker: is a job submitted?");
            goto out;
        }
        bool all_assigned = true, all_done = true;
        for (int i = 0; i < o.workers; i++) {
            all_assigned &= ws[i].assigned;
            all_done &= ws[i].next_rec == ws[i].end_rec && ws[i].n_win == 0;
        }
        if (all_assigned && !t0)
            t0 = mono_us();
        if (t0 && all_done) {
            t1 = mono_us();
            break;
        }
        for (int i = 0; i < o.workers && t0; i++) {
            fake_worker_t *w = &ws[i];
            uint32_t src = 0xC6120000u + 11u + 10u * (uint32_t)i;
            while (w->n_win < o.window && w->next_rec < w->end_rec)
                if (send_batch(w, &o, src) != LZR_OK)
                    goto out;
            uint64_t ms = mono_us() / 1000;
            for (size_t k = 0; k < w->n_win; k++) {
                if (ms >= w->win[k].sent_ms + RESEND_MS) {
                    wire_send_raw(w->sock, NULL, w->win[k].buf, w->win[k].len);
                    w->win[k].sent_ms = ms;
                    resent++;
                }
            }
        }
        for (int i = 0; i < o.workers; i++)
            if (ws[i].welcomed && now / 1000 - ws[i].last_hb_ms >= HEARTBEAT_MS)
                send_heartbeat(&ws[i], now / 1000);
        zsock_t *ready = zpoller_wait(poller, 100);
        /* Drain every socket that has messages, not only the one the poller named. */
        (void)ready;
        for (int i = 0; i < o.workers; i++)
            while (zsock_events(ws[i].sock) & ZMQ_POLLIN)
                if (on_message(&ws[i]) != LZR_OK)
                    goto out;
    }
    double secs = (double)(t1 - t0) / 1e6;
    long long rows = count_rows(o.db, ws[0].job_id);
    printf("workers=%d\nrecords=%" PRIu64 "\nbatch=%zu\nwindow=%zu\ndata_bytes=%zu\n", o.workers,
           o.records, o.batch, o.window, o.data_bytes);
    printf("rows=%lld\nseconds=%.3f\nresent=%" PRIu64 "\n", rows, secs, resent);
    printf("records_per_s=%.0f\n", secs > 0 && rows > 0 ? (double)rows / secs : 0.0);
    if (rows != (long long)o.records)
        fprintf(stderr, "bench_ingest: %lld rows in the database, %" PRIu64 " records sent\n", rows,
                o.records);
    else
        status = 0;
out:
    for (int i = 0; i < o.workers; i++) {
        for (size_t k = 0; k < ws[i].n_win; k++)
            free(ws[i].win[k].buf);
        free(ws[i].targets);
        zsock_destroy(&ws[i].sock);
    }
    zpoller_destroy(&poller);
    return status;
}
