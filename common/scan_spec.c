/*
 * scan_spec: one description of a scan and its one set of checks (see scan_spec.h). The
 * front ends parse their own syntax (getopt, TOML, protobuf) into this struct; nothing here
 * knows the handshake registry, which lives in the worker.
 */
#include "common/scan_spec.h"

#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[SCAN_FIELD_COUNT][2] = {
    [SCAN_FIELD_TIMEOUT] = {"--timeout-ms", "timeout_ms"},
    [SCAN_FIELD_RETRANSMIT] = {"--retransmit-ms", "retransmit_ms"},
    [SCAN_FIELD_ACKING] = {"--acking-firewall-probes", "acking_firewall_probes"},
    [SCAN_FIELD_COOLDOWN] = {"--cooldown-ms", "cooldown_ms"},
    [SCAN_FIELD_HANDSHAKES] = {"--handshakes", "handshakes"},
    [SCAN_FIELD_FALLBACK] = {"--fallback", "fallback"},
    [SCAN_FIELD_TARGETS] = {"--targets", "targets"},
    [SCAN_FIELD_PORTS] = {"--ports", "ports"},
};

const char *scan_field_name(scan_field_t f, scan_naming_t naming)
{
    if ((unsigned)f >= SCAN_FIELD_COUNT)
        return "?";
    return field_names[f][naming == SCAN_NAMES_FLAG ? 0 : 1];
}

int scan_spec_init(scan_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->targets = targets_new();
    spec->targets6 = targets6_new();
    return spec->targets && spec->targets6 ? LZR_OK : LZR_ENOMEM;
}

void scan_spec_free(scan_spec_t *spec)
{
    targets_destroy(&spec->targets);
    targets6_destroy(&spec->targets6);
    ports_free(&spec->ports);
    free(spec->pairs);
    memset(spec, 0, sizeof *spec);
}

int scan_names_parse(const char *csv, bool allow_empty, scan_names_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (!csv || (allow_empty && csv[strspn(csv, " \t")] == '\0'))
        return LZR_OK;
    for (const char *p = csv;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (; len > 0 && (*p == ' ' || *p == '\t'); len--)
            p++;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            snprintf(err, errlen, "empty name in \"%s\" (the empty entry at position %zu)", csv,
                     out->n + 1);
            return LZR_EPARSE;
        }
        if (len >= SCAN_SPEC_NAME_LEN) {
            snprintf(err, errlen, "\"%.*s\" is not a handshake", (int)len, p);
            return LZR_EPARSE;
        }
        if (out->n == SCAN_SPEC_MAX_NAMES) {
            snprintf(err, errlen, "more than %d names", SCAN_SPEC_MAX_NAMES);
            return LZR_ERANGE;
        }
        memcpy(out->v[out->n], p, len);
        out->v[out->n++][len] = '\0';
        if (!end)
            return LZR_OK;
        p = end + 1;
    }
}

/* One entry (NUL-terminated, no separators) to its family's set. */
static int add_one(scan_spec_t *spec, scan_entry_kind_t kind, const char *e, char *err,
                   size_t errlen)
{
    if (targets6_is_entry(e)) {
        spec->n_allow6 += kind == SCAN_ALLOW;
        return kind == SCAN_ALLOW     ? targets6_allow(spec->targets6, e, err, errlen)
               : kind == SCAN_EXCLUDE ? targets6_exclude(spec->targets6, e, err, errlen)
                                      : targets6_lift_reserved(spec->targets6, e, err, errlen);
    }
    spec->n_allow4 += kind == SCAN_ALLOW;
    return kind == SCAN_ALLOW     ? targets_allow(spec->targets, e, err, errlen)
           : kind == SCAN_EXCLUDE ? targets_exclude(spec->targets, e, err, errlen)
                                  : targets_lift_reserved(spec->targets, e, err, errlen);
}

int scan_spec_add(scan_spec_t *spec, scan_entry_kind_t kind, const char *entries, char *err,
                  size_t errlen)
{
    static const char sep[] = ", \t\r\n";
    char one[128];
    for (const char *p = entries + strspn(entries, sep); *p; p += strspn(p, sep)) {
        size_t n = strcspn(p, sep);
        if (n >= sizeof one) {
            snprintf(err, errlen, "\"%.40s...\" is not an address, CIDR, range or prefix", p);
            return LZR_EPARSE;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        int rc = add_one(spec, kind, one, err, errlen);
        if (rc != LZR_OK)
            return rc;
        p += n;
    }
    return LZR_OK;
}

static int allow_entry(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line; /* targets_read_file puts the file and line before the message */
    return scan_spec_add(ctx, SCAN_ALLOW, entry, err, errlen);
}

int scan_spec_allow_file(scan_spec_t *spec, const char *path, char *err, size_t errlen)
{
    return targets_read_file(path, allow_entry, spec, err, errlen);
}

int scan_spec_finalize(scan_spec_t *spec, char *err, size_t errlen)
{
    int rc = LZR_OK;
    if (spec->n_allow4 || !spec->n_allow6)
        rc = targets_finalize(spec->targets, err, errlen);
    if (rc == LZR_OK && spec->n_allow6)
        rc = targets6_finalize(spec->targets6, err, errlen);
    return rc;
}

uint64_t scan_spec_addresses(const scan_spec_t *spec)
{
    return targets_count(spec->targets) + targets6_count(spec->targets6);
}

int scan_spec_targets_from_lists(scan_spec_t *spec, char *const *allow, size_t n_allow,
                                 char *const *exclude, size_t n_exclude, char *const *lift,
                                 size_t n_lift, char *const *allowlist, size_t n_allowlist,
                                 char *err, size_t errlen)
{
    int rc = LZR_OK;
    for (size_t i = 0; i < n_lift && rc == LZR_OK; i++)
        rc = scan_spec_add(spec, SCAN_LIFT, lift[i], err, errlen);
    for (size_t i = 0; i < n_allow && rc == LZR_OK; i++)
        rc = scan_spec_add(spec, SCAN_ALLOW, allow[i], err, errlen);
    for (size_t i = 0; i < n_exclude && rc == LZR_OK; i++)
        rc = scan_spec_add(spec, SCAN_EXCLUDE, exclude[i], err, errlen);
    if (rc == LZR_OK && n_allowlist) /* the job's allowlist narrows its targets */
        rc = targets_restrict_entries(spec->targets, allowlist, n_allowlist, err, errlen);
    if (rc == LZR_OK)
        rc = scan_spec_finalize(spec, err, errlen);
    return rc;
}

static int bad(scan_field_t f, scan_field_t *field, int rc)
{
    if (field)
        *field = f;
    return rc;
}

int scan_spec_validate(const scan_spec_t *s, scan_naming_t naming, scan_field_t *field, char *err,
                       size_t errlen)
{
    if (!s->targets || scan_spec_addresses(s) == 0) {
        snprintf(err, errlen, "no targets");
        return bad(SCAN_FIELD_TARGETS, field, LZR_EINVAL);
    }
    if (s->ports.n == 0 && !s->from_list) {
        snprintf(err, errlen, "no ports");
        return bad(SCAN_FIELD_PORTS, field, LZR_EINVAL);
    }
    if (s->pairs && s->report_all) {
        snprintf(err, errlen, "a list of (address, port) pairs has no silent targets to report");
        return bad(SCAN_FIELD_TARGETS, field, LZR_EINVAL);
    }
    if (s->handshakes.n == 0 && !s->discovery_only) {
        snprintf(err, errlen, "no handshakes");
        return bad(SCAN_FIELD_HANDSHAKES, field, LZR_EINVAL);
    }
    if (s->timeout_ms < SCAN_SPEC_TIMEOUT_MIN || s->timeout_ms > SCAN_SPEC_TIMEOUT_MAX) {
        snprintf(err, errlen, "%u is not %d-%d", s->timeout_ms, SCAN_SPEC_TIMEOUT_MIN,
                 SCAN_SPEC_TIMEOUT_MAX);
        return bad(SCAN_FIELD_TIMEOUT, field, LZR_ERANGE);
    }
    if (s->retransmit_given &&
        (s->retransmit_ms < SCAN_SPEC_RETX_MIN || s->retransmit_ms > s->timeout_ms)) {
        snprintf(err, errlen,
                 "%u is not %d to %s (%u): the scan would never retransmit before giving up",
                 s->retransmit_ms, SCAN_SPEC_RETX_MIN, scan_field_name(SCAN_FIELD_TIMEOUT, naming),
                 s->timeout_ms);
        return bad(SCAN_FIELD_RETRANSMIT, field, LZR_ERANGE);
    }
    if (s->acking_firewall_probes > SCAN_SPEC_ACKING_MAX) {
        snprintf(err, errlen, "at most %d", SCAN_SPEC_ACKING_MAX);
        return bad(SCAN_FIELD_ACKING, field, LZR_ERANGE);
    }
    if (s->cooldown_ms > SCAN_SPEC_COOLDOWN_MAX) {
        snprintf(err, errlen, "%u is out of range (1-%d)", s->cooldown_ms, SCAN_SPEC_COOLDOWN_MAX);
        return bad(SCAN_FIELD_COOLDOWN, field, LZR_ERANGE);
    }
    return LZR_OK;
}
