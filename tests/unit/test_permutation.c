/*
 * Unit tests for common/permutation: the prime and generator are checked with independent
 * slow arithmetic, every small (size, seed, shard count) is walked exhaustively, shards tile the
 * cycle, seeking matches stepping, the order is pinned by a golden vector, and a 10^6-element
 * walk of a 2^32 × 3 product is timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/permutation.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Slow but obviously right: trial division. */
static int slow_is_prime(uint64_t n)
{
    if (n < 2)
        return 0;
    for (uint64_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static uint64_t slow_mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t slow_powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    for (; e; e >>= 1, b = slow_mulmod(b, b, m))
        if (e & 1)
            r = slow_mulmod(r, b, m);
    return r;
}

/* g is a primitive root mod prime p iff g^((p-1)/q) ≠ 1 for every prime q dividing p − 1. */
static int slow_is_primitive_root(uint64_t g, uint64_t p)
{
    uint64_t m = p - 1, n = m;
    for (uint64_t q = 2; q * q <= n; q++) {
        if (n % q)
            continue;
        while (n % q == 0)
            n /= q;
        if (slow_powmod(g, m / q, p) == 1)
            return 0;
    }
    if (n > 1 && slow_powmod(g, m / n, p) == 1)
        return 0;
    return 1;
}

static void check_params(uint64_t size, uint64_t seed)
{
    perm_params_t p;
    assert_int_equal(perm_init(&p, size, seed), LZR_OK);
    assert_int_equal(p.size, size);
    assert_true(p.prime > size);
    assert_true(p.prime >= 3);
    if (!slow_is_prime(p.prime))
        fail_msg("size %llu: %llu is not prime", (unsigned long long)size,
                 (unsigned long long)p.prime);
    for (uint64_t q = (size + 1 < 3 ? 3 : size + 1); q < p.prime; q++)
        if (slow_is_prime(q))
            fail_msg("size %llu: %llu is a smaller prime than %llu", (unsigned long long)size,
                     (unsigned long long)q, (unsigned long long)p.prime);
    assert_true(p.start >= 1 && p.start < p.prime);
    assert_true(p.generator >= 2 && p.generator < p.prime);
    if (!slow_is_primitive_root(p.generator, p.prime))
        fail_msg("size %llu: %llu is not a primitive root mod %llu", (unsigned long long)size,
                 (unsigned long long)p.generator, (unsigned long long)p.prime);
    assert_int_equal(perm_cycle_len(&p), p.prime - 1);
}

static void test_params(void **state)
{
    (void)state;
    perm_params_t p;
    assert_int_equal(perm_init(&p, 1, 0), LZR_OK);
    assert_int_equal(p.prime, 3);
    assert_int_equal(p.generator, 2);
    assert_int_equal(perm_init(&p, 2, 0), LZR_OK);
    assert_int_equal(p.prime, 3);
    assert_int_equal(perm_init(&p, 3, 0), LZR_OK);
    assert_int_equal(p.prime, 5);
    assert_int_equal(perm_init(&p, 7, 0), LZR_OK);
    assert_int_equal(p.prime, 11);
    assert_int_equal(perm_init(&p, UINT64_C(1) << 32, 5), LZR_OK);
    assert_int_equal(p.prime, (UINT64_C(1) << 32) + 15);

    for (uint64_t size = 1; size < 2000; size += 7)
        for (uint64_t seed = 0; seed < 5; seed++)
            check_params(size, seed * 0x9e3779b9u);
    check_params(UINT64_C(3) << 32, 1);
    check_params(UINT64_C(3) << 32, 2);
    check_params(UINT64_C(1) << 40, 77);
    check_params((UINT64_C(1) << 48) - 5, 3);
    check_params(UINT64_C(1) << 48, 0xfeedface);

    assert_int_equal(perm_init(&p, 0, 1), LZR_ERANGE);
    assert_int_equal(perm_init(&p, UINT64_C(1) << 62, 1), LZR_ERANGE);
    assert_int_equal(perm_init(&p, UINT64_MAX, 1), LZR_ERANGE);
}

/* Near the top of the accepted sizes p − 1 is too big for trial division in a test; check the
 * parameters with Fermat and the group order by the structure of the walk instead. */
static void test_huge_sizes(void **state)
{
    (void)state;
    const uint64_t sizes[] = {(UINT64_C(1) << 62) - 1, (UINT64_C(1) << 61) + 12345,
                              UINT64_C(999999999999999989)};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        perm_params_t p;
        double t0 = now_s();
        assert_int_equal(perm_init(&p, sizes[i], i), LZR_OK);
        assert_true(now_s() - t0 < 1.0);
        assert_true(p.prime > sizes[i]);
        for (uint64_t b = 2; b < 40; b++)
            assert_int_equal(slow_powmod(b, p.prime - 1, p.prime), 1);
        /* g^((p-1)/2) must be −1 for a primitive root (it is a non-residue). */
        assert_int_equal(slow_powmod(p.generator, (p.prime - 1) / 2, p.prime), p.prime - 1);
        /* The same for every small prime factor of p − 1 that trial division finds. */
        uint64_t m = p.prime - 1;
        for (uint64_t q = 3; q < 100000; q += 2) {
            if (m % q)
                continue;
            while (m % q == 0)
                m /= q;
            assert_int_not_equal(slow_powmod(p.generator, (p.prime - 1) / q, p.prime), 1);
        }
        /* Seeking to the last position lands one generator step before the start. */
        perm_iter_t it;
        perm_iter_init(&it, &p, perm_cycle_len(&p) - 1, perm_cycle_len(&p));
        assert_int_equal(slow_mulmod(it.current, p.generator, p.prime), p.start);
    }
}

/* Walks shards 0..n-1 and checks that together they yield each element of [0, size) once. */
static void check_walk(uint64_t size, uint64_t seed, uint32_t n, uint8_t *seen)
{
    perm_params_t p;
    assert_int_equal(perm_init(&p, size, seed), LZR_OK);
    memset(seen, 0, size);
    uint64_t total = 0, prev_end = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t begin, end, x;
        perm_shard_range(&p, i, n, &begin, &end);
        assert_int_equal(begin, prev_end);
        prev_end = end;
        perm_iter_t it;
        perm_iter_init(&it, &p, begin, end);
        while (perm_next(&it, &x)) {
            if (x >= size || seen[x])
                fail_msg("size %llu seed %llu shards %u: element %llu out of range or repeated",
                         (unsigned long long)size, (unsigned long long)seed, n,
                         (unsigned long long)x);
            seen[x] = 1;
            total++;
        }
        assert_false(perm_next(&it, &x)); /* stays done */
    }
    assert_int_equal(prev_end, perm_cycle_len(&p));
    assert_int_equal(total, size);
}

static void test_exhaustive_small(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 2, 0xdeadbeef, UINT64_MAX, 0x123456789abcdefULL};
    uint8_t *seen = malloc(300);
    for (uint64_t size = 1; size <= 300; size++)
        for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
            for (uint32_t n = 1; n <= 7; n++)
                check_walk(size, seeds[s], n, seen);
    free(seen);
}

static void test_exhaustive_medium(void **state)
{
    (void)state;
    const uint64_t size = 1000003;
    uint8_t *seen = malloc(size);
    check_walk(size, 99, 1, seen);
    check_walk(size, 100, 5, seen);
    check_walk(size, 101, 64, seen);
    free(seen);
}

static void test_shard_tiling(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 2, 10, 1000, UINT64_C(3) << 32, (UINT64_C(1) << 62) - 1};
    const uint32_t counts[] = {1, 2, 3, 7, 13, 1000, 65537};
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++) {
        perm_params_t p;
        assert_int_equal(perm_init(&p, sizes[a], 3), LZR_OK);
        uint64_t len = perm_cycle_len(&p);
        for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            uint32_t n = counts[c];
            uint64_t prev = 0, begin, end;
            for (uint32_t i = 0; i < n; i++) {
                perm_shard_range(&p, i, n, &begin, &end);
                assert_int_equal(begin, prev);
                assert_true(end >= begin);
                /* Shards differ in length by at most one position. */
                assert_true(end - begin <= len / n + 1);
                assert_true(end - begin >= len / n);
                prev = end;
            }
            assert_int_equal(prev, len);
        }
        /* The widest split still ends exactly at the cycle length, without overflow. */
        uint64_t begin, end;
        perm_shard_range(&p, UINT32_MAX - 1, UINT32_MAX, &begin, &end);
        assert_int_equal(end, len);
        perm_shard_range(&p, 0, UINT32_MAX, &begin, &end);
        assert_int_equal(begin, 0);
        /* Out-of-range shard numbers give an empty range rather than garbage. */
        perm_shard_range(&p, 5, 5, &begin, &end);
        assert_int_equal(begin, end);
        perm_shard_range(&p, 0, 0, &begin, &end);
        assert_int_equal(begin, end);
    }
}

/* Starting at position k gives exactly the tail of the walk from position 0. */
static void test_seek(void **state)
{
    (void)state;
    perm_params_t p;
    assert_int_equal(perm_init(&p, 5000, 0xabc), LZR_OK);
    uint64_t len = perm_cycle_len(&p);
    /* The group element at every position, computed by plain repeated multiplication. */
    uint64_t *pos_elem = malloc(len * sizeof(uint64_t));
    pos_elem[0] = p.start;
    for (uint64_t k = 1; k < len; k++)
        pos_elem[k] = slow_mulmod(pos_elem[k - 1], p.generator, p.prime);
    /* A full walk yields exactly the elements ≤ size, minus one, in position order. */
    perm_iter_t it;
    perm_iter_init(&it, &p, 0, len);
    for (uint64_t k = 0; k < len; k++) {
        uint64_t x;
        if (pos_elem[k] > p.size)
            continue;
        assert_true(perm_next(&it, &x));
        assert_int_equal(x, pos_elem[k] - 1);
    }
    for (uint64_t k = 0; k < len; k += 97) {
        perm_iter_init(&it, &p, k, len);
        assert_int_equal(it.current, pos_elem[k]);
    }
    /* An end beyond the cycle is clamped; begin after end is an empty range. */
    perm_iter_init(&it, &p, len - 1, len + 1000);
    assert_int_equal(it.end, len);
    uint64_t x;
    perm_iter_init(&it, &p, 10, 5);
    assert_false(perm_next(&it, &x));
    free(pos_elem);
}

static void test_seeds(void **state)
{
    (void)state;
    enum { SIZE = 100000, HEAD = 16, SEEDS = 24 };
    uint64_t heads[SEEDS][HEAD];
    for (uint64_t s = 0; s < SEEDS; s++) {
        perm_params_t p, q;
        assert_int_equal(perm_init(&p, SIZE, s), LZR_OK);
        assert_int_equal(perm_init(&q, SIZE, s), LZR_OK);
        assert_memory_equal(&p, &q, sizeof(p));
        perm_iter_t it;
        perm_iter_init(&it, &p, 0, perm_cycle_len(&p));
        for (int i = 0; i < HEAD; i++)
            assert_true(perm_next(&it, &heads[s][i]));
        for (uint64_t r = 0; r < s; r++)
            if (memcmp(heads[r], heads[s], sizeof(heads[s])) == 0)
                fail_msg("seeds %llu and %llu give the same order", (unsigned long long)r,
                         (unsigned long long)s);
    }
}

/* The order is part of the coordinator–worker contract: pin it, so a change to the derivation
 * (which would make mixed-version hosts scan different orders) cannot go unnoticed. */
static void test_golden(void **state)
{
    /* Values computed by an independent Python rendition of the derivation in docs/common.md. */
    (void)state;
    static const struct {
        uint64_t size, seed, prime, generator, start, first[6];
    } golden[] = {
        {1000, 42, 1009, 17, 902, {901, 198, 355, 974, 430, 263}},
        {UINT64_C(3) << 32,
         7,
         UINT64_C(12884901893),
         UINT64_C(8320461128),
         UINT64_C(7853979136),
         {UINT64_C(7853979135), UINT64_C(7998995649), UINT64_C(8706026753), UINT64_C(9312660737),
          UINT64_C(1580785535), UINT64_C(6233899408)}},
    };
    for (size_t g = 0; g < sizeof(golden) / sizeof(golden[0]); g++) {
        perm_params_t p;
        assert_int_equal(perm_init(&p, golden[g].size, golden[g].seed), LZR_OK);
        uint64_t got[6];
        perm_iter_t it;
        perm_iter_init(&it, &p, 0, perm_cycle_len(&p));
        for (int i = 0; i < 6; i++)
            assert_true(perm_next(&it, &got[i]));
        assert_int_equal(p.prime, golden[g].prime);
        assert_int_equal(p.generator, golden[g].generator);
        assert_int_equal(p.start, golden[g].start);
        for (int i = 0; i < 6; i++)
            assert_int_equal(got[i], golden[g].first[i]);
    }
}

/* 10^6 elements of a 2^32 × 3 product: the hot path of discovery must be cheap. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_speed(void **state)
{
    (void)state;
    enum { N = 1000000 };
    const uint64_t size = UINT64_C(3) << 32;
    uint64_t *out = malloc(N * sizeof(uint64_t));
    double t0 = now_s();
    perm_params_t p;
    assert_int_equal(perm_init(&p, size, 0x5eed), LZR_OK);
    uint64_t begin, end;
    perm_shard_range(&p, 3, 8, &begin, &end);
    perm_iter_t it;
    perm_iter_init(&it, &p, begin, end);
    for (int i = 0; i < N; i++)
        assert_true(perm_next(&it, &out[i]));
    double elapsed = now_s() - t0;
    if (elapsed >= 1.0)
        fail_msg("1e6 elements of a 2^32 x 3 walk took %.3f s", elapsed);
    qsort(out, N, sizeof(uint64_t), cmp_u64);
    for (int i = 0; i < N; i++) {
        assert_true(out[i] < size);
        if (i > 0)
            assert_true(out[i] != out[i - 1]);
    }
    free(out);
}

/* --max-targets / max_targets: a count, or a share of the walk rounded up. */
static void test_parse_limit(void **state)
{
    (void)state;
    char err[256] = "";
    uint64_t n = 0;
    assert_int_equal(perm_parse_limit("1000", 50, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 1000);
    assert_int_equal(perm_parse_limit("10%", 1000, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 100);
    assert_int_equal(perm_parse_limit("0.5%", 1001, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 6); /* 5.005 rounded up */
    assert_int_equal(perm_parse_limit("100%", (1ull << 40) + 3, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, (1ull << 40) + 3);
    assert_int_equal(perm_parse_limit("0.01%", 3, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(perm_parse_limit("12.5%", 1ull << 32, &n, err, sizeof err), LZR_OK);
    assert_int_equal(n, 1ull << 29);
    const char *bad[] = {"", "x", "10x", "%", "1.5", "1.%", "0.001%", "-3", "10 %", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(perm_parse_limit(bad[i], 100, &n, err, sizeof err), LZR_EPARSE);
        assert_non_null(strstr(err, "is not a number of targets"));
    }
    assert_int_equal(perm_parse_limit("0", 100, &n, err, sizeof err), LZR_ERANGE);
    assert_int_equal(perm_parse_limit("0%", 100, &n, err, sizeof err), LZR_ERANGE);
    assert_int_equal(perm_parse_limit("100.01%", 100, &n, err, sizeof err), LZR_ERANGE);
    assert_non_null(strstr(err, "\"100.01%\": a percentage must be above 0 and at most 100"));
    assert_int_equal(perm_parse_limit("300%", 100, &n, err, sizeof err), LZR_ERANGE);
    assert_int_equal(perm_parse_limit("99999999999999999999999", 100, &n, err, sizeof err),
                     LZR_ERANGE);
}

/* perm_prefix_end against a plain walk: the prefix it names yields exactly n elements, its last
 * position holds the n-th element, and split into shards it still yields n (both counting
 * sides are taken: n below and above half the cycle). */
static void test_prefix_end(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 2, 7, 100, 997, 1000, 65536, 100003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            perm_params_t p;
            assert_int_equal(perm_init(&p, sizes[s], seed * 7919), LZR_OK);
            uint64_t ns[] = {1,        sizes[s] / 3 + 1, sizes[s] / 2, sizes[s] - 1,
                             sizes[s], sizes[s] + 5};
            for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
                uint64_t n = ns[k], el, got = 0, want_end = perm_cycle_len(&p);
                if (n == 0)
                    continue;
                perm_iter_t it;
                perm_iter_init(&it, &p, 0, perm_cycle_len(&p));
                while (got < n && perm_next(&it, &el))
                    if (++got == n)
                        want_end = it.pos;
                uint64_t end = perm_prefix_end(&p, n);
                if (n >= sizes[s])
                    want_end = perm_cycle_len(&p);
                if (end != want_end)
                    fail_msg("size %llu seed %llu n %llu: end %llu, walk says %llu",
                             (unsigned long long)sizes[s], (unsigned long long)seed,
                             (unsigned long long)n, (unsigned long long)end,
                             (unsigned long long)want_end);
                uint64_t total = 0;
                for (uint32_t i = 0; i < 7; i++) {
                    uint64_t b, e;
                    perm_split_range(end, i, 7, &b, &e);
                    perm_iter_init(&it, &p, b, e);
                    while (perm_next(&it, &el))
                        total++;
                }
                assert_int_equal(total, n < sizes[s] ? n : sizes[s]);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test(test_exhaustive_small),
        cmocka_unit_test(test_exhaustive_medium),
        cmocka_unit_test(test_shard_tiling),
        cmocka_unit_test(test_seek),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_speed),
        cmocka_unit_test(test_parse_limit),
        cmocka_unit_test(test_prefix_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
