/*
 * scan: `lzr-worker scan`, one worker scanning on its own. It turns the command line into an
 * engine_config_t (targets, ports, handshakes, rate, cookie key, the whole permutation as one
 * shard), checks that the host lets it scan, runs the engine, writes one JSON line per record
 * and reports progress and the per-class counts on stderr.
 */
#include "worker/scan.h"

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "worker/engine.h"
#include "worker/firewall.h"
#include "worker/lzr.h"
#include "worker/metadata.h"
#include "worker/netif.h"
#include "worker/optout.h"

#include <arpa/inet.h>
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

static volatile sig_atomic_t scan_stop;

static void on_signal(int sig)
{
    (void)sig;
    scan_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: lzr-worker scan [--iface IF] [--source-ip IP] [--gateway-mac MAC]\n"
        "         (--targets CIDR[,CIDR...] | --targets-file F | --allowlist-file F) --ports LIST\n"
        "         [--handshakes " HANDSHAKE_DEFAULT_LIST "] [--rate PPS] [--seed N]\n"
        "         [--fallback " HANDSHAKE_DEFAULT_FALLBACK " | --no-fallback]\n"
        "         [--exclude CIDR ...] [--allow-reserved CIDR ...]\n"
        "         [--blocklist-file F | --no-default-blocklist] [--allowlist-file F]\n"
        "         [--timeout-ms 5000] [--retransmit-ms 1000] [--acking-firewall-probes N]\n"
        "         [--max-targets N|P%%] [--max-runtime SECS] [--cooldown-ms MS]\n"
        "         [--metadata FILE]\n"
        "         [--source-ports 40000-65535] [--manage-firewall]\n"
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
        "counted, never probed. See docs/worker.md.\n",
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
            "first SYN %.1f ms after start\n",
            before - (double)(o->firewall_us + o->preflight_us) / 1e3, (double)o->firewall_us / 1e3,
            (double)o->preflight_us / 1e3, (double)p->elapsed_us / 1e3, how,
            (double)su->iface_us / 1e3, (double)su->capture_us / 1e3, (double)su->tables_us / 1e3,
            before + (double)su->first_syn_us / 1e3);
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

int scan_parse_source_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
    unsigned a, b;
    char tail;
    if (sscanf(s, "%u-%u%c", &a, &b, &tail) != 2 || a < 1024 || b > 65535 || a > b)
        return LZR_EPARSE;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return LZR_OK;
}

/* --dry-run: what the scan would send, one line per probe, and nothing sent; no raw socket is
 * opened, so it runs without privileges. */
static int dry_run_main(const engine_config_t *cfg, const char *output, scan_meta_t *meta,
                        const char *metadata, size_t n_block)
{
    uint64_t seed = meta->seed;
    const char *bl_path = meta->blocklist_file;
    FILE *out = strcmp(output, "-") ? fopen(output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "lzr-worker scan: --output %s: %s\n", output, strerror(errno));
        return 2;
    }
    char src[16];
    fprintf(stderr,
            "lzr-worker: dry run: %llu addresses × %zu ports from %s, seed %llu, blocklist %s "
            "(%zu entries), at most %llu probes (0: no bound); nothing is sent\n",
            (unsigned long long)targets_count(cfg->targets), cfg->ports->n,
            targets_ntoa(cfg->source_ip, src), (unsigned long long)seed, bl_path ? bl_path : "none",
            n_block, (unsigned long long)cfg->max_probes);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    engine_stats_t st;
    uint64_t t0 = clock_mono_ns();
    meta->start_us = clock_wall_us();
    int rc = engine_dry_run(cfg, out, &scan_stop, &st);
    if (out != stdout && fclose(out) != 0)
        rc = LZR_EIO;
    else if (out == stdout && fflush(out) != 0)
        rc = LZR_EIO;
    if (rc != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --output %s: write error\n", output);
        return 1;
    }
    fprintf(stderr, "lzr-worker: dry run: %llu probes listed, %llu blocklisted\n",
            (unsigned long long)st.syns, (unsigned long long)st.blocked);
    if (metadata) { /* the document of the scan that would run: its probes listed, none sent */
        char err[512];
        metajson_protocols_t none = {0};
        meta->end_us = clock_wall_us();
        meta->seconds = (double)(clock_mono_ns() - t0) / 1e9;
        meta->stats = &st;
        meta->protocols = &none;
        meta->interrupted = scan_stop != 0;
        meta->dry_run = true;
        if (metadata_write(metadata, meta, err, sizeof err) != LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --metadata: %s\n", err);
            return 1;
        }
    }
    return scan_stop ? 130 : 0;
}

int scan_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"iface", required_argument, 0, 'i'},
        {"source-ip", required_argument, 0, 's'},
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
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t main_ns = clock_mono_ns();
    engine_config_t cfg = {.rate = SCAN_DEFAULT_RATE,
                           .timeout_ms = SCAN_DEFAULT_TIMEOUT_MS,
                           .retransmit_ms = SCAN_DEFAULT_RETRANSMIT_MS,
                           .acking_firewall_probes = SCAN_DEFAULT_ACKING_FIREWALL_PROBES,
                           .sport_lo = 40000,
                           .sport_hi = 65535};
    const char *handshakes = HANDSHAKE_DEFAULT_LIST, *ports_spec = NULL, *output = "-";
    const char *fallback = HANDSHAKE_DEFAULT_FALLBACK;
    const char *targets_file = NULL, *blocklist_file = NULL, *allowlist_file = NULL;
    bool default_blocklist = true, dry_run = false;
    const char *max_targets = NULL, *metadata = NULL;
    uint32_t max_runtime = 0;
    targets_t *blocklist = NULL, *allowlist = NULL;
    scan_fmt_t fmt = SCAN_FMT_JSONL;
    bool retransmit_given = false; /* the default above a short --timeout-ms: no resend */
    bool have_targets = false, manage_fw = false, have_seed = false, have_ip = false;
    bool progress = isatty(STDERR_FILENO);
    uint64_t seed = 0;
    char err[1024], sub[900];
    int rc = 2;
    targets_t *targets = targets_new();
    port_list_t ports = {0};
    FILE *out = NULL;
    if (!targets) {
        fprintf(stderr, "lzr-worker scan: out of memory\n");
        return 1;
    }

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (strlen(optarg) >= sizeof cfg.iface) {
                fprintf(stderr,
                        "lzr-worker scan: --iface: \"%s\" is longer than an interface name can "
                        "be (%zu characters)\n",
                        optarg, sizeof cfg.iface - 1);
                goto done;
            }
            snprintf(cfg.iface, sizeof cfg.iface, "%s", optarg);
            break;
        case 's': {
            struct in_addr in;
            if (inet_pton(AF_INET, optarg, &in) != 1) {
                fprintf(stderr, "lzr-worker scan: --source-ip: \"%s\" is not an IPv4 address\n",
                        optarg);
                goto done;
            }
            cfg.source_ip = ntohl(in.s_addr);
            have_ip = true;
            break;
        }
        case 'g':
            if (netif_parse_mac(optarg, cfg.gateway_mac) != LZR_OK) {
                fprintf(stderr, "lzr-worker scan: --gateway-mac: \"%s\" is not a MAC address\n",
                        optarg);
                goto done;
            }
            cfg.have_gateway_mac = true;
            break;
        case 't':
            if (targets_allow(targets, optarg, sub, sizeof sub) != LZR_OK) {
                fprintf(stderr, "lzr-worker scan: --targets: %s\n", sub);
                goto done;
            }
            have_targets = true;
            break;
        case 'T':
            targets_file = optarg;
            break;
        case 'p':
            ports_spec = optarg;
            break;
        case 'H':
            handshakes = optarg;
            break;
        case 'B':
            fallback = optarg;
            break;
        case 'N':
            fallback = "";
            break;
        case 'r':
            if (parse_u32("--rate", optarg, &cfg.rate) != LZR_OK)
                goto done;
            break;
        case 'S': {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (errno || *end || end == optarg) {
                fprintf(stderr, "lzr-worker scan: --seed: \"%s\" is not a number\n", optarg);
                goto done;
            }
            have_seed = true;
            break;
        }
        case 'x':
            if (targets_exclude(targets, optarg, sub, sizeof sub) != LZR_OK) {
                fprintf(stderr, "lzr-worker scan: --exclude: %s\n", sub);
                goto done;
            }
            break;
        case 'R':
            if (targets_lift_reserved(targets, optarg, sub, sizeof sub) != LZR_OK) {
                fprintf(stderr, "lzr-worker scan: --allow-reserved: %s\n", sub);
                goto done;
            }
            break;
        case 'w':
            if (parse_u32("--timeout-ms", optarg, &cfg.timeout_ms) != LZR_OK)
                goto done;
            break;
        case 'W':
            if (parse_u32("--retransmit-ms", optarg, &cfg.retransmit_ms) != LZR_OK)
                goto done;
            retransmit_given = true;
            break;
        case 'a':
            if (parse_u32("--acking-firewall-probes", optarg, &cfg.acking_firewall_probes) !=
                LZR_OK)
                goto done;
            if (cfg.acking_firewall_probes > 64) {
                fprintf(stderr, "lzr-worker scan: --acking-firewall-probes: at most 64\n");
                goto done;
            }
            break;
        case 'P':
            if (scan_parse_source_ports(optarg, &cfg.sport_lo, &cfg.sport_hi) != LZR_OK) {
                fprintf(stderr,
                        "lzr-worker scan: --source-ports: \"%s\" is not LO-HI with 1024 <= LO "
                        "<= HI <= 65535\n",
                        optarg);
                goto done;
            }
            break;
        case 'F':
            manage_fw = true;
            break;
        case 'o':
            output = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0) {
                fmt = SCAN_FMT_JSONL;
            } else if (strcmp(optarg, "zgrab2") == 0) {
                fmt = SCAN_FMT_ZGRAB2;
            } else if (strcmp(optarg, "lzr-go") == 0) {
                fmt = SCAN_FMT_LZRGO;
            } else {
                fprintf(stderr,
                        "lzr-worker scan: --format: \"%s\" is not jsonl, zgrab2 or lzr-go\n",
                        optarg);
                goto done;
            }
            break;
        case 'A':
            cfg.report_all = true;
            break;
        case 'D':
            cfg.discovery_only = true;
            break;
        case 'G':
        case 'v':
            progress = true;
            break;
        case 'b':
            blocklist_file = optarg;
            break;
        case 'n':
            default_blocklist = false;
            break;
        case 'l':
            allowlist_file = optarg;
            break;
        case 'y':
            dry_run = true;
            break;
        case 'j':
            metadata = optarg;
            break;
        case 'm':
            max_targets = optarg; /* a percentage needs the set's size: checked below */
            break;
        case 'M':
            if (parse_u32("--max-runtime", optarg, &max_runtime) != LZR_OK)
                goto done;
            if (max_runtime == 0) {
                fprintf(stderr, "lzr-worker scan: --max-runtime must be above 0 seconds\n");
                goto done;
            }
            break;
        case 'c':
            if (parse_u32("--cooldown-ms", optarg, &cfg.cooldown_ms) != LZR_OK)
                goto done;
            if (cfg.cooldown_ms == 0 || cfg.cooldown_ms > 3600000) {
                fprintf(stderr,
                        "lzr-worker scan: --cooldown-ms: %u is out of range "
                        "(1-3600000)\n",
                        cfg.cooldown_ms);
                goto done;
            }
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto done;
        default:
            usage(stderr);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lzr-worker scan: unexpected argument \"%s\"\n", argv[optind]);
        goto done;
    }
    if (!ports_spec || (!have_targets && !targets_file && !allowlist_file)) {
        fprintf(stderr, "lzr-worker scan: --ports and --targets (or --targets-file or "
                        "--allowlist-file) are required\n");
        usage(stderr);
        goto done;
    }
    if (targets_file && targets_allow_file(targets, targets_file, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --targets-file: %s\n", err);
        goto done;
    }
    if (allowlist_file) {
        /* With targets, the allowlist narrows them; alone, it is the targets (ZMap's -w). */
        size_t n_allow = 0;
        int arc = optout_load(allowlist_file, &allowlist, &n_allow, err, sizeof err);
        if (arc == LZR_OK && !allowlist) {
            snprintf(err, sizeof err, "%s: lists no address", allowlist_file);
            arc = LZR_EEMPTY;
        }
        if (arc == LZR_OK)
            arc = have_targets || targets_file
                      ? targets_restrict(targets, allowlist, err, sizeof err)
                      : targets_allow_file(targets, allowlist_file, err, sizeof err);
        if (arc != LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --allowlist-file: %s\n", err);
            goto done;
        }
    }
    const char *bl_path = optout_path(blocklist_file, default_blocklist);
    size_t n_block = 0;
    if (optout_load(bl_path, &blocklist, &n_block, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: blocklist: %s\n", err);
        goto done;
    }
    cfg.blocklist = blocklist;
    if (targets_finalize(targets, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        goto done;
    }
    if (!have_ip || (!cfg.iface[0] && !dry_run)) { /* a dry run needs no interface */
        /* As ZMap: what is left out comes from the kernel's route to the first target. */
        bool had_iface = cfg.iface[0] != 0;
        if (netif_autodetect(targets_at(targets, 0), cfg.iface, &cfg.source_ip, err, sizeof err) !=
            LZR_OK) {
            fprintf(stderr, "lzr-worker scan: %s\n", err);
            goto done;
        }
        fprintf(stderr, "lzr-worker scan: --iface %s --source-ip %s (%s)\n", cfg.iface,
                targets_ntoa(cfg.source_ip, sub),
                had_iface ? "the interface's first address"
                          : "the kernel's route to the first target");
    }
    if (ports_parse(ports_spec, &ports, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --ports: %s\n", err);
        goto done;
    }
    int n = handshake_list_parse(handshakes, cfg.handshakes, HANDSHAKE_MAX_LIST, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "lzr-worker scan: --handshakes: %s\n", err);
        goto done;
    }
    cfg.n_handshakes = (size_t)n;
    n = lzr_fallback_parse(fallback, cfg.fallback, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "lzr-worker scan: --fallback: %s\n", err);
        goto done;
    }
    cfg.n_fallback = (size_t)n;
    /* The same bounds as a job file's timeout_ms and retransmit_ms (docs/job-file.md). */
    if (cfg.timeout_ms < 10 || cfg.timeout_ms > 600000) {
        fprintf(stderr, "lzr-worker scan: --timeout-ms: %u is not 10-600000\n", cfg.timeout_ms);
        goto done;
    }
    if (retransmit_given && (cfg.retransmit_ms < 10 || cfg.retransmit_ms > cfg.timeout_ms)) {
        fprintf(stderr,
                "lzr-worker scan: --retransmit-ms: %u is not 10 to --timeout-ms (%u): the "
                "scan would never retransmit before giving up\n",
                cfg.retransmit_ms, cfg.timeout_ms);
        goto done;
    }
    cfg.targets = targets;
    cfg.ports = &ports;
    if (!have_seed)
        randombytes_buf(&seed, sizeof seed);
    uint64_t size = targets_count(targets) * ports.n;
    if (perm_init(&cfg.perm, size, seed) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %llu targets × ports is too many for one scan\n",
                (unsigned long long)size);
        goto done;
    }
    cfg.pos_begin = 0;
    cfg.pos_end = perm_cycle_len(&cfg.perm);
    if (max_targets &&
        perm_parse_limit(max_targets, size, &cfg.max_probes, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: --max-targets: %s\n", err);
        goto done;
    }
    cfg.max_runtime_ms = (uint64_t)max_runtime * 1000u;
    if (cookie_key_random(&cfg.key) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: no randomness for the cookie key\n");
        goto done;
    }

    scan_meta_t meta = {.argc = argc,
                        .argv = argv,
                        .cfg = &cfg,
                        .ports = ports_spec,
                        .blocklist_file = bl_path,
                        .allowlist_file = allowlist_file,
                        .seed = seed};
    if (dry_run) {
        rc = dry_run_main(&cfg, output, &meta, metadata, n_block);
        goto done;
    }
    scan_out_t so = {.progress = progress, .main_ns = main_ns};
    uint64_t t = clock_mono_ns();
    if (manage_fw) {
        if (firewall_install(cfg.source_ip, cfg.sport_lo, cfg.sport_hi, err, sizeof err) !=
            LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --manage-firewall: %s\n", err);
            goto done;
        }
    }
    so.firewall_us = (clock_mono_ns() - t) / 1000;
    t = clock_mono_ns();
    if (engine_preflight(&cfg, &so.proof, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: refusing to start: %s\n", err);
        rc = 1;
        goto done;
    }
    so.preflight_us = (clock_mono_ns() - t) / 1000;
    out = strcmp(output, "-") ? fopen(output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "lzr-worker scan: --output %s: %s\n", output, strerror(errno));
        goto done;
    }
    if (metadata) { /* a path that cannot be written fails now, before any probe */
        FILE *m = fopen(metadata, "w");
        if (!m) {
            fprintf(stderr, "lzr-worker scan: --metadata %s: %s\n", metadata, strerror(errno));
            goto done;
        }
        fclose(m);
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    so.out = out;
    so.fmt = fmt;
    so.start_ns = so.last_ns = so.engine_ns = clock_mono_ns();
    uint64_t start_us = clock_wall_us();
    engine_stats_t st;
    char rate[32];
    if (cfg.rate)
        snprintf(rate, sizeof rate, "%u probes/s", cfg.rate);
    else
        snprintf(rate, sizeof rate, "unlimited rate");
    log_info("scanning %llu addresses × %zu ports from %s on %s, %s, seed %llu",
             (unsigned long long)targets_count(targets), ports.n, targets_ntoa(cfg.source_ip, sub),
             cfg.iface, rate, (unsigned long long)seed);
    if (cfg.max_probes || cfg.max_runtime_ms)
        log_info("bounds: at most %llu probes, %llu s of sending (0: no bound)",
                 (unsigned long long)cfg.max_probes, (unsigned long long)cfg.max_runtime_ms / 1000);
    if (bl_path)
        log_info("blocklist %s: %zu entries, never probed", bl_path, n_block);
    else
        log_info("no blocklist file (%s)",
                 default_blocklist ? OPTOUT_DEFAULT_PATH " is absent" : "--no-default-blocklist");
    if (engine_run(&cfg, emit_line, on_tick, &so, &scan_stop, &st, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker scan: %s\n", err);
        rc = 1;
        goto done;
    }
    fflush(out);
    if (!so.startup_told)
        tell_startup(&so, &st.startup);
    double secs = (double)(clock_mono_ns() - so.start_ns) / 1e9;
    fprintf(stderr,
            "lzr-worker: done in %.1fs: %llu SYNs, %llu frames, %llu replies, %llu late, "
            "%llu invalid, "
            "%llu pcap drops, %llu ms paused for the receive side, %llu blocklisted\n",
            secs, (unsigned long long)st.syns, (unsigned long long)st.sent,
            (unsigned long long)st.replies, (unsigned long long)st.late,
            (unsigned long long)st.invalid, (unsigned long long)st.pcap_drops,
            (unsigned long long)st.rx_wait_ms, (unsigned long long)st.blocked);
    for (int k = 0; k < CLASS_COUNT; k++) {
        if (st.per_class[k])
            fprintf(stderr, "  %-20s %llu\n", record_class_name((lzr_class_t)k),
                    (unsigned long long)st.per_class[k]);
    }
    if (metadata) {
        meta.start_us = start_us;
        meta.end_us = clock_wall_us();
        meta.seconds = secs;
        meta.stats = &st;
        meta.protocols = &so.protocols;
        meta.interrupted = scan_stop != 0;
        if (metadata_write(metadata, &meta, err, sizeof err) != LZR_OK) {
            fprintf(stderr, "lzr-worker scan: --metadata: %s\n", err);
            rc = 1;
            goto done;
        }
    }
    rc = scan_stop ? 130 : 0;
done:
    if (manage_fw)
        firewall_remove();
    if (out && out != stdout)
        fclose(out);
    ports_free(&ports);
    targets_destroy(&targets);
    targets_destroy(&blocklist);
    targets_destroy(&allowlist);
    return rc;
}
