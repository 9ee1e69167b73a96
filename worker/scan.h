/*
 * scan: the `lzr-worker scan` command — a standalone single-vantage scan (docs/worker.md).
 */
#ifndef LZR_SCAN_H
#define LZR_SCAN_H

#include <stdint.h>

/* Runs `lzr-worker scan` with argv[0] = "scan"; returns the process exit code (0 done, 1 could
 * not run, 2 bad command line, 130 interrupted). */
int scan_main(int argc, char **argv);

/* Parses "LO-HI" (1024 ≤ LO ≤ HI ≤ 65535) for --source-ports; LZR_OK or LZR_EPARSE. */
int scan_parse_source_ports(const char *s, uint16_t *lo, uint16_t *hi);

#endif
