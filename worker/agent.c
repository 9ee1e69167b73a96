/*
 * agent: the session with the coordinator, on the caller's thread. It owns the DEALER socket:
 * it registers, handles Welcome, Refuse, Assign, Ack, SetRate, Cancel and VerifyRequest, sends
 * heartbeats, and turns queued records into batches. The pieces it drives live in modules of
 * their own: the record queue between the engine and the session (recqueue), the window of
 * unacked batches (batchwin), the shard's engine thread (shard) and a verification request's
 * thread (verify_task). Here stay the translation of an Assign into an engine configuration
 * and the loop that ties them together. Shards are pipelined: once a shard's SYN walk is done
 * (the heartbeat says walk_done), the coordinator may assign the next one, whose engine runs
 * beside the draining ones (--max-drains of them at most); each run has its own record queue, so
 * each batch is one shard's.
 */
#include "worker/agent.h"

#include "common/clock.h"
#include "common/cookie.h"
#include "common/err.h"
#include "common/log.h"
#include "common/pairs.h"
#include "common/permutation.h"
#include "common/ports.h"
#include "common/scan_spec.h"
#include "common/targets.h"
#include "common/wire.h"
#include "worker/batchwin.h"
#include "worker/cappool.h"
#include "worker/handshakes/handshake.h"
#include "worker/lzr.h"
#include "worker/metadata.h"
#include "worker/optout.h"
#include "worker/recqueue.h"
#include "worker/scan_config.h"
#include "worker/verify_task.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_VERSION  LZR_WORKER_VERSION
#define HELLO_RETRY_MS 3000
#define STOP_GRACE_MS  5000 /* after a stop: how long unacked batches may still take */
/* Draining runs held at once: LZR_MAX_DRAINS live ones, and room for cancelled ones whose
 * engine has not returned yet (they are reaped within a turn or two). */
#define AGENT_DRAIN_SLOTS (2 * LZR_MAX_DRAINS)
/* Every run gets a slice of the source ports of its own among AGENT_PORT_SLICES (one for each
 * run that can be live at once, the walking one and every draining slot), so that each run's
 * capture filter passes only its own replies and the kernel drops the rest: a draining run does
 * not read, check and reject every reply of the run beside it, nor take a stray bare ACK of
 * another shard's target for a challenge ACK to its own SYN. A range too narrow for that many
 * slices of AGENT_SLICE_MIN ports is cut in fewer, and the agent then holds only as many runs at
 * once as it has slices (one under 2 × AGENT_SLICE_MIN: shards one after another). */
#define AGENT_PORT_SLICES (AGENT_DRAIN_SLOTS + 2)
#define AGENT_SLICE_MIN   256

typedef struct agent {
    const agent_options_t *opt;
    volatile sig_atomic_t *stop;
    zsock_t *sock;
    zsock_t *monitor;
    bool registered;
    uint64_t hello_ms;
    uint32_t heartbeat_ms;
    uint64_t last_hb_ms;
    batchwin_t *window; /* batches sent and not yet acked */
    shard_run_t *run;   /* the shard being scanned (or the last one), or NULL */
    /* Earlier shards whose SYN walks are done, oldest first: only their tails are left. */
    shard_run_t *drain[AGENT_DRAIN_SLOTS];
    size_t n_drain;
    bool walk_told; /* a heartbeat said run's walk is done */
    /* The leases the last Hello named, which its Welcome answers for. */
    Lzr__Lease hello_lease;
    Lzr__Lease hello_drain[AGENT_DRAIN_SLOTS];
    size_t n_hello_drain;
    verify_task_t *vtask; /* the verification request being worked on, or NULL */
    cappool_t *pool;      /* capture handles runs gave back, beside opt->capture */
    char *fatal;          /* where the reason to give up goes (agent_run's err) */
    size_t fatal_len;
} agent_t;

void agent_options_init(agent_options_t *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->sport_lo = 40000;
    opt->sport_hi = 65535;
    opt->log_level = "info";
}

uint32_t agent_drains_for_memory(uint64_t avail_bytes)
{
    uint64_t runs = avail_bytes / 4 / CAPTURE_RING_BYTES;
    if (runs < 3)
        return 1;
    return runs - 2 < LZR_MAX_DRAINS ? (uint32_t)(runs - 2) : LZR_MAX_DRAINS;
}

/* Draining runs the agent may hold beside the walking one. */
static uint32_t drains_max(const agent_t *a)
{
    uint32_t n = a->opt->max_drains;
    return n && n < LZR_MAX_DRAINS ? n : LZR_MAX_DRAINS;
}

/* ---- sending ----------------------------------------------------------------------------- */

static void send_env(agent_t *a, Lzr__Envelope *env)
{
    char err[256];
    if (wire_send(a->sock, NULL, env, err, sizeof err) != LZR_OK)
        log_warn("%s", err);
}

static void send_env_cb(void *ctx, Lzr__Envelope *env)
{
    send_env(ctx, env);
}

static void send_raw_cb(void *ctx, const uint8_t *buf, size_t len)
{
    agent_t *a = ctx;
    wire_send_raw(a->sock, NULL, buf, len);
}

/* The run heartbeats and a Hello speak for: the shard being scanned, else the oldest draining
 * one; NULL when none is left uncancelled. */
static shard_run_t *current_run(agent_t *a)
{
    if (a->run && !shard_cancelled(a->run))
        return a->run;
    for (size_t i = 0; i < a->n_drain; i++)
        if (!shard_cancelled(a->drain[i]))
            return a->drain[i];
    return NULL;
}

/* Draining runs not cancelled: the leases the coordinator counts. */
static size_t live_drains(agent_t *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_drain; i++)
        n += !shard_cancelled(a->drain[i]);
    return n;
}

/* How many slices the agent's source ports are cut in: AGENT_PORT_SLICES, or as many of
 * AGENT_SLICE_MIN ports as the range holds, at least one. */
static uint32_t port_slices(const agent_t *a)
{
    uint32_t span = (uint32_t)a->opt->sport_hi - a->opt->sport_lo + 1;
    uint32_t n = span / AGENT_SLICE_MIN;
    return n >= AGENT_PORT_SLICES ? AGENT_PORT_SLICES : n ? n : 1;
}

/* Whether a slice is free for one more run: fewer runs are held, cancelled ones included (their
 * engines still send), than there are slices. */
static bool slice_free(const agent_t *a)
{
    return (a->run ? 1 : 0) + a->n_drain < port_slices(a);
}

/* The lease of current_run, or NULL. */
static Lzr__Lease *current_lease(agent_t *a, Lzr__Lease *lease)
{
    shard_run_t *r = current_run(a);
    if (!r)
        return NULL;
    lease->job_id = r->job_id;
    lease->shard = r->shard;
    return lease;
}

/* Records of every run waiting to be batched. */
static size_t queued_records(agent_t *a)
{
    size_t n = a->run ? recqueue_count(a->run->queue) : 0;
    for (size_t i = 0; i < a->n_drain; i++)
        n += recqueue_count(a->drain[i]->queue);
    return n;
}

static void send_hello(agent_t *a)
{
    const agent_options_t *o = a->opt;
    Lzr__Hello h = LZR__HELLO__INIT;
    h.name = (char *)o->name;
    h.version = AGENT_VERSION;
    h.scan_ip = o->scan_ip;
    h.n_fresh_ips = o->n_fresh;
    h.fresh_ips = (uint32_t *)o->fresh;
    ProtobufCBinaryData fresh6[AGENT_MAX_FRESH];
    if (o->scan_ip6.family == ADDR_IPV6)
        h.scan_ip6 = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)o->scan_ip6.v6};
    for (size_t i = 0; i < o->n_fresh6; i++)
        fresh6[i] = (ProtobufCBinaryData){.len = 16, .data = (uint8_t *)o->fresh6[i].v6};
    h.n_fresh_ips6 = o->n_fresh6;
    h.fresh_ips6 = fresh6;
    h.iface = (char *)o->iface;
    h.sport_lo = o->sport_lo;
    h.sport_hi = o->sport_hi;
    h.max_drains = drains_max(a);
    Lzr__Lease lease = LZR__LEASE__INIT;
    h.lease = current_lease(a, &lease);
    a->hello_lease = lease;
    /* Beside it, every draining lease not cancelled: their tails are still ours to finish. */
    Lzr__Lease *named[AGENT_DRAIN_SLOTS];
    a->n_hello_drain = 0;
    for (size_t i = 0; i < a->n_drain && h.lease; i++) {
        shard_run_t *r = a->drain[i];
        if (shard_cancelled(r) || r == current_run(a))
            continue;
        Lzr__Lease *l = &a->hello_drain[a->n_hello_drain];
        lzr__lease__init(l);
        l->job_id = r->job_id;
        l->shard = r->shard;
        named[a->n_hello_drain++] = l;
    }
    h.drain = named;
    h.n_drain = a->n_hello_drain;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    send_env(a, &env);
    a->hello_ms = clock_mono_ms();
}

/* Copies the engine's counters into a heartbeat (in_flight only when with_in_flight). */
static void stats_to_heartbeat(const engine_stats_t *st, Lzr__Heartbeat *hb, bool with_in_flight)
{
    hb->targets_done = st->targets_done;
    hb->targets_total = st->targets_total;
    hb->sent = st->sent;
    hb->syns = st->syns;
    hb->replies = st->replies;
    hb->hits = st->hits;
    if (with_in_flight)
        hb->in_flight = st->in_flight;
    hb->pcap_drops = st->pcap_drops;
    hb->blocked = st->blocked;
    hb->hold_wait_ms = st->hold_wait_ms;
    hb->rx_wait_ms = st->rx_wait_ms;
}

static void send_heartbeat(agent_t *a)
{
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    Lzr__Lease lease = LZR__LEASE__INIT;
    hb.lease = current_lease(a, &lease);
    if (hb.lease) {
        engine_stats_t st;
        shard_progress(current_run(a), &st);
        stats_to_heartbeat(&st, &hb, true);
        hb.walk_done = st.walk_done && slice_free(a); /* the next shard needs ports of its own */
    }
    hb.queued_records = (uint32_t)queued_records(a);
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    send_env(a, &env);
    a->last_hb_ms = clock_mono_ms();
}

/* Takes up to AGENT_BATCH_RECORDS records off run r's queue into one batch in the window, once
 * one is due: a batch holds the records of one shard. */
static void flush_batch(agent_t *a, shard_run_t *r)
{
    if (!r)
        return;
    uint64_t now = clock_mono_ms();
    if (!batchwin_due(a->window, recqueue_count(r->queue), now))
        return;
    size_t n = recqueue_take(r->queue, batchwin_records(a->window), AGENT_BATCH_RECORDS);
    if (n)
        batchwin_add(a->window, r->job_id, r->shard, n, now, a->registered);
}

/* ---- shards ------------------------------------------------------------------------------ */

static void send_shard_done(agent_t *a, uint64_t job, uint32_t shard, const char *error,
                            const engine_stats_t *st)
{
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__Heartbeat hb = LZR__HEARTBEAT__INIT;
    if (st)
        stats_to_heartbeat(st, &hb, false);
    Lzr__ShardDone d = LZR__SHARD_DONE__INIT;
    d.lease = &lease;
    d.stats = &hb;
    d.error = (char *)(error ? error : "");
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SHARD_DONE;
    env.shard_done = &d;
    send_env(a, &env);
}

/* The scan an Assign describes, as a spec: the same target set, port order and handshake
 * lists the coordinator's job parser built, and the job's timings. */
static int spec_from_assign(const Lzr__Assign *m, scan_spec_t *sp, char *err, size_t errlen)
{
    int rc = scan_spec_init(sp);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    rc = scan_spec_targets_from_lists(sp, m->targets, m->n_targets, m->exclude, m->n_exclude,
                                      m->allow_reserved, m->n_allow_reserved, m->allowlist,
                                      m->n_allowlist, err, errlen);
    if (rc == LZR_OK)
        rc = ports_parse(m->ports, &sp->ports, err, errlen);
    if (rc == LZR_OK &&
        (m->n_handshakes > SCAN_SPEC_MAX_NAMES || m->n_fallback > SCAN_SPEC_MAX_NAMES)) {
        snprintf(err, errlen, "more than %d handshake names", SCAN_SPEC_MAX_NAMES);
        rc = LZR_EPROTO;
    }
    for (size_t i = 0; i < m->n_handshakes && rc == LZR_OK; i++)
        snprintf(sp->handshakes.v[sp->handshakes.n++], SCAN_SPEC_NAME_LEN, "%s", m->handshakes[i]);
    for (size_t i = 0; i < m->n_fallback && rc == LZR_OK; i++)
        snprintf(sp->fallback.v[sp->fallback.n++], SCAN_SPEC_NAME_LEN, "%s", m->fallback[i]);
    if (rc != LZR_OK)
        return rc;
    sp->rate = m->rate;
    sp->timeout_ms = m->timeout_ms ? m->timeout_ms : SCAN_DEFAULT_TIMEOUT_MS;
    sp->retransmit_ms = m->retransmit_ms ? m->retransmit_ms : SCAN_DEFAULT_RETRANSMIT_MS;
    sp->retransmit_given = m->retransmit_ms != 0;
    sp->acking_firewall_probes = m->acking_firewall_probes;
    sp->cooldown_ms = m->cooldown_ms;
    sp->max_runtime_ms = m->max_runtime_ms; /* the job's deadline, as the coordinator computed it */
    if (m->n_pairs) { /* a pair list: each pair must be one of the set's addresses */
        sp->pairs = malloc(m->n_pairs * sizeof *sp->pairs);
        if (!sp->pairs) {
            snprintf(err, errlen, "out of memory");
            return LZR_ENOMEM;
        }
        memcpy(sp->pairs, m->pairs, m->n_pairs * sizeof *sp->pairs);
        sp->n_pairs = m->n_pairs;
        for (size_t i = 0; i < m->n_pairs; i++)
            if (!targets_contains(sp->targets, pair_addr(m->pairs[i])) ||
                (i && m->pairs[i] <= m->pairs[i - 1])) {
                snprintf(err, errlen, "pair %zu is outside the job's targets or out of order", i);
                return LZR_EPROTO;
            }
    }
    sp->report_all = m->report_all;
    scan_field_t f;
    char sub[256];
    rc = scan_spec_validate(sp, SCAN_NAMES_KEY, &f, sub, sizeof sub);
    if (rc != LZR_OK)
        snprintf(err, errlen, "%s: %s", scan_field_name(f, SCAN_NAMES_KEY), sub);
    return rc;
}

/* The shard's place in the job's permutation and its own cookie key, checked against the
 * target set this worker built. */
static int place_shard(const Lzr__Assign *m, engine_config_t *c, char *err, size_t errlen)
{
    uint64_t n = targets_count(c->targets) + (c->targets6 ? targets6_count(c->targets6) : 0);
    uint64_t size = c->pairs ? c->n_pairs : n * c->ports->n;
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
    int rc = cookie_key_for_shard(&job_key, m->shard, &c->key);
    if (rc)
        snprintf(err, errlen, "cannot derive the shard's cookie key");
    return rc;
}

/* Builds the engine's configuration from an Assign: Assign → scan spec → engine config, the
 * same path as `lzr-worker scan`, then the shard's place and this host's capture and
 * blocklist. */
static int build_run(const agent_options_t *a, const Lzr__Assign *m, shard_run_t *r, char *err,
                     size_t errlen)
{
    r->job_id = m->job_id;
    r->shard = m->shard;
    scan_vantage_t v = {.source_ip = a->scan_ip,
                        .source_ip6 = a->scan_ip6,
                        .have_gateway_mac = a->have_gateway_mac,
                        .sport_lo = a->sport_lo,
                        .sport_hi = a->sport_hi,
                        .send_path = a->send_path,
                        .send_threads = a->send_threads};
    memcpy(v.iface, a->iface, sizeof v.iface);
    memcpy(v.gateway_mac, a->gateway_mac, sizeof v.gateway_mac);
    int rc = spec_from_assign(m, &r->spec, err, errlen);
    if (rc == LZR_OK)
        rc = scan_config_build(&r->spec, &v, SCAN_NAMES_KEY, &r->cfg, err, errlen);
    if (rc == LZR_OK)
        rc = place_shard(m, &r->cfg, err, errlen);
    if (rc != LZR_OK)
        return rc;
    r->cfg.capture = a->capture;
    /* The host's blocklist, as it is now: an operator's edit applies from the next shard on,
     * and nothing the coordinator sends can lift it. */
    size_t entries = 0;
    rc = optout_load(optout_path(a->blocklist_file, !a->no_default_blocklist), &r->blocklist,
                     &r->blocklist6, &entries, err, errlen);
    if (rc)
        return rc;
    r->cfg.blocklist = r->blocklist;
    r->cfg.blocklist6 = r->blocklist6;
    return LZR_OK;
}

/* Frees run *rp and its record queue, and keeps its capture handle for a later run; sets *rp
 * to NULL. */
static void run_free(agent_t *a, shard_run_t **rp)
{
    shard_run_t *r = *rp;
    if (r) {
        uint64_t now = clock_mono_ms();
        if (r->cfg.capture != a->opt->capture)
            cappool_give(a->pool, &r->cfg.capture, now);
        cappool_give(a->pool, &r->capture_kept, now);
    }
    recqueue_t *q = r ? r->queue : NULL;
    shard_free(rp);
    recqueue_destroy(&q);
}

/* Whether run r has sent every SYN of its shard. */
static bool walk_done(shard_run_t *r)
{
    engine_stats_t st;
    shard_progress(r, &st);
    return st.walk_done;
}

/* Whether a new shard may start now: none runs, or the one running has sent all its SYNs (or
 * was cancelled) and fewer than drains_max others are draining. */
static bool can_start(agent_t *a)
{
    if (!a->run)
        return true;
    return a->n_drain < AGENT_DRAIN_SLOTS && live_drains(a) < drains_max(a) &&
           (walk_done(a->run) || shard_cancelled(a->run));
}

/* Whether a draining run reads the agent's capture: one handle serves one engine. */
static bool capture_lent(const agent_t *a, const struct capture *cap)
{
    for (size_t i = 0; i < a->n_drain && cap; i++)
        if (a->drain[i]->cfg.capture == cap)
            return true;
    return false;
}

/* Whether a run held by the agent uses source ports from lo on. */
static bool ports_taken(const agent_t *a, uint16_t lo)
{
    if (a->run && a->run->cfg.sport_lo == lo)
        return true;
    for (size_t i = 0; i < a->n_drain; i++)
        if (a->drain[i]->cfg.sport_lo == lo)
            return true;
    return false;
}

/* Gives run r the first slice of the agent's source ports that no held run uses. */
static void give_ports(const agent_t *a, shard_run_t *r)
{
    uint32_t lo = a->opt->sport_lo, span = (uint32_t)a->opt->sport_hi - lo + 1;
    uint32_t n = port_slices(a);
    for (uint32_t k = 0; k < n; k++) {
        uint16_t first = (uint16_t)(lo + span * k / n);
        if (!ports_taken(a, first)) {
            r->cfg.sport_lo = first;
            r->cfg.sport_hi = (uint16_t)(lo + span * (k + 1) / n - 1);
            return;
        }
    }
    /* The walk's end is told only with a slice free (agent_turn), so this takes a coordinator
     * that assigned without waiting for it. */
    log_warn("job %llu shard %u: no slice of the source ports is free; it shares all of them",
             (unsigned long long)r->job_id, r->shard);
}

static void on_assign(agent_t *a, const Lzr__Assign *m)
{
    if (!can_start(a)) {
        log_warn("assign of job %llu shard %u while busy: ignored", (unsigned long long)m->job_id,
                 m->shard);
        return;
    }
    shard_run_t *r = shard_new();
    recqueue_t *q = recqueue_new(AGENT_QUEUE_RECORDS);
    char err[512] = "out of memory";
    if (!r || !q || build_run(a->opt, m, r, err, sizeof err) != LZR_OK) {
        log_error("job %llu shard %u: %s", (unsigned long long)m->job_id, m->shard, err);
        send_shard_done(a, m->job_id, m->shard, err, NULL);
        shard_free(&r);
        recqueue_destroy(&q);
        return;
    }
    if (a->run) {
        a->drain[a->n_drain++] = a->run; /* its tails finish beside the new shard's SYNs */
        a->run = NULL;
    }
    /* Two engines cannot read one capture handle: while a draining one has the worker's, the
     * new one borrows one an earlier run left or one opened ahead of need, or opens its own and
     * leaves it for later. */
    const char *how = "the worker's";
    if (capture_lent(a, r->cfg.capture)) {
        how = cappool_count(a->pool)        ? "kept from an earlier run"
              : cappool_warm_ready(a->pool) ? "opened ahead of it"
                                            : "opened for it";
        r->cfg.capture = cappool_take(a->pool);
    }
    r->cfg.capture_kept = &r->capture_kept;
    give_ports(a, r);
    log_info("job %llu (%s) shard %u/%u: positions [%llu, %llu) at %u/s from ports %u-%u; "
             "capture %s",
             (unsigned long long)m->job_id, m->job_name, m->shard, m->n_shards,
             (unsigned long long)m->pos_begin, (unsigned long long)m->pos_end, m->rate,
             r->cfg.sport_lo, r->cfg.sport_hi, how);
    if (shard_start(r, q, a->opt->engine) != LZR_OK) {
        send_shard_done(a, m->job_id, m->shard, "cannot start the engine thread", NULL);
        run_free(a, &r);
        return;
    }
    a->run = r;
    a->walk_told = false;
    /* More shards may come while this one walks: open a handle for the next one now, off its
     * way to its first SYN. Only where the worker has a handle of its own to lend. */
    uint32_t most = port_slices(a) < drains_max(a) + 1 ? port_slices(a) : drains_max(a) + 1;
    if (a->opt->capture && cappool_count(a->pool) == 0 && 1 + live_drains(a) < most)
        cappool_warm(a->pool, a->opt->iface, a->opt->scan_ip, &a->opt->scan_ip6, a->opt->sport_lo,
                     a->opt->sport_hi);
}

static void stop_run(shard_run_t *r, const char *why)
{
    if (!r || shard_cancelled(r))
        return;
    log_info("job %llu shard %u: stopping (%s)", (unsigned long long)r->job_id, r->shard, why);
    shard_cancel(r);
}

/* Stops every run (a signal, the agent's exit). */
static void stop_all(agent_t *a, const char *why)
{
    stop_run(a->run, why);
    for (size_t i = 0; i < a->n_drain; i++)
        stop_run(a->drain[i], why);
}

/* When run *rp's engine has finished and every record of its shard is acked, report the
 * shard and free the run. */
static void reap_run(agent_t *a, shard_run_t **rp)
{
    shard_run_t *r = *rp;
    if (!r)
        return;
    bool drained = recqueue_count(r->queue) == 0 &&
                   batchwin_pending_shard(a->window, r->job_id, r->shard) == 0;
    shard_state_t st = shard_reap(r, drained);
    if (st == SHARD_RUNNING)
        return;
    if (st == SHARD_DONE && !*a->stop) {
        log_info("job %llu shard %u done: %llu SYNs, %llu hits, %llu invalid, %llu pcap drops, "
                 "SYNs held %llu ms for the coordinator, %llu skipped by the host's blocklist, "
                 "first SYN %.1f ms after the engine started",
                 (unsigned long long)r->job_id, r->shard, (unsigned long long)r->stats.syns,
                 (unsigned long long)r->stats.hits, (unsigned long long)r->stats.invalid,
                 (unsigned long long)r->stats.pcap_drops, (unsigned long long)r->stats.hold_wait_ms,
                 (unsigned long long)r->stats.blocked, (double)r->stats.startup.first_syn_us / 1e3);
        send_shard_done(a, r->job_id, r->shard, NULL, &r->stats);
    } else if (st == SHARD_FAILED && !*a->stop) {
        log_error("job %llu shard %u failed: %s", (unsigned long long)r->job_id, r->shard, r->err);
        send_shard_done(a, r->job_id, r->shard, r->err, &r->stats);
    }
    run_free(a, rp);
}

/* Reaps the draining runs, keeping those left in order at the front of the array. */
static void reap_drains(agent_t *a)
{
    size_t kept = 0;
    for (size_t i = 0; i < a->n_drain; i++) {
        reap_run(a, &a->drain[i]);
        if (a->drain[i])
            a->drain[kept++] = a->drain[i];
    }
    for (size_t i = kept; i < a->n_drain; i++)
        a->drain[i] = NULL;
    a->n_drain = kept;
}

/* ---- verification ------------------------------------------------------------------------ */

static void on_verify(agent_t *a, const Lzr__VerifyRequest *m)
{
    if (a->vtask) {
        verify_task_refuse(m, "busy with another verification", send_env_cb, a);
        return;
    }
    char err[256];
    const agent_options_t *o = a->opt;
    lzr_addr_t own[2 + 2 * AGENT_MAX_FRESH];
    size_t n = 0;
    own[n++] = addr_ipv4(o->scan_ip);
    own[n++] = o->scan_ip6;
    for (size_t i = 0; i < o->n_fresh; i++)
        own[n++] = addr_ipv4(o->fresh[i]);
    for (size_t i = 0; i < o->n_fresh6; i++)
        own[n++] = o->fresh6[i];
    a->vtask = verify_task_start(m, own, n, err, sizeof err);
    if (!a->vtask)
        verify_task_refuse(m, err, send_env_cb, a);
}

/* Sends the result of a finished verification task. */
static void reap_verify(agent_t *a)
{
    if (!a->vtask || !verify_task_finished(a->vtask))
        return;
    verify_task_reply(a->vtask, send_env_cb, a);
    verify_task_free(&a->vtask);
}

/* ---- messages ---------------------------------------------------------------------------- */

/* The run (scanning or draining) of the shard lease names, or NULL. */
static shard_run_t *run_of(const agent_t *a, const Lzr__Lease *lease)
{
    if (!lease)
        return NULL;
    if (a->run && lease->job_id == a->run->job_id && lease->shard == a->run->shard)
        return a->run;
    for (size_t i = 0; i < a->n_drain; i++)
        if (lease->job_id == a->drain[i]->job_id && lease->shard == a->drain[i]->shard)
            return a->drain[i];
    return NULL;
}

static void on_welcome(agent_t *a, const Lzr__Welcome *w)
{
    a->registered = true;
    a->heartbeat_ms = w->heartbeat_ms ? w->heartbeat_ms : 1000;
    if (a->heartbeat_ms > 5000)
        a->heartbeat_ms = 5000;
    log_info("registered with %s as %s", a->opt->endpoint, a->opt->name);
    /* The Hello claimed current_run's lease and the draining ones beside it; the coordinator
     * let go of any it did not keep (a missing drain_kept entry is one it did not). */
    if (a->hello_lease.job_id && !w->lease_kept)
        stop_run(run_of(a, &a->hello_lease), "the coordinator gave the shard away");
    for (size_t i = 0; i < a->n_hello_drain; i++)
        if (!(i < w->n_drain_kept && w->drain_kept[i]))
            stop_run(run_of(a, &a->hello_drain[i]), "the coordinator gave the shard away");
    batchwin_resend_all(a->window); /* re-send everything unacked now */
}

/* Returns -1 when the agent must give up (a fatal refusal). */
static int on_refuse(agent_t *a, const Lzr__Refuse *r)
{
    if (r->fatal) {
        snprintf(a->fatal, a->fatal_len, "the coordinator refused this worker: %s", r->reason);
        return -1;
    }
    /* Every message of ours the restarted coordinator saw gets a Refuse; one Hello a second
     * answers them all. */
    if (a->registered || clock_mono_ms() - a->hello_ms >= 1000) {
        log_info("coordinator asks to register again (%s)", r->reason);
        a->registered = false;
        send_hello(a);
    }
    return 0;
}

/* Returns -1 when the agent must give up (fatal refusal). */
static int on_message(agent_t *a)
{
    Lzr__Envelope *env = NULL;
    char err[256];
    if (wire_recv(a->sock, NULL, NULL, &env, err, sizeof err) != LZR_OK) {
        log_warn("dropped a malformed message from the coordinator: %s", err);
        return 0;
    }
    int rc = 0;
    shard_run_t *r;
    switch (env->body_case) {
    case LZR__ENVELOPE__BODY_WELCOME:
        on_welcome(a, env->welcome);
        break;
    case LZR__ENVELOPE__BODY_REFUSE:
        rc = on_refuse(a, env->refuse);
        break;
    case LZR__ENVELOPE__BODY_ASSIGN:
        on_assign(a, env->assign);
        break;
    case LZR__ENVELOPE__BODY_ACK:
        batchwin_ack(a->window, env->ack->seq);
        break;
    case LZR__ENVELOPE__BODY_VERIFY:
        on_verify(a, env->verify);
        break;
    case LZR__ENVELOPE__BODY_SET_RATE:
        if ((r = run_of(a, env->set_rate->lease)) && env->set_rate->rate) {
            atomic_store(&r->ctl.rate, env->set_rate->rate);
            log_info("job %llu shard %u: rate now %u/s", (unsigned long long)r->job_id, r->shard,
                     env->set_rate->rate);
        }
        break;
    case LZR__ENVELOPE__BODY_CANCEL:
        stop_run(run_of(a, env->cancel->lease), env->cancel->reason);
        break;
    default:
        log_warn("unexpected %s message from the coordinator", wire_body_name(env->body_case));
    }
    wire_free(&env);
    return rc;
}

/* A CURVE handshake the coordinator's authenticator rejected shows up only on a socket monitor;
 * without it the DEALER would retry silently forever. Returns -1 to give up. */
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
            snprintf(a->fatal, a->fatal_len,
                     "the coordinator at %s refused this worker's key (ZAP status %u): add its "
                     "public key (the coordinator's keys/workers/%s.key) and retry",
                     a->opt->endpoint, value, a->opt->name);
            rc = -1;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            log_warn("CURVE handshake with %s failed (event %u, %u): does this worker have the "
                     "coordinator's public key?",
                     a->opt->endpoint, event, value);
        }
    }
    zmsg_destroy(&msg);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------------- */

/* The worker's key pair and the coordinator's public key from keys_dir, applied to the socket:
 * the one place the agent reads the key files. */
static int apply_keys(agent_t *a, char *err, size_t errlen)
{
    const char *dir = a->opt->keys_dir;
    char path[4096];
    snprintf(path, sizeof path, "%s/worker.key", dir);
    zcert_t *mine = zcert_load(path);
    snprintf(path, sizeof path, "%s/coordinator.key", dir);
    zcert_t *server = zcert_load(path);
    int rc = LZR_OK;
    if (!mine || !server) {
        snprintf(err, errlen,
                 "%s: cannot load worker.key(_secret) and coordinator.key (make them with "
                 "`lzr-coord keygen DIR %s` and copy DIR/%s/ here)",
                 dir, a->opt->name, a->opt->name);
        rc = LZR_EINVAL;
    } else {
        zcert_apply(mine, a->sock);
        zsock_set_curve_serverkey(a->sock, zcert_public_txt(server));
    }
    zcert_destroy(&mine);
    zcert_destroy(&server);
    return rc;
}

static int setup_socket(agent_t *a, char *err, size_t errlen)
{
    a->sock = zsock_new(ZMQ_DEALER);
    if (!a->sock) {
        snprintf(err, errlen, "cannot create a ZeroMQ socket");
        return LZR_ESYS;
    }
    zsock_set_linger(a->sock, 0);
    zsock_set_sndtimeo(a->sock, 1000);
    zsock_set_maxmsgsize(a->sock, LZR_WIRE_MAX_BYTES + 1024);
    zsock_set_reconnect_ivl(a->sock, 500);
    zsock_set_reconnect_ivl_max(a->sock, 5000);
    if (a->opt->keys_dir && apply_keys(a, err, errlen) != LZR_OK)
        return LZR_EINVAL;
    char mon[64];
    snprintf(mon, sizeof mon, "inproc://lzr-agent-monitor-%p", (void *)a);
    if (zmq_socket_monitor(zsock_resolve(a->sock), mon,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0) {
        a->monitor = zsock_new_pair(mon);
    }
    if (zsock_connect(a->sock, "%s", a->opt->endpoint) < 0) {
        snprintf(err, errlen, "cannot connect to %s: %s", a->opt->endpoint,
                 zmq_strerror(zmq_errno()));
        return LZR_EINVAL;
    }
    return LZR_OK;
}

/* One turn of the loop: messages, then what is due. Returns -1 to give up. */
static int agent_turn(agent_t *a, zpoller_t *poller)
{
    void *which = zpoller_wait(poller, 50);
    if (which == a->sock) {
        for (int i = 0; i < 64 && (zsock_events(a->sock) & ZMQ_POLLIN); i++)
            if (on_message(a) < 0)
                return -1;
    } else if (a->monitor && which == a->monitor) {
        if (check_monitor(a) < 0)
            return -1;
    }
    uint64_t now = clock_mono_ms();
    if (!a->registered && now - a->hello_ms >= HELLO_RETRY_MS)
        send_hello(a);
    /* The end of a walk is told at once, or once a slice of the source ports frees up for the
     * next shard: the coordinator's next shard waits for it. */
    bool walked = a->run && !a->walk_told && walk_done(a->run) && slice_free(a);
    if (a->registered && (walked || now - a->last_hb_ms >= a->heartbeat_ms)) {
        send_heartbeat(a);
        a->walk_told |= walked;
    }
    for (size_t i = 0; i < a->n_drain; i++)
        flush_batch(a, a->drain[i]);
    flush_batch(a, a->run);
    if (a->registered)
        batchwin_resend_due(a->window, clock_mono_ms());
    size_t closed = cappool_expire(a->pool, now);
    if (closed)
        log_debug("closed %zu capture handle%s idle for %d s", closed, closed == 1 ? "" : "s",
                  CAPPOOL_IDLE_MS / 1000);
    reap_drains(a);
    reap_run(a, &a->run);
    if (a->registered)
        reap_verify(a);
    return 0;
}

/* Registers and serves until a stop (plus the grace for unacked batches) or a fatal refusal. */
static int agent_loop(agent_t *a)
{
    char ip[16];
    log_info("worker %s: scan ip %s on %s, coordinator %s", a->opt->name,
             targets_ntoa(a->opt->scan_ip, ip), a->opt->iface, a->opt->endpoint);
    send_hello(a);
    zpoller_t *poller =
        a->monitor ? zpoller_new(a->sock, a->monitor, NULL) : zpoller_new(a->sock, NULL);
    uint64_t stop_at = 0;
    int rc = LZR_OK;
    for (;;) {
        if (*a->stop && !stop_at) {
            stop_all(a, "signal");
            stop_at = clock_mono_ms();
        }
        /* After a stop: give unacked batches a few seconds, then go. */
        if (stop_at &&
            (batchwin_pending(a->window) == 0 || clock_mono_ms() - stop_at > STOP_GRACE_MS))
            break;
        if (agent_turn(a, poller) < 0) {
            rc = LZR_EPERM;
            break;
        }
    }
    zpoller_destroy(&poller);
    stop_all(a, "exit");
    for (size_t i = 0; i <= a->n_drain; i++) {
        shard_run_t **rp = i < a->n_drain ? &a->drain[i] : &a->run;
        if (*rp)
            shard_stop_join(*rp);
        run_free(a, rp);
    }
    a->n_drain = 0;
    verify_task_free(&a->vtask); /* waits for its thread, bounded by its timeouts */
    return rc;
}

int agent_run(const agent_options_t *opt, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    agent_t a = {.opt = opt, .stop = stop, .heartbeat_ms = 1000, .fatal = err, .fatal_len = errlen};
    int rc = LZR_ENOMEM;
    a.window = batchwin_new(AGENT_WINDOW, AGENT_BATCH_RECORDS, send_raw_cb, &a);
    a.pool = cappool_new(drains_max(&a));
    if (!a.window || !a.pool)
        snprintf(err, errlen, "out of memory");
    else if ((rc = setup_socket(&a, err, errlen)) == LZR_OK)
        rc = agent_loop(&a);
    batchwin_destroy(&a.window);
    cappool_destroy(&a.pool);
    zsock_destroy(&a.monitor);
    zsock_destroy(&a.sock);
    return rc;
}
