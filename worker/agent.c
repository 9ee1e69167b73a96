/*
 * agent: two threads. The main thread owns the DEALER socket: it registers, handles Assign,
 * Ack, Cancel and Refuse, sends heartbeats, and turns queued records into batches, keeping at
 * most AGENT_WINDOW of them in flight and re-sending any left unacked. The engine thread runs
 * one shard; its emit callback puts records in a ring and, once the ring is half full, holds the
 * engine's SYN walk (engine_config_t.hold) until the coordinator's acks have drained it to a
 * quarter. Connections already in flight still finish: their records go into the ring and, past
 * it, into a spill list, so the receive thread never waits and a slow or absent coordinator
 * slows the scan instead of losing results. A third,
 * short-lived thread runs a verification request (worker/verify.h) when the coordinator sends
 * one, so heartbeats go on while its connection attempts wait for answers.
 */
#include "worker/agent.h"

#include "common/clock.h"
#include "common/cookie.h"
#include "common/err.h"
#include "common/log.h"
#include "common/permutation.h"
#include "common/ports.h"
#include "common/targets.h"
#include "common/wire.h"
#include "worker/capture.h"
#include "worker/engine.h"
#include "worker/firewall.h"
#include "worker/handshakes/handshake.h"
#include "worker/lzr.h"
#include "worker/metadata.h"
#include "worker/netif.h"
#include "worker/optout.h"
#include "worker/verify.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AGENT_VERSION    LZR_WORKER_VERSION
#define RESEND_MS        3000
#define HELLO_RETRY_MS   3000
#define FLUSH_MS         200
#define MAX_FRESH        16
#define ADOPT_TIMEOUT_MS 15000

static volatile sig_atomic_t agent_stop;

static void on_signal(int sig)
{
    (void)sig;
    agent_stop = 1;
}

typedef struct pending_batch {
    uint64_t seq;
    uint8_t *buf;
    size_t len;
    uint64_t sent_ms;
} pending_batch_t;

/* What one shard needs while the engine runs; freed after the engine thread is joined. */
typedef struct shard_run {
    engine_config_t cfg;
    targets_t *targets;
    targets_t *blocklist; /* the host's own, or NULL */
    port_list_t ports;
    uint64_t job_id;
    uint32_t shard;
    pthread_t thread;
    volatile sig_atomic_t stop;
    bool cancelled;
    bool finished; /* engine_run returned (under the agent lock) */
    int rc;
    char err[512];
    engine_stats_t stats;
} shard_run_t;

/* One VerifyRequest being worked on. */
typedef struct verify_task {
    uint64_t job_id, task;
    int phase; /* LZR__VERIFY_PHASE__VERIFY_PHASE_* */
    uint64_t start_us;
    uint32_t timeout_ms;
    size_t n;
    uint32_t *src, *ip;
    uint16_t *port;
    answer_t *answer, *after_bare, *after_data;
    pthread_t thread;
    volatile bool finished;
    int rc;
    char err[256];
} verify_task_t;

typedef struct agent {
    /* options */
    const char *endpoint;
    const char *keys_dir;
    bool insecure;
    char name[64];
    char iface[IF_NAMESIZE];
    uint32_t scan_ip;
    uint32_t fresh[MAX_FRESH];
    size_t n_fresh;
    uint16_t sport_lo, sport_hi;
    uint8_t gateway_mac[6];
    bool have_gateway_mac;
    bool manage_fw;
    capture_t *capture;         /* opened once, lent to every shard's engine run */
    const char *blocklist_file; /* the host's blocklist: read again for every shard */
    bool no_default_blocklist;

    zsock_t *sock;
    zsock_t *monitor;
    bool registered;
    uint64_t hello_ms;
    uint32_t heartbeat_ms;
    uint64_t last_hb_ms;
    uint64_t next_seq;

    /* shared with the engine thread */
    pthread_mutex_t lock;
    pthread_cond_t not_full;
    lzr_record_t *queue;     /* ring */
    uint64_t full_logged_ms; /* when a full queue was last logged (one line per stall) */
    size_t q_head, q_len;
    /* Records beyond the ring, oldest first, each allocated to its data's length: the receive
     * thread never waits for the coordinator; the SYN walk is held instead (engine `hold`). */
    struct spill *spill_head, *spill_tail;
    size_t n_spill;
    engine_stats_t last_stats;
    shard_run_t *run;

    pending_batch_t window[AGENT_WINDOW];
    size_t n_window;
    uint64_t batch_lease_job;
    uint32_t batch_lease_shard;
    uint64_t last_flush_ms;

    verify_task_t *vtask; /* owned by the main thread; its thread sets ->finished */
} agent_t;

/* ---- engine thread ----------------------------------------------------------------------- */

typedef struct spill {
    struct spill *next;
    size_t len;
    unsigned char rec[]; /* the first len bytes of an lzr_record_t: its fields and its data */
} spill_t;

/* Bytes of r worth keeping: the fields and the data it holds. */
static size_t record_size(const lzr_record_t *r)
{
    return offsetof(lzr_record_t, data) + (r->data_len <= LZR_DATA_MAX ? r->data_len : 0);
}

/* Moves spilled records into the ring while it has room (lock held). */
static void unspill(agent_t *a)
{
    while (a->spill_head && a->q_len < AGENT_QUEUE_RECORDS) {
        spill_t *s = a->spill_head;
        memcpy(&a->queue[(a->q_head + a->q_len) % AGENT_QUEUE_RECORDS], s->rec, s->len);
        a->q_len++;
        a->spill_head = s->next;
        if (!a->spill_head)
            a->spill_tail = NULL;
        a->n_spill--;
        free(s);
    }
}

/* Drops every queued and spilled record (lock held). */
static void queue_clear(agent_t *a)
{
    while (a->spill_head) {
        spill_t *s = a->spill_head;
        a->spill_head = s->next;
        free(s);
    }
    a->spill_tail = NULL;
    a->n_spill = 0;
    a->q_len = 0;
}

static void emit_record(void *ctx, const lzr_record_t *r)
{
    agent_t *a = ctx;
    pthread_mutex_lock(&a->lock);
    if (a->run->cancelled) {
        pthread_mutex_unlock(&a->lock);
        return;
    }
    if (a->q_len < AGENT_QUEUE_RECORDS && !a->spill_head) {
        a->queue[(a->q_head + a->q_len) % AGENT_QUEUE_RECORDS] = *r;
        a->q_len++;
    } else {
        spill_t *s = malloc(sizeof *s + record_size(r));
        if (s) {
            s->len = record_size(r);
            memcpy(s->rec, r, s->len);
            s->next = NULL;
            if (a->spill_tail)
                a->spill_tail->next = s;
            else
                a->spill_head = s;
            a->spill_tail = s;
            a->n_spill++;
        } else {
            /* Out of memory: the receive thread has to wait for room after all. */
            while (a->q_len == AGENT_QUEUE_RECORDS && !a->run->stop && !agent_stop) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 100 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&a->not_full, &a->lock, &ts);
            }
            if (a->q_len < AGENT_QUEUE_RECORDS) {
                a->queue[(a->q_head + a->q_len) % AGENT_QUEUE_RECORDS] = *r;
                a->q_len++;
            }
        }
    }
    /* Past half the ring, no new SYNs: the connections in flight finish into the rest and,
     * should they need more, into the spill list. */
    if (a->q_len + a->n_spill >= AGENT_QUEUE_RECORDS / 2 && !atomic_load(&a->run->cfg.hold)) {
        atomic_store(&a->run->cfg.hold, true);
        if (clock_mono_ms() - a->full_logged_ms >= 10000) {
            a->full_logged_ms = clock_mono_ms();
            log_info("%zu records wait for the coordinator's acks: new SYNs wait until it "
                     "catches up",
                     a->q_len + a->n_spill);
        }
    }
    pthread_mutex_unlock(&a->lock);
}

static void tick_stats(void *ctx, const engine_stats_t *s)
{
    agent_t *a = ctx;
    pthread_mutex_lock(&a->lock);
    a->last_stats = *s;
    pthread_mutex_unlock(&a->lock);
}

static void *engine_thread(void *arg)
{
    agent_t *a = arg;
    shard_run_t *r = a->run;
    int rc =
        engine_run(&r->cfg, emit_record, tick_stats, a, &r->stop, &r->stats, r->err, sizeof r->err);
    log_debug("job %llu shard %u: first SYN %.1f ms after the engine started",
              (unsigned long long)r->job_id, r->shard, (double)r->stats.startup.first_syn_us / 1e3);
    pthread_mutex_lock(&a->lock);
    r->rc = rc;
    r->finished = true;
    a->last_stats = r->stats;
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* ---- sending ----------------------------------------------------------------------------- */

static void send_env(agent_t *a, Lzr__Envelope *env)
{
    char err[256];
    if (wire_send(a->sock, NULL, env, err, sizeof err) != LZR_OK)
        log_warn("%s", err);
}

static void send_hello(agent_t *a)
{
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = a->name;
    h.version = AGENT_VERSION;
    h.scan_ip = a->scan_ip;
    h.n_fresh_ips = a->n_fresh;
    h.fresh_ips = a->fresh;
    h.iface = a->iface;
    h.sport_lo = a->sport_lo;
    h.sport_hi = a->sport_hi;
    Lzr__Lease lease = LZR__LEASE__INIT;
    if (a->run && !a->run->cancelled) {
        lease.job_id = a->run->job_id;
        lease.shard = a->run->shard;
        h.lease = &lease;
    }
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(a, &env);
    a->hello_ms = clock_mono_ms();
}

static void send_heartbeat(agent_t *a)
{
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    Lzr__Lease lease = LZR__LEASE__INIT;
    pthread_mutex_lock(&a->lock);
    if (a->run && !a->run->cancelled) {
        lease.job_id = a->run->job_id;
        lease.shard = a->run->shard;
        hb.lease = &lease;
        hb.targets_done = a->last_stats.targets_done;
        hb.targets_total = a->last_stats.targets_total;
        hb.sent = a->last_stats.sent;
        hb.syns = a->last_stats.syns;
        hb.replies = a->last_stats.replies;
        hb.hits = a->last_stats.hits;
        hb.in_flight = a->last_stats.in_flight;
        hb.pcap_drops = a->last_stats.pcap_drops;
        hb.blocked = a->last_stats.blocked;
    }
    hb.queued_records = (uint32_t)(a->q_len + a->n_spill);
    pthread_mutex_unlock(&a->lock);
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_env(a, &env);
    a->last_hb_ms = clock_mono_ms();
}

/* Takes up to AGENT_BATCH_RECORDS records off the queue into one packed batch in the window. */
static void flush_batch(agent_t *a, bool force)
{
    if (a->n_window == AGENT_WINDOW || !a->run)
        return;
    static lzr_record_t recs[AGENT_BATCH_RECORDS];
    pthread_mutex_lock(&a->lock);
    size_t n = a->q_len < AGENT_BATCH_RECORDS ? a->q_len : AGENT_BATCH_RECORDS;
    bool due = force || n == AGENT_BATCH_RECORDS || clock_mono_ms() - a->last_flush_ms >= FLUSH_MS;
    if (!due || n == 0) {
        pthread_mutex_unlock(&a->lock);
        return;
    }
    for (size_t i = 0; i < n; i++)
        recs[i] = a->queue[(a->q_head + i) % AGENT_QUEUE_RECORDS];
    a->q_head = (a->q_head + n) % AGENT_QUEUE_RECORDS;
    a->q_len -= n;
    unspill(a);
    if (a->q_len + a->n_spill < AGENT_QUEUE_RECORDS / 4)
        atomic_store(&a->run->cfg.hold, false);
    pthread_cond_broadcast(&a->not_full);
    uint64_t job = a->run->job_id;
    uint32_t shard = a->run->shard;
    pthread_mutex_unlock(&a->lock);

    static Lzr__Record m[AGENT_BATCH_RECORDS];
    static Lzr__Record *mp[AGENT_BATCH_RECORDS];
    for (size_t i = 0; i < n; i++) {
        wire_record_from(&m[i], &recs[i]);
        mp[i] = &m[i];
    }
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__ResultBatch b = LZR__RESULT_BATCH__INIT;
    b.lease = &lease;
    b.seq = ++a->next_seq;
    b.n_records = n;
    b.records = mp;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    pending_batch_t *p = &a->window[a->n_window];
    if (wire_pack(&env, &p->buf, &p->len) != LZR_OK) {
        log_error("cannot encode a batch of %zu records", n);
        return;
    }
    p->seq = b.seq;
    p->sent_ms = clock_mono_ms();
    a->n_window++;
    a->last_flush_ms = p->sent_ms;
    if (a->registered)
        wire_send_raw(a->sock, NULL, p->buf, p->len);
}

static void resend_due(agent_t *a)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < a->n_window; i++) {
        if (now - a->window[i].sent_ms >= RESEND_MS) {
            wire_send_raw(a->sock, NULL, a->window[i].buf, a->window[i].len);
            a->window[i].sent_ms = now;
        }
    }
}

static void on_ack(agent_t *a, uint64_t seq)
{
    for (size_t i = 0; i < a->n_window; i++) {
        if (a->window[i].seq == seq) {
            free(a->window[i].buf);
            a->window[i] = a->window[--a->n_window];
            return;
        }
    }
}

/* ---- shards ------------------------------------------------------------------------------ */

static void run_free(shard_run_t **rp)
{
    shard_run_t *r = *rp;
    if (!r)
        return;
    targets_destroy(&r->targets);
    targets_destroy(&r->blocklist);
    ports_free(&r->ports);
    free(r);
    *rp = NULL;
}

static void send_shard_done(agent_t *a, uint64_t job, uint32_t shard, const char *error,
                            const engine_stats_t *st)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    if (st) {
        hb.targets_done = st->targets_done;
        hb.targets_total = st->targets_total;
        hb.sent = st->sent;
        hb.syns = st->syns;
        hb.replies = st->replies;
        hb.hits = st->hits;
        hb.pcap_drops = st->pcap_drops;
        hb.blocked = st->blocked;
    }
    Lzr__ShardDone d = LZR__SHARD_DONE__INIT;
    d.lease = &lease;
    d.stats = &hb;
    d.error = (char *)(error ? error : "");
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SHARD_DONE;
    env.shard_done = &d;
    send_env(a, &env);
}

/* Builds the engine's configuration from an Assign exactly as the coordinator's job parser
 * built the job: same target set, port order, permutation and key. */
static int build_run(agent_t *a, const Lzr__Assign *m, shard_run_t *r, char *err, size_t errlen)
{
    engine_config_t *c = &r->cfg;
    memset(c, 0, sizeof *c);
    snprintf(c->iface, sizeof c->iface, "%s", a->iface);
    c->source_ip = a->scan_ip;
    memcpy(c->gateway_mac, a->gateway_mac, 6);
    c->have_gateway_mac = a->have_gateway_mac;
    c->sport_lo = a->sport_lo;
    c->sport_hi = a->sport_hi;
    r->job_id = m->job_id;
    r->shard = m->shard;
    r->targets = targets_new();
    if (!r->targets) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    int rc = LZR_OK;
    for (size_t i = 0; i < m->n_allow_reserved && rc == LZR_OK; i++)
        rc = targets_lift_reserved(r->targets, m->allow_reserved[i], err, errlen);
    for (size_t i = 0; i < m->n_targets && rc == LZR_OK; i++)
        rc = targets_allow(r->targets, m->targets[i], err, errlen);
    for (size_t i = 0; i < m->n_exclude && rc == LZR_OK; i++)
        rc = targets_exclude(r->targets, m->exclude[i], err, errlen);
    if (rc == LZR_OK && m->n_allowlist) /* the job's allowlist narrows its targets */
        rc = targets_restrict_entries(r->targets, m->allowlist, m->n_allowlist, err, errlen);
    if (rc == LZR_OK)
        rc = targets_finalize(r->targets, err, errlen);
    if (rc == LZR_OK)
        rc = ports_parse(m->ports, &r->ports, err, errlen);
    if (rc)
        return rc;
    char hs[512] = "";
    for (size_t i = 0; i < m->n_handshakes; i++) {
        size_t used = strlen(hs);
        snprintf(hs + used, sizeof hs - used, "%s%s", i ? "," : "", m->handshakes[i]);
    }
    int n = handshake_list_parse(hs, c->handshakes, HANDSHAKE_MAX_LIST, err, errlen);
    if (n < 0)
        return n;
    c->n_handshakes = (size_t)n;
    char fb[256] = "";
    for (size_t i = 0; i < m->n_fallback; i++) {
        size_t used = strlen(fb);
        snprintf(fb + used, sizeof fb - used, "%s%s", i ? "," : "", m->fallback[i]);
    }
    n = lzr_fallback_parse(fb, c->fallback, err, errlen);
    if (n < 0)
        return n;
    c->n_fallback = (size_t)n;
    uint64_t size = targets_count(r->targets) * r->ports.n;
    if (size != m->perm_size) {
        snprintf(err, errlen,
                 "the job's target set has %llu elements here but %llu at the coordinator",
                 (unsigned long long)size, (unsigned long long)m->perm_size);
        return LZR_EPROTO;
    }
    c->perm.size = m->perm_size;
    c->perm.prime = m->perm_prime;
    c->perm.generator = m->perm_generator;
    c->perm.start = m->perm_start;
    if (m->pos_begin > m->pos_end || m->pos_end > perm_cycle_len(&c->perm) || m->perm_start == 0 ||
        m->perm_start >= m->perm_prime) {
        snprintf(err, errlen, "shard range [%llu, %llu) does not fit the permutation",
                 (unsigned long long)m->pos_begin, (unsigned long long)m->pos_end);
        return LZR_EPROTO;
    }
    c->pos_begin = m->pos_begin;
    c->pos_end = m->pos_end;
    if (m->cookie_key.len != LZR_COOKIE_KEY_BYTES) {
        snprintf(err, errlen, "cookie key of %zu bytes", m->cookie_key.len);
        return LZR_EPROTO;
    }
    cookie_key_t job_key;
    memcpy(job_key.bytes, m->cookie_key.data, LZR_COOKIE_KEY_BYTES);
    /* A key per shard: a late SYN-ACK of this worker's previous shard (a mid-handshake-drop
     * host retransmits for seconds) must not pass for a target of this one. */
    rc = cookie_key_for_shard(&job_key, m->shard, &c->key);
    if (rc) {
        snprintf(err, errlen, "cannot derive the shard's cookie key");
        return rc;
    }
    c->targets = r->targets;
    c->ports = &r->ports;
    c->rate = m->rate;
    c->timeout_ms = m->timeout_ms ? m->timeout_ms : SCAN_DEFAULT_TIMEOUT_MS;
    c->retransmit_ms = m->retransmit_ms ? m->retransmit_ms : SCAN_DEFAULT_RETRANSMIT_MS;
    c->acking_firewall_probes = m->acking_firewall_probes;
    c->report_all = m->report_all;
    c->capture = a->capture;
    c->cooldown_ms = m->cooldown_ms;
    c->max_runtime_ms = m->max_runtime_ms;
    /* The host's blocklist, as it is now: an operator's edit applies from the next shard on,
     * and nothing the coordinator sends can lift it. */
    size_t entries = 0;
    rc = optout_load(optout_path(a->blocklist_file, !a->no_default_blocklist), &r->blocklist,
                     &entries, err, errlen);
    if (rc)
        return rc;
    c->blocklist = r->blocklist;
    return LZR_OK;
}

static void on_assign(agent_t *a, const Lzr__Assign *m)
{
    if (a->run) {
        log_warn("assign of job %llu shard %u while busy: ignored", (unsigned long long)m->job_id,
                 m->shard);
        return;
    }
    shard_run_t *r = calloc(1, sizeof *r);
    if (!r)
        return;
    char err[512];
    if (build_run(a, m, r, err, sizeof err) != LZR_OK) {
        log_error("job %llu shard %u: %s", (unsigned long long)m->job_id, m->shard, err);
        send_shard_done(a, m->job_id, m->shard, err, NULL);
        run_free(&r);
        return;
    }
    pthread_mutex_lock(&a->lock);
    a->run = r;
    memset(&a->last_stats, 0, sizeof a->last_stats);
    pthread_mutex_unlock(&a->lock);
    log_info("job %llu (%s) shard %u/%u: positions [%llu, %llu) at %u/s",
             (unsigned long long)m->job_id, m->job_name, m->shard, m->n_shards,
             (unsigned long long)m->pos_begin, (unsigned long long)m->pos_end, m->rate);
    if (pthread_create(&r->thread, NULL, engine_thread, a) != 0) {
        send_shard_done(a, m->job_id, m->shard, "cannot start the engine thread", NULL);
        pthread_mutex_lock(&a->lock);
        a->run = NULL;
        pthread_mutex_unlock(&a->lock);
        run_free(&r);
    }
}

static void stop_run(agent_t *a, const char *why)
{
    if (!a->run)
        return;
    log_info("job %llu shard %u: stopping (%s)", (unsigned long long)a->run->job_id, a->run->shard,
             why);
    pthread_mutex_lock(&a->lock);
    a->run->cancelled = true;
    a->run->stop = 1;
    pthread_cond_broadcast(&a->not_full);
    pthread_mutex_unlock(&a->lock);
}

/* When the engine has finished and every record of the shard is acked, report the shard. */
static void reap_run(agent_t *a)
{
    shard_run_t *r = a->run;
    if (!r)
        return;
    pthread_mutex_lock(&a->lock);
    bool finished = r->finished;
    size_t queued = a->q_len + a->n_spill;
    pthread_mutex_unlock(&a->lock);
    if (!finished)
        return;
    if (!r->cancelled && (queued || a->n_window))
        return; /* still shipping results */
    pthread_join(r->thread, NULL);
    if (!r->cancelled) {
        if (r->rc == LZR_OK && !agent_stop) {
            log_info("job %llu shard %u done: %llu SYNs, %llu hits, %llu pcap drops, SYNs held "
                     "%llu ms for the coordinator, %llu skipped by the host's blocklist",
                     (unsigned long long)r->job_id, r->shard, (unsigned long long)r->stats.syns,
                     (unsigned long long)r->stats.hits, (unsigned long long)r->stats.pcap_drops,
                     (unsigned long long)r->stats.hold_wait_ms,
                     (unsigned long long)r->stats.blocked);
            send_shard_done(a, r->job_id, r->shard, NULL, &r->stats);
        } else if (!agent_stop) {
            log_error("job %llu shard %u failed: %s", (unsigned long long)r->job_id, r->shard,
                      r->err);
            send_shard_done(a, r->job_id, r->shard, r->err, &r->stats);
        }
    } else {
        pthread_mutex_lock(&a->lock);
        queue_clear(a); /* records of a cancelled shard are dropped */
        pthread_mutex_unlock(&a->lock);
    }
    pthread_mutex_lock(&a->lock);
    a->run = NULL;
    pthread_mutex_unlock(&a->lock);
    run_free(&r);
}

/* ---- verification ------------------------------------------------------------------------ */

static void vtask_free(verify_task_t **tp)
{
    verify_task_t *t = *tp;
    if (!t)
        return;
    free(t->src);
    free(t->ip);
    free(t->port);
    free(t->answer);
    free(t->after_bare);
    free(t->after_data);
    free(t);
    *tp = NULL;
}

/* The trigger test for the attempts of one source IP. */
static int vtask_trigger_group(verify_task_t *t, uint32_t src)
{
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        m += t->src[i] == src;
    verify_target_t *tg = calloc(m, sizeof *tg);
    bool *want = calloc(m, sizeof *want);
    verify_evidence_t *ev = calloc(m, sizeof *ev);
    size_t *idx = calloc(m, sizeof *idx);
    int rc = LZR_ENOMEM;
    if (tg && want && ev && idx) {
        size_t k = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (t->src[i] != src)
                continue;
            tg[k] = (verify_target_t){.ip = t->ip[i], .port = t->port[i]};
            want[k] = true;
            idx[k++] = i;
        }
        rc = verify_trigger(src, tg, want, m, t->timeout_ms, ev, t->err, sizeof t->err);
        for (size_t k2 = 0; k2 < m && rc == LZR_OK; k2++) {
            t->after_bare[idx[k2]] = ev[k2].after_bare;
            t->after_data[idx[k2]] = ev[k2].after_data;
        }
    } else {
        snprintf(t->err, sizeof t->err, "out of memory");
    }
    free(tg);
    free(want);
    free(ev);
    free(idx);
    return rc;
}

static void *verify_thread(void *arg)
{
    verify_task_t *t = arg;
    /* Start at the coordinator's moment, so that another worker's attempts on the same host
     * leave together with ours; never wait more than 10 s on a clock that disagrees. */
    uint64_t now = clock_wall_us();
    if (t->start_us > now) {
        uint64_t wait = t->start_us - now;
        if (wait > 10000000u)
            wait = 10000000u;
        struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000L};
        nanosleep(&ts, NULL);
    }
    int rc = LZR_OK;
    if (t->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE) {
        verify_attempt_t *a = calloc(t->n ? t->n : 1, sizeof *a);
        if (!a) {
            rc = LZR_ENOMEM;
            snprintf(t->err, sizeof t->err, "out of memory");
        } else {
            for (size_t i = 0; i < t->n; i++)
                a[i] = (verify_attempt_t){.src = t->src[i], .dst = t->ip[i], .port = t->port[i]};
            rc = verify_attempts(a, t->n, t->timeout_ms, t->err, sizeof t->err);
            for (size_t i = 0; i < t->n && rc == LZR_OK; i++)
                t->answer[i] = a[i].answer;
            free(a);
        }
    } else {
        /* One trigger test per source IP, one after another. */
        for (size_t i = 0; i < t->n && rc == LZR_OK; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = t->src[j] == t->src[i];
            if (!seen)
                rc = vtask_trigger_group(t, t->src[i]);
        }
    }
    t->rc = rc;
    __atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
    return NULL;
}

static void send_verify_result(agent_t *a, const verify_task_t *t, const char *error)
{
    Lzr__VerifyAttempt *m = calloc(t->n ? t->n : 1, sizeof *m);
    Lzr__VerifyAttempt **mp = calloc(t->n ? t->n : 1, sizeof *mp);
    Lzr__VerifyResult r = LZR__VERIFY_RESULT__INIT;
    r.job_id = t->job_id;
    r.task = t->task;
    if (m && mp && !error) {
        for (size_t i = 0; i < t->n; i++) {
            lzr__verify_attempt__init(&m[i]);
            m[i].src = t->src[i];
            m[i].ip = t->ip[i];
            m[i].port = t->port[i];
            m[i].answer = t->answer[i];
            m[i].after_bare = t->after_bare[i];
            m[i].after_data = t->after_data[i];
            mp[i] = &m[i];
        }
        r.n_attempts = t->n;
        r.attempts = mp;
    }
    r.error = (char *)(error ? error : (m && mp) ? "" : "out of memory");
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_VERIFY_RESULT;
    env.verify_result = &r;
    send_env(a, &env);
    free(m);
    free(mp);
}

static bool own_ip(const agent_t *a, uint32_t ip)
{
    if (ip == a->scan_ip)
        return true;
    for (size_t i = 0; i < a->n_fresh; i++)
        if (a->fresh[i] == ip)
            return true;
    return false;
}

static void on_verify(agent_t *a, const Lzr__VerifyRequest *m)
{
    verify_task_t tmp = {.job_id = m->job_id, .task = m->task};
    if (a->vtask) {
        send_verify_result(a, &tmp, "busy with another verification");
        return;
    }
    if (m->phase != LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE &&
        m->phase != LZR__VERIFY_PHASE__VERIFY_PHASE_TRIGGER) {
        send_verify_result(a, &tmp, "unknown verification phase");
        return;
    }
    if (m->n_attempts > 4096) {
        send_verify_result(a, &tmp, "too many attempts in one request (at most 4096)");
        return;
    }
    for (size_t i = 0; i < m->n_attempts; i++) {
        char ip[16], msg[96];
        if (!own_ip(a, m->attempts[i]->src) || m->attempts[i]->port == 0 ||
            m->attempts[i]->port > 65535) {
            snprintf(msg, sizeof msg, "attempt %zu: source %s is not this worker's, or bad port", i,
                     targets_ntoa(m->attempts[i]->src, ip));
            send_verify_result(a, &tmp, msg);
            return;
        }
    }
    verify_task_t *t = calloc(1, sizeof *t);
    size_t n = m->n_attempts, c = n ? n : 1;
    if (t) {
        t->src = calloc(c, sizeof *t->src);
        t->ip = calloc(c, sizeof *t->ip);
        t->port = calloc(c, sizeof *t->port);
        t->answer = calloc(c, sizeof *t->answer);
        t->after_bare = calloc(c, sizeof *t->after_bare);
        t->after_data = calloc(c, sizeof *t->after_data);
    }
    if (!t || !t->src || !t->ip || !t->port || !t->answer || !t->after_bare || !t->after_data) {
        vtask_free(&t);
        send_verify_result(a, &tmp, "out of memory");
        return;
    }
    t->job_id = m->job_id;
    t->task = m->task;
    t->phase = m->phase;
    t->start_us = m->start_us;
    t->timeout_ms = m->timeout_ms >= 100 && m->timeout_ms <= 30000 ? m->timeout_ms : 2000;
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        t->src[i] = m->attempts[i]->src;
        t->ip[i] = m->attempts[i]->ip;
        t->port[i] = (uint16_t)m->attempts[i]->port;
    }
    log_info("job %llu: verification task %llu (%s, %zu attempts)", (unsigned long long)t->job_id,
             (unsigned long long)t->task,
             t->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE ? "compare" : "trigger", n);
    if (pthread_create(&t->thread, NULL, verify_thread, t) != 0) {
        send_verify_result(a, t, "cannot start the verification thread");
        vtask_free(&t);
        return;
    }
    a->vtask = t;
}

/* Sends the result of a finished verification task. */
static void reap_verify(agent_t *a)
{
    verify_task_t *t = a->vtask;
    if (!t || !__atomic_load_n(&t->finished, __ATOMIC_ACQUIRE))
        return;
    pthread_join(t->thread, NULL);
    if (t->rc != LZR_OK)
        log_warn("verification task %llu failed: %s", (unsigned long long)t->task, t->err);
    send_verify_result(a, t, t->rc == LZR_OK ? NULL : t->err);
    a->vtask = NULL;
    vtask_free(&t);
}

/* ---- messages ---------------------------------------------------------------------------- */

/* Returns -1 when the agent must exit (fatal refusal). */
static int on_message(agent_t *a)
{
    Lzr__Envelope *env = NULL;
    char err[256];
    if (wire_recv(a->sock, NULL, NULL, &env, err, sizeof err) != LZR_OK) {
        log_warn("dropped a malformed message from the coordinator: %s", err);
        return 0;
    }
    int rc = 0;
    switch (env->body_case) {
    case LZR__ENVELOPE__BODY_WELCOME:
        a->registered = true;
        a->heartbeat_ms = env->welcome->heartbeat_ms ? env->welcome->heartbeat_ms : 1000;
        if (a->heartbeat_ms > 5000)
            a->heartbeat_ms = 5000;
        log_info("registered with %s as %s", a->endpoint, a->name);
        if (a->run && !a->run->cancelled && !env->welcome->lease_kept)
            stop_run(a, "the coordinator gave the shard away");
        for (size_t i = 0; i < a->n_window; i++)
            a->window[i].sent_ms = 0; /* re-send everything unacked now */
        break;
    case LZR__ENVELOPE__BODY_REFUSE:
        if (env->refuse->fatal) {
            log_error("the coordinator refused this worker: %s", env->refuse->reason);
            rc = -1;
        } else {
            /* Every message of ours the restarted coordinator saw gets a Refuse; one Hello a
             * second answers them all. */
            if (a->registered || clock_mono_ms() - a->hello_ms >= 1000) {
                log_info("coordinator asks to register again (%s)", env->refuse->reason);
                a->registered = false;
                send_hello(a);
            }
        }
        break;
    case LZR__ENVELOPE__BODY_ASSIGN:
        on_assign(a, env->assign);
        break;
    case LZR__ENVELOPE__BODY_ACK:
        on_ack(a, env->ack->seq);
        break;
    case LZR__ENVELOPE__BODY_VERIFY:
        on_verify(a, env->verify);
        break;
    case LZR__ENVELOPE__BODY_SET_RATE:
        if (a->run && env->set_rate->lease && env->set_rate->rate &&
            env->set_rate->lease->job_id == a->run->job_id &&
            env->set_rate->lease->shard == a->run->shard) {
            atomic_store(&a->run->cfg.rate_update, env->set_rate->rate);
            log_info("job %llu shard %u: rate now %u/s", (unsigned long long)a->run->job_id,
                     a->run->shard, env->set_rate->rate);
        }
        break;
    case LZR__ENVELOPE__BODY_CANCEL:
        if (a->run && env->cancel->lease && env->cancel->lease->job_id == a->run->job_id &&
            env->cancel->lease->shard == a->run->shard)
            stop_run(a, env->cancel->reason);
        break;
    default:
        log_warn("unexpected %s message from the coordinator", wire_body_name(env->body_case));
    }
    wire_free(&env);
    return rc;
}

/* A CURVE handshake the coordinator's authenticator rejected shows up only on a socket monitor;
 * without it the DEALER would retry silently forever. */
static int check_monitor(agent_t *a)
{
    zmsg_t *msg = zmsg_recv(a->monitor);
    if (!msg)
        return 0;
    zframe_t *f = zmsg_first(msg);
    int rc = 0;
    if (f && zframe_size(f) >= 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zframe_data(f), 2);
        memcpy(&value, zframe_data(f) + 2, 4);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            log_error("the coordinator at %s refused this worker's key (ZAP status %u): add "
                      "its public key (the coordinator's keys/workers/%s.key) and retry",
                      a->endpoint, value, a->name);
            rc = -1;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            log_warn("CURVE handshake with %s failed (event %u, %u): does this worker have the "
                     "coordinator's public key?",
                     a->endpoint, event, value);
        }
    }
    zmsg_destroy(&msg);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: lzr-worker --coordinator tcp://HOST:7411 --iface IF --scan-ip IP\n"
          "         [--fresh-ip IP ...] [--keys DIR | --insecure] [--name NAME]\n"
          "         [--source-ports 40000-65535] [--gateway-mac MAC] [--manage-firewall]\n"
          "         [--blocklist-file F | --no-default-blocklist] [--log-level info]\n"
          "The host's blocklist (" OPTOUT_DEFAULT_PATH " unless --blocklist-file names another)\n"
          "applies to every shard the coordinator assigns.\n"
          "--keys DIR holds worker.key, worker.key_secret and coordinator.key, as made by\n"
          "`lzr-coord keygen DIR NAME`.\n",
          f);
}

static int parse_ip(const char *flag, const char *s, uint32_t *out)
{
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1) {
        fprintf(stderr, "lzr-worker: %s: \"%s\" is not an IPv4 address\n", flag, s);
        return -1;
    }
    *out = ntohl(in.s_addr);
    return 0;
}

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10);
    if (*end != '-')
        return -1;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (*end || a < 1024 || b > 65535 || a > b)
        return -1;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

static int parse_args(agent_t *a, int argc, char **argv, const char **log_level)
{
    static const struct option opts[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"iface", required_argument, NULL, 'i'},
        {"scan-ip", required_argument, NULL, 's'},
        {"fresh-ip", required_argument, NULL, 'f'},
        {"keys", required_argument, NULL, 'k'},
        {"insecure", no_argument, NULL, 'I'},
        {"name", required_argument, NULL, 'n'},
        {"source-ports", required_argument, NULL, 'P'},
        {"gateway-mac", required_argument, NULL, 'g'},
        {"manage-firewall", no_argument, NULL, 'F'},
        {"log-level", required_argument, NULL, 'L'},
        {"blocklist-file", required_argument, NULL, 'b'},
        {"no-default-blocklist", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* getopt wants a program name in argv[0]; ours starts with the first option. */
    char *args[256];
    int n = 0;
    args[n++] = "lzr-worker";
    for (int i = 0; i < argc && n < 255; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    bool have_ip = false;
    optind = 1;
    int o;
    while ((o = getopt_long(n, args, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            a->endpoint = optarg;
            break;
        case 'i':
            if (strlen(optarg) >= sizeof a->iface) {
                fprintf(stderr, "lzr-worker: --iface: \"%s\" is too long\n", optarg);
                return 2;
            }
            snprintf(a->iface, sizeof a->iface, "%s", optarg);
            break;
        case 's':
            if (parse_ip("--scan-ip", optarg, &a->scan_ip))
                return 2;
            have_ip = true;
            break;
        case 'f':
            if (a->n_fresh == MAX_FRESH) {
                fprintf(stderr, "lzr-worker: at most %d --fresh-ip\n", MAX_FRESH);
                return 2;
            }
            if (parse_ip("--fresh-ip", optarg, &a->fresh[a->n_fresh]))
                return 2;
            a->n_fresh++;
            break;
        case 'k':
            a->keys_dir = optarg;
            break;
        case 'I':
            a->insecure = true;
            break;
        case 'n':
            snprintf(a->name, sizeof a->name, "%s", optarg);
            break;
        case 'P':
            if (parse_ports(optarg, &a->sport_lo, &a->sport_hi)) {
                fprintf(stderr,
                        "lzr-worker: --source-ports: \"%s\" is not LO-HI with 1024 <= LO <= HI "
                        "<= 65535\n",
                        optarg);
                return 2;
            }
            break;
        case 'g':
            if (netif_parse_mac(optarg, a->gateway_mac) != LZR_OK) {
                fprintf(stderr, "lzr-worker: --gateway-mac: \"%s\" is not a MAC address\n", optarg);
                return 2;
            }
            a->have_gateway_mac = true;
            break;
        case 'F':
            a->manage_fw = true;
            break;
        case 'L':
            *log_level = optarg;
            break;
        case 'b':
            a->blocklist_file = optarg;
            break;
        case 'N':
            a->no_default_blocklist = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < n) {
        fprintf(stderr, "lzr-worker: unexpected argument \"%s\"\n", args[optind]);
        return 2;
    }
    if (!a->endpoint || !a->iface[0] || !have_ip) {
        fprintf(stderr, "lzr-worker: --coordinator, --iface and --scan-ip are required\n");
        usage(stderr);
        return 2;
    }
    if (!a->keys_dir && !a->insecure) {
        fprintf(stderr, "lzr-worker: --keys DIR is required (from `lzr-coord keygen DIR NAME`), "
                        "or --insecure against a coordinator without CURVE\n");
        return 2;
    }
    if (!a->name[0] && gethostname(a->name, sizeof a->name - 1) != 0)
        snprintf(a->name, sizeof a->name, "worker");
    /* A bad blocklist stops the worker before it joins: it must not scan without it. */
    const char *bl = optout_path(a->blocklist_file, !a->no_default_blocklist);
    targets_t *set = NULL;
    size_t entries = 0;
    char err[512];
    if (optout_load(bl, &set, &entries, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker: blocklist: %s\n", err);
        return 2;
    }
    targets_destroy(&set);
    if (bl)
        fprintf(stderr, "lzr-worker: blocklist %s: %zu entries, applied to every shard\n", bl,
                entries);
    return 0;
}

static int setup_socket(agent_t *a)
{
    a->sock = zsock_new(ZMQ_DEALER);
    if (!a->sock)
        return -1;
    zsock_set_linger(a->sock, 0);
    zsock_set_sndtimeo(a->sock, 1000);
    zsock_set_maxmsgsize(a->sock, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_reconnect_ivl(a->sock, 500);
    zsock_set_reconnect_ivl_max(a->sock, 5000);
    if (a->keys_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/worker.key", a->keys_dir);
        zcert_t *mine = zcert_load(path);
        snprintf(path, sizeof path, "%s/coordinator.key", a->keys_dir);
        zcert_t *server = zcert_load(path);
        if (!mine || !server) {
            log_error("%s: cannot load worker.key(_secret) and coordinator.key (make them with "
                      "`lzr-coord keygen DIR %s` and copy DIR/%s/ here)",
                      a->keys_dir, a->name, a->name);
            zcert_destroy(&mine);
            zcert_destroy(&server);
            return -1;
        }
        zcert_apply(mine, a->sock);
        zsock_set_curve_serverkey(a->sock, zcert_public_txt(server));
        zcert_destroy(&mine);
        zcert_destroy(&server);
    }
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://lzr-agent-monitor-%d", (int)getpid());
    if (zmq_socket_monitor(zsock_resolve(a->sock), mon,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        a->monitor = zsock_new_pair(mon);
    }
    if (zsock_connect(a->sock, "%s", a->endpoint) < 0) {
        log_error("cannot connect to %s: %s", a->endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int agent_main(int argc, char **argv)
{
    agent_t *a = calloc(1, sizeof *a);
    if (!a)
        return 1;
    a->sport_lo = 40000;
    a->sport_hi = 65535;
    a->heartbeat_ms = 1000;
    const char *log_level = "info";
    int rc = parse_args(a, argc, argv, &log_level);
    if (rc) {
        free(a);
        return rc < 0 ? 0 : rc;
    }
    log_level_t lvl;
    if (log_level_parse(log_level, &lvl) != LZR_OK) {
        fprintf(stderr, "lzr-worker: --log-level: \"%s\" is not error, warn, info or debug\n",
                log_level);
        free(a);
        return 2;
    }
    log_init("lzr-worker", lvl, false);
    rc = 1;
    char err[512];
    engine_config_t pre;
    memset(&pre, 0, sizeof pre);
    snprintf(pre.iface, sizeof pre.iface, "%s", a->iface);
    pre.source_ip = a->scan_ip;
    pre.sport_lo = a->sport_lo;
    pre.sport_hi = a->sport_hi;
    if (a->manage_fw &&
        firewall_install(a->scan_ip, a->sport_lo, a->sport_hi, err, sizeof err) != LZR_OK) {
        log_error("--manage-firewall: %s", err);
        free(a);
        return 1;
    }
    firewall_proof_t proof;
    if (engine_preflight(&pre, &proof, err, sizeof err) != LZR_OK) {
        log_error("refusing to start: %s", err);
        goto out_fw;
    }
    log_info("firewall self-test passed in %.1f ms (%s); not repeated per shard",
             (double)proof.elapsed_us / 1e3,
             proof.control_answered ? "the control port's RST came, the probe's did not"
                                    : "no RST at all, judged by silence");
    /* The capture ring is the costly part of an engine's start: open it once for all shards. */
    a->capture = capture_open(a->iface, a->scan_ip, a->sport_lo, a->sport_hi, err, sizeof err);
    if (!a->capture) {
        log_error("refusing to start: %s", err);
        goto out_fw;
    }
    a->queue = calloc(AGENT_QUEUE_RECORDS, sizeof *a->queue);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->not_full, NULL);
    if (!a->queue)
        goto out;
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (setup_socket(a))
        goto out;

    char ip[16];
    log_info("worker %s: scan ip %s on %s, coordinator %s", a->name, targets_ntoa(a->scan_ip, ip),
             a->iface, a->endpoint);
    send_hello(a);
    zpoller_t *poller =
        a->monitor ? zpoller_new(a->sock, a->monitor, NULL) : zpoller_new(a->sock, NULL);
    uint64_t stop_at = 0;
    rc = 0;
    for (;;) {
        if (agent_stop && !stop_at) {
            stop_run(a, "signal");
            stop_at = clock_mono_ms();
        }
        /* After a signal: give unacked batches a few seconds, then go. */
        if (stop_at && (a->n_window == 0 || clock_mono_ms() - stop_at > 5000))
            break;
        void *which = zpoller_wait(poller, 50);
        if (which == a->sock) {
            for (int i = 0; i < 64 && (zsock_events(a->sock) & ZMQ_POLLIN); i++)
                if (on_message(a) < 0) {
                    rc = 1;
                    goto done;
                }
        } else if (a->monitor && which == a->monitor) {
            if (check_monitor(a) < 0) {
                rc = 1;
                goto done;
            }
        }
        uint64_t now = clock_mono_ms();
        if (!a->registered && now - a->hello_ms >= HELLO_RETRY_MS)
            send_hello(a);
        if (a->registered && now - a->last_hb_ms >= a->heartbeat_ms)
            send_heartbeat(a);
        flush_batch(a, false);
        if (a->registered)
            resend_due(a);
        reap_run(a);
        if (a->registered)
            reap_verify(a);
    }
done:
    zpoller_destroy(&poller);
    if (a->run) {
        stop_run(a, "exit");
        pthread_join(a->run->thread, NULL);
        run_free(&a->run);
    }
    if (a->vtask) {
        pthread_join(a->vtask->thread, NULL); /* bounded by its timeouts */
        vtask_free(&a->vtask);
    }
out:
    for (size_t i = 0; i < a->n_window; i++)
        free(a->window[i].buf);
    zsock_destroy(&a->monitor);
    zsock_destroy(&a->sock);
    queue_clear(a);
    free(a->queue);
out_fw:
    capture_close(&a->capture);
    if (a->manage_fw)
        firewall_remove();
    free(a);
    return rc;
}
