/*
 * coord: the running coordinator (`lzr-coord serve`). It owns a ROUTER socket for workers
 * (CURVE-encrypted, workers authenticated by public key through zauth), a ROUTER socket for the
 * command line (submit, status, workers, cancel), and the SQLite store. Its scheduler leases the
 * shards of running jobs to idle workers, splits each job's rate over the workers that can hold
 * its shards, returns the leases of workers silent for the lease timeout to the pool, stores
 * each ResultBatch in one transaction and acks it after the commit. Everything it knows lives in
 * the store, so a restarted coordinator resumes every job where the database left it.
 */
#ifndef LZR_COORD_H
#define LZR_COORD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COORD_DEFAULT_LISTEN       "tcp://*:7411"
#define COORD_HEARTBEAT_MS         1000
#define COORD_LEASE_TIMEOUT_MS     10000
#define COORD_CONTROL_NAME         "lzr-coord.ctl"
#define COORD_MAX_SESSIONS         1024
#define COORD_CONTROL_TIMEOUT_MS   10000
#define COORD_MAX_FAILURES         5    /* failures of one shard before the job is cancelled */
#define COORD_MAX_SESSIONS_PER_KEY 4    /* worker sessions one CURVE key may hold at once */
#define COORD_RETRY_MS             1000 /* a failed shard waits this, doubling per failure */
#define COORD_GROUP_MAX            32   /* result batches of one burst stored in one transaction */

typedef struct coord_options {
    const char *listen;   /* worker endpoint, e.g. "tcp://0.0.0.0:7411" */
    const char *control;  /* control endpoint; NULL = ipc:// next to the database */
    const char *db_path;  /* SQLite file */
    const char *keys_dir; /* coordinator.key(_secret) and workers/ *.key; NULL = no CURVE */
    uint32_t lease_timeout_ms;
    uint32_t heartbeat_ms;
    uint32_t retry_ms;   /* back-off after a shard's first failure (doubles); 0 = COORD_RETRY_MS */
    const char *metrics; /* HOST:PORT of the Prometheus /metrics server; NULL = none */
} coord_options_t;

/* The default control endpoint for a database path: "ipc://DIR/lzr-coord.ctl" where DIR is the
 * database's directory. Writes into buf and returns it. */
char *coord_control_endpoint(const char *db_path, char *buf, size_t cap);

/* Runs the coordinator until *stop becomes non-zero. Returns LZR_OK, or a negative code with a
 * message in err when it cannot start (database, keys, endpoints). */
int coord_serve(const coord_options_t *opt, volatile sig_atomic_t *stop, char *err, size_t errlen);

#endif
