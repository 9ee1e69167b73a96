/*
 * Unit tests for common/verdict: the decision table over every combination of answers and
 * candidate reasons, and the names of verdicts, answers and reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/verdict.h"

static verdict_t decide_why(candidate_t why, answer_t orig, answer_t fresh, answer_t bare,
                            answer_t data)
{
    verify_evidence_t e = {
        .why = why, .orig = orig, .fresh = fresh, .after_bare = bare, .after_data = data};
    return verdict_decide(&e);
}

static verdict_t decide(answer_t orig, answer_t fresh, answer_t bare, answer_t data)
{
    return decide_why(CANDIDATE_LOST, orig, fresh, bare, data);
}

static void test_paper_cases(void **state)
{
    (void)state;
    /* Blocked by a bare handshake (paper §2.2), silent or reset. */
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_SYNACK, ANSWER_SILENT, ANSWER_NONE),
                     VERDICT_SHUNNING);
    assert_int_equal(decide(ANSWER_RST, ANSWER_SYNACK, ANSWER_RST, ANSWER_NONE), VERDICT_SHUNNING);
    /* A shunning host whose only answers are RSTs (a closed port was the first contact): the
     * fresh IP's RST is the evidence, the trigger IP's second SYN is ignored. */
    assert_int_equal(
        decide_why(CANDIDATE_PARTIAL, ANSWER_SILENT, ANSWER_RST, ANSWER_SILENT, ANSWER_NONE),
        VERDICT_SHUNNING);
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
    /* A closed port that resets the trigger IP again is answering, not shunning it. */
    assert_int_equal(decide(ANSWER_SILENT, ANSWER_RST, ANSWER_RST, ANSWER_NONE), VERDICT_BLOCKING);
}

/* A host that answers the original IP as it answers a fresh one is not blocking: "transient"
 * only when the scan saw that port go silent; a never-acking middlebox or a host with filtered
 * ports is "not_blocking" (§2.7: they answer every source IP). */
static void test_consistent_hosts(void **state)
{
    (void)state;
    assert_int_equal(
        decide_why(CANDIDATE_NO_ACK, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_NONE, ANSWER_NONE),
        VERDICT_NOT_BLOCKING);
    assert_int_equal(
        decide_why(CANDIDATE_PARTIAL, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_NONE, ANSWER_NONE),
        VERDICT_NOT_BLOCKING);
    assert_int_equal(
        decide_why(CANDIDATE_PARTIAL, ANSWER_RST, ANSWER_RST, ANSWER_NONE, ANSWER_NONE),
        VERDICT_NOT_BLOCKING);
    assert_int_equal(
        decide_why(CANDIDATE_LOST, ANSWER_SYNACK, ANSWER_SYNACK, ANSWER_NONE, ANSWER_NONE),
        VERDICT_TRANSIENT);
}

/* Every combination: churn exactly when neither address is answered; a blocking verdict
 * exactly when the fresh IP is answered and the original refused; otherwise the reason picks
 * transient or not_blocking. */
static void test_every_combination(void **state)
{
    (void)state;
    static const answer_t all[] = {ANSWER_NONE, ANSWER_SYNACK, ANSWER_RST, ANSWER_SILENT};
    for (int why = CANDIDATE_LOST; why <= CANDIDATE_PARTIAL; why++)
        for (int o = 0; o < 4; o++)
            for (int f = 0; f < 4; f++)
                for (int b = 0; b < 4; b++)
                    for (int d = 0; d < 4; d++) {
                        verify_evidence_t e = {.why = (candidate_t)why,
                                               .orig = all[o],
                                               .fresh = all[f],
                                               .after_bare = all[b],
                                               .after_data = all[d]};
                        verdict_t v = verdict_decide(&e);
                        bool orig_ans = all[o] == ANSWER_SYNACK || all[o] == ANSWER_RST;
                        bool fresh_ans = all[f] == ANSWER_SYNACK || all[f] == ANSWER_RST;
                        bool refused = all[o] == ANSWER_SILENT ||
                                       (all[o] == ANSWER_RST && all[f] == ANSWER_SYNACK);
                        if (!orig_ans && !fresh_ans) {
                            assert_int_equal(v, VERDICT_CHURN);
                        } else if (fresh_ans && refused) {
                            assert_true(verdict_blocked(&e));
                            assert_true(v == VERDICT_SHUNNING || v == VERDICT_DYNAMIC_BLOCKING ||
                                        v == VERDICT_BLOCKING);
                        } else {
                            assert_false(verdict_blocked(&e));
                            assert_int_equal(v, why == CANDIDATE_LOST ? VERDICT_TRANSIENT
                                                                      : VERDICT_NOT_BLOCKING);
                        }
                    }
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"shunning",  "dynamic_blocking", "blocking",  "churn",
                                        "transient", "not_blocking",     "unverified"};
    assert_int_equal(VERDICT_COUNT, 7);
    for (int i = 0; i < VERDICT_COUNT; i++) {
        verdict_t v;
        assert_string_equal(verdict_name((verdict_t)i), names[i]);
        assert_int_equal(verdict_parse(names[i], &v), LZR_OK);
        assert_int_equal(v, i);
    }
    verdict_t v;
    assert_int_equal(verdict_parse("shun", &v), LZR_EINVAL);
    /* the verdicts that stand for a host in reports */
    assert_true(verdict_names_behaviour("shunning"));
    assert_true(verdict_names_behaviour("dynamic_blocking"));
    assert_true(verdict_names_behaviour("blocking"));
    assert_true(verdict_names_behaviour("churn"));
    assert_false(verdict_names_behaviour("transient"));
    assert_false(verdict_names_behaviour("not_blocking"));
    assert_false(verdict_names_behaviour("unverified"));
    assert_false(verdict_names_behaviour("shun"));
    assert_false(verdict_names_behaviour(NULL));
    assert_string_equal(verdict_name(VERDICT_COUNT), "invalid");
    assert_string_equal(answer_name(ANSWER_SYNACK), "synack");
    assert_string_equal(answer_name(ANSWER_RST), "rst");
    assert_string_equal(answer_name(ANSWER_SILENT), "silent");
    assert_string_equal(answer_name(ANSWER_NONE), "-");
    static const char *const why[] = {"lost", "no_ack", "partial"};
    for (int i = 0; i < 3; i++) {
        candidate_t c;
        assert_string_equal(candidate_name((candidate_t)i), why[i]);
        assert_int_equal(candidate_parse(why[i], &c), LZR_OK);
        assert_int_equal(c, i);
    }
    candidate_t c;
    assert_int_equal(candidate_parse("gone", &c), LZR_EINVAL);
    assert_string_equal(candidate_name((candidate_t)7), "invalid");
}

/* Answer words read back as they are written; the random port stays in the ephemeral range,
 * off the port itself, and is the same for the same (salt, ip, port). */
static void test_answers_and_random_port(void **state)
{
    (void)state;
    for (int a = 0; a < ANSWER_COUNT; a++) {
        answer_t back = ANSWER_COUNT;
        assert_int_equal(answer_parse(answer_name((answer_t)a), &back), LZR_OK);
        assert_int_equal(back, a);
    }
    answer_t x;
    assert_int_equal(answer_parse("maybe", &x), LZR_EINVAL);
    assert_int_equal(answer_parse(NULL, &x), LZR_EINVAL);
    for (uint32_t ip = 1; ip < 2000; ip += 7) {
        for (uint64_t salt = 0; salt < 3; salt++) {
            uint16_t port = (uint16_t)(32768 + ip * 13 % 28232);
            lzr_addr_t a = addr_ipv4(ip), a6 = {.family = ADDR_IPV6, .v6 = {0x20, 0x01, 0, 2}};
            a6.v6[15] = (uint8_t)ip;
            a6.v6[14] = (uint8_t)(ip >> 8);
            uint16_t p = verdict_random_port(salt, &a, port);
            uint16_t p6 = verdict_random_port(salt, &a6, port);
            assert_true(p >= 32768 && p <= 61000);
            assert_true(p6 >= 32768 && p6 <= 61000);
            assert_int_not_equal(p, port);
            assert_int_not_equal(p6, port);
            assert_int_equal(verdict_random_port(salt, &a, port), p);
            assert_int_equal(verdict_random_port(salt, &a6, port), p6);
        }
    }
    /* IPv6 hosts spread over the range like IPv4 ones: 200 hosts of one /64, many ports. */
    uint8_t seen[28233] = {0};
    unsigned distinct = 0;
    for (unsigned h = 0; h < 200; h++) {
        lzr_addr_t a6 = {.family = ADDR_IPV6, .v6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0x16}};
        a6.v6[15] = (uint8_t)h;
        unsigned k = verdict_random_port(1, &a6, 80) - 32768u;
        distinct += !seen[k];
        seen[k] = 1;
    }
    assert_true(distinct > 190);
    verify_evidence_t e = {.why = CANDIDATE_PARTIAL, .orig = ANSWER_SILENT, .fresh = ANSWER_RST};
    char buf[256];
    assert_true(verdict_answers_json(&e, 40123, buf, sizeof buf) > 0);
    assert_string_equal(buf, "\"orig\":\"silent\",\"fresh\":\"rst\",\"orig_random\":\"-\","
                             "\"random_port\":40123,\"after_bare\":\"-\",\"after_data\":\"-\"");
    assert_int_equal(verdict_answers_json(&e, 40123, buf, 10), 0);
    char obj[300];
    snprintf(obj, sizeof obj, "{\"candidate\":\"partial\",%s}",
             "\"orig\":\"silent\",\"fresh\":\"rst\"");
    verify_evidence_t back;
    assert_int_equal(verdict_evidence_parse(obj, &back), LZR_OK);
    assert_memory_equal(&back, &e, sizeof e);
    assert_int_equal(verdict_evidence_parse("{\"candidate\":\"odd\"}", &back), LZR_EPARSE);
    assert_int_equal(verdict_evidence_parse("{\"fresh\":\"synack", &back), LZR_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_cases),
        cmocka_unit_test(test_consistent_hosts),
        cmocka_unit_test(test_every_combination),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_answers_and_random_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
