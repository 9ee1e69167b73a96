/*
 * metajson: the parts of a scan's metadata document (ZMap's -m) that `lzr-worker scan
 * --metadata` and `lzr-coord status JOB --json` share: the JSON writing helpers, the counts of
 * records per protocol, and the block of counts every such document ends with — seed, start
 * and end, probes sent, rate achieved, replies, drops, records per class and per protocol.
 * Writes go to a stdio stream; nothing here allocates.
 */
#ifndef LZR_METAJSON_H
#define LZR_METAJSON_H

#include "common/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METAJSON_PROTOCOLS 64

/* Records per protocol name (fixed size: no allocation). */
typedef struct metajson_protocols {
    char names[METAJSON_PROTOCOLS][24];
    uint64_t counts[METAJSON_PROTOCOLS];
    size_t n;
    uint64_t other; /* records of names beyond the table */
} metajson_protocols_t;

/* Counts n records of protocol name (ignored when empty). */
void metajson_add_protocol(metajson_protocols_t *p, const char *name, uint64_t n);

/* What a scan or a job did. */
typedef struct metajson_counts {
    uint64_t seed;
    uint64_t start_us, end_us; /* wall clock; 0: not yet (null) */
    double seconds;            /* of sending and listening */
    uint64_t probes;           /* discovery SYNs */
    uint64_t frames;           /* every frame sent */
    uint64_t replies;
    uint64_t pcap_drops;
    uint64_t blocked; /* targets a blocklist removed, never probed */
    uint64_t per_class[CLASS_COUNT];
    const metajson_protocols_t *protocols;
} metajson_counts_t;

/* s as a JSON string (null for NULL). */
void metajson_string(FILE *f, const char *s);

/* The key of a member of the document's top-level object, after a comma unless first. */
void metajson_key(FILE *f, const char *key, bool first);

/* A member whose value is a count. */
void metajson_count(FILE *f, const char *key, uint64_t v);

/* The members seed, start, end, seconds, probes_sent, rate_achieved, frames_sent, replies,
 * pcap_drops, blocklisted, classes and protocols (each after a comma). */
void metajson_counts(FILE *f, const metajson_counts_t *m);

#endif
