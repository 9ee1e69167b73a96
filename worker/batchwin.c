/*
 * batchwin: a small array of packed batches (order does not matter: acks find theirs by
 * sequence number) and the scratch arrays one batch is built in, allocated once per agent.
 */
#include "worker/batchwin.h"

#include "common/err.h"
#include "common/log.h"
#include "common/wire.h"

#include <stdlib.h>

typedef struct pending_batch {
    uint64_t seq;
    uint64_t job;
    uint32_t shard;
    uint8_t *buf;
    size_t len;
    uint64_t sent_ms;
} pending_batch_t;

struct batchwin {
    batchwin_send_fn send;
    void *ctx;
    size_t cap, n;
    pending_batch_t *win;
    size_t batch_records;
    lzr_record_t *recs; /* the next batch's records, filled by the caller */
    Lzr__Record *msgs;
    Lzr__Record **msg_ptrs;
    uint64_t next_seq;
    uint64_t last_flush_ms;
};

batchwin_t *batchwin_new(size_t window, size_t batch_records, batchwin_send_fn send, void *ctx)
{
    batchwin_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->send = send;
    w->ctx = ctx;
    w->cap = window;
    w->batch_records = batch_records;
    w->win = calloc(window, sizeof *w->win);
    w->recs = calloc(batch_records, sizeof *w->recs);
    w->msgs = calloc(batch_records, sizeof *w->msgs);
    w->msg_ptrs = calloc(batch_records, sizeof *w->msg_ptrs);
    if (!w->win || !w->recs || !w->msgs || !w->msg_ptrs)
        batchwin_destroy(&w);
    return w;
}

void batchwin_destroy(batchwin_t **wp)
{
    batchwin_t *w = *wp;
    if (!w)
        return;
    for (size_t i = 0; w->win && i < w->n; i++)
        free(w->win[i].buf);
    free(w->win);
    free(w->recs);
    free(w->msgs);
    free(w->msg_ptrs);
    free(w);
    *wp = NULL;
}

size_t batchwin_pending(const batchwin_t *w)
{
    return w->n;
}

size_t batchwin_pending_shard(const batchwin_t *w, uint64_t job, uint32_t shard)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        n += w->win[i].job == job && w->win[i].shard == shard;
    return n;
}

bool batchwin_due(const batchwin_t *w, size_t queued, uint64_t now_ms)
{
    if (w->n == w->cap || queued == 0)
        return false;
    return queued >= w->batch_records || now_ms - w->last_flush_ms >= BATCHWIN_FLUSH_MS;
}

lzr_record_t *batchwin_records(batchwin_t *w)
{
    return w->recs;
}

int batchwin_add(batchwin_t *w, uint64_t job, uint32_t shard, size_t n, uint64_t now_ms,
                 bool send_now)
{
    if (w->n == w->cap || n > w->batch_records)
        return LZR_EINVAL;
    for (size_t i = 0; i < n; i++) {
        wire_record_from(&w->msgs[i], &w->recs[i]);
        w->msg_ptrs[i] = &w->msgs[i];
    }
    Lzr__Lease lease = LZR__LEASE__INIT;
    lease.job_id = job;
    lease.shard = shard;
    Lzr__ResultBatch b = LZR__RESULT_BATCH__INIT;
    b.lease = &lease;
    b.seq = ++w->next_seq;
    b.n_records = n;
    b.records = w->msg_ptrs;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    pending_batch_t *p = &w->win[w->n];
    int rc = wire_pack(&env, &p->buf, &p->len);
    if (rc != LZR_OK) {
        log_error("cannot encode a batch of %zu records", n);
        return rc;
    }
    p->seq = b.seq;
    p->job = job;
    p->shard = shard;
    p->sent_ms = now_ms;
    w->n++;
    w->last_flush_ms = now_ms;
    if (send_now)
        w->send(w->ctx, p->buf, p->len);
    return LZR_OK;
}

void batchwin_ack(batchwin_t *w, uint64_t seq)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->win[i].seq == seq) {
            free(w->win[i].buf);
            w->win[i] = w->win[--w->n];
            return;
        }
    }
}

void batchwin_resend_due(batchwin_t *w, uint64_t now_ms)
{
    for (size_t i = 0; i < w->n; i++) {
        if (now_ms - w->win[i].sent_ms >= BATCHWIN_RESEND_MS) {
            w->send(w->ctx, w->win[i].buf, w->win[i].len);
            w->win[i].sent_ms = now_ms;
        }
    }
}

void batchwin_resend_all(batchwin_t *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->win[i].sent_ms = 0;
}
