/*
 * verify_cli: parses the targets ("IP:PORT" items or lines), runs verify_run, and prints one
 * JSON line per target with its verdict and every answer behind it.
 */
#include "worker/verify_cli.h"

#include "common/addr.h"
#include "common/err.h"
#include "common/targets.h"
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
        char *colon = strrchr(item, ':'), *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || *end || port < 1 || port > 65535) {
            snprintf(err, errlen, "\"%s\" is not IP:PORT", item);
            rc = LZR_EPARSE;
            break;
        }
        *colon = '\0';
        uint32_t ip;
        if (addr_parse_ipv4(item, &ip) != LZR_OK) {
            snprintf(err, errlen, "\"%s\" is not an IPv4 address", item);
            rc = LZR_EPARSE;
            break;
        }
        if (l->n == VERIFY_MAX_TARGETS) {
            snprintf(err, errlen, "more than %d targets", VERIFY_MAX_TARGETS);
            rc = LZR_ERANGE;
            break;
        }
        l->v[l->n++] = (verify_target_t){.ip = ip, .port = (uint16_t)port};
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
               "target with its verdict (docs/verification.md).\n");
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
    uint32_t ip[3]; /* scan, fresh, trigger */
    bool have[3];
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
            if (addr_parse_ipv4(optarg, &o->ip[k]) != LZR_OK) {
                fprintf(stderr, "lzr-worker verify: \"%s\" is not an IPv4 address\n", optarg);
                return 2;
            }
            o->have[k] = true;
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

/* The checks across options: three distinct IPs and at least one target. */
static int check_options(const verify_opts_t *o)
{
    if (!o->have[0] || !o->have[1] || !o->have[2] || o->l.n == 0) {
        fprintf(stderr, "lzr-worker verify: --scan-ip, --fresh-ip, --trigger-ip and targets "
                        "are required\n");
        usage(stderr);
        return 2;
    }
    if (o->ip[0] == o->ip[1] || o->ip[0] == o->ip[2] || o->ip[1] == o->ip[2]) {
        fprintf(stderr, "lzr-worker verify: the scan, fresh and trigger IPs must differ\n");
        return 2;
    }
    return -1;
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
    if (verify_run(o.ip[0], o.ip[1], o.ip[2], o.l.v, o.l.n, o.timeout_ms, ev, err, sizeof err) !=
        LZR_OK) {
        fprintf(stderr, "lzr-worker verify: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < o.l.n; i++) {
        char a[16], answers[256];
        verdict_answers_json(&ev[i], o.l.v[i].random_port, answers, sizeof answers);
        fprintf(out, "{\"ip\":\"%s\",\"port\":%u,\"verdict\":\"%s\",%s}\n",
                targets_ntoa(o.l.v[i].ip, a), o.l.v[i].port, verdict_name(verdict_decide(&ev[i])),
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
