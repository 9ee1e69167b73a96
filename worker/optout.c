/*
 * optout: reads the host's blocklist file into a plain target set (no default blocklist of its
 * own: an operator may list any address) that the engine's SYN walk consults per element.
 */
#include "worker/optout.h"

#include "common/err.h"
#include "common/targets6.h"

#include <stdio.h>
#include <unistd.h>

const char *optout_path(const char *path, bool use_default)
{
    if (path)
        return path;
    if (use_default && access(OPTOUT_DEFAULT_PATH, F_OK) == 0)
        return OPTOUT_DEFAULT_PATH;
    return NULL;
}

typedef struct load_ctx {
    targets_t *set;
    targets6_t *set6; /* NULL: IPv6 entries are left out */
    size_t n, n6;
} load_ctx_t;

static int add_entry(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line;
    load_ctx_t *c = ctx;
    if (targets6_is_entry(entry)) {
        c->n6 += c->set6 != NULL;
        return c->set6 ? targets6_exclude(c->set6, entry, err, errlen) : LZR_OK;
    }
    c->n++;
    return targets_allow(c->set, entry, err, errlen);
}

int optout_load(const char *path, targets_t **out, targets6_t **out6, size_t *entries, char *err,
                size_t errlen)
{
    *out = NULL;
    if (out6)
        *out6 = NULL;
    *entries = 0;
    if (!path)
        return LZR_OK;
    load_ctx_t c = {.set = targets_new_list(), .set6 = out6 ? targets6_new() : NULL};
    if (!c.set || (out6 && !c.set6)) {
        targets_destroy(&c.set);
        targets6_destroy(&c.set6);
        snprintf(err, errlen, "%s: out of memory", path);
        return LZR_ENOMEM;
    }
    int rc = targets_read_file(path, add_entry, &c, err, errlen);
    if (rc == LZR_OK && c.n > 0) {
        char sub[256];
        rc = targets_finalize(c.set, sub, sizeof sub);
        if (rc != LZR_OK)
            snprintf(err, errlen, "%s: %s", path, sub);
    }
    if (rc != LZR_OK || c.n == 0)
        targets_destroy(&c.set);
    if (rc != LZR_OK || c.n6 == 0)
        targets6_destroy(&c.set6);
    if (rc != LZR_OK)
        return rc;
    *out = c.set;
    if (out6)
        *out6 = c.set6;
    *entries = c.n + c.n6;
    return LZR_OK;
}
