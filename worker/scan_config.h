/*
 * scan_config: the one way a validated scan spec (common/scan_spec.h) becomes the engine's
 * configuration, for `lzr-worker scan` and for a shard the coordinator assigns. The spec says
 * what to probe; the vantage says from where. Where in the permutation to walk (perm,
 * pos_begin, pos_end), the cookie key, the capture handle and the host's blocklist are the
 * caller's: a standalone scan and a shard choose them differently.
 */
#ifndef LZR_SCAN_CONFIG_H
#define LZR_SCAN_CONFIG_H

#include "common/scan_spec.h"
#include "worker/engine.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* The scanning host's side of a scan: the same for every scan it runs. */
typedef struct scan_vantage {
    char iface[IF_NAMESIZE];
    uint32_t source_ip;
    lzr_addr_t source_ip6; /* the scan IP for IPv6 targets; ADDR_NONE: none */
    uint8_t gateway_mac[6];
    bool have_gateway_mac; /* else read from the kernel's neighbour table */
    uint16_t sport_lo, sport_hi;
    send_path_t send_path; /* sendmmsg, a PACKET_TX_RING or AF_XDP (send.h) */
    uint32_t send_threads; /* SYN walkers on threads of their own (engine.h); 0 or 1: one */
} scan_vantage_t;

/* --send-threads at most: one per core of a large scan host. */
#define SCAN_MAX_SEND_THREADS 16

/* The sending options of `lzr-worker scan` and of the agent: --tx-ring and --xdp (arg NULL) set
 * *path, --send-threads N sets *threads; option is the name without dashes. Returns 0, or -1
 * with the problem said on stderr after prog ("lzr-worker scan: --send-threads: ..."). */
int scan_send_option(const char *prog, const char *option, const char *arg, send_path_t *path,
                     uint32_t *threads);

/* A whole number from lo to hi for --option (the name without dashes) into *out: 0, or -1 with
 * the problem said on stderr after prog ("lzr-worker: --max-drains: 8 is out of range (1-7)"). */
int scan_count_option(const char *prog, const char *option, const char *arg, uint32_t lo,
                      uint32_t hi, uint32_t *out);

/* Clears cfg and fills it from spec and v: interface, addresses, source ports, the target set
 * and port list (borrowed: spec must outlive the run), the handshake and fallback lists looked
 * up in the registry, rate, timings, bounds and flags. A handshake name the registry does not
 * know fails with LZR_EPARSE and "handshakes: handshake list: ..." (the setting named as
 * naming says) in err. */
int scan_config_build(const scan_spec_t *spec, const scan_vantage_t *v, scan_naming_t naming,
                      engine_config_t *cfg, char *err, size_t errlen);

#endif
