/*
 * verify: the coordinator's side of multi-vantage verification (DESIGN.md §1 step 4,
 * docs/verification.md). Once a job's shards are all done, its candidate hosts (store.h's
 * rule; one port each) are re-probed at the same moment from the
 * original scan IP and from a fresh IP of another worker that has never contacted the host;
 * hosts that treat the original IP worse than the fresh one get the trigger test from a further
 * fresh IP. Fresh IPs are burned per host in the store's contacts table before they are used, so a
 * restart never uses one twice. The module talks to workers through a send callback, so the
 * coordinator owns the sockets and the tests can stand in for the workers' answers.
 */
#ifndef LZR_COORD_VERIFY_H
#define LZR_COORD_VERIFY_H

#include "common/verdict.h"
#include "coordinator/store.h"
#include "proto/lzr.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERIFY_MAX_FRESH    16
#define VERIFY_ROUND        128       /* candidates verified together */
#define VERIFY_WAIT_ORIG_US 30000000u /* how long to wait for an original worker to come back */
#define VERIFY_SLACK_US     15000000u /* on top of the attempts' own time before giving up */
#define VERIFY_LEAD_US      300000u   /* start time of a compare round, from now */

/* A connected worker, as verification sees it. */
typedef struct verify_worker {
    char name[64];
    lzr_addr_t scan_ip, scan_ip6;           /* scan_ip6 ADDR_NONE when it has none */
    lzr_addr_t fresh[2 * VERIFY_MAX_FRESH]; /* its fresh IPs of both families */
    size_t n_fresh;
} verify_worker_t;

/* Sends req to the named worker; returns LZR_OK or a negative code. */
typedef int (*verify_send_fn)(void *ctx, const char *worker, const Lzr__VerifyRequest *req);

typedef struct verify_job verify_job_t;

/* A verification pass over job's candidates; timeout_ms bounds each connection attempt; n_ports
 * is the number of ports the job probes on each host (store_candidates). */
verify_job_t *verify_job_new(uint64_t job_id, uint32_t timeout_ms, uint32_t n_ports,
                             uint64_t now_us);

/* Frees a pass and sets *v to NULL. */
void verify_job_free(verify_job_t **v);

/* The job this pass verifies. */
uint64_t verify_job_id(const verify_job_t *v);

/* Advances the pass: starts a round of candidates, moves from the compare step to the trigger
 * step when the answers are in (or overdue), stores the round's verdicts. Returns true once
 * every candidate of the job has a verdict. */
bool verify_job_step(verify_job_t *v, store_t *s, const verify_worker_t *w, size_t nw,
                     verify_send_fn send, void *ctx, uint64_t now_us);

/* Hands a worker's VerifyResult to the pass; results of unknown tasks are ignored. */
void verify_job_result(verify_job_t *v, const char *worker, const Lzr__VerifyResult *r);

/* Writes the evidence of one verdict as a JSON object into buf: the candidate reason, the
 * answers (verdict_answers_json), the workers and IPs involved and a note; returns its length
 * (0 when cap is too small). note and the names may be NULL. verdict_evidence_parse reads the
 * reason and the answers back. */
size_t verify_evidence_json(const verify_evidence_t *e, uint16_t random_port,
                            const char *orig_worker, const char *fresh_worker,
                            const lzr_addr_t *trigger_ip, const char *trigger_worker,
                            const char *note, char *buf, size_t cap);

#endif
