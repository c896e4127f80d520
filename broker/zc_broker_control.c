/*  zc_broker_control — the broker actor's control socket (zcrawlctl):
    SUBMIT, STATUS, STOP, PAUSE, RESUME, each answered on the ROUTER with
    OK, ERROR or STATUS_REPLY. Part of the broker actor (zc_broker.c), in
    its zloop.
*/
#include "zc_broker_internal.h"

#include <inttypes.h>
#include <string.h>

#include "zc_util.h"

static zc_crawl_t *
s_crawl_lookup (zc_broker_self_t *self, const char *id)
{
    for (zc_crawl_t *crawl = (zc_crawl_t *)zlistx_first (self->crawls); crawl;
         crawl = (zc_crawl_t *)zlistx_next (self->crawls))
        if (streq (zc_crawl_id (crawl), id))
            return crawl;
    return NULL;
}

static void
s_reply_error (zc_broker_self_t *self, zframe_t *routing_id, const char *text)
{
    zc_msg_t reply = {.type = ZC_MSG_ERROR, .error = {.error = text}};
    if (zc_msg_send (&reply, self->control, routing_id) != 0)
        zsys_warning ("zc_broker: cannot send a control reply: %s", zmq_strerror (errno));
}

static void
s_reply_ok (zc_broker_self_t *self, zframe_t *routing_id, const char *crawl)
{
    zc_msg_t reply = {.type = ZC_MSG_OK, .ok = {.crawl = crawl}};
    if (zc_msg_send (&reply, self->control, routing_id) != 0)
        zsys_warning ("zc_broker: cannot send a control reply: %s", zmq_strerror (errno));
}

static void
s_handle_submit (zc_broker_self_t *self, zframe_t *routing_id, const zc_submit_t *submit)
{
    char id[16];
    do
        snprintf (id, sizeof id, "%08" PRIx32, (uint32_t)zc_broker_random (self));
    while (s_crawl_lookup (self, id));
    char *error = NULL;
    int64_t now = zc_now_ms ();
    zc_crawl_durable_t durable = zc_broker_durable (self, self->next_crawl_no);
    zc_crawl_t *crawl =
        zc_crawl_new (id, submit, self->output_dir, self->store ? &durable : NULL, now, &error);
    if (crawl) {
        zlistx_add_end (self->crawls, crawl);
        self->next_crawl_no++;
    }
    if (crawl && self->store && zc_broker_commit (self, &error) != 0) {
        //  Durable before the client hears OK; the reload drops it
        zc_broker_store_trouble (self, error);
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
    zc_broker_dispatch (self);
}

static void
s_handle_status (zc_broker_self_t *self, zframe_t *routing_id, const zc_status_t *request)
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
    for (zc_broker_node_t *node = (zc_broker_node_t *)zhashx_first (self->nodes); node;
         node = (zc_broker_node_t *)zhashx_next (self->nodes)) {
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
s_handle_stop (zc_broker_self_t *self, zframe_t *routing_id, const zc_stop_t *stop)
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
s_handle_pause (zc_broker_self_t *self, zframe_t *routing_id, const char *id, bool pause)
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
        zc_broker_dispatch (self);
}

static void
s_handle_control_message (zc_broker_self_t *self, zmsg_t *zmsg)
{
    zframe_t *routing_id = zmsg_pop (zmsg);
    if (!routing_id) {
        zmsg_destroy (&zmsg);
        return;
    }
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    if (!msg) {
        zc_broker_count_decode_error (self, "control", zc_msg_decode_status_str (status));
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
        zc_broker_count_decode_error (self, "control", "unexpected message type");
        s_reply_error (self, routing_id, "unexpected message type");
    }
    zc_msg_destroy (&msg);
    zframe_destroy (&routing_id);
}

int
zc_broker_handle_control (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    zc_broker_read_batch ((zc_broker_self_t *)arg, reader, s_handle_control_message);
    return 0;
}
