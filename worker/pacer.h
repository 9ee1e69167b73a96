/*
 * pacer: a token bucket that keeps the discovery rate at the requested probes per second. The
 * bucket holds at most a small burst, so a stall is not followed by a flood.
 */
#ifndef LZR_PACER_H
#define LZR_PACER_H

#include <stdint.h>

typedef struct pacer {
    uint64_t rate;      /* tokens per second; 0 = unlimited */
    uint64_t burst;     /* most tokens held at once */
    uint64_t last_ns;   /* time of the last refill */
    uint64_t tokens_fp; /* tokens × 1e9, so sub-token refills are not lost */
} pacer_t;

/* Starts a bucket at now_ns for rate tokens/s (0 = unlimited), holding at most burst tokens. */
void pacer_init(pacer_t *p, uint64_t rate, uint64_t burst, uint64_t now_ns);

/* Takes up to want tokens available at now_ns and returns how many it took. */
uint64_t pacer_take(pacer_t *p, uint64_t now_ns, uint64_t want);

/* Nanoseconds until one token is available (0 when one is). */
uint64_t pacer_wait_ns(const pacer_t *p, uint64_t now_ns);

#endif
