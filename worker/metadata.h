/*
 * metadata: the one JSON document `lzr-worker scan --metadata FILE` writes when a scan ends
 * (ZMap's -m): the version, the command line and the configuration it resolved to, the seed,
 * start and end times, and the counts — probes, rate achieved, replies, drops, blocklisted,
 * records per class and per protocol — so a scan can be described and reproduced later.
 */
#ifndef LZR_METADATA_H
#define LZR_METADATA_H

#include "worker/engine.h"

#include <stddef.h>
#include <stdint.h>

#define LZR_WORKER_VERSION "0.1"
#define METADATA_PROTOCOLS 64

/* Records per protocol name, counted as records are emitted (fixed size: no allocation). */
typedef struct metadata_protocols {
    char names[METADATA_PROTOCOLS][24];
    uint64_t counts[METADATA_PROTOCOLS];
    size_t n;
    uint64_t other; /* records of names beyond the table */
} metadata_protocols_t;

/* Counts one record of protocol name (ignored when empty). */
void metadata_count_protocol(metadata_protocols_t *p, const char *name);

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
    const metadata_protocols_t *protocols;
    bool interrupted;
} scan_meta_t;

/* Writes the document to path (replacing it); on error returns a negative code with a message
 * naming the path in err. */
int metadata_write(const char *path, const scan_meta_t *m, char *err, size_t errlen);

#endif
