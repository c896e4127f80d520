/*  Unit tests for zc_record (durable record layout) and for durable crawls
    (zc_crawl over zc_store): what a crash between two commits leaves, and
    how a crawl comes back from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zc_crawl.h"
#include "zc_record.h"
#include "zc_store.h"
#include "zc_util.h"

//  --------------------------------------------------------------------------
//  Records

static void
test_pending_round_trip (void **state)
{
    (void)state;
    zc_record_pending_t in = {.url = "http://a.test/x",
                              .origin = "http://a.test/o",
                              .depth = 3,
                              .attempt = 2,
                              .redirects = 1};
    size_t size;
    void *data = zc_record_pending_encode (&in, &size);
    zc_record_pending_t out;
    assert_int_equal (zc_record_pending_decode (data, size, &out), 0);
    assert_string_equal (out.url, in.url);
    assert_string_equal (out.origin, in.origin);
    assert_int_equal (out.depth, 3);
    assert_int_equal (out.attempt, 2);
    assert_int_equal (out.redirects, 1);
    //  Every truncation, and one byte too many, is refused
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (zc_record_pending_decode (data, cut, &out), -1);
    uint8_t *longer = (uint8_t *)zc_malloc (size + 1);
    memcpy (longer, data, size);
    longer[size] = 0;
    assert_int_equal (zc_record_pending_decode (longer, size + 1, &out), -1);
    //  A length claiming more than there is
    longer[13] = 0xff;
    assert_int_equal (zc_record_pending_decode (longer, size, &out), -1);
    free (longer);
    free (data);
    assert_int_equal (zc_record_pending_decode (NULL, 0, &out), -1);
}

static void
test_crawl_round_trip (void **state)
{
    (void)state;
    const uint8_t submit[] = {0x81, 0xa1, 0x76, 0x01};
    zc_record_crawl_t in = {.crawl_no = 7,
                            .state = 1,
                            .started_ms = 1700000000000,
                            .elapsed_ms = 1234,
                            .items_offset = 99,
                            .errors_offset = 5,
                            .pages = 10,
                            .failed = 2,
                            .admitted = 12,
                            .next_seq = 13,
                            .output = "/tmp/x.jsonl",
                            .errors = "/tmp/x.errors.jsonl",
                            .submit = submit,
                            .submit_size = sizeof submit};
    size_t size;
    void *data = zc_record_crawl_encode (&in, &size);
    zc_record_crawl_t out;
    assert_int_equal (zc_record_crawl_decode (data, size, &out), 0);
    assert_int_equal (out.crawl_no, 7);
    assert_int_equal (out.state, 1);
    assert_int_equal (out.started_ms, 1700000000000);
    assert_int_equal (out.items_offset, 99);
    assert_int_equal (out.next_seq, 13);
    assert_string_equal (out.output, in.output);
    assert_string_equal (out.errors, in.errors);
    assert_int_equal (out.submit_size, sizeof submit);
    assert_memory_equal (out.submit, submit, sizeof submit);
    for (size_t cut = 0; cut < size; cut++)
        assert_int_equal (zc_record_crawl_decode (data, cut, &out), -1);
    ((uint8_t *)data)[0] = 99; //  unknown version
    assert_int_equal (zc_record_crawl_decode (data, size, &out), -1);
    free (data);
}

static void
test_keys_sort_numerically (void **state)
{
    (void)state;
    uint8_t a[ZC_RECORD_NUMBERED_KEY], b[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (a, 1, 255);
    zc_record_numbered_key (b, 1, 256);
    assert_true (memcmp (a, b, sizeof a) < 0);
    assert_int_equal (zc_record_key_number (b, sizeof b), 256);
    zc_record_numbered_key (b, 2, 0);
    assert_true (memcmp (a, b, sizeof a) < 0);
    assert_int_equal (zc_record_key_number (b, 3), 0);
}

//  --------------------------------------------------------------------------
//  Durable crawls

typedef struct {
    char dir[64];
    char store_dir[96];
    char items[96];
    zc_store_t *store;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = (fixture_t *)calloc (1, sizeof (fixture_t));
    if (!fixture)
        return -1;
    snprintf (fixture->dir, sizeof fixture->dir, "/tmp/test_zc_record.XXXXXX");
    if (!mkdtemp (fixture->dir)) {
        free (fixture);
        return -1;
    }
    snprintf (fixture->store_dir, sizeof fixture->store_dir, "%s/data", fixture->dir);
    snprintf (fixture->items, sizeof fixture->items, "%s/items.jsonl", fixture->dir);
    char *error = NULL;
    fixture->store = zc_store_open (fixture->store_dir, &error);
    free (error);
    *state = fixture;
    return fixture->store ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_destroy (&fixture->store);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", fixture->dir);
    if (system (command) != 0)
        fprintf (stderr, "cannot remove %s\n", fixture->dir);
    free (fixture);
    return 0;
}

static zc_crawl_t *
s_new_crawl_budget (fixture_t *fixture, size_t memory_urls, size_t seen_bytes)
{
    const char *seeds[] = {"http://127.0.0.1:1/"};
    zc_submit_t submit = {.seeds = seeds,
                          .seed_count = 1,
                          .output = fixture->items,
                          .errors = "",
                          .opts = {.impolite = true, .ignore_robots = true, .max_depth = -1}};
    zc_crawl_durable_t durable = {.store = fixture->store,
                                  .crawl_no = 1,
                                  .memory_urls = memory_urls,
                                  .seen_bytes = seen_bytes};
    char *error = NULL;
    zc_crawl_t *crawl = zc_crawl_new ("c1", &submit, "", &durable, zc_now_ms (), &error);
    if (!crawl)
        fprintf (stderr, "zc_crawl_new: %s\n", error ? error : "?");
    free (error);
    return crawl;
}

static zc_crawl_t *
s_new_crawl (fixture_t *fixture, size_t memory_urls)
{
    return s_new_crawl_budget (fixture, memory_urls, 0);
}

//  Checkpoints CRAWL and commits the store.
static void
s_commit (fixture_t *fixture, zc_crawl_t *crawl)
{
    char *error = NULL;
    assert_int_equal (zc_crawl_checkpoint (crawl, &error), 0);
    assert_int_equal (zc_store_commit (fixture->store, &error), 0);
    free (error);
}

//  Fetches the next job of CRAWL "successfully": writes its item.
static uint64_t
s_complete_next (zc_crawl_t *crawl, char *url, size_t url_size)
{
    zc_crawl_job_t job;
    assert_int_equal (zc_crawl_pop (crawl, zc_now_ms (), &job), 0);
    assert_int_equal (job.kind, ZC_JOB_PAGE);
    zc_result_t result = {
        .meta = {.crawl = "c1", .url = job.url, .final_url = job.url, .status = 200}};
    zc_crawl_write_item (crawl, job.seq, &result);
    zc_crawl_job_ended (crawl, ZC_JOB_PAGE, job.host_key, zc_now_ms ());
    snprintf (url, url_size, "%s", job.url);
    uint64_t seq = job.seq;
    zc_crawl_job_clear (&job);
    return seq;
}

static size_t
s_lines (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t lines = 0;
    int c;
    while ((c = fgetc (file)) != EOF)
        lines += c == '\n';
    fclose (file);
    return lines;
}

//  Rebuilds crawl c1 from the store's last commit.
static zc_crawl_t *
s_restore (fixture_t *fixture, size_t memory_urls)
{
    void *value = NULL;
    size_t size = 0;
    const char *key = ZC_RECORD_CRAWL_KEY_PREFIX "c1";
    assert_int_equal (
        zc_store_get (fixture->store, ZC_STORE_META, key, strlen (key), &value, &size), 0);
    zc_record_crawl_t record;
    assert_int_equal (zc_record_crawl_decode (value, size, &record), 0);
    zc_crawl_durable_t durable = {.store = fixture->store, .memory_urls = memory_urls};
    char *error = NULL;
    zc_crawl_t *crawl = zc_crawl_restore ("c1", &record, &durable, zc_now_ms (), &error);
    if (!crawl)
        fprintf (stderr, "zc_crawl_restore: %s\n", error ? error : "?");
    free (error);
    free (value);
    return crawl;
}

static void
test_crash_between_commits (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_crawl_t *crawl = s_new_crawl (fixture, 0);
    assert_non_null (crawl);
    char url[256];
    s_complete_next (crawl, url, sizeof url); //  the seed
    assert_string_equal (url, "http://127.0.0.1:1/");
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/a", 1), ZC_CRAWL_ADMITTED);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_ADMITTED);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/c", 1), ZC_CRAWL_ADMITTED);
    s_commit (fixture, crawl);
    //  After the commit: /a is written and /d admitted, but never committed
    s_complete_next (crawl, url, sizeof url);
    assert_string_equal (url, "http://127.0.0.1:1/a");
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/d", 2), ZC_CRAWL_ADMITTED);
    assert_int_equal (zc_crawl_flush (crawl), 0);
    assert_int_equal (s_lines (fixture->items), 2);
    //  "Crash": the crawl goes without a checkpoint, the batch is dropped
    zc_crawl_destroy (&crawl);
    zc_store_discard (fixture->store);

    crawl = s_restore (fixture, 0);
    assert_non_null (crawl);
    assert_int_equal (s_lines (fixture->items), 1); //  cut back to the commit
    zc_crawl_status_t status;
    zc_crawl_status (crawl, zc_now_ms (), &status);
    assert_string_equal (status.state, "running");
    assert_int_equal (status.pages, 1);
    assert_int_equal (status.queued, 3); //  /a again, /b, /c; /d is unknown
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_SEEN);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/", 1), ZC_CRAWL_SEEN);
    //  Finish: each URL exactly once in the output
    for (int i = 0; i < 3; i++)
        s_complete_next (crawl, url, sizeof url);
    assert_true (zc_crawl_check_done (crawl, zc_now_ms ()));
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);
    assert_int_equal (s_lines (fixture->items), 4);
    //  Done is durable: it comes back done, its pending and seen records gone
    crawl = s_restore (fixture, 0);
    assert_non_null (crawl);
    zc_crawl_status (crawl, zc_now_ms (), &status);
    assert_string_equal (status.state, "done");
    assert_int_equal (status.pages, 4);
    zc_crawl_destroy (&crawl);
    assert_int_equal (s_lines (fixture->items), 4);
}

static void
test_spill_to_store (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_crawl_t *crawl = s_new_crawl (fixture, 4);
    assert_non_null (crawl);
    char url[256];
    s_complete_next (crawl, url, sizeof url);
    for (int i = 0; i < 20; i++) {
        char link[64];
        snprintf (link, sizeof link, "http://127.0.0.1:1/p%02d", i);
        assert_int_equal (zc_crawl_admit (crawl, link, 1), ZC_CRAWL_ADMITTED);
    }
    zc_crawl_status_t status;
    zc_crawl_status (crawl, zc_now_ms (), &status);
    assert_int_equal (status.queued, 20);
    s_commit (fixture, crawl);
    //  Admission order is kept across RAM and store
    for (int i = 0; i < 20; i++) {
        if (i % 2 == 0) {
            s_commit (fixture, crawl);
            zc_crawl_committed (crawl);
        }
        char expected[64];
        snprintf (expected, sizeof expected, "http://127.0.0.1:1/p%02d", i);
        s_complete_next (crawl, url, sizeof url);
        assert_string_equal (url, expected);
        if (i < 19)
            assert_false (zc_crawl_check_done (crawl, zc_now_ms ()));
    }
    assert_true (zc_crawl_check_done (crawl, zc_now_ms ()));
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);
    assert_int_equal (s_lines (fixture->items), 21);
}

static void
test_restore_with_budget (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_crawl_t *crawl = s_new_crawl (fixture, 0);
    assert_non_null (crawl);
    char url[256];
    s_complete_next (crawl, url, sizeof url);
    for (int i = 0; i < 10; i++) {
        char link[64];
        snprintf (link, sizeof link, "http://127.0.0.1:1/q%d", i);
        assert_int_equal (zc_crawl_admit (crawl, link, 1), ZC_CRAWL_ADMITTED);
    }
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);
    //  Back with room for 3 in RAM: the other 7 stay in the store
    crawl = s_restore (fixture, 3);
    assert_non_null (crawl);
    zc_crawl_status_t status;
    zc_crawl_status (crawl, zc_now_ms (), &status);
    assert_int_equal (status.queued, 10);
    for (int i = 0; i < 10; i++) {
        s_commit (fixture, crawl);
        zc_crawl_committed (crawl);
        s_complete_next (crawl, url, sizeof url);
    }
    assert_true (zc_crawl_check_done (crawl, zc_now_ms ()));
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);
    assert_int_equal (s_lines (fixture->items), 11);
}

static void
test_seen_in_store (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    //  A seen budget of 1 byte: after each commit the RAM set is dropped
    zc_crawl_t *crawl = s_new_crawl_budget (fixture, 0, 1);
    assert_non_null (crawl);
    char url[256];
    s_complete_next (crawl, url, sizeof url);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/a", 1), ZC_CRAWL_ADMITTED);
    s_commit (fixture, crawl);
    zc_crawl_committed (crawl);
    //  Only the store knows them now
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/a", 1), ZC_CRAWL_SEEN);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/", 1), ZC_CRAWL_SEEN);
    //  Not committed yet: RAM answers
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_ADMITTED);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_SEEN);
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);
    //  Restored with a budget: the seen set is not loaded, the store answers
    void *value = NULL;
    size_t size = 0;
    const char *key = ZC_RECORD_CRAWL_KEY_PREFIX "c1";
    assert_int_equal (
        zc_store_get (fixture->store, ZC_STORE_META, key, strlen (key), &value, &size), 0);
    zc_record_crawl_t record;
    assert_int_equal (zc_record_crawl_decode (value, size, &record), 0);
    zc_crawl_durable_t durable = {.store = fixture->store, .seen_bytes = 1};
    char *error = NULL;
    crawl = zc_crawl_restore ("c1", &record, &durable, zc_now_ms (), &error);
    free (value);
    free (error);
    assert_non_null (crawl);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_SEEN);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/c", 1), ZC_CRAWL_ADMITTED);
    for (int i = 0; i < 3; i++)
        s_complete_next (crawl, url, sizeof url);
    assert_true (zc_crawl_check_done (crawl, zc_now_ms ()));
    zc_crawl_destroy (&crawl);
    assert_int_equal (s_lines (fixture->items), 4);
}

static void
test_pause_and_host_limit_survive (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    const char *seeds[] = {"http://127.0.0.1:1/"};
    zc_submit_t submit = {
        .seeds = seeds,
        .seed_count = 1,
        .output = fixture->items,
        .errors = "",
        .opts = {
            .impolite = true, .ignore_robots = true, .max_depth = -1, .max_pages_per_host = 3}};
    zc_crawl_durable_t durable = {.store = fixture->store, .crawl_no = 1};
    char *error = NULL;
    zc_crawl_t *crawl = zc_crawl_new ("c1", &submit, "", &durable, zc_now_ms (), &error);
    assert_non_null (crawl);
    char url[256];
    s_complete_next (crawl, url, sizeof url);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/a", 1), ZC_CRAWL_ADMITTED);
    s_complete_next (crawl, url, sizeof url); //  2 of 3 done: only their count says so
    zc_crawl_pause (crawl, NULL);
    s_commit (fixture, crawl);
    zc_crawl_destroy (&crawl);

    crawl = s_restore (fixture, 0);
    assert_non_null (crawl);
    assert_true (zc_crawl_paused (crawl));
    zc_crawl_resume (crawl);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/b", 1), ZC_CRAWL_ADMITTED);
    assert_int_equal (zc_crawl_admit (crawl, "http://127.0.0.1:1/c", 1), ZC_CRAWL_HOST_LIMIT);
    zc_crawl_destroy (&crawl);
}

//  Checks zc_crawl_resolve (CRAWL, HOST_KEY) against EXPECTED (COUNT).
static void
s_assert_resolve (zc_crawl_t *crawl, const char *host_key, const char **expected, size_t count)
{
    const char **entries = NULL;
    size_t entry_count = 99;
    zc_crawl_resolve (crawl, host_key, &entries, &entry_count);
    if (entry_count != count)
        fail_msg ("%s: %zu resolve entries, expected %zu", host_key, entry_count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (entries[i], expected[i]);
}

//  Each host key gets its own resolve entries (host case-insensitive,
//  port numeric, curl's "+" mark and "*" wildcard), in a new crawl and in
//  the same crawl restored from the store.
static void
test_resolve_restored (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    const char *resolve[] = {"a.test:80:127.0.0.2",    "B.TEST:0080:127.0.0.3",
                             "+c.test:80:127.0.0.4",   "*:80:127.0.0.9",
                             "a.test:8080:127.0.0.5",  "not-an-entry",
                             "a.test:99999:127.0.0.6", "A.test:80:[::1]"};
    const char *seeds[] = {"http://a.test/"};
    zc_submit_t submit = {.seeds = seeds,
                          .seed_count = 1,
                          .output = fixture->items,
                          .errors = "",
                          .opts = {.impolite = true,
                                   .ignore_robots = true,
                                   .max_depth = -1,
                                   .fetch = {.resolve = resolve, .resolve_count = 8}}};
    zc_crawl_durable_t durable = {.store = fixture->store, .crawl_no = 1};
    char *error = NULL;
    zc_crawl_t *crawl = zc_crawl_new ("c1", &submit, "", &durable, zc_now_ms (), &error);
    assert_non_null (crawl);
    for (int round = 0; round < 2; round++) {
        const char *a80[] = {resolve[0], resolve[3], resolve[7]};
        s_assert_resolve (crawl, "a.test:80", a80, 3);
        const char *b80[] = {resolve[1], resolve[3]};
        s_assert_resolve (crawl, "b.test:80", b80, 2);
        const char *c80[] = {resolve[2], resolve[3]};
        s_assert_resolve (crawl, "c.test:80", c80, 2);
        const char *a8080[] = {resolve[4]};
        s_assert_resolve (crawl, "a.test:8080", a8080, 1);
        const char *other80[] = {resolve[3]};
        s_assert_resolve (crawl, "other.test:80", other80, 1);
        s_assert_resolve (crawl, "other.test:443", NULL, 0);
        s_assert_resolve (crawl, "a.test:99999", NULL, 0);
        //  The job of the seed carries a.test:80's entries
        zc_crawl_job_t job;
        assert_int_equal (zc_crawl_pop (crawl, zc_now_ms (), &job), 0);
        assert_string_equal (job.host_key, "a.test:80");
        zc_crawl_requeue (crawl, &job, zc_now_ms ());
        zc_crawl_job_clear (&job);
        if (round == 0) {
            s_commit (fixture, crawl);
            zc_crawl_destroy (&crawl);
            crawl = s_restore (fixture, 0);
            assert_non_null (crawl);
        }
    }
    zc_crawl_destroy (&crawl);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_pending_round_trip),
        cmocka_unit_test (test_crawl_round_trip),
        cmocka_unit_test (test_keys_sort_numerically),
        cmocka_unit_test_setup_teardown (test_crash_between_commits, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_spill_to_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restore_with_budget, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seen_in_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pause_and_host_limit_survive, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resolve_restored, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
