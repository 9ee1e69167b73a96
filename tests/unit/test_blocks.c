/*
 * Unit tests for coordinator/blocks: a host's behaviour from its rows and verdict, runs of
 * consecutive addresses merged into blocks, and the size table on synthetic hosts whose block
 * sizes are known (a /24, a /26, a /31, single addresses, a gap that splits a run).
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
    assert_string_equal(blocks_bin_name(BLOCK_BIN_31_25), "/31-/25");
    assert_string_equal(blocks_bin_name(BLOCK_BINS), "invalid");
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
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(blocks_add(b, first + i, beh), LZR_OK);
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
    assert_int_equal(b.v[2].first, IP(10, 0, 1, 0));
    assert_int_equal(b.v[2].last, IP(10, 0, 1, 255));
    assert_int_equal(b.v[3].last - b.v[3].first + 1, 64);
    /* out of order is refused */
    assert_int_equal(blocks_add(&b, IP(10, 0, 0, 5), "service"), LZR_EINVAL);
    assert_int_equal(blocks_add(&b, IP(10, 0, 4, 200), "dynamic_blocking"), LZR_EINVAL);

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bins),
        cmocka_unit_test(test_behaviour),
        cmocka_unit_test(test_aggregate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
