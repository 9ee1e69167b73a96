/*
 * coord_worker: the messages of workers. Hello opens a session (or refuses it), Heartbeat
 * keeps it and its lease, ResultBatch is checked against the sender's shard and held for the
 * group's transaction, ShardDone finishes or fails a shard. Nothing a worker says is trusted
 * beyond the shard it holds; what is dropped is counted.
 */
#include "coordinator/coord_int.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pairs.h"
#include "common/targets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- worker messages --------------------------------------------------------------------- */

/* Refuses a Hello, logging at most one line a minute for all refused Hellos together. */
static void refuse_hello(coord_t *c, zframe_t *rid, const char *name, const char *reason,
                         bool fatal)
{
    c->untrusted++;
    uint64_t more;
    if (ratelimit_allow(&c->hello_log, clock_wall_us(), &more))
        log_warn("worker %s: refused: %s (%llu more refusals not logged)", name, reason,
                 (unsigned long long)more);
    peer_refuse(c, rid, reason, fatal);
}

/* Why a Hello from key pubkey cannot have the name, scan IP and session it asks for; NULL when
 * it can. A name belongs to the first key that registered it until `lzr-coord revoke`; one key
 * has at most COORD_MAX_SESSIONS_PER_KEY sessions; a scan IP is one live worker's. Without
 * CURVE every key is "", so none of these rules tells workers apart. */
/* A Hello's IPv6 fields: each address 16 bytes. */
static bool hello_ipv6_valid(const Lzr__Hello *h)
{
    bool ok = h->scan_ip6.len == 0 || h->scan_ip6.len == 16;
    for (size_t i = 0; i < h->n_fresh_ips6; i++)
        ok &= h->fresh_ips6[i].len == 16;
    return ok;
}

/* True when h's IPv6 scan IP is o's IPv6 scan IP or one of o's IPv6 fresh IPs. */
static bool scan_ip6_taken(const session_t *o, const Lzr__Hello *h)
{
    if (h->scan_ip6.len != 16)
        return false;
    lzr_addr_t a = {.family = ADDR_IPV6};
    memcpy(a.v6, h->scan_ip6.data, 16);
    bool taken = addr_equal(&o->scan_ip6, &a);
    for (size_t f = 0; f < o->n_fresh6; f++)
        taken |= addr_equal(&o->fresh_ips6[f], &a);
    return taken;
}

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
        if (scan_ip6_taken(o, h) && strcmp(o->pubkey, pubkey) != 0) {
            snprintf(why, cap, "IPv6 scan IP belongs to worker %s", o->name);
            return why;
        }
    }
    if (pubkey[0] && same_key >= COORD_MAX_SESSIONS_PER_KEY) {
        snprintf(why, cap, "this key already has %d worker sessions", COORD_MAX_SESSIONS_PER_KEY);
        return why;
    }
    return NULL;
}

/* The session a Hello that hello_denied let through takes: the same worker's again (its lease
 * back to the pool unless the Hello claims it) or a free one; NULL, after a refusal, when the
 * name or routing id is another key's or no session is free. */
static session_t *hello_session(coord_t *c, zframe_t *rid, const char *pubkey, const Lzr__Hello *h)
{
    session_t *s = session_by_name(c, h->name);
    if (s && strcmp(s->pubkey, pubkey) != 0) {
        refuse_hello(c, rid, h->name, "worker name in use by another key", true);
        return NULL;
    }
    session_t *by_rid = session_by_rid(c, rid);
    if (by_rid && by_rid != s && strcmp(by_rid->pubkey, pubkey) != 0) {
        /* A peer that took over another key's routing id (ZMQ_ROUTING_ID). */
        refuse_hello(c, rid, h->name, "routing id in use by another key", true);
        return NULL;
    }
    if (s) {
        /* The same worker again (restarted, or re-registering after our restart): every lease
         * but those it claims goes back to the pool. */
        session_release(c, s, h);
        memset(s, 0, sizeof *s);
        return s;
    }
    s = by_rid;
    if (s)
        session_drop(c, s, "registered under another name");
    for (size_t i = 0; i < COORD_MAX_SESSIONS && !s; i++)
        if (!c->sessions[i].used)
            s = &c->sessions[i];
    if (!s)
        refuse_hello(c, rid, h->name, "too many workers", false);
    return s;
}

/* Fills a fresh session from the Hello that opened it. */
static void session_fill(session_t *s, zframe_t *rid, const char *pubkey, const Lzr__Hello *h,
                         uint64_t now)
{
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
    s->scan_ip6.family = h->scan_ip6.len == 16 ? ADDR_IPV6 : ADDR_NONE;
    if (h->scan_ip6.len == 16)
        memcpy(s->scan_ip6.v6, h->scan_ip6.data, 16);
    s->n_fresh6 = 0;
    for (size_t i = 0; i < h->n_fresh_ips6 && i < VERIFY_MAX_FRESH; i++) {
        s->fresh_ips6[s->n_fresh6].family = ADDR_IPV6;
        memcpy(s->fresh_ips6[s->n_fresh6++].v6, h->fresh_ips6[i].data, 16);
    }
    snprintf(s->iface, sizeof s->iface, "%s", h->iface);
    snprintf(s->version, sizeof s->version, "%s", h->version);
    s->max_drains = h->max_drains;
    s->last_seen_us = now;
    s->rate_at_us = now;
}

/* Whether s keeps the lease its Hello claims: the job still runs and the store still has the
 * lease in s's name (a pending shard is not taken by claiming it). */
static bool lease_reclaim(coord_t *c, session_t *s, const Lzr__Lease *l, uint64_t now)
{
    job_rt_t *j = NULL;
    store_job_t row;
    if (store_job_get(c->store, l->job_id, &row) == LZR_OK) {
        if (strcmp(row.state, "running") == 0) {
            char err[512];
            j = jobrt_load(c, row.id, err, sizeof err);
        }
        store_job_clear(&row);
    }
    if (!j || db_wrote(c,
                       store_shard_reclaim(c->store, l->job_id, l->shard, s->name,
                                           now + c->lease_timeout_us),
                       "lease of job %llu shard %u for %s", (unsigned long long)l->job_id, l->shard,
                       s->name) != LZR_OK)
        return false;
    s->has_lease = true;
    s->walk_done = false;
    s->job_id = l->job_id;
    s->shard = l->shard;
    s->lease_start_us = now;
    return true;
}

/* Whether s keeps a draining lease its Hello claims beside its walking one: it has room for
 * it, and the store renews it in s's name (its job may have moved on; its tails still count). */
static bool drain_reclaim(coord_t *c, session_t *s, const Lzr__Lease *l, uint64_t now)
{
    if (!s->has_lease || !l || !l->job_id || session_holds(s, l->job_id, l->shard) ||
        session_drain_count(s) >= session_drain_max(s) ||
        db_wrote(
            c,
            store_shard_reclaim(c->store, l->job_id, l->shard, s->name, now + c->lease_timeout_us),
            "lease of job %llu shard %u for %s", (unsigned long long)l->job_id, l->shard,
            s->name) != LZR_OK)
        return false;
    drain_lease_t *d = s->drains;
    while (d->held)
        d++;
    *d = (drain_lease_t){.held = true, .job_id = l->job_id, .shard = l->shard};
    s->walk_done = false;
    return true;
}

/* Welcomes s: kept says whether it keeps its Hello's walking lease, drain_kept[i] whether it
 * keeps the Hello's drain[i] (n_drain of them). */
static void send_welcome(coord_t *c, session_t *s, bool kept, protobuf_c_boolean *drain_kept,
                         size_t n_drain)
{
    Lzr__Welcome w = LZR__WELCOME__INIT;
    w.heartbeat_ms = c->opt->heartbeat_ms;
    w.lease_timeout_ms = c->opt->lease_timeout_ms;
    w.lease_kept = kept;
    w.drain_kept = drain_kept;
    w.n_drain_kept = n_drain;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    session_send(c, s, &env);
}

/* Which leases a Hello claims s keeps: its walking lease (the return value) and each draining
 * one (drain_kept[i] for h->drain[i], *n_kept entries; a Hello naming more than s may hold has
 * the rest refused). */
static bool hello_reclaim(coord_t *c, session_t *s, const Lzr__Hello *h, uint64_t now,
                          protobuf_c_boolean drain_kept[COORD_MAX_DRAINS], size_t *n_kept)
{
    bool kept = h->lease && h->lease->job_id && lease_reclaim(c, s, h->lease, now);
    *n_kept = h->n_drain < COORD_MAX_DRAINS ? h->n_drain : COORD_MAX_DRAINS;
    for (size_t i = 0; i < *n_kept; i++)
        drain_kept[i] = kept && drain_reclaim(c, s, h->drain[i], now);
    return kept;
}

static void on_hello(coord_t *c, zframe_t *rid, const char *pubkey, const Lzr__Hello *h)
{
    uint64_t now = clock_wall_us();
    if (!name_worker_valid(h->name) || zframe_size(rid) > sizeof c->sessions[0].rid) {
        c->malformed++;
        peer_refuse(c, rid, "worker name must be 1-63 characters of [A-Za-z0-9._-]", true);
        return;
    }
    if (!hello_ipv6_valid(h)) {
        c->malformed++;
        peer_refuse(c, rid, "an IPv6 address in Hello is not 16 bytes", true);
        return;
    }
    char why[256];
    if (hello_denied(c, pubkey, h, why, sizeof why)) {
        refuse_hello(c, rid, h->name, why, true);
        return;
    }
    session_t *s = hello_session(c, rid, pubkey, h);
    if (!s)
        return;
    session_fill(s, rid, pubkey, h, now);
    /* The name's binding to the key lives in the store: a registration it has not taken is not
     * welcomed, and the worker says Hello again. */
    if (db_wrote(c,
                 store_worker_upsert(c->store, s->name, pubkey, s->scan_ip, s->fresh, s->iface,
                                     s->version, now),
                 "registration of worker %s", s->name) != LZR_OK) {
        peer_refuse(c, rid, "the coordinator cannot store this registration now; register again",
                    false);
        memset(s, 0, sizeof *s);
        return;
    }
    protobuf_c_boolean drain_kept[COORD_MAX_DRAINS];
    size_t n_kept = 0;
    bool kept = hello_reclaim(c, s, h, now, drain_kept, &n_kept);
    char ip[16], ip6[ADDR_TEXT_MAX];
    log_info("worker %s registered: scan ip %s, IPv6 scan ip %s, fresh [%s]%s", s->name,
             targets_ntoa(s->scan_ip, ip), addr_format(&s->scan_ip6, ip6), s->fresh,
             kept ? ", kept its lease" : "");
    if (h->n_drain)
        log_info("worker %s: kept %zu of the %zu draining leases its Hello named", s->name,
                 session_drain_count(s), h->n_drain);
    send_welcome(c, s, kept, drain_kept, n_kept);
    if (h->lease && h->lease->job_id && !kept)
        session_cancel(c, s, h->lease->job_id, h->lease->shard, "lease lost");
    for (size_t i = 0; i < h->n_drain; i++) /* one named twice is cancelled only when not held */
        if (h->drain[i] && h->drain[i]->job_id &&
            !session_holds(s, h->drain[i]->job_id, h->drain[i]->shard))
            session_cancel(c, s, h->drain[i]->job_id, h->drain[i]->shard, "lease lost");
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
    metrics_tally_note(&s->tally, s->job_id, s->shard, hb);
}

/* Renews a lease of s; false, after telling the worker to stop, when it is lost. A renewal the
 * store could not take is tried at the next heartbeat; the lease is lost only when the store
 * says it is someone else's or done. */
static bool lease_renew(coord_t *c, session_t *s, uint64_t job, uint32_t shard, uint64_t now)
{
    if (db_wrote(c, store_shard_renew(c->store, job, shard, s->name, now + c->lease_timeout_us),
                 "lease of job %llu shard %u for %s", (unsigned long long)job, shard,
                 s->name) != LZR_ENOTFOUND)
        return true;
    session_cancel(c, s, job, shard, "lease lost");
    return false;
}

static void on_heartbeat(coord_t *c, session_t *s, const Lzr__Heartbeat *hb)
{
    uint64_t now = clock_wall_us();
    s->last_seen_us = now;
    /* Each write is a synced transaction: touch the store a few times per lease timeout, not
     * on every heartbeat of every worker. */
    bool write = now - s->stored_us >= c->lease_timeout_us / 4 && db_writable(c);
    if (write) {
        db_wrote(c, store_worker_seen(c->store, s->name, now), "heartbeat of worker %s", s->name);
        s->stored_us = now;
    }
    if (!hb->lease || !hb->lease->job_id)
        return;
    if (!session_holds(s, hb->lease->job_id, hb->lease->shard)) {
        session_cancel(c, s, hb->lease->job_id, hb->lease->shard, "not your lease");
        return;
    }
    /* One heartbeat renews all its leases (the worker speaks for the shard it scans); a
     * draining one's counters come with its ShardDone. */
    for (size_t i = 0; i < COORD_MAX_DRAINS && write; i++) {
        drain_lease_t *d = &s->drains[i];
        if (d->held && !lease_renew(c, s, d->job_id, d->shard, now))
            session_drain_forget(c, s, d);
    }
    if (write && s->has_lease && !lease_renew(c, s, s->job_id, s->shard, now)) {
        session_lease_forget(c, s);
        return;
    }
    if (s->has_lease && s->job_id == hb->lease->job_id && s->shard == hb->lease->shard) {
        bool walked = hb->walk_done && !s->walk_done;
        s->walk_done = hb->walk_done;
        note_stats(s, hb, now);
        if (walked)
            sched_run(c); /* its next shard starts now, not at the next pass */
    }
}

static void send_ack(coord_t *c, session_t *s, uint64_t seq)
{
    Lzr__Ack ack = LZR__ACK__INIT;
    ack.seq = seq;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    session_send(c, s, &env);
}

/* Stores the held batches in one transaction, then acks them. Should the group fail for its
 * rows, each batch is tried alone, so one that cannot be stored does not hold back the others;
 * should it fail for the database (disk full, I/O error), db_wrote logs it and the loop backs
 * off. A batch not stored is not acked, and its worker sends it again. */
void held_flush(coord_t *c)
{
    if (!c->n_held)
        return;
    store_batch_t group[COORD_GROUP_MAX];
    size_t ng = 0;
    for (size_t i = 0; i < c->n_held; i++)
        if (c->held[i].b.n)
            group[ng++] = c->held[i].b;
    char err[256] = "";
    /* An Ack promises the batch survives: none goes out once the database is gone, nor during
     * a back-off after a failed write. */
    bool db_ok = db_writable(c);
    bool all =
        db_ok && (ng == 0 || store_put_batches(c->store, group, ng, err, sizeof err) == LZR_OK);
    if (db_ok && !all && store_put_outage(c->store)) {
        db_wrote(c, LZR_EDB, "%zu result batch(es)", ng);
        db_ok = false;
    }
    for (size_t i = 0; i < c->n_held; i++) {
        held_batch_t *h = &c->held[i];
        bool stored = db_ok && (all || h->b.n == 0 ||
                                store_put_batches(c->store, &h->b, 1, err, sizeof err) == LZR_OK);
        if (stored) {
            send_ack(c, h->s, h->seq);
            c->batches_stored++;
            c->records_stored += h->b.n;
        } else {
            c->batches_failed++;
        }
        if (!stored && db_ok) /* without a database, no Ack and no line per batch */
            log_error("worker %s: batch %llu not stored: %s", h->s->name,
                      (unsigned long long)h->seq, err);
        free((void *)h->b.recs);
    }
    c->n_held = 0;
}

/* The job a batch may be stored into: running (a cancelled or finished job takes nothing). */
static job_rt_t *running_job(coord_t *c, uint64_t id)
{
    job_rt_t *j = jobrt_find(c, id);
    if (j)
        return strcmp(j->row.state, "running") == 0 ? j : NULL;
    store_job_t row;
    if (store_job_get(c->store, id, &row) != LZR_OK)
        return NULL;
    bool running = strcmp(row.state, "running") == 0;
    store_job_clear(&row);
    char err[512];
    return running ? jobrt_load(c, id, err, sizeof err) : NULL;
}

/* Why record r, sent by s for shard of job j, cannot be stored; NULL when it can: the target
 * must be in the job's targets and ports (and in the shard, when the job has a shard map), and
 * the source the worker's own scan IP. */
static const char *record_denied(const job_rt_t *j, const session_t *s, uint32_t shard,
                                 const lzr_record_t *r)
{
    bool v6 = r->ip.family == ADDR_IPV6;
    if (v6 ? !addr_equal(&r->source_ip, &s->scan_ip6)
           : r->source_ip.family != ADDR_IPV4 || r->source_ip.v4 != s->scan_ip)
        return "source IP is not the worker's scan IP";
    /* The address space is the IPv4 set, then the IPv6 set (common/scan_spec.h). */
    int64_t ai = v6 ? targets6_index_of(j->spec->set6, (const struct in6_addr *)r->ip.v6)
                 : j->spec->pairs ? pairs_index_of(j->spec->pairs, j->spec->n_pairs,
                                                   pair_key(r->ip.v4, (uint16_t)r->port))
                                  : targets_index_of(j->spec->set, r->ip.v4);
    if (v6 && ai >= 0)
        ai += (int64_t)targets_count(j->spec->set);
    if (ai < 0 || !j->port_index[r->port])
        return "target outside the job";
    /* A pair list's element is the pair's index; else address index × ports + port index. */
    uint64_t el = j->spec->pairs ? (uint64_t)ai
                                 : (uint64_t)ai * j->spec->ports.n + j->port_index[r->port] - 1;
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
    if (b->seq <= s->max_seq)
        c->batch_retries++;
    else
        s->max_seq = b->seq;
    /* Stored only for a shard the worker holds, or held when it sent the batch (a re-send after
     * lost acks); anything else is acked so an honest worker that lost its lease moves on, and
     * nothing of it is stored. */
    bool holder = session_holds(s, job, shard);
    job_rt_t *j = NULL;
    if (!holder && !session_held_before(c, s->name, job, shard))
        session_distrust(c, s, 1, "batch %llu for job %llu shard %u, which it does not hold",
                         (unsigned long long)b->seq, (unsigned long long)job, shard);
    else if (!(j = running_job(c, job)))
        session_distrust(c, s, 1, "batch %llu for job %llu, which is not running",
                         (unsigned long long)b->seq, (unsigned long long)job);
    lzr_record_t *recs = NULL;
    size_t n = 0;
    if (j && b->n_records) {
        recs = malloc(b->n_records * sizeof *recs);
        if (!recs)
            return; /* no ack: the worker re-sends */
        uint64_t denied = 0;
        const char *why = NULL, *first_why = NULL; /* the log names the first refusal's reason */
        for (size_t i = 0; i < b->n_records; i++) {
            if (wire_record_to(b->records[i], &recs[n], err, sizeof err) != LZR_OK) {
                c->malformed++;
                log_warn("worker %s: batch %llu: %s", s->name, (unsigned long long)b->seq, err);
            } else if ((why = record_denied(j, s, shard, &recs[n])) != NULL) {
                denied++;
                first_why = first_why ? first_why : why;
            } else {
                n++;
            }
        }
        if (denied)
            session_distrust(c, s, denied, "batch %llu: %llu record(s) refused (%s)",
                             (unsigned long long)b->seq, (unsigned long long)denied, first_why);
    }
    if (c->n_held == COORD_GROUP_MAX)
        held_flush(c);
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
    if (!session_holds(s, job, shard)) {
        session_distrust(c, s, 1, "ShardDone for job %llu shard %u, which it does not hold",
                         (unsigned long long)job, shard);
        return;
    }
    drain_lease_t *drain = session_draining(s, job, shard);
    store_shard_stats_t *kept = drain ? &drain->stats : &s->done_stats;
    memset(kept, 0, sizeof *kept);
    if (d->stats)
        *kept = (store_shard_stats_t){d->stats->syns, d->stats->sent, d->stats->replies,
                                      d->stats->pcap_drops, d->stats->blocked};
    if (d->stats && drain) {
        metrics_tally_late(&s->tally, &drain->seen, d->stats);
    } else if (d->stats) {
        s->sent = d->stats->sent;
        metrics_tally_note(&s->tally, job, shard, d->stats);
    }
    if (d->error && d->error[0]) {
        if (drain)
            drain->held = false;
        else
            s->has_lease = false;
        uint32_t failures = 0;
        uint64_t now = clock_wall_us(), retry = now;
        uint64_t backoff = (uint64_t)(c->opt->retry_ms ? c->opt->retry_ms : COORD_RETRY_MS) * 1000u;
        db_wrote(c,
                 store_shard_fail(c->store, job, shard, s->name, now, backoff, &failures, &retry),
                 "job %llu shard %u failed on %s", (unsigned long long)job, shard, s->name);
        log_error("worker %s: job %llu shard %u failed (failure %u of %d): %s; retry in %llu s",
                  s->name, (unsigned long long)job, shard, failures, COORD_MAX_FAILURES, d->error,
                  (unsigned long long)((retry - now) / 1000000u));
        /* An error that repeats (a handshake no worker can send, say) would bounce the shard
         * forever: give up on the job after a few real failures. */
        if (failures >= COORD_MAX_FAILURES) {
            char reason[512];
            snprintf(reason, sizeof reason, "shard %u failed %u times; last error from %s: %s",
                     shard, failures, s->name, d->error);
            jobs_cancel(c, job, reason);
        }
    } else if (drain) {
        sched_drain_finished(c, s, drain);
    } else {
        sched_shard_finished(c, s);
    }
    sched_run(c);
}

void worker_on_message(coord_t *c)
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
        held_flush(c);
    if (env->body_case == LZR__ENVELOPE__BODY_HELLO) {
        on_hello(c, rid, uid, env->hello);
        goto out;
    }
    session_t *s = session_by_rid(c, rid);
    if (!s) {
        /* A worker from before our restart: ask it to register again. */
        peer_refuse(c, rid, "unknown session: send Hello", false);
        goto out;
    }
    if (strcmp(s->pubkey, uid) != 0) {
        /* Another key on this session's routing id: nothing it says is the session's. */
        session_distrust(c, s, 1, "a %s message under its routing id from another key",
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
