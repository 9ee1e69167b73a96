/*
 * agent: the worker's coordinator client (`lzr-worker --coordinator tcp://HOST:7411 …`). It
 * registers with Hello over a CURVE-encrypted DEALER socket, runs each assigned shard through
 * the same probe engine as `lzr-worker scan` on a thread of its own, ships the records in
 * ResultBatch messages that it re-sends until acked, reports progress in heartbeats, and
 * registers again (naming the shard it still scans) when the coordinator restarts. Results are
 * never dropped: when the coordinator falls behind, the queued records hold the engine's SYNs.
 */
#ifndef LZR_AGENT_H
#define LZR_AGENT_H

/* Records the ring holds; from half of it on, the engine sends no new SYNs. */
#define AGENT_QUEUE_RECORDS 4096
/* Records per ResultBatch, and batches sent but not yet acked. */
#define AGENT_BATCH_RECORDS 256
#define AGENT_WINDOW        8

/* Runs the agent; argv is the whole command line after the program name (it contains
 * --coordinator). Returns the process exit code: 0 after a clean stop, 1 when it could not
 * run or the coordinator refused it, 2 for a bad command line. */
int agent_main(int argc, char **argv);

#endif
