/*
 * optout: the scan host's own blocklist, its operator's opt-out list. A worker reads it from
 * /etc/lzr/blocklist.conf (or the file --blocklist-file names) and applies it to every scan it
 * runs, standalone or assigned by a coordinator: nothing from outside the host can lift it.
 * The file has ZMap's blocklist format (one address, CIDR or range per line, '#' comments).
 */
#ifndef LZR_OPTOUT_H
#define LZR_OPTOUT_H

#include "common/targets.h"
#include "common/targets6.h"

#include <stdbool.h>
#include <stddef.h>

#define OPTOUT_DEFAULT_PATH "/etc/lzr/blocklist.conf"

/* The host's blocklist file in force: path when given, else OPTOUT_DEFAULT_PATH when
 * use_default and that file exists, else NULL (no list). */
const char *optout_path(const char *path, bool use_default);

/* Reads the list at path (NULL: none) into *out, a finalized plain set of its IPv4 entries the
 * caller destroys, or NULL when the file lists none; with out6, its IPv6 entries into *out6, a
 * set of excludes to ask targets6_excludes (NULL when none; without out6 they are checked and
 * left out). *entries gets the number of entries of both families. On error returns a negative
 * code with "PATH:LINE: message" in err. */
int optout_load(const char *path, targets_t **out, targets6_t **out6, size_t *entries, char *err,
                size_t errlen);

#endif
