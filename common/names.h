/*
 * names: the one rule for a worker's name, shared by `lzr-coord keygen` (which makes a key
 * bundle and a file named after it), the coordinator (which refuses a Hello with a bad name)
 * and the worker's --name.
 */
#ifndef LZR_NAMES_H
#define LZR_NAMES_H

#include <stdbool.h>

#define WORKER_NAME_MAX 63 /* characters, without the NUL */

/* A worker name is 1-63 characters of [A-Za-z0-9._-], does not start with '.' (no hidden or
 * relative file under the keys directory) and is not "workers" (the keys directory's own
 * folder of public keys). The stricter of the rules the code had: every name it accepts is a
 * safe file name. */
bool name_worker_valid(const char *name);

#endif
