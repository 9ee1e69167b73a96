/*
 * verdict: the decision table of verdict.h, and the names of verdicts and answers.
 */
#include "verdict.h"

#include "err.h"

#include <string.h>

verdict_t verdict_decide(const verify_evidence_t *e)
{
    if (e->orig == ANSWER_SYNACK)
        return VERDICT_TRANSIENT;
    if (e->fresh != ANSWER_SYNACK)
        return VERDICT_CHURN;
    if (e->after_bare == ANSWER_SILENT || e->after_bare == ANSWER_RST)
        return VERDICT_SHUNNING;
    if (e->after_data == ANSWER_SILENT || e->after_data == ANSWER_RST)
        return VERDICT_DYNAMIC_BLOCKING;
    return VERDICT_BLOCKING;
}

static const char *const verdict_names[] = {
#define LZR_VERDICT_NAME(e, name) name,
    LZR_VERDICT_LIST(LZR_VERDICT_NAME)
#undef LZR_VERDICT_NAME
};

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
