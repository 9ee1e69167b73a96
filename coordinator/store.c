/*
 * store: SQLite access for the coordinator. The schema is created in one step per version
 * (user_version records which); every public call runs in its own transaction so a crash never
 * leaves half a batch or half a job behind.
 */
#include "coordinator/store.h"
#include "common/grow.h"

#include "common/err.h"
#include "common/targets.h"
#include "coordinator/checkpoint.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libgen.h>

struct store {
    sqlite3 *db;
    checkpointer_t *ckpt; /* read-write stores: WAL checkpoints on their own thread */
    /* The batch path's statements, prepared on first use and kept rather than prepared again
     * for every batch. */
    sqlite3_stmt *put_result;
    sqlite3_stmt *put_source;
    int version;               /* schema version (read-only stores may hold an older one) */
    sqlite3_stmt *get_passes;  /* a batch's job: compared across vantages? */
    sqlite3_stmt *put_vantage; /* its rows per scan IP, when it is */
    /* Read-write stores: the file as opened, so store_check notices it deleted or replaced. */
    char path[4096];
    dev_t dev;
    ino_t ino;
    bool put_outage; /* the last failed store_put_batches failed for the database */
};

static const char *const schema_v1 =
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('waiting','running','done','cancelled')),"
    "  filename TEXT NOT NULL,"
    "  toml TEXT NOT NULL,"
    "  seed INTEGER NOT NULL,"
    "  cookie_key TEXT NOT NULL,"
    "  rate INTEGER NOT NULL,"
    "  n_shards INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  perm_prime INTEGER NOT NULL,"
    "  perm_generator INTEGER NOT NULL,"
    "  perm_start INTEGER NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  finished_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE shards ("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
    "  idx INTEGER NOT NULL,"
    "  pos_begin INTEGER NOT NULL,"
    "  pos_end INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','leased','done')),"
    "  lease_owner TEXT NOT NULL DEFAULT '',"
    "  lease_expiry_us INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (job_id, idx)) WITHOUT ROWID;"
    "CREATE INDEX shards_state ON shards (state, job_id, idx);"
    "CREATE TABLE workers ("
    "  name TEXT PRIMARY KEY,"
    "  pubkey TEXT NOT NULL,"
    "  scan_ip TEXT NOT NULL,"
    "  fresh_ips TEXT NOT NULL,"
    "  iface TEXT NOT NULL,"
    "  version TEXT NOT NULL,"
    "  first_seen_us INTEGER NOT NULL,"
    "  last_seen_us INTEGER NOT NULL);"
    "CREATE TABLE results ("
    "  job_id INTEGER NOT NULL,"
    "  ip INTEGER NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  class TEXT NOT NULL,"
    "  protocol TEXT NOT NULL,"
    "  handshake TEXT NOT NULL,"
    "  handshakes_tried INTEGER NOT NULL,"
    "  window INTEGER NOT NULL,"
    "  ttl_synack INTEGER NOT NULL,"
    "  ttl_last INTEGER NOT NULL,"
    "  synack_retransmits INTEGER NOT NULL,"
    "  acked_data INTEGER NOT NULL,"
    "  rtt_us INTEGER NOT NULL,"
    "  ts_us INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  source_ip INTEGER NOT NULL,"
    "  worker TEXT NOT NULL,"
    "  shard INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, ip, port)) WITHOUT ROWID;"
    "CREATE TABLE verdicts ("
    "  job_id INTEGER NOT NULL,"
    "  ip INTEGER NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  verdict TEXT NOT NULL,"
    "  original_ip INTEGER NOT NULL,"
    "  fresh_ip INTEGER NOT NULL,"
    "  evidence TEXT NOT NULL DEFAULT '',"
    "  ts_us INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, ip, port)) WITHOUT ROWID;"
    "CREATE TABLE contacts ("
    "  job_id INTEGER NOT NULL,"
    "  source_ip INTEGER NOT NULL,"
    "  ip INTEGER NOT NULL,"
    "  first_us INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, source_ip, ip)) WITHOUT ROWID;";

/* Version 2: verification looks contacts up by (source_ip, ip) across jobs. */
static const char *const schema_v2 = "CREATE INDEX contacts_pair ON contacts (source_ip, ip);";

/* Version 3: a scan IP sent a probe to every target of its shards, answered or not, so it is
 * noted once per job in scan_sources instead of once per result in contacts (which now holds
 * the fresh IPs verification chose). The scan IPs of older results move over. */
static const char *const schema_v3 =
    "CREATE TABLE scan_sources ("
    "  source_ip INTEGER NOT NULL,"
    "  job_id INTEGER NOT NULL,"
    "  first_us INTEGER NOT NULL,"
    "  PRIMARY KEY (source_ip, job_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO scan_sources (source_ip, job_id, first_us)"
    "  SELECT source_ip, job_id, min(ts_us) FROM results GROUP BY source_ip, job_id;";

/* Version 4: comparison across vantage points. A job with `[vantage] compare = N` keeps N
 * copies (passes) of each shard, each scanned from a different scan IP (shards.scan_ip says
 * which), and every record also lands in vantage_results keyed by its scan IP; results keeps
 * the union (a service from any vantage wins). */
static const char *const schema_v4 =
    "ALTER TABLE jobs ADD COLUMN passes INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE shards ADD COLUMN pass INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE shards ADD COLUMN scan_ip INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX shards_scan ON shards (job_id, scan_ip);"
    "CREATE TABLE vantage_results ("
    "  job_id INTEGER NOT NULL,"
    "  ip INTEGER NOT NULL,"
    "  port INTEGER NOT NULL,"
    "  source_ip INTEGER NOT NULL,"
    "  class TEXT NOT NULL,"
    "  protocol TEXT NOT NULL,"
    "  worker TEXT NOT NULL,"
    "  shard INTEGER NOT NULL,"
    "  ts_us INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, ip, port, source_ip)) WITHOUT ROWID;";

/* Version 5: a cancelled job keeps why (a shard that kept failing, say), and a shard's attempts
 * column counts failures instead of leases. */
static const char *const schema_v5 = "ALTER TABLE jobs ADD COLUMN reason TEXT NOT NULL DEFAULT '';"
                                     "UPDATE shards SET attempts = 0;";

/* Version 6: each result row gets, when first stored, the next number of its job (seq), so
 * `lzr-coord results --follow` can ask for the rows stored since the last it printed. */
static const char *const schema_v6 =
    "ALTER TABLE results ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX results_seq ON results (job_id, seq);";

/* Version 7: job bounds and counts. span: the cycle positions the shards tile (0: the whole
 * cycle; less for a job of max_targets); started_us: when the job began running, which
 * max_runtime counts from; a shard dropped at max_runtime is done without having been scanned;
 * a done shard keeps its worker's counters (SYNs, frames, replies, pcap drops, blocklisted). */
static const char *const schema_v7 = "ALTER TABLE jobs ADD COLUMN span INTEGER NOT NULL DEFAULT 0;"
                                     "ALTER TABLE jobs ADD COLUMN started_us INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN dropped INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN syns INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN frames INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN replies INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN pcap_drops INTEGER NOT NULL"
                                     " DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN blocked INTEGER NOT NULL"
                                     " DEFAULT 0;";

/* Version 8: an address column (ip, source_ip, scan IPs) may hold an IPv6 address, as a 16-byte
 * BLOB beside the INTEGERs of IPv4 (bind_addr). No table changes; the version keeps a
 * coordinator that would read such a BLOB as the number 0 away from the file. */
static const char *const schema_v8 = "SELECT 1;";

/* Version 9: the IPv6 side of a job for `lzr-coord compare`: jobs.size6, the IPv6 (address,
 * port) pairs among its size, and shards.scan_ip6, the IPv6 scan IP of the shard's last lease
 * holder (NULL when it had none). */
static const char *const schema_v9 = "ALTER TABLE jobs ADD COLUMN size6 INTEGER NOT NULL DEFAULT 0;"
                                     "ALTER TABLE shards ADD COLUMN scan_ip6 BLOB;";

/* The step from version k to k + 1 is schema_steps[k]. */
static const char *const schema_steps[] = {schema_v1, schema_v2, schema_v3, schema_v4, schema_v5,
                                           schema_v6, schema_v7, schema_v8, schema_v9};
_Static_assert(sizeof schema_steps / sizeof *schema_steps == STORE_SCHEMA_VERSION,
               "one schema step per version");

static int exec(store_t *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? LZR_OK : LZR_EDB;
}

static int user_version(store_t *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static store_t *open_db(const char *path, int flags, char *err, size_t errlen)
{
    store_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        store_close(&s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    return s;
}

store_t *store_open(const char *path, char *err, size_t errlen)
{
    store_t *s = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
    if (!s)
        return NULL;
    /* Refuse a database this process cannot write before anything else: SQLite would open it
     * read-only without a word, and every later write would fail. */
    snprintf(s->path, sizeof s->path, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    if (store_check(s, err, errlen) != LZR_OK) {
        store_close(&s);
        return NULL;
    }
    /* WAL lets `lzr-coord results` read while the coordinator writes; FULL sync makes a commit
     * survive a crash, which is what an Ack promises. */
    if (exec(s, "PRAGMA journal_mode=WAL") || exec(s, "PRAGMA synchronous=FULL") ||
        exec(s, "PRAGMA foreign_keys=ON")) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
        store_close(&s);
        return NULL;
    }
    int v = user_version(s);
    if (v < 0) {
        snprintf(err, errlen, "%s: not an SQLite database: %s", path, sqlite3_errmsg(s->db));
        store_close(&s);
        return NULL;
    }
    if (v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: schema version %d is newer than this lzr-coord's (%d)", path, v,
                 STORE_SCHEMA_VERSION);
        store_close(&s);
        return NULL;
    }
    if (v < STORE_SCHEMA_VERSION) {
        /* One step per version, all in one transaction: a crash leaves the old version. */
        char *msg = NULL;
        int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int k = v; rc == SQLITE_OK && k < STORE_SCHEMA_VERSION; k++)
            rc = sqlite3_exec(s->db, schema_steps[k], NULL, NULL, &msg);
        char done[64];
        snprintf(done, sizeof done, "PRAGMA user_version=%d; COMMIT", STORE_SCHEMA_VERSION);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(s->db, done, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot %s the schema: %s", path,
                     v == 0 ? "create" : "upgrade", msg ? msg : sqlite3_errmsg(s->db));
            sqlite3_free(msg);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            store_close(&s);
            return NULL;
        }
    }
    s->version = STORE_SCHEMA_VERSION;
    s->ckpt = checkpointer_start(s->db, path);
    return s;
}

int store_check(store_t *s, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", s->path);
    const char *d = dirname(dir);
    struct stat st;
    if (stat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
        snprintf(err, errlen, "%s: the database file is gone (deleted or replaced)", s->path);
        return LZR_EDB;
    }
    /* SQLite opens a file it cannot write read-only without a word, and WAL needs to create
     * its -wal and -shm files next to the database. */
    if (sqlite3_db_readonly(s->db, "main") == 1 || access(s->path, W_OK) != 0) {
        snprintf(err, errlen, "%s: the database is read-only", s->path);
        return LZR_EDB;
    }
    if (access(d, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s: the database's directory %s is not writable", s->path, d);
        return LZR_EDB;
    }
    return LZR_OK;
}

store_t *store_open_readonly(const char *path, char *err, size_t errlen)
{
    store_t *s = open_db(path, SQLITE_OPEN_READONLY, err, errlen);
    if (!s)
        return NULL;
    int v = user_version(s);
    /* Older databases read the same: versions 2 and 3 added an index and a table that only
     * the coordinator's verification pass reads; the comparison of version 4 reads a version 3
     * database as jobs of one pass (store_compare_*); version 5's column only the coordinator
     * reads. */
    if (v < 1 || v > STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: %s (schema version %d, expected 1-%d)", path,
                 v < 0 ? sqlite3_errmsg(s->db) : "not an lzr database", v, STORE_SCHEMA_VERSION);
        store_close(&s);
        return NULL;
    }
    s->version = v;
    return s;
}

void store_close(store_t **sp)
{
    if (!sp || !*sp)
        return;
    checkpointer_stop(&(*sp)->ckpt);
    sqlite3_finalize((*sp)->put_result);
    sqlite3_finalize((*sp)->put_source);
    sqlite3_finalize((*sp)->get_passes);
    sqlite3_finalize((*sp)->put_vantage);
    sqlite3_close((*sp)->db);
    free(*sp);
    *sp = NULL;
}

const char *store_errmsg(store_t *s)
{
    return sqlite3_errmsg(s->db);
}

/* Prepares sql; returns NULL on error (the caller reports store_errmsg). */
static sqlite3_stmt *prep(store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

/* prep with the job id bound to its first parameter; NULL on error. */
static sqlite3_stmt *prep_job(store_t *s, const char *sql, uint64_t job_id)
{
    sqlite3_stmt *st = prep(s, sql);
    if (st)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
    return st;
}

/* Runs a statement without result rows; returns LZR_OK or LZR_EDB, and finalizes it. */
static int run(sqlite3_stmt *st)
{
    if (!st)
        return LZR_EDB;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? LZR_OK : LZR_EDB;
}

/* run for an UPDATE that must match a row: LZR_ENOTFOUND when it matched none. */
static int run_matched(store_t *s, sqlite3_stmt *st)
{
    int rc = run(st);
    if (rc == LZR_OK && sqlite3_changes(s->db) == 0)
        return LZR_ENOTFOUND;
    return rc;
}

/* Steps a statement that yields one number into *n and finalizes it: LZR_EDB (and *n = 0) when
 * it cannot be prepared or run, so a count never passes a database error off as zero. */
static int count_row(sqlite3_stmt *st, uint64_t *n)
{
    *n = 0;
    if (!st)
        return LZR_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? LZR_OK : LZR_EDB;
}

/* What each_row calls for one result row: 0 to go on, anything else stops the walk. */
typedef int (*row_fn)(sqlite3_stmt *st, void *ctx);

/* Steps st through its rows, calling row for each, and finalizes it. Returns the first nonzero
 * value row gave, LZR_EDB when st is NULL or stepping failed, else LZR_OK. */
static int each_row(sqlite3_stmt *st, row_fn row, void *ctx)
{
    if (!st)
        return LZR_EDB;
    int rc, ret = LZR_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (ret = row(st, ctx)) == LZR_OK)
        ;
    sqlite3_finalize(st);
    if (ret)
        return ret;
    return rc == SQLITE_DONE ? LZR_OK : LZR_EDB;
}

struct one_row {
    row_fn read;
    void *out;
    bool found;
};

static int one_row_read(sqlite3_stmt *st, void *ctx)
{
    struct one_row *o = ctx;
    o->found = true;
    return o->read(st, o->out);
}

/* Steps a statement that yields at most one row (a lookup, an UPDATE … RETURNING of one row)
 * and finalizes it; read takes the row into out. LZR_ENOTFOUND when no row came. */
static int one_row(sqlite3_stmt *st, row_fn read, void *out)
{
    struct one_row o = {read, out, false};
    int rc = each_row(st, one_row_read, &o);
    return rc == LZR_OK && !o.found ? LZR_ENOTFOUND : rc;
}

/* A growing array the row walkers fill: items of size bytes, n of them in cap slots. */
typedef struct rows {
    void **items;
    size_t *n;
    size_t size, cap;
} rows_t;

/* The next free slot of a, zeroed, grown as needed; NULL when memory runs out. */
static void *rows_add(rows_t *a)
{
    void *g = grow(*a->items, *a->n, &a->cap, a->size, 16);
    if (!g)
        return NULL;
    *a->items = g;
    void *slot = (char *)*a->items + (*a->n)++ * a->size;
    memset(slot, 0, a->size);
    return slot;
}

/* Ends a walk that filled a: on failure the array is freed and emptied. Returns rc. */
static int rows_end(rows_t *a, int rc)
{
    if (rc != LZR_OK) {
        free(*a->items);
        *a->items = NULL;
        *a->n = 0;
    }
    return rc;
}

/* Column col as an unsigned number (addresses, ports, counters are stored as INTEGER). */
static uint64_t col_u64(sqlite3_stmt *st, int col)
{
    return (uint64_t)sqlite3_column_int64(st, col);
}

/* An address column: an IPv4 address is an INTEGER (host byte order), as every row before IPv6
 * was; an IPv6 address a 16-byte BLOB (network order). SQLite sorts every INTEGER before every
 * BLOB and BLOBs bytewise, so ORDER BY ip lists IPv4 in numeric order, then IPv6. */
static void bind_addr(sqlite3_stmt *st, int i, const lzr_addr_t *a)
{
    if (a->family == ADDR_IPV6)
        sqlite3_bind_blob(st, i, a->v6, 16, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, i, a->v4);
}

static lzr_addr_t col_addr(sqlite3_stmt *st, int col)
{
    lzr_addr_t a = {.family = ADDR_IPV4};
    if (sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == 16) {
        a.family = ADDR_IPV6;
        memcpy(a.v6, sqlite3_column_blob(st, col), 16);
    } else {
        a.v4 = (uint32_t)sqlite3_column_int64(st, col);
    }
    return a;
}

/* Column col as a class name; dflt when it is NULL or no class's name. */
static lzr_class_t col_class(sqlite3_stmt *st, int col, lzr_class_t dflt)
{
    const char *c = (const char *)sqlite3_column_text(st, col);
    lzr_class_t cls;
    return c && record_class_parse(c, &cls) == LZR_OK ? cls : dflt;
}

int store_job_insert(store_t *s, const store_job_t *j, uint64_t *id, char *err, size_t errlen)
{
    if (exec(s, "BEGIN IMMEDIATE"))
        goto fail;
    sqlite3_stmt *st = prep(s, "INSERT INTO jobs (name, state, filename, toml, seed, cookie_key,"
                               " rate, n_shards, size, perm_prime, perm_generator, perm_start,"
                               " created_us, passes, span, size6)"
                               " VALUES (?,'waiting',?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        goto rollback;
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->filename, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->toml ? j->toml : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)j->seed);
    sqlite3_bind_text(st, 5, j->key_hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, j->rate);
    sqlite3_bind_int64(st, 7, j->n_shards);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)j->size);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)j->perm.prime);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)j->perm.generator);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)j->perm.start);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)j->created_us);
    uint32_t passes = j->passes ? j->passes : 1;
    sqlite3_bind_int64(st, 13, passes);
    uint64_t span = j->span ? j->span : perm_cycle_len(&j->perm);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)(j->span ? j->span : 0));
    sqlite3_bind_int64(st, 15, (sqlite3_int64)j->size6);
    if (run(st))
        goto rollback;
    *id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    /* Pass p's copy of shard i is shard p × n_shards + i: the same positions, scanned again. */
    st = prep(s, "INSERT INTO shards (job_id, idx, pos_begin, pos_end, pass) VALUES (?,?,?,?,?)");
    if (!st)
        goto rollback;
    for (uint32_t i = 0; i < j->n_shards * passes; i++) {
        uint64_t b, e;
        perm_split_range(span, i % j->n_shards, j->n_shards, &b, &e);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)*id);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)b);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)e);
        sqlite3_bind_int64(st, 5, i / j->n_shards);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            goto rollback;
        }
    }
    sqlite3_finalize(st);
    if (exec(s, "COMMIT"))
        goto rollback;
    return LZR_OK;
rollback:
    snprintf(err, errlen, "cannot store the job: %s", sqlite3_errmsg(s->db));
    exec(s, "ROLLBACK");
    return LZR_EDB;
fail:
    snprintf(err, errlen, "cannot store the job: %s", sqlite3_errmsg(s->db));
    return LZR_EDB;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

#define JOB_COLS                                                                                   \
    "id, name, state, filename, toml, seed, cookie_key, rate, n_shards, size, perm_prime,"         \
    " perm_generator, perm_start, created_us, finished_us"

int store_job_get(store_t *s, uint64_t id, store_job_t *out)
{
    memset(out, 0, sizeof *out);
    /* Before version 4 every job had one pass; before version 6 none had bounds. */
    sqlite3_stmt *st =
        prep(s, s->version >= 9   ? "SELECT " JOB_COLS ", passes, span, started_us, size6"
                                    " FROM jobs WHERE id = ?"
                : s->version >= 7 ? "SELECT " JOB_COLS ", passes, span, started_us, 0"
                                    " FROM jobs WHERE id = ?"
                : s->version >= 4 ? "SELECT " JOB_COLS ", passes, 0, 0, 0 FROM jobs WHERE id = ?"
                                  : "SELECT " JOB_COLS ", 1, 0, 0, 0 FROM jobs WHERE id = ?");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? LZR_ENOTFOUND : LZR_EDB;
    }
    out->id = (uint64_t)sqlite3_column_int64(st, 0);
    copy_col(out->name, sizeof out->name, st, 1);
    copy_col(out->state, sizeof out->state, st, 2);
    copy_col(out->filename, sizeof out->filename, st, 3);
    const unsigned char *toml = sqlite3_column_text(st, 4);
    out->toml = strdup(toml ? (const char *)toml : "");
    out->seed = (uint64_t)sqlite3_column_int64(st, 5);
    copy_col(out->key_hex, sizeof out->key_hex, st, 6);
    out->rate = (uint32_t)sqlite3_column_int64(st, 7);
    out->n_shards = (uint32_t)sqlite3_column_int64(st, 8);
    out->size = (uint64_t)sqlite3_column_int64(st, 9);
    out->perm.size = out->size;
    out->perm.prime = (uint64_t)sqlite3_column_int64(st, 10);
    out->perm.generator = (uint64_t)sqlite3_column_int64(st, 11);
    out->perm.start = (uint64_t)sqlite3_column_int64(st, 12);
    out->created_us = (uint64_t)sqlite3_column_int64(st, 13);
    out->finished_us = (uint64_t)sqlite3_column_int64(st, 14);
    out->passes = (uint32_t)sqlite3_column_int64(st, 15);
    if (out->passes < 1)
        out->passes = 1;
    out->span = (uint64_t)sqlite3_column_int64(st, 16);
    if (!out->span)
        out->span = perm_cycle_len(&out->perm);
    out->started_us = (uint64_t)sqlite3_column_int64(st, 17);
    out->size6 = (uint64_t)sqlite3_column_int64(st, 18);
    sqlite3_finalize(st);
    return out->toml ? LZR_OK : LZR_ENOMEM;
}

void store_job_clear(store_job_t *j)
{
    free(j->toml);
    j->toml = NULL;
}

static int job_id_row(sqlite3_stmt *st, void *ctx)
{
    uint64_t *id = rows_add(ctx);
    if (!id)
        return LZR_ENOMEM;
    *id = col_u64(st, 0);
    return LZR_OK;
}

int store_job_ids(store_t *s, const char *state, uint64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(s, state ? "SELECT id FROM jobs WHERE state = ? ORDER BY id"
                                     : "SELECT id FROM jobs ORDER BY id");
    if (st && state)
        sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    rows_t a = {(void **)ids, n, sizeof **ids, 0};
    return rows_end(&a, each_row(st, job_id_row, &a));
}

int store_job_set_state(store_t *s, uint64_t id, const char *state)
{
    bool final = strcmp(state, "done") == 0 || strcmp(state, "cancelled") == 0;
    if (exec(s, "BEGIN IMMEDIATE"))
        return LZR_EDB;
    sqlite3_stmt *st = prep(s, "UPDATE jobs SET state = ?1, finished_us = CASE WHEN ?2 THEN"
                               " CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
                               " ELSE finished_us END, started_us = CASE WHEN ?1 = 'running'"
                               " AND started_us = 0 THEN"
                               " CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
                               " ELSE started_us END WHERE id = ?3");
    if (st) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, final);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
    }
    int rc = run(st);
    if (rc == LZR_OK && sqlite3_changes(s->db) == 0)
        rc = LZR_ENOTFOUND;
    if (rc == LZR_OK && strcmp(state, "cancelled") == 0) {
        st = prep(s, "UPDATE shards SET lease_owner = '', lease_expiry_us = 0,"
                     " state = CASE state WHEN 'leased' THEN 'pending' ELSE state END"
                     " WHERE job_id = ?");
        if (st)
            sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
        rc = run(st);
    }
    if (rc == LZR_OK && exec(s, "COMMIT") == LZR_OK)
        return LZR_OK;
    exec(s, "ROLLBACK");
    return rc ? rc : LZR_EDB;
}

int store_job_cancel(store_t *s, uint64_t id, const char *reason)
{
    int rc = store_job_set_state(s, id, "cancelled");
    return rc == LZR_OK ? store_job_note(s, id, reason) : rc;
}

int store_job_note(store_t *s, uint64_t id, const char *reason)
{
    sqlite3_stmt *st = prep(s, "UPDATE jobs SET reason = ? WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
    }
    return run(st);
}

void store_job_reason(store_t *s, uint64_t id, char *out, size_t cap)
{
    out[0] = '\0';
    sqlite3_stmt *st = prep(s, "SELECT reason FROM jobs WHERE id = ?");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(out, cap, st, 0);
    sqlite3_finalize(st);
}

/* A shard's state from its stored word; anything not pending or leased is done. */
static shard_state_t shard_state_parse(const char *state)
{
    return strcmp(state, "pending") == 0  ? SHARD_PENDING
           : strcmp(state, "leased") == 0 ? SHARD_LEASED
                                          : SHARD_DONE;
}

/* One row of SHARD_COLS into the store_shard_t at ctx. */
static int read_shard(sqlite3_stmt *st, void *ctx)
{
    store_shard_t *out = ctx;
    out->job_id = (uint64_t)sqlite3_column_int64(st, 0);
    out->idx = (uint32_t)sqlite3_column_int64(st, 1);
    out->pos_begin = (uint64_t)sqlite3_column_int64(st, 2);
    out->pos_end = (uint64_t)sqlite3_column_int64(st, 3);
    const char *state = (const char *)sqlite3_column_text(st, 4);
    out->state = state ? shard_state_parse(state) : SHARD_PENDING;
    copy_col(out->owner, sizeof out->owner, st, 5);
    out->lease_expiry_us = (uint64_t)sqlite3_column_int64(st, 6);
    out->attempts = (uint32_t)sqlite3_column_int64(st, 7);
    out->pass = (uint32_t)sqlite3_column_int64(st, 8);
    out->scan_ip = (uint32_t)sqlite3_column_int64(st, 9);
    return LZR_OK;
}

#define SHARD_COLS                                                                                 \
    "job_id, idx, pos_begin, pos_end, state, lease_owner, lease_expiry_us, attempts, pass, "       \
    "scan_ip"

int store_shard_get(store_t *s, uint64_t job_id, uint32_t idx, store_shard_t *out)
{
    sqlite3_stmt *st =
        prep_job(s, "SELECT " SHARD_COLS " FROM shards WHERE job_id = ? AND idx = ?", job_id);
    if (st)
        sqlite3_bind_int64(st, 2, idx);
    return one_row(st, read_shard, out);
}

int store_shard_lease_next(store_t *s, uint64_t job_id, const char *owner, uint32_t scan_ip,
                           const lzr_addr_t *scan_ip6, uint64_t now_us, uint64_t expiry_us,
                           store_shard_t *out)
{
    /* In a job of several passes, a shard whose copy in another pass went to this scan IP is
     * not this worker's: each pass of a target must come from a different scan IP. A pending
     * shard's lease_expiry_us is the end of its back-off after a failure. */
    sqlite3_stmt *st =
        prep(s, "UPDATE shards SET state = 'leased', lease_owner = ?1, lease_expiry_us = ?2,"
                " scan_ip = ?4, scan_ip6 = ?6 WHERE job_id = ?3 AND idx ="
                " (SELECT p.idx FROM shards p WHERE p.job_id = ?3 AND p.state = 'pending' AND"
                " p.lease_expiry_us <= ?5 AND"
                " ((SELECT passes FROM jobs WHERE id = ?3) <= 1 OR NOT EXISTS (SELECT 1 FROM"
                " shards o WHERE o.job_id = ?3 AND o.scan_ip = ?4 AND o.pass <> p.pass AND"
                " o.pos_begin = p.pos_begin)) ORDER BY p.idx LIMIT 1)"
                " RETURNING " SHARD_COLS);
    if (st) {
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)expiry_us);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)job_id);
        sqlite3_bind_int64(st, 4, scan_ip);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)now_us);
        if (scan_ip6 && scan_ip6->family == ADDR_IPV6)
            bind_addr(st, 6, scan_ip6);
    }
    return one_row(st, read_shard, out);
}

/* Renews owner's lease of job_id's shard idx until expiry_us while its job runs; with
 * pending_too, a pending shard is taken as well. */
static int lease_renew(store_t *s, uint64_t job_id, uint32_t idx, const char *owner,
                       uint64_t expiry_us, bool pending_too)
{
    sqlite3_stmt *st = prep(s, "UPDATE shards SET state = 'leased', lease_owner = ?1,"
                               " lease_expiry_us = ?2 WHERE job_id = ?3 AND idx = ?4 AND"
                               " ((?5 AND state = 'pending') OR"
                               " (state = 'leased' AND lease_owner = ?1))"
                               " AND (SELECT state FROM jobs WHERE id = ?3) = 'running'");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)expiry_us);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)job_id);
    sqlite3_bind_int64(st, 4, idx);
    sqlite3_bind_int(st, 5, pending_too);
    return run_matched(s, st);
}

int store_shard_renew(store_t *s, uint64_t job_id, uint32_t idx, const char *owner,
                      uint64_t expiry_us)
{
    return lease_renew(s, job_id, idx, owner, expiry_us, true);
}

int store_shard_reclaim(store_t *s, uint64_t job_id, uint32_t idx, const char *owner,
                        uint64_t expiry_us)
{
    return lease_renew(s, job_id, idx, owner, expiry_us, false);
}

/* Ends owner's lease of job_id's shard idx with the UPDATE sql (parameters: job, shard,
 * owner); LZR_ENOTFOUND when the shard is not leased to owner. */
static int lease_end(store_t *s, const char *sql, uint64_t job_id, uint32_t idx, const char *owner)
{
    sqlite3_stmt *st = prep_job(s, sql, job_id);
    if (!st)
        return LZR_EDB;
    sqlite3_bind_int64(st, 2, idx);
    sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
    return run_matched(s, st);
}

int store_shard_done(store_t *s, uint64_t job_id, uint32_t idx, const char *owner)
{
    return lease_end(s,
                     "UPDATE shards SET state = 'done', lease_owner = '', lease_expiry_us = 0"
                     " WHERE job_id = ? AND idx = ? AND state = 'leased' AND lease_owner = ?",
                     job_id, idx, owner);
}

/* A row's first two columns into the uint64_t[2] at ctx. */
static int read_u64_pair(sqlite3_stmt *st, void *ctx)
{
    uint64_t *v = ctx;
    v[0] = col_u64(st, 0);
    v[1] = col_u64(st, 1);
    return LZR_OK;
}

int store_shard_fail(store_t *s, uint64_t job_id, uint32_t idx, const char *owner, uint64_t now_us,
                     uint64_t backoff_us, uint32_t *failures, uint64_t *retry_us)
{
    *failures = 0;
    *retry_us = now_us;
    /* SET reads the old attempts: backoff_us after the first failure, doubling, at most 64×. */
    sqlite3_stmt *st = prep(s, "UPDATE shards SET state = 'pending', lease_owner = '',"
                               " lease_expiry_us = ?5 + (?6 << min(attempts, 6)),"
                               " attempts = attempts + 1 WHERE job_id = ?1 AND idx = ?2 AND"
                               " state = 'leased' AND lease_owner = ?3"
                               " RETURNING attempts, lease_expiry_us");
    if (st) {
        sqlite3_bind_int64(st, 5, (sqlite3_int64)now_us);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)backoff_us);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
        sqlite3_bind_int64(st, 2, idx);
        sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
    }
    uint64_t got[2] = {0, now_us};
    int rc = one_row(st, read_u64_pair, got);
    *failures = (uint32_t)got[0];
    *retry_us = got[1];
    return rc;
}

int store_shard_release(store_t *s, uint64_t job_id, uint32_t idx, const char *owner)
{
    return lease_end(s,
                     "UPDATE shards SET state = 'pending', lease_owner = '', lease_expiry_us = 0"
                     " WHERE job_id = ? AND idx = ? AND state = 'leased' AND lease_owner = ?",
                     job_id, idx, owner);
}

int store_shards_expire(store_t *s, uint64_t now_us, int *n)
{
    *n = 0;
    sqlite3_stmt *st = prep(s, "UPDATE shards SET state = 'pending', lease_owner = '',"
                               " lease_expiry_us = 0 WHERE state = 'leased' AND"
                               " lease_expiry_us < ?");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)now_us);
    int rc = run(st);
    if (rc == LZR_OK)
        *n = sqlite3_changes(s->db);
    return rc;
}

int store_leases_extend(store_t *s, uint64_t until_us)
{
    sqlite3_stmt *st = prep(s, "UPDATE shards SET lease_expiry_us = ? WHERE state = 'leased'");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)until_us);
    return run(st);
}

/* One (state, count) row into counts[] by shard_state_t (pending, leased, done). */
static int shard_count_row(sqlite3_stmt *st, void *ctx)
{
    uint32_t **counts = ctx;
    const char *state = (const char *)sqlite3_column_text(st, 0);
    if (state)
        *counts[shard_state_parse(state)] = (uint32_t)col_u64(st, 1);
    return LZR_OK;
}

int store_shard_counts(store_t *s, uint64_t job_id, uint32_t *pending, uint32_t *leased,
                       uint32_t *done)
{
    *pending = *leased = *done = 0;
    uint32_t *counts[] = {[SHARD_PENDING] = pending, [SHARD_LEASED] = leased, [SHARD_DONE] = done};
    sqlite3_stmt *st =
        prep_job(s, "SELECT state, count(*) FROM shards WHERE job_id = ? GROUP BY state", job_id);
    return each_row(st, shard_count_row, counts);
}

int store_shards_drop(store_t *s, uint64_t job_id, uint32_t *n)
{
    *n = 0;
    sqlite3_stmt *st = prep_job(s,
                                "UPDATE shards SET state = 'done', dropped = 1"
                                " WHERE job_id = ? AND state = 'pending'",
                                job_id);
    int rc = run(st);
    if (rc == LZR_OK)
        *n = (uint32_t)sqlite3_changes(s->db);
    return rc;
}

int store_shard_stats(store_t *s, uint64_t job_id, uint32_t idx, const store_shard_stats_t *st)
{
    sqlite3_stmt *q = prep(s, "UPDATE shards SET syns = ?, frames = ?, replies = ?,"
                              " pcap_drops = ?, blocked = ? WHERE job_id = ? AND idx = ?");
    if (q) {
        const uint64_t v[] = {st->syns, st->frames, st->replies, st->pcap_drops, st->blocked};
        for (int i = 0; i < 5; i++)
            sqlite3_bind_int64(q, i + 1, (sqlite3_int64)v[i]);
        sqlite3_bind_int64(q, 6, (sqlite3_int64)job_id);
        sqlite3_bind_int64(q, 7, idx);
    }
    return run(q);
}

struct tally {
    metajson_counts_t *m;
    metajson_protocols_t *p;
};

/* One (class, protocol, count) row into the tally; a class name no class has is not counted. */
static int tally_row(sqlite3_stmt *q, void *ctx)
{
    struct tally *t = ctx;
    uint64_t n = col_u64(q, 2);
    lzr_class_t cls = col_class(q, 0, CLASS_COUNT);
    if (cls != CLASS_COUNT)
        t->m->per_class[cls] += n;
    metajson_add_protocol(t->p, (const char *)sqlite3_column_text(q, 1), n);
    return LZR_OK;
}

/* Records per class name and per protocol of a job's results. */
static int tally_results(store_t *s, uint64_t job_id, metajson_counts_t *m, metajson_protocols_t *p)
{
    sqlite3_stmt *q = prep_job(s,
                               "SELECT class, protocol, count(*) FROM results WHERE job_id = ?"
                               " GROUP BY class, protocol",
                               job_id);
    struct tally t = {m, p};
    return each_row(q, tally_row, &t);
}

int store_job_tally(store_t *s, uint64_t job_id, metajson_counts_t *m, metajson_protocols_t *p)
{
    if (s->version >= 7) {
        sqlite3_stmt *q = prep_job(s,
                                   "SELECT total(syns), total(frames), total(replies),"
                                   " total(pcap_drops), total(blocked) FROM shards"
                                   " WHERE job_id = ?",
                                   job_id);
        if (!q)
            return LZR_EDB;
        if (sqlite3_step(q) == SQLITE_ROW) {
            m->probes = (uint64_t)sqlite3_column_double(q, 0);
            m->frames = (uint64_t)sqlite3_column_double(q, 1);
            m->replies = (uint64_t)sqlite3_column_double(q, 2);
            m->pcap_drops = (uint64_t)sqlite3_column_double(q, 3);
            m->blocked = (uint64_t)sqlite3_column_double(q, 4);
        }
        sqlite3_finalize(q);
    }
    m->protocols = p;
    return tally_results(s, job_id, m, p);
}

int store_shards_dropped(store_t *s, uint64_t job_id, uint32_t *n)
{
    *n = 0;
    if (s->version < 7)
        return LZR_OK;
    sqlite3_stmt *st =
        prep_job(s, "SELECT count(*) FROM shards WHERE job_id = ? AND dropped", job_id);
    uint64_t v = 0;
    int rc = count_row(st, &v);
    *n = (uint32_t)v;
    return rc;
}

int store_positions_done(store_t *s, uint64_t job_id, uint64_t *n)
{
    sqlite3_stmt *st = prep(s, s->version >= 7 ? "SELECT total(pos_end - pos_begin) FROM shards"
                                                 " WHERE job_id = ? AND state = 'done'"
                                                 " AND NOT dropped"
                                               : "SELECT total(pos_end - pos_begin) FROM shards"
                                                 " WHERE job_id = ? AND state = 'done'");
    if (st)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
    return count_row(st, n);
}

int store_worker_upsert(store_t *s, const char *name, const char *pubkey, uint32_t scan_ip,
                        const char *fresh_ips, const char *iface, const char *version,
                        uint64_t now_us)
{
    char ip[16];
    targets_ntoa(scan_ip, ip);
    sqlite3_stmt *st = prep(s, "INSERT INTO workers (name, pubkey, scan_ip, fresh_ips, iface,"
                               " version, first_seen_us, last_seen_us) VALUES (?,?,?,?,?,?,?,?)"
                               " ON CONFLICT (name) DO UPDATE SET pubkey = excluded.pubkey,"
                               " scan_ip = excluded.scan_ip, fresh_ips = excluded.fresh_ips,"
                               " iface = excluded.iface, version = excluded.version,"
                               " last_seen_us = excluded.last_seen_us");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pubkey, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ip, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fresh_ips, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, iface, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)now_us);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)now_us);
    return run(st);
}

int store_worker_key(store_t *s, const char *name, char *pubkey, size_t cap)
{
    pubkey[0] = '\0';
    sqlite3_stmt *st = prep(s, "SELECT pubkey FROM workers WHERE name = ?");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(pubkey, cap, st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? LZR_OK : rc == SQLITE_DONE ? LZR_ENOTFOUND : LZR_EDB;
}

int store_worker_revoke(store_t *s, const char *name)
{
    if (exec(s, "BEGIN IMMEDIATE"))
        return LZR_EDB;
    sqlite3_stmt *st = prep(s, "DELETE FROM workers WHERE name = ?");
    if (st)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = run(st);
    bool gone = rc == LZR_OK && sqlite3_changes(s->db) > 0;
    if (rc == LZR_OK) {
        st = prep(s, "UPDATE shards SET state = 'pending', lease_owner = '', lease_expiry_us = 0"
                     " WHERE state = 'leased' AND lease_owner = ?");
        if (st)
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = run(st);
    }
    if (rc == LZR_OK && exec(s, "COMMIT") == LZR_OK)
        return gone ? LZR_OK : LZR_ENOTFOUND;
    exec(s, "ROLLBACK");
    return LZR_EDB;
}

int store_worker_seen(store_t *s, const char *name, uint64_t now_us)
{
    sqlite3_stmt *st = prep(s, "UPDATE workers SET last_seen_us = ? WHERE name = ?");
    if (!st)
        return LZR_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)now_us);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    return run(st);
}

/* Whether job scans each target from several scan IPs (passes > 1). */
static int job_compared(store_t *s, uint64_t job_id, bool *yes)
{
    *yes = false;
    if (!s->get_passes)
        s->get_passes = prep(s, "SELECT passes FROM jobs WHERE id = ?");
    if (!s->get_passes)
        return LZR_EDB;
    sqlite3_reset(s->get_passes);
    sqlite3_bind_int64(s->get_passes, 1, (sqlite3_int64)job_id);
    int rc = sqlite3_step(s->get_passes);
    if (rc == SQLITE_ROW)
        *yes = sqlite3_column_int64(s->get_passes, 0) > 1;
    sqlite3_reset(s->get_passes);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LZR_OK : LZR_EDB;
}

/* Resets st and binds what results and vantage_results rows start with: ?1 job, ?2 address,
 * ?3 port, ?4 class and ?5 protocol. */
static void bind_row_head(sqlite3_stmt *st, const store_batch_t *b, const lzr_record_t *r)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)b->job_id);
    bind_addr(st, 2, &r->ip);
    sqlite3_bind_int64(st, 3, r->port);
    sqlite3_bind_text(st, 4, record_class_name(r->cls), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->protocol, -1, SQLITE_STATIC);
}

/* The batch's rows per scan IP (vantage_results), inside the caller's transaction; a service
 * seen from a scan IP is kept as results keeps one. */
static int put_vantage_rows(store_t *s, const store_batch_t *b)
{
    if (!s->put_vantage)
        s->put_vantage =
            prep(s, "INSERT INTO vantage_results (job_id, ip, port, class, protocol, source_ip,"
                    " worker, shard, ts_us) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (job_id, ip, port, source_ip) DO UPDATE SET"
                    " class = excluded.class, protocol = excluded.protocol,"
                    " worker = excluded.worker, shard = excluded.shard, ts_us = excluded.ts_us"
                    " WHERE excluded.class = 'service' OR (vantage_results.class <> 'service' AND"
                    " (excluded.class <> 'silent' OR vantage_results.class = 'silent'))");
    sqlite3_stmt *st = s->put_vantage;
    if (!st)
        return LZR_EDB;
    int rc = LZR_OK;
    for (size_t i = 0; i < b->n && rc == LZR_OK; i++) {
        const lzr_record_t *r = &b->recs[i];
        bind_row_head(st, b, r);
        bind_addr(st, 6, &r->source_ip);
        sqlite3_bind_text(st, 7, b->worker, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, b->shard);
        sqlite3_bind_int64(st, 9, (sqlite3_int64)r->ts_us);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = LZR_EDB;
    }
    sqlite3_reset(st);
    return rc;
}

/* Upserts one batch's rows inside the caller's transaction; on failure says why in err. */
static int put_rows(store_t *s, const store_batch_t *b, char *err, size_t errlen)
{
    /* A service result is evidence a later, unluckier scan must not erase, and so is any
     * answer against a later silence: with several passes, results is their union, and a host
     * that shuns the first scan IP is silent to the second on the port it answered. */
    if (!s->put_result)
        s->put_result = prep(
            s,
            "INSERT INTO results (job_id, ip, port, class, protocol, handshake, handshakes_tried,"
            " window, ttl_synack, ttl_last, synack_retransmits, acked_data, rtt_us, ts_us, data,"
            " source_ip, worker, shard, seq) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
            "?14,?15,?16,?17,?18,"
            " (SELECT coalesce(max(seq), 0) + 1 FROM results WHERE job_id = ?1))"
            " ON CONFLICT (job_id, ip, port) DO UPDATE SET class = excluded.class,"
            " protocol = excluded.protocol, handshake = excluded.handshake,"
            " handshakes_tried = excluded.handshakes_tried, window = excluded.window,"
            " ttl_synack = excluded.ttl_synack, ttl_last = excluded.ttl_last,"
            " synack_retransmits = excluded.synack_retransmits, acked_data = excluded.acked_data,"
            " rtt_us = excluded.rtt_us, ts_us = excluded.ts_us, data = excluded.data,"
            " source_ip = excluded.source_ip, worker = excluded.worker, shard = excluded.shard"
            " WHERE (excluded.class = 'service' OR (results.class <> 'service' AND"
            " (excluded.class <> 'silent' OR results.class = 'silent')))"
            " AND ?19 AND results.shard % (SELECT n_shards FROM jobs WHERE id = excluded.job_id)"
            " = excluded.shard % (SELECT n_shards FROM jobs WHERE id = excluded.job_id)");
    if (!s->put_source)
        s->put_source = prep(s, "INSERT INTO scan_sources (source_ip, job_id, first_us)"
                                " VALUES (?,?,?) ON CONFLICT DO NOTHING");
    sqlite3_stmt *res = s->put_result, *src = s->put_source;
    int rc = res && src ? LZR_OK : LZR_EDB;
    bool per_vantage = false;
    if (rc == LZR_OK && (rc = job_compared(s, b->job_id, &per_vantage)) == LZR_OK && per_vantage)
        rc = put_vantage_rows(s, b);
    lzr_addr_t noted = {
        0}; /* the last scan IP noted in this batch (a batch has one, in practice) */
    for (size_t i = 0; i < b->n && rc == LZR_OK; i++) {
        const lzr_record_t *r = &b->recs[i];
        bind_row_head(res, b, r);
        sqlite3_bind_text(res, 6, r->handshake, -1, SQLITE_STATIC);
        sqlite3_bind_int64(res, 7, r->handshakes_tried);
        sqlite3_bind_int64(res, 8, r->window);
        sqlite3_bind_int64(res, 9, r->ttl_synack);
        sqlite3_bind_int64(res, 10, r->ttl_last);
        sqlite3_bind_int64(res, 11, r->synack_retransmits);
        sqlite3_bind_int(res, 12, r->acked_data);
        sqlite3_bind_int64(res, 13, r->rtt_us);
        sqlite3_bind_int64(res, 14, (sqlite3_int64)r->ts_us);
        sqlite3_bind_blob(res, 15, r->data, r->data_len <= LZR_DATA_MAX ? r->data_len : 0,
                          SQLITE_STATIC);
        bind_addr(res, 16, &r->source_ip);
        sqlite3_bind_text(res, 17, b->worker, -1, SQLITE_STATIC);
        sqlite3_bind_int64(res, 18, b->shard);
        sqlite3_bind_int(res, 19, b->holder);
        if (sqlite3_step(res) != SQLITE_DONE) {
            rc = LZR_EDB;
            break;
        }
        if (i > 0 && addr_equal(&r->source_ip, &noted))
            continue;
        noted = r->source_ip;
        sqlite3_reset(src);
        bind_addr(src, 1, &r->source_ip);
        sqlite3_bind_int64(src, 2, (sqlite3_int64)b->job_id);
        sqlite3_bind_int64(src, 3, (sqlite3_int64)r->ts_us);
        if (sqlite3_step(src) != SQLITE_DONE)
            rc = LZR_EDB;
    }
    if (rc != LZR_OK)
        snprintf(err, errlen, "cannot store the results of job %llu shard %u: %s",
                 (unsigned long long)b->job_id, b->shard, sqlite3_errmsg(s->db));
    if (res)
        sqlite3_reset(res);
    if (src)
        sqlite3_reset(src);
    return rc;
}

int store_put_batches(store_t *s, const store_batch_t *b, size_t nb, char *err, size_t errlen)
{
    size_t rows = 0;
    for (size_t i = 0; i < nb; i++)
        rows += b[i].n;
    if (exec(s, "BEGIN IMMEDIATE")) {
        snprintf(err, errlen, "cannot begin a transaction: %s", sqlite3_errmsg(s->db));
        return LZR_EDB;
    }
    int rc = LZR_OK;
    for (size_t i = 0; i < nb && rc == LZR_OK; i++)
        rc = put_rows(s, &b[i], err, errlen);
    if (rc == LZR_OK && exec(s, "COMMIT") != LZR_OK) {
        snprintf(err, errlen, "cannot commit %zu results: %s", rows, sqlite3_errmsg(s->db));
        rc = LZR_EDB;
    }
    if (rc != LZR_OK) {
        int code = sqlite3_errcode(s->db);
        s->put_outage = code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY ||
                        code == SQLITE_CANTOPEN || code == SQLITE_BUSY || code == SQLITE_LOCKED ||
                        code == SQLITE_NOMEM || code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
        if (!sqlite3_get_autocommit(s->db)) /* SQLite may have rolled it back already */
            exec(s, "ROLLBACK");
    }
    return rc;
}

bool store_put_outage(store_t *s)
{
    return s->put_outage;
}

int store_put_batch(store_t *s, uint64_t job_id, uint32_t shard, const char *worker,
                    const lzr_record_t *recs, size_t n, char *err, size_t errlen)
{
    store_batch_t b = {
        .job_id = job_id, .shard = shard, .holder = true, .worker = worker, .recs = recs, .n = n};
    return store_put_batches(s, &b, 1, err, errlen);
}

int store_result_count(store_t *s, uint64_t job_id, uint64_t *n)
{
    sqlite3_stmt *st = prep_job(s, "SELECT count(*) FROM results WHERE job_id = ?", job_id);
    return count_row(st, n);
}

#define WALK_VERDICT_COLS                                                                          \
    "SELECT r.ip, r.port, r.class, r.protocol, r.handshake, r.handshakes_tried, r.window,"         \
    " r.ttl_synack, r.ttl_last, r.synack_retransmits, r.acked_data, r.rtt_us, r.ts_us, r.data,"    \
    " r.source_ip, r.worker, v.verdict"
#define WALK_VERDICT_FROM                                                                          \
    " FROM results r LEFT JOIN verdicts v ON v.job_id = r.job_id AND v.ip = r.ip"                  \
    " WHERE r.job_id = ?1 AND (?2 IS NULL OR r.class = ?2) AND (?3 IS NULL OR r.protocol = ?3)"

/* The walks of results_walk: plain, with verdicts, and with verdicts after a seq (which only
 * the last needs, so the others read databases older than schema version 6). */
static const char *const walk_sql[] = {
    "SELECT ip, port, class, protocol, handshake, handshakes_tried, window, ttl_synack, ttl_last,"
    " synack_retransmits, acked_data, rtt_us, ts_us, data, source_ip, worker, NULL"
    " FROM results WHERE job_id = ?1 AND (?2 IS NULL OR class = ?2) AND"
    " (?3 IS NULL OR protocol = ?3) ORDER BY ip, port",
    WALK_VERDICT_COLS WALK_VERDICT_FROM " ORDER BY r.ip, r.port",
    WALK_VERDICT_COLS ", r.seq" WALK_VERDICT_FROM " AND r.seq > ?4 ORDER BY r.seq",
};

/* What a public walker hands each decoded row to: one of its callbacks, and their context. */
struct walk {
    union {
        store_result_fn result;
        store_result_verdict_fn result_v; /* set instead of result for rows with a verdict */
        store_verdict_fn verdict;
        store_vantage_fn vantage;
    } fn;
    bool with_verdict;
    void *ctx;
    int64_t *after_seq; /* results_walk: follows the seq of the rows handed over */
};

/* One results row (walk_sql's columns) into a record, handed to fn or fn_v. */
static int result_row(sqlite3_stmt *st, void *ctx)
{
    struct walk *w = ctx;
    lzr_record_t r = {0};
    r.ip = col_addr(st, 0);
    r.port = (uint16_t)col_u64(st, 1);
    r.cls = col_class(st, 2, CLASS_SILENT);
    copy_col(r.protocol, sizeof r.protocol, st, 3);
    copy_col(r.handshake, sizeof r.handshake, st, 4);
    r.handshakes_tried = (uint8_t)sqlite3_column_int(st, 5);
    r.window = (uint16_t)sqlite3_column_int(st, 6);
    r.ttl_synack = (uint8_t)sqlite3_column_int(st, 7);
    r.ttl_last = (uint8_t)sqlite3_column_int(st, 8);
    r.synack_retransmits = (uint8_t)sqlite3_column_int(st, 9);
    r.acked_data = sqlite3_column_int(st, 10) != 0;
    r.rtt_us = (uint32_t)col_u64(st, 11);
    r.ts_us = col_u64(st, 12);
    int dlen = sqlite3_column_bytes(st, 13);
    const void *d = sqlite3_column_blob(st, 13);
    if (d && dlen > 0 && dlen <= LZR_DATA_MAX) {
        memcpy(r.data, d, (size_t)dlen);
        r.data_len = (uint16_t)dlen;
    }
    r.source_ip = col_addr(st, 14);
    const char *wk = (const char *)sqlite3_column_text(st, 15);
    const char *v = (const char *)sqlite3_column_text(st, 16);
    int ret = w->with_verdict ? w->fn.result_v(w->ctx, &r, wk ? wk : "", v ? v : "")
                              : w->fn.result(w->ctx, &r, wk ? wk : "");
    if (w->after_seq)
        *w->after_seq = sqlite3_column_int64(st, 17);
    return ret;
}

/* Walks results, with the verdict of each row when with_verdict; calls fn or fn_v. With
 * after_seq, only the rows stored after that seq, in the order they were stored, and
 * *after_seq follows the rows handed to fn_v. */
static int results_walk(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                        bool with_verdict, int64_t *after_seq, store_result_fn fn,
                        store_result_verdict_fn fn_v, void *ctx)
{
    sqlite3_stmt *st = prep_job(s, walk_sql[after_seq ? 2 : with_verdict ? 1 : 0], job_id);
    if (st && after_seq)
        sqlite3_bind_int64(st, 4, *after_seq);
    if (st && cls)
        sqlite3_bind_text(st, 2, cls, -1, SQLITE_STATIC);
    if (st && protocol)
        sqlite3_bind_text(st, 3, protocol, -1, SQLITE_STATIC);
    struct walk w = {.with_verdict = fn_v != NULL, .ctx = ctx, .after_seq = after_seq};
    if (fn_v)
        w.fn.result_v = fn_v;
    else
        w.fn.result = fn;
    return each_row(st, result_row, &w);
}

int store_results_each(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                       store_result_fn fn, void *ctx)
{
    return results_walk(s, job_id, cls, protocol, false, NULL, fn, NULL, ctx);
}

int store_results_each_verdict(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                               store_result_verdict_fn fn, void *ctx)
{
    return results_walk(s, job_id, cls, protocol, true, NULL, NULL, fn, ctx);
}

int store_results_since(store_t *s, uint64_t job_id, const char *cls, const char *protocol,
                        int64_t *after_seq, store_result_verdict_fn fn, void *ctx)
{
    return results_walk(s, job_id, cls, protocol, true, after_seq, NULL, fn, ctx);
}

/* ---- verification ------------------------------------------------------------------------ */

/* Hosts of job ?1 that answered some port and either lost one or answered fewer than ?2 ports
 * (the candidate rule of store.h), as (ip, lost) rows. */
#define CANDIDATE_HOSTS                                                                            \
    "SELECT ip, sum(class IN ('lost_after_synack', 'no_ack_data')) AS lost FROM results"           \
    " WHERE job_id = ?1 AND class <> 'silent' GROUP BY ip HAVING lost > 0 OR count(*) < ?2"

/* One candidate row; only the first (preferred) row of each host is kept, since blocking is
 * per source IP. */
static int candidate_row(sqlite3_stmt *st, void *ctx)
{
    rows_t *a = ctx;
    lzr_addr_t ip = col_addr(st, 0);
    if (*a->n && addr_equal(&((store_candidate_t *)*a->items)[*a->n - 1].ip, &ip))
        return LZR_OK;
    store_candidate_t *c = rows_add(a);
    if (!c)
        return LZR_ENOMEM;
    c->ip = ip;
    c->port = (uint16_t)col_u64(st, 1);
    c->cls = col_class(st, 2, CLASS_LOST_AFTER_SYNACK);
    c->why = c->cls == CLASS_LOST_AFTER_SYNACK ? CANDIDATE_LOST
             : c->cls == CLASS_NO_ACK_DATA     ? CANDIDATE_NO_ACK
                                               : CANDIDATE_PARTIAL;
    c->source_ip = col_addr(st, 3);
    copy_col(c->worker, sizeof c->worker, st, 4);
    return LZR_OK;
}

int store_candidates(store_t *s, uint64_t job_id, uint32_t n_ports, store_candidate_t **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    /* Rows of candidate hosts in order of preference, the preferred one first per host: a port
     * the scan IP lost, then one that never acked data, then any SYN-ACKed port (the trigger
     * test can send data there), then a closed one. Hosts of both families. */
    sqlite3_stmt *st =
        prep_job(s,
                 "SELECT r.ip, r.port, r.class, r.source_ip, r.worker FROM results r"
                 " JOIN (" CANDIDATE_HOSTS ") h ON h.ip = r.ip"
                 " WHERE r.job_id = ?1 AND r.class <> 'silent' AND"
                 " NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.job_id = ?1 AND v.ip = r.ip)"
                 " ORDER BY r.ip, CASE r.class WHEN 'lost_after_synack' THEN 0"
                 " WHEN 'no_ack_data' THEN 1 WHEN 'closed' THEN 3 ELSE 2 END, r.port",
                 job_id);
    if (st)
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n_ports);
    rows_t a = {(void **)out, n, sizeof **out, 0};
    return rows_end(&a, each_row(st, candidate_row, &a));
}

int store_candidate_count(store_t *s, uint64_t job_id, uint32_t n_ports, uint64_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM (" CANDIDATE_HOSTS ")");
    if (st) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n_ports);
    }
    return count_row(st, n);
}

int store_verdict_count(store_t *s, uint64_t job_id, uint64_t *n)
{
    sqlite3_stmt *st = prep_job(s, "SELECT count(*) FROM verdicts WHERE job_id = ?", job_id);
    return count_row(st, n);
}

bool store_contacted(store_t *s, const lzr_addr_t *source_ip, const lzr_addr_t *ip)
{
    sqlite3_stmt *st =
        prep(s, "SELECT 1 FROM contacts WHERE source_ip = ?1 AND ip = ?2"
                " UNION ALL SELECT 1 FROM scan_sources WHERE source_ip = ?1 LIMIT 1");
    if (!st)
        return true; /* when in doubt, the address is not fresh */
    bind_addr(st, 1, source_ip);
    bind_addr(st, 2, ip);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc != SQLITE_DONE;
}

/* Sets the parameters of row i of an insert_all. */
typedef void (*bind_fn)(sqlite3_stmt *st, size_t i, const void *ctx);

/* Runs the INSERT sql once per row i < n in one transaction, bind setting each row's
 * parameters: all rows are stored or none. On failure says in err (when errlen) that the n
 * what could not be stored, and why. */
static int insert_all(store_t *s, const char *sql, size_t n, bind_fn bind, const void *ctx,
                      const char *what, char *err, size_t errlen)
{
    int rc = exec(s, "BEGIN IMMEDIATE");
    if (rc == LZR_OK) {
        sqlite3_stmt *st = prep(s, sql);
        rc = st ? LZR_OK : LZR_EDB;
        for (size_t i = 0; i < n && rc == LZR_OK; i++) {
            sqlite3_reset(st);
            bind(st, i, ctx);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = LZR_EDB;
        }
        sqlite3_finalize(st);
        if (rc == LZR_OK && exec(s, "COMMIT") == LZR_OK)
            return LZR_OK;
    }
    if (errlen)
        snprintf(err, errlen, "cannot store %zu %s: %s", n, what, sqlite3_errmsg(s->db));
    exec(s, "ROLLBACK");
    return LZR_EDB;
}

struct contacts {
    uint64_t job_id, now_us;
    const lzr_addr_t *src, *dst;
};

static void bind_contact(sqlite3_stmt *st, size_t i, const void *ctx)
{
    const struct contacts *c = ctx;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->job_id);
    bind_addr(st, 2, &c->src[i]);
    bind_addr(st, 3, &c->dst[i]);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->now_us);
}

int store_contacts_add(store_t *s, uint64_t job_id, const lzr_addr_t *src, const lzr_addr_t *dst,
                       size_t n, uint64_t now_us)
{
    struct contacts c = {job_id, now_us, src, dst};
    return insert_all(s,
                      "INSERT INTO contacts (job_id, source_ip, ip, first_us)"
                      " VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                      n, bind_contact, &c, "contacts", NULL, 0);
}

struct verdicts {
    uint64_t job_id;
    const store_verdict_t *v;
};

static void bind_verdict(sqlite3_stmt *st, size_t i, const void *ctx)
{
    const struct verdicts *vs = ctx;
    const store_verdict_t *v = &vs->v[i];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)vs->job_id);
    bind_addr(st, 2, &v->ip);
    sqlite3_bind_int64(st, 3, v->port);
    sqlite3_bind_text(st, 4, v->verdict, -1, SQLITE_STATIC);
    bind_addr(st, 5, &v->original_ip);
    bind_addr(st, 6, &v->fresh_ip);
    sqlite3_bind_text(st, 7, v->evidence, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)v->ts_us);
}

int store_verdicts_put(store_t *s, uint64_t job_id, const store_verdict_t *v, size_t n, char *err,
                       size_t errlen)
{
    struct verdicts vs = {job_id, v};
    return insert_all(s,
                      "INSERT OR REPLACE INTO verdicts (job_id, ip, port, verdict,"
                      " original_ip, fresh_ip, evidence, ts_us) VALUES (?,?,?,?,?,?,?,?)",
                      n, bind_verdict, &vs, "verdicts", err, errlen);
}

static int verdict_row(sqlite3_stmt *st, void *ctx)
{
    struct walk *w = ctx;
    store_verdict_t v = {0};
    v.ip = col_addr(st, 0);
    v.port = (uint16_t)col_u64(st, 1);
    copy_col(v.verdict, sizeof v.verdict, st, 2);
    v.original_ip = col_addr(st, 3);
    v.fresh_ip = col_addr(st, 4);
    if (v.fresh_ip.family == ADDR_IPV4 && v.fresh_ip.v4 == 0)
        v.fresh_ip.family = ADDR_NONE;
    copy_col(v.evidence, sizeof v.evidence, st, 5);
    v.ts_us = col_u64(st, 6);
    return w->fn.verdict(w->ctx, &v);
}

int store_verdicts_each(store_t *s, uint64_t job_id, store_verdict_fn fn, void *ctx)
{
    sqlite3_stmt *st = prep_job(s,
                                "SELECT ip, port, verdict, original_ip, fresh_ip, evidence, ts_us"
                                " FROM verdicts WHERE job_id = ? ORDER BY ip, port",
                                job_id);
    struct walk w = {.fn.verdict = fn, .ctx = ctx};
    return each_row(st, verdict_row, &w);
}

/* ---- comparison across vantage points ---------------------------------------------------- */

static int share_row(sqlite3_stmt *st, void *ctx)
{
    store_vantage_share_t *v = rows_add(ctx);
    if (!v)
        return LZR_ENOMEM;
    v->scan_ip = col_addr(st, 0);
    v->shards = (uint32_t)col_u64(st, 1);
    v->positions = (uint64_t)sqlite3_column_double(st, 2);
    return LZR_OK;
}

int store_vantage_shares(store_t *s, uint64_t job_id, store_vantage_share_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (s->version < 4)
        return LZR_OK;
    /* A shard of both families was scanned from its holder's two scan IPs: it counts for each. */
    sqlite3_stmt *st =
        prep_job(s,
                 s->version >= 9
                     ? "SELECT scan_ip, count(*), total(pos_end - pos_begin) FROM shards"
                       " WHERE job_id = ?1 AND state = 'done' AND scan_ip <> 0 GROUP BY scan_ip"
                       " UNION ALL SELECT scan_ip6, count(*), total(pos_end - pos_begin)"
                       " FROM shards WHERE job_id = ?1 AND state = 'done' AND scan_ip6 IS NOT NULL"
                       " GROUP BY scan_ip6 ORDER BY 1"
                     : "SELECT scan_ip, count(*), total(pos_end - pos_begin) FROM shards"
                       " WHERE job_id = ?1 AND state = 'done' AND scan_ip <> 0"
                       " GROUP BY scan_ip ORDER BY scan_ip",
                 job_id);
    rows_t a = {(void **)out, n, sizeof **out, 0};
    return rows_end(&a, each_row(st, share_row, &a));
}

static int vantage_row(sqlite3_stmt *st, void *ctx)
{
    struct walk *w = ctx;
    store_vantage_row_t r = {0};
    r.ip = col_addr(st, 0);
    r.port = (uint16_t)col_u64(st, 1);
    r.source_ip = col_addr(st, 2);
    r.cls = col_class(st, 3, CLASS_SILENT);
    copy_col(r.protocol, sizeof r.protocol, st, 4);
    copy_col(r.worker, sizeof r.worker, st, 5);
    r.shard = (uint32_t)col_u64(st, 6);
    copy_col(r.verdict, sizeof r.verdict, st, 7);
    return w->fn.vantage(w->ctx, &r);
}

int store_vantage_each(store_t *s, uint64_t job_id, store_vantage_fn fn, void *ctx)
{
    if (s->version < 4)
        return LZR_OK;
    /* A verdict belongs to the host: any verdict row of the host's address counts. */
    sqlite3_stmt *st =
        prep_job(s,
                 "SELECT r.ip, r.port, r.source_ip, r.class, r.protocol, r.worker, r.shard,"
                 " (SELECT v.verdict FROM verdicts v WHERE v.job_id = r.job_id AND v.ip = r.ip"
                 " ORDER BY v.port LIMIT 1) FROM vantage_results r WHERE r.job_id = ?"
                 " ORDER BY r.ip, r.port, r.source_ip",
                 job_id);
    struct walk w = {.fn.vantage = fn, .ctx = ctx};
    return each_row(st, vantage_row, &w);
}
