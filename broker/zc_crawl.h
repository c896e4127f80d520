/*  zc_crawl — one crawl's state inside the broker (private to broker/):
    options with defaults applied, scope (zc_scope), seen set,
    frontier, output sink and counters. The broker actor owns the jobs and
    the nodes; this module decides what is admitted and what is written.

    Politeness lives here too: the robots.txt of each host (fetched by a
    ZC_JOB_ROBOTS job before the host's first page, cached robots_cache_ms,
    checked before every dispatch), the per-host delays and back-off (in
    the frontier) and the retry queue (URLs waiting for their next attempt,
    a min-heap by due time, so a waiting retry never blocks other URLs).
*/
#ifndef ZC_CRAWL_H_INCLUDED
#define ZC_CRAWL_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "zc_frontier.h"
#include "zc_msg.h"
#include "zc_record.h"
#include "zc_robots.h"
#include "zc_scope.h"
#include "zc_sink.h"
#include "zc_store.h"

typedef struct zc_crawl zc_crawl_t;

typedef enum {
    ZC_CRAWL_RUNNING = 0,
    ZC_CRAWL_DONE,    //  frontier empty and no outstanding job
    ZC_CRAWL_STOPPED, //  stopped by the operator
} zc_crawl_state_t;

//  Why a URL was or was not admitted to the frontier.
typedef enum {
    ZC_CRAWL_ADMITTED = 0,
    ZC_CRAWL_BAD_URL,    //  not a canonical http(s) URL
    ZC_CRAWL_SCOPE,      //  out of scope (zc_scope verdict other than depth)
    ZC_CRAWL_DEPTH,      //  deeper than max_depth
    ZC_CRAWL_SEEN,       //  already admitted once
    ZC_CRAWL_LIMIT,      //  max_pages URLs already admitted
    ZC_CRAWL_HOST_LIMIT, //  max_pages_per_host URLs of this host already admitted
    ZC_CRAWL_INACTIVE,   //  crawl is not running
} zc_crawl_admit_t;

//  Defaults applied to zero-valued options in SUBMIT.
#define ZC_CRAWL_DEFAULT_HOST_CONCURRENCY 2
#define ZC_CRAWL_IMPOLITE_HOST_CONCURRENCY 64
#define ZC_CRAWL_DEFAULT_HOST_DELAY_MS 1000
#define ZC_CRAWL_DEFAULT_CRAWL_DELAY_CAP_MS 30000
#define ZC_CRAWL_DEFAULT_ROBOTS_CACHE_MS (24u * 3600 * 1000)
#define ZC_CRAWL_DEFAULT_MAX_ATTEMPTS 3
#define ZC_CRAWL_DEFAULT_RETRY_BASE_MS 1000
#define ZC_CRAWL_DEFAULT_ROBOTS_TOKEN "zcrawl"
#define ZC_CRAWL_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define ZC_CRAWL_DEFAULT_TIMEOUT_MS 30000
#define ZC_CRAWL_DEFAULT_MAX_BODY_BYTES (10u * 1024 * 1024)
#define ZC_CRAWL_DEFAULT_MAX_REDIRECTS 10

//  Where a durable crawl keeps its state (zc_record.h describes the
//  records). Every admission, seen URL and outcome becomes a store
//  operation in the store's batch; zc_crawl_checkpoint adds the crawl
//  record with the output offsets made durable; the broker commits.
typedef struct {
    zc_store_t *store;  //  borrowed; outlives the crawl
    uint32_t crawl_no;  //  key prefix of the crawl's PENDING and SEEN records
    size_t memory_urls; //  URLs kept queued in RAM; beyond, only in the store; 0 = no limit
    size_t seen_bytes;  //  RAM for the seen set; beyond, it is looked up in the store; 0 = no limit
} zc_crawl_durable_t;

//  Creates crawl ID from SUBMIT (borrowed): validates the seeds and the
//  scope options (zc_scope), applies defaults, opens the output files
//  (default paths under OUTPUT_DIR, "" = current directory) and admits the
//  seeds (seeds skip the scope rules). DURABLE (copied; NULL = memory only)
//  makes it a durable crawl: its record, seeds included, is queued in the
//  store's batch. Returns NULL and sets *ERROR (a new string, caller frees)
//  if the request is invalid or the output cannot be opened.
zc_crawl_t *zc_crawl_new (const char *id, const zc_submit_t *submit, const char *output_dir,
                          const zc_crawl_durable_t *durable, int64_t now_ms, char **error);

//  Rebuilds durable crawl ID from its committed RECORD in DURABLE's store
//  (crawl_no is taken from the record): a running crawl cuts its output
//  files back to the committed offsets, reloads its seen set and queues
//  every pending URL again (those that were in flight too, with their
//  attempt); a finished crawl comes back for STATUS only. Returns NULL and
//  sets *ERROR (new string) if the record or its options are unusable or
//  the output cannot be reopened.
zc_crawl_t *zc_crawl_restore (const char *id, const zc_record_crawl_t *record,
                              const zc_crawl_durable_t *durable, int64_t now_ms, char **error);

//  Durable crawl: makes the output durable (flush + fdatasync) and queues
//  the crawl record with the new offsets and counters in the store's batch.
//  Returns 0 (also for a memory-only or finished crawl), or -1 with *ERROR
//  (new string) if the output could not be synced.
int zc_crawl_checkpoint (zc_crawl_t *self, char **error);

//  Call right after a successful store commit (everything in RAM is then
//  in the store too). Keeps a durable crawl within its RAM budgets: a seen
//  set grown past seen_bytes is dropped from RAM (from then on the store
//  answers for what is not in RAM), and URLs only in the store move back
//  into RAM, oldest first, while the in-memory queue is below half its
//  budget. Returns the number of URLs moved.
size_t zc_crawl_committed (zc_crawl_t *self);

//  The crawl's store key prefix, or 0 for a memory-only crawl.
uint32_t zc_crawl_number (zc_crawl_t *self);

//  Pauses a running crawl (nothing is dispatched; jobs in flight go on)
//  with an optional ERROR shown in STATUS (copied; NULL = operator pause),
//  or resumes it (clears the error). No-op unless running.
void zc_crawl_pause (zc_crawl_t *self, const char *error);
void zc_crawl_resume (zc_crawl_t *self);
bool zc_crawl_paused (zc_crawl_t *self);

//  Destroys the crawl; flushes and closes its output. NULL-safe.
void zc_crawl_destroy (zc_crawl_t **self_p);

const char *zc_crawl_id (zc_crawl_t *self);
zc_crawl_state_t zc_crawl_state (zc_crawl_t *self);
const char *zc_crawl_state_str (zc_crawl_state_t state);

//  The crawl's options with defaults applied; strings borrowed from SELF.
//  Its fetch.resolve is every entry of the spec: a job carries only
//  those of its host (zc_crawl_resolve).
const zc_crawl_opts_t *zc_crawl_opts (zc_crawl_t *self);

//  The resolve entries ("[+]HOST:PORT:ADDRESS", curl's CURLOPT_RESOLVE
//  form) that a job to HOST_KEY ("host:port", zc_url_host_key) carries:
//  those whose HOST:PORT is HOST_KEY (host compared case-insensitively,
//  port as a number) and the wildcard entries of its port ("*:PORT:..."),
//  in spec order. Indexed once per crawl (new or restored). Robots.txt
//  jobs carry their host's entries too: a robots.txt redirect to another
//  host then resolves through normal DNS (or a wildcard of its port).
//  Sets *ENTRIES (borrowed from SELF; NULL if none) and *COUNT.
void zc_crawl_resolve (zc_crawl_t *self, const char *host_key, const char ***entries,
                       size_t *count);

//  Admits URL (untrusted, expected canonical) at DEPTH if it passes scope
//  (zc_scope: hosts, domains, depth, include/exclude, length, trap guards),
//  seen, max_pages and max_pages_per_host checks.
zc_crawl_admit_t zc_crawl_admit (zc_crawl_t *self, const char *url, uint32_t depth);

//  Queues redirect target URL (untrusted, expected canonical) as a
//  continuation of ORIGIN (the URL first requested, already admitted): it
//  keeps ORIGIN's DEPTH (no depth limit), carries REDIRECTS (hops so far)
//  and ORIGIN, and its outcome is written under ORIGIN. Checks scope
//  (ZC_CRAWL_SCOPE) and the seen set (ZC_CRAWL_SEEN: the target is or was
//  crawled on its own); a queued target is added to the seen set. It is the
//  same output record as ORIGIN, so it does not count against max_pages or
//  max_pages_per_host. The caller has checked that URL is not ORIGIN.
//  SEQ is the origin's admission number: the chain keeps it.
zc_crawl_admit_t zc_crawl_continue (zc_crawl_t *self, const char *url, const char *origin,
                                    uint32_t depth, uint32_t redirects, uint64_t seq);

//  Adds URL (a page's final URL) to the seen set so that it is not fetched
//  again. Ignored if not canonical.
void zc_crawl_mark_seen (zc_crawl_t *self, const char *url);

//  Scope verdict for URL (canonical) at DEPTH, without admitting it.
zc_scope_verdict_t zc_crawl_scope_check (zc_crawl_t *self, const char *url, uint32_t depth);

//  One job to dispatch, as zc_crawl_pop hands it out.
typedef struct {
    zc_job_kind_t kind;
    char *url;      //  owned: page URL, or the host's robots.txt URL
    char *host_key; //  owned
    uint32_t depth;
    uint32_t attempt;   //  1 for a first try
    uint32_t redirects; //  hops already followed (redirect targets)
    char *origin;       //  owned: page job continuing a redirect chain: the URL
                        //  its outcome is written under; NULL if none
    uint64_t seq;       //  page job: its admission number (durable record); 0 for robots
} zc_crawl_job_t;

//  Frees the strings of JOB and zeroes it. NULL-safe.
void zc_crawl_job_clear (zc_crawl_job_t *job);

//  Takes the next job ready at NOW_MS: a due retry, the robots.txt of a
//  host whose rules are unknown or expired (its URLs then wait), or the
//  next allowed URL. URLs that robots.txt disallows, or whose host's
//  robots.txt is unavailable, are written as errors (reason "robots"; a
//  continuation under its origin, with the target as location) on the way. Returns 0 with *OUT
//  filled (caller owns its strings; the job counts as in flight), or -1 if nothing is ready or the
//  crawl is not running.
int zc_crawl_pop (zc_crawl_t *self, int64_t now_ms, zc_crawl_job_t *out);

//  Earliest time something delayed becomes ready (a host's delay, a
//  retry), or -1.
int64_t zc_crawl_next_ready_ms (zc_crawl_t *self);

//  Ends one in-flight job of KIND for HOST_KEY.
void zc_crawl_job_ended (zc_crawl_t *self, zc_job_kind_t kind, const char *host_key,
                         int64_t now_ms);

//  Puts an in-flight job back (its fetcher died): a page goes to the head
//  of its host's queue, a robots job is dispatched again; the attempt
//  number stays. Ends the job as zc_crawl_job_ended.
void zc_crawl_requeue (zc_crawl_t *self, const zc_crawl_job_t *job, int64_t now_ms);

//  Queues page JOB (borrowed; its attempt already incremented) for another
//  try not before DUE_MS. The caller has ended the failed job.
void zc_crawl_retry (zc_crawl_t *self, const zc_crawl_job_t *job, int64_t due_ms);

//  A retryable failure at HOST_KEY: adaptive back-off (not when
//  impolite), and no request before NOW_MS + RETRY_AFTER_MS (0 = no
//  Retry-After; honoured even when impolite).
void zc_crawl_host_failed (zc_crawl_t *self, const char *host_key, int64_t now_ms,
                           uint32_t retry_after_ms);

//  The gap a fetcher keeps between request starts to HOST_KEY (job
//  spacing_ms): the host's current effective delay, 0 if none.
uint32_t zc_crawl_host_spacing (zc_crawl_t *self, const char *host_key);

//  A response that was not a retryable failure: the host speeds back up.
void zc_crawl_host_ok (zc_crawl_t *self, const char *host_key);

//  The robots.txt job of HOST_KEY (attempt ATTEMPT) ended with ROBOTS
//  (borrowed): 2xx is parsed, 3xx (too many redirects) and 4xx allow all;
//  5xx or no response is retried at RETRY_AT_MS while attempts remain,
//  else every URL of the host ends as an error (reason "robots"). Ends
//  the job (no zc_crawl_job_ended).
void zc_crawl_robots_done (zc_crawl_t *self, const char *host_key, uint32_t attempt,
                           const zc_robots_t *robots, int64_t now_ms, int64_t retry_at_ms);

//  Delay before the retry that follows failed attempt ATTEMPT (>= 1), with
//  JITTER in [0.5, 1.0]: retry_base_ms * 2^(ATTEMPT-1) * JITTER, at most
//  one hour.
int64_t zc_crawl_backoff_ms (zc_crawl_t *self, uint32_t attempt, double jitter);

//  Writes the final outcome of the URL admitted as SEQ, an item or an
//  error line, and counts it (no-op unless running). Its pending record
//  goes in the same store batch.
void zc_crawl_write_item (zc_crawl_t *self, uint64_t seq, const zc_result_t *result);
void zc_crawl_write_error (zc_crawl_t *self, uint64_t seq, const zc_sink_error_t *error);

//  Flushes the output (timer). Returns 0, or -1 if the write failed.
int zc_crawl_flush (zc_crawl_t *self);

//  If running with an empty frontier and nothing in flight: becomes done,
//  closes its output, logs a summary. Returns true if it just completed.
bool zc_crawl_check_done (zc_crawl_t *self, int64_t now_ms);

//  Stops a running crawl: drops the frontier and seen set, closes the
//  output. No-op if not running.
void zc_crawl_stop (zc_crawl_t *self, int64_t now_ms);

//  Fills STATUS (strings borrowed from SELF).
void zc_crawl_status (zc_crawl_t *self, int64_t now_ms, zc_crawl_status_t *status);

#endif
