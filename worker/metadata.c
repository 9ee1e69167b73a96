/*
 * metadata: writes the scan's description with stdio: the worker's own part (command line,
 * configuration) here, the counts through common/metajson.
 */
#include "worker/metadata.h"

#include "common/err.h"
#include "common/record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put_names(FILE *f, const handshake_t *const *h, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        metajson_string(f, h[i]->name);
    }
    fputc(']', f);
}

/* The configuration the scan resolved to, as one object. */
static void put_config(FILE *f, const scan_meta_t *m)
{
    const engine_config_t *c = m->cfg;
    char ip[16], ip6[ADDR_TEXT_MAX];
    fputs("{\"iface\":", f);
    metajson_string(f, c->iface);
    fprintf(f, ",\"source_ip\":\"%s\",\"source_ip6\":", targets_ntoa(c->source_ip, ip));
    metajson_string(f, c->source_ip6.family == ADDR_IPV6 ? addr_format(&c->source_ip6, ip6) : NULL);
    fputs(",\"addresses\":", f);
    if (c->input) /* a list: how many it held is in the counters (targets_done) */
        fputs("null", f);
    else /* both families: the walk's address space */
        fprintf(f, "%llu",
                (unsigned long long)(targets_count(c->targets) +
                                     (c->targets6 ? targets6_count(c->targets6) : 0)));
    fputs(",\"ports\":", f);
    metajson_string(f, m->ports);
    fputs(",\"handshakes\":", f);
    put_names(f, c->handshakes, c->n_handshakes);
    fputs(",\"fallback\":", f);
    put_names(f, c->fallback, c->n_fallback);
    fprintf(f,
            ",\"rate\":%u,\"timeout_ms\":%u,\"retransmit_ms\":%u,\"cooldown_ms\":%u,"
            "\"acking_firewall_probes\":%u,\"max_targets\":%llu,\"max_runtime_s\":%llu,"
            "\"source_ports\":\"%u-%u\",\"report_all\":%s,\"discovery_only\":%s,"
            "\"blocklist_file\":",
            c->rate, c->timeout_ms, c->retransmit_ms, c->cooldown_ms, c->acking_firewall_probes,
            (unsigned long long)c->max_probes, (unsigned long long)c->max_runtime_ms / 1000,
            c->sport_lo, c->sport_hi, c->report_all ? "true" : "false",
            c->discovery_only ? "true" : "false");
    metajson_string(f, m->blocklist_file);
    fputs(",\"allowlist_file\":", f);
    metajson_string(f, m->allowlist_file);
    fputs(",\"input_file\":", f);
    metajson_string(f, m->input_file);
    fputc('}', f);
}

int metadata_write(const char *path, const scan_meta_t *m, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LZR_EIO;
    }
    const engine_stats_t *s = m->stats;
    fputc('{', f);
    metajson_key(f, "version", true);
    metajson_string(f, LZR_WORKER_VERSION);
    metajson_key(f, "command", false);
    fputs("[\"lzr-worker\"", f);
    for (int i = 0; i < m->argc; i++) {
        fputc(',', f);
        metajson_string(f, m->argv[i]);
    }
    fputc(']', f);
    metajson_key(f, "config", false);
    put_config(f, m);
    metajson_key(f, "dry_run", false);
    fputs(m->dry_run ? "true" : "false", f);
    metajson_key(f, "interrupted", false);
    fputs(m->interrupted ? "true" : "false", f);
    metajson_count(f, "invalid", s->invalid);
    metajson_count(f, "late", s->late);
    metajson_counts_t counts = {.seed = m->seed,
                                .start_us = m->start_us,
                                .end_us = m->end_us,
                                .seconds = m->seconds,
                                .probes = s->syns,
                                .frames = s->sent,
                                .replies = s->replies,
                                .pcap_drops = s->pcap_drops,
                                .blocked = s->blocked,
                                .protocols = m->protocols};
    memcpy(counts.per_class, s->per_class, sizeof counts.per_class);
    metajson_counts(f, &counts);
    fputs("\n}\n", f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write error", path);
        return LZR_EIO;
    }
    return LZR_OK;
}
