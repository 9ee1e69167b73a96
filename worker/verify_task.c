/*
 * verify_task: the request's attempts copied into arrays of their own, a thread that waits for
 * the coordinator's start moment and runs either the comparison (one round of connections) or
 * the trigger test (per source IP, one after another), and the VerifyResult built from the
 * arrays. `finished` is the only field the thread and the agent share.
 */
#include "worker/verify_task.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "worker/verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_ATTEMPTS 4096

struct verify_task {
    uint64_t job_id, task;
    int phase; /* LZR__VERIFY_PHASE__VERIFY_PHASE_* */
    uint64_t start_us;
    uint32_t timeout_ms;
    size_t n;
    lzr_addr_t *src, *ip;
    uint16_t *port;
    answer_t *answer, *after_bare, *after_data;
    pthread_t thread;
    bool started;
    volatile bool finished;
    int rc;
    char err[256];
};

/* Frees the task's arrays and the task (its thread is joined or never started). */
static void task_free(verify_task_t *t)
{
    if (!t)
        return;
    free(t->src);
    free(t->ip);
    free(t->port);
    free(t->answer);
    free(t->after_bare);
    free(t->after_data);
    free(t);
}

/* The trigger test for the attempts of one source IP. */
static int trigger_group(verify_task_t *t, const lzr_addr_t *src)
{
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++)
        m += addr_equal(&t->src[i], src);
    verify_target_t *tg = calloc(m, sizeof *tg);
    bool *want = calloc(m, sizeof *want);
    verify_evidence_t *ev = calloc(m, sizeof *ev);
    size_t *idx = calloc(m, sizeof *idx);
    int rc = LZR_ENOMEM;
    if (tg && want && ev && idx) {
        size_t k = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (!addr_equal(&t->src[i], src))
                continue;
            tg[k] = (verify_target_t){.ip = t->ip[i], .port = t->port[i]};
            want[k] = true;
            idx[k++] = i;
        }
        rc = verify_trigger(src, tg, want, m, t->timeout_ms, ev, t->err, sizeof t->err);
        for (size_t k2 = 0; k2 < m && rc == LZR_OK; k2++) {
            t->after_bare[idx[k2]] = ev[k2].after_bare;
            t->after_data[idx[k2]] = ev[k2].after_data;
        }
    } else {
        snprintf(t->err, sizeof t->err, "out of memory");
    }
    free(tg);
    free(want);
    free(ev);
    free(idx);
    return rc;
}

static void *verify_thread(void *arg)
{
    verify_task_t *t = arg;
    /* Start at the coordinator's moment, so that another worker's attempts on the same host
     * leave together with ours; never wait more than 10 s on a clock that disagrees. */
    uint64_t now = clock_wall_us();
    if (t->start_us > now) {
        uint64_t wait = t->start_us - now;
        if (wait > 10000000u)
            wait = 10000000u;
        struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000L};
        nanosleep(&ts, NULL);
    }
    int rc = LZR_OK;
    if (t->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE) {
        verify_attempt_t *a = calloc(t->n ? t->n : 1, sizeof *a);
        if (!a) {
            rc = LZR_ENOMEM;
            snprintf(t->err, sizeof t->err, "out of memory");
        } else {
            for (size_t i = 0; i < t->n; i++)
                a[i] = (verify_attempt_t){.src = t->src[i], .dst = t->ip[i], .port = t->port[i]};
            rc = verify_attempts(a, t->n, t->timeout_ms, t->err, sizeof t->err);
            for (size_t i = 0; i < t->n && rc == LZR_OK; i++)
                t->answer[i] = a[i].answer;
            free(a);
        }
    } else {
        /* One trigger test per source IP, one after another. */
        for (size_t i = 0; i < t->n && rc == LZR_OK; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = addr_equal(&t->src[j], &t->src[i]);
            if (!seen)
                rc = trigger_group(t, &t->src[i]);
        }
    }
    t->rc = rc;
    __atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
    return NULL;
}
/* The reason request m cannot be worked on, or NULL: its phase and its size. */
static const char *check_request(const Lzr__VerifyRequest *m)
{
    if (m->phase != LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE &&
        m->phase != LZR__VERIFY_PHASE__VERIFY_PHASE_TRIGGER)
        return "unknown verification phase";
    if (m->n_attempts > MAX_ATTEMPTS)
        return "too many attempts in one request (at most 4096)";
    return NULL;
}

/* The reason an attempt of m cannot be made here, or NULL; fills src[i] and ip[i] from the
 * attempts. */
static const char *check_attempts(const Lzr__VerifyRequest *m, const lzr_addr_t *own, size_t n_own,
                                  lzr_addr_t *src, lzr_addr_t *ip, char *msg, size_t cap)
{
    for (size_t i = 0; i < m->n_attempts; i++) {
        const Lzr__VerifyAttempt *a = m->attempts[i];
        char why[96];
        if (wire_addrs_from(a->src, a->src6, a->ip, a->ip6, &src[i], &ip[i], why, sizeof why)) {
            snprintf(msg, cap, "attempt %zu: %s", i, why);
            return msg;
        }
        bool mine = false;
        for (size_t k = 0; k < n_own && !mine; k++)
            mine = own[k].family && addr_equal(&own[k], &src[i]);
        if (!mine || a->port == 0 || a->port > 65535) {
            char text[ADDR_TEXT_MAX];
            snprintf(msg, cap, "attempt %zu: source %s is not this worker's, or bad port", i,
                     addr_format(&src[i], text));
            return msg;
        }
    }
    return NULL;
}

/* A task holding a copy of m's attempts, or NULL when out of memory. */
static verify_task_t *task_new(const Lzr__VerifyRequest *m)
{
    verify_task_t *t = calloc(1, sizeof *t);
    size_t n = m->n_attempts, c = n ? n : 1;
    if (t) {
        t->src = calloc(c, sizeof *t->src);
        t->ip = calloc(c, sizeof *t->ip);
        t->port = calloc(c, sizeof *t->port);
        t->answer = calloc(c, sizeof *t->answer);
        t->after_bare = calloc(c, sizeof *t->after_bare);
        t->after_data = calloc(c, sizeof *t->after_data);
    }
    if (!t || !t->src || !t->ip || !t->port || !t->answer || !t->after_bare || !t->after_data) {
        task_free(t);
        return NULL;
    }
    t->job_id = m->job_id;
    t->task = m->task;
    t->phase = m->phase;
    t->start_us = m->start_us;
    t->timeout_ms = m->timeout_ms >= 100 && m->timeout_ms <= 30000 ? m->timeout_ms : 2000;
    t->n = n;
    for (size_t i = 0; i < n; i++)
        t->port[i] = (uint16_t)m->attempts[i]->port;
    return t;
}

verify_task_t *verify_task_start(const Lzr__VerifyRequest *m, const lzr_addr_t *own, size_t n_own,
                                 char *err, size_t errlen)
{
    const char *why = check_request(m);
    verify_task_t *t = why ? NULL : task_new(m);
    if (!why && !t)
        why = "out of memory";
    if (!why)
        why = check_attempts(m, own, n_own, t->src, t->ip, err, errlen);
    if (why) {
        if (why != err)
            snprintf(err, errlen, "%s", why);
        task_free(t);
        return NULL;
    }
    log_info("job %llu: verification task %llu (%s, %zu attempts)", (unsigned long long)t->job_id,
             (unsigned long long)t->task,
             t->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE ? "compare" : "trigger", t->n);
    if (pthread_create(&t->thread, NULL, verify_thread, t) != 0) {
        snprintf(err, errlen, "cannot start the verification thread");
        task_free(t);
        return NULL;
    }
    t->started = true;
    return t;
}

bool verify_task_finished(const verify_task_t *t)
{
    return __atomic_load_n(&t->finished, __ATOMIC_ACQUIRE);
}

/* Sends the VerifyResult for (job_id, task): the attempts of t, or error. */
static void send_result(uint64_t job_id, uint64_t task, const verify_task_t *t, const char *error,
                        verify_task_send_fn send, void *ctx)
{
    size_t n = t ? t->n : 0;
    Lzr__VerifyAttempt *m = calloc(n ? n : 1, sizeof *m);
    Lzr__VerifyAttempt **mp = calloc(n ? n : 1, sizeof *mp);
    Lzr__VerifyResult r = LZR__VERIFY_RESULT__INIT;
    r.job_id = job_id;
    r.task = task;
    if (m && mp && !error) {
        for (size_t i = 0; i < n; i++) {
            lzr__verify_attempt__init(&m[i]);
            wire_addrs_to(&t->src[i], &t->ip[i], &m[i].src, &m[i].src6, &m[i].ip, &m[i].ip6);
            m[i].port = t->port[i];
            m[i].answer = t->answer[i];
            m[i].after_bare = t->after_bare[i];
            m[i].after_data = t->after_data[i];
            mp[i] = &m[i];
        }
        r.n_attempts = n;
        r.attempts = mp;
    }
    r.error = (char *)(error ? error : (m && mp) ? "" : "out of memory");
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_VERIFY_RESULT;
    env.verify_result = &r;
    send(ctx, &env);
    free(m);
    free(mp);
}

void verify_task_reply(const verify_task_t *t, verify_task_send_fn send, void *ctx)
{
    if (t->rc != LZR_OK)
        log_warn("verification task %llu failed: %s", (unsigned long long)t->task, t->err);
    send_result(t->job_id, t->task, t, t->rc == LZR_OK ? NULL : t->err, send, ctx);
}

void verify_task_refuse(const Lzr__VerifyRequest *m, const char *error, verify_task_send_fn send,
                        void *ctx)
{
    send_result(m->job_id, m->task, NULL, error, send, ctx);
}

void verify_task_free(verify_task_t **tp)
{
    verify_task_t *t = *tp;
    if (!t)
        return;
    if (t->started)
        pthread_join(t->thread, NULL);
    task_free(t);
    *tp = NULL;
}
