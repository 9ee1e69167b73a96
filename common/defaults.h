/*
 * defaults: the scan settings a scan gets when it does not set them, the same whichever front
 * end starts it — `lzr-worker scan` flags, a job file (coordinator/job.c), or an Assign that
 * leaves a field at 0 (worker/agent.c). docs/worker.md and docs/job-file.md list them.
 */
#ifndef LZR_DEFAULTS_H
#define LZR_DEFAULTS_H

/* A number macro as a string literal, for usage texts: LZR_XSTR(SCAN_DEFAULT_TIMEOUT_MS). */
#define LZR_STR(x)  #x
#define LZR_XSTR(x) LZR_STR(x)

/* The handshakes tried on every port: the LZR paper's order. */
#define HANDSHAKE_DEFAULT_LIST "wait,tls,http,dns,pptp"

/* The fallback tier: protocols whose servers never answer a foreign probe (they stall or close
 * silently), tried last on targets that behaved like a real service but stayed unnamed
 * (docs/worker.md). */
#define HANDSHAKE_DEFAULT_FALLBACK "mqtt,redis,postgres"

/* The most handshakes a list may hold, and the most fallback handshakes tried per target. */
#define HANDSHAKE_MAX_LIST     16
#define HANDSHAKE_MAX_FALLBACK 4

/* SYNs per second (over all workers, for a job). */
#define SCAN_DEFAULT_RATE 10000

/* How long one connection waits for the target: LZR-Go's 5 s (`-t 5`), long enough for a slow
 * server's banner and for a SYN-ACK retransmitted after the first retransmit. */
#define SCAN_DEFAULT_TIMEOUT_MS 5000

/* When an unanswered SYN or probe is sent once more. */
#define SCAN_DEFAULT_RETRANSMIT_MS 1000

/* Random ports SYNed on a host whose first handshake drew nothing, to tell an acking firewall
 * (SYN-ACKs on every port) from a service: one costs a single SYN per such host and keeps
 * acking firewalls out of the service counts; 0 turns the check off. */
#define SCAN_DEFAULT_ACKING_FIREWALL_PROBES 1

#endif
