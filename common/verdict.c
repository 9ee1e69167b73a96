/*
 * verdict: the decision table of verdict.h, the names of verdicts and answers, the random port
 * and the evidence's JSON members.
 */
#include "verdict.h"

#include "err.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

static bool answered(answer_t a)
{
    return a == ANSWER_SYNACK || a == ANSWER_RST;
}

bool verdict_refused(answer_t a, answer_t fresh)
{
    return a == ANSWER_SILENT || (a == ANSWER_RST && fresh == ANSWER_SYNACK);
}

bool verdict_blocked(const verify_evidence_t *e)
{
    return answered(e->fresh) && verdict_refused(e->orig, e->fresh);
}

verdict_t verdict_decide(const verify_evidence_t *e)
{
    if (!answered(e->orig) && !answered(e->fresh))
        return VERDICT_CHURN;
    if (verdict_blocked(e)) {
        if (verdict_refused(e->after_bare, e->fresh))
            return VERDICT_SHUNNING;
        if (verdict_refused(e->after_data, e->fresh))
            return VERDICT_DYNAMIC_BLOCKING;
        return VERDICT_BLOCKING;
    }
    return e->why == CANDIDATE_LOST ? VERDICT_TRANSIENT : VERDICT_NOT_BLOCKING;
}

static const char *const candidate_names[] = {"lost", "no_ack", "partial"};

const char *candidate_name(candidate_t c)
{
    return (unsigned)c < sizeof candidate_names / sizeof candidate_names[0] ? candidate_names[c]
                                                                            : "invalid";
}

int candidate_parse(const char *name, candidate_t *out)
{
    for (size_t i = 0; i < sizeof candidate_names / sizeof candidate_names[0]; i++) {
        if (strcmp(name, candidate_names[i]) == 0) {
            *out = (candidate_t)i;
            return LZR_OK;
        }
    }
    return LZR_EINVAL;
}

static const char *const verdict_names[] = {
#define LZR_VERDICT_NAME(e, name, behaviour) name,
    LZR_VERDICT_LIST(LZR_VERDICT_NAME)
#undef LZR_VERDICT_NAME
};

static const bool verdict_behaviour[] = {
#define LZR_VERDICT_BEHAVIOUR(e, name, behaviour) behaviour,
    LZR_VERDICT_LIST(LZR_VERDICT_BEHAVIOUR)
#undef LZR_VERDICT_BEHAVIOUR
};

bool verdict_names_behaviour(const char *name)
{
    verdict_t v;
    return name && verdict_parse(name, &v) == LZR_OK && verdict_behaviour[v];
}

const char *verdict_name(verdict_t v)
{
    return (unsigned)v < VERDICT_COUNT ? verdict_names[v] : "invalid";
}

int verdict_parse(const char *name, verdict_t *out)
{
    for (int i = 0; i < VERDICT_COUNT; i++) {
        if (strcmp(name, verdict_names[i]) == 0) {
            *out = (verdict_t)i;
            return LZR_OK;
        }
    }
    return LZR_EINVAL;
}

static const char *const answer_names[ANSWER_COUNT] = {
#define LZR_ANSWER_NAME(e, name) [e] = name,
    LZR_ANSWER_LIST(LZR_ANSWER_NAME)
#undef LZR_ANSWER_NAME
};

const char *answer_name(answer_t a)
{
    return (unsigned)a < ANSWER_COUNT ? answer_names[a] : "-";
}

int answer_parse(const char *name, answer_t *out)
{
    for (int a = 0; name && a < ANSWER_COUNT; a++) {
        if (strcmp(name, answer_names[a]) == 0) {
            *out = (answer_t)a;
            return LZR_OK;
        }
    }
    return LZR_EINVAL;
}

uint16_t verdict_random_port(uint64_t salt, const lzr_addr_t *ip, uint16_t port)
{
    uint64_t a = ip->family == ADDR_IPV4 ? ip->v4 : 0;
    for (int i = 0; ip->family == ADDR_IPV6 && i < 16; i++) /* folded to 64 bits */
        a = (a << 8 | a >> 56) ^ ip->v6[i];
    uint64_t h = (salt * 0x9E3779B97F4A7C15ull) ^ (a << 16) ^ port;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    uint16_t p = (uint16_t)(32768 + h % (61000 - 32768));
    return p == port ? (uint16_t)(p + 1) : p;
}

size_t verdict_answers_json(const verify_evidence_t *e, uint16_t random_port, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "\"orig\":\"%s\",\"fresh\":\"%s\",\"orig_random\":\"%s\",\"random_port\":%u,"
                     "\"after_bare\":\"%s\",\"after_data\":\"%s\"",
                     answer_name(e->orig), answer_name(e->fresh), answer_name(e->orig_random),
                     (unsigned)random_port, answer_name(e->after_bare), answer_name(e->after_data));
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* The string value of member key of json into out (cap bytes): LZR_OK, LZR_ENOTFOUND when the
 * key is absent, LZR_EPARSE when the value is malformed or longer than cap allows. */
static int string_member(const char *json, const char *key, char *out, size_t cap)
{
    const char *v;
    size_t n;
    int rc = text_json_member(json, key, &v, &n);
    if (rc != LZR_OK)
        return rc;
    if (n >= cap)
        return LZR_EPARSE;
    memcpy(out, v, n);
    out[n] = '\0';
    return LZR_OK;
}

static int parse_answer(const char *json, const char *key, answer_t *out)
{
    char name[16];
    *out = ANSWER_NONE;
    int rc = string_member(json, key, name, sizeof name);
    if (rc == LZR_ENOTFOUND)
        return LZR_OK;
    if (rc != LZR_OK || answer_parse(name, out) != LZR_OK)
        return LZR_EPARSE;
    return LZR_OK;
}

int verdict_evidence_parse(const char *json, verify_evidence_t *e)
{
    memset(e, 0, sizeof *e);
    if (!json || json[0] != '{')
        return LZR_EPARSE;
    /* Evidence stored before candidates had reasons has none: those were lost ports. */
    char why[16];
    int rc = string_member(json, "candidate", why, sizeof why);
    if (rc == LZR_EPARSE || (rc == LZR_OK && candidate_parse(why, &e->why) != LZR_OK))
        return LZR_EPARSE;
    rc = parse_answer(json, "orig", &e->orig);
    if (rc == LZR_OK)
        rc = parse_answer(json, "fresh", &e->fresh);
    if (rc == LZR_OK)
        rc = parse_answer(json, "orig_random", &e->orig_random);
    if (rc == LZR_OK)
        rc = parse_answer(json, "after_bare", &e->after_bare);
    if (rc == LZR_OK)
        rc = parse_answer(json, "after_data", &e->after_data);
    return rc;
}
