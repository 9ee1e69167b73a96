/*
 * verify_cli: the `lzr-worker verify` command — multi-vantage verification from one host that
 * holds the original scan IP and two fresh IPs (docs/verification.md). In a cluster the
 * coordinator spreads the same steps over several workers instead.
 */
#ifndef LZR_VERIFY_CLI_H
#define LZR_VERIFY_CLI_H

/* Runs `lzr-worker verify` with argv[0] = "verify"; returns the exit code (0 done, 1 could not
 * run, 2 bad command line). */
int verify_main(int argc, char **argv);

#endif
