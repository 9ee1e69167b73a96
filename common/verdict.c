/*
 * verdict: the decision table of verdict.h, and the names of verdicts and answers.
 */
#include "verdict.h"

#include "err.h"

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

const char *answer_name(answer_t a)
{
    switch (a) {
    case ANSWER_SYNACK:
        return "synack";
    case ANSWER_RST:
        return "rst";
    case ANSWER_SILENT:
        return "silent";
    case ANSWER_NONE:
    default:
        return "-";
    }
}
