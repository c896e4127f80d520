/*  zc_frontier — one crawl's frontier: the URLs admitted but not yet
    dispatched, organised for politeness (Mercator / BUbiNG style).

    Each host ("host:port" key, see zc_url_host_key) has a FIFO queue, an
    in-flight count with a limit, and the time it may next be fetched. A
    min-heap orders the hosts that could be fetched by that time, so pop()
    always serves the earliest-ready host in O(log hosts). A host that is at
    its in-flight limit, or has nothing queued, is not in the heap: it never
    blocks other hosts and costs nothing until done() or push() makes it
    eligible again.

    The clock is passed in (NOW_MS, any monotonic-enough millisecond clock)
    so tests control time.
*/
#ifndef ZC_FRONTIER_H_INCLUDED
#define ZC_FRONTIER_H_INCLUDED

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
} zc_frontier_entry_t;

//  Creates an empty frontier (CONFIG copied). Caller owns the result.
zc_frontier_t *zc_frontier_new (const zc_frontier_config_t *config);

//  Destroys the frontier and every queued URL. NULL-safe; sets *self_p to NULL.
void zc_frontier_destroy (zc_frontier_t **self_p);

//  Appends URL (copied) at DEPTH to the queue of HOST_KEY (copied). The
//  caller has already deduplicated it. Never fails (OOM aborts).
void zc_frontier_push (zc_frontier_t *self, const char *url, const char *host_key, uint32_t depth);

//  Takes the oldest URL of the earliest-ready host that is under its
//  in-flight limit and whose next allowed time is <= NOW_MS. On success
//  fills *OUT (caller owns its strings; free with zc_frontier_entry_clear),
//  counts the URL in flight for its host, sets the host's next allowed time
//  to NOW_MS + delay, and returns 0. Returns -1 if nothing is ready now.
int zc_frontier_pop (zc_frontier_t *self, int64_t now_ms, zc_frontier_entry_t *out);

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
