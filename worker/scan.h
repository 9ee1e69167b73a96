/*
 * scan: the `lzr-worker scan` command — a standalone single-vantage scan (docs/worker.md).
 */
#ifndef LZR_SCAN_H
#define LZR_SCAN_H

/* Runs `lzr-worker scan` with argv[0] = "scan"; returns the process exit code (0 done, 1 could
 * not run, 2 bad command line, 130 interrupted). */
int scan_main(int argc, char **argv);

#endif
