/*
 * export: writes stored results in the formats `lzr-coord results` offers — JSON lines (the
 * worker's own record JSON plus the worker's name, so standalone and cluster output read alike),
 * CSV with a header, the CSV that ZGrab2 takes as input (ip, domain, tag, port) so the
 * identified services can be handed to a full L7 scanner, and LZR-Go's JSON records for tools
 * written against the original LZR.
 */
#ifndef LZR_EXPORT_H
#define LZR_EXPORT_H

#include "common/record.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { EXPORT_JSONL, EXPORT_CSV, EXPORT_ZGRAB2, EXPORT_LZRGO } export_format_t;

/* Parses "jsonl", "csv", "zgrab2" or "lzr-go"; LZR_EINVAL otherwise. */
int export_format_parse(const char *s, export_format_t *out);

/* Copies a name into out (cap bytes) keeping [A-Za-z0-9._-] and turning anything else into '_'.
 * Worker, verdict and protocol names are made of those characters, so they need no quoting in
 * JSON or CSV; the copy keeps the output well-formed whatever the database holds. */
void export_safe_name(const char *in, char *out, size_t cap);

/* Writes the header line of fmt (CSV only) to out. */
void export_header(FILE *out, export_format_t fmt);

/* Writes one record, with its multi-vantage verdict (NULL or "": none), as a line of fmt to
 * out: JSON lines get a "verdict" field when there is one, CSV rows end with a verdict column
 * (empty when none). ZGrab2 lines are written only for services whose protocol is known, LZR-Go
 * records only for targets that SYN-ACKed.
 * Returns 1 when a line was written, 0 when skipped, negative on error. */
int export_record_verdict(FILE *out, export_format_t fmt, const lzr_record_t *r, const char *worker,
                          const char *verdict);

/* Writes the header line of the verdict table (`lzr-coord results --verdicts`) in fmt (CSV
 * only). */
void export_verdict_header(FILE *out, export_format_t fmt);

/* Writes one verdict as a line of fmt (JSON lines or CSV; its evidence is a JSON object, quoted
 * in CSV). Returns 1, or LZR_EINVAL for the zgrab2 and lzr-go formats. */
int export_verdict(FILE *out, export_format_t fmt, const lzr_addr_t *ip, uint16_t port,
                   const char *verdict, const lzr_addr_t *original_ip, const lzr_addr_t *fresh_ip,
                   const char *evidence);

#endif
