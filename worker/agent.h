/*
 * agent: the worker's coordinator client (`lzr-worker --coordinator tcp://HOST:7411 …`). It
 * registers with Hello over a CURVE-encrypted DEALER socket, runs each assigned shard through
 * the same probe engine as `lzr-worker scan` on a thread of its own, ships the records in
 * ResultBatch messages that it re-sends until acked, reports progress in heartbeats, and
 * registers again (naming the shard it still scans) when the coordinator restarts. Results are
 * never dropped: when the coordinator falls behind, the queued records hold the engine's SYNs.
 * The command line is read in agent_cli.c; agent_run takes what it parsed.
 */
#ifndef LZR_AGENT_H
#define LZR_AGENT_H

#include "worker/send.h"
#include "worker/shard.h"

#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records the ring holds; from half of it on, the engine sends no new SYNs. */
#define AGENT_QUEUE_RECORDS 4096
/* Records per ResultBatch, and batches sent but not yet acked. */
#define AGENT_BATCH_RECORDS 256
#define AGENT_WINDOW        8
/* Fresh IPs (for verification) one worker announces at most. */
#define AGENT_MAX_FRESH 16

struct capture;

typedef struct agent_options {
    const char *endpoint; /* the coordinator's worker endpoint, e.g. "tcp://HOST:7411" */
    const char *keys_dir; /* worker.key(_secret) and coordinator.key; NULL with insecure */
    bool insecure;        /* no CURVE */
    char name[64];
    char iface[IF_NAMESIZE];
    uint32_t scan_ip;
    uint32_t fresh[AGENT_MAX_FRESH];
    size_t n_fresh;
    lzr_addr_t scan_ip6; /* the IPv6 scan IP (--scan-ip6); ADDR_NONE: no IPv6 targets */
    lzr_addr_t fresh6[AGENT_MAX_FRESH];
    size_t n_fresh6;
    uint16_t sport_lo, sport_hi;
    uint8_t gateway_mac[6];
    bool have_gateway_mac;
    bool manage_fw;
    send_path_t send_path;      /* how each shard's SYN walk sends (--tx-ring, --xdp; send.h) */
    uint32_t send_threads;      /* SYN walkers per shard (--send-threads); 0 or 1: one */
    uint32_t max_drains;        /* shards finishing beside the walking one (--max-drains, 1 to
                                   LZR_MAX_DRAINS); 0: LZR_MAX_DRAINS */
    const char *blocklist_file; /* the host's blocklist: read again for every shard */
    bool no_default_blocklist;
    const char *log_level;
    /* Set up by the caller of agent_run, not by the command line: */
    struct capture *capture; /* opened once, lent to every shard's engine run; NULL: each opens
                                its own */
    shard_engine_fn engine;  /* runs each shard: engine_run when NULL */
} agent_options_t;

/* Sets the defaults the command line starts from (source ports 40000-65535, log level info). */
void agent_options_init(agent_options_t *opt);

/* The default of --max-drains on a host with avail_bytes of memory available: each run holds a
 * capture ring (CAPTURE_RING_BYTES), and the walking run, the draining ones and the one opened
 * ahead of the next shard may take a quarter of it; at least 1, at most LZR_MAX_DRAINS. */
uint32_t agent_drains_for_memory(uint64_t avail_bytes);

/* Runs the agent until *stop becomes non-zero (then gives unacked batches a few seconds) or the
 * coordinator refuses this worker for good. Returns LZR_OK after a clean stop; a negative code,
 * with a message in err, when it cannot start (socket, keys) or was refused. */
int agent_run(const agent_options_t *opt, volatile sig_atomic_t *stop, char *err, size_t errlen);

#endif
