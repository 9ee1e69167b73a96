/*
 * job: a job file (job.toml, docs/job-file.md) turned into a validated job spec. Everything a
 * worker needs to reproduce the scan — targets, ports, seed, handshakes, timings — is checked
 * here, before anything is submitted, and every error names the file, the line and the key:
 * "job.toml:12: ports: \"70000\" is not a port (1-65535)". The coordinator keeps the job file's
 * text in its database and parses it again after a restart, so a spec is always derived from
 * the text plus the seed chosen at submission.
 */
#ifndef LZR_JOB_H
#define LZR_JOB_H

#include "common/permutation.h"
#include "common/ports.h"
#include "common/scan_spec.h"
#include "common/targets.h"
#include "common/targets6.h"
#include "common/defaults.h" /* the defaults, shared with lzr-worker scan */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_SHARD_SECONDS    10
#define JOB_MAX_SHARDS       100000
#define JOB_MAX_LIST         256
#define JOB_MAX_COMPARE      16              /* [vantage] compare: scan IPs per target */
#define JOB_MAX_FILE_BYTES   (1u << 20)      /* a job file of 1 MiB loads, one byte more does not */
#define JOB_MAX_RUNTIME_S    (366u * 86400u) /* max_runtime: a year at most */
#define JOB_MAX_TARGET_LINES 65536 /* addresses in a targets_file: each Assign carries them */
#define JOB_MAX_TARGET_TEXT  "65536"
/* Pairs of a targets_file once port-less lines expand: every Assign carries them all. */
#define JOB_MAX_PAIRS (1u << 18)

typedef struct job_spec {
    char name[64];
    char *targets[JOB_MAX_LIST]; /* allow entries as written; owned */
    size_t n_targets;
    char *exclude[JOB_MAX_LIST];
    size_t n_exclude;
    char *allow_reserved[JOB_MAX_LIST];
    size_t n_allow_reserved;
    /* blocklist_file and allowlist_file as the job names them ("" = none), and their entries
     * as `lzr-coord submit` read them on the coordinator host and stored them with the job
     * (the [files] table it appends); owned. */
    char blocklist_file[256];
    char allowlist_file[256];
    char **blocklist;
    size_t n_blocklist;
    char **allowlist;
    size_t n_allowlist;
    /* targets_file: a list in common/input's line forms, read at submission like the files
     * above and stored as its lines ("ADDR" or "ADDR:PORT"). Lines without a port are
     * addresses that join targets (× the job's ports). Once a line names a port the job scans
     * pairs: target_list then holds the lines' addresses (the set the pairs may use), pairs the
     * (address, port) keys (common/pairs.h, sorted, each once, those the job's set excludes
     * left out; a line without a port stands for each of the job's ports), and ports is the
     * pairs' ports. NULL pairs: addresses × ports. */
    char targets_file[256];
    char **target_list;
    size_t n_target_list;
    uint64_t *pairs;
    size_t n_pairs;
    char *ports_text; /* canonical "22,80,8000-8100"; owned */
    port_list_t ports;
    targets_t *set;   /* finalized IPv4 target set; owned */
    targets6_t *set6; /* the IPv6 targets (empty when none); owned. The address space is set's
                         addresses, then set6's (common/scan_spec.h) */
    uint32_t rate;    /* total SYNs/s over all workers */
    bool have_seed;
    uint64_t seed;
    scan_names_t handshakes; /* as they go into the Assign message */
    scan_names_t fallback;   /* n = 0: no fallback tier */
    uint32_t timeout_ms;
    uint32_t retransmit_ms;
    uint32_t cooldown_ms; /* listening after a shard's last SYN; 0 = the worker's default */
    uint32_t acking_firewall_probes;
    bool report_all;
    uint32_t shards; /* from the file, or the default once job_plan ran */
    bool shards_given;
    uint32_t min_workers; /* [vantage] */
    bool verify;          /* [vantage] */
    uint32_t compare;     /* [vantage]: passes, each target from this many scan IPs; 1 = none */
    uint64_t size;        /* addresses × ports, or the number of pairs */
    /* Bounds (docs/job-file.md): max_targets as written ("" = none); probes, the (address,
     * port) pairs the job scans — size, or the first max_targets of its permutation; span,
     * the cycle positions [0, span) its shards tile, set by job_plan. max_runtime_s: seconds
     * of sending from the job's start, 0 = no bound. */
    char max_targets[32];
    uint64_t probes;
    uint64_t span;
    uint32_t max_runtime_s;
} job_spec_t;

/* The job's addresses: its IPv4 set's, then its IPv6 set's. */
uint64_t job_addresses(const job_spec_t *j);

/* Parses and validates a job file's text; filename is used in messages only. Returns a new
 * spec (free with job_destroy) or NULL with "FILE:LINE: key: what is wrong" in err. */
job_spec_t *job_parse(const char *text, size_t len, const char *filename, char *err, size_t errlen);

/* Reads path and parses it as job_parse does; *text_out (if not NULL) gets the job's text,
 * which the caller frees. When the job names a blocklist_file or allowlist_file, they are read
 * now (a relative path from the job file's directory) and their entries appended to the text
 * as a [files] table, so the job keeps the lists as they were at submission. */
job_spec_t *job_load(const char *path, char **text_out, char *err, size_t errlen);

/* Frees a spec and sets *j to NULL. */
void job_destroy(job_spec_t **j);

/* Fixes the seed (the given one, or seed when the file has none), derives the permutation
 * into perm, the span of cycle positions to shard (the whole cycle, or with max_targets the
 * prefix that yields exactly that many pairs: a seeded sample) and the number of shards: the
 * file's, or about JOB_SHARD_SECONDS of work at the job's rate each but at least one per
 * worker (the larger of `workers`, those connected now, and the job's min_workers), so a short
 * job still keeps every worker busy; capped by the span. Returns LZR_OK or LZR_ERANGE. */
int job_plan(job_spec_t *j, uint64_t seed, uint32_t workers, perm_params_t *perm, char *err,
             size_t errlen);

#endif
