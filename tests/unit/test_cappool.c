/*
 * Unit tests for worker/cappool with real capture handles on the loopback device of a network
 * namespace of the test's own (needs root; skips without): handles come back last given first;
 * a full pool closes what it is given; handles idle for CAPPOOL_IDLE_MS are closed, oldest
 * first, and the rest keep their places; a handle opened ahead of need (cappool_warm) is handed
 * out once, or is closed once idle as long as the others, and a pool destroyed meanwhile waits
 * for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <unistd.h>

#include "worker/cappool.h"

#include "own_netns.h"

static bool have_ns;

static int setup_ns(void **state)
{
    (void)state;
    have_ns = own_netns();
    return 0;
}

static capture_t *open_lo(void)
{
    char err[256] = "";
    capture_t *c = capture_open("lo", INADDR_LOOPBACK, NULL, 40000, 40100, err, sizeof err);
    if (!c)
        print_message("%s\n", err);
    assert_non_null(c);
    return c;
}

static void test_last_given_first_taken(void **state)
{
    (void)state;
    if (!have_ns)
        skip();
    cappool_t *p = cappool_new(CAPPOOL_MAX);
    assert_non_null(p);
    assert_null(cappool_take(p));
    capture_t *a = open_lo(), *b = open_lo(), *ga = a, *gb = b;
    cappool_give(p, &ga, 1000);
    cappool_give(p, &gb, 2000);
    assert_null(ga); /* the pool holds them now */
    assert_null(gb);
    assert_int_equal(cappool_count(p), 2);
    assert_ptr_equal(cappool_take(p), b);
    assert_ptr_equal(cappool_take(p), a);
    assert_null(cappool_take(p));
    capture_t *none = NULL;
    cappool_give(p, &none, 3000); /* nothing to keep */
    assert_int_equal(cappool_count(p), 0);
    capture_close(&a);
    capture_close(&b);
    cappool_destroy(&p);
    assert_null(p);
}

/* A pool that keeps `keep` handles (asked for ask) closes the next one it is given. */
static void full_pool_closes(size_t ask, size_t keep)
{
    cappool_t *p = cappool_new(ask);
    capture_t *kept[CAPPOOL_MAX];
    for (size_t i = 0; i < keep; i++) {
        capture_t *c = open_lo();
        kept[i] = c;
        cappool_give(p, &c, 1000 + i);
        assert_null(c);
    }
    capture_t *extra = open_lo();
    cappool_give(p, &extra, 5000);
    assert_null(extra); /* closed, not kept */
    assert_int_equal(cappool_count(p), keep);
    assert_ptr_equal(cappool_take(p), kept[keep - 1]);
    capture_close(&kept[keep - 1]);
    cappool_destroy(&p); /* closes the rest */
}

static void test_full_pool_closes(void **state)
{
    (void)state;
    if (!have_ns)
        skip();
    full_pool_closes(CAPPOOL_MAX, CAPPOOL_MAX);
    full_pool_closes(2, 2);                         /* a worker told --max-drains 2 */
    full_pool_closes(CAPPOOL_MAX + 5, CAPPOOL_MAX); /* never more than the array */
}

static void test_idle_handles_expire(void **state)
{
    (void)state;
    if (!have_ns)
        skip();
    cappool_t *p = cappool_new(CAPPOOL_MAX);
    capture_t *h[3];
    for (size_t i = 0; i < 3; i++) {
        h[i] = open_lo();
        capture_t *c = h[i];
        cappool_give(p, &c, 10000 * (i + 1)); /* given at 10, 20 and 30 s */
    }
    assert_int_equal(cappool_expire(p, 10000 + CAPPOOL_IDLE_MS - 1), 0);
    assert_int_equal(cappool_expire(p, 20000 + CAPPOOL_IDLE_MS), 2); /* the two oldest */
    assert_int_equal(cappool_count(p), 1);
    assert_ptr_equal(cappool_take(p), h[2]);
    capture_t *c = h[2];
    cappool_give(p, &c, 100000);
    assert_int_equal(cappool_expire(p, 100000 + CAPPOOL_IDLE_MS - 1), 0);
    assert_int_equal(cappool_expire(p, 100000 + CAPPOOL_IDLE_MS), 1);
    assert_int_equal(cappool_count(p), 0);
    assert_null(cappool_take(p));
    cappool_destroy(&p);
}

/* A handle opened ahead of need: handed out once open, only once; one nobody takes is closed
 * CAPPOOL_IDLE_MS after an expiry first found it open; a pool destroyed while one is being
 * opened waits for it and closes it. */
static void test_warm(void **state)
{
    (void)state;
    if (!have_ns)
        skip();
    cappool_t *p = cappool_new(CAPPOOL_MAX);
    assert_false(cappool_warming(p));
    cappool_warm(p, "lo", INADDR_LOOPBACK, NULL, 40000, 40100);
    assert_true(cappool_warming(p));
    cappool_warm(p, "lo", INADDR_LOOPBACK, NULL, 40000, 40100); /* one at a time */
    capture_t *c = NULL;
    for (int i = 0; i < 500 && !c; i++) { /* bounded: 5 s */
        c = cappool_take(p);
        if (!c)
            usleep(10000);
    }
    assert_non_null(c);
    assert_false(cappool_warming(p));
    assert_null(cappool_take(p)); /* only once */
    capture_close(&c);

    cappool_warm(p, "lo", INADDR_LOOPBACK, NULL, 40000, 40100);
    for (int i = 0; i < 500 && !cappool_warm_ready(p); i++)
        usleep(10000);
    assert_true(cappool_warm_ready(p));
    assert_int_equal(cappool_expire(p, 1000), 0); /* seen open at 1 s: idle from then */
    assert_int_equal(cappool_expire(p, 1000 + CAPPOOL_IDLE_MS - 1), 0);
    assert_true(cappool_warm_ready(p));
    assert_int_equal(cappool_expire(p, 1000 + CAPPOOL_IDLE_MS), 1);
    assert_false(cappool_warming(p));
    assert_int_equal(cappool_count(p), 0);

    cappool_warm(p, "lo", INADDR_LOOPBACK, NULL, 40000, 40100);
    cappool_destroy(&p); /* joins the thread, closes its handle */
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_given_first_taken),
        cmocka_unit_test(test_full_pool_closes),
        cmocka_unit_test(test_idle_handles_expire),
        cmocka_unit_test(test_warm),
    };
    return cmocka_run_group_tests(tests, setup_ns, NULL);
}
