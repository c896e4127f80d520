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

    This file holds the actor itself (self, pipe, sockets, nodes, timers);
    dispatch, outcomes, durable state and control live in
    zc_broker_{dispatch,outcomes,durable,control}.c, sharing self through
    zc_broker_internal.h.
*/
#include "zc_broker.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "zc_broker_internal.h"
#include "zc_util.h"

#define ZC_BROKER_DEFAULT_HEARTBEAT_MS 1000
#define ZC_BROKER_FLUSH_MS 200
#define ZC_BROKER_LEASE_CHECK_MS 250  //  at most; at least once per heartbeat
#define ZC_BROKER_MAX_CREDIT 1000000u //  per fetcher, against silly READYs
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

//  --------------------------------------------------------------------------
//  Helpers

uint64_t
zc_broker_random (zc_broker_self_t *self)
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
    zc_broker_node_t *node = (zc_broker_node_t *)*item_p;
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

void
zc_broker_count_decode_error (zc_broker_self_t *self, const char *socket, const char *why)
{
    self->decode_errors++;
    int64_t now = zc_now_ms ();
    if (now - self->last_decode_log_ms >= ZC_BROKER_LOG_INTERVAL_MS) {
        self->last_decode_log_ms = now;
        zsys_warning ("zc_broker: dropped a bad message on %s: %s (%" PRIu64 " so far)", socket,
                      why, self->decode_errors);
    }
}

static void
s_node_send (zc_broker_self_t *self, zc_broker_node_t *node, const zc_msg_t *msg)
{
    if (zc_msg_send (msg, self->jobs, node->routing_id) != 0)
        zsys_warning ("zc_broker: cannot send %s to node %s: %s", zc_msg_type_str (msg->type),
                      node->id, zmq_strerror (errno));
}

//  --------------------------------------------------------------------------
//  Parser set

//  Sends the current parser endpoints to one fetcher, or to all if NODE is NULL.
static void
s_send_parsers (zc_broker_self_t *self, zc_broker_node_t *target)
{
    size_t count = 0;
    const char **endpoints =
        (const char **)zmalloc ((zhashx_size (self->nodes) + 1) * sizeof (char *));
    for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
         node = (zc_broker_node_t *)zhashx_next (self->nodes)) {
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
        for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
             node = (zc_broker_node_t *)zhashx_next (self->nodes))
            if (node->fetcher)
                zlistx_add_end (fetchers, node);
        for (zc_broker_node_t *node = (zc_broker_node_t *)zlistx_first (fetchers); node;
             node = (zc_broker_node_t *)zlistx_next (fetchers))
            s_node_send (self, node, &msg);
        zlistx_destroy (&fetchers);
    }
    free (endpoints);
}

//  --------------------------------------------------------------------------
//  Nodes

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

//  Removes NODE: its jobs go back to their frontiers; a parser's endpoint
//  leaves the parser set.
static void
s_node_remove (zc_broker_self_t *self, zc_broker_node_t *node, const char *why)
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
        zc_broker_dispatch (self);
}

static void
s_handle_hello (zc_broker_self_t *self, zframe_t *routing_id, const char *key,
                const zc_hello_t *hello)
{
    bool fetcher = streq (hello->role, "fetcher");
    if (!fetcher && !streq (hello->role, "parser")) {
        zc_broker_count_decode_error (self, "jobs", "HELLO with an unknown role");
        return;
    }
    //  A node that registers again (new connection, or it lost us) starts
    //  afresh: whatever the old registration held is given back.
    zc_broker_node_t *old = (zc_broker_node_t *)zhashx_lookup (self->nodes, key);
    if (old)
        s_node_remove (self, old, "registered again");
    for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
         node = (zc_broker_node_t *)zhashx_next (self->nodes))
        if (streq (node->id, hello->id)) {
            s_node_remove (self, node, "registered again from a new connection");
            break; //  the iteration is void after a removal; ids are unique
        }
    zc_broker_node_t *node = (zc_broker_node_t *)zmalloc (sizeof (zc_broker_node_t));
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

static void
s_handle_jobs_message (zc_broker_self_t *self, zmsg_t *zmsg)
{
    zframe_t *routing_id = zmsg_pop (zmsg);
    if (!routing_id) {
        zmsg_destroy (&zmsg);
        return;
    }
    char *key = zframe_strhex (routing_id);
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    zc_broker_node_t *node = (zc_broker_node_t *)zhashx_lookup (self->nodes, key);
    if (!msg)
        zc_broker_count_decode_error (self, "jobs", zc_msg_decode_status_str (status));
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
                zc_broker_dispatch (self);
            }
            break;
        case ZC_MSG_HEARTBEAT:
            node->decode_errors = msg->heartbeat.decode_errors;
            node->in_flight = msg->heartbeat.in_flight;
            node->done = msg->heartbeat.done;
            break;
        case ZC_MSG_FETCH_FAILED:
            zc_broker_handle_fetch_failed (self, &msg->fetch_failed);
            break;
        case ZC_MSG_ROBOTS:
            zc_broker_handle_robots (self, &msg->robots);
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
                (void)zc_broker_handle_results (self->loop, self->results, self);
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
            zc_broker_count_decode_error (self, "jobs", "unexpected message type");
            break;
        }
    }
    zc_msg_destroy (&msg);
    zstr_free (&key);
    zframe_destroy (&routing_id);
}

void
zc_broker_read_batch (zc_broker_self_t *self, zsock_t *reader, zc_broker_message_fn *handle)
{
    for (int i = 0; i < ZC_BROKER_BATCH_READS && (zsock_events (reader) & ZMQ_POLLIN); i++) {
        zmsg_t *zmsg = zmsg_recv (reader);
        if (!zmsg)
            break;
        handle (self, zmsg);
    }
}

static int
s_handle_jobs (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    zc_broker_read_batch ((zc_broker_self_t *)arg, reader, s_handle_jobs_message);
    return 0;
}

static int
s_on_heartbeat (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    zc_broker_self_t *self = (zc_broker_self_t *)arg;
    int64_t now = zc_now_ms ();
    int64_t dead_before = now - (int64_t)ZC_BROKER_DEAD_AFTER * self->heartbeat_ms;
    zlistx_t *dead = zlistx_new ();
    zc_msg_t heartbeat = {
        .type = ZC_MSG_HEARTBEAT,
        .heartbeat = {.epoch = self->epoch,
                      .node = "broker",
                      .decode_errors = self->decode_errors,
                      .in_flight = (uint32_t)zc_inflight_size (self->outstanding)}};
    for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
         node = (zc_broker_node_t *)zhashx_next (self->nodes)) {
        if (node->last_seen_ms < dead_before)
            zlistx_add_end (dead, node);
        else
            (void)zc_msg_send (&heartbeat, self->jobs, node->routing_id);
    }
    for (zc_broker_node_t *node = (zc_broker_node_t *)zlistx_first (dead); node;
         node = (zc_broker_node_t *)zlistx_next (dead))
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
    zc_broker_self_t *self = (zc_broker_self_t *)arg;
    int64_t now = zc_now_ms ();
    zlistx_t *jobs = zc_inflight_take_expired (self->outstanding, now);
    size_t expired = s_requeue_all (&jobs, now);
    if (expired) {
        zsys_info ("zc_broker: %zu job leases expired, requeued (%" PRIu64 " expired, %" PRIu64
                   " late or duplicate outcomes so far)",
                   expired, zc_inflight_expired_count (self->outstanding),
                   zc_inflight_late_count (self->outstanding));
        zc_broker_dispatch (self);
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
    zc_broker_self_t *self = (zc_broker_self_t *)arg;
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
s_start (zc_broker_self_t *self)
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
        zc_broker_store_reload (self);
        if (zloop_timer (self->loop, (size_t)self->commit_ms, 0, zc_broker_on_commit, self) < 0)
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
        zloop_reader (self->loop, self->results, zc_broker_handle_results, self) != 0 ||
        zloop_reader (self->loop, self->control, zc_broker_handle_control, self) != 0 ||
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
    zc_broker_self_t *self = (zc_broker_self_t *)arg;
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

//  zhashx destructor of the host pins' values (routing keys).
static void
s_free_pin (void **item)
{
    free (*item);
    *item = NULL;
}

static zc_broker_self_t *
s_self_new (zsock_t *pipe, const zc_broker_config_t *config)
{
    zc_broker_self_t *self = (zc_broker_self_t *)zmalloc (sizeof (zc_broker_self_t));
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
        self->epoch = zc_broker_random (self);
    while (self->epoch == 0);
    self->nodes = zhashx_new ();
    self->host_fetchers = zhashx_new ();
    zhashx_set_destructor (self->host_fetchers, s_free_pin);
    zhashx_set_destructor (self->nodes, s_node_destroy);
    self->crawls = zlistx_new ();
    zlistx_set_destructor (self->crawls, s_crawl_destroy);
    self->outstanding = zc_inflight_new ();
    //  Random 62-bit start: ids of a previous run (outcomes delivered after
    //  a restart) do not match ours, and there is room to count up
    zc_inflight_set_first_id (self->outstanding, (zc_broker_random (self) >> 2) | 1);
    self->dispatch_timer = -1;
    return self;
}

static void
s_self_destroy (zc_broker_self_t **self_p)
{
    zc_broker_self_t *self = *self_p;
    if (!self)
        return;
    zloop_destroy (&self->loop);
    if (self->store) {
        //  Stopping: what is done so far becomes durable; jobs in flight
        //  stay pending and are dispatched again on the next start
        char *error = NULL;
        if (zc_broker_commit (self, &error) != 0) {
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
    zhashx_destroy (&self->host_fetchers);
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
    zc_thread_name ("zc-broker");
    const zc_broker_config_t *config = (const zc_broker_config_t *)args;
    assert (config);
    zc_broker_self_t *self = s_self_new (pipe, config);
    zsock_signal (pipe, 0);
    if (zloop_reader (self->loop, pipe, s_handle_pipe, self) == 0) {
        //  Run until $TERM; an interrupt (SIGINT) also ends the loop
        zloop_start (self->loop);
    } else
        zsys_error ("zc_broker: cannot register the pipe");
    s_self_destroy (&self);
}
