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
    return spec->targets ? LZR_OK : LZR_ENOMEM;
}

void scan_spec_free(scan_spec_t *spec)
{
    targets_destroy(&spec->targets);
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

int scan_spec_targets_from_lists(scan_spec_t *spec, char *const *allow, size_t n_allow,
                                 char *const *exclude, size_t n_exclude, char *const *lift,
                                 size_t n_lift, char *const *allowlist, size_t n_allowlist,
                                 char *err, size_t errlen)
{
    int rc = LZR_OK;
    for (size_t i = 0; i < n_lift && rc == LZR_OK; i++)
        rc = targets_lift_reserved(spec->targets, lift[i], err, errlen);
    for (size_t i = 0; i < n_allow && rc == LZR_OK; i++)
        rc = targets_allow(spec->targets, allow[i], err, errlen);
    for (size_t i = 0; i < n_exclude && rc == LZR_OK; i++)
        rc = targets_exclude(spec->targets, exclude[i], err, errlen);
    if (rc == LZR_OK && n_allowlist) /* the job's allowlist narrows its targets */
        rc = targets_restrict_entries(spec->targets, allowlist, n_allowlist, err, errlen);
    if (rc == LZR_OK)
        rc = targets_finalize(spec->targets, err, errlen);
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
    if (!s->targets || targets_count(s->targets) == 0) {
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
