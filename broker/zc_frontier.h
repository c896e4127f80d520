/*  zc_frontier — one crawl's frontier: the URLs admitted but not yet
    dispatched, organised for politeness (Mercator / BUbiNG style).

    Each host ("host:port" key, see zc_url_host_key) has a FIFO queue, an
    in-flight count with a limit, and the time it may next be fetched. A
    min-heap orders the hosts that could be fetched by that time, so pop()
    always serves the earliest-ready host in O(log hosts). A host that is at
    its in-flight limit, or has nothing queued, is not in the heap: it never
    blocks other hosts and costs nothing until done() or push() makes it
    eligible again.

    Politeness per host: at most host_concurrency URLs in flight, and request
    STARTS at least the host's effective delay apart. The effective delay
    starts at the host's base delay (the crawl's, or a robots.txt
    Crawl-delay set with zc_frontier_set_delay), doubles on every retryable
    failure (zc_frontier_backoff: from max(delay, 100 ms), up to 64 times
    that and at most 60 s) and
    halves back towards the base on each success (zc_frontier_success).
    Retry-After pushes the host's next allowed time (zc_frontier_defer).
    A host can be held (zc_frontier_hold: waiting for its robots.txt): it
    keeps its queue but is never served until released.

    The clock is passed in (NOW_MS, any monotonic-enough millisecond clock)
    so tests control time.
*/
#ifndef ZC_FRONTIER_H_INCLUDED
#define ZC_FRONTIER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zc_frontier zc_frontier_t;

typedef struct {
    uint32_t host_concurrency; //  per-host in-flight limit; 0 = 8
    uint32_t host_delay_ms;    //  gap between two dispatches to one host
} zc_frontier_config_t;

//  One URL handed out by zc_frontier_pop.
typedef struct {
    char *url;      //  owned by the caller after a pop
    char *host_key; //  owned by the caller after a pop
    uint32_t depth;
    uint32_t attempt;   //  1 for a first try (push), as given to push_front
    uint32_t redirects; //  hops already followed (redirect targets)
    char *origin;       //  owned by the caller after a pop: the URL a redirect
                        //  continuation reports under, NULL if none
    uint64_t seq;       //  the owner's durable record of the URL (zc_crawl), 0 if none
} zc_frontier_entry_t;

#define ZC_FRONTIER_MIN_BACKOFF_MS 100
#define ZC_FRONTIER_MAX_BACKOFF_MS 60000
#define ZC_FRONTIER_MAX_BACKOFF_FACTOR 64 //  times max(base delay, 100 ms)

//  Creates an empty frontier (CONFIG copied). Caller owns the result.
zc_frontier_t *zc_frontier_new (const zc_frontier_config_t *config);

//  Destroys the frontier and every queued URL. NULL-safe; sets *self_p to NULL.
void zc_frontier_destroy (zc_frontier_t **self_p);

//  Appends URL (copied) at DEPTH to the queue of HOST_KEY (copied). The
//  caller has already deduplicated it. Never fails (OOM aborts).
void zc_frontier_push (zc_frontier_t *self, const char *url, const char *host_key, uint32_t depth);

//  Like push, with the entry's ATTEMPT, REDIRECTS and ORIGIN (copied; NULL
//  or "" = none: the URL whose outcome a redirect target continues); FRONT
//  puts it at the head of its host's queue (a due retry, or a URL given back).
void zc_frontier_push_entry (zc_frontier_t *self, const char *url, const char *host_key,
                             uint32_t depth, uint32_t attempt, uint32_t redirects,
                             const char *origin, bool front);

//  Like push_entry, from ENTRY (borrowed; strings copied), SEQ included.
void zc_frontier_push_item (zc_frontier_t *self, const zc_frontier_entry_t *entry, bool front);

//  The URL pop() would return at NOW_MS, without taking it: *URL and
//  *HOST_KEY are borrowed until the next call that changes the frontier.
//  Returns 0, or -1 if nothing is ready now.
int zc_frontier_peek (zc_frontier_t *self, int64_t now_ms, const char **url, const char **host_key);

//  Removes the head URL of HOST_KEY without counting it in flight or
//  touching the host's timing (a URL that will not be fetched: disallowed
//  by robots.txt, or its robots.txt is unavailable). Fills *OUT as pop().
//  Returns 0, or -1 if the host has nothing queued.
int zc_frontier_drop (zc_frontier_t *self, const char *host_key, zc_frontier_entry_t *out);

//  Takes the oldest URL of the earliest-ready host that is under its
//  in-flight limit and whose next allowed time is <= NOW_MS. On success
//  fills *OUT (caller owns its strings; free with zc_frontier_entry_clear),
//  counts the URL in flight for its host, sets the host's next allowed time
//  to NOW_MS + delay, and returns 0. Returns -1 if nothing is ready now.
int zc_frontier_pop (zc_frontier_t *self, int64_t now_ms, zc_frontier_entry_t *out);

//  Counts a request start to HOST_KEY that is not one of its queued URLs
//  (its robots.txt): the host's next allowed time becomes NOW_MS + its
//  effective delay. Creates the host if needed.
void zc_frontier_start (zc_frontier_t *self, const char *host_key, int64_t now_ms);

//  Holds (HELD true) or releases HOST_KEY: a held host is never served.
//  Creates the host if needed.
void zc_frontier_hold (zc_frontier_t *self, const char *host_key, bool held);

//  Sets HOST_KEY's base delay (e.g. from Crawl-delay); the effective delay
//  is raised to it if lower, and so is the gap after the last request
//  start. Creates the host if needed.
void zc_frontier_set_delay (zc_frontier_t *self, const char *host_key, uint32_t delay_ms);

//  A retryable failure at HOST_KEY: doubles its effective delay (from
//  max(delay, 100 ms), at most 64 times that and at most 60 s) and keeps its next request at least
//  that far from NOW_MS. No-op for an unknown host.
void zc_frontier_backoff (zc_frontier_t *self, const char *host_key, int64_t now_ms);

//  A success at HOST_KEY: halves its effective delay, down to the base.
void zc_frontier_success (zc_frontier_t *self, const char *host_key);

//  HOST_KEY may not be fetched before UNTIL_MS (Retry-After).
void zc_frontier_defer (zc_frontier_t *self, const char *host_key, int64_t until_ms);

//  Effective delay of HOST_KEY in ms, or -1 for an unknown host (tests).
int64_t zc_frontier_host_delay (zc_frontier_t *self, const char *host_key);

//  Ends one in-flight URL of HOST_KEY (its outcome arrived or it was given
//  up). Returns 0, or -1 if HOST_KEY has nothing in flight (caller bug or
//  duplicate; nothing changes).
int zc_frontier_done (zc_frontier_t *self, const char *host_key, int64_t now_ms);

//  Earliest time at which pop() could return something without a done() or
//  push() happening first, or -1 if no host is eligible (all empty or at
//  their in-flight limit). If the result is <= now, pop() succeeds now.
int64_t zc_frontier_next_ready_ms (zc_frontier_t *self);

//  URLs queued (not in flight).
size_t zc_frontier_queued (zc_frontier_t *self);

//  URLs popped and not yet done().
size_t zc_frontier_in_flight (zc_frontier_t *self);

//  Distinct hosts ever pushed.
size_t zc_frontier_hosts (zc_frontier_t *self);

//  Frees the strings of ENTRY and zeroes it. NULL-safe.
void zc_frontier_entry_clear (zc_frontier_entry_t *entry);

#endif
