/*
 * permutation: the order in which a scan visits its (address × port) product, after ZMap. The
 * multiplicative group modulo a prime p > size is cyclic, so with a primitive root g the walk
 * start·g^k (k = 0 .. p-2) meets every element 1..p-1 once; element v stands for index v − 1 and
 * the few above size are skipped. Everything is derived from (size, seed) with integer
 * arithmetic only, so the coordinator and every worker agree on the order and a shard is just a
 * range of k. Uses deterministic Miller–Rabin for the prime and trial division (with Pollard's
 * rho for a large leftover cofactor) to factor p − 1 when testing generator candidates.
 */
#include "permutation.h"

#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define SIZE_LIMIT (UINT64_C(1) << 62)

/* a·b mod m for a, b < m; 64-bit arithmetic suffices while m ≤ 2^32, which is the common case
 * (products up to ~4·10^9) and keeps the per-element step cheap. */
static inline uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    if (m <= (UINT64_C(1) << 32))
        return a * b % m;
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

/* Miller–Rabin with the first twelve primes as bases, which is exact for every n < 3.3·10^24
 * and so for all 64-bit n. */
static bool is_prime(uint64_t n)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        if (n == bases[i])
            return true;
        if (n % bases[i] == 0)
            return false;
    }
    uint64_t d = n - 1;
    unsigned s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        bool composite = true;
        for (unsigned r = 1; r < s; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1) {
                composite = false;
                break;
            }
        }
        if (composite)
            return false;
    }
    return true;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* splitmix64: a tiny, well-mixed generator that gives the same stream on every host. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A non-trivial factor of the odd composite n by Pollard's rho (Floyd cycle finding); the
 * constant c is bumped until a run succeeds. */
static uint64_t rho_factor(uint64_t n)
{
    for (uint64_t c = 1;; c++) {
        uint64_t x = 2, y = 2, d = 1;
        while (d == 1) {
            x = (mulmod(x, x, n) + c) % n;
            y = (mulmod(y, y, n) + c) % n;
            y = (mulmod(y, y, n) + c) % n;
            d = gcd(x > y ? x - y : y - x, n);
        }
        if (d != n)
            return d;
    }
}

#define MAX_FACTORS 64

/* Adds q to the list of distinct primes unless it is already there. */
static void add_factor(uint64_t *f, unsigned *nf, uint64_t q)
{
    for (unsigned i = 0; i < *nf; i++)
        if (f[i] == q)
            return;
    if (*nf < MAX_FACTORS)
        f[(*nf)++] = q;
}

/* Collects the distinct prime factors of n > 1 whose small factors are already removed. */
static void factor_large(uint64_t n, uint64_t *f, unsigned *nf)
{
    if (n == 1)
        return;
    if (is_prime(n)) {
        add_factor(f, nf, n);
        return;
    }
    uint64_t d = rho_factor(n);
    factor_large(d, f, nf);
    factor_large(n / d, f, nf);
}

/* Distinct prime factors of n ≥ 2: trial division up to 2^16 finds the small ones quickly and
 * Pollard's rho splits whatever composite remains, so even p − 1 near 2^62 factors at once. */
static unsigned distinct_factors(uint64_t n, uint64_t *f)
{
    unsigned nf = 0;
    for (uint64_t d = 2; d <= 65536 && d * d <= n; d += (d == 2 ? 1 : 2)) {
        if (n % d == 0) {
            add_factor(f, &nf, d);
            while (n % d == 0)
                n /= d;
        }
    }
    if (n > 1)
        factor_large(n, f, &nf);
    return nf;
}

int perm_init(perm_params_t *p, uint64_t size, uint64_t seed)
{
    if (!p)
        return LZR_EINVAL;
    if (size == 0 || size >= SIZE_LIMIT)
        return LZR_ERANGE;

    uint64_t prime = size + 1 < 3 ? 3 : size + 1;
    while (!is_prime(prime))
        prime++;

    uint64_t factors[MAX_FACTORS];
    unsigned nf = distinct_factors(prime - 1, factors);

    /* The start comes first in the stream so it does not depend on how many generator
     * candidates were rejected. */
    uint64_t state = seed;
    uint64_t start = 1 + splitmix64(&state) % (prime - 1);
    uint64_t g;
    for (;;) {
        g = 2 + splitmix64(&state) % (prime - 2);
        bool primitive = true;
        for (unsigned i = 0; i < nf && primitive; i++)
            primitive = powmod(g, (prime - 1) / factors[i], prime) != 1;
        if (primitive)
            break;
    }

    p->size = size;
    p->prime = prime;
    p->generator = g;
    p->start = start;
    return LZR_OK;
}

uint64_t perm_cycle_len(const perm_params_t *p)
{
    return p->prime - 1;
}

void perm_split_range(uint64_t span, uint32_t i, uint32_t n, uint64_t *begin, uint64_t *end)
{
    if (n == 0 || i >= n) {
        *begin = *end = span;
        return;
    }
    *begin = (uint64_t)((unsigned __int128)span * i / n);
    *end = (uint64_t)((unsigned __int128)span * (i + 1) / n);
}

void perm_shard_range(const perm_params_t *p, uint32_t i, uint32_t n, uint64_t *begin,
                      uint64_t *end)
{
    perm_split_range(perm_cycle_len(p), i, n, begin, end);
}

void perm_iter_init(perm_iter_t *it, const perm_params_t *p, uint64_t begin, uint64_t end)
{
    uint64_t len = perm_cycle_len(p);
    if (end > len)
        end = len;
    if (begin > end)
        begin = end;
    it->p = *p;
    it->pos = begin;
    it->end = end;
    it->current = mulmod(p->start, powmod(p->generator, begin, p->prime), p->prime);
}

bool perm_next(perm_iter_t *it, uint64_t *out)
{
    while (it->pos < it->end) {
        uint64_t v = it->current;
        it->current = mulmod(v, it->p.generator, it->p.prime);
        it->pos++;
        if (v <= it->p.size) {
            *out = v - 1;
            return true;
        }
    }
    return false;
}

int perm_parse_limit(const char *text, uint64_t size, uint64_t *out, char *err, size_t errlen)
{
    const char *p = text;
    uint64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > (UINT64_MAX - 9) / 10)
            goto range;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits == 2)
                goto bad;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (fdigits == 0)
            goto bad;
        if (fdigits == 1)
            frac *= 10;
    }
    if (digits == 0)
        goto bad;
    if (*p == '%' && p[1] == '\0') {
        /* Hundredths of a percent: basis points × 100. */
        uint64_t hp = whole <= 100 ? whole * 100 + frac : UINT64_MAX;
        if (hp == 0 || hp > 10000) {
            snprintf(err, errlen, "\"%s\": a percentage must be above 0 and at most 100", text);
            return LZR_ERANGE;
        }
        /* size < 2^62, so size / 10000 · hp does not overflow; add the remainder's share. */
        uint64_t n = size / 10000 * hp + ((size % 10000) * hp + 9999) / 10000;
        *out = n ? n : 1;
        return LZR_OK;
    }
    if (*p != '\0' || fdigits)
        goto bad;
    if (whole == 0) {
        snprintf(err, errlen, "\"%s\": the number of targets must be above 0", text);
        return LZR_ERANGE;
    }
    *out = whole;
    return LZR_OK;
bad:
    snprintf(err, errlen, "\"%s\" is not a number of targets (N) or a percentage (P%%)", text);
    return LZR_EPARSE;
range:
    snprintf(err, errlen, "\"%s\" is too large", text);
    return LZR_ERANGE;
}

/* Positions [0, n) hold n elements less the few cycle values above size that fall among them.
 * Those are counted from whichever side of position n is shorter (the whole cycle holds exactly
 * size elements), then the walk goes on from n until the missing elements are found. */
uint64_t perm_prefix_end(const perm_params_t *p, uint64_t n)
{
    uint64_t len = perm_cycle_len(p), el, got;
    if (n >= p->size)
        return len;
    perm_iter_t it;
    if (n <= len - n) {
        perm_iter_init(&it, p, 0, n);
        for (got = 0; perm_next(&it, &el);)
            got++;
    } else {
        perm_iter_init(&it, p, n, len);
        for (got = p->size; perm_next(&it, &el);)
            got--;
    }
    perm_iter_init(&it, p, n, len);
    for (; got < n && perm_next(&it, &el);)
        got++;
    return got < n ? len : it.pos;
}
