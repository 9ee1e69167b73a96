/*
 * verdict: what multi-vantage verification concludes about a host that stopped answering the
 * scanner (DESIGN.md §1 step 4; the paper's §2.2 and §2.7). The evidence is a handful of
 * connection attempts made at about the same moment from the original scan IP and from fresh
 * IPs that never touched the host, plus a trigger test from a further fresh IP. Workers gather
 * the evidence; this module turns it into a verdict, the same way on every side.
 */
#ifndef LZR_VERDICT_H
#define LZR_VERDICT_H

#include "common/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(enum, name): the answer to one connection attempt, and its word in evidence JSON. */
#define LZR_ANSWER_LIST(X)                                                                         \
    X(ANSWER_NONE, "-")        /* not tried */                                                     \
    X(ANSWER_SYNACK, "synack") /* the handshake completed */                                       \
    X(ANSWER_RST, "rst")       /* refused */                                                       \
    X(ANSWER_SILENT, "silent") /* nothing came back in time */

typedef enum {
#define LZR_ANSWER_ENUM(e, name) e,
    LZR_ANSWER_LIST(LZR_ANSWER_ENUM)
#undef LZR_ANSWER_ENUM
        ANSWER_COUNT
} answer_t;

/* X(enum, name, behaviour): behaviour is true for the verdicts that say what a host does to a
 * scanner, which then stand for the host in reports instead of its classes (docs/report.md). */
#define LZR_VERDICT_LIST(X)                                                                        \
    X(VERDICT_SHUNNING, "shunning", true)                                                          \
    X(VERDICT_DYNAMIC_BLOCKING, "dynamic_blocking", true)                                          \
    X(VERDICT_BLOCKING, "blocking", true)                                                          \
    X(VERDICT_CHURN, "churn", true)                                                                \
    X(VERDICT_TRANSIENT, "transient", false)                                                       \
    X(VERDICT_NOT_BLOCKING, "not_blocking", false)                                                 \
    X(VERDICT_UNVERIFIED, "unverified", false)

typedef enum {
#define LZR_VERDICT_ENUM(e, name, behaviour) e,
    LZR_VERDICT_LIST(LZR_VERDICT_ENUM)
#undef LZR_VERDICT_ENUM
        VERDICT_COUNT
} verdict_t;

/* Why the scan made a host a candidate: what its scan IP saw. */
typedef enum {
    CANDIDATE_LOST = 0, /* a port answered, then went silent to later SYNs (lost_after_synack) */
    CANDIDATE_NO_ACK,   /* data was never acknowledged (no_ack_data) */
    CANDIDATE_PARTIAL,  /* the host answered some ports (SYN-ACK or RST) and not the others */
} candidate_t;

typedef struct verify_evidence {
    candidate_t why;      /* the scan's reason; CANDIDATE_LOST when unknown */
    answer_t orig;        /* original scan IP → the port */
    answer_t fresh;       /* fresh IP → the port, at the same moment */
    answer_t orig_random; /* original scan IP → a random ephemeral port: shunning is per IP,
                             so a shunned scanner is ignored on every port */
    /* The trigger test, from a further fresh IP: a handshake without data, then another; then
     * a handshake that sends data, then another. Each "after" is the answer to the connection
     * that followed the trigger. */
    answer_t after_bare;
    answer_t after_data;
} verify_evidence_t;

/* Whether an attempt was refused where the fresh IP was answered: silence, or a RST where the
 * fresh IP got a SYN-ACK. A RST is an answer when the fresh IP got one too (a closed port of a
 * host that answers everyone alike). */
bool verdict_refused(answer_t a, answer_t fresh);

/* Whether the evidence shows the host treating the original IP worse than a fresh one: the
 * fresh IP answered (SYN-ACK or RST) and the original was refused. Such hosts get the trigger
 * test. */
bool verdict_blocked(const verify_evidence_t *e);

/* The verdict the evidence supports (never VERDICT_UNVERIFIED: that one is the coordinator's,
 * for a host whose evidence could not be gathered — no fresh IP left, a worker lost):
 * - neither the original nor the fresh IP is answered → churn (the host is gone);
 * - the host blocks the original IP (verdict_blocked), and the trigger test says how: the
 *   trigger IP refused after a bare handshake → shunning; only after data → dynamic_blocking;
 *   the trigger reproduces neither → blocking;
 * - otherwise the original IP is answered: transient when the scan saw it go silent on that
 *   port (CANDIDATE_LOST), else not_blocking — the host answers every source alike, and keeps
 *   its class (a never-acking middlebox, a host with filtered ports). */
verdict_t verdict_decide(const verify_evidence_t *e);

/* Names of candidate reasons: "lost", "no_ack", "partial"; candidate_parse reads them back
 * (LZR_OK, or LZR_EINVAL). */
const char *candidate_name(candidate_t c);
int candidate_parse(const char *name, candidate_t *out);

/* Names: "shunning", …, and "synack"/"rst"/"silent"/"-" for answers; answer_parse reads an
 * answer's name back (LZR_OK, or LZR_EINVAL). */
const char *verdict_name(verdict_t v);
const char *answer_name(answer_t a);
int answer_parse(const char *name, answer_t *out);

/* The ephemeral port (32768-60999, never port itself) the original IP is asked on besides
 * port: shunning is per IP, so a shunned scanner is ignored there too. A hash of salt (the job
 * id; 0 for a standalone run), ip (either family) and port, so every side picks the same one. */
uint16_t verdict_random_port(uint64_t salt, const lzr_addr_t *ip, uint16_t port);

/* Writes the answers of e as JSON members, without braces, into buf:
 * "orig":"rst","fresh":"synack","orig_random":"silent","random_port":40123,"after_bare":"-",
 * "after_data":"-". Returns the length, 0 when cap is too small. Both the coordinator's stored
 * evidence and `lzr-worker verify`'s lines are built around it. */
size_t verdict_answers_json(const verify_evidence_t *e, uint16_t random_port, char *buf,
                            size_t cap);

/* Reads the candidate reason and the answers back from a JSON object holding such members
 * (absent keys: CANDIDATE_LOST, ANSWER_NONE). Returns LZR_OK or LZR_EPARSE when the text is no
 * object or a known key holds something that is not a reason or an answer. */
int verdict_evidence_parse(const char *json, verify_evidence_t *e);

/* Whether the named verdict says what the host does to a scanner (shunning, dynamic_blocking,
 * blocking, churn); false for the others and for names that are no verdict. */
bool verdict_names_behaviour(const char *name);

/* Parses a verdict name; 0 and *out, or LZR_EINVAL. */
int verdict_parse(const char *name, verdict_t *out);

#endif
