/*  zc_ctype — reading an HTTP Content-Type header and deciding whether a
    body is HTML (parser actors only parse HTML; everything else gets a
    RESULT without links).
*/
#ifndef ZC_CTYPE_H_INCLUDED
#define ZC_CTYPE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Longest media type / charset name kept (longer ones are treated as
//  absent: no real charset name is that long).
#define ZC_CTYPE_MAX_BYTES 64

//  Splits CONTENT_TYPE (untrusted, may be NULL or "") into its lowercased
//  media type ("text/html") and its charset parameter (quotes removed, case
//  kept; "" if none or not a plausible charset name). MIME and CHARSET are
//  buffers of ZC_CTYPE_MAX_BYTES + 1 bytes, always NUL-terminated.
void zc_ctype_parse (const char *content_type, char *mime, char *charset);

//  True for the media types we parse as HTML: text/html and
//  application/xhtml+xml.
bool zc_ctype_is_html (const char *mime);

//  True if BODY starts (after whitespace and a UTF-8 BOM) like an HTML
//  document, after the WHATWG MIME sniffing patterns (<!DOCTYPE HTML,
//  <html, <head, <body, <title, <a, <p, <!--, ...). For pages served
//  without a Content-Type.
bool zc_ctype_sniff_html (const char *body, size_t size);

#endif
