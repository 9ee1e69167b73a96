/*
 * grow: the one way our arrays grow. An array of items of one size, with a count and a
 * capacity kept by its owner, doubles when it is full.
 */
#ifndef LZR_GROW_H
#define LZR_GROW_H

#include <stddef.h>

/* Room for item n of the array items (*cap items of size bytes): when n == *cap, reallocates it
 * to twice the capacity (first items the first time), updates *cap and returns the new array;
 * otherwise returns items. NULL when memory runs out; items and *cap are then unchanged. */
void *grow(void *items, size_t n, size_t *cap, size_t size, size_t first);

#endif
