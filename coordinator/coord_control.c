/*
 * coord_control: the requests of the command line on the control socket: submit, status,
 * workers, cancel and revoke. Each gets one reply; a malformed request gets an error reply.
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

#include <sodium.h>
/* ---- control messages -------------------------------------------------------------------- */

/* Sends msg, a reply of type body, to the requester rid. */
static void reply(coord_t *c, zframe_t *rid, Lzr__Envelope__BodyCase body, void *msg)
{
    Lzr__Envelope env = wire_envelope(body, msg);
    char err[256];
    wire_send(c->control, rid, &env, err, sizeof err);
}

/* Replies msg: as an OkReply when code is LZR_OK, else as an ErrorReply carrying code. */
static void reply_text(coord_t *c, zframe_t *rid, int code, const char *msg)
{
    Lzr__OkReply ok = LZR__OK_REPLY__INIT;
    Lzr__ErrorReply e = LZR__ERROR_REPLY__INIT;
    ok.message = e.message = (char *)msg;
    e.code = code;
    if (code == LZR_OK)
        reply(c, rid, LZR__ENVELOPE__BODY_OK, &ok);
    else
        reply(c, rid, LZR__ENVELOPE__BODY_ERROR, &e);
}

static void on_submit(coord_t *c, zframe_t *rid, const Lzr__SubmitRequest *r)
{
    char err[1024];
    const char *fname = r->filename && r->filename[0] ? r->filename : "job.toml";
    size_t len = strlen(r->job_toml);
    if (len > JOB_MAX_FILE_BYTES) {
        snprintf(err, sizeof err, "%s: larger than 1 MiB (%u bytes)", fname, JOB_MAX_FILE_BYTES);
        reply_text(c, rid, LZR_ERANGE, err);
        return;
    }
    job_spec_t *j = job_parse(r->job_toml, len, fname, err, sizeof err);
    if (!j) {
        reply_text(c, rid, LZR_EPARSE, err);
        return;
    }
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    seed &= INT64_MAX;
    store_job_t row;
    memset(&row, 0, sizeof row);
    int rc = job_plan(j, seed, (uint32_t)session_count(c), &row.perm, err, sizeof err);
    if (rc) {
        job_destroy(&j);
        reply_text(c, rid, rc, err);
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
    row.size6 = targets6_count(j->set6) * j->ports.n;
    row.span = j->span;
    row.created_us = clock_wall_us();
    uint64_t id = 0;
    rc = store_job_insert(c->store, &row, &id, err, sizeof err);
    uint32_t shards = j->shards * j->compare;
    uint64_t probes = j->probes;
    job_destroy(&j);
    if (rc) {
        reply_text(c, rid, rc, err);
        return;
    }
    log_info("job %llu (%s) submitted: %llu of %llu targets in %u shards at %u/s, about %.0f s",
             (unsigned long long)id, row.name, (unsigned long long)probes,
             (unsigned long long)row.size, shards, row.rate,
             (double)probes / (row.rate ? row.rate : 1));
    Lzr__SubmitReply rep = LZR__SUBMIT_REPLY__INIT;
    rep.job_id = id;
    rep.n_shards = shards;
    reply(c, rid, LZR__ENVELOPE__BODY_SUBMIT_REPLY, &rep);
    sched_run(c);
}

/* The scanning phase of a running job; a job of several passes needs as many scan IPs, and
 * says so while fewer are connected (the passes that lack one wait). Returns a constant or
 * phase, which the caller gives. */
static const char *passes_phase(coord_t *c, const store_job_t *row, char *phase, size_t cap)
{
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
    snprintf(phase, cap, "scanning; %u of %u scan IPs connected, passes that need another wait",
             (unsigned)n, (unsigned)row->passes);
    return phase;
}

/* The store's counts of a job for its status; *positions gets the cycle positions of its done
 * shards, *probes the pairs the job scans. LZR_EDB when one of them cannot be read: status
 * shows no made-up zero. */
static int status_counts(coord_t *c, const store_job_t *row, Lzr__JobStatus *js,
                         uint64_t *positions, uint64_t *probes)
{
    uint64_t results, cand, verdicts;
    if (store_shard_counts(c->store, row->id, &js->shards_pending, &js->shards_leased,
                           &js->shards_done) != LZR_OK ||
        store_result_count(c->store, row->id, &results) != LZR_OK ||
        store_positions_done(c->store, row->id, positions) != LZR_OK ||
        store_candidate_count(c->store, row->id, jobrt_port_count(c, row, probes), &cand) !=
            LZR_OK ||
        store_verdict_count(c->store, row->id, &verdicts) != LZR_OK)
        return LZR_EDB;
    js->results = results;
    js->verify_candidates = (uint32_t)cand;
    js->verify_done = (uint32_t)verdicts;
    return LZR_OK;
}

static int fill_status(coord_t *c, uint64_t id, Lzr__JobStatus *js, Lzr__WorkerProgress *wp,
                       Lzr__WorkerProgress **wpp, size_t max_wp)
{
    store_job_t row;
    lzr__job_status__init(js);
    uint64_t positions, probes;
    int rc = store_job_get(c->store, id, &row);
    if (rc != LZR_OK)
        return rc == LZR_ENOTFOUND ? LZR_OK : rc;
    if (status_counts(c, &row, js, &positions, &probes) != LZR_OK) {
        store_job_clear(&row);
        return LZR_EDB;
    }
    js->job_id = id;
    js->name = strdup(row.name);
    js->state = strdup(row.state);
    uint32_t all_shards = row.n_shards * row.passes;
    js->shards_total = all_shards;
    js->targets_total = probes;
    js->rate = row.rate;
    js->created_us = row.created_us;
    double cycle = row.span > 1 ? (double)row.span : 1.0;
    double done = (double)positions / cycle / row.passes;
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
    char phase[128];
    js->phase = strdup(strcmp(row.state, "running") != 0 ? ""
                       : scanned                         ? "verifying"
                                 : passes_phase(c, &row, phase, sizeof phase));
    char reason[512];
    store_job_reason(c->store, id, reason, sizeof reason);
    js->reason = strdup(reason);
    if (strcmp(row.state, "running") == 0 && scanned) {
        js->targets_done = probes;
    } else if (strcmp(row.state, "running") == 0) {
        double rate = pps > 0 ? pps : row.rate;
        js->eta_s = (double)(probes - js->targets_done) / rate;
    }
    store_job_clear(&row);
    return LZR_OK;
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
            reply_text(c, rid, LZR_ENOTFOUND, msg);
            return;
        }
        store_job_clear(&row);
        ids = malloc(sizeof *ids);
        if (!ids)
            return;
        ids[0] = r->job_id;
        n = 1;
    } else if (store_job_ids(c->store, NULL, &ids, &n) != LZR_OK) {
        reply_text(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    Lzr__JobStatus *js = calloc(n ? n : 1, sizeof *js);
    Lzr__JobStatus **jsp = calloc(n ? n : 1, sizeof *jsp);
    Lzr__WorkerProgress *wp = calloc((n ? n : 1) * 64, sizeof *wp);
    Lzr__WorkerProgress **wpp = calloc((n ? n : 1) * 64, sizeof *wpp);
    int rc = js && jsp && wp && wpp ? LZR_OK : LZR_ENOMEM;
    for (size_t i = 0; i < n && rc == LZR_OK; i++) {
        rc = fill_status(c, ids[i], &js[i], &wp[i * 64], &wpp[i * 64], 64);
        jsp[i] = &js[i];
    }
    if (rc != LZR_OK)
        reply_text(c, rid, rc, rc == LZR_EDB ? store_errmsg(c->store) : lzr_strerror(rc));
    if (rc == LZR_OK) {
        Lzr__StatusReply rep = LZR__STATUS_REPLY__INIT;
        rep.n_jobs = n;
        rep.jobs = jsp;
        reply(c, rid, LZR__ENVELOPE__BODY_STATUS_REPLY, &rep);
    }
    for (size_t i = 0; js && i < n; i++) {
        free(js[i].name);
        free(js[i].state);
        free(js[i].phase);
        free(js[i].reason);
    }
    free(js);
    free(jsp);
    free(wp);
    free(wpp);
    free(ids);
}

/* The reply's rows live in c->workers_reply, which only this reply uses. */
static void on_workers(coord_t *c, zframe_t *rid)
{
    Lzr__WorkerInfo *info = c->workers_reply.info;
    Lzr__WorkerInfo **infop = c->workers_reply.infop;
    Lzr__Lease *leases = c->workers_reply.leases;
    uint32_t(*fresh)[16] = c->workers_reply.fresh;
    size_t n = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS; i++) {
        session_t *s = &c->sessions[i];
        if (!s->used)
            continue;
        lzr__worker_info__init(&info[n]);
        info[n].name = s->name;
        info[n].scan_ip = s->scan_ip;
        if (s->scan_ip6.family == ADDR_IPV6)
            info[n].scan_ip6 = (ProtobufCBinaryData){.len = 16, .data = s->scan_ip6.v6};
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
        info[n].draining = (uint32_t)session_drain_count(s);
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
    reply(c, rid, LZR__ENVELOPE__BODY_WORKERS_REPLY, &rep);
}

static void on_cancel_job(coord_t *c, zframe_t *rid, const Lzr__CancelRequest *r)
{
    store_job_t row;
    char msg[128];
    if (store_job_get(c->store, r->job_id, &row) != LZR_OK) {
        snprintf(msg, sizeof msg, "no job %llu", (unsigned long long)r->job_id);
        reply_text(c, rid, LZR_ENOTFOUND, msg);
        return;
    }
    bool final = strcmp(row.state, "done") == 0 || strcmp(row.state, "cancelled") == 0;
    snprintf(msg, sizeof msg, "job %llu is already %s", (unsigned long long)r->job_id, row.state);
    store_job_clear(&row);
    if (final) {
        reply_text(c, rid, LZR_EINVAL, msg);
        return;
    }
    if (jobs_cancel(c, r->job_id, "cancelled by the operator") != LZR_OK) {
        reply_text(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    snprintf(msg, sizeof msg, "job %llu cancelled", (unsigned long long)r->job_id);
    reply_text(c, rid, LZR_OK, msg);
    sched_run(c);
}

/* `lzr-coord revoke NAME`: the name is free for another key; a live session under it ends. */
static void on_revoke(coord_t *c, zframe_t *rid, const Lzr__RevokeRequest *r)
{
    char msg[256];
    session_t *s = r->name ? session_by_name(c, r->name) : NULL;
    int rc = r->name ? store_worker_revoke(c->store, r->name) : LZR_ENOTFOUND;
    if (rc == LZR_ENOTFOUND && !s) {
        snprintf(msg, sizeof msg, "no worker named \"%s\"", r->name ? r->name : "");
        reply_text(c, rid, LZR_ENOTFOUND, msg);
        return;
    }
    if (rc == LZR_EDB) {
        reply_text(c, rid, LZR_EDB, store_errmsg(c->store));
        return;
    }
    if (s) {
        session_cancel_leases(c, s, 0, "worker revoked");
        zframe_t *to = zframe_new(s->rid, s->rid_len);
        peer_refuse(c, to, "this worker name was revoked by the operator", true);
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
    reply_text(c, rid, LZR_OK, msg);
    sched_run(c);
}

void control_on_message(coord_t *c)
{
    zframe_t *rid = NULL;
    Lzr__Envelope *env = NULL;
    char err[256];
    if (wire_recv(c->control, &rid, NULL, &env, err, sizeof err) != LZR_OK) {
        c->malformed++;
        if (rid)
            reply_text(c, rid, LZR_EPROTO, err);
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
        reply_text(c, rid, LZR_EPROTO, "not a control request");
    }
    wire_free(&env);
    zframe_destroy(&rid);
}
