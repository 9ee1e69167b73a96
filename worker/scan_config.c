/*
 * scan_config: scan spec + vantage → engine_config_t (see scan_config.h). The handshake names
 * are resolved here because the registry is the worker's; every bound was checked by
 * scan_spec_validate before.
 */
#include "worker/scan_config.h"

#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resolves one list of names into out; the message names the setting. */
static int resolve(const scan_names_t *names, scan_field_t f, scan_naming_t naming,
                   const handshake_t **out, size_t max, size_t *n, char *err, size_t errlen)
{
    char sub[256];
    int rc = handshake_list_resolve(names, out, max, sub, sizeof sub);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", scan_field_name(f, naming), sub);
        return rc;
    }
    *n = (size_t)rc;
    return LZR_OK;
}

int scan_config_build(const scan_spec_t *spec, const scan_vantage_t *v, scan_naming_t naming,
                      engine_config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->iface, v->iface, sizeof cfg->iface);
    cfg->source_ip = v->source_ip;
    cfg->source_ip6 = v->source_ip6;
    memcpy(cfg->gateway_mac, v->gateway_mac, sizeof cfg->gateway_mac);
    cfg->have_gateway_mac = v->have_gateway_mac;
    cfg->send_path = v->send_path;
    cfg->send_threads = v->send_threads;
    cfg->sport_lo = v->sport_lo;
    cfg->sport_hi = v->sport_hi;
    int rc = resolve(&spec->handshakes, SCAN_FIELD_HANDSHAKES, naming, cfg->handshakes,
                     HANDSHAKE_MAX_LIST, &cfg->n_handshakes, err, errlen);
    if (rc == LZR_OK)
        rc = resolve(&spec->fallback, SCAN_FIELD_FALLBACK, naming, cfg->fallback,
                     HANDSHAKE_MAX_FALLBACK, &cfg->n_fallback, err, errlen);
    if (rc != LZR_OK)
        return rc;
    cfg->targets = spec->targets;
    cfg->targets6 = spec->n_allow6 ? spec->targets6 : NULL;
    cfg->ports = &spec->ports;
    cfg->rate = spec->rate;
    cfg->timeout_ms = spec->timeout_ms;
    cfg->retransmit_ms = spec->retransmit_ms;
    cfg->acking_firewall_probes = spec->acking_firewall_probes;
    cfg->cooldown_ms = spec->cooldown_ms;
    cfg->max_probes = spec->max_probes;
    cfg->max_runtime_ms = spec->max_runtime_ms;
    cfg->report_all = spec->report_all;
    cfg->discovery_only = spec->discovery_only;
    cfg->pairs = spec->pairs;
    cfg->n_pairs = spec->n_pairs;
    return LZR_OK;
}

int scan_count_option(const char *prog, const char *option, const char *arg, uint32_t lo,
                      uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(arg, &end, 10);
    if (errno || *end || end == arg || *arg == '-') {
        fprintf(stderr, "%s: --%s: \"%s\" is not a number\n", prog, option, arg);
        return -1;
    }
    if (n < lo || n > hi) {
        fprintf(stderr, "%s: --%s: %lu is out of range (%u-%u)\n", prog, option, n, lo, hi);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

int scan_send_option(const char *prog, const char *option, const char *arg, send_path_t *path,
                     uint32_t *threads)
{
    if (strcmp(option, "send-threads") == 0)
        return scan_count_option(prog, option, arg, 1, SCAN_MAX_SEND_THREADS, threads);
    if (*path != SEND_MMSG) {
        fprintf(stderr, "%s: --tx-ring and --xdp: choose one\n", prog);
        return -1;
    }
    *path = strcmp(option, "xdp") == 0 ? SEND_XSK : SEND_TX_RING;
    return 0;
}
