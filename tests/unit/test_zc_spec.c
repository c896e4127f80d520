//  Unit tests for zc_spec: the complete example spec, defaults, one test per
//  error class (message names the field path and line) and truncated specs.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zc_spec.h"

#define FULL_SPEC ZC_FIXTURES_DIR "/spec/full.yaml"

static zc_spec_t *
s_load (const char *yaml, char *error, size_t size)
{
    return zc_spec_load_string (yaml, strlen (yaml), "crawl.yaml", error, size);
}

//  Loading YAML fails with a message containing EXPECTED.
static void
s_expect_error (const char *yaml, const char *expected)
{
    char error[512] = "";
    zc_spec_t *spec = s_load (yaml, error, sizeof error);
    if (spec || !strstr (error, expected)) {
        print_error ("spec:\n%s\nexpected error containing \"%s\", got \"%s\"\n", yaml, expected,
                     spec ? "(loaded)" : error);
        zc_spec_destroy (&spec);
        fail ();
    }
}

static void
test_full_example (void **state)
{
    (void)state;
    char error[512] = "";
    zc_spec_t *spec = zc_spec_load (FULL_SPEC, error, sizeof error);
    if (!spec)
        fail_msg ("%s", error);
    const zc_submit_t *s = zc_spec_submit (spec);
    assert_int_equal (s->seed_count, 2);
    assert_string_equal (s->seeds[0], "https://example.org/");
    assert_string_equal (s->seeds[1], "https://blog.example.org/start");
    assert_string_equal (s->output, "out/items.jsonl");
    assert_string_equal (s->errors, "out/errors.jsonl");

    const zc_crawl_opts_t *o = &s->opts;
    assert_int_equal (o->max_depth, 5);
    assert_int_equal (o->max_pages, 10000);
    assert_int_equal (o->max_pages_per_host, 2000);
    assert_int_equal (o->allowed_host_count, 2);
    assert_string_equal (o->allowed_hosts[0], "example.org");
    assert_string_equal (o->allowed_hosts[1], "Blog.Example.org:443"); //  scope lowercases
    assert_int_equal (o->allowed_domain_count, 1);
    assert_string_equal (o->allowed_domains[0], "example.net");
    assert_int_equal (o->include_count, 1);
    assert_string_equal (o->include[0], "^https://[^/]*example\\.(org|net)/");
    assert_int_equal (o->exclude_count, 2);
    assert_string_equal (o->exclude[0], "\\.(jpg|png|pdf)$");
    assert_string_equal (o->exclude[1], "/login");
    assert_int_equal (o->max_url_bytes, 1024);
    assert_int_equal (o->max_path_segments, 16);
    assert_int_equal (o->max_segment_repeats, 2);

    assert_false (o->impolite);
    assert_int_equal (o->host_concurrency, 4);
    assert_int_equal (o->host_delay_ms, 1500);
    assert_int_equal (o->crawl_delay_cap_ms, 10000);
    assert_false (o->ignore_robots);
    assert_int_equal (o->robots_cache_ms, 12 * 3600 * 1000);

    const zc_fetch_opts_t *f = &o->fetch;
    assert_string_equal (f->user_agent, "examplebot/1.0 (+https://example.org/bot)");
    assert_int_equal (f->connect_timeout_ms, 5000);
    assert_int_equal (f->timeout_ms, 20000);
    assert_int_equal (f->max_body_bytes, 5 * 1024 * 1024);
    assert_int_equal (f->max_redirects, 7);
    assert_int_equal (o->max_attempts, 4);
    assert_int_equal (o->retry_base_ms, 500);
    assert_true (f->allow_private);
    assert_int_equal (f->header_count, 3);
    assert_string_equal (f->headers[0], "Accept-Language: en");
    assert_string_equal (f->headers[1], "X-Crawl: yes");
    assert_string_equal (f->headers[2], "Cookie: session=abc123; consent=1");
    assert_int_equal (f->resolve_count, 2);
    assert_string_equal (f->resolve[0], "example.org:443:127.0.0.1");
    assert_string_equal (f->resolve[1], "blog.example.org:443:[::1]");

    assert_int_equal (o->rule_count, 5);
    const zc_extract_rule_t *r = o->rules;
    assert_string_equal (r[0].name, "title");
    assert_string_equal (r[0].selector, "h1");
    assert_false (r[0].xpath);
    assert_int_equal (r[0].take, ZC_TAKE_TEXT);
    assert_false (r[0].all);
    assert_string_equal (r[0].attr, "");
    assert_string_equal (r[0].regex, "");
    assert_string_equal (r[1].name, "price");
    assert_string_equal (r[1].selector, "div.product > span.price");
    assert_string_equal (r[1].regex, "([0-9]+\\.[0-9]{2})");
    assert_string_equal (r[2].name, "tags");
    assert_string_equal (r[2].selector, "//ul[@class=\"tags\"]/li");
    assert_true (r[2].xpath);
    assert_true (r[2].all);
    assert_string_equal (r[3].name, "links");
    assert_string_equal (r[3].selector, "a[href^=\"/docs\"]");
    assert_int_equal (r[3].take, ZC_TAKE_ATTR);
    assert_string_equal (r[3].attr, "href");
    assert_true (r[3].all);
    assert_string_equal (r[4].name, "body");
    assert_string_equal (r[4].selector, "#content");
    assert_int_equal (r[4].take, ZC_TAKE_HTML);
    zc_spec_destroy (&spec);
    assert_null (spec);
    zc_spec_destroy (&spec); //  NULL-safe
}

static void
test_defaults (void **state)
{
    (void)state;
    char error[256] = "";
    zc_spec_t *spec = s_load ("seeds: [http://127.0.0.1:8080/]\n", error, sizeof error);
    assert_non_null (spec);
    const zc_submit_t *s = zc_spec_submit (spec);
    assert_int_equal (s->seed_count, 1);
    assert_string_equal (s->seeds[0], "http://127.0.0.1:8080/");
    assert_string_equal (s->output, "");
    assert_string_equal (s->errors, "");
    const zc_crawl_opts_t *o = &s->opts;
    assert_int_equal (o->max_depth, -1);
    assert_int_equal (o->max_pages, 0);
    assert_int_equal (o->host_concurrency, 0);
    assert_int_equal (o->host_delay_ms, 0);
    assert_false (o->impolite);
    assert_false (o->ignore_robots);
    assert_int_equal (o->crawl_delay_cap_ms, 0);
    assert_int_equal (o->robots_cache_ms, 0);
    assert_int_equal (o->max_attempts, 0);
    assert_int_equal (o->retry_base_ms, 0);
    assert_int_equal (o->allowed_host_count, 0);
    assert_int_equal (o->allowed_domain_count, 0);
    assert_int_equal (o->include_count, 0);
    assert_int_equal (o->exclude_count, 0);
    assert_int_equal (o->max_url_bytes, 0);
    assert_int_equal (o->max_path_segments, 0);
    assert_int_equal (o->max_segment_repeats, 0);
    assert_int_equal (o->rule_count, 0);
    assert_string_equal (o->fetch.user_agent, "");
    assert_int_equal (o->fetch.header_count, 0);
    assert_int_equal (o->fetch.resolve_count, 0);
    assert_false (o->fetch.allow_private);
    zc_spec_destroy (&spec);

    //  Null values and empty sections mean "absent"; a spec may leave the
    //  seeds to the command line; comments and flow style are fine.
    spec = s_load ("# profile\nscope:\npoliteness: ~\nfetch: {}\nextract: null\n"
                   "output: {items: a.jsonl}\n",
                   error, sizeof error);
    if (!spec)
        fail_msg ("%s", error);
    assert_int_equal (zc_spec_submit (spec)->seed_count, 0);
    assert_string_equal (zc_spec_submit (spec)->output, "a.jsonl");
    zc_spec_destroy (&spec);

    //  Durations: every unit, and 0.
    spec = s_load ("politeness: {host_delay: 250ms, crawl_delay_cap: 2m, robots_cache: 1h}\n"
                   "fetch: {timeout: 0.5s, max_body: 1024}\n",
                   error, sizeof error);
    if (!spec)
        fail_msg ("%s", error);
    assert_int_equal (zc_spec_submit (spec)->opts.host_delay_ms, 250);
    assert_int_equal (zc_spec_submit (spec)->opts.crawl_delay_cap_ms, 120000);
    assert_int_equal (zc_spec_submit (spec)->opts.robots_cache_ms, 3600000);
    assert_int_equal (zc_spec_submit (spec)->opts.fetch.timeout_ms, 500);
    assert_int_equal (zc_spec_submit (spec)->opts.fetch.max_body_bytes, 1024);
    zc_spec_destroy (&spec);
}

static void
test_unknown_field (void **state)
{
    (void)state;
    s_expect_error ("seeds: [http://a.example/]\nsedes: 1\n", "crawl.yaml:2: sedes: unknown field");
    s_expect_error ("seeds: [http://a.example/]\nscope:\n  max_dpth: 3\n",
                    "crawl.yaml:3: scope.max_dpth: unknown field");
    s_expect_error ("fetch:\n  timeout: 1s\n  retries: 2\n",
                    "crawl.yaml:3: fetch.retries: unknown field");
    s_expect_error ("extract:\n  t:\n    css: h1\n    tkae: html\n",
                    "crawl.yaml:4: extract.t.tkae: unknown field");
    s_expect_error ("output: {items: a, err: b}\n", "crawl.yaml:1: output.err: unknown field");
}

static void
test_duplicate_key (void **state)
{
    (void)state;
    s_expect_error ("seeds: [http://a.example/]\nscope:\n  max_depth: 1\n  max_depth: 2\n",
                    "crawl.yaml:4: scope.max_depth: duplicate field (first on line 3)");
    s_expect_error ("seeds: [http://a.example/]\nseeds: [http://b.example/]\n",
                    "crawl.yaml:2: seeds: duplicate field");
    s_expect_error ("fetch:\n  headers:\n    X-A: 1\n    x-a: 2\n",
                    "crawl.yaml:4: fetch.headers.x-a: duplicate header");
}

static void
test_wrong_type (void **state)
{
    (void)state;
    s_expect_error ("seeds: http://a.example/\n",
                    "crawl.yaml:1: seeds: expected a list, got 'http");
    s_expect_error ("scope: [1, 2]\n", "crawl.yaml:1: scope: expected a mapping, got a sequence");
    s_expect_error ("scope:\n  max_depth: {a: 1}\n",
                    "crawl.yaml:2: scope.max_depth: expected an integer >= 0, got a mapping");
    s_expect_error ("politeness:\n  impolite: yes please\n",
                    "crawl.yaml:2: politeness.impolite: expected true or false, got 'yes please'");
    s_expect_error ("seeds:\n  - [http://a.example/]\n",
                    "crawl.yaml:2: seeds[0]: expected an http(s) URL, got a sequence");
    s_expect_error ("fetch:\n  headers: [X-A]\n",
                    "crawl.yaml:2: fetch.headers: expected a mapping");
    s_expect_error ("extract:\n  t: [h1]\n", "crawl.yaml:2: extract.t: expected a CSS selector");
    s_expect_error ("fetch:\n  user_agent:\n    a: b\n",
                    "crawl.yaml:3: fetch.user_agent: expected");
}

static void
test_bad_values (void **state)
{
    (void)state;
    s_expect_error ("scope:\n  max_depth: ten\n",
                    "crawl.yaml:2: scope.max_depth: expected an integer >= 0, got 'ten'");
    s_expect_error ("scope:\n  max_depth: -1\n",
                    "crawl.yaml:2: scope.max_depth: expected an integer >= 0, got '-1'");
    s_expect_error ("scope:\n  max_pages: 0\n",
                    "crawl.yaml:2: scope.max_pages: expected an integer > 0, got '0'");
    s_expect_error ("politeness:\n  host_concurrency: 0\n",
                    "crawl.yaml:2: politeness.host_concurrency: expected an integer from 1");
    s_expect_error ("politeness:\n  host_delay: 0\n",
                    "crawl.yaml:2: politeness.host_delay: expected a duration from 1ms to 24h");
    s_expect_error ("politeness:\n  host_delay: 1000\n",
                    "crawl.yaml:2: politeness.host_delay: expected a duration");
    s_expect_error ("fetch:\n  timeout: 3 s\n", "crawl.yaml:2: fetch.timeout: expected a duration");
    s_expect_error (
        "fetch:\n  max_body: 1T\n",
        "crawl.yaml:2: fetch.max_body: expected a size from 1 to 64M such as 10M, got '1T'");
    s_expect_error ("fetch:\n  max_body: 65M\n", "fetch.max_body: expected a size");
    s_expect_error ("fetch:\n  max_attempts: 1000\n", "crawl.yaml:2: fetch.max_attempts");
    s_expect_error ("fetch:\n  user_agent: \"\"\n",
                    "crawl.yaml:2: fetch.user_agent: must not be empty");
    s_expect_error ("fetch:\n  user_agent: \"a\\nb\"\n",
                    "crawl.yaml:2: fetch.user_agent: must be a single line");
    s_expect_error ("fetch:\n  user_agent: \"a\\0b\"\n",
                    "crawl.yaml:2: fetch.user_agent: contains a NUL byte");
}

static void
test_bad_seeds (void **state)
{
    (void)state;
    s_expect_error ("seeds:\n  - http://a.example/\n  - ftp://b.example/\n",
                    "crawl.yaml:3: seeds[1]: not a usable http(s) URL");
    s_expect_error ("seeds: []\n", "crawl.yaml:1: seeds: expected a non-empty list");
    s_expect_error ("seeds:\n  - \"\"\n", "crawl.yaml:2: seeds[0]: not a usable http(s) URL");
}

static void
test_bad_regex (void **state)
{
    (void)state;
    s_expect_error ("scope:\n  include:\n    - ok\n    - '(unclosed'\n",
                    "crawl.yaml:4: scope.include[1]: invalid regular expression");
    s_expect_error ("scope:\n  exclude: ['a{2,1}']\n",
                    "crawl.yaml:2: scope.exclude[0]: invalid regular expression");
    s_expect_error ("extract:\n  p:\n    css: p\n    regex: '[a-'\n",
                    "crawl.yaml:4: extract.p.regex: invalid regular expression");
}

static void
test_bad_hosts (void **state)
{
    (void)state;
    s_expect_error ("scope:\n  allowed_hosts: ['http://a.example/']\n",
                    "crawl.yaml:2: scope.allowed_hosts[0]: expected a host name");
    s_expect_error ("scope:\n  allowed_domains: [.example.org]\n",
                    "crawl.yaml:2: scope.allowed_domains[0]: expected a domain name");
}

static void
test_bad_headers (void **state)
{
    (void)state;
    s_expect_error ("fetch:\n  headers:\n    \"Bad Name\": x\n",
                    "crawl.yaml:3: fetch.headers.Bad Name: not a valid header name");
    s_expect_error ("fetch:\n  headers:\n    \"X-A:\": x\n",
                    "crawl.yaml:3: fetch.headers.X-A:: not a valid header name");
    s_expect_error (
        "fetch:\n  headers:\n    X-A: \"a\\r\\nX-Evil: 1\"\n",
        "crawl.yaml:3: fetch.headers.X-A: header value must be a non-empty single line");
    s_expect_error ("fetch:\n  headers:\n    Host: example.org\n",
                    "crawl.yaml:3: fetch.headers.Host: not a valid header name");
    s_expect_error ("fetch:\n  cookies:\n    a: \"x; b=2\"\n",
                    "crawl.yaml:3: fetch.cookies.a: cookie value must not contain");
}

static void
test_bad_resolve (void **state)
{
    (void)state;
    const char *bad[] = {"example.org",
                         "example.org:443",
                         "example.org:443:",
                         ":443:127.0.0.1",
                         "example.org:http:127.0.0.1",
                         "example.org:0:127.0.0.1",
                         "example.org:70000:127.0.0.1",
                         "example.org:443:localhost",
                         "example.org:443:::1",
                         "example.org:443:127.0.0.1,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[256];
        snprintf (yaml, sizeof yaml, "fetch:\n  resolve:\n    - '%s'\n", bad[i]);
        s_expect_error (yaml, "crawl.yaml:3: fetch.resolve[0]: expected HOST:PORT:ADDRESS");
    }
    char error[256];
    zc_spec_t *spec =
        s_load ("fetch: {resolve: ['a.test:80:127.0.0.1,[::1]']}\n", error, sizeof error);
    assert_non_null (spec);
    zc_spec_destroy (&spec);
}

static void
test_bad_extract (void **state)
{
    (void)state;
    s_expect_error ("extract:\n  t: \"\"\n", "crawl.yaml:2: extract.t: must not be empty");
    s_expect_error ("extract:\n  t:\n    css: h1\n    xpath: //h1\n",
                    "crawl.yaml:3: extract.t: give exactly one of css or xpath");
    s_expect_error ("extract:\n  t:\n    all: true\n",
                    "crawl.yaml:3: extract.t: give exactly one of css or xpath");
    s_expect_error ("extract:\n  t:\n    css: a\n    take: attr\n",
                    "crawl.yaml:3: extract.t: take: attr needs attr: NAME");
    s_expect_error ("extract:\n  t:\n    css: a\n    take: html\n    attr: href\n",
                    "crawl.yaml:4: extract.t.take: must be attr when attr is given");
    s_expect_error ("extract:\n  t:\n    css: a\n    take: json\n",
                    "crawl.yaml:4: extract.t.take: expected text, html or attr, got 'json'");
    s_expect_error ("extract:\n  t:\n    css: a\n    all: maybe\n",
                    "crawl.yaml:4: extract.t.all: expected true or false");
}

static void
test_document_errors (void **state)
{
    (void)state;
    s_expect_error ("", "crawl.yaml:1: the spec is empty");
    s_expect_error ("# only a comment\n", "crawl.yaml:1: the spec is empty");
    s_expect_error ("- a\n- b\n", "crawl.yaml:1: expected a mapping at the top level");
    s_expect_error ("just text\n", "crawl.yaml:1: expected a mapping at the top level");
    s_expect_error ("seeds: [http://a.example/\nscope: {}\n",
                    "crawl.yaml:2: YAML syntax error: did not find expected");
    s_expect_error ("scope:\n  max_depth: 1\n   bad: indent\n", "crawl.yaml:3: YAML syntax error");
    s_expect_error ("scope: {}\n---\nscope: {}\n", "crawl.yaml:2: only one YAML document");
    s_expect_error ("? [a, b]\n: 1\n", "crawl.yaml:1: keys must be plain names");

    char error[256];
    assert_null (zc_spec_load ("/nonexistent/crawl.yaml", error, sizeof error));
    assert_non_null (strstr (error, "/nonexistent/crawl.yaml: cannot open"));
}

//  Every prefix of the complete spec loads or fails cleanly (no crash, no
//  leak under ASan), and a failure always carries a message.
static void
test_truncated (void **state)
{
    (void)state;
    FILE *file = fopen (FULL_SPEC, "rb");
    assert_non_null (file);
    char text[8192];
    size_t length = fread (text, 1, sizeof text, file);
    fclose (file);
    assert_true (length > 0 && length < sizeof text);
    size_t loaded = 0;
    for (size_t n = 0; n <= length; n++) {
        char error[512] = "";
        zc_spec_t *spec = zc_spec_load_string (text, n, "full.yaml", error, sizeof error);
        if (spec)
            loaded++;
        else
            assert_true (strncmp (error, "full.yaml:", 10) == 0);
        zc_spec_destroy (&spec);
    }
    assert_true (loaded > 0);
    //  And byte flips: every position replaced by a few troublesome bytes.
    const char flips[] = {'\0', ':', '-', '[', '{', '"', '\'', '&', '*', '\t', '\n', '#'};
    for (size_t n = 0; n < length; n++)
        for (size_t k = 0; k < sizeof flips; k++) {
            char copy[8192];
            memcpy (copy, text, length);
            copy[n] = flips[k];
            char error[512] = "";
            zc_spec_t *spec = zc_spec_load_string (copy, length, "full.yaml", error, sizeof error);
            if (!spec)
                assert_true (error[0] != 0);
            zc_spec_destroy (&spec);
        }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_full_example),    cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_unknown_field),   cmocka_unit_test (test_duplicate_key),
        cmocka_unit_test (test_wrong_type),      cmocka_unit_test (test_bad_values),
        cmocka_unit_test (test_bad_seeds),       cmocka_unit_test (test_bad_regex),
        cmocka_unit_test (test_bad_hosts),       cmocka_unit_test (test_bad_headers),
        cmocka_unit_test (test_bad_resolve),     cmocka_unit_test (test_bad_extract),
        cmocka_unit_test (test_document_errors), cmocka_unit_test (test_truncated),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
