/*  zc_broker_dispatch — the broker actor's dispatch: hands ready URLs from
    the running crawls (round-robin) to the fetchers with credit, least
    loaded first, as JOBS batches; each job sent gets an in-flight record
    and a lease. Part of the broker actor (zc_broker.c), in its zloop.
*/
#include "zc_broker_internal.h"

#include "zc_util.h"

#define ZC_BROKER_DISPATCH_QUANTUM 16 //  jobs per fetcher per dispatch round

static int
s_on_dispatch_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    zc_broker_self_t *self = (zc_broker_self_t *)arg;
    self->dispatch_timer = -1;
    zc_broker_dispatch (self);
    return 0;
}

//  Arms the one-shot dispatch timer for the earliest delayed host, if that
//  is earlier than an already armed timer.
static void
s_arm_dispatch_timer (zc_broker_self_t *self, int64_t now)
{
    int64_t next = -1;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls)) {
        int64_t ready = zc_crawl_next_ready_ms (crawl);
        if (ready > now && (next < 0 || ready < next))
            next = ready;
    }
    if (next < 0)
        return;
    if (self->dispatch_timer >= 0) {
        if (self->dispatch_at_ms <= next)
            return;
        zloop_timer_end (self->loop, self->dispatch_timer);
    }
    size_t delay = (size_t)(next - now);
    self->dispatch_timer =
        zloop_timer (self->loop, delay ? delay : 1, 1, s_on_dispatch_timer, self);
    self->dispatch_at_ms = next;
}

//  Takes the next ready URL from the running crawls, round-robin.
static zc_crawl_t *
s_pop_next (zc_broker_self_t *self, int64_t now, zc_crawl_job_t *entry)
{
    size_t count = zlistx_size (self->crawls);
    if (count == 0)
        return NULL;
    //  Rotate the start of the scan by one crawl per pop
    zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls);
    for (size_t i = 0; i < self->rr % count; i++)
        crawl = (zc_crawl_t *)zlistx_next (self->crawls);
    for (size_t i = 0; i < count; i++) {
        if (!crawl)
            crawl = (zc_crawl_t *)zlistx_first (self->crawls);
        self->rr++;
        if (zc_crawl_pop (crawl, now, entry) == 0)
            return crawl;
        //  Popping may have ended the crawl's last URLs without a fetch
        //  (robots.txt disallowed or unavailable): no outcome will come
        //  to notice that it is done, so check here.
        zc_crawl_check_done (crawl, now);
        crawl = (zc_crawl_t *)zlistx_next (self->crawls);
    }
    return NULL;
}

//  Puts the URLs of an undelivered batch back.
static void
s_undo_batch (zc_broker_self_t *self, zc_msg_t *msg, int64_t now)
{
    for (size_t i = 0; i < msg->jobs.job_count; i++) {
        zc_inflight_job_t *job = zc_inflight_take (self->outstanding, msg->jobs.jobs[i].id);
        if (job) {
            zc_crawl_requeue (job->crawl, &job->work, now);
            zc_inflight_job_destroy (&job);
        }
    }
}

//  Records ENTRY (its strings go to the in-flight table) as a job of CRAWL
//  sent to NODE, with its lease, and fills *OUT, the job as sent; SPACING
//  is its host's delay (page jobs carry it). The job's fetch options are
//  the crawl's, with only its host's resolve entries.
static void
s_job_make (zc_broker_self_t *self, zc_broker_node_t *node, zc_crawl_t *crawl,
            zc_crawl_job_t *entry, uint32_t spacing, int64_t now, zc_job_t *out)
{
    const zc_crawl_opts_t *opts = zc_crawl_opts (crawl);
    //  A page job is one request (redirects come back as new jobs); a
    //  robots.txt job may follow up to 5 hops in the fetcher.
    uint64_t requests = entry->kind == ZC_JOB_ROBOTS ? 6 : 1;
    uint64_t budget = (uint64_t)opts->fetch.connect_timeout_ms +
                      (uint64_t)opts->fetch.timeout_ms * requests +
                      (uint64_t)ZC_BROKER_DEADLINE_SLACK_BEATS * (uint64_t)self->heartbeat_ms;
    //  The table takes the strings of ENTRY
    zc_inflight_job_t *job =
        zc_inflight_add (self->outstanding, crawl, entry, node->key, now + (int64_t)budget);
    //  Extraction rules are borrowed from the crawl, which does not
    //  change them before the batch is sent. No robots rules: the
    //  fetcher follows no redirect, every hop is checked here
    bool page = entry->kind == ZC_JOB_PAGE;
    *out = (zc_job_t){.crawl = zc_crawl_id (crawl),
                      .id = job->id,
                      .kind = entry->kind,
                      .url = job->work.url,
                      .depth = job->work.depth,
                      .attempt = job->work.attempt,
                      .deadline_ms = (uint64_t)job->deadline_ms,
                      .opts = opts->fetch,
                      .redirects = job->work.redirects,
                      .rules = page ? opts->rules : NULL,
                      .rule_count = page ? opts->rule_count : 0,
                      .origin = job->work.origin,
                      .spacing_ms = page ? spacing : 0};
    //  Only the resolve entries of the job's own host (robots.txt jobs
    //  too), not all of the crawl's
    zc_crawl_resolve (crawl, job->work.host_key, &out->opts.resolve, &out->opts.resolve_count);
}

//  Sends COUNT jobs to NODE as one JOBS message. Returns COUNT, or 0 if it
//  could not be queued (the jobs are put back, the node's credit zeroed).
static size_t
s_send_jobs (zc_broker_self_t *self, zc_broker_node_t *node, zc_job_t *jobs, size_t count,
             int64_t now)
{
    zc_msg_t msg = {.type = ZC_MSG_JOBS, .jobs = {.jobs = jobs, .job_count = count}};
    if (zc_msg_send (&msg, self->jobs, node->routing_id) == 0) {
        node->credit -= (uint32_t)count;
        return count;
    }
    zsys_warning ("zc_broker: cannot send %zu jobs to fetcher %s: %s; requeued", count, node->id,
                  zmq_strerror (errno));
    s_undo_batch (self, &msg, now);
    node->credit = 0; //  it will READY again after re-registering
    return 0;
}

//  The fetcher a job of ENTRY's host goes to, NODE unless the host has a
//  politeness delay (SPACING > 0): then all its jobs go to one fetcher while that one
//  has room, so that the fetcher's own spacing (job spacing_ms) holds
//  between all of the host's requests. Two fetchers could start two jobs
//  of the host closer than the delay when one of them is slow to start
//  its job; a polite host's pace is set by its delay anyway, not by a
//  fetcher's capacity.
static zc_broker_node_t *
s_host_fetcher (zc_broker_self_t *self, zc_broker_node_t *node, const zc_crawl_job_t *entry,
                uint32_t spacing)
{
    if (spacing == 0)
        return node;
    const char *key = (const char *)zhashx_lookup (self->host_fetchers, entry->host_key);
    zc_broker_node_t *pinned = key ? (zc_broker_node_t *)zhashx_lookup (self->nodes, key) : NULL;
    if (pinned && pinned != node && pinned->fetcher && pinned->credit > 0)
        return pinned;
    if (pinned != node) {
        //  Forgetting pins only lets a host move once; bounded memory
        if (zhashx_size (self->host_fetchers) >= ZC_BROKER_MAX_HOST_PINS)
            zhashx_purge (self->host_fetchers);
        zhashx_update (self->host_fetchers, entry->host_key, zc_strdup (node->key));
    }
    return node;
}

//  Sends NODE one JOBS batch of at most LIMIT jobs (and at most its credit)
//  from the crawls; jobs of a host pinned to another fetcher go there at
//  once. Returns the number of jobs sent to NODE.
static size_t
s_dispatch_batch (zc_broker_self_t *self, zc_broker_node_t *node, int64_t now, size_t limit)
{
    size_t want = node->credit < limit ? node->credit : limit;
    zc_job_t *jobs = (zc_job_t *)zmalloc (want * sizeof (zc_job_t));
    size_t count = 0;
    while (count < want) {
        zc_crawl_job_t entry;
        zc_crawl_t *crawl = s_pop_next (self, now, &entry);
        if (!crawl)
            break;
        uint32_t spacing = zc_crawl_host_spacing (crawl, entry.host_key);
        zc_broker_node_t *target = s_host_fetcher (self, node, &entry, spacing);
        if (target != node) {
            zc_job_t one;
            s_job_make (self, target, crawl, &entry, spacing, now, &one);
            (void)s_send_jobs (self, target, &one, 1, now);
        } else
            s_job_make (self, node, crawl, &entry, spacing, now, &jobs[count++]);
    }
    if (count > 0)
        count = s_send_jobs (self, node, jobs, count, now);
    free (jobs);
    return count;
}

//  Most credit first: credit is the fetcher's free capacity, so this is
//  "least loaded first".
static int
s_compare_credit (const void *a, const void *b)
{
    const zc_broker_node_t *x = *(zc_broker_node_t *const *)a, *y = *(zc_broker_node_t *const *)b;
    return x->credit < y->credit ? 1 : x->credit > y->credit ? -1 : 0;
}

//  Hands ready URLs to the fetchers with credit, least loaded first, in
//  rounds of at most ZC_BROKER_DISPATCH_QUANTUM jobs each, so that work
//  spreads over all fetchers: when the per-host limits let only a few URLs
//  out at a time, they go to the fetcher with the most free capacity rather
//  than always to the first one.
void
zc_broker_dispatch (zc_broker_self_t *self)
{
    if (!self->started)
        return;
    int64_t now = zc_now_ms ();
    size_t count = 0;
    zc_broker_node_t **fetchers =
        (zc_broker_node_t **)zmalloc ((zhashx_size (self->nodes) + 1) * sizeof *fetchers);
    for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
         node = (zc_broker_node_t *)zhashx_next (self->nodes))
        if (node->fetcher && node->credit > 0)
            fetchers[count++] = node;
    bool nothing_ready = false, sent = true;
    while (sent && !nothing_ready) {
        sent = false;
        qsort (fetchers, count, sizeof *fetchers, s_compare_credit);
        for (size_t i = 0; i < count && fetchers[i]->credit > 0; i++) {
            zc_broker_node_t *node = fetchers[i];
            size_t asked = node->credit < ZC_BROKER_DISPATCH_QUANTUM ? node->credit
                                                                     : ZC_BROKER_DISPATCH_QUANTUM;
            size_t got = s_dispatch_batch (self, node, now, asked);
            sent = sent || got > 0;
            //  A short batch from a node that still has credit means nothing
            //  more is ready now (a failed send zeroes the node's credit).
            if (got < asked && node->credit > 0) {
                nothing_ready = true;
                break;
            }
        }
    }
    free (fetchers);
    if (nothing_ready)
        s_arm_dispatch_timer (self, now);
}
