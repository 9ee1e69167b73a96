/*
 * shard: one shard the coordinator assigned, run by the probe engine on a thread of its own.
 * The agent fills in the engine configuration and what it points to (build_run in agent.c),
 * then starts the run; the engine's records go into the agent's queue (worker/recqueue.h),
 * whose watermarks hold the engine's SYN walk. The agent cancels a run (Cancel, a lost lease,
 * a signal) and reaps it once the engine has returned and, unless cancelled, every record is
 * acked. Owns the targets, ports and blocklist the configuration points to; no I/O but the
 * engine's.
 */
#ifndef LZR_SHARD_H
#define LZR_SHARD_H

#include "common/scan_spec.h"
#include "worker/engine.h"
#include "worker/recqueue.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/* What runs a shard: engine_run, or what a test puts in its place. */
typedef int (*shard_engine_fn)(const engine_config_t *cfg, engine_control_t *ctl,
                               engine_emit_fn emit, engine_tick_fn tick, void *ctx,
                               engine_stats_t *stats, char *err, size_t errlen);

typedef struct shard_run {
    /* filled in before shard_start */
    engine_config_t cfg;
    scan_spec_t spec;       /* the Assign's scan: targets and ports the engine borrows */
    targets_t *blocklist;   /* the host's own, or NULL */
    targets6_t *blocklist6; /* its IPv6 entries, or NULL */
    uint64_t job_id;
    uint32_t shard;
    /* the run's own */
    struct capture *capture_kept; /* the handle its engine opened, left for the agent's pool */
    pthread_t thread;
    engine_control_t ctl; /* stop, hold and the coordinator's rate changes */
    pthread_mutex_t lock; /* cancelled, finished, rc, last_stats */
    bool cancelled;
    bool finished; /* the engine returned */
    int rc;
    char err[512];
    engine_stats_t stats;      /* the final counters, once finished */
    engine_stats_t last_stats; /* the counters of the last tick */
    recqueue_t *queue;
    shard_engine_fn engine;
    uint64_t full_logged_ms; /* when a full queue was last logged (one line per stall) */
} shard_run_t;

typedef enum {
    SHARD_RUNNING,   /* the engine runs, or its records are still being shipped */
    SHARD_DONE,      /* finished; every record acked */
    SHARD_FAILED,    /* the engine returned an error (in ->err) */
    SHARD_CANCELLED, /* cancelled; its queued records were dropped */
} shard_state_t;

/* A zeroed run; NULL when out of memory. */
shard_run_t *shard_new(void);

/* Frees the run and what it owns (its thread must be joined or never started); sets *rp to
 * NULL. */
void shard_free(shard_run_t **rp);

/* Starts engine (engine_run when NULL) on the run's configuration on a new thread; its records
 * go into q, whose watermarks drive the run's `hold`. Returns LZR_OK or LZR_ESYS. */
int shard_start(shard_run_t *r, recqueue_t *q, shard_engine_fn engine);

/* Stops the run: the engine returns soon, and records it emits from now on are dropped. */
void shard_cancel(shard_run_t *r);

/* Whether the run was cancelled. */
bool shard_cancelled(shard_run_t *r);

/* The counters of the engine's last tick (all zero before the first). */
void shard_progress(shard_run_t *r, engine_stats_t *out);

/* Where the run stands; drained says whether every record the agent took is acked. Once it
 * returns anything but SHARD_RUNNING the thread is joined, the queue let go (and emptied when
 * cancelled) and the run can be freed. */
shard_state_t shard_reap(shard_run_t *r, bool drained);

/* Cancels the run and waits for its engine to return (the agent's exit). */
void shard_stop_join(shard_run_t *r);

#endif
