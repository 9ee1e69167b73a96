/*
 * coord_int: what the coordinator's own files share; nothing else includes it but their
 * tests. The state (coord_t: sessions, the scheduler's jobs, batches waiting for their
 * transaction) is owned by coord_serve's thread; the files split the work on it:
 *   coord.c          the loop: sockets, CURVE, polling, coord_serve
 *   coord_state.c    sessions, loaded jobs, and the one path of store writes (db_wrote)
 *   coord_sched.c    the scheduler: leases, rates, job start and finish, verification
 *   coord_worker.c   the worker messages: Hello, Heartbeat, ResultBatch, ShardDone
 *   coord_control.c  the control requests: submit, status, workers, cancel, revoke
 * The rules they keep: every store write goes through db_wrote, so nothing is reported done
 * that the store did not take; only the scheduler hands out shards and starts and finishes
 * jobs (jobs_cancel aside); handlers do not call each other, they change the state and leave
 * the rest to sched_run.
 */
#ifndef LZR_COORD_INT_H
#define LZR_COORD_INT_H

#include "common/cookie.h"
#include "common/record.h"
#include "common/wire.h"
#include "coordinator/coord.h"
#include "coordinator/job.h"
#include "coordinator/metrics.h"
#include "coordinator/shardmap.h"
#include "coordinator/store.h"
#include "coordinator/verify.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most one log line per minute per kind of refusal, then a summary of what was left out. */
typedef struct ratelimit {
    uint64_t last_us;
    uint64_t suppressed;
} ratelimit_t;

#define RATELIMIT_US 60000000u

#define COORD_MAX_DRAINS LZR_MAX_DRAINS

/* A lease whose SYN walk is done, held while the worker walks a newer shard: only its
 * connections' tails are left. */
typedef struct drain_lease {
    bool held;
    bool unstored;             /* as session_t's done_unstored, for this lease */
    store_shard_stats_t stats; /* as session_t's done_stats, for this lease */
    uint64_t job_id;
    uint32_t shard;
    metrics_counters_t seen; /* its counters in the session's tally when it moved here */
} drain_lease_t;

typedef struct session {
    bool used;
    uint8_t rid[256];
    size_t rid_len;
    char name[64];
    char pubkey[41];
    uint32_t scan_ip;
    char fresh[512];
    uint32_t fresh_ips[VERIFY_MAX_FRESH];
    size_t n_fresh;
    lzr_addr_t scan_ip6; /* ADDR_NONE: the worker scans no IPv6 target */
    lzr_addr_t fresh_ips6[VERIFY_MAX_FRESH];
    size_t n_fresh6;
    char iface[32];
    char version[32];
    uint64_t last_seen_us;
    uint64_t stored_us; /* last write of last_seen / lease expiry to the store */
    bool has_lease;
    bool done_unstored;             /* reported its shard done; the store has not taken it yet */
    store_shard_stats_t done_stats; /* the counters its ShardDone gave, stored with the shard */
    uint64_t job_id;
    uint32_t shard;
    uint32_t rate;  /* the SYN rate this worker was last given for its shard */
    bool walk_done; /* its heartbeat says every SYN of that shard is out: one more may start */
    /* Shards are pipelined: once a lease's walk is done and the worker takes another shard,
     * the earlier lease moves to a free drain while its connections finish; at most
     * max_drains of them (what the worker's Hello said it can hold, at most COORD_MAX_DRAINS). */
    drain_lease_t drains[COORD_MAX_DRAINS];
    uint32_t max_drains;
    uint64_t lease_start_us;
    uint64_t targets_done, targets_total, sent, hits;
    uint64_t rate_sent, rate_at_us; /* for probes/s */
    double pps;
    uint64_t refused; /* messages and records of this worker dropped by the trust checks */
    ratelimit_t refused_log;
    metrics_tally_t tally; /* its heartbeat counters over all its leases */
    uint64_t max_seq;      /* the highest batch seq it sent: a lower one is a re-send */
} session_t;

/* A lease a worker lost without finishing its shard (timeout, failover, a new Hello): the
 * batches it sent while it held the lease may still arrive, re-sent after lost acks. */
typedef struct past_lease {
    char name[64];
    uint64_t job_id;
    uint32_t shard;
} past_lease_t;

#define COORD_PAST_LEASES 256

/* A ResultBatch whose records wait for the group's transaction; its Ack is sent after the
 * COMMIT. recs belong to it. */
typedef struct held_batch {
    session_t *s;
    uint64_t seq;
    store_batch_t b;
} held_batch_t;

/* A job the scheduler is running: its row, and the spec rebuilt from the stored text. */
typedef struct job_rt {
    store_job_t row;
    job_spec_t *spec;
    cookie_key_t key;
    uint16_t *port_index; /* port → index + 1 in the job's port list, 0 when not in it */
    shardmap_t *shards;   /* target → shard; NULL for jobs above SHARDMAP_MAX targets */
} job_rt_t;

typedef struct coord {
    const coord_options_t *opt;
    store_t *store;
    zsock_t *workers;
    zsock_t *control;
    zsock_t *monitor; /* handshake failures on the worker socket */
    uint64_t refused;
    ratelimit_t refused_log; /* peers the authenticator refused */
    ratelimit_t hello_log;   /* Hellos refused (name of another key, too many sessions) */
    uint64_t untrusted;      /* messages and records dropped by the trust checks */
    past_lease_t past[COORD_PAST_LEASES];
    size_t past_next;
    bool db_lost; /* the database cannot commit any more: stop */
    char db_err[512];
    bool db_failing;      /* a write failed (disk full, I/O error); no recovery pass yet */
    uint64_t db_retry_us; /* no store writes before this */
    uint64_t db_backoff_us;
    uint64_t db_errors;
    ratelimit_t db_log;
    zactor_t *auth;
    zcert_t *cert;
    session_t sessions[COORD_MAX_SESSIONS];
    job_rt_t *jobs;
    size_t n_jobs;
    uint64_t malformed;
    uint64_t lease_timeout_us;
    verify_job_t *verify; /* the verification pass under way (one job at a time) */
    verify_worker_t verify_workers[COORD_MAX_SESSIONS]; /* verify_step's view of the sessions */
    struct {                                            /* on_workers' reply */
        Lzr__WorkerInfo info[COORD_MAX_SESSIONS];
        Lzr__WorkerInfo *infop[COORD_MAX_SESSIONS];
        Lzr__Lease leases[COORD_MAX_SESSIONS];
        uint32_t fresh[COORD_MAX_SESSIONS][16];
    } workers_reply;
    held_batch_t held[COORD_GROUP_MAX];
    size_t n_held;
    metrics_t *metrics;             /* the /metrics server; NULL without --metrics */
    metrics_snapshot_t *snap;       /* what the loop publishes to it */
    uint64_t snap_us, snap_records; /* time and records_stored of the last snapshot */
    uint64_t records_stored, batches_stored, batches_failed, batch_retries;
} coord_t;

/* Whether a line may be logged now; *suppressed gets how many were left out since the last. */
bool ratelimit_allow(ratelimit_t *r, uint64_t now, uint64_t *suppressed);

/* The one path every store write of the loop goes through; returns rc. LZR_OK is stored, and
 * LZR_ENOTFOUND means the row was not there (callers say what that means). Anything else is a
 * database error (disk full, I/O): it is logged, at most one line a minute with how many were
 * left out, and the loop's writes back off, from 250 ms doubling to 8 s. Callers report as done
 * only what returned LZR_OK. fmt says what was not stored. */
int db_wrote(coord_t *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether the loop may write now: the database can still commit (db_usable) and no back-off
 * after a failed write is running. */
bool db_writable(coord_t *c);

/* After a failed write, the first pass that can write again treats the outage like a restart:
 * every lease gets one lease timeout more, since no renewal was stored meanwhile. */
bool db_recovered(coord_t *c, uint64_t now);

/* The job id in the scheduler's table, or NULL when it is not loaded. */
job_rt_t *jobrt_find(coord_t *c, uint64_t id);

/* The number of ports a job probes on each host and, into *probes when not NULL, the (address,
 * port) pairs it scans (its size, or fewer under max_targets): from the loaded spec, or parsed
 * from the stored job file for a job the scheduler no longer holds. 0 ports when unreadable. */
uint32_t jobrt_port_count(coord_t *c, const store_job_t *row, uint64_t *probes);

/* Loads a job from the store into the scheduler's table (again after a restart). */
job_rt_t *jobrt_load(coord_t *c, uint64_t id, char *err, size_t errlen);

/* Frees what a job_rt_t holds (not the struct). */
void jobrt_free(job_rt_t *j);

/* Drops job id from the scheduler's table (it is done or cancelled). */
void jobrt_unload(coord_t *c, uint64_t id);

/* The live session of a routing id, or NULL. */
session_t *session_by_rid(coord_t *c, zframe_t *rid);

/* The live session of a worker name, or NULL. */
session_t *session_by_name(coord_t *c, const char *name);

/* How many worker sessions are live. */
size_t session_count(coord_t *c);

/* Sends env to worker s; a failure is logged (the worker re-sends or times out). */
void session_send(coord_t *c, session_t *s, Lzr__Envelope *env);

/* Tells worker s to stop its work on shard of job, for reason. */
void session_cancel(coord_t *c, session_t *s, uint64_t job, uint32_t shard, const char *reason);

/* Sends a Refuse to the peer rid; fatal tells the worker not to come back. */
void peer_refuse(coord_t *c, zframe_t *rid, const char *reason, bool fatal);

/* Notes that s no longer holds its lease (without finishing the shard): batches it sent while
 * it held it may still come, and are let in (see on_batch). */
void session_lease_forget(coord_t *c, session_t *s);

/* Notes that s no longer holds its draining lease d, as session_lease_forget does. */
void session_drain_forget(coord_t *c, session_t *s, drain_lease_t *d);

/* Whether s holds (job, shard) now: the lease it scans, or one whose tails it finishes. */
bool session_holds(session_t *s, uint64_t job, uint32_t shard);

/* s's draining lease of (job, shard), or NULL when that is not one. */
drain_lease_t *session_draining(session_t *s, uint64_t job, uint32_t shard);

/* How many draining leases s holds. */
size_t session_drain_count(const session_t *s);

/* How many draining leases s may hold: its Hello's max_drains (0, from an older worker, is one),
 * at most COORD_MAX_DRAINS. */
uint32_t session_drain_max(const session_t *s);

/* Tells worker s to stop every shard it holds (reason), and forgets them without returning them
 * to the pool (the job is over, or the worker revoked): only those of job, or all when job is 0. */
void session_cancel_leases(coord_t *c, session_t *s, uint64_t job, const char *reason);

/* Whether worker name held (job, shard) before and lost it without finishing it. */
bool session_held_before(coord_t *c, const char *name, uint64_t job, uint32_t shard);

/* Counts something of worker s the trust checks dropped, and logs it at most once a minute
 * per worker, with how many more there were. */
void session_distrust(coord_t *c, session_t *s, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sends each lease s holds back to the pool, but for those a Hello claims (h->lease, h->drain[];
 * h may be NULL), and forgets them all. */
void session_release(coord_t *c, session_t *s, const Lzr__Hello *h);

/* Ends a session; its leases, if any, go back to the pool at once. */
void session_drop(coord_t *c, session_t *s, const char *why);

/* Cancels a job for reason (kept in the store, shown by status): every worker on it is told to
 * stop, and nothing more of it is stored. */
int jobs_cancel(coord_t *c, uint64_t id, const char *reason);

/* Whether the database can still commit; once it cannot (its file or directory deleted or made
 * read-only), the coordinator stops: it acks nothing more, and coord_serve returns the reason. */
bool db_usable(coord_t *c);

/* One scheduling pass: sessions silent for the lease timeout end, expired leases go back to
 * the pool, waiting jobs start, idle workers get shards, rates are split again and finished
 * jobs close. It writes to the store, so it waits out a back-off after a failed write. */
void sched_run(coord_t *c);

/* Stores that s finished the shard it holds. Should the store not take it (a database error,
 * or a back-off after one), s keeps the lease, marked done_unstored, and each scheduling pass
 * tries again: a shard is done once the store says so, and not before. */
void sched_shard_finished(coord_t *c, session_t *s);

/* The same for s's draining lease d (d->unstored). */
void sched_drain_finished(coord_t *c, session_t *s, drain_lease_t *d);

/* Reads and handles one message from the worker socket. */
void worker_on_message(coord_t *c);

/* Stores the held batches in one transaction, then acks them. Should the group fail for its
 * rows, each batch is tried alone, so one that cannot be stored does not hold back the others;
 * should it fail for the database (disk full, I/O error), db_wrote logs it and the loop backs
 * off. A batch not stored is not acked, and its worker sends it again. */
void held_flush(coord_t *c);

/* Reads and answers one request from the control socket. */
void control_on_message(coord_t *c);

/* Starts the /metrics server of --metrics, with the snapshot the loop fills for it. */
int coord_metrics_setup(coord_t *c, char *err, size_t errlen);

/* Publishes what the coordinator knows to the /metrics server, about once a second (nothing
 * without --metrics). Runs in the loop's thread, which owns the store. */
void coord_metrics_publish(coord_t *c, uint64_t now);

#endif
