/*
 * Unit tests for worker/recqueue: records come out in the order they went in, across the ring
 * and the spill list, with their data intact; the hold flag rises at half the ring and falls
 * only under a quarter; clearing drops everything; a producer thread and a consumer thread
 * lose nothing between them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/recqueue.h"

static const atomic_int no_stop = 0;

/* Record i: its ip is i, and it carries i % 40 data bytes of value i. */
static lzr_record_t rec(uint32_t i)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(i);
    r.port = (uint16_t)(i % 65535 + 1);
    r.data_len = (uint16_t)(i % 40);
    memset(r.data, (int)(i & 0xff), r.data_len);
    return r;
}

static void check_rec(const lzr_record_t *r, uint32_t i)
{
    lzr_record_t want = rec(i);
    assert_int_equal(r->ip.v4, i);
    assert_int_equal(r->port, want.port);
    assert_int_equal(r->data_len, want.data_len);
    assert_memory_equal(r->data, want.data, want.data_len);
}

/* 8 ring records, 20 pushed: 12 spill; taking 3 at a time yields 0..19 in order. */
static void test_order_across_spill(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(8);
    assert_non_null(q);
    for (uint32_t i = 0; i < 20; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    assert_int_equal(recqueue_count(q), 20);
    assert_int_equal(recqueue_spilled(q), 12);
    lzr_record_t out[3];
    uint32_t next = 0;
    size_t n;
    while ((n = recqueue_take(q, out, 3)) > 0) {
        for (size_t k = 0; k < n; k++)
            check_rec(&out[k], next++);
        /* the ring is refilled from the spill list as soon as there is room */
        assert_int_equal(recqueue_spilled(q), recqueue_count(q) > 8 ? recqueue_count(q) - 8 : 0);
    }
    assert_int_equal(next, 20);
    assert_int_equal(recqueue_count(q), 0);
    recqueue_destroy(&q);
    assert_null(q);
}

/* A record pushed while others are spilled spills too, even if the ring has room by then. */
static void test_spill_keeps_order_after_take(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(4);
    lzr_record_t out[4];
    uint32_t i = 0, next = 0;
    for (; i < 10; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    assert_int_equal(recqueue_take(q, out, 1), 1);
    check_rec(&out[0], next++);
    for (; i < 15; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    size_t n;
    while ((n = recqueue_take(q, out, 4)) > 0)
        for (size_t k = 0; k < n; k++)
            check_rec(&out[k], next++);
    assert_int_equal(next, 15);
    recqueue_destroy(&q);
}

/* Hold from half the ring (8 of 16) on; released only under a quarter (below 4). */
static void test_watermarks(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(16);
    _Atomic bool hold = false;
    recqueue_attach_hold(q, &hold);
    lzr_record_t out[16];
    for (uint32_t i = 0; i < 7; i++) {
        lzr_record_t r = rec(i);
        assert_false(recqueue_push(q, &r, &no_stop));
    }
    assert_false(atomic_load(&hold));
    lzr_record_t r = rec(7);
    assert_true(recqueue_push(q, &r, &no_stop)); /* the 8th crosses */
    assert_true(atomic_load(&hold));
    assert_true(recqueue_held(q));
    r = rec(8);
    assert_false(recqueue_push(q, &r, &no_stop));  /* already held: no second crossing */
    assert_int_equal(recqueue_take(q, out, 5), 5); /* 4 left: not under a quarter yet */
    assert_true(atomic_load(&hold));
    assert_true(recqueue_held(q));
    assert_int_equal(recqueue_take(q, out, 1), 1); /* 3 left */
    assert_false(atomic_load(&hold));
    assert_false(recqueue_held(q));
    for (uint32_t i = 0; i < 4; i++) { /* back to 7: between the marks, still released */
        r = rec(i);
        assert_false(recqueue_push(q, &r, &no_stop));
    }
    assert_false(atomic_load(&hold));
    r = rec(99);
    assert_true(recqueue_push(q, &r, &no_stop));
    assert_true(atomic_load(&hold));
    recqueue_destroy(&q);
}

/* Spilled records count toward the marks: a ring that has room again after a take still holds
 * while ring and spill together are at or over a quarter. */
static void test_watermarks_count_spill(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(8);
    _Atomic bool hold = false;
    recqueue_attach_hold(q, &hold);
    for (uint32_t i = 0; i < 40; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    assert_true(atomic_load(&hold));
    assert_int_equal(recqueue_spilled(q), 32);
    lzr_record_t out[8];
    while (recqueue_count(q) >= 2 + 1) {
        recqueue_take(q, out, 1);
        if (recqueue_count(q) >= 2)
            assert_true(atomic_load(&hold));
    }
    recqueue_take(q, out, 1); /* 1 left: under a quarter of 8 */
    assert_false(atomic_load(&hold));
    recqueue_destroy(&q);
}

/* Clearing drops ring and spill and lowers the flag; a detached flag is left alone. */
static void test_clear_and_detach(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(4);
    _Atomic bool hold = false;
    recqueue_attach_hold(q, &hold);
    for (uint32_t i = 0; i < 9; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    assert_true(atomic_load(&hold));
    recqueue_clear(q);
    assert_int_equal(recqueue_count(q), 0);
    assert_int_equal(recqueue_spilled(q), 0);
    assert_false(atomic_load(&hold));
    assert_false(recqueue_held(q));
    recqueue_attach_hold(q, NULL);
    for (uint32_t i = 0; i < 3; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    assert_true(recqueue_held(q));
    assert_false(atomic_load(&hold));
    lzr_record_t out[4];
    assert_int_equal(recqueue_take(q, out, 4), 3);
    check_rec(&out[0], 0);
    recqueue_destroy(&q); /* and a queue with spilled records frees them (ASan checks) */
    q = recqueue_new(4);
    for (uint32_t i = 0; i < 9; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    recqueue_destroy(&q);
    assert_null(recqueue_new(3));
}

#define THREADED_RECORDS 20000

static void *producer(void *arg)
{
    recqueue_t *q = arg;
    for (uint32_t i = 0; i < THREADED_RECORDS; i++) {
        lzr_record_t r = rec(i);
        recqueue_push(q, &r, &no_stop);
    }
    return NULL;
}

/* The engine's thread pushes while the agent's takes: every record arrives once, in order. */
static void test_two_threads(void **state)
{
    (void)state;
    recqueue_t *q = recqueue_new(64);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, q), 0);
    lzr_record_t out[7];
    uint32_t next = 0;
    while (next < THREADED_RECORDS) {
        size_t n = recqueue_take(q, out, 7);
        for (size_t k = 0; k < n; k++)
            check_rec(&out[k], next++);
    }
    pthread_join(t, NULL);
    assert_int_equal(recqueue_count(q), 0);
    recqueue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_across_spill),
        cmocka_unit_test(test_spill_keeps_order_after_take),
        cmocka_unit_test(test_watermarks),
        cmocka_unit_test(test_watermarks_count_spill),
        cmocka_unit_test(test_clear_and_detach),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
