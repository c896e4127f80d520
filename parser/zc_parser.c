/*  zc_parser — the parser node actor and its parser actors.

    Node (one actor, one zloop):
        front PULL  <-- fetchers push PAGEs (raw frames, never decoded here)
        link DEALER --> broker jobs ROUTER (HELLO, HEARTBEAT; WELCOME back)
        ROUTER inproc <-> N parser actors (DEALER each)
    The node keeps a FIFO of actor credits: each actor may hold
    S_ACTOR_PAGES pages (the one it parses and the next, waiting in its
    socket, so it never sleeps between pages waiting for a round trip to
    the node). It reads the front only while that FIFO is non-empty and the
    results endpoint is known: the front reader is registered in the zloop
    exactly then. So a page is taken off the front only when an actor has
    room for it, a page waits behind at most one page, and until WELCOME
    arrives pages wait in the front (small RCVHWM, then in the fetchers'
    queues).

    Parser actor (one per core, one zloop):
        DEALER --> node ROUTER: HEARTBEAT (its counters) + READY (credit
                   S_ACTOR_PAGES at start, then 1 per page done)
        PUSH   --> broker results PULL: one RESULT per decoded PAGE
    Pages are decoded here, not in the node, so the node thread does no
    per-page work beyond forwarding frames. A frame that does not decode
    as a PAGE has no job id to answer: it is counted (HEARTBEAT
    decode_errors) and dropped. A RESULT that cannot be queued (results
    socket full or not yet connected) is kept and retried when the socket
    becomes writable; the actor reads no page and sends no READY until it
    is out, so back-pressure from the broker reaches the front and then the
    fetchers.

    ACCEPT: the node peeks at the job id of each PAGE it takes off the front
    (zc_msg_page_id, no full decode) and, after each wake-up of the front
    reader (which takes as many pages as there are idle actors), sends their
    ids in one ACCEPT on the link, if registered; unregistered, the ids are
    dropped (the jobs' leases cover them).

    DRAIN (see zc_parser.h): a periodic check (and one after every page and
    every READY) ends the drain once the node holds no page or the deadline
    has passed. Ending it destroys the actors (which finish the page they
    are parsing), sends BYE with a linger on the link, and stops every
    reader and timer but the pipe's; sockets are closed only when the actor
    is destroyed, never inside a handler.

    Pipe commands: node "START" -> "is" (rc, bound front endpoint); node
    "DRAIN" [ms] -> "DRAINED"; parser actor "CONNECT" endpoint (sent by the
    node on every WELCOME that brings a new results endpoint).
*/
#include "zc_parser.h"

#include "zc_ctype.h"
#include "zc_extract.h"
#include "zc_stream.h"
#include "zc_html.h"
#include "zc_link.h"
#include "zc_msg.h"
#include "zc_util.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define S_TICK_MS 200        //  link tick (HELLO retry, HEARTBEAT)
#define S_FRONT_RCVHWM 16    //  pages waiting in the front socket
#define S_RESULTS_SNDHWM 256 //  RESULTs queued towards the broker
#define S_RESULTS_LINGER_MS 2000
#define S_MAX_ACTORS 256
#define S_ACTOR_PAGES 2      //  pages an actor may hold: parsing + next
#define S_ROUTER_BATCH 256   //  actor messages read per node wake-up
#define S_HEARTBEAT_PAGES 64 //  an actor's counters go out at least this often
#define S_ACCEPT_MAX 1024    //  job ids per ACCEPT
#define S_DRAIN_MS 10000     //  default drain time
#define S_DRAIN_CHECK_MS 50  //  drain check interval
#define S_BYE_LINGER_MS 2000 //  link linger after BYE

//  ---------------------------------------------------------------------
//  Parser actor

typedef struct {
    const char *router_endpoint;
    int index;
} s_worker_args_t;

typedef struct {
    zsock_t *pipe;     //  borrowed from zactor
    zloop_t *loop;     //  owned
    zsock_t *dealer;   //  owned; to the node's ROUTER
    zsock_t *push;     //  owned; to the broker's results
    char *results;     //  owned; connected results endpoint, or NULL
    zframe_t *pending; //  owned; encoded RESULT not yet queued, or NULL
    zmq_pollitem_t pending_item;
    bool pending_polled; //  POLLOUT poller registered for PENDING
    bool reading;        //  the dealer reader is registered (not while PENDING)
    int index;
    uint64_t decode_errors; //  frames that were not a decodable PAGE
    uint64_t done;          //  RESULTs produced
    uint64_t sent_done;     //  DONE and DECODE_ERRORS as last sent in a HEARTBEAT
    uint64_t sent_decode_errors;
    zc_extract_t *extract; //  owned; compiled extraction rules cache
    zc_stream_t *stream;   //  owned; streaming rules evaluator and plan cache
} s_worker_t;

//  READY for CREDIT more pages, after a HEARTBEAT with the counters when
//  they matter: an error was counted, S_HEARTBEAT_PAGES pages went by, or
//  no page is waiting (the actor goes idle: the node's counts are exact
//  whenever the node is quiet). Not one per page: each message is a wake-up.
static void
s_worker_send_ready (s_worker_t *self, uint32_t credit)
{
    bool counters = self->decode_errors != self->sent_decode_errors ||
                    self->done - self->sent_done >= S_HEARTBEAT_PAGES ||
                    !(zsock_events (self->dealer) & ZMQ_POLLIN);
    zc_msg_t heartbeat = {.type = ZC_MSG_HEARTBEAT,
                          .heartbeat = {.decode_errors = self->decode_errors, .done = self->done}};
    zc_msg_t ready = {.type = ZC_MSG_READY, .ready = {.credit = credit}};
    if (counters) {
        self->sent_done = self->done;
        self->sent_decode_errors = self->decode_errors;
    }
    if ((counters && zc_msg_send (&heartbeat, self->dealer, NULL) != 0) ||
        zc_msg_send (&ready, self->dealer, NULL) != 0)
        zsys_error ("zc_parser: actor %d cannot send READY: %s", self->index,
                    zmq_strerror (zmq_errno ()));
}

static int s_worker_on_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_worker_handle_dealer (zloop_t *loop, zsock_t *dealer, void *arg);

//  Reads pages from the node exactly while no RESULT is pending.
static void
s_worker_update_reading (s_worker_t *self)
{
    bool want = !self->pending;
    if (want && !self->reading) {
        if (zloop_reader (self->loop, self->dealer, s_worker_handle_dealer, self) == 0)
            self->reading = true;
        else
            zsys_error ("zc_parser: actor %d cannot poll its dealer", self->index);
    } else if (!want && self->reading) {
        zloop_reader_end (self->loop, self->dealer);
        self->reading = false;
    }
}

//  Tries to queue the pending RESULT; once it is out, the actor is READY.
static void
s_worker_flush (s_worker_t *self)
{
    if (!self->pending)
        return;
    if (zframe_send (&self->pending, self->push, ZFRAME_DONTWAIT) != 0) {
        if (zmq_errno () == EAGAIN) {
            if (!self->pending_polled) {
                self->pending_item =
                    (zmq_pollitem_t){zsock_resolve (self->push), 0, ZMQ_POLLOUT, 0};
                if (zloop_poller (self->loop, &self->pending_item, s_worker_on_writable, self) == 0)
                    self->pending_polled = true;
                else
                    zsys_error ("zc_parser: actor %d cannot poll results socket", self->index);
            }
            s_worker_update_reading (self);
            return;
        }
        zsys_error ("zc_parser: actor %d dropped a RESULT: %s", self->index,
                    zmq_strerror (zmq_errno ()));
        zframe_destroy (&self->pending);
    }
    if (self->pending_polled) {
        zloop_poller_end (self->loop, &self->pending_item);
        self->pending_polled = false;
    }
    s_worker_update_reading (self);
    s_worker_send_ready (self, 1);
}

static int
s_worker_on_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_worker_flush ((s_worker_t *)arg);
    return 0;
}

//  Parses an HTML PAGE into RESULT: plain SAX without extraction rules,
//  a DOM and the rules otherwise. PARSED and EXTRACTED own what RESULT
//  points to; FIELDS is RESULT's field array (caller frees).
static void
s_worker_parse (s_worker_t *self, const zc_page_t *page, const char *charset, zc_result_t *result,
                zc_html_result_t *parsed, zc_extract_result_t *extracted, zc_field_t **fields)
{
    const char *page_url =
        page->meta.final_url && *page->meta.final_url ? page->meta.final_url : page->meta.url;
    const char *error = NULL;
    xmlDocPtr doc = NULL;
    //  Rules that can all be evaluated on the SAX events need no DOM.
    bool stream =
        page->rule_count > 0 && zc_stream_prepare (self->stream, page->rules, page->rule_count);
    int rc = stream ? zc_html_parse_stream (page_url, page->body, page->body_size, charset,
                                            self->stream, parsed, &error)
             : page->rule_count > 0
                 ? zc_html_parse_dom (page_url, page->body, page->body_size, charset, parsed, &doc,
                                      &error)
                 : zc_html_parse (page_url, page->body, page->body_size, charset, parsed, &error);
    if (rc != 0) {
        result->parse_error = error ? error : "parse failed";
        zsys_warning ("zc_parser: actor %d cannot parse %s: %s", self->index,
                      page_url ? page_url : "?", result->parse_error);
        return;
    }
    result->title = parsed->title;
    result->links = (const char **)parsed->links;
    result->link_count = parsed->link_count;
    result->canonical = parsed->canonical ? parsed->canonical : "";
    result->noindex = parsed->noindex;
    result->nofollow = parsed->nofollow;
    result->charset = parsed->charset;
    if (page->rule_count == 0)
        return;
    //  A page whose DOM could not be built still runs the rules (they
    //  match nothing), so that bad rules are reported on every page.
    if ((stream
             ? zc_stream_finish (self->stream, extracted)
             : zc_extract_run (self->extract, page->rules, page->rule_count, doc, extracted)) != 0)
        result->parse_error = extracted->error;
    if (doc)
        xmlFreeDoc (doc);
    if (extracted->field_count == 0)
        return;
    *fields = (zc_field_t *)zmalloc (extracted->field_count * sizeof (zc_field_t));
    assert (*fields);
    for (size_t i = 0; i < extracted->field_count; i++)
        (*fields)[i] = (zc_field_t){.name = extracted->fields[i].name,
                                    .values = (const char **)extracted->fields[i].values,
                                    .value_count = extracted->fields[i].value_count};
    result->fields = *fields;
    result->field_count = extracted->field_count;
}

//  Builds the RESULT for a decoded PAGE.
static zframe_t *
s_worker_result (s_worker_t *self, const zc_page_t *page)
{
    zc_msg_t msg = {.type = ZC_MSG_RESULT};
    zc_result_t *result = &msg.result;
    result->meta = page->meta;
    result->body_bytes = page->body_size;
    result->canonical = "";
    result->charset = "";

    char mime[ZC_CTYPE_MAX_BYTES + 1], charset[ZC_CTYPE_MAX_BYTES + 1];
    zc_ctype_parse (page->meta.content_type, mime, charset);
    bool ok_status = page->meta.status >= 200 && page->meta.status < 300;
    bool html = zc_ctype_is_html (mime) ||
                (mime[0] == 0 && zc_ctype_sniff_html (page->body, page->body_size));
    zc_html_result_t parsed = {0};
    zc_extract_result_t extracted = {0};
    zc_field_t *fields = NULL;
    if (ok_status && html)
        s_worker_parse (self, page, charset[0] ? charset : NULL, result, &parsed, &extracted,
                        &fields);
    zmsg_t *zmsg = zc_msg_encode (&msg);
    zframe_t *frame = zmsg_pop (zmsg);
    zmsg_destroy (&zmsg);
    free (fields);
    zc_extract_result_clear (&extracted);
    zc_html_result_clear (&parsed);
    return frame;
}

static int
s_worker_handle_dealer (zloop_t *loop, zsock_t *dealer, void *arg)
{
    (void)loop;
    s_worker_t *self = (s_worker_t *)arg;
    zmsg_t *zmsg = zmsg_recv (dealer);
    if (!zmsg)
        return 0; //  interrupted
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    if (!msg || msg->type != ZC_MSG_PAGE) {
        self->decode_errors++;
        zsys_warning ("zc_parser: actor %d dropped a front message: %s", self->index,
                      msg ? "not a PAGE" : zc_msg_decode_status_str (status));
        zc_msg_destroy (&msg);
        s_worker_send_ready (self, 1);
        return 0;
    }
    assert (!self->pending); //  the reader is off while a RESULT is pending
    self->pending = s_worker_result (self, &msg->page);
    self->done++;
    zc_msg_destroy (&msg);
    s_worker_flush (self);
    return 0;
}

static void
s_worker_connect (s_worker_t *self, const char *endpoint)
{
    if (self->results && strcmp (self->results, endpoint) == 0)
        return;
    if (self->results && zsock_disconnect (self->push, "%s", self->results) != 0)
        zsys_warning ("zc_parser: actor %d cannot disconnect %s", self->index, self->results);
    free (self->results);
    self->results = NULL;
    if (zsock_connect (self->push, "%s", endpoint) != 0) {
        zsys_error ("zc_parser: actor %d cannot connect to results %s: %s", self->index, endpoint,
                    zmq_strerror (zmq_errno ()));
        return;
    }
    self->results = zc_strdup (endpoint);
    s_worker_flush (self); //  a RESULT may have been waiting for a peer
}

static int
s_worker_handle_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    s_worker_t *self = (s_worker_t *)arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return -1; //  interrupted
    char *command = zmsg_popstr (msg);
    int rc = 0;
    if (command && streq (command, "$TERM"))
        rc = -1;
    else if (command && streq (command, "CONNECT")) {
        char *endpoint = zmsg_popstr (msg);
        if (endpoint)
            s_worker_connect (self, endpoint);
        free (endpoint);
    } else
        zsys_warning ("zc_parser: actor %d: unknown command %s", self->index,
                      command ? command : "(null)");
    free (command);
    zmsg_destroy (&msg);
    return rc;
}

static void
s_worker_destroy (s_worker_t **self_p)
{
    s_worker_t *self = *self_p;
    if (!self)
        return;
    if (self->pending)
        zsys_warning ("zc_parser: actor %d: a RESULT was never queued (results unreachable)",
                      self->index);
    zframe_destroy (&self->pending);
    zc_extract_destroy (&self->extract);
    zc_stream_destroy (&self->stream);
    zloop_destroy (&self->loop);
    zsock_destroy (&self->dealer);
    zsock_destroy (&self->push);
    free (self->results);
    free (self);
    *self_p = NULL;
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    const s_worker_args_t *worker_args = (const s_worker_args_t *)args;
    char thread_name[16];
    snprintf (thread_name, sizeof thread_name, "zc-parser-%d", worker_args->index);
    zc_thread_name (thread_name);
    s_worker_t *self = (s_worker_t *)zmalloc (sizeof (s_worker_t));
    assert (self);
    self->pipe = pipe;
    self->index = worker_args->index;
    self->extract = zc_extract_new ();
    self->stream = zc_stream_new ();
    self->loop = zloop_new ();
    assert (self->loop);
    self->dealer = zsock_new (ZMQ_DEALER);
    self->push = zsock_new (ZMQ_PUSH);
    assert (self->dealer && self->push);
    zc_msg_socket_setup (self->dealer, ZC_MSG_MAX_BODY_BYTES + ZC_MSG_MAX_HEADER_BYTES, 0);
    zc_msg_socket_setup (self->push, ZC_MSG_MAX_HEADER_BYTES, S_RESULTS_LINGER_MS);
    zsock_set_sndhwm (self->push, S_RESULTS_SNDHWM);
    //  The node knows its actors by routing id "w<index>".
    char id[16];
    snprintf (id, sizeof id, "w%d", self->index);
    zsock_set_identity (self->dealer, id);
    int rc = zsock_connect (self->dealer, "%s", worker_args->router_endpoint);
    assert (rc == 0);
    zsock_signal (pipe, 0);

    rc = zloop_reader (self->loop, pipe, s_worker_handle_pipe, self);
    assert (rc == 0);
    s_worker_update_reading (self);
    s_worker_send_ready (self, S_ACTOR_PAGES);
    zloop_start (self->loop);
    s_worker_destroy (&self);
}

//  ---------------------------------------------------------------------
//  Node

typedef struct {
    zsock_t *pipe;         //  borrowed from zactor
    zloop_t *loop;         //  owned
    char *broker_endpoint; //  owned
    char *front_endpoint;  //  owned
    char *advertise;       //  owned, NULL if none
    char *node_id;         //  owned
    int actor_count;
    bool started;
    zsock_t *front;    //  owned
    zsock_t *router;   //  owned
    zc_link_t *link;   //  owned
    zactor_t **actors; //  owned array of owned actors
    char *results;     //  owned; results endpoint the actors use, or NULL
    int *idle;         //  owned FIFO of actor credits (indexes), S_ACTOR_PAGES per actor
    size_t idle_head;
    size_t idle_count;
    uint8_t *credits;       //  owned, per actor: its entries in IDLE
    uint64_t *actor_errors; //  owned, per actor: last reported totals
    uint64_t *actor_done;   //  owned
    uint64_t decode_errors; //  the node's own (undecodable broker/actor messages)
    bool front_reading;     //  front reader registered in the loop
    uint64_t *accept_ids;   //  owned, S_ACCEPT_MAX: ids to ACCEPT after this wake-up
    size_t accept_count;
    int tick_timer;       //  zloop timer id, -1 if none
    int drain_ms;         //  default drain time
    bool draining;        //  DRAIN received, not finished
    bool drained;         //  drain finished (DRAINED sent)
    int64_t drain_end_ms; //  monotonic deadline of the drain
    int drain_timer;      //  zloop timer id, -1 if none
} self_t;

//  Entries the credit FIFO can hold: S_ACTOR_PAGES per actor.
static size_t
s_idle_capacity (const self_t *self)
{
    return (size_t)self->actor_count * S_ACTOR_PAGES;
}

static self_t *
s_self_new (zsock_t *pipe, const zc_parser_config_t *config)
{
    self_t *self = (self_t *)zmalloc (sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->broker_endpoint = zc_strdup (config->broker_endpoint ? config->broker_endpoint : "");
    self->front_endpoint = zc_strdup (config->front_endpoint ? config->front_endpoint : "");
    self->advertise =
        config->advertise && *config->advertise ? zc_strdup (config->advertise) : NULL;
    self->node_id = config->node_id && *config->node_id ? zc_strdup (config->node_id)
                                                        : zc_node_id_new ("parser");
    int actors = config->actors;
    if (actors <= 0) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        actors = cores > 0 ? (int)cores : 1;
    }
    self->actor_count = actors > S_MAX_ACTORS ? S_MAX_ACTORS : actors;
    self->drain_ms = config->drain_ms > 0 ? config->drain_ms : S_DRAIN_MS;
    self->tick_timer = -1;
    self->drain_timer = -1;
    self->accept_ids = (uint64_t *)zmalloc (S_ACCEPT_MAX * sizeof (uint64_t));
    assert (self->accept_ids);
    self->loop = zloop_new ();
    assert (self->loop);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    //  Actors first: they hold DEALERs to our ROUTER.
    if (self->actors)
        for (int i = 0; i < self->actor_count; i++)
            zactor_destroy (&self->actors[i]);
    free (self->actors);
    zloop_destroy (&self->loop);
    zc_link_destroy (&self->link);
    zsock_destroy (&self->front);
    zsock_destroy (&self->router);
    free (self->broker_endpoint);
    free (self->front_endpoint);
    free (self->advertise);
    free (self->node_id);
    free (self->results);
    free (self->idle);
    free (self->credits);
    free (self->actor_errors);
    free (self->actor_done);
    free (self->accept_ids);
    free (self);
    *self_p = NULL;
}

static int s_handle_front (zloop_t *loop, zsock_t *front, void *arg);

//  Registers the front reader exactly while a page could be handed on.
static void
s_update_front (self_t *self)
{
    bool want = self->results && self->idle_count > 0;
    if (want && !self->front_reading) {
        if (zloop_reader (self->loop, self->front, s_handle_front, self) == 0)
            self->front_reading = true;
        else
            zsys_error ("zc_parser: %s cannot poll the front", self->node_id);
    } else if (!want && self->front_reading) {
        zloop_reader_end (self->loop, self->front);
        self->front_reading = false;
    }
}

//  Sends the collected job ids in ACCEPTs if registered, else drops them.
static void
s_send_accept (self_t *self)
{
    if (self->accept_count == 0)
        return;
    if (zc_link_registered (self->link)) {
        zc_msg_t msg = {.type = ZC_MSG_ACCEPT,
                        .accept = {.node = self->node_id,
                                   .jobs = self->accept_ids,
                                   .job_count = self->accept_count}};
        if (zc_msg_send (&msg, zc_link_socket (self->link), NULL) != 0)
            zsys_debug ("zc_parser: %s: ACCEPT of %zu jobs not queued: %s", self->node_id,
                        self->accept_count, zmq_strerror (zmq_errno ()));
    }
    self->accept_count = 0;
}

static void s_drain_check (self_t *self);

//  Takes pages off the front, one per actor credit (the front socket has a
//  zero receive timeout), then ACCEPTs their job ids in one message.
static int
s_handle_front (zloop_t *loop, zsock_t *front, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    while (self->idle_count > 0) {
        zmsg_t *msg = zmsg_recv (front);
        if (!msg)
            break; //  nothing more waiting, or interrupted
        uint64_t job_id;
        if (zc_msg_page_id (msg, &job_id) == 0) {
            if (self->accept_count == S_ACCEPT_MAX)
                s_send_accept (self);
            self->accept_ids[self->accept_count++] = job_id;
        }
        int index = self->idle[self->idle_head];
        self->idle_head = (self->idle_head + 1) % s_idle_capacity (self);
        self->idle_count--;
        self->credits[index]--;
        char id[16];
        snprintf (id, sizeof id, "w%d", index);
        int rc = zmsg_pushstr (msg, id);
        assert (rc == 0);
        if (zmsg_send (&msg, self->router) != 0) {
            zsys_error ("zc_parser: %s cannot hand a page to actor %d", self->node_id, index);
            zmsg_destroy (&msg);
        }
    }
    s_send_accept (self);
    s_update_front (self);
    s_drain_check (self);
    return 0;
}

//  Actor index from a routing id "w<N>", or -1.
static int
s_actor_index (self_t *self, zframe_t *id)
{
    char buf[16];
    size_t size = zframe_size (id);
    if (size < 2 || size >= sizeof buf)
        return -1;
    memcpy (buf, zframe_data (id), size);
    buf[size] = 0;
    char *end;
    long index = strtol (buf + 1, &end, 10);
    if (buf[0] != 'w' || *end != 0 || index < 0 || index >= self->actor_count)
        return -1;
    return (int)index;
}

//  One message from an actor: its counters (HEARTBEAT) or credit (READY).
//  Returns true if it brought credit.
static bool
s_actor_message (self_t *self, zmsg_t *zmsg)
{
    bool credited = false;
    zframe_t *id = zmsg_pop (zmsg);
    int index = id ? s_actor_index (self, id) : -1;
    zframe_destroy (&id);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    if (index < 0 || !msg) {
        self->decode_errors++;
        zsys_error ("zc_parser: %s: bad message from an actor", self->node_id);
    } else if (msg->type == ZC_MSG_HEARTBEAT) {
        self->actor_errors[index] = msg->heartbeat.decode_errors;
        self->actor_done[index] = msg->heartbeat.done;
    } else if (msg->type == ZC_MSG_READY && self->credits[index] < S_ACTOR_PAGES) {
        uint32_t credit = msg->ready.credit;
        for (; credit > 0 && self->credits[index] < S_ACTOR_PAGES; credit--) {
            size_t tail = (self->idle_head + self->idle_count) % s_idle_capacity (self);
            self->idle[tail] = index;
            self->idle_count++;
            self->credits[index]++;
            credited = true;
        }
    }
    zc_msg_destroy (&msg);
    return credited;
}

//  Reads every message the actors have queued (up to S_ROUTER_BATCH) in
//  one wake-up: a loop turn per message would cost a poll each.
static int
s_handle_router (zloop_t *loop, zsock_t *router, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    bool credited = false;
    for (int n = 0; n < S_ROUTER_BATCH && (n == 0 || (zsock_events (router) & ZMQ_POLLIN)); n++) {
        zmsg_t *zmsg = zmsg_recv (router);
        if (!zmsg)
            break;
        credited |= s_actor_message (self, zmsg);
    }
    if (credited) {
        s_update_front (self);
        s_drain_check (self);
    }
    return 0;
}

//  After every message from the broker: if the results endpoint is new or
//  changed, point every actor at it.
static void
s_check_results (self_t *self)
{
    const char *results = zc_link_results_endpoint (self->link);
    if (!results || (self->results && streq (results, self->results)))
        return;
    free (self->results);
    self->results = zc_strdup (results);
    for (int i = 0; i < self->actor_count; i++)
        if (zstr_sendx (self->actors[i], "CONNECT", results, NULL) != 0)
            zsys_error ("zc_parser: %s cannot reach actor %d", self->node_id, i);
    s_update_front (self);
}

static int
s_handle_link (zloop_t *loop, zsock_t *dealer, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    zmsg_t *zmsg = zmsg_recv (dealer);
    if (!zmsg)
        return 0;
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    if (!msg) {
        self->decode_errors++;
        zsys_warning ("zc_parser: %s: undecodable message from the broker: %s", self->node_id,
                      zc_msg_decode_status_str (status));
        return 0;
    }
    zc_link_event_t event = zc_link_handle (self->link, msg, zclock_mono ());
    if (event == ZC_LINK_PASS)
        zsys_debug ("zc_parser: %s ignores %s from the broker", self->node_id,
                    zc_msg_type_str (msg->type));
    zc_msg_destroy (&msg);
    s_check_results (self);
    return 0;
}

static void
s_tick (self_t *self)
{
    zc_heartbeat_t counters = {.decode_errors = self->decode_errors};
    for (int i = 0; i < self->actor_count; i++) {
        counters.decode_errors += self->actor_errors[i];
        counters.done += self->actor_done[i];
    }
    counters.in_flight = (uint32_t)(s_idle_capacity (self) - self->idle_count);
    zc_link_tick (self->link, zclock_mono (), &counters);
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_tick ((self_t *)arg);
    return 0;
}

//  ---------------------------------------------------------------------
//  Graceful drain

//  True while a page is waiting in the front or being parsed. With no
//  results endpoint (never welcomed) nothing can be parsed: nothing to wait for.
static bool
s_holds_pages (self_t *self)
{
    if (!self->results)
        return false;
    if (self->idle_count < s_idle_capacity (self))
        return true;
    return (zsock_events (self->front) & ZMQ_POLLIN) != 0;
}

//  Ends the drain: actors stopped (each finishes its page and queues the
//  RESULT, lingering), BYE sent, every reader and timer but the pipe's
//  stopped, "DRAINED" replied. Sockets stay open until s_self_destroy.
static void
s_drain_finish (self_t *self)
{
    bool timed_out = s_holds_pages (self);
    self->draining = false;
    self->drained = true;
    if (self->drain_timer != -1)
        zloop_timer_end (self->loop, self->drain_timer);
    self->drain_timer = -1;
    if (self->tick_timer != -1)
        zloop_timer_end (self->loop, self->tick_timer);
    self->tick_timer = -1;
    if (self->front_reading)
        zloop_reader_end (self->loop, self->front);
    self->front_reading = false;
    zloop_reader_end (self->loop, self->router);
    zloop_reader_end (self->loop, zc_link_socket (self->link));
    for (int i = 0; i < self->actor_count; i++)
        zactor_destroy (&self->actors[i]);
    self->idle_count = 0;
    int rc = zc_link_bye (self->link, S_BYE_LINGER_MS);
    zsys_info ("zc_parser: %s drained%s; %s", self->node_id,
               timed_out ? " (drain time over, pages left to the broker)" : "",
               rc == 0   ? "BYE sent"
               : rc == 1 ? "not registered, no BYE"
                         : "BYE could not be queued");
    if (zstr_send (self->pipe, "DRAINED") != 0)
        zsys_error ("zc_parser: %s cannot reply DRAINED", self->node_id);
}

static void
s_drain_check (self_t *self)
{
    if (!self->draining)
        return;
    if (s_holds_pages (self) && zclock_mono () < self->drain_end_ms)
        return;
    s_drain_finish (self);
}

static int
s_on_drain_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_drain_check ((self_t *)arg);
    return 0;
}

//  DRAIN [ms]: starts the drain (or answers at once if there is nothing to
//  drain).
static void
s_drain_start (self_t *self, const char *ms)
{
    if (!self->link || self->drained) {
        if (zstr_send (self->pipe, "DRAINED") != 0)
            zsys_error ("zc_parser: %s cannot reply DRAINED", self->node_id);
        return;
    }
    if (self->draining)
        return; //  already under way; DRAINED will follow
    int drain_ms = self->drain_ms;
    if (ms) {
        char *end = NULL;
        long value = strtol (ms, &end, 10);
        if (end != ms && *end == 0 && value >= 0 && value <= INT32_MAX)
            drain_ms = (int)value;
        else
            zsys_warning ("zc_parser: %s: bad drain time '%s', using %d ms", self->node_id, ms,
                          drain_ms);
    }
    zsys_info ("zc_parser: %s draining (at most %d ms)", self->node_id, drain_ms);
    self->draining = true;
    self->drain_end_ms = zclock_mono () + drain_ms;
    self->drain_timer = zloop_timer (self->loop, S_DRAIN_CHECK_MS, 0, s_on_drain_timer, self);
    if (self->drain_timer == -1)
        zsys_error ("zc_parser: %s cannot start the drain timer", self->node_id);
    s_drain_check (self);
}

//  The endpoint to advertise: --advertise (a "*" port takes the bound
//  port) or the bound endpoint. NULL (logged) if that would be a wildcard.
static char *
s_advertised (self_t *self, const char *bound)
{
    if (!self->advertise) {
        if (zc_endpoint_is_wildcard (bound)) {
            zsys_error ("zc_parser: front %s binds a wildcard address; fetchers cannot "
                        "connect to it: give an advertise endpoint (--advertise tcp://HOST:PORT)",
                        bound);
            return NULL;
        }
        return zc_strdup (bound);
    }
    size_t len = strlen (self->advertise);
    const char *bound_port = strrchr (bound, ':');
    if (len >= 2 && streq (self->advertise + len - 2, ":*") && bound_port)
        return zsys_sprintf ("%.*s%s", (int)(len - 2), self->advertise, bound_port);
    return zc_strdup (self->advertise);
}

//  Binds, registers and starts the actors. Returns the bound front
//  endpoint (caller frees) or NULL (logged).
static char *
s_start (self_t *self)
{
    self->front = zsock_new (ZMQ_PULL);
    assert (self->front);
    zc_msg_socket_setup (self->front, ZC_MSG_MAX_BODY_BYTES + ZC_MSG_MAX_HEADER_BYTES, 0);
    zsock_set_rcvhwm (self->front, S_FRONT_RCVHWM);
    zsock_set_rcvtimeo (self->front, 0); //  s_handle_front reads until empty
    if (zsock_bind (self->front, "%s", self->front_endpoint) == -1) {
        zsys_error ("zc_parser: cannot bind front %s: %s", self->front_endpoint,
                    zmq_strerror (zmq_errno ()));
        return NULL;
    }
    char *bound = zsock_last_endpoint (self->front);
    if (!bound)
        return NULL;
    char *advertised = s_advertised (self, bound);
    if (!advertised) {
        free (bound);
        return NULL;
    }
    zc_hello_t hello = {.id = self->node_id,
                        .role = "parser",
                        .version = ZC_VERSION,
                        .capacity = (uint32_t)self->actor_count,
                        .endpoint = advertised};
    self->link = zc_link_new (self->broker_endpoint, &hello);
    free (advertised);
    if (!self->link) {
        free (bound);
        return NULL;
    }

    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zc_msg_socket_setup (self->router, ZC_MSG_MAX_BODY_BYTES + ZC_MSG_MAX_HEADER_BYTES, 0);
    char router_endpoint[256];
    snprintf (router_endpoint, sizeof router_endpoint, "inproc://zc-parser-%s-%p", self->node_id,
              (void *)self);
    if (zsock_bind (self->router, "%s", router_endpoint) == -1) {
        zsys_error ("zc_parser: cannot bind %s: %s", router_endpoint, zmq_strerror (zmq_errno ()));
        free (bound);
        return NULL;
    }

    size_t n = (size_t)self->actor_count;
    self->idle = (int *)zmalloc (n * S_ACTOR_PAGES * sizeof (int));
    self->credits = (uint8_t *)zmalloc (n * sizeof (uint8_t));
    self->actor_errors = (uint64_t *)zmalloc (n * sizeof (uint64_t));
    self->actor_done = (uint64_t *)zmalloc (n * sizeof (uint64_t));
    self->actors = (zactor_t **)zmalloc (n * sizeof (zactor_t *));
    assert (self->idle && self->credits && self->actor_errors && self->actor_done && self->actors);
    for (int i = 0; i < self->actor_count; i++) {
        s_worker_args_t args = {.router_endpoint = router_endpoint, .index = i};
        self->actors[i] = zactor_new (s_worker_actor, &args);
        assert (self->actors[i]);
    }
    int rc = zloop_reader (self->loop, zc_link_socket (self->link), s_handle_link, self);
    assert (rc == 0);
    rc = zloop_reader (self->loop, self->router, s_handle_router, self);
    assert (rc == 0);
    self->tick_timer = zloop_timer (self->loop, S_TICK_MS, 0, s_on_tick, self);
    assert (self->tick_timer != -1);
    s_tick (self); //  HELLO now rather than after the first interval
    zsys_info ("zc_parser: %s serving front %s with %d actors, broker %s", self->node_id, bound,
               self->actor_count, self->broker_endpoint);
    return bound;
}

static int
s_handle_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    self_t *self = (self_t *)arg;
    zmsg_t *msg = zmsg_recv (pipe);
    if (!msg)
        return -1;
    char *command = zmsg_popstr (msg);
    int rc = 0;
    if (command && streq (command, "$TERM"))
        rc = -1;
    else if (command && streq (command, "START")) {
        char *bound = NULL;
        if (self->started)
            zsys_error ("zc_parser: %s already started", self->node_id);
        else if (!(bound = s_start (self))) {
            //  Leave nothing half-bound behind a failed START.
            zc_link_destroy (&self->link);
            zsock_destroy (&self->router);
            zsock_destroy (&self->front);
        }
        self->started = true;
        zsock_send (pipe, "is", bound ? 0 : -1, bound ? bound : "");
        free (bound);
    } else if (command && streq (command, "DRAIN")) {
        char *ms = zmsg_popstr (msg);
        s_drain_start (self, ms);
        free (ms);
    } else
        zsys_warning ("zc_parser: unknown command %s", command ? command : "(null)");
    free (command);
    zmsg_destroy (&msg);
    return rc;
}

void
zc_parser_node_actor (zsock_t *pipe, void *args)
{
    zc_thread_name ("zc-parser-node");
    assert (args);
    self_t *self = s_self_new (pipe, (const zc_parser_config_t *)args);
    zsock_signal (pipe, 0);
    int rc = zloop_reader (self->loop, pipe, s_handle_pipe, self);
    assert (rc == 0);
    zloop_start (self->loop);
    s_self_destroy (&self);
}
