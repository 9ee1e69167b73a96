/*
 * pfx2as: a prefix-to-AS table read from a RouteViews prefix-to-AS file in CAIDA's pfx2as
 * format, and longest-prefix-match lookup of an IPv4 address in it. The report
 * (coordinator/report.h) uses it to attribute hosts to the AS that originates their address.
 * Each line is PREFIX<TAB>LENGTH<TAB>ORIGIN; ORIGIN is one AS number, a multi-origin set
 * "A_B" or an AS-set "A,B" (or both), kept verbatim as the AS's label. Blank lines and lines
 * starting with '#' are skipped. The table owns its memory; pfx2as_free releases it.
 */
#ifndef LZR_PFX2AS_H
#define LZR_PFX2AS_H

#include <stddef.h>
#include <stdint.h>

#define PFX2AS_ORIGIN_MAX 64 /* longest ORIGIN field kept, with its terminator */

typedef struct pfx2as pfx2as_t;

/* Parses len bytes of pfx2as text; name (the file name) starts each error message, which names
 * the line ("pfx2as.txt:3: ..."). NULL with the message in err on the first bad line: an
 * address that is not dotted IPv4, a length outside 0–32, host bits set, an ORIGIN that is not
 * AS numbers joined by '_' or ',', a missing field, or the same prefix twice. */
pfx2as_t *pfx2as_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* Reads and parses the file at path; NULL with a message in err when it cannot be read or a
 * line is bad. */
pfx2as_t *pfx2as_load(const char *path, char *err, size_t errlen);

/* The ORIGIN of the longest prefix that contains ip (host byte order), NULL when none does.
 * The string lives as long as the table. */
const char *pfx2as_lookup(const pfx2as_t *t, uint32_t ip);

/* The number of prefixes in the table. */
size_t pfx2as_count(const pfx2as_t *t);

/* The number of distinct ORIGIN labels in the table. */
size_t pfx2as_origins(const pfx2as_t *t);

/* Frees the table and sets *t to NULL. */
void pfx2as_free(pfx2as_t **t);

#endif
