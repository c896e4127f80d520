/*  Unit tests for zc_journal (a crawl's state in the store), without a
    crawl around it: what each call queues in the store, the two RAM trims
    after a commit, and a restore of everything a journal wrote.
    test_zc_record covers the same paths through zc_crawl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zc_frontier.h"
#include "zc_journal.h"
#include "zc_record.h"
#include "zc_store.h"

typedef struct {
    char dir[64];
    char store_dir[96];
    zc_store_t *store;
    zc_frontier_t *frontier;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = (fixture_t *)calloc (1, sizeof (fixture_t));
    if (!fixture)
        return -1;
    snprintf (fixture->dir, sizeof fixture->dir, "/tmp/test_zc_journal.XXXXXX");
    if (!mkdtemp (fixture->dir)) {
        free (fixture);
        return -1;
    }
    snprintf (fixture->store_dir, sizeof fixture->store_dir, "%s/data", fixture->dir);
    char *error = NULL;
    fixture->store = zc_store_open (fixture->store_dir, &error);
    free (error);
    zc_frontier_config_t config = {.host_concurrency = 100};
    fixture->frontier = zc_frontier_new (&config);
    *state = fixture;
    return fixture->store ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_frontier_destroy (&fixture->frontier);
    zc_store_destroy (&fixture->store);
    char command[128];
    snprintf (command, sizeof command, "rm -rf %s", fixture->dir);
    if (system (command) != 0)
        fprintf (stderr, "cannot remove %s\n", fixture->dir);
    free (fixture);
    return 0;
}

static void
s_commit (zc_store_t *store)
{
    char *error = NULL;
    assert_int_equal (zc_store_commit (store, &error), 0);
    assert_null (error);
}

static int
s_count (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key;
    (void)key_size;
    (void)value;
    (void)value_size;
    (void)arg;
    return 0;
}

//  Committed records of crawl 1 in TABLE.
static int64_t
s_records (zc_store_t *store, zc_store_table_t table)
{
    uint8_t prefix[ZC_RECORD_PREFIX_KEY];
    zc_record_prefix_key (prefix, 1);
    return zc_store_each (store, table, prefix, sizeof prefix, NULL, 0, s_count, NULL);
}

//  Admits URL number N (seq N) of host a.test through JOURNAL.
static void
s_admit (zc_journal_t *journal, zc_frontier_t *frontier, uint64_t n)
{
    char url[64];
    snprintf (url, sizeof url, "http://a.test/%" PRIu64, n);
    zc_journal_seen_add (journal, 1000 + n);
    zc_journal_host_pages_add (journal, "http://a.test");
    zc_journal_pending (journal, n, url, NULL, 1, 1, 0);
    zc_frontier_entry_t entry = {
        .url = url, .host_key = "http://a.test", .depth = 1, .attempt = 1, .seq = n};
    zc_journal_enqueue (journal, frontier, &entry);
}

//  Pops the next URL of FRONTIER and returns its seq (0 if none).
static uint64_t
s_pop (zc_frontier_t *frontier)
{
    zc_frontier_entry_t entry;
    if (zc_frontier_pop (frontier, 0, &entry) != 0)
        return 0;
    uint64_t seq = entry.seq;
    assert_int_equal (zc_frontier_done (frontier, entry.host_key, 0), 0);
    zc_frontier_entry_clear (&entry);
    return seq;
}

static void
test_memory_only (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    //  Budgets without a store mean nothing: everything stays in RAM
    zc_journal_config_t config = {.crawl_id = "m", .crawl_no = 9, .memory_urls = 1};
    zc_journal_t *journal = zc_journal_new (&config);
    assert_false (zc_journal_durable (journal));
    assert_int_equal (zc_journal_number (journal), 0);
    for (uint64_t n = 1; n <= 3; n++)
        s_admit (journal, fixture->frontier, n);
    assert_true (zc_journal_seen (journal, 1001));
    assert_false (zc_journal_seen (journal, 1004));
    assert_int_equal (zc_journal_host_pages (journal, "http://a.test"), 3);
    assert_int_equal (zc_journal_host_pages (journal, "http://b.test"), 0);
    assert_int_equal (zc_frontier_queued (fixture->frontier), 3);
    assert_int_equal (zc_journal_spilled (journal), 0);
    zc_journal_done (journal, 1);
    zc_record_crawl_t record = {.output = "", .errors = "", .submit = "", .submit_size = 0};
    zc_journal_put_crawl (journal, &record);
    assert_false (zc_journal_dirty (journal));
    assert_int_equal (zc_store_batch_size (fixture->store), 0);
    assert_int_equal (zc_journal_committed (journal, fixture->frontier), 0);
    zc_journal_finish (journal);
    assert_int_equal (zc_store_batch_size (fixture->store), 0);
    zc_journal_destroy (&journal);
    zc_journal_destroy (&journal); //  NULL-safe
}

static void
test_pending_and_dirty (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_journal_config_t config = {.crawl_id = "c1", .store = fixture->store, .crawl_no = 1};
    zc_journal_t *journal = zc_journal_new (&config);
    assert_true (zc_journal_durable (journal));
    assert_int_equal (zc_journal_number (journal), 1);
    assert_false (zc_journal_dirty (journal));
    //  seq 0 has no record
    zc_journal_pending (journal, 0, "http://a.test/0", NULL, 0, 1, 0);
    zc_journal_done (journal, 0);
    assert_false (zc_journal_dirty (journal));
    s_admit (journal, fixture->frontier, 1);
    s_admit (journal, fixture->frontier, 2);
    assert_true (zc_journal_dirty (journal));
    zc_journal_clean (journal);
    zc_journal_done (journal, 1);
    assert_true (zc_journal_dirty (journal));
    zc_journal_clean (journal);
    zc_journal_touch (journal);
    assert_true (zc_journal_dirty (journal));
    //  A seen URL added twice is one store operation
    size_t batch = zc_store_batch_size (fixture->store);
    zc_journal_seen_add (journal, 1002);
    assert_int_equal (zc_store_batch_size (fixture->store), batch);
    s_commit (fixture->store);
    assert_int_equal (s_records (fixture->store, ZC_STORE_PENDING), 1);
    assert_int_equal (s_records (fixture->store, ZC_STORE_SEEN), 2);
    //  A rewrite (next attempt) keeps the key
    zc_journal_pending (journal, 2, "http://a.test/2", NULL, 1, 3, 0);
    s_commit (fixture->store);
    uint8_t key[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (key, 1, 2);
    void *value;
    size_t size;
    assert_int_equal (
        zc_store_get (fixture->store, ZC_STORE_PENDING, key, sizeof key, &value, &size), 0);
    zc_record_pending_t pending;
    assert_int_equal (zc_record_pending_decode (value, size, &pending), 0);
    assert_int_equal (pending.attempt, 3);
    free (value);
    assert_int_equal (s_records (fixture->store, ZC_STORE_PENDING), 1);
    //  Finished: every record of the crawl goes, the crawl record stays
    zc_record_crawl_t record = {.state = 1, .output = "o", .errors = "e", .submit = ""};
    zc_journal_put_crawl (journal, &record);
    zc_journal_finish (journal);
    assert_int_equal (zc_journal_spilled (journal), 0);
    s_commit (fixture->store);
    assert_int_equal (s_records (fixture->store, ZC_STORE_PENDING), 0);
    assert_int_equal (s_records (fixture->store, ZC_STORE_SEEN), 0);
    assert_int_equal (zc_store_get (fixture->store, ZC_STORE_META, "crawl/c1", 8, &value, &size),
                      0);
    zc_record_crawl_t stored;
    assert_int_equal (zc_record_crawl_decode (value, size, &stored), 0);
    assert_int_equal (stored.crawl_no, 1); //  the journal's, not the caller's
    assert_int_equal (stored.state, 1);
    free (value);
    assert_int_equal (
        zc_store_get (fixture->store, ZC_STORE_META, "hosts/c1/http://a.test", 22, &value, &size),
        1);
    zc_journal_destroy (&journal);
}

static void
test_spill_and_refill (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_journal_config_t config = {
        .crawl_id = "c1", .store = fixture->store, .crawl_no = 1, .memory_urls = 4};
    zc_journal_t *journal = zc_journal_new (&config);
    for (uint64_t n = 1; n <= 10; n++)
        s_admit (journal, fixture->frontier, n);
    assert_int_equal (zc_frontier_queued (fixture->frontier), 4);
    assert_int_equal (zc_journal_spilled (journal), 6);
    //  Nothing moves while RAM holds half of the budget or more
    s_commit (fixture->store);
    assert_int_equal (zc_journal_committed (journal, fixture->frontier), 0);
    for (uint64_t n = 1; n <= 3; n++) {
        assert_int_equal (s_pop (fixture->frontier), n);
        zc_journal_done (journal, n);
    }
    //  A later admission is spilled too: admission order holds
    s_admit (journal, fixture->frontier, 11);
    assert_int_equal (zc_journal_spilled (journal), 7);
    s_commit (fixture->store);
    assert_int_equal (zc_journal_committed (journal, fixture->frontier), 3);
    assert_int_equal (zc_journal_spilled (journal), 4);
    for (uint64_t n = 4; n <= 7; n++) {
        assert_int_equal (s_pop (fixture->frontier), n);
        zc_journal_done (journal, n);
    }
    s_commit (fixture->store);
    assert_int_equal (zc_journal_committed (journal, fixture->frontier), 4);
    assert_int_equal (zc_journal_spilled (journal), 0);
    for (uint64_t n = 8; n <= 11; n++)
        assert_int_equal (s_pop (fixture->frontier), n);
    assert_int_equal (s_pop (fixture->frontier), 0);
    zc_journal_destroy (&journal);
}

static void
test_seen_leaves_ram (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_journal_config_t config = {
        .crawl_id = "c1", .store = fixture->store, .crawl_no = 1, .seen_bytes = 1};
    zc_journal_t *journal = zc_journal_new (&config);
    for (uint64_t fp = 1; fp <= 100; fp++)
        zc_journal_seen_add (journal, fp);
    s_commit (fixture->store);
    zc_journal_committed (journal, fixture->frontier);
    //  Dropped from RAM, answered by the store
    for (uint64_t fp = 1; fp <= 100; fp++)
        assert_true (zc_journal_seen (journal, fp));
    assert_false (zc_journal_seen (journal, 101));
    //  A new one is in RAM before its commit
    zc_journal_seen_add (journal, 101);
    assert_true (zc_journal_seen (journal, 101));
    zc_journal_destroy (&journal);
}

static void
test_restore (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_journal_config_t config = {.crawl_id = "c1", .store = fixture->store, .crawl_no = 1};
    zc_journal_t *journal = zc_journal_new (&config);
    for (uint64_t n = 1; n <= 5; n++)
        s_admit (journal, fixture->frontier, n);
    zc_journal_pending (journal, 3, "http://a.test/3b", "http://a.test/3", 1, 2, 1);
    zc_journal_done (journal, 1);
    zc_record_crawl_t record = {.output = "o", .errors = "e", .submit = ""};
    zc_journal_put_crawl (journal, &record);
    s_commit (fixture->store);
    zc_journal_destroy (&journal);

    //  Back with a RAM budget of 2 queued URLs
    zc_frontier_t *frontier = zc_frontier_new (&(zc_frontier_config_t){.host_concurrency = 100});
    config.memory_urls = 2;
    journal = zc_journal_new (&config);
    uint64_t pending = 0, in_ram = 0;
    assert_int_equal (zc_journal_restore (journal, frontier, true, &pending, &in_ram), 0);
    assert_int_equal (pending, 4);
    assert_int_equal (in_ram, 2);
    assert_int_equal (zc_journal_spilled (journal), 2);
    assert_int_equal (zc_journal_host_pages (journal, "http://a.test"), 5);
    for (uint64_t fp = 1001; fp <= 1005; fp++)
        assert_true (zc_journal_seen (journal, fp));
    zc_frontier_entry_t entry;
    assert_int_equal (zc_frontier_pop (frontier, 0, &entry), 0);
    assert_int_equal (entry.seq, 2);
    zc_frontier_entry_clear (&entry);
    assert_int_equal (zc_frontier_pop (frontier, 0, &entry), 0);
    assert_int_equal (entry.seq, 3); //  the continuation, with its attempt and origin
    assert_string_equal (entry.url, "http://a.test/3b");
    assert_string_equal (entry.origin, "http://a.test/3");
    assert_int_equal (entry.attempt, 2);
    assert_int_equal (entry.redirects, 1);
    zc_frontier_entry_clear (&entry);
    zc_journal_destroy (&journal);

    //  With a seen budget the seen set is not loaded (the store answers);
    //  without HOST_PAGES the counts are not either
    config.seen_bytes = 1;
    journal = zc_journal_new (&config);
    assert_int_equal (zc_journal_restore (journal, fixture->frontier, false, &pending, &in_ram), 0);
    assert_true (zc_journal_seen (journal, 1004));
    assert_false (zc_journal_seen (journal, 1006));
    assert_int_equal (zc_journal_host_pages (journal, "http://a.test"), 0);
    zc_journal_destroy (&journal);
    zc_frontier_destroy (&frontier);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_memory_only, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pending_and_dirty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_spill_and_refill, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seen_leaves_ram, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restore, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
