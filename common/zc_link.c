/*  zc_link — a node's connection to the broker. See zc_link.h and the
    "Registration, heartbeats and epochs" section of docs/PROTOCOL.md.

    The link never reads its socket itself: the owner's loop receives and
    decodes, and feeds every message to zc_link_handle. That keeps one reader
    per socket and lets the owner's tests drive time explicitly (every method
    takes now_ms; the link never reads a clock).

    A WELCOME only counts as "welcomed" (re-announce credit) on the
    transition into registered or into a new epoch. A duplicate WELCOME in
    the same epoch (we retried HELLO before the first WELCOME arrived) is
    consumed silently: the broker reset our credit on each HELLO, and the
    READY sent after the first WELCOME reached it after the second HELLO,
    so re-sending READY would double the credit.

    A broker HEARTBEAT whose epoch is not ours sends us back to HELLO. That
    covers both a restarted broker (new epoch) and a broker that no longer
    knows us (it answers our messages with a HEARTBEAT of epoch 0).
*/
#include "zc_link.h"

#include "zc_util.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  HELLO is retried at most this often while unregistered.
#define S_HELLO_RETRY_MS 1000
//  Heartbeat interval before WELCOME says otherwise.
#define S_DEFAULT_HEARTBEAT_MS 1000
//  The broker is dead after this many silent heartbeat intervals.
#define S_LIVENESS 5

struct zc_link {
    zsock_t *dealer;       //  owned
    char *broker_endpoint; //  owned
    zc_hello_t hello;      //  strings owned
    bool registered;
    uint64_t epoch;
    char *results; //  owned, NULL before the first WELCOME
    int heartbeat_ms;
    bool hello_sent; //  since the last time we became unregistered
    int64_t hello_at_ms;
    int64_t heartbeat_at_ms;
    int64_t heard_at_ms; //  last message from the broker
};

zc_link_t *
zc_link_new (const char *broker_endpoint, const zc_hello_t *hello)
{
    assert (broker_endpoint);
    assert (hello);
    zc_link_t *self = (zc_link_t *)zmalloc (sizeof (zc_link_t));
    assert (self);
    self->broker_endpoint = zc_strdup (broker_endpoint);
    self->hello = *hello;
    self->hello.id = zc_strdup (hello->id ? hello->id : "");
    self->hello.role = zc_strdup (hello->role ? hello->role : "");
    self->hello.version = zc_strdup (hello->version ? hello->version : "");
    self->hello.endpoint = zc_strdup (hello->endpoint ? hello->endpoint : "");
    self->heartbeat_ms = S_DEFAULT_HEARTBEAT_MS;

    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zc_msg_socket_setup (self->dealer, ZC_MSG_MAX_HEADER_BYTES, 0);
    if (zsock_connect (self->dealer, "%s", broker_endpoint) != 0) {
        zsys_error ("zc_link: cannot connect to broker %s: %s", broker_endpoint,
                    zmq_strerror (zmq_errno ()));
        zc_link_destroy (&self);
        return NULL;
    }
    return self;
}

void
zc_link_destroy (zc_link_t **self_p)
{
    assert (self_p);
    zc_link_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->dealer);
    free (self->broker_endpoint);
    free ((char *)self->hello.id);
    free ((char *)self->hello.role);
    free ((char *)self->hello.version);
    free ((char *)self->hello.endpoint);
    free (self->results);
    free (self);
    *self_p = NULL;
}

zsock_t *
zc_link_socket (zc_link_t *self)
{
    assert (self);
    return self->dealer;
}

static void
s_send_hello (zc_link_t *self, int64_t now_ms)
{
    zc_msg_t msg = {.type = ZC_MSG_HELLO, .hello = self->hello};
    //  A full pipe is not fatal: we retry on a later tick.
    if (zc_msg_send (&msg, self->dealer, NULL) != 0)
        zsys_debug ("zc_link: HELLO to %s not queued: %s", self->broker_endpoint,
                    zmq_strerror (zmq_errno ()));
    self->hello_sent = true;
    self->hello_at_ms = now_ms;
}

static void
s_unregister (zc_link_t *self, int64_t now_ms, const char *why)
{
    zsys_warning ("zc_link: %s: broker %s %s, registering again", self->hello.id,
                  self->broker_endpoint, why);
    self->registered = false;
    s_send_hello (self, now_ms);
}

zc_link_event_t
zc_link_handle (zc_link_t *self, const zc_msg_t *msg, int64_t now_ms)
{
    assert (self);
    assert (msg);
    //  Anything from the broker proves it is alive.
    self->heard_at_ms = now_ms;

    if (msg->type == ZC_MSG_WELCOME) {
        const zc_welcome_t *welcome = &msg->welcome;
        bool fresh = !self->registered || welcome->epoch != self->epoch;
        free (self->results);
        self->results = zc_endpoint_rewrite_wildcard (welcome->results, self->broker_endpoint);
        self->heartbeat_ms = welcome->heartbeat_ms > 0 && welcome->heartbeat_ms <= INT32_MAX
                                 ? (int)welcome->heartbeat_ms
                                 : S_DEFAULT_HEARTBEAT_MS;
        if (!fresh)
            return ZC_LINK_CONSUMED;
        if (self->epoch != welcome->epoch)
            zsys_info ("zc_link: %s registered with broker %s, epoch %" PRIu64 ", results %s",
                       self->hello.id, self->broker_endpoint, welcome->epoch, self->results);
        self->epoch = welcome->epoch;
        self->registered = true;
        self->heartbeat_at_ms = now_ms;
        return ZC_LINK_WELCOMED;
    }
    if (msg->type == ZC_MSG_HEARTBEAT) {
        if (self->registered && msg->heartbeat.epoch != self->epoch)
            s_unregister (self, now_ms, "started a new epoch");
        return ZC_LINK_CONSUMED;
    }
    return ZC_LINK_PASS;
}

void
zc_link_tick (zc_link_t *self, int64_t now_ms, const zc_heartbeat_t *counters)
{
    assert (self);
    if (self->registered &&
        now_ms - self->heard_at_ms >= (int64_t)S_LIVENESS * self->heartbeat_ms) {
        s_unregister (self, now_ms, "went silent");
        return;
    }
    if (!self->registered) {
        if (!self->hello_sent || now_ms - self->hello_at_ms >= S_HELLO_RETRY_MS)
            s_send_hello (self, now_ms);
        return;
    }
    if (now_ms - self->heartbeat_at_ms >= self->heartbeat_ms) {
        zc_msg_t msg = {.type = ZC_MSG_HEARTBEAT};
        if (counters)
            msg.heartbeat = *counters;
        msg.heartbeat.epoch = self->epoch;
        msg.heartbeat.node = self->hello.id;
        if (zc_msg_send (&msg, self->dealer, NULL) != 0)
            zsys_debug ("zc_link: HEARTBEAT to %s not queued: %s", self->broker_endpoint,
                        zmq_strerror (zmq_errno ()));
        self->heartbeat_at_ms = now_ms;
    }
}

int
zc_link_registered (zc_link_t *self)
{
    assert (self);
    return self->registered;
}

uint64_t
zc_link_epoch (zc_link_t *self)
{
    assert (self);
    return self->epoch;
}

const char *
zc_link_results_endpoint (zc_link_t *self)
{
    assert (self);
    return self->results;
}

int
zc_link_heartbeat_ms (zc_link_t *self)
{
    assert (self);
    return self->heartbeat_ms;
}

const char *
zc_link_node_id (zc_link_t *self)
{
    assert (self);
    return self->hello.id;
}

int
zc_link_bye (zc_link_t *self, int linger_ms)
{
    assert (self);
    zsock_set_linger (self->dealer, linger_ms);
    if (!self->registered)
        return 1;
    zc_msg_t msg = {.type = ZC_MSG_BYE, .bye = {.node = self->hello.id}};
    if (zc_msg_send (&msg, self->dealer, NULL) != 0) {
        zsys_warning ("zc_link: %s: BYE to %s not queued: %s", self->hello.id,
                      self->broker_endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    self->registered = false;
    return 0;
}
