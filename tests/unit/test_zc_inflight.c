/*  Unit tests for zc_inflight, the broker's table of outstanding jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zc_inflight.h"
#include "zc_util.h"

typedef struct {
    char dir[64];
    zc_crawl_t *a; //  owned
    zc_crawl_t *b; //  owned
} fixture_t;

static zc_crawl_t *
s_crawl (const char *id, const char *dir)
{
    const char *seeds[] = {"http://127.0.0.1/"};
    zc_submit_t submit = {.seeds = seeds, .seed_count = 1, .output = "", .errors = ""};
    char *error = NULL;
    zc_crawl_t *crawl = zc_crawl_new (id, &submit, dir, NULL, zc_now_ms (), &error);
    if (!crawl)
        fprintf (stderr, "zc_crawl_new: %s\n", error ? error : "?");
    free (error);
    return crawl;
}

static int
s_setup (void **state)
{
    fixture_t *fixture = (fixture_t *)calloc (1, sizeof (fixture_t));
    if (!fixture)
        return -1;
    snprintf (fixture->dir, sizeof fixture->dir, "/tmp/test_zc_inflight.XXXXXX");
    if (!mkdtemp (fixture->dir)) {
        free (fixture);
        return -1;
    }
    fixture->a = s_crawl ("crawl-a", fixture->dir);
    fixture->b = s_crawl ("crawl-b", fixture->dir);
    *state = fixture;
    return fixture->a && fixture->b ? 0 : -1;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    if (!fixture)
        return 0;
    zc_crawl_destroy (&fixture->a);
    zc_crawl_destroy (&fixture->b);
    char command[128];
    snprintf (command, sizeof command, "rm -rf '%s'", fixture->dir);
    int rc = system (command);
    free (fixture);
    return rc == 0 ? 0 : -1;
}

//  Work for URL (new strings, taken by zc_inflight_add).
static zc_crawl_job_t
s_work (zc_job_kind_t kind, const char *url)
{
    return (zc_crawl_job_t){.kind = kind,
                            .url = zc_strdup (url),
                            .host_key = zc_strdup ("127.0.0.1:80"),
                            .depth = 0,
                            .attempt = 1};
}

static void
s_add (zc_inflight_t *jobs, zc_crawl_t *crawl, zc_job_kind_t kind, const char *url,
       const char *fetcher, int64_t deadline_ms)
{
    zc_crawl_job_t work = s_work (kind, url);
    (void)zc_inflight_add (jobs, crawl, &work, fetcher, deadline_ms);
}

static void
test_add_take (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_inflight_t *jobs = zc_inflight_new ();
    assert_int_equal (zc_inflight_size (jobs), 0);
    zc_crawl_job_t work = s_work (ZC_JOB_PAGE, "http://127.0.0.1/a");
    zc_inflight_job_t *first = zc_inflight_add (jobs, fixture->a, &work, "f1", 1000);
    assert_int_equal (first->id, 1);
    assert_ptr_equal (first->crawl, fixture->a);
    assert_string_equal (first->work.url, "http://127.0.0.1/a");
    assert_string_equal (first->fetcher, "f1");
    assert_null (first->parser); //  held by the fetcher
    assert_int_equal (first->deadline_ms, 1000);
    work = s_work (ZC_JOB_PAGE, "http://127.0.0.1/b");
    zc_inflight_job_t *second = zc_inflight_add (jobs, fixture->a, &work, "f1", 2000);
    assert_int_equal (second->id, 2);
    assert_int_equal (zc_inflight_size (jobs), 2);

    zc_inflight_job_t *taken = zc_inflight_take (jobs, 1);
    assert_ptr_equal (taken, first);
    assert_int_equal (zc_inflight_size (jobs), 1);
    assert_null (zc_inflight_take (jobs, 1)); //  gone
    assert_null (zc_inflight_take (jobs, 99));
    zc_inflight_job_destroy (&taken);
    assert_null (taken);
    zc_inflight_job_destroy (&taken); //  NULL-safe

    //  Ids are never reused
    work = s_work (ZC_JOB_PAGE, "http://127.0.0.1/c");
    assert_int_equal (zc_inflight_add (jobs, fixture->a, &work, "f1", 3000)->id, 3);
    assert_int_equal (zc_inflight_late_count (jobs), 0);
    zc_inflight_destroy (&jobs); //  frees the records still in it
    assert_null (jobs);
    zc_inflight_destroy (&jobs); //  NULL-safe
}

static void
test_claim (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_inflight_t *jobs = zc_inflight_new ();
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/a", "f1", 1000);   //  1
    s_add (jobs, fixture->a, ZC_JOB_ROBOTS, "http://127.0.0.1/r", "f1", 1000); //  2

    //  Wrong crawl, no crawl, wrong kind, unknown id: late, record stays
    assert_null (zc_inflight_claim (jobs, 1, "crawl-b", ZC_JOB_PAGE));
    assert_null (zc_inflight_claim (jobs, 1, NULL, ZC_JOB_PAGE));
    assert_null (zc_inflight_claim (jobs, 2, "crawl-a", ZC_JOB_PAGE));
    assert_null (zc_inflight_claim (jobs, 7, "crawl-a", ZC_JOB_PAGE));
    assert_int_equal (zc_inflight_late_count (jobs), 4);
    assert_int_equal (zc_inflight_size (jobs), 2);

    zc_inflight_job_t *job = zc_inflight_claim (jobs, 1, "crawl-a", ZC_JOB_PAGE);
    assert_non_null (job);
    assert_int_equal (job->id, 1);
    zc_inflight_job_destroy (&job);
    job = zc_inflight_claim (jobs, 2, "crawl-a", ZC_JOB_ROBOTS);
    assert_non_null (job);
    assert_string_equal (job->work.url, "http://127.0.0.1/r");
    zc_inflight_job_destroy (&job);
    assert_int_equal (zc_inflight_size (jobs), 0);

    //  A second outcome for the same job is late
    assert_null (zc_inflight_claim (jobs, 1, "crawl-a", ZC_JOB_PAGE));
    assert_int_equal (zc_inflight_late_count (jobs), 5);
    zc_inflight_destroy (&jobs);
}

static void
test_take_fetcher_and_crawl (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_inflight_t *jobs = zc_inflight_new ();
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/1", "f1", 1000); //  1
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/2", "f2", 1000); //  2
    s_add (jobs, fixture->b, ZC_JOB_PAGE, "http://127.0.0.1/3", "f1", 1000); //  3
    s_add (jobs, fixture->b, ZC_JOB_PAGE, "http://127.0.0.1/4", "f2", 1000); //  4

    zlistx_t *taken = zc_inflight_take_fetcher (jobs, "f1");
    assert_int_equal (zlistx_size (taken), 2);
    uint64_t ids = 0;
    for (zc_inflight_job_t *job = (zc_inflight_job_t *)zlistx_first (taken); job;
         job = (zc_inflight_job_t *)zlistx_next (taken)) {
        assert_string_equal (job->fetcher, "f1");
        ids |= 1u << job->id;
    }
    assert_int_equal (ids, (1u << 1) | (1u << 3));
    zlistx_destroy (&taken); //  destroys the records
    assert_int_equal (zc_inflight_size (jobs), 2);

    taken = zc_inflight_take_fetcher (jobs, "nobody");
    assert_int_equal (zlistx_size (taken), 0);
    zlistx_destroy (&taken);

    taken = zc_inflight_take_crawl (jobs, fixture->b);
    assert_int_equal (zlistx_size (taken), 1);
    zc_inflight_job_t *job = (zc_inflight_job_t *)zlistx_first (taken);
    assert_int_equal (job->id, 4);
    zlistx_destroy (&taken);
    assert_int_equal (zc_inflight_size (jobs), 1);
    job = zc_inflight_take (jobs, 2);
    assert_non_null (job);
    assert_ptr_equal (job->crawl, fixture->a);
    zc_inflight_job_destroy (&job);
    zc_inflight_destroy (&jobs);
}

static void
test_take_expired (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_inflight_t *jobs = zc_inflight_new ();
    zlistx_t *taken = zc_inflight_take_expired (jobs, 5000); //  empty table
    assert_int_equal (zlistx_size (taken), 0);
    zlistx_destroy (&taken);

    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/1", "f1", 1000); //  1
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/2", "f1", 2000); //  2
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/3", "f1", 3000); //  3

    taken = zc_inflight_take_expired (jobs, 999);
    assert_int_equal (zlistx_size (taken), 0);
    zlistx_destroy (&taken);

    //  At the deadline is expired
    taken = zc_inflight_take_expired (jobs, 2000);
    assert_int_equal (zlistx_size (taken), 2);
    zlistx_destroy (&taken);
    assert_int_equal (zc_inflight_expired_count (jobs), 2);
    assert_int_equal (zc_inflight_size (jobs), 1);

    taken = zc_inflight_take_expired (jobs, 2999);
    assert_int_equal (zlistx_size (taken), 0);
    zlistx_destroy (&taken);

    //  A job that ended by its outcome is not expired later
    zc_inflight_job_t *job = zc_inflight_claim (jobs, 3, "crawl-a", ZC_JOB_PAGE);
    assert_non_null (job);
    zc_inflight_job_destroy (&job);
    taken = zc_inflight_take_expired (jobs, 10000);
    assert_int_equal (zlistx_size (taken), 0);
    zlistx_destroy (&taken);

    //  An earlier deadline added later is seen
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/4", "f1", 500); //  4
    taken = zc_inflight_take_expired (jobs, 600);
    assert_int_equal (zlistx_size (taken), 1);
    job = (zc_inflight_job_t *)zlistx_first (taken);
    assert_int_equal (job->id, 4);
    zlistx_destroy (&taken);
    assert_int_equal (zc_inflight_expired_count (jobs), 3);
    assert_int_equal (zc_inflight_size (jobs), 0);
    zc_inflight_destroy (&jobs);
}

//  Collects the ids of a taken list as a bit set (ids < 64) and destroys it.
static uint64_t
s_ids (zlistx_t **taken_p)
{
    uint64_t ids = 0;
    for (zc_inflight_job_t *job = (zc_inflight_job_t *)zlistx_first (*taken_p); job;
         job = (zc_inflight_job_t *)zlistx_next (*taken_p)) {
        assert_true (job->id < 64);
        ids |= (uint64_t)1 << job->id;
    }
    zlistx_destroy (taken_p);
    return ids;
}

static void
test_accept (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_inflight_t *jobs = zc_inflight_new ();
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/1", "f1", 1000);   //  1
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/2", "f1", 1000);   //  2
    s_add (jobs, fixture->a, ZC_JOB_ROBOTS, "http://127.0.0.1/r", "f1", 1000); //  3
    s_add (jobs, fixture->b, ZC_JOB_PAGE, "http://127.0.0.1/4", "f2", 1000);   //  4

    assert_int_equal (zc_inflight_accept (jobs, 1, "p1"), 0);
    assert_int_equal (zc_inflight_accept (jobs, 1, "p1"), 0); //  again: same
    assert_int_equal (zc_inflight_accept (jobs, 4, "p2"), 0);
    //  Unknown ids and robots jobs: 1, nothing changes, not late
    assert_int_equal (zc_inflight_accept (jobs, 99, "p1"), 1);
    assert_int_equal (zc_inflight_accept (jobs, 0, "p1"), 1);
    assert_int_equal (zc_inflight_accept (jobs, 3, "p1"), 1);
    assert_int_equal (zc_inflight_late_count (jobs), 0);
    assert_int_equal (zc_inflight_size (jobs), 4);

    zc_inflight_job_t *job = zc_inflight_take (jobs, 1);
    assert_string_equal (job->parser, "p1");
    assert_string_equal (job->fetcher, "f1"); //  still remembered
    //  Its RESULT came first (the record is gone): 1, not late
    assert_int_equal (zc_inflight_accept (jobs, 1, "p1"), 1);
    assert_int_equal (zc_inflight_late_count (jobs), 0);
    //  Put it back under a new id, accepted by p1 then moved to p2
    zc_crawl_job_t work = s_work (ZC_JOB_PAGE, "http://127.0.0.1/1");
    zc_inflight_job_t *again = zc_inflight_add (jobs, fixture->a, &work, "f1", 1000); //  5
    zc_inflight_job_destroy (&job);
    assert_int_equal (again->id, 5);
    assert_null (again->parser);
    assert_int_equal (zc_inflight_accept (jobs, 5, "p1"), 0);
    assert_string_equal (again->parser, "p1");
    assert_int_equal (zc_inflight_accept (jobs, 5, "p2"), 0);
    assert_string_equal (again->parser, "p2");

    //  The fetcher's death takes only what it still holds: 2 and the robots job
    zlistx_t *taken = zc_inflight_take_fetcher (jobs, "f1");
    assert_int_equal (s_ids (&taken), (1u << 2) | (1u << 3));
    taken = zc_inflight_take_fetcher (jobs, "f2"); //  4 was accepted
    assert_int_equal (s_ids (&taken), 0);
    assert_int_equal (zc_inflight_size (jobs), 2);

    //  The parser node's death takes what it accepted
    taken = zc_inflight_take_parser (jobs, "p1");
    assert_int_equal (s_ids (&taken), 0);         //  5 moved to p2
    taken = zc_inflight_take_parser (jobs, "f1"); //  a fetcher key holds nothing as parser
    assert_int_equal (s_ids (&taken), 0);
    taken = zc_inflight_take_parser (jobs, "p2");
    assert_int_equal (s_ids (&taken), (1u << 4) | (1u << 5));
    assert_int_equal (zc_inflight_size (jobs), 0);

    //  Accepted jobs still expire and are still claimed by their outcome
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/6", "f1", 1000); //  6
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/7", "f1", 3000); //  7
    assert_int_equal (zc_inflight_accept (jobs, 6, "p1"), 0);
    assert_int_equal (zc_inflight_accept (jobs, 7, "p1"), 0);
    taken = zc_inflight_take_expired (jobs, 2000);
    assert_int_equal (s_ids (&taken), 1u << 6);
    job = zc_inflight_claim (jobs, 7, "crawl-a", ZC_JOB_PAGE);
    assert_non_null (job);
    assert_string_equal (job->parser, "p1");
    zc_inflight_job_destroy (&job);

    //  Records destroyed with the table free their parser key (ASan checks)
    s_add (jobs, fixture->a, ZC_JOB_PAGE, "http://127.0.0.1/8", "f1", 1000); //  8
    assert_int_equal (zc_inflight_accept (jobs, 8, "p1"), 0);
    zc_inflight_destroy (&jobs);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_add_take, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_claim, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_take_fetcher_and_crawl, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_take_expired, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_accept, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
