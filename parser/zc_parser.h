/*  zc_parser — a parser node (actor) and its parser actors.

    The node binds a front PULL that fetchers push PAGEs to, registers with
    the broker (HELLO role=parser, advertising the front endpoint), and hands
    each page to one of its N parser actors only when that actor has said it
    is idle (ROUTER + READY load balancing, so no page waits behind a busy
    actor). Each parser actor parses one page at a time and pushes a RESULT
    to the broker's results socket. Every PAGE yields exactly one RESULT,
    including non-HTML and unparseable bodies.

    Usage:
        zc_parser_config_t config = {.broker_endpoint = ...,
                                     .front_endpoint = "tcp://127.0.0.1:*"};
        zactor_t *node = zactor_new (zc_parser_node_actor, &config);
        zstr_send (node, "START");
        int rc;
        char *front;
        zsock_recv (node, "is", &rc, &front); //  0 and the bound front
                                              //  endpoint; -1 and "" on error

    ACCEPT: for every PAGE taken off the front the node reports its job id to
    the broker (ACCEPT, batched per loop wake-up, only while registered);
    from then on the broker holds the node, not the fetcher, responsible for
    the job (docs/PROTOCOL.md 6.3).

    Graceful stop (docs/PROTOCOL.md 6.4):
        zstr_sendx (node, "DRAIN", "5000", NULL); //  the second frame, the
                                                  //  drain time in ms, is optional
        char *reply = zstr_recv (node);           //  "DRAINED"
        zactor_destroy (&node);
    On DRAIN the node keeps reading its front and parsing until it holds no
    page (none waiting in the front, every actor idle) or the drain time
    (the frame, else config.drain_ms) has passed; then it stops its actors
    (a page being parsed is finished and its RESULT queued; the results
    sockets linger 2 s), sends BYE on its link (linger 2 s), stops reading
    and heartbeating, and replies "DRAINED". A DRAIN before START or after
    the drain is answered "DRAINED" at once. Destroy the actor afterwards
    (the process's zsys shutdown then waits for the lingering messages).
*/
#ifndef ZC_PARSER_H_INCLUDED
#define ZC_PARSER_H_INCLUDED

#include <czmq.h>

typedef struct {
    const char *broker_endpoint; //  the broker's jobs socket
    const char *front_endpoint;  //  bind address for the front PULL
    const char *advertise;       //  endpoint fetchers should connect to;
                                 //  NULL = the bound endpoint (must not be a wildcard)
    int actors;                  //  0 = number of cores
    const char *node_id;         //  NULL = generated
    int drain_ms;                //  DRAIN without a time: at most this long; 0 = 10000
} zc_parser_config_t;

//  The node actor function; ARGS is a zc_parser_config_t *, copied at start.
void zc_parser_node_actor (zsock_t *pipe, void *args);

#endif
