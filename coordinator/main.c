/*
 * lzr-coord: the coordinator's command line. `serve` runs the coordinator; `submit`, `status`,
 * `workers` and `cancel` talk to a running one over its control endpoint; `results` and
 * `report` read the database file directly (WAL lets it read while the coordinator writes);
 * `keygen` makes the CURVE key pairs a cluster needs.
 */
#include "common/names.h"
#include "common/stopsig.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/targets.h"
#include "common/wire.h"
#include "coordinator/compare.h"
#include "coordinator/coord.h"
#include "coordinator/export.h"
#include "coordinator/job.h"
#include "coordinator/jobjson.h"
#include "coordinator/report.h"
#include "coordinator/store.h"
#include "lzr_version.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Set by SIGINT or SIGTERM (stopsig), once main has routed them. */
static volatile sig_atomic_t *stop_flag;

static void usage(FILE *f)
{
    fputs(
        "usage: lzr-coord COMMAND [options]\n"
        "  serve   [--listen tcp://*:7411] [--control ADDR] [--db lzr.db] [--keys DIR | "
        "--insecure]\n"
        "          [--lease-timeout-ms 10000] [--log-level info] [--metrics HOST:PORT]\n"
        "  submit  JOB.toml [--yes] [--db lzr.db | --control ADDR]   validate, submit, print the\n"
        "          job id; a job of more than a day at its rate needs --yes\n"
        "          --dry-run: validate and print the shard plan and target counts, submit nothing\n"
        "  status  [JOB] [--wait] [--db lzr.db | --control ADDR]\n"
        "  status  JOB --json [--db lzr.db]   the job as one JSON document (configuration, seed,\n"
        "          times, probes, rate achieved, replies, drops, classes, protocols, shards)\n"
        "  workers [--db lzr.db | --control ADDR]\n"
        "  results JOB [--format jsonl|csv|zgrab2|lzr-go] [--class C] [--protocol P] [--verdicts]\n"
        "          [--follow] [--db lzr.db]   --verdicts: the multi-vantage verdicts instead of "
        "the\n"
        "          results; --follow: print records as they are stored, until the job ends\n"
        "  report  JOB [--svg FILE] [--pfx2as FILE] [--db lzr.db]   per-port classes and\n"
        "          protocols, protocols off their IANA port, block sizes per behaviour; --svg "
        "also\n"
        "          draws them; --pfx2as (CAIDA prefix-to-AS file) adds ASes per behaviour\n"
        "  compare JOB [--format text|jsonl|csv] [--db lzr.db]   what each vantage point\n"
        "          (scan IP) of a [vantage] compare = N job saw; services from one source IP\n"
        "          vs all together; what only some vantages saw, with verdicts\n"
        "  cancel  JOB [--db lzr.db | --control ADDR]\n"
        "  revoke  NAME [--db lzr.db | --control ADDR]   free a worker name from its key\n"
        "  keygen  DIR [WORKER-NAME ...]   CURVE key pairs for the coordinator and workers\n"
        "  --version   print the version (" LZR_VERSION ")\n"
        "The control endpoint defaults to ipc://DIR/lzr-coord.ctl next to the database.\n",
        f);
}

typedef struct cli {
    const char *db;
    const char *control;
    const char *listen;
    const char *keys;
    bool insecure;
    bool wait;
    bool yes;
    bool verdicts;
    bool follow;
    const char *metrics;
    bool dry_run;
    bool json;
    const char *svg;
    const char *pfx2as;
    const char *format;
    const char *cls;
    const char *protocol;
    uint32_t lease_timeout_ms;
    const char *log_level;
    int nargs;
    char *args[64];
} cli_t;

static const struct option cli_opts[] = {
    {"db", required_argument, NULL, 'd'},
    {"control", required_argument, NULL, 'c'},
    {"listen", required_argument, NULL, 'l'},
    {"keys", required_argument, NULL, 'k'},
    {"insecure", no_argument, NULL, 'I'},
    {"wait", no_argument, NULL, 'w'},
    {"yes", no_argument, NULL, 'y'},
    {"verdicts", no_argument, NULL, 'V'},
    {"follow", no_argument, NULL, 'F'},
    {"metrics", required_argument, NULL, 'M'},
    {"dry-run", no_argument, NULL, 'D'},
    {"json", no_argument, NULL, 'J'},
    {"svg", required_argument, NULL, 'S'},
    {"pfx2as", required_argument, NULL, 'P'},
    {"format", required_argument, NULL, 'f'},
    {"class", required_argument, NULL, 'C'},
    {"protocol", required_argument, NULL, 'p'},
    {"lease-timeout-ms", required_argument, NULL, 'T'},
    {"log-level", required_argument, NULL, 'L'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Where each plain option lands in cli_t: a switch (bool) or its argument (const char *). */
static const struct cli_field {
    int opt;
    size_t off;
    bool is_switch;
} cli_fields[] = {
    {'d', offsetof(cli_t, db), false},       {'c', offsetof(cli_t, control), false},
    {'l', offsetof(cli_t, listen), false},   {'k', offsetof(cli_t, keys), false},
    {'I', offsetof(cli_t, insecure), true},  {'w', offsetof(cli_t, wait), true},
    {'y', offsetof(cli_t, yes), true},       {'V', offsetof(cli_t, verdicts), true},
    {'D', offsetof(cli_t, dry_run), true},   {'J', offsetof(cli_t, json), true},
    {'S', offsetof(cli_t, svg), false},      {'P', offsetof(cli_t, pfx2as), false},
    {'f', offsetof(cli_t, format), false},   {'C', offsetof(cli_t, cls), false},
    {'p', offsetof(cli_t, protocol), false}, {'L', offsetof(cli_t, log_level), false},
    {'F', offsetof(cli_t, follow), true},    {'M', offsetof(cli_t, metrics), false},
};

/* One option getopt returned: 0, or -1 after a message for a bad one. */
static int cli_option(int o, cli_t *c)
{
    for (size_t i = 0; i < sizeof cli_fields / sizeof cli_fields[0]; i++) {
        if (cli_fields[i].opt != o)
            continue;
        if (cli_fields[i].is_switch)
            *(bool *)((char *)c + cli_fields[i].off) = true;
        else
            *(const char **)((char *)c + cli_fields[i].off) = optarg;
        return 0;
    }
    if (o == 'T') {
        char *end;
        unsigned long v = strtoul(optarg, &end, 10);
        if (*end || v < 1000 || v > 3600000) {
            fprintf(stderr, "lzr-coord: --lease-timeout-ms: \"%s\" is not 1000-3600000\n", optarg);
            return -1;
        }
        c->lease_timeout_ms = (uint32_t)v;
        return 0;
    }
    if (o == 'h') {
        usage(stdout);
        exit(0);
    }
    usage(stderr);
    return -1;
}

static int parse_cli(int argc, char **argv, cli_t *c)
{
    memset(c, 0, sizeof *c);
    c->db = "lzr.db";
    c->listen = COORD_DEFAULT_LISTEN;
    c->format = NULL; /* each command has its own default */
    c->lease_timeout_ms = COORD_LEASE_TIMEOUT_MS;
    c->log_level = "info";
    optind = 1;
    /* getopt with "+" stops at the first operand; the caller collects operands after it. */
    for (int o; (o = getopt_long(argc, argv, "+", cli_opts, NULL)) != -1;) {
        if (cli_option(o, c) != 0)
            return -1;
    }
    return 0;
}

/* Options and operands may be mixed: collect operands, re-run getopt over the rest. */
static int parse_all(int argc, char **argv, cli_t *c)
{
    char *opts[128];
    int nopts = 0;
    char *operands[64];
    int nops = 0;
    opts[nopts++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            opts[nopts++] = argv[i];
            bool has_arg =
                strchr(argv[i], '=') == NULL &&
                (strcmp(argv[i], "--db") == 0 || strcmp(argv[i], "--control") == 0 ||
                 strcmp(argv[i], "--listen") == 0 || strcmp(argv[i], "--keys") == 0 ||
                 strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "--class") == 0 ||
                 strcmp(argv[i], "--protocol") == 0 || strcmp(argv[i], "--lease-timeout-ms") == 0 ||
                 strcmp(argv[i], "--log-level") == 0 || strcmp(argv[i], "--svg") == 0 ||
                 strcmp(argv[i], "--pfx2as") == 0 || strcmp(argv[i], "--metrics") == 0);
            if (has_arg && i + 1 < argc)
                opts[nopts++] = argv[++i];
        } else if (nops < 64) {
            operands[nops++] = argv[i];
        }
        if (nopts >= 127)
            break;
    }
    opts[nopts] = NULL;
    if (parse_cli(nopts, opts, c))
        return -1;
    for (int i = 0; i < nops; i++)
        c->args[c->nargs++] = operands[i];
    return 0;
}

static bool parse_job_id(const char *s, uint64_t *id)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || s[0] == '-')
        return false;
    *id = v;
    return true;
}

/* ---- control client ---------------------------------------------------------------------- */

static Lzr__Envelope *call(const cli_t *c, Lzr__Envelope *req)
{
    char ep[4200], err[512];
    if (c->control)
        snprintf(ep, sizeof ep, "%s", c->control);
    else
        coord_control_endpoint(c->db, ep, sizeof ep);
    if (strncmp(ep, "ipc://", 6) == 0 && access(ep + 6, F_OK) != 0) {
        fprintf(stderr, "lzr-coord: no coordinator at %s (is `lzr-coord serve --db %s` running?)\n",
                ep, c->db);
        return NULL;
    }
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s)
        return NULL;
    zsock_set_linger(s, 0);
    zsock_set_rcvtimeo(s, COORD_CONTROL_TIMEOUT_MS);
    zsock_set_sndtimeo(s, COORD_CONTROL_TIMEOUT_MS);
    Lzr__Envelope *rep = NULL;
    if (zsock_connect(s, "%s", ep) < 0) {
        fprintf(stderr, "lzr-coord: cannot connect to %s\n", ep);
    } else if (wire_send(s, NULL, req, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-coord: %s\n", err);
    } else if (wire_recv(s, NULL, NULL, &rep, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-coord: no answer from the coordinator at %s: %s\n", ep, err);
        rep = NULL;
    } else if (rep->body_case == LZR__ENVELOPE__BODY_ERROR) {
        fprintf(stderr, "%s\n", rep->error->message);
        wire_free(&rep);
    }
    zsock_destroy(&s);
    return rep;
}

/* A duration for people: "42 s", "3.5 h", "12 days", "7.6e+06 years". */
static char *human_duration(double s, char *buf, size_t cap)
{
    if (s < 120)
        snprintf(buf, cap, "%.0f s", s);
    else if (s < 7200)
        snprintf(buf, cap, "%.0f min", s / 60);
    else if (s < 2 * 86400)
        snprintf(buf, cap, "%.1f h", s / 3600);
    else if (s < 2 * 365.25 * 86400)
        snprintf(buf, cap, "%.0f days", s / 86400);
    else
        snprintf(buf, cap, "%.3g years", s / (365.25 * 86400));
    return buf;
}

/* Shards whose element count is taken exactly at most: beyond, the count is estimated. */
#define DRY_RUN_EXACT 10000000u

/* submit --dry-run: the job as the coordinator would plan it, without contacting it. */
static int submit_dry_run(job_spec_t *j)
{
    char err[512];
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);
    seed &= INT64_MAX;
    bool seed_given = j->have_seed;
    perm_params_t perm;
    if (job_plan(j, seed, j->min_workers, &perm, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint64_t addrs = job_addresses(j);
    if (j->pairs)
        printf("job \"%s\": %llu (address, port) pairs of targets_file %s on %llu addresses at "
               "%u/s (about %.0f s)\n",
               j->name, (unsigned long long)j->size, j->targets_file, (unsigned long long)addrs,
               j->rate, (double)j->probes / j->rate);
    else
        printf("job \"%s\": %llu addresses × %zu ports = %llu targets at %u/s (about %.0f s)\n",
               j->name, (unsigned long long)addrs, j->ports.n, (unsigned long long)j->size, j->rate,
               (double)j->probes / j->rate);
    printf("removed: %llu addresses by exclude and blocklist_file, %llu reserved\n",
           (unsigned long long)(targets_excluded(j->set) + targets6_excluded(j->set6)),
           (unsigned long long)(targets_reserved_dropped(j->set) +
                                targets6_reserved_dropped(j->set6)));
    if (targets6_count(j->set6))
        printf("of which IPv6: %llu addresses\n", (unsigned long long)targets6_count(j->set6));
    if (j->blocklist_file[0])
        printf("blocklist_file %s: %zu entries (stored with the job)\n", j->blocklist_file,
               j->n_blocklist);
    if (j->allowlist_file[0])
        printf("allowlist_file %s: %zu entries (stored with the job)\n", j->allowlist_file,
               j->n_allowlist);
    printf("seed %llu (%s)\n", (unsigned long long)j->seed,
           seed_given ? "from the file" : "random: the coordinator draws its own at submission");
    if (j->max_targets[0])
        printf("max_targets %s: a seeded sample of %llu targets, the permutation's first %llu "
               "positions\n",
               j->max_targets, (unsigned long long)j->probes, (unsigned long long)j->span);
    if (j->max_runtime_s)
        printf("max_runtime %u s: no SYN after that; shards not started by then are dropped\n",
               j->max_runtime_s);
    printf("%u shards%s\n", j->shards,
           j->shards_given ? " (from the file)"
                           : " (the coordinator plans at least one per connected worker)");
    bool exact = j->probes <= DRY_RUN_EXACT;
    for (uint32_t i = 0; i < j->shards; i++) {
        uint64_t b, e, n = 0, el;
        perm_split_range(j->span, i, j->shards, &b, &e);
        if (exact) {
            perm_iter_t it;
            perm_iter_init(&it, &perm, b, e);
            while (perm_next(&it, &el))
                n++;
        } else {
            n = (uint64_t)((double)(e - b) * (double)j->probes / (double)j->span);
        }
        printf("shard %u: positions [%llu, %llu), %s%llu targets\n", i, (unsigned long long)b,
               (unsigned long long)e, exact ? "" : "about ", (unsigned long long)n);
    }
    printf("dry run: nothing submitted\n");
    return 0;
}

static int cmd_submit(const cli_t *c)
{
    if (c->nargs != 1) {
        fprintf(stderr, "lzr-coord submit: expected one job file\n");
        return 2;
    }
    char err[1024];
    char *text = NULL;
    job_spec_t *j = job_load(c->args[0], &text, err, sizeof err);
    if (!j) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (c->dry_run) {
        int rc = submit_dry_run(j);
        job_destroy(&j);
        free(text);
        return rc;
    }
    /* Say how big the job is before it goes in, and ask for --yes when it would run for more
     * than a day: "0.0.0.0/0" times every port is easy to write by mistake. */
    perm_params_t perm;
    if (job_plan(j, 1, 1, &perm, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "%s\n", err);
        job_destroy(&j);
        free(text);
        return 1;
    }
    double eta = (double)j->probes / (j->rate ? j->rate : 1);
    char when[48];
    fprintf(stderr, "%s: %llu targets (%llu addresses × %zu ports); at %u SYNs/s about %s\n",
            c->args[0], (unsigned long long)j->size, (unsigned long long)job_addresses(j),
            j->ports.n, j->rate, human_duration(eta, when, sizeof when));
    job_destroy(&j);
    if (eta > 86400 && !c->yes) {
        fprintf(stderr, "lzr-coord submit: that is more than a day of scanning; check targets and "
                        "ports, and submit again with --yes if it is meant\n");
        free(text);
        return 2;
    }
    const char *base = strrchr(c->args[0], '/');
    Lzr__SubmitRequest r = LZR__SUBMIT_REQUEST__INIT;
    r.filename = (char *)(base ? base + 1 : c->args[0]);
    r.job_toml = text;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_SUBMIT;
    env.submit = &r;
    Lzr__Envelope *rep = call(c, &env);
    free(text);
    if (!rep)
        return 1;
    int rc = 1;
    if (rep->body_case == LZR__ENVELOPE__BODY_SUBMIT_REPLY) {
        printf("%llu\n", (unsigned long long)rep->submit_reply->job_id);
        fprintf(stderr, "job %llu submitted in %u shards\n",
                (unsigned long long)rep->submit_reply->job_id, rep->submit_reply->n_shards);
        rc = 0;
    }
    wire_free(&rep);
    return rc;
}

static void print_bar(double frac)
{
    int width = 40, full = (int)(frac * width + 0.5);
    putchar('[');
    for (int i = 0; i < width; i++)
        putchar(i < full ? '#' : '.');
    printf("] %5.1f%%\n", frac * 100);
}

static void print_status(const Lzr__StatusReply *r, bool tty)
{
    for (size_t i = 0; i < r->n_jobs; i++) {
        const Lzr__JobStatus *j = r->jobs[i];
        printf("job %llu (%s): %s; shards %u done, %u leased, %u pending of %u; "
               "%llu/%llu targets; %llu results",
               (unsigned long long)j->job_id, j->name, j->state, j->shards_done, j->shards_leased,
               j->shards_pending, j->shards_total, (unsigned long long)j->targets_done,
               (unsigned long long)j->targets_total, (unsigned long long)j->results);
        if (j->phase && strcmp(j->phase, "verifying") == 0)
            printf("; verifying: %u of %u candidate hosts have a verdict", j->verify_done,
                   j->verify_candidates);
        else if (j->verify_done)
            printf("; %u verdicts", j->verify_done);
        if (j->phase && strncmp(j->phase, "scanning; ", 10) == 0)
            printf("; %s", j->phase + 10);
        if (j->eta_s >= 0)
            printf("; ETA %.0f s", j->eta_s);
        if (j->reason && j->reason[0])
            printf("; %s", j->reason);
        putchar('\n');
        if (tty && j->targets_total)
            print_bar((double)j->targets_done / (double)j->targets_total);
        for (size_t w = 0; w < j->n_workers; w++) {
            const Lzr__WorkerProgress *p = j->workers[w];
            printf("  %-16s shard %-5u %llu/%llu targets, sent %llu, hits %llu, %.0f probes/s\n",
                   p->name, p->shard, (unsigned long long)p->targets_done,
                   (unsigned long long)p->targets_total, (unsigned long long)p->sent,
                   (unsigned long long)p->hits, p->probes_per_s);
        }
    }
}

/* status JOB --json: read from the database, like results. */
static int status_json(const cli_t *c)
{
    uint64_t id = 0;
    if (c->nargs != 1 || !parse_job_id(c->args[0], &id)) {
        fprintf(stderr, "lzr-coord status --json: expected one job id\n");
        return 2;
    }
    char err[1024];
    store_t *s = store_open_readonly(c->db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "lzr-coord status: %s\n", err);
        return 1;
    }
    int rc = jobjson_write(stdout, s, id, LZR_VERSION, err, sizeof err);
    store_close(&s);
    if (rc != LZR_OK) {
        fprintf(stderr, "lzr-coord status: %s\n", err);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_status(const cli_t *c)
{
    if (c->json)
        return status_json(c);
    Lzr__StatusRequest r = LZR__STATUS_REQUEST__INIT;
    if (c->nargs > 1 || (c->nargs == 1 && !parse_job_id(c->args[0], &r.job_id))) {
        fprintf(stderr, "lzr-coord status: expected at most one job id\n");
        return 2;
    }
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_STATUS;
    env.status = &r;
    bool tty = isatty(STDOUT_FILENO);
    for (;;) {
        Lzr__Envelope *rep = call(c, &env);
        if (!rep)
            return 1;
        if (rep->body_case != LZR__ENVELOPE__BODY_STATUS_REPLY) {
            wire_free(&rep);
            return 1;
        }
        bool finished = true;
        for (size_t i = 0; i < rep->status_reply->n_jobs; i++) {
            const char *st = rep->status_reply->jobs[i]->state;
            if (strcmp(st, "done") != 0 && strcmp(st, "cancelled") != 0)
                finished = false;
        }
        if (c->wait && tty)
            printf("\033[H\033[J");
        if (!c->wait || tty || finished)
            print_status(rep->status_reply, tty);
        wire_free(&rep);
        if (!c->wait || finished || *stop_flag)
            break;
        sleep(1);
    }
    fflush(stdout);
    return 0;
}

static int cmd_workers(const cli_t *c)
{
    Lzr__WorkersRequest r = LZR__WORKERS_REQUEST__INIT;
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_WORKERS;
    env.workers = &r;
    Lzr__Envelope *rep = call(c, &env);
    if (!rep)
        return 1;
    if (rep->body_case != LZR__ENVELOPE__BODY_WORKERS_REPLY) {
        wire_free(&rep);
        return 1;
    }
    uint64_t now = clock_wall_us();
    printf("%-16s %-15s %-24s %-10s %-14s %s\n", "NAME", "SCAN IP", "FRESH IPS", "HEARTBEAT",
           "SHARD", "PROBES/S");
    for (size_t i = 0; i < rep->workers_reply->n_workers; i++) {
        const Lzr__WorkerInfo *w = rep->workers_reply->workers[i];
        char ip[16], fresh[256] = "", shard[48] = "-", hb[24];
        for (size_t f = 0; f < w->n_fresh_ips; f++) {
            size_t used = strlen(fresh);
            snprintf(fresh + used, sizeof fresh - used, "%s%s", f ? "," : "",
                     targets_ntoa(w->fresh_ips[f], ip));
        }
        if (w->lease && w->draining) /* +N: the shards whose tails it still finishes */
            snprintf(shard, sizeof shard, "%llu/%u +%u", (unsigned long long)w->lease->job_id,
                     w->lease->shard, w->draining);
        else if (w->lease)
            snprintf(shard, sizeof shard, "%llu/%u", (unsigned long long)w->lease->job_id,
                     w->lease->shard);
        snprintf(hb, sizeof hb, "%.1fs ago",
                 now > w->last_heartbeat_us ? (double)(now - w->last_heartbeat_us) / 1e6 : 0.0);
        printf("%-16s %-15s %-24s %-10s %-14s %.0f\n", w->name, targets_ntoa(w->scan_ip, ip),
               fresh[0] ? fresh : "-", hb, shard, w->probes_per_s);
    }
    for (size_t i = 0; i < rep->workers_reply->n_workers; i++) {
        const Lzr__WorkerInfo *w = rep->workers_reply->workers[i];
        if (w->scan_ip6.len != 16)
            continue;
        lzr_addr_t a = {.family = ADDR_IPV6};
        char t[ADDR_TEXT_MAX];
        memcpy(a.v6, w->scan_ip6.data, 16);
        printf("%s: IPv6 scan IP %s\n", w->name, addr_format(&a, t));
    }
    for (size_t i = 0; i < rep->workers_reply->n_workers; i++)
        if (rep->workers_reply->workers[i]->refused)
            printf("%s: %llu messages or records refused by the trust checks\n",
                   rep->workers_reply->workers[i]->name,
                   (unsigned long long)rep->workers_reply->workers[i]->refused);
    if (rep->workers_reply->malformed)
        printf("(%llu malformed messages dropped since start)\n",
               (unsigned long long)rep->workers_reply->malformed);
    if (rep->workers_reply->untrusted)
        printf("(%llu messages or records refused by the trust checks since start)\n",
               (unsigned long long)rep->workers_reply->untrusted);
    if (rep->workers_reply->refused_peers)
        printf("(%llu connections with unknown keys refused since start)\n",
               (unsigned long long)rep->workers_reply->refused_peers);
    wire_free(&rep);
    return 0;
}

/* Sends a request whose answer is an OkReply; prints its message. Returns the exit status. */
static int call_ok(const cli_t *c, Lzr__Envelope *req)
{
    Lzr__Envelope *rep = call(c, req);
    if (!rep)
        return 1;
    int rc = rep->body_case == LZR__ENVELOPE__BODY_OK ? 0 : 1;
    if (rc == 0)
        fprintf(stderr, "%s\n", rep->ok->message);
    wire_free(&rep);
    return rc;
}

static int cmd_cancel(const cli_t *c)
{
    Lzr__CancelRequest r = LZR__CANCEL_REQUEST__INIT;
    if (c->nargs != 1 || !parse_job_id(c->args[0], &r.job_id)) {
        fprintf(stderr, "lzr-coord cancel: expected one job id\n");
        return 2;
    }
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_CANCEL_JOB;
    env.cancel_job = &r;
    return call_ok(c, &env);
}

static int cmd_revoke(const cli_t *c)
{
    if (c->nargs != 1) {
        fprintf(stderr, "lzr-coord revoke: expected one worker name\n");
        return 2;
    }
    Lzr__RevokeRequest r = LZR__REVOKE_REQUEST__INIT;
    r.name = c->args[0];
    Lzr__Envelope env = LZR__ENVELOPE__INIT;
    env.body_case = LZR__ENVELOPE__BODY_REVOKE;
    env.revoke = &r;
    return call_ok(c, &env);
}

typedef struct export_ctx {
    export_format_t fmt;
    uint64_t written;
} export_ctx_t;

static int export_one(void *ctx, const lzr_record_t *r, const char *worker, const char *verdict)
{
    export_ctx_t *e = ctx;
    int rc = export_record_verdict(stdout, e->fmt, r, worker, verdict);
    if (rc > 0)
        e->written++;
    return ferror(stdout) ? LZR_EIO : 0;
}

static int export_verdict_one(void *ctx, const store_verdict_t *v)
{
    export_ctx_t *e = ctx;
    if (export_verdict(stdout, e->fmt, &v->ip, v->port, v->verdict, &v->original_ip, &v->fresh_ip,
                       v->evidence) > 0)
        e->written++;
    return ferror(stdout) ? LZR_EIO : 0;
}

/* Prints the records of job id as the coordinator stores them, until the job is done or
 * cancelled (the state is read before the rows, so the last pass has every row) or SIGINT or
 * SIGTERM stops it; a reader that goes away ends it with SIGPIPE, as any filter. */
static int follow_results(store_t *s, uint64_t id, const cli_t *c, export_ctx_t *e)
{
    int64_t after = -1;
    for (;;) {
        store_job_t row;
        bool over = true;
        if (store_job_get(s, id, &row) == LZR_OK) {
            over = strcmp(row.state, "done") == 0 || strcmp(row.state, "cancelled") == 0;
            store_job_clear(&row);
        }
        int rc = store_results_since(s, id, c->cls, c->protocol, &after, export_one, e);
        if (fflush(stdout) != 0)
            return LZR_EIO;
        if (rc != LZR_OK || over || *stop_flag)
            return rc;
        usleep(200000);
    }
}

static int cmd_results(const cli_t *c)
{
    uint64_t id;
    if (c->nargs != 1 || !parse_job_id(c->args[0], &id)) {
        fprintf(stderr, "lzr-coord results: expected one job id\n");
        return 2;
    }
    export_ctx_t e = {0};
    const char *format = c->format ? c->format : "jsonl";
    if (export_format_parse(format, &e.fmt) != LZR_OK) {
        fprintf(stderr, "lzr-coord results: --format: \"%s\" is not jsonl, csv, zgrab2 or lzr-go\n",
                format);
        return 2;
    }
    lzr_class_t cls;
    if (c->cls && record_class_parse(c->cls, &cls) != LZR_OK) {
        fprintf(stderr, "lzr-coord results: --class: \"%s\" is not a class\n", c->cls);
        return 2;
    }
    char err[512];
    store_t *s = store_open_readonly(c->db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "lzr-coord: %s\n", err);
        return 1;
    }
    store_job_t row;
    if (store_job_get(s, id, &row) != LZR_OK) {
        fprintf(stderr, "lzr-coord: no job %llu in %s\n", (unsigned long long)id, c->db);
        store_close(&s);
        return 1;
    }
    store_job_clear(&row);
    int rc;
    if (c->verdicts && c->follow) {
        fprintf(stderr, "lzr-coord results: --follow prints records, not --verdicts\n");
        store_close(&s);
        return 2;
    } else if (c->follow) {
        signal(SIGPIPE, SIG_DFL);
        export_header(stdout, e.fmt);
        rc = follow_results(s, id, c, &e);
    } else if (c->verdicts) {
        if (e.fmt != EXPORT_JSONL && e.fmt != EXPORT_CSV) {
            fprintf(stderr, "lzr-coord results: --verdicts: use --format jsonl or csv\n");
            store_close(&s);
            return 2;
        }
        export_verdict_header(stdout, e.fmt);
        rc = store_verdicts_each(s, id, export_verdict_one, &e);
    } else {
        export_header(stdout, e.fmt);
        rc = store_results_each_verdict(s, id, c->cls, c->protocol, export_one, &e);
    }
    store_close(&s);
    if (fflush(stdout) != 0 || rc != LZR_OK) {
        fprintf(stderr, "lzr-coord: results: %s\n", lzr_strerror(rc ? rc : LZR_EIO));
        return 1;
    }
    return 0;
}

/* For the commands that read one job from the database file: the job id (the one argument)
 * and the database opened read-only; NULL, with the message printed and the exit code in
 * *code, when either fails. */
static store_t *open_job_db(const cli_t *c, const char *cmd, uint64_t *id, int *code)
{
    if (c->nargs != 1 || !parse_job_id(c->args[0], id)) {
        fprintf(stderr, "lzr-coord %s: expected one job id\n", cmd);
        *code = 2;
        return NULL;
    }
    char err[512];
    store_t *s = store_open_readonly(c->db, err, sizeof err);
    if (!s) {
        fprintf(stderr, "lzr-coord: %s\n", err);
        *code = 1;
    }
    return s;
}

static int cmd_report(const cli_t *c)
{
    uint64_t id;
    int code;
    store_t *s = open_job_db(c, "report", &id, &code);
    if (!s)
        return code;
    char err[512];
    pfx2as_t *asn = NULL;
    if (c->pfx2as) {
        asn = pfx2as_load(c->pfx2as, err, sizeof err);
        if (!asn) {
            store_close(&s);
            fprintf(stderr, "lzr-coord report: --pfx2as %s\n", err);
            return 1;
        }
    }
    report_t *r = report_build(s, id, err, sizeof err);
    store_close(&s);
    if (!r) {
        pfx2as_free(&asn);
        fprintf(stderr, "lzr-coord report: %s in %s\n", err, c->db);
        return 1;
    }
    if (asn) {
        int arc = report_attribute(r, asn, c->pfx2as);
        pfx2as_free(&asn);
        if (arc != LZR_OK) {
            fprintf(stderr, "lzr-coord report: --pfx2as %s: %s\n", c->pfx2as, lzr_strerror(arc));
            report_free(&r);
            return 1;
        }
    }
    int rc = report_text(r, stdout);
    if (rc == LZR_OK && c->svg) {
        FILE *f = fopen(c->svg, "w");
        if (!f) {
            fprintf(stderr, "lzr-coord report: --svg %s: %s\n", c->svg, strerror(errno));
            report_free(&r);
            return 1;
        }
        rc = report_svg(r, f);
        if (fclose(f) != 0)
            rc = LZR_EIO;
        if (rc != LZR_OK)
            fprintf(stderr, "lzr-coord report: cannot write %s\n", c->svg);
    }
    report_free(&r);
    if (fflush(stdout) != 0 || rc != LZR_OK)
        return 1;
    return 0;
}

static int cmd_compare(const cli_t *c)
{
    compare_format_t fmt;
    if (compare_format_parse(c->format ? c->format : "text", &fmt) != LZR_OK) {
        fprintf(stderr, "lzr-coord compare: --format: \"%s\" is not text, jsonl or csv\n",
                c->format);
        return 2;
    }
    uint64_t id;
    int code;
    store_t *s = open_job_db(c, "compare", &id, &code);
    if (!s)
        return code;
    char err[512];
    compare_t *cmp = compare_build(s, id, err, sizeof err);
    store_close(&s);
    if (!cmp) {
        fprintf(stderr, "lzr-coord compare: %s in %s\n", err, c->db);
        return 1;
    }
    if (cmp->passes < 2) {
        fprintf(stderr,
                "lzr-coord compare: job %llu scanned each target from one scan IP"
                " (the job file's [vantage] compare = N asks for N)\n",
                (unsigned long long)id);
        compare_free(&cmp);
        return 1;
    }
    int rc = compare_write(cmp, fmt, stdout);
    compare_free(&cmp);
    if (fflush(stdout) != 0 || rc != LZR_OK)
        return 1;
    return 0;
}

/* ---- keygen ------------------------------------------------------------------------------ */

static int cmd_keygen(const cli_t *c)
{
    if (c->nargs < 1) {
        fprintf(stderr, "lzr-coord keygen: expected DIR [WORKER-NAME ...]\n");
        return 2;
    }
    const char *dir = c->args[0];
    char err[4400];
    bool created;
    umask(077);
    zcert_t *coord = keys_coordinator_ensure(dir, &created, err, sizeof err);
    if (!coord) {
        fprintf(stderr, "lzr-coord keygen: %s\n", err);
        return 1;
    }
    if (created)
        printf("created  %s/%s and %s/%s_secret\n", dir, KEYS_COORDINATOR, dir, KEYS_COORDINATOR);
    else
        printf("kept     %s/%s\n", dir, KEYS_COORDINATOR);
    int rc = 0;
    for (int i = 1; i < c->nargs && rc == 0; i++) {
        const char *name = c->args[i];
        char bundle[4096];
        if (!name_worker_valid(name)) {
            fprintf(stderr, "lzr-coord keygen: \"%s\" is not a worker name ([A-Za-z0-9._-])\n",
                    name);
            rc = 2;
        } else if (keys_make_worker(dir, name, coord, bundle, sizeof bundle, err, sizeof err)) {
            fprintf(stderr, "lzr-coord keygen: %s\n", err);
            rc = 1;
        } else {
            printf("created  %s/ (copy it to the worker host; run lzr-worker --keys DIR) and "
                   "%s/%s/%s.key\n",
                   bundle, dir, KEYS_WORKERS_DIR, name);
        }
    }
    zcert_destroy(&coord);
    return rc;
}

/* ---- serve ------------------------------------------------------------------------------- */

static int cmd_serve(const cli_t *c)
{
    log_level_t lvl;
    if (log_level_parse(c->log_level, &lvl) != LZR_OK) {
        fprintf(stderr, "lzr-coord: --log-level: \"%s\" is not error, warn, info or debug\n",
                c->log_level);
        return 2;
    }
    log_init("lzr-coord", lvl, false);
    if (!c->keys && !c->insecure) {
        fprintf(stderr, "lzr-coord serve: --keys DIR is required (create one with `lzr-coord "
                        "keygen DIR NAME…`), or --insecure for a test without CURVE\n");
        return 2;
    }
    if (c->nargs) {
        fprintf(stderr, "lzr-coord serve: unexpected argument \"%s\"\n", c->args[0]);
        return 2;
    }
    coord_options_t o = {
        .listen = c->listen,
        .control = c->control,
        .db_path = c->db,
        .keys_dir = c->insecure ? NULL : c->keys,
        .lease_timeout_ms = c->lease_timeout_ms,
        .metrics = c->metrics,
        .heartbeat_ms = COORD_HEARTBEAT_MS,
    };
    char err[1024];
    int rc = coord_serve(&o, stop_flag, err, sizeof err);
    if (rc != LZR_OK) {
        log_error("%s", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lzr-coord %s\n", LZR_VERSION);
        return 0;
    }
    zsys_handler_set(NULL);
    stop_flag = stopsig_flag();
    signal(SIGPIPE, SIG_IGN);

    const char *cmd = argv[1];
    cli_t c;
    if (parse_all(argc - 1, argv + 1, &c))
        return 2;
    int rc;
    if (strcmp(cmd, "serve") == 0)
        rc = cmd_serve(&c);
    else if (strcmp(cmd, "submit") == 0)
        rc = cmd_submit(&c);
    else if (strcmp(cmd, "status") == 0)
        rc = cmd_status(&c);
    else if (strcmp(cmd, "workers") == 0)
        rc = cmd_workers(&c);
    else if (strcmp(cmd, "results") == 0)
        rc = cmd_results(&c);
    else if (strcmp(cmd, "report") == 0)
        rc = cmd_report(&c);
    else if (strcmp(cmd, "compare") == 0)
        rc = cmd_compare(&c);
    else if (strcmp(cmd, "cancel") == 0)
        rc = cmd_cancel(&c);
    else if (strcmp(cmd, "revoke") == 0)
        rc = cmd_revoke(&c);
    else if (strcmp(cmd, "keygen") == 0)
        rc = cmd_keygen(&c);
    else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        rc = 0;
    } else {
        fprintf(stderr, "lzr-coord: unknown command \"%s\"\n", cmd);
        usage(stderr);
        rc = 2;
    }
    zsys_shutdown();
    return rc;
}
