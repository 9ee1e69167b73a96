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

/* True when addr lies in the default blocklist (regardless of any set). */
bool targets_is_reserved(uint32_t addr);

/* Formats addr as dotted quad into buf (at least 16 bytes); returns buf. */
char *targets_ntoa(uint32_t addr, char *buf);

#endif
