/*
 * metrics: the Prometheus page of a running coordinator (see metrics.h). Rendering is a pure
 * function of a snapshot, so the unit test checks the text without a server; the server is
 * libmicrohttpd's own polling thread, which copies nothing but the published snapshot.
 */
#include "coordinator/metrics.h"

#include "common/err.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void counters_add(metrics_counters_t *a, const metrics_counters_t *b)
{
    a->sent += b->sent;
    a->syns += b->syns;
    a->replies += b->replies;
    a->hits += b->hits;
    a->pcap_drops += b->pcap_drops;
    a->blocked += b->blocked;
    a->hold_wait_ms += b->hold_wait_ms;
    a->rx_wait_ms += b->rx_wait_ms;
}

static metrics_counters_t counters_of(const Lzr__Heartbeat *hb)
{
    return (metrics_counters_t){
        .sent = hb->sent,
        .syns = hb->syns,
        .replies = hb->replies,
        .hits = hb->hits,
        .pcap_drops = hb->pcap_drops,
        .blocked = hb->blocked,
        .hold_wait_ms = hb->hold_wait_ms,
        .rx_wait_ms = hb->rx_wait_ms,
    };
}

void metrics_tally_note(metrics_tally_t *t, uint64_t job, uint32_t shard, const Lzr__Heartbeat *hb)
{
    /* Another shard, or the same shard leased again (its counters start over): what the last
     * one reached is kept in base. */
    if (t->job != job || t->shard != shard || hb->sent < t->cur.sent) {
        counters_add(&t->base, &t->cur);
        t->job = job;
        t->shard = shard;
    }
    t->cur = counters_of(hb);
}

void metrics_tally_late(metrics_tally_t *t, const metrics_counters_t *seen,
                        const Lzr__Heartbeat *hb)
{
    metrics_counters_t f = counters_of(hb);
#define LATE(x) t->base.x += f.x > seen->x ? f.x - seen->x : 0
    LATE(sent);
    LATE(syns);
    LATE(replies);
    LATE(hits);
    LATE(pcap_drops);
    LATE(blocked);
    LATE(hold_wait_ms);
    LATE(rx_wait_ms);
#undef LATE
}

metrics_counters_t metrics_tally_total(const metrics_tally_t *t)
{
    metrics_counters_t sum = t->base;
    counters_add(&sum, &t->cur);
    return sum;
}

/* ---- rendering ------------------------------------------------------------------------- */

static void header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with backslash, double quote and newline escaped, as the format asks. */
static void label_value(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            fputs("\\\\", out);
        else if (*v == '"')
            fputs("\\\"", out);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

static void sample_u64(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
    header(out, name, type, help);
    fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static const char *const job_states[METRICS_JOB_STATES] = {"waiting", "running", "done",
                                                           "cancelled"};

static void render_cluster(FILE *out, const metrics_snapshot_t *s)
{
    header(out, "lzr_jobs", "gauge", "Jobs in the store by state.");
    for (int i = 0; i < METRICS_JOB_STATES; i++)
        fprintf(out, "lzr_jobs{state=\"%s\"} %llu\n", job_states[i],
                (unsigned long long)s->jobs[i]);
    header(out, "lzr_shards", "gauge", "Shards of the running jobs by state.");
    fprintf(out,
            "lzr_shards{state=\"pending\"} %llu\nlzr_shards{state=\"leased\"} %llu\n"
            "lzr_shards{state=\"done\"} %llu\n",
            (unsigned long long)s->shards_pending, (unsigned long long)s->shards_leased,
            (unsigned long long)s->shards_done);
    sample_u64(out, "lzr_workers_connected", "gauge", "Worker sessions the coordinator holds.",
               s->n_workers);
    sample_u64(out, "lzr_records_stored_total", "counter",
               "Records committed to the store since the coordinator started.", s->records_stored);
    header(out, "lzr_records_stored_per_second", "gauge",
           "Records committed per second over the last few seconds.");
    fprintf(out, "lzr_records_stored_per_second %.3f\n", s->records_per_s);
    sample_u64(out, "lzr_batches_stored_total", "counter", "Result batches committed and acked.",
               s->batches_stored);
    sample_u64(out, "lzr_batch_retries_total", "counter",
               "Result batches a worker sent again (an ack was late or lost).", s->batch_retries);
    sample_u64(out, "lzr_batches_failed_total", "counter",
               "Result batches that could not be stored (not acked: the worker sends them again).",
               s->batches_failed);
    sample_u64(out, "lzr_messages_malformed_total", "counter",
               "Worker messages and records dropped as malformed.", s->malformed);
    sample_u64(out, "lzr_messages_untrusted_total", "counter",
               "Worker messages and records dropped by the trust checks.", s->untrusted);
    sample_u64(out, "lzr_verify_job", "gauge",
               "The job under multi-vantage verification (0: none).", s->verify_job);
    sample_u64(out, "lzr_verify_candidates", "gauge",
               "Candidate hosts of the job under verification.", s->verify_candidates);
    sample_u64(out, "lzr_verify_verdicts", "gauge",
               "Verdicts stored so far for the job under verification.", s->verify_done);
}

/* One per-worker metric: a HELP/TYPE pair and a sample per worker. */
typedef struct worker_metric {
    const char *name, *type, *help;
    size_t off;  /* offset of a uint64_t in metrics_counters_t (when special is 0) */
    double div;  /* the value is divided by this (ms → s) */
    int special; /* 1: packets_per_s, 2: rate */
} worker_metric_t;

#define CTR(f) offsetof(metrics_counters_t, f)
static const worker_metric_t worker_metrics[] = {
    {"lzr_worker_packets_per_second", "gauge",
     "Frames the worker sends per second (SYNs, handshakes, ACKs, RSTs), from its heartbeats.", 0,
     1, 1},
    {"lzr_worker_rate", "gauge", "SYN rate the worker was given for its shard (0: idle).", 0, 1, 2},
    {"lzr_worker_probes_sent_total", "counter", "Discovery SYNs the worker sent.", CTR(syns), 1, 0},
    {"lzr_worker_packets_sent_total", "counter", "Frames the worker sent.", CTR(sent), 1, 0},
    {"lzr_worker_replies_total", "counter", "Packets the worker matched to its probes.",
     CTR(replies), 1, 0},
    {"lzr_worker_hits_total", "counter", "Targets that answered.", CTR(hits), 1, 0},
    {"lzr_worker_pcap_drops_total", "counter", "Packets the capture dropped.", CTR(pcap_drops), 1,
     0},
    {"lzr_worker_blocked_total", "counter", "Targets skipped for the worker's blocklist.",
     CTR(blocked), 1, 0},
    {"lzr_worker_hold_seconds_total", "counter",
     "Time the SYN walk waited for acks to drain the record queue.", CTR(hold_wait_ms), 1000, 0},
    {"lzr_worker_rx_wait_seconds_total", "counter",
     "Time the SYN walk waited for the receive side to catch up.", CTR(rx_wait_ms), 1000, 0},
};

/* The value of metric wm for worker w. */
static double worker_value(const worker_metric_t *wm, const metrics_worker_t *w)
{
    if (wm->special == 1)
        return w->packets_per_s;
    if (wm->special == 2)
        return (double)w->rate;
    uint64_t v;
    memcpy(&v, (const char *)&w->total + wm->off, sizeof v);
    return (double)v / wm->div;
}

static void render_workers(FILE *out, const metrics_snapshot_t *s)
{
    for (size_t m = 0; m < sizeof worker_metrics / sizeof worker_metrics[0]; m++) {
        const worker_metric_t *wm = &worker_metrics[m];
        header(out, wm->name, wm->type, wm->help);
        for (size_t i = 0; i < s->n_workers; i++) {
            fprintf(out, "%s{worker=\"", wm->name);
            label_value(out, s->workers[i].name);
            fprintf(out, "\"} %.15g\n", worker_value(wm, &s->workers[i]));
        }
    }
}

int metrics_render(FILE *out, const metrics_snapshot_t *s)
{
    render_cluster(out, s);
    render_workers(out, s);
    return ferror(out) ? LZR_EIO : 0;
}

/* ---- the server ------------------------------------------------------------------------ */

struct metrics {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    bool published;
    atomic_bool running; /* set once MHD_start_daemon returned */
    char why[256];       /* libmicrohttpd's complaint while it started */
    metrics_snapshot_t snap;
};

/* libmicrohttpd's error messages: kept for metrics_start's error, logged once it runs. */
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    metrics_t *m = cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (atomic_load(&m->running))
        log_warn("metrics server: %s", msg);
    else
        snprintf(m->why, sizeof m->why, "%s", msg);
}

/* Queues a reply; body is freed by libmicrohttpd when owned, else it must be static. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                             bool owned, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    metrics_t *m = cls;
    static char not_found[] = "not found: the metrics are at /metrics\n";
    static char not_yet[] = "no metrics yet\n";
    static char bad_method[] = "only GET\n";
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, sizeof bad_method - 1, false,
                     text);
    if (strcmp(url, "/metrics") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof not_found - 1, false, text);
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return MHD_NO;
    pthread_mutex_lock(&m->lock);
    bool ready = m->published;
    if (ready)
        metrics_render(f, &m->snap);
    pthread_mutex_unlock(&m->lock);
    fclose(f);
    if (!ready) {
        free(body);
        return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, not_yet, sizeof not_yet - 1, false, text);
    }
    return reply(conn, MHD_HTTP_OK, body, len, true, "text/plain; version=0.0.4; charset=utf-8");
}

/* Splits "HOST:PORT", "[HOST]:PORT" or ":PORT" and resolves HOST (numeric only) into ss. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256] = "";
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (!colon || !colon[1] || hl >= sizeof host) {
        snprintf(err, errlen, "--metrics \"%s\": expected HOST:PORT, [V6HOST]:PORT or :PORT", addr);
        return LZR_EINVAL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "--metrics \"%s\": \"%s\" is not a port", addr, colon + 1);
        return LZR_EINVAL;
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM},
                    *ai = NULL;
    if (getaddrinfo(host[0] ? host : "::", colon + 1, &hints, &ai) != 0 || !ai) {
        snprintf(err, errlen, "--metrics \"%s\": \"%s\" is not an IPv4 or IPv6 address", addr,
                 host);
        return LZR_EINVAL;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return LZR_OK;
}

metrics_t *metrics_start(const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    if (parse_addr(addr, &ss, err, errlen) != LZR_OK)
        return NULL;
    metrics_t *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6 | (strchr(addr, '[') ? 0 : MHD_USE_DUAL_STACK);
    uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                   : ((struct sockaddr_in *)&ss)->sin_port);
    m->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, m, MHD_OPTION_END);
    atomic_store(&m->running, true);
    if (!m->d) {
        snprintf(err, errlen, "--metrics %s: cannot serve there: %s", addr,
                 m->why[0] ? m->why : "libmicrohttpd failed to start");
        metrics_stop(&m);
        return NULL;
    }
    return m;
}

uint16_t metrics_port(const metrics_t *m)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void metrics_publish(metrics_t *m, const metrics_snapshot_t *s)
{
    pthread_mutex_lock(&m->lock);
    memcpy(&m->snap, s,
           offsetof(metrics_snapshot_t, workers) + s->n_workers * sizeof s->workers[0]);
    m->published = true;
    pthread_mutex_unlock(&m->lock);
}

void metrics_stop(metrics_t **mp)
{
    metrics_t *m = *mp;
    if (!m)
        return;
    if (m->d)
        MHD_stop_daemon(m->d);
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}
