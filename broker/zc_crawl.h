/*  zc_crawl — one crawl's state inside the broker (private to broker/):
    options with defaults applied, scope (zc_scope), seen set,
    frontier, output sink and counters. The broker actor owns the jobs and
    the nodes; this module decides what is admitted and what is written.
*/
#ifndef ZC_CRAWL_H_INCLUDED
#define ZC_CRAWL_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "zc_frontier.h"
#include "zc_msg.h"
#include "zc_scope.h"
#include "zc_sink.h"

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
#define ZC_CRAWL_DEFAULT_HOST_CONCURRENCY 8
#define ZC_CRAWL_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define ZC_CRAWL_DEFAULT_TIMEOUT_MS 30000
#define ZC_CRAWL_DEFAULT_MAX_BODY_BYTES (10u * 1024 * 1024)
#define ZC_CRAWL_DEFAULT_MAX_REDIRECTS 10

//  Creates crawl ID from SUBMIT (borrowed): validates the seeds and the
//  scope options (zc_scope), applies defaults, opens the output files
//  (default paths under OUTPUT_DIR, "" = current directory) and admits the
//  seeds (seeds skip the scope rules). Returns NULL and sets *ERROR (a new
//  string, caller frees) if the request is invalid or the output cannot be
//  opened.
zc_crawl_t *zc_crawl_new (const char *id, const zc_submit_t *submit, const char *output_dir,
                          int64_t now_ms, char **error);

//  Destroys the crawl; flushes and closes its output. NULL-safe.
void zc_crawl_destroy (zc_crawl_t **self_p);

const char *zc_crawl_id (zc_crawl_t *self);
zc_crawl_state_t zc_crawl_state (zc_crawl_t *self);
const char *zc_crawl_state_str (zc_crawl_state_t state);

//  The crawl's options with defaults applied; strings borrowed from SELF.
const zc_crawl_opts_t *zc_crawl_opts (zc_crawl_t *self);

//  Admits URL (untrusted, expected canonical) at DEPTH if it passes scope
//  (zc_scope: hosts, domains, depth, include/exclude, length, trap guards),
//  seen, max_pages and max_pages_per_host checks.
zc_crawl_admit_t zc_crawl_admit (zc_crawl_t *self, const char *url, uint32_t depth);

//  Admits URL ignoring the depth limit (a redirect target inherits the depth
//  of the URL that was already admitted).
zc_crawl_admit_t zc_crawl_admit_redirect (zc_crawl_t *self, const char *url, uint32_t depth);

//  Scope verdict for URL (canonical) at DEPTH, without admitting it.
zc_scope_verdict_t zc_crawl_scope_check (zc_crawl_t *self, const char *url, uint32_t depth);

//  Pops the next URL ready at NOW_MS (see zc_frontier_pop); -1 if none or
//  the crawl is not running. On success the URL counts as in flight.
int zc_crawl_pop (zc_crawl_t *self, int64_t now_ms, zc_frontier_entry_t *out);

//  Earliest time a delayed host becomes ready, or -1 (see
//  zc_frontier_next_ready_ms).
int64_t zc_crawl_next_ready_ms (zc_crawl_t *self);

//  Ends one in-flight URL of HOST_KEY.
void zc_crawl_job_ended (zc_crawl_t *self, const char *host_key, int64_t now_ms);

//  Puts an in-flight URL back in the frontier (its fetcher died).
void zc_crawl_requeue (zc_crawl_t *self, const char *url, const char *host_key, uint32_t depth,
                       int64_t now_ms);

//  Writes an item / error line and counts it (no-op unless running).
void zc_crawl_write_item (zc_crawl_t *self, const zc_result_t *result);
void zc_crawl_write_error (zc_crawl_t *self, const zc_sink_error_t *error);

//  Flushes the output (timer).
void zc_crawl_flush (zc_crawl_t *self);

//  If running with an empty frontier and nothing in flight: becomes done,
//  closes its output, logs a summary. Returns true if it just completed.
bool zc_crawl_check_done (zc_crawl_t *self, int64_t now_ms);

//  Stops a running crawl: drops the frontier and seen set, closes the
//  output. No-op if not running.
void zc_crawl_stop (zc_crawl_t *self, int64_t now_ms);

//  Fills STATUS (strings borrowed from SELF).
void zc_crawl_status (zc_crawl_t *self, int64_t now_ms, zc_crawl_status_t *status);

#endif
