/*  Unit tests for zc_seen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "zc_seen.h"
#include "zc_util.h"

static void
test_add_and_duplicates (void **state)
{
    (void)state;
    zc_seen_t *seen = zc_seen_new ();
    assert_int_equal (zc_seen_size (seen), 0);
    assert_int_equal (zc_seen_add (seen, 42), 1);
    assert_int_equal (zc_seen_add (seen, 42), 0);
    assert_int_equal (zc_seen_add (seen, 43), 1);
    assert_true (zc_seen_contains (seen, 42));
    assert_false (zc_seen_contains (seen, 44));
    assert_int_equal (zc_seen_size (seen), 2);
    zc_seen_destroy (&seen);
    assert_null (seen);
    zc_seen_destroy (&seen); //  NULL-safe
}

static void
test_zero_is_one (void **state)
{
    (void)state;
    zc_seen_t *seen = zc_seen_new ();
    assert_int_equal (zc_seen_add (seen, 0), 1);
    assert_int_equal (zc_seen_add (seen, 0), 0);
    assert_int_equal (zc_seen_add (seen, 1), 0);
    assert_true (zc_seen_contains (seen, 1));
    assert_int_equal (zc_seen_add (seen, UINT64_MAX), 1);
    assert_int_equal (zc_seen_size (seen), 2);
    zc_seen_destroy (&seen);
}

//  Keys that collide in the low bits exercise the linear probing.
static void
test_clustered_keys (void **state)
{
    (void)state;
    zc_seen_t *seen = zc_seen_new ();
    for (uint64_t i = 1; i <= 5000; i++)
        assert_int_equal (zc_seen_add (seen, i << 40), 1);
    for (uint64_t i = 1; i <= 5000; i++)
        assert_int_equal (zc_seen_add (seen, i << 40), 0);
    assert_int_equal (zc_seen_size (seen), 5000);
    zc_seen_destroy (&seen);
}

static void
test_million (void **state)
{
    (void)state;
    zc_seen_t *seen = zc_seen_new ();
    const uint64_t n = 1000000;
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal (zc_seen_add (seen, zc_hash64 (&i, sizeof i)), 1);
    assert_int_equal (zc_seen_size (seen), n);
    //  Every one is a duplicate now, and unseen keys are not
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal (zc_seen_add (seen, zc_hash64 (&i, sizeof i)), 0);
    for (uint64_t i = n; i < n + 1000; i++)
        assert_false (zc_seen_contains (seen, zc_hash64 (&i, sizeof i)));
    assert_int_equal (zc_seen_size (seen), n);
    //  8-byte slots at <= 70% load: between 11.4 and 22.9 bytes per URL
    size_t per_url = zc_seen_bytes (seen) / n;
    assert_true (per_url >= 11 && per_url <= 23);
    zc_seen_destroy (&seen);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_add_and_duplicates),
        cmocka_unit_test (test_zero_is_one),
        cmocka_unit_test (test_clustered_keys),
        cmocka_unit_test (test_million),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
