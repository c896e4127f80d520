/*  zc_fetcher — a fetcher actor: asks the broker for jobs with READY credit,
    downloads them with curl multi driven by its zloop, pushes pages to
    parser nodes and reports fetch failures to the broker.

    Usage:
        zc_fetcher_config_t config = { .broker_endpoint = "tcp://127.0.0.1:5555" };
        zactor_t *fetcher = zactor_new (zc_fetcher_actor, &config);
        zstr_send (fetcher, "START");
        int rc; zsock_recv (fetcher, "i", &rc);   // 0, or -1 if it could not connect
        ...
        zstr_sendx (fetcher, "DRAIN", "10000", NULL);   // graceful stop, see below
        char *reply = zstr_recv (fetcher);             // "DRAINED"
        zactor_destroy (&fetcher);

    Pipe commands:
        START            connect and register; replies "i": 0, or -1 if it
                         could not connect (or after DRAIN).
        DRAIN [MS]       graceful stop. MS (optional second frame, decimal,
                         0..600000, default 10000) bounds the drain. From now
                         on no READY credit is granted; page jobs that arrive
                         are handed back at once as FETCH_FAILED reason
                         "shutdown" (same crawl, id, url, attempt; the broker
                         requeues them without using an attempt). Running
                         transfers go on; their pages go to parsers as usual.
                         At the deadline, transfers still running and pages
                         not yet pushed are dropped and handed back the same
                         way. Robots jobs are never handed back by message:
                         BYE requeues them. Once nothing is left (or at the
                         deadline) the actor sends BYE {node} to the broker,
                         sets a 2 s linger on its PAGE and broker sockets,
                         stops heartbeating and replies "DRAINED" (one frame)
                         on the pipe. A DRAIN after DRAINED replies "DRAINED"
                         again. Destroy the actor afterwards.
        $TERM            (zactor_destroy) stops at once: running transfers
                         are aborted without any outcome.
*/
#ifndef ZC_FETCHER_H_INCLUDED
#define ZC_FETCHER_H_INCLUDED

#include <czmq.h>

typedef struct {
    const char *broker_endpoint; //  the broker's jobs socket
    int max_in_flight;           //  0 = 64
    const char *node_id;         //  NULL = generated
} zc_fetcher_config_t;

//  The actor function; ARGS is a zc_fetcher_config_t *, copied at start.
void zc_fetcher_actor (zsock_t *pipe, void *args);

#endif
