/*  zc_store — the broker's durable state: an LMDB environment under
    --data DIR (private to broker/).

    The store is a small set of ordered key/value tables (zc_store_table_t)
    with a write batch in front of them. Writers queue puts and deletes
    (zc_store_put / zc_store_del / zc_store_del_prefix); nothing reaches the
    disk until zc_store_commit applies the whole batch, in order, in one
    LMDB write transaction, which is durable when it returns 0 (LMDB syncs
    on commit). The broker commits on a timer, so a crash loses at most
    the batch since the last commit, never half of one.

    Readers (zc_store_get, zc_store_each) see committed data only: the
    batch is invisible to them. Commit first if that matters.

    LMDB notes (DESIGN.md "sharp edges"): no MDB_WRITEMAP (a full disk
    would SIGBUS); the map starts at 1 GiB and doubles on MDB_MAP_FULL
    (the commit is retried transparently); stale reader slots of dead
    processes are cleared on open (mdb_reader_check). A second process
    opening the same DIR is refused (a lock file held with flock), since
    two brokers on one store would corrupt each other's crawls.

    Not thread-safe: owned by the broker actor.
*/
#ifndef ZC_STORE_H_INCLUDED
#define ZC_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zc_store zc_store_t;

typedef enum {
    ZC_STORE_META = 0, //  crawl records and other small state
    ZC_STORE_PENDING,  //  admitted URLs without a final outcome yet
    ZC_STORE_SEEN,     //  URL fingerprints admitted (the seen set)
} zc_store_table_t;
#define ZC_STORE_TABLE_COUNT 3

//  Largest key LMDB accepts (its default MDB_MAXKEYSIZE).
#define ZC_STORE_MAX_KEY 511

//  Opens (creating DIR and the tables if needed) the store in DIR.
//  Returns NULL and sets *ERROR (a new string, caller frees) if DIR cannot
//  be created or opened, is locked by another process, or is not a store.
//  The initial map size is 1 GiB, or ZC_STORE_INITIAL_MAP (bytes) from the
//  environment (tests and benchmarks use it to exercise map growth).
//  META key "zcrawl-store" is reserved (the format version; each() sees it).
zc_store_t *zc_store_open (const char *dir, char **error);

//  Closes the store; an uncommitted batch is discarded (commit first).
//  NULL-safe; sets *self_p to NULL.
void zc_store_destroy (zc_store_t **self_p);

//  Queues a put of KEY (1..ZC_STORE_MAX_KEY bytes) -> VALUE (any size,
//  may be 0) in TABLE. Both are copied. Never fails (OOM aborts).
void zc_store_put (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size,
                   const void *value, size_t value_size);

//  Queues a delete of KEY in TABLE (deleting a missing key is not an error).
void zc_store_del (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size);

//  Queues a delete of every key in TABLE that starts with PREFIX (e.g. all
//  records of one crawl), applied in order with the other operations.
void zc_store_del_prefix (zc_store_t *self, zc_store_table_t table, const void *prefix,
                          size_t prefix_size);

//  Operations queued since the last successful commit.
size_t zc_store_batch_size (zc_store_t *self);

//  Applies the batch in one write transaction and empties it. Returns 0
//  (durable on disk), or -1 with *ERROR set (new string, caller frees) if
//  the transaction failed (disk full, I/O error...): then nothing of the
//  batch is applied and the batch is kept, so a later commit can retry it.
int zc_store_commit (zc_store_t *self, char **error);

//  Drops the batch without applying it.
void zc_store_discard (zc_store_t *self);

//  Committed value of KEY in TABLE: returns 0 and sets *VALUE (a new
//  buffer, caller frees; NUL-terminated one past *SIZE for convenience)
//  and *SIZE; 1 if there is no such key; -1 on an error (logged).
int zc_store_get (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size,
                  void **value, size_t *size);

//  Whether KEY is in TABLE as of the last commit: 1 yes, 0 no, -1 on an
//  error (logged). Fast for repeated calls: one read transaction is kept
//  open between commits (each commit ends it, so it never pins old data).
int zc_store_contains (zc_store_t *self, zc_store_table_t table, const void *key, size_t key_size);

//  Called for each record by zc_store_each; KEY and VALUE are valid only
//  during the call. Return 0 to go on, non-zero to stop.
typedef int (zc_store_each_fn) (const void *key, size_t key_size, const void *value,
                                size_t value_size, void *arg);

//  Calls FN for every committed record of TABLE whose key starts with
//  PREFIX (PREFIX_SIZE may be 0: all), in key order, beginning at the
//  first key >= FROM (FROM_SIZE 0: the first key with the prefix). Returns
//  the number of records visited, or -1 on an error (logged).
int64_t zc_store_each (zc_store_t *self, zc_store_table_t table, const void *prefix,
                       size_t prefix_size, const void *from, size_t from_size, zc_store_each_fn *fn,
                       void *arg);

//  Bytes used by the store's data file on disk.
uint64_t zc_store_disk_bytes (zc_store_t *self);

//  Helpers for big-endian keys (so that LMDB's byte order is numeric order).
void zc_store_put_u32 (uint8_t *at, uint32_t value);
void zc_store_put_u64 (uint8_t *at, uint64_t value);
uint32_t zc_store_get_u32 (const uint8_t *at);
uint64_t zc_store_get_u64 (const uint8_t *at);

#endif
