/*
 * grow: see grow.h.
 */
#include "common/grow.h"

#include <stdlib.h>

void *grow(void *items, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return items;
    size_t want = *cap ? *cap * 2 : first;
    void *g = realloc(items, want * size);
    if (g)
        *cap = want;
    return g;
}
