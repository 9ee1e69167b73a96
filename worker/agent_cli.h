/*
 * agent_cli: `lzr-worker --coordinator …`: the command line read into agent options, then the
 * host set up for scanning (the firewall rule when asked, the engine's preflight, one capture
 * handle for all shards) before agent_run takes over.
 */
#ifndef LZR_AGENT_CLI_H
#define LZR_AGENT_CLI_H

#include "worker/agent.h"

/* Reads argv (the command line after the program name, with --coordinator) into opt, which
 * agent_options_init prepared; checks the host's blocklist loads. Returns 0, 2 for a bad
 * command line (said on stderr), or -1 after --help. */
int agent_parse_args(int argc, char **argv, agent_options_t *opt);

/* Runs the agent; returns the process exit code: 0 after a clean stop, 1 when it could not run
 * or the coordinator refused it, 2 for a bad command line. */
int agent_main(int argc, char **argv);

#endif
