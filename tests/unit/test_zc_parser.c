/*  Tests for the parser node: the test plays the broker (jobs ROUTER +
    results PULL) and a fetcher (PUSH to the node's front), and checks that
    every PAGE yields exactly one RESULT, that pages wait for WELCOME, that
    undecodable front messages show up in the HEARTBEAT counters, that every
    page's job id is ACCEPTed, and the graceful drain (DRAIN -> BYE ->
    DRAINED).
    Also: Content-Type parsing and HTML sniffing (zc_ctype).
*/
#include "zc_ctype.h"
#include "zc_msg.h"
#include "zc_parser.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PAGE_COUNT 50
#define EPOCH 7
#define MAX_ID 1024 //  job ids the fake broker tracks in ACCEPTs

//  ---------------------------------------------------------------------
//  A minimal broker

typedef struct {
    zsock_t *jobs;    //  ROUTER the node's link connects to
    zsock_t *results; //  PULL the parser actors push to
    char *jobs_endpoint;
    char *results_endpoint;
    bool welcome;                //  answer HELLO with WELCOME
    const char *welcome_results; //  results endpoint in WELCOME; NULL = ours
    int hellos;                  //  HELLOs received
    char hello_role[32];
    char hello_endpoint[256];
    uint32_t hello_capacity;
    uint64_t decode_errors; //  from the last node HEARTBEAT
    uint64_t done;
    int heartbeats;
    char node_id[64];          //  from HELLO
    int accept_counts[MAX_ID]; //  ACCEPTs seen per job id
    size_t accepted;           //  job ids in ACCEPTs, total
    int accepts;               //  ACCEPT messages
    int byes;                  //  BYEs received
    int after_bye;             //  messages received after a BYE
    const char *expect_node;   //  the node under test's id: other HELLOs are strays
    zframe_t *node_rid;        //  routing id of its HELLO (owned); others are strays
    int strays;                //  messages from other nodes, ignored
} broker_t;

static void
s_broker_init (broker_t *b)
{
    memset (b, 0, sizeof *b);
    b->jobs = zsock_new (ZMQ_ROUTER);
    b->results = zsock_new (ZMQ_PULL);
    assert_non_null (b->jobs);
    assert_non_null (b->results);
    assert_true (zsock_bind (b->jobs, "tcp://127.0.0.1:*") > 0);
    assert_true (zsock_bind (b->results, "tcp://127.0.0.1:*") > 0);
    b->jobs_endpoint = zsock_last_endpoint (b->jobs);
    b->results_endpoint = zsock_last_endpoint (b->results);
}

static void
s_broker_destroy (broker_t *b)
{
    zsock_destroy (&b->jobs);
    zsock_destroy (&b->results);
    zframe_destroy (&b->node_rid);
    free (b->jobs_endpoint);
    free (b->results_endpoint);
}

static void
s_broker_send_welcome (broker_t *b, zframe_t *id)
{
    zc_msg_t welcome = {
        .type = ZC_MSG_WELCOME,
        .welcome = {.epoch = EPOCH,
                    .results = b->welcome_results ? b->welcome_results : b->results_endpoint,
                    .heartbeat_ms = 100}};
    assert_int_equal (zc_msg_send (&welcome, b->jobs, id), 0);
}

//  Handles one message waiting on the jobs ROUTER.
static void
s_broker_handle_jobs (broker_t *b)
{
    zmsg_t *zmsg = zmsg_recv (b->jobs);
    assert_non_null (zmsg);
    zframe_t *id = zmsg_pop (zmsg);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    //  A node of another process (an e2e test's fetcher or parser node
    //  reconnecting to a port that this test has bound since) is ignored.
    bool hello = msg->type == ZC_MSG_HELLO;
    if ((hello && b->expect_node && strcmp (msg->hello.id, b->expect_node) != 0) ||
        (!hello && b->node_rid && !zframe_eq (id, b->node_rid))) {
        b->strays++;
        zc_msg_destroy (&msg);
        zframe_destroy (&id);
        return;
    }
    if (b->byes > 0)
        b->after_bye++;
    if (hello) {
        zframe_destroy (&b->node_rid);
        b->node_rid = zframe_dup (id);
        b->hellos++;
        snprintf (b->node_id, sizeof b->node_id, "%s", msg->hello.id);
        snprintf (b->hello_role, sizeof b->hello_role, "%s", msg->hello.role);
        snprintf (b->hello_endpoint, sizeof b->hello_endpoint, "%s", msg->hello.endpoint);
        b->hello_capacity = msg->hello.capacity;
        if (b->welcome)
            s_broker_send_welcome (b, id);
    } else if (msg->type == ZC_MSG_HEARTBEAT) {
        b->heartbeats++;
        assert_int_equal (msg->heartbeat.epoch, EPOCH);
        b->decode_errors = msg->heartbeat.decode_errors;
        b->done = msg->heartbeat.done;
        zc_msg_t reply = {.type = ZC_MSG_HEARTBEAT,
                          .heartbeat = {.epoch = EPOCH, .node = "broker"}};
        assert_int_equal (zc_msg_send (&reply, b->jobs, id), 0);
    } else if (msg->type == ZC_MSG_ACCEPT) {
        b->accepts++;
        assert_string_equal (msg->accept.node, b->node_id);
        assert_true (msg->accept.job_count > 0);
        for (size_t i = 0; i < msg->accept.job_count; i++) {
            assert_true (msg->accept.jobs[i] < MAX_ID);
            b->accept_counts[msg->accept.jobs[i]]++;
        }
        b->accepted += msg->accept.job_count;
    } else if (msg->type == ZC_MSG_BYE) {
        b->byes++;
        assert_string_equal (msg->bye.node, b->node_id);
    } else
        fail_msg ("unexpected %s from the parser node", zc_msg_type_str (msg->type));
    zc_msg_destroy (&msg);
    zframe_destroy (&id);
}

//  Serves the jobs socket until CONDITION holds or TIMEOUT_MS passes; up to
//  MAX_RESULTS RESULTs are appended to RESULTS (decoded, owned).
typedef bool (condition_fn) (broker_t *b, size_t result_count, void *arg);

static void
s_broker_run (broker_t *b, int timeout_ms, condition_fn *condition, void *arg, zc_msg_t **results,
              size_t *result_count, size_t max_results)
{
    zpoller_t *poller = zpoller_new (b->jobs, b->results, NULL);
    assert_non_null (poller);
    int64_t deadline = zclock_mono () + timeout_ms;
    size_t count = result_count ? *result_count : 0;
    while (!condition || !condition (b, count, arg)) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        void *which = zpoller_wait (poller, (int)left);
        if (which == b->jobs)
            s_broker_handle_jobs (b);
        else if (which == b->results) {
            zmsg_t *zmsg = zmsg_recv (b->results);
            assert_non_null (zmsg);
            zc_msg_decode_status_t status;
            zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
            assert_non_null (msg);
            assert_int_equal (msg->type, ZC_MSG_RESULT);
            assert_non_null (results);
            assert_true (count < max_results);
            results[count++] = msg;
        }
    }
    if (result_count)
        *result_count = count;
    zpoller_destroy (&poller);
}

static bool
s_until_hello (broker_t *b, size_t result_count, void *arg)
{
    (void)result_count;
    (void)arg;
    return b->hellos > 0;
}

static bool
s_until_results (broker_t *b, size_t result_count, void *arg)
{
    (void)b;
    return result_count >= *(size_t *)arg;
}

static bool
s_until_accepted (broker_t *b, size_t result_count, void *arg)
{
    (void)result_count;
    return b->accepted >= *(size_t *)arg;
}

static bool
s_until_bye (broker_t *b, size_t result_count, void *arg)
{
    (void)result_count;
    (void)arg;
    return b->byes > 0;
}

static bool
s_until_heartbeat (broker_t *b, size_t result_count, void *arg)
{
    (void)result_count;
    (void)arg;
    return b->heartbeats > 0;
}

static bool
s_until_counters (broker_t *b, size_t result_count, void *arg)
{
    (void)result_count;
    const uint64_t *want = (const uint64_t *)arg; //  decode_errors, done
    return b->decode_errors == want[0] && b->done == want[1];
}

//  ---------------------------------------------------------------------
//  Pages

typedef struct {
    char url[128];
    char final_url[128];
    char content_type[64];
    uint32_t status;
    char *body; //  owned
    size_t body_size;
} page_t;

static void
s_page_make (page_t *p, int id)
{
    memset (p, 0, sizeof *p);
    snprintf (p->url, sizeof p->url, "http://site.test/p%d.html", id);
    snprintf (p->final_url, sizeof p->final_url, "%s", p->url);
    snprintf (p->content_type, sizeof p->content_type, "text/html; charset=utf-8");
    p->status = 200;
    p->body = zsys_sprintf ("<!DOCTYPE html><html><head><title> Page %d </title></head><body>"
                            "<a href='/p%d.html'>next</a> <a href=\"q%d.html#x\">q</a>"
                            "<a href='mailto:x@y'>m</a><a href='/p%d.html'>again</a>"
                            "</body></html>",
                            id, id + 1, id, id + 1);
    switch (id) {
    case 10: //  not HTML
        snprintf (p->content_type, sizeof p->content_type, "image/png");
        zstr_free (&p->body);
        p->body = zsys_sprintf ("\x89PNG\r\n\x1a\n<a href='/no'>");
        break;
    case 20: //  garbage body declared as HTML
        zstr_free (&p->body);
        p->body = zsys_sprintf ("\xff\xfe\x01\x02<<<<a href=\"\x80\x81\">\x01\x02");
        break;
    case 30: //  empty body
        p->body[0] = 0;
        break;
    case 40: //  HTTP error page: no links
        p->status = 404;
        break;
    case 41: //  ISO-8859-1 from the header
        snprintf (p->content_type, sizeof p->content_type, "text/html;charset=\"ISO-8859-1\"");
        zstr_free (&p->body);
        p->body = zsys_sprintf ("<title>Caf\xe9</title><a href='/p42.html'>x</a>");
        break;
    case 42: //  no Content-Type: sniffed as HTML
        p->content_type[0] = 0;
        zstr_free (&p->body);
        p->body = zsys_sprintf ("\n<!DOCTYPE html><title>Sniffed</title><a href=/s>s</a>");
        break;
    case 43: //  redirected: links resolve against the final URL
        snprintf (p->final_url, sizeof p->final_url, "http://site.test/moved/p43.html");
        break;
    case 44: //  XHTML
        snprintf (p->content_type, sizeof p->content_type, "Application/XHTML+XML");
        break;
    default:
        break;
    }
    p->body_size = strlen (p->body);
}

static void
s_page_send (zsock_t *push, int id)
{
    page_t p;
    s_page_make (&p, id);
    zc_msg_t msg = {.type = ZC_MSG_PAGE,
                    .page = {.meta = {.crawl = "crawl-1",
                                      .id = (uint64_t)id,
                                      .url = p.url,
                                      .final_url = p.final_url,
                                      .depth = 2,
                                      .attempt = 1,
                                      .status = p.status,
                                      .content_type = p.content_type,
                                      .fetched_at_ms = 1700000000000ULL + (uint64_t)id,
                                      .redirects = id == 43 ? 1 : 0,
                                      .timings = {.total_ms = 30, .connect_ms = 1, .ttfb_ms = 9}},
                             .body = p.body,
                             .body_size = p.body_size}};
    assert_int_equal (zc_msg_send (&msg, push, NULL), 0);
    zstr_free (&p.body);
}

static void
s_check_result (const zc_result_t *r)
{
    int id = (int)r->meta.id;
    page_t p;
    s_page_make (&p, id);
    assert_string_equal (r->meta.crawl, "crawl-1");
    assert_string_equal (r->meta.url, p.url);
    assert_string_equal (r->meta.final_url, p.final_url);
    assert_string_equal (r->meta.content_type, p.content_type);
    assert_int_equal (r->meta.status, p.status);
    assert_int_equal (r->meta.depth, 2);
    assert_int_equal (r->meta.fetched_at_ms, 1700000000000ULL + (uint64_t)id);
    assert_int_equal (r->meta.timings.ttfb_ms, 9);
    assert_int_equal (r->body_bytes, p.body_size);
    assert_null (r->parse_error);
    zstr_free (&p.body);

    char title[32], next[64], q[64];
    snprintf (title, sizeof title, "Page %d", id);
    snprintf (next, sizeof next, "http://site.test/p%d.html", id + 1);
    snprintf (q, sizeof q, "http://site.test/q%d.html", id);
    switch (id) {
    case 10:
    case 30:
    case 40:
        assert_null (r->title);
        assert_int_equal (r->link_count, 0);
        break;
    case 20:
        for (size_t i = 0; i < r->link_count; i++)
            assert_true (strncmp (r->links[i], "http://site.test/", 17) == 0);
        break;
    case 41:
        assert_string_equal (r->title, "Caf\xc3\xa9");
        assert_string_equal (r->charset, "windows-1252");
        assert_int_equal (r->link_count, 1);
        assert_string_equal (r->links[0], "http://site.test/p42.html");
        break;
    case 42:
        assert_string_equal (r->title, "Sniffed");
        assert_int_equal (r->link_count, 1);
        assert_string_equal (r->links[0], "http://site.test/s");
        break;
    case 43:
        assert_string_equal (r->title, title);
        assert_int_equal (r->link_count, 2);
        assert_string_equal (r->links[0], next);
        assert_string_equal (r->links[1], "http://site.test/moved/q43.html");
        break;
    default:
        assert_string_equal (r->title, title);
        assert_int_equal (r->link_count, 2);
        assert_string_equal (r->links[0], next);
        assert_string_equal (r->links[1], q);
        assert_string_equal (r->charset, "utf-8");
        assert_string_equal (r->canonical, "");
        assert_false (r->noindex);
        assert_false (r->nofollow);
        assert_int_equal (r->field_count, 0);
        break;
    }
}

//  ---------------------------------------------------------------------
//  Tests

static zactor_t *
s_node_start (const zc_parser_config_t *config, int *rc, char **front)
{
    zactor_t *node = zactor_new (zc_parser_node_actor, (void *)config);
    assert_non_null (node);
    assert_int_equal (zstr_send (node, "START"), 0);
    assert_int_equal (zsock_recv (node, "is", rc, front), 0);
    return node;
}

static void
test_node_pages (void **state)
{
    (void)state;
    broker_t b;
    s_broker_init (&b);
    zc_parser_config_t config = {.broker_endpoint = b.jobs_endpoint,
                                 .front_endpoint = "tcp://127.0.0.1:*",
                                 .actors = 2,
                                 .node_id = "parser-test"};
    b.expect_node = config.node_id;
    int rc;
    char *front;
    zactor_t *node = s_node_start (&config, &rc, &front);
    assert_int_equal (rc, 0);
    assert_true (strncmp (front, "tcp://127.0.0.1:", 16) == 0);

    //  HELLO, but no WELCOME yet
    s_broker_run (&b, 5000, s_until_hello, NULL, NULL, NULL, 0);
    assert_true (b.hellos > 0);
    assert_string_equal (b.hello_role, "parser");
    assert_string_equal (b.hello_endpoint, front);
    assert_int_equal (b.hello_capacity, 2);

    zsock_t *fetcher = zsock_new (ZMQ_PUSH);
    assert_non_null (fetcher);
    assert_int_equal (zsock_connect (fetcher, "%s", front), 0);

    //  Pages sent before WELCOME wait in the front.
    for (int id = 1; id <= 10; id++)
        s_page_send (fetcher, id);
    zc_msg_t *results[PAGE_COUNT + 8] = {0};
    size_t count = 0;
    s_broker_run (&b, 300, NULL, NULL, results, &count, PAGE_COUNT);
    assert_int_equal (count, 0);

    //  WELCOME: the actors connect to the results socket; everything flows.
    b.welcome = true;
    for (int id = 11; id <= PAGE_COUNT; id++)
        s_page_send (fetcher, id);
    //  The node's next HELLO retry (every second) gets our WELCOME.
    size_t want = PAGE_COUNT;
    s_broker_run (&b, 10000, s_until_results, &want, results, &count, PAGE_COUNT);
    assert_int_equal (count, PAGE_COUNT);

    //  Exactly one RESULT per page, right content.
    bool seen[PAGE_COUNT + 1] = {false};
    for (size_t i = 0; i < count; i++) {
        uint64_t id = results[i]->result.meta.id;
        assert_true (id >= 1 && id <= PAGE_COUNT);
        assert_false (seen[id]);
        seen[id] = true;
        s_check_result (&results[i]->result);
        zc_msg_destroy (&results[i]);
    }

    //  Every page's job id was ACCEPTed once (the pages sent before WELCOME
    //  too: they waited in the front until the node registered).
    size_t want_accepted = PAGE_COUNT;
    s_broker_run (&b, 5000, s_until_accepted, &want_accepted, NULL, NULL, 0);
    assert_int_equal (b.accepted, PAGE_COUNT);
    for (int id = 1; id <= PAGE_COUNT; id++)
        assert_int_equal (b.accept_counts[id], 1);
    assert_true (b.accepts >= 1 && b.accepts <= PAGE_COUNT);

    //  Counters reach the broker: 50 done, no decode errors.
    uint64_t counters[2] = {0, PAGE_COUNT};
    s_broker_run (&b, 5000, s_until_counters, counters, NULL, NULL, 0);
    assert_int_equal (b.done, PAGE_COUNT);
    assert_int_equal (b.decode_errors, 0);

    //  Undecodable front messages: bad msgpack, wrong frame count, a valid
    //  message that is not a PAGE. Counted, no RESULT.
    assert_int_equal (zstr_send (fetcher, "\xc1garbage"), 0);
    assert_int_equal (zstr_sendx (fetcher, "a", "b", "c", NULL), 0);
    zc_msg_t ready = {.type = ZC_MSG_READY, .ready = {.credit = 5}};
    assert_int_equal (zc_msg_send (&ready, fetcher, NULL), 0);
    //  A page after the garbage still parses.
    s_page_send (fetcher, PAGE_COUNT + 1);
    uint64_t after[2] = {3, PAGE_COUNT + 1};
    s_broker_run (&b, 5000, s_until_counters, after, results, &count, PAGE_COUNT + 8);
    assert_int_equal (b.decode_errors, 3);
    assert_int_equal (b.done, PAGE_COUNT + 1);
    assert_int_equal (count, PAGE_COUNT + 1);
    assert_int_equal (results[PAGE_COUNT]->result.meta.id, PAGE_COUNT + 1);
    zc_msg_destroy (&results[PAGE_COUNT]);
    //  Nothing else arrives.
    s_broker_run (&b, 200, NULL, NULL, results, &count, PAGE_COUNT + 8);
    assert_int_equal (count, PAGE_COUNT + 1);
    //  Only the one page among the garbage was ACCEPTed.
    assert_int_equal (b.accepted, PAGE_COUNT + 1);
    assert_int_equal (b.accept_counts[PAGE_COUNT + 1], 1);
    assert_int_equal (b.byes, 0);

    zactor_destroy (&node);
    zsock_destroy (&fetcher);
    zstr_free (&front);
    s_broker_destroy (&b);
}

//  Sends a PAGE with BODY (text/html, CHARSET) and extraction RULES.
static void
s_rules_page_send (zsock_t *push, int id, const char *body, const char *content_type,
                   zc_extract_rule_t *rules, size_t rule_count)
{
    char url[64];
    snprintf (url, sizeof url, "http://shop.test/r%d.html", id);
    zc_msg_t msg = {.type = ZC_MSG_PAGE,
                    .page = {.meta = {.crawl = "crawl-2",
                                      .id = (uint64_t)id,
                                      .url = url,
                                      .final_url = url,
                                      .status = 200,
                                      .content_type = content_type},
                             .rules = rules,
                             .rule_count = rule_count,
                             .body = body,
                             .body_size = strlen (body)}};
    assert_int_equal (zc_msg_send (&msg, push, NULL), 0);
}

static const zc_field_t *
s_result_field (const zc_result_t *r, const char *name)
{
    for (size_t i = 0; i < r->field_count; i++)
        if (streq (r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

static void
test_node_rules (void **state)
{
    (void)state;
    broker_t b;
    s_broker_init (&b);
    b.welcome = true;
    zc_parser_config_t config = {.broker_endpoint = b.jobs_endpoint,
                                 .front_endpoint = "tcp://127.0.0.1:*",
                                 .actors = 2,
                                 .node_id = "parser-rules"};
    b.expect_node = config.node_id;
    int rc;
    char *front;
    zactor_t *node = s_node_start (&config, &rc, &front);
    assert_int_equal (rc, 0);
    zsock_t *fetcher = zsock_new (ZMQ_PUSH);
    assert_non_null (fetcher);
    assert_int_equal (zsock_connect (fetcher, "%s", front), 0);

    zc_extract_rule_t rules[] = {
        {.name = "name", .selector = "h1.name", .attr = "", .regex = ""},
        {.name = "price",
         .selector = "//span[@class='price']",
         .xpath = true,
         .attr = "",
         .regex = "([0-9.]+)"},
        {.name = "tags", .selector = "ul > li", .all = true, .attr = "", .regex = ""},
        {.name = "image", .selector = "img", .take = ZC_TAKE_ATTR, .attr = "src", .regex = ""},
        {.name = "missing", .selector = "table", .attr = "", .regex = ""},
    };
    const char *product = "<html><head><meta charset=windows-1252><title>Caf\xe9</title>"
                          "<link rel=canonical href='/canonical/r1'>"
                          "<meta name=robots content='noindex'></head><body>"
                          "<h1 class=name> Caf\xe9  cr\xe8me </h1><span class=price>EUR 4.50</span>"
                          "<ul><li>hot</li><li>sweet</li></ul><img src='/i.png'>"
                          "<a href='/a'>a</a><a href='/b' rel=nofollow>b</a></body></html>";
    s_rules_page_send (fetcher, 1, product, "text/html", rules, 5);
    //  A bad rule: reported, the good rule and the links still come out.
    zc_extract_rule_t bad[] = {
        {.name = "broken", .selector = "a:hover", .attr = "", .regex = ""},
        {.name = "title", .selector = "title", .attr = "", .regex = ""},
    };
    s_rules_page_send (fetcher, 2, "<title>T</title><a href=x>x</a>", "text/html", bad, 2);
    //  Meta robots nofollow, no rules: the SAX path sets the flags too.
    s_rules_page_send (fetcher, 3,
                       "<meta name=robots content='NOFOLLOW'><title>N</title><a href=y>y</a>",
                       "text/html; charset=utf-8", NULL, 0);
    //  Invalid UTF-8 with rules
    zc_extract_rule_t text[] = {{.name = "p", .selector = "p", .attr = "", .regex = ""}};
    s_rules_page_send (fetcher, 4, "<p>bad \xff\xfe!</p>", "text/html; charset=utf-8", text, 1);

    zc_msg_t *results[8] = {0};
    size_t count = 0;
    size_t want = 4;
    s_broker_run (&b, 10000, s_until_results, &want, results, &count, 8);
    assert_int_equal (count, 4);
    for (size_t i = 0; i < count; i++) {
        const zc_result_t *r = &results[i]->result;
        switch (r->meta.id) {
        case 1: {
            assert_null (r->parse_error);
            assert_string_equal (r->title, "Caf\xc3\xa9");
            assert_string_equal (r->charset, "windows-1252");
            assert_string_equal (r->canonical, "http://shop.test/canonical/r1");
            assert_true (r->noindex);
            assert_false (r->nofollow);
            assert_int_equal (r->link_count, 1);
            assert_string_equal (r->links[0], "http://shop.test/a");
            assert_int_equal (r->field_count, 4);
            const zc_field_t *f = s_result_field (r, "name");
            assert_non_null (f);
            assert_int_equal (f->value_count, 1);
            assert_string_equal (f->values[0], "Caf\xc3\xa9 cr\xc3\xa8me");
            f = s_result_field (r, "price");
            assert_non_null (f);
            assert_string_equal (f->values[0], "4.50");
            f = s_result_field (r, "tags");
            assert_non_null (f);
            assert_int_equal (f->value_count, 2);
            assert_string_equal (f->values[0], "hot");
            assert_string_equal (f->values[1], "sweet");
            f = s_result_field (r, "image");
            assert_non_null (f);
            assert_string_equal (f->values[0], "/i.png");
            assert_null (s_result_field (r, "missing"));
            break;
        }
        case 2:
            assert_non_null (r->parse_error);
            assert_non_null (strstr (r->parse_error, "rule 'broken'"));
            assert_string_equal (r->title, "T");
            assert_int_equal (r->link_count, 1);
            assert_int_equal (r->field_count, 1);
            assert_string_equal (r->fields[0].name, "title");
            assert_string_equal (r->fields[0].values[0], "T");
            break;
        case 3:
            assert_null (r->parse_error);
            assert_true (r->nofollow);
            assert_false (r->noindex);
            assert_int_equal (r->link_count, 0);
            assert_string_equal (r->title, "N");
            assert_string_equal (r->charset, "utf-8");
            break;
        case 4:
            assert_int_equal (r->field_count, 1);
            assert_string_equal (r->fields[0].values[0], "bad \xef\xbf\xbd\xef\xbf\xbd!");
            break;
        default:
            fail ();
        }
        zc_msg_destroy (&results[i]);
    }
    zactor_destroy (&node);
    zsock_destroy (&fetcher);
    zstr_free (&front);
    s_broker_destroy (&b);
}

//  Receives one RESULT from the broker's results socket into RESULTS.
static void
s_broker_take_result (broker_t *b, zc_msg_t **results, size_t *count, size_t max)
{
    zmsg_t *zmsg = zmsg_recv (b->results);
    assert_non_null (zmsg);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    assert_int_equal (msg->type, ZC_MSG_RESULT);
    assert_true (*count < max);
    results[(*count)++] = msg;
}

//  Serves the broker sockets until NODE replies on its pipe (which must be
//  "DRAINED") or TIMEOUT_MS passes. Returns the milliseconds it took, or -1.
static int64_t
s_wait_drained (broker_t *b, zactor_t *node, int timeout_ms, zc_msg_t **results, size_t *count,
                size_t max)
{
    zpoller_t *poller = zpoller_new (b->jobs, b->results, node, NULL);
    assert_non_null (poller);
    int64_t start = zclock_mono ();
    int64_t took = -1;
    while (took < 0) {
        int64_t left = start + timeout_ms - zclock_mono ();
        if (left <= 0)
            break;
        void *which = zpoller_wait (poller, (int)left);
        if (which == b->jobs)
            s_broker_handle_jobs (b);
        else if (which == b->results)
            s_broker_take_result (b, results, count, max);
        else if (which == node) {
            char *reply = zstr_recv (node);
            assert_non_null (reply);
            assert_string_equal (reply, "DRAINED");
            zstr_free (&reply);
            took = zclock_mono () - start;
        }
    }
    zpoller_destroy (&poller);
    return took;
}

//  DRAIN while pages are flowing: every page the node ACCEPTed gets its
//  RESULT, BYE arrives, and nothing follows it (no HEARTBEAT, no HELLO).
static void
test_node_drain (void **state)
{
    (void)state;
    broker_t b;
    s_broker_init (&b);
    b.welcome = true;
    zc_parser_config_t config = {.broker_endpoint = b.jobs_endpoint,
                                 .front_endpoint = "tcp://127.0.0.1:*",
                                 .actors = 2,
                                 .node_id = "parser-drain"};
    b.expect_node = config.node_id;
    int rc;
    char *front;
    zactor_t *node = s_node_start (&config, &rc, &front);
    assert_int_equal (rc, 0);
    s_broker_run (&b, 10000, s_until_heartbeat, NULL, NULL, NULL, 0);
    assert_true (b.heartbeats > 0); //  registered
    zsock_t *fetcher = zsock_new (ZMQ_PUSH);
    assert_non_null (fetcher);
    assert_int_equal (zsock_connect (fetcher, "%s", front), 0);

    //  A first batch is fully processed; then more pages and at once DRAIN.
    for (int id = 1; id <= 10; id++)
        s_page_send (fetcher, id);
    zc_msg_t *results[PAGE_COUNT + 8] = {0};
    size_t count = 0;
    size_t want = 10;
    s_broker_run (&b, 10000, s_until_results, &want, results, &count, PAGE_COUNT);
    assert_int_equal (count, 10);
    for (int id = 11; id <= PAGE_COUNT; id++)
        s_page_send (fetcher, id);
    assert_int_equal (zstr_sendx (node, "DRAIN", "10000", NULL), 0);
    int64_t took = s_wait_drained (&b, node, 15000, results, &count, PAGE_COUNT);
    assert_true (took >= 0);
    //  The BYE and the last RESULTs (lingering) arrive.
    int byes = 1;
    zpoller_t *poller = zpoller_new (b.jobs, b.results, NULL);
    int64_t deadline = zclock_mono () + 5000;
    while ((b.byes < byes || count < b.accepted) && zclock_mono () < deadline) {
        void *which = zpoller_wait (poller, 100);
        if (which == b.jobs)
            s_broker_handle_jobs (&b);
        else if (which == b.results)
            s_broker_take_result (&b, results, &count, PAGE_COUNT);
    }
    zpoller_destroy (&poller);
    assert_int_equal (b.byes, 1);
    //  RESULTs are exactly the ACCEPTed jobs, each once.
    assert_int_equal (count, b.accepted);
    assert_true (count >= 10);
    bool seen[MAX_ID] = {false};
    for (size_t i = 0; i < count; i++) {
        uint64_t id = results[i]->result.meta.id;
        assert_true (id >= 1 && id <= PAGE_COUNT);
        assert_false (seen[id]);
        seen[id] = true;
        assert_int_equal (b.accept_counts[id], 1);
        s_check_result (&results[i]->result);
        zc_msg_destroy (&results[i]);
    }
    //  Nothing after the BYE (heartbeats would come every 100 ms).
    s_broker_run (&b, 500, NULL, NULL, results, &count, PAGE_COUNT);
    assert_int_equal (b.after_bye, 0);
    assert_int_equal (count, b.accepted);

    //  A second DRAIN is answered at once.
    assert_int_equal (zstr_send (node, "DRAIN"), 0);
    char *reply = zstr_recv (node);
    assert_string_equal (reply, "DRAINED");
    zstr_free (&reply);

    zactor_destroy (&node);
    zsock_destroy (&fetcher);
    zstr_free (&front);
    s_broker_destroy (&b);
}

//  A node whose actor cannot deliver its RESULT (it cannot connect to the
//  results endpoint) holds a page forever: the drain ends at the drain time
//  (config.drain_ms when DRAIN has none), still with a BYE.
static void
test_node_drain_deadline (void **state)
{
    (void)state;
    broker_t b;
    s_broker_init (&b);
    b.welcome = true;
    b.welcome_results = "bogus://nowhere"; //  the actor cannot connect
    zc_parser_config_t config = {.broker_endpoint = b.jobs_endpoint,
                                 .front_endpoint = "tcp://127.0.0.1:*",
                                 .actors = 1,
                                 .node_id = "parser-stuck",
                                 .drain_ms = 300};
    b.expect_node = config.node_id;
    int rc;
    char *front;

    //  DRAIN before START: nothing to drain.
    zactor_t *node = zactor_new (zc_parser_node_actor, (void *)&config);
    assert_non_null (node);
    assert_int_equal (zstr_send (node, "DRAIN"), 0);
    char *reply = zstr_recv (node);
    assert_string_equal (reply, "DRAINED");
    zstr_free (&reply);
    zactor_destroy (&node);

    node = s_node_start (&config, &rc, &front);
    assert_int_equal (rc, 0);
    zsock_t *fetcher = zsock_new (ZMQ_PUSH);
    assert_non_null (fetcher);
    assert_int_equal (zsock_connect (fetcher, "%s", front), 0);
    for (int id = 1; id <= 3; id++)
        s_page_send (fetcher, id);
    //  The one actor takes two pages (the one it parses and the next) and
    //  is stuck with the first one's RESULT.
    size_t want = 2;
    s_broker_run (&b, 10000, s_until_accepted, &want, NULL, NULL, 0);
    assert_int_equal (b.accepted, 2);

    int64_t start = zclock_mono ();
    assert_int_equal (zstr_send (node, "DRAIN"), 0);
    int64_t took = s_wait_drained (&b, node, 10000, NULL, NULL, 0);
    assert_true (took >= 0);
    assert_true (zclock_mono () - start >= 300);
    assert_true (took < 5000);
    s_broker_run (&b, 5000, s_until_bye, NULL, NULL, NULL, 0);
    assert_int_equal (b.byes, 1);
    s_broker_run (&b, 500, NULL, NULL, NULL, NULL, 0); //  nothing follows it
    assert_int_equal (b.after_bye, 0);
    assert_int_equal (b.accepted, 2); //  the third stayed in the front

    zactor_destroy (&node);
    zsock_destroy (&fetcher);
    zstr_free (&front);
    s_broker_destroy (&b);
}

static void
test_node_start_errors (void **state)
{
    (void)state;
    broker_t b;
    s_broker_init (&b);
    int rc;
    char *front;

    //  A wildcard front needs an advertised endpoint.
    zc_parser_config_t wildcard = {
        .broker_endpoint = b.jobs_endpoint, .front_endpoint = "tcp://*:*", .actors = 1};
    zactor_t *node = s_node_start (&wildcard, &rc, &front);
    assert_int_equal (rc, -1);
    assert_string_equal (front, "");
    zstr_free (&front);
    zactor_destroy (&node);

    //  Unbindable front
    zc_parser_config_t bad = {
        .broker_endpoint = b.jobs_endpoint, .front_endpoint = "bogus://nowhere", .actors = 1};
    node = s_node_start (&bad, &rc, &front);
    assert_int_equal (rc, -1);
    zstr_free (&front);
    //  A second START is refused too.
    assert_int_equal (zstr_send (node, "START"), 0);
    assert_int_equal (zsock_recv (node, "is", &rc, &front), 0);
    assert_int_equal (rc, -1);
    zstr_free (&front);
    zactor_destroy (&node);

    //  Bad broker endpoint
    zc_parser_config_t no_broker = {
        .broker_endpoint = "bogus://broker", .front_endpoint = "tcp://127.0.0.1:*", .actors = 1};
    node = s_node_start (&no_broker, &rc, &front);
    assert_int_equal (rc, -1);
    zstr_free (&front);
    zactor_destroy (&node);

    //  Wildcard with advertise "HOST:*": the bound port is advertised.
    zc_parser_config_t advertised = {.broker_endpoint = b.jobs_endpoint,
                                     .front_endpoint = "tcp://*:*",
                                     .advertise = "tcp://parser.example:*",
                                     .actors = 0}; //  0 = cores
    node = s_node_start (&advertised, &rc, &front);
    assert_int_equal (rc, 0);
    s_broker_run (&b, 5000, s_until_hello, NULL, NULL, NULL, 0);
    const char *port = strrchr (front, ':');
    assert_non_null (port);
    char expected[128];
    snprintf (expected, sizeof expected, "tcp://parser.example%s", port);
    assert_string_equal (b.hello_endpoint, expected);
    assert_true (b.hello_capacity >= 1);
    zstr_free (&front);
    zactor_destroy (&node);

    s_broker_destroy (&b);
}

static void
test_ctype (void **state)
{
    (void)state;
    char mime[ZC_CTYPE_MAX_BYTES + 1], charset[ZC_CTYPE_MAX_BYTES + 1];
    zc_ctype_parse ("text/html; charset=UTF-8", mime, charset);
    assert_string_equal (mime, "text/html");
    assert_string_equal (charset, "UTF-8");
    zc_ctype_parse (" Text/HTML ;foo=bar; Charset = \"iso-8859-1\" ", mime, charset);
    assert_string_equal (mime, "text/html");
    assert_string_equal (charset, "iso-8859-1");
    zc_ctype_parse ("application/xhtml+xml", mime, charset);
    assert_string_equal (mime, "application/xhtml+xml");
    assert_string_equal (charset, "");
    zc_ctype_parse ("text/html; charset=\"bad name\"", mime, charset);
    assert_string_equal (charset, "");
    zc_ctype_parse ("text/html; charset=", mime, charset);
    assert_string_equal (charset, "");
    zc_ctype_parse ("text/html; charset", mime, charset);
    assert_string_equal (charset, "");
    zc_ctype_parse (NULL, mime, charset);
    assert_string_equal (mime, "");
    zc_ctype_parse ("", mime, charset);
    assert_string_equal (mime, "");
    char long_type[300];
    memset (long_type, 'x', sizeof long_type - 1);
    long_type[sizeof long_type - 1] = 0;
    zc_ctype_parse (long_type, mime, charset);
    assert_string_equal (mime, "");

    assert_true (zc_ctype_is_html ("text/html"));
    assert_true (zc_ctype_is_html ("application/xhtml+xml"));
    assert_false (zc_ctype_is_html ("text/plain"));
    assert_false (zc_ctype_is_html (""));

    const char *html[] = {"<!DOCTYPE html>", "  \n<html lang=en>", "\xef\xbb\xbf<HEAD>",
                          "<p>hello",        "<!-- c -->",         "<a href=x>"};
    for (size_t i = 0; i < sizeof html / sizeof html[0]; i++)
        assert_true (zc_ctype_sniff_html (html[i], strlen (html[i])));
    const char *other[] = {"",        "   ", "{\"json\": 1}", "<?xml version='1.0'?>",
                           "<htmlx>", "<p",  "plain <html>",  "\x89PNG\r\n"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_false (zc_ctype_sniff_html (other[i], strlen (other[i])));
}

int
main (void)
{
    zsys_init ();
    zsys_set_logsystem (false);
    curl_global_init (CURL_GLOBAL_DEFAULT);
    xmlInitParser ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ctype),      cmocka_unit_test (test_node_pages),
        cmocka_unit_test (test_node_rules), cmocka_unit_test (test_node_start_errors),
        cmocka_unit_test (test_node_drain), cmocka_unit_test (test_node_drain_deadline),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    //  No xmlCleanupParser: parser actor threads may still be exiting (see
    //  cli/zcrawl.c s_process_fini).
    curl_global_cleanup ();
    return rc;
}
