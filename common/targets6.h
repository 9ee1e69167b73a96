/*
 * targets6: the IPv6 addresses a scan may touch. IPv6 space is not walked like IPv4's: a scan
 * takes a hitlist (known addresses, one per entry) and small prefixes, expanded only up to /112
 * (65,536 addresses). Exclude entries are prefixes of any length and always win. The default
 * blocklist is IANA's IPv6 special-purpose registry plus multicast; like IPv4's, it stays in
 * force unless a range of it is lifted explicitly. Once finalized the set is a sorted list of
 * distinct addresses, counted and indexed in O(1) and searched in O(log n), so a permutation
 * index maps straight to an address.
 */
#ifndef LZR_TARGETS6_H
#define LZR_TARGETS6_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The smallest prefix length an allow entry may have: /112 is 65,536 addresses. */
#define TARGETS6_MIN_PREFIX 112

typedef struct targets6 targets6_t;

/* A new, empty set with the default blocklist in force; NULL when out of memory. */
targets6_t *targets6_new(void);

/* Frees the set and sets *t to NULL. */
void targets6_destroy(targets6_t **t);

/* True when s looks like an IPv6 entry (it holds a ':'), so a list that mixes families can
 * send each entry to the right parser. */
bool targets6_is_entry(const char *s);

/* LZR_OK when the n bytes at s are one IPv6 address or prefix (any length, as an exclude or a
 * blocklist line may be); LZR_EPARSE with a message naming it otherwise. */
int targets6_check_entry(const char *s, size_t n, char *err, size_t errlen);

/* Adds spec (an address or a prefix of at least /112; one entry, or several separated by
 * commas or whitespace) to the allow list, to the exclude list (any prefix length), or lifts
 * it from the default blocklist. LZR_EPARSE with a message naming the entry otherwise. */
int targets6_allow(targets6_t *t, const char *spec, char *err, size_t errlen);
int targets6_exclude(targets6_t *t, const char *spec, char *err, size_t errlen);
int targets6_lift_reserved(targets6_t *t, const char *spec, char *err, size_t errlen);

/* Computes allow − exclude − (blocklist − lifted), sorted, each address once. Fails with
 * LZR_ERESERVED and a message naming the entry, the reserved range and how to lift it when an
 * allow entry lies wholly in the blocklist; with LZR_EEMPTY when nothing is left. No allow or
 * exclude after this. */
int targets6_finalize(targets6_t *t, char *err, size_t errlen);

/* Number of addresses in the finalized set. */
uint64_t targets6_count(const targets6_t *t);

/* The index-th address (0 ≤ index < count) in ascending order. */
const struct in6_addr *targets6_at(const targets6_t *t, uint64_t index);

/* The index of a in the finalized set, or -1 when it is not in it. O(log n). */
int64_t targets6_index_of(const targets6_t *t, const struct in6_addr *a);

/* Addresses of allow entries the blocklist removed, and those the exclude list removed. */
uint64_t targets6_reserved_dropped(const targets6_t *t);
uint64_t targets6_excluded(const targets6_t *t);

/* True when an exclude entry of t covers a (finalized or not): a set of excludes alone is a
 * list of IPv6 opt-outs (worker/optout). O(entries). */
bool targets6_excludes(const targets6_t *t, const struct in6_addr *a);

/* True when a lies in the default blocklist (regardless of any set). */
bool targets6_is_reserved(const struct in6_addr *a);

#endif
