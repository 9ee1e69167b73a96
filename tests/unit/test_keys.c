/*
 * Tests of keys: keygen's layout in a scratch directory, read back as the coordinator and a
 * worker read it (the worker's bundle carries the coordinator's public key, the coordinator's
 * workers/ directory the worker's); a second keygen keeps the coordinator's pair; missing
 * files give errors that name them.
 */
#include "common/err.h"
#include "common/keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int setup(void **state)
{
    char *dir = malloc(64);
    snprintf(dir, 64, "/tmp/lzr-keys-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    free(*state);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_layout_round_trip(void **state)
{
    char dir[128], err[4400];
    snprintf(dir, sizeof dir, "%s/keys", (char *)*state);
    bool created = false;
    zcert_t *coord = keys_coordinator_ensure(dir, &created, err, sizeof err);
    assert_non_null(coord);
    assert_true(created);
    char bundle[4096];
    assert_int_equal(keys_make_worker(dir, "w1", coord, bundle, sizeof bundle, err, sizeof err),
                     LZR_OK);
    char want[256];
    snprintf(want, sizeof want, "%s/w1", dir);
    assert_string_equal(bundle, want);

    /* The coordinator reads its pair and finds w1's public key under workers/. */
    zcert_t *loaded = keys_load_coordinator(dir, err, sizeof err);
    assert_non_null(loaded);
    assert_string_equal(zcert_public_txt(loaded), zcert_public_txt(coord));
    assert_string_equal(zcert_secret_txt(loaded), zcert_secret_txt(coord));
    char wdir[4096], pub[4200];
    assert_int_equal(keys_workers_dir(dir, wdir, sizeof wdir, err, sizeof err), LZR_OK);
    snprintf(pub, sizeof pub, "%s/w1.key", wdir);
    zcert_t *w1_pub = zcert_load(pub);
    assert_non_null(w1_pub);

    /* The worker's bundle: its own pair, and the coordinator's public key only. */
    zcert_t *mine, *server;
    assert_int_equal(keys_load_worker(bundle, &mine, &server, err, sizeof err), LZR_OK);
    assert_string_equal(zcert_public_txt(mine), zcert_public_txt(w1_pub));
    assert_string_equal(zcert_public_txt(server), zcert_public_txt(coord));
    char secret[4200];
    snprintf(secret, sizeof secret, "%s/%s_secret", bundle, KEYS_COORDINATOR);
    assert_int_not_equal(access(secret, F_OK), 0);

    /* keygen again keeps the pair it finds. */
    zcert_t *again = keys_coordinator_ensure(dir, &created, err, sizeof err);
    assert_non_null(again);
    assert_false(created);
    assert_string_equal(zcert_public_txt(again), zcert_public_txt(coord));
    zcert_destroy(&again);
    zcert_destroy(&mine);
    zcert_destroy(&server);
    zcert_destroy(&w1_pub);
    zcert_destroy(&loaded);
    zcert_destroy(&coord);
}

static void test_missing_files(void **state)
{
    const char *dir = *state;
    char err[4400], buf[4096], want[256];
    assert_null(keys_load_coordinator(dir, err, sizeof err));
    snprintf(want, sizeof want, "%s/coordinator.key(_secret): cannot load", dir);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "lzr-coord keygen"));
    assert_int_equal(keys_workers_dir(dir, buf, sizeof buf, err, sizeof err), LZR_EINVAL);
    snprintf(want, sizeof want, "%s/workers: no such directory", dir);
    assert_non_null(strstr(err, want));
    zcert_t *mine = NULL, *server = NULL;
    assert_int_equal(keys_load_worker(dir, &mine, &server, err, sizeof err), LZR_EINVAL);
    assert_null(mine);
    assert_null(server);
    assert_non_null(strstr(err, "worker.key(_secret) and coordinator.key"));

    /* A public key without its secret half is no coordinator key pair. */
    bool created;
    zcert_t *c = keys_coordinator_ensure(dir, &created, err, sizeof err);
    assert_non_null(c);
    char secret[256];
    snprintf(secret, sizeof secret, "%s/coordinator.key_secret", dir);
    assert_int_equal(unlink(secret), 0);
    assert_null(keys_load_coordinator(dir, err, sizeof err));
    zcert_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
