/*  zc_journal — how one crawl's state is kept in the store (private to
    broker/): zc_crawl decides what is admitted, dispatched and written;
    its journal remembers it.

    A journal holds the crawl's seen set and its per-host admission counts
    (max_pages_per_host) in RAM, and for a durable crawl (a store) turns
    every admission, seen URL and outcome into a store operation in the
    store's batch (zc_record.h describes the records). A memory-only crawl
    has a journal without a store: the same seen set and counts, no store
    operations.

    Past its RAM budgets a durable crawl's state leaves RAM: queued URLs
    beyond memory_urls are in the store only ("spilled", brought back in
    admission order by zc_journal_committed), and a seen set grown past
    seen_bytes is dropped from RAM once committed (the store answers for
    what is not in RAM).

    Not thread-safe: owned by its crawl, in the broker actor.
*/
#ifndef ZC_JOURNAL_H_INCLUDED
#define ZC_JOURNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zc_frontier.h"
#include "zc_record.h"
#include "zc_store.h"

typedef struct zc_journal zc_journal_t;

typedef struct {
    const char *crawl_id; //  copied: key of the crawl record and of its host counts
    zc_store_t *store;    //  borrowed; outlives the journal; NULL = memory only
    uint32_t crawl_no;    //  key prefix of the crawl's PENDING and SEEN records
    size_t memory_urls;   //  URLs kept queued in RAM; beyond, only in the store; 0 = no limit
    size_t seen_bytes; //  RAM for the seen set; beyond, it is looked up in the store; 0 = no limit
} zc_journal_config_t;

//  Creates a journal with an empty seen set. Never fails (OOM aborts).
zc_journal_t *zc_journal_new (const zc_journal_config_t *config);

//  Destroys the journal (queued store operations stay in the store's
//  batch). NULL-safe; sets *self_p to NULL.
void zc_journal_destroy (zc_journal_t **self_p);

//  Whether the journal writes to a store.
bool zc_journal_durable (zc_journal_t *self);

//  The crawl's store key prefix, or 0 for a memory-only journal.
uint32_t zc_journal_number (zc_journal_t *self);

//  Whether fingerprint FP was admitted: in RAM, or (past the seen budget)
//  in the store's last commit. A store error counts as seen.
bool zc_journal_seen (zc_journal_t *self, uint64_t fp);

//  Starts loading what zc_journal_seen (FP) reads first (a hint).
void zc_journal_seen_prefetch (zc_journal_t *self, uint64_t fp);

//  Adds FP to the seen set (and, if new, to the store's batch).
void zc_journal_seen_add (zc_journal_t *self, uint64_t fp);

//  URLs of HOST_KEY admitted so far (max_pages_per_host).
uint64_t zc_journal_host_pages (zc_journal_t *self, const char *host_key);

//  Counts one more URL admitted for HOST_KEY; a durable journal writes the
//  new count with the next crawl record.
void zc_journal_host_pages_add (zc_journal_t *self, const char *host_key);

//  Queues the pending record of the URL admitted as SEQ (strings
//  borrowed; ORIGIN NULL if not a continuation), a new one or a rewrite
//  (next attempt, next redirect hop). No-op for SEQ 0 or without a store.
void zc_journal_pending (zc_journal_t *self, uint64_t seq, const char *url, const char *origin,
                         uint32_t depth, uint32_t attempt, uint32_t redirects);

//  The URL admitted as SEQ has its outcome written: its pending record
//  goes. No-op for SEQ 0 or without a store.
void zc_journal_done (zc_journal_t *self, uint64_t seq);

//  Queues newly admitted ENTRY (borrowed) in FRONTIER, or only in the
//  store once memory_urls are queued in RAM.
void zc_journal_enqueue (zc_journal_t *self, zc_frontier_t *frontier,
                         const zc_frontier_entry_t *entry);

//  Pending URLs in the store only (not in FRONTIER).
uint64_t zc_journal_spilled (zc_journal_t *self);

//  Queues crawl RECORD (borrowed; its crawl_no is the journal's) and the
//  per-host admission counts that changed since the last one. No-op
//  without a store.
void zc_journal_put_crawl (zc_journal_t *self, const zc_record_crawl_t *record);

//  Whether pending records or the crawl record changed since the last
//  zc_journal_clean (the crawl's next checkpoint has work to do).
bool zc_journal_dirty (zc_journal_t *self);

//  Something in the crawl record changed (an operator's pause).
void zc_journal_touch (zc_journal_t *self);

//  A checkpoint covered every change so far.
void zc_journal_clean (zc_journal_t *self);

//  Call right after a successful store commit: drops a seen set past its
//  budget from RAM and moves spilled URLs back into FRONTIER, oldest
//  first, while FRONTIER holds less than half of memory_urls. Returns the
//  number of URLs moved.
size_t zc_journal_committed (zc_journal_t *self, zc_frontier_t *frontier);

//  Reloads a running crawl's committed state: the seen set (unless it has
//  a RAM budget: then the store answers), every pending URL into FRONTIER
//  up to memory_urls (the rest stays spilled), and with HOST_PAGES the
//  per-host admission counts. Sets *PENDING (all pending URLs) and *IN_RAM
//  (those now in FRONTIER). Returns 0, or -1 if the store could not be read.
int zc_journal_restore (zc_journal_t *self, zc_frontier_t *frontier, bool host_pages,
                        uint64_t *pending, uint64_t *in_ram);

//  The crawl is done or stopped: a durable journal queues the deletion of
//  its pending, seen and host count records (put the final crawl record
//  first); the seen set and host counts leave RAM.
void zc_journal_finish (zc_journal_t *self);

#endif
