/*
 * coord_sched: the scheduler. Each pass ends silent sessions, returns expired leases to the
 * pool, starts waiting jobs, leases shards to idle workers (Assign), keeps each job's rate
 * split over the workers holding its shards (SetRate), runs a finished scan's verification
 * and closes the jobs whose shards are all done. It runs after every message that may change
 * what it decides and four times a second.
 */
#include "coordinator/coord_int.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/targets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scheduler --------------------------------------------------------------------------- */

static uint32_t rate_share(coord_t *c, job_rt_t *j)
{
    uint32_t pending, leased, done;
    uint64_t holders = session_count(c);
    /* Without the counts, every worker is taken for a holder. A draining lease sends no SYN:
     * its worker counts once, for the shard it scans. */
    uint64_t draining = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        for (size_t k = 0; k < COORD_MAX_DRAINS && c->sessions[i].used; k++)
            draining +=
                c->sessions[i].drains[k].held && c->sessions[i].drains[k].job_id == j->row.id;
    if (store_shard_counts(c->store, j->row.id, &pending, &leased, &done) == LZR_OK) {
        uint64_t open = (uint64_t)pending + leased;
        open = open > draining ? open - draining : 0;
        if (holders > open)
            holders = open;
    }
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
        job_rt_t *j = s->used && s->has_lease ? jobrt_find(c, s->job_id) : NULL;
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
        session_send(c, s, &env);
        log_info("job %llu shard %u: %s now at %u/s (was %u/s)", (unsigned long long)s->job_id,
                 s->shard, s->name, share, s->rate);
        s->rate = share;
    }
}

/* A new array of a's na entries followed by b's nb (the strings are borrowed); NULL when out
 * of memory. */
static char **join_lists(char *const *a, size_t na, char *const *b, size_t nb)
{
    char **v = malloc((na + nb ? na + nb : 1) * sizeof *v);
    if (v && na)
        memcpy(v, a, na * sizeof *v);
    if (v && nb)
        memcpy(v + na, b, nb * sizeof *v);
    return v;
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
    char *names[SCAN_SPEC_MAX_NAMES], *fb_names[SCAN_SPEC_MAX_NAMES];
    for (size_t i = 0; i < sp->handshakes.n; i++)
        names[i] = (char *)sp->handshakes.v[i];
    for (size_t i = 0; i < sp->fallback.n; i++)
        fb_names[i] = (char *)sp->fallback.v[i];
    a.handshakes = names;
    a.n_handshakes = sp->handshakes.n;
    a.fallback = fb_names;
    a.n_fallback = sp->fallback.n;
    /* The list files' entries travel with the job's own: an allowlist without targets is the
     * target list, a blocklist joins the excludes, a targets_file's addresses the targets. */
    char **excl = join_lists(sp->exclude, sp->n_exclude, sp->blocklist, sp->n_blocklist);
    char **tgt = join_lists(sp->targets, sp->n_targets, sp->target_list, sp->n_target_list);
    if (!excl || !tgt) {
        free(excl);
        free(tgt);
        log_error("job %llu shard %u: out of memory", (unsigned long long)j->row.id, sh->idx);
        return;
    }
    a.n_exclude = sp->n_exclude + sp->n_blocklist;
    a.exclude = excl;
    size_t n_tgt = sp->n_targets + sp->n_target_list;
    if (n_tgt) {
        a.n_targets = n_tgt;
        a.targets = tgt;
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
    a.n_pairs = sp->n_pairs;
    a.pairs = sp->pairs;
    if (sp->max_runtime_s) { /* the shard ends its SYNs at the job's deadline */
        uint64_t end = j->row.started_us + (uint64_t)sp->max_runtime_s * 1000000u;
        uint64_t now = clock_wall_us();
        a.max_runtime_ms = end > now + 1000 ? (end - now) / 1000 : 1;
    }
    Lzr__Envelope env = wire_envelope(LZR__ENVELOPE__BODY_ASSIGN, &a);
    session_send(c, s, &env);
    free(excl);
    free(tgt);
    log_info("job %llu shard %u/%zu -> %s at %u/s", (unsigned long long)j->row.id, sh->idx,
             (size_t)a.n_shards, s->name, a.rate);
}

/* Whether s may take a shard: it holds none, or its lease's SYN walk is done and it has room for
 * one more draining lease. */
static bool may_lease(const session_t *s)
{
    if (!s->used)
        return false;
    return !s->has_lease ||
           (s->walk_done && !s->done_unstored && session_drain_count(s) < session_drain_max(s));
}

/* Moves s's lease, whose walk is done, to a free draining lease: its tails finish beside the
 * next shard's SYNs. may_lease saw that one is free. */
static void lease_to_drain(session_t *s)
{
    drain_lease_t *d = s->drains;
    while (d->held)
        d++;
    bool tallied = s->tally.job == s->job_id && s->tally.shard == s->shard;
    *d = (drain_lease_t){.held = true,
                         .job_id = s->job_id,
                         .shard = s->shard,
                         .seen = tallied ? s->tally.cur : (metrics_counters_t){0}};
    log_info("job %llu shard %u: %s finishes its tails beside the next shard (%zu draining)",
             (unsigned long long)s->job_id, s->shard, s->name, session_drain_count(s));
}

static void lease_to(coord_t *c, session_t *s, uint64_t now)
{
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "running", &ids, &n) != LZR_OK)
        return;
    for (size_t i = 0; i < n && may_lease(s); i++) {
        char err[512];
        job_rt_t *j = jobrt_load(c, ids[i], err, sizeof err);
        if (!j) {
            log_error("%s", err);
            continue;
        }
        /* A job with IPv6 targets goes only to workers that scan IPv6: its shards mix both
         * families. */
        if (targets6_count(j->spec->set6) && s->scan_ip6.family != ADDR_IPV6)
            continue;
        store_shard_t sh;
        if (store_shard_lease_next(c->store, j->row.id, s->name, s->scan_ip, &s->scan_ip6, now,
                                   now + c->lease_timeout_us, &sh) != LZR_OK)
            continue;
        if (s->has_lease)
            lease_to_drain(s);
        s->has_lease = true;
        s->walk_done = false;
        s->job_id = j->row.id;
        s->shard = sh.idx;
        s->lease_start_us = now;
        s->targets_done = s->targets_total = s->sent = s->hits = 0;
        send_assign(c, s, j, &sh);
    }
    free(ids);
}

/* A job is done once the store says so; until then the next pass tries again. */
static void mark_done(coord_t *c, uint64_t id, uint32_t done)
{
    if (db_wrote(c, store_job_set_state(c->store, id, "done"), "job %llu done",
                 (unsigned long long)id) != LZR_OK)
        return;
    uint64_t results = 0;
    if (store_result_count(c->store, id, &results) == LZR_OK)
        log_info("job %llu done: %u shards, %llu results", (unsigned long long)id, done,
                 (unsigned long long)results);
    else
        log_info("job %llu done: %u shards (results not counted: %s)", (unsigned long long)id, done,
                 store_errmsg(c->store));
    jobrt_unload(c, id);
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
        job_rt_t *j = jobrt_load(c, id, err, sizeof err);
        if (!j) {
            log_error("%s", err);
            return false;
        }
        uint32_t n_ports = (uint32_t)j->spec->ports.n;
        c->verify = verify_job_new(id, j->spec->timeout_ms, n_ports, now);
        if (!c->verify)
            return false;
        uint64_t cand = 0;
        store_candidate_count(c->store, id, n_ports, &cand);
        log_info("job %llu: scan done; multi-vantage verification of %llu candidate host(s)",
                 (unsigned long long)id, (unsigned long long)cand);
    }
    verify_worker_t *w = c->verify_workers;
    size_t nw = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (!s->used)
            continue;
        memset(&w[nw], 0, sizeof w[nw]);
        snprintf(w[nw].name, sizeof w[nw].name, "%s", s->name);
        w[nw].scan_ip = addr_ipv4(s->scan_ip);
        w[nw].scan_ip6 = s->scan_ip6;
        for (size_t f = 0; f < s->n_fresh; f++)
            w[nw].fresh[w[nw].n_fresh++] = addr_ipv4(s->fresh_ips[f]);
        for (size_t f = 0; f < s->n_fresh6; f++)
            w[nw].fresh[w[nw].n_fresh++] = s->fresh_ips6[f];
        nw++;
    }
    if (!verify_job_step(c->verify, c->store, w, nw, verify_send, c, now))
        return false;
    uint64_t verdicts = 0;
    store_verdict_count(c->store, id, &verdicts);
    log_info("job %llu: verification done, %llu verdicts", (unsigned long long)id,
             (unsigned long long)verdicts);
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
        job_rt_t *j = jobrt_load(c, ids[i], err, sizeof err);
        if (j && j->spec->verify && !verify_step(c, ids[i], now))
            continue; /* the job is done only after its verification */
        mark_done(c, ids[i], done);
    }
    free(ids);
}

/* Stores that s finished (job, shard); *unstored and *held are the flags of the lease it is. */
static void shard_finished(coord_t *c, session_t *s, uint64_t job, uint32_t shard,
                           const store_shard_stats_t *stats, bool *unstored, bool *held)
{
    *unstored = true;
    if (!db_writable(c))
        return;
    int rc = db_wrote(c, store_shard_done(c->store, job, shard, s->name),
                      "job %llu shard %u done by %s", (unsigned long long)job, shard, s->name);
    if (rc != LZR_OK && rc != LZR_ENOTFOUND)
        return;
    *unstored = false;
    if (rc == LZR_OK) {
        /* The counters are the job's metadata, not its results: one that is not stored is
         * logged by db_wrote and the shard stays done. */
        db_wrote(c, store_shard_stats(c->store, job, shard, stats), "counters of job %llu shard %u",
                 (unsigned long long)job, shard);
        log_info("worker %s: job %llu shard %u done", s->name, (unsigned long long)job, shard);
    } else
        log_warn("worker %s: job %llu shard %u: done, but its lease had already ended", s->name,
                 (unsigned long long)job, shard);
    *held = false;
}

/* Stores that s finished the shard it holds. Should the store not take it (a database error,
 * or a back-off after one), s keeps the lease, marked done_unstored, and each scheduling pass
 * tries again: a shard is done once the store says so, and not before. */
void sched_shard_finished(coord_t *c, session_t *s)
{
    shard_finished(c, s, s->job_id, s->shard, &s->done_stats, &s->done_unstored, &s->has_lease);
}

void sched_drain_finished(coord_t *c, session_t *s, drain_lease_t *d)
{
    shard_finished(c, s, d->job_id, d->shard, &d->stats, &d->unstored, &d->held);
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
        job_rt_t *j = jobrt_load(c, ids[i], err, sizeof err);
        if (!j || !j->spec->max_runtime_s || !j->row.started_us ||
            now < j->row.started_us + (uint64_t)j->spec->max_runtime_s * 1000000u)
            continue;
        uint32_t dropped = 0, all = 0;
        if (db_wrote(c, store_shards_drop(c->store, ids[i], &dropped),
                     "dropping the pending shards of job %llu",
                     (unsigned long long)ids[i]) != LZR_OK ||
            dropped == 0 || store_shards_dropped(c->store, ids[i], &all) != LZR_OK)
            continue;
        char reason[256];
        snprintf(reason, sizeof reason,
                 "max_runtime of %u s reached: %u of %u shards dropped unscanned",
                 j->spec->max_runtime_s, all, j->row.n_shards * j->row.passes);
        db_wrote(c, store_job_note(c->store, ids[i], reason), "the reason of job %llu",
                 (unsigned long long)ids[i]);
        log_info("job %llu: %s", (unsigned long long)ids[i], reason);
    }
    free(ids);
}

/* Waiting jobs start once enough workers are connected. */
static void start_waiting(coord_t *c)
{
    uint64_t *ids;
    size_t n;
    if (store_job_ids(c->store, "waiting", &ids, &n) != LZR_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        char err[512];
        job_rt_t *j = jobrt_load(c, ids[i], err, sizeof err);
        if (!j) {
            log_error("%s", err);
            continue;
        }
        store_job_t now_row;
        if (session_count(c) < j->spec->min_workers ||
            db_wrote(c, store_job_set_state(c->store, ids[i], "running"), "job %llu running",
                     (unsigned long long)ids[i]) != LZR_OK ||
            store_job_get(c->store, ids[i], &now_row) != LZR_OK)
            continue;
        snprintf(j->row.state, sizeof j->row.state, "running");
        j->row.started_us = now_row.started_us; /* what max_runtime counts from */
        store_job_clear(&now_row);
        log_info("job %llu (%s) running", (unsigned long long)ids[i], j->row.name);
    }
    free(ids);
}

/* One scheduling pass: sessions silent for the lease timeout end, expired leases go back to
 * the pool, waiting jobs start, idle workers get shards, rates are split again and finished
 * jobs close. It writes to the store, so it waits out a back-off after a failed write. */
void sched_run(coord_t *c)
{
    uint64_t now = clock_wall_us();
    if (!db_writable(c) || !db_recovered(c, now))
        return;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && now - s->last_seen_us > c->lease_timeout_us)
            session_drop(c, s, "no heartbeat");
        else if (s->used && s->done_unstored)
            sched_shard_finished(c, s);
        for (size_t k = 0; k < COORD_MAX_DRAINS && s->used; k++)
            if (s->drains[k].held && s->drains[k].unstored)
                sched_drain_finished(c, s, &s->drains[k]);
    }
    int expired = 0;
    if (db_wrote(c, store_shards_expire(c->store, now, &expired), "expired leases") == LZR_OK &&
        expired)
        log_info("%d lease(s) expired and went back to the pool", expired);
    start_waiting(c);
    enforce_runtime(c, now);
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (may_lease(s))
            lease_to(c, s, now);
    }
    resplit_rates(c);
    finish_jobs(c);
}
