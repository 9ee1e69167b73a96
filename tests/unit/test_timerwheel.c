/*
 * Unit tests for worker/timerwheel: firing order, timers more than one turn ahead, re-arming and
 * cancelling from inside callbacks (the firing timer itself and others due in the same advance),
 * past times, big jumps of the clock, and 10^5 random timers that must each fire exactly once,
 * never before their time and no later than the first advance of the tick after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/timerwheel.h"

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

#define MAXLOG 64

/* What callbacks saw, plus what they are told to do. */
typedef struct rec {
    timerwheel_t *w;
    uint64_t now;             /* the now_ms of the advance in progress */
    uint32_t log[MAXLOG];     /* ids in firing order */
    uint64_t log_now[MAXLOG]; /* now of the advance each fired in */
    size_t n;
    /* actions */
    uint32_t cancel_other; /* id to cancel when cancel_trigger fires */
    uint32_t cancel_trigger;
    uint32_t rearm_id; /* id that re-arms itself rearm_left times, rearm_step ms later */
    int rearm_left;
    uint64_t rearm_step;
    uint32_t move_other; /* id to push to move_to when move_trigger fires */
    uint32_t move_trigger;
    uint64_t move_to;
} rec_t;

static void rec_init(rec_t *r, timerwheel_t *w)
{
    memset(r, 0, sizeof(*r));
    r->w = w;
    r->cancel_trigger = r->rearm_id = r->move_trigger = UINT32_MAX;
}

static void on_fire(void *ctx, uint32_t id)
{
    rec_t *r = ctx;
    assert_true(r->n < MAXLOG);
    r->log[r->n] = id;
    r->log_now[r->n] = r->now;
    r->n++;
    if (id == r->cancel_trigger)
        timerwheel_cancel(r->w, r->cancel_other);
    if (id == r->move_trigger)
        timerwheel_schedule(r->w, r->move_other, r->move_to);
    if (id == r->rearm_id && r->rearm_left > 0) {
        r->rearm_left--;
        timerwheel_schedule(r->w, id, r->now + r->rearm_step);
    }
}

static size_t adv(rec_t *r, uint64_t now)
{
    r->now = now;
    return timerwheel_advance(r->w, now, on_fire, r);
}

static void test_order(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(16, 10, 8, 1000);
    assert_non_null(w);
    rec_t r;
    rec_init(&r, w);
    /* Scheduled out of order, some sharing a tick, some a slot but not a turn (8 slots × 10 ms). */
    timerwheel_schedule(w, 5, 1055);
    timerwheel_schedule(w, 1, 1010);
    timerwheel_schedule(w, 7, 1130); /* same slot as 1050 one turn later */
    timerwheel_schedule(w, 3, 1050);
    timerwheel_schedule(w, 2, 1020);
    timerwheel_schedule(w, 4, 1041); /* due at tick 105 (ceil) */
    assert_int_equal(timerwheel_armed(w), 6);
    assert_int_equal(adv(&r, 1009), 0);
    assert_int_equal(adv(&r, 1200), 6);
    const uint32_t want[] = {1, 2, 3, 4, 5, 7};
    assert_int_equal(r.n, 6);
    assert_memory_equal(r.log, want, sizeof(want));
    assert_int_equal(timerwheel_armed(w), 0);
    timerwheel_destroy(&w);
    assert_null(w);
}

/* Stepping one tick at a time, each timer fires on the first advance at or after its time. */
static void test_exact_ticks_and_far_future(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(8, 10, 4, 0); /* one turn = 40 ms */
    rec_t r;
    rec_init(&r, w);
    const uint64_t when[] = {10, 15, 40, 41, 170, 1000, 12345, 100000};
    for (uint32_t i = 0; i < 8; i++)
        timerwheel_schedule(w, i, when[i]);
    for (uint64_t now = 0; now <= 100010; now += 10) {
        adv(&r, now);
    }
    assert_int_equal(r.n, 8);
    for (size_t k = 0; k < r.n; k++) {
        uint64_t due = when[r.log[k]];
        assert_true(r.log_now[k] >= due);
        assert_true(r.log_now[k] < due + 10);
        assert_int_equal(r.log[k], k); /* in order */
    }
    timerwheel_destroy(&w);
}

static void test_reschedule_and_cancel(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(8, 10, 16, 0);
    rec_t r;
    rec_init(&r, w);

    /* Re-arming moves a timer; cancelling is harmless twice and on a never-armed id. */
    timerwheel_schedule(w, 0, 100);
    timerwheel_schedule(w, 0, 300);
    assert_int_equal(timerwheel_armed(w), 1);
    timerwheel_cancel(w, 1);
    assert_int_equal(adv(&r, 200), 0);
    assert_int_equal(adv(&r, 300), 1);
    timerwheel_schedule(w, 2, 400);
    timerwheel_cancel(w, 2);
    timerwheel_cancel(w, 2);
    assert_int_equal(timerwheel_armed(w), 0);
    assert_int_equal(adv(&r, 1000), 0);
    timerwheel_destroy(&w);
}

static void test_rearm_self_in_callback(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(4, 10, 8, 0);
    rec_t r;
    rec_init(&r, w);
    r.rearm_id = 1;
    r.rearm_left = 3;
    r.rearm_step = 25;
    timerwheel_schedule(w, 1, 20);
    /* Fires at 20, re-arms for 45 (fires at 50), 75 (80), 105 (110), then stays quiet. */
    for (uint64_t now = 0; now <= 300; now += 10)
        adv(&r, now);
    const uint64_t want_now[] = {20, 50, 80, 110};
    assert_int_equal(r.n, 4);
    assert_memory_equal(r.log_now, want_now, sizeof(want_now));
    assert_int_equal(r.rearm_left, 0);
    assert_int_equal(timerwheel_armed(w), 0);

    /* Re-arming at the same instant does not spin inside one advance: it waits for the next. */
    rec_init(&r, w);
    r.rearm_id = 2;
    r.rearm_left = 1000;
    r.rearm_step = 0;
    timerwheel_schedule(w, 2, 510);
    assert_int_equal(adv(&r, 510), 1);
    assert_int_equal(timerwheel_armed(w), 1);
    assert_int_equal(adv(&r, 510), 1); /* a past time fires on the next advance, same clock */
    assert_int_equal(adv(&r, 511), 1);
    timerwheel_cancel(w, 2);
    assert_int_equal(adv(&r, 600), 0);

    /* A callback runs while the wheel stands at its own tick, so anything it arms for a later
     * tick that is still within this advance's now fires in this same advance, in tick order:
     * 0 fires at tick 61, pulls 3 in to 650 (tick 65) and re-arms itself for 700 (tick 70). */
    rec_init(&r, w);
    timerwheel_schedule(w, 0, 610);
    timerwheel_schedule(w, 3, 900);
    r.move_trigger = 0;
    r.move_other = 3;
    r.move_to = 650;
    r.rearm_id = 0;
    r.rearm_left = 1;
    r.rearm_step = 0;
    assert_int_equal(adv(&r, 700), 3);
    const uint32_t want[] = {0, 3, 0};
    assert_memory_equal(r.log, want, sizeof(want));
    /* 0's second firing pulled 3 in to 650 again, now in the past: it fires on the next advance
     * even though the clock has not moved. */
    assert_int_equal(timerwheel_armed(w), 1);
    assert_int_equal(adv(&r, 700), 1);
    assert_int_equal(r.log[3], 3);
    assert_int_equal(adv(&r, 2000), 0);
    timerwheel_destroy(&w);
}

static void test_cancel_other_due_in_callback(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(8, 10, 8, 0);
    rec_t r;
    rec_init(&r, w);
    /* 0, 1 and 2 share tick 5; 0 fires first and cancels 1 (its neighbour in the slot list). */
    timerwheel_schedule(w, 0, 50);
    timerwheel_schedule(w, 1, 50);
    timerwheel_schedule(w, 2, 50);
    /* 3 is due later in the same advance; 2 cancels it. */
    timerwheel_schedule(w, 3, 70);
    timerwheel_schedule(w, 4, 80);
    r.cancel_trigger = 0;
    r.cancel_other = 1;
    r.move_trigger = 2;
    r.move_other = 3;
    r.move_to = 2000; /* push 3 far out instead of cancelling: it must not fire now */
    assert_int_equal(adv(&r, 100), 3);
    const uint32_t want[] = {0, 2, 4};
    assert_int_equal(r.n, 3);
    assert_memory_equal(r.log, want, sizeof(want));
    assert_int_equal(timerwheel_armed(w), 1);

    /* Cancel of the last one of a slot from its predecessor, and re-arming it into the slot being
     * fired one turn later (80 ms is one turn of 8 × 10 ms). */
    rec_init(&r, w);
    timerwheel_schedule(w, 5, 300);
    timerwheel_schedule(w, 6, 300);
    r.move_trigger = 5;
    r.move_other = 6;
    r.move_to = 380;
    assert_int_equal(adv(&r, 300), 1);
    assert_int_equal(adv(&r, 379), 0);
    assert_int_equal(adv(&r, 380), 1);
    assert_int_equal(r.log[1], 6);
    assert_int_equal(adv(&r, 1999), 0);
    assert_int_equal(adv(&r, 2000), 1);
    assert_int_equal(r.log[2], 3);
    timerwheel_destroy(&w);
}

static void test_past_times(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(4, 10, 8, 5000);
    rec_t r;
    rec_init(&r, w);
    timerwheel_schedule(w, 0, 0);
    timerwheel_schedule(w, 1, 4990);
    timerwheel_schedule(w, 2, 5000);
    timerwheel_schedule(w, 3, 5001); /* the next tick: not yet */
    assert_int_equal(adv(&r, 5000), 3);
    assert_int_equal(adv(&r, 5009), 0);
    assert_int_equal(adv(&r, 5010), 1);
    /* A clock that goes backwards fires nothing new and breaks nothing. */
    timerwheel_schedule(w, 0, 5100);
    assert_int_equal(adv(&r, 100), 0);
    assert_int_equal(adv(&r, 5100), 1);
    timerwheel_destroy(&w);
}

static void test_big_jump(void **state)
{
    (void)state;
    /* 1 ms ticks, 256 slots: a two-day jump is 1.7 × 10^8 ticks, which must not be walked. */
    timerwheel_t *w = timerwheel_new(8, 1, 256, 0);
    rec_t r;
    rec_init(&r, w);
    const uint64_t when[] = {5, 300, 5000, 3600000, 86400000, 86400001};
    for (uint32_t i = 0; i < 6; i++)
        timerwheel_schedule(w, i, when[i]);
    timerwheel_schedule(w, 7, 4ULL * 86400000); /* beyond the jump */
    assert_int_equal(adv(&r, 2ULL * 86400000), 6);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(r.log[i], i);
    assert_int_equal(timerwheel_armed(w), 1);
    assert_int_equal(adv(&r, 4ULL * 86400000 - 1), 0);
    assert_int_equal(adv(&r, 4ULL * 86400000), 1);

    /* An empty wheel jumps any distance at once, then works from there. */
    uint64_t far = 1ULL << 45;
    assert_int_equal(adv(&r, far), 0);
    timerwheel_schedule(w, 3, far + 2);
    timerwheel_schedule(w, 4, far - 5); /* in the past now */
    assert_int_equal(adv(&r, far + 1), 1);
    assert_int_equal(adv(&r, far + 2), 1);
    timerwheel_destroy(&w);
}

typedef struct bulk {
    uint64_t *when;
    uint32_t *fired;
    uint64_t now, prev_now;
    uint32_t tick;
    size_t errors;
} bulk_t;

static void on_bulk(void *ctx, uint32_t id)
{
    bulk_t *b = ctx;
    b->fired[id]++;
    uint64_t due_ms = (b->when[id] + b->tick - 1) / b->tick * b->tick;
    /* Never early; and not late: the previous advance had not reached the due tick. */
    if (b->now < b->when[id] || b->prev_now >= due_ms)
        b->errors++;
}

static void run_bulk(uint32_t n, uint32_t tick, uint32_t nslots, int irregular)
{
    timerwheel_t *w = timerwheel_new(n, tick, nslots, 0);
    bulk_t b = {0};
    b.when = calloc(n, sizeof(*b.when));
    b.fired = calloc(n, sizeof(*b.fired));
    b.tick = tick;
    assert_non_null(b.when);
    for (uint32_t i = 0; i < n; i++) {
        b.when[i] = 1 + rnd() % 200000; /* up to 200 s: many turns of the wheel */
        timerwheel_schedule(w, i, b.when[i]);
    }
    /* Re-arm a tenth of them elsewhere; the first time must be forgotten. */
    for (uint32_t i = 0; i < n; i += 10) {
        b.when[i] = 1 + rnd() % 200000;
        timerwheel_schedule(w, i, b.when[i]);
    }
    assert_int_equal(timerwheel_armed(w), n);
    size_t total = 0;
    while (b.now <= 200000 + tick) {
        b.prev_now = b.now;
        b.now += irregular ? 1 + rnd() % (3 * tick) : tick;
        total += timerwheel_advance(w, b.now, on_bulk, &b);
    }
    assert_int_equal(total, n);
    assert_int_equal(b.errors, 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(b.fired[i], 1);
    assert_int_equal(timerwheel_armed(w), 0);
    free(b.when);
    free(b.fired);
    timerwheel_destroy(&w);
}

static void test_100k_random_timers(void **state)
{
    (void)state;
    run_bulk(100000, 10, 512, 0); /* 5.12 s turn: most timers wait many turns */
    run_bulk(100000, 1, 4096, 1); /* 1 ms ticks, advances at irregular steps */
    run_bulk(2000, 7, 3, 1);      /* a tiny wheel, an odd tick */
}

/* A new wheel's ids start disarmed (its node array comes zeroed): cancelling any of them is a
 * no-op, and id 0 — whose index a zeroed link names — arms, fires and cancels like any other,
 * alone in its slot and beside its neighbours. */
static void test_zeroed_ids_disarmed(void **state)
{
    (void)state;
    timerwheel_t *w = timerwheel_new(4, 10, 8, 0);
    assert_non_null(w);
    for (uint32_t id = 0; id < 4; id++)
        timerwheel_cancel(w, id);
    assert_int_equal(timerwheel_armed(w), 0);
    rec_t r;
    rec_init(&r, w);
    timerwheel_schedule(w, 0, 20);
    assert_int_equal(timerwheel_armed(w), 1);
    assert_int_equal(adv(&r, 20), 1);
    assert_int_equal(r.log[0], 0);
    timerwheel_cancel(w, 0); /* fired: already disarmed */
    assert_int_equal(timerwheel_armed(w), 0);
    timerwheel_schedule(w, 1, 50);
    timerwheel_schedule(w, 0, 50);
    timerwheel_schedule(w, 2, 50);
    timerwheel_cancel(w, 0);
    timerwheel_cancel(w, 0);
    assert_int_equal(timerwheel_armed(w), 2);
    assert_int_equal(adv(&r, 50), 2);
    assert_int_equal(r.log[1], 1);
    assert_int_equal(r.log[2], 2);
    timerwheel_destroy(&w);
}

static void test_new_and_size(void **state)
{
    (void)state;
    assert_null(timerwheel_new(0, 10, 8, 0));
    assert_null(timerwheel_new(8, 0, 8, 0));
    assert_null(timerwheel_new(8, 10, 0, 0));
    timerwheel_t *w = timerwheel_new(100000, 10, 1024, 0);
    assert_non_null(w);
    size_t b = timerwheel_bytes_per_id(w);
    assert_true(b >= 12 && b <= 16);
    timerwheel_destroy(&w);
    timerwheel_destroy(&w); /* harmless on NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_exact_ticks_and_far_future),
        cmocka_unit_test(test_reschedule_and_cancel),
        cmocka_unit_test(test_rearm_self_in_callback),
        cmocka_unit_test(test_cancel_other_due_in_callback),
        cmocka_unit_test(test_past_times),
        cmocka_unit_test(test_big_jump),
        cmocka_unit_test(test_100k_random_timers),
        cmocka_unit_test(test_zeroed_ids_disarmed),
        cmocka_unit_test(test_new_and_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
