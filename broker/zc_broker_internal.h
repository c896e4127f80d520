/*  zc_broker_internal — private to the broker actor's files: its state
    (zc_broker_self_t, zc_broker_node_t) and the functions one part calls in
    another. Not a contract: only broker/zc_broker*.c include it.

    zc_broker.c            the actor: self, pipe, sockets, nodes, timers
    zc_broker_dispatch.c   handing ready URLs to fetchers (JOBS)
    zc_broker_outcomes.c   RESULT, FETCH_FAILED, ROBOTS: redirects, retries
    zc_broker_durable.c    the store: reload, commit, write trouble
    zc_broker_control.c    SUBMIT, STATUS, STOP, PAUSE, RESUME

    Everything runs in the actor's one zloop: no locking anywhere.
*/
#ifndef ZC_BROKER_INTERNAL_H_INCLUDED
#define ZC_BROKER_INTERNAL_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "zc_crawl.h"
#include "zc_inflight.h"
#include "zc_msg.h"
#include "zc_store.h"

#define ZC_BROKER_DEAD_AFTER 5 //  heartbeat intervals
//  A job's deadline is its fetch budget plus a slack of this many heartbeat
//  intervals (5 s at the default 1 s): transit, parsing, queueing.
#define ZC_BROKER_DEADLINE_SLACK_BEATS ZC_BROKER_DEAD_AFTER
#define ZC_BROKER_BATCH_READS 256      //  messages per socket wake-up
#define ZC_BROKER_MAX_HOST_PINS 100000 //  polite hosts pinned to a fetcher (dispatch)
#define ZC_BROKER_LOG_INTERVAL_MS 1000

typedef struct {
    zframe_t *routing_id; //  owned
    char *key;            //  owned: hex of the routing id
    char *id;             //  owned: node id from HELLO
    char *role;           //  owned
    char *endpoint;       //  owned
    bool fetcher;
    uint32_t capacity;
    uint32_t credit;
    int64_t last_seen_ms;
    uint64_t decode_errors; //  last reported
    uint32_t in_flight;     //  last reported
    uint64_t done;          //  last reported
} zc_broker_node_t;

typedef struct {
    zsock_t *pipe;          //  borrowed: actor pipe
    zloop_t *loop;          //  owned
    zsock_t *jobs;          //  owned
    zsock_t *results;       //  owned
    zsock_t *control;       //  owned
    char *jobs_endpoint;    //  owned: from the config
    char *results_endpoint; //  owned
    char *control_endpoint; //  owned
    char *output_dir;       //  owned
    int heartbeat_ms;
    uint64_t epoch;
    uint64_t rng;               //  splitmix64 state (crawl ids)
    zhashx_t *nodes;            //  owned: routing key -> zc_broker_node_t (owned)
    zhashx_t *host_fetchers;    //  owned: host key -> routing key of the fetcher its
                                //  jobs go to (polite hosts only, see dispatch)
    zlistx_t *crawls;           //  owned: zc_crawl_t (owned), in submission order
    zc_inflight_t *outstanding; //  owned: the jobs sent and not ended yet
    size_t rr;                  //  round-robin position over crawls
    int dispatch_timer;         //  -1 when not armed
    int64_t dispatch_at_ms;
    uint64_t decode_errors; //  our own
    int64_t last_decode_log_ms;
    int64_t last_late_log_ms;
    bool started;
    char *data_dir;         //  owned: NULL = memory only
    zc_store_t *store;      //  owned: the durable state, NULL = memory only
    int commit_ms;          //  store commit interval
    size_t memory_urls;     //  per crawl: queued URLs kept in RAM (0 = all)
    size_t seen_bytes;      //  per crawl: RAM for the seen set (0 = no limit)
    size_t max_batch_ops;   //  store operations that force a commit (0 = timer only)
    uint32_t next_crawl_no; //  store key prefix of the next crawl
} zc_broker_self_t;

//  zc_broker.c

//  Next number of the actor's splitmix64 generator (epoch, crawl ids, jitter).
uint64_t zc_broker_random (zc_broker_self_t *self);

//  Counts a message dropped on SOCKET because of WHY; logs at most once per
//  ZC_BROKER_LOG_INTERVAL_MS.
void zc_broker_count_decode_error (zc_broker_self_t *self, const char *socket, const char *why);

//  zc_broker_dispatch.c

//  Hands ready URLs to the fetchers with credit (no-op before START); arms
//  the dispatch timer when the only ready work is behind a host delay.
void zc_broker_dispatch (zc_broker_self_t *self);

//  zc_broker_outcomes.c

//  Reads at most ZC_BROKER_BATCH_READS messages from READER (fairness
//  between sockets) and passes each to HANDLE, which takes it over.
typedef void (zc_broker_message_fn) (zc_broker_self_t *self, zmsg_t *zmsg);
void zc_broker_read_batch (zc_broker_self_t *self, zsock_t *reader, zc_broker_message_fn *handle);

//  zloop reader of the results PULL socket (RESULT from parser actors); ARG
//  is self. Also called directly to drain it before a parser node's BYE.
int zc_broker_handle_results (zloop_t *loop, zsock_t *reader, void *arg);

//  FETCH_FAILED from a fetcher: redirect, retry, or the job's error line.
void zc_broker_handle_fetch_failed (zc_broker_self_t *self, const zc_fetch_failed_t *failed);

//  ROBOTS from a fetcher: the outcome of a robots.txt job.
void zc_broker_handle_robots (zc_broker_self_t *self, const zc_robots_t *robots);

//  zc_broker_durable.c

//  The store settings for crawl number CRAWL_NO (borrows self's store).
zc_crawl_durable_t zc_broker_durable (zc_broker_self_t *self, uint32_t crawl_no);

//  Drops every crawl and outstanding job and rebuilds the crawls from the
//  store's last commit.
void zc_broker_store_reload (zc_broker_self_t *self);

//  Makes every crawl's output durable, then commits the store. Returns 0,
//  or -1 with *ERROR set (new string, caller frees).
int zc_broker_commit (zc_broker_self_t *self, char **error);

//  After a failed write: drops the uncommitted work, reloads from the last
//  commit and pauses every crawl with ERROR.
void zc_broker_store_trouble (zc_broker_self_t *self, const char *error);

//  Commits early when the store's batch has grown past its memory share.
void zc_broker_commit_if_full (zc_broker_self_t *self);

//  zloop timer: the periodic store commit; ARG is self.
int zc_broker_on_commit (zloop_t *loop, int timer_id, void *arg);

//  zc_broker_control.c

//  zloop reader of the control ROUTER (zcrawlctl); ARG is self.
int zc_broker_handle_control (zloop_t *loop, zsock_t *reader, void *arg);

#endif
