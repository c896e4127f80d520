/*  zc_broker_durable — the broker actor's durable state (--data): rebuilds
    the crawls from the store's last commit, commits every --commit-ms (or
    early when the batch outgrows its memory share), and handles a failed
    write by rolling back to the last commit and pausing the crawls.
    Part of the broker actor (zc_broker.c), in its zloop.
*/
#include "zc_broker_internal.h"

#include <string.h>

#include "zc_record.h"
#include "zc_util.h"

zc_crawl_durable_t
zc_broker_durable (zc_broker_self_t *self, uint32_t crawl_no)
{
    return (zc_crawl_durable_t){.store = self->store,
                                .crawl_no = crawl_no,
                                .memory_urls = self->memory_urls,
                                .seen_bytes = self->seen_bytes};
}

//  zc_store_each callback: collects a crawl record (key and value copied).
static int
s_collect_record (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    zlistx_t *records = (zlistx_t *)arg;
    zlistx_add_end (records, zframe_new (key, key_size));
    zlistx_add_end (records, zframe_new (value, value_size));
    return 0;
}

//  Drops every crawl and outstanding job and rebuilds the crawls from the
//  store's last commit: at start, and after a failed write (what was not
//  committed is redone). Outcomes of the dropped jobs will be late.
void
zc_broker_store_reload (zc_broker_self_t *self)
{
    int64_t now = zc_now_ms ();
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls)) {
        zlistx_t *jobs = zc_inflight_take_crawl (self->outstanding, crawl);
        zlistx_destroy (&jobs);
    }
    zlistx_purge (self->crawls); //  closes their output before it is cut back
    zlistx_t *records = zlistx_new ();
    zlistx_set_destructor (records, (zlistx_destructor_fn *)zframe_destroy);
    size_t prefix_size = strlen (ZC_RECORD_CRAWL_KEY_PREFIX);
    if (zc_store_each (self->store, ZC_STORE_META, ZC_RECORD_CRAWL_KEY_PREFIX, prefix_size, NULL, 0,
                       s_collect_record, records) < 0)
        zsys_error ("zc_broker: cannot read the crawls in %s", self->data_dir);
    for (zframe_t *key = (zframe_t *)zlistx_first (records); key;
         key = (zframe_t *)zlistx_next (records)) {
        zframe_t *value = (zframe_t *)zlistx_next (records);
        char *id = zc_strndup ((const char *)zframe_data (key) + prefix_size,
                               zframe_size (key) - prefix_size);
        zc_record_crawl_t record;
        char *error = NULL;
        zc_crawl_t *crawl = NULL;
        if (zc_record_crawl_decode (zframe_data (value), zframe_size (value), &record) != 0)
            error = zsys_sprintf ("crawl %s: damaged record in the store", id);
        else {
            zc_crawl_durable_t durable = zc_broker_durable (self, record.crawl_no);
            crawl = zc_crawl_restore (id, &record, &durable, now, &error);
            if (record.crawl_no >= self->next_crawl_no)
                self->next_crawl_no = record.crawl_no + 1;
        }
        if (crawl) {
            zlistx_add_end (self->crawls, crawl);
            zc_crawl_check_done (crawl, now);
        } else
            zsys_error ("zc_broker: %s; it stays in the store untouched", error);
        free (error);
        free (id);
    }
    zlistx_destroy (&records);
}

//  Makes the output of every durable crawl durable, then commits the
//  store's batch (their records with the new offsets included). Returns 0,
//  or -1 with *ERROR set (new string).
int
zc_broker_commit (zc_broker_self_t *self, char **error)
{
    *error = NULL;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        if (zc_crawl_checkpoint (crawl, error) != 0)
            return -1;
    return zc_store_commit (self->store, error);
}

//  The output or the store cannot be written (disk full, I/O error): the
//  uncommitted work is dropped and redone from the last commit, and every
//  running crawl waits, paused with the error, until the operator resumes it.
void
zc_broker_store_trouble (zc_broker_self_t *self, const char *error)
{
    zsys_error ("zc_broker: %s; crawls paused at their last commit (zcrawlctl resume CRAWL "
                "once fixed)",
                error);
    zc_store_discard (self->store);
    zc_broker_store_reload (self);
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        zc_crawl_pause (crawl, error);
}

//  Commits, then lets every crawl trim its RAM (zc_crawl_committed).
static void
s_commit_now (zc_broker_self_t *self)
{
    char *error = NULL;
    if (zc_broker_commit (self, &error) != 0) {
        zc_broker_store_trouble (self, error);
        free (error);
        return;
    }
    size_t refilled = 0;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        refilled += zc_crawl_committed (crawl);
    if (refilled)
        zc_broker_dispatch (self);
}

//  Commits early when the batch has grown past the memory budget's share.
void
zc_broker_commit_if_full (zc_broker_self_t *self)
{
    if (self->store && self->max_batch_ops > 0 &&
        zc_store_batch_size (self->store) >= self->max_batch_ops)
        s_commit_now (self);
}

int
zc_broker_on_commit (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_commit_now ((zc_broker_self_t *)arg);
    return 0;
}
