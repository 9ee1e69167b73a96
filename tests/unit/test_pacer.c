/*
 * Unit tests for worker/pacer: the token bucket gives exactly rate tokens per second over time,
 * never more than its burst at once, and says how long to wait for the next token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "worker/pacer.h"

#define MS 1000000ull

/* Taking as fast as allowed for 10 simulated seconds yields rate × 10 tokens, ± one burst. */
static void test_rate_over_time(void **state)
{
    (void)state;
    static const uint64_t rates[] = {1, 1000, 12345, 1000000, 14000000};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        pacer_t p;
        uint64_t burst = rates[r] / 100 + 1, got = 0;
        pacer_init(&p, rates[r], burst, 0);
        for (uint64_t t = 0; t <= 10000 * MS; t += MS / 4)
            got += pacer_take(&p, t, UINT64_MAX);
        assert_true(got <= rates[r] * 10 + burst);
        assert_true(got + burst >= rates[r] * 10);
    }
}

/* After a long stall the bucket holds its burst, not the stall's worth of tokens. */
static void test_burst_cap(void **state)
{
    (void)state;
    pacer_t p;
    pacer_init(&p, 1000, 10, 0);
    assert_int_equal(pacer_take(&p, 5000 * MS, UINT64_MAX), 10);
    assert_int_equal(pacer_take(&p, 5000 * MS, UINT64_MAX), 0);
    assert_int_equal(pacer_take(&p, 5001 * MS, UINT64_MAX), 1);
}

/* The wait for the next token matches the rate; unlimited never waits and gives all asked. */
static void test_wait_and_unlimited(void **state)
{
    (void)state;
    pacer_t p;
    pacer_init(&p, 1000, 1, 0);
    assert_int_equal(pacer_wait_ns(&p, 0), MS);
    assert_int_equal(pacer_wait_ns(&p, MS / 2), MS / 2);
    assert_int_equal(pacer_wait_ns(&p, MS), 0);
    pacer_init(&p, 0, 1, 0);
    assert_int_equal(pacer_take(&p, 0, 777), 777);
    assert_int_equal(pacer_wait_ns(&p, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_over_time),
        cmocka_unit_test(test_burst_cap),
        cmocka_unit_test(test_wait_and_unlimited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
