/*
 * coord: the coordinator's event loop. One thread polls the worker socket and the control
 * socket with a short timeout; between messages it runs the scheduler (expire leases, start
 * waiting jobs, hand shards to idle workers, finish jobs). Worker sessions live in memory and
 * are rebuilt from Hello messages after a restart; jobs, shards, leases and results live in the
 * store. Bad input from the network is counted and dropped, never trusted: a message from an
 * unknown session gets a non-fatal Refuse, which tells a worker to register again.
 */
#include "coordinator/coord.h"

#include "common/clock.h"
#include "common/cookie.h"
#include "common/err.h"
#include "common/log.h"
#include "common/targets.h"
#include "common/wire.h"
#include "coordinator/job.h"
#include "coordinator/shardmap.h"
#include "coordinator/store.h"
#include "coordinator/verify.h"

#include <czmq.h>
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define LZR_VERSION "0.1"

/* At most one log line per minute per kind of refusal, then a summary of what was left out. */
typedef struct ratelimit {
    uint64_t last_us;
    uint64_t suppressed;
} ratelimit_t;

#define RATELIMIT_US 60000000u

/* Whether a line may be logged now; *suppressed gets how many were left out since the last. */
static bool ratelimit_allow(ratelimit_t *r, uint64_t now, uint64_t *suppressed)
{
    if (r->last_us && now - r->last_us < RATELIMIT_US) {
        r->suppressed++;
        return false;
    }
    *suppressed = r->suppressed;
    r->suppressed = 0;
    r->last_us = now;
    return true;
}

typedef struct session {
    bool used;
    uint8_t rid[256];
    size_t rid_len;
    char name[64];
    char pubkey[41];
    uint32_t scan_ip;
    char fresh[512];
    uint32_t fresh_ips[VERIFY_MAX_FRESH];
    size_t n_fresh;
    char iface[32];
    char version[32];
    uint64_t last_seen_us;
    uint64_t stored_us; /* last write of last_seen / lease expiry to the store */
    bool has_lease;
    uint64_t job_id;
    uint32_t shard;
    uint32_t rate; /* the SYN rate this worker was last given for its shard */
    uint64_t lease_start_us;
    uint64_t targets_done, targets_total, sent, hits;
    uint64_t rate_sent, rate_at_us; /* for probes/s */
    double pps;
    uint64_t refused; /* messages and records of this worker dropped by the trust checks */
    ratelimit_t refused_log;
} session_t;

/* A lease a worker lost without finishing its shard (timeout, failover, a new Hello): the
 * batches it sent while it held the lease may still arrive, re-sent after lost acks. */
typedef struct past_lease {
    char name[64];
    uint64_t job_id;
    uint32_t shard;
} past_lease_t;

#define COORD_PAST_LEASES 256

/* A ResultBatch whose records wait for the group's transaction; its Ack is sent after the
 * COMMIT. recs belong to it. */
typedef struct held_batch {
    session_t *s;
    uint64_t seq;
    store_batch_t b;
} held_batch_t;

/* A job the scheduler is running: its row, and the spec rebuilt from the stored text. */
typedef struct job_rt {
    store_job_t row;
    job_spec_t *spec;
    cookie_key_t key;
    uint16_t *port_index; /* port → index + 1 in the job's port list, 0 when not in it */
    shardmap_t *shards;   /* target → shard; NULL for jobs above SHARDMAP_MAX targets */
} job_rt_t;

typedef struct coord {
    const coord_options_t *opt;
    store_t *store;
    zsock_t *workers;
    zsock_t *control;
    zsock_t *monitor; /* handshake failures on the worker socket */
    uint64_t refused;
    ratelimit_t refused_log; /* peers the authenticator refused */
    ratelimit_t hello_log;   /* Hellos refused (name of another key, too many sessions) */
    uint64_t untrusted;      /* messages and records dropped by the trust checks */
    past_lease_t past[COORD_PAST_LEASES];
    size_t past_next;
    bool db_lost; /* the database cannot commit any more: stop */
    char db_err[512];
    zactor_t *auth;
    zcert_t *cert;
    session_t sessions[COORD_MAX_SESSIONS];
    job_rt_t *jobs;
    size_t n_jobs;
    uint64_t malformed;
    uint64_t lease_timeout_us;
    verify_job_t *verify; /* the verification pass under way (one job at a time) */
    held_batch_t held[COORD_GROUP_MAX];
    size_t n_held;
} coord_t;

char *coord_control_endpoint(const char *db_path, char *buf, size_t cap)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", db_path);
    char *dir = dirname(tmp);
    char abs[4096];
    if (!realpath(dir, abs))
        snprintf(abs, sizeof abs, "%s", dir);
    snprintf(buf, cap, "ipc://%s/%s", abs, COORD_CONTROL_NAME);
    return buf;
}

/* ---- jobs -------------------------------------------------------------------------------- */

static job_rt_t *job_find(coord_t *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_jobs; i++)
        if (c->jobs[i].row.id == id)
            return &c->jobs[i];
    return NULL;
}

/* The number of ports a job probes on each host and the (address, port) pairs it scans (its
 * size, or fewer under max_targets): from the loaded spec, or parsed from the stored job file
 * for a job the scheduler no longer holds. 0 ports when unreadable. */
static uint32_t job_port_count(coord_t *c, const store_job_t *row, uint64_t *probes)
{
    job_rt_t *j = job_find(c, row->id);
    job_spec_t *spec = NULL;
    if (!j) {
        char err[256];
        spec = job_parse(row->toml, strlen(row->toml), row->filename, err, sizeof err);
    }
    const job_spec_t *sp = j ? j->spec : spec;
    uint32_t n = sp ? (uint32_t)sp->ports.n : 0;
    if (probes)
        *probes = sp ? sp->probes : row->size;
    job_destroy(&spec);
    return n;
}

/* Loads a job from the store into the scheduler's table (again after a restart). */
static job_rt_t *job_load_rt(coord_t *c, uint64_t id, char *err, size_t errlen)
{
    job_rt_t *j = job_find(c, id);
    if (j)
        return j;
    job_rt_t rt;
    memset(&rt, 0, sizeof rt);
    if (store_job_get(c->store, id, &rt.row) != LZR_OK) {
        snprintf(err, errlen, "job %llu: %s", (unsigned long long)id, store_errmsg(c->store));
        return NULL;
    }
    rt.spec = job_parse(rt.row.toml, strlen(rt.row.toml), rt.row.filename, err, errlen);
    if (!rt.spec || cookie_key_from_hex(&rt.key, rt.row.key_hex) != LZR_OK) {
        if (rt.spec)
            snprintf(err, errlen, "job %llu: bad cookie key in the database",
                     (unsigned long long)id);
        job_destroy(&rt.spec);
        store_job_clear(&rt.row);
        return NULL;
    }
    rt.port_index = calloc(65536, sizeof *rt.port_index);
    job_rt_t *grown = rt.port_index ? realloc(c->jobs, (c->n_jobs + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(rt.port_index);
        job_destroy(&rt.spec);
        store_job_clear(&rt.row);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rt.spec->ports.n; i++)
        rt.port_index[rt.spec->ports.ports[i]] = (uint16_t)(i + 1);
    rt.shards = shardmap_new(&rt.row.perm, rt.row.span, rt.row.n_shards);
    c->jobs = grown;
    c->jobs[c->n_jobs] = rt;
    return &c->jobs[c->n_jobs++];
}

static void job_rt_free(job_rt_t *j)
{
    job_destroy(&j->spec);
    store_job_clear(&j->row);
    free(j->port_index);
    shardmap_destroy(&j->shards);
}

static void job_unload(coord_t *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_jobs; i++) {
        if (c->jobs[i].row.id == id) {
            job_rt_free(&c->jobs[i]);
            c->jobs[i] = c->jobs[--c->n_jobs];
            return;
        }
    }
}

/* ---- sessions ---------------------------------------------------------------------------- */

static session_t *session_by_rid(coord_t *c, zframe_t *rid)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && s->rid_len == zframe_size(rid) &&
            memcmp(s->rid, zframe_data(rid), s->rid_len) == 0)
            return s;
    }
    return NULL;
}

static session_t *session_by_name(coord_t *c, const char *name)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        if (c->sessions[i].used && strcmp(c->sessions[i].name, name) == 0)
            return &c->sessions[i];
    return NULL;
}

static size_t live_sessions(coord_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        n += c->sessions[i].used;
    return n;
}

static void send_to(coord_t *c, session_t *s, Lzr__Envelope *env)
{
    char err[256];
    zframe_t *rid = zframe_new(s->rid, s->rid_len);
    if (wire_send(c->workers, rid, env, err, sizeof err) != LZR_OK)
        log_warn("to %s: %s", s->name, err);
    zframe_destroy(&rid);
}

static void send_cancel(coord_t *c, session_t *s, uint64_t job, uint32_t shard, const char *reason)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__Cancel m = LZR__CANCEL__INIT;
    m.lease = &lease;
    m.reason = (char *)reason;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_CANCEL;
    env.cancel = &m;
    send_to(c, s, &env);
}

static void refuse(coord_t *c, zframe_t *rid, const char *reason, bool fatal)
{
    Lzr__Refuse m = LZR__REFUSE__INIT;
    m.reason = (char *)reason;
    m.fatal = fatal;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_REFUSE;
    env.refuse = &m;
    char err[256];
    if (wire_send(c->workers, rid, &env, err, sizeof err) != LZR_OK)
        log_warn("refuse: %s", err);
}

/* Notes that s no longer holds its lease (without finishing the shard): batches it sent while
 * it held it may still come, and are let in (see on_batch). */
static void lease_forget(coord_t *c, session_t *s)
{
    if (!s->has_lease)
        return;
    past_lease_t *p = &c->past[c->past_next++ % COORD_PAST_LEASES];
    snprintf(p->name, sizeof p->name, "%s", s->name);
    p->job_id = s->job_id;
    p->shard = s->shard;
    s->has_lease = false;
}

static bool held_before(coord_t *c, const char *name, uint64_t job, uint32_t shard)
{
    for (size_t i = 0; i < COORD_PAST_LEASES; i++)
        if (c->past[i].job_id == job && c->past[i].shard == shard &&
            strcmp(c->past[i].name, name) == 0)
            return true;
    return false;
}

/* Counts something of worker s the trust checks dropped, and logs it at most once a minute
 * per worker, with how many more there were. */
static void distrust(coord_t *c, session_t *s, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void distrust(coord_t *c, session_t *s, uint64_t n, const char *fmt, ...)
{
    s->refused += n;
    c->untrusted += n;
    uint64_t more;
    if (!ratelimit_allow(&s->refused_log, clock_wall_us(), &more))
        return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_warn("worker %s: %s, dropped (%llu dropped from it so far, %llu not logged)", s->name, what,
             (unsigned long long)s->refused, (unsigned long long)more);
}

/* Ends a session; its lease, if any, goes back to the pool at once. */
static void session_drop(coord_t *c, session_t *s, const char *why)
{
    log_info("worker %s: session ended (%s)", s->name, why);
    if (s->has_lease)
        store_shard_release(c->store, s->job_id, s->shard, s->name);
    lease_forget(c, s);
    memset(s, 0, sizeof *s);
}

/* Cancels a job for reason (kept in the store, shown by status): every worker on it is told to
 * stop, and nothing more of it is stored. */
static int cancel_job(coord_t *c, uint64_t id, const char *reason)
{
    int rc = store_job_cancel(c->store, id, reason);
    if (rc != LZR_OK)
        return rc;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && s->has_lease && s->job_id == id) {
            send_cancel(c, s, s->job_id, s->shard, "job cancelled");
            s->has_lease = false;
        }
    }
    job_unload(c, id);
    if (c->verify && verify_job_id(c->verify) == id)
        verify_job_free(&c->verify);
    log_info("job %llu cancelled: %s", (unsigned long long)id, reason);
    return LZR_OK;
}

/* ---- scheduler --------------------------------------------------------------------------- */

static uint32_t rate_share(coord_t *c, job_rt_t *j)
{
    uint32_t pending, leased, done;
    store_shard_counts(c->store, j->row.id, &pending, &leased, &done);
    uint64_t holders = live_sessions(c);
    if (holders > (uint64_t)pending + leased)
        holders = (uint64_t)pending + leased;
    if (holders == 0)
        holders = 1;
    uint64_t r = j->row.rate / holders;
    return r ? (uint32_t)r : 1;
}

/* Keeps each job's total rate at what its file asks: when the share of a worker holding a shard
 * has changed since its Assign (a worker came or went, or fewer shards are left than workers),
 * the worker is told its new share. */
static void resplit_rates(coord_t *c)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        job_rt_t *j = s->used && s->has_lease ? job_find(c, s->job_id) : NULL;
        if (!j)
            continue;
        uint32_t share = rate_share(c, j);
        if (share == s->rate)
            continue;
        Lzr__Lease lease = LZR__LEASE__INIT;
        lease.job_id = s->job_id;
        lease.shard = s->shard;
        Lzr__SetRate m = LZR__SET_RATE__INIT;
        m.lease = &lease;
        m.rate = share;
        Lzr__Envelope env = LZR__ENVELOPE__INIT;
        env.body_case = LZR__ENVELOPE__BODY_SET_RATE;
        env.set_rate = &m;
        send_to(c, s, &env);
        log_info("job %llu shard %u: %s now at %u/s (was %u/s)", (unsigned long long)s->job_id,
                 s->shard, s->name, share, s->rate);
        s->rate = share;
    }
}

static void split_csv(char *csv, char **out, size_t *n, size_t max)
{
    *n = 0;
    for (char *save = NULL, *t = strtok_r(csv, ",", &save); t && *n < max;
         t = strtok_r(NULL, ",", &save))
        out[(*n)++] = t;
}

static void send_assign(coord_t *c, session_t *s, job_rt_t *j, const store_shard_t *sh)
{
    job_spec_t *sp = j->spec;
    Lzr__Assign a = LZR__ASSIGN__INIT;
    a.job_id = j->row.id;
    a.job_name = j->row.name;
    a.shard = sh->idx;
    a.n_shards = j->row.n_shards * j->row.passes; /* shards of all passes */
    a.perm_size = j->row.perm.size;
    a.perm_prime = j->row.perm.prime;
    a.perm_generator = j->row.perm.generator;
    a.perm_start = j->row.perm.start;
    a.pos_begin = sh->pos_begin;
    a.pos_end = sh->pos_end;
    a.cookie_key.data = j->key.bytes;
    a.cookie_key.len = LZR_COOKIE_KEY_BYTES;
    a.rate = rate_share(c, j);
    s->rate = a.rate;
    char hs[sizeof sp->handshakes];
    char *names[64];
    snprintf(hs, sizeof hs, "%s", sp->handshakes);
    split_csv(hs, names, &a.n_handshakes, 64);
    a.handshakes = names;
    char fb[sizeof sp->fallback];
    char *fb_names[HANDSHAKE_MAX_FALLBACK + 1];
    snprintf(fb, sizeof fb, "%s", sp->fallback);
    split_csv(fb, fb_names, &a.n_fallback, HANDSHAKE_MAX_FALLBACK + 1);
    a.fallback = fb_names;
    /* The list files' entries travel with the job's own: an allowlist without targets is the
     * target list, a blocklist joins the excludes. */
    size_t n_excl = sp->n_exclude + sp->n_blocklist;
    char **excl = malloc((n_excl ? n_excl : 1) * sizeof *excl);
    if (!excl) {
        log_error("job %llu shard %u: out of memory", (unsigned long long)j->row.id, sh->idx);
        return;
    }
    memcpy(excl, sp->exclude, sp->n_exclude * sizeof *excl);
    if (sp->n_blocklist)
        memcpy(excl + sp->n_exclude, sp->blocklist, sp->n_blocklist * sizeof *excl);
    a.n_exclude = n_excl;
    a.exclude = excl;
    if (sp->n_targets) {
        a.n_targets = sp->n_targets;
        a.targets = sp->targets;
        a.n_allowlist = sp->n_allowlist;
        a.allowlist = sp->allowlist;
    } else {
        a.n_targets = sp->n_allowlist;
        a.targets = sp->allowlist;
    }
    a.n_allow_reserved = sp->n_allow_reserved;
    a.allow_reserved = sp->allow_reserved;
    a.ports = sp->ports_text;
    a.timeout_ms = sp->timeout_ms;
    a.retransmit_ms = sp->retransmit_ms;
    a.acking_firewall_probes = sp->acking_firewall_probes;
    a.report_all = sp->report_all;
    a.cooldown_ms = sp->cooldown_ms;
    if (sp->max_runtime_s) {
        uint64_t end = j->row.started_us + (uint64_t)sp->max_runtime_s * 1000000u;
        uint64_t now = clock_wall_us();
        a.max_runtime_ms = end > now + 1000 ? (end - now) / 1000 : 1;
    }
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ASSIGN;
    env.assign = &a;
    send_to(c, s, &env);
    free(excl);
    log_info("job %llu shard %u/%zu -> %s at %u/s", (unsigned long long)j->row.id, sh->idx,
             (size_t)a.n_shards, s->name, a.rate);
}

static void lease_to(coord_t *c, session_t *s, uint64_t now)
{
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "running", &ids, &n) != LZR_OK)
        return;
    for (size_t i = 0; i < n && !s->has_lease; i++) {
        char err[512];
        job_rt_t *j = job_load_rt(c, ids[i], err, sizeof err);
        if (!j) {
            log_error("%s", err);
            continue;
        }
        store_shard_t sh;
        if (store_shard_lease_next(c->store, j->row.id, s->name, s->scan_ip, now,
                                   now + c->lease_timeout_us, &sh) != LZR_OK)
            continue;
        s->has_lease = true;
        s->job_id = j->row.id;
        s->shard = sh.idx;
        s->lease_start_us = now;
        s->targets_done = s->targets_total = s->sent = s->hits = 0;
        send_assign(c, s, j, &sh);
    }
    free(ids);
}

/* A job past its max_runtime gets no new shard: the pending ones are dropped (marked in the
 * store), those being scanned end at the deadline on their workers (Assign.max_runtime_ms), and
 * the job then finishes as done, its reason telling how many shards were dropped. */
static void enforce_runtime(coord_t *c, uint64_t now)
{
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "running", &ids, &n) != LZR_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        char err[512];
        job_rt_t *j = job_load_rt(c, ids[i], err, sizeof err);
        if (!j || !j->spec->max_runtime_s || !j->row.started_us ||
            now < j->row.started_us + (uint64_t)j->spec->max_runtime_s * 1000000u)
            continue;
        uint32_t dropped = 0;
        if (store_shards_drop(c->store, ids[i], &dropped) != LZR_OK || dropped == 0)
            continue;
        char reason[256];
        snprintf(reason, sizeof reason,
                 "max_runtime of %u s reached: %u of %u shards dropped unscanned",
                 j->spec->max_runtime_s, store_shards_dropped(c->store, ids[i]),
                 j->row.n_shards * j->row.passes);
        store_job_note(c->store, ids[i], reason);
        log_info("job %llu: %s", (unsigned long long)ids[i], reason);
    }
    free(ids);
}

static void mark_done(coord_t *c, uint64_t id, uint32_t done)
{
    store_job_set_state(c->store, id, "done");
    log_info("job %llu done: %u shards, %llu results", (unsigned long long)id, done,
             (unsigned long long)store_result_count(c->store, id));
    job_unload(c, id);
}

static int verify_send(void *ctx, const char *worker, const Lzr__VerifyRequest *req)
{
    coord_t *c = ctx;
    session_t *s = session_by_name(c, worker);
    if (!s)
        return LZR_ENOTFOUND;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_VERIFY;
    env.verify = (Lzr__VerifyRequest *)req;
    char err[256];
    zframe_t *rid = zframe_new(s->rid, s->rid_len);
    int rc = wire_send(c->workers, rid, &env, err, sizeof err);
    zframe_destroy(&rid);
    if (rc != LZR_OK)
        log_warn("to %s: %s", worker, err);
    return rc;
}

/* Runs the verification pass of job id (scan finished); true once it is over. */
static bool verify_step(coord_t *c, uint64_t id, uint64_t now)
{
    if (c->verify && verify_job_id(c->verify) != id)
        return false; /* one pass at a time: the workers run one verification each */
    if (!c->verify) {
        char err[512];
        job_rt_t *j = job_load_rt(c, id, err, sizeof err);
        if (!j) {
            log_error("%s", err);
            return false;
        }
        uint32_t n_ports = (uint32_t)j->spec->ports.n;
        c->verify = verify_job_new(id, j->spec->timeout_ms, n_ports, now);
        if (!c->verify)
            return false;
        log_info("job %llu: scan done; multi-vantage verification of %u candidate host(s)",
                 (unsigned long long)id, store_candidate_count(c->store, id, n_ports));
    }
    static verify_worker_t w[COORD_MAX_SESSIONS];
    size_t nw = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (!s->used)
            continue;
        memset(&w[nw], 0, sizeof w[nw]);
        snprintf(w[nw].name, sizeof w[nw].name, "%s", s->name);
        w[nw].scan_ip = s->scan_ip;
        w[nw].n_fresh = s->n_fresh;
        memcpy(w[nw].fresh, s->fresh_ips, s->n_fresh * sizeof s->fresh_ips[0]);
        nw++;
    }
    if (!verify_job_step(c->verify, c->store, w, nw, verify_send, c, now))
        return false;
    log_info("job %llu: verification done, %u verdicts", (unsigned long long)id,
             store_verdict_count(c->store, id));
    verify_job_free(&c->verify);
    return true;
}

static void finish_jobs(coord_t *c)
{
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "running", &ids, &n) != LZR_OK)
        return;
    uint64_t now = clock_wall_us();
    for (size_t i = 0; i < n; i++) {
        uint32_t pending, leased, done;
        if (store_shard_counts(c->store, ids[i], &pending, &leased, &done) != LZR_OK ||
            pending != 0 || leased != 0)
            continue;
        char err[512];
        job_rt_t *j = job_load_rt(c, ids[i], err, sizeof err);
        if (j && j->spec->verify && !verify_step(c, ids[i], now))
            continue; /* the job is done only after its verification */
        mark_done(c, ids[i], done);
    }
    free(ids);
}

static void schedule(coord_t *c)
{
    uint64_t now = clock_wall_us();
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && now - s->last_seen_us > c->lease_timeout_us)
            session_drop(c, s, "no heartbeat");
    }
    int expired = 0;
    store_shards_expire(c->store, now, &expired);
    if (expired)
        log_info("%d lease(s) expired and went back to the pool", expired);

    /* Waiting jobs start once enough workers are connected. */
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "waiting", &ids, &n) == LZR_OK) {
        for (size_t i = 0; i < n; i++) {
            char err[512];
            job_rt_t *j = job_load_rt(c, ids[i], err, sizeof err);
            if (!j) {
                log_error("%s", err);
                continue;
            }
            if (live_sessions(c) >= j->spec->min_workers) {
                store_job_t now_row;
                if (store_job_set_state(c->store, ids[i], "running") == LZR_OK &&
                    store_job_get(c->store, ids[i], &now_row) == LZR_OK) {
                    snprintf(j->row.state, sizeof j->row.state, "running");
                    j->row.started_us = now_row.started_us;
                    store_job_clear(&now_row);
                }
                log_info("job %llu (%s) running", (unsigned long long)ids[i], j->row.name);
            }
        }
        free(ids);
    }
    enforce_runtime(c, now);
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && !s->has_lease)
            lease_to(c, s, now);
    }
    resplit_rates(c);
    finish_jobs(c);
}

/* ---- worker messages --------------------------------------------------------------------- */

static bool valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= 64)
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* Refuses a Hello, logging at most one line a minute for all refused Hellos together. */
static void refuse_hello(coord_t *c, zframe_t *rid, const char *name, const char *reason,
                         bool fatal)
{
    c->untrusted++;
    uint64_t more;
    if (ratelimit_allow(&c->hello_log, clock_wall_us(), &more))
        log_warn("worker %s: refused: %s (%llu more refusals not logged)", name, reason,
                 (unsigned long long)more);
    refuse(c, rid, reason, fatal);
}

/* Why a Hello from key pubkey cannot have the name, scan IP and session it asks for; NULL when
 * it can. A name belongs to the first key that registered it until `lzr-coord revoke`; one key
 * has at most COORD_MAX_SESSIONS_PER_KEY sessions; a scan IP is one live worker's. Without
 * CURVE every key is "", so none of these rules tells workers apart. */
static const char *hello_denied(coord_t *c, const char *pubkey, const Lzr__Hello *h, char *why,
                                size_t cap)
{
    char bound[64];
    if (store_worker_key(c->store, h->name, bound, sizeof bound) == LZR_OK &&
        strcmp(bound, pubkey) != 0) {
        snprintf(why, cap,
                 "worker name %s belongs to another key (the operator can free it with "
                 "`lzr-coord revoke %s`)",
                 h->name, h->name);
        return why;
    }
    size_t same_key = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *o = &c->sessions[i];
        if (!o->used || strcmp(o->name, h->name) == 0)
            continue;
        if (strcmp(o->pubkey, pubkey) == 0)
            same_key++;
        bool ip_taken = h->scan_ip && o->scan_ip == h->scan_ip;
        for (size_t f = 0; f < o->n_fresh && h->scan_ip; f++)
            ip_taken |= o->fresh_ips[f] == h->scan_ip;
        if (ip_taken && strcmp(o->pubkey, pubkey) != 0) {
            char ip[16];
            snprintf(why, cap, "scan IP %s belongs to worker %s", targets_ntoa(h->scan_ip, ip),
                     o->name);
            return why;
        }
    }
    if (pubkey[0] && same_key >= COORD_MAX_SESSIONS_PER_KEY) {
        snprintf(why, cap, "this key already has %d worker sessions", COORD_MAX_SESSIONS_PER_KEY);
        return why;
    }
    return NULL;
}

static void on_hello(coord_t *c, zframe_t *rid, const char *pubkey, const Lzr__Hello *h)
{
    uint64_t now = clock_wall_us();
    if (!valid_name(h->name) || zframe_size(rid) > sizeof c->sessions[0].rid) {
        c->malformed++;
        refuse(c, rid, "worker name must be 1-63 characters of [A-Za-z0-9._-]", true);
        return;
    }
    char why[256];
    if (hello_denied(c, pubkey, h, why, sizeof why)) {
        refuse_hello(c, rid, h->name, why, true);
        return;
    }
    session_t *s = session_by_name(c, h->name);
    if (s && strcmp(s->pubkey, pubkey) != 0) {
        refuse_hello(c, rid, h->name, "worker name in use by another key", true);
        return;
    }
    session_t *by_rid = session_by_rid(c, rid);
    if (by_rid && by_rid != s && strcmp(by_rid->pubkey, pubkey) != 0) {
        /* A peer that took over another key's routing id (ZMQ_ROUTING_ID). */
        refuse_hello(c, rid, h->name, "routing id in use by another key", true);
        return;
    }
    bool claims = h->lease && h->lease->job_id;
    if (s) {
        /* The same worker again (restarted, or re-registering after our restart). */
        if (s->has_lease &&
            !(claims && h->lease->job_id == s->job_id && h->lease->shard == s->shard))
            store_shard_release(c->store, s->job_id, s->shard, s->name);
        lease_forget(c, s);
        memset(s, 0, sizeof *s);
    } else {
        s = by_rid;
        if (s)
            session_drop(c, s, "registered under another name");
        for (size_t i = 0; i < COORD_MAX_SESSIONS && !s; i++)
            if (!c->sessions[i].used)
                s = &c->sessions[i];
        if (!s) {
            refuse_hello(c, rid, h->name, "too many workers", false);
            return;
        }
    }
    s->used = true;
    memcpy(s->rid, zframe_data(rid), zframe_size(rid));
    s->rid_len = zframe_size(rid);
    snprintf(s->name, sizeof s->name, "%s", h->name);
    snprintf(s->pubkey, sizeof s->pubkey, "%s", pubkey);
    s->scan_ip = h->scan_ip;
    s->fresh[0] = '\0';
    s->n_fresh = 0;
    for (size_t i = 0; i < h->n_fresh_ips && i < VERIFY_MAX_FRESH; i++) {
        s->fresh_ips[s->n_fresh++] = h->fresh_ips[i];
        char ip[16];
        size_t used = strlen(s->fresh);
        snprintf(s->fresh + used, sizeof s->fresh - used, "%s%s", used ? "," : "",
                 targets_ntoa(h->fresh_ips[i], ip));
    }
    snprintf(s->iface, sizeof s->iface, "%s", h->iface);
    snprintf(s->version, sizeof s->version, "%s", h->version);
    s->last_seen_us = now;
    s->rate_at_us = now;

    bool kept = false;
    if (claims) {
        job_rt_t *j = NULL;
        store_job_t row;
        if (store_job_get(c->store, h->lease->job_id, &row) == LZR_OK) {
            if (strcmp(row.state, "running") == 0) {
                char err[512];
                j = job_load_rt(c, row.id, err, sizeof err);
            }
            store_job_clear(&row);
        }
        if (j && store_shard_renew(c->store, h->lease->job_id, h->lease->shard, s->name,
                                   now + c->lease_timeout_us) == LZR_OK) {
            kept = true;
            s->has_lease = true;
            s->job_id = h->lease->job_id;
            s->shard = h->lease->shard;
            s->lease_start_us = now;
        }
    }
    char ip[16];
    store_worker_upsert(c->store, s->name, pubkey, s->scan_ip, s->fresh, s->iface, s->version, now);
    log_info("worker %s registered: scan ip %s, fresh [%s]%s", s->name,
             targets_ntoa(s->scan_ip, ip), s->fresh, kept ? ", kept its lease" : "");
    Lzr__Welcome w = LZR__WELCOME__INIT;
    w.heartbeat_ms = c->opt->heartbeat_ms;
    w.lease_timeout_ms = c->opt->lease_timeout_ms;
    w.lease_kept = kept;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    send_to(c, s, &env);
    if (claims && !kept)
        send_cancel(c, s, h->lease->job_id, h->lease->shard, "lease lost");
}

static void note_stats(session_t *s, const Lzr__Heartbeat *hb, uint64_t now)
{
    s->targets_done = hb->targets_done;
    s->targets_total = hb->targets_total;
    if (hb->sent >= s->rate_sent && now > s->rate_at_us + 500000) {
        s->pps = (double)(hb->sent - s->rate_sent) * 1e6 / (double)(now - s->rate_at_us);
        s->rate_sent = hb->sent;
        s->rate_at_us = now;
    } else if (hb->sent < s->rate_sent) {
        s->rate_sent = hb->sent;
        s->rate_at_us = now;
    }
    s->sent = hb->sent;
    s->hits = hb->hits;
}

static void on_heartbeat(coord_t *c, session_t *s, const Lzr__Heartbeat *hb)
{
    uint64_t now = clock_wall_us();
    s->last_seen_us = now;
    /* Each write is a synced transaction: touch the store a few times per lease timeout, not
     * on every heartbeat of every worker. */
    bool write = now - s->stored_us >= c->lease_timeout_us / 4;
    if (write) {
        store_worker_seen(c->store, s->name, now);
        s->stored_us = now;
    }
    if (!hb->lease || !hb->lease->job_id)
        return;
    if (!s->has_lease || s->job_id != hb->lease->job_id || s->shard != hb->lease->shard) {
        send_cancel(c, s, hb->lease->job_id, hb->lease->shard, "not your lease");
        return;
    }
    if (write && store_shard_renew(c->store, s->job_id, s->shard, s->name,
                                   now + c->lease_timeout_us) != LZR_OK) {
        send_cancel(c, s, s->job_id, s->shard, "lease lost");
        lease_forget(c, s);
        return;
    }
    note_stats(s, hb, now);
}

static void send_ack(coord_t *c, session_t *s, uint64_t seq)
{
    Lzr__Ack ack = LZR__ACK__INIT;
    ack.seq = seq;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    send_to(c, s, &env);
}

/* Whether the database can still commit; once it cannot (its file or directory deleted or made
 * read-only), the coordinator stops: it acks nothing more, and coord_serve returns the reason. */
static bool db_usable(coord_t *c)
{
    if (c->db_lost)
        return false;
    if (store_check(c->store, c->db_err, sizeof c->db_err) == LZR_OK)
        return true;
    c->db_lost = true;
    log_error("%s: acknowledging no more results; stopping", c->db_err);
    return false;
}

/* Stores the held batches in one transaction, then acks them. Should the group fail, each
 * batch is tried alone, so one that cannot be stored does not hold back the others; a batch
 * not stored is not acked, and its worker sends it again. */
static void flush_held(coord_t *c)
{
    if (!c->n_held)
        return;
    store_batch_t group[COORD_GROUP_MAX];
    size_t ng = 0;
    for (size_t i = 0; i < c->n_held; i++)
        if (c->held[i].b.n)
            group[ng++] = c->held[i].b;
    char err[256];
    /* An Ack promises the batch survives: none goes out once the database is gone. */
    bool db_ok = db_usable(c);
    bool all =
        db_ok && (ng == 0 || store_put_batches(c->store, group, ng, err, sizeof err) == LZR_OK);
    for (size_t i = 0; i < c->n_held; i++) {
        held_batch_t *h = &c->held[i];
        bool stored = db_ok && (all || h->b.n == 0 ||
                                store_put_batches(c->store, &h->b, 1, err, sizeof err) == LZR_OK);
        if (stored)
            send_ack(c, h->s, h->seq);
        else if (db_ok) /* without a database, no Ack and no line per batch */
            log_error("worker %s: batch %llu not stored: %s", h->s->name,
                      (unsigned long long)h->seq, err);
        free((void *)h->b.recs);
    }
    c->n_held = 0;
}

/* The job a batch may be stored into: running (a cancelled or finished job takes nothing). */
static job_rt_t *running_job(coord_t *c, uint64_t id)
{
    job_rt_t *j = job_find(c, id);
    if (j)
        return strcmp(j->row.state, "running") == 0 ? j : NULL;
    store_job_t row;
    if (store_job_get(c->store, id, &row) != LZR_OK)
        return NULL;
    bool running = strcmp(row.state, "running") == 0;
    store_job_clear(&row);
    char err[512];
    return running ? job_load_rt(c, id, err, sizeof err) : NULL;
}

/* Why record r, sent by s for shard of job j, cannot be stored; NULL when it can: the target
 * must be in the job's targets and ports (and in the shard, when the job has a shard map), and
 * the source the worker's own scan IP. */
static const char *record_denied(const job_rt_t *j, const session_t *s, uint32_t shard,
                                 const lzr_record_t *r)
{
    if (r->source_ip != s->scan_ip)
        return "source IP is not the worker's scan IP";
    int64_t ai = targets_index_of(j->spec->set, r->ip);
    if (ai < 0 || !j->port_index[r->port])
        return "target outside the job";
    uint64_t el = (uint64_t)ai * j->spec->ports.n + j->port_index[r->port] - 1;
    /* Pass p's copy of shard i is shard p × n_shards + i: the same targets. */
    if (j->shards && shardmap_shard_of(j->shards, el) != (int64_t)(shard % j->row.n_shards))
        return "target outside the shard";
    return NULL;
}

static void on_batch(coord_t *c, session_t *s, const Lzr__ResultBatch *b)
{
    s->last_seen_us = clock_wall_us();
    char err[256];
    if (!b->lease || b->n_records > LZR_WIRE_MAX_BATCH) {
        c->malformed++;
        log_warn("worker %s: batch %llu without lease or too large, dropped", s->name,
                 (unsigned long long)b->seq);
        return;
    }
    uint64_t job = b->lease->job_id;
    uint32_t shard = b->lease->shard;
    /* Stored only for a shard the worker holds, or held when it sent the batch (a re-send after
     * lost acks); anything else is acked so an honest worker that lost its lease moves on, and
     * nothing of it is stored. */
    bool holder = s->has_lease && s->job_id == job && s->shard == shard;
    job_rt_t *j = NULL;
    if (!holder && !held_before(c, s->name, job, shard))
        distrust(c, s, 1, "batch %llu for job %llu shard %u, which it does not hold",
                 (unsigned long long)b->seq, (unsigned long long)job, shard);
    else if (!(j = running_job(c, job)))
        distrust(c, s, 1, "batch %llu for job %llu, which is not running",
                 (unsigned long long)b->seq, (unsigned long long)job);
    lzr_record_t *recs = NULL;
    size_t n = 0;
    if (j && b->n_records) {
        recs = malloc(b->n_records * sizeof *recs);
        if (!recs)
            return; /* no ack: the worker re-sends */
        uint64_t denied = 0;
        const char *why = NULL;
        for (size_t i = 0; i < b->n_records; i++) {
            if (wire_record_to(b->records[i], &recs[n], err, sizeof err) != LZR_OK) {
                c->malformed++;
                log_warn("worker %s: batch %llu: %s", s->name, (unsigned long long)b->seq, err);
            } else if ((why = record_denied(j, s, shard, &recs[n])) != NULL) {
                denied++;
            } else {
                n++;
            }
        }
        if (denied)
            distrust(c, s, denied, "batch %llu: %llu record(s) refused (%s)",
                     (unsigned long long)b->seq, (unsigned long long)denied, why);
    }
    if (c->n_held == COORD_GROUP_MAX)
        flush_held(c);
    c->held[c->n_held++] = (held_batch_t){
        .s = s,
        .seq = b->seq,
        .b = {.job_id = job,
              .shard = shard,
              .holder = holder,
              .worker = s->name,
              .recs = recs,
              .n = n},
    };
}

static void on_shard_done(coord_t *c, session_t *s, const Lzr__ShardDone *d)
{
    s->last_seen_us = clock_wall_us();
    if (!d->lease) {
        c->malformed++;
        return;
    }
    uint64_t job = d->lease->job_id;
    uint32_t shard = d->lease->shard;
    /* Only the holder of a lease can finish or fail its shard. */
    if (!s->has_lease || s->job_id != job || s->shard != shard) {
        distrust(c, s, 1, "ShardDone for job %llu shard %u, which it does not hold",
                 (unsigned long long)job, shard);
        return;
    }
    s->has_lease = false;
    if (d->stats)
        s->sent = d->stats->sent;
    if (d->error && d->error[0]) {
        uint32_t failures = 0;
        uint64_t now = clock_wall_us(), retry = now;
        uint64_t backoff = (uint64_t)(c->opt->retry_ms ? c->opt->retry_ms : COORD_RETRY_MS) * 1000u;
        store_shard_fail(c->store, job, shard, s->name, now, backoff, &failures, &retry);
        log_error("worker %s: job %llu shard %u failed (failure %u of %d): %s; retry in %llu s",
                  s->name, (unsigned long long)job, shard, failures, COORD_MAX_FAILURES, d->error,
                  (unsigned long long)((retry - now) / 1000000u));
        /* An error that repeats (a handshake no worker can send, say) would bounce the shard
         * forever: give up on the job after a few real failures. */
        if (failures >= COORD_MAX_FAILURES) {
            char reason[512];
            snprintf(reason, sizeof reason, "shard %u failed %u times; last error from %s: %s",
                     shard, failures, s->name, d->error);
            cancel_job(c, job, reason);
        }
    } else if (store_shard_done(c->store, job, shard, s->name) == LZR_OK) {
        if (d->stats) {
            store_shard_stats_t st = {d->stats->syns, d->stats->sent, d->stats->replies,
                                      d->stats->pcap_drops, d->stats->blocked};
            store_shard_stats(c->store, job, shard, &st);
        }
        log_info("worker %s: job %llu shard %u done", s->name, (unsigned long long)job, shard);
    } else {
        log_warn("worker %s: job %llu shard %u: done, but its lease had already ended", s->name,
                 (unsigned long long)job, shard);
    }
    schedule(c);
}

static void on_worker_message(coord_t *c)
{
    zframe_t *rid = NULL;
    Lzr__Envelope *env = NULL;
    char err[256], uid[41] = "";
    int rc = wire_recv(c->workers, &rid, uid, &env, err, sizeof err);
    if (rc != LZR_OK) {
        c->malformed++;
        log_warn("dropped a malformed worker message: %s", err);
        zframe_destroy(&rid);
        return;
    }
    /* Whatever comes after a batch sees it stored. */
    if (env->body_case != LZR__ENVELOPE__BODY_BATCH)
        flush_held(c);
    if (env->body_case == LZR__ENVELOPE__BODY_HELLO) {
        on_hello(c, rid, uid, env->hello);
        goto out;
    }
    session_t *s = session_by_rid(c, rid);
    if (!s) {
        /* A worker from before our restart: ask it to register again. */
        refuse(c, rid, "unknown session: send Hello", false);
        goto out;
    }
    if (strcmp(s->pubkey, uid) != 0) {
        /* Another key on this session's routing id: nothing it says is the session's. */
        distrust(c, s, 1, "a %s message under its routing id from another key",
                 wire_body_name(env->body_case));
        goto out;
    }
    switch (env->body_case) {
    case LZR__ENVELOPE__BODY_HEARTBEAT:
        on_heartbeat(c, s, env->heartbeat);
        break;
    case LZR__ENVELOPE__BODY_BATCH:
        on_batch(c, s, env->batch);
        break;
    case LZR__ENVELOPE__BODY_SHARD_DONE:
        on_shard_done(c, s, env->shard_done);
        break;
    case LZR__ENVELOPE__BODY_VERIFY_RESULT:
        s->last_seen_us = clock_wall_us();
        if (c->verify)
            verify_job_result(c->verify, s->name, env->verify_result);
        break;
    default:
        c->malformed++;
        log_warn("worker %s: unexpected %s message dropped", s->name,
                 wire_body_name(env->body_case));
    }
out:
    wire_free(&env);
    zframe_destroy(&rid);
}

/* ---- control messages -------------------------------------------------------------------- */

static void reply_error(coord_t *c, zframe_t *rid, int code, const char *msg)
{
    Lzr__ErrorReply e = LZR__ERROR_REPLY__INIT;
    e.code = code;
    e.message = (char *)msg;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ERROR;
    env.error = &e;
    char err[256];
    wire_send(c->control, rid, &env, err, sizeof err);
}

static void reply_ok(coord_t *c, zframe_t *rid, const char *msg)
{
    Lzr__OkReply ok = LZR__OK_REPLY__INIT;
    ok.message = (char *)msg;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_OK;
    env.ok = &ok;
    char err[256];
    wire_send(c->control, rid, &env, err, sizeof err);
}

static void on_submit(coord_t *c, zframe_t *rid, const Lzr__SubmitRequest *r)
{
    char err[1024];
    const char *fname = r->filename && r->filename[0] ? r->filename : "job.toml";
    size_t len = strlen(r->job_toml);
    if (len > JOB_MAX_FILE_BYTES) {
        snprintf(err, sizeof err, "%s: larger than 1 MiB (%u bytes)", fname, JOB_MAX_FILE_BYTES);
        reply_error(c, rid, LZR_ERANGE, err);
        return;
    }
    job_spec_t *j = job_parse(r->job_toml, len, fname, err, sizeof err);
    if (!j) {
        reply_error(c, rid, LZR_EPARSE, err);
        return;
    }
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    seed &= INT64_MAX;
    store_job_t row;
    memset(&row, 0, sizeof row);
    int rc = job_plan(j, seed, (uint32_t)live_sessions(c), &row.perm, err, sizeof err);
    if (rc) {
        job_destroy(&j);
        reply_error(c, rid, rc, err);
        return;
    }
    cookie_key_t key;
    cookie_key_random(&key);
    cookie_key_to_hex(&key, row.key_hex);
    snprintf(row.name, sizeof row.name, "%s", j->name);
    snprintf(row.filename, sizeof row.filename, "%s", fname);
    row.toml = r->job_toml;
    row.seed = j->seed;
    row.rate = j->rate;
    row.n_shards = j->shards;
    row.passes = j->compare;
    row.size = j->size;
    row.span = j->span;
    row.created_us = clock_wall_us();
    uint64_t id = 0;
    rc = store_job_insert(c->store, &row, &id, err, sizeof err);
    uint32_t shards = j->shards * j->compare;
    uint64_t probes = j->probes;
    job_destroy(&j);
    if (rc) {
        reply_error(c, rid, rc, err);
        return;
    }
    log_info("job %llu (%s) submitted: %llu of %llu targets in %u shards at %u/s, about %.0f s",
             (unsigned long long)id, row.name, (unsigned long long)probes,
             (unsigned long long)row.size, shards, row.rate,
             (double)probes / (row.rate ? row.rate : 1));
    Lzr__SubmitReply rep = LZR__SUBMIT_REPLY__INIT;
    rep.job_id = id;
    rep.n_shards = shards;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SUBMIT_REPLY;
    env.submit_reply = &rep;
    wire_send(c->control, rid, &env, err, sizeof err);
    schedule(c);
}

/* The scanning phase of a running job; a job of several passes needs as many scan IPs, and
 * says so while fewer are connected (the passes that lack one wait). Static buffer. */
static const char *passes_phase(coord_t *c, const store_job_t *row)
{
    static char phase[128];
    uint32_t ips[COORD_MAX_SESSIONS], n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        bool seen = !c->sessions[i].used;
        for (uint32_t k = 0; k < n && !seen; k++)
            seen = ips[k] == c->sessions[i].scan_ip;
        if (!seen)
            ips[n++] = c->sessions[i].scan_ip;
    }
    if (row->passes <= 1 || n >= row->passes)
        return "scanning";
    snprintf(phase, sizeof phase,
             "scanning; %u of %u scan IPs connected, passes that need another wait", (unsigned)n,
             (unsigned)row->passes);
    return phase;
}

static void fill_status(coord_t *c, uint64_t id, Lzr__JobStatus *js, Lzr__WorkerProgress *wp,
                        Lzr__WorkerProgress **wpp, size_t max_wp)
{
    store_job_t row;
    lzr__job_status__init(js);
    if (store_job_get(c->store, id, &row) != LZR_OK)
        return;
    js->job_id = id;
    js->name = strdup(row.name);
    js->state = strdup(row.state);
    uint32_t all_shards = row.n_shards * row.passes;
    js->shards_total = all_shards;
    store_shard_counts(c->store, id, &js->shards_pending, &js->shards_leased, &js->shards_done);
    uint64_t probes = row.size;
    js->verify_candidates = store_candidate_count(c->store, id, job_port_count(c, &row, &probes));
    js->targets_total = probes;
    js->results = store_result_count(c->store, id);
    js->rate = row.rate;
    js->created_us = row.created_us;
    double cycle = row.span > 1 ? (double)row.span : 1.0;
    double done = (double)store_positions_done(c->store, id) / cycle / row.passes;
    double pps = 0;
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS && n < max_wp; i++) {
        session_t *s = &c->sessions[i];
        if (!s->used || !s->has_lease || s->job_id != id)
            continue;
        lzr__worker_progress__init(&wp[n]);
        wp[n].name = s->name;
        wp[n].shard = s->shard;
        wp[n].targets_done = s->targets_done;
        wp[n].targets_total = s->targets_total;
        wp[n].sent = s->sent;
        wp[n].hits = s->hits;
        wp[n].probes_per_s = s->pps;
        pps += s->pps;
        if (s->targets_total && all_shards)
            done += (double)s->targets_done / (double)s->targets_total / all_shards;
        wpp[n] = &wp[n];
        n++;
    }
    js->n_workers = n;
    js->workers = wpp;
    if (done > 1)
        done = 1;
    if (strcmp(row.state, "done") == 0)
        done = 1;
    js->targets_done = (uint64_t)(done * (double)probes);
    js->eta_s = -1;
    bool scanned = js->shards_pending == 0 && js->shards_leased == 0;
    js->phase = strdup(strcmp(row.state, "running") != 0 ? ""
                       : scanned                         ? "verifying"
                                                         : passes_phase(c, &row));
    char reason[512];
    store_job_reason(c->store, id, reason, sizeof reason);
    js->reason = strdup(reason);
    js->verify_done = store_verdict_count(c->store, id);
    if (strcmp(row.state, "running") == 0 && scanned) {
        js->targets_done = probes;
    } else if (strcmp(row.state, "running") == 0) {
        double rate = pps > 0 ? pps : row.rate;
        js->eta_s = (double)(probes - js->targets_done) / rate;
    }
    store_job_clear(&row);
}

static void on_status(coord_t *c, zframe_t *rid, const Lzr__StatusRequest *r)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    if (r->job_id) {
        store_job_t row;
        if (store_job_get(c->store, r->job_id, &row) != LZR_OK) {
            char msg[64];
            snprintf(msg, sizeof msg, "no job %llu", (unsigned long long)r->job_id);
            reply_error(c, rid, LZR_ENOTFOUND, msg);
            return;
        }
        store_job_clear(&row);
        ids = malloc(sizeof *ids);
        if (!ids)
            return;
        ids[0] = r->job_id;
        n = 1;
    } else if (store_job_ids(c->store, NULL, &ids, &n) != LZR_OK) {
        reply_error(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    Lzr__JobStatus *js = calloc(n ? n : 1, sizeof *js);
    Lzr__JobStatus **jsp = calloc(n ? n : 1, sizeof *jsp);
    Lzr__WorkerProgress *wp = calloc((n ? n : 1) * 64, sizeof *wp);
    Lzr__WorkerProgress **wpp = calloc((n ? n : 1) * 64, sizeof *wpp);
    if (js && jsp && wp && wpp) {
        for (size_t i = 0; i < n; i++) {
            fill_status(c, ids[i], &js[i], &wp[i * 64], &wpp[i * 64], 64);
            jsp[i] = &js[i];
        }
        Lzr__StatusReply rep = LZR__STATUS_REPLY__INIT;
        rep.n_jobs = n;
        rep.jobs = jsp;
        Lzr__Envelope env = LZR__ENVELOPE__INIT;
        env.body_case = LZR__ENVELOPE__BODY_STATUS_REPLY;
        env.status_reply = &rep;
        char err[256];
        wire_send(c->control, rid, &env, err, sizeof err);
        for (size_t i = 0; i < n; i++) {
            free(js[i].name);
            free(js[i].state);
            free(js[i].phase);
            free(js[i].reason);
        }
    }
    free(js);
    free(jsp);
    free(wp);
    free(wpp);
    free(ids);
}

static void on_workers(coord_t *c, zframe_t *rid)
{
    static Lzr__WorkerInfo info[COORD_MAX_SESSIONS];
    static Lzr__WorkerInfo *infop[COORD_MAX_SESSIONS];
    static Lzr__Lease leases[COORD_MAX_SESSIONS];
    static uint32_t fresh[COORD_MAX_SESSIONS][16];
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (!s->used)
            continue;
        lzr__worker_info__init(&info[n]);
        info[n].name = s->name;
        info[n].scan_ip = s->scan_ip;
        size_t nf = 0;
        char tmp[sizeof s->fresh];
        snprintf(tmp, sizeof tmp, "%s", s->fresh);
        for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && nf < 16;
             t = strtok_r(NULL, ",", &save)) {
            uint32_t lo, hi;
            char e[64];
            if (targets_parse_range(t, &lo, &hi, e, sizeof e) == LZR_OK)
                fresh[n][nf++] = lo;
        }
        info[n].n_fresh_ips = nf;
        info[n].fresh_ips = fresh[n];
        info[n].iface = s->iface;
        info[n].version = s->version;
        info[n].last_heartbeat_us = s->last_seen_us;
        info[n].probes_per_s = s->pps;
        info[n].refused = s->refused;
        if (s->has_lease) {
            lzr__lease__init(&leases[n]);
            leases[n].job_id = s->job_id;
            leases[n].shard = s->shard;
            info[n].lease = &leases[n];
        }
        infop[n] = &info[n];
        n++;
    }
    Lzr__WorkersReply rep = LZR__WORKERS_REPLY__INIT;
    rep.n_workers = n;
    rep.workers = infop;
    rep.malformed = c->malformed;
    rep.untrusted = c->untrusted;
    rep.refused_peers = c->refused;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_WORKERS_REPLY;
    env.workers_reply = &rep;
    char err[256];
    wire_send(c->control, rid, &env, err, sizeof err);
}

static void on_cancel_job(coord_t *c, zframe_t *rid, const Lzr__CancelRequest *r)
{
    store_job_t row;
    char msg[128];
    if (store_job_get(c->store, r->job_id, &row) != LZR_OK) {
        snprintf(msg, sizeof msg, "no job %llu", (unsigned long long)r->job_id);
        reply_error(c, rid, LZR_ENOTFOUND, msg);
        return;
    }
    bool final = strcmp(row.state, "done") == 0 || strcmp(row.state, "cancelled") == 0;
    snprintf(msg, sizeof msg, "job %llu is already %s", (unsigned long long)r->job_id, row.state);
    store_job_clear(&row);
    if (final) {
        reply_error(c, rid, LZR_EINVAL, msg);
        return;
    }
    if (cancel_job(c, r->job_id, "cancelled by the operator") != LZR_OK) {
        reply_error(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    snprintf(msg, sizeof msg, "job %llu cancelled", (unsigned long long)r->job_id);
    reply_ok(c, rid, msg);
    schedule(c);
}

/* `lzr-coord revoke NAME`: the name is free for another key; a live session under it ends. */
static void on_revoke(coord_t *c, zframe_t *rid, const Lzr__RevokeRequest *r)
{
    char msg[256];
    session_t *s = r->name ? session_by_name(c, r->name) : NULL;
    int rc = r->name ? store_worker_revoke(c->store, r->name) : LZR_ENOTFOUND;
    if (rc == LZR_ENOTFOUND && !s) {
        snprintf(msg, sizeof msg, "no worker named \"%s\"", r->name ? r->name : "");
        reply_error(c, rid, LZR_ENOTFOUND, msg);
        return;
    }
    if (rc == LZR_EDB) {
        reply_error(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    if (s) {
        if (s->has_lease)
            send_cancel(c, s, s->job_id, s->shard, "worker revoked");
        zframe_t *to = zframe_new(s->rid, s->rid_len);
        refuse(c, to, "this worker name was revoked by the operator", true);
        zframe_destroy(&to);
        memset(s, 0, sizeof *s);
    }
    /* Whoever registers the name next never held its shards. */
    for (size_t i = 0; i < COORD_PAST_LEASES; i++)
        if (strcmp(c->past[i].name, r->name) == 0)
            memset(&c->past[i], 0, sizeof c->past[i]);
    log_info("worker %s revoked: the name is free for another key", r->name);
    snprintf(msg, sizeof msg,
             "worker %s revoked (remove its public key from the keys' workers/ directory to keep "
             "its key out)",
             r->name);
    reply_ok(c, rid, msg);
    schedule(c);
}

static void on_control_message(coord_t *c)
{
    zframe_t *rid = NULL;
    Lzr__Envelope *env = NULL;
    char err[256];
    if (wire_recv(c->control, &rid, NULL, &env, err, sizeof err) != LZR_OK) {
        c->malformed++;
        if (rid)
            reply_error(c, rid, LZR_EPROTO, err);
        zframe_destroy(&rid);
        return;
    }
    switch (env->body_case) {
    case LZR__ENVELOPE__BODY_SUBMIT:
        on_submit(c, rid, env->submit);
        break;
    case LZR__ENVELOPE__BODY_STATUS:
        on_status(c, rid, env->status);
        break;
    case LZR__ENVELOPE__BODY_WORKERS:
        on_workers(c, rid);
        break;
    case LZR__ENVELOPE__BODY_CANCEL_JOB:
        on_cancel_job(c, rid, env->cancel_job);
        break;
    case LZR__ENVELOPE__BODY_REVOKE:
        on_revoke(c, rid, env->revoke);
        break;
    default:
        c->malformed++;
        reply_error(c, rid, LZR_EPROTO, "not a control request");
    }
    wire_free(&env);
    zframe_destroy(&rid);
}

/* A worker refused by the authenticator never reaches on_hello; the socket monitor is the only
 * place the coordinator learns of it. */
static void on_monitor_event(coord_t *c)
{
    zmsg_t *msg = zmsg_recv(c->monitor);
    if (!msg)
        return;
    zframe_t *f = zmsg_first(msg);
    if (f && zframe_size(f) >= 6) {
        uint16_t event;
        memcpy(&event, zframe_data(f), 2);
        /* A refused peer retries several times a second: one line a minute says how many. */
        uint64_t more;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            c->refused++;
        else
            c->malformed++;
        /* Counted either way; the next line, or the scheduler's summary, says how many. */
        bool log_now = ratelimit_allow(&c->refused_log, clock_wall_us(), &more);
        if (log_now && event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            log_warn("refused a worker whose key is not in %s/workers/ (%llu refused so far; %llu "
                     "refusals in the last minute not logged)",
                     c->opt->keys_dir ? c->opt->keys_dir : "?", (unsigned long long)c->refused,
                     (unsigned long long)more);
        else if (log_now)
            log_warn("a worker connection failed its handshake (event 0x%x; %llu refusals in the "
                     "last minute not logged)",
                     event, (unsigned long long)more);
    }
    zmsg_destroy(&msg);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int setup_curve(coord_t *c, char *err, size_t errlen)
{
    char path[4096], wdir[4096];
    snprintf(path, sizeof path, "%s/coordinator.key", c->opt->keys_dir);
    c->cert = zcert_load(path);
    if (!c->cert || !zcert_secret_txt(c->cert) ||
        strcmp(zcert_secret_txt(c->cert), "0000000000000000000000000000000000000000") == 0) {
        snprintf(err, errlen,
                 "%s(_secret): cannot load the coordinator's key pair; create it with "
                 "`lzr-coord keygen %s`",
                 path, c->opt->keys_dir);
        return LZR_EINVAL;
    }
    snprintf(wdir, sizeof wdir, "%s/workers", c->opt->keys_dir);
    struct stat st;
    if (stat(wdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such directory (it holds the workers' public keys)", wdir);
        return LZR_EINVAL;
    }
    c->auth = zactor_new(zauth, NULL);
    if (!c->auth) {
        snprintf(err, errlen, "cannot start the ZAP authenticator");
        return LZR_ESYS;
    }
    zstr_sendx(c->auth, "CURVE", wdir, NULL);
    zsock_wait(c->auth);
    zcert_apply(c->cert, c->workers);
    zsock_set_curve_server(c->workers, 1);
    zsock_set_zap_domain(c->workers, "lzr");
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://lzr-coord-monitor-%p", (void *)c);
    if (zmq_socket_monitor(zsock_resolve(c->workers), mon,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0)
        c->monitor = zsock_new_pair(mon);
    return LZR_OK;
}

int coord_serve(const coord_options_t *opt, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    coord_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    c->opt = opt;
    c->lease_timeout_us = (uint64_t)opt->lease_timeout_ms * 1000u;
    int rc = LZR_OK;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        rc = LZR_ESYS;
        goto out;
    }
    c->store = store_open(opt->db_path, err, errlen);
    if (!c->store) {
        rc = LZR_EDB;
        goto out;
    }
    c->workers = zsock_new(ZMQ_ROUTER);
    c->control = zsock_new(ZMQ_ROUTER);
    if (!c->workers || !c->control) {
        snprintf(err, errlen, "cannot create sockets");
        rc = LZR_ESYS;
        goto out;
    }
    zsock_set_maxmsgsize(c->workers, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_maxmsgsize(c->control, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_router_handover(c->workers, 1);
    zsock_set_sndtimeo(c->workers, 0);
    zsock_set_sndtimeo(c->control, 1000);
    if (opt->keys_dir) {
        rc = setup_curve(c, err, errlen);
        if (rc)
            goto out;
    } else {
        log_warn("no --keys: worker traffic is neither encrypted nor authenticated");
    }
    if (zsock_bind(c->workers, "%s", opt->listen) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", opt->listen, zmq_strerror(zmq_errno()));
        rc = LZR_ESYS;
        goto out;
    }
    char ctl[4200];
    if (opt->control)
        snprintf(ctl, sizeof ctl, "%s", opt->control);
    else
        coord_control_endpoint(opt->db_path, ctl, sizeof ctl);
    if (strncmp(ctl, "ipc://", 6) == 0)
        unlink(ctl + 6); /* a stale socket from a killed coordinator */
    if (zsock_bind(c->control, "%s", ctl) < 0) {
        snprintf(err, errlen, "cannot bind the control endpoint %s: %s", ctl,
                 zmq_strerror(zmq_errno()));
        rc = LZR_ESYS;
        goto out;
    }
    if (strncmp(ctl, "ipc://", 6) == 0)
        chmod(ctl + 6, 0600);

    /* Jobs that were running resume; leases held before the restart get one lease timeout
     * for their workers to come back and claim them. */
    store_leases_extend(c->store, clock_wall_us() + c->lease_timeout_us);
    {
        uint64_t *ids;
        size_t n;
        if (store_job_ids(c->store, "running", &ids, &n) == LZR_OK) {
            for (size_t i = 0; i < n; i++)
                log_info("resuming job %llu", (unsigned long long)ids[i]);
            free(ids);
        }
    }
    log_info("listening for workers on %s, control on %s, database %s", opt->listen, ctl,
             opt->db_path);

    zpoller_t *poller = zpoller_new(c->workers, c->control, NULL);
    if (c->monitor)
        zpoller_add(poller, c->monitor);
    uint64_t last_tick = 0;
    while (!*stop) {
        void *which = zpoller_wait(poller, 200);
        if (which == c->workers) {
            /* Drain a burst of worker messages before the next scheduling pass. */
            for (int i = 0; i < 256 && (zsock_events(c->workers) & ZMQ_POLLIN); i++)
                on_worker_message(c);
            flush_held(c);
        } else if (which == c->control) {
            on_control_message(c);
        } else if (c->monitor && which == c->monitor) {
            on_monitor_event(c);
        } else if (zpoller_terminated(poller) && !zpoller_expired(poller)) {
            break;
        }
        uint64_t t = clock_wall_us();
        if (t - last_tick >= 250000) {
            if (db_usable(c))
                schedule(c);
            last_tick = t;
            if (c->refused_log.suppressed && t - c->refused_log.last_us >= RATELIMIT_US) {
                log_warn("%llu more peers refused in the last minute (%llu keys refused so far)",
                         (unsigned long long)c->refused_log.suppressed,
                         (unsigned long long)c->refused);
                c->refused_log.suppressed = 0;
                c->refused_log.last_us = t;
            }
        }
        if (c->db_lost) {
            snprintf(err, errlen, "%s", c->db_err);
            rc = LZR_EDB;
            break;
        }
    }
    zpoller_destroy(&poller);
    log_info("stopping");
    if (strncmp(ctl, "ipc://", 6) == 0)
        unlink(ctl + 6);
out:
    if (c->monitor && c->workers)
        zmq_socket_monitor(zsock_resolve(c->workers), NULL, 0);
    zsock_destroy(&c->monitor);
    zsock_destroy(&c->workers);
    zsock_destroy(&c->control);
    zactor_destroy(&c->auth);
    zcert_destroy(&c->cert);
    for (size_t i = 0; i < c->n_jobs; i++)
        job_rt_free(&c->jobs[i]);
    free(c->jobs);
    verify_job_free(&c->verify);
    store_close(&c->store);
    free(c);
    return rc;
}
