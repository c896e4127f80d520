/*  Unit tests for zc_msg, the wire codec: round trips of every type, golden
    vectors (tests/fixtures/golden/<TYPE>.hex, also in docs/PROTOCOL.md),
    hostile input (truncation, wrong types, huge declared sizes, deep
    nesting, random bytes and bit flips) and sending over real sockets.

    Optional fields (added after v1 shipped) have their own "full" golden
    vectors (<TYPE>.full.hex) and tests: absent they decode as zero, wrongly
    typed they are a FIELD error, zero-valued they are not encoded.

    Regenerate the golden files (only when the protocol changes on purpose):
        ZC_GOLDEN_WRITE=1 ./test_zc_msg
*/
#include "zc_msg.h"

#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include <cmocka.h>

#define GOLDEN_DIR ZC_FIXTURES_DIR "/golden"

//  ---------------------------------------------------------------------
//  Example messages

enum { VARIANT_GOLDEN = 0, VARIANT_MANY, VARIANT_EMPTY, VARIANT_FULL, VARIANT_COUNT };

typedef struct {
    zc_msg_t msg;
    zc_job_t jobs[64];
    const char *strs[256];
    zc_field_t fields[8];
    const char *values[32];
    zc_node_status_t nodes[20];
    uint64_t ids[300];
    zc_crawl_status_t crawls[10];
    zc_robots_rule_t robots[4];
    zc_extract_rule_t rules[4];
    const char *opt_strs[16]; //  headers, resolve, hosts, ... of VARIANT_FULL
    char *body;               //  heap, for the big bodies
    char pool[64 * 1024];
    size_t pool_used;
} example_t;

static const char *s_pool_printf (example_t *ex, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static const char *
s_pool_printf (example_t *ex, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *dest = ex->pool + ex->pool_used;
    int n = vsnprintf (dest, sizeof ex->pool - ex->pool_used, format, args);
    va_end (args);
    assert_true (n >= 0 && (size_t)n < sizeof ex->pool - ex->pool_used);
    ex->pool_used += (size_t)n + 1;
    return dest;
}

static const char s_page_body[] = "<html><head><title>Hi</title></head>"
                                  "<body><a href=\"/a\">a</a> <a href=\"/b\">b</a></body></html>";
static const char s_robots_body[] = "User-agent: *\nDisallow: /private\n";

static zc_fetch_opts_t
s_fetch_opts (void)
{
    return (zc_fetch_opts_t){.connect_timeout_ms = 10000,
                             .timeout_ms = 30000,
                             .max_body_bytes = 10485760,
                             .max_redirects = 10,
                             .allow_private = true,
                             .user_agent = "zcrawl/0.1.0"};
}

static zc_page_meta_t
s_meta (void)
{
    return (zc_page_meta_t){.crawl = "c1",
                            .id = 42,
                            .url = "http://example.com/",
                            .final_url = "http://example.com/index.html",
                            .depth = 1,
                            .attempt = 1,
                            .status = 200,
                            .content_type = "text/html; charset=utf-8",
                            .fetched_at_ms = 1700000001234,
                            .redirects = 1,
                            .timings = {.total_ms = 120, .connect_ms = 15, .ttfb_ms = 60}};
}

static void
s_example_golden (example_t *ex, zc_msg_type_t type)
{
    zc_msg_t *m = &ex->msg;
    m->type = type;
    switch (type) {
    case ZC_MSG_HELLO:
        m->hello = (zc_hello_t){.id = "parser-host2-4242-beef",
                                .role = "parser",
                                .version = "0.1.0",
                                .capacity = 8,
                                .endpoint = "tcp://10.0.0.5:5560"};
        break;
    case ZC_MSG_WELCOME:
        m->welcome =
            (zc_welcome_t){.epoch = 1700000000123, .results = "tcp://*:5558", .heartbeat_ms = 1000};
        break;
    case ZC_MSG_READY:
        m->ready.credit = 64;
        break;
    case ZC_MSG_JOBS:
        ex->jobs[0] = (zc_job_t){.crawl = "c1",
                                 .id = 41,
                                 .kind = ZC_JOB_ROBOTS,
                                 .url = "http://example.com/robots.txt",
                                 .depth = 0,
                                 .attempt = 1,
                                 .deadline_ms = 1700000031000,
                                 .opts = s_fetch_opts ()};
        ex->jobs[1] = (zc_job_t){.crawl = "c1",
                                 .id = 42,
                                 .kind = ZC_JOB_PAGE,
                                 .url = "http://example.com/",
                                 .depth = 1,
                                 .attempt = 2,
                                 .deadline_ms = 1700000031000,
                                 .opts = s_fetch_opts ()};
        m->jobs = (zc_jobs_t){.jobs = ex->jobs, .job_count = 2};
        break;
    case ZC_MSG_PARSERS:
        ex->strs[0] = "tcp://10.0.0.5:5560";
        ex->strs[1] = "tcp://10.0.0.6:5560";
        m->parsers = (zc_parsers_t){.endpoints = ex->strs, .endpoint_count = 2};
        break;
    case ZC_MSG_HEARTBEAT:
        m->heartbeat = (zc_heartbeat_t){.epoch = 1700000000123,
                                        .node = "fetcher-host1-4242-beef",
                                        .decode_errors = 3,
                                        .in_flight = 17,
                                        .done = 123456};
        break;
    case ZC_MSG_FETCH_FAILED:
        m->fetch_failed = (zc_fetch_failed_t){.crawl = "c1",
                                              .id = 43,
                                              .url = "http://example.com/old",
                                              .attempt = 1,
                                              .reason = "redirect",
                                              .detail = "301 to another host",
                                              .status = 301,
                                              .location = "http://other.example/new",
                                              .fetched_at_ms = 1700000001500};
        break;
    case ZC_MSG_ROBOTS:
        m->robots = (zc_robots_t){.crawl = "c1",
                                  .id = 41,
                                  .url = "http://example.com/robots.txt",
                                  .status = 200,
                                  .reason = "",
                                  .body = s_robots_body,
                                  .body_size = strlen (s_robots_body),
                                  .fetched_at_ms = 1700000001100};
        break;
    case ZC_MSG_PAGE:
        m->page =
            (zc_page_t){.meta = s_meta (), .body = s_page_body, .body_size = strlen (s_page_body)};
        break;
    case ZC_MSG_RESULT:
        ex->strs[0] = "http://example.com/a";
        ex->strs[1] = "http://example.com/b";
        ex->values[0] = "9.99";
        ex->values[1] = "red";
        ex->values[2] = "blue";
        ex->fields[0] = (zc_field_t){.name = "price", .values = &ex->values[0], .value_count = 1};
        ex->fields[1] = (zc_field_t){.name = "tags", .values = &ex->values[1], .value_count = 2};
        m->result = (zc_result_t){.meta = s_meta (),
                                  .title = "Hi",
                                  .links = ex->strs,
                                  .link_count = 2,
                                  .fields = ex->fields,
                                  .field_count = 2,
                                  .parse_error = NULL,
                                  .body_bytes = strlen (s_page_body)};
        break;
    case ZC_MSG_SUBMIT:
        ex->strs[0] = "http://example.com/";
        ex->strs[1] = "http://example.org/start";
        m->submit = (zc_submit_t){.seeds = ex->strs,
                                  .seed_count = 2,
                                  .output = "/var/lib/zcrawl/items.jsonl",
                                  .errors = "",
                                  .opts = {.max_depth = -1,
                                           .max_pages = 1000,
                                           .host_concurrency = 2,
                                           .host_delay_ms = 1000,
                                           .fetch = s_fetch_opts ()}};
        break;
    case ZC_MSG_STATUS:
        m->status.crawl = "";
        break;
    case ZC_MSG_STOP:
        m->stop.crawl = "c1";
        break;
    case ZC_MSG_OK:
        m->ok.crawl = "c1";
        break;
    case ZC_MSG_ERROR:
        m->error.error = "unknown crawl c9";
        break;
    case ZC_MSG_STATUS_REPLY:
        ex->nodes[0] = (zc_node_status_t){.id = "fetcher-host1-4242-beef",
                                          .role = "fetcher",
                                          .endpoint = "",
                                          .capacity = 64,
                                          .in_flight = 17,
                                          .done = 123456,
                                          .decode_errors = 3,
                                          .last_seen_ms = 1700000002000};
        ex->nodes[1] = (zc_node_status_t){.id = "parser-host2-4242-beef",
                                          .role = "parser",
                                          .endpoint = "tcp://10.0.0.5:5560",
                                          .capacity = 8,
                                          .in_flight = 2,
                                          .done = 654321,
                                          .decode_errors = 0,
                                          .last_seen_ms = 1700000001900};
        ex->crawls[0] = (zc_crawl_status_t){.id = "c1",
                                            .state = "running",
                                            .output = "/var/lib/zcrawl/items.jsonl",
                                            .errors = "/var/lib/zcrawl/errors.jsonl",
                                            .pages = 1200,
                                            .failed = 7,
                                            .queued = 5000,
                                            .in_flight = 64,
                                            .started_ms = 1700000000500,
                                            .elapsed_ms = 1500};
        m->status_reply = (zc_status_reply_t){.epoch = 1700000000123,
                                              .decode_errors = 3,
                                              .nodes = ex->nodes,
                                              .node_count = 2,
                                              .crawls = ex->crawls,
                                              .crawl_count = 1};
        break;
    case ZC_MSG_ACCEPT:
        ex->ids[0] = 42;
        ex->ids[1] = 43;
        ex->ids[2] = 1700000000123;
        m->accept =
            (zc_accept_t){.node = "parser-host2-4242-beef", .jobs = ex->ids, .job_count = 3};
        break;
    case ZC_MSG_BYE:
        m->bye.node = "fetcher-host1-4242-beef";
        break;
    case ZC_MSG_PAUSE:
        m->pause.crawl = "c1";
        break;
    case ZC_MSG_RESUME:
        m->resume.crawl = "c1";
        break;
    }
}

//  Arrays with many elements and big bodies.
static void
s_example_many (example_t *ex, zc_msg_type_t type)
{
    zc_msg_t *m = &ex->msg;
    switch (type) {
    case ZC_MSG_JOBS:
        for (size_t i = 0; i < 64; i++) {
            ex->jobs[i] = ex->jobs[1];
            ex->jobs[i].id = 1000 + i;
            ex->jobs[i].url = s_pool_printf (ex, "http://example.com/page/%zu", i);
            if (i % 2) //  continuations of a redirect
                ex->jobs[i].origin = s_pool_printf (ex, "http://example.com/old/%zu", i);
        }
        m->jobs.job_count = 64;
        break;
    case ZC_MSG_PARSERS:
    case ZC_MSG_RESULT:
    case ZC_MSG_SUBMIT:
        for (size_t i = 0; i < 200; i++)
            ex->strs[i] = s_pool_printf (ex, "http://example.com/link/%zu?q=%zu", i, i * i);
        if (type == ZC_MSG_PARSERS)
            m->parsers.endpoint_count = 200;
        else if (type == ZC_MSG_SUBMIT)
            m->submit.seed_count = 200;
        else {
            m->result.link_count = 200;
            for (size_t i = 0; i < 32; i++)
                ex->values[i] = s_pool_printf (ex, "value %zu", i);
            for (size_t i = 0; i < 8; i++)
                ex->fields[i] = (zc_field_t){.name = s_pool_printf (ex, "field%zu", i),
                                             .values = &ex->values[i],
                                             .value_count = i};
            m->result.field_count = 8;
            m->result.parse_error = "truncated document";
        }
        break;
    case ZC_MSG_STATUS_REPLY:
        for (size_t i = 0; i < 20; i++) {
            ex->nodes[i] = ex->nodes[i % 2];
            ex->nodes[i].id = s_pool_printf (ex, "node-%zu", i);
        }
        for (size_t i = 0; i < 10; i++) {
            ex->crawls[i] = ex->crawls[0];
            ex->crawls[i].id = s_pool_printf (ex, "c%zu", i);
        }
        m->status_reply.node_count = 20;
        m->status_reply.crawl_count = 10;
        break;
    case ZC_MSG_ROBOTS:
    case ZC_MSG_PAGE: {
        size_t size = type == ZC_MSG_ROBOTS ? 500 * 1024 : 3 * 1024 * 1024;
        ex->body = malloc (size);
        assert_non_null (ex->body);
        for (size_t i = 0; i < size; i++)
            ex->body[i] = (char)(i * 7 + (i >> 9));
        if (type == ZC_MSG_ROBOTS) {
            m->robots.body = ex->body;
            m->robots.body_size = size;
        } else {
            m->page.body = ex->body;
            m->page.body_size = size;
        }
        break;
    }
    case ZC_MSG_ACCEPT:
        //  Every msgpack integer width.
        for (size_t i = 0; i < 300; i++)
            ex->ids[i] = i < 64 ? i : UINT64_MAX / (i + 1) >> (i % 64);
        m->accept.job_count = 300;
        break;
    case ZC_MSG_HELLO:
    case ZC_MSG_WELCOME:
    case ZC_MSG_READY:
    case ZC_MSG_HEARTBEAT:
    case ZC_MSG_FETCH_FAILED:
    case ZC_MSG_STATUS:
    case ZC_MSG_STOP:
    case ZC_MSG_OK:
    case ZC_MSG_ERROR:
    case ZC_MSG_BYE:
    case ZC_MSG_PAUSE:
    case ZC_MSG_RESUME:
        break;
    }
}

//  Empty arrays, empty strings, nil-ables NULL, extreme integers.
static void
s_example_empty (example_t *ex, zc_msg_type_t type)
{
    zc_msg_t *m = &ex->msg;
    switch (type) {
    case ZC_MSG_HELLO:
        m->hello = (zc_hello_t){
            .id = "", .role = "fetcher", .version = "", .capacity = UINT32_MAX, .endpoint = ""};
        break;
    case ZC_MSG_WELCOME:
        m->welcome.epoch = UINT64_MAX;
        break;
    case ZC_MSG_READY:
        m->ready.credit = 0;
        break;
    case ZC_MSG_JOBS:
        m->jobs = (zc_jobs_t){.jobs = NULL, .job_count = 0};
        break;
    case ZC_MSG_PARSERS:
        m->parsers = (zc_parsers_t){.endpoints = NULL, .endpoint_count = 0};
        break;
    case ZC_MSG_HEARTBEAT:
        m->heartbeat = (zc_heartbeat_t){.node = "broker"};
        break;
    case ZC_MSG_FETCH_FAILED:
        m->fetch_failed.detail = "";
        m->fetch_failed.location = "";
        m->fetch_failed.status = 0;
        m->fetch_failed.fetched_at_ms = UINT64_MAX;
        break;
    case ZC_MSG_ROBOTS:
        m->robots.body = NULL;
        m->robots.body_size = 0;
        m->robots.status = 0;
        m->robots.reason = "dns";
        break;
    case ZC_MSG_PAGE:
        m->page.body = NULL;
        m->page.body_size = 0;
        m->page.meta.content_type = "";
        break;
    case ZC_MSG_RESULT:
        m->result.title = NULL;
        m->result.parse_error = "not html";
        m->result.links = NULL;
        m->result.link_count = 0;
        m->result.fields = NULL;
        m->result.field_count = 0;
        break;
    case ZC_MSG_SUBMIT:
        m->submit.seeds = NULL;
        m->submit.seed_count = 0;
        m->submit.opts.max_depth = INT32_MIN;
        m->submit.opts.fetch.allow_private = false;
        m->submit.opts.fetch.user_agent = "";
        break;
    case ZC_MSG_STATUS:
    case ZC_MSG_STOP:
    case ZC_MSG_OK:
        m->ok.crawl = ""; //  same layout for the three
        break;
    case ZC_MSG_ERROR:
        m->error.error = "";
        break;
    case ZC_MSG_STATUS_REPLY:
        m->status_reply.node_count = 0;
        m->status_reply.nodes = NULL;
        m->status_reply.crawl_count = 0;
        m->status_reply.crawls = NULL;
        break;
    case ZC_MSG_ACCEPT:
        m->accept = (zc_accept_t){.node = "", .jobs = NULL, .job_count = 0};
        break;
    case ZC_MSG_BYE:
        m->bye.node = "";
        break;
    case ZC_MSG_PAUSE:
    case ZC_MSG_RESUME:
        m->pause.crawl = ""; //  same layout for the two
        break;
    }
}

//  Every optional field set (on top of the golden example).
static void
s_example_full (example_t *ex, zc_msg_type_t type)
{
    zc_msg_t *m = &ex->msg;
    const char **o = ex->opt_strs;
    o[0] = "Accept-Language: en";
    o[1] = "X-Crawl: test";
    o[2] = "example.com:80:127.0.0.1";
    o[3] = "example.com";
    o[4] = "example.org:8080";
    o[5] = "example.net";
    o[6] = "^https?://[^/]+/(docs|blog)/";
    o[7] = "\\.(pdf|zip)$";
    o[8] = "[?&]sessionid=";
    ex->robots[0] = (zc_robots_rule_t){.allow = false, .path = "/private"};
    ex->robots[1] = (zc_robots_rule_t){.allow = true, .path = "/private/ok$"};
    ex->robots[2] = (zc_robots_rule_t){.allow = false, .path = "/*.gif$"};
    //  A rule with only the required keys, then one with every key.
    ex->rules[0] = (zc_extract_rule_t){.name = "title", .selector = "h1.title"};
    ex->rules[1] = (zc_extract_rule_t){.name = "price",
                                       .selector = "//span[@class='price']",
                                       .xpath = true,
                                       .take = ZC_TAKE_ATTR,
                                       .attr = "content",
                                       .all = true,
                                       .regex = "([0-9.]+)"};
    ex->rules[2] =
        (zc_extract_rule_t){.name = "body", .selector = "#main > p", .take = ZC_TAKE_HTML};
    zc_fetch_opts_t fetch = s_fetch_opts ();
    fetch.headers = &o[0];
    fetch.header_count = 2;
    fetch.resolve = &o[2];
    fetch.resolve_count = 1;
    switch (type) {
    case ZC_MSG_JOBS:
        ex->jobs[1].opts = fetch;
        ex->jobs[1].redirects = 2;
        ex->jobs[1].robots = ex->robots;
        ex->jobs[1].robots_count = 3;
        ex->jobs[1].rules = ex->rules;
        ex->jobs[1].rule_count = 3;
        break;
    case ZC_MSG_SUBMIT: {
        zc_crawl_opts_t *c = &m->submit.opts;
        c->fetch = fetch;
        c->impolite = true;
        c->crawl_delay_cap_ms = 30000;
        c->ignore_robots = true;
        c->robots_cache_ms = 86400000;
        c->max_attempts = 3;
        c->retry_base_ms = 1000;
        c->allowed_hosts = &o[3];
        c->allowed_host_count = 2;
        c->allowed_domains = &o[5];
        c->allowed_domain_count = 1;
        c->include = &o[6];
        c->include_count = 1;
        c->exclude = &o[7];
        c->exclude_count = 2;
        c->max_pages_per_host = 500;
        c->max_url_bytes = 2048;
        c->max_path_segments = 32;
        c->max_segment_repeats = 3;
        c->rules = ex->rules;
        c->rule_count = 3;
        break;
    }
    case ZC_MSG_RESULT:
        m->result.canonical = "http://example.com/canonical";
        m->result.noindex = true;
        m->result.nofollow = true;
        m->result.link_count = 0; //  what nofollow means
        m->result.charset = "iso-8859-1";
        break;
    case ZC_MSG_FETCH_FAILED:
        m->fetch_failed.reason = "http";
        m->fetch_failed.detail = "503 Service Unavailable";
        m->fetch_failed.status = 503;
        m->fetch_failed.location = "";
        m->fetch_failed.retry_after_ms = 120000;
        m->fetch_failed.redirects = 1;
        break;
    case ZC_MSG_PAGE:
        m->page.rules = ex->rules;
        m->page.rule_count = 3;
        break;
    case ZC_MSG_STATUS_REPLY:
        ex->crawls[0].state = "paused";
        ex->crawls[0].error = "items file: No space left on device";
        break;
    case ZC_MSG_HELLO:
    case ZC_MSG_WELCOME:
    case ZC_MSG_READY:
    case ZC_MSG_PARSERS:
    case ZC_MSG_HEARTBEAT:
    case ZC_MSG_ROBOTS:
    case ZC_MSG_STATUS:
    case ZC_MSG_STOP:
    case ZC_MSG_OK:
    case ZC_MSG_ERROR:
    case ZC_MSG_ACCEPT:
    case ZC_MSG_BYE:
    case ZC_MSG_PAUSE:
    case ZC_MSG_RESUME:
        break;
    }
}

static example_t *
s_example_new (zc_msg_type_t type, int variant)
{
    example_t *ex = calloc (1, sizeof (example_t));
    assert_non_null (ex);
    s_example_golden (ex, type);
    if (variant == VARIANT_MANY)
        s_example_many (ex, type);
    else if (variant == VARIANT_EMPTY)
        s_example_empty (ex, type);
    else if (variant == VARIANT_FULL)
        s_example_full (ex, type);
    return ex;
}

static void
s_example_destroy (example_t **ex_p)
{
    free ((*ex_p)->body);
    free (*ex_p);
    *ex_p = NULL;
}

//  ---------------------------------------------------------------------
//  Deep comparison

static void
s_check_str (const char *expected, const char *got)
{
    //  A NULL string field is sent as "".
    assert_non_null (got);
    assert_string_equal (expected ? expected : "", got);
}

static void
s_check_nilable (const char *expected, const char *got)
{
    if (!expected)
        assert_null (got);
    else
        assert_string_equal (expected, got);
}

static void
s_check_strs (const char *const *expected, size_t expected_count, const char *const *got,
              size_t got_count)
{
    assert_int_equal (expected_count, got_count);
    for (size_t i = 0; i < got_count; i++)
        s_check_str (expected[i], got[i]);
}

static void
s_check_bytes (const void *expected, size_t expected_size, const void *got, size_t got_size)
{
    assert_int_equal (expected_size, got_size);
    if (got_size)
        assert_memory_equal (expected, got, got_size);
}

static void
s_check_opts (const zc_fetch_opts_t *e, const zc_fetch_opts_t *g)
{
    assert_int_equal (e->connect_timeout_ms, g->connect_timeout_ms);
    assert_int_equal (e->timeout_ms, g->timeout_ms);
    assert_int_equal (e->max_body_bytes, g->max_body_bytes);
    assert_int_equal (e->max_redirects, g->max_redirects);
    assert_int_equal (e->allow_private, g->allow_private);
    s_check_str (e->user_agent, g->user_agent);
    s_check_strs (e->headers, e->header_count, g->headers, g->header_count);
    s_check_strs (e->resolve, e->resolve_count, g->resolve, g->resolve_count);
}

static void
s_check_rules (const zc_extract_rule_t *e, size_t e_count, const zc_extract_rule_t *g,
               size_t g_count)
{
    assert_int_equal (e_count, g_count);
    for (size_t i = 0; i < g_count; i++) {
        s_check_str (e[i].name, g[i].name);
        s_check_str (e[i].selector, g[i].selector);
        assert_int_equal (e[i].xpath, g[i].xpath);
        assert_int_equal (e[i].take, g[i].take);
        s_check_str (e[i].attr, g[i].attr);
        assert_int_equal (e[i].all, g[i].all);
        s_check_str (e[i].regex, g[i].regex);
    }
}

static void
s_check_meta (const zc_page_meta_t *e, const zc_page_meta_t *g)
{
    s_check_str (e->crawl, g->crawl);
    assert_int_equal (e->id, g->id);
    s_check_str (e->url, g->url);
    s_check_str (e->final_url, g->final_url);
    assert_int_equal (e->depth, g->depth);
    assert_int_equal (e->attempt, g->attempt);
    assert_int_equal (e->status, g->status);
    s_check_str (e->content_type, g->content_type);
    assert_int_equal (e->fetched_at_ms, g->fetched_at_ms);
    assert_int_equal (e->redirects, g->redirects);
    assert_int_equal (e->timings.total_ms, g->timings.total_ms);
    assert_int_equal (e->timings.connect_ms, g->timings.connect_ms);
    assert_int_equal (e->timings.ttfb_ms, g->timings.ttfb_ms);
}

static void
s_check_job (const zc_job_t *e, const zc_job_t *g)
{
    s_check_str (e->crawl, g->crawl);
    assert_int_equal (e->id, g->id);
    assert_int_equal (e->kind, g->kind);
    s_check_str (e->url, g->url);
    assert_int_equal (e->depth, g->depth);
    assert_int_equal (e->attempt, g->attempt);
    assert_int_equal (e->deadline_ms, g->deadline_ms);
    s_check_opts (&e->opts, &g->opts);
    assert_int_equal (e->redirects, g->redirects);
    assert_int_equal (e->robots_count, g->robots_count);
    for (size_t i = 0; i < g->robots_count; i++) {
        assert_int_equal (e->robots[i].allow, g->robots[i].allow);
        s_check_str (e->robots[i].path, g->robots[i].path);
    }
    s_check_rules (e->rules, e->rule_count, g->rules, g->rule_count);
    s_check_str (e->origin, g->origin);
}

static void
s_check_node (const zc_node_status_t *e, const zc_node_status_t *g)
{
    s_check_str (e->id, g->id);
    s_check_str (e->role, g->role);
    s_check_str (e->endpoint, g->endpoint);
    assert_int_equal (e->capacity, g->capacity);
    assert_int_equal (e->in_flight, g->in_flight);
    assert_int_equal (e->done, g->done);
    assert_int_equal (e->decode_errors, g->decode_errors);
    assert_int_equal (e->last_seen_ms, g->last_seen_ms);
}

static void
s_check_crawl (const zc_crawl_status_t *e, const zc_crawl_status_t *g)
{
    s_check_str (e->id, g->id);
    s_check_str (e->state, g->state);
    s_check_str (e->output, g->output);
    s_check_str (e->errors, g->errors);
    assert_int_equal (e->pages, g->pages);
    assert_int_equal (e->failed, g->failed);
    assert_int_equal (e->queued, g->queued);
    assert_int_equal (e->in_flight, g->in_flight);
    assert_int_equal (e->started_ms, g->started_ms);
    assert_int_equal (e->elapsed_ms, g->elapsed_ms);
    s_check_str (e->error, g->error);
}

static void
s_check_msg (const zc_msg_t *e, const zc_msg_t *g)
{
    assert_int_equal (e->type, g->type);
    switch (e->type) {
    case ZC_MSG_HELLO:
        s_check_str (e->hello.id, g->hello.id);
        s_check_str (e->hello.role, g->hello.role);
        s_check_str (e->hello.version, g->hello.version);
        assert_int_equal (e->hello.capacity, g->hello.capacity);
        s_check_str (e->hello.endpoint, g->hello.endpoint);
        break;
    case ZC_MSG_WELCOME:
        assert_int_equal (e->welcome.epoch, g->welcome.epoch);
        s_check_str (e->welcome.results, g->welcome.results);
        assert_int_equal (e->welcome.heartbeat_ms, g->welcome.heartbeat_ms);
        break;
    case ZC_MSG_READY:
        assert_int_equal (e->ready.credit, g->ready.credit);
        break;
    case ZC_MSG_JOBS:
        assert_int_equal (e->jobs.job_count, g->jobs.job_count);
        for (size_t i = 0; i < g->jobs.job_count; i++)
            s_check_job (&e->jobs.jobs[i], &g->jobs.jobs[i]);
        break;
    case ZC_MSG_PARSERS:
        s_check_strs (e->parsers.endpoints, e->parsers.endpoint_count, g->parsers.endpoints,
                      g->parsers.endpoint_count);
        break;
    case ZC_MSG_HEARTBEAT:
        assert_int_equal (e->heartbeat.epoch, g->heartbeat.epoch);
        s_check_str (e->heartbeat.node, g->heartbeat.node);
        assert_int_equal (e->heartbeat.decode_errors, g->heartbeat.decode_errors);
        assert_int_equal (e->heartbeat.in_flight, g->heartbeat.in_flight);
        assert_int_equal (e->heartbeat.done, g->heartbeat.done);
        break;
    case ZC_MSG_FETCH_FAILED: {
        const zc_fetch_failed_t *ef = &e->fetch_failed, *gf = &g->fetch_failed;
        s_check_str (ef->crawl, gf->crawl);
        assert_int_equal (ef->id, gf->id);
        s_check_str (ef->url, gf->url);
        assert_int_equal (ef->attempt, gf->attempt);
        s_check_str (ef->reason, gf->reason);
        s_check_str (ef->detail, gf->detail);
        assert_int_equal (ef->status, gf->status);
        s_check_str (ef->location, gf->location);
        assert_int_equal (ef->fetched_at_ms, gf->fetched_at_ms);
        assert_int_equal (ef->retry_after_ms, gf->retry_after_ms);
        assert_int_equal (ef->redirects, gf->redirects);
        break;
    }
    case ZC_MSG_ROBOTS:
        s_check_str (e->robots.crawl, g->robots.crawl);
        assert_int_equal (e->robots.id, g->robots.id);
        s_check_str (e->robots.url, g->robots.url);
        assert_int_equal (e->robots.status, g->robots.status);
        s_check_str (e->robots.reason, g->robots.reason);
        s_check_bytes (e->robots.body, e->robots.body_size, g->robots.body, g->robots.body_size);
        assert_int_equal (e->robots.fetched_at_ms, g->robots.fetched_at_ms);
        break;
    case ZC_MSG_PAGE:
        s_check_meta (&e->page.meta, &g->page.meta);
        s_check_rules (e->page.rules, e->page.rule_count, g->page.rules, g->page.rule_count);
        s_check_bytes (e->page.body, e->page.body_size, g->page.body, g->page.body_size);
        break;
    case ZC_MSG_RESULT:
        s_check_meta (&e->result.meta, &g->result.meta);
        s_check_nilable (e->result.title, g->result.title);
        s_check_strs (e->result.links, e->result.link_count, g->result.links, g->result.link_count);
        assert_int_equal (e->result.field_count, g->result.field_count);
        for (size_t i = 0; i < g->result.field_count; i++) {
            s_check_str (e->result.fields[i].name, g->result.fields[i].name);
            s_check_strs (e->result.fields[i].values, e->result.fields[i].value_count,
                          g->result.fields[i].values, g->result.fields[i].value_count);
        }
        s_check_nilable (e->result.parse_error, g->result.parse_error);
        assert_int_equal (e->result.body_bytes, g->result.body_bytes);
        s_check_str (e->result.canonical, g->result.canonical);
        assert_int_equal (e->result.noindex, g->result.noindex);
        assert_int_equal (e->result.nofollow, g->result.nofollow);
        s_check_str (e->result.charset, g->result.charset);
        break;
    case ZC_MSG_SUBMIT:
        s_check_strs (e->submit.seeds, e->submit.seed_count, g->submit.seeds, g->submit.seed_count);
        s_check_str (e->submit.output, g->submit.output);
        s_check_str (e->submit.errors, g->submit.errors);
        assert_int_equal (e->submit.opts.max_depth, g->submit.opts.max_depth);
        assert_int_equal (e->submit.opts.max_pages, g->submit.opts.max_pages);
        assert_int_equal (e->submit.opts.host_concurrency, g->submit.opts.host_concurrency);
        assert_int_equal (e->submit.opts.host_delay_ms, g->submit.opts.host_delay_ms);
        s_check_opts (&e->submit.opts.fetch, &g->submit.opts.fetch);
        {
            const zc_crawl_opts_t *ec = &e->submit.opts, *gc = &g->submit.opts;
            assert_int_equal (ec->impolite, gc->impolite);
            assert_int_equal (ec->crawl_delay_cap_ms, gc->crawl_delay_cap_ms);
            assert_int_equal (ec->ignore_robots, gc->ignore_robots);
            assert_int_equal (ec->robots_cache_ms, gc->robots_cache_ms);
            assert_int_equal (ec->max_attempts, gc->max_attempts);
            assert_int_equal (ec->retry_base_ms, gc->retry_base_ms);
            s_check_strs (ec->allowed_hosts, ec->allowed_host_count, gc->allowed_hosts,
                          gc->allowed_host_count);
            s_check_strs (ec->allowed_domains, ec->allowed_domain_count, gc->allowed_domains,
                          gc->allowed_domain_count);
            s_check_strs (ec->include, ec->include_count, gc->include, gc->include_count);
            s_check_strs (ec->exclude, ec->exclude_count, gc->exclude, gc->exclude_count);
            assert_int_equal (ec->max_pages_per_host, gc->max_pages_per_host);
            assert_int_equal (ec->max_url_bytes, gc->max_url_bytes);
            assert_int_equal (ec->max_path_segments, gc->max_path_segments);
            assert_int_equal (ec->max_segment_repeats, gc->max_segment_repeats);
            s_check_rules (ec->rules, ec->rule_count, gc->rules, gc->rule_count);
        }
        break;
    case ZC_MSG_STATUS:
        s_check_str (e->status.crawl, g->status.crawl);
        break;
    case ZC_MSG_STOP:
        s_check_str (e->stop.crawl, g->stop.crawl);
        break;
    case ZC_MSG_OK:
        s_check_str (e->ok.crawl, g->ok.crawl);
        break;
    case ZC_MSG_ERROR:
        s_check_str (e->error.error, g->error.error);
        break;
    case ZC_MSG_STATUS_REPLY:
        assert_int_equal (e->status_reply.epoch, g->status_reply.epoch);
        assert_int_equal (e->status_reply.decode_errors, g->status_reply.decode_errors);
        assert_int_equal (e->status_reply.node_count, g->status_reply.node_count);
        for (size_t i = 0; i < g->status_reply.node_count; i++)
            s_check_node (&e->status_reply.nodes[i], &g->status_reply.nodes[i]);
        assert_int_equal (e->status_reply.crawl_count, g->status_reply.crawl_count);
        for (size_t i = 0; i < g->status_reply.crawl_count; i++)
            s_check_crawl (&e->status_reply.crawls[i], &g->status_reply.crawls[i]);
        break;
    case ZC_MSG_ACCEPT:
        s_check_str (e->accept.node, g->accept.node);
        assert_int_equal (e->accept.job_count, g->accept.job_count);
        for (size_t i = 0; i < g->accept.job_count; i++)
            assert_int_equal (e->accept.jobs[i], g->accept.jobs[i]);
        break;
    case ZC_MSG_BYE:
        s_check_str (e->bye.node, g->bye.node);
        break;
    case ZC_MSG_PAUSE:
        s_check_str (e->pause.crawl, g->pause.crawl);
        break;
    case ZC_MSG_RESUME:
        s_check_str (e->resume.crawl, g->resume.crawl);
        break;
    }
}

//  ---------------------------------------------------------------------
//  Helpers

static zc_msg_t *
s_decode_bytes (const void *header, size_t size, const void *body, size_t body_size, int frames,
                zc_msg_decode_status_t *status)
{
    zmsg_t *zmsg = zmsg_new ();
    assert_non_null (zmsg);
    if (frames >= 1)
        assert_int_equal (zmsg_addmem (zmsg, header, size), 0);
    for (int i = 1; i < frames; i++)
        assert_int_equal (zmsg_addmem (zmsg, body, body_size), 0);
    zc_msg_t *msg = zc_msg_decode (&zmsg, status);
    assert_null (zmsg);
    assert_true ((msg != NULL) == (*status == ZC_MSG_DECODE_OK));
    return msg;
}

static int
s_frames_for (zc_msg_type_t type)
{
    return type == ZC_MSG_PAGE ? 2 : 1;
}

//  Decodes HEADER as TYPE would be sent (with a body frame for PAGE) and
//  returns the status.
static zc_msg_decode_status_t
s_decode_status (zc_msg_type_t type, const void *header, size_t size)
{
    zc_msg_decode_status_t status;
    zc_msg_t *msg = s_decode_bytes (header, size, s_page_body, strlen (s_page_body),
                                    s_frames_for (type), &status);
    zc_msg_destroy (&msg);
    return status;
}

static char *
s_golden_path (const char *name, const char *ext)
{
    char *path = zsys_sprintf ("%s/%s.%s", GOLDEN_DIR, name, ext);
    assert_non_null (path);
    return path;
}

static void
s_write_hex (const char *path, const unsigned char *data, size_t size)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (size_t i = 0; i < size; i++)
        fprintf (file, "%02x%s", data[i], (i % 32 == 31 || i == size - 1) ? "\n" : "");
    assert_int_equal (fclose (file), 0);
}

//  Reads a hex file (whitespace ignored). Caller frees.
static unsigned char *
s_read_hex (const char *path, size_t *size)
{
    FILE *file = fopen (path, "r");
    if (!file)
        fail_msg ("cannot open golden vector %s (regenerate with ZC_GOLDEN_WRITE=1)", path);
    size_t alloc = 1024, n = 0;
    unsigned char *data = malloc (alloc);
    assert_non_null (data);
    int c, hi = -1;
    while ((c = fgetc (file)) != EOF) {
        int v = 0;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        else
            fail_msg ("bad character in %s", path);
        if (hi < 0)
            hi = v;
        else {
            if (n == alloc) {
                alloc *= 2;
                data = realloc (data, alloc);
                assert_non_null (data);
            }
            data[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose (file);
    assert_int_equal (hi, -1);
    *size = n;
    return data;
}

//  Loads the golden frame 1 of TYPE. Caller frees.
static unsigned char *
s_golden (zc_msg_type_t type, size_t *size)
{
    char *path = s_golden_path (zc_msg_type_str (type), "hex");
    unsigned char *data = s_read_hex (path, size);
    free (path);
    return data;
}

//  Every golden vector: one per type (no optional fields), then the "full"
//  ones with every optional field of their type set.
typedef struct {
    zc_msg_type_t type;
    int variant;
    const char *name; //  file name without ".hex"
} vector_t;

static const vector_t s_full_vectors[] = {
    {ZC_MSG_JOBS, VARIANT_FULL, "JOBS.full"},
    {ZC_MSG_SUBMIT, VARIANT_FULL, "SUBMIT.full"},
    {ZC_MSG_RESULT, VARIANT_FULL, "RESULT.full"},
    {ZC_MSG_FETCH_FAILED, VARIANT_FULL, "FETCH_FAILED.full"},
    {ZC_MSG_STATUS_REPLY, VARIANT_FULL, "STATUS_REPLY.full"},
};
#define S_FULL_VECTORS (sizeof s_full_vectors / sizeof s_full_vectors[0])
#define S_VECTORS ((ZC_MSG_TYPE_COUNT - ZC_MSG_HELLO) + S_FULL_VECTORS)

static vector_t
s_vector (size_t i)
{
    if (i < (size_t)(ZC_MSG_TYPE_COUNT - ZC_MSG_HELLO)) {
        zc_msg_type_t type = (zc_msg_type_t)(ZC_MSG_HELLO + (int)i);
        return (vector_t){type, VARIANT_GOLDEN, zc_msg_type_str (type)};
    }
    return s_full_vectors[i - (size_t)(ZC_MSG_TYPE_COUNT - ZC_MSG_HELLO)];
}

static unsigned char *
s_golden_vector (const vector_t *v, size_t *size)
{
    char *path = s_golden_path (v->name, "hex");
    unsigned char *data = s_read_hex (path, size);
    free (path);
    return data;
}

//  ---------------------------------------------------------------------
//  Tests: round trips and goldens

static void
test_type_names (void **state)
{
    (void)state;
    assert_string_equal (zc_msg_type_str (ZC_MSG_HELLO), "HELLO");
    assert_string_equal (zc_msg_type_str (ZC_MSG_FETCH_FAILED), "FETCH_FAILED");
    assert_string_equal (zc_msg_type_str (ZC_MSG_STATUS_REPLY), "STATUS_REPLY");
    assert_string_equal (zc_msg_type_str (ZC_MSG_ACCEPT), "ACCEPT");
    assert_string_equal (zc_msg_type_str (ZC_MSG_BYE), "BYE");
    assert_string_equal (zc_msg_type_str (ZC_MSG_PAUSE), "PAUSE");
    assert_string_equal (zc_msg_type_str (ZC_MSG_RESUME), "RESUME");
    //  Appended after v1's types: the v1 numbering is unchanged.
    assert_int_equal (ZC_MSG_STATUS_REPLY, 16);
    assert_int_equal (ZC_MSG_ACCEPT, 17);
    assert_int_equal (ZC_MSG_RESUME, 20);
    assert_string_equal (zc_msg_type_str ((zc_msg_type_t)0), "?");
    assert_string_equal (zc_msg_type_str ((zc_msg_type_t)ZC_MSG_TYPE_COUNT), "?");
    for (int s = ZC_MSG_DECODE_OK; s <= ZC_MSG_DECODE_FIELD; s++)
        assert_string_not_equal (zc_msg_decode_status_str ((zc_msg_decode_status_t)s), "?");
}

static void
test_round_trip (void **state)
{
    (void)state;
    for (int type = ZC_MSG_HELLO; type < ZC_MSG_TYPE_COUNT; type++) {
        for (int variant = 0; variant < VARIANT_COUNT; variant++) {
            example_t *ex = s_example_new ((zc_msg_type_t)type, variant);
            zmsg_t *zmsg = zc_msg_encode (&ex->msg);
            assert_non_null (zmsg);
            assert_int_equal (zmsg_size (zmsg), s_frames_for ((zc_msg_type_t)type));
            zc_msg_decode_status_t status = ZC_MSG_DECODE_FIELD;
            zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
            assert_null (zmsg);
            if (!msg)
                fail_msg ("%s variant %d: %s", zc_msg_type_str ((zc_msg_type_t)type), variant,
                          zc_msg_decode_status_str (status));
            assert_int_equal (status, ZC_MSG_DECODE_OK);
            s_check_msg (&ex->msg, msg);
            assert_non_null (msg->owned_);
            zc_msg_destroy (&msg);
            assert_null (msg);
            s_example_destroy (&ex);
        }
    }
    zc_msg_t *none = NULL;
    zc_msg_destroy (&none); //  NULL-safe
}

static void
test_null_strings_encode_empty (void **state)
{
    (void)state;
    zc_msg_t in = {.type = ZC_MSG_HELLO};
    in.hello.role = "fetcher"; //  id, version, endpoint NULL
    zmsg_t *zmsg = zc_msg_encode (&in);
    zc_msg_decode_status_t status;
    zc_msg_t *out = zc_msg_decode (&zmsg, &status);
    assert_non_null (out);
    assert_string_equal (out->hello.id, "");
    assert_string_equal (out->hello.version, "");
    assert_string_equal (out->hello.endpoint, "");
    assert_string_equal (out->hello.role, "fetcher");
    zc_msg_destroy (&out);

    //  Nil-able fields: NULL is sent as nil and decodes as NULL.
    zc_msg_t result = {.type = ZC_MSG_RESULT};
    zmsg = zc_msg_encode (&result);
    out = zc_msg_decode (&zmsg, &status);
    assert_non_null (out);
    assert_null (out->result.title);
    assert_null (out->result.parse_error);
    assert_string_equal (out->result.meta.url, "");
    assert_int_equal (out->result.link_count, 0);
    assert_int_equal (out->result.field_count, 0);
    zc_msg_destroy (&out);
}

static void
test_golden (void **state)
{
    (void)state;
    bool write = getenv ("ZC_GOLDEN_WRITE") != NULL;
    for (size_t vi = 0; vi < S_VECTORS; vi++) {
        vector_t vec = s_vector (vi);
        zc_msg_type_t type = vec.type;
        example_t *ex = s_example_new (type, vec.variant);
        zmsg_t *encoded = zc_msg_encode (&ex->msg);
        zframe_t *frame = zmsg_first (encoded);
        if (write) {
            char *path = s_golden_path (vec.name, "hex");
            s_write_hex (path, zframe_data (frame), zframe_size (frame));
            free (path);
            if (type == ZC_MSG_PAGE) {
                path = s_golden_path ("PAGE", "body.hex");
                s_write_hex (path, (const unsigned char *)s_page_body, strlen (s_page_body));
                free (path);
            }
        }
        size_t size;
        unsigned char *golden = s_golden_vector (&vec, &size);
        size_t body_size = 0;
        unsigned char *body = NULL;
        if (type == ZC_MSG_PAGE) {
            char *path = s_golden_path ("PAGE", "body.hex");
            body = s_read_hex (path, &body_size);
            free (path);
        }
        //  Decode the committed bytes and check every field.
        zc_msg_decode_status_t status;
        zc_msg_t *msg =
            s_decode_bytes (golden, size, body, body_size, s_frames_for (type), &status);
        if (!msg)
            fail_msg ("golden %s: %s", vec.name, zc_msg_decode_status_str (status));
        s_check_msg (&ex->msg, msg);

        //  Re-encode the decoded message: byte for byte the same.
        zmsg_t *again = zc_msg_encode (msg);
        zframe_t *again_frame = zmsg_first (again);
        assert_int_equal (zframe_size (again_frame), size);
        assert_memory_equal (zframe_data (again_frame), golden, size);
        if (type == ZC_MSG_PAGE) {
            zframe_t *again_body = zmsg_next (again);
            s_check_bytes (body, body_size, zframe_data (again_body), zframe_size (again_body));
        }
        //  And the example encodes to the same bytes too.
        assert_int_equal (zframe_size (frame), size);
        assert_memory_equal (zframe_data (frame), golden, size);

        zmsg_destroy (&again);
        zmsg_destroy (&encoded);
        zc_msg_destroy (&msg);
        free (body);
        free (golden);
        s_example_destroy (&ex);
    }
}

//  The first bytes of a golden vector, as documented in PROTOCOL.md.
static void
test_golden_layout (void **state)
{
    (void)state;
    size_t size;
    unsigned char *golden = s_golden (ZC_MSG_READY, &size);
    //  {"v": 1, "t": "READY", "credit": 64}
    const unsigned char expected[] = {0x83, 0xa1, 'v',  0x01, 0xa1, 't', 0xa5, 'R', 'E', 'A',
                                      'D',  'Y',  0xa6, 'c',  'r',  'e', 'd',  'i', 't', 0x40};
    assert_int_equal (size, sizeof expected);
    assert_memory_equal (golden, expected, size);
    free (golden);
}

static char *
s_read_text (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        fail_msg ("cannot open %s", path);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long size = ftell (file);
    assert_true (size >= 0);
    rewind (file);
    char *text = malloc ((size_t)size + 1);
    assert_non_null (text);
    assert_int_equal (fread (text, 1, (size_t)size, file), (size_t)size);
    text[size] = 0;
    fclose (file);
    return text;
}

//  docs/PROTOCOL.md carries the same golden vectors as the fixtures.
static void
test_golden_in_protocol_doc (void **state)
{
    (void)state;
    char *doc = s_read_text (ZC_FIXTURES_DIR "/../../docs/PROTOCOL.md");
    for (size_t i = 0; i <= S_VECTORS; i++) {
        vector_t vec = i < S_VECTORS ? s_vector (i) : (vector_t){ZC_MSG_PAGE, 0, "PAGE.body"};
        char *path = s_golden_path (vec.name, "hex");
        char *hex = s_read_text (path);
        size_t len = strlen (hex);
        while (len && (hex[len - 1] == '\n' || hex[len - 1] == ' '))
            hex[--len] = 0;
        if (!strstr (doc, hex))
            fail_msg ("docs/PROTOCOL.md does not contain the vector %s", path);
        free (hex);
        free (path);
    }
    free (doc);
}

//  ---------------------------------------------------------------------
//  Tests: hostile input

static void
test_truncation (void **state)
{
    (void)state;
    for (size_t vi = 0; vi < S_VECTORS; vi++) {
        vector_t vec = s_vector (vi);
        zc_msg_type_t t = vec.type;
        size_t size;
        unsigned char *golden = s_golden_vector (&vec, &size);
        for (size_t len = 0; len < size; len++)
            assert_int_not_equal (s_decode_status ((zc_msg_type_t)t, golden, len),
                                  ZC_MSG_DECODE_OK);
        //  Trailing bytes after the map are malformed too.
        unsigned char *longer = malloc (size + 1);
        memcpy (longer, golden, size);
        longer[size] = 0xc0;
        assert_int_equal (s_decode_status ((zc_msg_type_t)t, longer, size + 1),
                          ZC_MSG_DECODE_MALFORMED);
        free (longer);
        free (golden);
    }
}

//  Copies a msgpack object while replacing or dropping the value with
//  pre-order index TARGET (map values and array elements; the root is not
//  counted). Records what was hit.
typedef struct {
    int target;
    int counter;
    bool drop; //  drop the map entry instead of replacing the value
    msgpack_object replacement;
    bool hit;
    char key[64]; //  the map key of the hit value ("" in an array)
    int depth;    //  of the hit value (1 = top-level field)
    bool in_array;
    bool in_data_map; //  inside RESULT "fields" (keys are data)
} mutation_t;

static msgpack_object
s_copy_mutated (msgpack_zone *zone, const msgpack_object *o, mutation_t *m, int depth,
                bool data_map)
{
    msgpack_object c = *o;
    if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size) {
        c.via.array.ptr = msgpack_zone_malloc (zone, o->via.array.size * sizeof (msgpack_object));
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (m->counter++ == m->target) {
                m->hit = true;
                m->key[0] = 0;
                m->depth = depth + 1;
                m->in_array = true;
                m->in_data_map = data_map;
                c.via.array.ptr[i] = m->drop ? o->via.array.ptr[i] : m->replacement;
            } else
                c.via.array.ptr[i] =
                    s_copy_mutated (zone, &o->via.array.ptr[i], m, depth + 1, data_map);
        }
    } else if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size) {
        c.via.map.ptr = msgpack_zone_malloc (zone, o->via.map.size * sizeof (msgpack_object_kv));
        c.via.map.size = 0;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            msgpack_object_kv out = *kv;
            bool is_fields = kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 6 &&
                             memcmp (kv->key.via.str.ptr, "fields", 6) == 0;
            if (m->counter++ == m->target) {
                m->hit = true;
                snprintf (m->key, sizeof m->key, "%.*s", (int)kv->key.via.str.size,
                          kv->key.via.str.ptr);
                m->depth = depth + 1;
                m->in_array = false;
                m->in_data_map = data_map;
                if (m->drop)
                    continue;
                out.val = m->replacement;
            } else
                out.val = s_copy_mutated (zone, &kv->val, m, depth + 1, is_fields);
            c.via.map.ptr[c.via.map.size++] = out;
        }
    }
    return c;
}

//  The optional keys (absent = zero). "redirects" is also a required key of
//  PAGE and RESULT (page metadata).
static const char *const s_optional_keys[] = {
    "headers",
    "resolve",
    "redirects",
    "robots",
    "rules",
    "xpath",
    "take",
    "attr",
    "all",
    "regex",
    "impolite",
    "crawl_delay_cap_ms",
    "ignore_robots",
    "robots_cache_ms",
    "max_attempts",
    "retry_base_ms",
    "allowed_hosts",
    "allowed_domains",
    "include",
    "exclude",
    "max_pages_per_host",
    "max_url_bytes",
    "max_path_segments",
    "max_segment_repeats",
    "canonical",
    "noindex",
    "nofollow",
    "charset",
    "retry_after_ms",
    "error",
};
#define S_OPTIONAL_KEYS (sizeof s_optional_keys / sizeof s_optional_keys[0])

static int
s_optional_index (zc_msg_type_t type, const char *key)
{
    if ((type == ZC_MSG_PAGE || type == ZC_MSG_RESULT) && strcmp (key, "redirects") == 0)
        return -1;
    if (type == ZC_MSG_ERROR && strcmp (key, "error") == 0)
        return -1; //  ERROR's one required field
    for (size_t i = 0; i < S_OPTIONAL_KEYS; i++)
        if (strcmp (key, s_optional_keys[i]) == 0)
            return (int)i;
    return -1;
}

//  Mutates every value of every golden vector in turn and checks the
//  decoder's verdict. Marks in OPTIONAL_HIT (if not NULL) the optional keys
//  whose value was mutated.
static void
s_mutate_all (bool drop, msgpack_object replacement, bool *optional_hit)
{
    for (size_t vi = 0; vi < S_VECTORS; vi++) {
        vector_t vec = s_vector (vi);
        zc_msg_type_t type = vec.type;
        size_t size;
        unsigned char *golden = s_golden_vector (&vec, &size);
        msgpack_zone *zone = msgpack_zone_new (4096);
        msgpack_object root;
        size_t off = 0;
        assert_int_equal (msgpack_unpack ((const char *)golden, size, &off, zone, &root),
                          MSGPACK_UNPACK_SUCCESS);
        for (int target = 0;; target++) {
            mutation_t m = {.target = target, .drop = drop, .replacement = replacement};
            msgpack_object copy = s_copy_mutated (zone, &root, &m, 0, false);
            if (!m.hit)
                break;
            msgpack_sbuffer sbuf;
            msgpack_sbuffer_init (&sbuf);
            msgpack_packer pk;
            msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
            assert_int_equal (msgpack_pack_object (&pk, copy), 0);
            zc_msg_decode_status_t status = s_decode_status (type, sbuf.data, sbuf.size);
            msgpack_sbuffer_destroy (&sbuf);

            zc_msg_decode_status_t expected = ZC_MSG_DECODE_FIELD;
            bool nilable = strcmp (m.key, "title") == 0 || strcmp (m.key, "parse_error") == 0;
            int optional = m.in_array || m.in_data_map ? -1 : s_optional_index (type, m.key);
            if (optional >= 0 && optional_hit)
                optional_hit[optional] = true;
            if (m.depth == 1 && strcmp (m.key, "v") == 0)
                expected = ZC_MSG_DECODE_VERSION;
            else if (m.depth == 1 && strcmp (m.key, "t") == 0)
                expected = ZC_MSG_DECODE_TYPE;
            else if (drop && (m.in_array || m.in_data_map || nilable || optional >= 0))
                expected = ZC_MSG_DECODE_OK; //  nothing dropped, a field, or optional
            else if (!drop && replacement.type == MSGPACK_OBJECT_NIL && nilable && m.depth == 1)
                expected = ZC_MSG_DECODE_OK;
            else if (!drop && replacement.type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
                     strcmp (m.key, "max_depth") == 0)
                expected = ZC_MSG_DECODE_OK; //  the one signed field
            else if (!drop && replacement.type == MSGPACK_OBJECT_MAP && m.depth == 1 &&
                     strcmp (m.key, "fields") == 0)
                expected = ZC_MSG_DECODE_OK; //  an empty fields map
            if (status != expected)
                fail_msg ("%s %s value #%d (key '%s', depth %d): got '%s', expected '%s'", vec.name,
                          drop ? "dropping" : "replacing", target, m.key, m.depth,
                          zc_msg_decode_status_str (status), zc_msg_decode_status_str (expected));
        }
        msgpack_zone_free (zone);
        free (golden);
    }
}

static void
test_wrong_types_and_missing_fields (void **state)
{
    (void)state;
    msgpack_object f = {.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 1.5};
    msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    msgpack_object neg = {.type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = -1};
    msgpack_object map = {.type = MSGPACK_OBJECT_MAP};
    bool hit[S_OPTIONAL_KEYS] = {false};
    s_mutate_all (false, f, hit);
    s_mutate_all (false, nil, NULL);
    s_mutate_all (false, neg, NULL);
    s_mutate_all (false, map, NULL);
    s_mutate_all (true, nil, NULL);
    //  Every optional key of the full vectors got each wrong type above.
    for (size_t i = 0; i < S_OPTIONAL_KEYS; i++)
        if (!hit[i])
            fail_msg ("optional key '%s' is in no golden vector", s_optional_keys[i]);
}

//  Packs {"v": V, "t": T, KEY: <value packed by the caller>...}.
static void
s_pack_head (msgpack_packer *pk, size_t entries, int64_t v, const char *t)
{
    msgpack_pack_map (pk, entries);
    msgpack_pack_str_with_body (pk, "v", 1);
    msgpack_pack_int64 (pk, v);
    msgpack_pack_str_with_body (pk, "t", 1);
    msgpack_pack_str_with_body (pk, t, strlen (t));
}

static zc_msg_decode_status_t
s_decode_sbuf (msgpack_sbuffer *sbuf, int frames)
{
    zc_msg_decode_status_t status;
    zc_msg_t *msg = s_decode_bytes (sbuf->data, sbuf->size, "x", 1, frames, &status);
    zc_msg_destroy (&msg);
    msgpack_sbuffer_clear (sbuf);
    return status;
}

static void
test_envelope_errors (void **state)
{
    (void)state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);

    s_pack_head (&pk, 3, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_OK);

    s_pack_head (&pk, 3, 2, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_VERSION);

    s_pack_head (&pk, 3, -1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_VERSION);

    //  No "v" at all.
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "t", 1);
    msgpack_pack_str_with_body (&pk, "READY", 5);
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_VERSION);

    s_pack_head (&pk, 3, 1, "BOGUS");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TYPE);

    s_pack_head (&pk, 3, 1, "ready"); //  case matters
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TYPE);

    s_pack_head (&pk, 3, 1, "READYX");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TYPE);

    //  Not a map at the top.
    msgpack_pack_array (&pk, 1);
    msgpack_pack_uint32 (&pk, 1);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_MALFORMED);

    //  Out of range integers.
    s_pack_head (&pk, 3, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint64 (&pk, (uint64_t)UINT32_MAX + 1);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);

    s_pack_head (&pk, 3, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint64 (&pk, UINT32_MAX);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_OK);

    //  A uint encoded wider than needed (e.g. by another language) is fine.
    s_pack_head (&pk, 3, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_fix_uint64 (&pk, 7);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_OK);

    //  Duplicate keys are rejected.
    s_pack_head (&pk, 4, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 6);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);

    //  Bad job kind.
    s_pack_head (&pk, 3, 1, "JOBS");
    msgpack_pack_str_with_body (&pk, "jobs", 4);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "kind", 4);
    msgpack_pack_str_with_body (&pk, "video", 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);

    //  max_depth is signed: 2^31 is out of range.
    s_pack_head (&pk, 3, 1, "SUBMIT");
    msgpack_pack_str_with_body (&pk, "opts", 4);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "max_depth", 9);
    msgpack_pack_uint64 (&pk, (uint64_t)INT32_MAX + 1);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);

    //  Frame counts.
    s_pack_head (&pk, 3, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    assert_int_equal (s_decode_sbuf (&sbuf, 2), ZC_MSG_DECODE_FRAMES);

    msgpack_sbuffer_destroy (&sbuf);

    size_t size;
    unsigned char *page = s_golden (ZC_MSG_PAGE, &size);
    zc_msg_decode_status_t status;
    for (int frames = 0; frames <= 3; frames++) {
        zc_msg_t *msg = s_decode_bytes (page, size, "body", 4, frames, &status);
        assert_int_equal (status, frames == 2 ? ZC_MSG_DECODE_OK : ZC_MSG_DECODE_FRAMES);
        zc_msg_destroy (&msg);
    }
    free (page);

    //  NULL message.
    zmsg_t *none = NULL;
    assert_null (zc_msg_decode (&none, &status));
    assert_int_equal (status, ZC_MSG_DECODE_FRAMES);
    none = zmsg_new ();
    assert_null (zc_msg_decode (&none, NULL));
    assert_null (none);
}

//  ---------------------------------------------------------------------
//  Tests: optional fields

//  The v1 vectors (written before the optional fields existed) decode with
//  every optional field zero / false / "" / empty.
static void
test_optional_absent_is_zero (void **state)
{
    (void)state;
    const zc_msg_type_t types[] = {ZC_MSG_JOBS,         ZC_MSG_SUBMIT, ZC_MSG_RESULT,
                                   ZC_MSG_FETCH_FAILED, ZC_MSG_PAGE,   ZC_MSG_STATUS_REPLY};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t size;
        unsigned char *golden = s_golden (types[i], &size);
        zc_msg_decode_status_t status;
        zc_msg_t *msg = s_decode_bytes (golden, size, "b", 1, s_frames_for (types[i]), &status);
        assert_non_null (msg);
        switch (types[i]) {
        case ZC_MSG_JOBS:
            assert_int_equal (msg->jobs.job_count, 2);
            for (size_t j = 0; j < msg->jobs.job_count; j++) {
                const zc_job_t *job = &msg->jobs.jobs[j];
                assert_int_equal (job->redirects, 0);
                assert_null (job->robots);
                assert_int_equal (job->robots_count, 0);
                assert_null (job->rules);
                assert_int_equal (job->rule_count, 0);
                assert_int_equal (job->opts.header_count, 0);
                assert_int_equal (job->opts.resolve_count, 0);
                assert_non_null (job->origin);
                assert_string_equal (job->origin, "");
            }
            break;
        case ZC_MSG_SUBMIT: {
            const zc_crawl_opts_t *c = &msg->submit.opts;
            assert_false (c->impolite);
            assert_false (c->ignore_robots);
            assert_int_equal (c->crawl_delay_cap_ms, 0);
            assert_int_equal (c->robots_cache_ms, 0);
            assert_int_equal (c->max_attempts, 0);
            assert_int_equal (c->retry_base_ms, 0);
            assert_int_equal (c->allowed_host_count, 0);
            assert_int_equal (c->allowed_domain_count, 0);
            assert_int_equal (c->include_count, 0);
            assert_int_equal (c->exclude_count, 0);
            assert_int_equal (c->max_pages_per_host, 0);
            assert_int_equal (c->max_url_bytes, 0);
            assert_int_equal (c->max_path_segments, 0);
            assert_int_equal (c->max_segment_repeats, 0);
            assert_int_equal (c->rule_count, 0);
            assert_int_equal (c->fetch.header_count, 0);
            assert_int_equal (c->fetch.resolve_count, 0);
            break;
        }
        case ZC_MSG_RESULT:
            assert_non_null (msg->result.canonical);
            assert_string_equal (msg->result.canonical, "");
            assert_non_null (msg->result.charset);
            assert_string_equal (msg->result.charset, "");
            assert_false (msg->result.noindex);
            assert_false (msg->result.nofollow);
            break;
        case ZC_MSG_FETCH_FAILED:
            assert_int_equal (msg->fetch_failed.retry_after_ms, 0);
            assert_int_equal (msg->fetch_failed.redirects, 0);
            break;
        case ZC_MSG_PAGE:
            assert_int_equal (msg->page.rule_count, 0);
            assert_null (msg->page.rules);
            break;
        case ZC_MSG_STATUS_REPLY:
            assert_int_equal (msg->status_reply.crawl_count, 1);
            assert_non_null (msg->status_reply.crawls[0].error);
            assert_string_equal (msg->status_reply.crawls[0].error, "");
            break;
        default:
            fail ();
        }
        zc_msg_destroy (&msg);
        free (golden);
    }

    //  A rule with only its required keys (the encoder omits the others):
    //  take "text", attr and regex "".
    example_t *ex = s_example_new (ZC_MSG_PAGE, VARIANT_GOLDEN);
    zc_extract_rule_t rule = {.name = "t", .selector = "title"};
    ex->msg.page.rules = &rule;
    ex->msg.page.rule_count = 1;
    zmsg_t *zmsg = zc_msg_encode (&ex->msg);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    assert_int_equal (msg->page.rule_count, 1);
    assert_string_equal (msg->page.rules[0].name, "t");
    assert_string_equal (msg->page.rules[0].selector, "title");
    assert_false (msg->page.rules[0].xpath);
    assert_int_equal (msg->page.rules[0].take, ZC_TAKE_TEXT);
    assert_string_equal (msg->page.rules[0].attr, "");
    assert_false (msg->page.rules[0].all);
    assert_string_equal (msg->page.rules[0].regex, "");
    zc_msg_destroy (&msg);
    s_example_destroy (&ex);
}

//  True if the encoded frame contains KEY as a msgpack fixstr.
static bool
s_has_key (zframe_t *frame, const char *key)
{
    size_t len = strlen (key);
    assert_true (len < 32);
    const unsigned char *data = zframe_data (frame);
    size_t size = zframe_size (frame);
    for (size_t i = 0; i + 1 + len <= size; i++)
        if (data[i] == (0xa0 | len) && memcmp (data + i + 1, key, len) == 0)
            return true;
    return false;
}

//  Optional fields holding their zero value are not sent; non-zero ones are.
static void
test_optional_zero_omitted (void **state)
{
    (void)state;
    example_t *ex = s_example_new (ZC_MSG_JOBS, VARIANT_FULL);
    zmsg_t *zmsg = zc_msg_encode (&ex->msg);
    zframe_t *frame = zmsg_first (zmsg);
    const char *sent[] = {"headers", "resolve", "redirects", "robots", "rules",
                          "xpath",   "take",    "attr",      "all",    "regex"};
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        assert_true (s_has_key (frame, sent[i]));
    zmsg_destroy (&zmsg);

    //  Zero values (with non-NULL pointers for the empty arrays) are omitted.
    zc_job_t *job = &ex->jobs[1];
    job->redirects = 0;
    job->robots_count = 0;
    job->opts.header_count = 0;
    job->opts.resolve_count = 0;
    ex->rules[0] = (zc_extract_rule_t){.name = "a", .selector = "b", .attr = "", .regex = ""};
    job->rule_count = 1;
    ex->msg.jobs.jobs = job; //  only the page job (the robots one has "robots" as kind)
    ex->msg.jobs.job_count = 1;
    zmsg = zc_msg_encode (&ex->msg);
    frame = zmsg_first (zmsg);
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++)
        assert_int_equal (s_has_key (frame, sent[i]), strcmp (sent[i], "rules") == 0);
    zmsg_destroy (&zmsg);
    s_example_destroy (&ex);

    //  A message with every optional field zero is the v1 message, byte for byte.
    const zc_msg_type_t types[] = {ZC_MSG_SUBMIT, ZC_MSG_RESULT, ZC_MSG_FETCH_FAILED,
                                   ZC_MSG_STATUS_REPLY};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        ex = s_example_new (types[i], VARIANT_GOLDEN);
        if (types[i] == ZC_MSG_STATUS_REPLY)
            ex->crawls[0].error = "";
        else if (types[i] == ZC_MSG_RESULT) {
            ex->msg.result.canonical = "";
            ex->msg.result.charset = "";
        } else if (types[i] == ZC_MSG_SUBMIT) {
            ex->msg.submit.opts.rules = ex->rules;
            ex->msg.submit.opts.include = ex->opt_strs;
        }
        zmsg = zc_msg_encode (&ex->msg);
        frame = zmsg_first (zmsg);
        size_t size;
        unsigned char *golden = s_golden (types[i], &size);
        assert_int_equal (zframe_size (frame), size);
        assert_memory_equal (zframe_data (frame), golden, size);
        free (golden);
        zmsg_destroy (&zmsg);
        s_example_destroy (&ex);
    }
}

//  Hand-made messages with wrongly typed or bad optional values.
static void
test_optional_bad_values (void **state)
{
    (void)state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);

    //  take must be one of "text", "html", "attr".
    const struct {
        const char *take;
        zc_msg_decode_status_t expected;
    } takes[] = {{"text", ZC_MSG_DECODE_OK},     {"html", ZC_MSG_DECODE_OK},
                 {"attr", ZC_MSG_DECODE_OK},     {"TEXT", ZC_MSG_DECODE_FIELD},
                 {"texts", ZC_MSG_DECODE_FIELD}, {"", ZC_MSG_DECODE_FIELD},
                 {"inner", ZC_MSG_DECODE_FIELD}};
    for (size_t i = 0; i < sizeof takes / sizeof takes[0]; i++) {
        //  A minimal SUBMIT whose crawl options carry one rule.
        s_pack_head (&pk, 6, 1, "SUBMIT");
        msgpack_pack_str_with_body (&pk, "seeds", 5);
        msgpack_pack_array (&pk, 0);
        msgpack_pack_str_with_body (&pk, "output", 6);
        msgpack_pack_str_with_body (&pk, "", 0);
        msgpack_pack_str_with_body (&pk, "errors", 6);
        msgpack_pack_str_with_body (&pk, "", 0);
        msgpack_pack_str_with_body (&pk, "opts", 4);
        msgpack_pack_map (&pk, 6);
        msgpack_pack_str_with_body (&pk, "max_depth", 9);
        msgpack_pack_int (&pk, -1);
        msgpack_pack_str_with_body (&pk, "max_pages", 9);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "host_concurrency", 16);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "host_delay_ms", 13);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "fetch", 5);
        msgpack_pack_map (&pk, 6);
        msgpack_pack_str_with_body (&pk, "connect_timeout_ms", 18);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "timeout_ms", 10);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "max_body_bytes", 14);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "max_redirects", 13);
        msgpack_pack_int (&pk, 0);
        msgpack_pack_str_with_body (&pk, "allow_private", 13);
        msgpack_pack_false (&pk);
        msgpack_pack_str_with_body (&pk, "user_agent", 10);
        msgpack_pack_str_with_body (&pk, "", 0);
        msgpack_pack_str_with_body (&pk, "rules", 5);
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 4);
        msgpack_pack_str_with_body (&pk, "name", 4);
        msgpack_pack_str_with_body (&pk, "n", 1);
        msgpack_pack_str_with_body (&pk, "selector", 8);
        msgpack_pack_str_with_body (&pk, "p", 1);
        msgpack_pack_str_with_body (&pk, "take", 4);
        msgpack_pack_str_with_body (&pk, takes[i].take, strlen (takes[i].take));
        msgpack_pack_str_with_body (&pk, "extra", 5); //  unknown: ignored
        msgpack_pack_nil (&pk);
        zc_msg_decode_status_t status = s_decode_sbuf (&sbuf, 1);
        if (status != takes[i].expected)
            fail_msg ("take '%s': %s", takes[i].take, zc_msg_decode_status_str (status));
    }

    //  Out of range and wrongly typed optional values in a real message.
    example_t *ex = s_example_new (ZC_MSG_FETCH_FAILED, VARIANT_FULL);
    zmsg_t *zmsg = zc_msg_encode (&ex->msg);
    zframe_t *frame = zmsg_first (zmsg);
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal (
        msgpack_unpack ((const char *)zframe_data (frame), zframe_size (frame), &off, zone, &root),
        MSGPACK_UNPACK_SUCCESS);
    const msgpack_object bad[] = {
        {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t)UINT32_MAX + 1},
        {.type = MSGPACK_OBJECT_STR, .via.str = {.size = 2, .ptr = "10"}},
        {.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = true},
        {.type = MSGPACK_OBJECT_NIL},
    };
    const char *keys[] = {"retry_after_ms", "redirects"};
    for (size_t k = 0; k < 2; k++) {
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            msgpack_pack_map (&pk, root.via.map.size);
            for (uint32_t i = 0; i < root.via.map.size; i++) {
                const msgpack_object_kv *kv = &root.via.map.ptr[i];
                msgpack_pack_object (&pk, kv->key);
                bool target = kv->key.via.str.size == strlen (keys[k]) &&
                              memcmp (kv->key.via.str.ptr, keys[k], strlen (keys[k])) == 0;
                msgpack_pack_object (&pk, target ? bad[b] : kv->val);
            }
            assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);
        }
    }
    msgpack_zone_free (zone);
    zmsg_destroy (&zmsg);
    s_example_destroy (&ex);

    //  A huge declared rules/robots count is rejected before any allocation.
    const char *arrays[] = {"rules", "robots"};
    for (size_t i = 0; i < 2; i++) {
        s_pack_head (&pk, 3, 1, "JOBS");
        msgpack_pack_str_with_body (&pk, "jobs", 4);
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 1);
        msgpack_pack_str_with_body (&pk, arrays[i], strlen (arrays[i]));
        msgpack_pack_array (&pk, UINT32_MAX);
        msgpack_pack_map (&pk, 0);
        assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TOO_LARGE);
    }
    msgpack_sbuffer_destroy (&sbuf);
}

//  job.origin (a redirect continuation): round trip, omitted when "", absent
//  decodes as "", wrongly typed is a FIELD error. Not in the golden vectors,
//  which stay the messages of the previous protocol revision.
static void
test_job_origin (void **state)
{
    (void)state;
    example_t *ex = s_example_new (ZC_MSG_JOBS, VARIANT_GOLDEN);
    ex->jobs[1].origin = "http://example.com/redirect/1";
    zmsg_t *zmsg = zc_msg_encode (&ex->msg);
    assert_true (s_has_key (zmsg_first (zmsg), "origin"));
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    s_check_msg (&ex->msg, msg);
    assert_string_equal (msg->jobs.jobs[0].origin, "");
    assert_string_equal (msg->jobs.jobs[1].origin, "http://example.com/redirect/1");
    zc_msg_destroy (&msg);

    //  "" and NULL are not sent: the v1 bytes.
    const char *empty[] = {"", NULL};
    for (size_t i = 0; i < 2; i++) {
        ex->jobs[1].origin = empty[i];
        zmsg = zc_msg_encode (&ex->msg);
        zframe_t *frame = zmsg_first (zmsg);
        assert_false (s_has_key (frame, "origin"));
        size_t size;
        unsigned char *golden = s_golden (ZC_MSG_JOBS, &size);
        assert_int_equal (zframe_size (frame), size);
        assert_memory_equal (zframe_data (frame), golden, size);
        free (golden);
        zmsg_destroy (&zmsg);
    }
    s_example_destroy (&ex);

    //  A job map with origin of a wrong type.
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    ex = s_example_new (ZC_MSG_JOBS, VARIANT_GOLDEN);
    ex->jobs[1].origin = "http://example.com/a";
    zmsg = zc_msg_encode (&ex->msg);
    zframe_t *frame = zmsg_first (zmsg);
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal (
        msgpack_unpack ((const char *)zframe_data (frame), zframe_size (frame), &off, zone, &root),
        MSGPACK_UNPACK_SUCCESS);
    const msgpack_object bad[] = {
        {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 7},
        {.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = true},
        {.type = MSGPACK_OBJECT_NIL},
        {.type = MSGPACK_OBJECT_ARRAY},
        {.type = MSGPACK_OBJECT_BIN, .via.bin = {.size = 1, .ptr = "x"}},
    };
    for (size_t b = 0; b <= sizeof bad / sizeof bad[0]; b++) {
        //  Re-pack the root, replacing the value of "origin" in the jobs.
        msgpack_pack_map (&pk, root.via.map.size);
        for (uint32_t i = 0; i < root.via.map.size; i++) {
            const msgpack_object_kv *kv = &root.via.map.ptr[i];
            msgpack_pack_object (&pk, kv->key);
            if (kv->val.type != MSGPACK_OBJECT_ARRAY) {
                msgpack_pack_object (&pk, kv->val);
                continue;
            }
            msgpack_pack_array (&pk, kv->val.via.array.size);
            for (uint32_t j = 0; j < kv->val.via.array.size; j++) {
                const msgpack_object *job = &kv->val.via.array.ptr[j];
                msgpack_pack_map (&pk, job->via.map.size);
                for (uint32_t k = 0; k < job->via.map.size; k++) {
                    const msgpack_object_kv *jkv = &job->via.map.ptr[k];
                    msgpack_pack_object (&pk, jkv->key);
                    bool target = jkv->key.via.str.size == 6 &&
                                  memcmp (jkv->key.via.str.ptr, "origin", 6) == 0;
                    msgpack_pack_object (&pk, target && b < sizeof bad / sizeof bad[0] ? bad[b]
                                                                                       : jkv->val);
                }
            }
        }
        //  The last round is the unchanged message (the re-packing is faithful).
        assert_int_equal (s_decode_sbuf (&sbuf, 1),
                          b < sizeof bad / sizeof bad[0] ? ZC_MSG_DECODE_FIELD : ZC_MSG_DECODE_OK);
    }
    msgpack_zone_free (zone);
    zmsg_destroy (&zmsg);
    s_example_destroy (&ex);
    msgpack_sbuffer_destroy (&sbuf);
}

//  ACCEPT's id array: only non-negative integers up to 2^64-1; a huge
//  declared count is rejected before any allocation.
static void
test_accept_ids (void **state)
{
    (void)state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);

    s_pack_head (&pk, 4, 1, "ACCEPT");
    msgpack_pack_str_with_body (&pk, "node", 4);
    msgpack_pack_str_with_body (&pk, "p", 1);
    msgpack_pack_str_with_body (&pk, "jobs", 4);
    msgpack_pack_array (&pk, 3);
    msgpack_pack_fix_uint8 (&pk, 1); //  any width
    msgpack_pack_fix_uint32 (&pk, 2);
    msgpack_pack_uint64 (&pk, UINT64_MAX);
    zc_msg_decode_status_t status;
    zc_msg_t *msg = s_decode_bytes (sbuf.data, sbuf.size, NULL, 0, 1, &status);
    assert_non_null (msg);
    assert_int_equal (msg->accept.job_count, 3);
    assert_int_equal (msg->accept.jobs[0], 1);
    assert_int_equal (msg->accept.jobs[1], 2);
    assert_true (msg->accept.jobs[2] == UINT64_MAX);
    zc_msg_destroy (&msg);
    msgpack_sbuffer_clear (&sbuf);

    //  Bad elements and a jobs value that is not an array.
    for (int bad = 0; bad < 5; bad++) {
        s_pack_head (&pk, 4, 1, "ACCEPT");
        msgpack_pack_str_with_body (&pk, "node", 4);
        msgpack_pack_str_with_body (&pk, "p", 1);
        msgpack_pack_str_with_body (&pk, "jobs", 4);
        if (bad == 4)
            msgpack_pack_uint32 (&pk, 7);
        else {
            msgpack_pack_array (&pk, 2);
            msgpack_pack_uint32 (&pk, 7);
            if (bad == 0)
                msgpack_pack_int (&pk, -1);
            else if (bad == 1)
                msgpack_pack_str_with_body (&pk, "8", 1);
            else if (bad == 2)
                msgpack_pack_double (&pk, 8.0);
            else
                msgpack_pack_nil (&pk);
        }
        assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);
    }

    //  jobs is required.
    s_pack_head (&pk, 3, 1, "ACCEPT");
    msgpack_pack_str_with_body (&pk, "node", 4);
    msgpack_pack_str_with_body (&pk, "p", 1);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_FIELD);

    //  A declared count of 2^32-1 elements.
    s_pack_head (&pk, 4, 1, "ACCEPT");
    msgpack_pack_str_with_body (&pk, "node", 4);
    msgpack_pack_str_with_body (&pk, "p", 1);
    msgpack_pack_str_with_body (&pk, "jobs", 4);
    msgpack_pack_array (&pk, UINT32_MAX);
    msgpack_pack_uint32 (&pk, 1);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TOO_LARGE);
    msgpack_sbuffer_destroy (&sbuf);
}

//  zc_msg_page_id: the job id of a PAGE without decoding it.
static void
test_page_id (void **state)
{
    (void)state;
    example_t *ex = s_example_new (ZC_MSG_PAGE, VARIANT_FULL);
    zmsg_t *zmsg = zc_msg_encode (&ex->msg);
    uint64_t id = 0;
    assert_int_equal (zc_msg_page_id (zmsg, &id), 0);
    assert_int_equal (id, 42);
    assert_int_equal (zmsg_size (zmsg), 2); //  not taken
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    zc_msg_destroy (&msg);

    ex->msg.page.meta.id = UINT64_MAX;
    zmsg = zc_msg_encode (&ex->msg);
    assert_int_equal (zc_msg_page_id (zmsg, &id), 0);
    assert_true (id == UINT64_MAX);
    //  One frame only
    zframe_t *body = zmsg_last (zmsg);
    zmsg_remove (zmsg, body);
    zframe_destroy (&body);
    id = 7;
    assert_int_equal (zc_msg_page_id (zmsg, &id), -1);
    assert_int_equal (id, 7);
    zmsg_destroy (&zmsg);
    assert_int_equal (zc_msg_page_id (NULL, &id), -1);
    s_example_destroy (&ex);

    //  Another type with an "id", garbage, truncation, a bad id, two ids
    ex = s_example_new (ZC_MSG_FETCH_FAILED, VARIANT_GOLDEN);
    zmsg = zc_msg_encode (&ex->msg);
    assert_int_equal (zmsg_addstr (zmsg, "body"), 0);
    assert_int_equal (zc_msg_page_id (zmsg, &id), -1);
    zmsg_destroy (&zmsg);
    s_example_destroy (&ex);
    size_t size;
    unsigned char *golden = s_golden (ZC_MSG_PAGE, &size);
    for (size_t len = 0; len < size; len++) {
        zmsg = zmsg_new ();
        assert_int_equal (zmsg_addmem (zmsg, golden, len), 0);
        assert_int_equal (zmsg_addstr (zmsg, "body"), 0);
        assert_int_equal (zc_msg_page_id (zmsg, &id), -1);
        zmsg_destroy (&zmsg);
    }
    free (golden);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    for (int variant = 0; variant < 4; variant++) {
        s_pack_head (&pk, variant == 3 ? 4 : 3, 1, "PAGE");
        msgpack_pack_str_with_body (&pk, "id", 2);
        if (variant == 0)
            msgpack_pack_int (&pk, -5);
        else if (variant == 1)
            msgpack_pack_str_with_body (&pk, "5", 1);
        else
            msgpack_pack_uint32 (&pk, 5);
        if (variant == 3) {
            msgpack_pack_str_with_body (&pk, "id", 2);
            msgpack_pack_uint32 (&pk, 6);
        }
        zmsg = zmsg_new ();
        assert_int_equal (zmsg_addmem (zmsg, sbuf.data, sbuf.size), 0);
        assert_int_equal (zmsg_addstr (zmsg, "body"), 0);
        id = 0;
        assert_int_equal (zc_msg_page_id (zmsg, &id), variant == 2 ? 0 : -1);
        assert_int_equal (id, variant == 2 ? 5 : 0);
        zmsg_destroy (&zmsg);
        msgpack_sbuffer_clear (&sbuf);
    }
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_unknown_fields_ignored (void **state)
{
    (void)state;
    //  Add unknown keys (including nested containers and ext) at the top level
    //  and inside each job: still decodes to the same values.
    example_t *ex = s_example_new (ZC_MSG_JOBS, VARIANT_GOLDEN);
    size_t size;
    unsigned char *golden = s_golden (ZC_MSG_JOBS, &size);
    msgpack_zone *zone = msgpack_zone_new (4096);
    msgpack_object root;
    size_t off = 0;
    assert_int_equal (msgpack_unpack ((const char *)golden, size, &off, zone, &root),
                      MSGPACK_UNPACK_SUCCESS);

    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, root.via.map.size + 2);
    msgpack_pack_str_with_body (&pk, "zz_future", 9);
    msgpack_pack_array (&pk, 3);
    msgpack_pack_double (&pk, 2.5);
    msgpack_pack_ext_with_body (&pk, "abcd", 4, 5);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_int (&pk, -3); //  non-string key
    msgpack_pack_nil (&pk);
    msgpack_pack_int (&pk, 7); //  non-string key at the top
    msgpack_pack_str_with_body (&pk, "x", 1);
    for (uint32_t i = 0; i < root.via.map.size; i++) {
        const msgpack_object_kv *kv = &root.via.map.ptr[i];
        msgpack_pack_object (&pk, kv->key);
        if (kv->val.type != MSGPACK_OBJECT_ARRAY) {
            msgpack_pack_object (&pk, kv->val);
            continue;
        }
        msgpack_pack_array (&pk, kv->val.via.array.size);
        for (uint32_t j = 0; j < kv->val.via.array.size; j++) {
            const msgpack_object *job = &kv->val.via.array.ptr[j];
            msgpack_pack_map (&pk, job->via.map.size + 1);
            for (uint32_t k = 0; k < job->via.map.size; k++) {
                msgpack_pack_object (&pk, job->via.map.ptr[k].key);
                msgpack_pack_object (&pk, job->via.map.ptr[k].val);
            }
            msgpack_pack_str_with_body (&pk, "priority", 8);
            msgpack_pack_uint32 (&pk, 9);
        }
    }
    zc_msg_decode_status_t status;
    zc_msg_t *msg = s_decode_bytes (sbuf.data, sbuf.size, NULL, 0, 1, &status);
    assert_non_null (msg);
    s_check_msg (&ex->msg, msg);
    zc_msg_destroy (&msg);

    msgpack_sbuffer_destroy (&sbuf);
    msgpack_zone_free (zone);
    free (golden);
    s_example_destroy (&ex);
}

static void
s_expect_raw (const unsigned char *bytes, size_t size, zc_msg_decode_status_t expected)
{
    zc_msg_decode_status_t status;
    zc_msg_t *msg = s_decode_bytes (bytes, size, NULL, 0, 1, &status);
    assert_null (msg);
    assert_int_equal (status, expected);
}

static void
test_huge_declared_sizes (void **state)
{
    (void)state;
    //  Each of these would make msgpack-c allocate gigabytes if it saw them.
    const unsigned char array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
    const unsigned char str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    const unsigned char bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 'a'};
    const unsigned char ext32[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 1, 'a'};
    const unsigned char map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0};
    const unsigned char array16[] = {0xdc, 0xff, 0xff, 0xc0};
    const unsigned char map16[] = {0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0}; //  needs 4 objects
    const unsigned char fixarray[] = {0x9f, 0xc0};
    s_expect_raw (array32, sizeof array32, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (str32, sizeof str32, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (bin32, sizeof bin32, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (ext32, sizeof ext32, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (map32, sizeof map32, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (array16, sizeof array16, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (map16, sizeof map16, ZC_MSG_DECODE_TOO_LARGE);
    s_expect_raw (fixarray, sizeof fixarray, ZC_MSG_DECODE_TOO_LARGE);

    //  Inside an otherwise valid message: {"v":1,"t":"JOBS","jobs": array32 huge}
    const unsigned char nested[] = {0x83, 0xa1, 'v', 0x01, 0xa1, 't',  0xa4, 'J',  'O',  'B', 'S',
                                    0xa4, 'j',  'o', 'b',  's',  0xdd, 0xff, 0xff, 0xff, 0xff};
    s_expect_raw (nested, sizeof nested, ZC_MSG_DECODE_TOO_LARGE);

    //  Malformed: reserved byte, truncated scalars, empty frame.
    const unsigned char reserved[] = {0xc1};
    const unsigned char short_u64[] = {0xcf, 0x00, 0x01};
    s_expect_raw (reserved, sizeof reserved, ZC_MSG_DECODE_MALFORMED);
    s_expect_raw (short_u64, sizeof short_u64, ZC_MSG_DECODE_MALFORMED);
    s_expect_raw (reserved, 0, ZC_MSG_DECODE_MALFORMED);
}

static void
test_deep_nesting (void **state)
{
    (void)state;
    unsigned char deep[1001];
    memset (deep, 0x91, 1000); //  [[[[...]]]]
    deep[1000] = 0xc0;
    s_expect_raw (deep, sizeof deep, ZC_MSG_DECODE_TOO_LARGE);

    //  An unknown field nested 10 deep is fine.
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    s_pack_head (&pk, 4, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    msgpack_pack_str_with_body (&pk, "deep", 4);
    for (int i = 0; i < 10; i++)
        msgpack_pack_array (&pk, 1);
    msgpack_pack_nil (&pk);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_OK);
    //  40 deep is not.
    s_pack_head (&pk, 4, 1, "READY");
    msgpack_pack_str_with_body (&pk, "credit", 6);
    msgpack_pack_uint32 (&pk, 5);
    msgpack_pack_str_with_body (&pk, "deep", 4);
    for (int i = 0; i < 40; i++)
        msgpack_pack_map (&pk, 1), msgpack_pack_nil (&pk);
    msgpack_pack_nil (&pk);
    assert_int_equal (s_decode_sbuf (&sbuf, 1), ZC_MSG_DECODE_TOO_LARGE);
    msgpack_sbuffer_destroy (&sbuf);
}

static void
test_size_limits (void **state)
{
    (void)state;
    //  Frame 1 over ZC_MSG_MAX_HEADER_BYTES.
    size_t big = ZC_MSG_MAX_HEADER_BYTES + 1;
    unsigned char *header = calloc (1, big);
    assert_non_null (header);
    s_expect_raw (header, big, ZC_MSG_DECODE_TOO_LARGE);
    free (header);

    //  PAGE body over ZC_MSG_MAX_BODY_BYTES.
    size_t size;
    unsigned char *page = s_golden (ZC_MSG_PAGE, &size);
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addmem (zmsg, page, size);
    zframe_t *body = zframe_new (NULL, ZC_MSG_MAX_BODY_BYTES + 1);
    assert_non_null (body);
    zmsg_append (zmsg, &body);
    zc_msg_decode_status_t status;
    assert_null (zc_msg_decode (&zmsg, &status));
    assert_int_equal (status, ZC_MSG_DECODE_TOO_LARGE);
    free (page);
}

//  xorshift64*, state passed explicitly.
static uint64_t
s_rand (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void
test_random_bytes (void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    unsigned char buf[256];
    int decoded = 0;
    for (int i = 0; i < 100000; i++) {
        size_t len = s_rand (&seed) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (unsigned char)s_rand (&seed);
        //  Half of them start like a message, to get past the first checks.
        if (i % 2 && len > 8)
            memcpy (buf, "\x83\xa1v\x01\xa1t\xa5READY", len < 12 ? len : 12);
        zc_msg_decode_status_t status;
        zc_msg_t *msg = s_decode_bytes (buf, len, "b", 1, 1 + (int)(s_rand (&seed) % 2), &status);
        decoded += msg != NULL;
        zc_msg_destroy (&msg);
    }
    (void)decoded;
}

static void
test_bit_flips (void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (size_t vi = 0; vi < S_VECTORS; vi++) {
        vector_t vec = s_vector (vi);
        zc_msg_type_t t = vec.type;
        size_t size;
        unsigned char *golden = s_golden_vector (&vec, &size);
        unsigned char *copy = malloc (size);
        for (int i = 0; i < 3000; i++) {
            memcpy (copy, golden, size);
            int flips = 1 + (int)(s_rand (&seed) % 4);
            for (int f = 0; f < flips; f++) {
                size_t bit = s_rand (&seed) % (size * 8);
                copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            }
            zc_msg_decode_status_t status = s_decode_status ((zc_msg_type_t)t, copy, size);
            (void)status;
        }
        free (copy);
        free (golden);
    }
}

//  ---------------------------------------------------------------------
//  Tests: sockets

static zmsg_t *
s_recv_deadline (zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    assert_non_null (poller);
    void *which = zpoller_wait (poller, timeout_ms);
    zpoller_destroy (&poller);
    return which ? zmsg_recv (sock) : NULL;
}

static void
test_send_recv (void **state)
{
    (void)state;
    zsock_t *pull = zsock_new_pull ("inproc://test_zc_msg_pull");
    zsock_t *push = zsock_new_push ("inproc://test_zc_msg_pull");
    assert_non_null (pull);
    assert_non_null (push);
    zc_msg_socket_setup (pull, ZC_MSG_MAX_HEADER_BYTES, 0);
    zc_msg_socket_setup (push, ZC_MSG_MAX_HEADER_BYTES, 0);
    int64_t max = 0;
    size_t max_size = sizeof max;
    assert_int_equal (zmq_getsockopt (zsock_resolve (pull), ZMQ_MAXMSGSIZE, &max, &max_size), 0);
    assert_int_equal (max, ZC_MSG_MAX_HEADER_BYTES);
    assert_int_equal (zsock_linger (pull), 0);

    for (int t = ZC_MSG_HELLO; t < ZC_MSG_TYPE_COUNT; t++) {
        for (int variant = 0; variant < VARIANT_COUNT; variant++) {
            example_t *ex = s_example_new ((zc_msg_type_t)t, variant);
            assert_int_equal (zc_msg_send (&ex->msg, push, NULL), 0);
            zmsg_t *zmsg = s_recv_deadline (pull, 5000);
            assert_non_null (zmsg);
            zc_msg_decode_status_t status;
            zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
            assert_non_null (msg);
            s_check_msg (&ex->msg, msg);
            zc_msg_destroy (&msg);
            s_example_destroy (&ex);
        }
    }
    zsock_destroy (&push);
    zsock_destroy (&pull);
}

static void
test_send_router (void **state)
{
    (void)state;
    zsock_t *router = zsock_new_router ("inproc://test_zc_msg_router");
    zsock_t *dealer = zsock_new_dealer ("inproc://test_zc_msg_router");
    assert_non_null (router);
    assert_non_null (dealer);
    zsock_set_router_mandatory (router, 1);

    //  DEALER -> ROUTER: the ROUTER sees the routing id first.
    example_t *ex = s_example_new (ZC_MSG_HELLO, VARIANT_GOLDEN);
    assert_int_equal (zc_msg_send (&ex->msg, dealer, NULL), 0);
    zmsg_t *zmsg = s_recv_deadline (router, 5000);
    assert_non_null (zmsg);
    zframe_t *rid = zmsg_pop (zmsg);
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    assert_non_null (msg);
    s_check_msg (&ex->msg, msg);
    zc_msg_destroy (&msg);
    s_example_destroy (&ex);

    //  ROUTER -> DEALER with the routing id, which stays the caller's.
    ex = s_example_new (ZC_MSG_PAGE, VARIANT_GOLDEN);
    assert_int_equal (zc_msg_send (&ex->msg, router, rid), 0);
    assert_non_null (rid);
    zmsg = s_recv_deadline (dealer, 5000);
    assert_non_null (zmsg);
    assert_int_equal (zmsg_size (zmsg), 2);
    msg = zc_msg_decode (&zmsg, &status);
    assert_non_null (msg);
    s_check_msg (&ex->msg, msg);
    zc_msg_destroy (&msg);

    //  Unknown peer with ROUTER_MANDATORY: -1, EHOSTUNREACH, nothing leaks.
    zframe_t *bogus = zframe_new ("nobody", 6);
    assert_int_equal (zc_msg_send (&ex->msg, router, bogus), -1);
    assert_int_equal (errno, EHOSTUNREACH);
    zframe_destroy (&bogus);
    zframe_destroy (&rid);
    s_example_destroy (&ex);

    //  A DEALER with no peer cannot queue: EAGAIN, nothing leaks.
    zsock_t *lonely = zsock_new (ZMQ_DEALER);
    assert_non_null (lonely);
    ex = s_example_new (ZC_MSG_READY, VARIANT_GOLDEN);
    assert_int_equal (zc_msg_send (&ex->msg, lonely, NULL), -1);
    assert_int_equal (errno, EAGAIN);
    s_example_destroy (&ex);
    ex = s_example_new (ZC_MSG_PAGE, VARIANT_GOLDEN);
    assert_int_equal (zc_msg_send (&ex->msg, lonely, NULL), -1);
    s_example_destroy (&ex);
    zsock_destroy (&lonely);

    zsock_destroy (&dealer);
    zsock_destroy (&router);
}

//  Rough speed check, printed for information (RESULT with 44 links and a
//  JOBS batch of 64 are the hot messages).
static void
test_speed (void **state)
{
    (void)state;
    example_t *ex = s_example_new (ZC_MSG_RESULT, VARIANT_MANY);
    ex->msg.result.link_count = 44;
    int64_t start = zclock_usecs ();
    int rounds = 20000;
    for (int i = 0; i < rounds; i++) {
        zmsg_t *zmsg = zc_msg_encode (&ex->msg);
        zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
        assert_non_null (msg);
        zc_msg_destroy (&msg);
    }
    int64_t result_us = zclock_usecs () - start;
    s_example_destroy (&ex);

    ex = s_example_new (ZC_MSG_JOBS, VARIANT_MANY);
    start = zclock_usecs ();
    for (int i = 0; i < rounds / 10; i++) {
        zmsg_t *zmsg = zc_msg_encode (&ex->msg);
        zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
        assert_non_null (msg);
        zc_msg_destroy (&msg);
    }
    int64_t jobs_us = zclock_usecs () - start;
    s_example_destroy (&ex);
    printf ("zc_msg: RESULT(44 links) encode+decode %.2f us, JOBS(64) %.2f us\n",
            (double)result_us / rounds, (double)jobs_us / (rounds / 10));
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_type_names),
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_null_strings_encode_empty),
        cmocka_unit_test (test_golden),
        cmocka_unit_test (test_golden_layout),
        cmocka_unit_test (test_golden_in_protocol_doc),
        cmocka_unit_test (test_optional_absent_is_zero),
        cmocka_unit_test (test_optional_zero_omitted),
        cmocka_unit_test (test_optional_bad_values),
        cmocka_unit_test (test_truncation),
        cmocka_unit_test (test_wrong_types_and_missing_fields),
        cmocka_unit_test (test_envelope_errors),
        cmocka_unit_test (test_job_origin),
        cmocka_unit_test (test_accept_ids),
        cmocka_unit_test (test_page_id),
        cmocka_unit_test (test_unknown_fields_ignored),
        cmocka_unit_test (test_huge_declared_sizes),
        cmocka_unit_test (test_deep_nesting),
        cmocka_unit_test (test_size_limits),
        cmocka_unit_test (test_random_bytes),
        cmocka_unit_test (test_bit_flips),
        cmocka_unit_test (test_send_recv),
        cmocka_unit_test (test_send_router),
        cmocka_unit_test (test_speed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
