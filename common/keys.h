/*
 * keys: the CURVE key files of a cluster, their layout in one place. The coordinator's key
 * directory DIR holds its key pair (coordinator.key, coordinator.key_secret), the public keys
 * of the workers it admits (workers/NAME.key), and, as `lzr-coord keygen` leaves them, one
 * bundle per worker to copy to its host (NAME/worker.key, NAME/worker.key_secret and the
 * coordinator's public NAME/coordinator.key); a worker's --keys directory is such a bundle.
 * The certificates returned belong to the caller (zcert_destroy).
 */
#ifndef LZR_KEYS_H
#define LZR_KEYS_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#define KEYS_COORDINATOR "coordinator.key"
#define KEYS_WORKER      "worker.key"
#define KEYS_WORKERS_DIR "workers"

/* Loads the coordinator's key pair from dir; NULL, with a message naming the file and how to
 * make it in err, when it is missing or has no secret half. */
zcert_t *keys_load_coordinator(const char *dir, char *err, size_t errlen);

/* The directory of the workers' public keys under dir, into buf. LZR_EINVAL with a message in
 * err when it is not a directory. */
int keys_workers_dir(const char *dir, char *buf, size_t cap, char *err, size_t errlen);

/* Loads a worker's bundle from dir: its own key pair into *mine and the coordinator's public
 * key into *server. LZR_EINVAL with a message in err when either cannot be read. */
int keys_load_worker(const char *dir, zcert_t **mine, zcert_t **server, char *err, size_t errlen);

/* The coordinator's key pair in dir, made (with dir and its workers/ directory, mode 0700)
 * when there is none; *created says which. NULL with a message in err on failure. */
zcert_t *keys_coordinator_ensure(const char *dir, bool *created, char *err, size_t errlen);

/* Makes worker name's key pair: its bundle dir/name/ (path into bundle) and its public key in
 * dir/workers/. LZR_EIO with a message in err when a file cannot be written. */
int keys_make_worker(const char *dir, const char *name, zcert_t *coordinator, char *bundle,
                     size_t cap, char *err, size_t errlen);

#endif
