/*
 * verify_cli: parses the targets ("IP:PORT" items or lines), runs verify_run, and prints one
 * JSON line per target with its verdict and every answer behind it.
 */
#include "worker/verify_cli.h"

#include "common/err.h"
#include "common/targets.h"
#include "worker/verify.h"

#include <arpa/inet.h>
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

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1)
        return LZR_EPARSE;
    *out = ntohl(in.s_addr);
    return LZR_OK;
}

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
        if (parse_ip(item, &ip) != LZR_OK) {
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

int verify_main(int argc, char **argv)
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
    uint32_t ip[3] = {0}, timeout_ms = 2000;
    bool have[3] = {false};
    const char *output = "-";
    char err[512];
    int rc = 2;
    target_list_t l = {calloc(VERIFY_MAX_TARGETS, sizeof(verify_target_t)), 0};
    verify_evidence_t *ev = NULL;
    FILE *out = NULL;
    if (!l.v) {
        fprintf(stderr, "lzr-worker verify: out of memory\n");
        return 1;
    }
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = c == 's' ? 0 : c == 'f' ? 1 : c == 't' ? 2 : -1;
        if (k >= 0) {
            if (parse_ip(optarg, &ip[k]) != LZR_OK) {
                fprintf(stderr, "lzr-worker verify: \"%s\" is not an IPv4 address\n", optarg);
                goto done;
            }
            have[k] = true;
            continue;
        }
        switch (c) {
        case 'T':
            if (add_targets(&l, optarg, err, sizeof err) != LZR_OK) {
                fprintf(stderr, "lzr-worker verify: --targets: %s\n", err);
                goto done;
            }
            break;
        case 'F': {
            FILE *f = fopen(optarg, "r");
            char line[256];
            int lineno = 0;
            if (!f) {
                fprintf(stderr, "lzr-worker verify: %s: %s\n", optarg, strerror(errno));
                goto done;
            }
            while (fgets(line, sizeof line, f)) {
                lineno++;
                char *hash = strchr(line, '#');
                if (hash)
                    *hash = '\0';
                if (add_targets(&l, line, err, sizeof err) != LZR_OK) {
                    fprintf(stderr, "lzr-worker verify: %s:%d: %s\n", optarg, lineno, err);
                    fclose(f);
                    goto done;
                }
            }
            fclose(f);
            break;
        }
        case 'w': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v == 0 || v > 60000) {
                fprintf(stderr, "lzr-worker verify: --timeout-ms: \"%s\" is not 1-60000\n", optarg);
                goto done;
            }
            timeout_ms = (uint32_t)v;
            break;
        }
        case 'o':
            output = optarg;
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
    if (!have[0] || !have[1] || !have[2] || l.n == 0) {
        fprintf(stderr, "lzr-worker verify: --scan-ip, --fresh-ip, --trigger-ip and targets "
                        "are required\n");
        usage(stderr);
        goto done;
    }
    if (ip[0] == ip[1] || ip[0] == ip[2] || ip[1] == ip[2]) {
        fprintf(stderr, "lzr-worker verify: the scan, fresh and trigger IPs must differ\n");
        goto done;
    }
    ev = calloc(l.n, sizeof *ev);
    out = strcmp(output, "-") ? fopen(output, "w") : stdout;
    if (!ev || !out) {
        fprintf(stderr, "lzr-worker verify: %s: %s\n", output, strerror(errno));
        rc = 1;
        goto done;
    }
    if (verify_run(ip[0], ip[1], ip[2], l.v, l.n, timeout_ms, ev, err, sizeof err) != LZR_OK) {
        fprintf(stderr, "lzr-worker verify: %s\n", err);
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        char a[16], answers[256];
        verdict_answers_json(&ev[i], l.v[i].random_port, answers, sizeof answers);
        fprintf(out, "{\"ip\":\"%s\",\"port\":%u,\"verdict\":\"%s\",%s}\n",
                targets_ntoa(l.v[i].ip, a), l.v[i].port, verdict_name(verdict_decide(&ev[i])),
                answers);
    }
    rc = 0;
done:
    if (out && out != stdout)
        fclose(out);
    free(ev);
    free(l.v);
    return rc;
}
