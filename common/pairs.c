/*
 * pairs: sorting and lookup of (address, port) keys (see pairs.h).
 */
#include "common/pairs.h"

#include <stdlib.h>

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t pairs_sort_unique(uint64_t *keys, size_t n)
{
    if (n == 0)
        return 0;
    qsort(keys, n, sizeof *keys, cmp_key);
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (keys[i] != keys[out - 1])
            keys[out++] = keys[i];
    return out;
}

int64_t pairs_index_of(const uint64_t *keys, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == key ? (int64_t)lo : -1;
}
