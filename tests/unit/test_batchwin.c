/*
 * Unit tests for worker/batchwin: batches are packed as ResultBatch envelopes with rising
 * sequence numbers and sent at once only when asked; the window refuses more than its size;
 * an Ack frees its batch and a duplicate Ack is harmless; a batch unacked for
 * BATCHWIN_RESEND_MS goes out again byte for byte, and after resend_all every batch does; a
 * short batch is due only after BATCHWIN_FLUSH_MS. Time is a parameter, so no test sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/wire.h"
#include "worker/batchwin.h"

/* What the window sent, as decoded envelopes' sequence numbers and record counts. */
typedef struct sent {
    uint64_t seq[64];
    size_t n_records[64];
    uint64_t job[64];
    size_t n;
} sent_t;

static void record_send(void *ctx, const uint8_t *buf, size_t len)
{
    sent_t *s = ctx;
    char err[256];
    Lzr__Envelope *env = wire_unpack(buf, len, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(env->body_case, LZR__ENVELOPE__BODY_BATCH);
    assert_true(s->n < 64);
    s->seq[s->n] = env->batch->seq;
    s->n_records[s->n] = env->batch->n_records;
    s->job[s->n] = env->batch->lease->job_id;
    s->n++;
    wire_free(&env);
}

/* Fills the window's record slots with n records for 10.0.0.i:80. */
static void fill(batchwin_t *w, size_t n)
{
    lzr_record_t *r = batchwin_records(w);
    for (size_t i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].ip = addr_ipv4(0x0a000000u + (uint32_t)i);
        r[i].port = 80;
        r[i].cls = CLASS_SERVICE;
    }
}

static void test_add_ack_window(void **state)
{
    (void)state;
    sent_t s = {0};
    batchwin_t *w = batchwin_new(3, 4, record_send, &s);
    assert_non_null(w);
    for (int i = 0; i < 3; i++) {
        fill(w, 4);
        assert_int_equal(batchwin_add(w, 9, 2, 4, 1000, i != 1), LZR_OK);
    }
    assert_int_equal(batchwin_pending(w), 3);
    assert_int_equal(s.n, 2); /* the second was kept but not sent (not registered) */
    assert_int_equal(s.seq[0], 1);
    assert_int_equal(s.seq[1], 3);
    assert_int_equal(s.n_records[0], 4);
    assert_int_equal(s.job[0], 9);
    fill(w, 1);
    assert_int_equal(batchwin_add(w, 9, 2, 1, 1000, true), LZR_EINVAL); /* full */
    assert_false(batchwin_due(w, 100, 99999));
    batchwin_ack(w, 2);
    batchwin_ack(w, 2); /* duplicate: ignored */
    batchwin_ack(w, 77);
    assert_int_equal(batchwin_pending(w), 2);
    fill(w, 4);
    assert_int_equal(batchwin_add(w, 9, 2, 4, 1000, true), LZR_OK);
    assert_int_equal(s.seq[s.n - 1], 4);
    assert_int_equal(batchwin_add(w, 9, 2, 5, 1000, true), LZR_EINVAL); /* over batch size */
    batchwin_destroy(&w); /* frees the batches still pending (ASan checks) */
    assert_null(w);
}

static void test_resend(void **state)
{
    (void)state;
    sent_t s = {0};
    batchwin_t *w = batchwin_new(4, 8, record_send, &s);
    fill(w, 8);
    assert_int_equal(batchwin_add(w, 1, 0, 8, 1000, true), LZR_OK);
    fill(w, 3);
    assert_int_equal(batchwin_add(w, 1, 0, 3, 2000, true), LZR_OK);
    assert_int_equal(s.n, 2);
    batchwin_resend_due(w, 1000 + BATCHWIN_RESEND_MS - 1);
    assert_int_equal(s.n, 2);
    batchwin_resend_due(w, 1000 + BATCHWIN_RESEND_MS); /* the first only */
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seq[2], 1);
    assert_int_equal(s.n_records[2], 8);
    batchwin_ack(w, 2);
    batchwin_resend_due(w, 2000 + BATCHWIN_RESEND_MS); /* acked: not again */
    assert_int_equal(s.n, 3);
    batchwin_resend_all(w); /* a new Welcome: everything unacked goes at the next chance */
    batchwin_resend_due(w, 4001);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.seq[3], 1);
    batchwin_destroy(&w);
}

static void test_due(void **state)
{
    (void)state;
    sent_t s = {0};
    batchwin_t *w = batchwin_new(2, 8, record_send, &s);
    assert_false(batchwin_due(w, 0, 100000)); /* nothing queued */
    assert_true(batchwin_due(w, 3, 100000));  /* never flushed: a short batch goes */
    fill(w, 3);
    assert_int_equal(batchwin_add(w, 1, 0, 3, 100000, true), LZR_OK);
    assert_false(batchwin_due(w, 3, 100000 + BATCHWIN_FLUSH_MS - 1));
    assert_true(batchwin_due(w, 8, 100000 + 1)); /* a full batch goes at once */
    assert_true(batchwin_due(w, 3, 100000 + BATCHWIN_FLUSH_MS));
    fill(w, 8);
    assert_int_equal(batchwin_add(w, 1, 0, 8, 100001, true), LZR_OK);
    assert_false(batchwin_due(w, 8, 200000)); /* window full */
    batchwin_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_ack_window),
        cmocka_unit_test(test_resend),
        cmocka_unit_test(test_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
