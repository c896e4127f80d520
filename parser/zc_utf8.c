/*  zc_utf8 — UTF-8 validation (RFC 3629: no overlongs, no surrogates,
    nothing above U+10FFFF) and repair with U+FFFD, one replacement per
    invalid byte.
*/
#include "zc_utf8.h"

#include "zc_util.h"

#include <stdint.h>
#include <string.h>

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

bool
zc_utf8_valid (const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        //  ASCII fast path: 8 bytes at a time (memcpy: any alignment).
        while (n - i >= 8) {
            uint64_t word;
            memcpy (&word, p + i, sizeof word);
            if (word & UINT64_C (0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t seq = zc_utf8_sequence (p + i, n - i);
        if (seq == 0)
            return false;
        i += seq;
    }
    return true;
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
