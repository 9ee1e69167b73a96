/*
 * cappool: the capture handles a cluster worker keeps between shard runs. Opening one maps a
 * 128 MiB ring (about 230 ms on the lab's VM), which every pipelined shard would otherwise pay
 * before its first SYN: a run that ends gives its handle back, and the next run borrows it. A
 * handle waiting here passes no frames (capture_idle); one that waited CAPPOOL_IDLE_MS is
 * closed, so a worker between jobs does not keep the memory. cappool_warm opens one ahead of
 * need on a thread of its own, so that even a job's first overlapping shards find one ready.
 * Called from the agent's thread only.
 */
#ifndef LZR_CAPPOOL_H
#define LZR_CAPPOOL_H

#include "common/wire.h"
#include "worker/capture.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Handles a pool can keep: one for each run that can be live beside the agent's own handle. */
#define CAPPOOL_MAX     LZR_MAX_DRAINS
#define CAPPOOL_IDLE_MS 60000

typedef struct cappool cappool_t;

/* An empty pool that keeps at most keep handles (CAPPOOL_MAX when more); NULL when out of
 * memory. */
cappool_t *cappool_new(size_t keep);

/* Closes every handle kept, frees, and sets *p to NULL. */
void cappool_destroy(cappool_t **p);

/* The handle given back last (its ring is the warmest), else the one cappool_warm opened if it
 * is ready, or NULL. The caller refilters it (capture_refilter) before reading. */
capture_t *cappool_take(cappool_t *p);

/* Starts opening one more handle (capture_open with these arguments, then capture_idle) on a
 * thread of its own, unless one is being opened or waits already; cappool_take hands it out
 * once it is open. A failed open is logged and forgotten: the run that needed it opens its own.
 * iface is copied. */
void cappool_warm(cappool_t *p, const char *iface, uint32_t addr, const lzr_addr_t *addr6,
                  uint16_t lo, uint16_t hi);

/* Keeps c, idle from now_ms on; closes it instead when the pool is full. *c is NULL after. */
void cappool_give(cappool_t *p, capture_t **c, uint64_t now_ms);

/* Closes the handles idle for CAPPOOL_IDLE_MS or more at now_ms; returns how many. A handle
 * cappool_warm opened and no run took counts as idle from the first call that finds it open. */
size_t cappool_expire(cappool_t *p, uint64_t now_ms);

/* Handles kept now, not counting one cappool_warm is opening or has opened. */
size_t cappool_count(const cappool_t *p);

/* Whether cappool_warm has a handle being opened or waiting to be taken. */
bool cappool_warming(cappool_t *p);

/* Whether a handle cappool_warm opened waits to be taken. */
bool cappool_warm_ready(cappool_t *p);

#endif
