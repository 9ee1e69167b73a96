/*
 * A cmocka fixture shared by the unit tests that need a real store: a fresh SQLite file in a
 * scratch directory per test, closed and removed afterwards. Include it after cmocka.h and
 * coordinator/store.h; use setup/teardown as the test's setup and teardown.
 */
#ifndef LZR_TEST_STORE_FIXTURE_H
#define LZR_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char dir[64];
    char path[128];
    store_t *s;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lzr-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/lzr.db", f->dir);
    char err[256];
    f->s = store_open(f->path, err, sizeof err);
    if (!f->s)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(&f->s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A record of (ip, port) with class and protocol, and a few bytes of data. */
static inline lzr_record_t fixture_rec(uint32_t ip, uint16_t port, lzr_class_t cls,
                                       const char *proto)
{
    lzr_record_t r;
    memset(&r, 0, sizeof r);
    r.ip = addr_ipv4(ip);
    r.port = port;
    r.source_ip = addr_ipv4(0xC6120101);
    r.cls = cls;
    snprintf(r.protocol, sizeof r.protocol, "%s", proto);
    r.ttl_synack = 64;
    r.window = 1000;
    r.ts_us = 5;
    r.data_len = 3;
    memcpy(r.data, "SSH", 3);
    return r;
}

#endif
