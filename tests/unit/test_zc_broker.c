/*  Unit tests for the broker actor. The test plays every other party: a
    fetcher (DEALER on jobs), a parser node (DEALER on jobs + a PUSH to
    results), and a control client (DEALER). Nothing is fetched: the test
    answers the jobs itself. The broker runs on real time with 50 ms
    heartbeats; every wait polls with a deadline, and while waiting the test
    keeps its live nodes heartbeating.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <jansson.h>
#include <string.h>

#include "zc_broker.h"
#include "zc_msg.h"
#include "zc_util.h"

#define HEARTBEAT_MS 100 //  dead after 500 ms: room for a loaded machine (ASan, parallel tests)
#define WAIT_MS 3000
#define PARSER_ENDPOINT "tcp://127.0.0.1:9"

typedef struct {
    char dir[256];
    zactor_t *broker;
    char *jobs_ep, *results_ep, *control_ep;
    zsock_t *control;
    zsock_t *fetcher;
    zsock_t *fetcher2; //  only in tests that need two
    zsock_t *parser;
    zsock_t *results;
    bool fetcher_alive, fetcher2_alive, parser_alive;
    int64_t last_beat_ms;
    uint64_t epoch;
} ctx_t;

static void
s_send (zsock_t *sock, const zc_msg_t *msg)
{
    zmsg_t *zmsg = zc_msg_encode (msg);
    assert_int_equal (zmsg_send (&zmsg, sock), 0);
}

static void
s_beat (ctx_t *ctx, bool force)
{
    int64_t now = zc_now_ms ();
    if (!force && now - ctx->last_beat_ms < HEARTBEAT_MS / 2)
        return;
    ctx->last_beat_ms = now;
    zc_msg_t beat = {.type = ZC_MSG_HEARTBEAT, .heartbeat = {.epoch = ctx->epoch, .node = "t"}};
    if (ctx->fetcher && ctx->fetcher_alive)
        s_send (ctx->fetcher, &beat);
    if (ctx->fetcher2 && ctx->fetcher2_alive)
        s_send (ctx->fetcher2, &beat);
    if (ctx->parser && ctx->parser_alive) {
        beat.heartbeat.decode_errors = 0;
        s_send (ctx->parser, &beat);
    }
}

//  Next message on SOCK other than a HEARTBEAT, within TIMEOUT_MS; NULL if
//  none. Keeps the live nodes heartbeating meanwhile.
static zc_msg_t *
s_recv (ctx_t *ctx, zsock_t *sock, int timeout_ms)
{
    int64_t deadline = zc_now_ms () + timeout_ms;
    while (zc_now_ms () < deadline) {
        s_beat (ctx, false);
        zmq_pollitem_t item = {zsock_resolve (sock), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, 10);
        assert_true (rc >= 0);
        if (rc == 0)
            continue;
        zmsg_t *zmsg = zmsg_recv (sock);
        assert_non_null (zmsg);
        zc_msg_decode_status_t status;
        zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
        if (!msg)
            fail_msg ("broker sent an undecodable message: %s", zc_msg_decode_status_str (status));
        if (msg->type != ZC_MSG_HEARTBEAT)
            return msg;
        assert_int_equal (msg->heartbeat.epoch, ctx->epoch);
        zc_msg_destroy (&msg);
    }
    return NULL;
}

static zc_msg_t *
s_expect (ctx_t *ctx, zsock_t *sock, zc_msg_type_t type)
{
    zc_msg_t *msg = s_recv (ctx, sock, WAIT_MS);
    if (!msg)
        fail_msg ("timeout waiting for %s", zc_msg_type_str (type));
    if (msg->type != type)
        fail_msg ("expected %s, got %s", zc_msg_type_str (type), zc_msg_type_str (msg->type));
    return msg;
}

//  Checks that nothing but heartbeats arrives on SOCK for MS.
static void
s_expect_nothing (ctx_t *ctx, zsock_t *sock, int ms)
{
    zc_msg_t *msg = s_recv (ctx, sock, ms);
    if (msg)
        fail_msg ("unexpected %s", zc_msg_type_str (msg->type));
}

static zc_msg_t *
s_call (ctx_t *ctx, const zc_msg_t *request)
{
    s_send (ctx->control, request);
    zc_msg_t *reply = s_recv (ctx, ctx->control, WAIT_MS);
    assert_non_null (reply);
    return reply;
}

static zc_msg_t *
s_status (ctx_t *ctx, const char *crawl)
{
    zc_msg_t request = {.type = ZC_MSG_STATUS, .status = {.crawl = crawl}};
    zc_msg_t *reply = s_call (ctx, &request);
    assert_int_equal (reply->type, ZC_MSG_STATUS_REPLY);
    assert_int_equal (reply->status_reply.epoch, ctx->epoch);
    return reply;
}

//  Polls STATUS until CRAWL is in STATE; returns the last reply.
static zc_msg_t *
s_wait_state (ctx_t *ctx, const char *crawl, const char *state)
{
    int64_t deadline = zc_now_ms () + WAIT_MS;
    while (1) {
        zc_msg_t *reply = s_status (ctx, crawl);
        assert_int_equal (reply->status_reply.crawl_count, 1);
        if (streq (reply->status_reply.crawls[0].state, state))
            return reply;
        zc_msg_destroy (&reply);
        if (zc_now_ms () > deadline)
            fail_msg ("crawl %s never reached %s", crawl, state);
        s_recv (ctx, ctx->parser, 10); //  a short pause that keeps heartbeating
    }
}

//  Submits SEEDS with OPTS; returns the crawl id (caller frees) or fails.
static char *
s_submit (ctx_t *ctx, const char **seeds, size_t count, zc_crawl_opts_t opts)
{
    zc_msg_t request = {
        .type = ZC_MSG_SUBMIT,
        .submit = {.seeds = seeds, .seed_count = count, .output = "", .errors = "", .opts = opts}};
    zc_msg_t *reply = s_call (ctx, &request);
    if (reply->type == ZC_MSG_ERROR)
        fail_msg ("submit refused: %s", reply->error.error);
    assert_int_equal (reply->type, ZC_MSG_OK);
    assert_int_equal (strlen (reply->ok.crawl), 8);
    char *id = zc_strdup (reply->ok.crawl);
    zc_msg_destroy (&reply);
    return id;
}

static zc_crawl_opts_t
s_opts (void)
{
    //  Most tests are about dispatch, not politeness
    return (zc_crawl_opts_t){.max_depth = -1,
                             .impolite = true,
                             .ignore_robots = true,
                             .fetch = {.allow_private = true, .user_agent = ""}};
}

static zsock_t *
s_node_connect (ctx_t *ctx, const char *id, const char *role, const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    assert_non_null (sock);
    assert_int_equal (zsock_connect (sock, "%s", ctx->jobs_ep), 0);
    zc_msg_t hello = {
        .type = ZC_MSG_HELLO,
        .hello = {
            .id = id, .role = role, .version = ZC_VERSION, .capacity = 4, .endpoint = endpoint}};
    s_send (sock, &hello);
    zc_msg_t *welcome = s_expect (ctx, sock, ZC_MSG_WELCOME);
    assert_int_not_equal (welcome->welcome.epoch, 0);
    if (ctx->epoch)
        assert_int_equal (welcome->welcome.epoch, ctx->epoch);
    ctx->epoch = welcome->welcome.epoch;
    assert_string_equal (welcome->welcome.results, ctx->results_ep);
    assert_int_equal (welcome->welcome.heartbeat_ms, HEARTBEAT_MS);
    zc_msg_destroy (&welcome);
    return sock;
}

//  Expects PARSERS on SOCK with exactly COUNT endpoints (all PARSER_ENDPOINT).
static void
s_expect_parsers (ctx_t *ctx, zsock_t *sock, size_t count)
{
    zc_msg_t *parsers = s_expect (ctx, sock, ZC_MSG_PARSERS);
    assert_int_equal (parsers->parsers.endpoint_count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (parsers->parsers.endpoints[i], PARSER_ENDPOINT);
    zc_msg_destroy (&parsers);
}

static int
s_setup (void **state)
{
    ctx_t *ctx = (ctx_t *)zmalloc (sizeof (ctx_t));
    snprintf (ctx->dir, sizeof ctx->dir, "/tmp/test_zc_broker.XXXXXX");
    assert_non_null (mkdtemp (ctx->dir));
    zc_broker_config_t config = {.jobs_endpoint = "tcp://127.0.0.1:*",
                                 .results_endpoint = "tcp://127.0.0.1:*",
                                 .control_endpoint = "tcp://127.0.0.1:*",
                                 .heartbeat_ms = HEARTBEAT_MS,
                                 .output_dir = ctx->dir};
    ctx->broker = zactor_new (zc_broker_actor, &config);
    assert_non_null (ctx->broker);
    zstr_send (ctx->broker, "START");
    int rc = -1;
    assert_int_equal (
        zsock_recv (ctx->broker, "isss", &rc, &ctx->jobs_ep, &ctx->results_ep, &ctx->control_ep),
        0);
    assert_int_equal (rc, 0);
    assert_non_null (strstr (ctx->jobs_ep, "tcp://127.0.0.1:"));
    assert_null (strchr (ctx->results_ep, '*'));

    ctx->parser_alive = ctx->fetcher_alive = ctx->fetcher2_alive = true;
    ctx->parser = s_node_connect (ctx, "parser-1", "parser", PARSER_ENDPOINT);
    ctx->fetcher = s_node_connect (ctx, "fetcher-1", "fetcher", "");
    s_expect_parsers (ctx, ctx->fetcher, 1);
    ctx->results = zsock_new (ZMQ_PUSH);
    assert_int_equal (zsock_connect (ctx->results, "%s", ctx->results_ep), 0);
    ctx->control = zsock_new (ZMQ_DEALER);
    assert_int_equal (zsock_connect (ctx->control, "%s", ctx->control_ep), 0);
    *state = ctx;
    return 0;
}

static int
s_teardown (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    zactor_destroy (&ctx->broker);
    zsock_destroy (&ctx->control);
    zsock_destroy (&ctx->fetcher);
    zsock_destroy (&ctx->fetcher2);
    zsock_destroy (&ctx->parser);
    zsock_destroy (&ctx->results);
    zstr_free (&ctx->jobs_ep);
    zstr_free (&ctx->results_ep);
    zstr_free (&ctx->control_ep);
    zdir_t *dir = zdir_new (ctx->dir, NULL);
    if (dir) {
        zdir_remove (dir, true);
        zdir_destroy (&dir);
    }
    free (ctx);
    return 0;
}

static void
s_ready (ctx_t *ctx, zsock_t *fetcher, uint32_t credit)
{
    (void)ctx;
    zc_msg_t ready = {.type = ZC_MSG_READY, .ready = {.credit = credit}};
    s_send (fetcher, &ready);
}

//  Sends a RESULT for JOB with LINKS.
static void
s_result (ctx_t *ctx, const zc_job_t *job, uint32_t status, const char **links, size_t count)
{
    zc_msg_t result = {.type = ZC_MSG_RESULT,
                       .result = {.meta = {.crawl = job->crawl,
                                           .id = job->id,
                                           .url = job->url,
                                           .final_url = job->url,
                                           .depth = job->depth,
                                           .attempt = job->attempt,
                                           .status = status,
                                           .content_type = "text/html",
                                           .fetched_at_ms = (uint64_t)zc_now_ms ()},
                                  .title = "A \"title\"",
                                  .links = links,
                                  .link_count = count,
                                  .parse_error = NULL}};
    s_send (ctx->results, &result);
}

static void
s_failed (zsock_t *fetcher, const zc_job_t *job, const char *reason, uint32_t status,
          const char *location)
{
    zc_msg_t failed = {.type = ZC_MSG_FETCH_FAILED,
                       .fetch_failed = {.crawl = job->crawl,
                                        .id = job->id,
                                        .url = job->url,
                                        .attempt = job->attempt,
                                        .reason = reason,
                                        .detail = "test",
                                        .status = status,
                                        .location = location,
                                        .fetched_at_ms = (uint64_t)zc_now_ms ()}};
    s_send (fetcher, &failed);
}

//  Reads a JSON Lines file into an array, asserting every line parses.
static json_t *
s_read_lines (const char *path)
{
    json_t *lines = json_array ();
    FILE *file = fopen (path, "r");
    if (!file)
        fail_msg ("cannot open %s", path);
    char *line = NULL;
    size_t size = 0;
    ssize_t length;
    while ((length = getline (&line, &size, file)) > 0) {
        json_error_t error;
        json_t *value = json_loadb (line, (size_t)length, 0, &error);
        if (!value)
            fail_msg ("bad JSON line in %s: %s", path, error.text);
        json_array_append_new (lines, value);
    }
    free (line);
    fclose (file);
    return lines;
}

static json_t *
s_items (ctx_t *ctx, const char *crawl)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s.items.jsonl", ctx->dir, crawl);
    return s_read_lines (path);
}

static json_t *
s_errors (ctx_t *ctx, const char *crawl)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s.items.errors.jsonl", ctx->dir, crawl);
    return s_read_lines (path);
}

static const char *
s_str (json_t *array, size_t index, const char *key)
{
    const char *value = json_string_value (json_object_get (json_array_get (array, index), key));
    assert_non_null (value);
    return value;
}

static json_int_t
s_int (json_t *array, size_t index, const char *key)
{
    json_t *value = json_object_get (json_array_get (array, index), key);
    assert_true (json_is_integer (value));
    return json_integer_value (value);
}

//  --------------------------------------------------------------------------

static void
test_crawl (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/", "HTTP://127.0.0.1:1"}; //  same canonical URL
    zc_crawl_opts_t opts = s_opts ();
    opts.max_depth = 1;
    char *crawl = s_submit (ctx, seeds, 2, opts);

    //  No credit, no jobs
    s_expect_nothing (ctx, ctx->fetcher, 100);
    int64_t before = zc_now_ms ();
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 1);
    zc_job_t *job = &jobs->jobs.jobs[0];
    assert_string_equal (job->crawl, crawl);
    assert_string_equal (job->url, "http://127.0.0.1:1/");
    assert_int_equal (job->depth, 0);
    assert_int_equal (job->attempt, 1);
    assert_int_equal (job->kind, ZC_JOB_PAGE);
    assert_true (job->deadline_ms > (uint64_t)before + 40000);
    assert_int_equal (job->opts.connect_timeout_ms, 10000);
    assert_int_equal (job->opts.timeout_ms, 30000);
    assert_int_equal (job->opts.max_body_bytes, 10 * 1024 * 1024);
    assert_int_equal (job->opts.max_redirects, 10);
    assert_true (job->opts.allow_private);

    zc_msg_t *status = s_status (ctx, crawl);
    assert_int_equal (status->status_reply.crawl_count, 1);
    zc_crawl_status_t *c = &status->status_reply.crawls[0];
    assert_string_equal (c->state, "running");
    assert_int_equal (c->queued, 0);
    assert_int_equal (c->in_flight, 1);
    assert_int_equal (c->pages, 0);
    assert_int_equal (status->status_reply.node_count, 2);
    zc_msg_destroy (&status);

    const char *links[] = {"http://127.0.0.1:1/a",   "http://127.0.0.1:1/b", "http://127.0.0.1:1/a",
                           "http://other.example/x", "http://127.0.0.1:1/",  "not a url",
                           "http://127.0.0.1:2/"};
    s_result (ctx, job, 200, links, 7);
    //  A duplicate outcome is dropped
    s_result (ctx, job, 200, links, 7);
    zc_msg_destroy (&jobs);

    //  Two in-scope new links at depth 1
    s_ready (ctx, ctx->fetcher, 10);
    jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 2);
    zc_job_t *a = &jobs->jobs.jobs[0], *b = &jobs->jobs.jobs[1];
    assert_string_equal (a->url, "http://127.0.0.1:1/a");
    assert_string_equal (b->url, "http://127.0.0.1:1/b");
    assert_int_equal (a->depth, 1);
    assert_true (b->id != a->id);
    //  /deep would be depth 2 > max_depth 1
    const char *deeper[] = {"http://127.0.0.1:1/deep"};
    s_result (ctx, a, 200, deeper, 1);
    s_failed (ctx->fetcher, b, "http", 404, "");
    status = s_wait_state (ctx, crawl, "done");
    c = &status->status_reply.crawls[0];
    assert_int_equal (c->pages, 2);
    assert_int_equal (c->failed, 1);
    assert_int_equal (c->queued, 0);
    assert_int_equal (c->in_flight, 0);
    zc_msg_destroy (&status);
    s_expect_nothing (ctx, ctx->fetcher, 100);
    //  Late outcomes after completion are dropped
    s_failed (ctx->fetcher, a, "timeout", 0, "");

    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 2);
    assert_string_equal (s_str (items, 0, "url"), "http://127.0.0.1:1/");
    assert_string_equal (s_str (items, 0, "title"), "A \"title\"");
    assert_string_equal (s_str (items, 0, "crawl"), crawl);
    assert_int_equal (s_int (items, 0, "links"), 7);
    assert_int_equal (s_int (items, 0, "depth"), 0);
    assert_string_equal (s_str (items, 1, "url"), "http://127.0.0.1:1/a");
    assert_int_equal (s_int (items, 1, "depth"), 1);
    assert_int_equal (s_int (items, 1, "status"), 200);
    json_decref (items);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 1);
    assert_string_equal (s_str (errors, 0, "url"), "http://127.0.0.1:1/b");
    assert_string_equal (s_str (errors, 0, "reason"), "http");
    assert_int_equal (s_int (errors, 0, "status"), 404);
    assert_int_equal (s_int (errors, 0, "depth"), 1);
    json_decref (errors);
    zc_msg_destroy (&jobs);

    //  STATUS of all crawls
    status = s_status (ctx, "");
    assert_int_equal (status->status_reply.crawl_count, 1);
    assert_string_equal (status->status_reply.crawls[0].id, crawl);
    zc_msg_destroy (&status);
    free (crawl);
}

static void
test_redirects (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/r"};
    char *crawl = s_submit (ctx, seeds, 1, s_opts ());
    s_ready (ctx, ctx->fetcher, 5);
    zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 1);
    assert_string_equal (jobs->jobs.jobs[0].origin, "");
    //  In scope and unseen: a continuation of /r at the same depth
    s_failed (ctx->fetcher, &jobs->jobs.jobs[0], "redirect", 301, "http://127.0.0.1:1/target");
    zc_msg_destroy (&jobs);
    jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 1);
    assert_string_equal (jobs->jobs.jobs[0].url, "http://127.0.0.1:1/target");
    assert_string_equal (jobs->jobs.jobs[0].origin, "http://127.0.0.1:1/r");
    assert_int_equal (jobs->jobs.jobs[0].depth, 0);
    //  Out of scope: the chain ends there, one line under its origin
    s_failed (ctx->fetcher, &jobs->jobs.jobs[0], "redirect", 302, "http://elsewhere.example/");
    zc_msg_destroy (&jobs);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].failed, 1);
    assert_int_equal (status->status_reply.crawls[0].pages, 0);
    zc_msg_destroy (&status);

    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 1);
    assert_string_equal (s_str (errors, 0, "url"), "http://127.0.0.1:1/r");
    assert_string_equal (s_str (errors, 0, "reason"), "scope");
    assert_string_equal (s_str (errors, 0, "location"), "http://elsewhere.example/");
    assert_int_equal (s_int (errors, 0, "status"), 302);
    json_decref (errors);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    free (crawl);
}

//  Jobs never exceed the credit, nor the per-host in-flight limit.
static void
test_credit_and_host_limit (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/1", "http://127.0.0.1:1/2", "http://127.0.0.1:1/3",
                           "http://127.0.0.1:2/1", "http://127.0.0.1:2/2"};
    zc_crawl_opts_t opts = s_opts ();
    opts.host_concurrency = 1;
    char *crawl = s_submit (ctx, seeds, 5, opts);
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *first = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (first->jobs.job_count, 1);
    s_expect_nothing (ctx, ctx->fetcher, 100);
    //  Credit 10 but one per host: only the other host's URL can go
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *second = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (second->jobs.job_count, 1);
    assert_string_equal (first->jobs.jobs[0].url, "http://127.0.0.1:1/1");
    assert_string_equal (second->jobs.jobs[0].url, "http://127.0.0.1:2/1");
    s_expect_nothing (ctx, ctx->fetcher, 100);
    //  Finishing a job frees its host's slot
    s_result (ctx, &first->jobs.jobs[0], 200, NULL, 0);
    zc_msg_t *third = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (third->jobs.job_count, 1);
    assert_string_equal (third->jobs.jobs[0].url, "http://127.0.0.1:1/2");
    zc_msg_t *status = s_status (ctx, crawl);
    assert_int_equal (status->status_reply.crawls[0].queued, 2);
    assert_int_equal (status->status_reply.crawls[0].in_flight, 2);
    zc_msg_destroy (&status);
    zc_msg_destroy (&first);
    zc_msg_destroy (&second);
    zc_msg_destroy (&third);
    free (crawl);
}

static void
test_stop_and_errors (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/", "http://127.0.0.1:1/x"};
    char *crawl = s_submit (ctx, seeds, 2, s_opts ());
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);

    zc_msg_t stop = {.type = ZC_MSG_STOP, .stop = {.crawl = crawl}};
    zc_msg_t *reply = s_call (ctx, &stop);
    assert_int_equal (reply->type, ZC_MSG_OK);
    assert_string_equal (reply->ok.crawl, crawl);
    zc_msg_destroy (&reply);
    zc_msg_t *status = s_status (ctx, crawl);
    assert_string_equal (status->status_reply.crawls[0].state, "stopped");
    assert_int_equal (status->status_reply.crawls[0].queued, 0);
    assert_int_equal (status->status_reply.crawls[0].in_flight, 0);
    zc_msg_destroy (&status);
    //  Its outcome is dropped, nothing more is dispatched
    s_result (ctx, &jobs->jobs.jobs[0], 200, NULL, 0);
    s_ready (ctx, ctx->fetcher, 5);
    s_expect_nothing (ctx, ctx->fetcher, 100);
    status = s_status (ctx, crawl);
    assert_int_equal (status->status_reply.crawls[0].pages, 0);
    zc_msg_destroy (&status);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 0);
    json_decref (items);
    zc_msg_destroy (&jobs);

    //  Unknown crawls
    stop.stop.crawl = "nope";
    reply = s_call (ctx, &stop);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    zc_msg_destroy (&reply);
    zc_msg_t request = {.type = ZC_MSG_STATUS, .status = {.crawl = "nope"}};
    reply = s_call (ctx, &request);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    zc_msg_destroy (&reply);

    //  Invalid submissions
    zc_msg_t submit = {
        .type = ZC_MSG_SUBMIT,
        .submit = {.seeds = seeds, .seed_count = 0, .output = "", .errors = "", .opts = s_opts ()}};
    reply = s_call (ctx, &submit);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    zc_msg_destroy (&reply);
    const char *bad[] = {"http://127.0.0.1:1/", "ftp://127.0.0.1/"};
    submit.submit.seeds = bad;
    submit.submit.seed_count = 2;
    reply = s_call (ctx, &submit);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    assert_non_null (strstr (reply->error.error, "ftp://"));
    zc_msg_destroy (&reply);
    submit.submit.seed_count = 1;
    submit.submit.output = "/nonexistent-dir/out.jsonl";
    reply = s_call (ctx, &submit);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    zc_msg_destroy (&reply);
    //  Explicit paths: errors derived from the output name
    char output[512], errors_path[512];
    snprintf (output, sizeof output, "%s/mine.jsonl", ctx->dir);
    snprintf (errors_path, sizeof errors_path, "%s/mine.errors.jsonl", ctx->dir);
    submit.submit.output = output;
    reply = s_call (ctx, &submit);
    assert_int_equal (reply->type, ZC_MSG_OK);
    status = s_status (ctx, reply->ok.crawl);
    assert_string_equal (status->status_reply.crawls[0].output, output);
    assert_string_equal (status->status_reply.crawls[0].errors, errors_path);
    zc_msg_destroy (&status);
    zc_msg_destroy (&reply);
    free (crawl);
}

static void
test_decode_errors (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    zc_msg_t *status = s_status (ctx, "");
    assert_int_equal (status->status_reply.decode_errors, 0);
    zc_msg_destroy (&status);

    //  Control: garbage gets an ERROR reply
    assert_int_equal (zstr_send (ctx->control, "garbage"), 0);
    zc_msg_t *reply = s_recv (ctx, ctx->control, WAIT_MS);
    assert_non_null (reply);
    assert_int_equal (reply->type, ZC_MSG_ERROR);
    zc_msg_destroy (&reply);
    //  Jobs and results: silently counted
    assert_int_equal (zstr_send (ctx->fetcher, "\x81\xa1v\x01"), 0);
    assert_int_equal (zstr_send (ctx->results, "\xc1"), 0);
    //  A valid message of the wrong kind on results
    zc_msg_t ready = {.type = ZC_MSG_READY, .ready = {.credit = 1}};
    s_send (ctx->results, &ready);

    int64_t deadline = zc_now_ms () + WAIT_MS;
    uint64_t seen = 0;
    while (seen < 4 && zc_now_ms () < deadline) {
        status = s_status (ctx, "");
        seen = status->status_reply.decode_errors;
        zc_msg_destroy (&status);
        if (seen < 4)
            s_recv (ctx, ctx->parser, 10);
    }
    assert_int_equal (seen, 4);
    //  The nodes' own reports are added
    zc_msg_t beat = {.type = ZC_MSG_HEARTBEAT,
                     .heartbeat = {.epoch = ctx->epoch, .node = "p", .decode_errors = 10}};
    s_send (ctx->parser, &beat);
    ctx->parser_alive = false; //  keep its last report at 10 for a moment
    deadline = zc_now_ms () + WAIT_MS;
    while (seen != 14 && zc_now_ms () < deadline) {
        status = s_status (ctx, "");
        seen = status->status_reply.decode_errors;
        zc_msg_destroy (&status);
    }
    assert_int_equal (seen, 14);
    ctx->parser_alive = true;
}

//  Waits for the broker's HEARTBEAT of epoch 0 on SOCK ("I do not know
//  you"), skipping anything queued before it.
static void
s_expect_unknown (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    int64_t deadline = zc_now_ms () + WAIT_MS;
    bool unknown = false;
    while (!unknown && zc_now_ms () < deadline) {
        if (!zpoller_wait (poller, 10))
            continue;
        zmsg_t *zmsg = zmsg_recv (sock);
        zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
        assert_non_null (msg);
        unknown = msg->type == ZC_MSG_HEARTBEAT && msg->heartbeat.epoch == 0;
        zc_msg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    assert_true (unknown);
}

//  A message from an unregistered peer is answered with a HEARTBEAT of
//  epoch 0 ("I do not know you"), so the peer registers again.
static void
test_unknown_peer (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    zsock_t *stranger = zsock_new (ZMQ_DEALER);
    assert_int_equal (zsock_connect (stranger, "%s", ctx->jobs_ep), 0);
    s_ready (ctx, stranger, 5);
    s_expect_unknown (stranger);
    zsock_destroy (&stranger);
}

//  A fetcher that stops heartbeating is removed and its jobs go to another.
static void
test_fetcher_death (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    ctx->fetcher2 = s_node_connect (ctx, "fetcher-2", "fetcher", "");
    s_expect_parsers (ctx, ctx->fetcher2, 1);
    const char *seeds[] = {"http://127.0.0.1:1/"};
    char *crawl = s_submit (ctx, seeds, 1, s_opts ());
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *lost = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (lost->jobs.job_count, 1);

    ctx->fetcher_alive = false;
    s_ready (ctx, ctx->fetcher2, 1);
    zc_msg_t *again = s_expect (ctx, ctx->fetcher2, ZC_MSG_JOBS);
    assert_int_equal (again->jobs.job_count, 1);
    assert_string_equal (again->jobs.jobs[0].url, "http://127.0.0.1:1/");
    assert_true (again->jobs.jobs[0].id != lost->jobs.jobs[0].id);
    zc_msg_t *status = s_status (ctx, "");
    assert_int_equal (status->status_reply.node_count, 2);
    zc_msg_destroy (&status);

    //  The dead fetcher's outcome is late, the new one counts once
    s_result (ctx, &lost->jobs.jobs[0], 200, NULL, 0);
    s_result (ctx, &again->jobs.jobs[0], 200, NULL, 0);
    status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 1);
    zc_msg_destroy (&status);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 1);
    json_decref (items);

    //  The dead fetcher, still believing in the epoch, is told it is
    //  unknown; it registers again with no credit and no jobs
    zc_msg_t beat = {.type = ZC_MSG_HEARTBEAT,
                     .heartbeat = {.epoch = ctx->epoch, .node = "fetcher-1"}};
    s_send (ctx->fetcher, &beat);
    s_expect_unknown (ctx->fetcher);
    zsock_destroy (&ctx->fetcher);
    ctx->fetcher = s_node_connect (ctx, "fetcher-1", "fetcher", "");
    ctx->fetcher_alive = true;
    s_expect_parsers (ctx, ctx->fetcher, 1);
    status = s_status (ctx, "");
    assert_int_equal (status->status_reply.node_count, 3);
    zc_msg_destroy (&status);
    zc_msg_destroy (&lost);
    zc_msg_destroy (&again);
    free (crawl);
}

//  A parser that stops heartbeating leaves the parser set: fetchers hear it.
static void
test_parser_death (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    ctx->parser_alive = false;
    s_expect_parsers (ctx, ctx->fetcher, 0);
    zc_msg_t *status = s_status (ctx, "");
    assert_int_equal (status->status_reply.node_count, 1);
    assert_string_equal (status->status_reply.nodes[0].role, "fetcher");
    zc_msg_destroy (&status);
    //  It comes back: registered again, fetchers told
    zsock_destroy (&ctx->parser);
    ctx->parser = s_node_connect (ctx, "parser-1", "parser", PARSER_ENDPOINT);
    ctx->parser_alive = true;
    s_expect_parsers (ctx, ctx->fetcher, 1);
}

//  Host delay: the second URL of a host waits for the delay (dispatch timer).
static void
test_host_delay (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/1", "http://127.0.0.1:1/2"};
    zc_crawl_opts_t opts = s_opts ();
    opts.host_delay_ms = 300;
    char *crawl = s_submit (ctx, seeds, 2, opts);
    int64_t start = zc_now_ms ();
    s_ready (ctx, ctx->fetcher, 2);
    zc_msg_t *first = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (first->jobs.job_count, 1);
    zc_msg_t *second = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (second->jobs.job_count, 1);
    assert_true (zc_now_ms () - start >= 290);
    assert_string_equal (second->jobs.jobs[0].url, "http://127.0.0.1:1/2");
    zc_msg_destroy (&first);
    zc_msg_destroy (&second);
    free (crawl);
}

//  A host with a delay has all its jobs sent to one fetcher while that one
//  has room (its own spacing then holds between all of them), and each
//  page job carries the gap; a host without a delay goes anywhere.
static void
test_polite_host_pinned (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    ctx->fetcher2 = s_node_connect (ctx, "fetcher-2", "fetcher", "");
    s_expect_parsers (ctx, ctx->fetcher2, 1);
    const char *seeds[] = {"http://127.0.0.1:1/1", "http://127.0.0.1:1/2", "http://127.0.0.1:1/3"};
    zc_crawl_opts_t opts = s_opts ();
    opts.host_delay_ms = 100;
    char *crawl = s_submit (ctx, seeds, 3, opts);
    s_ready (ctx, ctx->fetcher, 4);
    s_ready (ctx, ctx->fetcher2, 4);
    size_t got[2] = {0, 0};
    int64_t deadline = zc_now_ms () + WAIT_MS;
    while (got[0] + got[1] < 3 && zc_now_ms () < deadline) {
        zsock_t *socks[2] = {ctx->fetcher, ctx->fetcher2};
        for (int i = 0; i < 2; i++) {
            zc_msg_t *msg = s_recv (ctx, socks[i], 20);
            if (!msg)
                continue;
            assert_int_equal (msg->type, ZC_MSG_JOBS);
            for (size_t j = 0; j < msg->jobs.job_count; j++)
                assert_true (msg->jobs.jobs[j].spacing_ms >= 100);
            got[i] += msg->jobs.job_count;
            zc_msg_destroy (&msg);
        }
    }
    assert_int_equal (got[0] + got[1], 3);
    assert_true (got[0] == 3 || got[1] == 3);
    free (crawl);
}

//  --------------------------------------------------------------------------
//  Politeness, robots.txt, retries, redirects

static void
s_robots_reply (zsock_t *fetcher, const zc_job_t *job, uint32_t status, const char *body)
{
    zc_msg_t robots = {.type = ZC_MSG_ROBOTS,
                       .robots = {.crawl = job->crawl,
                                  .id = job->id,
                                  .url = job->url,
                                  .status = status,
                                  .reason = status ? "" : "connect",
                                  .body = body,
                                  .body_size = body ? strlen (body) : 0,
                                  .fetched_at_ms = (uint64_t)zc_now_ms ()}};
    s_send (fetcher, &robots);
}

static zc_crawl_opts_t
s_polite_opts (void)
{
    zc_crawl_opts_t opts = s_opts ();
    opts.impolite = true; //  no delay unless a test sets one
    opts.ignore_robots = false;
    return opts;
}

//  Expects one JOBS message with exactly one job of KIND for URL.
static zc_msg_t *
s_expect_job (ctx_t *ctx, zc_job_kind_t kind, const char *url)
{
    zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 1);
    assert_int_equal (jobs->jobs.jobs[0].kind, kind);
    assert_string_equal (jobs->jobs.jobs[0].url, url);
    return jobs;
}

//  Collects page jobs until COUNT have arrived; returns them as a zlistx
//  of zc_msg_t (one job each or more).
static zlistx_t *
s_collect (ctx_t *ctx, size_t count)
{
    zlistx_t *messages = zlistx_new ();
    zlistx_set_destructor (messages, (zlistx_destructor_fn *)zc_msg_destroy);
    size_t got = 0;
    while (got < count) {
        zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
        got += jobs->jobs.job_count;
        zlistx_add_end (messages, jobs);
    }
    assert_int_equal (got, count);
    return messages;
}

//  robots.txt goes first, the host's pages wait for it; disallowed URLs end
//  as errors without being dispatched; page jobs carry the extraction rules
//  but no robots rules (every redirect hop comes back to the broker).
static void
test_robots_first (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/private/x",
                           "http://127.0.0.1:1/b"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.fetch.user_agent = "zcrawl/0.1 (+https://example.invalid/zcrawl-contact)";
    zc_extract_rule_t rules[] = {{.name = "h", .selector = "h1", .attr = "", .regex = ""}};
    opts.rules = rules;
    opts.rule_count = 1;
    char *crawl = s_submit (ctx, seeds, 3, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *robots = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    assert_int_equal (robots->jobs.jobs[0].attempt, 1);
    assert_int_equal (robots->jobs.jobs[0].rule_count, 0);
    //  The pages wait for the outcome
    s_expect_nothing (ctx, ctx->fetcher, 150);
    s_robots_reply (ctx->fetcher, &robots->jobs.jobs[0], 200,
                    "User-agent: other\nDisallow: /\n\nUser-agent: zcrawl\nDisallow: /private\n");
    zlistx_t *pages = s_collect (ctx, 2);
    const char *expected[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};
    size_t n = 0;
    for (zc_msg_t *jobs = (zc_msg_t *)zlistx_first (pages); jobs;
         jobs = (zc_msg_t *)zlistx_next (pages))
        for (size_t i = 0; i < jobs->jobs.job_count; i++, n++) {
            zc_job_t *job = &jobs->jobs.jobs[i];
            assert_string_equal (job->url, expected[n]);
            assert_int_equal (job->kind, ZC_JOB_PAGE);
            assert_int_equal (job->robots_count, 0);
            assert_int_equal (job->rule_count, 1);
            assert_string_equal (job->rules[0].name, "h");
            assert_string_equal (job->rules[0].selector, "h1");
            //  A link into the disallowed path is admitted but never dispatched
            const char *links[] = {"http://127.0.0.1:1/private/y"};
            s_result (ctx, job, 200, links, n == 0 ? 1 : 0);
        }
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 2);
    assert_int_equal (status->status_reply.crawls[0].failed, 2);
    zc_msg_destroy (&status);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 2);
    assert_string_equal (s_str (errors, 0, "url"), "http://127.0.0.1:1/private/x");
    assert_string_equal (s_str (errors, 0, "reason"), "robots");
    assert_string_equal (s_str (errors, 1, "url"), "http://127.0.0.1:1/private/y");
    assert_string_equal (s_str (errors, 1, "reason"), "robots");
    json_decref (errors);
    zlistx_destroy (&pages);
    zc_msg_destroy (&robots);
    free (crawl);
}

//  Each job carries only the resolve entries of its own host (host
//  compared case-insensitively, port as a number), robots.txt jobs too; a
//  host without entries gets none, or its port's wildcard entries.
static const char *s_resolve_entries[] = {
    "a.test:8080:127.0.0.2",           "B.Test:08080:127.0.0.3", "c.test:8080:127.0.0.9",
    "c.test:8081:127.0.0.4,127.0.0.5", "a.test:8080:[::1]",      "*:9000:127.0.0.7",
};

//  Checks that JOB carries exactly the entries its host should have.
static void
s_check_resolve (const zc_job_t *job)
{
    const char *a[] = {s_resolve_entries[0], s_resolve_entries[4]};
    const char *b[] = {s_resolve_entries[1]};
    const char *c[] = {s_resolve_entries[3]};
    const char *e[] = {s_resolve_entries[5]};
    const char **expected = NULL;
    size_t count = 0;
    if (strstr (job->url, "//a.test:8080/"))
        expected = a, count = 2;
    else if (strstr (job->url, "//b.test:8080/"))
        expected = b, count = 1;
    else if (strstr (job->url, "//c.test:8081/"))
        expected = c, count = 1;
    else if (strstr (job->url, "//e.test:9000/"))
        expected = e, count = 1;
    else
        assert_non_null (strstr (job->url, "//d.test:8080/"));
    if (job->opts.resolve_count != count)
        fail_msg ("%s carries %zu resolve entries, expected %zu", job->url, job->opts.resolve_count,
                  count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (job->opts.resolve[i], expected[i]);
}

static void
test_resolve_per_host (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://a.test:8080/", "http://b.test:8080/", "http://c.test:8081/",
                           "http://d.test:8080/", "http://e.test:9000/"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.fetch.resolve = s_resolve_entries;
    opts.fetch.resolve_count = sizeof s_resolve_entries / sizeof s_resolve_entries[0];
    char *crawl = s_submit (ctx, seeds, 5, opts);
    s_ready (ctx, ctx->fetcher, 20);
    //  Five robots.txt jobs, then five pages
    size_t robots = 0, pages = 0;
    while (pages < 5) {
        zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
        for (size_t i = 0; i < jobs->jobs.job_count; i++) {
            const zc_job_t *job = &jobs->jobs.jobs[i];
            s_check_resolve (job);
            if (job->kind == ZC_JOB_ROBOTS) {
                assert_non_null (strstr (job->url, "/robots.txt"));
                robots++;
                s_robots_reply (ctx->fetcher, job, 404, NULL);
            } else {
                pages++;
                s_result (ctx, job, 200, NULL, 0);
            }
        }
        zc_msg_destroy (&jobs);
    }
    assert_int_equal (robots, 5);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 5);
    zc_msg_destroy (&status);
    free (crawl);
}

//  robots.txt 404: everything allowed, rules empty.
static void
test_robots_404 (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/private/x"};
    char *crawl = s_submit (ctx, seeds, 2, s_polite_opts ());
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *robots = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    s_robots_reply (ctx->fetcher, &robots->jobs.jobs[0], 404, "Disallow: /\n");
    zlistx_t *pages = s_collect (ctx, 2);
    for (zc_msg_t *jobs = (zc_msg_t *)zlistx_first (pages); jobs;
         jobs = (zc_msg_t *)zlistx_next (pages))
        for (size_t i = 0; i < jobs->jobs.job_count; i++) {
            assert_int_equal (jobs->jobs.jobs[i].robots_count, 0);
            s_result (ctx, &jobs->jobs.jobs[i], 200, NULL, 0);
        }
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 2);
    assert_int_equal (status->status_reply.crawls[0].failed, 0);
    zc_msg_destroy (&status);
    zlistx_destroy (&pages);
    zc_msg_destroy (&robots);
    free (crawl);
}

//  robots.txt 503 then unreachable: retried with back-off up to
//  max_attempts, then the host's URLs end as robots errors and the crawl
//  finishes. Another host is not held up meanwhile.
static void
test_robots_unavailable (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.max_attempts = 2;
    opts.retry_base_ms = 100;
    char *crawl = s_submit (ctx, seeds, 2, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *first = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    int64_t failed_at = zc_now_ms ();
    s_robots_reply (ctx->fetcher, &first->jobs.jobs[0], 503, "");
    zc_msg_t *second = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    assert_true (zc_now_ms () - failed_at >= 50); //  100 ms * jitter >= 0.5
    assert_int_equal (second->jobs.jobs[0].attempt, 2);
    s_robots_reply (ctx->fetcher, &second->jobs.jobs[0], 0, NULL);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 0);
    assert_int_equal (status->status_reply.crawls[0].failed, 2);
    zc_msg_destroy (&status);
    s_expect_nothing (ctx, ctx->fetcher, 50);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal (s_str (errors, i, "reason"), "robots");
        assert_non_null (strstr (s_str (errors, i, "detail"), "robots.txt unavailable"));
    }
    json_decref (errors);
    zc_msg_destroy (&first);
    zc_msg_destroy (&second);
    free (crawl);
}

//  Crawl-delay (capped) spaces the request starts to the host.
static void
test_crawl_delay (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/1", "http://127.0.0.1:1/2", "http://127.0.0.1:1/3"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.impolite = false;
    opts.host_delay_ms = 20;
    opts.host_concurrency = 4;
    opts.crawl_delay_cap_ms = 120; //  Crawl-delay: 5 is capped to 120 ms
    char *crawl = s_submit (ctx, seeds, 3, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *robots = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    int64_t robots_at = zc_now_ms ();
    s_robots_reply (ctx->fetcher, &robots->jobs.jobs[0], 200, "User-agent: *\nCrawl-delay: 5\n");
    int64_t last = robots_at;
    for (int i = 1; i <= 3; i++) {
        char url[64];
        snprintf (url, sizeof url, "http://127.0.0.1:1/%d", i);
        zc_msg_t *jobs = s_expect_job (ctx, ZC_JOB_PAGE, url);
        int64_t now = zc_now_ms ();
        //  Gaps between request starts >= the delay (a few ms of slack for
        //  the time a message takes to reach us)
        if (now - last < 110)
            fail_msg ("page %d came %d ms after the previous request", i, (int)(now - last));
        last = now;
        s_result (ctx, &jobs->jobs.jobs[0], 200, NULL, 0);
        zc_msg_destroy (&jobs);
    }
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    zc_msg_destroy (&status);
    zc_msg_destroy (&robots);
    free (crawl);
}

//  Retryable failures are retried with attempt + 1 after the back-off; the
//  final failure is one error line with attempts = max_attempts.
static void
test_retries (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/r", "http://127.0.0.1:1/gone"};
    zc_crawl_opts_t opts = s_opts ();
    opts.max_attempts = 3;
    opts.retry_base_ms = 100;
    char *crawl = s_submit (ctx, seeds, 2, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (jobs->jobs.job_count, 2);
    //  A 404 is final at once
    s_failed (ctx->fetcher, &jobs->jobs.jobs[1], "http", 404, "");
    const char *reasons[] = {"timeout", "http", "connect"};
    uint32_t statuses[] = {0, 503, 0};
    int64_t min_gap[] = {50, 100}; //  base * 2^(attempt-1) * jitter >= 0.5
    zc_msg_t *current = jobs;
    zc_job_t *job = &jobs->jobs.jobs[0];
    for (uint32_t attempt = 1; attempt <= 3; attempt++) {
        assert_string_equal (job->url, "http://127.0.0.1:1/r");
        assert_int_equal (job->attempt, attempt);
        int64_t failed_at = zc_now_ms ();
        s_failed (ctx->fetcher, job, reasons[attempt - 1], statuses[attempt - 1], "");
        if (attempt < 3) {
            zc_msg_t *next = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/r");
            assert_true (zc_now_ms () - failed_at >= min_gap[attempt - 1]);
            zc_msg_destroy (&current);
            current = next;
            job = &current->jobs.jobs[0];
        }
    }
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].failed, 2);
    zc_msg_destroy (&status);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 2);
    assert_string_equal (s_str (errors, 0, "url"), "http://127.0.0.1:1/gone");
    assert_int_equal (s_int (errors, 0, "attempts"), 1);
    assert_string_equal (s_str (errors, 1, "url"), "http://127.0.0.1:1/r");
    assert_string_equal (s_str (errors, 1, "reason"), "connect");
    assert_int_equal (s_int (errors, 1, "attempts"), 3);
    json_decref (errors);
    zc_msg_destroy (&current);
    free (crawl);
}

//  429 with Retry-After: neither the URL nor anything else of that host is
//  requested before it; a RESULT with status 503 is retried too.
static void
test_retry_after (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};
    zc_crawl_opts_t opts = s_opts ();
    opts.host_concurrency = 1;
    opts.retry_base_ms = 10;
    char *crawl = s_submit (ctx, seeds, 2, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *a = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/a");
    int64_t failed_at = zc_now_ms ();
    zc_msg_t failed = {.type = ZC_MSG_FETCH_FAILED,
                       .fetch_failed = {.crawl = crawl,
                                        .id = a->jobs.jobs[0].id,
                                        .url = a->jobs.jobs[0].url,
                                        .attempt = 1,
                                        .reason = "http",
                                        .detail = "HTTP 429",
                                        .status = 429,
                                        .location = "",
                                        .fetched_at_ms = (uint64_t)failed_at,
                                        .retry_after_ms = 400}};
    s_send (ctx->fetcher, &failed);
    zc_msg_t *next = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_true (zc_now_ms () - failed_at >= 390);
    //  The retry goes first (it waited longest)
    assert_string_equal (next->jobs.jobs[0].url, "http://127.0.0.1:1/a");
    assert_int_equal (next->jobs.jobs[0].attempt, 2);
    //  A 503 RESULT (a parser passing it on) is retried as well
    s_result (ctx, &next->jobs.jobs[0], 503, NULL, 0);
    //  One in flight at a time (host_concurrency 1): answer each
    bool retried = false;
    for (int i = 0; i < 2; i++) {
        zc_msg_t *jobs = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
        assert_int_equal (jobs->jobs.job_count, 1);
        zc_job_t *job = &jobs->jobs.jobs[0];
        if (streq (job->url, "http://127.0.0.1:1/a")) {
            assert_int_equal (job->attempt, 3);
            retried = true;
        }
        s_result (ctx, job, 200, NULL, 0);
        zc_msg_destroy (&jobs);
    }
    assert_true (retried);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 2);
    assert_int_equal (status->status_reply.crawls[0].failed, 0);
    zc_msg_destroy (&status);
    zc_msg_destroy (&next);
    zc_msg_destroy (&a);
    free (crawl);
}

//  The job of URL in JOBS (a JOBS message), failing if absent.
static zc_job_t *
s_find_job (zc_msg_t *jobs, const char *url)
{
    for (size_t i = 0; i < jobs->jobs.job_count; i++)
        if (streq (jobs->jobs.jobs[i].url, url))
            return &jobs->jobs.jobs[i];
    fail_msg ("no job for %s", url);
    return NULL;
}

//  Index of the line of ARRAY whose "url" is URL, failing if absent.
static size_t
s_find_line (json_t *array, const char *url)
{
    for (size_t i = 0; i < json_array_size (array); i++)
        if (streq (s_str (array, i, "url"), url))
            return i;
    fail_msg ("no line for %s", url);
    return 0;
}

//  Sends FETCH_FAILED "redirect"/"redirect_limit" for JOB to LOCATION after
//  REDIRECTS hops.
static void
s_redirected (ctx_t *ctx, const zc_job_t *job, const char *reason, const char *location,
              uint32_t redirects)
{
    zc_msg_t failed = {.type = ZC_MSG_FETCH_FAILED,
                       .fetch_failed = {.crawl = job->crawl,
                                        .id = job->id,
                                        .url = job->url,
                                        .attempt = job->attempt,
                                        .reason = reason,
                                        .detail = "redirected",
                                        .status = 301,
                                        .location = location,
                                        .fetched_at_ms = (uint64_t)zc_now_ms (),
                                        .redirects = redirects}};
    s_send (ctx->fetcher, &failed);
}

//  Redirects through the broker: every hop is a continuation job carrying
//  the origin and the hop count; it does not use up max_pages; a loop back
//  to the origin is redirect_limit, a target already seen ends the chain as
//  redirect; retries of a continuation keep its origin; the chain's one
//  outcome is written under the origin (an item with final_url).
static void
test_redirect_rules (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *r = "http://127.0.0.1:1/r", *s = "http://127.0.0.1:2/s",
               *l = "http://127.0.0.1:1/l", *w = "http://127.0.0.1:2/w";
    const char *seeds[] = {r, s, l, w};
    zc_crawl_opts_t opts = s_opts ();
    opts.fetch.max_redirects = 3;
    opts.max_pages = 4; //  the seeds use it up
    opts.retry_base_ms = 20;
    char *crawl = s_submit (ctx, seeds, 4, opts);
    s_ready (ctx, ctx->fetcher, 20);
    zlistx_t *first = s_collect (ctx, 4);
    zc_msg_t *batch = (zc_msg_t *)zlistx_first (first);
    assert_int_equal (batch->jobs.job_count, 4);

    //  l -> r: r is a seed (seen), the chain ends as "redirect"
    s_redirected (ctx, s_find_job (batch, l), "redirect", r, 1);
    //  r -> t on the other host, 2 hops so far: a continuation, although
    //  max_pages is used up
    s_redirected (ctx, s_find_job (batch, r), "redirect", "http://127.0.0.1:2/t", 2);
    zc_msg_t *t = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:2/t");
    assert_string_equal (t->jobs.jobs[0].origin, r);
    assert_int_equal (t->jobs.jobs[0].redirects, 2);
    assert_int_equal (t->jobs.jobs[0].depth, 0);
    assert_int_equal (t->jobs.jobs[0].attempt, 1);
    //  t answers: the item is r's, fetched from t; its links are not
    //  admitted (max_pages)
    const char *links[] = {"http://127.0.0.1:1/new"};
    s_result (ctx, &t->jobs.jobs[0], 200, links, 1);
    //  s -> s2 -> s: a loop back to the origin
    s_redirected (ctx, s_find_job (batch, s), "redirect", "http://127.0.0.1:2/s2", 1);
    zc_msg_t *s2 = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:2/s2");
    assert_string_equal (s2->jobs.jobs[0].origin, s);
    s_redirected (ctx, &s2->jobs.jobs[0], "redirect", s, 2);
    //  w -> w2, which times out, is retried with its origin, then is over
    //  the limit
    s_redirected (ctx, s_find_job (batch, w), "redirect", "http://127.0.0.1:2/w2", 1);
    zc_msg_t *w2 = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:2/w2");
    assert_string_equal (w2->jobs.jobs[0].origin, w);
    s_failed (ctx->fetcher, &w2->jobs.jobs[0], "timeout", 0, "http://127.0.0.1:2/w2");
    zc_msg_t *retry = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:2/w2");
    assert_string_equal (retry->jobs.jobs[0].origin, w);
    assert_int_equal (retry->jobs.jobs[0].attempt, 2);
    assert_int_equal (retry->jobs.jobs[0].redirects, 1);
    s_redirected (ctx, &retry->jobs.jobs[0], "redirect_limit", "http://127.0.0.1:2/w3", 4);

    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 1);
    assert_int_equal (status->status_reply.crawls[0].failed, 3);
    zc_msg_destroy (&status);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 3);
    size_t i = s_find_line (errors, l);
    assert_string_equal (s_str (errors, i, "reason"), "redirect");
    assert_string_equal (s_str (errors, i, "location"), r);
    i = s_find_line (errors, s);
    assert_string_equal (s_str (errors, i, "reason"), "redirect_limit");
    assert_string_equal (s_str (errors, i, "detail"), "redirect loop");
    assert_string_equal (s_str (errors, i, "location"), s);
    i = s_find_line (errors, w);
    assert_string_equal (s_str (errors, i, "reason"), "redirect_limit");
    assert_string_equal (s_str (errors, i, "location"), "http://127.0.0.1:2/w3");
    assert_int_equal (s_int (errors, i, "attempts"), 2);
    json_decref (errors);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (s_str (items, 0, "url"), r);
    assert_string_equal (s_str (items, 0, "final_url"), "http://127.0.0.1:2/t");
    assert_int_equal (s_int (items, 0, "redirects"), 2);
    json_decref (items);
    zc_msg_destroy (&retry);
    zc_msg_destroy (&w2);
    zc_msg_destroy (&s2);
    zc_msg_destroy (&t);
    zlistx_destroy (&first);
    free (crawl);
}

//  A hop to a host waits for that host's delay like any request start.
static void
test_redirect_host_delay (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a"};
    zc_crawl_opts_t opts = s_opts ();
    opts.host_delay_ms = 300;
    char *crawl = s_submit (ctx, seeds, 1, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *a = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/a");
    int64_t start = zc_now_ms ();
    s_redirected (ctx, &a->jobs.jobs[0], "redirect", "http://127.0.0.1:1/b", 1);
    zc_msg_t *b = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/b");
    int64_t gap = zc_now_ms () - start;
    if (gap < 290)
        fail_msg ("the hop was dispatched %d ms after the first request", (int)gap);
    assert_string_equal (b->jobs.jobs[0].origin, "http://127.0.0.1:1/a");
    assert_int_equal (b->jobs.jobs[0].redirects, 1);
    s_result (ctx, &b->jobs.jobs[0], 200, NULL, 0);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    zc_msg_destroy (&status);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (s_str (items, 0, "url"), "http://127.0.0.1:1/a");
    assert_string_equal (s_str (items, 0, "final_url"), "http://127.0.0.1:1/b");
    json_decref (items);
    zc_msg_destroy (&b);
    zc_msg_destroy (&a);
    free (crawl);
}

//  A hop is checked against its target host's robots.txt at dispatch: a
//  disallowed target ends the chain as "robots" under the origin.
static void
test_redirect_robots (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/a"};
    const char *hosts[] = {"127.0.0.1:1", "127.0.0.1:2"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.allowed_hosts = hosts;
    opts.allowed_host_count = 2;
    char *crawl = s_submit (ctx, seeds, 1, opts);
    s_ready (ctx, ctx->fetcher, 10);
    zc_msg_t *robots1 = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    s_robots_reply (ctx->fetcher, &robots1->jobs.jobs[0], 404, NULL);
    zc_msg_t *a = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/a");
    s_redirected (ctx, &a->jobs.jobs[0], "redirect", "http://127.0.0.1:2/private/x", 1);
    zc_msg_t *robots2 = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:2/robots.txt");
    s_robots_reply (ctx->fetcher, &robots2->jobs.jobs[0], 200,
                    "User-agent: *\nDisallow: /private\n");
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 0);
    assert_int_equal (status->status_reply.crawls[0].failed, 1);
    zc_msg_destroy (&status);
    s_expect_nothing (ctx, ctx->fetcher, 50); //  the target was never dispatched
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 1);
    assert_string_equal (s_str (errors, 0, "url"), "http://127.0.0.1:1/a");
    assert_string_equal (s_str (errors, 0, "reason"), "robots");
    assert_string_equal (s_str (errors, 0, "location"), "http://127.0.0.1:2/private/x");
    json_decref (errors);
    zc_msg_destroy (&robots2);
    zc_msg_destroy (&a);
    zc_msg_destroy (&robots1);
    free (crawl);
}

//  Polite defaults: robots.txt first, then two in flight per host at most,
//  a second apart. Impolite: no delay, up to 64 in flight.
//  Leases: a job whose outcome never comes is re-queued at its deadline
//  (connect_timeout + timeout + 5 heartbeats) and dispatched again with the
//  same attempt, even when no retry is left; the expired job's outcome is
//  late, dropped and written nowhere; the crawl ends with one item.
static void
test_lease_expiry (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/"};
    zc_crawl_opts_t opts = s_opts ();
    opts.fetch.connect_timeout_ms = 150;
    opts.fetch.timeout_ms = 150;
    opts.max_attempts = 1;
    char *crawl = s_submit (ctx, seeds, 1, opts);
    int64_t before = zc_now_ms ();
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *lost = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_int_equal (lost->jobs.job_count, 1);
    zc_job_t *first = &lost->jobs.jobs[0];
    assert_int_equal (first->attempt, 1);
    assert_true (first->deadline_ms >= (uint64_t)before + 300 + 5 * HEARTBEAT_MS);
    assert_true (first->deadline_ms <= (uint64_t)zc_now_ms () + 300 + 5 * HEARTBEAT_MS);

    //  The fetcher has credit for more, but the job comes back only once
    //  its lease has expired
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *again = s_expect (ctx, ctx->fetcher, ZC_MSG_JOBS);
    assert_true ((uint64_t)zc_now_ms () >= first->deadline_ms);
    assert_int_equal (again->jobs.job_count, 1);
    zc_job_t *second = &again->jobs.jobs[0];
    assert_string_equal (second->url, "http://127.0.0.1:1/");
    assert_true (second->id != first->id);
    assert_int_equal (second->attempt, 1);
    assert_int_equal (second->depth, 0);
    zc_msg_t *status = s_status (ctx, crawl);
    assert_int_equal (status->status_reply.crawls[0].in_flight, 1);
    assert_int_equal (status->status_reply.crawls[0].queued, 0);
    zc_msg_destroy (&status);

    //  The expired job's outcome arrives after the re-dispatch: dropped
    s_result (ctx, first, 200, NULL, 0);
    s_failed (ctx->fetcher, first, "http", 404, "");
    status = s_status (ctx, crawl);
    assert_string_equal (status->status_reply.crawls[0].state, "running");
    assert_int_equal (status->status_reply.crawls[0].in_flight, 1);
    assert_int_equal (status->status_reply.crawls[0].pages, 0);
    zc_msg_destroy (&status);

    //  The re-dispatched job's outcome is the one
    s_result (ctx, second, 200, NULL, 0);
    status = s_wait_state (ctx, crawl, "done");
    zc_crawl_status_t *c = &status->status_reply.crawls[0];
    assert_int_equal (c->pages, 1);
    assert_int_equal (c->failed, 0);
    assert_int_equal (c->in_flight, 0);
    assert_int_equal (c->queued, 0);
    zc_msg_destroy (&status);
    //  And a duplicate of it, late too
    s_result (ctx, second, 200, NULL, 0);
    s_expect_nothing (ctx, ctx->fetcher, 100);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 1);
    assert_string_equal (s_str (items, 0, "url"), "http://127.0.0.1:1/");
    json_decref (items);
    json_t *errors = s_errors (ctx, crawl);
    assert_int_equal (json_array_size (errors), 0);
    json_decref (errors);
    zc_msg_destroy (&lost);
    zc_msg_destroy (&again);
    free (crawl);
}

//  A robots.txt job's lease expires too: dispatched again, same attempt.
static void
test_lease_expiry_robots (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/"};
    zc_crawl_opts_t opts = s_polite_opts ();
    opts.fetch.connect_timeout_ms = 200; //  robots lease 570 ms, page 470 ms
    opts.fetch.timeout_ms = 20;
    char *crawl = s_submit (ctx, seeds, 1, opts);
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *lost = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *again = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    assert_true ((uint64_t)zc_now_ms () >= lost->jobs.jobs[0].deadline_ms);
    assert_true (again->jobs.jobs[0].id != lost->jobs.jobs[0].id);
    assert_int_equal (again->jobs.jobs[0].attempt, lost->jobs.jobs[0].attempt);
    //  The late answer is dropped; the new one lets the page out
    s_robots_reply (ctx->fetcher, &lost->jobs.jobs[0], 200, "User-agent: *\nDisallow: /\n");
    s_robots_reply (ctx->fetcher, &again->jobs.jobs[0], 404, "");
    s_ready (ctx, ctx->fetcher, 1);
    zc_msg_t *page = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/");
    s_result (ctx, &page->jobs.jobs[0], 200, NULL, 0);
    zc_msg_t *status = s_wait_state (ctx, crawl, "done");
    assert_int_equal (status->status_reply.crawls[0].pages, 1);
    assert_int_equal (status->status_reply.crawls[0].in_flight, 0);
    zc_msg_destroy (&status);
    json_t *items = s_items (ctx, crawl);
    assert_int_equal (json_array_size (items), 1);
    json_decref (items);
    zc_msg_destroy (&lost);
    zc_msg_destroy (&again);
    zc_msg_destroy (&page);
    free (crawl);
}

static void
test_defaults (void **state)
{
    ctx_t *ctx = (ctx_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/1", "http://127.0.0.1:1/2", "http://127.0.0.1:1/3"};
    zc_crawl_opts_t opts = s_opts ();
    opts.impolite = false;
    opts.ignore_robots = false;
    char *crawl = s_submit (ctx, seeds, 3, opts);
    s_ready (ctx, ctx->fetcher, 100);
    zc_msg_t *robots = s_expect_job (ctx, ZC_JOB_ROBOTS, "http://127.0.0.1:1/robots.txt");
    int64_t robots_at = zc_now_ms ();
    s_robots_reply (ctx->fetcher, &robots->jobs.jobs[0], 404, NULL);
    s_expect_nothing (ctx, ctx->fetcher, 700);
    zc_msg_t *first = s_expect_job (ctx, ZC_JOB_PAGE, "http://127.0.0.1:1/1");
    assert_true (zc_now_ms () - robots_at >= 990);
    zc_msg_t stop = {.type = ZC_MSG_STOP, .stop = {.crawl = crawl}};
    zc_msg_t *reply = s_call (ctx, &stop);
    zc_msg_destroy (&reply);
    zc_msg_destroy (&first);
    zc_msg_destroy (&robots);
    free (crawl);

    const char *many[70];
    char urls[70][64];
    for (int i = 0; i < 70; i++) {
        snprintf (urls[i], sizeof urls[i], "http://127.0.0.1:3/%d", i);
        many[i] = urls[i];
    }
    opts = s_opts (); //  impolite, robots ignored
    crawl = s_submit (ctx, many, 70, opts);
    s_ready (ctx, ctx->fetcher, 100);
    zlistx_t *batch = s_collect (ctx, 64);
    s_expect_nothing (ctx, ctx->fetcher, 100);
    zlistx_destroy (&batch);
    free (crawl);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_crawl, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirects, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_credit_and_host_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_stop_and_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_decode_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fetcher_death, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_parser_death, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_host_delay, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_polite_host_pinned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_robots_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_robots_404, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resolve_per_host, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_robots_unavailable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crawl_delay, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lease_expiry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lease_expiry_robots, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_after, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirect_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirect_host_delay, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirect_robots, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_defaults, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
