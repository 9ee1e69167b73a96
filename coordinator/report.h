/*
 * report: what a finished job found, for a person (`lzr-coord report JOB`). Per port, the share
 * of each class among the (ip, port) pairs that answered a SYN with a SYN-ACK, and the
 * protocols found there (the paper's Figure 3); per protocol, how many of its services sit on
 * its IANA port ("only 20% of HTTP on port 80"); the multi-vantage verdicts; and the block-size
 * table of coordinator/blocks.h (Figure 4), IPv4 and IPv6 blocks apart; for a job scanned from
 * several scan IPs per target, the comparison across vantage points (coordinator/compare.h).
 * Written as text, and drawn as an SVG with one stacked bar per port and one per behaviour (and
 * one per vantage). Given a prefix-to-AS table (coordinator/pfx2as.h), it also attributes IPv4
 * hosts to ASes: per behaviour, how many ASes and which hold the most addresses, and the share
 * of ASes with at least one middlebox.
 */
#ifndef LZR_REPORT_H
#define LZR_REPORT_H

#include "coordinator/pfx2as.h"
#include "coordinator/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct report report_t;

/* Reads job's results and verdicts from the store and computes the report; NULL with a message
 * in err when the job is unknown or the store fails. */
report_t *report_build(store_t *s, uint64_t job_id, char *err, size_t errlen);

/* Frees a report and sets *r to NULL. */
void report_free(report_t **r);

/* Attributes the report's IPv4 hosts to ASes by longest-prefix match in t (name labels the
 * table in the output, e.g. its file name; IPv6 hosts are only counted, t being IPv4);
 * afterwards text and SVG carry an AS section. The report keeps copies, not t. Returns LZR_OK
 * or LZR_ENOMEM. */
int report_attribute(report_t *r, const pfx2as_t *t, const char *name);

/* Whether a host behaviour (blocks_behaviour) counts as a middlebox for the AS section: any
 * behaviour but service, closed and churn (a host that came and went says nothing about what
 * sits in front of it). */
bool report_is_middlebox(const char *behaviour);

/* Writes the report as text. Returns LZR_OK or LZR_EIO. */
int report_text(const report_t *r, FILE *out);

/* Writes the report's charts as one SVG document. Returns LZR_OK or LZR_EIO. */
int report_svg(const report_t *r, FILE *out);

#endif
