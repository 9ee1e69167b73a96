/*
 * Unit tests for coordinator/verify on a real store: the pass picks one candidate port per
 * host, asks the original worker for its scan IP (and a random port) and the other worker for
 * a fresh IP at one start time, burns the fresh IPs in contacts before use, runs the trigger
 * test only for hosts that answered the fresh IP alone, and stores verdicts whose evidence
 * reads back the same. The workers are played by the test: it answers each request it is
 * sent as the hosts would: two shunning hosts (one whose only answer to the scan was a RST), a
 * dynamically blocking, a gone, a never-acking, a filtered and a transient one. Candidates are
 * hosts, and a verdict shows on every row of its host. Also a
 * coordinator that dies mid-pass, and how `lzr-coord results` exports verdicts.
 */
#include "common/err.h"
#include "common/wire.h"
#include "coordinator/export.h"
#include "coordinator/store.h"
#include "coordinator/verify.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define S1             IP(198, 18, 0, 11)
#define S2             IP(198, 18, 0, 21)
#define SHUN           IP(198, 18, 32, 17)
#define DYN            IP(198, 18, 32, 18)
#define GONE           IP(198, 18, 32, 40)
#define NOACK          IP(198, 18, 32, 14)
#define WEB            IP(198, 18, 16, 10)
#define SHUN2          IP(198, 18, 32, 20) /* shuns after any first SYN; closed ports reset */
#define FILTER         IP(198, 18, 32, 23) /* one open port, the others filtered */
#define TRANS          IP(198, 18, 32, 41) /* lost in the scan, answers again */
#define NPORTS         3                   /* ports per host in the tests' jobs */
/* IPv6 hosts, told apart by their last byte (key_of) */
#define SHUN6   "2001:2:0:32::61"
#define DYN6    "2001:2:0:32::62"
#define K_SHUN6 0xFFFF0061u
#define K_DYN6  0xFFFF0062u

typedef struct fixture {
    char dir[64];
    store_t *s;
    verify_worker_t w[2];
    /* requests seen */
    int n_compare, n_trigger;
    uint64_t start_us[4];
    char to[4][64];
    Lzr__VerifyResult *pending[8];
    char pending_worker[8][64];
    int n_pending;
    lzr_addr_t fresh_of[256]; /* by the target's last byte: the fresh source used */
    lzr_addr_t trigger_of[256];
    bool refuse_send; /* the transport fails */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/lzr-cverify-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/lzr.db", f->dir);
    f->s = store_open(path, err, sizeof err);
    if (!f->s)
        return -1;
    snprintf(f->w[0].name, sizeof f->w[0].name, "v1");
    f->w[0].scan_ip = addr_ipv4(S1);
    f->w[0].fresh[0] = addr_ipv4(IP(198, 18, 0, 12));
    f->w[0].fresh[1] = addr_ipv4(IP(198, 18, 0, 13));
    f->w[0].n_fresh = 2;
    snprintf(f->w[1].name, sizeof f->w[1].name, "v2");
    f->w[1].scan_ip = addr_ipv4(S2);
    f->w[1].fresh[0] = addr_ipv4(IP(198, 18, 0, 22));
    f->w[1].fresh[1] = addr_ipv4(IP(198, 18, 0, 23));
    f->w[1].n_fresh = 2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(&f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static uint64_t add_job(store_t *s)
{
    store_job_t j;
    memset(&j, 0, sizeof j);
    snprintf(j.name, sizeof j.name, "v");
    snprintf(j.filename, sizeof j.filename, "job.toml");
    j.toml = "targets = \"198.18.32.0/24\"\nports = \"80\"\n";
    snprintf(j.key_hex, sizeof j.key_hex, "00112233445566778899aabbccddeeff");
    j.rate = 100;
    j.n_shards = 1;
    j.size = 256;
    j.perm = (perm_params_t){.size = 256, .prime = 257, .generator = 3, .start = 1};
    uint64_t id = 0;
    char err[256];
    assert_int_equal(store_job_insert(s, &j, &id, err, sizeof err), LZR_OK);
    return id;
}

static lzr_addr_t a6(const char *text)
{
    lzr_addr_t a;
    assert_int_equal(addr_parse(text, &a), LZR_OK);
    return a;
}

/* A host's key: an IPv4 address itself, an IPv6 one 0xFFFF0000 + its last byte. */
static uint32_t key_of(const lzr_addr_t *a)
{
    return a->family == ADDR_IPV6 ? 0xFFFF0000u | a->v6[15] : a->v4;
}

static bool contacted(fixture_t *f, const lzr_addr_t *src, const lzr_addr_t *ip)
{
    return store_contacted(f->s, src, ip);
}

static bool contacted4(fixture_t *f, const lzr_addr_t *src, uint32_t ip)
{
    lzr_addr_t a = addr_ipv4(ip);
    return contacted(f, src, &a);
}

static lzr_record_t rec_a(const lzr_addr_t *ip, uint16_t port, lzr_class_t cls,
                          const lzr_addr_t *src)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = *ip;
    r.port = port;
    r.cls = cls;
    r.source_ip = *src;
    r.ts_us = 1000;
    if (cls == CLASS_SERVICE)
        snprintf(r.protocol, sizeof r.protocol, "http");
    return r;
}

static lzr_record_t rec(uint32_t ip, uint16_t port, lzr_class_t cls, uint32_t src)
{
    lzr_addr_t a = addr_ipv4(ip), b = addr_ipv4(src);
    return rec_a(&a, port, cls, &b);
}

static void put(store_t *s, uint64_t job, const char *worker, const lzr_record_t *r, size_t n)
{
    char err[256];
    assert_int_equal(store_put_batch(s, job, 0, worker, r, n, err, sizeof err), LZR_OK);
}

/* How the lab's hosts answer: the shunning host ignores any source after its first SYN, the
 * dynamically blocking one after data, the gone one never answers, the never-acking one always
 * SYN-ACKs. Sources that the scan already burned are blocked where the host blocks. */
static answer_t answer_for(uint32_t host, bool scan_ip)
{
    if (host == GONE)
        return ANSWER_SILENT;
    bool blocks = host == SHUN || host == DYN || host == SHUN2 || host == K_SHUN6 || host == K_DYN6;
    if (blocks && scan_ip)
        return ANSWER_SILENT;
    return host == SHUN2 ? ANSWER_RST : ANSWER_SYNACK; /* SHUN2 is re-probed on a closed port */
}

/* Copies n bytes that the coordinator's request owns, for an answer delivered later. */
static ProtobufCBinaryData keep(ProtobufCBinaryData b)
{
    if (b.len) {
        uint8_t *copy = malloc(b.len);
        memcpy(copy, b.data, b.len);
        b.data = copy;
    }
    return b;
}

static int fake_send(void *ctx, const char *worker, const Lzr__VerifyRequest *req)
{
    fixture_t *f = ctx;
    if (f->refuse_send)
        return LZR_EIO;
    assert_true(f->n_pending < 8);
    if (req->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE) {
        assert_true(f->n_compare < 4);
        f->start_us[f->n_compare] = req->start_us;
        snprintf(f->to[f->n_compare], sizeof f->to[0], "%s", worker);
        f->n_compare++;
    } else {
        f->n_trigger++;
    }
    Lzr__VerifyResult *r = calloc(1, sizeof *r);
    lzr__verify_result__init(r);
    r->job_id = req->job_id;
    r->task = req->task;
    r->n_attempts = req->n_attempts;
    r->attempts = calloc(req->n_attempts, sizeof *r->attempts);
    const verify_worker_t *me = strcmp(worker, "v1") == 0 ? &f->w[0] : &f->w[1];
    for (size_t i = 0; i < req->n_attempts; i++) {
        Lzr__VerifyAttempt *a = calloc(1, sizeof *a);
        lzr__verify_attempt__init(a);
        *a = *req->attempts[i];
        a->base.descriptor = &lzr__verify_attempt__descriptor;
        a->src6 = keep(a->src6);
        a->ip6 = keep(a->ip6);
        lzr_addr_t src, ip;
        assert_int_equal(wire_addrs_from(a->src, a->src6, a->ip, a->ip6, &src, &ip, NULL, 0),
                         LZR_OK);
        uint32_t host = key_of(&ip);
        bool scan = addr_equal(&src, &me->scan_ip) || addr_equal(&src, &me->scan_ip6);
        if (!scan) {
            bool mine = false;
            for (size_t k = 0; k < me->n_fresh; k++)
                mine |= addr_equal(&me->fresh[k], &src);
            assert_true(mine); /* a worker is only asked to use its own addresses */
            assert_int_equal(src.family, ip.family); /* and of the host's family */
        }
        if (req->phase == LZR__VERIFY_PHASE__VERIFY_PHASE_COMPARE) {
            a->answer = answer_for(host, scan);
            if (!scan)
                f->fresh_of[host & 255] = src;
        } else {
            assert_false(scan);
            f->trigger_of[host & 255] = src;
            bool shuns = host == SHUN || host == SHUN2 || host == K_SHUN6;
            a->after_bare = shuns ? ANSWER_SILENT : ANSWER_SYNACK;
            a->after_data = shuns ? ANSWER_NONE : ANSWER_SILENT;
        }
        r->attempts[i] = a;
    }
    f->pending[f->n_pending] = r;
    snprintf(f->pending_worker[f->n_pending], sizeof f->pending_worker[0], "%s", worker);
    f->n_pending++;
    return LZR_OK;
}

/* Frees the answers held for delivery; called alone, it loses them as a dead coordinator would. */
static void drop_pending(fixture_t *f)
{
    for (int i = 0; i < f->n_pending; i++) {
        for (size_t k = 0; k < f->pending[i]->n_attempts; k++) {
            free(f->pending[i]->attempts[k]->src6.data);
            free(f->pending[i]->attempts[k]->ip6.data);
            free(f->pending[i]->attempts[k]);
        }
        free(f->pending[i]->attempts);
        free(f->pending[i]);
    }
    f->n_pending = 0;
}

static void deliver(fixture_t *f, verify_job_t *v)
{
    for (int i = 0; i < f->n_pending; i++)
        verify_job_result(v, f->pending_worker[i], f->pending[i]);
    drop_pending(f);
}

/* Runs a pass to its end, answering every request; returns the steps it took. */
static int run_pass(fixture_t *f, verify_job_t *v, size_t nw)
{
    uint64_t now = 1000000;
    for (int step = 0; step < 50; step++) {
        if (verify_job_step(v, f->s, f->w, nw, fake_send, f, now))
            return step;
        deliver(f, v);
        now += 100000;
    }
    fail_msg("the pass did not finish");
    return -1;
}

typedef struct found {
    store_verdict_t v[8];
    int n;
} found_t;

static int collect(void *ctx, const store_verdict_t *v)
{
    found_t *f = ctx;
    if (f->n < 8)
        f->v[f->n++] = *v;
    return 0;
}

/* The verdict of the host of key (key_of). */
static const store_verdict_t *verdict_of(const found_t *fd, uint32_t key)
{
    for (int i = 0; i < fd->n; i++)
        if (key_of(&fd->v[i].ip) == key)
            return &fd->v[i];
    return NULL;
}

typedef struct verdicts_seen {
    int rows, shunning, not_blocking, without;
} verdicts_seen_t;

static int note_verdict(void *ctx, const lzr_record_t *r, const char *worker, const char *verdict)
{
    verdicts_seen_t *v = ctx;
    (void)r;
    (void)worker;
    v->rows++;
    v->shunning += strcmp(verdict, "shunning") == 0;
    v->not_blocking += strcmp(verdict, "not_blocking") == 0;
    v->without += verdict[0] == '\0';
    return 0;
}

static void test_pass(void **state)
{
    fixture_t *f = *state;
    uint64_t job = add_job(f->s);
    lzr_record_t r1[] = {
        rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1),
        rec(SHUN, 443, CLASS_LOST_AFTER_SYNACK, S1), /* a second port of the same host */
        rec(GONE, 80, CLASS_LOST_AFTER_SYNACK, S1),
        /* a host that answered every port is no candidate */
        rec(WEB, 80, CLASS_SERVICE, S1),
        rec(WEB, 443, CLASS_CLOSED, S1),
        rec(WEB, 8080, CLASS_CLOSED, S1),
        /* the first SYN found a closed port; the rest of the host went silent (report_all) */
        rec(SHUN2, 21, CLASS_CLOSED, S1),
        rec(SHUN2, 80, CLASS_SILENT, S1),
        rec(SHUN2, 8080, CLASS_SILENT, S1),
        rec(TRANS, 443, CLASS_LOST_AFTER_SYNACK, S1),
    };
    lzr_record_t r2[] = {
        rec(DYN, 21, CLASS_CLOSED, S2),
        rec(DYN, 8080, CLASS_NO_ACK_DATA, S2), /* preferred to the closed port */
        rec(NOACK, 80, CLASS_NO_ACK_DATA, S2),
        rec(NOACK, 8080, CLASS_NO_ACK_DATA, S2),
        rec(FILTER, 21, CLASS_CLOSED, S2),
        rec(FILTER, 80, CLASS_SERVICE, S2), /* a SYN-ACKed port is preferred to a closed one */
    };
    put(f->s, job, "v1", r1, sizeof r1 / sizeof r1[0]);
    put(f->s, job, "v2", r2, sizeof r2 / sizeof r2[0]);
    {
        uint64_t cnt;
        assert_int_equal(store_candidate_count(f->s, job, NPORTS, &cnt), LZR_OK);
        assert_int_equal(cnt, 7);
    }
    /* with one port per host, only lost and never-acking ports make candidates */
    {
        uint64_t cnt;
        assert_int_equal(store_candidate_count(f->s, job, 1, &cnt), LZR_OK);
        assert_int_equal(cnt, 5);
    }

    verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
    assert_non_null(v);
    run_pass(f, v, 2);
    verify_job_free(&v);
    /* one compare request per worker, sent for the same moment; one trigger request */
    assert_int_equal(f->n_compare, 2);
    assert_int_equal(f->start_us[0], f->start_us[1]);
    assert_true(f->start_us[0] > 1000000);
    assert_int_equal(f->n_trigger >= 1, 1);

    found_t fd = {0};
    assert_int_equal(store_verdicts_each(f->s, job, collect, &fd), LZR_OK);
    assert_int_equal(fd.n, 7);
    {
        uint64_t cnt;
        assert_int_equal(store_verdict_count(f->s, job, &cnt), LZR_OK);
        assert_int_equal(cnt, 7);
    }
    const store_verdict_t *sh = verdict_of(&fd, SHUN);
    assert_non_null(sh);
    assert_string_equal(sh->verdict, "shunning");
    assert_int_equal(sh->port, 80); /* the lowest candidate port */
    assert_int_equal(sh->original_ip.v4, S1);
    /* the fresh IP is v2's (the other worker), and it is burned for this host */
    assert_true(addr_equal(&sh->fresh_ip, &f->w[1].fresh[0]) ||
                addr_equal(&sh->fresh_ip, &f->w[1].fresh[1]));
    assert_true(addr_equal(&f->fresh_of[SHUN & 255], &sh->fresh_ip));
    assert_true(contacted4(f, &sh->fresh_ip, SHUN));
    assert_true(contacted4(f, &f->trigger_of[SHUN & 255], SHUN));
    assert_false(addr_equal(&f->trigger_of[SHUN & 255], &sh->fresh_ip));
    assert_false(contacted4(f, &sh->fresh_ip, WEB));
    verify_evidence_t ev;
    assert_int_equal(verdict_evidence_parse(sh->evidence, &ev), LZR_OK);
    assert_int_equal(ev.orig, ANSWER_SILENT);
    assert_int_equal(ev.fresh, ANSWER_SYNACK);
    assert_int_equal(ev.orig_random, ANSWER_SILENT);
    assert_int_equal(ev.after_bare, ANSWER_SILENT);
    assert_int_equal(verdict_decide(&ev), VERDICT_SHUNNING);

    const store_verdict_t *dy = verdict_of(&fd, DYN);
    assert_string_equal(dy->verdict, "dynamic_blocking");
    assert_int_equal(dy->original_ip.v4, S2);
    assert_true(addr_equal(&dy->fresh_ip, &f->w[0].fresh[0]) ||
                addr_equal(&dy->fresh_ip, &f->w[0].fresh[1]));
    assert_int_equal(dy->port, 8080);
    assert_string_equal(verdict_of(&fd, GONE)->verdict, "churn");
    /* answers every source alike: a never-acking middlebox and a filtered host keep their
     * class; only a port the scan lost and that answers again is transient */
    assert_string_equal(verdict_of(&fd, NOACK)->verdict, "not_blocking");
    assert_string_equal(verdict_of(&fd, FILTER)->verdict, "not_blocking");
    assert_int_equal(verdict_of(&fd, FILTER)->port, 80);
    assert_string_equal(verdict_of(&fd, TRANS)->verdict, "transient");
    assert_null(verdict_of(&fd, WEB));
    assert_null(strstr(verdict_of(&fd, NOACK)->evidence, "trigger_ip\":\"198"));
    assert_non_null(strstr(verdict_of(&fd, NOACK)->evidence, "\"candidate\":\"no_ack\""));
    /* the RST-only shunning host: the fresh IP's RST against the scan IP's silence */
    const store_verdict_t *s2 = verdict_of(&fd, SHUN2);
    assert_non_null(s2);
    assert_string_equal(s2->verdict, "shunning");
    assert_int_equal(s2->port, 21);
    assert_int_equal(verdict_evidence_parse(s2->evidence, &ev), LZR_OK);
    assert_int_equal(ev.why, CANDIDATE_PARTIAL);
    assert_int_equal(ev.orig, ANSWER_SILENT);
    assert_int_equal(ev.fresh, ANSWER_RST);
    assert_int_equal(ev.after_bare, ANSWER_SILENT);

    /* Every row of a host carries the host's verdict, silent rows too. */
    verdicts_seen_t seen = {0};
    assert_int_equal(store_results_each_verdict(f->s, job, NULL, NULL, note_verdict, &seen),
                     LZR_OK);
    assert_int_equal(seen.rows, 16);
    assert_int_equal(seen.shunning, 5);     /* SHUN 80, 443; SHUN2 21, 80, 8080 */
    assert_int_equal(seen.without, 3);      /* WEB's three ports */
    assert_int_equal(seen.not_blocking, 4); /* NOACK 80, 8080; FILTER 21, 80 */

    {
        uint64_t cnt;
        assert_int_equal(store_candidate_count(f->s, job, NPORTS, &cnt), LZR_OK);
        assert_int_equal(cnt, 7);
    }
    store_candidate_t *c;
    size_t n;
    assert_int_equal(store_candidates(f->s, job, NPORTS, &c, &n), LZR_OK);
    assert_int_equal(n, 0); /* all decided */
    free(c);
}

/* IPv6 hosts beside an IPv4 one in one job: each is re-probed from its own family's scan IP,
 * fresh IP and trigger IP only, and its verdict is stored and read back with IPv6 addresses.
 * With no IPv6 fresh IP left, an IPv6 host is unverified rather than probed from IPv4. */
static void test_ipv6_hosts(void **state)
{
    fixture_t *f = *state;
    const char *own6[2][3] = {{"2001:2::11", "2001:2::12", "2001:2::13"},
                              {"2001:2::21", "2001:2::22", "2001:2::23"}};
    for (int k = 0; k < 2; k++) {
        f->w[k].scan_ip6 = a6(own6[k][0]);
        f->w[k].fresh[f->w[k].n_fresh++] = a6(own6[k][1]);
        f->w[k].fresh[f->w[k].n_fresh++] = a6(own6[k][2]);
    }
    uint64_t job = add_job(f->s);
    lzr_addr_t shun6 = a6(SHUN6), dyn6 = a6(DYN6);
    lzr_record_t r1[] = {
        rec_a(&shun6, 80, CLASS_LOST_AFTER_SYNACK, &f->w[0].scan_ip6),
        rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1),
    };
    lzr_record_t r2 = rec_a(&dyn6, 8080, CLASS_NO_ACK_DATA, &f->w[1].scan_ip6);
    put(f->s, job, "v1", r1, 2);
    put(f->s, job, "v2", &r2, 1);
    verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
    run_pass(f, v, 2);
    verify_job_free(&v);

    found_t fd = {0};
    assert_int_equal(store_verdicts_each(f->s, job, collect, &fd), LZR_OK);
    assert_int_equal(fd.n, 3);
    const store_verdict_t *sh = verdict_of(&fd, K_SHUN6), *dy = verdict_of(&fd, K_DYN6);
    assert_non_null(sh);
    assert_non_null(dy);
    assert_string_equal(sh->verdict, "shunning");
    assert_true(addr_equal(&sh->ip, &shun6));
    assert_true(addr_equal(&sh->original_ip, &f->w[0].scan_ip6));
    assert_true(addr_equal(&sh->fresh_ip, &f->w[1].fresh[2]) ||
                addr_equal(&sh->fresh_ip, &f->w[1].fresh[3]));
    assert_true(contacted(f, &sh->fresh_ip, &shun6));
    assert_int_equal(f->trigger_of[K_SHUN6 & 255].family, ADDR_IPV6);
    assert_true(contacted(f, &f->trigger_of[K_SHUN6 & 255], &shun6));
    assert_non_null(strstr(sh->evidence, "\"trigger_ip\":\"2001:2::"));
    assert_string_equal(dy->verdict, "dynamic_blocking");
    assert_true(addr_equal(&dy->original_ip, &f->w[1].scan_ip6));
    assert_int_equal(dy->fresh_ip.family, ADDR_IPV6);
    /* the IPv4 host of the same job, from IPv4 addresses */
    assert_string_equal(verdict_of(&fd, SHUN)->verdict, "shunning");
    assert_int_equal(verdict_of(&fd, SHUN)->fresh_ip.family, ADDR_IPV4);
    /* the IPv6 host's row carries its verdict */
    verdicts_seen_t seen = {0};
    assert_int_equal(store_results_each_verdict(f->s, job, NULL, NULL, note_verdict, &seen),
                     LZR_OK);
    assert_int_equal(seen.rows, 3);
    assert_int_equal(seen.shunning, 2);

    /* No IPv6 fresh IP left to any worker: unverified, and no IPv4 source is tried. */
    f->w[0].n_fresh = f->w[1].n_fresh = 2;
    job = add_job(f->s);
    put(f->s, job, "v1", r1, 1);
    memset(f->fresh_of, 0, sizeof f->fresh_of);
    v = verify_job_new(job, 1500, NPORTS, 1000000);
    run_pass(f, v, 2);
    verify_job_free(&v);
    memset(&fd, 0, sizeof fd);
    store_verdicts_each(f->s, job, collect, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].verdict, "unverified");
    assert_int_equal(fd.v[0].fresh_ip.family, ADDR_NONE);
    assert_int_equal(f->fresh_of[K_SHUN6 & 255].family, ADDR_NONE);
    assert_non_null(strstr(fd.v[0].evidence, "no fresh IP"));
}

/* The coordinator dies after sending a round's compare requests and before any answer; a new
 * process on the same database runs the pass again from the start: both hosts get their
 * verdicts, and neither is probed from a fresh IP the dead pass had already chosen. */
static void test_restart_mid_pass(void **state)
{
    fixture_t *f = *state;
    uint64_t job = add_job(f->s);
    lzr_record_t r1 = rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1);
    lzr_record_t r2 = rec(DYN, 8080, CLASS_NO_ACK_DATA, S2);
    put(f->s, job, "v1", &r1, 1);
    put(f->s, job, "v2", &r2, 1);

    verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
    uint64_t now = 1000000;
    for (int i = 0; i < 5 && f->n_compare == 0; i++, now += 100000)
        assert_false(verify_job_step(v, f->s, f->w, 2, fake_send, f, now));
    assert_int_equal(f->n_compare, 2);
    lzr_addr_t first_shun = f->fresh_of[SHUN & 255], first_dyn = f->fresh_of[DYN & 255];
    assert_int_equal(first_shun.family, ADDR_IPV4);
    assert_int_equal(first_dyn.family, ADDR_IPV4);
    drop_pending(f);
    verify_job_free(&v);
    {
        uint64_t cnt;
        assert_int_equal(store_verdict_count(f->s, job, &cnt), LZR_OK);
        assert_int_equal(cnt, 0);
    }
    /* The restart: the store is opened again from its file. */
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/lzr.db", f->dir);
    store_close(&f->s);
    f->s = store_open(path, err, sizeof err);
    assert_non_null(f->s);
    assert_true(contacted4(f, &first_shun, SHUN));
    assert_true(contacted4(f, &first_dyn, DYN));

    memset(f->fresh_of, 0, sizeof f->fresh_of);
    f->n_compare = f->n_trigger = 0;
    v = verify_job_new(job, 1500, NPORTS, 5000000);
    run_pass(f, v, 2);
    verify_job_free(&v);
    found_t fd = {0};
    assert_int_equal(store_verdicts_each(f->s, job, collect, &fd), LZR_OK);
    assert_int_equal(fd.n, 2);
    const store_verdict_t *sh = verdict_of(&fd, SHUN), *dy = verdict_of(&fd, DYN);
    assert_string_equal(sh->verdict, "shunning");
    assert_string_equal(dy->verdict, "dynamic_blocking");
    assert_false(addr_equal(&sh->fresh_ip, &first_shun));
    assert_false(addr_equal(&dy->fresh_ip, &first_dyn));
    assert_false(addr_equal(&f->trigger_of[SHUN & 255], &first_shun));
}

/* A second job on the same hosts: burned fresh IPs are not used again; once none is left the
 * verdict says so instead of guessing. */
static void test_burned(void **state)
{
    fixture_t *f = *state;
    for (int round = 0; round < 3; round++) {
        uint64_t job = add_job(f->s);
        lzr_record_t r = rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1);
        put(f->s, job, "v1", &r, 1);
        memset(f->fresh_of, 0, sizeof f->fresh_of);
        f->n_compare = f->n_trigger = 0;
        verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
        run_pass(f, v, 2);
        verify_job_free(&v);
        found_t fd = {0};
        store_verdicts_each(f->s, job, collect, &fd);
        assert_int_equal(fd.n, 1);
        if (round == 0) {
            /* v2 has two fresh IPs: the first job burns one for the compare, and the trigger
             * takes the other or one of v1's */
            assert_string_equal(fd.v[0].verdict, "shunning");
        } else if (round == 2) {
            assert_string_equal(fd.v[0].verdict, "unverified");
            assert_int_equal(fd.v[0].fresh_ip.family, ADDR_NONE);
            assert_non_null(strstr(fd.v[0].evidence, "no fresh IP"));
        }
        if (fd.v[0].fresh_ip.family) {
            /* never an address that had contacted the host before this job */
            assert_true(addr_equal(&f->fresh_of[SHUN & 255], &fd.v[0].fresh_ip));
        }
    }
}

/* The original worker is gone for good: the verdict says so. */
static void test_original_gone(void **state)
{
    fixture_t *f = *state;
    uint64_t job = add_job(f->s);
    lzr_record_t r = rec(DYN, 80, CLASS_NO_ACK_DATA, S1);
    put(f->s, job, "v1", &r, 1);
    verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
    /* only v2 connected: the pass waits, then gives up on v1 */
    assert_false(verify_job_step(v, f->s, &f->w[1], 1, fake_send, f, 2000000));
    assert_int_equal(f->n_compare, 0);
    uint64_t later = 1000000 + VERIFY_WAIT_ORIG_US + 1;
    for (int i = 0; i < 10 && !verify_job_step(v, f->s, &f->w[1], 1, fake_send, f, later); i++)
        deliver(f, v);
    verify_job_free(&v);
    found_t fd = {0};
    store_verdicts_each(f->s, job, collect, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].verdict, "unverified");
    assert_non_null(strstr(fd.v[0].evidence, "v1 is not connected"));
}

/* A worker that never answers: after the deadline the candidate is unverified, not churn. */
static void test_silent_worker(void **state)
{
    fixture_t *f = *state;
    uint64_t job = add_job(f->s);
    lzr_record_t r = rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1);
    put(f->s, job, "v1", &r, 1);
    verify_job_t *v = verify_job_new(job, 1500, NPORTS, 1000000);
    assert_false(verify_job_step(v, f->s, f->w, 2, fake_send, f, 1000000));
    drop_pending(f); /* the answers never arrive */
    assert_false(verify_job_step(v, f->s, f->w, 2, fake_send, f, 2000000)); /* not yet due */
    uint64_t late = 1000000 + VERIFY_LEAD_US + 1500000 + VERIFY_SLACK_US + 1;
    bool done = false;
    for (int i = 0; i < 5 && !done; i++)
        done = verify_job_step(v, f->s, f->w, 2, fake_send, f, late);
    assert_true(done);
    verify_job_free(&v);
    found_t fd = {0};
    store_verdicts_each(f->s, job, collect, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].verdict, "unverified");
    assert_non_null(strstr(fd.v[0].evidence, "did not answer"));
}

static void test_evidence_json(void **state)
{
    (void)state;
    verify_evidence_t e = {.orig = ANSWER_RST,
                           .fresh = ANSWER_SYNACK,
                           .orig_random = ANSWER_SILENT,
                           .after_bare = ANSWER_SYNACK,
                           .after_data = ANSWER_RST};
    char buf[768];
    lzr_addr_t tip = addr_ipv4(IP(198, 18, 0, 23));
    size_t n = verify_evidence_json(&e, 40123, "v1", "v2", &tip, "v2", "a \"quoted\" note", buf,
                                    sizeof buf);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "\"orig\":\"rst\""));
    assert_non_null(strstr(buf, "\"random_port\":40123"));
    assert_non_null(strstr(buf, "\"trigger_ip\":\"198.18.0.23\""));
    assert_null(strstr(buf, "\"quoted\"")); /* quotes in a note do not break the JSON */
    verify_evidence_t back;
    assert_int_equal(verdict_evidence_parse(buf, &back), LZR_OK);
    assert_memory_equal(&back, &e, sizeof e);
    assert_int_equal(verdict_decide(&back), VERDICT_DYNAMIC_BLOCKING);
    assert_int_equal(verify_evidence_json(&e, 1, NULL, NULL, NULL, NULL, NULL, buf, 20), 0);
    assert_int_equal(verdict_evidence_parse("{\"orig\":\"maybe\"}", &back), LZR_EPARSE);
    assert_int_equal(verdict_evidence_parse("not json", &back), LZR_EPARSE);

    /* through the store and back */
    void *st = NULL;
    assert_int_equal(setup(&st), 0);
    fixture_t *f = st;
    uint64_t job = add_job(f->s);
    store_verdict_t v = {.ip = addr_ipv4(SHUN),
                         .port = 80,
                         .original_ip = addr_ipv4(S1),
                         .fresh_ip = addr_ipv4(5),
                         .ts_us = 9};
    snprintf(v.verdict, sizeof v.verdict, "dynamic_blocking");
    verify_evidence_json(&e, 40123, "v1", "v2", NULL, NULL, NULL, v.evidence, sizeof v.evidence);
    char err[128];
    assert_int_equal(store_verdicts_put(f->s, job, &v, 1, err, sizeof err), LZR_OK);
    found_t fd = {0};
    store_verdicts_each(f->s, job, collect, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0].evidence, v.evidence);
    assert_int_equal(fd.v[0].original_ip.v4, S1);
    assert_int_equal(verdict_evidence_parse(fd.v[0].evidence, &back), LZR_OK);
    assert_memory_equal(&back, &e, sizeof e);
    assert_int_equal(teardown(&st), 0);
}

/* How `lzr-coord results` shows verdicts: a field on a candidate's JSON line, and the
 * --verdicts table with the evidence kept whole (JSON lines) or quoted (CSV). */
static void test_export(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lzr_record_t r = rec(SHUN, 80, CLASS_LOST_AFTER_SYNACK, S1);
    assert_int_equal(export_record_verdict(f, EXPORT_JSONL, &r, "v1", "shunning"), 1);
    assert_int_equal(export_record_verdict(f, EXPORT_JSONL, &r, "v1", ""), 1);
    lzr_addr_t shun = addr_ipv4(SHUN), s1 = addr_ipv4(S1), fresh = addr_ipv4(IP(198, 18, 0, 22));
    lzr_addr_t none = {.family = ADDR_NONE};
    assert_int_equal(export_verdict(f, EXPORT_JSONL, &shun, 80, "shunning", &s1, &fresh,
                                    "{\"orig\":\"silent\"}"),
                     1);
    export_verdict_header(f, EXPORT_CSV);
    assert_int_equal(
        export_verdict(f, EXPORT_CSV, &shun, 80, "unverified", &s1, &none, "{\"note\":\"x\"}"), 1);
    assert_int_equal(export_verdict(f, EXPORT_ZGRAB2, &shun, 80, "shunning", &s1, &none, "{}"),
                     LZR_EINVAL);
    fclose(f);
    char *l1 = buf, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_non_null(strstr(l1, "\"worker\":\"v1\",\"verdict\":\"shunning\"}\n"));
    assert_true(strncmp(l2, "{", 1) == 0);
    assert_null(strstr(l2, "verdict\":\"shunning\"}\n{"));
    char *end2 = strchr(l2, '\n');
    *end2 = '\0';
    assert_null(strstr(l2, "verdict"));
    *end2 = '\n';
    assert_true(strncmp(l3,
                        "{\"ip\":\"198.18.32.17\",\"port\":80,\"verdict\":\"shunning\","
                        "\"original_ip\":\"198.18.0.11\",\"fresh_ip\":\"198.18.0.22\","
                        "\"evidence\":{\"orig\":\"silent\"}}\n"
                        "ip,port,verdict,original_ip,fresh_ip,evidence\n"
                        "198.18.32.17,80,unverified,198.18.0.11,,\"{\"\"note\"\":\"\"x\"\"}\"\n",
                        strlen(l3)) == 0);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_mid_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_original_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_worker, setup, teardown),
        cmocka_unit_test(test_evidence_json),
        cmocka_unit_test(test_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
