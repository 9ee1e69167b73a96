/*
 * scan_spec: what a scan probes and how, whichever front end it comes from — the flags of
 * `lzr-worker scan`, a job file, or the coordinator's Assign message. Each front end fills one
 * scan_spec_t and calls scan_spec_validate, so the bounds are checked in one place; the worker
 * turns a valid spec into its engine's configuration (worker/scan_config.h). What belongs to
 * the vantage rather than to the scan (interface, source IP and ports, the host's blocklist)
 * stays out of it.
 */
#ifndef LZR_SCAN_SPEC_H
#define LZR_SCAN_SPEC_H

#include "common/ports.h"
#include "common/targets.h"
#include "common/targets6.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_SPEC_MAX_NAMES 64 /* entries a handshake list may hold before the worker's bound */
#define SCAN_SPEC_NAME_LEN  32 /* a handshake name's room, NUL included */

/* Bounds shared by every front end (docs/job-file.md, docs/worker.md). */
#define SCAN_SPEC_TIMEOUT_MIN  10
#define SCAN_SPEC_TIMEOUT_MAX  600000
#define SCAN_SPEC_RETX_MIN     10
#define SCAN_SPEC_COOLDOWN_MAX 3600000
#define SCAN_SPEC_ACKING_MAX   64

/* A list of handshake names in the order given; resolved against the registry by the worker. */
typedef struct scan_names {
    char v[SCAN_SPEC_MAX_NAMES][SCAN_SPEC_NAME_LEN];
    size_t n;
} scan_names_t;

/* The address space a scan walks is targets (IPv4), indices 0 .. n4 - 1, followed by targets6
 * (IPv6), indices n4 .. n4 + n6 - 1; the permutation is over (n4 + n6) × ports. A family
 * without allow entries is left empty (and not finalized). */
typedef struct scan_spec {
    targets_t *targets;        /* owned; finalized before the spec is validated */
    targets6_t *targets6;      /* owned; the IPv6 hitlist and prefixes */
    size_t n_allow4, n_allow6; /* allow entries given per family (scan_spec_add) */
    port_list_t ports;         /* owned */
    scan_names_t handshakes;
    scan_names_t fallback; /* n = 0: no fallback tier */
    uint32_t rate;         /* SYNs per second; 0 = as fast as possible */
    uint32_t timeout_ms;
    uint32_t retransmit_ms;
    bool retransmit_given; /* else a retransmit_ms above timeout_ms means "never resend" */
    uint32_t acking_firewall_probes;
    uint32_t cooldown_ms;    /* 0 = the engine's default */
    uint64_t max_probes;     /* 0 = no bound */
    uint64_t max_runtime_ms; /* 0 = no bound */
    bool report_all;
    bool from_list; /* the targets come from a list whose lines may carry their port: no ports
                       needed, the set only says which addresses a line may name */
    bool discovery_only;
    /* A job's pair list (Assign.pairs: address << 16 | port, sorted), owned: the walk is over
     * its indices instead of targets × ports, and targets holds its addresses. NULL: none. */
    uint64_t *pairs;
    size_t n_pairs;
} scan_spec_t;

/* The spec's settings a bound applies to; a front end names them its own way in messages. */
typedef enum {
    SCAN_FIELD_TIMEOUT,
    SCAN_FIELD_RETRANSMIT,
    SCAN_FIELD_ACKING,
    SCAN_FIELD_COOLDOWN,
    SCAN_FIELD_HANDSHAKES,
    SCAN_FIELD_FALLBACK,
    SCAN_FIELD_TARGETS,
    SCAN_FIELD_PORTS,
    SCAN_FIELD_COUNT
} scan_field_t;

/* How a front end names the fields: "--timeout-ms" on the command line, "timeout_ms" in a job
 * file and in the Assign message. */
typedef enum { SCAN_NAMES_FLAG, SCAN_NAMES_KEY } scan_naming_t;

/* The name of field f in the naming. */
const char *scan_field_name(scan_field_t f, scan_naming_t naming);

/* Empties spec and gives it new, empty target sets; LZR_OK or LZR_ENOMEM. */
int scan_spec_init(scan_spec_t *spec);

/* What an entry does to the target sets. */
typedef enum { SCAN_ALLOW, SCAN_EXCLUDE, SCAN_LIFT } scan_entry_kind_t;

/* Adds entries (one, or several separated by commas or whitespace; IPv4 addresses, CIDRs and
 * ranges, IPv6 addresses and prefixes, mixed freely) to the allow list, the exclude list, or
 * lifts them from the reserved ranges; each entry goes to its family's set. LZR_OK, or the
 * set's error with a message naming the entry. */
int scan_spec_add(scan_spec_t *spec, scan_entry_kind_t kind, const char *entries, char *err,
                  size_t errlen);

/* scan_spec_add(SCAN_ALLOW) for every entry of a file (one or more per line, '#' comments);
 * a bad entry's message names the file and line. */
int scan_spec_allow_file(scan_spec_t *spec, const char *path, char *err, size_t errlen);

/* Finalizes the target set of each family that was given allow entries; LZR_EEMPTY with
 * targets_finalize's message when neither was. */
int scan_spec_finalize(scan_spec_t *spec, char *err, size_t errlen);

/* Addresses in the finalized spec: n4 + n6. */
uint64_t scan_spec_addresses(const scan_spec_t *spec);

/* Frees the target set and port list and zeroes spec; safe on a zeroed spec. */
void scan_spec_free(scan_spec_t *spec);

/* Splits "wait, tls,http" into out (blanks around names dropped). "" is no names when
 * allow_empty, else an empty entry. LZR_OK, or LZR_EPARSE / LZR_ERANGE with a message the
 * caller prefixes with the setting ("empty name in \"a,,b\" (the empty entry at position 2)"). */
int scan_names_parse(const char *csv, bool allow_empty, scan_names_t *out, char *err,
                     size_t errlen);

/* Fills the target sets from a job's lists as the coordinator's job parser does — lifts first,
 * then allows, excludes, the allowlist narrowing the IPv4 set — and finalizes them. */
int scan_spec_targets_from_lists(scan_spec_t *spec, char *const *allow, size_t n_allow,
                                 char *const *exclude, size_t n_exclude, char *const *lift,
                                 size_t n_lift, char *const *allowlist, size_t n_allowlist,
                                 char *err, size_t errlen);

/* Checks the bounds every front end shares: a finalized, non-empty target set, ports, at least
 * one handshake unless discovery_only, timeout, retransmit (when given), acking probes and
 * cooldown. On failure returns LZR_ERANGE or LZR_EINVAL, *field (when not NULL) says which
 * setting, and err holds the message without the setting's name ("5 is not 10-600000"). */
int scan_spec_validate(const scan_spec_t *spec, scan_naming_t naming, scan_field_t *field,
                       char *err, size_t errlen);

#endif
