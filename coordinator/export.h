/*
 * export: writes stored results in the formats `lzr-coord results` offers — JSON lines (the
 * worker's own record JSON plus the worker's name, so standalone and cluster output read alike),
 * CSV with a header, and the CSV that ZGrab2 takes as input (ip, domain, tag, port) so the
 * identified services can be handed to a full L7 scanner.
 */
#ifndef LZR_EXPORT_H
#define LZR_EXPORT_H

#include "common/record.h"

#include <stdio.h>

typedef enum { EXPORT_JSONL, EXPORT_CSV, EXPORT_ZGRAB2 } export_format_t;

/* Parses "jsonl", "csv" or "zgrab2"; LZR_EINVAL otherwise. */
int export_format_parse(const char *s, export_format_t *out);

/* Writes the header line of fmt (CSV only) to out. */
void export_header(FILE *out, export_format_t fmt);

/* Writes one record as a line of fmt to out. ZGrab2 lines are written only for services whose
 * protocol is known; returns 1 when a line was written, 0 when skipped, negative on error. */
int export_record(FILE *out, export_format_t fmt, const lzr_record_t *r, const char *worker);

#endif
