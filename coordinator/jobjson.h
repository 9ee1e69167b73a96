/*
 * jobjson: `lzr-coord status JOB --json`, one JSON document describing a job the way
 * `lzr-worker scan --metadata` describes a scan (common/metajson writes the shared part): the
 * version, the job's full configuration as the coordinator resolved it, the seed, start and
 * end, probes sent, rate achieved, replies, drops, records per class and per protocol — plus
 * the job's state, why it ended (if it says) and its shards per state. Read from the database.
 */
#ifndef LZR_JOBJSON_H
#define LZR_JOBJSON_H

#include "coordinator/store.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes job id's document to f. LZR_ENOTFOUND for an unknown job, or another negative code,
 * with a message in err. version: the software version to report. */
int jobjson_write(FILE *f, store_t *s, uint64_t id, const char *version, char *err, size_t errlen);

#endif
