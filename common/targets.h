/*
 * targets: the set of IPv4 addresses a scan may touch. A set is built from allow entries
 * (addresses, CIDRs, "A-B" ranges), exclude entries (exclude always wins), and the default
 * blocklist of IANA special-purpose ranges, which stays in force unless a range of it is lifted
 * explicitly. Once finalized, the set is a sorted list of disjoint intervals that can be
 * counted and indexed in O(log n), so a permutation index maps straight to an address.
 * Addresses are uint32_t in host byte order throughout.
 */
#ifndef LZR_TARGETS_H
#define LZR_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct targets targets_t;

/* A new, empty set with the default blocklist in force; NULL when out of memory. */
targets_t *targets_new(void);

/* A new, empty plain list: no default blocklist in force, so any address may be listed (an
 * operator's blocklist or allowlist file); NULL when out of memory. */
targets_t *targets_new_list(void);

/* Frees the set and sets *t to NULL. */
void targets_destroy(targets_t **t);

/* Parses "1.2.3.4", "1.2.3.0/24" or "1.2.3.4-1.2.3.9" into an inclusive [lo, hi]. On error
 * returns LZR_EPARSE and writes a message naming the input into err. */
int targets_parse_range(const char *spec, uint32_t *lo, uint32_t *hi, char *err, size_t errlen);

/* Adds spec to the allow list, the exclude list, or lifts it from the default blocklist.
 * Each accepts one entry or several separated by commas or whitespace. */
int targets_allow(targets_t *t, const char *spec, char *err, size_t errlen);
int targets_exclude(targets_t *t, const char *spec, char *err, size_t errlen);
int targets_lift_reserved(targets_t *t, const char *spec, char *err, size_t errlen);

/* Excludes every address outside list (a finalized set): the scan keeps only targets that are
 * also in list, as an allowlist file asks. */
int targets_restrict(targets_t *t, const targets_t *list, char *err, size_t errlen);

/* targets_restrict with a list given as n entries (each an address, CIDR or range); an empty
 * list is an error (it would leave nothing to scan). */
int targets_restrict_entries(targets_t *t, char *const *entries, size_t n, char *err,
                             size_t errlen);

/* Called by targets_read_file for each entry, with the entry's text and line number. */
typedef int (*targets_entry_fn)(void *ctx, const char *entry, int line, char *err, size_t errlen);

/* Reads a file of entries in ZMap's blocklist format: one address, CIDR or range per line,
 * '#' starts a comment, blank lines are skipped. Each entry is checked, then handed to fn; an
 * IPv6 address or prefix is checked by common/targets6 and handed on too (fn sends it to an
 * IPv6 set or leaves it out). On
 * error returns a negative code with "PATH:LINE: message" (or "PATH: reason") in err, and no
 * entry after the bad one is handed on. */
int targets_read_file(const char *path, targets_entry_fn fn, void *ctx, char *err, size_t errlen);

/* Adds every IPv4 entry of the file at path to t's allow list or (exclude) its exclude list;
 * IPv6 entries are checked and left out. */
int targets_allow_file(targets_t *t, const char *path, char *err, size_t errlen);
int targets_exclude_file(targets_t *t, const char *path, char *err, size_t errlen);

/* Computes allow − exclude − (blocklist − lifted). Fails with LZR_ERESERVED and a message that
 * names the entry, the reserved range and how to lift it when an allow entry lies wholly in the
 * blocklist; addresses of partly reserved entries are dropped silently (targets_reserved_dropped
 * counts them). Fails with LZR_EEMPTY when nothing is left. No allow/exclude after this. */
int targets_finalize(targets_t *t, char *err, size_t errlen);

/* Number of addresses in the finalized set. */
uint64_t targets_count(const targets_t *t);

/* The index-th address (0 ≤ index < count) in ascending order, in O(log n). */
uint32_t targets_at(const targets_t *t, uint64_t index);

/* True when addr is in the finalized set. */
bool targets_contains(const targets_t *t, uint32_t addr);

/* The index of addr in the finalized set (the inverse of targets_at), or -1 when it is not in
 * the set. O(log n). */
int64_t targets_index_of(const targets_t *t, uint32_t addr);

/* Addresses removed from allow entries because the blocklist covers them. */
uint64_t targets_reserved_dropped(const targets_t *t);

/* Allowed addresses removed by the exclude list (not counting reserved ones). */
uint64_t targets_excluded(const targets_t *t);

/* True when addr lies in the default blocklist (regardless of any set). */
bool targets_is_reserved(uint32_t addr);

/* Formats addr as dotted quad into buf (at least 16 bytes); returns buf. */
char *targets_ntoa(uint32_t addr, char *buf);

#endif
