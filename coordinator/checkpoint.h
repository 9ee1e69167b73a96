/*
 * checkpoint: copies the coordinator's SQLite write-ahead log back into the database file on a
 * thread of its own, so the thread that stores result batches only appends to the log. The
 * writer's connection stops checkpointing by itself; after each commit it tells this module
 * how long the log is, and the checkpoint thread, with its own connection, runs a passive
 * checkpoint once the log passes CHECKPOINT_PAGES. Should that thread fall behind, the writer
 * checkpoints inline past CHECKPOINT_INLINE_PAGES, so the log stays bounded.
 */
#ifndef LZR_COORDINATOR_CHECKPOINT_H
#define LZR_COORDINATOR_CHECKPOINT_H

#include <sqlite3.h>

#define CHECKPOINT_PAGES        1000  /* SQLite's own auto-checkpoint threshold */
#define CHECKPOINT_INLINE_PAGES 16000 /* 64 MiB of 4 KiB pages */

typedef struct checkpointer checkpointer_t;

/* Takes over checkpointing of db (a read-write connection to path in WAL mode) with a thread
 * and a second connection. NULL when either cannot be made; db then keeps checkpointing
 * itself. */
checkpointer_t *checkpointer_start(sqlite3 *db, const char *path);

/* Stops and joins the thread, closes its connection and gives checkpointing back to db (which
 * must still be open). NULL-safe. */
void checkpointer_stop(checkpointer_t **cp);

/* Number of checkpoints the thread has run (for tests). */
unsigned long checkpointer_runs(checkpointer_t *cp);

#endif
