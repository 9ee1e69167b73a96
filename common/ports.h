/*
 * ports: lists of TCP ports from text such as "22,80,8000-8100". Order of first appearance is
 * kept and duplicates are dropped, so a job's port order is what its author wrote.
 */
#ifndef LZR_PORTS_H
#define LZR_PORTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct port_list {
    uint16_t *ports; /* owned; freed by ports_free */
    size_t n;
} port_list_t;

/* Parses spec into out (which it owns afterwards). Port 0, ports above 65535, reversed ranges,
 * empty items and junk are rejected with LZR_EPARSE or LZR_ERANGE and a message that quotes the
 * offending item ("\"70000\" is not a port (1-65535)"). */
int ports_parse(const char *spec, port_list_t *out, char *err, size_t errlen);

/* Parses one inclusive range "LO-HI" of decimal ports with min <= LO <= HI <= 65535 (the
 * source ports a scan sends from: --source-ports of both worker commands); nothing else on the
 * line, no blanks, no signs. LZR_OK or LZR_EPARSE with *lo and *hi untouched. */
int ports_parse_range(const char *s, uint16_t min, uint16_t *lo, uint16_t *hi);

/* Frees the list's storage and zeroes it. */
void ports_free(port_list_t *l);

#endif
