/*
 * verify_task: one VerifyRequest from the coordinator, worked on a short-lived thread of its
 * own (worker/verify.h makes the connections) so the agent's heartbeats go on while the
 * attempts wait for their answers. The agent keeps at most one task at a time, polls it, and
 * sends its VerifyResult through a callback; this module knows no socket.
 */
#ifndef LZR_VERIFY_TASK_H
#define LZR_VERIFY_TASK_H

#include "common/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct verify_task verify_task_t;

/* Sends one message to the coordinator. */
typedef void (*verify_task_send_fn)(void *ctx, Lzr__Envelope *env);

/* Checks request m (a known phase, at most 4096 attempts, each of one family, from one of this
 * worker's IPs own[0..n_own) — its scan IPs and fresh IPs of both families — to a real port)
 * and starts it. Returns NULL with the reason in err when it is refused or cannot start; the
 * caller answers with verify_task_refuse. */
verify_task_t *verify_task_start(const Lzr__VerifyRequest *m, const lzr_addr_t *own, size_t n_own,
                                 char *err, size_t errlen);

/* Whether the task's thread has finished its attempts. */
bool verify_task_finished(const verify_task_t *t);

/* Sends the VerifyResult of a finished task (its answers, or its error). */
void verify_task_reply(const verify_task_t *t, verify_task_send_fn send, void *ctx);

/* Sends the VerifyResult that refuses request m with reason error. */
void verify_task_refuse(const Lzr__VerifyRequest *m, const char *error, verify_task_send_fn send,
                        void *ctx);

/* Waits for the task's thread (bounded by its timeouts), frees the task, sets *tp to NULL. */
void verify_task_free(verify_task_t **tp);

#endif
