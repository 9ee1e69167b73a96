/*
 * cappool: a stack of idle capture handles with the time each was given back (see cappool.h).
 * Taken from the top, so the handles used most stay in use and the rest age out from the bottom.
 */
#include "worker/cappool.h"

#include <stdlib.h>
#include <string.h>

struct cappool {
    capture_t *cap[CAPPOOL_MAX];
    uint64_t since_ms[CAPPOOL_MAX]; /* when each was given back */
    size_t n;
};

cappool_t *cappool_new(void)
{
    return calloc(1, sizeof(cappool_t));
}

void cappool_destroy(cappool_t **p)
{
    if (!*p)
        return;
    while ((*p)->n)
        capture_close(&(*p)->cap[--(*p)->n]);
    free(*p);
    *p = NULL;
}

capture_t *cappool_take(cappool_t *p)
{
    if (!p->n)
        return NULL;
    capture_t *c = p->cap[--p->n];
    p->cap[p->n] = NULL;
    return c;
}

void cappool_give(cappool_t *p, capture_t **c, uint64_t now_ms)
{
    if (!*c)
        return;
    if (p->n == CAPPOOL_MAX) {
        capture_close(c);
        return;
    }
    capture_idle(*c);
    p->cap[p->n] = *c;
    p->since_ms[p->n++] = now_ms;
    *c = NULL;
}

size_t cappool_expire(cappool_t *p, uint64_t now_ms)
{
    /* The oldest are at the bottom: close from there while they are due, then close the gap. */
    size_t k = 0;
    while (k < p->n && now_ms - p->since_ms[k] >= CAPPOOL_IDLE_MS)
        capture_close(&p->cap[k++]);
    if (k) {
        memmove(p->cap, p->cap + k, (p->n - k) * sizeof p->cap[0]);
        memmove(p->since_ms, p->since_ms + k, (p->n - k) * sizeof p->since_ms[0]);
        p->n -= k;
        memset(p->cap + p->n, 0, k * sizeof p->cap[0]);
    }
    return k;
}

size_t cappool_count(const cappool_t *p)
{
    return p->n;
}
