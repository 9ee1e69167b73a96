/*
 * blocks: aggregation of per-address behaviours into blocks of consecutive addresses (the
 * paper's Figure 4). A host's behaviour is its multi-vantage verdict when that names one
 * (shunning, dynamic_blocking, blocking, churn), otherwise what its ports showed (service, a
 * middlebox class, closed). Consecutive addresses of one family with the same behaviour form one
 * block (an IPv4 and an IPv6 address never share one); the block table counts, per family and
 * behaviour, the blocks of each size. The size bins are the same for both families, named as
 * prefixes of each: one address (/32, /128), 2–128 (/31–/25, /127–/121), 129–256 (/24, /120)
 * and larger.
 */
#ifndef LZR_BLOCKS_H
#define LZR_BLOCKS_H

#include "common/addr.h"
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
    lzr_addr_t first, last; /* inclusive, of one family */
    uint64_t size;          /* addresses from first to last */
    char behaviour[24];
} block_t;

typedef struct blocks {
    block_t *v;
    size_t n, cap;
} blocks_t;

/* One row of the block table: the blocks of one behaviour in one family. */
typedef struct blocks_row {
    addr_family_t family;
    char behaviour[24];
    uint64_t addresses;
    uint64_t blocks;
    uint64_t bins[BLOCK_BINS];
} blocks_row_t;

/* The size bin of a block of size addresses (size ≥ 1). */
block_bin_t blocks_bin(uint64_t size);

/* The bin's name as a prefix of family f: "/32", "/31-/25", "/24", "larger" for IPv4; "/128",
 * "/127-/121", "/120", "larger" for IPv6. */
const char *blocks_bin_name(addr_family_t f, block_bin_t b);

/* The behaviour of one host from the classes of its n stored rows and its verdict (NULL or
 * "" when none): the verdict if it names a behaviour; else "service" if any port is a
 * service; else the one class its answering ports share (lost_after_synack gives way to any
 * other); "mixed" when they differ; "closed" when every port refused; NULL when nothing
 * answered (the address is not a host and ends any block). */
const char *blocks_behaviour(const lzr_class_t *cls, size_t n, const char *verdict);

/* Adds a host of either family; hosts must come in ascending addr_compare order (the store's:
 * all IPv4, then all IPv6). Extends the last block when ip is one more than its last address, of
 * the same family, and the behaviour matches. Returns LZR_OK, LZR_EINVAL (out of order, or no
 * address) or LZR_ENOMEM. */
int blocks_add(blocks_t *b, const lzr_addr_t *ip, const char *behaviour);

/* Frees the blocks and empties b. */
void blocks_free(blocks_t *b);

/* The block table: one row per family and behaviour, the IPv4 rows before the IPv6 rows, each
 * family's most addresses first (ties by name), in a malloc'd array the caller frees. */
int blocks_table(const blocks_t *b, blocks_row_t **rows, size_t *n);

#endif
