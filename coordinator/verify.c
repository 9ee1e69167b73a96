/*
 * verify: a pass is a loop of rounds. Each round takes up to VERIFY_ROUND candidates without a
 * verdict, picks their fresh IPs (burning them in contacts first), sends every worker one
 * compare request with a common start time, waits for the answers, sends the trigger requests
 * for hosts that answered only the fresh IP, and stores the round's verdicts. A candidate whose
 * evidence cannot be gathered (no fresh IP left, its original worker gone, a worker that never
 * answered) gets the verdict "unverified" with the reason in its evidence, never a guess.
 */
#include "coordinator/verify.h"

#include "common/err.h"
#include "common/log.h"
#include "common/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_IDLE, ST_COMPARE, ST_TRIGGER, ST_DONE };
enum { SLOT_ORIG, SLOT_RANDOM, SLOT_FRESH, SLOT_TRIGGER };

typedef struct item {
    store_candidate_t c;
    lzr_addr_t fresh_ip; /* the host's family; ADDR_NONE until one is picked */
    char fresh_worker[64];
    uint16_t random_port;
    lzr_addr_t trigger_ip;
    char trigger_worker[64];
    verify_evidence_t ev;
    unsigned answered; /* bit per SLOT_* */
    unsigned asked;
    char note[192];
    bool unverified;
} item_t;

typedef struct slot {
    size_t item;
    int kind;
} slot_t;

typedef struct task {
    uint64_t id;
    char worker[64];
    slot_t *slots;
    size_t n;
    bool done;
    char error[160];
} task_t;

struct verify_job {
    uint64_t job_id;
    uint32_t timeout_ms;
    uint32_t n_ports; /* ports per host in the job: fewer answered makes a host a candidate */
    uint64_t started_us;
    int state;
    uint64_t deadline_us;
    item_t *items;
    size_t n_items;
    task_t *tasks;
    size_t n_tasks;
    uint64_t next_task_id; /* task ids are unique within the pass, across its steps */
};

verify_job_t *verify_job_new(uint64_t job_id, uint32_t timeout_ms, uint32_t n_ports,
                             uint64_t now_us)
{
    verify_job_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->job_id = job_id;
    v->n_ports = n_ports;
    v->timeout_ms = timeout_ms < 500 ? 500 : timeout_ms > 5000 ? 5000 : timeout_ms;
    v->started_us = now_us;
    v->state = ST_IDLE;
    v->next_task_id = 1;
    return v;
}

static void tasks_clear(verify_job_t *v)
{
    for (size_t i = 0; i < v->n_tasks; i++)
        free(v->tasks[i].slots);
    free(v->tasks);
    v->tasks = NULL;
    v->n_tasks = 0;
}

void verify_job_free(verify_job_t **vp)
{
    if (!vp || !*vp)
        return;
    tasks_clear(*vp);
    free((*vp)->items);
    free(*vp);
    *vp = NULL;
}

uint64_t verify_job_id(const verify_job_t *v)
{
    return v->job_id;
}

/* ---- evidence as JSON -------------------------------------------------------------------- */

size_t verify_evidence_json(const verify_evidence_t *e, uint16_t random_port,
                            const char *orig_worker, const char *fresh_worker,
                            const lzr_addr_t *trigger_ip, const char *trigger_worker,
                            const char *note, char *buf, size_t cap)
{
    char tip[ADDR_TEXT_MAX], answers[256];
    char safe_note[192] = "";
    /* Notes are ours, but keep the JSON valid whatever they hold. */
    size_t k = 0;
    for (const char *p = note ? note : ""; *p && k + 1 < sizeof safe_note; p++)
        safe_note[k++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '\'' : *p;
    safe_note[k] = '\0';
    verdict_answers_json(e, random_port, answers, sizeof answers);
    int n = snprintf(buf, cap,
                     "{\"candidate\":\"%s\",%s,\"original_worker\":\"%s\",\"fresh_worker\":\"%s\","
                     "\"trigger_ip\":\"%s\",\"trigger_worker\":\"%s\",\"note\":\"%s\"}",
                     candidate_name(e->why), answers, orig_worker ? orig_worker : "",
                     fresh_worker ? fresh_worker : "",
                     trigger_ip && trigger_ip->family ? addr_format(trigger_ip, tip) : "",
                     trigger_worker ? trigger_worker : "", safe_note);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

/* ---- choosing addresses ------------------------------------------------------------------ */

static const verify_worker_t *worker_named(const verify_worker_t *w, size_t nw, const char *name)
{
    for (size_t i = 0; i < nw; i++)
        if (strcmp(w[i].name, name) == 0)
            return &w[i];
    return NULL;
}

static bool is_scan_ip(const verify_worker_t *w, size_t nw, const lzr_addr_t *ip)
{
    for (size_t i = 0; i < nw; i++)
        if (addr_equal(&w[i].scan_ip, ip) || addr_equal(&w[i].scan_ip6, ip))
            return true;
    return false;
}

/* The scan IP of worker o that scans hosts of host's family. */
static const lzr_addr_t *scan_ip_for(const verify_worker_t *o, const lzr_addr_t *host)
{
    return host->family == ADDR_IPV6 ? &o->scan_ip6 : &o->scan_ip;
}

/* A fresh IP for host, of its family: one that no worker scans from, that has never contacted
 * the host, and is not `except`; from a worker other than `not_worker` (NULL: any). ADDR_NONE
 * when none is left. */
static lzr_addr_t pick_fresh(store_t *s, const verify_worker_t *w, size_t nw,
                             const lzr_addr_t *host, const char *not_worker,
                             const lzr_addr_t *except, const char **owner)
{
    for (size_t i = 0; i < nw; i++) {
        if (not_worker && strcmp(w[i].name, not_worker) == 0)
            continue;
        for (size_t f = 0; f < w[i].n_fresh; f++) {
            const lzr_addr_t *ip = &w[i].fresh[f];
            if (ip->family != host->family || (ip->family == ADDR_IPV4 && ip->v4 == 0) ||
                (except && addr_equal(ip, except)) || is_scan_ip(w, nw, ip) ||
                store_contacted(s, ip, host))
                continue;
            *owner = w[i].name;
            return *ip;
        }
    }
    return (lzr_addr_t){.family = ADDR_NONE};
}

/* ---- requests ---------------------------------------------------------------------------- */

static task_t *task_for(verify_job_t *v, const char *worker)
{
    for (size_t i = 0; i < v->n_tasks; i++)
        if (strcmp(v->tasks[i].worker, worker) == 0)
            return &v->tasks[i];
    task_t *g = realloc(v->tasks, (v->n_tasks + 1) * sizeof *g);
    if (!g)
        return NULL;
    v->tasks = g;
    task_t *t = &v->tasks[v->n_tasks++];
    memset(t, 0, sizeof *t);
    t->id = v->next_task_id++;
    snprintf(t->worker, sizeof t->worker, "%s", worker);
    return t;
}

static int task_add(verify_job_t *v, const char *worker, size_t item, int kind)
{
    task_t *t = task_for(v, worker);
    if (!t)
        return LZR_ENOMEM;
    slot_t *g = realloc(t->slots, (t->n + 1) * sizeof *g);
    if (!g)
        return LZR_ENOMEM;
    t->slots = g;
    t->slots[t->n++] = (slot_t){.item = item, .kind = kind};
    v->items[item].asked |= 1u << kind;
    return LZR_OK;
}

/* The (source, port) an item's slot is about. */
static void slot_target(const item_t *it, int kind, lzr_addr_t *src, uint16_t *port)
{
    switch (kind) {
    case SLOT_ORIG:
        *src = it->c.source_ip;
        *port = it->c.port;
        break;
    case SLOT_RANDOM:
        *src = it->c.source_ip;
        *port = it->random_port;
        break;
    case SLOT_FRESH:
        *src = it->fresh_ip;
        *port = it->c.port;
        break;
    default:
        *src = it->trigger_ip;
        *port = it->c.port;
    }
}

/* Sends every task; a task that cannot be sent is marked done with an error. */
static void send_tasks(verify_job_t *v, int phase, uint64_t start_us, verify_send_fn send,
                       void *ctx)
{
    for (size_t i = 0; i < v->n_tasks; i++) {
        task_t *t = &v->tasks[i];
        Lzr__VerifyAttempt *a = calloc(t->n ? t->n : 1, sizeof *a);
        Lzr__VerifyAttempt **ap = calloc(t->n ? t->n : 1, sizeof *ap);
        lzr_addr_t *src = calloc(t->n ? t->n : 1, sizeof *src); /* what a[k].src6 points to */
        int rc = a && ap && src ? LZR_OK : LZR_ENOMEM;
        if (rc == LZR_OK) {
            for (size_t k = 0; k < t->n; k++) {
                const item_t *it = &v->items[t->slots[k].item];
                uint16_t port;
                lzr__verify_attempt__init(&a[k]);
                slot_target(it, t->slots[k].kind, &src[k], &port);
                wire_addrs_to(&src[k], &it->c.ip, &a[k].src, &a[k].src6, &a[k].ip, &a[k].ip6);
                a[k].port = port;
                ap[k] = &a[k];
            }
            Lzr__VerifyRequest req = LZR__VERIFY_REQUEST__INIT;
            req.job_id = v->job_id;
            req.task = t->id;
            req.phase = (Lzr__VerifyPhase)phase;
            req.start_us = start_us;
            req.timeout_ms = v->timeout_ms;
            req.n_attempts = t->n;
            req.attempts = ap;
            rc = send(ctx, t->worker, &req);
        }
        if (rc != LZR_OK) {
            t->done = true;
            snprintf(t->error, sizeof t->error, "cannot send to worker %s: %s", t->worker,
                     lzr_strerror(rc));
        }
        free(a);
        free(ap);
        free(src);
    }
}

void verify_job_result(verify_job_t *v, const char *worker, const Lzr__VerifyResult *r)
{
    if (r->job_id != v->job_id)
        return;
    for (size_t i = 0; i < v->n_tasks; i++) {
        task_t *t = &v->tasks[i];
        if (t->id != r->task || t->done || strcmp(t->worker, worker) != 0)
            continue;
        t->done = true;
        if (r->error && r->error[0]) {
            snprintf(t->error, sizeof t->error, "worker %s: %s", worker, r->error);
            return;
        }
        if (r->n_attempts != t->n) {
            snprintf(t->error, sizeof t->error, "worker %s answered %zu of %zu attempts", worker,
                     r->n_attempts, t->n);
            return;
        }
        for (size_t k = 0; k < t->n; k++) {
            item_t *it = &v->items[t->slots[k].item];
            const Lzr__VerifyAttempt *a = r->attempts[k];
            int kind = t->slots[k].kind;
            lzr_addr_t src, asrc, aip;
            uint16_t port;
            slot_target(it, kind, &src, &port);
            char why[96];
            /* Answers must be about what was asked, with values of answer_t. */
            if (wire_addrs_from(a->src, a->src6, a->ip, a->ip6, &asrc, &aip, why, sizeof why) ||
                !addr_equal(&aip, &it->c.ip) || !addr_equal(&asrc, &src) || a->port != port ||
                a->answer > ANSWER_SILENT || a->after_bare > ANSWER_SILENT ||
                a->after_data > ANSWER_SILENT)
                continue;
            switch (kind) {
            case SLOT_ORIG:
                it->ev.orig = (answer_t)a->answer;
                break;
            case SLOT_RANDOM:
                it->ev.orig_random = (answer_t)a->answer;
                break;
            case SLOT_FRESH:
                it->ev.fresh = (answer_t)a->answer;
                break;
            default:
                it->ev.after_bare = (answer_t)a->after_bare;
                it->ev.after_data = (answer_t)a->after_data;
            }
            it->answered |= 1u << kind;
        }
        return;
    }
}

static bool tasks_done(const verify_job_t *v)
{
    for (size_t i = 0; i < v->n_tasks; i++)
        if (!v->tasks[i].done)
            return false;
    return true;
}

/* Notes, for every item whose asked slots went unanswered, why — and marks it unverified
 * when the missing answer is one the verdict needs. */
static void note_missing(verify_job_t *v)
{
    for (size_t i = 0; i < v->n_tasks; i++) {
        task_t *t = &v->tasks[i];
        for (size_t k = 0; k < t->n; k++) {
            item_t *it = &v->items[t->slots[k].item];
            int kind = t->slots[k].kind;
            if (it->answered & (1u << kind))
                continue;
            if (!it->note[0])
                snprintf(it->note, sizeof it->note, "%s",
                         t->error[0] ? t->error : "a worker did not answer in time");
            if (kind == SLOT_ORIG || kind == SLOT_FRESH)
                it->unverified = true;
        }
    }
}

/* ---- rounds ------------------------------------------------------------------------------ */

/* Fills item it from candidate c: its random port and a fresh IP of another worker (with the
 * worker's name), or the note saying why it has none; an item whose original worker is gone or
 * moved to another scan IP is unverified. */
static void item_setup(verify_job_t *v, store_t *s, const verify_worker_t *w, size_t nw, item_t *it,
                       const store_candidate_t *c)
{
    it->c = *c;
    it->ev.why = c->why;
    it->random_port = verdict_random_port(v->job_id, &it->c.ip, it->c.port);
    const verify_worker_t *o = worker_named(w, nw, it->c.worker);
    if (!o) {
        it->unverified = true;
        snprintf(it->note, sizeof it->note,
                 "the original worker %s is not connected: nobody else holds its scan IP",
                 it->c.worker);
        return;
    }
    if (!addr_equal(scan_ip_for(o, &it->c.ip), &it->c.source_ip)) {
        it->unverified = true;
        snprintf(it->note, sizeof it->note, "worker %s no longer scans from the original IP",
                 it->c.worker);
        return;
    }
    const char *owner = NULL;
    it->fresh_ip = pick_fresh(s, w, nw, &it->c.ip, it->c.worker, NULL, &owner);
    if (it->fresh_ip.family)
        snprintf(it->fresh_worker, sizeof it->fresh_worker, "%s", owner);
    else
        snprintf(it->note, sizeof it->note,
                 "no fresh IP of another worker is left that has never contacted this host");
}

/* The compare step's attempts of every item that can be verified: the original IP on the port
 * and on the random port, the fresh IP (if any) on the port. */
static int compare_tasks_add(verify_job_t *v)
{
    int rc = LZR_OK;
    for (size_t i = 0; i < v->n_items && rc == LZR_OK; i++) {
        item_t *it = &v->items[i];
        if (it->unverified)
            continue;
        rc = task_add(v, it->c.worker, i, SLOT_ORIG);
        if (rc == LZR_OK)
            rc = task_add(v, it->c.worker, i, SLOT_RANDOM);
        if (rc == LZR_OK && it->fresh_ip.family)
            rc = task_add(v, it->fresh_worker, i, SLOT_FRESH);
    }
    return rc;
}

static int start_round(verify_job_t *v, store_t *s, const verify_worker_t *w, size_t nw,
                       verify_send_fn send, void *ctx, uint64_t now_us)
{
    store_candidate_t *c = NULL;
    size_t n = 0;
    if (store_candidates(s, v->job_id, v->n_ports, &c, &n) != LZR_OK)
        return LZR_EDB;
    if (n == 0) {
        free(c);
        v->state = ST_DONE;
        return LZR_OK;
    }
    /* Wait a while for original workers that are not connected: only they hold the scan IP. */
    bool waiting = false;
    for (size_t i = 0; i < n; i++) {
        const verify_worker_t *o = worker_named(w, nw, c[i].worker);
        if (!o)
            waiting = true;
    }
    if (waiting && now_us - v->started_us < VERIFY_WAIT_ORIG_US) {
        free(c);
        return LZR_OK;
    }
    if (n > VERIFY_ROUND)
        n = VERIFY_ROUND;
    free(v->items);
    v->items = calloc(n, sizeof *v->items);
    if (!v->items) {
        free(c);
        return LZR_ENOMEM;
    }
    v->n_items = n;
    tasks_clear(v);
    lzr_addr_t *bsrc = calloc(n, sizeof *bsrc), *bdst = calloc(n, sizeof *bdst);
    size_t nb = 0;
    int rc = bsrc && bdst ? LZR_OK : LZR_ENOMEM;
    for (size_t i = 0; i < n && rc == LZR_OK; i++) {
        item_t *it = &v->items[i];
        item_setup(v, s, w, nw, it, &c[i]);
        if (it->fresh_ip.family) {
            bsrc[nb] = it->fresh_ip;
            bdst[nb++] = it->c.ip;
        }
    }
    /* Burn before use: after a crash, an address that may have been used is not fresh. */
    if (rc == LZR_OK && nb)
        rc = store_contacts_add(s, v->job_id, bsrc, bdst, nb, now_us);
    if (rc == LZR_OK)
        rc = compare_tasks_add(v);
    free(bsrc);
    free(bdst);
    free(c);
    if (rc != LZR_OK)
        return rc;
    log_info("job %llu: verifying %zu candidate(s) from %zu worker(s)",
             (unsigned long long)v->job_id, n, v->n_tasks);
    send_tasks(v, LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE, now_us + VERIFY_LEAD_US, send, ctx);
    v->state = ST_COMPARE;
    v->deadline_us = now_us + VERIFY_LEAD_US + (uint64_t)v->timeout_ms * 1000u + VERIFY_SLACK_US;
    return LZR_OK;
}

static int start_trigger(verify_job_t *v, store_t *s, const verify_worker_t *w, size_t nw,
                         verify_send_fn send, void *ctx, uint64_t now_us)
{
    note_missing(v);
    tasks_clear(v);
    lzr_addr_t *bsrc = calloc(v->n_items + 1, sizeof *bsrc),
               *bdst = calloc(v->n_items + 1, sizeof *bdst);
    if (!bsrc || !bdst) {
        free(bsrc);
        free(bdst);
        return LZR_ENOMEM;
    }
    size_t nb = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        item_t *it = &v->items[i];
        if (it->unverified || !verdict_blocked(&it->ev))
            continue;
        const char *owner = NULL;
        it->trigger_ip = pick_fresh(s, w, nw, &it->c.ip, NULL, &it->fresh_ip, &owner);
        if (!it->trigger_ip.family) {
            snprintf(it->note, sizeof it->note,
                     "no further fresh IP for the trigger test: blocking, kind unknown");
            continue;
        }
        snprintf(it->trigger_worker, sizeof it->trigger_worker, "%s", owner);
        bsrc[nb] = it->trigger_ip;
        bdst[nb++] = it->c.ip;
    }
    int rc = nb ? store_contacts_add(s, v->job_id, bsrc, bdst, nb, now_us) : LZR_OK;
    free(bsrc);
    free(bdst);
    size_t groups = 0;
    for (size_t i = 0; i < v->n_items && rc == LZR_OK; i++) {
        if (v->items[i].trigger_ip.family) {
            rc = task_add(v, v->items[i].trigger_worker, i, SLOT_TRIGGER);
            groups++;
        }
    }
    if (rc != LZR_OK)
        return rc;
    if (v->n_tasks == 0)
        return LZR_EEMPTY;
    /* A worker runs one trigger test per source IP, four steps each, one after another. */
    size_t per_worker = 0;
    for (size_t i = 0; i < nw; i++)
        per_worker = w[i].n_fresh > per_worker ? w[i].n_fresh : per_worker;
    if (per_worker > groups)
        per_worker = groups;
    send_tasks(v, LZR__VERIFY_PHASE__VERIFY_PHASE_TRIGGER, 0, send, ctx);
    v->state = ST_TRIGGER;
    v->deadline_us =
        now_us + per_worker * 4u * ((uint64_t)v->timeout_ms * 1000u + 400000u) + VERIFY_SLACK_US;
    return LZR_OK;
}

/* Whether the original IP got now what it got in the scan on that port: a SYN-ACK, or a RST
 * on a port that was closed. Without a fresh IP to compare with, only then is the host known
 * not to block it. */
static bool answered_as_in_scan(const item_t *it)
{
    return it->ev.orig == ANSWER_SYNACK || (it->ev.orig == ANSWER_RST && it->c.cls == CLASS_CLOSED);
}

static int finish_round(verify_job_t *v, store_t *s, uint64_t now_us)
{
    if (v->state == ST_TRIGGER)
        note_missing(v);
    store_verdict_t *out = calloc(v->n_items ? v->n_items : 1, sizeof *out);
    if (!out)
        return LZR_ENOMEM;
    for (size_t i = 0; i < v->n_items; i++) {
        item_t *it = &v->items[i];
        store_verdict_t *o = &out[i];
        o->ip = it->c.ip;
        o->port = it->c.port;
        o->original_ip = it->c.source_ip;
        o->fresh_ip = it->fresh_ip;
        o->ts_us = now_us;
        const char *verdict;
        if (it->unverified)
            verdict = verdict_name(VERDICT_UNVERIFIED);
        else if (!it->fresh_ip.family && !answered_as_in_scan(it))
            verdict = verdict_name(VERDICT_UNVERIFIED); /* gone or blocking: no fresh IP to tell */
        else
            verdict = verdict_name(verdict_decide(&it->ev));
        snprintf(o->verdict, sizeof o->verdict, "%s", verdict);
        verify_evidence_json(&it->ev, it->random_port, it->c.worker, it->fresh_worker,
                             &it->trigger_ip, it->trigger_worker, it->note, o->evidence,
                             sizeof o->evidence);
        char ip[ADDR_TEXT_MAX];
        log_info("job %llu: %s port %u is %s %s", (unsigned long long)v->job_id,
                 addr_format(&o->ip, ip), (unsigned)o->port, o->verdict, o->evidence);
    }
    char err[256];
    int rc = store_verdicts_put(s, v->job_id, out, v->n_items, err, sizeof err);
    if (rc != LZR_OK)
        log_error("job %llu: %s", (unsigned long long)v->job_id, err);
    free(out);
    tasks_clear(v);
    v->state = ST_IDLE;
    return rc;
}

bool verify_job_step(verify_job_t *v, store_t *s, const verify_worker_t *w, size_t nw,
                     verify_send_fn send, void *ctx, uint64_t now_us)
{
    int rc = LZR_OK;
    switch (v->state) {
    case ST_IDLE:
        rc = start_round(v, s, w, nw, send, ctx, now_us);
        break;
    case ST_COMPARE:
        if (tasks_done(v) || now_us >= v->deadline_us) {
            rc = start_trigger(v, s, w, nw, send, ctx, now_us);
            if (rc == LZR_EEMPTY)
                rc = finish_round(v, s, now_us);
        }
        break;
    case ST_TRIGGER:
        if (tasks_done(v) || now_us >= v->deadline_us)
            rc = finish_round(v, s, now_us);
        break;
    default:
        break;
    }
    if (rc != LZR_OK)
        log_error("job %llu: verification: %s (will retry)", (unsigned long long)v->job_id,
                  lzr_strerror(rc));
    return v->state == ST_DONE;
}
