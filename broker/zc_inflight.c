/*  zc_inflight — the broker's table of outstanding jobs; see zc_inflight.h.

    A zhashx keyed by the job id in hex ("%016x"); it has no destructor, as
    records are detached by the take functions and freed by hand. Bulk takes
    collect the matching keys first and then detach, in the table's
    iteration order.
*/
#include "zc_inflight.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "zc_util.h"

struct zc_inflight {
    zhashx_t *by_id;          //  owned: "%016x" id -> zc_inflight_job_t (owned)
    uint64_t next_id;         //  the next job's id
    int64_t next_deadline_ms; //  no outstanding job expires before this
    uint64_t late;            //  outcomes for unknown or finished jobs
    uint64_t expired;         //  leases expired
};

static void
s_key (uint64_t id, char *buf, size_t size)
{
    snprintf (buf, size, "%016" PRIx64, id);
}

static void
s_entry_destroy (void **item_p)
{
    zc_inflight_job_destroy ((zc_inflight_job_t **)item_p);
}

zc_inflight_t *
zc_inflight_new (void)
{
    zc_inflight_t *self = (zc_inflight_t *)zmalloc (sizeof (zc_inflight_t));
    self->by_id = zhashx_new ();
    assert (self->by_id);
    self->next_id = 1;
    self->next_deadline_ms = INT64_MAX;
    return self;
}

void
zc_inflight_set_first_id (zc_inflight_t *self, uint64_t first_id)
{
    assert (self);
    self->next_id = first_id ? first_id : 1;
}

void
zc_inflight_destroy (zc_inflight_t **self_p)
{
    zc_inflight_t *self = *self_p;
    if (!self)
        return;
    for (zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_first (self->by_id); entry;
         entry = (zc_inflight_job_t *)zhashx_next (self->by_id))
        zc_inflight_job_destroy (&entry);
    zhashx_destroy (&self->by_id);
    free (self);
    *self_p = NULL;
}

void
zc_inflight_job_destroy (zc_inflight_job_t **entry_p)
{
    zc_inflight_job_t *entry = *entry_p;
    if (!entry)
        return;
    zc_crawl_job_clear (&entry->work);
    free (entry->fetcher);
    free (entry->parser);
    free (entry);
    *entry_p = NULL;
}

zc_inflight_job_t *
zc_inflight_add (zc_inflight_t *self, zc_crawl_t *crawl, const zc_crawl_job_t *work,
                 const char *fetcher, int64_t deadline_ms)
{
    zc_inflight_job_t *entry = (zc_inflight_job_t *)zmalloc (sizeof (zc_inflight_job_t));
    entry->id = self->next_id++;
    entry->crawl = crawl;
    entry->work = *work; //  takes its strings
    entry->fetcher = zc_strdup (fetcher);
    entry->deadline_ms = deadline_ms;
    char key[32];
    s_key (entry->id, key, sizeof key);
    int rc = zhashx_insert (self->by_id, key, entry);
    assert (rc == 0); //  ids are never reused
    if (deadline_ms < self->next_deadline_ms)
        self->next_deadline_ms = deadline_ms;
    return entry;
}

//  Detaches the record under KEY; NULL if none.
static zc_inflight_job_t *
s_detach (zc_inflight_t *self, const char *key)
{
    zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_lookup (self->by_id, key);
    if (entry)
        zhashx_delete (self->by_id, key); //  no destructor on the table
    return entry;
}

zc_inflight_job_t *
zc_inflight_take (zc_inflight_t *self, uint64_t id)
{
    char key[32];
    s_key (id, key, sizeof key);
    return s_detach (self, key);
}

zc_inflight_job_t *
zc_inflight_claim (zc_inflight_t *self, uint64_t id, const char *crawl_id, zc_job_kind_t kind)
{
    char key[32];
    s_key (id, key, sizeof key);
    zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_lookup (self->by_id, key);
    if (!entry || !streq (zc_crawl_id (entry->crawl), crawl_id ? crawl_id : "") ||
        entry->work.kind != kind) {
        self->late++;
        return NULL;
    }
    return s_detach (self, key);
}

int
zc_inflight_accept (zc_inflight_t *self, uint64_t id, const char *parser)
{
    assert (parser);
    char key[32];
    s_key (id, key, sizeof key);
    zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_lookup (self->by_id, key);
    if (!entry || entry->work.kind != ZC_JOB_PAGE)
        return 1;
    if (!entry->parser || !streq (entry->parser, parser)) {
        free (entry->parser);
        entry->parser = zc_strdup (parser);
    }
    return 0;
}

typedef bool (s_match_fn) (const zc_inflight_job_t *entry, const void *arg);

//  Detaches every record MATCH accepts, into a new list that owns them.
static zlistx_t *
s_take_matching (zc_inflight_t *self, s_match_fn *match, const void *arg)
{
    zlistx_t *keys = zlistx_new ();
    zlistx_set_destructor (keys, (zlistx_destructor_fn *)zstr_free);
    for (zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_first (self->by_id); entry;
         entry = (zc_inflight_job_t *)zhashx_next (self->by_id))
        if (match (entry, arg))
            zlistx_add_end (keys, zc_strdup ((const char *)zhashx_cursor (self->by_id)));
    zlistx_t *taken = zlistx_new ();
    zlistx_set_destructor (taken, s_entry_destroy);
    for (char *key = (char *)zlistx_first (keys); key; key = (char *)zlistx_next (keys))
        zlistx_add_end (taken, s_detach (self, key));
    zlistx_destroy (&keys);
    return taken;
}

//  Held by the fetcher: sent to it and not accepted by a parser node.
static bool
s_of_fetcher (const zc_inflight_job_t *entry, const void *arg)
{
    return !entry->parser && streq (entry->fetcher, (const char *)arg);
}

static bool
s_of_parser (const zc_inflight_job_t *entry, const void *arg)
{
    return entry->parser && streq (entry->parser, (const char *)arg);
}

static bool
s_of_crawl (const zc_inflight_job_t *entry, const void *arg)
{
    return entry->crawl == (const zc_crawl_t *)arg;
}

static bool
s_expired_by (const zc_inflight_job_t *entry, const void *arg)
{
    return entry->deadline_ms <= *(const int64_t *)arg;
}

zlistx_t *
zc_inflight_take_fetcher (zc_inflight_t *self, const char *fetcher)
{
    return s_take_matching (self, s_of_fetcher, fetcher);
}

zlistx_t *
zc_inflight_take_parser (zc_inflight_t *self, const char *parser)
{
    return s_take_matching (self, s_of_parser, parser);
}

zlistx_t *
zc_inflight_take_crawl (zc_inflight_t *self, zc_crawl_t *crawl)
{
    return s_take_matching (self, s_of_crawl, crawl);
}

zlistx_t *
zc_inflight_take_expired (zc_inflight_t *self, int64_t now_ms)
{
    if (now_ms < self->next_deadline_ms) {
        zlistx_t *none = zlistx_new ();
        zlistx_set_destructor (none, s_entry_destroy);
        return none;
    }
    zlistx_t *taken = s_take_matching (self, s_expired_by, &now_ms);
    //  The earliest deadline among the jobs that remain
    int64_t next = INT64_MAX;
    for (zc_inflight_job_t *entry = (zc_inflight_job_t *)zhashx_first (self->by_id); entry;
         entry = (zc_inflight_job_t *)zhashx_next (self->by_id))
        if (entry->deadline_ms < next)
            next = entry->deadline_ms;
    self->next_deadline_ms = next;
    self->expired += zlistx_size (taken);
    return taken;
}

size_t
zc_inflight_size (zc_inflight_t *self)
{
    return zhashx_size (self->by_id);
}

uint64_t
zc_inflight_late_count (zc_inflight_t *self)
{
    return self->late;
}

uint64_t
zc_inflight_expired_count (zc_inflight_t *self)
{
    return self->expired;
}
