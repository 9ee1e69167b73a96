/*
 * compare: the comparison across vantage points of a job scanned with `[vantage] compare = N`
 * (docs/verification.md#comparing-vantage-points). Each target was scanned in N passes, each
 * pass from a different scan IP; the store keeps what every scan IP saw (vantage_results). This
 * module reads that back and says, per vantage (scan IP), what it scanned and found; the
 * paper's number — services found with one source IP (each pass, and their mean) against all
 * of them together; and the services and hosts seen from only some vantages, each with its
 * host's verdict when verification ran. It writes the comparison as text, JSON lines or CSV for
 * `lzr-coord compare`, and as a text section and an SVG panel for `lzr-coord report`.
 * A compare_t is a result: built once by compare_build, read-only after, freed by compare_free.
 */
#ifndef LZR_COMPARE_H
#define LZR_COMPARE_H

#include "common/record.h"
#include "coordinator/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COMPARE_MAX_PASSES 32 /* job.h caps [vantage] compare well below */
#define COMPARE_MAX_SEEN   16 /* vantages listed per item */
#define COMPARE_TEXT_ITEMS 20 /* items of each kind the text lists; the others list all */

/* One scan IP's view of the job. */
typedef struct compare_vantage {
    lzr_addr_t ip;
    char worker[64];           /* the worker that scanned from it (the last seen) */
    uint32_t shards;           /* shards it finished */
    uint64_t targets;          /* targets in those shards (their share of the permutation) */
    uint64_t cls[CLASS_COUNT]; /* its rows per class */
    uint64_t answered;         /* its rows of any class but silent */
    uint64_t hosts;            /* addresses with at least one such row */
} compare_vantage_t;

/* One scan IP's row of an item's target. */
typedef struct compare_seen {
    lzr_addr_t source_ip;
    uint16_t port;
    lzr_class_t cls;
    char protocol[24];
} compare_seen_t;

/* A service (port != 0) that fewer scan IPs saw as a service than scanned it, or a host
 * (port 0) with targets that fewer scan IPs got an answer from, or whose answers differ. */
typedef struct compare_item {
    lzr_addr_t ip;
    uint16_t port;
    uint32_t vantages_seen;  /* scan IPs that saw the service; that the host answered */
    uint32_t targets_differ; /* a host's targets seen differently */
    char verdict[24];        /* the host's verdict, "" when none */
    compare_seen_t seen[COMPARE_MAX_SEEN]; /* the rows of the target (of the host's differing
                                              targets), silent ones included */
    size_t n_seen;
} compare_item_t;

typedef struct compare {
    uint64_t job_id;
    char name[64];
    char state[16];
    uint32_t passes;
    compare_vantage_t *vantages; /* by address */
    size_t n_vantages;
    uint64_t pass_services[COMPARE_MAX_PASSES]; /* services found in each pass */
    uint64_t pass_hosts[COMPARE_MAX_PASSES];    /* hosts that answered in each pass */
    uint64_t union_services, union_hosts;       /* in any pass */
    compare_item_t *items;                      /* services first, then hosts, by address */
    size_t n_items, n_service_items;
} compare_t;

typedef enum { COMPARE_TEXT, COMPARE_JSONL, COMPARE_CSV } compare_format_t;

/* Reads job's per-vantage rows and shards and computes the comparison; NULL with a message in
 * err when the job is unknown or the store fails. A job of one pass gives passes = 1 and no
 * vantage rows. */
compare_t *compare_build(store_t *s, uint64_t job_id, char *err, size_t errlen);

/* Frees a comparison and sets *c to NULL. */
void compare_free(compare_t **c);

/* Services found with one source IP: the mean over the passes. */
double compare_one_ip_services(const compare_t *c);

/* "text", "jsonl" or "csv"; LZR_EINVAL otherwise. */
int compare_format_parse(const char *name, compare_format_t *out);

/* Writes the comparison in fmt. Returns LZR_OK or LZR_EIO. */
int compare_write(const compare_t *c, compare_format_t fmt, FILE *out);

/* Height in pixels of the SVG panel compare_svg draws. */
int compare_svg_height(const compare_t *c);

/* Draws the SVG panel (a bar of services per vantage and one for all together) with its top at
 * y, inside an SVG document the caller opened. */
void compare_svg(const compare_t *c, FILE *out, int y);

#endif
