/*
 * pacer: token bucket arithmetic in fixed point (tokens × 1e9) so rates from one probe a second
 * to millions are exact over time.
 */
#include "worker/pacer.h"

#define NS 1000000000ull

void pacer_init(pacer_t *p, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
    p->rate = rate;
    p->burst = burst ? burst : 1;
    p->last_ns = now_ns;
    p->tokens_fp = 0;
}

static void refill(pacer_t *p, uint64_t now_ns)
{
    if (now_ns <= p->last_ns)
        return;
    uint64_t elapsed = now_ns - p->last_ns;
    p->last_ns = now_ns;
    uint64_t cap = p->burst * NS;
    /* Past a second of idleness the bucket is full anyway; avoid overflow. */
    if (elapsed >= NS) {
        p->tokens_fp = cap;
        return;
    }
    p->tokens_fp += elapsed * p->rate;
    if (p->tokens_fp > cap)
        p->tokens_fp = cap;
}

uint64_t pacer_take(pacer_t *p, uint64_t now_ns, uint64_t want)
{
    if (p->rate == 0)
        return want;
    refill(p, now_ns);
    uint64_t have = p->tokens_fp / NS;
    uint64_t n = have < want ? have : want;
    p->tokens_fp -= n * NS;
    return n;
}

uint64_t pacer_wait_ns(const pacer_t *p, uint64_t now_ns)
{
    if (p->rate == 0)
        return 0;
    uint64_t elapsed = now_ns > p->last_ns ? now_ns - p->last_ns : 0;
    uint64_t fp = p->tokens_fp + (elapsed < NS ? elapsed * p->rate : NS * p->burst);
    if (fp >= NS)
        return 0;
    return (NS - fp + p->rate - 1) / p->rate;
}
