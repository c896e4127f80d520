/*  zc_store — the broker's durable state: one LMDB environment under DIR
    with three named databases (META, PENDING, SEEN) and a write batch.

    The batch is a growable array of operations whose keys and values live
    in one contiguous arena (one realloc per doubling, not one malloc per
    operation), so queueing 100,000 operations between two commits is
    cheap. zc_store_commit replays it in order in one write transaction.
    On MDB_MAP_FULL the transaction is aborted, the map doubled and the
    whole batch replayed (bounded by ZC_STORE_MAX_MAP); on any other error
    the transaction is aborted and the batch kept, so the caller can retry
    after freeing disk space.

    Environment flags: MDB_NOTLS because the broker actor is a thread that
    may not be the one that opened us and reader slots must not be tied to
    thread-local storage; no MDB_WRITEMAP (a full disk would SIGBUS instead
    of failing a write) and no MDB_NOSYNC/NOMETASYNC (a commit that returns
    0 must be on disk).

    DIR/zcrawl.lock is held with flock while the store is open, so a second
    broker on the same DIR is refused before LMDB is touched (LMDB itself
    does not stop two processes from both writing, and must not be opened
    twice in one process). The META key "zcrawl-store" holds the format
    version; a DIR whose data.mdb does not carry it is refused rather than
    reinterpreted.
*/
#include "zc_store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <czmq.h>

#include "zc_util.h"

#define ZC_STORE_DEFAULT_MAP (1ULL << 30) //  1 GiB, doubled on MDB_MAP_FULL
#define ZC_STORE_MAX_MAP (1ULL << 40)     //  1 TiB: the doubling stops here
#define ZC_STORE_VERSION_KEY "zcrawl-store"
#define ZC_STORE_VERSION "1"
#define ZC_STORE_LOCK_FILE "zcrawl.lock"
#define ZC_STORE_DATA_FILE "data.mdb"
//  An arena bigger than this is freed after a commit rather than kept.
#define ZC_STORE_ARENA_KEEP (4u << 20)

typedef enum {
    ZC_STORE_OP_PUT,
    ZC_STORE_OP_DEL,
    ZC_STORE_OP_DEL_PREFIX,
} zc_store_op_kind_t;

typedef struct {
    uint8_t kind;      //  zc_store_op_kind_t
    uint8_t table;     //  zc_store_table_t
    uint16_t key_size; //  the key (or prefix) starts at offset in the arena
    size_t value_size; //  the value follows the key (puts only)
    size_t offset;
} zc_store_op_t;

struct zc_store {
    char *dir;       //  owned
    char *data_path; //  owned: DIR/data.mdb
    int lock_fd;     //  owned; flock'ed, -1 if not open
    MDB_env *env;    //  owned
    MDB_dbi dbi[ZC_STORE_TABLE_COUNT];
    size_t map_size;     //  current map size in bytes
    zc_store_op_t *ops;  //  owned; the batch
    size_t ops_size;     //  operations queued
    size_t ops_capacity; //  slots in ops
    uint8_t *arena;      //  owned; keys and values of the batch
    size_t arena_size;
    size_t arena_capacity;
    bool iterating;  //  inside zc_store_each: commit would resize the map under a reader
    MDB_txn *reader; //  owned: read transaction kept for zc_store_contains, NULL if none
};

static const char *s_table_names[ZC_STORE_TABLE_COUNT] = {"meta", "pending", "seen"};

static void s_set_error (char **error, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Sets *ERROR (if ERROR is not NULL) to a new formatted string.
static void
s_set_error (char **error, const char *format, ...)
{
    if (!error)
        return;
    va_list args;
    va_start (args, format);
    int size = vsnprintf (NULL, 0, format, args);
    va_end (args);
    assert (size >= 0);
    char *text = (char *)zc_malloc ((size_t)size + 1);
    va_start (args, format);
    vsnprintf (text, (size_t)size + 1, format, args);
    va_end (args);
    *error = text;
}

//  mkdir -p: creates DIR and its missing parents. Returns 0 or -1 (errno).
static int
s_mkdir_p (const char *dir)
{
    char *path = zc_strdup (dir);
    int rc = 0;
    for (char *slash = strchr (path + 1, '/'); slash && rc == 0; slash = strchr (slash + 1, '/')) {
        *slash = '\0';
        if (mkdir (path, 0755) != 0 && errno != EEXIST)
            rc = -1;
        *slash = '/';
    }
    if (rc == 0 && mkdir (path, 0755) != 0 && errno != EEXIST)
        rc = -1;
    int saved = errno;
    free (path);
    errno = saved;
    if (rc == 0) {
        struct stat st;
        if (stat (dir, &st) != 0)
            return -1;
        if (!S_ISDIR (st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return rc;
}

//  Initial map size: 1 GiB, or ZC_STORE_INITIAL_MAP (bytes) for tests and
//  benchmarks that want to exercise the growth path.
static size_t
s_initial_map_size (void)
{
    const char *text = getenv ("ZC_STORE_INITIAL_MAP");
    if (!text || !*text)
        return (size_t)ZC_STORE_DEFAULT_MAP;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 4096 || value > ZC_STORE_MAX_MAP ||
        value > SIZE_MAX) {
        zsys_warning ("zc_store: ignoring invalid ZC_STORE_INITIAL_MAP '%s'", text);
        return (size_t)ZC_STORE_DEFAULT_MAP;
    }
    return (size_t)value;
}

//  Ends the read transaction of zc_store_contains: it would pin an old
//  snapshot (the file could not reuse its pages) and must not be open
//  while the map is resized.
static void
s_reader_drop (zc_store_t *self)
{
    if (self->reader) {
        mdb_txn_abort (self->reader);
        self->reader = NULL;
    }
}

static void
s_env_close (zc_store_t *self)
{
    s_reader_drop (self);
    if (self->env) {
        mdb_env_close (self->env); //  also closes the dbi handles
        self->env = NULL;
    }
}

//  Opens the tables in a fresh environment: creates them and the version
//  record if the environment is empty, otherwise checks the version.
static int
s_tables_open (zc_store_t *self, char **error)
{
    MDB_stat stat;
    int rc = mdb_env_stat (self->env, &stat);
    if (rc != 0) {
        s_set_error (error, "cannot read store in %s: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    //  No named database yet: a new store (or one whose creation never
    //  committed, which is just as empty).
    bool fresh = stat.ms_entries == 0;
    MDB_txn *txn = NULL;
    rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc != 0) {
        s_set_error (error, "cannot open store in %s: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    for (int table = 0; table < ZC_STORE_TABLE_COUNT && rc == 0; table++)
        rc = mdb_dbi_open (txn, s_table_names[table], fresh ? MDB_CREATE : 0, &self->dbi[table]);
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        mdb_txn_abort (txn);
        s_set_error (error, "%s is not a zcrawl store (or an incompatible version)", self->dir);
        return -1;
    }
    MDB_val key = {.mv_size = strlen (ZC_STORE_VERSION_KEY), .mv_data = ZC_STORE_VERSION_KEY};
    MDB_val value = {.mv_size = strlen (ZC_STORE_VERSION), .mv_data = ZC_STORE_VERSION};
    if (rc == 0 && fresh)
        rc = mdb_put (txn, self->dbi[ZC_STORE_META], &key, &value, 0);
    else if (rc == 0) {
        MDB_val found;
        rc = mdb_get (txn, self->dbi[ZC_STORE_META], &key, &found);
        if (rc == MDB_NOTFOUND ||
            (rc == 0 && (found.mv_size != value.mv_size ||
                         memcmp (found.mv_data, value.mv_data, value.mv_size)))) {
            mdb_txn_abort (txn);
            s_set_error (error, "%s is not a zcrawl store (or an incompatible version)", self->dir);
            return -1;
        }
    }
    if (rc != 0) {
        mdb_txn_abort (txn);
        s_set_error (error, "cannot open store in %s: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    rc = mdb_txn_commit (txn);
    if (rc != 0) {
        s_set_error (error, "cannot create store in %s: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    return 0;
}

//  Creates and opens the LMDB environment and its tables. On failure the
//  environment is closed again.
static int
s_env_open (zc_store_t *self, char **error)
{
    struct stat st;
    bool existed = stat (self->data_path, &st) == 0 && st.st_size > 0;
    int rc = mdb_env_create (&self->env);
    if (rc != 0) {
        self->env = NULL;
        s_set_error (error, "cannot create LMDB environment: %s", mdb_strerror (rc));
        return -1;
    }
    rc = mdb_env_set_maxdbs (self->env, ZC_STORE_TABLE_COUNT);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, self->map_size);
    if (rc != 0) {
        s_set_error (error, "cannot configure LMDB environment: %s", mdb_strerror (rc));
        s_env_close (self);
        return -1;
    }
    rc = mdb_env_open (self->env, self->dir, MDB_NOTLS, 0644);
    if (rc != 0) {
        if (existed && (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH))
            s_set_error (error, "%s is not a zcrawl store (or an incompatible version): %s",
                         self->dir, mdb_strerror (rc));
        else
            s_set_error (error, "cannot open store in %s: %s", self->dir, mdb_strerror (rc));
        s_env_close (self);
        return -1;
    }
    //  The file may be bigger than the size we asked for: LMDB then maps it
    //  all. Remember what it really uses so that doubling starts from there.
    MDB_envinfo info;
    rc = mdb_env_info (self->env, &info);
    if (rc != 0) {
        s_set_error (error, "cannot read store in %s: %s", self->dir, mdb_strerror (rc));
        s_env_close (self);
        return -1;
    }
    self->map_size = info.me_mapsize;
    int dead = 0;
    rc = mdb_reader_check (self->env, &dead);
    if (rc != 0) {
        s_set_error (error, "cannot check readers of store in %s: %s", self->dir,
                     mdb_strerror (rc));
        s_env_close (self);
        return -1;
    }
    if (dead > 0)
        zsys_info ("zc_store: cleared %d stale reader slot(s) in %s", dead, self->dir);
    if (s_tables_open (self, error) != 0) {
        s_env_close (self);
        return -1;
    }
    return 0;
}

static int
s_lock (zc_store_t *self, char **error)
{
    char *path = zsys_sprintf ("%s/%s", self->dir, ZC_STORE_LOCK_FILE);
    assert (path);
    self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->lock_fd < 0) {
        s_set_error (error, "cannot open %s: %s", path, strerror (errno));
        zstr_free (&path);
        return -1;
    }
    zstr_free (&path);
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            s_set_error (error, "data directory %s is in use by another process", self->dir);
        else
            s_set_error (error, "cannot lock data directory %s: %s", self->dir, strerror (errno));
        return -1;
    }
    return 0;
}

zc_store_t *
zc_store_open (const char *dir, char **error)
{
    assert (dir);
    if (error)
        *error = NULL;
    if (!*dir) {
        s_set_error (error, "empty data directory name");
        return NULL;
    }
    zc_store_t *self = (zc_store_t *)zmalloc (sizeof (zc_store_t));
    self->lock_fd = -1;
    self->dir = zc_strdup (dir);
    self->data_path = zsys_sprintf ("%s/%s", dir, ZC_STORE_DATA_FILE);
    assert (self->data_path);
    self->map_size = s_initial_map_size ();
    if (s_mkdir_p (dir) != 0) {
        s_set_error (error, "cannot create data directory %s: %s", dir, strerror (errno));
        zc_store_destroy (&self);
        return NULL;
    }
    if (s_lock (self, error) != 0 || s_env_open (self, error) != 0) {
        zc_store_destroy (&self);
        return NULL;
    }
    return self;
}

void
zc_store_destroy (zc_store_t **self_p)
{
    assert (self_p);
    zc_store_t *self = *self_p;
    if (!self)
        return;
    s_env_close (self);
    if (self->lock_fd >= 0)
        close (self->lock_fd); //  releases the flock
    free (self->ops);
    free (self->arena);
    zstr_free (&self->data_path);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

//  Queues one operation, copying KEY and VALUE into the arena.
static void
s_queue (zc_store_t *self, zc_store_op_kind_t kind, zc_store_table_t table, const void *key,
         size_t key_size, const void *value, size_t value_size)
{
    assert (self);
    assert ((unsigned)table < ZC_STORE_TABLE_COUNT);
    assert (key_size <= ZC_STORE_MAX_KEY);
    assert (key || key_size == 0);
    assert (value || value_size == 0);
    if (self->ops_size == self->ops_capacity) {
        self->ops_capacity = self->ops_capacity ? self->ops_capacity * 2 : 256;
        self->ops = (zc_store_op_t *)realloc (self->ops, self->ops_capacity * sizeof *self->ops);
        assert (self->ops); //  OOM aborts
    }
    size_t needed = key_size + value_size;
    assert (needed >= key_size); //  no overflow
    if (self->arena_capacity - self->arena_size < needed) {
        size_t capacity = self->arena_capacity ? self->arena_capacity : 64 * 1024;
        while (capacity - self->arena_size < needed) {
            assert (capacity <= SIZE_MAX / 2);
            capacity *= 2;
        }
        self->arena = (uint8_t *)realloc (self->arena, capacity);
        assert (self->arena); //  OOM aborts
        self->arena_capacity = capacity;
    }
    zc_store_op_t *op = &self->ops[self->ops_size++];
    op->kind = (uint8_t)kind;
    op->table = (uint8_t)table;
    op->key_size = (uint16_t)key_size;
    op->value_size = value_size;
    op->offset = self->arena_size;
    if (key_size)
        memcpy (self->arena + self->arena_size, key, key_size);
    if (value_size)
        memcpy (self->arena + self->arena_size + key_size, value, value_size);
    self->arena_size += needed;
}

void
zc_store_put (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size,
              const void *value, size_t value_size)
{
    assert (key_size >= 1);
    s_queue (self, ZC_STORE_OP_PUT, table, key, key_size, value, value_size);
}

void
zc_store_del (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size)
{
    assert (key_size >= 1);
    s_queue (self, ZC_STORE_OP_DEL, table, key, key_size, NULL, 0);
}

void
zc_store_del_prefix (zc_store_t *self, zc_store_table_t table, const void *prefix,
                     size_t prefix_size)
{
    s_queue (self, ZC_STORE_OP_DEL_PREFIX, table, prefix, prefix_size, NULL, 0);
}

size_t
zc_store_batch_size (zc_store_t *self)
{
    assert (self);
    return self->ops_size;
}

void
zc_store_discard (zc_store_t *self)
{
    assert (self);
    self->ops_size = 0;
    self->arena_size = 0;
    //  Don't keep the memory of an exceptionally large batch for ever.
    if (self->arena_capacity > ZC_STORE_ARENA_KEEP) {
        free (self->arena);
        self->arena = NULL;
        self->arena_capacity = 0;
    }
    if (self->ops_capacity * sizeof *self->ops > ZC_STORE_ARENA_KEEP) {
        free (self->ops);
        self->ops = NULL;
        self->ops_capacity = 0;
    }
}

static bool
s_has_prefix (const MDB_val *key, const void *prefix, size_t prefix_size)
{
    return prefix_size == 0 ||
           (key->mv_size >= prefix_size && memcmp (key->mv_data, prefix, prefix_size) == 0);
}

//  Deletes every key of DBI starting with PREFIX. Returns an LMDB code.
static int
s_apply_del_prefix (MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t prefix_size)
{
    if (prefix_size == 0)
        return mdb_drop (txn, dbi, 0); //  empties the table, keeps it
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc != 0)
        return rc;
    MDB_val key = {.mv_size = prefix_size, .mv_data = (void *)prefix};
    MDB_val value;
    rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && s_has_prefix (&key, prefix, prefix_size)) {
        rc = mdb_cursor_del (cursor, 0);
        //  After a delete the cursor already sits on the next record, which
        //  MDB_NEXT then returns without moving.
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

//  Applies the batch to TXN in order. Returns an LMDB code.
static int
s_apply_batch (zc_store_t *self, MDB_txn *txn)
{
    for (size_t index = 0; index < self->ops_size; index++) {
        const zc_store_op_t *op = &self->ops[index];
        uint8_t *bytes = self->arena + op->offset;
        MDB_dbi dbi = self->dbi[op->table];
        MDB_val key = {.mv_size = op->key_size, .mv_data = bytes};
        int rc = 0;
        switch ((zc_store_op_kind_t)op->kind) {
        case ZC_STORE_OP_PUT: {
            MDB_val value = {.mv_size = op->value_size, .mv_data = bytes + op->key_size};
            rc = mdb_put (txn, dbi, &key, &value, 0);
            break;
        }
        case ZC_STORE_OP_DEL:
            rc = mdb_del (txn, dbi, &key, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
            break;
        case ZC_STORE_OP_DEL_PREFIX:
            rc = s_apply_del_prefix (txn, dbi, bytes, op->key_size);
            break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

//  One attempt at the whole batch. Returns an LMDB code; the transaction is
//  gone either way.
static int
s_commit_once (zc_store_t *self)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, 0, &txn);
    if (rc != 0)
        return rc;
    rc = s_apply_batch (self, txn);
    if (rc != 0) {
        mdb_txn_abort (txn);
        return rc;
    }
    return mdb_txn_commit (txn); //  frees TXN even when it fails
}

int
zc_store_commit (zc_store_t *self, char **error)
{
    assert (self);
    assert (!self->iterating); //  a map resize under an open reader is not allowed
    if (error)
        *error = NULL;
    if (self->ops_size == 0)
        return 0;
    s_reader_drop (self);
    if (!self->env) {
        //  A previous commit hit MDB_PANIC and the reopen failed: try again.
        char *reason = NULL;
        if (s_env_open (self, &reason) != 0) {
            s_set_error (error, "commit to %s failed: %s", self->dir, reason);
            free (reason);
            return -1;
        }
    }
    int rc = s_commit_once (self);
    while (rc == MDB_MAP_FULL && self->map_size < ZC_STORE_MAX_MAP) {
        size_t grown = self->map_size * 2;
        rc = mdb_env_set_mapsize (self->env, grown);
        if (rc != 0)
            break;
        self->map_size = grown;
        zsys_info ("zc_store: %s map grown to %zu MiB", self->dir, grown >> 20);
        rc = s_commit_once (self);
    }
    if (rc == MDB_PANIC) {
        //  LMDB refuses all further transactions after a failed meta-page
        //  write; a fresh environment reads the last good meta page.
        zsys_warning ("zc_store: %s: LMDB environment failed, reopening it", self->dir);
        s_env_close (self);
        char *reason = NULL;
        if (s_env_open (self, &reason) == 0)
            rc = s_commit_once (self);
        else {
            zsys_error ("zc_store: reopening %s failed: %s", self->dir, reason);
            free (reason);
        }
    }
    if (rc != 0) {
        s_set_error (error, "commit of %zu operations to %s failed: %s", self->ops_size, self->dir,
                     mdb_strerror (rc));
        return -1;
    }
    zc_store_discard (self);
    return 0;
}

int
zc_store_get (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size,
              void **value, size_t *size)
{
    assert (self);
    assert ((unsigned)table < ZC_STORE_TABLE_COUNT);
    assert (key && key_size >= 1 && key_size <= ZC_STORE_MAX_KEY);
    assert (value && size);
    if (!self->env) {
        zsys_error ("zc_store: %s is not open (a commit failed)", self->dir);
        return -1;
    }
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    MDB_val mkey = {.mv_size = key_size, .mv_data = (void *)key};
    MDB_val found;
    rc = mdb_get (txn, self->dbi[table], &mkey, &found);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort (txn);
        return 1;
    }
    if (rc != 0) {
        mdb_txn_abort (txn);
        zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    uint8_t *copy = (uint8_t *)zc_malloc (found.mv_size + 1);
    if (found.mv_size)
        memcpy (copy, found.mv_data, found.mv_size);
    copy[found.mv_size] = '\0';
    *value = copy;
    *size = found.mv_size;
    mdb_txn_abort (txn);
    return 0;
}

int
zc_store_contains (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size)
{
    assert (self);
    assert ((unsigned)table < ZC_STORE_TABLE_COUNT);
    assert (key && key_size >= 1 && key_size <= ZC_STORE_MAX_KEY);
    if (!self->env)
        return -1;
    if (!self->reader) {
        int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &self->reader);
        if (rc != 0) {
            self->reader = NULL;
            zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
            return -1;
        }
    }
    MDB_val mkey = {.mv_size = key_size, .mv_data = (void *)key};
    MDB_val found;
    int rc = mdb_get (self->reader, self->dbi[table], &mkey, &found);
    if (rc == 0)
        return 1;
    if (rc == MDB_NOTFOUND)
        return 0;
    zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
    return -1;
}

//  Compares two byte strings as LMDB's default order does.
static int
s_compare (const void *a, size_t a_size, const void *b, size_t b_size)
{
    size_t common = a_size < b_size ? a_size : b_size;
    int diff = common ? memcmp (a, b, common) : 0;
    if (diff)
        return diff;
    return a_size < b_size ? -1 : a_size > b_size;
}

int64_t
zc_store_each (zc_store_t *self, zc_store_table_t table, const void *prefix, size_t prefix_size,
               const void *from, size_t from_size, zc_store_each_fn *fn, void *arg)
{
    assert (self);
    assert ((unsigned)table < ZC_STORE_TABLE_COUNT);
    assert (prefix || prefix_size == 0);
    assert (from || from_size == 0);
    assert (fn);
    if (!self->env) {
        zsys_error ("zc_store: %s is not open (a commit failed)", self->dir);
        return -1;
    }
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin (self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    MDB_cursor *cursor = NULL;
    rc = mdb_cursor_open (txn, self->dbi[table], &cursor);
    if (rc != 0) {
        mdb_txn_abort (txn);
        zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    //  Start at the larger of FROM and PREFIX: a FROM before the prefix
    //  range must not end the walk at once on a key without the prefix.
    const void *start = prefix;
    size_t start_size = prefix_size;
    if (from_size && s_compare (from, from_size, prefix, prefix_size) > 0) {
        start = from;
        start_size = from_size;
    }
    MDB_val key = {.mv_size = start_size, .mv_data = (void *)start};
    MDB_val value;
    if (start_size)
        rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE);
    else
        rc = mdb_cursor_get (cursor, &key, &value, MDB_FIRST);
    int64_t count = 0;
    self->iterating = true;
    while (rc == 0 && s_has_prefix (&key, prefix, prefix_size)) {
        count++;
        if (fn (key.mv_data, key.mv_size, value.mv_data, value.mv_size, arg) != 0)
            break;
        rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT);
    }
    self->iterating = false;
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        zsys_error ("zc_store: read of %s failed: %s", self->dir, mdb_strerror (rc));
        return -1;
    }
    return count;
}

//  The blocks the data file really occupies (st_blocks * 512), not its
//  apparent size nor the map size: that is what fills a disk.
uint64_t
zc_store_disk_bytes (zc_store_t *self)
{
    assert (self);
    struct stat st;
    if (stat (self->data_path, &st) != 0) {
        zsys_warning ("zc_store: stat %s failed: %s", self->data_path, strerror (errno));
        return 0;
    }
    return (uint64_t)st.st_blocks * 512u;
}

void
zc_store_put_u32 (uint8_t *at, uint32_t value)
{
    for (int index = 3; index >= 0; index--) {
        at[index] = (uint8_t)(value & 0xff);
        value >>= 8;
    }
}

void
zc_store_put_u64 (uint8_t *at, uint64_t value)
{
    for (int index = 7; index >= 0; index--) {
        at[index] = (uint8_t)(value & 0xff);
        value >>= 8;
    }
}

uint32_t
zc_store_get_u32 (const uint8_t *at)
{
    uint32_t value = 0;
    for (int index = 0; index < 4; index++)
        value = (value << 8) | at[index];
    return value;
}

uint64_t
zc_store_get_u64 (const uint8_t *at)
{
    uint64_t value = 0;
    for (int index = 0; index < 8; index++)
        value = (value << 8) | at[index];
    return value;
}
