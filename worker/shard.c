/*
 * shard: the engine thread and its two callbacks. emit puts each record in the agent's queue
 * (and, when that takes the queue over its high-water mark, says so in the log once per stall);
 * tick keeps the counters for the agent's heartbeats.
 */
#include "worker/shard.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#include <stdlib.h>

shard_run_t *shard_new(void)
{
    shard_run_t *r = calloc(1, sizeof *r);
    if (r)
        pthread_mutex_init(&r->lock, NULL);
    return r;
}

void shard_free(shard_run_t **rp)
{
    shard_run_t *r = *rp;
    if (!r)
        return;
    scan_spec_free(&r->spec);
    targets_destroy(&r->blocklist);
    targets6_destroy(&r->blocklist6);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *rp = NULL;
}

static void emit_record(void *ctx, const lzr_record_t *rec)
{
    shard_run_t *r = ctx;
    pthread_mutex_lock(&r->lock);
    bool cancelled = r->cancelled;
    pthread_mutex_unlock(&r->lock);
    if (cancelled)
        return;
    /* Past half the ring, no new SYNs: the connections in flight finish into the rest and,
     * should they need more, into the spill list. */
    if (recqueue_push(r->queue, rec, &r->ctl.stop) &&
        clock_mono_ms() - r->full_logged_ms >= 10000) {
        r->full_logged_ms = clock_mono_ms();
        log_info("%zu records wait for the coordinator's acks: new SYNs wait until it "
                 "catches up",
                 recqueue_count(r->queue));
    }
}

static void tick_stats(void *ctx, const engine_stats_t *s)
{
    shard_run_t *r = ctx;
    pthread_mutex_lock(&r->lock);
    r->last_stats = *s;
    pthread_mutex_unlock(&r->lock);
}

static void *engine_thread(void *arg)
{
    shard_run_t *r = arg;
    int rc =
        r->engine(&r->cfg, &r->ctl, emit_record, tick_stats, r, &r->stats, r->err, sizeof r->err);
    pthread_mutex_lock(&r->lock);
    r->rc = rc;
    r->finished = true;
    r->last_stats = r->stats;
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int shard_start(shard_run_t *r, recqueue_t *q, shard_engine_fn engine)
{
    r->queue = q;
    r->engine = engine ? engine : engine_run;
    recqueue_attach_hold(q, &r->ctl.hold);
    if (pthread_create(&r->thread, NULL, engine_thread, r) != 0) {
        recqueue_attach_hold(q, NULL);
        return LZR_ESYS;
    }
    return LZR_OK;
}

void shard_cancel(shard_run_t *r)
{
    pthread_mutex_lock(&r->lock);
    r->cancelled = true;
    atomic_store(&r->ctl.stop, 1);
    pthread_mutex_unlock(&r->lock);
    recqueue_wake(r->queue);
}

bool shard_cancelled(shard_run_t *r)
{
    pthread_mutex_lock(&r->lock);
    bool c = r->cancelled;
    pthread_mutex_unlock(&r->lock);
    return c;
}

void shard_progress(shard_run_t *r, engine_stats_t *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->last_stats;
    pthread_mutex_unlock(&r->lock);
}

shard_state_t shard_reap(shard_run_t *r, bool drained)
{
    pthread_mutex_lock(&r->lock);
    bool finished = r->finished, cancelled = r->cancelled;
    pthread_mutex_unlock(&r->lock);
    if (!finished || (!cancelled && !drained))
        return SHARD_RUNNING; /* scanning, or still shipping results */
    pthread_join(r->thread, NULL);
    if (cancelled)
        recqueue_clear(r->queue); /* records of a cancelled shard are dropped */
    recqueue_attach_hold(r->queue, NULL);
    if (cancelled)
        return SHARD_CANCELLED;
    return r->rc == LZR_OK ? SHARD_DONE : SHARD_FAILED;
}

void shard_stop_join(shard_run_t *r)
{
    shard_cancel(r);
    pthread_join(r->thread, NULL);
    recqueue_attach_hold(r->queue, NULL);
}
