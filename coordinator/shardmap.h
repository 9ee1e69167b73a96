/*
 * shardmap: which shard of a job each target belongs to. A shard is a range of cycle positions
 * of the job's permutation, and going from a target back to its position is a discrete
 * logarithm, so the map is built once by walking the whole cycle (about one multiplication per
 * element) and kept as one 32-bit shard number per target. Only jobs of at most SHARDMAP_MAX
 * targets get one (16 MiB at most); the coordinator uses it to refuse results a worker sends
 * for targets outside the shard it holds.
 */
#ifndef LZR_SHARDMAP_H
#define LZR_SHARDMAP_H

#include "common/permutation.h"

#include <stdint.h>

#define SHARDMAP_MAX (1u << 22)

typedef struct shardmap shardmap_t;

/* Builds the map of a job of n_shards shards tiling cycle positions [0, span) of permutation p
 * (span: perm_cycle_len, or less for a job bounded by max_targets); NULL when p->size is above
 * SHARDMAP_MAX or memory runs out. */
shardmap_t *shardmap_new(const perm_params_t *p, uint64_t span, uint32_t n_shards);

/* The shard holding element (address index × number of ports + port index), or -1 when the
 * element is outside the job. */
int64_t shardmap_shard_of(const shardmap_t *m, uint64_t element);

/* Frees the map and sets *m to NULL. */
void shardmap_destroy(shardmap_t **m);

#endif
