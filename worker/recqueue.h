/*
 * recqueue: the agent's queue of records between the engine's receive thread, which produces
 * them, and the agent's main thread, which ships them to the coordinator and frees them once
 * acked. A fixed ring takes the records; past it, records spill into a list allocated record by
 * record, so the producer never waits for the coordinator. Backpressure goes to the SYN walk
 * instead: from the high-water mark (half the ring) the queue raises the hold flag it was
 * given, and lowers it once the consumer has taken it under the low-water mark (a quarter).
 * Thread-safe; no I/O.
 */
#ifndef LZR_RECQUEUE_H
#define LZR_RECQUEUE_H

#include "common/record.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct recqueue recqueue_t;

/* A queue whose ring holds ring_records records (at least 4); NULL when out of memory. */
recqueue_t *recqueue_new(size_t ring_records);

/* Frees the queue, its ring and its spilled records, and sets *qp to NULL. */
void recqueue_destroy(recqueue_t **qp);

/* The flag the queue raises over the high-water mark and lowers under the low-water mark (the
 * engine's `hold`), or NULL for none. The caller keeps it alive until it attaches another. */
void recqueue_attach_hold(recqueue_t *q, _Atomic bool *hold);

/* Appends a copy of r. Past the ring the record spills; only when memory for that runs out does
 * the call wait for room in the ring, giving up (and dropping r) once *stop is non-zero.
 * Returns true when this record took the queue over its high-water mark. */
bool recqueue_push(recqueue_t *q, const lzr_record_t *r, const atomic_int *stop);

/* Moves up to max of the oldest records into out and returns how many; refills the ring from
 * the spill list and lowers the hold flag once under the low-water mark. */
size_t recqueue_take(recqueue_t *q, lzr_record_t *out, size_t max);

/* Records queued in all (ring and spill). */
size_t recqueue_count(recqueue_t *q);

/* Records queued past the ring. */
size_t recqueue_spilled(recqueue_t *q);

/* Whether the queue holds the producer (between the marks, the last mark crossed decides). */
bool recqueue_held(recqueue_t *q);

/* Drops every queued record and lowers the hold flag. */
void recqueue_clear(recqueue_t *q);

/* Wakes a push waiting for room, so it sees that its stop flag changed. */
void recqueue_wake(recqueue_t *q);

#endif
