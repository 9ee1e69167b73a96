/*
 * jobjson: the configuration comes from the stored job file, parsed again (job_parse) so it
 * holds the defaults the coordinator applied; the counts from the store's tally.
 */
#include "coordinator/jobjson.h"

#include "common/clock.h"
#include "common/err.h"
#include "coordinator/job.h"

#include <string.h>

static void put_list(FILE *f, const char *key, char *const *list, size_t n)
{
    fprintf(f, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        metajson_string(f, list[i]);
    }
    fputc(']', f);
}

/* A handshake list as an array of names, as the worker's --metadata writes it. */
static void put_names(FILE *f, const char *key, const scan_names_t *names)
{
    fprintf(f, ",\"%s\":[", key);
    for (size_t i = 0; i < names->n; i++) {
        if (i)
            fputc(',', f);
        metajson_string(f, names->v[i]);
    }
    fputc(']', f);
}

/* The job's configuration, as one object. */
static void put_config(FILE *f, const store_job_t *row, const job_spec_t *j)
{
    fputs("{\"file\":", f);
    metajson_string(f, row->filename);
    put_list(f, "targets", j->targets, j->n_targets);
    put_list(f, "exclude", j->exclude, j->n_exclude);
    put_list(f, "allow_reserved", j->allow_reserved, j->n_allow_reserved);
    fputs(",\"blocklist_file\":", f);
    metajson_string(f, j->blocklist_file[0] ? j->blocklist_file : NULL);
    fputs(",\"allowlist_file\":", f);
    metajson_string(f, j->allowlist_file[0] ? j->allowlist_file : NULL);
    fprintf(f, ",\"addresses\":%llu,\"ports\":", (unsigned long long)job_addresses(j));
    metajson_string(f, j->ports_text);
    put_names(f, "handshakes", &j->handshakes);
    put_names(f, "fallback", &j->fallback);
    fputs(",\"max_targets\":", f);
    metajson_string(f, j->max_targets[0] ? j->max_targets : NULL);
    fprintf(f,
            ",\"size\":%llu,\"targets_total\":%llu,\"rate\":%u,\"timeout_ms\":%u,"
            "\"retransmit_ms\":%u,\"cooldown_ms\":%u,\"acking_firewall_probes\":%u,"
            "\"max_runtime_s\":%u,\"report_all\":%s,\"shards\":%u,\"min_workers\":%u,"
            "\"verify\":%s,\"compare\":%u}",
            (unsigned long long)j->size, (unsigned long long)j->probes, j->rate, j->timeout_ms,
            j->retransmit_ms, j->cooldown_ms, j->acking_firewall_probes, j->max_runtime_s,
            j->report_all ? "true" : "false", row->n_shards, j->min_workers,
            j->verify ? "true" : "false", row->passes);
}

/* The document's opening: the version, the job's state, its reason and its shards per state;
 * LZR_EDB, with nothing written, when a count cannot be read (no made-up zero). */
static int put_job(FILE *f, store_t *s, const store_job_t *row, const char *version)
{
    uint32_t pending = 0, leased = 0, done = 0, dropped = 0;
    uint64_t results = 0;
    char reason[512];
    if (store_shards_dropped(s, row->id, &dropped) != LZR_OK ||
        store_shard_counts(s, row->id, &pending, &leased, &done) != LZR_OK ||
        store_result_count(s, row->id, &results) != LZR_OK)
        return LZR_EDB;
    store_job_reason(s, row->id, reason, sizeof reason);
    fputc('{', f);
    metajson_key(f, "version", true);
    metajson_string(f, version);
    metajson_count(f, "job_id", row->id);
    metajson_key(f, "name", false);
    metajson_string(f, row->name);
    metajson_key(f, "state", false);
    metajson_string(f, row->state);
    metajson_key(f, "reason", false);
    metajson_string(f, reason);
    metajson_key(f, "shards", false);
    fprintf(f, "{\"total\":%u,\"done\":%u,\"leased\":%u,\"pending\":%u,\"dropped\":%u}",
            row->n_shards * row->passes, done - dropped, leased, pending, dropped);
    metajson_count(f, "results", results);
    return LZR_OK;
}

int jobjson_write(FILE *f, store_t *s, uint64_t id, const char *version, char *err, size_t errlen)
{
    store_job_t row;
    int rc = store_job_get(s, id, &row);
    if (rc != LZR_OK) {
        snprintf(err, errlen, "job %llu: %s", (unsigned long long)id,
                 rc == LZR_ENOTFOUND ? "no such job" : store_errmsg(s));
        return rc;
    }
    job_spec_t *j = job_parse(row.toml, strlen(row.toml), row.filename, err, errlen);
    if (!j) {
        store_job_clear(&row);
        return LZR_EPARSE;
    }
    metajson_protocols_t protocols = {0};
    metajson_counts_t m = {.seed = row.seed, .start_us = row.started_us, .end_us = row.finished_us};
    rc = store_job_tally(s, id, &m, &protocols);
    if (rc == LZR_OK) {
        uint64_t end = m.end_us ? m.end_us : clock_wall_us();
        m.seconds = m.start_us && end > m.start_us ? (double)(end - m.start_us) / 1e6 : 0;
        rc = put_job(f, s, &row, version);
    }
    if (rc == LZR_OK) {
        metajson_key(f, "config", false);
        put_config(f, &row, j);
        metajson_counts(f, &m);
        fputs("\n}\n", f);
    } else {
        snprintf(err, errlen, "job %llu: %s", (unsigned long long)id, store_errmsg(s));
    }
    job_destroy(&j);
    store_job_clear(&row);
    return rc;
}
