/*
 * engine: the single-vantage LZR probe engine. It walks a shard of the permutation (or reads a
 * target list, common/input, as its lines arrive), sends paced SYNs from one source IP over
 * AF_PACKET, captures replies with libpcap on its own thread, validates them with the job's
 * cookie key, runs each SYN-ACK through the LZR handshakes and classifies every target.
 * `lzr-worker scan` and the coordinator agent both drive it.
 */
#ifndef LZR_ENGINE_H
#define LZR_ENGINE_H

#include "common/cookie.h"
#include "common/input.h"
#include "common/permutation.h"
#include "common/ports.h"
#include "common/record.h"
#include "common/targets.h"
#include "common/targets6.h"
#include "worker/firewall.h"
#include "worker/handshakes/handshake.h"
#include "worker/send.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

typedef struct engine_config {
    char iface[IF_NAMESIZE];
    uint32_t source_ip;
    /* The scan IP for IPv6 targets (family ADDR_IPV6), or ADDR_NONE: a scan with no IPv6
     * targets needs none. */
    lzr_addr_t source_ip6;
    uint8_t gateway_mac[6];
    bool have_gateway_mac; /* else read from the kernel's neighbour table */
    /* How the SYN walkers send (send.h). With SEND_XSK walker k holds queue k of the interface,
     * and the handshakes' frames go by sendmmsg. */
    send_path_t send_path;
    /* SYN walkers, each on its own thread with its own sender and a contiguous slice of the
     * shard, pacing rate / send_threads; 0 or 1: one, on the calling thread. A list or a bound
     * on probes keeps one (the bound takes the permutation's first elements in order). */
    uint32_t send_threads;
    /* The permutation walk: targets × ports. With a list (input below), targets is the set a
     * listed address must lie in (the reserved ranges unless lifted, excludes), or NULL. */
    const targets_t *targets;
    /* The IPv6 targets (or NULL: none). The walk's addresses are targets' indices 0..n4-1,
     * then targets6's as n4..n4+n6-1, so the permutation is over (n4 + n6) × ports. */
    const targets6_t *targets6;
    const port_list_t *ports;
    /* A job's pair list (common/pairs.h keys, sorted): element i of the walk is pairs[i]
     * instead of an address × port; NULL: targets × ports. */
    const uint64_t *pairs;
    size_t n_pairs;
    /* A target list read as the scan goes, instead of the walk (NULL: the walk). A line without
     * a port is probed on every port of ports; a line's port outside ports gets the handshake
     * list and the fallback tier, not its port's own probes. A pipe is probed as it is written;
     * the reader is paused with the walk (in-flight table high, hold, receive side behind). */
    input_reader_t *input;
    uint32_t first_target;       /* with input: the address whose route finds the next hop */
    lzr_addr_t first_target6;    /* with input: the same for IPv6 (ADDR_NONE: no IPv6 line) */
    perm_params_t perm;          /* over targets_count × ports.n */
    uint64_t pos_begin, pos_end; /* the shard: cycle positions */
    cookie_key_t key;
    uint16_t sport_lo, sport_hi;
    const handshake_t *handshakes[HANDSHAKE_MAX_LIST];
    size_t n_handshakes;
    /* The fallback tier (none when n_fallback is 0): tried after the list and the port's own
     * handshakes on a target that held a connection open and closed another (worker/lzr.c). */
    const handshake_t *fallback[HANDSHAKE_MAX_FALLBACK];
    size_t n_fallback;
    uint32_t rate; /* SYNs per second; 0 = as fast as possible */
    uint32_t timeout_ms;
    uint32_t retransmit_ms;
    /* Bounds: stop the SYN walk after max_probes SYNs or max_runtime_ms (0: no bound); then
     * listen cooldown_ms for late replies (0: the default, max(timeout_ms, 1000)). */
    uint64_t max_probes;
    uint64_t max_runtime_ms;
    uint32_t cooldown_ms;
    uint32_t acking_firewall_probes;
    /* A capture handle the caller keeps open across runs (capture_open on iface, source_ip and
     * the port range; the agent runs many shards), or NULL: engine_run opens and closes one. */
    struct capture *capture;
    /* With capture NULL: where engine_run leaves the handle it opened itself instead of closing
     * it, for the caller to lend to a later run (the agent's pool, cappool.h); NULL: closed. */
    struct capture **capture_kept;
    /* The scan host's own blocklist (its operator's opt-outs), or NULL: elements whose address
     * it holds are skipped in the SYN walk and counted, never probed. The permutation stays
     * over the whole target set, so shards mean the same on every worker. */
    const targets_t *blocklist;
    const targets6_t *blocklist6; /* its IPv6 entries (targets6_excludes), or NULL */
    bool report_all;              /* also emit closed and silent targets */
    bool discovery_only;          /* a SYN scan: report SYN-ACKs as "open", try no handshake */
} engine_config_t;

/* What other threads change while the engine runs; the caller owns it and zeroes it before. */
typedef struct engine_control {
    /* Non-zero: end the walk, skip the drain, return (a signal handler may set it). */
    atomic_int stop;
    /* Non-zero: the SYN rate from then on (the agent, on the coordinator's SetRate). */
    atomic_uint rate;
    /* Set by the consumer of the records (the agent) while its queue is over its high-water
     * mark: the SYN walk waits; connections already in flight go on. */
    atomic_bool hold;
} engine_control_t;

/* How long the steps of one engine_run took before its first SYN, in microseconds. */
typedef struct engine_startup {
    uint64_t iface_us;     /* interface index and MAC, the next hop's MAC (gateway lookup) */
    uint64_t capture_us;   /* the capture handle: ring, activation, filter */
    uint64_t tables_us;    /* senders, connection table, timer wheel, receive thread */
    uint64_t first_syn_us; /* from engine_run's call to the first SYN handed to the kernel */
    bool rx_raised;        /* the receive thread runs at a higher priority than the walk */
} engine_startup_t;

typedef struct engine_stats {
    uint64_t targets_done;  /* permutation elements (or listed pairs) consumed */
    uint64_t targets_total; /* 0: not known (a list) */
    uint64_t sent;          /* every frame sent */
    uint64_t syns;          /* discovery SYNs */
    /* Elements skipped: the host's blocklist holds the address, or (a list) the address lies
     * outside targets, in a reserved range say. */
    uint64_t blocked;
    uint64_t replies;    /* valid replies */
    uint64_t invalid;    /* frames dropped: bad cookie, malformed, unknown connection */
    uint64_t late;       /* frames of targets already classified (stragglers), ignored */
    uint64_t challenged; /* challenge ACKs to a SYN: the old connection reset, the SYN re-sent */
    uint64_t hits;       /* records emitted for targets that answered */
    uint64_t in_flight;
    uint64_t pcap_drops;
    uint64_t rx_wait_ms;   /* time the SYN walk paused for a receive side behind the wire */
    uint64_t hold_wait_ms; /* time the SYN walk paused for the record consumer (`hold`) */
    /* Every SYN of the walk is out: only the connections in flight and the cooldown are left
     * (an agent may start its next shard beside this one). */
    bool walk_done;
    uint64_t per_class[CLASS_COUNT];
    engine_startup_t startup;
} engine_stats_t;

/* Called for each record from the engine's thread; may block to slow the scan down. */
typedef void (*engine_emit_fn)(void *ctx, const lzr_record_t *r);

/* Called about once a second with the counters so far. */
typedef void (*engine_tick_fn)(void *ctx, const engine_stats_t *s);

/* Checks that the engine can run with cfg (interface, source IP, privileges, the kernel's RSTs
 * suppressed for the port range); on failure returns a negative code and a message that says how
 * to fix it in err. proof, when not NULL, gets what the firewall self-test saw. */
int engine_preflight(const engine_config_t *cfg, firewall_proof_t *proof, char *err, size_t errlen);

/* Runs the shard (or the list) to the end, or until ctl->stop, emitting records. Returns LZR_OK
 * or a negative code with a message in err (a bad line in a piped list ends the scan there);
 * stats holds the final counters. */
int engine_run(const engine_config_t *cfg, engine_control_t *ctl, engine_emit_fn emit,
               engine_tick_fn tick, void *ctx, engine_stats_t *stats, char *err, size_t errlen);

/* Walks the shard as engine_run would and writes one line per probe to out instead of sending
 * it ("SRC:SPORT > DST:DPORT seq N"); opens no socket, so it needs no privileges. stats gets
 * the counts (syns: the probes listed; blocked). */
int engine_dry_run(const engine_config_t *cfg, FILE *out, engine_control_t *ctl,
                   engine_stats_t *stats, char *err, size_t errlen);

#endif
