/*
 * job: walks the TOML tree of a job file key by key, checks each value's type and range, and
 * builds the target set, port list and handshake list exactly as a worker will, so a file that
 * passes here cannot fail on a worker. Unknown keys are errors: a typo must not silently turn
 * into a default.
 */
#include "coordinator/job.h"

#include "common/err.h"
#include "common/input.h"
#include "common/pairs.h"
#include "common/toml.h"
#include "common/catalogue.h"
#include "common/targets6.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct ctx {
    const char *file;
    char *err;
    size_t errlen;
} ctx_t;

static int fail(const ctx_t *c, int line, const char *key, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(const ctx_t *c, int line, const char *key, int code, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->file, line, key, what);
    else
        snprintf(c->err, c->errlen, "%s: %s: %s", c->file, key, what);
    return code;
}

static int want_type(const ctx_t *c, const toml_value_t *v, const char *key, toml_type_t t)
{
    if (toml_type(v) != t)
        return fail(c, toml_line(v), key, LZR_EPARSE, "expected type %s, got %s", toml_type_name(t),
                    toml_type_name(toml_type(v)));
    return LZR_OK;
}

static int get_uint(const ctx_t *c, const toml_value_t *v, const char *key, int64_t lo, int64_t hi,
                    uint64_t *out)
{
    int rc = want_type(c, v, key, TOML_INT);
    if (rc)
        return rc;
    int64_t x = toml_int(v);
    if (x < lo || x > hi)
        return fail(c, toml_line(v), key, LZR_ERANGE, "%lld is out of range (%lld-%lld)",
                    (long long)x, (long long)lo, (long long)hi);
    *out = (uint64_t)x;
    return LZR_OK;
}

static int get_u32(const ctx_t *c, const toml_value_t *v, const char *key, int64_t lo, int64_t hi,
                   uint32_t *out)
{
    uint64_t x = 0;
    int rc = get_uint(c, v, key, lo, hi, &x);
    if (rc == LZR_OK)
        *out = (uint32_t)x;
    return rc;
}

/* A string or an array of strings, each a non-empty entry, copied into list. */
static int get_string_list(const ctx_t *c, const toml_value_t *v, const char *key, char **list,
                           size_t *n)
{
    const toml_value_t *one = v;
    size_t count = 1;
    if (toml_type(v) == TOML_ARRAY) {
        count = toml_len(v);
        if (count == 0)
            return fail(c, toml_line(v), key, LZR_EPARSE, "the list is empty");
        if (count > JOB_MAX_LIST)
            return fail(c, toml_line(v), key, LZR_ERANGE, "more than %d entries", JOB_MAX_LIST);
    } else if (toml_type(v) != TOML_STRING) {
        return fail(c, toml_line(v), key, LZR_EPARSE, "expected a string or a list of strings");
    }
    for (size_t i = 0; i < count; i++) {
        if (toml_type(v) == TOML_ARRAY)
            one = toml_at(v, i);
        if (toml_type(one) != TOML_STRING)
            return fail(c, toml_line(one), key, LZR_EPARSE, "entry %zu is of type %s, not a string",
                        i + 1, toml_type_name(toml_type(one)));
        if (toml_string(one)[0] == '\0')
            return fail(c, toml_line(one), key, LZR_EPARSE, "empty entry");
        list[*n] = strdup(toml_string(one));
        if (!list[*n])
            return fail(c, toml_line(one), key, LZR_ENOMEM, "out of memory");
        (*n)++;
    }
    return LZR_OK;
}

/* ports = "22,80,8000-8100" or [22, 80, "8000-8100"]: checked item by item (for the line),
 * then joined into the canonical text the workers get. */
static int get_ports(const ctx_t *c, const toml_value_t *v, job_spec_t *j)
{
    char buf[8192];
    size_t used = 0;
    char perr[256];
    size_t count = toml_type(v) == TOML_ARRAY ? toml_len(v) : 1;
    if (toml_type(v) == TOML_ARRAY && count == 0)
        return fail(c, toml_line(v), "ports", LZR_EPARSE, "the list is empty");
    if (toml_type(v) != TOML_ARRAY && toml_type(v) != TOML_STRING)
        return fail(c, toml_line(v), "ports", LZR_EPARSE,
                    "expected a string like \"80,443,8000-8100\" or a list of ports");
    for (size_t i = 0; i < count; i++) {
        const toml_value_t *e = toml_type(v) == TOML_ARRAY ? toml_at(v, i) : v;
        char item[64];
        const char *text;
        if (toml_type(e) == TOML_INT) {
            int64_t p = toml_int(e);
            if (p < 1 || p > 65535)
                return fail(c, toml_line(e), "ports", LZR_ERANGE,
                            "\"%lld\" is not a port (1-65535)", (long long)p);
            snprintf(item, sizeof item, "%lld", (long long)p);
            text = item;
        } else if (toml_type(e) == TOML_STRING) {
            text = toml_string(e);
            port_list_t tmp = {0};
            int rc = ports_parse(text, &tmp, perr, sizeof perr);
            ports_free(&tmp);
            if (rc)
                return fail(c, toml_line(e), "ports", rc, "%s", perr);
        } else {
            return fail(c, toml_line(e), "ports", LZR_EPARSE, "entry %zu is of type %s", i + 1,
                        toml_type_name(toml_type(e)));
        }
        size_t n = strlen(text);
        if (used + n + 2 > sizeof buf)
            return fail(c, toml_line(e), "ports", LZR_ERANGE, "the port list is too long");
        if (used)
            buf[used++] = ',';
        memcpy(buf + used, text, n);
        used += n;
        buf[used] = '\0';
    }
    int rc = ports_parse(buf, &j->ports, perr, sizeof perr);
    if (rc)
        return fail(c, toml_line(v), "ports", rc, "%s", perr);
    j->ports_text = strdup(buf);
    if (!j->ports_text)
        return fail(c, toml_line(v), "ports", LZR_ENOMEM, "out of memory");
    return LZR_OK;
}

/* The names of a handshakes or fallback value into out: a string is split at commas, a list
 * taken entry by entry; "" or [] (allow_empty) is none. */
static int get_names(const ctx_t *c, const toml_value_t *v, const char *key, bool allow_empty,
                     scan_names_t *out)
{
    char err[256];
    out->n = 0;
    if (toml_type(v) == TOML_STRING) {
        if (scan_names_parse(toml_string(v), allow_empty, out, err, sizeof err) != LZR_OK)
            return fail(c, toml_line(v), key, LZR_EPARSE, "%s", err);
        return LZR_OK;
    }
    if (toml_type(v) != TOML_ARRAY)
        return fail(c, toml_line(v), key, LZR_EPARSE,
                    "expected a string like \"wait,tls,http\" or a list of names");
    if (toml_len(v) == 0 && !allow_empty)
        return fail(c, toml_line(v), key, LZR_EPARSE, "the list is empty");
    for (size_t i = 0; i < toml_len(v); i++) {
        const toml_value_t *e = toml_at(v, i);
        if (toml_type(e) != TOML_STRING)
            return fail(c, toml_line(e), key, LZR_EPARSE, "entry %zu is of type %s", i + 1,
                        toml_type_name(toml_type(e)));
        const char *name = toml_string(e);
        if (!name[0])
            return fail(c, toml_line(e), key, LZR_EPARSE, "entry %zu is an empty name", i + 1);
        if (strlen(name) >= SCAN_SPEC_NAME_LEN)
            return fail(c, toml_line(e), key, LZR_EPARSE, "\"%.40s\" is not a handshake lzr knows",
                        name);
        if (out->n == SCAN_SPEC_MAX_NAMES)
            return fail(c, toml_line(e), key, LZR_ERANGE, "the list is too long");
        snprintf(out->v[out->n++], SCAN_SPEC_NAME_LEN, "%s", name);
    }
    return LZR_OK;
}

/* handshakes = "wait,tls,http" or ["wait", "tls", "http"]; fallback likewise, where "" or []
 * (allow_empty) means none. Every name must be a catalogue entry with a probe, at most max of
 * them. */
static int get_handshakes(const ctx_t *c, const toml_value_t *v, const char *key, bool allow_empty,
                          size_t max, scan_names_t *out)
{
    int rc = get_names(c, v, key, allow_empty, out);
    for (size_t i = 0; i < out->n && rc == LZR_OK; i++) {
        const char *p = out->v[i];
        /* The catalogue the workers' registry is built from: a name the file passes is one they
         * can send. */
        const protocol_t *h = catalogue_find(p);
        if (!h)
            return fail(c, toml_line(v), key, LZR_EPARSE,
                        "\"%s\" is not a handshake lzr knows (`lzr-worker handshakes` lists them)",
                        p);
        if (h->kind == PROTO_FINGERPRINT)
            return fail(c, toml_line(v), key, LZR_EPARSE,
                        "\"%s\" is a fingerprint only: lzr names it in replies but has no probe "
                        "to send",
                        p);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(out->v[k], p) == 0)
                return fail(c, toml_line(v), key, LZR_EPARSE, "\"%s\" is listed twice", p);
        }
        if (i + 1 > max)
            return fail(c, toml_line(v), key, LZR_ERANGE, "more than %zu handshakes", max);
    }
    return rc;
}

/* files.blocklist / files.allowlist: every entry of a list file, any number of them (the
 * table `lzr-coord submit` appends; job_load). */
static int get_entries(const ctx_t *c, const toml_value_t *v, const char *key, char ***list,
                       size_t *n)
{
    int rc = want_type(c, v, key, TOML_ARRAY);
    if (rc)
        return rc;
    size_t count = toml_len(v);
    *list = calloc(count ? count : 1, sizeof **list);
    if (!*list)
        return fail(c, toml_line(v), key, LZR_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const toml_value_t *e = toml_at(v, i);
        if (toml_type(e) != TOML_STRING)
            return fail(c, toml_line(e), key, LZR_EPARSE, "entry %zu is of type %s, not a string",
                        i + 1, toml_type_name(toml_type(e)));
        (*list)[i] = strdup(toml_string(e));
        if (!(*list)[i])
            return fail(c, toml_line(e), key, LZR_ENOMEM, "out of memory");
        (*n)++;
    }
    return LZR_OK;
}

static int parse_files(const ctx_t *c, const toml_value_t *t, job_spec_t *j)
{
    int rc = want_type(c, t, "files", TOML_TABLE);
    for (size_t i = 0; i < toml_len(t) && rc == LZR_OK; i++) {
        const char *k = toml_key_at(t, i);
        const toml_value_t *v = toml_at(t, i);
        if (strcmp(k, "blocklist") == 0 && !j->blocklist)
            rc = get_entries(c, v, "files.blocklist", &j->blocklist, &j->n_blocklist);
        else if (strcmp(k, "allowlist") == 0 && !j->allowlist)
            rc = get_entries(c, v, "files.allowlist", &j->allowlist, &j->n_allowlist);
        else if (strcmp(k, "targets") == 0 && !j->target_list)
            rc = get_entries(c, v, "files.targets", &j->target_list, &j->n_target_list);
        else
            rc = fail(c, toml_line(v), "files", LZR_EPARSE,
                      "unknown key \"%s\" (the table holds blocklist, allowlist and targets)", k);
    }
    return rc;
}

static int get_path(const ctx_t *c, const toml_value_t *v, const char *key, char *out, size_t len)
{
    int rc = want_type(c, v, key, TOML_STRING);
    if (rc)
        return rc;
    size_t n = strlen(toml_string(v));
    if (n == 0 || n >= len)
        return fail(c, toml_line(v), key, LZR_ERANGE, "a path of 1 to %zu characters", len - 1);
    memcpy(out, toml_string(v), n + 1);
    return LZR_OK;
}

static int parse_vantage(const ctx_t *c, const toml_value_t *t, job_spec_t *j)
{
    int rc = want_type(c, t, "vantage", TOML_TABLE);
    if (rc)
        return rc;
    for (size_t i = 0; i < toml_len(t); i++) {
        const char *k = toml_key_at(t, i);
        const toml_value_t *v = toml_at(t, i);
        if (strcmp(k, "min_workers") == 0) {
            rc = get_u32(c, v, "vantage.min_workers", 1, 10000, &j->min_workers);
        } else if (strcmp(k, "verify") == 0) {
            rc = want_type(c, v, "vantage.verify", TOML_BOOL);
            if (rc == LZR_OK)
                j->verify = toml_bool(v);
        } else if (strcmp(k, "compare") == 0) {
            rc = get_u32(c, v, "vantage.compare", 1, JOB_MAX_COMPARE, &j->compare);
        } else {
            char key[128];
            snprintf(key, sizeof key, "vantage.%s", k);
            rc = fail(c, toml_line(v), key, LZR_EPARSE,
                      "unknown key (known: min_workers, verify, compare)");
        }
        if (rc)
            return rc;
    }
    return LZR_OK;
}

/* Keys whose value is one whole number in a range, stored as a uint32_t of the spec. */
static const struct u32_key {
    const char *name;
    int64_t lo, hi;
    size_t off;
} u32_keys[] = {
    {"rate", 1, 100000000, offsetof(job_spec_t, rate)},
    {"timeout_ms", SCAN_SPEC_TIMEOUT_MIN, SCAN_SPEC_TIMEOUT_MAX, offsetof(job_spec_t, timeout_ms)},
    {"retransmit_ms", SCAN_SPEC_RETX_MIN, SCAN_SPEC_TIMEOUT_MAX,
     offsetof(job_spec_t, retransmit_ms)},
    {"cooldown_ms", 1, SCAN_SPEC_COOLDOWN_MAX, offsetof(job_spec_t, cooldown_ms)},
    {"acking_firewall_probes", 0, SCAN_SPEC_ACKING_MAX,
     offsetof(job_spec_t, acking_firewall_probes)},
    {"max_runtime", 1, JOB_MAX_RUNTIME_S, offsetof(job_spec_t, max_runtime_s)},
    {"shards", 1, JOB_MAX_SHARDS, offsetof(job_spec_t, shards)},
};

static int get_name(const ctx_t *c, const toml_value_t *v, job_spec_t *j)
{
    int rc = want_type(c, v, "name", TOML_STRING);
    if (rc)
        return rc;
    size_t n = strlen(toml_string(v));
    if (n == 0 || n >= sizeof j->name)
        return fail(c, toml_line(v), "name", LZR_ERANGE, "must be 1 to %zu characters",
                    sizeof j->name - 1);
    memcpy(j->name, toml_string(v), n + 1);
    return LZR_OK;
}

/* max_targets = 1000 or "1000" or "2.5%": kept as text here; job_parse checks it against the
 * job's size, which a percentage needs. */
static int get_max_targets(const ctx_t *c, const toml_value_t *v, job_spec_t *j)
{
    if (toml_type(v) == TOML_INT) {
        if (toml_int(v) < 1)
            return fail(c, toml_line(v), "max_targets", LZR_ERANGE,
                        "%lld: the number of targets must be above 0", (long long)toml_int(v));
        snprintf(j->max_targets, sizeof j->max_targets, "%lld", (long long)toml_int(v));
        return LZR_OK;
    }
    if (toml_type(v) != TOML_STRING)
        return fail(c, toml_line(v), "max_targets", LZR_EPARSE,
                    "expected a number of (address, port) pairs or a percentage like \"10%%\"");
    size_t n = strlen(toml_string(v));
    if (n == 0 || n >= sizeof j->max_targets)
        return fail(c, toml_line(v), "max_targets", LZR_ERANGE, "\"%s\" is not a bound",
                    toml_string(v));
    memcpy(j->max_targets, toml_string(v), n + 1);
    return LZR_OK;
}

/* One top-level key of the job file. */
static int parse_key(const ctx_t *c, const char *k, const toml_value_t *v, job_spec_t *j)
{
    int rc;
    if (strcmp(k, "name") == 0)
        return get_name(c, v, j);
    if (strcmp(k, "targets") == 0)
        return get_string_list(c, v, k, j->targets, &j->n_targets);
    if (strcmp(k, "exclude") == 0)
        return get_string_list(c, v, k, j->exclude, &j->n_exclude);
    if (strcmp(k, "allow_reserved") == 0)
        return get_string_list(c, v, k, j->allow_reserved, &j->n_allow_reserved);
    if (strcmp(k, "blocklist_file") == 0)
        return get_path(c, v, k, j->blocklist_file, sizeof j->blocklist_file);
    if (strcmp(k, "allowlist_file") == 0)
        return get_path(c, v, k, j->allowlist_file, sizeof j->allowlist_file);
    if (strcmp(k, "targets_file") == 0)
        return get_path(c, v, k, j->targets_file, sizeof j->targets_file);
    if (strcmp(k, "files") == 0)
        return parse_files(c, v, j);
    if (strcmp(k, "ports") == 0)
        return get_ports(c, v, j);
    if (strcmp(k, "seed") == 0) {
        rc = get_uint(c, v, k, 0, INT64_MAX, &j->seed);
        j->have_seed = rc == LZR_OK;
        return rc;
    }
    if (strcmp(k, "handshakes") == 0)
        return get_handshakes(c, v, k, false, HANDSHAKE_MAX_LIST, &j->handshakes);
    if (strcmp(k, "fallback") == 0)
        return get_handshakes(c, v, k, true, HANDSHAKE_MAX_FALLBACK, &j->fallback);
    if (strcmp(k, "report_all") == 0) {
        rc = want_type(c, v, k, TOML_BOOL);
        if (rc == LZR_OK)
            j->report_all = toml_bool(v);
        return rc;
    }
    if (strcmp(k, "max_targets") == 0)
        return get_max_targets(c, v, j);
    if (strcmp(k, "vantage") == 0)
        return parse_vantage(c, v, j);
    for (size_t i = 0; i < sizeof u32_keys / sizeof u32_keys[0]; i++) {
        if (strcmp(k, u32_keys[i].name) == 0)
            return get_u32(c, v, k, u32_keys[i].lo, u32_keys[i].hi,
                           (uint32_t *)((char *)j + u32_keys[i].off));
    }
    return fail(c, toml_line(v), k, LZR_EPARSE,
                "unknown key (known: name, targets, targets_file, exclude, allow_reserved, "
                "blocklist_file, allowlist_file, ports, rate, seed, handshakes, fallback, "
                "timeout_ms, "
                "retransmit_ms, cooldown_ms, acking_firewall_probes, report_all, shards, "
                "max_targets, max_runtime, [vantage])");
}

/* What holds between keys: the required ones are there, list files came with their entries,
 * retransmissions fit in the timeout. */
static int check_keys(const ctx_t *c, const toml_value_t *root, const job_spec_t *j)
{
    if (!toml_get(root, "targets") && !j->allowlist_file[0] && !j->targets_file[0])
        return fail(c, 0, "targets", LZR_EINVAL,
                    "required key is missing (or name a targets_file or allowlist_file to scan)");
    /* A list file is read once, at submission; a job text without its entries was not
     * submitted through job_load and must not silently scan without the list. */
    const char *keys[] = {"blocklist_file", "allowlist_file", "targets_file"};
    bool named[] = {j->blocklist_file[0] != 0, j->allowlist_file[0] != 0, j->targets_file[0] != 0};
    bool stored[] = {j->blocklist != NULL, j->allowlist != NULL, j->target_list != NULL};
    for (size_t i = 0; i < 3; i++) {
        if (named[i] && !stored[i])
            return fail(c, toml_line(toml_get(root, keys[i])), keys[i], LZR_EINVAL,
                        "the file's entries are missing: `lzr-coord submit` reads the file and "
                        "stores them with the job");
        if (!named[i] && stored[i])
            return fail(c, toml_line(toml_get(root, "files")), "files", LZR_EINVAL,
                        "holds a list that no %s names", keys[i]);
    }
    if (!toml_get(root, "ports") && !j->targets_file[0]) /* a pair list may bring its ports */
        return fail(c, 0, "ports", LZR_EINVAL, "required key is missing");
    if (j->timeout_ms && j->retransmit_ms && j->retransmit_ms > j->timeout_ms)
        return fail(c, toml_line(toml_get(root, "retransmit_ms")), "retransmit_ms", LZR_ERANGE,
                    "%u is longer than timeout_ms (%u)", j->retransmit_ms, j->timeout_ms);
    return LZR_OK;
}

static int parse_tree(const ctx_t *c, const toml_value_t *root, job_spec_t *j)
{
    for (size_t i = 0; i < toml_len(root); i++) {
        int rc = parse_key(c, toml_key_at(root, i), toml_at(root, i), j);
        if (rc)
            return rc;
    }
    j->shards_given = toml_get(root, "shards") != NULL;
    return check_keys(c, root, j);
}

/* The stored targets_file lines: each becomes its address in target_list, and its port, or 0
 * for a line without one, goes with it into j->pairs (address << 16 | port) for expand_pairs. */
static int split_target_lines(const ctx_t *c, const toml_value_t *root, job_spec_t *j)
{
    if (!j->n_target_list)
        return LZR_OK;
    j->pairs = malloc(j->n_target_list * sizeof *j->pairs);
    if (!j->pairs)
        return fail(c, 0, "targets_file", LZR_ENOMEM, "out of memory");
    for (size_t i = 0; i < j->n_target_list; i++) {
        input_format_t f = INPUT_FORMAT_INIT;
        input_target_t t;
        char perr[256], ip[ADDR_TEXT_MAX];
        int rc = input_parse_line(&f, j->target_list[i], &t, perr, sizeof perr);
        bool v6 = rc == 1 && t.addr.family == ADDR_IPV6;
        if (v6 && t.has_port)
            snprintf(perr, sizeof perr, "a job's (address, port) pairs take IPv4 addresses only");
        if (rc != 1 || (v6 && t.has_port))
            return fail(c, toml_line(toml_get(root, "files")), "files.targets", LZR_EPARSE,
                        "\"%s\": %s", j->target_list[i], rc != 0 ? perr : "not a target");
        char *addr = strdup(addr_format(&t.addr, ip));
        if (!addr)
            return fail(c, 0, "targets_file", LZR_ENOMEM, "out of memory");
        free(j->target_list[i]);
        j->target_list[i] = addr;
        /* An IPv6 address stands for itself × the job's ports; expand_pairs refuses it in a
         * list of pairs. */
        j->pairs[i] = v6 ? 0 : pair_key(t.addr.v4, t.has_port ? t.port : 0);
    }
    j->n_pairs = j->n_target_list;
    return LZR_OK;
}

/* The ports of the sorted pairs, as the job's port list and its text. */
static int pair_ports(const ctx_t *c, job_spec_t *j)
{
    uint8_t seen[65536 / 8] = {0};
    for (size_t i = 0; i < j->n_pairs; i++)
        seen[pair_port(j->pairs[i]) / 8] |= (uint8_t)(1u << (pair_port(j->pairs[i]) % 8));
    size_t cap = 6 * 65536 + 1, used = 0;
    char *text = malloc(cap), perr[256];
    if (!text)
        return fail(c, 0, "targets_file", LZR_ENOMEM, "out of memory");
    text[0] = '\0';
    for (uint32_t p = 1; p < 65536; p++)
        if (seen[p / 8] & (1u << (p % 8)))
            used += (size_t)snprintf(text + used, cap - used, "%s%u", used ? "," : "", p);
    ports_free(&j->ports);
    free(j->ports_text);
    j->ports_text = text;
    int rc = ports_parse(text, &j->ports, perr, sizeof perr);
    return rc ? fail(c, 0, "targets_file", rc, "%s", perr) : LZR_OK;
}

/* A targets_file that names ports makes the job a pair list: each line without a port stands
 * for each of the job's ports, pairs whose address the job's set leaves out go, and the rest
 * are sorted and kept once. A list of addresses only stays addresses × ports (pairs freed). */
static int expand_pairs(const ctx_t *c, const toml_value_t *root, job_spec_t *j)
{
    bool any_port = false;
    for (size_t i = 0; i < j->n_pairs; i++)
        any_port |= pair_port(j->pairs[i]) != 0;
    const toml_value_t *key = toml_get(root, "targets_file");
    if (!any_port) {
        free(j->pairs);
        j->pairs = NULL;
        j->n_pairs = 0;
        return j->ports.n ? LZR_OK
                          : fail(c, 0, "ports", LZR_EINVAL,
                                 "required key is missing (the targets_file names no port)");
    }
    if (j->n_targets)
        return fail(c, toml_line(key), "targets_file", LZR_EINVAL,
                    "a list of (address, port) pairs cannot be combined with targets");
    for (size_t i = 0; i < j->n_target_list; i++)
        if (strchr(j->target_list[i], ':'))
            return fail(c, toml_line(key), "targets_file", LZR_EINVAL,
                        "\"%s\": a list of (address, port) pairs takes IPv4 addresses only",
                        j->target_list[i]);
    if (j->report_all)
        return fail(c, toml_line(toml_get(root, "report_all")), "report_all", LZR_EINVAL,
                    "a list of (address, port) pairs has no silent targets to report");
    size_t n = 0, cap = j->n_pairs + 16;
    uint64_t *out = malloc(cap * sizeof *out);
    for (size_t i = 0; out && i < j->n_pairs && n <= JOB_MAX_PAIRS; i++) {
        uint32_t addr = pair_addr(j->pairs[i]);
        uint16_t port = pair_port(j->pairs[i]);
        if (!targets_contains(j->set, addr))
            continue; /* excluded, reserved, blocklisted or outside the allowlist */
        if (!port && !j->ports.n) {
            free(out);
            return fail(c, toml_line(key), "targets_file", LZR_EINVAL,
                        "a line without a port needs the job's ports");
        }
        for (size_t k = 0; out && k < (port ? 1 : j->ports.n); k++) {
            if (n == cap) {
                uint64_t *g = realloc(out, (cap *= 2) * sizeof *out);
                if (!g)
                    free(out);
                out = g;
            }
            if (out)
                out[n++] = pair_key(addr, port ? port : j->ports.ports[k]);
        }
    }
    free(j->pairs);
    j->pairs = out;
    if (!out)
        return fail(c, 0, "targets_file", LZR_ENOMEM, "out of memory");
    j->n_pairs = pairs_sort_unique(out, n);
    if (j->n_pairs > JOB_MAX_PAIRS)
        return fail(c, toml_line(key), "targets_file", LZR_ERANGE,
                    "more than %u (address, port) pairs", JOB_MAX_PAIRS);
    if (!j->n_pairs)
        return fail(c, toml_line(key), "targets_file", LZR_EINVAL,
                    "no pair is left once the excluded addresses are taken out");
    return pair_ports(c, j);
}

/* build_targets' steps into ts: the targets_file's addresses, the allowlist (the target list
 * when the job has no targets, else a narrowing of the IPv4 targets), the blocklist, then
 * allow_reserved, targets and exclude; finalized. */
static int fill_targets(const ctx_t *c, const toml_value_t *root, job_spec_t *j, scan_spec_t *ts)
{
    char terr[512];
    int rc = LZR_OK;
    bool listed = j->n_targets || j->target_list;
    struct {
        const char *key, *file;
        char **list;
        size_t n;
        scan_entry_kind_t kind;
    } steps[] = {
        {"targets_file", j->targets_file, j->target_list, j->n_target_list, SCAN_ALLOW},
        /* Without targets, the allowlist is the target list (ZMap's -w alone). */
        {"allowlist_file", j->allowlist_file, j->allowlist, listed ? 0 : j->n_allowlist,
         SCAN_ALLOW},
        {"blocklist_file", j->blocklist_file, j->blocklist, j->n_blocklist, SCAN_EXCLUDE},
        {"allow_reserved", NULL, j->allow_reserved, j->n_allow_reserved, SCAN_LIFT},
        {"targets", NULL, j->targets, j->n_targets, SCAN_ALLOW},
        {"exclude", NULL, j->exclude, j->n_exclude, SCAN_EXCLUDE},
    };
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        const toml_value_t *v = toml_get(root, steps[s].key);
        for (size_t i = 0; i < steps[s].n && rc == LZR_OK; i++) {
            rc = scan_spec_add(ts, steps[s].kind, steps[s].list[i], terr, sizeof terr);
            if (rc && steps[s].file)
                return fail(c, toml_line(v), steps[s].key, rc, "%s: %s", steps[s].file, terr);
            if (rc)
                return fail(c, toml_line(toml_type(v) == TOML_ARRAY ? toml_at(v, i) : v),
                            steps[s].key, rc, "%s", terr);
        }
        if (s == 2 && listed && j->allowlist) { /* with targets, the allowlist narrows them */
            rc = targets_restrict_entries(ts->targets, j->allowlist, j->n_allowlist, terr,
                                          sizeof terr);
            if (rc)
                return fail(c, toml_line(toml_get(root, "allowlist_file")), "allowlist_file", rc,
                            "%s: %s", j->allowlist_file, terr);
        }
    }
    rc = scan_spec_finalize(ts, terr, sizeof terr);
    const char *key = j->n_targets ? "targets" : j->target_list ? "targets_file" : "allowlist_file";
    if (rc)
        return fail(c, toml_line(toml_get(root, key)), key, rc, "%s", terr);
    return LZR_OK;
}

/* Builds the target sets the way the worker will (common/scan_spec: each entry goes to its
 * family's set). */
static int build_targets(const ctx_t *c, const toml_value_t *root, job_spec_t *j)
{
    scan_spec_t ts;
    if (scan_spec_init(&ts) != LZR_OK) {
        scan_spec_free(&ts);
        return fail(c, 0, "targets", LZR_ENOMEM, "out of memory");
    }
    int rc = fill_targets(c, root, j, &ts);
    /* The job keeps both sets, finalized or not (job_destroy frees them). */
    j->set = ts.targets;
    j->set6 = ts.targets6;
    ts.targets = NULL;
    ts.targets6 = NULL;
    scan_spec_free(&ts);
    return rc;
}

/* The pairs the job scans: all of them, or max_targets of them (a count above the job's size
 * means all). */
static int bound_probes(const ctx_t *c, const toml_value_t *root, job_spec_t *j)
{
    j->probes = j->size;
    if (!j->max_targets[0])
        return LZR_OK;
    char perr[256];
    uint64_t n = 0;
    int rc = perm_parse_limit(j->max_targets, j->size, &n, perr, sizeof perr);
    if (rc)
        return fail(c, toml_line(toml_get(root, "max_targets")), "max_targets", rc, "%s", perr);
    if (n < j->probes)
        j->probes = n;
    return LZR_OK;
}

uint64_t job_addresses(const job_spec_t *j)
{
    return targets_count(j->set) + targets6_count(j->set6);
}

job_spec_t *job_parse(const char *text, size_t len, const char *filename, char *err, size_t errlen)
{
    ctx_t c = {filename ? filename : "job.toml", err, errlen};
    char terr[512];
    toml_value_t *root = toml_parse(text, len, terr, sizeof terr);
    if (!root) {
        snprintf(err, errlen, "%s:%s", c.file, terr);
        return NULL;
    }
    job_spec_t *j = calloc(1, sizeof *j);
    if (!j) {
        toml_free(&root);
        snprintf(err, errlen, "%s: out of memory", c.file);
        return NULL;
    }
    snprintf(j->name, sizeof j->name, "job");
    /* The defaults are lists of known names: they always parse. */
    scan_names_parse(HANDSHAKE_DEFAULT_LIST, false, &j->handshakes, terr, sizeof terr);
    scan_names_parse(HANDSHAKE_DEFAULT_FALLBACK, true, &j->fallback, terr, sizeof terr);
    j->rate = SCAN_DEFAULT_RATE;
    j->timeout_ms = SCAN_DEFAULT_TIMEOUT_MS;
    j->retransmit_ms = SCAN_DEFAULT_RETRANSMIT_MS;
    j->acking_firewall_probes = SCAN_DEFAULT_ACKING_FIREWALL_PROBES;
    j->min_workers = 1;
    j->compare = 1;

    int rc = parse_tree(&c, root, j);
    if (rc == LZR_OK)
        rc = split_target_lines(&c, root, j);
    if (rc == LZR_OK)
        rc = build_targets(&c, root, j);
    if (rc == LZR_OK && j->targets_file[0])
        rc = expand_pairs(&c, root, j);
    if (rc == LZR_OK && j->pairs) {
        j->size = j->n_pairs;
    } else if (rc == LZR_OK) {
        uint64_t n = job_addresses(j);
        j->size = n * j->ports.n;
        if (n && j->size / n != j->ports.n)
            rc = fail(&c, 0, "ports", LZR_ERANGE, "addresses × ports overflows");
        else if (j->size >= (1ull << 62))
            rc = fail(&c, 0, "targets", LZR_ERANGE,
                      "%llu addresses × %zu ports is more than one job can hold",
                      (unsigned long long)n, j->ports.n);
    }
    if (rc == LZR_OK)
        rc = bound_probes(&c, root, j);
    toml_free(&root);
    if (rc) {
        job_destroy(&j);
        return NULL;
    }
    return j;
}

/* A growing text buffer for the [files] table. */
typedef struct textbuf {
    char *p;
    size_t len, cap;
    bool oom;
} textbuf_t;

static void tb_add(textbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static int add_quoted(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line;
    (void)err;
    (void)errlen;
    textbuf_t *b = ctx;
    tb_add(b, "\n  \"");
    tb_add(b, entry); /* checked as an address, CIDR or range: nothing to escape */
    tb_add(b, "\",");
    return LZR_OK;
}

/* An allowlist file's entry: IPv6 entries are checked and left out, as an allowlist narrows a
 * job's IPv4 targets only (docs/job-file.md). */
static int add_listed(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    return targets6_is_entry(entry) ? LZR_OK : add_quoted(ctx, entry, line, err, errlen);
}

/* targets_file: every line, quoted, into b: "ADDR", or "ADDR:PORT" for a line that names a
 * port (docs/job-file.md). An IPv6 address is stored as its text; an IPv6 line with a port is
 * refused, since a job's (address, port) pairs are IPv4. */
static int read_target_lines(const char *file, textbuf_t *b, char *err, size_t errlen)
{
    input_reader_t *r = input_open(file, err, errlen);
    if (!r)
        return LZR_EIO;
    input_target_t t;
    int rc;
    uint64_t n = 0;
    char ip[ADDR_TEXT_MAX], entry[ADDR_TEXT_MAX + 8];
    while ((rc = input_next(r, -1, &t, err, errlen)) == 1) {
        if (++n > JOB_MAX_TARGET_LINES) {
            snprintf(err, errlen,
                     "%.400s:%d: more targets than a job holds (" JOB_MAX_TARGET_TEXT ")", file,
                     input_line(r));
            rc = LZR_EINVAL;
            break;
        }
        if (t.addr.family == ADDR_IPV6 && t.has_port) {
            snprintf(err, errlen,
                     "%.400s:%d: a job's (address, port) pairs take IPv4 addresses only; list an "
                     "IPv6 address without its port (the job's ports apply)",
                     file, input_line(r));
            rc = LZR_EINVAL;
            break;
        }
        addr_format(&t.addr, ip);
        if (t.has_port)
            snprintf(entry, sizeof entry, "%s:%u", ip, t.port);
        else
            snprintf(entry, sizeof entry, "%s", ip);
        add_quoted(b, entry, 0, err, errlen);
    }
    input_close(&r);
    if (rc == LZR_EEMPTY && n == 0)
        snprintf(err, errlen, "%.400s: lists no target", file);
    return rc == LZR_EEMPTY && n ? LZR_OK : rc;
}

/* Reads the list files the job names and appends their entries to the text as a [files]
 * table (job.h). On error, "JOB:LINE: key: PATH:LINE: what" in err. */
static int resolve_files(char **text, size_t *len, const char *path, const char *shown, char *err,
                         size_t errlen)
{
    char terr[512];
    toml_value_t *root = toml_parse(*text, *len, terr, sizeof terr);
    if (!root)
        return LZR_OK; /* job_parse reports it */
    ctx_t c = {shown, err, errlen};
    int rc = LZR_OK;
    textbuf_t b = {0};
    const char *keys[] = {"blocklist_file", "allowlist_file", "targets_file"};
    const char *names[] = {"blocklist", "allowlist", "targets"};
    const toml_value_t *files = toml_get(root, "files");
    if (files)
        rc = fail(&c, toml_line(files), "files", LZR_EPARSE,
                  "this table is written by `lzr-coord submit` from blocklist_file, "
                  "allowlist_file and targets_file; name the files instead");
    for (size_t i = 0; i < 3 && rc == LZR_OK; i++) {
        const toml_value_t *v = toml_get(root, keys[i]);
        if (!v || toml_type(v) != TOML_STRING || !toml_string(v)[0])
            continue; /* absent, or job_parse reports the type */
        char file[4096];
        const char *name = toml_string(v), *slash = strrchr(path, '/');
        if (name[0] == '/' || !slash)
            snprintf(file, sizeof file, "%s", name);
        else
            snprintf(file, sizeof file, "%.*s/%s", (int)(slash - path), path, name);
        if (!b.len)
            tb_add(&b, "\n# Added by lzr-coord submit: the entries of the list files as read at "
                       "submission.\n[files]\n");
        tb_add(&b, names[i]);
        tb_add(&b, " = [");
        char ferr[600];
        rc = i == 2
                 ? read_target_lines(file, &b, ferr, sizeof ferr)
                 : targets_read_file(file, i == 1 ? add_listed : add_quoted, &b, ferr, sizeof ferr);
        tb_add(&b, "\n]\n");
        if (rc)
            rc = fail(&c, toml_line(v), keys[i], rc, "%s", ferr);
    }
    toml_free(&root);
    if (rc == LZR_OK && b.oom)
        rc = fail(&c, 0, "files", LZR_ENOMEM, "out of memory");
    if (rc == LZR_OK && b.len) {
        char *t = realloc(*text, *len + b.len + 2);
        if (!t) {
            rc = fail(&c, 0, "files", LZR_ENOMEM, "out of memory");
        } else {
            if (*len && t[*len - 1] != '\n')
                t[(*len)++] = '\n';
            memcpy(t + *len, b.p, b.len + 1);
            *len += b.len;
            *text = t;
        }
    }
    free(b.p);
    return rc;
}

job_spec_t *job_load(const char *path, char **text_out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        /* Room for one more read and the terminating NUL; the buffer stops growing once it can
         * hold one byte more than the limit, which is how a file above it is recognised. */
        if (len + 4096 + 1 > cap) {
            size_t want = cap ? cap * 2 : 8192;
            if (want > JOB_MAX_FILE_BYTES + 4096 + 1)
                want = JOB_MAX_FILE_BYTES + 4096 + 1;
            char *n = realloc(text, want);
            if (!n) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            text = n;
            cap = want;
        }
        size_t got = fread(text + len, 1, 4096, f);
        len += got;
        if (len > JOB_MAX_FILE_BYTES) {
            snprintf(err, errlen, "%s: larger than 1 MiB (%u bytes)", path, JOB_MAX_FILE_BYTES);
            free(text);
            fclose(f);
            return NULL;
        }
        if (got < 4096)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    /* Messages name the file as the user typed it, without directories. */
    const char *base = strrchr(path, '/');
    if (resolve_files(&text, &len, path, base ? base + 1 : path, err, errlen) != LZR_OK) {
        free(text);
        return NULL;
    }
    job_spec_t *j = job_parse(text, len, base ? base + 1 : path, err, errlen);
    if (j && text_out)
        *text_out = text;
    else
        free(text);
    return j;
}

void job_destroy(job_spec_t **jp)
{
    if (!jp || !*jp)
        return;
    job_spec_t *j = *jp;
    for (size_t i = 0; i < j->n_targets; i++)
        free(j->targets[i]);
    for (size_t i = 0; i < j->n_exclude; i++)
        free(j->exclude[i]);
    for (size_t i = 0; i < j->n_allow_reserved; i++)
        free(j->allow_reserved[i]);
    for (size_t i = 0; i < j->n_blocklist; i++)
        free(j->blocklist[i]);
    free(j->blocklist);
    for (size_t i = 0; i < j->n_allowlist; i++)
        free(j->allowlist[i]);
    free(j->allowlist);
    for (size_t i = 0; i < j->n_target_list; i++)
        free(j->target_list[i]);
    free(j->target_list);
    free(j->ports_text);
    free(j->pairs);
    ports_free(&j->ports);
    targets_destroy(&j->set);
    targets6_destroy(&j->set6);
    free(j);
    *jp = NULL;
}

int job_plan(job_spec_t *j, uint64_t seed, uint32_t workers, perm_params_t *perm, char *err,
             size_t errlen)
{
    if (!j->have_seed) {
        j->seed = seed;
        j->have_seed = true;
    }
    int rc = perm_init(perm, j->size, j->seed);
    if (rc) {
        snprintf(err, errlen, "cannot build a permutation of %llu elements: %s",
                 (unsigned long long)j->size, lzr_strerror(rc));
        return rc;
    }
    j->span = perm_prefix_end(perm, j->probes);
    uint64_t n = j->shards;
    if (!j->shards_given) {
        uint64_t per = (uint64_t)j->rate * JOB_SHARD_SECONDS;
        n = (j->probes + per - 1) / per;
        uint32_t spread = workers > j->min_workers ? workers : j->min_workers;
        if (n < spread)
            n = spread;
    }
    if (n < 1)
        n = 1;
    if (n > JOB_MAX_SHARDS)
        n = JOB_MAX_SHARDS;
    if (n > j->span)
        n = j->span;
    j->shards = (uint32_t)n;
    return LZR_OK;
}
