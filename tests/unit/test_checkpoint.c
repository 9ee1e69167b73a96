/*
 * Tests of the WAL checkpoint thread on a real SQLite file: the writer's commits make the
 * thread copy the log into the database file while the writer stays open (the writer's own
 * automatic checkpoint being off, nothing else would), and stopping it hands checkpointing back.
 */
#include "coordinator/checkpoint.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct fixture {
    char dir[64];
    char path[128];
    sqlite3 *db;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/lzr-ckpt-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (sqlite3_open(f->path, &f->db) != SQLITE_OK ||
        sqlite3_exec(f->db, "PRAGMA journal_mode=WAL; CREATE TABLE t (x BLOB)", NULL, NULL, NULL) !=
            SQLITE_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    sqlite3_close(f->db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* 200 commits of 64 KiB: 12.5 MiB of log, past CHECKPOINT_PAGES, below the inline limit. */
static void write_rows(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (zeroblob(65536))", -1, &st, NULL), SQLITE_OK);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static void test_thread_checkpoints(void **state)
{
    fixture_t *f = *state;
    checkpointer_t *cp = checkpointer_start(f->db, f->path);
    assert_non_null(cp);
    off_t before = file_size(f->path);
    write_rows(f->db);
    for (int i = 0; i < 250 && checkpointer_runs(cp) == 0; i++)
        usleep(20000);
    assert_true(checkpointer_runs(cp) > 0);
    /* The pages reached the database file with the writer still open. */
    for (int i = 0; i < 250 && file_size(f->path) < before + 8 * 1024 * 1024; i++)
        usleep(20000);
    assert_true(file_size(f->path) >= before + 8 * 1024 * 1024);
    checkpointer_stop(&cp);
    assert_null(cp);
    checkpointer_stop(&cp); /* NULL-safe */
    /* Checkpointing is the writer's again: its automatic checkpoint keeps the file growing. */
    off_t after = file_size(f->path);
    write_rows(f->db);
    assert_true(file_size(f->path) > after);
}

static void test_bad_path(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/missing/t.db", f->dir);
    assert_null(checkpointer_start(f->db, path));
    /* The writer keeps its own checkpoint: its log is copied back without any thread. */
    write_rows(f->db);
    assert_true(file_size(f->path) > 4 * 1024 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thread_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
