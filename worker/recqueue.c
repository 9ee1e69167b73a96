/*
 * recqueue: a ring of whole records plus a FIFO list of spilled records, each allocated to the
 * length of its data, under one mutex. The ring stays in order with the spill list: while any
 * record is spilled, new records spill too, and taking refills the ring from the list's head.
 */
#include "worker/recqueue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct spill {
    struct spill *next;
    size_t len;
    unsigned char rec[]; /* the first len bytes of an lzr_record_t: its fields and its data */
} spill_t;

struct recqueue {
    pthread_mutex_t lock;
    pthread_cond_t not_full;
    lzr_record_t *ring;
    size_t cap, head, len;
    spill_t *spill_head, *spill_tail;
    size_t n_spill;
    bool held;
    _Atomic bool *hold;
};

recqueue_t *recqueue_new(size_t ring_records)
{
    if (ring_records < 4)
        return NULL;
    recqueue_t *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = calloc(ring_records, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = ring_records;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

/* Frees the spill list and empties the ring (lock held). */
static void drop_all(recqueue_t *q)
{
    while (q->spill_head) {
        spill_t *s = q->spill_head;
        q->spill_head = s->next;
        free(s);
    }
    q->spill_tail = NULL;
    q->n_spill = 0;
    q->len = 0;
}

void recqueue_destroy(recqueue_t **qp)
{
    recqueue_t *q = *qp;
    if (!q)
        return;
    drop_all(q);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
    *qp = NULL;
}

void recqueue_attach_hold(recqueue_t *q, _Atomic bool *hold)
{
    pthread_mutex_lock(&q->lock);
    q->hold = hold;
    pthread_mutex_unlock(&q->lock);
}

/* Bytes of r worth keeping: the fields and the data it holds. */
static size_t record_size(const lzr_record_t *r)
{
    return offsetof(lzr_record_t, data) + (r->data_len <= LZR_DATA_MAX ? r->data_len : 0);
}

static void ring_put(recqueue_t *q, const void *rec, size_t len)
{
    memcpy(&q->ring[(q->head + q->len) % q->cap], rec, len);
    q->len++;
}

static bool spill(recqueue_t *q, const lzr_record_t *r)
{
    spill_t *s = malloc(sizeof *s + record_size(r));
    if (!s)
        return false;
    s->len = record_size(r);
    memcpy(s->rec, r, s->len);
    s->next = NULL;
    if (q->spill_tail)
        q->spill_tail->next = s;
    else
        q->spill_head = s;
    q->spill_tail = s;
    q->n_spill++;
    return true;
}

/* Out of memory for a spill: wait for room in the ring after all, 100 ms at a time so that a
 * stop flag set without recqueue_wake is still seen (lock held). */
static void wait_for_room(recqueue_t *q, const lzr_record_t *r, const atomic_int *stop)
{
    while (q->len == q->cap && !atomic_load(stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&q->not_full, &q->lock, &ts);
    }
    if (q->len < q->cap)
        ring_put(q, r, sizeof *r);
}

bool recqueue_push(recqueue_t *q, const lzr_record_t *r, const atomic_int *stop)
{
    pthread_mutex_lock(&q->lock);
    if (q->len < q->cap && !q->spill_head)
        ring_put(q, r, sizeof *r);
    else if (!spill(q, r))
        wait_for_room(q, r, stop);
    bool crossed = false;
    if (q->len + q->n_spill >= q->cap / 2 && !q->held) {
        q->held = crossed = true;
        if (q->hold)
            atomic_store(q->hold, true);
    }
    pthread_mutex_unlock(&q->lock);
    return crossed;
}

/* Moves spilled records into the ring while it has room (lock held). */
static void unspill(recqueue_t *q)
{
    while (q->spill_head && q->len < q->cap) {
        spill_t *s = q->spill_head;
        ring_put(q, s->rec, s->len);
        q->spill_head = s->next;
        if (!q->spill_head)
            q->spill_tail = NULL;
        q->n_spill--;
        free(s);
    }
}

size_t recqueue_take(recqueue_t *q, lzr_record_t *out, size_t max)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->len < max ? q->len : max;
    for (size_t i = 0; i < n; i++)
        out[i] = q->ring[(q->head + i) % q->cap];
    q->head = (q->head + n) % q->cap;
    q->len -= n;
    unspill(q);
    if (q->len + q->n_spill < q->cap / 4) {
        q->held = false;
        if (q->hold)
            atomic_store(q->hold, false);
    }
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t recqueue_count(recqueue_t *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->len + q->n_spill;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t recqueue_spilled(recqueue_t *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->n_spill;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool recqueue_held(recqueue_t *q)
{
    pthread_mutex_lock(&q->lock);
    bool held = q->held;
    pthread_mutex_unlock(&q->lock);
    return held;
}

void recqueue_clear(recqueue_t *q)
{
    pthread_mutex_lock(&q->lock);
    drop_all(q);
    q->held = false;
    if (q->hold)
        atomic_store(q->hold, false);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

void recqueue_wake(recqueue_t *q)
{
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
