/*  zc_link — a node's connection to the broker (used by fetchers and parser
    nodes).

    Owns one DEALER connected to the broker's jobs socket and runs the node
    side of the registration state machine (docs/PROTOCOL.md):

        CONNECTING --HELLO--> WAITING --WELCOME--> REGISTERED
             ^                                        |
             +---- broker silent 5 heartbeats, -------+
                   or WELCOME/HEARTBEAT with a new epoch

    The owner receives on zc_link_socket(), decodes, and passes every
    decoded message to zc_link_handle(), which consumes WELCOME and
    HEARTBEAT and tells the owner when it must re-announce itself (a new
    epoch: a fetcher re-sends its full READY credit).
*/
#ifndef ZC_LINK_H_INCLUDED
#define ZC_LINK_H_INCLUDED

#include "zc_msg.h"

typedef struct zc_link zc_link_t;

typedef enum {
    ZC_LINK_PASS = 0, //  not a link message: the owner handles it
    ZC_LINK_CONSUMED, //  handled by the link
    ZC_LINK_WELCOMED, //  handled; registered in a (new) epoch: re-announce
} zc_link_event_t;

//  Creates the DEALER and connects it to BROKER_ENDPOINT; HELLO (copied) is
//  sent on the first zc_link_tick. Returns NULL if the endpoint is invalid.
zc_link_t *zc_link_new (const char *broker_endpoint, const zc_hello_t *hello);

//  Destroys the link and its socket. NULL-safe; sets *self_p to NULL.
void zc_link_destroy (zc_link_t **self_p);

//  The DEALER socket, for the owner's zloop reader and for sending
//  READY / FETCH_FAILED / ROBOTS. Borrowed.
zsock_t *zc_link_socket (zc_link_t *self);

//  Feeds a decoded message from the broker. See zc_link_event_t.
zc_link_event_t zc_link_handle (zc_link_t *self, const zc_msg_t *msg, int64_t now_ms);

//  Call at least every heartbeat interval: sends HELLO when not registered
//  (retried every second), HEARTBEAT (COUNTERS borrowed; epoch and node
//  filled in by the link) when registered, and drops back to unregistered if
//  the broker has been silent for 5 intervals.
void zc_link_tick (zc_link_t *self, int64_t now_ms, const zc_heartbeat_t *counters);

//  True once WELCOME was received in the current epoch.
int zc_link_registered (zc_link_t *self);

//  Current broker epoch (0 before the first WELCOME).
uint64_t zc_link_epoch (zc_link_t *self);

//  Results endpoint from WELCOME with a wildcard host replaced by the broker's
//  host; NULL before the first WELCOME. Borrowed; valid until the next
//  WELCOME.
const char *zc_link_results_endpoint (zc_link_t *self);

//  Heartbeat interval from WELCOME (default 1000 before it).
int zc_link_heartbeat_ms (zc_link_t *self);

//  The node id given in HELLO. Borrowed.
const char *zc_link_node_id (zc_link_t *self);

//  Graceful stop: if registered, sends BYE {node id} (the broker requeues the
//  node's jobs at once); in any case sets the DEALER's linger to LINGER_MS so
//  that the BYE and whatever was queued before it can still leave after
//  zc_link_destroy. Send nothing on the link afterwards. Returns 0 if BYE was
//  queued, 1 if not registered (nothing sent: the broker does not know us),
//  -1 if it could not be queued.
int zc_link_bye (zc_link_t *self, int linger_ms);

#endif
