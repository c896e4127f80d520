/*  Unit tests for zc_hostgap: the fetcher's per-host start spacing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "zc_hostgap.h"

static int s_items[8];

static void
test_first_starts_next_waits_one_gap (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (100);
    assert_int_equal (zc_hostgap_next_due (gaps), -1);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 5000));
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[1], 5000));
    assert_int_equal (zc_hostgap_waiting (gaps), 1);
    assert_int_equal (zc_hostgap_next_due (gaps), 6000);
    assert_null (zc_hostgap_pop_due (gaps, 5999));
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 6000), &s_items[1]);
    assert_int_equal (zc_hostgap_waiting (gaps), 0);
    assert_int_equal (zc_hostgap_next_due (gaps), -1);
    //  Long after the last start: free at once
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[2], 7000));
    zc_hostgap_destroy (&gaps);
    assert_null (gaps);
    zc_hostgap_destroy (&gaps); //  NULL-safe
}

//  The bug this module fixes: a timer that fires late (a busy loop) must
//  push the host's next start back, not let it catch up with the plan.
static void
test_late_start_moves_the_next_one (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (100);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 0));
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[1], 0));
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[2], 0));
    assert_int_equal (zc_hostgap_next_due (gaps), 1000);
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 1170), &s_items[1]); //  170 ms late
    assert_int_equal (zc_hostgap_next_due (gaps), 2170);
    assert_null (zc_hostgap_pop_due (gaps, 2169));
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 2170), &s_items[2]);
    zc_hostgap_destroy (&gaps);
}

//  A request that went out after its start (stall, slow connect) spaces the
//  next one from when it went out; an earlier observation changes nothing.
static void
test_observed_start (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (100);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 0));
    zc_hostgap_observed (gaps, "a:80", 150);
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[1], 1100));
    assert_int_equal (zc_hostgap_next_due (gaps), 1150);
    //  Observed while the next one waits: its time moves too
    zc_hostgap_observed (gaps, "a:80", 300);
    assert_int_equal (zc_hostgap_next_due (gaps), 1300);
    zc_hostgap_observed (gaps, "a:80", 200); //  earlier: ignored
    assert_int_equal (zc_hostgap_next_due (gaps), 1300);
    zc_hostgap_observed (gaps, "unknown:80", 5); //  no such host: ignored
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 1300), &s_items[1]);
    zc_hostgap_destroy (&gaps);
}

//  Hosts are independent; READY is ordered by due time across hosts.
static void
test_hosts_do_not_block_each_other (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (100);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 0));
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[1], 0));
    assert_true (zc_hostgap_offer (gaps, "b:80", 500, &s_items[2], 100));
    assert_false (zc_hostgap_offer (gaps, "b:80", 500, &s_items[3], 100));
    assert_int_equal (zc_hostgap_next_due (gaps), 600);
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 2000), &s_items[3]);
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 2000), &s_items[1]);
    assert_null (zc_hostgap_pop_due (gaps, 2000));
    //  Each item keeps its own gap; FIFO per host
    assert_false (zc_hostgap_offer (gaps, "b:80", 10, &s_items[4], 2000));
    assert_false (zc_hostgap_offer (gaps, "b:80", 700, &s_items[5], 2000));
    assert_int_equal (zc_hostgap_next_due (gaps), 2010);
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 2010), &s_items[4]);
    assert_int_equal (zc_hostgap_next_due (gaps), 2710);
    zc_hostgap_destroy (&gaps);
}

static void
test_pop_any_drains_in_order (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (100);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 0));
    for (int i = 1; i <= 3; i++)
        assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[i], 0));
    assert_true (zc_hostgap_offer (gaps, "b:80", 1000, &s_items[4], 0));
    assert_false (zc_hostgap_offer (gaps, "b:80", 1000, &s_items[5], 0));
    assert_int_equal (zc_hostgap_waiting (gaps), 4);
    int seen[8] = {0};
    void *item;
    while ((item = zc_hostgap_pop_any (gaps)))
        seen[(int *)item - s_items]++;
    assert_int_equal (zc_hostgap_waiting (gaps), 0);
    assert_int_equal (zc_hostgap_next_due (gaps), -1);
    for (int i = 0; i < 6; i++)
        assert_int_equal (seen[i], i == 0 || i == 4 ? 0 : 1);
    zc_hostgap_destroy (&gaps);
}

//  Past MAX_HOSTS, hosts with nothing waiting are forgotten (a forgotten
//  host starts at once again); hosts with waiting items are kept.
static void
test_forgets_idle_hosts_only (void **state)
{
    (void)state;
    zc_hostgap_t *gaps = zc_hostgap_new (2);
    assert_true (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[0], 0));
    assert_false (zc_hostgap_offer (gaps, "a:80", 1000, &s_items[1], 0)); //  a waits
    assert_true (zc_hostgap_offer (gaps, "b:80", 1000, &s_items[2], 0));  //  b idle
    assert_true (zc_hostgap_offer (gaps, "c:80", 1000, &s_items[3], 0));  //  forgets b
    assert_true (zc_hostgap_offer (gaps, "b:80", 1000, &s_items[4], 10)); //  b forgotten
    assert_int_equal (zc_hostgap_waiting (gaps), 1);
    assert_int_equal (zc_hostgap_next_due (gaps), 1000);
    assert_ptr_equal (zc_hostgap_pop_due (gaps, 1000), &s_items[1]);
    zc_hostgap_destroy (&gaps);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_first_starts_next_waits_one_gap),
        cmocka_unit_test (test_late_start_moves_the_next_one),
        cmocka_unit_test (test_observed_start),
        cmocka_unit_test (test_hosts_do_not_block_each_other),
        cmocka_unit_test (test_pop_any_drains_in_order),
        cmocka_unit_test (test_forgets_idle_hosts_only),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
