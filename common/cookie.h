/*
 * cookie: stateless validation of replies. A keyed SipHash-2-4 (libsodium's crypto_shorthash)
 * over (scanner address, target address, target port, salt), IPv4 or IPv6, gives both the SYN's
 * sequence number
 * and its source port inside the scanner's port range; a SYN-ACK or RST is ours when its
 * destination port and acknowledgement number match. The salt tells apart several connections
 * to the same (address, port) — one per handshake attempt. The key is per job and shared by all
 * workers, so any worker can validate any reply.
 */
#ifndef LZR_COOKIE_H
#define LZR_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define LZR_COOKIE_KEY_BYTES 16

typedef struct cookie_key {
    uint8_t bytes[LZR_COOKIE_KEY_BYTES];
} cookie_key_t;

typedef struct cookie {
    uint32_t seq;   /* the SYN's sequence number */
    uint16_t sport; /* the SYN's source port, in [lo, hi] */
} cookie_t;

/* Fills key with random bytes from libsodium. Returns LZR_OK or LZR_ESYS. */
int cookie_key_random(cookie_key_t *key);

/* Parses 32 hex digits into key; LZR_EPARSE otherwise. */
int cookie_key_from_hex(cookie_key_t *key, const char *hex);

/* The key one shard of a job uses: a keyed hash of the shard's number under the job's key.
 * Replies to an earlier shard's SYNs (a SYN-ACK retransmitted long after that shard ended) then
 * fail validation in the next shard instead of passing for one of its targets. Returns LZR_OK
 * or LZR_ESYS when libsodium cannot start. */
int cookie_key_for_shard(const cookie_key_t *job, uint32_t shard, cookie_key_t *out);

/* Writes key as 32 hex digits and a NUL into hex (at least 33 bytes). */
void cookie_key_to_hex(const cookie_key_t *key, char *hex);

/* The cookie for a connection from saddr to (daddr, dport) with this salt; the source port lies
 * in [sport_lo, sport_hi] and is salt 0's port plus the salt (wrapping in the range), so salts
 * 0, 1, 2 … of one target get distinct ports. Both addresses are of one family, IPv4 or IPv6. */
cookie_t cookie_make(const cookie_key_t *key, const lzr_addr_t *saddr, const lzr_addr_t *daddr,
                     uint16_t dport, uint32_t salt, uint16_t sport_lo, uint16_t sport_hi);

/* True when a reply from (daddr, dport) to (saddr, sport) acknowledging ack answers the SYN
 * that cookie_make would have built with this salt (ack == seq + 1 and sport matches). */
bool cookie_validate(const cookie_key_t *key, const lzr_addr_t *saddr, uint16_t sport,
                     const lzr_addr_t *daddr, uint16_t dport, uint32_t ack, uint32_t salt,
                     uint16_t sport_lo, uint16_t sport_hi);

#endif
