/*
 * store: the coordinator's only state, an SQLite database in WAL mode (schema in docs/schema.md,
 * versioned with PRAGMA user_version). It holds jobs (with the job file's text, seed and cookie
 * key, so a restarted coordinator rebuilds every spec), their shards and leases, the workers
 * seen, the results, and tables for later multi-vantage work (verdicts, contacts). Each call is
 * one transaction; a batch of results is stored all or nothing, and storing the same (job, ip,
 * port) again updates the row instead of adding one. A store handle belongs to one thread.
 */
#ifndef LZR_STORE_H
#define LZR_STORE_H

#include "common/metajson.h"
#include "common/permutation.h"
#include "common/record.h"
#include "common/verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 9

typedef struct store store_t;

typedef enum { SHARD_PENDING, SHARD_LEASED, SHARD_DONE } shard_state_t;

typedef struct store_job {
    uint64_t id;
    char name[64];
    char state[16]; /* waiting, running, done, cancelled */
    char filename[128];
    char *toml; /* the job file's text; owned, freed by store_job_clear */
    uint64_t seed;
    char key_hex[33]; /* cookie key */
    uint32_t rate;
    uint32_t n_shards;
    uint64_t size;
    uint64_t size6; /* of size, the (address, port) pairs of IPv6 addresses */
    perm_params_t perm;
    uint64_t created_us;
    uint64_t finished_us;
    uint32_t passes;     /* [vantage] compare: copies of each shard, each from another scan IP */
    uint64_t span;       /* the shards tile cycle positions [0, span); 0 on insert: the cycle */
    uint64_t started_us; /* when it began running; 0 before */
} store_job_t;

typedef struct store_shard {
    uint64_t job_id;
    uint32_t idx;
    uint64_t pos_begin, pos_end;
    shard_state_t state;
    char owner[64]; /* lease owner (worker name), "" when pending */
    uint64_t lease_expiry_us;
    uint32_t attempts; /* times a holder reported it failed */
    uint32_t pass;     /* which copy of the job's shard idx % n_shards (0 unless compared) */
    uint32_t scan_ip;  /* the scan IP of its last lease holder, 0 before the first lease */
} store_shard_t;

/* Opens (creating or upgrading) the database at path in WAL mode; NULL with a message in err
 * when it cannot be opened or its schema is newer than this program's. */
store_t *store_open(const char *path, char *err, size_t errlen);

/* Opens an existing database read-only (for `lzr-coord results`), without writing to it. */
store_t *store_open_readonly(const char *path, char *err, size_t errlen);

/* Whether a read-write store can still commit: its file is the one opened (not deleted or
 * replaced), neither it nor its directory is read-only. LZR_EDB with the reason in err. */
int store_check(store_t *s, char *err, size_t errlen);

/* Closes the database and sets *s to NULL. */
void store_close(store_t **s);

/* The message of the last SQLite error on this handle. */
const char *store_errmsg(store_t *s);

/* Adds a job and all its shards (perm_shard_range of each of n_shards, once per pass: pass p's
 * copy of shard i has index p × n_shards + i) in one transaction, in state "waiting"; *id gets
 * the new job id. passes 0 counts as 1. */
int store_job_insert(store_t *s, const store_job_t *job, uint64_t *id, char *err, size_t errlen);

/* Reads job id into out (free out->toml with store_job_clear). LZR_ENOTFOUND when absent. */
int store_job_get(store_t *s, uint64_t id, store_job_t *out);

/* Frees what store_job_get allocated inside j. */
void store_job_clear(store_job_t *j);

/* Ids of all jobs (state NULL) or of jobs in one state, ascending, in a malloc'd array. */
int store_job_ids(store_t *s, const char *state, uint64_t **ids, size_t *n);

/* Sets a job's state; "done" and "cancelled" also stamp finished_us, the first "running"
 * started_us. Cancelling returns every
 * leased or pending shard's lease to nobody. */
int store_job_set_state(store_t *s, uint64_t id, const char *state);

/* Leases the lowest pending shard of job whose back-off has passed (now_us) to owner, whose
 * scan IP is scan_ip (and IPv6 scan IP scan_ip6, ADDR_NONE when it has none), until expiry_us. In a
 * job of several passes a shard whose copy in another pass was leased from scan_ip is skipped.
 * LZR_ENOTFOUND when no shard is ready for that scan IP. */
int store_shard_lease_next(store_t *s, uint64_t job_id, const char *owner, uint32_t scan_ip,
                           const lzr_addr_t *scan_ip6, uint64_t now_us, uint64_t expiry_us,
                           store_shard_t *out);

/* Extends owner's lease of a shard, or takes a pending one back (a heartbeat for a lease the
 * worker holds, which expired while its heartbeats were late). LZR_ENOTFOUND when the shard
 * is done or someone else's, or its job is not running. */
int store_shard_renew(store_t *s, uint64_t job_id, uint32_t idx, const char *owner,
                      uint64_t expiry_us);

/* As store_shard_renew, for a lease a worker claims in its Hello: only a shard still leased to
 * owner is renewed, never a pending one (a claim must not take a shard nobody assigned it, nor
 * skip the rule that a compare pass needs another scan IP). LZR_ENOTFOUND otherwise. */
int store_shard_reclaim(store_t *s, uint64_t job_id, uint32_t idx, const char *owner,
                        uint64_t expiry_us);

/* Marks a shard done if owner holds its lease. Returns LZR_OK, or LZR_ENOTFOUND when owner does
 * not hold it. */
int store_shard_done(store_t *s, uint64_t job_id, uint32_t idx, const char *owner);

/* A failure reported by the shard's holder: the shard goes back to the pool, not to be leased
 * again before *retry_us (now_us + backoff_us after its first failure, doubling with each, 64
 * times backoff_us at most); *failures gets how many failures it has had. LZR_ENOTFOUND when
 * owner does not hold it. */
int store_shard_fail(store_t *s, uint64_t job_id, uint32_t idx, const char *owner, uint64_t now_us,
                     uint64_t backoff_us, uint32_t *failures, uint64_t *retry_us);

/* Puts a shard back to pending if owner holds it. */
int store_shard_release(store_t *s, uint64_t job_id, uint32_t idx, const char *owner);

/* Returns every lease whose expiry is before now_us to the pool; *n gets how many. */
int store_shards_expire(store_t *s, uint64_t now_us, int *n);

/* Moves the expiry of every current lease to until_us: after a restart, workers get one lease
 * timeout to come back and claim their shards. */
int store_leases_extend(store_t *s, uint64_t until_us);

/* Cancels a job (store_job_set_state) and keeps reason, which status shows. */
int store_job_cancel(store_t *s, uint64_t id, const char *reason);

/* Keeps reason with a job (why it was cancelled, or how it ended early), which status shows. */
int store_job_note(store_t *s, uint64_t id, const char *reason);

/* The reason a job was cancelled for ("" when none) into out. */
void store_job_reason(store_t *s, uint64_t id, char *out, size_t cap);

/* Reads one shard. */
int store_shard_get(store_t *s, uint64_t job_id, uint32_t idx, store_shard_t *out);

/* Counts a job's shards per state. */
int store_shard_counts(store_t *s, uint64_t job_id, uint32_t *pending, uint32_t *leased,
                       uint32_t *done);

/* max_runtime reached: every pending shard of the job becomes done without being scanned
 * (marked dropped); *n gets how many. Leased shards run on: their holders stop sending at the
 * deadline themselves (Assign.max_runtime_ms). */
int store_shards_drop(store_t *s, uint64_t job_id, uint32_t *n);

/* A worker's counters for a shard it finished (ShardDone). */
typedef struct store_shard_stats {
    uint64_t syns, frames, replies, pcap_drops, blocked;
} store_shard_stats_t;

/* Keeps a shard's counters (replacing earlier ones: a rescanned shard counts its last scan). */
int store_shard_stats(store_t *s, uint64_t job_id, uint32_t idx, const store_shard_stats_t *st);

/* What a job did so far into m: its shards' counters summed (probes, frames, replies, pcap
 * drops, blocklisted; 0 in a database before version 6) and its stored records per class and
 * per protocol (p, which m->protocols then points to). */
int store_job_tally(store_t *s, uint64_t job_id, metajson_counts_t *m, metajson_protocols_t *p);

/* Number of a job's shards dropped at max_runtime, into *n. LZR_EDB on a database error. */
int store_shards_dropped(store_t *s, uint64_t job_id, uint32_t *n);

/* Sum of pos_end − pos_begin over a job's done shards (dropped ones excluded), into *n. LZR_EDB
 * on a database error. */
int store_positions_done(store_t *s, uint64_t job_id, uint64_t *n);

/* Records a worker's registration (name, key, addresses) or refreshes it. */
int store_worker_upsert(store_t *s, const char *name, const char *pubkey, uint32_t scan_ip,
                        const char *fresh_ips, const char *iface, const char *version,
                        uint64_t now_us);

/* The public key a worker name is bound to, into pubkey; LZR_ENOTFOUND for a name never seen. */
int store_worker_key(store_t *s, const char *name, char *pubkey, size_t cap);

/* Forgets a worker name (an operator's `lzr-coord revoke`): its key binding goes, and its leases
 * go back to the pool. LZR_ENOTFOUND for a name never seen. */
int store_worker_revoke(store_t *s, const char *name);

/* Stamps a worker's last heartbeat. */
int store_worker_seen(store_t *s, const char *name, uint64_t now_us);

/* One worker message's records: job, shard and worker name they belong to. holder: the worker
 * holds the shard now, and its records may replace rows stored earlier for the same shard (a
 * rescan after failover); otherwise (a re-send from an earlier holder) they only fill rows not
 * stored yet. No batch replaces a row of another shard. */
typedef struct store_batch {
    uint64_t job_id;
    uint32_t shard;
    bool holder;
    const char *worker;
    const lzr_record_t *recs;
    size_t n;
} store_batch_t;

/* Stores nb batches in one transaction (all or none): results upserted on (job, ip, port) — a
 * service result is never replaced by a non-service one, and see store_batch_t for which rows a
 * batch may replace — and each scan IP noted in scan_sources. For a job of several passes, each
 * row is also upserted per scan IP in vantage_results. */
int store_put_batches(store_t *s, const store_batch_t *b, size_t nb, char *err, size_t errlen);

/* Whether the last store_put_batches that failed failed for the database rather than for its
 * rows: the disk is full, an I/O error, the file read-only, locked or damaged. Such a failure
 * meets every write until it is mended; a row a trigger or constraint refuses does not. */
bool store_put_outage(store_t *s);

/* store_put_batches for the n records of one batch. */
int store_put_batch(store_t *s, uint64_t job_id, uint32_t shard, const char *worker,
                    const lzr_record_t *recs, size_t n, char *err, size_t errlen);

/* Number of results stored for a job, into *n. LZR_EDB on a database error. */
int store_result_count(store_t *s, uint64_t job_id, uint64_t *n);

/* Calls fn for each result of job, ordered by (ip, port), optionally only those of class cls
 * (NULL: all) and protocol (NULL: all). Stops early and returns fn's value when non-zero. */
typedef int (*store_result_fn)(void *ctx, const lzr_record_t *r, const char *worker);
int store_results_each(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                       store_result_fn fn, void *ctx);

/* ---- multi-vantage verification (docs/verification.md) ---------------------------------- */

/* A host picked for verification, with the one result of it that verification re-probes
 * (docs/verification.md, "Candidates"). */
typedef struct store_candidate {
    lzr_addr_t ip;
    uint16_t port;
    lzr_class_t cls;
    candidate_t why;
    lzr_addr_t source_ip; /* the scan IP whose scan produced the result (the host's family) */
    char worker[64];      /* the worker that holds that scan IP */
} store_candidate_t;

/* One verdict row. */
typedef struct store_verdict {
    lzr_addr_t ip;
    uint16_t port;
    char verdict[24];                 /* "shunning", …, or "unverified" */
    lzr_addr_t original_ip, fresh_ip; /* the host's family; fresh_ip ADDR_NONE when none was */
    char evidence[768];               /* JSON object */
    uint64_t ts_us;
} store_verdict_t;

/* The job's candidates that have no verdict yet, one per host, ordered by address, in a
 * malloc'd array. A host is a candidate when a port of it ended lost_after_synack or
 * no_ack_data, or when it answered (SYN-ACK or RST) fewer than n_ports of the job's ports —
 * what a host that shuns the scan IP after its first SYN looks like, whatever that SYN found.
 * The re-probed row is, in that order, a lost_after_synack, a no_ack_data, a SYN-ACKed and a
 * closed port (lowest port first within each). */
int store_candidates(store_t *s, uint64_t job_id, uint32_t n_ports, store_candidate_t **out,
                     size_t *n);

/* Number of candidate hosts of a job (with or without a verdict), into *n. LZR_EDB on a
 * database error. */
int store_candidate_count(store_t *s, uint64_t job_id, uint32_t n_ports, uint64_t *n);

/* Number of verdicts stored for a job, into *n. LZR_EDB on a database error. */
int store_verdict_count(store_t *s, uint64_t job_id, uint64_t *n);

/* Whether source_ip has ever contacted ip, in any job: noted in contacts for that host, or a
 * scan IP of any job (a scan probes every target of its shards). Such an address is burned for
 * that host and can never serve as its fresh IP. */
bool store_contacted(store_t *s, const lzr_addr_t *source_ip, const lzr_addr_t *ip);

/* Notes in one transaction that src[i] contacted dst[i] in job (for i < n). */
int store_contacts_add(store_t *s, uint64_t job_id, const lzr_addr_t *src, const lzr_addr_t *dst,
                       size_t n, uint64_t now_us);

/* Stores n verdicts of job in one transaction (replacing an earlier verdict of the same
 * (ip, port)). */
int store_verdicts_put(store_t *s, uint64_t job_id, const store_verdict_t *v, size_t n, char *err,
                       size_t errlen);

/* Calls fn for each verdict of job, ordered by (ip, port); stops early with fn's non-zero
 * value. */
typedef int (*store_verdict_fn)(void *ctx, const store_verdict_t *v);
int store_verdicts_each(store_t *s, uint64_t job_id, store_verdict_fn fn, void *ctx);

/* store_results_each, with each row's verdict ("" when the row has none). */
typedef int (*store_result_verdict_fn)(void *ctx, const lzr_record_t *r, const char *worker,
                                       const char *verdict);
int store_results_each_verdict(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                               store_result_verdict_fn fn, void *ctx);

/* store_results_each_verdict for the rows first stored after *after_seq (-1: all), in the
 * order they were stored; *after_seq becomes the last row's, to ask again from there. A row
 * that a later batch replaces keeps its place and is not handed over again. */
int store_results_since(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                        int64_t *after_seq, store_result_verdict_fn fn, void *ctx);

/* ---- comparison across vantage points (docs/verification.md#comparing-vantage-points) ------ */

/* What one scan IP scanned of a job: its done shards and their cycle positions. */
typedef struct store_vantage_share {
    lzr_addr_t scan_ip;
    uint32_t shards;
    uint64_t positions;
} store_vantage_share_t;

/* The scan IPs of a job's done shards, ascending, in a malloc'd array (none for a database
 * older than version 4). */
int store_vantage_shares(store_t *s, uint64_t job_id, store_vantage_share_t **out, size_t *n);

/* One vantage_results row: what one scan IP saw of one (ip, port), and the host's verdict. */
typedef struct store_vantage_row {
    lzr_addr_t ip;
    uint16_t port;
    lzr_addr_t source_ip;
    lzr_class_t cls;
    char protocol[24];
    char worker[64];
    uint32_t shard;
    char verdict[24]; /* the host's verdict in this job, "" when it has none */
} store_vantage_row_t;

/* Calls fn for each vantage_results row of job, ordered by (ip, port, source_ip); stops early
 * with fn's non-zero value. No rows for a database older than version 4. */
typedef int (*store_vantage_fn)(void *ctx, const store_vantage_row_t *r);
int store_vantage_each(store_t *s, uint64_t job_id, store_vantage_fn fn, void *ctx);

#endif
