/*  zc_broker — the broker actor: owns the crawls (frontier, seen set,
    scope, job tracking, output) and talks to fetchers, parser nodes and
    control clients. See DESIGN.md and docs/PROTOCOL.md.

    Usage:
        zc_broker_config_t config = { .jobs_endpoint = "tcp://127.0.0.1:*", ... };
        zactor_t *broker = zactor_new (zc_broker_actor, &config);
        zstr_send (broker, "START");
        int rc; char *jobs, *results, *control;
        zsock_recv (broker, "isss", &rc, &jobs, &results, &control);
        // rc 0: all three bound; the strings are the bound endpoints (caller
        // frees); rc -1: a bind failed (logged), strings are "".
        ...
        zactor_destroy (&broker);  // $TERM: closes sockets, flushes output
*/
#ifndef ZC_BROKER_H_INCLUDED
#define ZC_BROKER_H_INCLUDED

#include <czmq.h>
#include "zc_msg.h"

typedef struct {
    const char *jobs_endpoint;    //  bind: fetchers and parser nodes connect
    const char *results_endpoint; //  bind: parser actors push RESULTs
    const char *control_endpoint; //  bind: zcrawlctl
    int heartbeat_ms;             //  0 = 1000
    const char *output_dir;       //  where default output files go ("" = cwd)
    const char *data_dir;         //  durable store (LMDB) directory; NULL or "" = memory only
    uint64_t max_memory_bytes;    //  --max-memory: RAM budget for queued URLs; 0 = unlimited
    int commit_ms;                //  store commit interval; 0 = 100
} zc_broker_config_t;

//  The actor function. ARGS is a zc_broker_config_t *, copied before the
//  first zsock_signal, so it may live on the caller's stack.
void zc_broker_actor (zsock_t *pipe, void *args);

#endif
