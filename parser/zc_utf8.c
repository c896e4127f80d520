/*  zc_utf8 — UTF-8 validation (RFC 3629: no overlongs, no surrogates,
    nothing above U+10FFFF) and repair with U+FFFD, one replacement per
    invalid byte.
*/
#include "zc_utf8.h"

#include "zc_util.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t
zc_utf8_sequence (const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

//  Skips what needs no sequence-by-sequence check from P: ASCII, and with
//  SSE2 whole 16-byte blocks of ASCII and complete 2-byte sequences (the
//  accented Latin letters of most pages). Returns the first byte left to
//  check (a byte >= 0x80), or END.
static const unsigned char *
s_skip_simple (const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    while (end - p >= 16) {
        __m128i chunk = _mm_loadu_si128 ((const __m128i *)(const void *)p);
        unsigned high = (unsigned)_mm_movemask_epi8 (chunk); //  a bit per byte >= 0x80
        if (high) {
            //  Signed bytes: 0x80-0xbf are < -64, 0xc2-0xdf in (-63, -32).
            __m128i cont = _mm_cmplt_epi8 (chunk, _mm_set1_epi8 ((char)0xc0));
            __m128i lead = _mm_and_si128 (_mm_cmpgt_epi8 (chunk, _mm_set1_epi8 ((char)0xc1)),
                                          _mm_cmplt_epi8 (chunk, _mm_set1_epi8 ((char)0xe0)));
            unsigned c = (unsigned)_mm_movemask_epi8 (cont);
            unsigned l = (unsigned)_mm_movemask_epi8 (lead);
            //  Every high byte is a lead or a continuation, each lead is
            //  followed by one continuation and each continuation preceded by
            //  a lead (none at either edge of the block: bit 16, bit 0).
            if ((l | c) != high || (l << 1) != c)
                return p + __builtin_ctz (high);
        }
        p += 16;
    }
#endif
    while (end - p >= 8) {
        uint64_t word;
        memcpy (&word, p, sizeof word); //  any alignment
        uint64_t high = word & UINT64_C (0x8080808080808080);
        if (high) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + ((unsigned)__builtin_ctzll (high) >> 3); //  lowest bit: first byte
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && *p < 0x80)
        p++;
    return p;
}

//  Pages are mostly ASCII with a multi-byte character every few dozen
//  bytes (accented words): s_skip_simple takes the easy blocks, and each
//  other sequence is checked inline (the RFC 3629 ranges: the
//  second byte alone rules out overlongs, surrogates and code points
//  above U+10FFFF).
bool
zc_utf8_valid (const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    for (;;) {
        p = s_skip_simple (p, end);
        if (p == end)
            return true;
        unsigned c = p[0];
        size_t left = (size_t)(end - p);
        if (c < 0xc2)
            return false; //  stray continuation, or overlong 2-byte lead
        if (c < 0xe0) {
            if (left < 2 || (p[1] & 0xc0) != 0x80)
                return false;
            p += 2;
        } else if (c < 0xf0) {
            if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
                (c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
                return false;
            p += 3;
        } else if (c < 0xf5) {
            if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
                (p[3] & 0xc0) != 0x80 || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
                return false;
            p += 4;
        } else
            return false;
    }
}

char *
zc_utf8_sanitise (const char *s, size_t n, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = zc_malloc (n * 3 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        size_t seq = zc_utf8_sequence (p + i, n - i);
        if (seq == 0) {
            memcpy (out + len, "\xef\xbf\xbd", 3);
            len += 3;
            i++;
            continue;
        }
        memcpy (out + len, p + i, seq);
        len += seq;
        i += seq;
    }
    out[len] = 0;
    if (out_len)
        *out_len = len;
    return out;
}
