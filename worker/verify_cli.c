/*
 * verify_cli: parses the targets ("IP:PORT" or "[IPv6]:PORT" items or lines), runs verify_run
 * once per family with that family's scan, fresh and trigger IPs, and prints one JSON line per
 * target, in the order given, with its verdict and every answer behind it.
 */
#include "worker/verify_cli.h"

#include "common/addr.h"
#include "common/err.h"
#include "common/input.h"
#include "worker/verify.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_TARGETS 65536

typedef struct target_list {
    verify_target_t *v;
    size_t n;
} target_list_t;

/* Adds the "IP:PORT" items of spec (separated by commas or whitespace). */
static int add_targets(target_list_t *l, const char *spec, char *err, size_t errlen)
{
    char *copy = strdup(spec), *save = NULL;
    int rc = copy ? LZR_OK : LZR_ENOMEM;
    for (char *item = copy ? strtok_r(copy, ", \t\r\n", &save) : NULL; item && rc == LZR_OK;
         item = strtok_r(NULL, ", \t\r\n", &save)) {
        input_format_t f = INPUT_FORMAT_INIT;
        input_target_t t;
        if (strchr(item, '{') || input_parse_line(&f, item, &t, err, errlen) != 1 || !t.has_port ||
            t.port == 0) {
            snprintf(err, errlen, "\"%s\" is not IP:PORT or [IPv6]:PORT", item);
            rc = LZR_EPARSE;
            break;
        }
        if (l->n == VERIFY_MAX_TARGETS) {
            snprintf(err, errlen, "more than %d targets", VERIFY_MAX_TARGETS);
            rc = LZR_ERANGE;
            break;
        }
        l->v[l->n++] = (verify_target_t){.ip = t.addr, .port = t.port};
    }
    free(copy);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lzr-worker verify --scan-ip IP --fresh-ip IP --trigger-ip IP\n"
               "         (--targets IP:PORT[,IP:PORT...] | --targets-file F)\n"
               "         [--timeout-ms 2000] [--output FILE|-]\n"
               "Re-probes hosts that stopped answering the scan IP from the scan IP and a fresh\n"
               "IP at once, runs the trigger test from a third IP, and prints one JSON line per\n"
               "target with its verdict (docs/verification.md). IPv6 targets are [IPv6]:PORT;\n"
               "give each of the three IP options once per family the targets hold.\n");
}

/* Adds the targets of a file: "IP:PORT" items, any number a line, '#' starts a comment. */
static int add_targets_file(target_list_t *l, const char *path)
{
    char line[256], err[512];
    int lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "lzr-worker verify: %s: %s\n", path, strerror(errno));
        return LZR_EIO;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        if (add_targets(l, line, err, sizeof err) != LZR_OK) {
            fprintf(stderr, "lzr-worker verify: %s:%d: %s\n", path, lineno, err);
            fclose(f);
            return LZR_EPARSE;
        }
    }
    fclose(f);
    return LZR_OK;
}

typedef struct verify_opts {
    lzr_addr_t ip[2][3]; /* [IPv4, IPv6][scan, fresh, trigger]; ADDR_NONE: not given */
    uint32_t timeout_ms;
    const char *output;
    target_list_t l;
} verify_opts_t;

/* Reads the command line into o. Returns -1 when the run goes on, else the exit code (0 after
 * --help, 2 for a bad option, with the message printed). */
static int parse_options(int argc, char **argv, verify_opts_t *o)
{
    static const struct option opts[] = {
        {"scan-ip", required_argument, 0, 's'},
        {"fresh-ip", required_argument, 0, 'f'},
        {"trigger-ip", required_argument, 0, 't'},
        {"targets", required_argument, 0, 'T'},
        {"targets-file", required_argument, 0, 'F'},
        {"timeout-ms", required_argument, 0, 'w'},
        {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    char err[512];
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = c == 's' ? 0 : c == 'f' ? 1 : c == 't' ? 2 : -1;
        if (k >= 0) {
            lzr_addr_t a;
            if (addr_parse(optarg, &a) != LZR_OK) {
                fprintf(stderr, "lzr-worker verify: \"%s\" is not an IP address\n", optarg);
                return 2;
            }
            lzr_addr_t *slot = &o->ip[a.family == ADDR_IPV6][k];
            if (slot->family) {
                fprintf(stderr, "lzr-worker verify: --%s given twice for IPv%d\n", opts[k].name,
                        a.family);
                return 2;
            }
            *slot = a;
            continue;
        }
        switch (c) {
        case 'T':
            if (add_targets(&o->l, optarg, err, sizeof err) != LZR_OK) {
                fprintf(stderr, "lzr-worker verify: --targets: %s\n", err);
                return 2;
            }
            break;
        case 'F':
            if (add_targets_file(&o->l, optarg) != LZR_OK)
                return 2;
            break;
        case 'w': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v == 0 || v > 60000) {
                fprintf(stderr, "lzr-worker verify: --timeout-ms: \"%s\" is not 1-60000\n", optarg);
                return 2;
            }
            o->timeout_ms = (uint32_t)v;
            break;
        }
        case 'o':
            o->output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* The checks across options: at least one target, and for each family of the targets three
 * distinct IPs of that family. */
static int check_options(const verify_opts_t *o)
{
    bool has[2] = {false, false};
    for (size_t i = 0; i < o->l.n; i++)
        has[o->l.v[i].ip.family == ADDR_IPV6] = true;
    if (o->l.n == 0) {
        fprintf(stderr, "lzr-worker verify: --scan-ip, --fresh-ip, --trigger-ip and targets "
                        "are required\n");
        usage(stderr);
        return 2;
    }
    for (int f = 0; f < 2; f++) {
        const lzr_addr_t *ip = o->ip[f];
        if (!has[f])
            continue;
        if (!ip[0].family || !ip[1].family || !ip[2].family) {
            fprintf(stderr,
                    "lzr-worker verify: IPv%d targets need --scan-ip, --fresh-ip and "
                    "--trigger-ip of IPv%d\n",
                    f ? 6 : 4, f ? 6 : 4);
            return 2;
        }
        if (addr_equal(&ip[0], &ip[1]) || addr_equal(&ip[0], &ip[2]) ||
            addr_equal(&ip[1], &ip[2])) {
            fprintf(stderr, "lzr-worker verify: the scan, fresh and trigger IPs must differ\n");
            return 2;
        }
    }
    return -1;
}

/* verify_run over the targets of one family (f: 0 IPv4, 1 IPv6), each in place in o's list. */
static int verify_family(verify_opts_t *o, int f, verify_evidence_t *ev, char *err, size_t errlen)
{
    size_t m = 0;
    verify_target_t *t = calloc(o->l.n, sizeof *t);
    verify_evidence_t *e = calloc(o->l.n, sizeof *e);
    int rc = t && e ? LZR_OK : LZR_ENOMEM;
    for (size_t i = 0; i < o->l.n && rc == LZR_OK; i++)
        if ((o->l.v[i].ip.family == ADDR_IPV6) == f)
            t[m++] = o->l.v[i];
    if (rc == LZR_OK && m)
        rc = verify_run(&o->ip[f][0], &o->ip[f][1], &o->ip[f][2], t, m, o->timeout_ms, e, err,
                        errlen);
    for (size_t i = 0, k = 0; i < o->l.n && rc == LZR_OK && m; i++) {
        if ((o->l.v[i].ip.family == ADDR_IPV6) != f)
            continue;
        o->l.v[i] = t[k];
        ev[i] = e[k++];
    }
    if (!t || !e)
        snprintf(err, errlen, "out of memory");
    free(t);
    free(e);
    return rc;
}

int verify_main(int argc, char **argv)
{
    verify_opts_t o = {.timeout_ms = 2000,
                       .output = "-",
                       .l = {calloc(VERIFY_MAX_TARGETS, sizeof(verify_target_t)), 0}};
    verify_evidence_t *ev = NULL;
    FILE *out = NULL;
    char err[512];
    if (!o.l.v) {
        fprintf(stderr, "lzr-worker verify: out of memory\n");
        return 1;
    }
    int rc = parse_options(argc, argv, &o);
    if (rc < 0)
        rc = check_options(&o);
    if (rc >= 0)
        goto done;
    rc = 1;
    ev = calloc(o.l.n, sizeof *ev);
    out = strcmp(o.output, "-") ? fopen(o.output, "w") : stdout;
    if (!ev || !out) {
        fprintf(stderr, "lzr-worker verify: %s: %s\n", o.output, strerror(errno));
        goto done;
    }
    for (int f = 0; f < 2; f++) {
        if (verify_family(&o, f, ev, err, sizeof err) != LZR_OK) {
            fprintf(stderr, "lzr-worker verify: %s\n", err);
            goto done;
        }
    }
    for (size_t i = 0; i < o.l.n; i++) {
        char a[ADDR_TEXT_MAX], answers[256];
        verdict_answers_json(&ev[i], o.l.v[i].random_port, answers, sizeof answers);
        fprintf(out, "{\"ip\":\"%s\",\"port\":%u,\"verdict\":\"%s\",%s}\n",
                addr_format(&o.l.v[i].ip, a), o.l.v[i].port, verdict_name(verdict_decide(&ev[i])),
                answers);
    }
    rc = 0;
done:
    if (out && out != stdout)
        fclose(out);
    free(ev);
    free(o.l.v);
    return rc;
}
