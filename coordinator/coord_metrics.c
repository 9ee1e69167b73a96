/*
 * coord_metrics — the coordinator's side of `serve --metrics`: once a second the loop copies
 * what it knows (jobs by state, shards, verification, records stored, batch retries, each
 * worker's heartbeat counters) into a snapshot that metrics.c's HTTP thread serves.
 */
#include "coordinator/coord_int.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>

/* The store's part of the snapshot: jobs by state, the running jobs' shards and the
 * verification under way. A count the store cannot give stays at 0. */
static void snapshot_store(coord_t *c, metrics_snapshot_t *m)
{
    static const char *const states[METRICS_JOB_STATES] = {"waiting", "running", "done",
                                                           "cancelled"};
    m->shards_pending = m->shards_leased = m->shards_done = 0;
    for (int i = 0; i < METRICS_JOB_STATES; i++) {
        uint64_t *ids = NULL;
        size_t n = 0;
        m->jobs[i] = 0;
        if (store_job_ids(c->store, states[i], &ids, &n) != LZR_OK)
            continue;
        m->jobs[i] = n;
        for (size_t k = 0; i == METRICS_RUNNING && k < n; k++) {
            uint32_t p = 0, l = 0, d = 0;
            if (store_shard_counts(c->store, ids[k], &p, &l, &d) == LZR_OK) {
                m->shards_pending += p;
                m->shards_leased += l;
                m->shards_done += d;
            }
        }
        free(ids);
    }
    m->verify_job = c->verify ? verify_job_id(c->verify) : 0;
    m->verify_candidates = m->verify_done = 0;
    job_rt_t *j = m->verify_job ? jobrt_find(c, m->verify_job) : NULL;
    uint64_t done = 0, left = 0;
    if (j && store_verdict_count(c->store, m->verify_job, &done) == LZR_OK &&
        store_candidate_count(c->store, m->verify_job, jobrt_port_count(c, &j->row, NULL), &left) ==
            LZR_OK) { /* candidates are the hosts still without a verdict */
        m->verify_done = done;
        m->verify_candidates = left + done;
    }
}

int coord_metrics_setup(coord_t *c, char *err, size_t errlen)
{
    c->snap = calloc(1, sizeof *c->snap);
    if (!c->snap) {
        snprintf(err, errlen, "out of memory");
        return LZR_ENOMEM;
    }
    c->metrics = metrics_start(c->opt->metrics, err, errlen);
    return c->metrics ? LZR_OK : LZR_ESYS;
}

void coord_metrics_publish(coord_t *c, uint64_t now)
{
    if (!c->metrics || now - c->snap_us < 1000000u)
        return;
    metrics_snapshot_t *m = c->snap;
    snapshot_store(c, m);
    if (c->snap_us)
        m->records_per_s =
            (double)(c->records_stored - c->snap_records) * 1e6 / (double)(now - c->snap_us);
    c->snap_us = now;
    c->snap_records = c->records_stored;
    m->records_stored = c->records_stored;
    m->batches_stored = c->batches_stored;
    m->batches_failed = c->batches_failed;
    m->batch_retries = c->batch_retries;
    m->malformed = c->malformed;
    m->untrusted = c->untrusted;
    m->n_workers = 0;
    for (size_t i = 0; i < COORD_MAX_SESSIONS && m->n_workers < METRICS_MAX_WORKERS; i++) {
        const session_t *s = &c->sessions[i];
        if (!s->used)
            continue;
        metrics_worker_t *w = &m->workers[m->n_workers++];
        snprintf(w->name, sizeof w->name, "%s", s->name);
        w->packets_per_s = s->has_lease ? s->pps : 0;
        w->rate = s->has_lease ? s->rate : 0;
        w->total = metrics_tally_total(&s->tally);
    }
    metrics_publish(c->metrics, m);
}
