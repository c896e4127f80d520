/*  Unit tests for zc_frontier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <string.h>

#include "zc_frontier.h"

static zc_frontier_t *
s_new (uint32_t concurrency, uint32_t delay_ms)
{
    zc_frontier_config_t config = {.host_concurrency = concurrency, .host_delay_ms = delay_ms};
    return zc_frontier_new (&config);
}

//  Pops one entry at NOW and checks its URL; returns its host key (caller frees).
static char *
s_pop_expect (zc_frontier_t *frontier, int64_t now, const char *url, uint32_t depth)
{
    zc_frontier_entry_t entry;
    assert_int_equal (zc_frontier_pop (frontier, now, &entry), 0);
    assert_string_equal (entry.url, url);
    assert_int_equal (entry.depth, depth);
    char *host = entry.host_key;
    entry.host_key = NULL;
    zc_frontier_entry_clear (&entry);
    assert_null (entry.url);
    return host;
}

static void
test_fifo_per_host (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (100, 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), -1);
    zc_frontier_entry_t entry;
    assert_int_equal (zc_frontier_pop (frontier, 0, &entry), -1);
    zc_frontier_push (frontier, "http://a/1", "a:80", 0);
    zc_frontier_push (frontier, "http://a/2", "a:80", 1);
    zc_frontier_push (frontier, "http://a/3", "a:80", 2);
    assert_int_equal (zc_frontier_queued (frontier), 3);
    assert_int_equal (zc_frontier_hosts (frontier), 1);
    char *host;
    host = s_pop_expect (frontier, 10, "http://a/1", 0);
    assert_string_equal (host, "a:80");
    free (host);
    free (s_pop_expect (frontier, 10, "http://a/2", 1));
    free (s_pop_expect (frontier, 10, "http://a/3", 2));
    assert_int_equal (zc_frontier_pop (frontier, 10, &entry), -1);
    assert_int_equal (zc_frontier_queued (frontier), 0);
    assert_int_equal (zc_frontier_in_flight (frontier), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (zc_frontier_done (frontier, "a:80", 10), 0);
    assert_int_equal (zc_frontier_done (frontier, "a:80", 10), -1);
    assert_int_equal (zc_frontier_done (frontier, "nope:80", 10), -1);
    assert_int_equal (zc_frontier_in_flight (frontier), 0);
    zc_frontier_destroy (&frontier);
    assert_null (frontier);
}

//  With no delay, hosts are served round-robin.
static void
test_fairness (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (1000, 0);
    const char *hosts[] = {"a:80", "b:80", "c:80"};
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 3; h++) {
            char url[64];
            snprintf (url, sizeof url, "http://%c/%d", hosts[h][0], i);
            zc_frontier_push (frontier, url, hosts[h], 0);
        }
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 3; h++) {
            char url[64];
            snprintf (url, sizeof url, "http://%c/%d", hosts[h][0], i);
            free (s_pop_expect (frontier, 0, url, 0));
        }
    zc_frontier_destroy (&frontier);
}

//  A host at its in-flight limit is skipped but does not block others.
static void
test_in_flight_limit (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (2, 0);
    for (int i = 0; i < 5; i++) {
        char url[64];
        snprintf (url, sizeof url, "http://a/%d", i);
        zc_frontier_push (frontier, url, "a:80", 0);
    }
    zc_frontier_push (frontier, "http://b/0", "b:80", 0);
    zc_frontier_push (frontier, "http://b/1", "b:80", 0);
    zc_frontier_push (frontier, "http://b/2", "b:80", 0);
    free (s_pop_expect (frontier, 0, "http://a/0", 0));
    free (s_pop_expect (frontier, 0, "http://b/0", 0));
    free (s_pop_expect (frontier, 0, "http://a/1", 0));
    free (s_pop_expect (frontier, 0, "http://b/1", 0));
    //  Both hosts are at 2 in flight
    zc_frontier_entry_t entry;
    assert_int_equal (zc_frontier_pop (frontier, 0, &entry), -1);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), -1);
    //  A new host is still served
    zc_frontier_push (frontier, "http://c/0", "c:80", 3);
    free (s_pop_expect (frontier, 0, "http://c/0", 3));
    //  done() on a frees one slot on a only
    assert_int_equal (zc_frontier_done (frontier, "a:80", 1), 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 0);
    free (s_pop_expect (frontier, 1, "http://a/2", 0));
    assert_int_equal (zc_frontier_pop (frontier, 1, &entry), -1);
    assert_int_equal (zc_frontier_done (frontier, "b:80", 2), 0);
    assert_int_equal (zc_frontier_done (frontier, "a:80", 2), 0);
    free (s_pop_expect (frontier, 2, "http://b/2", 0));
    free (s_pop_expect (frontier, 2, "http://a/3", 0));
    assert_int_equal (zc_frontier_queued (frontier), 1);
    assert_int_equal (zc_frontier_in_flight (frontier), 5);
    zc_frontier_destroy (&frontier); //  frees the queued a/4
}

static void
test_delay (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (8, 100);
    zc_frontier_push (frontier, "http://a/0", "a:80", 0);
    zc_frontier_push (frontier, "http://a/1", "a:80", 0);
    zc_frontier_push (frontier, "http://b/0", "b:80", 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 0);
    free (s_pop_expect (frontier, 1000, "http://a/0", 0));
    free (s_pop_expect (frontier, 1000, "http://b/0", 0));
    //  a may be fetched again at 1100
    zc_frontier_entry_t entry;
    assert_int_equal (zc_frontier_pop (frontier, 1000, &entry), -1);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 1100);
    assert_int_equal (zc_frontier_pop (frontier, 1099, &entry), -1);
    free (s_pop_expect (frontier, 1100, "http://a/1", 0));
    //  The delay survives the host going idle
    zc_frontier_push (frontier, "http://a/2", "a:80", 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 1200);
    assert_int_equal (zc_frontier_pop (frontier, 1150, &entry), -1);
    free (s_pop_expect (frontier, 1250, "http://a/2", 0));
    //  The earliest-ready host goes first: b (ready at 1100) before a (1350)
    zc_frontier_push (frontier, "http://a/3", "a:80", 0);
    zc_frontier_push (frontier, "http://b/1", "b:80", 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 1100);
    free (s_pop_expect (frontier, 2000, "http://b/1", 0));
    free (s_pop_expect (frontier, 2000, "http://a/3", 0));
    zc_frontier_destroy (&frontier);
}

//  Adaptive back-off: failures double the host's delay from max(delay,
//  100 ms) up to 60 s and push its next request; successes halve it back.
static void
test_backoff (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (8, 300);
    for (int i = 0; i < 4; i++) {
        char url[32];
        snprintf (url, sizeof url, "http://a/%d", i);
        zc_frontier_push (frontier, url, "a:80", 0);
    }
    zc_frontier_push (frontier, "http://b/0", "b:80", 0);
    assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), 300);
    free (s_pop_expect (frontier, 1000, "http://a/0", 0));
    //  Failure at 1050: delay 600, next request of a not before 1650
    zc_frontier_backoff (frontier, "a:80", 1050);
    assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), 600);
    assert_int_equal (zc_frontier_done (frontier, "a:80", 1050), 0);
    zc_frontier_entry_t entry;
    //  Other hosts are not affected
    free (s_pop_expect (frontier, 1100, "http://b/0", 0));
    assert_int_equal (zc_frontier_pop (frontier, 1649, &entry), -1);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 1650);
    free (s_pop_expect (frontier, 1650, "http://a/1", 0));
    //  The request after that one waits the backed-off delay too
    assert_int_equal (zc_frontier_pop (frontier, 2249, &entry), -1);
    free (s_pop_expect (frontier, 2250, "http://a/2", 0));
    //  Capped at 64 times the delay (19.2 s)
    for (int i = 0; i < 20; i++)
        zc_frontier_backoff (frontier, "a:80", 3000);
    assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), 19200);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 3000 + 19200);
    //  Recovery: halves down to the configured delay, never below
    int64_t expected[] = {9600, 4800, 2400, 1200, 600, 300, 300};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        zc_frontier_success (frontier, "a:80");
        assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), expected[i]);
    }
    //  With no delay the back-off starts at 100 ms and snaps back to 0
    zc_frontier_t *fast = s_new (8, 0);
    zc_frontier_push (fast, "http://c/0", "c:80", 0);
    zc_frontier_backoff (fast, "c:80", 0);
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), 200);
    zc_frontier_backoff (fast, "c:80", 0);
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), 400);
    zc_frontier_success (fast, "c:80");
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), 200);
    zc_frontier_success (fast, "c:80");
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), 100);
    zc_frontier_success (fast, "c:80");
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), 0);
    //  ... and at 60 s for slow hosts
    zc_frontier_set_delay (fast, "c:80", 2000);
    for (int i = 0; i < 20; i++)
        zc_frontier_backoff (fast, "c:80", 0);
    assert_int_equal (zc_frontier_host_delay (fast, "c:80"), ZC_FRONTIER_MAX_BACKOFF_MS);
    //  Unknown hosts are ignored
    zc_frontier_backoff (fast, "nope:80", 0);
    zc_frontier_success (fast, "nope:80");
    assert_int_equal (zc_frontier_host_delay (fast, "nope:80"), -1);
    zc_frontier_destroy (&fast);
    zc_frontier_destroy (&frontier);
}

//  Retry-After pushes the host's next allowed time; an earlier one does not
//  pull it back.
static void
test_defer (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (8, 100);
    zc_frontier_push (frontier, "http://a/0", "a:80", 0);
    zc_frontier_push (frontier, "http://a/1", "a:80", 0);
    zc_frontier_push (frontier, "http://b/0", "b:80", 0);
    free (s_pop_expect (frontier, 0, "http://a/0", 0));
    zc_frontier_defer (frontier, "a:80", 5000);
    zc_frontier_defer (frontier, "a:80", 4000);
    zc_frontier_entry_t entry;
    free (s_pop_expect (frontier, 200, "http://b/0", 0));
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 5000);
    assert_int_equal (zc_frontier_pop (frontier, 4999, &entry), -1);
    free (s_pop_expect (frontier, 5000, "http://a/1", 0));
    //  The delay is unchanged
    assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), 100);
    zc_frontier_destroy (&frontier);
}

//  Held hosts are never served; peek does not take; drop removes the head
//  without using the host's slot or delay; push_entry to the front; start
//  counts a request start.
static void
test_hold_peek_drop (void **state)
{
    (void)state;
    zc_frontier_t *frontier = s_new (1, 100);
    zc_frontier_push (frontier, "http://a/0", "a:80", 0);
    zc_frontier_push (frontier, "http://a/1", "a:80", 0);
    zc_frontier_hold (frontier, "a:80", true);
    zc_frontier_entry_t entry;
    const char *url, *host;
    assert_int_equal (zc_frontier_peek (frontier, 0, &url, &host), -1);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), -1);
    //  robots.txt requested at 10: the first page waits for the delay
    zc_frontier_start (frontier, "a:80", 10);
    zc_frontier_hold (frontier, "a:80", false);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 110);
    assert_int_equal (zc_frontier_peek (frontier, 109, &url, &host), -1);
    assert_int_equal (zc_frontier_peek (frontier, 110, &url, &host), 0);
    assert_string_equal (url, "http://a/0");
    assert_string_equal (host, "a:80");
    assert_int_equal (zc_frontier_queued (frontier), 2);
    //  Drop the head: not in flight, timing untouched
    assert_int_equal (zc_frontier_drop (frontier, "a:80", &entry), 0);
    assert_string_equal (entry.url, "http://a/0");
    assert_int_equal (entry.attempt, 1);
    assert_null (entry.origin);
    zc_frontier_entry_clear (&entry);
    assert_int_equal (zc_frontier_in_flight (frontier), 0);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 110);
    //  A retry goes in front, with its attempt, redirects and origin (a
    //  redirect continuation keeps the URL it reports under, as a copy)
    char origin[] = "http://o/start";
    zc_frontier_push_entry (frontier, "http://a/r", "a:80", 2, 3, 4, origin, true);
    origin[0] = 'X';
    assert_int_equal (zc_frontier_pop (frontier, 110, &entry), 0);
    assert_string_equal (entry.url, "http://a/r");
    assert_int_equal (entry.depth, 2);
    assert_int_equal (entry.attempt, 3);
    assert_int_equal (entry.redirects, 4);
    assert_string_equal (entry.origin, "http://o/start");
    zc_frontier_entry_clear (&entry);
    assert_null (entry.origin);
    //  At its in-flight limit (1): nothing, even after the delay
    assert_int_equal (zc_frontier_peek (frontier, 1000, &url, &host), -1);
    assert_int_equal (zc_frontier_done (frontier, "a:80", 1000), 0);
    free (s_pop_expect (frontier, 1000, "http://a/1", 0));
    assert_int_equal (zc_frontier_drop (frontier, "a:80", &entry), -1);
    assert_int_equal (zc_frontier_drop (frontier, "nope:80", &entry), -1);
    //  drop hands the origin over too; "" means none
    zc_frontier_push_entry (frontier, "http://a/c", "a:80", 1, 1, 2, "http://o/1", false);
    zc_frontier_push_entry (frontier, "http://a/d", "a:80", 1, 1, 0, "", false);
    assert_int_equal (zc_frontier_drop (frontier, "a:80", &entry), 0);
    assert_string_equal (entry.origin, "http://o/1");
    zc_frontier_entry_clear (&entry);
    assert_int_equal (zc_frontier_drop (frontier, "a:80", &entry), 0);
    assert_null (entry.origin);
    zc_frontier_entry_clear (&entry);

    //  A Crawl-delay raises the base delay, counted from the last start (1000)
    zc_frontier_push (frontier, "http://a/2", "a:80", 0);
    assert_int_equal (zc_frontier_done (frontier, "a:80", 1000), 0);
    zc_frontier_set_delay (frontier, "a:80", 2000);
    assert_int_equal (zc_frontier_host_delay (frontier, "a:80"), 2000);
    assert_int_equal (zc_frontier_next_ready_ms (frontier), 3000);
    //  Queued continuations are freed with the frontier (ASan checks)
    zc_frontier_push_entry (frontier, "http://b/c", "b:80", 1, 1, 1, "http://o/2", false);
    zc_frontier_destroy (&frontier);
}

//  1M URLs over 1000 hosts: every URL comes out exactly once, in per-host
//  FIFO order, and hosts are interleaved.
static void
test_volume (void **state)
{
    (void)state;
    const int hosts = 1000, per_host = 1000;
    zc_frontier_t *frontier = s_new (4, 0);
    char url[64], host[32];
    for (int i = 0; i < per_host; i++)
        for (int h = 0; h < hosts; h++) {
            snprintf (url, sizeof url, "http://h%d/%d", h, i);
            snprintf (host, sizeof host, "h%d:80", h);
            zc_frontier_push (frontier, url, host, (uint32_t)i);
        }
    assert_int_equal (zc_frontier_queued (frontier), (size_t)hosts * per_host);
    assert_int_equal (zc_frontier_hosts (frontier), (size_t)hosts);
    int *next = (int *)zmalloc (sizeof (int) * (size_t)hosts);
    size_t popped = 0;
    int64_t now = 0;
    while (1) {
        zc_frontier_entry_t entry;
        if (zc_frontier_pop (frontier, now, &entry) != 0)
            break;
        int h, i;
        assert_int_equal (sscanf (entry.url, "http://h%d/%d", &h, &i), 2);
        assert_int_equal (i, next[h]);
        assert_int_equal (entry.depth, (uint32_t)i);
        next[h]++;
        popped++;
        //  Within the first round every pop is a new host
        if (popped <= (size_t)hosts)
            assert_int_equal (i, 0);
        assert_int_equal (zc_frontier_done (frontier, entry.host_key, now), 0);
        zc_frontier_entry_clear (&entry);
        now++;
    }
    assert_int_equal (popped, (size_t)hosts * per_host);
    assert_int_equal (zc_frontier_queued (frontier), 0);
    assert_int_equal (zc_frontier_in_flight (frontier), 0);
    free (next);
    zc_frontier_destroy (&frontier);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fifo_per_host),   cmocka_unit_test (test_fairness),
        cmocka_unit_test (test_in_flight_limit), cmocka_unit_test (test_delay),
        cmocka_unit_test (test_volume),          cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_defer),           cmocka_unit_test (test_hold_peek_drop),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
