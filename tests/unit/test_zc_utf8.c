/*  Tests for zc_utf8: validation (with its 8-bytes-at-a-time ASCII fast
    path) against a byte-by-byte reference, at every alignment and length,
    and repair.
*/
#include "zc_utf8.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  The definition, one sequence at a time, no fast path.
static bool
s_reference_valid (const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t seq = zc_utf8_sequence (s + i, n - i);
        if (seq == 0)
            return false;
        i += seq;
    }
    return true;
}

static void
test_known (void **state)
{
    (void)state;
    assert_true (zc_utf8_valid ("", 0));
    assert_true (zc_utf8_valid ("plain ascii text, long enough", 29));
    assert_true (zc_utf8_valid ("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false (zc_utf8_valid ("caf\xe9", 4));                      //  latin-1
    assert_false (zc_utf8_valid ("\xc0\xaf", 2));                     //  overlong
    assert_false (zc_utf8_valid ("\xed\xa0\x80", 3));                 //  surrogate
    assert_false (zc_utf8_valid ("\xf4\x90\x80\x80", 4));             //  > U+10FFFF
    assert_false (zc_utf8_valid ("abcdefgh\xe2\x82", 10));            //  truncated
    assert_false (zc_utf8_valid ("abcdefghijklmnop\x80qrstuvw", 24)); //  stray continuation
    size_t len;
    char *clean = zc_utf8_sanitise ("a\xffz", 3, &len);
    assert_int_equal (len, 5);
    assert_memory_equal (clean, "a\xef\xbf\xbdz", 5);
    free (clean);
}

//  Every piece placed at every offset of an ASCII buffer, every length.
static void
test_alignment (void **state)
{
    (void)state;
    const char *pieces[] = {
        "\xc3\xa9",     "\xe2\x82\xac",     "\xf0\x9f\x98\x80", "\xe9", "\xc0\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",         "\x80", "\xff",
        "\xc3",         "\xf0\x9f\x98"};
    unsigned char buffer[64 + 16];
    size_t checked = 0;
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        size_t plen = strlen (pieces[k]);
        for (size_t start = 0; start < 16; start++)
            for (size_t at = 0; at + plen <= 48; at++)
                for (size_t total = at + plen; total <= 48; total += 7) {
                    memset (buffer, 'a', sizeof buffer);
                    memcpy (buffer + start + at, pieces[k], plen);
                    const unsigned char *s = buffer + start;
                    assert_int_equal (zc_utf8_valid ((const char *)s, total),
                                      s_reference_valid (s, total));
                    //  Cut anywhere: the truncated prefix too.
                    size_t cut = at + plen / 2;
                    assert_int_equal (zc_utf8_valid ((const char *)s, cut),
                                      s_reference_valid (s, cut));
                    checked += 2;
                }
    }
    assert_true (checked > 10000);
}

static void
test_random (void **state)
{
    (void)state;
    uint64_t rng = 42;
    unsigned char buffer[256];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rng % sizeof buffer);
        for (size_t i = 0; i < n; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            //  Mostly ASCII, sometimes any byte.
            buffer[i] = (unsigned char)(rng % 16 == 0 ? rng >> 8 : 0x20 + (rng >> 8) % 0x5f);
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        for (size_t off = 0; off < 8 && off <= n; off++)
            assert_int_equal (zc_utf8_valid ((const char *)buffer + off, n - off),
                              s_reference_valid (buffer + off, n - off));
    }
}

//  Every 1-, 2- and 3-byte string, and every 4-byte string with a lead byte
//  of 0xf0-0xf4 or 0xf5, after ASCII text and with ASCII after it (both
//  the 8-byte path and the byte path see it).
static void
test_exhaustive (void **state)
{
    (void)state;
    unsigned char buffer[32];
    size_t checked = 0;
    for (size_t prefix = 0; prefix <= 9; prefix += 9)
        for (uint32_t v = 0; v < (1u << 24); v++) {
            memset (buffer, 'a', sizeof buffer);
            buffer[prefix] = (unsigned char)(v >> 16);
            buffer[prefix + 1] = (unsigned char)(v >> 8);
            buffer[prefix + 2] = (unsigned char)v;
            //  Shorter strings once per first byte (2 bytes: below); the
            //  whole buffer takes the 8-byte path.
            size_t lens[] = {prefix + 3, sizeof buffer, prefix + 1, prefix + 2};
            for (size_t k = 0; k < ((v & 0xffff) ? 2 : 4); k++) {
                size_t len = lens[k];
                assert_int_equal (zc_utf8_valid ((const char *)buffer, len),
                                  s_reference_valid (buffer, len));
                checked++;
            }
            if ((v & 0xff) == 0) { //  2 bytes, then ASCII
                buffer[prefix + 2] = 'a';
                assert_int_equal (zc_utf8_valid ((const char *)buffer, prefix + 12),
                                  s_reference_valid (buffer, prefix + 12));
                checked++;
            }
        }
    //  Every byte pair across and beside the edge of a 16-byte block.
    for (size_t at = 13; at <= 16; at++)
        for (uint32_t v = 0; v < (1u << 16); v++) {
            memset (buffer, 'a', sizeof buffer);
            buffer[at] = (unsigned char)(v >> 8);
            buffer[at + 1] = (unsigned char)v;
            buffer[at - 2] = 0xc3; //  and a valid pair before it
            buffer[at - 1] = 0xa9;
            assert_int_equal (zc_utf8_valid ((const char *)buffer, sizeof buffer),
                              s_reference_valid (buffer, sizeof buffer));
            checked++;
        }
    for (unsigned lead = 0xf0; lead <= 0xf5; lead++)
        for (uint32_t v = 0; v < (1u << 18); v++) {
            memset (buffer, 'a', sizeof buffer);
            buffer[3] = (unsigned char)lead;
            buffer[4] = (unsigned char)(0x80 | ((v >> 12) & 0x3f)) ^ (v >> 17 ? 0x40 : 0);
            buffer[5] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
            buffer[6] = (unsigned char)(0x80 | (v & 0x3f));
            for (size_t len = 5; len <= 16; len += 11) {
                assert_int_equal (zc_utf8_valid ((const char *)buffer, len),
                                  s_reference_valid (buffer, len));
                checked++;
            }
            assert_int_equal (zc_utf8_valid ((const char *)buffer + 3, 4),
                              s_reference_valid (buffer + 3, 4));
        }
    assert_true (checked > 60000000);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_known),
        cmocka_unit_test (test_alignment),
        cmocka_unit_test (test_exhaustive),
        cmocka_unit_test (test_random),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
