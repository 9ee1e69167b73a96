/*
 * permutation: a ZMap-style cyclic walk of the (address × port) product. Elements 1..p-1 of the
 * multiplicative group modulo a prime p just above the product size are visited in the order
 * start·g^k (k = 0, 1, …); those above the size are skipped. Generator and start come from a
 * 64-bit seed, so every host that knows (size, seed) computes the same order. A shard is a
 * contiguous range [begin, end) of cycle positions k, so N shards that tile [0, p-1) together
 * yield every element exactly once.
 */
#ifndef LZR_PERMUTATION_H
#define LZR_PERMUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct perm_params {
    uint64_t size;      /* elements 0..size-1 */
    uint64_t prime;     /* smallest prime > size (and ≥ 3) */
    uint64_t generator; /* a primitive root modulo prime */
    uint64_t start;     /* the element at cycle position 0, in 1..prime-1 */
} perm_params_t;

typedef struct perm_iter {
    perm_params_t p;
    uint64_t current; /* group element at position pos */
    uint64_t pos;
    uint64_t end;
} perm_iter_t;

/* Derives prime, generator and start for size elements from seed. size must be ≥ 1 and below
 * 2^62; returns LZR_OK or LZR_ERANGE. */
int perm_init(perm_params_t *p, uint64_t size, uint64_t seed);

/* Number of cycle positions (prime − 1); shards tile [0, perm_cycle_len). */
uint64_t perm_cycle_len(const perm_params_t *p);

/* The range of positions of shard i of n: [i·L/n, (i+1)·L/n). */
void perm_shard_range(const perm_params_t *p, uint32_t i, uint32_t n, uint64_t *begin,
                      uint64_t *end);

/* Range i of n equal parts of positions [0, span): [i·span/n, (i+1)·span/n); both span when
 * n is 0 or i ≥ n. */
void perm_split_range(uint64_t span, uint32_t i, uint32_t n, uint64_t *begin, uint64_t *end);

/* The end of the shortest prefix of cycle positions [0, end) that yields exactly n elements
 * (perm_cycle_len when n ≥ size): a job bounded to n probes shards only that prefix. Walks at
 * most half the cycle. */
uint64_t perm_prefix_end(const perm_params_t *p, uint64_t n);

/* Starts an iterator over positions [begin, end) (O(log p) to seek). */
void perm_iter_init(perm_iter_t *it, const perm_params_t *p, uint64_t begin, uint64_t end);

/* Stores the next element (0 ≤ *out < size) and returns true, or false when the range is done. */
bool perm_next(perm_iter_t *it, uint64_t *out);

/* Parses a bound on the probes of a walk of size elements: "N" (a count of (address, port)
 * pairs, as ZMap's -n) or "P%" (0 < P ≤ 100, up to two decimals: that share of size, rounded
 * up — the permutation's order is seeded random, so its first P% is a seeded random sample).
 * Returns LZR_OK with *out set, or LZR_EPARSE / LZR_ERANGE with a message naming text. */
int perm_parse_limit(const char *text, uint64_t size, uint64_t *out, char *err, size_t errlen);

#endif
