/*
 * pairs: a list of (address, port) pairs as sorted 64-bit keys (address << 16 | port). A job
 * whose targets_file names ports scans such a list instead of addresses × ports: the
 * permutation walks the list's indices, so element i is keys[i] on every host, and the
 * coordinator finds a result's element again by binary search.
 */
#ifndef LZR_PAIRS_H
#define LZR_PAIRS_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pair_key(uint32_t addr, uint16_t port)
{
    return (uint64_t)addr << 16 | port;
}

static inline uint32_t pair_addr(uint64_t key)
{
    return (uint32_t)(key >> 16);
}

static inline uint16_t pair_port(uint64_t key)
{
    return (uint16_t)(key & 0xffff);
}

/* Sorts keys and drops repeated ones; returns how many are left. */
size_t pairs_sort_unique(uint64_t *keys, size_t n);

/* The index of key in the sorted keys, or -1 when it is not there. */
int64_t pairs_index_of(const uint64_t *keys, size_t n, uint64_t key);

#endif
