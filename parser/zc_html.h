/*  zc_html — extracts what the crawler needs from one HTML page with
    libxml2's HTML parser in SAX mode (no DOM is built): the links of a,
    area (href), frame, iframe (src), honouring <base href>, and <title>.

    Links are resolved against the page URL (or <base href>) and
    canonicalised with zc_url; non-http(s) and malformed links are skipped
    and counted. Each canonical link appears once per page, in document
    order. An <a>/<area> whose rel contains "nofollow" is not a link;
    <meta name="robots"> noindex/nofollow/none set the flags (nofollow
    empties links); the first <link rel="canonical" href> is resolved.

    The body is decoded to UTF-8 from, in order: a BOM, the HTTP charset,
    <meta charset> / <meta http-equiv="Content-Type"> in the first 4 KiB,
    valid UTF-8, else windows-1252 (ISO-8859-1 and ASCII labels also decode
    as windows-1252, as in browsers). Unknown names are skipped, and
    undecodable bytes become U+FFFD: every output string is valid UTF-8.
*/
#ifndef ZC_HTML_H_INCLUDED
#define ZC_HTML_H_INCLUDED

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#define ZC_HTML_CHARSET_MAX_BYTES 64

typedef struct {
    char *title;  //  owned; NULL if none. Whitespace collapsed, UTF-8.
    char **links; //  owned array of owned canonical URLs
    size_t link_count;
    size_t skipped_links; //  hrefs that were not usable http(s) URLs
    char *canonical;      //  owned; resolved <link rel="canonical">, or NULL
    bool noindex;         //  <meta name="robots"> noindex (or none)
    bool nofollow;        //  <meta name="robots"> nofollow (or none); links empty
    char charset[ZC_HTML_CHARSET_MAX_BYTES + 1]; //  lowercase name the body
                                                 //  was decoded from ("" if empty)
} zc_html_result_t;

//  Parses BODY (SIZE bytes, any encoding; CHARSET from the HTTP header or
//  NULL) fetched from PAGE_URL. Fills *RESULT (caller frees with
//  zc_html_result_clear). Returns 0, or -1 if the input could not be parsed
//  at all (RESULT is then empty and ERROR, if not NULL, says why).
int zc_html_parse (const char *page_url, const char *body, size_t size, const char *charset,
                   zc_html_result_t *result, const char **error);

//  As zc_html_parse (same RESULT, from the same parse events), and also
//  builds the page's DOM into *DOC (caller frees with xmlFreeDoc; NULL if
//  the body is empty or libxml2 built none), for extraction rules.
int zc_html_parse_dom (const char *page_url, const char *body, size_t size, const char *charset,
                       zc_html_result_t *result, xmlDocPtr *doc, const char **error);

//  As zc_html_parse_dom without a DOM: the same parse events also go to
//  STREAM (prepared with zc_stream_prepare for the page's rules, which
//  must all be streamable), whose zc_stream_finish then gives what
//  zc_extract_run would give on the DOM. RESULT is what zc_html_parse_dom
//  gives (a page nested deeper than libxml2's tree limit stops where the
//  DOM builder stops).
typedef struct zc_stream zc_stream_t;
int zc_html_parse_stream (const char *page_url, const char *body, size_t size, const char *charset,
                          zc_stream_t *stream, zc_html_result_t *result, const char **error);

//  Frees what a result owns and zeroes it.
void zc_html_result_clear (zc_html_result_t *result);

#endif
