/*
 * Unit tests for coordinator/blocks: a host's behaviour from its rows and verdict, runs of
 * consecutive addresses merged into blocks, and the size table on synthetic hosts whose block
 * sizes are known (a /24, a /26, a /31, single addresses, a gap that splits a run); the same
 * for IPv6 (runs across byte carries, bins named /128 to /120) beside IPv4 hosts they never merge
 * with.
 */
#include "common/err.h"
#include "coordinator/blocks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static void test_bins(void **state)
{
    (void)state;
    assert_int_equal(blocks_bin(1), BLOCK_BIN_32);
    assert_int_equal(blocks_bin(2), BLOCK_BIN_31_25);
    assert_int_equal(blocks_bin(128), BLOCK_BIN_31_25);
    assert_int_equal(blocks_bin(129), BLOCK_BIN_24);
    assert_int_equal(blocks_bin(256), BLOCK_BIN_24);
    assert_int_equal(blocks_bin(257), BLOCK_BIN_LARGER);
    assert_string_equal(blocks_bin_name(ADDR_IPV4, BLOCK_BIN_31_25), "/31-/25");
    assert_string_equal(blocks_bin_name(ADDR_IPV4, BLOCK_BINS), "invalid");
}

static void test_behaviour(void **state)
{
    (void)state;
    lzr_class_t web[] = {CLASS_CLOSED, CLASS_SERVICE, CLASS_CLOSED};
    assert_string_equal(blocks_behaviour(web, 3, NULL), "service");
    lzr_class_t zw[] = {CLASS_ZERO_WINDOW, CLASS_SILENT, CLASS_ZERO_WINDOW};
    assert_string_equal(blocks_behaviour(zw, 3, ""), "zero_window");
    lzr_class_t shun[] = {CLASS_LOST_AFTER_SYNACK, CLASS_SILENT, CLASS_SILENT};
    assert_string_equal(blocks_behaviour(shun, 3, NULL), "lost_after_synack");
    assert_string_equal(blocks_behaviour(shun, 3, "shunning"), "shunning");
    /* transient and unverified name no behaviour: the classes speak */
    lzr_class_t noack[] = {CLASS_NO_ACK_DATA, CLASS_LOST_AFTER_SYNACK};
    assert_string_equal(blocks_behaviour(noack, 2, "transient"), "no_ack_data");
    assert_string_equal(blocks_behaviour(noack, 2, "unverified"), "no_ack_data");
    lzr_class_t mixed[] = {CLASS_ZERO_WINDOW, CLASS_RST_AFTER_HANDSHAKE};
    assert_string_equal(blocks_behaviour(mixed, 2, NULL), "mixed");
    lzr_class_t closed[] = {CLASS_CLOSED, CLASS_SILENT};
    assert_string_equal(blocks_behaviour(closed, 2, NULL), "closed");
    lzr_class_t silent[] = {CLASS_SILENT, CLASS_SILENT};
    assert_null(blocks_behaviour(silent, 2, NULL));
    assert_null(blocks_behaviour(silent, 0, NULL));
}

static void add_range(blocks_t *b, uint32_t first, uint32_t n, const char *beh)
{
    for (uint32_t i = 0; i < n; i++) {
        lzr_addr_t a = addr_ipv4(first + i);
        assert_int_equal(blocks_add(b, &a, beh), LZR_OK);
    }
}

static const blocks_row_t *row_of(const blocks_row_t *rows, size_t n, const char *beh)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].behaviour, beh) == 0)
            return &rows[i];
    fail_msg("no row for %s", beh);
    return NULL;
}

static void test_aggregate(void **state)
{
    (void)state;
    blocks_t b = {0};
    add_range(&b, IP(10, 0, 0, 1), 1, "shunning");           /* /32 */
    add_range(&b, IP(10, 0, 0, 2), 1, "zero_window");        /* /32, adjacent but different */
    add_range(&b, IP(10, 0, 1, 0), 256, "zero_window");      /* /24: a gap before it */
    add_range(&b, IP(10, 0, 2, 0), 64, "shunning");          /* /26, right after the /24 */
    add_range(&b, IP(10, 0, 2, 100), 2, "shunning");         /* /31, after a gap */
    add_range(&b, IP(10, 0, 3, 0), 300, "service");          /* larger */
    add_range(&b, IP(10, 0, 4, 200), 1, "dynamic_blocking"); /* after the larger run */
    assert_int_equal(b.n, 7);
    assert_int_equal(b.v[2].first.v4, IP(10, 0, 1, 0));
    assert_int_equal(b.v[2].last.v4, IP(10, 0, 1, 255));
    assert_int_equal(b.v[3].last.v4 - b.v[3].first.v4 + 1, 64);
    /* out of order is refused */
    lzr_addr_t back = addr_ipv4(IP(10, 0, 0, 5)), again = addr_ipv4(IP(10, 0, 4, 200));
    assert_int_equal(blocks_add(&b, &back, "service"), LZR_EINVAL);
    assert_int_equal(blocks_add(&b, &again, "dynamic_blocking"), LZR_EINVAL);

    blocks_row_t *rows;
    size_t n;
    assert_int_equal(blocks_table(&b, &rows, &n), LZR_OK);
    assert_int_equal(n, 4);
    /* most addresses first */
    assert_string_equal(rows[0].behaviour, "service");
    assert_string_equal(rows[1].behaviour, "zero_window");
    const blocks_row_t *sh = row_of(rows, n, "shunning");
    assert_int_equal(sh->addresses, 67);
    assert_int_equal(sh->blocks, 3);
    assert_int_equal(sh->bins[BLOCK_BIN_32], 1);
    assert_int_equal(sh->bins[BLOCK_BIN_31_25], 2);
    assert_int_equal(sh->bins[BLOCK_BIN_24], 0);
    const blocks_row_t *zw = row_of(rows, n, "zero_window");
    assert_int_equal(zw->addresses, 257);
    assert_int_equal(zw->bins[BLOCK_BIN_32], 1);
    assert_int_equal(zw->bins[BLOCK_BIN_24], 1);
    const blocks_row_t *sv = row_of(rows, n, "service");
    assert_int_equal(sv->bins[BLOCK_BIN_LARGER], 1);
    assert_int_equal(row_of(rows, n, "dynamic_blocking")->bins[BLOCK_BIN_32], 1);
    free(rows);
    blocks_free(&b);
    assert_int_equal(b.n, 0);
}

/* n hosts from the IPv6 address base on, counting up in its last 32 bits (no carry beyond). */
static void add_range6(blocks_t *b, const char *base, uint32_t n, const char *beh)
{
    lzr_addr_t a;
    assert_int_equal(addr_parse(base, &a), LZR_OK);
    uint32_t low = (uint32_t)a.v6[12] << 24 | (uint32_t)a.v6[13] << 16 | a.v6[14] << 8 | a.v6[15];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = low + i;
        for (int k = 0; k < 4; k++)
            a.v6[12 + k] = (uint8_t)(v >> (24 - 8 * k));
        assert_int_equal(blocks_add(b, &a, beh), LZR_OK);
    }
}

static void assert_addr(const lzr_addr_t *a, const char *text)
{
    char buf[ADDR_TEXT_MAX];
    assert_string_equal(addr_format(a, buf), text);
}

static void assert_row(const blocks_row_t *row, addr_family_t f, const char *beh, uint64_t addrs,
                       uint64_t blocks)
{
    assert_int_equal(row->family, f);
    assert_string_equal(row->behaviour, beh);
    assert_int_equal(row->addresses, addrs);
    assert_int_equal(row->blocks, blocks);
}

static void test_bins_v6(void **state)
{
    (void)state;
    assert_string_equal(blocks_bin_name(ADDR_IPV6, BLOCK_BIN_32), "/128");
    assert_string_equal(blocks_bin_name(ADDR_IPV6, BLOCK_BIN_31_25), "/127-/121");
    assert_string_equal(blocks_bin_name(ADDR_IPV6, BLOCK_BIN_24), "/120");
    assert_string_equal(blocks_bin_name(ADDR_IPV6, BLOCK_BIN_LARGER), "larger");
    assert_string_equal(blocks_bin_name(ADDR_IPV4, BLOCK_BIN_32), "/32");
    assert_string_equal(blocks_bin_name(ADDR_NONE, BLOCK_BIN_32), "invalid");
}

/* IPv6 runs: carries across bytes keep a run whole, a gap or a new behaviour splits it, and the
 * IPv4 run before them stays apart from the first IPv6 host, whose last 32 bits read as the
 * next IPv4 address. */
static void test_aggregate_v6(void **state)
{
    (void)state;
    blocks_t b = {0};
    add_range(&b, IP(198, 18, 0, 254), 2, "zero_window");   /* v4: /31 */
    add_range6(&b, "2001:2::c612:100", 1, "zero_window");   /* low bits: 198.18.1.0 */
    add_range6(&b, "2001:2:0:1::fffe", 4, "shunning");      /* ::fffe-::1:1, carries 2 bytes */
    add_range6(&b, "2001:2:0:1::1:f0", 256, "zero_window"); /* /120-sized, across ::1:ff */
    add_range6(&b, "2001:2:0:1::2:0", 4, "service");        /* /126 */
    add_range6(&b, "2001:2:0:1::2:5", 1, "service");        /* a gap before it */
    add_range6(&b, "2001:2:0:1::2:6", 1, "zero_window");    /* adjacent, another behaviour */
    add_range6(&b, "2001:2:0:1::3:0", 300, "service");      /* larger */
    assert_int_equal(b.n, 8);
    assert_int_equal(b.v[0].first.family, ADDR_IPV4);
    assert_int_equal(b.v[0].size, 2);
    assert_addr(&b.v[1].first, "2001:2::c612:100");
    assert_int_equal(b.v[1].size, 1);
    assert_addr(&b.v[2].first, "2001:2:0:1::fffe");
    assert_addr(&b.v[2].last, "2001:2:0:1::1:1");
    assert_int_equal(b.v[2].size, 4);
    assert_addr(&b.v[3].first, "2001:2:0:1::1:f0");
    assert_addr(&b.v[3].last, "2001:2:0:1::1:1ef");
    assert_int_equal(b.v[3].size, 256);
    assert_addr(&b.v[5].first, "2001:2:0:1::2:5");
    assert_int_equal(b.v[6].size, 1);
    assert_int_equal(b.v[7].size, 300);
    /* an IPv4 host after IPv6 ones, a repeat, and no address are refused */
    lzr_addr_t v4 = addr_ipv4(IP(198, 18, 1, 1)), none = {0};
    assert_int_equal(blocks_add(&b, &v4, "zero_window"), LZR_EINVAL);
    assert_int_equal(blocks_add(&b, &b.v[7].last, "zero_window"), LZR_EINVAL);
    assert_int_equal(blocks_add(&b, &none, "zero_window"), LZR_EINVAL);

    blocks_row_t *rows;
    size_t n;
    assert_int_equal(blocks_table(&b, &rows, &n), LZR_OK);
    assert_int_equal(n, 4);
    /* the IPv4 row first, then IPv6's by addresses */
    assert_row(&rows[0], ADDR_IPV4, "zero_window", 2, 1);
    assert_int_equal(rows[0].bins[BLOCK_BIN_31_25], 1);
    assert_row(&rows[1], ADDR_IPV6, "service", 305, 3);
    assert_int_equal(rows[1].bins[BLOCK_BIN_32], 1);
    assert_int_equal(rows[1].bins[BLOCK_BIN_31_25], 1);
    assert_int_equal(rows[1].bins[BLOCK_BIN_LARGER], 1);
    assert_row(&rows[2], ADDR_IPV6, "zero_window", 258, 3);
    assert_int_equal(rows[2].bins[BLOCK_BIN_32], 2);
    assert_int_equal(rows[2].bins[BLOCK_BIN_24], 1);
    assert_row(&rows[3], ADDR_IPV6, "shunning", 4, 1);
    assert_int_equal(rows[3].bins[BLOCK_BIN_31_25], 1);
    free(rows);
    blocks_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins),         cmocka_unit_test(test_behaviour),
        cmocka_unit_test(test_aggregate),    cmocka_unit_test(test_bins_v6),
        cmocka_unit_test(test_aggregate_v6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
