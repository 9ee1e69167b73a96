/*
 * timerwheel: timeouts for up to capacity connections, addressed by conntab id. A hashed wheel
 * of slots, each a doubly linked list threaded through a node array indexed by id, so
 * scheduling, rescheduling and cancelling are O(1) and nothing is allocated after _new. Timers
 * further out than one turn of the wheel stay in their slot until their turn comes.
 */
#ifndef LZR_TIMERWHEEL_H
#define LZR_TIMERWHEEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct timerwheel timerwheel_t;

typedef void (*timerwheel_fn)(void *ctx, uint32_t id);

/* A wheel for ids in [0, capacity) with tick_ms resolution and nslots slots, starting at now_ms.
 * NULL when out of memory or an argument is 0. */
timerwheel_t *timerwheel_new(uint32_t capacity, uint32_t tick_ms, uint32_t nslots, uint64_t now_ms);

/* Frees the wheel and sets *w to NULL. */
void timerwheel_destroy(timerwheel_t **w);

/* Arms id to fire at when_ms (a past time fires on the next advance); re-arms if armed. */
void timerwheel_schedule(timerwheel_t *w, uint32_t id, uint64_t when_ms);

/* Disarms id; harmless when not armed. */
void timerwheel_cancel(timerwheel_t *w, uint32_t id);

/* Calls fn(ctx, id) once for every timer due at or before now_ms, earliest tick first; fn may
 * schedule or cancel any id, including the one firing. Returns how many fired. */
size_t timerwheel_advance(timerwheel_t *w, uint64_t now_ms, timerwheel_fn fn, void *ctx);

/* Number of armed timers. */
uint32_t timerwheel_armed(const timerwheel_t *w);

/* Bytes the wheel holds per id of capacity. */
size_t timerwheel_bytes_per_id(const timerwheel_t *w);

#endif
