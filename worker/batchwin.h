/*
 * batchwin: the agent's window of ResultBatch messages sent to the coordinator and not yet
 * acked. Each batch is packed once, with the next sequence number, and kept as bytes until its
 * Ack arrives; a batch unacked for BATCHWIN_RESEND_MS goes out again, and after a new Welcome
 * all of them do. At most AGENT_WINDOW batches are in flight: while the window is full the
 * records wait in the agent's queue (worker/recqueue.h). Sending goes through a callback, so
 * the window knows no socket.
 */
#ifndef LZR_BATCHWIN_H
#define LZR_BATCHWIN_H

#include "common/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCHWIN_RESEND_MS 3000 /* an unacked batch goes out again after this */
#define BATCHWIN_FLUSH_MS  200  /* a batch short of full waits at most this for more records */

typedef struct batchwin batchwin_t;

/* Sends one packed Envelope; the window keeps buf. */
typedef void (*batchwin_send_fn)(void *ctx, const uint8_t *buf, size_t len);

/* A window of at most `window` batches of at most batch_records records each; NULL when out
 * of memory. */
batchwin_t *batchwin_new(size_t window, size_t batch_records, batchwin_send_fn send, void *ctx);

/* Frees the window and every batch still in it; sets *wp to NULL. */
void batchwin_destroy(batchwin_t **wp);

/* Batches sent and not acked. */
size_t batchwin_pending(const batchwin_t *w);

/* Batches of shard (job, shard) sent and not acked: an agent running two shards reports one
 * done once its own batches are all acked. */
size_t batchwin_pending_shard(const batchwin_t *w, uint64_t job, uint32_t shard);

/* Whether a batch may be made now of `queued` waiting records: the window has room and there
 * is a full batch, or some records and BATCHWIN_FLUSH_MS have passed since the last batch. */
bool batchwin_due(const batchwin_t *w, size_t queued, uint64_t now_ms);

/* Where the caller puts the records of the next batch (batch_records of them at most). */
lzr_record_t *batchwin_records(batchwin_t *w);

/* Packs the first n records of batchwin_records into the next ResultBatch of shard (job,
 * shard), keeps it in the window and, when send_now, sends it. Returns LZR_OK, or a negative
 * code when it cannot be encoded (the records are then lost: logged). */
int batchwin_add(batchwin_t *w, uint64_t job, uint32_t shard, size_t n, uint64_t now_ms,
                 bool send_now);

/* Forgets the batch with sequence number seq; an unknown seq (a duplicate Ack) is ignored. */
void batchwin_ack(batchwin_t *w, uint64_t seq);

/* Sends again every batch sent BATCHWIN_RESEND_MS or more before now_ms. */
void batchwin_resend_due(batchwin_t *w, uint64_t now_ms);

/* Marks every batch as never sent, so the next batchwin_resend_due sends them all. */
void batchwin_resend_all(batchwin_t *w);

#endif
