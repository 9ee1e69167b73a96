/*
 * Unit tests for worker/conntab: 100k random and clustered keys inserted, looked up and removed
 * in random order against a reference (a list of distinct keys with a presence flag and the id
 * each got); heavy churn in a tiny table, where runs wrap around the index end; full pool and
 * duplicate keys refused; ids and pointers stable across other removals; a 10^6-entry table
 * filled completely; and the memory budget: pool + index + timer node within 64 bytes per
 * connection, measured on a table of 10^6.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/conntab.h"
#include "worker/timerwheel.h"

/* xorshift64*: a small deterministic generator so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

typedef struct ref_key {
    uint32_t daddr;
    uint16_t dport;
    bool v6;
    int present;
    uint32_t id;
    conn_t *c;
} ref_key_t;

static int cmp_key(const void *a, const void *b)
{
    const ref_key_t *x = a, *y = b;
    if (x->v6 != y->v6)
        return x->v6 ? 1 : -1;
    if (x->daddr != y->daddr)
        return x->daddr < y->daddr ? -1 : 1;
    return (x->dport > y->dport) - (x->dport < y->dport);
}

/* n distinct keys: half random, half clustered (few addresses × consecutive ports, and
 * consecutive addresses on one port), the shapes a scan produces. */
static ref_key_t *make_keys(size_t n)
{
    ref_key_t *k = calloc(n, sizeof(*k));
    assert_non_null(k);
    for (size_t i = 0; i < n; i++) {
        if (i % 4 == 0) {
            k[i].daddr = (uint32_t)rnd();
            k[i].dport = (uint16_t)rnd();
        } else if (i % 4 == 1) {
            k[i].daddr = 0xc6120000u + (uint32_t)(i % 64);
            k[i].dport = (uint16_t)(i / 64);
        } else if (i % 4 == 2) {
            k[i].daddr = 0xc6130000u + (uint32_t)i;
            k[i].dport = 443;
        } else {
            k[i].daddr = (uint32_t)rnd() & 0xffffff00u;
            k[i].dport = (uint16_t)(rnd() & 0xff);
        }
        /* Every other key of the clustered shapes is an IPv6 target's index: the same numbers
         * as IPv4 keys, which must stay distinct keys. */
        k[i].v6 = (i / 4) % 2 == 1 && i % 4 != 0;
    }
    /* Drop duplicates by sorting, then shuffle so insertion order is random. */
    qsort(k, n, sizeof(*k), cmp_key);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || cmp_key(&k[m - 1], &k[i]) != 0)
            k[m++] = k[i];
    for (size_t i = m; i < n; i++) {
        /* Refill with fresh random keys; a repeat of these is vanishingly unlikely and is caught
         * by the insert assertion below as a test failure, not silently. */
        k[i].daddr = (uint32_t)rnd() | 1u;
        k[i].dport = (uint16_t)(60000 + i % 5000);
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        ref_key_t t = k[i];
        k[i] = k[j];
        k[j] = t;
    }
    return k;
}

/* Every live entry of the table is exactly one present reference key, with its id. */
static void check_against_ref(conntab_t *t, ref_key_t *k, size_t n)
{
    uint32_t present = 0;
    for (size_t i = 0; i < n; i++) {
        conn_t *c = conntab_lookup(t, k[i].daddr, k[i].dport, k[i].v6);
        if (k[i].present) {
            present++;
            assert_ptr_equal(c, k[i].c);
            assert_int_equal(conntab_id(t, c), k[i].id);
            assert_ptr_equal(conntab_get(t, k[i].id), c);
        } else {
            assert_null(c);
        }
    }
    assert_int_equal(conntab_count(t), present);
    uint32_t live = 0;
    for (uint32_t id = 0; id < conntab_capacity(t); id++)
        live += conntab_get(t, id) != NULL;
    assert_int_equal(live, present);
}

static void run_random_ops(uint32_t capacity, size_t nkeys, size_t ops, int checks)
{
    conntab_t *t = conntab_new(capacity);
    assert_non_null(t);
    ref_key_t *k = make_keys(nkeys);
    uint32_t present = 0;
    for (size_t op = 0; op < ops; op++) {
        size_t i = rnd() % nkeys;
        if (k[i].present) {
            conn_t *c = conntab_lookup(t, k[i].daddr, k[i].dport, k[i].v6);
            assert_ptr_equal(c, k[i].c);
            assert_int_equal(c->daddr, k[i].daddr);
            assert_int_equal(c->v6, k[i].v6);
            assert_int_equal(c->dport, k[i].dport);
            /* The engine's own fields survive until removal. */
            assert_int_equal(c->seq0, (uint32_t)i);
            /* Remove with probability 1/2 so removals interleave with inserts throughout. */
            if (rnd() & 1) {
                conntab_remove(t, c);
                k[i].present = 0;
                present--;
                assert_null(conntab_lookup(t, k[i].daddr, k[i].dport, k[i].v6));
                assert_null(conntab_get(t, k[i].id));
            }
        } else {
            assert_null(conntab_lookup(t, k[i].daddr, k[i].dport, k[i].v6));
            conn_t *c = conntab_insert(t, k[i].daddr, k[i].dport, k[i].v6);
            if (present == capacity) {
                assert_null(c);
                continue;
            }
            assert_non_null(c);
            assert_int_equal(c->daddr, k[i].daddr);
            assert_int_equal(c->v6, k[i].v6);
            assert_int_equal(c->dport, k[i].dport);
            assert_int_equal(c->state, 0);
            assert_int_equal(c->seq0, 0);
            c->seq0 = (uint32_t)i;
            k[i].present = 1;
            k[i].c = c;
            k[i].id = conntab_id(t, c);
            assert_true(k[i].id < capacity);
            present++;
        }
        assert_int_equal(conntab_count(t), present);
        if (checks && op % (ops / checks) == 0)
            check_against_ref(t, k, nkeys);
    }
    check_against_ref(t, k, nkeys);
    /* Empty it completely, then every key must be absent and insertable again. */
    for (size_t i = 0; i < nkeys; i++)
        if (k[i].present) {
            conntab_remove(t, k[i].c);
            k[i].present = 0;
        }
    assert_int_equal(conntab_count(t), 0);
    check_against_ref(t, k, nkeys);
    free(k);
    conntab_destroy(&t);
    assert_null(t);
}

static void test_100k_random_keys(void **state)
{
    (void)state;
    /* 100k distinct keys in a 60k table: it fills up, so full-pool refusals happen too. */
    run_random_ops(60000, 100000, 600000, 6);
}

static void test_tiny_table_churn(void **state)
{
    (void)state;
    /* 8 entries in a 16-slot index: long runs that wrap past the end, shifted on every removal. */
    run_random_ops(8, 40, 200000, 200);
    run_random_ops(1, 3, 1000, 100);
    run_random_ops(5, 7, 50000, 500);
}

static void test_full_and_duplicate(void **state)
{
    (void)state;
    conntab_t *t = conntab_new(3);
    assert_non_null(t);
    assert_int_equal(conntab_capacity(t), 3);
    conn_t *a = conntab_insert(t, 1, 80, false);
    assert_non_null(a);
    assert_null(conntab_insert(t, 1, 80, false)); /* duplicate */
    assert_int_equal(conntab_count(t), 1);
    assert_non_null(conntab_insert(t, 1, 81, false)); /* same address, other port */
    assert_non_null(conntab_insert(t, 2, 80, false)); /* same port, other address */
    assert_null(conntab_insert(t, 3, 80, false));     /* full */
    assert_int_equal(conntab_count(t), 3);
    conntab_remove(t, a);
    assert_null(conntab_lookup(t, 1, 80, false));
    conn_t *d = conntab_insert(t, 3, 80, false);
    assert_non_null(d);
    assert_ptr_equal(d, a); /* the freed slot is reused */
    assert_null(conntab_insert(t, 4, 80, false));
    conntab_destroy(&t);

    assert_null(conntab_new(0));
}

/* An IPv6 target's key (its index in targets6) and an IPv4 address of the same number are two
 * keys: both live side by side, each is found, removed and refused as a duplicate on its own. */
static void test_families_apart(void **state)
{
    (void)state;
    conntab_t *t = conntab_new(4);
    conn_t *v4 = conntab_insert(t, 7, 443, false);
    conn_t *v6 = conntab_insert(t, 7, 443, true);
    assert_non_null(v4);
    assert_non_null(v6);
    assert_ptr_not_equal(v4, v6);
    assert_false(v4->v6);
    assert_true(v6->v6);
    assert_null(conntab_insert(t, 7, 443, true));
    assert_ptr_equal(conntab_lookup(t, 7, 443, false), v4);
    assert_ptr_equal(conntab_lookup(t, 7, 443, true), v6);
    assert_null(conntab_lookup(t, 7, 80, true));
    conntab_remove(t, v4);
    assert_null(conntab_lookup(t, 7, 443, false));
    assert_ptr_equal(conntab_lookup(t, 7, 443, true), v6);
    v6->retries = 1; /* the family bit shares a byte with the retry count */
    assert_true(v6->v6);
    conntab_destroy(&t);
}

static void test_ids_stable(void **state)
{
    (void)state;
    conntab_t *t = conntab_new(1000);
    conn_t *c[1000];
    uint32_t id[1000];
    for (uint32_t i = 0; i < 1000; i++) {
        c[i] = conntab_insert(t, 0x0a000000 + i / 10, (uint16_t)(i % 10), false);
        assert_non_null(c[i]);
        id[i] = conntab_id(t, c[i]);
        c[i]->rtt_us = i;
    }
    /* Ids are distinct and within capacity. */
    uint8_t seen[1000] = {0};
    for (uint32_t i = 0; i < 1000; i++) {
        assert_true(id[i] < 1000);
        assert_int_equal(seen[id[i]], 0);
        seen[id[i]] = 1;
    }
    /* Remove every third; the rest keep their ids, pointers and contents. */
    for (uint32_t i = 0; i < 1000; i += 3)
        conntab_remove(t, c[i]);
    for (uint32_t i = 0; i < 1000; i++) {
        conn_t *l = conntab_lookup(t, 0x0a000000 + i / 10, (uint16_t)(i % 10), false);
        if (i % 3 == 0) {
            assert_null(l);
            assert_null(conntab_get(t, id[i]));
        } else {
            assert_ptr_equal(l, c[i]);
            assert_int_equal(conntab_id(t, l), id[i]);
            assert_ptr_equal(conntab_get(t, id[i]), c[i]);
            assert_int_equal(l->rtt_us, i);
        }
    }
    assert_null(conntab_get(t, 1000));
    assert_null(conntab_get(t, UINT32_MAX));
    conntab_destroy(&t);
}

/* conntab_next visits every live entry once, in id order, and a walk that removes what it
 * visits still visits the rest. */
static void test_walk(void **state)
{
    (void)state;
    conntab_t *t = conntab_new(300);
    uint32_t id = 0;
    assert_null(conntab_next(t, &id));
    conn_t *c[300];
    for (uint32_t i = 0; i < 300; i++)
        c[i] = conntab_insert(t, 0xc6120000 + i, 80, i % 2);
    for (uint32_t i = 0; i < 300; i += 7)
        conntab_remove(t, c[i]); /* holes inside words and across word boundaries */
    uint32_t seen = 0, last = 0;
    id = 0;
    for (conn_t *e; (e = conntab_next(t, &id)); id++) {
        assert_ptr_equal(e, conntab_get(t, id));
        assert_true(seen == 0 || id > last);
        assert_int_not_equal((e->daddr - 0xc6120000) % 7, 0);
        last = id;
        seen++;
    }
    assert_int_equal(seen, conntab_count(t));
    assert_int_equal(seen, 300 - 43);
    id = 0;
    for (conn_t *e; (e = conntab_next(t, &id)); id++)
        conntab_remove(t, e);
    assert_int_equal(conntab_count(t), 0);
    id = 0;
    assert_null(conntab_next(t, &id));
    conntab_destroy(&t);
}

static void test_million_capacity(void **state)
{
    (void)state;
    const uint32_t cap = 1000000;
    conntab_t *t = conntab_new(cap);
    assert_non_null(t);
    for (uint32_t i = 0; i < cap; i++) {
        conn_t *c = conntab_insert(t, 0xc6120000u + i / 16, (uint16_t)(1000 + i % 16), false);
        assert_non_null(c);
    }
    assert_int_equal(conntab_count(t), cap);
    assert_null(conntab_insert(t, 1, 1, false));
    for (uint32_t i = 0; i < cap; i += 7) {
        conn_t *c = conntab_lookup(t, 0xc6120000u + i / 16, (uint16_t)(1000 + i % 16), false);
        assert_non_null(c);
        assert_int_equal(c->dport, 1000 + i % 16);
    }
    for (uint32_t i = 0; i < cap; i += 2)
        conntab_remove(t,
                       conntab_lookup(t, 0xc6120000u + i / 16, (uint16_t)(1000 + i % 16), false));
    assert_int_equal(conntab_count(t), cap / 2);
    for (uint32_t i = 0; i < cap; i++) {
        conn_t *c = conntab_lookup(t, 0xc6120000u + i / 16, (uint16_t)(1000 + i % 16), false);
        if (i % 2)
            assert_non_null(c);
        else
            assert_null(c);
    }
    conntab_destroy(&t);
}

/* The index follows the live entries, not the capacity: a table for 2^20 connections starts
 * with 64 KiB of index, holds 100,000 entries in 256 Ki slots (1 MiB, at most half full), and
 * reaches the 8 MiB of twice its capacity only when it holds more than 2^19. */
static void test_index_grows(void **state)
{
    (void)state;
    conntab_t *t = conntab_new(1u << 20);
    assert_non_null(t);
    assert_int_equal(conntab_index_bytes(t), 64u << 10);
    for (uint32_t i = 0; i < 100000; i++)
        assert_non_null(conntab_insert(t, 0xc6130000u + i, 80, false));
    assert_int_equal(conntab_index_bytes(t), 1u << 20);
    for (uint32_t i = 0; i < 100000; i += 3)
        assert_non_null(conntab_lookup(t, 0xc6130000u + i, 80, false));
    for (uint32_t i = 100000; i < (1u << 19) + 1; i++)
        assert_non_null(conntab_insert(t, 0xc6130000u + i, 80, false));
    assert_int_equal(conntab_index_bytes(t), 8u << 20);
    for (uint32_t i = 0; i < (1u << 19) + 1; i += 5)
        assert_non_null(conntab_lookup(t, 0xc6130000u + i, 80, false));
    assert_null(conntab_lookup(t, 0xc6130000u + (1u << 19) + 1, 80, false));
    conntab_destroy(&t);
}

/* The budget: at most 64 bytes per in-flight connection, table and timer wheel together,
 * for a table of 10^6 with the wheel the engine would pair with it. */
static void test_bytes_per_connection(void **state)
{
    (void)state;
    const uint32_t cap = 1000000;
    conntab_t *t = conntab_new(cap);
    timerwheel_t *w = timerwheel_new(cap, 10, 4096, 0);
    assert_non_null(t);
    assert_non_null(w);
    size_t ct = conntab_bytes_per_conn(t), tw = timerwheel_bytes_per_id(w);
    print_message("# conntab %zu B + timerwheel %zu B = %zu B per connection\n", ct, tw, ct + tw);
    /* Honest measures: at least the pool entry plus two index slots, and three uint32 links. */
    assert_true(ct >= sizeof(conn_t) + 2 * sizeof(uint32_t));
    assert_true(tw >= 3 * sizeof(uint32_t));
    assert_true(tw <= 16);
    assert_true(ct + tw <= 64);
    conntab_destroy(&t);
    timerwheel_destroy(&w);

    /* The engine's own sizing (worker/engine.c, worker/lzr.c): 2^20 connections, 10 ms ticks,
     * 8192 slots; at a power of two the index is exactly twice the pool. */
    t = conntab_new(1u << 20);
    w = timerwheel_new(1u << 20, 10, 8192, 0);
    assert_true(conntab_bytes_per_conn(t) + timerwheel_bytes_per_id(w) <= 64);
    conntab_destroy(&t);
    timerwheel_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_100k_random_keys),     cmocka_unit_test(test_tiny_table_churn),
        cmocka_unit_test(test_full_and_duplicate),   cmocka_unit_test(test_ids_stable),
        cmocka_unit_test(test_families_apart),       cmocka_unit_test(test_million_capacity),
        cmocka_unit_test(test_bytes_per_connection), cmocka_unit_test(test_walk),
        cmocka_unit_test(test_index_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
