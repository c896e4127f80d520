/*  Unit tests for zc_scope: every verdict and default, hosts with and
    without ports, subdomains, IP addresses, public suffixes and bad
    options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "zc_scope.h"

//  A scope from OPTS and SEEDS that must build.
static zc_scope_t *
s_scope (const zc_crawl_opts_t *opts, const char **seeds, size_t seed_count)
{
    char error[256] = "unset";
    zc_scope_t *scope = zc_scope_new (opts, seeds, seed_count, error, sizeof error);
    if (!scope)
        fail_msg ("zc_scope_new failed: %s", error);
    assert_string_equal (error, "");
    return scope;
}

//  OPTS must be rejected with an error starting with PREFIX.
static void
s_rejected (const zc_crawl_opts_t *opts, const char *prefix)
{
    const char *seeds[] = {"http://example.com/"};
    char error[256] = "";
    zc_scope_t *scope = zc_scope_new (opts, seeds, 1, error, sizeof error);
    assert_null (scope);
    if (strncmp (error, prefix, strlen (prefix)) != 0)
        fail_msg ("error '%s' does not start with '%s'", error, prefix);
}

static void
test_seed_hosts (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/", "http://127.0.0.1:8080/start"};
    zc_crawl_opts_t opts = {.max_depth = -1};
    zc_scope_t *scope = s_scope (&opts, seeds, 2);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a", 5), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com:80/a", 5), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://127.0.0.1:8080/x", 0), ZC_SCOPE_OK);
    //  Seeds' hosts include the port; subdomains and other schemes' ports are out
    assert_int_equal (zc_scope_check (scope, "https://example.com/a", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, "http://www.example.com/a", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, "http://127.0.0.1:8081/x", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, "http://other.org/", 0), ZC_SCOPE_HOST);
    //  Not a URL at all
    assert_int_equal (zc_scope_check (scope, "mailto:a@example.com", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, NULL, 0), ZC_SCOPE_HOST);
    zc_scope_destroy (&scope);
    assert_null (scope);
    zc_scope_destroy (&scope); //  NULL-safe
}

static void
test_allowed_hosts (void **state)
{
    (void)state;
    const char *seeds[] = {"http://seed.example/"};
    const char *hosts[] = {"Example.COM", "a.test:8080", "[::1]:9000", "10.0.0.1", "fe80::1"};
    zc_crawl_opts_t opts = {.max_depth = -1, .allowed_hosts = hosts, .allowed_host_count = 5};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    //  Explicit hosts replace the seeds' hosts
    assert_int_equal (zc_scope_check (scope, "http://seed.example/", 0), ZC_SCOPE_HOST);
    //  "host" = any port, case-insensitive entry
    assert_int_equal (zc_scope_check (scope, "http://example.com/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "https://example.com/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com:8000/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://www.example.com/", 0), ZC_SCOPE_HOST);
    //  "host:port" = that port only
    assert_int_equal (zc_scope_check (scope, "http://a.test:8080/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://a.test/", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, "http://a.test:8081/", 0), ZC_SCOPE_HOST);
    //  IPs, v4 and v6, bracketed or bare
    assert_int_equal (zc_scope_check (scope, "http://[::1]:9000/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://[::1]/", 0), ZC_SCOPE_HOST);
    assert_int_equal (zc_scope_check (scope, "http://10.0.0.1:1234/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://[fe80::1]:81/", 0), ZC_SCOPE_OK);
    zc_scope_destroy (&scope);
}

static void
test_allowed_domains (void **state)
{
    (void)state;
    const char *seeds[] = {"http://seed.example/"};
    const char *domains[] = {"Example.co.uk.", "test"};
    zc_crawl_opts_t opts = {.max_depth = -1, .allowed_domains = domains, .allowed_domain_count = 2};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.co.uk/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "https://www.example.co.uk:8443/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://a.b.example.co.uk/", 0), ZC_SCOPE_OK);
    //  A suffix match must start at a label boundary
    assert_int_equal (zc_scope_check (scope, "http://badexample.co.uk/", 0), ZC_SCOPE_DOMAIN);
    assert_int_equal (zc_scope_check (scope, "http://other.co.uk/", 0), ZC_SCOPE_DOMAIN);
    //  A local, unlisted name is a usable domain
    assert_int_equal (zc_scope_check (scope, "http://site-a.test:8080/", 0), ZC_SCOPE_OK);
    //  Domains replace the seeds' hosts; IPs never match a domain
    assert_int_equal (zc_scope_check (scope, "http://seed.example/", 0), ZC_SCOPE_DOMAIN);
    assert_int_equal (zc_scope_check (scope, "http://127.0.0.1/", 0), ZC_SCOPE_DOMAIN);
    assert_int_equal (zc_scope_check (scope, "http://[::1]/", 0), ZC_SCOPE_DOMAIN);
    zc_scope_destroy (&scope);
}

static void
test_hosts_and_domains (void **state)
{
    (void)state;
    const char *hosts[] = {"127.0.0.1"};
    const char *domains[] = {"example.com", "1.0.0.127.in-addr.example"};
    zc_crawl_opts_t opts = {.max_depth = -1,
                            .allowed_hosts = hosts,
                            .allowed_host_count = 1,
                            .allowed_domains = domains,
                            .allowed_domain_count = 2};
    zc_scope_t *scope = s_scope (&opts, NULL, 0);
    //  Either list admits
    assert_int_equal (zc_scope_check (scope, "http://127.0.0.1:5000/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://shop.example.com/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://127.0.0.2/", 0), ZC_SCOPE_DOMAIN);
    assert_int_equal (zc_scope_check (scope, "http://example.org/", 0), ZC_SCOPE_DOMAIN);
    zc_scope_destroy (&scope);
}

static void
test_depth (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/"};
    zc_crawl_opts_t opts = {.max_depth = 2};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a", 2), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a", 3), ZC_SCOPE_DEPTH);
    //  The host is checked before the depth
    assert_int_equal (zc_scope_check (scope, "http://other.com/a", 3), ZC_SCOPE_HOST);
    zc_scope_destroy (&scope);

    opts.max_depth = 0; //  seeds only
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a", 1), ZC_SCOPE_DEPTH);
    zc_scope_destroy (&scope);

    opts.max_depth = -1; //  unlimited
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a", UINT32_MAX), ZC_SCOPE_OK);
    zc_scope_destroy (&scope);
}

static void
test_include_exclude (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/"};
    const char *include[] = {"/products/", "\\.html$"};
    const char *exclude[] = {"[?&]sort=", "/products/private"};
    zc_crawl_opts_t opts = {.max_depth = -1,
                            .include = include,
                            .include_count = 2,
                            .exclude = exclude,
                            .exclude_count = 2};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/products/1", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/about.html", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/about", 0), ZC_SCOPE_INCLUDE);
    assert_int_equal (zc_scope_check (scope, "http://example.com/", 0), ZC_SCOPE_INCLUDE);
    //  Exclude wins over include
    assert_int_equal (zc_scope_check (scope, "http://example.com/products/?a=1&sort=up", 0),
                      ZC_SCOPE_EXCLUDE);
    assert_int_equal (zc_scope_check (scope, "http://example.com/products/private/x", 0),
                      ZC_SCOPE_EXCLUDE);
    zc_scope_destroy (&scope);

    //  No include expressions: everything not excluded is in
    opts.include_count = 0;
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/about", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/x?sort=1", 0), ZC_SCOPE_EXCLUDE);
    zc_scope_destroy (&scope);
}

static void
test_url_length (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/"};
    char url[4096];
    zc_crawl_opts_t opts = {.max_depth = -1};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    //  Default 2048 bytes: build URLs of exactly 2048 and 2049 bytes
    const char *prefix = "http://example.com/?q=";
    size_t prefix_length = strlen (prefix);
    memcpy (url, prefix, prefix_length);
    memset (url + prefix_length, 'a', 2048 - prefix_length);
    url[2048] = 0;
    assert_int_equal (zc_scope_check (scope, url, 0), ZC_SCOPE_OK);
    url[2048] = 'a';
    url[2049] = 0;
    assert_int_equal (zc_scope_check (scope, url, 0), ZC_SCOPE_URL_LENGTH);
    zc_scope_destroy (&scope);

    opts.max_url_bytes = 25;
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/abcdef", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/abcdefg", 0), ZC_SCOPE_URL_LENGTH);
    //  Length is checked first, even before the host
    assert_int_equal (zc_scope_check (scope, "http://other.com/abcdefghij", 0),
                      ZC_SCOPE_URL_LENGTH);
    zc_scope_destroy (&scope);
}

//  Writes a URL with COUNT distinct path segments into BUF.
static void
s_deep_url (char *buf, size_t size, int count, const char *tail)
{
    size_t o = (size_t)snprintf (buf, size, "http://example.com");
    for (int i = 0; i < count; i++)
        o += (size_t)snprintf (buf + o, size - o, "/s%d", i);
    snprintf (buf + o, size - o, "%s", tail);
}

static void
test_path_segments (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/"};
    char url[1024];
    zc_crawl_opts_t opts = {.max_depth = -1};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    //  Default 32; empty segments and the query do not count
    s_deep_url (url, sizeof url, 32, "/?a=/b/c/d/e/f");
    assert_int_equal (zc_scope_check (scope, url, 0), ZC_SCOPE_OK);
    s_deep_url (url, sizeof url, 33, "");
    assert_int_equal (zc_scope_check (scope, url, 0), ZC_SCOPE_PATH_SEGMENTS);
    zc_scope_destroy (&scope);

    opts.max_path_segments = 3;
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a//b/c/", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/c/d", 0),
                      ZC_SCOPE_PATH_SEGMENTS);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/c#/d/e", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com", 0), ZC_SCOPE_OK);
    zc_scope_destroy (&scope);
}

static void
test_segment_repeats (void **state)
{
    (void)state;
    const char *seeds[] = {"http://example.com/"};
    zc_crawl_opts_t opts = {.max_depth = -1};
    zc_scope_t *scope = s_scope (&opts, seeds, 1);
    //  Default 3: three occurrences are fine, a fourth is a trap
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/a/b/a/b", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/a/b/a/b/a", 0),
                      ZC_SCOPE_SEGMENT_REPEATS);
    assert_int_equal (zc_scope_check (scope, "http://example.com/x/cal/cal/cal/cal/y", 0),
                      ZC_SCOPE_SEGMENT_REPEATS);
    //  Segments compare whole: prefixes are different segments
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/ab/abc/a/ab/a/abc", 0),
                      ZC_SCOPE_OK);
    //  The query does not count
    assert_int_equal (zc_scope_check (scope, "http://example.com/a?/a/a/a/a", 0), ZC_SCOPE_OK);
    zc_scope_destroy (&scope);

    opts.max_segment_repeats = 1;
    scope = s_scope (&opts, seeds, 1);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/c", 0), ZC_SCOPE_OK);
    assert_int_equal (zc_scope_check (scope, "http://example.com/a/b/c/b", 0),
                      ZC_SCOPE_SEGMENT_REPEATS);
    zc_scope_destroy (&scope);
}

static void
test_bad_options (void **state)
{
    (void)state;
    const char *bad_regex[] = {"fine", "("};
    zc_crawl_opts_t opts = {.max_depth = -1, .exclude = bad_regex, .exclude_count = 2};
    s_rejected (&opts, "exclude[1]: bad regular expression '(': ");
    opts = (zc_crawl_opts_t){.max_depth = -1, .include = bad_regex + 1, .include_count = 1};
    s_rejected (&opts, "include[0]: bad regular expression '(': ");
    const char *bracket[] = {"[a-"};
    opts = (zc_crawl_opts_t){.max_depth = -1, .include = bracket, .include_count = 1};
    s_rejected (&opts, "include[0]: bad regular expression '[a-'");

    const char *suffixes[] = {"example.com", "co.uk"};
    opts = (zc_crawl_opts_t){.allowed_domains = suffixes, .allowed_domain_count = 2};
    s_rejected (&opts, "allowed_domains[1]: 'co.uk' is a public suffix");
    const char *com[] = {"COM"};
    opts = (zc_crawl_opts_t){.allowed_domains = com, .allowed_domain_count = 1};
    s_rejected (&opts, "allowed_domains[0]: 'COM' is a public suffix");
    const char *ip[] = {"127.0.0.1"};
    opts = (zc_crawl_opts_t){.allowed_domains = ip, .allowed_domain_count = 1};
    s_rejected (&opts, "allowed_domains[0]: '127.0.0.1' is an IP address");
    const char *junk_domains[] = {"http://example.com/", "", "a..b", ".example.com", NULL};
    for (size_t i = 0; i < 5; i++) {
        opts = (zc_crawl_opts_t){.allowed_domains = junk_domains + i, .allowed_domain_count = 1};
        s_rejected (&opts, "allowed_domains[0]: ");
    }

    const char *junk_hosts[] = {"example.com:0",
                                "example.com:65536",
                                "example.com:http",
                                "example.com:",
                                "http://example.com",
                                "a b",
                                "[::1",
                                "[::1]:",
                                "[zz]",
                                "[::1]x",
                                "",
                                NULL};
    for (size_t i = 0; i < sizeof junk_hosts / sizeof junk_hosts[0]; i++) {
        opts = (zc_crawl_opts_t){.allowed_hosts = junk_hosts + i, .allowed_host_count = 1};
        s_rejected (&opts, "allowed_hosts[0]: ");
    }

    const char *seeds[] = {"http://example.com/", "not a url"};
    char error[256] = "";
    opts = (zc_crawl_opts_t){.max_depth = -1};
    assert_null (zc_scope_new (&opts, seeds, 2, error, sizeof error));
    assert_string_equal (error, "seeds[1]: 'not a url' is not a canonical http(s) URL");
}

static void
test_verdict_str (void **state)
{
    (void)state;
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_OK), "ok");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_HOST), "host");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_DOMAIN), "domain");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_INCLUDE), "include");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_EXCLUDE), "exclude");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_DEPTH), "depth");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_URL_LENGTH), "url_length");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_PATH_SEGMENTS), "path_segments");
    assert_string_equal (zc_scope_verdict_str (ZC_SCOPE_SEGMENT_REPEATS), "segment_repeats");
    assert_string_equal (zc_scope_verdict_str ((zc_scope_verdict_t)99), "?");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_seed_hosts),      cmocka_unit_test (test_allowed_hosts),
        cmocka_unit_test (test_allowed_domains), cmocka_unit_test (test_hosts_and_domains),
        cmocka_unit_test (test_depth),           cmocka_unit_test (test_include_exclude),
        cmocka_unit_test (test_url_length),      cmocka_unit_test (test_path_segments),
        cmocka_unit_test (test_segment_repeats), cmocka_unit_test (test_bad_options),
        cmocka_unit_test (test_verdict_str),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
