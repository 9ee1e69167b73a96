/*
 * checkpoint: the WAL checkpoint thread of the coordinator's store (see checkpoint.h). SQLite
 * lets a checkpoint run on one connection while another appends to the log, so the writer is
 * never blocked by it; the log restarts from its beginning once a checkpoint has caught up.
 */
#include "coordinator/checkpoint.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct checkpointer {
    sqlite3 *writer; /* the store's connection, whose commits feed the wal hook */
    sqlite3 *db;     /* this thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want, stop;
    unsigned long runs;
};

static void *run(void *arg)
{
    checkpointer_t *cp = arg;
    pthread_mutex_lock(&cp->mu);
    for (;;) {
        while (!cp->want && !cp->stop)
            pthread_cond_wait(&cp->cv, &cp->mu);
        if (cp->stop)
            break;
        cp->want = false;
        pthread_mutex_unlock(&cp->mu);
        /* Passive: copies what no reader still needs, never waits for the writer. */
        sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&cp->mu);
        cp->runs++;
    }
    pthread_mutex_unlock(&cp->mu);
    return NULL;
}

/* The writer's wal hook: called after every commit with the log's length in pages. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    checkpointer_t *cp = arg;
    if (pages >= CHECKPOINT_INLINE_PAGES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&cp->mu);
        if (!cp->want) {
            cp->want = true;
            pthread_cond_signal(&cp->cv);
        }
        pthread_mutex_unlock(&cp->mu);
    }
    return SQLITE_OK;
}

checkpointer_t *checkpointer_start(sqlite3 *db, const char *path)
{
    checkpointer_t *cp = calloc(1, sizeof *cp);
    if (!cp)
        return NULL;
    cp->writer = db;
    if (sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(cp->db);
        free(cp);
        return NULL;
    }
    sqlite3_busy_timeout(cp->db, 5000);
    /* A connection learns that the file is in WAL mode when it first reads it; until then a
     * checkpoint on it does nothing. */
    if (sqlite3_exec(cp->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(cp->db);
        free(cp);
        return NULL;
    }
    pthread_mutex_init(&cp->mu, NULL);
    pthread_cond_init(&cp->cv, NULL);
    if (pthread_create(&cp->thread, NULL, run, cp) != 0) {
        pthread_cond_destroy(&cp->cv);
        pthread_mutex_destroy(&cp->mu);
        sqlite3_close(cp->db);
        free(cp);
        return NULL;
    }
    /* Replaces the writer's automatic checkpoint, which is itself a wal hook. */
    sqlite3_wal_hook(db, on_commit, cp);
    return cp;
}

void checkpointer_stop(checkpointer_t **cpp)
{
    checkpointer_t *cp = cpp ? *cpp : NULL;
    if (!cp)
        return;
    sqlite3_wal_autocheckpoint(cp->writer, CHECKPOINT_PAGES);
    pthread_mutex_lock(&cp->mu);
    cp->stop = true;
    pthread_cond_signal(&cp->cv);
    pthread_mutex_unlock(&cp->mu);
    pthread_join(cp->thread, NULL);
    sqlite3_close(cp->db);
    pthread_cond_destroy(&cp->cv);
    pthread_mutex_destroy(&cp->mu);
    free(cp);
    *cpp = NULL;
}

unsigned long checkpointer_runs(checkpointer_t *cp)
{
    pthread_mutex_lock(&cp->mu);
    unsigned long n = cp->runs;
    pthread_mutex_unlock(&cp->mu);
    return n;
}
