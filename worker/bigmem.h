/*
 * bigmem: zeroed memory for the worker's large tables (the connection pool and index, the timer
 * wheel's nodes), sized for a million connections and touched at random as a scan goes.
 */
#ifndef LZR_WORKER_BIGMEM_H
#define LZR_WORKER_BIGMEM_H

#include <stddef.h>

/* bytes of zeroed memory, or NULL when there is none; free it with bigmem_free(p, bytes). */
void *bigmem_zalloc(size_t bytes);

/* Gives back what bigmem_zalloc(bytes) returned (NULL is ignored). */
void bigmem_free(void *p, size_t bytes);

#endif
