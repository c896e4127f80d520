/*  zc_frontier — per-host FIFO queues plus a min-heap of eligible hosts.

    A host is in the heap exactly when it has queued URLs and is under its
    in-flight limit; its heap key is (next allowed time, insertion sequence).
    The sequence breaks ties in insertion order, so with no delay the hosts
    are served round-robin instead of in whatever order the heap happens to
    keep equal keys.

    A host's effective delay (base delay, adaptive back-off) decides its
    next allowed time at each request start; a change of next_ms while the
    host is in the heap re-inserts it (s_host_update).

    Host records are kept for the life of the frontier (one crawl): they
    remember the next allowed time, which must survive a host going idle and
    coming back. Queues are growable ring buffers of {url, depth, ...}: one
    malloc per URL (its string; two for a redirect continuation, whose origin
    is kept too), amortised O(1) push and pop.
*/
#include "zc_frontier.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "zc_util.h"

#define ZC_FRONTIER_DEFAULT_CONCURRENCY 8
#define ZC_FRONTIER_NOT_IN_HEAP SIZE_MAX

typedef struct {
    char *url;    //  owned
    char *origin; //  owned: NULL unless a redirect continuation
    uint32_t depth;
    uint32_t attempt;
    uint32_t redirects;
    uint64_t seq; //  the URL's durable record (zc_crawl), 0 if none
} s_item_t;

typedef struct {
    char *key;       //  owned
    s_item_t *items; //  owned ring buffer
    size_t capacity; //  0 or power of two
    size_t head;     //  index of the oldest item
    size_t count;
    size_t in_flight;
    bool held;         //  waiting for robots.txt: never served
    uint32_t base_ms;  //  configured delay (or Crawl-delay)
    uint32_t delay_ms; //  effective delay: base, or more after failures
    int64_t next_ms;   //  may be fetched at or after this time
    int64_t start_ms;  //  last request start (pop or start), -1 if none
    uint64_t seq;      //  heap tie-breaker, set on each heap insert
    size_t heap_index; //  ZC_FRONTIER_NOT_IN_HEAP when not in the heap
} s_host_t;

struct zc_frontier {
    zc_frontier_config_t config;
    zhashx_t *hosts; //  owned: key -> s_host_t (owned)
    s_host_t **heap; //  owned array; hosts borrowed from HOSTS
    size_t heap_size;
    size_t heap_capacity;
    uint64_t next_seq;
    size_t queued;
    size_t in_flight;
};

static void
s_host_destroy (void **item_p)
{
    s_host_t *host = (s_host_t *)*item_p;
    if (!host)
        return;
    for (size_t i = 0; i < host->count; i++) {
        s_item_t *item = &host->items[(host->head + i) & (host->capacity - 1)];
        free (item->url);
        free (item->origin);
    }
    free (host->items);
    free (host->key);
    free (host);
    *item_p = NULL;
}

zc_frontier_t *
zc_frontier_new (const zc_frontier_config_t *config)
{
    assert (config);
    zc_frontier_t *self = (zc_frontier_t *)zmalloc (sizeof (zc_frontier_t));
    self->config = *config;
    if (self->config.host_concurrency == 0)
        self->config.host_concurrency = ZC_FRONTIER_DEFAULT_CONCURRENCY;
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, s_host_destroy);
    return self;
}

void
zc_frontier_destroy (zc_frontier_t **self_p)
{
    assert (self_p);
    zc_frontier_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->hosts);
    free (self->heap);
    free (self);
    *self_p = NULL;
}

//  Heap order: earlier next_ms first, then earlier insertion.
static int
s_before (const s_host_t *a, const s_host_t *b)
{
    if (a->next_ms != b->next_ms)
        return a->next_ms < b->next_ms;
    return a->seq < b->seq;
}

static void
s_heap_set (zc_frontier_t *self, size_t index, s_host_t *host)
{
    self->heap[index] = host;
    host->heap_index = index;
}

static void
s_sift_up (zc_frontier_t *self, size_t index)
{
    s_host_t *host = self->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!s_before (host, self->heap[parent]))
            break;
        s_heap_set (self, index, self->heap[parent]);
        index = parent;
    }
    s_heap_set (self, index, host);
}

static void
s_sift_down (zc_frontier_t *self, size_t index)
{
    s_host_t *host = self->heap[index];
    while (1) {
        size_t child = 2 * index + 1;
        if (child >= self->heap_size)
            break;
        if (child + 1 < self->heap_size && s_before (self->heap[child + 1], self->heap[child]))
            child++;
        if (!s_before (self->heap[child], host))
            break;
        s_heap_set (self, index, self->heap[child]);
        index = child;
    }
    s_heap_set (self, index, host);
}

static void
s_heap_insert (zc_frontier_t *self, s_host_t *host)
{
    assert (host->heap_index == ZC_FRONTIER_NOT_IN_HEAP);
    if (self->heap_size == self->heap_capacity) {
        self->heap_capacity = self->heap_capacity ? self->heap_capacity * 2 : 64;
        self->heap = (s_host_t **)realloc (self->heap, self->heap_capacity * sizeof (s_host_t *));
        if (!self->heap) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    host->seq = self->next_seq++;
    self->heap[self->heap_size] = host;
    host->heap_index = self->heap_size++;
    s_sift_up (self, host->heap_index);
}

static void
s_heap_remove (zc_frontier_t *self, s_host_t *host)
{
    size_t index = host->heap_index;
    assert (index < self->heap_size && self->heap[index] == host);
    host->heap_index = ZC_FRONTIER_NOT_IN_HEAP;
    self->heap_size--;
    if (index == self->heap_size)
        return;
    //  Move the last host into the hole, then restore the order either way
    s_host_t *moved = self->heap[self->heap_size];
    s_heap_set (self, index, moved);
    if (index > 0 && s_before (moved, self->heap[(index - 1) / 2]))
        s_sift_up (self, index);
    else
        s_sift_down (self, index);
}

//  Puts HOST in the heap if it is eligible and not there yet.
static void
s_host_reconsider (zc_frontier_t *self, s_host_t *host)
{
    if (host->heap_index == ZC_FRONTIER_NOT_IN_HEAP && host->count > 0 && !host->held &&
        host->in_flight < self->config.host_concurrency)
        s_heap_insert (self, host);
}

//  Re-evaluates HOST after its next_ms or held state changed.
static void
s_host_update (zc_frontier_t *self, s_host_t *host)
{
    if (host->heap_index != ZC_FRONTIER_NOT_IN_HEAP)
        s_heap_remove (self, host);
    s_host_reconsider (self, host);
}

static s_host_t *
s_host_get (zc_frontier_t *self, const char *host_key)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host) {
        host = (s_host_t *)zmalloc (sizeof (s_host_t));
        host->key = zc_strdup (host_key);
        host->heap_index = ZC_FRONTIER_NOT_IN_HEAP;
        host->base_ms = host->delay_ms = self->config.host_delay_ms;
        host->start_ms = -1;
        int rc = zhashx_insert (self->hosts, host_key, host);
        assert (rc == 0);
    }
    return host;
}

//  Takes the head item of HOST into *OUT.
static void
s_host_take_head (zc_frontier_t *self, s_host_t *host, zc_frontier_entry_t *out)
{
    s_item_t *item = &host->items[host->head];
    out->url = item->url;
    out->host_key = zc_strdup (host->key);
    out->depth = item->depth;
    out->attempt = item->attempt;
    out->redirects = item->redirects;
    out->origin = item->origin;
    out->seq = item->seq;
    item->url = NULL;
    item->origin = NULL;
    host->head = (host->head + 1) & (host->capacity - 1);
    host->count--;
    self->queued--;
}

void
zc_frontier_push (zc_frontier_t *self, const char *url, const char *host_key, uint32_t depth)
{
    zc_frontier_push_entry (self, url, host_key, depth, 1, 0, NULL, false);
}

void
zc_frontier_push_entry (zc_frontier_t *self, const char *url, const char *host_key, uint32_t depth,
                        uint32_t attempt, uint32_t redirects, const char *origin, bool front)
{
    zc_frontier_entry_t entry = {.url = (char *)url,
                                 .host_key = (char *)host_key,
                                 .depth = depth,
                                 .attempt = attempt,
                                 .redirects = redirects,
                                 .origin = (char *)origin};
    zc_frontier_push_item (self, &entry, front);
}

void
zc_frontier_push_item (zc_frontier_t *self, const zc_frontier_entry_t *entry, bool front)
{
    assert (self);
    assert (entry);
    assert (entry->url);
    assert (entry->host_key);
    const char *origin = entry->origin;
    s_host_t *host = s_host_get (self, entry->host_key);
    if (host->count == host->capacity) {
        //  Grow the ring and unwrap it so the oldest item is at index 0
        size_t capacity = host->capacity ? host->capacity * 2 : 4;
        s_item_t *items = (s_item_t *)zmalloc (capacity * sizeof (s_item_t));
        for (size_t i = 0; i < host->count; i++)
            items[i] = host->items[(host->head + i) & (host->capacity - 1)];
        free (host->items);
        host->items = items;
        host->capacity = capacity;
        host->head = 0;
    }
    s_item_t *item;
    if (front) {
        host->head = (host->head + host->capacity - 1) & (host->capacity - 1);
        item = &host->items[host->head];
    } else
        item = &host->items[(host->head + host->count) & (host->capacity - 1)];
    item->url = zc_strdup (entry->url);
    item->depth = entry->depth;
    item->attempt = entry->attempt;
    item->redirects = entry->redirects;
    item->origin = origin && *origin ? zc_strdup (origin) : NULL;
    item->seq = entry->seq;
    host->count++;
    self->queued++;
    s_host_reconsider (self, host);
}

int
zc_frontier_pop (zc_frontier_t *self, int64_t now_ms, zc_frontier_entry_t *out)
{
    assert (self);
    assert (out);
    if (self->heap_size == 0 || self->heap[0]->next_ms > now_ms)
        return -1;
    s_host_t *host = self->heap[0];
    s_host_take_head (self, host, out);
    host->in_flight++;
    self->in_flight++;
    host->start_ms = now_ms;
    host->next_ms = now_ms + (int64_t)host->delay_ms;
    if (host->count > 0 && host->in_flight < self->config.host_concurrency) {
        //  Still eligible: what s_heap_remove + s_heap_insert would do, in
        //  one pass. Its key only grew (next_ms was <= NOW_MS, a new seq),
        //  so it sinks from the root
        host->seq = self->next_seq++;
        s_sift_down (self, 0);
    } else
        s_heap_remove (self, host);
    return 0;
}

int
zc_frontier_peek (zc_frontier_t *self, int64_t now_ms, const char **url, const char **host_key)
{
    assert (self);
    assert (url);
    assert (host_key);
    if (self->heap_size == 0 || self->heap[0]->next_ms > now_ms)
        return -1;
    s_host_t *host = self->heap[0];
    *url = host->items[host->head].url;
    *host_key = host->key;
    return 0;
}

int
zc_frontier_drop (zc_frontier_t *self, const char *host_key, zc_frontier_entry_t *out)
{
    assert (self);
    assert (host_key);
    assert (out);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host || host->count == 0)
        return -1;
    if (host->heap_index != ZC_FRONTIER_NOT_IN_HEAP)
        s_heap_remove (self, host);
    s_host_take_head (self, host, out);
    s_host_reconsider (self, host);
    return 0;
}

void
zc_frontier_start (zc_frontier_t *self, const char *host_key, int64_t now_ms)
{
    assert (self);
    s_host_t *host = s_host_get (self, host_key);
    host->start_ms = now_ms;
    host->next_ms = now_ms + (int64_t)host->delay_ms;
    s_host_update (self, host);
}

void
zc_frontier_hold (zc_frontier_t *self, const char *host_key, bool held)
{
    assert (self);
    s_host_t *host = s_host_get (self, host_key);
    host->held = held;
    s_host_update (self, host);
}

void
zc_frontier_set_delay (zc_frontier_t *self, const char *host_key, uint32_t delay_ms)
{
    assert (self);
    s_host_t *host = s_host_get (self, host_key);
    host->base_ms = delay_ms;
    if (host->delay_ms < delay_ms)
        host->delay_ms = delay_ms;
    //  The request already started (robots.txt itself) counts too
    if (host->start_ms >= 0 && host->next_ms < host->start_ms + (int64_t)host->delay_ms) {
        host->next_ms = host->start_ms + (int64_t)host->delay_ms;
        s_host_update (self, host);
    }
}

void
zc_frontier_backoff (zc_frontier_t *self, const char *host_key, int64_t now_ms)
{
    assert (self);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host)
        return;
    uint32_t from = host->delay_ms;
    if (from < host->base_ms)
        from = host->base_ms;
    if (from < ZC_FRONTIER_MIN_BACKOFF_MS)
        from = ZC_FRONTIER_MIN_BACKOFF_MS;
    //  At most ZC_FRONTIER_MAX_BACKOFF_FACTOR times the host's own pace, and
    //  never more than 60 s: a flaky host with a 50 ms delay slows to
    //  seconds, one with the default 1 s delay to a minute
    uint64_t floor =
        host->base_ms > ZC_FRONTIER_MIN_BACKOFF_MS ? host->base_ms : ZC_FRONTIER_MIN_BACKOFF_MS;
    uint64_t cap = floor * ZC_FRONTIER_MAX_BACKOFF_FACTOR;
    if (cap > ZC_FRONTIER_MAX_BACKOFF_MS)
        cap = ZC_FRONTIER_MAX_BACKOFF_MS;
    host->delay_ms = (uint64_t)from * 2 >= cap ? (uint32_t)cap : from * 2;
    if (host->next_ms < now_ms + (int64_t)host->delay_ms) {
        host->next_ms = now_ms + (int64_t)host->delay_ms;
        s_host_update (self, host);
    }
}

void
zc_frontier_success (zc_frontier_t *self, const char *host_key)
{
    assert (self);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host || host->delay_ms <= host->base_ms)
        return;
    //  Below the back-off floor the next halving would only creep: snap back
    uint32_t half = host->delay_ms / 2;
    host->delay_ms =
        half <= host->base_ms || half < ZC_FRONTIER_MIN_BACKOFF_MS ? host->base_ms : half;
}

void
zc_frontier_defer (zc_frontier_t *self, const char *host_key, int64_t until_ms)
{
    assert (self);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host || host->next_ms >= until_ms)
        return;
    host->next_ms = until_ms;
    s_host_update (self, host);
}

int64_t
zc_frontier_host_delay (zc_frontier_t *self, const char *host_key)
{
    assert (self);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    return host ? (int64_t)host->delay_ms : -1;
}

int
zc_frontier_done (zc_frontier_t *self, const char *host_key, int64_t now_ms)
{
    assert (self);
    assert (host_key);
    (void)now_ms; //  the delay counts from request starts, not ends
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host || host->in_flight == 0)
        return -1;
    host->in_flight--;
    self->in_flight--;
    s_host_reconsider (self, host);
    return 0;
}

int64_t
zc_frontier_next_ready_ms (zc_frontier_t *self)
{
    assert (self);
    return self->heap_size ? self->heap[0]->next_ms : -1;
}

size_t
zc_frontier_queued (zc_frontier_t *self)
{
    assert (self);
    return self->queued;
}

size_t
zc_frontier_in_flight (zc_frontier_t *self)
{
    assert (self);
    return self->in_flight;
}

size_t
zc_frontier_hosts (zc_frontier_t *self)
{
    assert (self);
    return zhashx_size (self->hosts);
}

void
zc_frontier_entry_clear (zc_frontier_entry_t *entry)
{
    if (!entry)
        return;
    free (entry->url);
    free (entry->host_key);
    free (entry->origin);
    memset (entry, 0, sizeof *entry);
}
