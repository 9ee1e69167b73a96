/*
 * scan: `lzr-worker scan`, one worker scanning on its own. It reads the command line into a
 * scan spec (common/scan_spec.h) and a vantage, validates the spec as every front end does,
 * turns both into the engine's configuration (worker/scan_config.h) with the whole permutation
 * as one shard, checks that the host lets it scan, runs the engine, writes one line per record
 * and reports progress and the per-class counts on stderr. scan_main reads as its steps:
 * options, targets, vantage, spec, plan, run.
 */
#include "worker/scan.h"

#include "common/addr.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/input.h"
#include "common/log.h"
#include "common/stopsig.h"
#include "worker/engine.h"
#include "worker/firewall.h"
#include "worker/lzr.h"
#include "worker/metadata.h"
#include "worker/netif.h"
#include "worker/optout.h"
#include "worker/scan_config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The line formats of --format (docs/output.md): lzr's JSON, ZGrab2's input CSV, LZR-Go's JSON. */
typedef enum { SCAN_FMT_JSONL, SCAN_FMT_ZGRAB2, SCAN_FMT_LZRGO } scan_fmt_t;

typedef struct scan_out {
    FILE *out;
    scan_fmt_t fmt;
    metajson_protocols_t protocols;
    bool progress;
    uint64_t last_sent;
    uint64_t last_ns;
    uint64_t start_ns;
    /* start-up, for the report once the first SYN is out */
    uint64_t main_ns;   /* scan_main's start */
    uint64_t engine_ns; /* engine_run's call */
    uint64_t firewall_us, preflight_us;
    firewall_proof_t proof;
    bool startup_told;
} scan_out_t;

/* Stop, hold and rate for the engine; the signal handler sets stop (a lock-free atomic). */
static engine_control_t scan_ctl;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&scan_ctl.stop, 1);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: lzr-worker scan [--iface IF] [--source-ip IP] [--source-ip6 IP6]\n"
        "         [--gateway-mac MAC]\n"
        "         (--targets CIDR[,CIDR...] | --targets-file F | --allowlist-file F\n"
        "          | --input-file FILE|-) --ports LIST\n"
        "         [--handshakes " HANDSHAKE_DEFAULT_LIST "] [--rate PPS] [--seed N]\n"
        "         [--fallback " HANDSHAKE_DEFAULT_FALLBACK " | --no-fallback]\n"
        "         [--exclude CIDR ...] [--allow-reserved CIDR ...]\n"
        "         [--blocklist-file F | --no-default-blocklist] [--allowlist-file F]\n"
        "         [--timeout-ms 5000] [--retransmit-ms 1000] [--acking-firewall-probes N]\n"
        "         [--max-targets N|P%%] [--max-runtime SECS] [--cooldown-ms MS]\n"
        "         [--metadata FILE]\n"
        "         [--source-ports 40000-65535] [--manage-firewall] [--tx-ring | --xdp]\n"
        "         [--send-threads N]\n"
        "         [--output FILE|-] [--format jsonl|zgrab2|lzr-go] [--all]\n"
        "         [--progress | -v] [--discovery-only] [--dry-run]\n"
        "Scans targets × ports from one source IP and prints one JSON line per (ip, port)\n"
        "that answered (docs/output.md); --format zgrab2 writes ZGrab2's input instead, one\n"
        "line per identified service (deploy/zgrab2/lzr.ini), --format lzr-go LZR-Go's\n"
        "records. The fallback handshakes (at most "
        "%d, default\n"
        "%s; \"\" or --no-fallback for none) are tried last, only on targets that\n"
        "held one connection open and closed another. The host's blocklist (%s,\n"
        "or --blocklist-file) is applied unless --no-default-blocklist; its addresses are\n"
        "counted, never probed. --input-file reads targets (ip, ip:port, ip,port, ZMap's CSV or\n"
        "JSON) from a file or, with -, from a pipe as they arrive. See docs/worker.md.\n",
        HANDSHAKE_MAX_FALLBACK, HANDSHAKE_DEFAULT_FALLBACK, OPTOUT_DEFAULT_PATH);
}

static void emit_line(void *ctx, const lzr_record_t *r)
{
    scan_out_t *o = ctx;
    metajson_add_protocol(&o->protocols, r->protocol, 1);
    char line[LZR_LZRGO_MAX];
    size_t n = o->fmt == SCAN_FMT_ZGRAB2  ? record_to_zgrab2(r, line, sizeof line)
               : o->fmt == SCAN_FMT_LZRGO ? record_to_lzrgo(r, line, sizeof line)
                                          : record_to_json(r, line, sizeof line);
    if (n) {
        line[n] = '\n';
        fwrite(line, 1, n + 1, o->out);
    }
}

/* One line with every start-up step, in milliseconds (docs/worker.md, "Start-up"). */
static void tell_startup(scan_out_t *o, const engine_startup_t *su)
{
    o->startup_told = true;
    if (!o->progress)
        return;
    const firewall_proof_t *p = &o->proof;
    char how[96];
    if (p->control_answered)
        snprintf(how, sizeof how, "control RST from port %u", p->control_port);
    else
        snprintf(how, sizeof how, "no control RST: %d ms of silence", FIREWALL_SELFTEST_WAIT_MS);
    double before = (double)(o->engine_ns - o->main_ns) / 1e6;
    fprintf(stderr,
            "lzr-worker: start-up: options %.1f ms, firewall rule %.1f ms, checks %.1f ms "
            "(self-test %.1f ms, %s), interface %.1f ms, capture %.1f ms, tables %.1f ms; "
            "first SYN %.1f ms after start; receive thread %s\n",
            before - (double)(o->firewall_us + o->preflight_us) / 1e3, (double)o->firewall_us / 1e3,
            (double)o->preflight_us / 1e3, (double)p->elapsed_us / 1e3, how,
            (double)su->iface_us / 1e3, (double)su->capture_us / 1e3, (double)su->tables_us / 1e3,
            before + (double)su->first_syn_us / 1e3,
            su->rx_raised ? "ahead of the walk"
                          : "at the walk's priority (raising it needs root or CAP_SYS_NICE)");
}

static void on_tick(void *ctx, const engine_stats_t *s)
{
    scan_out_t *o = ctx;
    if (!o->startup_told && s->startup.first_syn_us)
        tell_startup(o, &s->startup);
    uint64_t now = clock_mono_ns();
    double dt = (double)(now - o->last_ns) / 1e9;
    double pps = dt > 0 ? (double)(s->syns - o->last_sent) / dt : 0;
    o->last_ns = now;
    o->last_sent = s->syns;
    fflush(o->out);
    if (!o->progress)
        return;
    double elapsed = (double)(now - o->start_ns) / 1e9;
    double left =
        s->targets_total > s->targets_done ? (double)(s->targets_total - s->targets_done) : 0;
    double overall = elapsed > 0 ? (double)s->targets_done / elapsed : 0;
    fprintf(stderr,
            "lzr-worker: sent %llu, %.0f probes/s, hits %llu, in flight %llu, invalid %llu, "
            "pcap drops %llu, ETA %.0fs\n",
            (unsigned long long)s->syns, pps, (unsigned long long)s->hits,
            (unsigned long long)s->in_flight, (unsigned long long)s->invalid,
            (unsigned long long)s->pcap_drops, overall > 0 ? left / overall : 0);
}

/* Everything the command line says, and what scan_main derives from it before the run. */
typedef struct scan_opts {
    scan_spec_t spec;
    scan_vantage_t vantage;
    const char *ports_spec, *handshakes, *fallback, *output, *metadata, *max_targets;
    const char *targets_file, *blocklist_file, *allowlist_file, *input_file;
    input_reader_t *input;    /* --input-file's reader; NULL: the target set is walked */
    uint32_t first_target;    /* the list's first address, for the route */
    lzr_addr_t first_target6; /* the same when it is an IPv6 address */
    const char *bl_path;      /* the blocklist in force, or NULL */
    size_t n_block;
    targets_t *blocklist, *allowlist;
    targets6_t *blocklist6; /* the host's IPv6 opt-outs, or NULL */
    bool have_ip, have_targets, have_seed, manage_fw, default_blocklist, dry_run, progress;
    uint32_t max_runtime;
    uint64_t seed;
    scan_fmt_t fmt;
    uint64_t main_ns;
    int argc; /* the command line, for --metadata */
    char **argv;
} scan_opts_t;

/* The output's stdio buffer when it is a file or a pipe: about 500 records. Static, because
 * stdout may be flushed after scan_main returns; glibc ignores a size given without a buffer. */
#define SCAN_OUT_BUFFER (256u << 10)
static char scan_out_buffer[SCAN_OUT_BUFFER];

/* An option's result: handled, not this handler's letter, or a bad value (exit 2). */
enum { OPT_DONE = 0, OPT_OTHER = 1, OPT_BAD = 2 };

static const struct option scan_options[] = {
    {"iface", required_argument, 0, 'i'},
    {"source-ip", required_argument, 0, 's'},
    {"source-ip6", required_argument, 0, 's' + 256},
    {"gateway-mac", required_argument, 0, 'g'},
    {"targets", required_argument, 0, 't'},
    {"targets-file", required_argument, 0, 'T'},
    {"ports", required_argument, 0, 'p'},
    {"handshakes", required_argument, 0, 'H'},
    {"fallback", required_argument, 0, 'B'},
    {"no-fallback", no_argument, 0, 'N'},
    {"rate", required_argument, 0, 'r'},
    {"seed", required_argument, 0, 'S'},
    {"exclude", required_argument, 0, 'x'},
    {"allow-reserved", required_argument, 0, 'R'},
    {"timeout-ms", required_argument, 0, 'w'},
    {"retransmit-ms", required_argument, 0, 'W'},
    {"acking-firewall-probes", required_argument, 0, 'a'},
    {"source-ports", required_argument, 0, 'P'},
    {"manage-firewall", no_argument, 0, 'F'},
    {"tx-ring", no_argument, 0, 'X'},
    {"xdp", no_argument, 0, 'X' + 256},
    {"send-threads", required_argument, 0, 'T' + 256},
    {"output", required_argument, 0, 'o'},
    {"format", required_argument, 0, 'f'},
    {"all", no_argument, 0, 'A'},
    {"discovery-only", no_argument, 0, 'D'},
    {"progress", no_argument, 0, 'G'},
    {"verbose", no_argument, 0, 'G'},
    {"blocklist-file", required_argument, 0, 'b'},
    {"no-default-blocklist", no_argument, 0, 'n'},
    {"allowlist-file", required_argument, 0, 'l'},
    {"dry-run", no_argument, 0, 'y'},
    {"max-targets", required_argument, 0, 'm'},
    {"max-runtime", required_argument, 0, 'M'},
    {"cooldown-ms", required_argument, 0, 'c'},
    {"metadata", required_argument, 0, 'j'},
    {"input-file", required_argument, 0, 'I'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v > UINT32_MAX) {
        fprintf(stderr, "lzr-worker scan: %s: \"%s\" is not a number\n", opt, s);
        return LZR_EPARSE;
    }
    *out = (uint32_t)v;
    return LZR_OK;
}

/* The vantage's options: where the probes leave from. */
static int opt_vantage(scan_opts_t *o, int c, const char *arg)
{
    scan_vantage_t *v = &o->vantage;
    switch (c) {
    case 'i':
        if (strlen(arg) >= sizeof v->iface) {
            fprintf(stderr,
                    "lzr-worker scan: --iface: \"%s\" is longer than an interface name can "
                    "be (%zu characters)\n",
                    arg, sizeof v->iface - 1);
            return OPT_BAD;
        }
        snprintf(v->iface, sizeof v->iface, "%s", arg);
        return OPT_DONE;
    case 's':
        if (addr_parse_ipv4(arg, &v->source_ip) != LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --source-ip: \"%s\" is not an IPv4 address\n", arg);
            return OPT_BAD;
        }
        o->have_ip = true;
        return OPT_DONE;
    case 's' + 256:
        if (addr_parse(arg, &v->source_ip6) != LZR_OK || v->source_ip6.family != ADDR_IPV6) {
            v->source_ip6.family = ADDR_NONE;
            fprintf(stderr, "lzr-worker scan: --source-ip6: \"%s\" is not an IPv6 address\n", arg);
            return OPT_BAD;
        }
        return OPT_DONE;
    case 'g':
        if (netif_parse_mac(arg, v->gateway_mac) != LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --gateway-mac: \"%s\" is not a MAC address\n", arg);
            return OPT_BAD;
        }
        v->have_gateway_mac = true;
        return OPT_DONE;
    case 'P':
        if (ports_parse_range(arg, 1024, &v->sport_lo, &v->sport_hi) != LZR_OK) {
            fprintf(stderr,
                    "lzr-worker scan: --source-ports: \"%s\" is not LO-HI with 1024 <= LO "
                    "<= HI <= 65535\n",
                    arg);
            return OPT_BAD;
        }
        return OPT_DONE;
    case 'X':
    case 'X' + 256:
    case 'T' + 256:
        return scan_send_option("lzr-worker scan",
                                c == 'X'         ? "tx-ring"
                                : c == 'X' + 256 ? "xdp"
                                                 : "send-threads",
                                arg, &v->send_path, &v->send_threads)
                   ? OPT_BAD
                   : OPT_DONE;
    case 'F':
        o->manage_fw = true;
        return OPT_DONE;
    }
    return OPT_OTHER;
}

/* The target set's options; each entry is checked as it comes, files once all are read. */
static int opt_targets(scan_opts_t *o, int c, const char *arg)
{
    char sub[900];
    int rc = LZR_OK;
    const char *flag = "";
    switch (c) {
    case 't':
        flag = "--targets";
        rc = scan_spec_add(&o->spec, SCAN_ALLOW, arg, sub, sizeof sub);
        o->have_targets = true;
        break;
    case 'x':
        flag = "--exclude";
        rc = scan_spec_add(&o->spec, SCAN_EXCLUDE, arg, sub, sizeof sub);
        break;
    case 'R':
        flag = "--allow-reserved";
        rc = scan_spec_add(&o->spec, SCAN_LIFT, arg, sub, sizeof sub);
        break;
    case 'T':
        o->targets_file = arg;
        break;
    case 'l':
        o->allowlist_file = arg;
        break;
    case 'I':
        o->input_file = arg;
        break;
    case 'b':
        o->blocklist_file = arg;
        break;
    case 'n':
        o->default_blocklist = false;
        break;
    default:
        return OPT_OTHER;
    }
    if (rc != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s: %s\n", flag, sub);
        return OPT_BAD;
    }
    return OPT_DONE;
}

/* The scan's own settings: what goes into the spec (lists are parsed once all are given). */
static int opt_spec(scan_opts_t *o, int c, const char *arg)
{
    scan_spec_t *sp = &o->spec;
    switch (c) {
    case 'p':
        o->ports_spec = arg;
        return OPT_DONE;
    case 'H':
        o->handshakes = arg;
        return OPT_DONE;
    case 'B':
        o->fallback = arg;
        return OPT_DONE;
    case 'N':
        o->fallback = "";
        return OPT_DONE;
    case 'r':
        return parse_u32("--rate", arg, &sp->rate) ? OPT_BAD : OPT_DONE;
    case 'w':
        return parse_u32("--timeout-ms", arg, &sp->timeout_ms) ? OPT_BAD : OPT_DONE;
    case 'W':
        sp->retransmit_given = true;
        return parse_u32("--retransmit-ms", arg, &sp->retransmit_ms) ? OPT_BAD : OPT_DONE;
    case 'a':
        return parse_u32("--acking-firewall-probes", arg, &sp->acking_firewall_probes) ? OPT_BAD
                                                                                       : OPT_DONE;
    case 'c':
        if (parse_u32("--cooldown-ms", arg, &sp->cooldown_ms))
            return OPT_BAD;
        if (sp->cooldown_ms == 0) { /* 0 is the spec's "default": not a value to type */
            fprintf(stderr, "lzr-worker scan: --cooldown-ms: 0 is out of range (1-%d)\n",
                    SCAN_SPEC_COOLDOWN_MAX);
            return OPT_BAD;
        }
        return OPT_DONE;
    case 'A':
        sp->report_all = true;
        return OPT_DONE;
    case 'D':
        sp->discovery_only = true;
        return OPT_DONE;
    case 'm':
        o->max_targets = arg; /* a percentage needs the set's size: read in plan_scan */
        return OPT_DONE;
    }
    return OPT_OTHER;
}

/* The run's options: seed, bounds, output. */
static int opt_run(scan_opts_t *o, int c, const char *arg)
{
    switch (c) {
    case 'S': {
        char *end;
        errno = 0;
        o->seed = strtoull(arg, &end, 0);
        if (errno || *end || end == arg) {
            fprintf(stderr, "lzr-worker scan: --seed: \"%s\" is not a number\n", arg);
            return OPT_BAD;
        }
        o->have_seed = true;
        return OPT_DONE;
    }
    case 'M':
        if (parse_u32("--max-runtime", arg, &o->max_runtime))
            return OPT_BAD;
        if (o->max_runtime == 0) {
            fprintf(stderr, "lzr-worker scan: --max-runtime must be above 0 seconds\n");
            return OPT_BAD;
        }
        return OPT_DONE;
    case 'o':
        o->output = arg;
        return OPT_DONE;
    case 'f':
        if (strcmp(arg, "jsonl") == 0) {
            o->fmt = SCAN_FMT_JSONL;
        } else if (strcmp(arg, "zgrab2") == 0) {
            o->fmt = SCAN_FMT_ZGRAB2;
        } else if (strcmp(arg, "lzr-go") == 0) {
            o->fmt = SCAN_FMT_LZRGO;
        } else {
            fprintf(stderr, "lzr-worker scan: --format: \"%s\" is not jsonl, zgrab2 or lzr-go\n",
                    arg);
            return OPT_BAD;
        }
        return OPT_DONE;
    case 'G':
    case 'v':
        o->progress = true;
        return OPT_DONE;
    case 'y':
        o->dry_run = true;
        return OPT_DONE;
    case 'j':
        o->metadata = arg;
        return OPT_DONE;
    }
    return OPT_OTHER;
}

/* Reads the command line into o; returns -1 to go on, or the exit code (0 for --help). */
static int parse_options(scan_opts_t *o, int argc, char **argv)
{
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "v", scan_options, NULL)) != -1) {
        if (c == 'h' || c == '?') {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
        int r = opt_vantage(o, c, optarg);
        if (r == OPT_OTHER)
            r = opt_targets(o, c, optarg);
        if (r == OPT_OTHER)
            r = opt_spec(o, c, optarg);
        if (r == OPT_OTHER)
            r = opt_run(o, c, optarg);
        if (r == OPT_OTHER)
            usage(stderr);
        if (r != OPT_DONE)
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "lzr-worker scan: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!o->input_file &&
        (!o->ports_spec || (!o->have_targets && !o->targets_file && !o->allowlist_file))) {
        fprintf(stderr, "lzr-worker scan: --ports and --targets (or --targets-file, "
                        "--allowlist-file or --input-file) are required\n");
        usage(stderr);
        return 2;
    }
    if (o->vantage.send_threads > 1 && (o->input_file || o->max_targets)) {
        fprintf(stderr, "lzr-worker scan: --send-threads: a list (--input-file) or a bound "
                        "(--max-targets) is walked in order by one thread\n");
        return 2;
    }
    if (o->input_file && (o->spec.report_all || (o->max_targets && strchr(o->max_targets, '%')))) {
        fprintf(stderr, "lzr-worker scan: --input-file: %s\n",
                o->spec.report_all ? "--all cannot report the silent targets of a list (a list "
                                     "has no set to walk); scan without --all"
                                   : "--max-targets takes a count with a list, not a percentage");
        return 2;
    }
    return -1;
}

/* With targets, an allowlist narrows them; alone, it is the targets (ZMap's -w). */
static int apply_allowlist(scan_opts_t *o, char *err, size_t errlen)
{
    size_t n_allow = 0;
    int rc = optout_load(o->allowlist_file, &o->allowlist, NULL, &n_allow, err, errlen);
    if (rc == LZR_OK && !o->allowlist) {
        snprintf(err, errlen, "%s: lists no address", o->allowlist_file);
        rc = LZR_EEMPTY;
    }
    if (rc == LZR_OK)
        rc = o->have_targets || o->targets_file
                 ? targets_restrict(o->spec.targets, o->allowlist, err, errlen)
                 : targets_allow_file(o->spec.targets, o->allowlist_file, err, errlen);
    return rc;
}

/* --input-file: checks a file's every line now (nothing is probed before the list is valid),
 * opens the reader and waits for the first target, whose route finds the interface and next
 * hop. Without a target set, a listed address may be any the scan allows: all but the
 * reserved ranges (unless lifted) and the excludes. Returns -1 to go on, or 2 after saying
 * why. */
static int input_setup(scan_opts_t *o)
{
    char err[700];
    uint64_t n_addr = 0, n_pair = 0;
    const char *path = o->input_file;
    bool piped = strcmp(path, "-") == 0;
    int rc = piped ? LZR_OK : input_check_file(path, &n_addr, &n_pair, err, sizeof err);
    if (rc == LZR_OK && !o->ports_spec && (piped || n_addr)) {
        snprintf(err, sizeof err, "%s: %s; --ports is required", piped ? "stdin" : path,
                 piped ? "a line may name an address alone" : "lists addresses without a port");
        rc = LZR_EINVAL;
    }
    if (rc == LZR_OK && !o->have_targets && !o->targets_file && !o->allowlist_file)
        rc = scan_spec_add(&o->spec, SCAN_ALLOW, "0.0.0.0/0", err, sizeof err);
    if (rc == LZR_OK && !(o->input = input_open(path, err, sizeof err)))
        rc = LZR_EIO;
    input_target_t first;
    if (rc == LZR_OK && (rc = input_peek(o->input, &first, err, sizeof err)) == LZR_EEMPTY)
        snprintf(err, sizeof err, "%s: lists no target", piped ? "stdin" : path);
    if (rc != 1) {
        fprintf(stderr, "lzr-worker scan: --input-file: %s\n", err);
        return 2;
    }
    o->spec.from_list = true;
    if (first.addr.family == ADDR_IPV6)
        o->first_target6 = first.addr;
    else
        o->first_target = first.addr.v4;
    return -1;
}

/* The input list, the target files, the allowlist and the host's blocklist, then the
 * finished target set. */
static int load_targets(scan_opts_t *o)
{
    char err[1024];
    if (o->input_file && input_setup(o) != -1)
        return 2;
    if (o->targets_file &&
        scan_spec_allow_file(&o->spec, o->targets_file, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --targets-file: %s\n", err);
        return 2;
    }
    if (o->allowlist_file && apply_allowlist(o, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --allowlist-file: %s\n", err);
        return 2;
    }
    o->bl_path = optout_path(o->blocklist_file, o->default_blocklist);
    if (optout_load(o->bl_path, &o->blocklist, &o->blocklist6, &o->n_block, err, sizeof err) !=
        LZR_OK) {
        fprintf(stderr, "lzr-worker scan: blocklist: %s\n", err);
        return 2;
    }
    if (scan_spec_finalize(&o->spec, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        return 2;
    }
    if (o->spec.n_allow6 && o->vantage.source_ip6.family != ADDR_IPV6) {
        fprintf(stderr, "lzr-worker scan: IPv6 targets need the scan's IPv6 address: give "
                        "--source-ip6\n");
        return 2;
    }
    return -1;
}

/* As ZMap: what the command line left out of the vantage comes from the kernel's route to the
 * first target (a dry run needs no interface). */
static int complete_vantage(scan_opts_t *o)
{
    scan_vantage_t *v = &o->vantage;
    if (o->have_ip && (v->iface[0] || o->dry_run))
        return -1;
    if (!o->input && targets_count(o->spec.targets) == 0) { /* IPv6 targets only */
        if (v->iface[0] || o->dry_run)
            return -1;
        fprintf(stderr, "lzr-worker scan: a scan of IPv6 targets only needs --iface\n");
        return 2;
    }
    bool had_iface = v->iface[0] != 0;
    char err[1024], ip[ADDR_TEXT_MAX];
    uint32_t first = o->input ? o->first_target : targets_at(o->spec.targets, 0);
    if (netif_autodetect(first, v->iface, &v->source_ip, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        return 2;
    }
    lzr_addr_t a = {.family = ADDR_IPV4, .v4 = v->source_ip};
    fprintf(stderr, "lzr-worker scan: --iface %s --source-ip %s (%s)\n", v->iface,
            addr_format(&a, ip),
            had_iface ? "the interface's first address" : "the kernel's route to the first target");
    return -1;
}

/* The ports and handshake lists into the spec, then the checks every front end shares. */
static int complete_spec(scan_opts_t *o)
{
    char err[1024];
    scan_spec_t *sp = &o->spec;
    if (o->ports_spec && ports_parse(o->ports_spec, &sp->ports, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --ports: %s\n", err);
        return 2;
    }
    if (scan_names_parse(o->handshakes, false, &sp->handshakes, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --handshakes: handshake list: %s\n", err);
        return 2;
    }
    if (scan_names_parse(o->fallback, true, &sp->fallback, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --fallback: handshake list: %s\n", err);
        return 2;
    }
    sp->max_runtime_ms = (uint64_t)o->max_runtime * 1000u;
    scan_field_t f;
    if (scan_spec_validate(sp, SCAN_NAMES_FLAG, &f, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s: %s\n", scan_field_name(f, SCAN_NAMES_FLAG), err);
        return 2;
    }
    return -1;
}

/* The engine's configuration: the spec from the vantage, the whole permutation as one shard
 * (seeded from --seed or at random), --max-targets against its size, a fresh cookie key. */
static int plan_scan(scan_opts_t *o, engine_config_t *cfg)
{
    char err[1024];
    scan_spec_t *sp = &o->spec;
    /* A list is not walked: --max-targets is a count of its probes. */
    uint64_t size = o->input ? UINT64_MAX : scan_spec_addresses(sp) * sp->ports.n;
    if (o->max_targets &&
        perm_parse_limit(o->max_targets, size, &sp->max_probes, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --max-targets: %s\n", err);
        return 2;
    }
    if (scan_config_build(sp, &o->vantage, SCAN_NAMES_FLAG, cfg, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        return 2;
    }
    cfg->blocklist = o->blocklist;
    cfg->blocklist6 = o->blocklist6;
    cfg->input = o->input;
    cfg->first_target = o->first_target;
    cfg->first_target6 = o->first_target6;
    if (!o->have_seed)
        randombytes_buf(&o->seed, sizeof o->seed);
    if (!o->input && perm_init(&cfg->perm, size, o->seed) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %llu targets × ports is too many for one scan\n",
                (unsigned long long)size);
        return 2;
    }
    cfg->pos_begin = 0;
    cfg->pos_end = o->input ? 0 : perm_cycle_len(&cfg->perm);
    if (cookie_key_random(&cfg->key) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: no randomness for the cookie key\n");
        return 2;
    }
    return -1;
}

/* --metadata: the document of the scan (or of the dry run: its probes listed, none sent), from
 * its counters st and protocols. Returns the exit code so far, or 1 when it cannot be written. */
static int write_metadata(const scan_opts_t *o, const engine_config_t *cfg, uint64_t start_us,
                          double secs, const engine_stats_t *st,
                          const metajson_protocols_t *protocols, int rc)
{
    if (!o->metadata)
        return rc;
    char err[1024];
    scan_meta_t meta = {.argc = o->argc,
                        .argv = o->argv,
                        .cfg = cfg,
                        .ports = o->ports_spec,
                        .blocklist_file = o->bl_path,
                        .allowlist_file = o->allowlist_file,
                        .input_file = o->input_file,
                        .seed = o->seed,
                        .start_us = start_us,
                        .end_us = clock_wall_us(),
                        .seconds = secs,
                        .stats = st,
                        .protocols = protocols,
                        .interrupted = atomic_load(&scan_ctl.stop) != 0,
                        .dry_run = o->dry_run};
    if (metadata_write(o->metadata, &meta, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --metadata: %s\n", err);
        return 1;
    }
    return rc;
}

/* The scan IPs for messages into buf (2 * ADDR_TEXT_MAX + 8 bytes): "IPv4", "IPv4 and IPv6",
 * or "IPv6" for a scan of IPv6 targets only. */
static const char *scan_ips(const engine_config_t *cfg, char *buf)
{
    char a[ADDR_TEXT_MAX], b[ADDR_TEXT_MAX];
    lzr_addr_t v4 = addr_ipv4(cfg->source_ip);
    bool has4 = cfg->source_ip != 0, has6 = cfg->source_ip6.family == ADDR_IPV6;
    snprintf(buf, 2 * ADDR_TEXT_MAX + 8, "%s%s%s", has4 || !has6 ? addr_format(&v4, a) : "",
             has4 && has6 ? " and " : "", has6 ? addr_format(&cfg->source_ip6, b) : "");
    return buf;
}

/* --dry-run: what the scan would send, one line per probe, and nothing sent; no raw socket is
 * opened, so it runs without privileges. */
static int dry_run_main(const scan_opts_t *o, const engine_config_t *cfg)
{
    const char *output = o->output;
    FILE *out = strcmp(output, "-") ? fopen(output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "lzr-worker scan: --output %s: %s\n", output, strerror(errno));
        return 2;
    }
    char src[2 * ADDR_TEXT_MAX + 8], what[300], err[600];
    if (o->input)
        snprintf(what, sizeof what, "the list %s (%zu ports for addresses alone)", o->input_file,
                 cfg->ports->n);
    else
        snprintf(what, sizeof what, "%llu addresses × %zu ports",
                 (unsigned long long)scan_spec_addresses(&o->spec), cfg->ports->n);
    fprintf(stderr,
            "lzr-worker: dry run: %s from %s, seed %llu, blocklist %s (%zu entries), at most "
            "%llu probes (0: no bound); nothing is sent\n",
            what, scan_ips(cfg, src), (unsigned long long)o->seed, o->bl_path ? o->bl_path : "none",
            o->n_block, (unsigned long long)cfg->max_probes);
    stopsig_route(on_signal);
    engine_stats_t st;
    uint64_t t0 = clock_mono_ns(), start_us = clock_wall_us();
    int rc = engine_dry_run(cfg, out, &scan_ctl, &st, err, sizeof err);
    if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(out) != 0)) {
        rc = LZR_EIO;
        snprintf(err, sizeof err, "write error");
    }
    if (rc != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s%s: %s\n", rc == LZR_EIO ? "--output " : "",
                rc == LZR_EIO ? output : "--input-file", err);
        return 1;
    }
    fprintf(stderr, "lzr-worker: dry run: %llu probes listed, %llu blocklisted\n",
            (unsigned long long)st.syns, (unsigned long long)st.blocked);
    metajson_protocols_t none = {0};
    return write_metadata(o, cfg, start_us, (double)(clock_mono_ns() - t0) / 1e9, &st, &none,
                          atomic_load(&scan_ctl.stop) ? 130 : 0);
}

/* Before any probe: the firewall rule (--manage-firewall), the host's checks, the output file
 * and a metadata path that can be written. Returns -1 to go on, or the exit code. */
static int prepare_run(const scan_opts_t *o, const engine_config_t *cfg, scan_out_t *so)
{
    char err[1024];
    uint64_t t = clock_mono_ns();
    if (o->manage_fw && firewall_install(cfg->source_ip, &cfg->source_ip6, cfg->sport_lo,
                                         cfg->sport_hi, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --manage-firewall: %s\n", err);
        return 2;
    }
    so->firewall_us = (clock_mono_ns() - t) / 1000;
    t = clock_mono_ns();
    if (engine_preflight(cfg, &so->proof, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: refusing to start: %s\n", err);
        return 1;
    }
    so->preflight_us = (clock_mono_ns() - t) / 1000;
    so->out = strcmp(o->output, "-") ? fopen(o->output, "w") : stdout;
    if (!so->out) {
        fprintf(stderr, "lzr-worker scan: --output %s: %s\n", o->output, strerror(errno));
        return 2;
    }
    /* Records leave in large writes (stdio's 4 KiB buffer cost one system call per eight
     * records); each progress tick still flushes, so a reader sees every line within a second.
     * A terminal keeps its line buffering. */
    if (!isatty(fileno(so->out)))
        setvbuf(so->out, scan_out_buffer, _IOFBF, sizeof scan_out_buffer);
    if (o->metadata) { /* a path that cannot be written fails now, before any probe */
        FILE *m = fopen(o->metadata, "w");
        if (!m) {
            fprintf(stderr, "lzr-worker scan: --metadata %s: %s\n", o->metadata, strerror(errno));
            return 2;
        }
        fclose(m);
    }
    return -1;
}

/* The scan's opening log lines: what, from where, how fast, within which bounds. */
static void log_start(const scan_opts_t *o, const engine_config_t *cfg)
{
    char rate[32], ip[2 * ADDR_TEXT_MAX + 8];
    if (cfg->rate)
        snprintf(rate, sizeof rate, "%u probes/s", cfg->rate);
    else
        snprintf(rate, sizeof rate, "unlimited rate");
    if (o->input)
        log_info("scanning the list %s (%zu ports for addresses alone) from %s on %s, %s",
                 o->input_file, cfg->ports->n, scan_ips(cfg, ip), cfg->iface, rate);
    else
        log_info("scanning %llu addresses × %zu ports from %s on %s, %s, seed %llu",
                 (unsigned long long)scan_spec_addresses(&o->spec), cfg->ports->n,
                 scan_ips(cfg, ip), cfg->iface, rate, (unsigned long long)o->seed);
    if (cfg->max_probes || cfg->max_runtime_ms)
        log_info("bounds: at most %llu probes, %llu s of sending (0: no bound)",
                 (unsigned long long)cfg->max_probes,
                 (unsigned long long)cfg->max_runtime_ms / 1000);
    if (o->bl_path)
        log_info("blocklist %s: %zu entries, never probed", o->bl_path, o->n_block);
    else
        log_info("no blocklist file (%s)", o->default_blocklist ? OPTOUT_DEFAULT_PATH " is absent"
                                                                : "--no-default-blocklist");
}

/* The closing summary on stderr: totals, then one line per class seen. */
static void tell_done(double secs, const engine_stats_t *st)
{
    fprintf(stderr,
            "lzr-worker: done in %.1fs: %llu SYNs, %llu frames, %llu replies, %llu late, "
            "%llu invalid, %llu challenge ACKs, "
            "%llu pcap drops, %llu ms paused for the receive side, %llu blocklisted\n",
            secs, (unsigned long long)st->syns, (unsigned long long)st->sent,
            (unsigned long long)st->replies, (unsigned long long)st->late,
            (unsigned long long)st->invalid, (unsigned long long)st->challenged,
            (unsigned long long)st->pcap_drops, (unsigned long long)st->rx_wait_ms,
            (unsigned long long)st->blocked);
    for (int k = 0; k < CLASS_COUNT; k++) {
        if (st->per_class[k])
            fprintf(stderr, "  %-20s %llu\n", record_class_name((lzr_class_t)k),
                    (unsigned long long)st->per_class[k]);
    }
}

/* Runs the engine with so's outputs, then the summary and --metadata; the exit code. */
static int run_scan(const scan_opts_t *o, const engine_config_t *cfg, scan_out_t *so)
{
    stopsig_route(on_signal);
    so->start_ns = so->last_ns = so->engine_ns = clock_mono_ns();
    uint64_t start_us = clock_wall_us();
    engine_stats_t st;
    char err[1024];
    log_start(o, cfg);
    if (engine_run(cfg, &scan_ctl, emit_line, on_tick, so, &st, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        return 1;
    }
    fflush(so->out);
    if (!so->startup_told)
        tell_startup(so, &st.startup);
    double secs = (double)(clock_mono_ns() - so->start_ns) / 1e9;
    tell_done(secs, &st);
    return write_metadata(o, cfg, start_us, secs, &st, &so->protocols,
                          atomic_load(&scan_ctl.stop) ? 130 : 0);
}

int scan_main(int argc, char **argv)
{
    scan_opts_t o = {.vantage = {.sport_lo = 40000, .sport_hi = 65535},
                     .handshakes = HANDSHAKE_DEFAULT_LIST,
                     .fallback = HANDSHAKE_DEFAULT_FALLBACK,
                     .output = "-",
                     .default_blocklist = true,
                     .progress = isatty(STDERR_FILENO),
                     .fmt = SCAN_FMT_JSONL,
                     .main_ns = clock_mono_ns(),
                     .argc = argc,
                     .argv = argv};
    if (scan_spec_init(&o.spec) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: out of memory\n");
        return 1;
    }
    o.spec.rate = SCAN_DEFAULT_RATE;
    o.spec.timeout_ms = SCAN_DEFAULT_TIMEOUT_MS;
    o.spec.retransmit_ms = SCAN_DEFAULT_RETRANSMIT_MS; /* above a short --timeout-ms: no resend */
    o.spec.acking_firewall_probes = SCAN_DEFAULT_ACKING_FIREWALL_PROBES;
    engine_config_t cfg;
    scan_out_t so;
    int rc = parse_options(&o, argc, argv);
    if (rc < 0)
        rc = load_targets(&o);
    if (rc < 0)
        rc = complete_vantage(&o);
    if (rc < 0)
        rc = complete_spec(&o);
    if (rc < 0)
        rc = plan_scan(&o, &cfg);
    if (rc < 0 && o.dry_run)
        rc = dry_run_main(&o, &cfg);
    so = (scan_out_t){.progress = o.progress, .fmt = o.fmt, .main_ns = o.main_ns};
    if (rc < 0)
        rc = prepare_run(&o, &cfg, &so);
    if (rc < 0)
        rc = run_scan(&o, &cfg, &so);
    if (o.manage_fw)
        firewall_remove();
    if (so.out && so.out != stdout)
        fclose(so.out);
    input_close(&o.input);
    scan_spec_free(&o.spec);
    targets_destroy(&o.blocklist);
    targets6_destroy(&o.blocklist6);
    targets_destroy(&o.allowlist);
    return rc;
}
