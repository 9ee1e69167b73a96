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
    size_t n;
} load_ctx_t;

static int add_entry(void *ctx, const char *entry, int line, char *err, size_t errlen)
{
    (void)line;
    load_ctx_t *c = ctx;
    if (targets6_is_entry(entry)) /* checked; the host's IPv6 opt-outs are not kept yet */
        return LZR_OK;
    c->n++;
    return targets_allow(c->set, entry, err, errlen);
}

int optout_load(const char *path, targets_t **out, size_t *entries, char *err, size_t errlen)
{
    *out = NULL;
    *entries = 0;
    if (!path)
        return LZR_OK;
    load_ctx_t c = {.set = targets_new_list()};
    if (!c.set) {
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
    if (rc != LZR_OK || c.n == 0) {
        targets_destroy(&c.set);
        return rc;
    }
    *out = c.set;
    *entries = c.n;
    return LZR_OK;
}
