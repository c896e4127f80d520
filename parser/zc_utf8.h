/*  zc_utf8 — UTF-8 validation and repair for everything the parser puts
    into a RESULT (titles, links, fields, canonical): the output is JSON, so
    it must be valid UTF-8 whatever the page contained.
*/
#ifndef ZC_UTF8_H_INCLUDED
#define ZC_UTF8_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Length (1-4) of the valid UTF-8 sequence at S (N > 0 bytes available),
//  or 0 if it is invalid (overlong, surrogate, beyond U+10FFFF, truncated).
size_t zc_utf8_sequence (const unsigned char *s, size_t n);

//  True if S (N bytes) is entirely valid UTF-8.
bool zc_utf8_valid (const char *s, size_t n);

//  Copies S (N bytes) to a new NUL-terminated string in which each invalid
//  byte is replaced by U+FFFD; *OUT_LEN (if not NULL) gets its length.
//  Caller frees.
char *zc_utf8_sanitise (const char *s, size_t n, size_t *out_len);

#endif
