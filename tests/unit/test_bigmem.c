/*
 * Unit tests for worker/bigmem: zeroed, writable memory of any size, a large mapping on a 2 MiB
 * boundary (where transparent huge pages can back it), and its release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/bigmem.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 4096)
        if (p[i] != 0)
            return false;
    return p[n - 1] == 0;
}

static void test_small_is_zeroed(void **state)
{
    (void)state;
    uint8_t *p = bigmem_zalloc(100);
    assert_non_null(p);
    assert_true(all_zero(p, 100));
    memset(p, 0xab, 100);
    bigmem_free(p, 100);
}

/* 5 MiB + 3 bytes: the start is 2 MiB aligned, every page reads zero and takes a write, and the
 * trimmed mapping still covers the last byte. */
static void test_large_is_aligned(void **state)
{
    (void)state;
    size_t n = (5u << 20) + 3;
    uint8_t *p = bigmem_zalloc(n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p & ((2u << 20) - 1), 0);
    assert_true(all_zero(p, n));
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    p[n - 1] = 2;
    assert_int_equal(p[n - 1], 2);
    bigmem_free(p, n);
}

static void test_free_null(void **state)
{
    (void)state;
    bigmem_free(NULL, 1u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_is_zeroed),
        cmocka_unit_test(test_large_is_aligned),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
