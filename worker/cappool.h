/*
 * cappool: the capture handles a cluster worker keeps between shard runs. Opening one maps a
 * 128 MiB ring (about 230 ms on the lab's VM), which every pipelined shard would otherwise pay
 * before its first SYN: a run that ends gives its handle back, and the next run borrows it. A
 * handle waiting here passes no frames (capture_idle); one that waited CAPPOOL_IDLE_MS is
 * closed, so a worker between jobs does not keep the memory. Used by the agent's thread only.
 */
#ifndef LZR_CAPPOOL_H
#define LZR_CAPPOOL_H

#include "common/wire.h"
#include "worker/capture.h"

#include <stddef.h>
#include <stdint.h>

/* Handles kept at most: one for each run that can be live beside the agent's own handle. */
#define CAPPOOL_MAX     LZR_MAX_DRAINS
#define CAPPOOL_IDLE_MS 60000

typedef struct cappool cappool_t;

/* An empty pool; NULL when out of memory. */
cappool_t *cappool_new(void);

/* Closes every handle kept, frees, and sets *p to NULL. */
void cappool_destroy(cappool_t **p);

/* The handle given back last (its ring is the warmest), or NULL when none is kept. The caller
 * refilters it (capture_refilter) before reading. */
capture_t *cappool_take(cappool_t *p);

/* Keeps c, idle from now_ms on; closes it instead when the pool is full. *c is NULL after. */
void cappool_give(cappool_t *p, capture_t **c, uint64_t now_ms);

/* Closes the handles idle for CAPPOOL_IDLE_MS or more at now_ms; returns how many. */
size_t cappool_expire(cappool_t *p, uint64_t now_ms);

/* Handles kept now. */
size_t cappool_count(const cappool_t *p);

#endif
