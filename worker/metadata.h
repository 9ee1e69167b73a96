/*
 * metadata: the one JSON document `lzr-worker scan --metadata FILE` writes when a scan ends
 * (ZMap's -m): the version, the command line and the configuration it resolved to, the seed,
 * start and end times, and the counts — probes, rate achieved, replies, drops, blocklisted,
 * records per class and per protocol — so a scan can be described and reproduced later. The
 * counts and the JSON helpers are common/metajson's, shared with `lzr-coord status --json`.
 */
#ifndef LZR_METADATA_H
#define LZR_METADATA_H

#include "common/metajson.h"
#include "worker/engine.h"

#include <stddef.h>
#include <stdint.h>

#define LZR_WORKER_VERSION "0.1"

typedef struct scan_meta {
    int argc;
    char **argv; /* the command line as given, argv[0] the subcommand */
    const engine_config_t *cfg;
    const char *ports;          /* as given */
    const char *blocklist_file; /* in force, or NULL */
    const char *allowlist_file;
    const char *input_file; /* --input-file ("-": standard input), or NULL: the walk */
    uint64_t seed;
    uint64_t start_us, end_us; /* wall clock */
    double seconds;            /* monotonic duration */
    const engine_stats_t *stats;
    const metajson_protocols_t *protocols;
    bool interrupted;
    bool dry_run; /* --dry-run: probes_sent counts the probes listed; nothing was sent */
} scan_meta_t;

/* Writes the document to path (replacing it); on error returns a negative code with a message
 * naming the path in err. */
int metadata_write(const char *path, const scan_meta_t *m, char *err, size_t errlen);

#endif
