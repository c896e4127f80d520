/*  zc_parser — a parser node (actor) and its parser actors.

    The node binds a front PULL that fetchers push PAGEs to, registers with
    the broker (HELLO role=parser, advertising the front endpoint), and hands
    each page to one of its N parser actors only when that actor has said it
    is idle (ROUTER + READY load balancing, so no page waits behind a busy
    actor). Each parser actor parses one page at a time and pushes a RESULT
    to the broker's results socket. Every PAGE yields exactly one RESULT,
    including non-HTML and unparseable bodies.

    Usage:
        zc_parser_config_t config = { .broker_endpoint = ..., .front_endpoint = "tcp://127.0.0.1:*"
   }; zactor_t *node = zactor_new (zc_parser_node_actor, &config); zstr_send (node, "START"); int
   rc; char *front; zsock_recv (node, "is", &rc, &front);  // rc 0 and the bound front
                                               // endpoint; -1 and "" on error
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
} zc_parser_config_t;

//  The node actor function; ARGS is a zc_parser_config_t *, copied at start.
void zc_parser_node_actor (zsock_t *pipe, void *args);

#endif
