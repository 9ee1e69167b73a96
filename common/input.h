/*
 * input: target lists for `lzr-worker scan --input-file` and the job key targets_file. One target
 * per line: "ip", "ip:port", "ip,port" (IPv6: "ip6", "[ip6]:port", "ip6,port"), ZMap's CSV
 * output (a header line naming a saddr column, other columns ignored) or ZMap's JSON lines
 * ({"saddr": "...", "sport": N, ...}); '#' comments and blank lines are skipped. A reader hands
 * targets on as their lines arrive, so a pipe from zmap is probed while zmap still runs. IPv4
 * addresses are parsed by common/targets, IPv6 ones by common/addr.
 */
#ifndef LZR_INPUT_H
#define LZR_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* One listed target; has_port false: the line named an address only (the scan's ports apply). */
typedef struct input_target {
    lzr_addr_t addr; /* IPv4 (host byte order) or IPv6 */
    uint16_t port;
    bool has_port;
} input_target_t;

/* What earlier lines said about the ones that follow: a CSV header's column numbers. */
typedef struct input_format {
    int addr_col; /* -1 until a header is seen */
    int port_col; /* -1: the header names no port column */
} input_format_t;

#define INPUT_FORMAT_INIT                                                                          \
    {                                                                                              \
        .addr_col = -1, .port_col = -1                                                             \
    }

/* The longest line a list may hold (ZMap's CSV with many fields stays well below). */
#define INPUT_LINE_MAX 4096

/* Parses one line (without its newline). Returns 1 with *t filled, 0 for a line that names no
 * target (blank, comment, a CSV header, which updates *f), or LZR_EPARSE with a message that
 * quotes the value in err. */
int input_parse_line(input_format_t *f, const char *line, input_target_t *t, char *err,
                     size_t errlen);

typedef struct input_reader input_reader_t;

/* Opens path ("-": standard input) for reading; NULL with a message in err on failure. The
 * caller owns the reader and frees it with input_close. */
input_reader_t *input_open(const char *path, char *err, size_t errlen);

/* Closes the reader (not standard input) and sets *r to NULL. */
void input_close(input_reader_t **r);

/* The next target: 1 with *t filled; 0 when no whole line arrived within wait_ms (a pipe that is
 * slower than the scan); LZR_EEMPTY at the end of the input; another negative code with
 * "PATH:LINE: message" in err on a bad line or a read error. */
int input_next(input_reader_t *r, int wait_ms, input_target_t *t, char *err, size_t errlen);

/* The number of the line input_next read last (1 for the first). */
int input_line(const input_reader_t *r);

/* Waits for the first target not yet handed on and keeps it for the next input_next: the scan
 * needs the first address's route before it sends. Returns as input_next. */
int input_peek(input_reader_t *r, input_target_t *t, char *err, size_t errlen);

/* Reads the whole of path, checking every line, and counts its targets (*n_addr: lines without
 * a port, *n_pair: lines with one). Errors as input_next's; LZR_EEMPTY when it lists none. */
int input_check_file(const char *path, uint64_t *n_addr, uint64_t *n_pair, char *err,
                     size_t errlen);

#endif
