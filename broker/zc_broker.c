/*  zc_broker — the broker actor; see zc_broker.h and DESIGN.md.

    State: the nodes (keyed by their ZeroMQ routing id on the jobs ROUTER),
    the crawls (zc_crawl: frontier, seen set, scope, sink) and the
    outstanding jobs (zc_inflight: keyed by job id, each remembering its crawl,
    the fetcher it went to and its lease). Everything happens in one zloop:

    - jobs ROUTER: HELLO / READY / HEARTBEAT / FETCH_FAILED from nodes;
    - results PULL: RESULT from parser actors;
    - control ROUTER: SUBMIT / STATUS / STOP from zcrawlctl;
    - timers: heartbeats and dead-node detection, lease expiry, output
      flush, and a one-shot dispatch timer when the only ready work is
      behind a host delay.

    "Every job ends exactly once": a job record is removed by its first
    outcome; any later outcome for that id is dropped and counted. When a
    fetcher is declared dead (or registers again) its jobs go back to the
    frontier at once. Every job is also a lease: its record holds the
    deadline sent with it, and the lease timer puts a job whose deadline
    has passed back in the frontier (same attempt, same origin: this uses
    up no retry) and deletes its record. Either way the job's in-flight
    slot is released there, once; if its outcome still arrives it is
    simply late.
*/
#include "zc_broker.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "zc_crawl.h"
#include "zc_inflight.h"
#include "zc_record.h"
#include "zc_store.h"
#include "zc_url.h"
#include "zc_util.h"

#define ZC_BROKER_DEFAULT_HEARTBEAT_MS 1000
#define ZC_BROKER_DEAD_AFTER 5 //  heartbeat intervals
#define ZC_BROKER_FLUSH_MS 200
//  A job's deadline is its fetch budget plus a slack of this many heartbeat
//  intervals (5 s at the default 1 s): transit, parsing, queueing.
#define ZC_BROKER_DEADLINE_SLACK_BEATS ZC_BROKER_DEAD_AFTER
#define ZC_BROKER_LEASE_CHECK_MS 250  //  at most; at least once per heartbeat
#define ZC_BROKER_MAX_CREDIT 1000000u //  per fetcher, against silly READYs
#define ZC_BROKER_BATCH_READS 256     //  messages per socket wake-up
#define ZC_BROKER_DISPATCH_QUANTUM 16 //  jobs per fetcher per dispatch round
#define ZC_BROKER_LOG_INTERVAL_MS 1000
#define ZC_BROKER_DEFAULT_COMMIT_MS 100
//  --max-memory is shared out: a quarter for queued URLs (at about
//  ZC_BROKER_BYTES_PER_QUEUED_URL each: frontier item, URL string, host
//  queue share), an eighth for the seen set in RAM (the store answers for
//  the rest), an eighth for the pages LMDB dirties in one commit (a commit
//  is forced once the batch could dirty more: ZC_BROKER_BYTES_PER_OP
//  each, a random-key insert dirtying a page), and half for everything
//  else (jobs, messages, buffers, allocator slack).
#define ZC_BROKER_BYTES_PER_QUEUED_URL 256
#define ZC_BROKER_BYTES_PER_OP 4096
#define ZC_BROKER_MIN_MEMORY_URLS 1024
#define ZC_BROKER_MIN_BATCH_OPS 1024

typedef struct {
    zframe_t *routing_id; //  owned
    char *key;            //  owned: hex of the routing id
    char *id;             //  owned: node id from HELLO
    char *role;           //  owned
    char *endpoint;       //  owned
    bool fetcher;
    uint32_t capacity;
    uint32_t credit;
    int64_t last_seen_ms;
    uint64_t decode_errors; //  last reported
    uint32_t in_flight;     //  last reported
    uint64_t done;          //  last reported
} s_node_t;

typedef struct {
    zsock_t *pipe;          //  borrowed: actor pipe
    zloop_t *loop;          //  owned
    zsock_t *jobs;          //  owned
    zsock_t *results;       //  owned
    zsock_t *control;       //  owned
    char *jobs_endpoint;    //  owned: from the config
    char *results_endpoint; //  owned
    char *control_endpoint; //  owned
    char *output_dir;       //  owned
    int heartbeat_ms;
    uint64_t epoch;
    uint64_t rng;               //  splitmix64 state (crawl ids)
    zhashx_t *nodes;            //  owned: routing key -> s_node_t (owned)
    zlistx_t *crawls;           //  owned: zc_crawl_t (owned), in submission order
    zc_inflight_t *outstanding; //  owned: the jobs sent and not ended yet
    size_t rr;                  //  round-robin position over crawls
    int dispatch_timer;         //  -1 when not armed
    int64_t dispatch_at_ms;
    uint64_t decode_errors; //  our own
    int64_t last_decode_log_ms;
    int64_t last_late_log_ms;
    bool started;
    char *data_dir;         //  owned: NULL = memory only
    zc_store_t *store;      //  owned: the durable state, NULL = memory only
    int commit_ms;          //  store commit interval
    size_t memory_urls;     //  per crawl: queued URLs kept in RAM (0 = all)
    size_t seen_bytes;      //  per crawl: RAM for the seen set (0 = no limit)
    size_t max_batch_ops;   //  store operations that force a commit (0 = timer only)
    uint32_t next_crawl_no; //  store key prefix of the next crawl
} self_t;

//  --------------------------------------------------------------------------
//  Helpers

static uint64_t
s_random (self_t *self)
{
    //  splitmix64
    uint64_t z = (self->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void
s_node_destroy (void **item_p)
{
    s_node_t *node = (s_node_t *)*item_p;
    if (!node)
        return;
    zframe_destroy (&node->routing_id);
    free (node->key);
    free (node->id);
    free (node->role);
    free (node->endpoint);
    free (node);
    *item_p = NULL;
}

static void
s_crawl_destroy (void **item_p)
{
    zc_crawl_destroy ((zc_crawl_t **)item_p);
}

static void
s_count_decode_error (self_t *self, const char *socket, const char *why)
{
    self->decode_errors++;
    int64_t now = zc_now_ms ();
    if (now - self->last_decode_log_ms >= ZC_BROKER_LOG_INTERVAL_MS) {
        self->last_decode_log_ms = now;
        zsys_warning ("zc_broker: dropped a bad message on %s: %s (%" PRIu64 " so far)", socket,
                      why, self->decode_errors);
    }
}

//  Logs (at most once per interval) an outcome zc_inflight_claim counted late.
static void
s_log_late (self_t *self, const char *type, uint64_t job_id)
{
    int64_t now = zc_now_ms ();
    if (now - self->last_late_log_ms >= ZC_BROKER_LOG_INTERVAL_MS) {
        self->last_late_log_ms = now;
        zsys_info ("zc_broker: dropped %s for unknown or finished job %" PRIu64 " (%" PRIu64
                   " late or duplicate outcomes so far)",
                   type, job_id, zc_inflight_late_count (self->outstanding));
    }
}

static zc_crawl_t *
s_crawl_lookup (self_t *self, const char *id)
{
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        if (streq (zc_crawl_id (crawl), id))
            return crawl;
    return NULL;
}

static void
s_node_send (self_t *self, s_node_t *node, const zc_msg_t *msg)
{
    if (zc_msg_send (msg, self->jobs, node->routing_id) != 0)
        zsys_warning ("zc_broker: cannot send %s to node %s: %s", zc_msg_type_str (msg->type),
                      node->id, zmq_strerror (errno));
}

//  --------------------------------------------------------------------------
//  Parser set

//  Sends the current parser endpoints to one fetcher, or to all if NODE is NULL.
static void
s_send_parsers (self_t *self, s_node_t *target)
{
    size_t count = 0;
    const char **endpoints =
        (const char **)zmalloc ((zhashx_size (self->nodes) + 1) * sizeof (char *));
    for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
         node = (s_node_t *)zhashx_next (self->nodes)) {
        if (node->fetcher || !*node->endpoint)
            continue;
        bool duplicate = false;
        for (size_t i = 0; i < count && !duplicate; i++)
            duplicate = streq (endpoints[i], node->endpoint);
        if (!duplicate)
            endpoints[count++] = node->endpoint;
    }
    zc_msg_t msg = {.type = ZC_MSG_PARSERS,
                    .parsers = {.endpoints = endpoints, .endpoint_count = count}};
    if (target)
        s_node_send (self, target, &msg);
    else {
        //  Collect first: sending does not touch the hash, but keep the
        //  iteration independent of the one above
        zlistx_t *fetchers = zlistx_new ();
        for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
             node = (s_node_t *)zhashx_next (self->nodes))
            if (node->fetcher)
                zlistx_add_end (fetchers, node);
        for (s_node_t *node = (s_node_t *)zlistx_first (fetchers); node;
             node = (s_node_t *)zlistx_next (fetchers))
            s_node_send (self, node, &msg);
        zlistx_destroy (&fetchers);
    }
    free (endpoints);
}

//  --------------------------------------------------------------------------
//  Dispatch

static void s_dispatch (self_t *self);

static int
s_on_dispatch_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = (self_t *)arg;
    self->dispatch_timer = -1;
    s_dispatch (self);
    return 0;
}

//  Arms the one-shot dispatch timer for the earliest delayed host, if that
//  is earlier than an already armed timer.
static void
s_arm_dispatch_timer (self_t *self, int64_t now)
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
s_pop_next (self_t *self, int64_t now, zc_crawl_job_t *entry)
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

//  Puts every job of *JOBS_P (a list taken from the in-flight table, owned)
//  back into its crawl's frontier with the same attempt, destroys the list
//  and returns how many there were. For jobs that lost their fetcher or their
//  lease: neither uses up a retry.
static size_t
s_requeue_all (zlistx_t **jobs_p, int64_t now)
{
    size_t count = 0;
    for (zc_inflight_job_t *job = (zc_inflight_job_t *)zlistx_first (*jobs_p); job;
         job = (zc_inflight_job_t *)zlistx_next (*jobs_p), count++)
        zc_crawl_requeue (job->crawl, &job->work, now);
    zlistx_destroy (jobs_p);
    return count;
}

//  Puts the URLs of an undelivered batch back.
static void
s_undo_batch (self_t *self, zc_msg_t *msg, int64_t now)
{
    for (size_t i = 0; i < msg->jobs.job_count; i++) {
        zc_inflight_job_t *job = zc_inflight_take (self->outstanding, msg->jobs.jobs[i].id);
        if (job) {
            zc_crawl_requeue (job->crawl, &job->work, now);
            zc_inflight_job_destroy (&job);
        }
    }
}

//  Sends NODE one JOBS batch of at most LIMIT jobs (and at most its credit)
//  from the crawls. Returns the number of jobs sent.
static size_t
s_dispatch_batch (self_t *self, s_node_t *node, int64_t now, size_t limit)
{
    size_t want = node->credit < limit ? node->credit : limit;
    zc_job_t *jobs = (zc_job_t *)zmalloc (want * sizeof (zc_job_t));
    size_t count = 0;
    while (count < want) {
        zc_crawl_job_t entry;
        zc_crawl_t *crawl = s_pop_next (self, now, &entry);
        if (!crawl)
            break;
        const zc_crawl_opts_t *opts = zc_crawl_opts (crawl);
        //  A page job is one request (redirects come back as new jobs); a
        //  robots.txt job may follow up to 5 hops in the fetcher.
        uint64_t requests = entry.kind == ZC_JOB_ROBOTS ? 6 : 1;
        uint64_t budget = (uint64_t)opts->fetch.connect_timeout_ms +
                          (uint64_t)opts->fetch.timeout_ms * requests +
                          (uint64_t)ZC_BROKER_DEADLINE_SLACK_BEATS * (uint64_t)self->heartbeat_ms;
        //  The table takes the strings of ENTRY
        zc_inflight_job_t *job =
            zc_inflight_add (self->outstanding, crawl, &entry, node->key, now + (int64_t)budget);
        //  Extraction rules are borrowed from the crawl, which does not
        //  change them before the batch is sent. No robots rules: the
        //  fetcher follows no redirect, every hop is checked here
        bool page = entry.kind == ZC_JOB_PAGE;
        jobs[count++] = (zc_job_t){.crawl = zc_crawl_id (crawl),
                                   .id = job->id,
                                   .kind = entry.kind,
                                   .url = job->work.url,
                                   .depth = job->work.depth,
                                   .attempt = job->work.attempt,
                                   .deadline_ms = (uint64_t)job->deadline_ms,
                                   .opts = opts->fetch,
                                   .redirects = job->work.redirects,
                                   .rules = page ? opts->rules : NULL,
                                   .rule_count = page ? opts->rule_count : 0,
                                   .origin = job->work.origin};
    }
    if (count > 0) {
        zc_msg_t msg = {.type = ZC_MSG_JOBS, .jobs = {.jobs = jobs, .job_count = count}};
        if (zc_msg_send (&msg, self->jobs, node->routing_id) == 0)
            node->credit -= (uint32_t)count;
        else {
            zsys_warning ("zc_broker: cannot send %zu jobs to fetcher %s: %s; requeued", count,
                          node->id, zmq_strerror (errno));
            s_undo_batch (self, &msg, now);
            node->credit = 0; //  it will READY again after re-registering
            count = 0;
        }
    }
    free (jobs);
    return count;
}

//  Most credit first: credit is the fetcher's free capacity, so this is
//  "least loaded first".
static int
s_compare_credit (const void *a, const void *b)
{
    const s_node_t *x = *(s_node_t *const *)a, *y = *(s_node_t *const *)b;
    return x->credit < y->credit ? 1 : x->credit > y->credit ? -1 : 0;
}

//  Hands ready URLs to the fetchers with credit, least loaded first, in
//  rounds of at most ZC_BROKER_DISPATCH_QUANTUM jobs each, so that work
//  spreads over all fetchers: when the per-host limits let only a few URLs
//  out at a time, they go to the fetcher with the most free capacity rather
//  than always to the first one.
static void
s_dispatch (self_t *self)
{
    if (!self->started)
        return;
    int64_t now = zc_now_ms ();
    size_t count = 0;
    s_node_t **fetchers = (s_node_t **)zmalloc ((zhashx_size (self->nodes) + 1) * sizeof *fetchers);
    for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
         node = (s_node_t *)zhashx_next (self->nodes))
        if (node->fetcher && node->credit > 0)
            fetchers[count++] = node;
    bool nothing_ready = false, sent = true;
    while (sent && !nothing_ready) {
        sent = false;
        qsort (fetchers, count, sizeof *fetchers, s_compare_credit);
        for (size_t i = 0; i < count && fetchers[i]->credit > 0; i++) {
            s_node_t *node = fetchers[i];
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

//  --------------------------------------------------------------------------
//  Nodes

//  Removes NODE: its jobs go back to their frontiers; a parser's endpoint
//  leaves the parser set.
static void
s_node_remove (self_t *self, s_node_t *node, const char *why)
{
    zsys_info ("zc_broker: node %s (%s) removed: %s", node->id, node->role, why);
    int64_t now = zc_now_ms ();
    bool parser = !node->fetcher;
    //  The jobs it holds (a fetcher: sent and not accepted by a parser
    //  node yet; a parser node: accepted) go back now, not at lease expiry
    zlistx_t *jobs = node->fetcher ? zc_inflight_take_fetcher (self->outstanding, node->key)
                                   : zc_inflight_take_parser (self->outstanding, node->key);
    size_t requeued = s_requeue_all (&jobs, now);
    if (requeued)
        zsys_info ("zc_broker: %zu jobs of %s requeued", requeued, node->id);
    zhashx_delete (self->nodes, node->key); //  destroys NODE
    if (parser)
        s_send_parsers (self, NULL);
    if (requeued)
        s_dispatch (self);
}

static void
s_handle_hello (self_t *self, zframe_t *routing_id, const char *key, const zc_hello_t *hello)
{
    bool fetcher = streq (hello->role, "fetcher");
    if (!fetcher && !streq (hello->role, "parser")) {
        s_count_decode_error (self, "jobs", "HELLO with an unknown role");
        return;
    }
    //  A node that registers again (new connection, or it lost us) starts
    //  afresh: whatever the old registration held is given back.
    s_node_t *old = (s_node_t *)zhashx_lookup (self->nodes, key);
    if (old)
        s_node_remove (self, old, "registered again");
    for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
         node = (s_node_t *)zhashx_next (self->nodes))
        if (streq (node->id, hello->id)) {
            s_node_remove (self, node, "registered again from a new connection");
            break; //  the iteration is void after a removal; ids are unique
        }
    s_node_t *node = (s_node_t *)zmalloc (sizeof (s_node_t));
    node->routing_id = zframe_dup (routing_id);
    node->key = zc_strdup (key);
    node->id = zc_strdup (hello->id);
    node->role = zc_strdup (hello->role);
    node->endpoint = zc_strdup (hello->endpoint ? hello->endpoint : "");
    node->fetcher = fetcher;
    node->capacity = hello->capacity;
    node->last_seen_ms = zc_now_ms ();
    int rc = zhashx_insert (self->nodes, key, node);
    assert (rc == 0);
    zsys_info ("zc_broker: %s %s registered (capacity %u%s%s)", node->role, node->id,
               node->capacity, fetcher ? "" : ", endpoint ", fetcher ? "" : node->endpoint);

    zc_msg_t welcome = {.type = ZC_MSG_WELCOME,
                        .welcome = {.epoch = self->epoch,
                                    .results = self->results_endpoint,
                                    .heartbeat_ms = (uint32_t)self->heartbeat_ms}};
    s_node_send (self, node, &welcome);
    s_send_parsers (self, fetcher ? node : NULL);
}

static void s_handle_fetch_failed (self_t *self, const zc_fetch_failed_t *failed);
static int s_handle_results (zloop_t *loop, zsock_t *reader, void *arg);
static void s_commit_if_full (self_t *self);
static void s_handle_robots (self_t *self, const zc_robots_t *robots);

static int
s_handle_jobs_message (self_t *self, zmsg_t *zmsg)
{
    zframe_t *routing_id = zmsg_pop (zmsg);
    if (!routing_id) {
        zmsg_destroy (&zmsg);
        return 0;
    }
    char *key = zframe_strhex (routing_id);
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    s_node_t *node = (s_node_t *)zhashx_lookup (self->nodes, key);
    if (!msg)
        s_count_decode_error (self, "jobs", zc_msg_decode_status_str (status));
    else if (msg->type == ZC_MSG_HELLO)
        s_handle_hello (self, routing_id, key, &msg->hello);
    else if (!node) {
        //  A node we do not know (we restarted, or declared it dead):
        //  HEARTBEAT with epoch 0 means "I do not know you, send HELLO"
        //  (PROTOCOL.md section 4). Our real epoch would not do: a node
        //  we declared dead still holds it and would stay put.
        zc_msg_t heartbeat = {
            .type = ZC_MSG_HEARTBEAT,
            .heartbeat = {.epoch = 0, .node = "broker", .decode_errors = self->decode_errors}};
        (void)zc_msg_send (&heartbeat, self->jobs, routing_id);
    } else {
        node->last_seen_ms = zc_now_ms ();
        switch (msg->type) {
        case ZC_MSG_READY:
            if (node->fetcher) {
                uint64_t credit = (uint64_t)node->credit + msg->ready.credit;
                node->credit =
                    credit > ZC_BROKER_MAX_CREDIT ? ZC_BROKER_MAX_CREDIT : (uint32_t)credit;
                s_dispatch (self);
            }
            break;
        case ZC_MSG_HEARTBEAT:
            node->decode_errors = msg->heartbeat.decode_errors;
            node->in_flight = msg->heartbeat.in_flight;
            node->done = msg->heartbeat.done;
            break;
        case ZC_MSG_FETCH_FAILED:
            s_handle_fetch_failed (self, &msg->fetch_failed);
            break;
        case ZC_MSG_ROBOTS:
            s_handle_robots (self, &msg->robots);
            break;
        case ZC_MSG_ACCEPT:
            if (!node->fetcher)
                for (size_t i = 0; i < msg->accept.job_count; i++)
                    (void)zc_inflight_accept (self->outstanding, msg->accept.jobs[i], node->key);
            break;
        case ZC_MSG_BYE:
            //  A parser node's last RESULTs travel on the results socket
            //  and may sit there unread: take them first, so that their
            //  jobs are not requeued for nothing
            if (!node->fetcher)
                (void)s_handle_results (self->loop, self->results, self);
            s_node_remove (self, node, "stopping (BYE)");
            break;
        case ZC_MSG_HELLO:
        case ZC_MSG_WELCOME:
        case ZC_MSG_JOBS:
        case ZC_MSG_PARSERS:
        case ZC_MSG_PAGE:
        case ZC_MSG_RESULT:
        case ZC_MSG_SUBMIT:
        case ZC_MSG_STATUS:
        case ZC_MSG_STOP:
        case ZC_MSG_OK:
        case ZC_MSG_ERROR:
        case ZC_MSG_STATUS_REPLY:
        case ZC_MSG_PAUSE:
        case ZC_MSG_RESUME:
            s_count_decode_error (self, "jobs", "unexpected message type");
            break;
        }
    }
    zc_msg_destroy (&msg);
    zstr_free (&key);
    zframe_destroy (&routing_id);
    return 0;
}

static int
s_handle_jobs (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    for (int i = 0; i < ZC_BROKER_BATCH_READS && (zsock_events (reader) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (reader);
        if (!zmsg)
            break;
        s_handle_jobs_message (self, zmsg);
    }
    return 0;
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = (self_t *)arg;
    int64_t now = zc_now_ms ();
    int64_t dead_before = now - (int64_t)ZC_BROKER_DEAD_AFTER * self->heartbeat_ms;
    zlistx_t *dead = zlistx_new ();
    zc_msg_t heartbeat = {
        .type = ZC_MSG_HEARTBEAT,
        .heartbeat = {.epoch = self->epoch,
                      .node = "broker",
                      .decode_errors = self->decode_errors,
                      .in_flight = (uint32_t)zc_inflight_size (self->outstanding)}};
    for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
         node = (s_node_t *)zhashx_next (self->nodes)) {
        if (node->last_seen_ms < dead_before)
            zlistx_add_end (dead, node);
        else
            (void)zc_msg_send (&heartbeat, self->jobs, node->routing_id);
    }
    for (s_node_t *node = (s_node_t *)zlistx_first (dead); node;
         node = (s_node_t *)zlistx_next (dead))
        s_node_remove (self, node, "silent for 5 heartbeats");
    zlistx_destroy (&dead);
    return 0;
}

//  Lease expiry: every outstanding job whose deadline has passed goes back
//  to its frontier with the same attempt (an expired lease uses up no
//  retry) and its record is deleted, so its outcome, if it still comes, is
//  late. The scan runs only once the earliest known deadline has passed.
static int
s_on_lease_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = (self_t *)arg;
    int64_t now = zc_now_ms ();
    zlistx_t *jobs = zc_inflight_take_expired (self->outstanding, now);
    size_t expired = s_requeue_all (&jobs, now);
    if (expired) {
        zsys_info ("zc_broker: %zu job leases expired, requeued (%" PRIu64 " expired, %" PRIu64
                   " late or duplicate outcomes so far)",
                   expired, zc_inflight_expired_count (self->outstanding),
                   zc_inflight_late_count (self->outstanding));
        s_dispatch (self);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Outcomes

//  Finds and detaches the job an outcome is about; NULL (counted) if it is
//  unknown, already finished, or the crawl or the kind of job does not
//  match (a RESULT for a robots job stays outstanding).
static zc_inflight_job_t *
s_job_take (self_t *self, const char *type, const char *crawl_id, uint64_t job_id,
            zc_job_kind_t kind)
{
    zc_inflight_job_t *job = zc_inflight_claim (self->outstanding, job_id, crawl_id, kind);
    if (!job)
        s_log_late (self, type, job_id);
    return job;
}

//  Ends JOB (owned): frees its host slot, checks completion, dispatches.
static void
s_job_finish (self_t *self, zc_inflight_job_t *job)
{
    int64_t now = zc_now_ms ();
    zc_crawl_job_ended (job->crawl, job->work.kind, job->work.host_key, now);
    zc_crawl_check_done (job->crawl, now);
    zc_inflight_job_destroy (&job);
    s_dispatch (self);
}

//  Uniform in [0.5, 1.0): the jitter of retry back-offs.
static double
s_jitter (self_t *self)
{
    return 0.5 + 0.5 * (double)(s_random (self) >> 11) / 9007199254740992.0;
}

//  Failures worth another attempt: the network's and the server's, not ours
//  (bad URL, too large, 4xx...).
static bool
s_retryable (const char *reason, uint32_t status)
{
    if (streq (reason, "http"))
        return status == 429 || (status >= 500 && status < 600);
    return streq (reason, "timeout") || streq (reason, "connect") || streq (reason, "dns") ||
           streq (reason, "network");
}

//  A retryable failure of page JOB: the host backs off; unless this was the
//  last attempt, the URL is queued again with attempt + 1, due after the
//  exponential back-off with jitter and not before RETRY_AFTER_MS. Returns
//  true if it was queued again.
static bool
s_retry (self_t *self, zc_inflight_job_t *job, uint32_t retry_after_ms)
{
    int64_t now = zc_now_ms ();
    zc_crawl_host_failed (job->crawl, job->work.host_key, now, retry_after_ms);
    if (job->work.attempt >= zc_crawl_opts (job->crawl)->max_attempts)
        return false;
    int64_t delay = zc_crawl_backoff_ms (job->crawl, job->work.attempt, s_jitter (self));
    if (delay < (int64_t)retry_after_ms)
        delay = retry_after_ms;
    zc_crawl_job_t next = job->work; //  borrows the strings
    next.attempt++;
    zc_crawl_retry (job->crawl, &next, now + delay);
    return true;
}

static void
s_handle_result (self_t *self, const zc_result_t *result)
{
    zc_inflight_job_t *job =
        s_job_take (self, "RESULT", result->meta.crawl, result->meta.id, ZC_JOB_PAGE);
    if (!job)
        return;
    //  The broker's own record is authoritative for what it asked: the
    //  item of a redirect chain is its origin's, fetched from the target
    zc_result_t item = *result;
    const char *origin = job->work.origin;
    item.meta.url = origin ? origin : job->work.url;
    item.meta.final_url = job->work.url;
    item.meta.redirects = job->work.redirects;
    item.meta.depth = job->work.depth;
    item.meta.attempt = job->work.attempt;
    item.meta.crawl = zc_crawl_id (job->crawl);
    uint32_t status = item.meta.status;
    if (status >= 200 && status < 300) {
        zc_crawl_host_ok (job->crawl, job->work.host_key);
        //  (a redirect target is in the seen set since it was queued)
        zc_crawl_write_item (job->crawl, job->work.seq, &item);
        for (size_t i = 0; i < result->link_count; i++)
            (void)zc_crawl_admit (job->crawl, result->links[i], job->work.depth + 1);
    } else if (!s_retryable ("http", status) || !s_retry (self, job, 0)) {
        if (!s_retryable ("http", status))
            zc_crawl_host_ok (job->crawl, job->work.host_key);
        char detail[64];
        snprintf (detail, sizeof detail, "HTTP %u", status);
        zc_sink_error_t error = {.url = item.meta.url,
                                 .reason = "http",
                                 .detail = detail,
                                 .status = status,
                                 .location = origin ? job->work.url : NULL,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = item.meta.fetched_at_ms};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    s_job_finish (self, job);
}

//  A redirect of page JOB: every hop comes back here. The target T goes
//  through scope and dedup now and through robots and the host's politeness
//  at its dispatch, as a continuation of the chain's origin O (the URL first
//  requested) at the same depth, carrying the hops so far. Only the chain's
//  final outcome is written, under O: a loop back to O, a target out of
//  scope or already seen (crawled on its own) ends it here.
static void
s_handle_redirect (self_t *self, zc_inflight_job_t *job, const zc_fetch_failed_t *failed)
{
    (void)self;
    zc_url_status_t status;
    char *location = zc_url_canonical (failed->location, &status);
    const char *origin = job->work.origin ? job->work.origin : job->work.url;
    const char *reason = NULL;
    const char *detail = NULL;
    //  failed->redirects counts the hop to LOCATION (the fetcher reports
    //  redirect_limit itself past max_redirects): more is over the limit
    if (failed->redirects > zc_crawl_opts (job->crawl)->fetch.max_redirects) {
        reason = "redirect_limit";
        detail = "too many redirects";
    } else if (!location) {
        reason = "bad_url";
        detail = "invalid redirect location";
    } else if (streq (location, origin)) {
        reason = "redirect_limit";
        detail = "redirect loop";
    } else
        switch (zc_crawl_continue (job->crawl, location, origin, job->work.depth, failed->redirects,
                                   job->work.seq)) {
        case ZC_CRAWL_ADMITTED:
        case ZC_CRAWL_INACTIVE:
            break;
        case ZC_CRAWL_SCOPE:
        case ZC_CRAWL_DEPTH:
        case ZC_CRAWL_LIMIT:
        case ZC_CRAWL_HOST_LIMIT:
            reason = "scope";
            detail = "redirect target out of scope";
            break;
        case ZC_CRAWL_SEEN:
            reason = "redirect";
            detail = "redirect target already crawled on its own";
            break;
        case ZC_CRAWL_BAD_URL:
            reason = "bad_url";
            detail = "invalid redirect location";
            break;
        }
    if (reason) {
        zc_sink_error_t error = {.url = origin,
                                 .reason = reason,
                                 .detail = detail,
                                 .status = failed->status,
                                 .location = location ? location : failed->location,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = failed->fetched_at_ms ? failed->fetched_at_ms
                                                                : (uint64_t)zc_now_ms ()};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    free (location);
}

static void
s_handle_fetch_failed (self_t *self, const zc_fetch_failed_t *failed)
{
    zc_inflight_job_t *job =
        s_job_take (self, "FETCH_FAILED", failed->crawl, failed->id, ZC_JOB_PAGE);
    if (!job)
        return;
    const char *reason = failed->reason ? failed->reason : "";
    if (streq (reason, "shutdown")) {
        //  Handed back untried by a draining fetcher: not a failure
        int64_t now = zc_now_ms ();
        zc_crawl_requeue (job->crawl, &job->work, now);
        zc_inflight_job_destroy (&job);
        s_dispatch (self);
        return;
    }
    bool retryable = s_retryable (reason, failed->status);
    if (streq (reason, "redirect") && failed->location && *failed->location) {
        zc_crawl_host_ok (job->crawl, job->work.host_key);
        s_handle_redirect (self, job, failed);
    } else if (!retryable || !s_retry (self, job, failed->retry_after_ms)) {
        if (!retryable)
            zc_crawl_host_ok (job->crawl, job->work.host_key);
        //  A continuation's outcome is its origin's; location then says
        //  which URL of the chain failed (or where it was going)
        const char *location = failed->location && *failed->location ? failed->location
                               : job->work.origin                    ? job->work.url
                                                                     : NULL;
        zc_sink_error_t error = {.url = job->work.origin ? job->work.origin : job->work.url,
                                 .reason = reason,
                                 .detail = failed->detail,
                                 .status = failed->status,
                                 .location = location,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = failed->fetched_at_ms ? failed->fetched_at_ms
                                                                : (uint64_t)zc_now_ms ()};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    s_job_finish (self, job);
}

static void
s_handle_robots (self_t *self, const zc_robots_t *robots)
{
    zc_inflight_job_t *job = s_job_take (self, "ROBOTS", robots->crawl, robots->id, ZC_JOB_ROBOTS);
    if (!job)
        return;
    int64_t now = zc_now_ms ();
    zc_robots_t outcome = *robots;
    outcome.url = job->work.url; //  ours, not the sender's
    int64_t retry_at = now + zc_crawl_backoff_ms (job->crawl, job->work.attempt, s_jitter (self));
    zc_crawl_robots_done (job->crawl, job->work.host_key, job->work.attempt, &outcome, now,
                          retry_at);
    zc_crawl_check_done (job->crawl, now);
    zc_inflight_job_destroy (&job);
    s_dispatch (self);
}

static int
s_handle_results (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    for (int i = 0; i < ZC_BROKER_BATCH_READS && (zsock_events (reader) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (reader);
        if (!zmsg)
            break;
        zc_msg_decode_status_t status;
        zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
        if (!msg)
            s_count_decode_error (self, "results", zc_msg_decode_status_str (status));
        else if (msg->type != ZC_MSG_RESULT)
            s_count_decode_error (self, "results", "unexpected message type");
        else
            s_handle_result (self, &msg->result);
        zc_msg_destroy (&msg);
        s_commit_if_full (self);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Durable state

static zc_crawl_durable_t
s_durable (self_t *self, uint32_t crawl_no)
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
static void
s_store_reload (self_t *self)
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
            zc_crawl_durable_t durable = s_durable (self, record.crawl_no);
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
static int
s_commit (self_t *self, char **error)
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
static void
s_store_trouble (self_t *self, const char *error)
{
    zsys_error ("zc_broker: %s; crawls paused at their last commit (zcrawlctl resume CRAWL "
                "once fixed)",
                error);
    zc_store_discard (self->store);
    s_store_reload (self);
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        zc_crawl_pause (crawl, error);
}

//  Commits, then lets every crawl trim its RAM (zc_crawl_committed).
static void
s_commit_now (self_t *self)
{
    char *error = NULL;
    if (s_commit (self, &error) != 0) {
        s_store_trouble (self, error);
        free (error);
        return;
    }
    size_t refilled = 0;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        refilled += zc_crawl_committed (crawl);
    if (refilled)
        s_dispatch (self);
}

//  Commits early when the batch has grown past the memory budget's share.
static void
s_commit_if_full (self_t *self)
{
    if (self->store && self->max_batch_ops > 0 &&
        zc_store_batch_size (self->store) >= self->max_batch_ops)
        s_commit_now (self);
}

static int
s_on_commit (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_commit_now ((self_t *)arg);
    return 0;
}

//  --------------------------------------------------------------------------
//  Control

static void
s_reply_error (self_t *self, zframe_t *routing_id, const char *text)
{
    zc_msg_t reply = {.type = ZC_MSG_ERROR, .error = {.error = text}};
    if (zc_msg_send (&reply, self->control, routing_id) != 0)
        zsys_warning ("zc_broker: cannot send a control reply: %s", zmq_strerror (errno));
}

static void
s_reply_ok (self_t *self, zframe_t *routing_id, const char *crawl)
{
    zc_msg_t reply = {.type = ZC_MSG_OK, .ok = {.crawl = crawl}};
    if (zc_msg_send (&reply, self->control, routing_id) != 0)
        zsys_warning ("zc_broker: cannot send a control reply: %s", zmq_strerror (errno));
}

static void
s_handle_submit (self_t *self, zframe_t *routing_id, const zc_submit_t *submit)
{
    char id[16];
    do
        snprintf (id, sizeof id, "%08" PRIx32, (uint32_t)s_random (self));
    while (s_crawl_lookup (self, id));
    char *error = NULL;
    int64_t now = zc_now_ms ();
    zc_crawl_durable_t durable = s_durable (self, self->next_crawl_no);
    zc_crawl_t *crawl =
        zc_crawl_new (id, submit, self->output_dir, self->store ? &durable : NULL, now, &error);
    if (crawl) {
        zlistx_add_end (self->crawls, crawl);
        self->next_crawl_no++;
    }
    if (crawl && self->store && s_commit (self, &error) != 0) {
        //  Durable before the client hears OK; the reload drops it
        s_store_trouble (self, error);
        crawl = NULL;
        char *reason = zsys_sprintf ("cannot store the crawl: %s", error);
        free (error);
        error = reason;
    }
    if (!crawl) {
        zsys_warning ("zc_broker: crawl refused: %s", error);
        s_reply_error (self, routing_id, error);
        free (error);
        return;
    }
    zc_crawl_status_t status;
    zc_crawl_status (crawl, now, &status);
    zsys_info ("zc_broker: crawl %s started: %zu seeds, %" PRIu64 " queued, output %s", id,
               submit->seed_count, status.queued, status.output);
    s_reply_ok (self, routing_id, id);
    zc_crawl_check_done (crawl, now);
    s_dispatch (self);
}

static void
s_handle_status (self_t *self, zframe_t *routing_id, const zc_status_t *request)
{
    const char *wanted = request->crawl ? request->crawl : "";
    if (*wanted && !s_crawl_lookup (self, wanted)) {
        s_reply_error (self, routing_id, "unknown crawl");
        return;
    }
    int64_t now = zc_now_ms ();
    size_t node_count = zhashx_size (self->nodes);
    zc_node_status_t *nodes = (zc_node_status_t *)zmalloc ((node_count + 1) * sizeof *nodes);
    uint64_t decode_errors = self->decode_errors;
    size_t n = 0;
    for (s_node_t *node = (s_node_t *)zhashx_first (self->nodes); node;
         node = (s_node_t *)zhashx_next (self->nodes)) {
        nodes[n++] = (zc_node_status_t){.id = node->id,
                                        .role = node->role,
                                        .endpoint = node->endpoint,
                                        .capacity = node->capacity,
                                        .in_flight = node->in_flight,
                                        .done = node->done,
                                        .decode_errors = node->decode_errors,
                                        .last_seen_ms = (uint64_t)node->last_seen_ms};
        decode_errors += node->decode_errors;
    }
    size_t crawl_count = zlistx_size (self->crawls);
    zc_crawl_status_t *crawls = (zc_crawl_status_t *)zmalloc ((crawl_count + 1) * sizeof *crawls);
    size_t c = 0;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        if (!*wanted || streq (zc_crawl_id (crawl), wanted))
            zc_crawl_status (crawl, now, &crawls[c++]);
    zc_msg_t reply = {.type = ZC_MSG_STATUS_REPLY,
                      .status_reply = {.epoch = self->epoch,
                                       .decode_errors = decode_errors,
                                       .nodes = nodes,
                                       .node_count = n,
                                       .crawls = crawls,
                                       .crawl_count = c}};
    if (zc_msg_send (&reply, self->control, routing_id) != 0)
        zsys_warning ("zc_broker: cannot send a control reply: %s", zmq_strerror (errno));
    free (nodes);
    free (crawls);
}

static void
s_handle_stop (self_t *self, zframe_t *routing_id, const zc_stop_t *stop)
{
    zc_crawl_t *crawl = s_crawl_lookup (self, stop->crawl ? stop->crawl : "");
    if (!crawl) {
        s_reply_error (self, routing_id, "unknown crawl");
        return;
    }
    if (zc_crawl_state (crawl) == ZC_CRAWL_RUNNING) {
        //  Its outstanding jobs end now: their outcomes will be late
        zlistx_t *jobs = zc_inflight_take_crawl (self->outstanding, crawl);
        zlistx_destroy (&jobs);
        zc_crawl_stop (crawl, zc_now_ms ());
    }
    s_reply_ok (self, routing_id, zc_crawl_id (crawl));
}

//  PAUSE (PAUSE true) or RESUME: dispatch stops or goes on; jobs in flight
//  keep their leases. RESUME also clears a disk error (the crawl was
//  rolled back to its last commit when it happened).
static void
s_handle_pause (self_t *self, zframe_t *routing_id, const char *id, bool pause)
{
    zc_crawl_t *crawl = s_crawl_lookup (self, id ? id : "");
    if (!crawl) {
        s_reply_error (self, routing_id, "unknown crawl");
        return;
    }
    if (zc_crawl_state (crawl) != ZC_CRAWL_RUNNING) {
        s_reply_error (self, routing_id, "crawl is not running");
        return;
    }
    if (pause)
        zc_crawl_pause (crawl, NULL);
    else
        zc_crawl_resume (crawl);
    zsys_info ("zc_broker: crawl %s %s", zc_crawl_id (crawl), pause ? "paused" : "resumed");
    s_reply_ok (self, routing_id, zc_crawl_id (crawl));
    if (!pause)
        s_dispatch (self);
}

static int
s_handle_control (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    for (int i = 0; i < ZC_BROKER_BATCH_READS && (zsock_events (reader) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (reader);
        if (!zmsg)
            break;
        zframe_t *routing_id = zmsg_pop (zmsg);
        if (!routing_id) {
            zmsg_destroy (&zmsg);
            continue;
        }
        zc_msg_decode_status_t status;
        zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
        if (!msg) {
            s_count_decode_error (self, "control", zc_msg_decode_status_str (status));
            s_reply_error (self, routing_id, zc_msg_decode_status_str (status));
        } else if (msg->type == ZC_MSG_SUBMIT)
            s_handle_submit (self, routing_id, &msg->submit);
        else if (msg->type == ZC_MSG_STATUS)
            s_handle_status (self, routing_id, &msg->status);
        else if (msg->type == ZC_MSG_STOP)
            s_handle_stop (self, routing_id, &msg->stop);
        else if (msg->type == ZC_MSG_PAUSE)
            s_handle_pause (self, routing_id, msg->pause.crawl, true);
        else if (msg->type == ZC_MSG_RESUME)
            s_handle_pause (self, routing_id, msg->resume.crawl, false);
        else {
            s_count_decode_error (self, "control", "unexpected message type");
            s_reply_error (self, routing_id, "unexpected message type");
        }
        zc_msg_destroy (&msg);
        zframe_destroy (&routing_id);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Timers, pipe, lifecycle

static int
s_on_flush (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = (self_t *)arg;
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        if (zc_crawl_flush (crawl) != 0 && !zc_crawl_paused (crawl)) {
            //  Memory only: nothing to redo from; the crawl waits for the
            //  operator, and lines that failed may be lost (use --data)
            char *error =
                zsys_sprintf ("cannot write the output of crawl %s: %s (lines may be lost)",
                              zc_crawl_id (crawl), strerror (errno));
            zsys_error ("zc_broker: %s; crawl paused", error);
            zc_crawl_pause (crawl, error);
            zstr_free (&error);
        }
    return 0;
}

static zsock_t *
s_bind (int type, const char *endpoint, const char *name)
{
    zsock_t *sock = zsock_new (type);
    assert (sock);
    zc_msg_socket_setup (sock, ZC_MSG_MAX_HEADER_BYTES, 0);
    if (type == ZMQ_ROUTER)
        zsock_set_router_handover (sock, 1);
    //  On the jobs socket a JOBS batch that cannot be queued (peer gone or
    //  its pipe full) must fail loudly so that its URLs are requeued; a
    //  plain ROUTER would drop it silently and the crawl would never end.
    if (type == ZMQ_ROUTER && streq (name, "jobs"))
        zsock_set_router_mandatory (sock, 1);
    if (!endpoint || zsock_bind (sock, "%s", endpoint) < 0) {
        zsys_error ("zc_broker: cannot bind %s socket to %s: %s", name,
                    endpoint ? endpoint : "(none)", zmq_strerror (errno));
        zsock_destroy (&sock);
    }
    return sock;
}

static int
s_start (self_t *self)
{
    if (self->started)
        return -1;
    if (self->data_dir) {
        char *error = NULL;
        self->store = zc_store_open (self->data_dir, &error);
        if (!self->store) {
            zsys_error ("zc_broker: cannot open the data directory: %s", error);
            free (error);
            return -1;
        }
        s_store_reload (self);
        if (zloop_timer (self->loop, (size_t)self->commit_ms, 0, s_on_commit, self) < 0)
            return -1;
    }
    self->jobs = s_bind (ZMQ_ROUTER, self->jobs_endpoint, "jobs");
    self->results = s_bind (ZMQ_PULL, self->results_endpoint, "results");
    self->control = s_bind (ZMQ_ROUTER, self->control_endpoint, "control");
    if (!self->jobs || !self->results || !self->control) {
        zsock_destroy (&self->jobs);
        zsock_destroy (&self->results);
        zsock_destroy (&self->control);
        return -1;
    }
    //  Replace the configured endpoints by the bound ones (ports resolved)
    free (self->jobs_endpoint);
    free (self->results_endpoint);
    free (self->control_endpoint);
    self->jobs_endpoint = zc_strdup (zsock_endpoint (self->jobs));
    self->results_endpoint = zc_strdup (zsock_endpoint (self->results));
    self->control_endpoint = zc_strdup (zsock_endpoint (self->control));
    if (zloop_reader (self->loop, self->jobs, s_handle_jobs, self) != 0 ||
        zloop_reader (self->loop, self->results, s_handle_results, self) != 0 ||
        zloop_reader (self->loop, self->control, s_handle_control, self) != 0 ||
        zloop_timer (self->loop, (size_t)self->heartbeat_ms, 0, s_on_heartbeat, self) < 0 ||
        zloop_timer (self->loop, ZC_BROKER_FLUSH_MS, 0, s_on_flush, self) < 0 ||
        zloop_timer (self->loop,
                     (size_t)(self->heartbeat_ms < ZC_BROKER_LEASE_CHECK_MS
                                  ? self->heartbeat_ms
                                  : ZC_BROKER_LEASE_CHECK_MS),
                     0, s_on_lease_timer, self) < 0) {
        zsys_error ("zc_broker: cannot register sockets and timers");
        return -1;
    }
    self->started = true;
    zsys_info ("zc_broker: epoch %016" PRIx64 ", jobs %s, results %s, control %s", self->epoch,
               self->jobs_endpoint, self->results_endpoint, self->control_endpoint);
    return 0;
}

static int
s_handle_pipe (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    zmsg_t *request = zmsg_recv (reader);
    if (!request)
        return -1; //  interrupted
    char *command = zmsg_popstr (request);
    int rc = 0;
    if (!command)
        zsys_warning ("zc_broker: empty pipe command");
    else if (streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "START")) {
        int started = s_start (self);
        if (started == 0)
            zsock_send (self->pipe, "isss", 0, self->jobs_endpoint, self->results_endpoint,
                        self->control_endpoint);
        else
            zsock_send (self->pipe, "isss", -1, "", "", "");
    } else
        zsys_warning ("zc_broker: unknown pipe command %s", command);
    zstr_free (&command);
    zmsg_destroy (&request);
    return rc;
}

static self_t *
s_self_new (zsock_t *pipe, const zc_broker_config_t *config)
{
    self_t *self = (self_t *)zmalloc (sizeof (self_t));
    self->pipe = pipe;
    self->loop = zloop_new ();
    self->jobs_endpoint = zc_strdup (config->jobs_endpoint);
    self->results_endpoint = zc_strdup (config->results_endpoint);
    self->control_endpoint = zc_strdup (config->control_endpoint);
    self->output_dir = zc_strdup (config->output_dir ? config->output_dir : "");
    self->data_dir = config->data_dir && *config->data_dir ? zc_strdup (config->data_dir) : NULL;
    self->commit_ms = config->commit_ms > 0 ? config->commit_ms : ZC_BROKER_DEFAULT_COMMIT_MS;
    if (config->max_memory_bytes > 0) {
        uint64_t budget = config->max_memory_bytes;
        uint64_t urls = budget / 4 / ZC_BROKER_BYTES_PER_QUEUED_URL;
        uint64_t ops = budget / 8 / ZC_BROKER_BYTES_PER_OP;
        self->memory_urls =
            urls < ZC_BROKER_MIN_MEMORY_URLS ? ZC_BROKER_MIN_MEMORY_URLS : (size_t)urls;
        self->seen_bytes = (size_t)(budget / 8);
        self->max_batch_ops = ops < ZC_BROKER_MIN_BATCH_OPS ? ZC_BROKER_MIN_BATCH_OPS : (size_t)ops;
    }
    self->next_crawl_no = 1;
    self->heartbeat_ms =
        config->heartbeat_ms > 0 ? config->heartbeat_ms : ZC_BROKER_DEFAULT_HEARTBEAT_MS;
    //  Epoch and crawl ids: different on every start, also within one
    //  process and within one millisecond
    self->rng = (uint64_t)zc_now_ms () ^ ((uint64_t)getpid () << 32) ^ (uint64_t)zclock_usecs () ^
                (uint64_t)(uintptr_t)self;
    do
        self->epoch = s_random (self);
    while (self->epoch == 0);
    self->nodes = zhashx_new ();
    zhashx_set_destructor (self->nodes, s_node_destroy);
    self->crawls = zlistx_new ();
    zlistx_set_destructor (self->crawls, s_crawl_destroy);
    self->outstanding = zc_inflight_new ();
    //  Random 62-bit start: ids of a previous run (outcomes delivered after
    //  a restart) do not match ours, and there is room to count up
    zc_inflight_set_first_id (self->outstanding, (s_random (self) >> 2) | 1);
    self->dispatch_timer = -1;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    zloop_destroy (&self->loop);
    if (self->store) {
        //  Stopping: what is done so far becomes durable; jobs in flight
        //  stay pending and are dispatched again on the next start
        char *error = NULL;
        if (s_commit (self, &error) != 0) {
            zsys_error ("zc_broker: final commit failed: %s; the next start redoes the work "
                        "since the last commit",
                        error);
            free (error);
        }
    }
    zc_inflight_destroy (&self->outstanding);
    zlistx_destroy (&self->crawls); //  flushes and closes every output
    zc_store_destroy (&self->store);
    free (self->data_dir);
    zhashx_destroy (&self->nodes);
    zsock_destroy (&self->jobs);
    zsock_destroy (&self->results);
    zsock_destroy (&self->control);
    free (self->jobs_endpoint);
    free (self->results_endpoint);
    free (self->control_endpoint);
    free (self->output_dir);
    free (self);
    *self_p = NULL;
}

void
zc_broker_actor (zsock_t *pipe, void *args)
{
    const zc_broker_config_t *config = (const zc_broker_config_t *)args;
    assert (config);
    self_t *self = s_self_new (pipe, config);
    zsock_signal (pipe, 0);
    if (zloop_reader (self->loop, pipe, s_handle_pipe, self) == 0) {
        //  Run until $TERM; an interrupt (SIGINT) also ends the loop
        zloop_start (self->loop);
    } else
        zsys_error ("zc_broker: cannot register the pipe");
    s_self_destroy (&self);
}
