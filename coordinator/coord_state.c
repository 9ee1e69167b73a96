/*
 * coord_state: the coordinator's state between messages (see coord_int.h): worker sessions,
 * the jobs the scheduler has loaded, and the one path every store write of the loop takes,
 * which logs a failed write, backs the loop off and lets nothing count as stored that is not.
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

/* Whether a line may be logged now; *suppressed gets how many were left out since the last. */
bool ratelimit_allow(ratelimit_t *r, uint64_t now, uint64_t *suppressed)
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

/* ---- store writes ------------------------------------------------------------------------ */

#define DB_BACKOFF_MIN_US 250000u
#define DB_BACKOFF_MAX_US 8000000u

/* The one path every store write of the loop goes through; returns rc. LZR_OK is stored, and
 * LZR_ENOTFOUND means the row was not there (callers say what that means). Anything else is a
 * database error (disk full, I/O): it is logged, at most one line a minute with how many were
 * left out, and the loop's writes back off, from 250 ms doubling to 8 s. Callers report as done
 * only what returned LZR_OK. fmt says what was not stored. */
int db_wrote(coord_t *c, int rc, const char *fmt, ...)
{
    if (rc == LZR_OK || rc == LZR_ENOTFOUND)
        return rc;
    uint64_t now = clock_wall_us();
    if (now >= c->db_retry_us) {
        c->db_backoff_us = c->db_backoff_us ? c->db_backoff_us * 2 : DB_BACKOFF_MIN_US;
        if (c->db_backoff_us > DB_BACKOFF_MAX_US)
            c->db_backoff_us = DB_BACKOFF_MAX_US;
        c->db_retry_us = now + c->db_backoff_us;
    }
    c->db_failing = true;
    c->db_errors++;
    uint64_t more;
    if (!ratelimit_allow(&c->db_log, now, &more))
        return rc;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    log_error("not stored: %s: %s (%llu store errors so far, %llu not logged; writes retry in "
              "%llu ms)",
              what, store_errmsg(c->store), (unsigned long long)c->db_errors,
              (unsigned long long)more, (unsigned long long)(c->db_backoff_us / 1000u));
    return rc;
}

/* Whether the database can still commit; once it cannot (its file or directory deleted or made
 * read-only), the coordinator stops: it acks nothing more, and coord_serve returns the reason. */
bool db_usable(coord_t *c)
{
    if (c->db_lost)
        return false;
    if (store_check(c->store, c->db_err, sizeof c->db_err) == LZR_OK)
        return true;
    c->db_lost = true;
    log_error("%s: acknowledging no more results; stopping", c->db_err);
    return false;
}

/* Whether the loop may write now: the database can still commit (db_usable) and no back-off
 * after a failed write is running. */
bool db_writable(coord_t *c)
{
    return db_usable(c) && clock_wall_us() >= c->db_retry_us;
}

/* After a failed write, the first pass that can write again treats the outage like a restart:
 * every lease gets one lease timeout more, since no renewal was stored meanwhile. */
bool db_recovered(coord_t *c, uint64_t now)
{
    if (!c->db_failing)
        return true;
    if (db_wrote(c, store_leases_extend(c->store, now + c->lease_timeout_us),
                 "lease renewals after a store error") != LZR_OK)
        return false;
    log_info("the database takes writes again after %llu store error(s); leases extended by one "
             "lease timeout",
             (unsigned long long)c->db_errors);
    c->db_failing = false;
    c->db_backoff_us = 0;
    return true;
}

/* ---- jobs -------------------------------------------------------------------------------- */

job_rt_t *jobrt_find(coord_t *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_jobs; i++)
        if (c->jobs[i].row.id == id)
            return &c->jobs[i];
    return NULL;
}

uint32_t jobrt_port_count(coord_t *c, const store_job_t *row, uint64_t *probes)
{
    job_rt_t *j = jobrt_find(c, row->id);
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
job_rt_t *jobrt_load(coord_t *c, uint64_t id, char *err, size_t errlen)
{
    job_rt_t *j = jobrt_find(c, id);
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

void jobrt_free(job_rt_t *j)
{
    job_destroy(&j->spec);
    store_job_clear(&j->row);
    free(j->port_index);
    shardmap_destroy(&j->shards);
}

void jobrt_unload(coord_t *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_jobs; i++) {
        if (c->jobs[i].row.id == id) {
            jobrt_free(&c->jobs[i]);
            c->jobs[i] = c->jobs[--c->n_jobs];
            return;
        }
    }
}

/* ---- sessions ---------------------------------------------------------------------------- */

session_t *session_by_rid(coord_t *c, zframe_t *rid)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (s->used && s->rid_len == zframe_size(rid) &&
            memcmp(s->rid, zframe_data(rid), s->rid_len) == 0)
            return s;
    }
    return NULL;
}

session_t *session_by_name(coord_t *c, const char *name)
{
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        if (c->sessions[i].used && strcmp(c->sessions[i].name, name) == 0)
            return &c->sessions[i];
    return NULL;
}

size_t session_count(coord_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        n += c->sessions[i].used;
    return n;
}

void session_send(coord_t *c, session_t *s, Lzr__Envelope *env)
{
    char err[256];
    zframe_t *rid = zframe_new(s->rid, s->rid_len);
    if (wire_send(c->workers, rid, env, err, sizeof err) != LZR_OK)
        log_warn("to %s: %s", s->name, err);
    zframe_destroy(&rid);
}

void session_cancel(coord_t *c, session_t *s, uint64_t job, uint32_t shard, const char *reason)
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
    session_send(c, s, &env);
}

void peer_refuse(coord_t *c, zframe_t *rid, const char *reason, bool fatal)
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
static void past_add(coord_t *c, const char *name, uint64_t job, uint32_t shard)
{
    past_lease_t *p = &c->past[c->past_next++ % COORD_PAST_LEASES];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->job_id = job;
    p->shard = shard;
}

void session_lease_forget(coord_t *c, session_t *s)
{
    if (!s->has_lease)
        return;
    past_add(c, s->name, s->job_id, s->shard);
    s->has_lease = false;
}

void session_drain_forget(coord_t *c, session_t *s, drain_lease_t *d)
{
    if (!d->held)
        return;
    past_add(c, s->name, d->job_id, d->shard);
    d->held = false;
}

drain_lease_t *session_draining(session_t *s, uint64_t job, uint32_t shard)
{
    for (size_t i = 0; i < COORD_MAX_DRAINS; i++) {
        drain_lease_t *d = &s->drains[i];
        if (d->held && d->job_id == job && d->shard == shard)
            return d;
    }
    return NULL;
}

size_t session_drain_count(const session_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_DRAINS; i++)
        n += s->drains[i].held;
    return n;
}

uint32_t session_drain_max(const session_t *s)
{
    if (s->max_drains == 0)
        return 1;
    return s->max_drains < COORD_MAX_DRAINS ? s->max_drains : COORD_MAX_DRAINS;
}

bool session_holds(session_t *s, uint64_t job, uint32_t shard)
{
    return (s->has_lease && s->job_id == job && s->shard == shard) ||
           session_draining(s, job, shard);
}

/* Whether a Hello claims (job, shard): as its walking lease or one of its draining ones. */
static bool hello_claims(const Lzr__Hello *h, uint64_t job, uint32_t shard)
{
    if (!h)
        return false;
    bool claimed = h->lease && h->lease->job_id == job && h->lease->shard == shard;
    for (size_t i = 0; i < h->n_drain && !claimed; i++)
        claimed = h->drain[i] && h->drain[i]->job_id == job && h->drain[i]->shard == shard;
    return claimed;
}

/* Sends (job, shard), a lease of s, back to the pool unless the Hello h claims it. */
static void release_unclaimed(coord_t *c, session_t *s, uint64_t job, uint32_t shard,
                              const Lzr__Hello *h)
{
    if (!hello_claims(h, job, shard))
        db_wrote(c, store_shard_release(c->store, job, shard, s->name),
                 "job %llu shard %u back to the pool from %s", (unsigned long long)job, shard,
                 s->name);
}

void session_release(coord_t *c, session_t *s, const Lzr__Hello *h)
{
    if (s->has_lease)
        release_unclaimed(c, s, s->job_id, s->shard, h);
    for (size_t i = 0; i < COORD_MAX_DRAINS; i++) {
        drain_lease_t *d = &s->drains[i];
        if (d->held)
            release_unclaimed(c, s, d->job_id, d->shard, h);
        session_drain_forget(c, s, d);
    }
    session_lease_forget(c, s);
}

void session_cancel_leases(coord_t *c, session_t *s, uint64_t job, const char *reason)
{
    if (s->has_lease && (!job || s->job_id == job)) {
        session_cancel(c, s, s->job_id, s->shard, reason);
        s->has_lease = false;
    }
    for (size_t i = 0; i < COORD_MAX_DRAINS; i++) {
        drain_lease_t *d = &s->drains[i];
        if (d->held && (!job || d->job_id == job)) {
            session_cancel(c, s, d->job_id, d->shard, reason);
            d->held = false;
        }
    }
}

bool session_held_before(coord_t *c, const char *name, uint64_t job, uint32_t shard)
{
    for (size_t i = 0; i < COORD_PAST_LEASES; i++)
        if (c->past[i].job_id == job && c->past[i].shard == shard &&
            strcmp(c->past[i].name, name) == 0)
            return true;
    return false;
}

/* Counts something of worker s the trust checks dropped, and logs it at most once a minute
 * per worker, with how many more there were. */
void session_distrust(coord_t *c, session_t *s, uint64_t n, const char *fmt, ...)
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
void session_drop(coord_t *c, session_t *s, const char *why)
{
    log_info("worker %s: session ended (%s)", s->name, why);
    session_release(c, s, NULL);
    memset(s, 0, sizeof *s);
}

/* Cancels a job for reason (kept in the store, shown by status): every worker on it is told to
 * stop, and nothing more of it is stored. */
int jobs_cancel(coord_t *c, uint64_t id, const char *reason)
{
    int rc = db_wrote(c, store_job_cancel(c->store, id, reason), "job %llu cancelled",
                      (unsigned long long)id);
    if (rc != LZR_OK)
        return rc;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++)
        if (c->sessions[i].used)
            session_cancel_leases(c, &c->sessions[i], id, "job cancelled");
    jobrt_unload(c, id);
    if (c->verify && verify_job_id(c->verify) == id)
        verify_job_free(&c->verify);
    log_info("job %llu cancelled: %s", (unsigned long long)id, reason);
    return LZR_OK;
}
