/*
 * keys: where a cluster's CURVE key files live and how they are read and written (see keys.h).
 * lzr-coord serve and keygen, and the worker's agent, go through here, so the layout is
 * written down once.
 */
#include "common/keys.h"

#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* zcert_load reads a missing secret file as forty zeros. */
#define NO_SECRET "0000000000000000000000000000000000000000"

zcert_t *keys_load_coordinator(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, KEYS_COORDINATOR);
    zcert_t *cert = zcert_load(path);
    if (!cert || !zcert_secret_txt(cert) || strcmp(zcert_secret_txt(cert), NO_SECRET) == 0) {
        snprintf(err, errlen,
                 "%s(_secret): cannot load the coordinator's key pair; create it with "
                 "`lzr-coord keygen %s`",
                 path, dir);
        zcert_destroy(&cert);
    }
    return cert;
}

int keys_workers_dir(const char *dir, char *buf, size_t cap, char *err, size_t errlen)
{
    snprintf(buf, cap, "%s/%s", dir, KEYS_WORKERS_DIR);
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such directory (it holds the workers' public keys)", buf);
        return LZR_EINVAL;
    }
    return LZR_OK;
}

int keys_load_worker(const char *dir, zcert_t **mine, zcert_t **server, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, KEYS_WORKER);
    *mine = zcert_load(path);
    snprintf(path, sizeof path, "%s/%s", dir, KEYS_COORDINATOR);
    *server = zcert_load(path);
    if (*mine && *server)
        return LZR_OK;
    snprintf(err, errlen, "%s: cannot load %s(_secret) and %s", dir, KEYS_WORKER, KEYS_COORDINATOR);
    zcert_destroy(mine);
    zcert_destroy(server);
    return LZR_EINVAL;
}

static int mkdir_private(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return LZR_OK;
    snprintf(err, errlen, "%s: %s", dir, strerror(errno));
    return LZR_EIO;
}

zcert_t *keys_coordinator_ensure(const char *dir, bool *created, char *err, size_t errlen)
{
    char path[4096], wdir[4096];
    snprintf(wdir, sizeof wdir, "%s/%s", dir, KEYS_WORKERS_DIR);
    if (mkdir_private(dir, err, errlen) || mkdir_private(wdir, err, errlen))
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, KEYS_COORDINATOR);
    *created = access(path, F_OK) != 0;
    if (!*created) {
        zcert_t *cert = zcert_load(path);
        if (!cert)
            snprintf(err, errlen, "%s exists but cannot be read", path);
        return cert;
    }
    zcert_t *cert = zcert_new();
    if (cert)
        zcert_set_meta(cert, "role", "lzr coordinator");
    if (!cert || zcert_save(cert, path) != 0) {
        snprintf(err, errlen, "cannot write %s", path);
        zcert_destroy(&cert);
    }
    return cert;
}

int keys_make_worker(const char *dir, const char *name, zcert_t *coordinator, char *bundle,
                     size_t cap, char *err, size_t errlen)
{
    snprintf(bundle, cap, "%s/%s", dir, name);
    int rc = mkdir_private(bundle, err, errlen);
    if (rc)
        return rc;
    zcert_t *w = zcert_new();
    if (!w) {
        snprintf(err, errlen, "cannot make a key pair for %s", name);
        return LZR_ENOMEM;
    }
    zcert_set_meta(w, "name", "%s", name);
    char mine[4200], pub[4200], cpub[4200];
    snprintf(mine, sizeof mine, "%s/%s", bundle, KEYS_WORKER);
    snprintf(pub, sizeof pub, "%s/%s/%s.key", dir, KEYS_WORKERS_DIR, name);
    snprintf(cpub, sizeof cpub, "%s/%s", bundle, KEYS_COORDINATOR);
    bool bad =
        zcert_save(w, mine) || zcert_save_public(w, pub) || zcert_save_public(coordinator, cpub);
    zcert_destroy(&w);
    if (bad) {
        snprintf(err, errlen, "cannot write the keys of %s", name);
        return LZR_EIO;
    }
    return LZR_OK;
}
