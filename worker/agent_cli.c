/*
 * agent_cli: getopt over the agent's options, the checks that need all of them, and the
 * process around agent_run: logging, signals, firewall, preflight and the shared capture.
 */
#include "worker/agent_cli.h"

#include "common/addr.h"
#include "common/err.h"
#include "common/log.h"
#include "common/ports.h"
#include "common/stopsig.h"
#include "common/targets.h"
#include "common/wire.h"
#include "worker/capture.h"
#include "worker/engine.h"
#include "worker/firewall.h"
#include "worker/netif.h"
#include "worker/optout.h"
#include "worker/scan_config.h"
#include "worker/send.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: lzr-worker --coordinator tcp://HOST:7411 --iface IF --scan-ip IP\n"
          "         [--fresh-ip IP ...] [--scan-ip6 IP6 [--fresh-ip6 IP6 ...]]\n"
          "         [--keys DIR | --insecure] [--name NAME]\n"
          "         [--source-ports 40000-65535] [--gateway-mac MAC] [--manage-firewall]\n"
          "         [--tx-ring | --xdp] [--send-threads N] [--max-drains N]\n"
          "         [--blocklist-file F | --no-default-blocklist] [--log-level info]\n"
          "The host's blocklist (" OPTOUT_DEFAULT_PATH " unless --blocklist-file names another)\n"
          "applies to every shard the coordinator assigns.\n"
          "--keys DIR holds worker.key, worker.key_secret and coordinator.key, as made by\n"
          "`lzr-coord keygen DIR NAME`.\n",
          f);
}

/* Parses an IPv4 address for flag, saying what is wrong on stderr. */
static int parse_ip(const char *flag, const char *s, uint32_t *out)
{
    if (addr_parse_ipv4(s, out) != LZR_OK) {
        fprintf(stderr, "lzr-worker: %s: \"%s\" is not an IPv4 address\n", flag, s);
        return -1;
    }
    return 0;
}

/* Parses an IPv6 address for flag, saying what is wrong on stderr. */
static int parse_ip6(const char *flag, const char *s, lzr_addr_t *out)
{
    if (addr_parse(s, out) != LZR_OK || out->family != ADDR_IPV6) {
        out->family = ADDR_NONE;
        fprintf(stderr, "lzr-worker: %s: \"%s\" is not an IPv6 address\n", flag, s);
        return -1;
    }
    return 0;
}

/* --scan-ip6 and --fresh-ip6; 0 or 2 (said on stderr). */
static int parse_value6(agent_options_t *o, int opt, const char *arg)
{
    if (opt == 's' + 256)
        return parse_ip6("--scan-ip6", arg, &o->scan_ip6) ? 2 : 0;
    if (o->n_fresh6 == AGENT_MAX_FRESH) {
        fprintf(stderr, "lzr-worker: at most %d --fresh-ip6\n", AGENT_MAX_FRESH);
        return 2;
    }
    if (parse_ip6("--fresh-ip6", arg, &o->fresh6[o->n_fresh6]))
        return 2;
    o->n_fresh6++;
    return 0;
}

/* The options whose argument needs parsing; 0 or 2 (said on stderr). */
static int parse_value(agent_options_t *o, int opt, const char *arg)
{
    switch (opt) {
    case 'i':
        if (strlen(arg) >= sizeof o->iface) {
            fprintf(stderr, "lzr-worker: --iface: \"%s\" is too long\n", arg);
            return 2;
        }
        snprintf(o->iface, sizeof o->iface, "%s", arg);
        return 0;
    case 's':
        return parse_ip("--scan-ip", arg, &o->scan_ip) ? 2 : 0;
    case 'f':
        if (o->n_fresh == AGENT_MAX_FRESH) {
            fprintf(stderr, "lzr-worker: at most %d --fresh-ip\n", AGENT_MAX_FRESH);
            return 2;
        }
        if (parse_ip("--fresh-ip", arg, &o->fresh[o->n_fresh]))
            return 2;
        o->n_fresh++;
        return 0;
    case 'P':
        if (ports_parse_range(arg, 1024, &o->sport_lo, &o->sport_hi) != LZR_OK) {
            fprintf(stderr,
                    "lzr-worker: --source-ports: \"%s\" is not LO-HI with 1024 <= LO <= HI "
                    "<= 65535\n",
                    arg);
            return 2;
        }
        return 0;
    default: /* 'g' */
        if (netif_parse_mac(arg, o->gateway_mac) != LZR_OK) {
            fprintf(stderr, "lzr-worker: --gateway-mac: \"%s\" is not a MAC address\n", arg);
            return 2;
        }
        o->have_gateway_mac = true;
        return 0;
    }
}

/* One option; 0, 2 for a bad one, -1 for --help. */
static int apply_option(agent_options_t *o, int opt, char *arg, bool *have_ip)
{
    switch (opt) {
    case 'c':
        o->endpoint = arg;
        return 0;
    case 's':
        *have_ip = true;
        return parse_value(o, opt, arg);
    case 'i':
    case 'f':
    case 'P':
    case 'g':
        return parse_value(o, opt, arg);
    case 's' + 256:
    case 'f' + 256:
        return parse_value6(o, opt, arg);
    case 'k':
        o->keys_dir = arg;
        return 0;
    case 'I':
        o->insecure = true;
        return 0;
    case 'n':
        snprintf(o->name, sizeof o->name, "%s", arg);
        return 0;
    case 'F':
        o->manage_fw = true;
        return 0;
    case 'L':
        o->log_level = arg;
        return 0;
    case 'X':
    case 'X' + 256:
    case 'T':
        return scan_send_option("lzr-worker",
                                opt == 'X'         ? "tx-ring"
                                : opt == 'X' + 256 ? "xdp"
                                                   : "send-threads",
                                arg, &o->send_path, &o->send_threads)
                   ? 2
                   : 0;
    case 'D':
        return scan_count_option("lzr-worker", "max-drains", arg, 1, LZR_MAX_DRAINS, &o->max_drains)
                   ? 2
                   : 0;
    case 'b':
        o->blocklist_file = arg;
        return 0;
    case 'N':
        o->no_default_blocklist = true;
        return 0;
    case 'h':
        usage(stdout);
        return -1;
    default:
        usage(stderr);
        return 2;
    }
}

/* The checks that need every option: required ones, the name, the host's blocklist (a bad one
 * stops the worker before it joins: it must not scan without it). */
static int check_options(agent_options_t *o, bool have_ip)
{
    if (!o->endpoint || !o->iface[0] || !have_ip) {
        fprintf(stderr, "lzr-worker: --coordinator, --iface and --scan-ip are required\n");
        usage(stderr);
        return 2;
    }
    if (!o->keys_dir && !o->insecure) {
        fprintf(stderr, "lzr-worker: --keys DIR is required (from `lzr-coord keygen DIR NAME`), "
                        "or --insecure against a coordinator without CURVE\n");
        return 2;
    }
    if (!o->name[0] && gethostname(o->name, sizeof o->name - 1) != 0)
        snprintf(o->name, sizeof o->name, "worker");
    const char *bl = optout_path(o->blocklist_file, !o->no_default_blocklist);
    targets_t *set = NULL;
    targets6_t *set6 = NULL;
    size_t entries = 0;
    char err[512];
    if (optout_load(bl, &set, &set6, &entries, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker: blocklist: %s\n", err);
        return 2;
    }
    targets_destroy(&set);
    targets6_destroy(&set6);
    if (bl)
        fprintf(stderr, "lzr-worker: blocklist %s: %zu entries, applied to every shard\n", bl,
                entries);
    return 0;
}

int agent_parse_args(int argc, char **argv, agent_options_t *opt)
{
    static const struct option opts[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"iface", required_argument, NULL, 'i'},
        {"scan-ip", required_argument, NULL, 's'},
        {"fresh-ip", required_argument, NULL, 'f'},
        {"scan-ip6", required_argument, NULL, 's' + 256},
        {"fresh-ip6", required_argument, NULL, 'f' + 256},
        {"keys", required_argument, NULL, 'k'},
        {"insecure", no_argument, NULL, 'I'},
        {"name", required_argument, NULL, 'n'},
        {"source-ports", required_argument, NULL, 'P'},
        {"gateway-mac", required_argument, NULL, 'g'},
        {"manage-firewall", no_argument, NULL, 'F'},
        {"log-level", required_argument, NULL, 'L'},
        {"tx-ring", no_argument, NULL, 'X'},
        {"xdp", no_argument, NULL, 'X' + 256},
        {"send-threads", required_argument, NULL, 'T'},
        {"max-drains", required_argument, NULL, 'D'},
        {"blocklist-file", required_argument, NULL, 'b'},
        {"no-default-blocklist", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* getopt wants a program name in argv[0]; ours starts with the first option. */
    char *args[256];
    int n = 0;
    args[n++] = "lzr-worker";
    for (int i = 0; i < argc && n < 255; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    bool have_ip = false;
    optind = 1;
    int o;
    while ((o = getopt_long(n, args, "", opts, NULL)) != -1) {
        int rc = apply_option(opt, o, optarg, &have_ip);
        if (rc)
            return rc;
    }
    if (optind < n) {
        fprintf(stderr, "lzr-worker: unexpected argument \"%s\"\n", args[optind]);
        return 2;
    }
    return check_options(opt, have_ip);
}

/* Opens, and closes again, the sender of each SYN walker a shard will run: a send path the host
 * cannot give (an AF_XDP queue the interface lacks, say) stops the worker before it joins
 * rather than failing every shard it is assigned. */
static int check_senders(const agent_options_t *o, char *err, size_t errlen)
{
    int ifindex = netif_index(o->iface, err, errlen);
    if (ifindex < 0)
        return ifindex;
    uint32_t n = o->send_threads > 1 ? o->send_threads : 1;
    for (uint32_t k = 0; k < n; k++) {
        sender_t *s = sender_open(o->send_path, ifindex, k, err, errlen);
        if (!s)
            return LZR_ESYS;
        sender_destroy(&s);
    }
    return LZR_OK;
}

/* MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read. */
static uint64_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[128];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f) && sscanf(line, "MemAvailable: %llu kB", &kib) != 1)
        kib = 0;
    fclose(f);
    return (uint64_t)kib * 1024;
}

/* --max-drains, or its default from the memory the host has available; logged. */
static void choose_drains(agent_options_t *o)
{
    uint64_t avail = mem_available();
    const char *why = "--max-drains";
    if (!o->max_drains) {
        o->max_drains = avail ? agent_drains_for_memory(avail) : LZR_MAX_DRAINS;
        why = avail ? "a quarter of the memory available" : "the most (MemAvailable unread)";
    }
    log_info("up to %u shard%s finish their connections beside the one walking (%s; each run "
             "holds a %d MiB capture ring, %llu MiB available)",
             o->max_drains, o->max_drains == 1 ? "" : "s", why, CAPTURE_RING_BYTES >> 20,
             (unsigned long long)(avail >> 20));
}

/* The firewall self-test, the senders and the capture handle every shard shares; 0, or 1
 * (logged). */
static int prepare_host(agent_options_t *o)
{
    char err[512];
    engine_config_t pre;
    memset(&pre, 0, sizeof pre);
    snprintf(pre.iface, sizeof pre.iface, "%s", o->iface);
    pre.source_ip = o->scan_ip;
    pre.source_ip6 = o->scan_ip6;
    pre.sport_lo = o->sport_lo;
    pre.sport_hi = o->sport_hi;
    firewall_proof_t proof;
    if (engine_preflight(&pre, &proof, err, sizeof err) != LZR_OK) {
        log_error("refusing to start: %s", err);
        return 1;
    }
    log_info("firewall self-test passed in %.1f ms (%s); not repeated per shard",
             (double)proof.elapsed_us / 1e3,
             proof.control_answered ? "the control port's RST came, the probe's did not"
                                    : "no RST at all, judged by silence");
    if (check_senders(o, err, sizeof err) != LZR_OK) {
        log_error("refusing to start: %s", err);
        return 1;
    }
    log_info("each shard's SYN walk sends through %s, on %u thread%s", send_path_name(o->send_path),
             o->send_threads > 1 ? o->send_threads : 1, o->send_threads > 1 ? "s" : "");
    choose_drains(o);
    /* The capture ring is the costly part of an engine's start: open it once for all shards. */
    o->capture =
        capture_open(o->iface, o->scan_ip, o->scan_ip6.family == ADDR_IPV6 ? &o->scan_ip6 : NULL,
                     o->sport_lo, o->sport_hi, err, sizeof err);
    if (!o->capture) {
        log_error("refusing to start: %s", err);
        return 1;
    }
    return 0;
}

int agent_main(int argc, char **argv)
{
    agent_options_t opt;
    agent_options_init(&opt);
    int rc = agent_parse_args(argc, argv, &opt);
    if (rc)
        return rc < 0 ? 0 : rc;
    log_level_t lvl;
    if (log_level_parse(opt.log_level, &lvl) != LZR_OK) {
        fprintf(stderr, "lzr-worker: --log-level: \"%s\" is not error, warn, info or debug\n",
                opt.log_level);
        return 2;
    }
    log_init("lzr-worker", lvl, false);
    char err[512] = "";
    if (opt.manage_fw &&
        firewall_install(opt.scan_ip, opt.scan_ip6.family == ADDR_IPV6 ? &opt.scan_ip6 : NULL,
                         opt.sport_lo, opt.sport_hi, err, sizeof err) != LZR_OK) {
        log_error("--manage-firewall: %s", err);
        return 1;
    }
    rc = prepare_host(&opt);
    if (rc == 0) {
        zsys_handler_set(NULL);
        if (agent_run(&opt, stopsig_flag(), err, sizeof err) != LZR_OK) {
            log_error("%s", err);
            rc = 1;
        }
    }
    capture_close(&opt.capture);
    if (opt.manage_fw)
        firewall_remove();
    return rc;
}
