/*  zc_inflight — the broker's table of outstanding jobs (private to the broker).

    Every job the broker dispatches gets a record here, keyed by a job id the
    table assigns (1, 2, 3...): its crawl, its work (URL, host, attempt...),
    the node holding it and its lease deadline. A record leaves the table
    exactly once: taken by its first outcome (zc_inflight_claim), or taken in
    bulk when its holder is gone, its crawl is stopped or its lease has
    expired. An outcome that finds no matching record is late and counted.

    Ownership (docs/PROTOCOL.md 6.3): a job is held by the fetcher it was
    sent to until a parser node ACCEPTs it (zc_inflight_accept), then by that
    parser node; zc_inflight_take_fetcher and zc_inflight_take_parser take
    exactly the jobs their node holds.

    The table only keeps records; requeueing, logging and dispatching stay
    with the broker. Not thread-safe: owned by the broker actor.
*/
#ifndef ZC_INFLIGHT_H_INCLUDED
#define ZC_INFLIGHT_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "zc_crawl.h"

typedef struct zc_inflight zc_inflight_t;

//  One outstanding job.
typedef struct {
    uint64_t id;
    zc_crawl_t *crawl;   //  borrowed: the broker's crawl, outlives the record
    zc_crawl_job_t work; //  owned strings
    char *fetcher;       //  owned: routing key of the fetcher it was sent to
    char *parser;        //  owned: routing key of the parser node that accepted
                         //  it (then holding it), or NULL while the fetcher holds it
    int64_t deadline_ms; //  the lease: expired once this has passed
} zc_inflight_job_t;

//  Creates an empty table. Caller owns the result. Never fails (OOM aborts).
zc_inflight_t *zc_inflight_new (void);

//  Job ids are FIRST_ID, FIRST_ID + 1... from now on. The broker starts
//  each run at a random id, so that an outcome of a previous run (a node
//  delivering after a broker restart) never matches a job of this one.
void zc_inflight_set_first_id (zc_inflight_t *self, uint64_t first_id);

//  Destroys the table and every record still in it. NULL-safe; sets *self_p
//  to NULL.
void zc_inflight_destroy (zc_inflight_t **self_p);

//  Destroys a record taken from the table (its work strings too). NULL-safe;
//  sets *entry_p to NULL.
void zc_inflight_job_destroy (zc_inflight_job_t **entry_p);

//  Adds a job of CRAWL (borrowed) held by fetcher FETCHER (copied) with lease
//  deadline DEADLINE_MS, under the next job id. Takes the strings of *WORK
//  (the caller must not clear it). Returns the record, owned by the table.
zc_inflight_job_t *zc_inflight_add (zc_inflight_t *self, zc_crawl_t *crawl,
                                    const zc_crawl_job_t *work, const char *fetcher,
                                    int64_t deadline_ms);

//  Removes job ID from the table and returns it (caller owns it), or NULL
//  if there is no such job.
zc_inflight_job_t *zc_inflight_take (zc_inflight_t *self, uint64_t id);

//  Removes and returns (caller owns) the job an outcome is about: job ID of
//  the crawl named CRAWL_ID (NULL counts as "") and of kind KIND. Returns
//  NULL and counts a late outcome if there is no such job or its crawl or
//  kind does not match (then the record stays).
zc_inflight_job_t *zc_inflight_claim (zc_inflight_t *self, uint64_t id, const char *crawl_id,
                                      zc_job_kind_t kind);

//  Records that parser node PARSER (routing key, copied) has received the
//  PAGE of job ID and holds it from now on (a later ACCEPT by another parser
//  node moves it there). Returns 0 if so; 1 if there is no such page job
//  (its outcome came first, it was requeued, or the id is a robots job or
//  unknown): nothing changes and nothing is counted as late.
int zc_inflight_accept (zc_inflight_t *self, uint64_t id, const char *parser);

//  Removes every job held by fetcher FETCHER, i.e. sent to it and not
//  accepted by a parser node (those stay: they are no longer the fetcher's),
//  and returns them in a new list (caller owns the list; destroying it
//  destroys the records).
zlistx_t *zc_inflight_take_fetcher (zc_inflight_t *self, const char *fetcher);

//  Removes every job held by (accepted by) parser node PARSER; returned as
//  for zc_inflight_take_fetcher.
zlistx_t *zc_inflight_take_parser (zc_inflight_t *self, const char *parser);

//  Removes every job of CRAWL; returned as for zc_inflight_take_fetcher.
zlistx_t *zc_inflight_take_crawl (zc_inflight_t *self, zc_crawl_t *crawl);

//  Removes every job whose deadline is at or before NOW_MS and counts them
//  as expired; returned as for zc_inflight_take_fetcher. Cheap (no scan) until
//  the earliest deadline added so far has passed.
zlistx_t *zc_inflight_take_expired (zc_inflight_t *self, int64_t now_ms);

//  Number of outstanding jobs.
size_t zc_inflight_size (zc_inflight_t *self);

//  Outcomes counted as late by zc_inflight_claim so far.
uint64_t zc_inflight_late_count (zc_inflight_t *self);

//  Jobs removed by zc_inflight_take_expired so far.
uint64_t zc_inflight_expired_count (zc_inflight_t *self);

#endif
