/*
 * Unit tests for common/grow: the first capacity, doubling, no move while there is room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/grow.h"

static void test_grow(void **state)
{
    (void)state;
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t *g = grow(v, n, &cap, sizeof *g, 8);
        assert_non_null(g);
        if (n < 8)
            assert_int_equal(cap, 8);
        v = g;
        v[n++] = i;
        assert_true(n <= cap);
    }
    assert_int_equal(cap, 128); /* 8, 16, 32, 64, 128 */
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(v[i], i); /* moving kept every item */
    assert_ptr_equal(grow(v, 100, &cap, sizeof *v, 8), v);
    assert_int_equal(cap, 128);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_grow)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
