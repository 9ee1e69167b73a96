/*
 * metadata: writes the scan's description with stdio; strings go through the records' JSON
 * escaping (record_json_string), so any command-line text stays valid JSON.
 */
#include "worker/metadata.h"

#include "common/err.h"
#include "common/record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void metadata_count_protocol(metadata_protocols_t *p, const char *name)
{
    if (!name[0])
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->names[i], name) == 0) {
            p->counts[i]++;
            return;
        }
    }
    if (p->n == METADATA_PROTOCOLS) {
        p->other++;
        return;
    }
    snprintf(p->names[p->n], sizeof p->names[0], "%s", name);
    p->counts[p->n++] = 1;
}

static void put_string(FILE *f, const char *s)
{
    char buf[2048];
    if (!s) {
        fputs("null", f);
        return;
    }
    if (record_json_string(s, buf, sizeof buf))
        fputs(buf, f);
    else
        fputs("\"(too long)\"", f);
}

static void put_key(FILE *f, const char *key, bool first)
{
    fprintf(f, "%s\n  \"%s\": ", first ? "" : ",", key);
}

static void put_count(FILE *f, const char *key, uint64_t v)
{
    put_key(f, key, false);
    fprintf(f, "%llu", (unsigned long long)v);
}

static void put_names(FILE *f, const handshake_t *const *h, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        put_string(f, h[i]->name);
    }
    fputc(']', f);
}

int metadata_write(const char *path, const scan_meta_t *m, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LZR_EIO;
    }
    const engine_config_t *c = m->cfg;
    const engine_stats_t *s = m->stats;
    char ip[16], t[64];
    fputc('{', f);
    put_key(f, "version", true);
    put_string(f, LZR_WORKER_VERSION);
    put_key(f, "command", false);
    fputs("[\"lzr-worker\"", f);
    for (int i = 0; i < m->argc; i++) {
        fputc(',', f);
        put_string(f, m->argv[i]);
    }
    fputc(']', f);
    put_key(f, "config", false);
    fputs("{\"iface\":", f);
    put_string(f, c->iface);
    fprintf(f, ",\"source_ip\":\"%s\",\"addresses\":", targets_ntoa(c->source_ip, ip));
    if (c->input) /* a list: how many it held is in the counters (targets_done) */
        fputs("null", f);
    else
        fprintf(f, "%llu", (unsigned long long)targets_count(c->targets));
    fputs(",\"ports\":", f);
    put_string(f, m->ports);
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
    put_string(f, m->blocklist_file);
    fputs(",\"allowlist_file\":", f);
    put_string(f, m->allowlist_file);
    fputs(",\"input_file\":", f);
    put_string(f, m->input_file);
    fputc('}', f);
    /* A string: a 64-bit seed does not survive JSON readers that use doubles. */
    put_key(f, "seed", false);
    fprintf(f, "\"%llu\"", (unsigned long long)m->seed);
    put_key(f, "start", false);
    fputs(record_json_time(m->start_us, t, sizeof t) ? t : "null", f);
    put_key(f, "end", false);
    fputs(record_json_time(m->end_us, t, sizeof t) ? t : "null", f);
    put_key(f, "seconds", false);
    fprintf(f, "%.3f", m->seconds);
    put_key(f, "interrupted", false);
    fputs(m->interrupted ? "true" : "false", f);
    put_count(f, "probes_sent", s->syns);
    put_key(f, "rate_achieved", false);
    fprintf(f, "%.1f", m->seconds > 0 ? (double)s->syns / m->seconds : 0.0);
    put_count(f, "frames_sent", s->sent);
    put_count(f, "replies", s->replies);
    put_count(f, "invalid", s->invalid);
    put_count(f, "late", s->late);
    put_count(f, "pcap_drops", s->pcap_drops);
    put_count(f, "blocklisted", s->blocked);
    put_key(f, "classes", false);
    fputc('{', f);
    for (int k = 0, n = 0; k < CLASS_COUNT; k++) {
        if (s->per_class[k])
            fprintf(f, "%s\"%s\":%llu", n++ ? "," : "", record_class_name((lzr_class_t)k),
                    (unsigned long long)s->per_class[k]);
    }
    fputc('}', f);
    put_key(f, "protocols", false);
    fputc('{', f);
    for (size_t i = 0; i < m->protocols->n; i++) {
        if (i)
            fputc(',', f);
        put_string(f, m->protocols->names[i]);
        fprintf(f, ":%llu", (unsigned long long)m->protocols->counts[i]);
    }
    if (m->protocols->other)
        fprintf(f, "%s\"(other)\":%llu", m->protocols->n ? "," : "",
                (unsigned long long)m->protocols->other);
    fputs("}\n}\n", f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write error", path);
        return LZR_EIO;
    }
    return LZR_OK;
}
