/*
 * lzr: the LZR state machine of one worker (the paper's Algorithm 1, grown). It starts at a
 * validated SYN-ACK, answers with an ACK that carries the first handshake's payload, watches
 * whether the target accepts data, acknowledges it, answers, resets, closes or keeps
 * retransmitting its SYN-ACK, opens the next handshake on a new connection when nothing came
 * back, and classifies the target, IPv4 or IPv6 alike (an IPv6 target is known by its index in
 * the scan's targets6). All of it runs on the engine's receive thread: frames and
 * clock ticks in, frames and records out. Nothing is allocated after lzr_new.
 */
#ifndef LZR_LZR_H
#define LZR_LZR_H

#include "worker/engine.h"
#include "worker/send.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lzr lzr_t;

/* A state machine for cfg that sends through tx with the given MACs, emits records through
 * emit(ctx, …) and holds at most capacity connections. The config and sender are borrowed and
 * must outlive it. NULL when out of memory. */
lzr_t *lzr_new(const engine_config_t *cfg, sender_t *tx, const uint8_t src_mac[6],
               const uint8_t dst_mac[6], engine_emit_fn emit, void *ctx, uint32_t capacity,
               uint64_t now_us);

/* Sets the next hop's MAC for frames to IPv6 targets (by default the one lzr_new was given). */
void lzr_set_next_hop6(lzr_t *l, const uint8_t mac[6]);

/* Parses a fallback list ("mqtt,redis,postgres") into out: names with a probe, no repeats, at
 * most HANDSHAKE_MAX_FALLBACK. An empty or blank csv means no fallback tier and returns 0; else
 * the count, or a negative code with a message naming the bad entry in err. */
int lzr_fallback_parse(const char *csv, const handshake_t *out[HANDSHAKE_MAX_FALLBACK], char *err,
                       size_t errlen);

/* Frees everything and sets *l to NULL. Connections still open are dropped unreported. */
void lzr_destroy(lzr_t **l);

/* Feeds one captured frame of the given pcap link type received at now_us. */
void lzr_on_frame(lzr_t *l, const uint8_t *frame, size_t len, int linktype, uint64_t now_us);

/* Fires the timers due by due_us and flushes the frames they produced; what they send and arm
 * is timed from now_us. due_us is at most now_us: the time up to which every captured frame
 * has been fed, so that no timeout fires while the reply it waits for sits unread. */
void lzr_on_time(lzr_t *l, uint64_t now_us, uint64_t due_us);

/* With report_all, emits a silent record for every target at cycle positions [pos_begin,
 * pos_end) — a part of the shard the walk covered — that never answered and was probed.
 * Call after the last frame, once for each slice a walker covered. */
void lzr_report_silent(lzr_t *l, uint64_t pos_begin, uint64_t pos_end);

/* The scan was stopped (a cancelled shard, a worker told to quit): resets every connection
 * still open at its target and forgets it, without a verdict, so the targets keep no
 * half-open or idle connection of ours that a later scan from this source IP could run into.
 * Call after the last frame. */
void lzr_abort(lzr_t *l);

/* Connections in flight now. */
uint32_t lzr_in_flight(const lzr_t *l);

/* Adds this state machine's counters (replies, invalid, late, hits, classes, frames sent) to
 * s. */
void lzr_add_stats(const lzr_t *l, engine_stats_t *s);

#endif
