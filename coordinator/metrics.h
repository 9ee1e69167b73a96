/*
 * metrics: what `lzr-coord serve --metrics ADDR` shows to Prometheus. The coordinator's loop
 * fills a metrics_snapshot_t from its own state and the store and publishes it; an HTTP server
 * (libmicrohttpd, its own thread) answers GET /metrics by rendering the last published snapshot
 * in the text exposition format. The HTTP thread reads nothing but the snapshot, which a mutex
 * guards, so it never touches the store or the loop's state. docs/monitoring.md lists the
 * metrics.
 */
#ifndef LZR_METRICS_H
#define LZR_METRICS_H

#include "proto/lzr.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_WORKERS 1024

/* The counters a worker reports in its heartbeats (per shard: they restart with each lease). */
typedef struct metrics_counters {
    uint64_t sent, syns, replies, hits, pcap_drops, blocked, hold_wait_ms, rx_wait_ms;
} metrics_counters_t;

/* A worker's counters summed over its leases: the shards it finished or lost (base) and the
 * one under way (cur, as last reported). */
typedef struct metrics_tally {
    metrics_counters_t base, cur;
    uint64_t job;
    uint32_t shard;
} metrics_tally_t;

/* Notes the counters of job's shard as a heartbeat (or ShardDone) reported them. */
void metrics_tally_note(metrics_tally_t *t, uint64_t job, uint32_t shard, const Lzr__Heartbeat *hb);

/* A pipelined worker's earlier shard ended (ShardDone) after the tally moved on to its next
 * shard: what the final counters hb add to `seen`, the shard's counters when the tally left it,
 * goes into base. */
void metrics_tally_late(metrics_tally_t *t, const metrics_counters_t *seen,
                        const Lzr__Heartbeat *hb);

/* The worker's counters since its session began. */
metrics_counters_t metrics_tally_total(const metrics_tally_t *t);

typedef struct metrics_worker {
    char name[64];
    double packets_per_s; /* frames sent per second, measured from its heartbeats */
    uint32_t rate;        /* the SYN rate it was given for its shard; 0 when idle */
    metrics_counters_t total;
} metrics_worker_t;

enum { METRICS_WAITING, METRICS_RUNNING, METRICS_DONE, METRICS_CANCELLED, METRICS_JOB_STATES };

typedef struct metrics_snapshot {
    uint64_t jobs[METRICS_JOB_STATES];
    uint64_t shards_pending, shards_leased, shards_done; /* over the running jobs */
    uint64_t records_stored;                             /* since the coordinator started */
    double records_per_s;
    uint64_t batches_stored, batch_retries, batches_failed;
    uint64_t malformed, untrusted;
    uint64_t verify_job; /* the job under verification; 0 when none */
    uint64_t verify_candidates, verify_done;
    size_t n_workers;
    metrics_worker_t workers[METRICS_MAX_WORKERS];
} metrics_snapshot_t;

/* Writes s in the Prometheus text exposition format (version 0.0.4) to out. Returns 0, or
 * LZR_EIO when out fails. */
int metrics_render(FILE *out, const metrics_snapshot_t *s);

typedef struct metrics metrics_t;

/* Starts serving /metrics on addr: "HOST:PORT", "[V6HOST]:PORT" or ":PORT" (every address).
 * Until the first metrics_publish the page says so with a 503. NULL, with the reason in err,
 * when addr is malformed or cannot be bound. */
metrics_t *metrics_start(const char *addr, char *err, size_t errlen);

/* The TCP port the server listens on (useful after asking for port 0). */
uint16_t metrics_port(const metrics_t *m);

/* Replaces the snapshot the server shows with a copy of s. */
void metrics_publish(metrics_t *m, const metrics_snapshot_t *s);

/* Stops the server and frees m; *m becomes NULL. */
void metrics_stop(metrics_t **m);

#endif
