/*
 * Unit tests for common/verdict: the decision table over every combination of answers, and the
 * names of verdicts and answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/verdict.h"

static verdict_t decide(answer_t orig, answer_t fresh, answer_t bare, answer_t data)
{
    verify_evidence_t e = {.orig = orig, .fresh = fresh, .after_bare = bare, .after_data = data};
    return verdict_decide(&e);
}

static void test_paper_cases(void **state)
{
    (void)state;
    /* Blocked by a bare handshake (paper §2.2), silent or reset. */
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_SYNACK, ANSWER_SILENT, ANSWER_NONE),
                     VERDICT_SHUNNING);
    assert_int_equal(decide(ANSWER_RST, ANSWER_SYNACK, ANSWER_RST, ANSWER_NONE), VERDICT_SHUNNING);
    /* Blocked only once data was sent (§2.7). */
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_SILENT),
                     VERDICT_DYNAMIC_BLOCKING);
    assert_int_equal(decide(ANSWER_RST, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_RST),
                     VERDICT_DYNAMIC_BLOCKING);
    /* Blocks the scanner, but the trigger test does not reproduce it. */
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_SYNACK),
                     VERDICT_BLOCKING);
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_SYNACK, ANSWER_NONE, ANSWER_NONE),
                     VERDICT_BLOCKING);
}

static void test_churn_and_transient(void **state)
{
    (void)state;
    static const answer_t all[] = {ANSWER_NONE, ANSWER_SYNACK, ANSWER_RST, ANSWER_SILENT};
    for (int f = 0; f < 4; f++) {
        for (int b = 0; b < 4; b++) {
            for (int d = 0; d < 4; d++) {
                /* The original IP answered: whatever else happened, it is not blocked. */
                assert_int_equal(decide(ANSWER_SYNACK, all[f], all[b], all[d]), VERDICT_TRANSIENT);
                /* Nobody answered the original or the fresh IP: the host is gone. */
                if (all[f] != ANSWER_SYNACK) {
                    assert_int_equal(decide(ANSWER_SILENT, all[f], all[b], all[d]), VERDICT_CHURN);
                    assert_int_equal(decide(ANSWER_RST, all[f], all[b], all[d]), VERDICT_CHURN);
                }
            }
        }
    }
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"shunning", "dynamic_blocking", "blocking",
                                        "churn",    "transient",        "unverified"};
    assert_int_equal(VERDICT_COUNT, 6);
    for (int i = 0; i < VERDICT_COUNT; i++) {
        verdict_t v;
        assert_string_equal(verdict_name((verdict_t)i), names[i]);
        assert_int_equal(verdict_parse(names[i], &v), LZR_OK);
        assert_int_equal(v, i);
    }
    verdict_t v;
    assert_int_equal(verdict_parse("shun", &v), LZR_EINVAL);
    assert_string_equal(verdict_name(VERDICT_COUNT), "invalid");
    assert_string_equal(answer_name(ANSWER_SYNACK), "synack");
    assert_string_equal(answer_name(ANSWER_RST), "rst");
    assert_string_equal(answer_name(ANSWER_SILENT), "silent");
    assert_string_equal(answer_name(ANSWER_NONE), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_cases),
        cmocka_unit_test(test_churn_and_transient),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
