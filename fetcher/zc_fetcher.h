/*  zc_fetcher — a fetcher actor: asks the broker for jobs with READY credit,
    downloads them with curl multi driven by its zloop, pushes pages to
    parser nodes and reports fetch failures to the broker.

    Usage:
        zc_fetcher_config_t config = { .broker_endpoint = "tcp://127.0.0.1:5555" };
        zactor_t *fetcher = zactor_new (zc_fetcher_actor, &config);
        zstr_send (fetcher, "START");
        int rc; zsock_recv (fetcher, "i", &rc);   // 0, or -1 if it could not connect
        ...
        zactor_destroy (&fetcher);
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
