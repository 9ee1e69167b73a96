/*
 * blocks: aggregation of per-address behaviours into blocks of consecutive addresses (the
 * paper's Figure 4). A host's behaviour is its multi-vantage verdict when that names one
 * (shunning, dynamic_blocking, blocking, churn), otherwise what its ports showed (service, a
 * middlebox class, closed). Consecutive addresses with the same behaviour form one block; the
 * block table counts, per behaviour, the blocks of each size: /32 (one address), /31–/25
 * (2–128), /24 (129–256) and larger.
 */
#ifndef LZR_BLOCKS_H
#define LZR_BLOCKS_H

#include "common/record.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    BLOCK_BIN_32,
    BLOCK_BIN_31_25,
    BLOCK_BIN_24,
    BLOCK_BIN_LARGER,
    BLOCK_BINS
} block_bin_t;

typedef struct block {
    uint32_t first, last; /* inclusive, host byte order */
    char behaviour[24];
} block_t;

typedef struct blocks {
    block_t *v;
    size_t n, cap;
} blocks_t;

/* One row of the block table. */
typedef struct blocks_row {
    char behaviour[24];
    uint64_t addresses;
    uint64_t blocks;
    uint64_t bins[BLOCK_BINS];
} blocks_row_t;

/* The size bin of a block of size addresses (size ≥ 1). */
block_bin_t blocks_bin(uint64_t size);

/* "/32", "/31-/25", "/24", "larger". */
const char *blocks_bin_name(block_bin_t b);

/* The behaviour of one host from the classes of its n stored rows and its verdict (NULL or
 * "" when none): the verdict if it names a behaviour; else "service" if any port is a
 * service; else the one class its answering ports share (lost_after_synack gives way to any
 * other); "mixed" when they differ; "closed" when every port refused; NULL when nothing
 * answered (the address is not a host and ends any block). */
const char *blocks_behaviour(const lzr_class_t *cls, size_t n, const char *verdict);

/* Adds a host; hosts must come in ascending address order. Extends the last block when ip
 * follows it and the behaviour matches. Returns LZR_OK, LZR_EINVAL (out of order) or
 * LZR_ENOMEM. */
int blocks_add(blocks_t *b, uint32_t ip, const char *behaviour);

/* Frees the blocks and empties b. */
void blocks_free(blocks_t *b);

/* The block table: one row per behaviour, most addresses first (ties by name), in a malloc'd
 * array. */
int blocks_table(const blocks_t *b, blocks_row_t **rows, size_t *n);

#endif
