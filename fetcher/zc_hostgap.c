/*  zc_hostgap — the fetcher's per-host start spacing (see zc_hostgap.h).

    Each host with a gap has a FIFO of waiting items and the time of its
    last request start. Hosts whose FIFO is not empty are in READY, sorted
    by the time their head item may start (the host's due time), computed
    when the previous item starts, so it always counts from a real start.
*/
#include "zc_hostgap.h"

#include <czmq.h>

typedef struct {
    void *item;      //  borrowed
    uint32_t gap_ms; //  least gap after the host's previous start
} s_wait_t;

typedef struct {
    bool started;       //  LAST_START is set
    int64_t last_start; //  the host's latest request start
    int64_t due;        //  while waiting: when the FIFO head may start
    zlistx_t *fifo;     //  owned: s_wait_t, oldest first
    void *ready_handle; //  in self->ready while the FIFO is not empty, else NULL
} s_host_t;

struct zc_hostgap {
    zhashx_t *hosts; //  host key -> s_host_t (owned)
    zlistx_t *ready; //  borrowed s_host_t with waiting items, earliest due first
    size_t max_hosts;
    size_t waiting;
};

static void
s_host_destroy (void **item)
{
    s_host_t *host = (s_host_t *)*item;
    if (host) {
        zlistx_destroy (&host->fifo);
        free (host);
        *item = NULL;
    }
}

static void
s_wait_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static int
s_due_compare (const void *a, const void *b)
{
    int64_t x = ((const s_host_t *)a)->due, y = ((const s_host_t *)b)->due;
    return x < y ? -1 : x > y;
}

zc_hostgap_t *
zc_hostgap_new (size_t max_hosts)
{
    zc_hostgap_t *self = (zc_hostgap_t *)zmalloc (sizeof (zc_hostgap_t));
    assert (self);
    self->hosts = zhashx_new ();
    self->ready = zlistx_new ();
    assert (self->hosts && self->ready);
    zhashx_set_destructor (self->hosts, s_host_destroy);
    zlistx_set_comparator (self->ready, s_due_compare);
    self->max_hosts = max_hosts ? max_hosts : 1;
    return self;
}

void
zc_hostgap_destroy (zc_hostgap_t **self_p)
{
    assert (self_p);
    zc_hostgap_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy (&self->ready);
    zhashx_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

//  Forgets the hosts that have nothing waiting (their last start only
//  guards the next job; the broker's spacing still holds for them).
static void
s_forget_idle (zc_hostgap_t *self)
{
    zlistx_t *idle = zlistx_new ();
    assert (idle);
    for (s_host_t *host = (s_host_t *)zhashx_first (self->hosts); host;
         host = (s_host_t *)zhashx_next (self->hosts))
        if (!host->ready_handle)
            zlistx_add_end (idle, (void *)zhashx_cursor (self->hosts));
    //  Keys are borrowed from the table: delete them one by one, each looked
    //  up before its entry (and key) is freed.
    const char *key;
    while ((key = (const char *)zlistx_detach (idle, NULL)))
        zhashx_delete (self->hosts, key);
    zlistx_destroy (&idle);
}

static s_host_t *
s_host_get (zc_hostgap_t *self, const char *key)
{
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, key);
    if (host)
        return host;
    if (zhashx_size (self->hosts) >= self->max_hosts)
        s_forget_idle (self);
    host = (s_host_t *)zmalloc (sizeof (s_host_t));
    assert (host);
    host->fifo = zlistx_new ();
    assert (host->fifo);
    zlistx_set_destructor (host->fifo, s_wait_destroy);
    int rc = zhashx_insert (self->hosts, key, host);
    assert (rc == 0);
    return host;
}

//  Puts HOST in READY at its head item's time: GAP after its last start,
//  not before NOW.
static void
s_host_ready (zc_hostgap_t *self, s_host_t *host, int64_t now)
{
    const s_wait_t *head = (const s_wait_t *)zlistx_first (host->fifo);
    assert (head && !host->ready_handle);
    host->due = host->started ? host->last_start + (int64_t)head->gap_ms : now;
    if (host->due < now)
        host->due = now;
    host->ready_handle = zlistx_insert (self->ready, host, false);
}

bool
zc_hostgap_offer (zc_hostgap_t *self, const char *host_key, uint32_t gap_ms, void *item,
                  int64_t now)
{
    assert (self && host_key);
    s_host_t *host = s_host_get (self, host_key);
    bool free_now = !host->started || now >= host->last_start + (int64_t)gap_ms;
    if (zlistx_size (host->fifo) == 0 && free_now) {
        host->started = true;
        host->last_start = now;
        return true;
    }
    s_wait_t *wait = (s_wait_t *)zmalloc (sizeof (s_wait_t));
    assert (wait);
    wait->item = item;
    wait->gap_ms = gap_ms;
    zlistx_add_end (host->fifo, wait);
    self->waiting++;
    if (!host->ready_handle)
        s_host_ready (self, host, now);
    return false;
}

int64_t
zc_hostgap_next_due (zc_hostgap_t *self)
{
    assert (self);
    const s_host_t *host = (const s_host_t *)zlistx_first (self->ready);
    return host ? host->due : -1;
}

//  Takes the head item of HOST (first in READY) out of its FIFO and READY.
static void *
s_take_head (zc_hostgap_t *self, s_host_t *host)
{
    s_wait_t *wait = (s_wait_t *)zlistx_detach (host->fifo, NULL);
    assert (wait);
    void *item = wait->item;
    free (wait);
    self->waiting--;
    zlistx_detach (self->ready, host->ready_handle);
    host->ready_handle = NULL;
    return item;
}

void *
zc_hostgap_pop_due (zc_hostgap_t *self, int64_t now)
{
    assert (self);
    s_host_t *host = (s_host_t *)zlistx_first (self->ready);
    if (!host || host->due > now)
        return NULL;
    void *item = s_take_head (self, host);
    host->started = true;
    host->last_start = now;
    if (zlistx_size (host->fifo) > 0)
        s_host_ready (self, host, now);
    return item;
}

void *
zc_hostgap_pop_any (zc_hostgap_t *self)
{
    assert (self);
    s_host_t *host = (s_host_t *)zlistx_first (self->ready);
    if (!host)
        return NULL;
    void *item = s_take_head (self, host);
    if (zlistx_size (host->fifo) > 0) {
        //  Same due time: nothing started
        host->ready_handle = zlistx_insert (self->ready, host, false);
    }
    return item;
}

void
zc_hostgap_observed (zc_hostgap_t *self, const char *host_key, int64_t start)
{
    assert (self && host_key);
    s_host_t *host = (s_host_t *)zhashx_lookup (self->hosts, host_key);
    if (!host || (host->started && start <= host->last_start))
        return;
    host->started = true;
    host->last_start = start;
    if (host->ready_handle) {
        const s_wait_t *head = (const s_wait_t *)zlistx_first (host->fifo);
        int64_t due = start + (int64_t)head->gap_ms;
        if (due > host->due) {
            host->due = due;
            zlistx_reorder (self->ready, host->ready_handle, false);
        }
    }
}

size_t
zc_hostgap_waiting (zc_hostgap_t *self)
{
    assert (self);
    return self->waiting;
}
