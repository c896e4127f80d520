/*  Unit tests for zc_robots_cache: the per-host robots.txt state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "zc_robots_cache.h"

#define HOST "http://example.com"
#define CACHE_MS 1000

static zc_robots_cache_t *
s_cache_new (void)
{
    zc_robots_cache_config_t config = {.user_agent = "zcrawl/0.1 (+https://example.org)",
                                       .default_token = "zcrawl",
                                       .cache_ms = CACHE_MS,
                                       .max_attempts = 2};
    return zc_robots_cache_new (&config);
}

//  Starts a robots job for HOST and checks the robots.txt URL.
static void
s_start (zc_robots_cache_t *cache)
{
    char *robots_url = zc_robots_cache_start (cache, HOST, "http://example.com/a/b?q=1");
    assert_non_null (robots_url);
    assert_string_equal (robots_url, "http://example.com/robots.txt");
    free (robots_url);
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_PENDING);
}

static zc_robots_t
s_outcome (uint32_t status, const char *body, const char *reason)
{
    return (zc_robots_t){.url = "http://example.com/robots.txt",
                         .status = status,
                         .reason = reason,
                         .body = body,
                         .body_size = body ? strlen (body) : 0};
}

static void
test_unknown_host (void **state)
{
    (void)state;
    zc_robots_cache_t *cache = s_cache_new ();
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_UNKNOWN);
    assert_true (zc_robots_cache_needs_fetch (cache, HOST, 0));
    assert_true (zc_robots_cache_allowed (cache, HOST, "http://example.com/x"));
    assert_null (zc_robots_cache_failure (cache, HOST));
    assert_int_equal (zc_robots_cache_crawl_delay_ms (cache, HOST), -1);
    //  No usable authority: nothing changes
    assert_null (zc_robots_cache_start (cache, HOST, "http:///x"));
    assert_null (zc_robots_cache_start (cache, HOST, "no-scheme"));
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_UNKNOWN);
    //  An outcome nobody waits for is ignored
    zc_robots_t outcome = s_outcome (200, "User-agent: *\nDisallow: /\n", "");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 1, &outcome, 0),
                      ZC_ROBOTS_CACHE_IGNORED);
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_UNKNOWN);
    zc_robots_cache_destroy (&cache);
    assert_null (cache);
    zc_robots_cache_destroy (&cache); //  NULL-safe
}

static void
test_ready_and_expiry (void **state)
{
    (void)state;
    zc_robots_cache_t *cache = s_cache_new ();
    s_start (cache);
    assert_false (zc_robots_cache_needs_fetch (cache, HOST, 0));
    zc_robots_t outcome =
        s_outcome (200, "User-agent: zcrawl\nDisallow: /private\nCrawl-delay: 2\n", "");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 1, &outcome, 100),
                      ZC_ROBOTS_CACHE_CACHED);
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_READY);
    assert_false (zc_robots_cache_allowed (cache, HOST, "http://example.com/private/x"));
    assert_true (zc_robots_cache_allowed (cache, HOST, "http://example.com/public"));
    assert_int_equal (zc_robots_cache_crawl_delay_ms (cache, HOST), 2000);
    //  A second outcome for a ready host is ignored
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 1, &outcome, 100),
                      ZC_ROBOTS_CACHE_IGNORED);
    //  Expires CACHE_MS after the outcome
    assert_false (zc_robots_cache_needs_fetch (cache, HOST, 100 + CACHE_MS - 1));
    assert_true (zc_robots_cache_needs_fetch (cache, HOST, 100 + CACHE_MS));
    //  While re-fetching, the old rules still apply
    s_start (cache);
    assert_false (zc_robots_cache_needs_fetch (cache, HOST, 100 + CACHE_MS));
    assert_false (zc_robots_cache_allowed (cache, HOST, "http://example.com/private/x"));
    //  4xx: no robots.txt, everything allowed
    outcome = s_outcome (404, NULL, "");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 1, &outcome, 2000),
                      ZC_ROBOTS_CACHE_CACHED);
    assert_true (zc_robots_cache_allowed (cache, HOST, "http://example.com/private/x"));
    assert_int_equal (zc_robots_cache_crawl_delay_ms (cache, HOST), -1);
    assert_false (zc_robots_cache_needs_fetch (cache, HOST, 2000 + CACHE_MS - 1));
    zc_robots_cache_destroy (&cache);
}

static void
test_retry_then_fail (void **state)
{
    (void)state;
    zc_robots_cache_t *cache = s_cache_new ();
    s_start (cache);
    //  5xx with attempts left: still pending
    zc_robots_t outcome = s_outcome (503, NULL, "");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 1, &outcome, 0), ZC_ROBOTS_CACHE_RETRY);
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_PENDING);
    assert_null (zc_robots_cache_failure (cache, HOST));
    //  Last attempt (max_attempts 2): failed, for good
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 2, &outcome, 0),
                      ZC_ROBOTS_CACHE_GAVE_UP);
    assert_int_equal (zc_robots_cache_state (cache, HOST), ZC_ROBOTS_CACHE_FAILED);
    assert_string_equal (zc_robots_cache_failure (cache, HOST), "robots.txt unavailable: HTTP 503");
    assert_false (zc_robots_cache_needs_fetch (cache, HOST, INT64_MAX));
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 2, &outcome, 0),
                      ZC_ROBOTS_CACHE_IGNORED);
    zc_robots_cache_destroy (&cache);
}

static void
test_no_response (void **state)
{
    (void)state;
    zc_robots_cache_t *cache = s_cache_new ();
    s_start (cache);
    zc_robots_t outcome = s_outcome (0, NULL, "connect");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 2, &outcome, 0),
                      ZC_ROBOTS_CACHE_GAVE_UP);
    assert_string_equal (zc_robots_cache_failure (cache, HOST), "robots.txt unavailable: connect");
    //  Other hosts are independent
    assert_int_equal (zc_robots_cache_state (cache, "http://other.example"),
                      ZC_ROBOTS_CACHE_UNKNOWN);
    zc_robots_cache_destroy (&cache);

    cache = s_cache_new ();
    s_start (cache);
    outcome = s_outcome (0, NULL, "");
    assert_int_equal (zc_robots_cache_outcome (cache, HOST, 2, &outcome, 0),
                      ZC_ROBOTS_CACHE_GAVE_UP);
    assert_string_equal (zc_robots_cache_failure (cache, HOST),
                         "robots.txt unavailable: no response");
    zc_robots_cache_destroy (&cache);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_unknown_host),
        cmocka_unit_test (test_ready_and_expiry),
        cmocka_unit_test (test_retry_then_fail),
        cmocka_unit_test (test_no_response),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
