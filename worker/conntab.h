/*
 * conntab: the worker's connection table. A fixed pool of conn_t (allocated once at start, never
 * per packet) with a stable id per slot, found by (family, address, port) through an
 * open-addressing index with linear probing and backward-shift deletion. Ids stay valid while the
 * entry lives, so the timer wheel can refer to connections by id.
 */
#ifndef LZR_CONNTAB_H
#define LZR_CONNTAB_H

#include "worker/conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct conntab conntab_t;

/* A table for up to capacity live connections; NULL when out of memory or capacity is 0. */
conntab_t *conntab_new(uint32_t capacity);

/* Frees the table and sets *t to NULL. */
void conntab_destroy(conntab_t **t);

/* A zeroed entry keyed (daddr, dport, v6), or NULL when the pool is full or the key exists. An
 * IPv4 target's daddr is its address; an IPv6 target's (v6 true) is its index in the scan's
 * targets6, so the two families never share a key. */
conn_t *conntab_insert(conntab_t *t, uint32_t daddr, uint16_t dport, bool v6);

/* The entry keyed (daddr, dport, v6), or NULL. */
conn_t *conntab_lookup(const conntab_t *t, uint32_t daddr, uint16_t dport, bool v6);

/* Removes c (returned by insert or lookup) and returns its slot to the pool. */
void conntab_remove(conntab_t *t, conn_t *c);

/* The stable id of c, in [0, capacity), and the entry of an id (NULL when no live entry has that
 * id, e.g. after its removal). */
uint32_t conntab_id(const conntab_t *t, const conn_t *c);
conn_t *conntab_get(const conntab_t *t, uint32_t id);

/* The live entry with the lowest id at or after *id, which is set to that id; NULL when there is
 * none. Removing the entry returned does not disturb a walk that goes on from *id + 1. */
conn_t *conntab_next(const conntab_t *t, uint32_t *id);

uint32_t conntab_count(const conntab_t *t);
uint32_t conntab_capacity(const conntab_t *t);

/* Bytes the index uses now: it grows with the live entries, up to twice the capacity's slots. */
size_t conntab_index_bytes(const conntab_t *t);

/* Bytes the table holds per connection of capacity (pool, and the index at its largest). */
size_t conntab_bytes_per_conn(const conntab_t *t);

#endif
