/*
 * test_pairs: the pair keys round-trip, sort_unique sorts and drops repeats, index_of finds
 * every key at its sorted place and nothing else.
 */
#include "common/pairs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_key(void **state)
{
    (void)state;
    uint64_t k = pair_key(0xC6121001, 443);
    assert_int_equal(pair_addr(k), 0xC6121001);
    assert_int_equal(pair_port(k), 443);
    /* Sorted by address first, then port. */
    assert_true(pair_key(1, 65535) < pair_key(2, 1));
}

static void test_sort_unique_and_find(void **state)
{
    (void)state;
    uint64_t k[] = {pair_key(9, 80),  pair_key(1, 22),   pair_key(9, 80),
                    pair_key(1, 443), pair_key(5, 8080), pair_key(1, 22)};
    size_t n = pairs_sort_unique(k, sizeof k / sizeof k[0]);
    assert_int_equal(n, 4);
    uint64_t want[] = {pair_key(1, 22), pair_key(1, 443), pair_key(5, 8080), pair_key(9, 80)};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(k[i], want[i]);
        assert_int_equal(pairs_index_of(k, n, want[i]), (int64_t)i);
    }
    assert_int_equal(pairs_index_of(k, n, pair_key(1, 80)), -1);
    assert_int_equal(pairs_index_of(k, n, pair_key(0, 1)), -1);
    assert_int_equal(pairs_index_of(k, n, pair_key(10, 1)), -1);
    assert_int_equal(pairs_index_of(k, 0, pair_key(1, 22)), -1);
    assert_int_equal(pairs_sort_unique(k, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_sort_unique_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
