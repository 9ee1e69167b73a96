/*
 * cappool: a stack of idle capture handles with the time each was given back (see cappool.h).
 * Taken from the top, so the handles used most stay in use and the rest age out from the bottom.
 * Beside it one slot for the handle being opened ahead of need, filled by its own thread under
 * a lock; everything else belongs to the agent's thread.
 */
#include "worker/cappool.h"

#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The handle cappool_warm opens: the open's arguments, its thread, and the result. */
typedef struct warm {
    char iface[IF_NAMESIZE];
    uint32_t addr;
    lzr_addr_t addr6;
    uint16_t lo, hi;
    pthread_t thread;
    bool started; /* a thread was started and not joined yet */
    bool seen;    /* cappool_expire found it finished, at seen_ms */
    uint64_t seen_ms;
    pthread_mutex_t lock;
    bool done;       /* under lock: the thread has finished */
    capture_t *made; /* under lock: its handle, or NULL after a failed open */
} warm_t;

struct cappool {
    capture_t *cap[CAPPOOL_MAX];
    uint64_t since_ms[CAPPOOL_MAX]; /* when each was given back */
    size_t n;
    size_t keep; /* n's bound: cappool_new's, at most CAPPOOL_MAX */
    warm_t warm;
};

cappool_t *cappool_new(size_t keep)
{
    cappool_t *p = calloc(1, sizeof(cappool_t));
    if (p) {
        p->keep = keep < CAPPOOL_MAX ? keep : CAPPOOL_MAX;
        pthread_mutex_init(&p->warm.lock, NULL);
    }
    return p;
}

/* Waits for the warming thread, if one ran, and returns its handle (NULL when none). */
static capture_t *warm_join(warm_t *w)
{
    if (!w->started)
        return NULL;
    pthread_join(w->thread, NULL);
    w->started = false;
    w->seen = false;
    capture_t *c = w->made;
    w->made = NULL;
    w->done = false;
    return c;
}

void cappool_destroy(cappool_t **p)
{
    if (!*p)
        return;
    capture_t *c = warm_join(&(*p)->warm);
    capture_close(&c);
    while ((*p)->n)
        capture_close(&(*p)->cap[--(*p)->n]);
    pthread_mutex_destroy(&(*p)->warm.lock);
    free(*p);
    *p = NULL;
}

/* Whether the warming thread has finished (its handle, if any, can be taken). */
static bool warm_done(warm_t *w)
{
    pthread_mutex_lock(&w->lock);
    bool done = w->done;
    pthread_mutex_unlock(&w->lock);
    return done;
}

capture_t *cappool_take(cappool_t *p)
{
    if (!p->n)
        return p->warm.started && warm_done(&p->warm) ? warm_join(&p->warm) : NULL;
    capture_t *c = p->cap[--p->n];
    p->cap[p->n] = NULL;
    return c;
}

static void *warm_main(void *arg)
{
    warm_t *w = arg;
    char err[512] = "";
    capture_t *c = capture_open(w->iface, w->addr, &w->addr6, w->lo, w->hi, err, sizeof err);
    if (c)
        capture_idle(c);
    else
        log_warn("opening a capture handle ahead of the next shard: %s", err);
    pthread_mutex_lock(&w->lock);
    w->made = c;
    w->done = true;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void cappool_warm(cappool_t *p, const char *iface, uint32_t addr, const lzr_addr_t *addr6,
                  uint16_t lo, uint16_t hi)
{
    warm_t *w = &p->warm;
    if (w->started) {
        if (!warm_done(w) || w->made)
            return;   /* being opened, or open and waiting */
        warm_join(w); /* an open that failed: try again */
    }
    snprintf(w->iface, sizeof w->iface, "%s", iface);
    w->addr = addr;
    w->addr6 = addr6 ? *addr6 : (lzr_addr_t){.family = ADDR_NONE};
    w->lo = lo;
    w->hi = hi;
    w->started = pthread_create(&w->thread, NULL, warm_main, w) == 0;
}

bool cappool_warming(cappool_t *p)
{
    return p->warm.started;
}

bool cappool_warm_ready(cappool_t *p)
{
    return p->warm.started && warm_done(&p->warm) && p->warm.made;
}

void cappool_give(cappool_t *p, capture_t **c, uint64_t now_ms)
{
    if (!*c)
        return;
    if (p->n >= p->keep) {
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
    /* A handle opened ahead of need that no run took ages from when it was first seen open. */
    warm_t *w = &p->warm;
    size_t warm_closed = 0;
    if (w->started && !w->seen && warm_done(w)) {
        w->seen = true;
        w->seen_ms = now_ms;
    } else if (w->seen && now_ms - w->seen_ms >= CAPPOOL_IDLE_MS) {
        capture_t *c = warm_join(w);
        warm_closed = c ? 1 : 0;
        capture_close(&c);
    }
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
    return k + warm_closed;
}

size_t cappool_count(const cappool_t *p)
{
    return p->n;
}
