/*
 * metajson: strings go through the records' JSON escaping (record_json_string), so any text —
 * a command line, a job name — stays valid JSON.
 */
#include "common/metajson.h"

#include <string.h>

void metajson_add_protocol(metajson_protocols_t *p, const char *name, uint64_t n)
{
    if (!name || !name[0])
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->names[i], name) == 0) {
            p->counts[i] += n;
            return;
        }
    }
    if (p->n == METAJSON_PROTOCOLS) {
        p->other += n;
        return;
    }
    snprintf(p->names[p->n], sizeof p->names[0], "%s", name);
    p->counts[p->n++] = n;
}

void metajson_string(FILE *f, const char *s)
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

void metajson_key(FILE *f, const char *key, bool first)
{
    fprintf(f, "%s\n  \"%s\": ", first ? "" : ",", key);
}

void metajson_count(FILE *f, const char *key, uint64_t v)
{
    metajson_key(f, key, false);
    fprintf(f, "%llu", (unsigned long long)v);
}

static void put_time(FILE *f, const char *key, uint64_t us)
{
    char t[64];
    metajson_key(f, key, false);
    fputs(us && record_json_time(us, t, sizeof t) ? t : "null", f);
}

void metajson_counts(FILE *f, const metajson_counts_t *m)
{
    /* A string: a 64-bit seed does not survive JSON readers that use doubles. */
    metajson_key(f, "seed", false);
    fprintf(f, "\"%llu\"", (unsigned long long)m->seed);
    put_time(f, "start", m->start_us);
    put_time(f, "end", m->end_us);
    metajson_key(f, "seconds", false);
    fprintf(f, "%.3f", m->seconds);
    metajson_count(f, "probes_sent", m->probes);
    metajson_key(f, "rate_achieved", false);
    fprintf(f, "%.1f", m->seconds > 0 ? (double)m->probes / m->seconds : 0.0);
    metajson_count(f, "frames_sent", m->frames);
    metajson_count(f, "replies", m->replies);
    metajson_count(f, "pcap_drops", m->pcap_drops);
    metajson_count(f, "blocklisted", m->blocked);
    metajson_key(f, "classes", false);
    fputc('{', f);
    for (int k = 0, n = 0; k < CLASS_COUNT; k++) {
        if (m->per_class[k])
            fprintf(f, "%s\"%s\":%llu", n++ ? "," : "", record_class_name((lzr_class_t)k),
                    (unsigned long long)m->per_class[k]);
    }
    fputc('}', f);
    metajson_key(f, "protocols", false);
    fputc('{', f);
    const metajson_protocols_t *p = m->protocols;
    for (size_t i = 0; p && i < p->n; i++) {
        if (i)
            fputc(',', f);
        metajson_string(f, p->names[i]);
        fprintf(f, ":%llu", (unsigned long long)p->counts[i]);
    }
    if (p && p->other)
        fprintf(f, "%s\"(other)\":%llu", p->n ? "," : "", (unsigned long long)p->other);
    fputc('}', f);
}
