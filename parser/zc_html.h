/*  zc_html — extracts what the crawler needs from one HTML page with
    libxml2's HTML parser in SAX mode (no DOM is built): the links of a,
    area (href), frame, iframe (src), honouring <base href>, and <title>.

    Links are resolved against the page URL (or <base href>) and
    canonicalised with zc_url; non-http(s) and malformed links are skipped
    and counted. Each canonical link appears once per page, in document
    order.
*/
#ifndef ZC_HTML_H_INCLUDED
#define ZC_HTML_H_INCLUDED

#include <stddef.h>

typedef struct {
    char *title;  //  owned; NULL if none. Whitespace collapsed, UTF-8.
    char **links; //  owned array of owned canonical URLs
    size_t link_count;
    size_t skipped_links; //  hrefs that were not usable http(s) URLs
} zc_html_result_t;

//  Parses BODY (SIZE bytes, any encoding; CHARSET from the HTTP header or
//  NULL) fetched from PAGE_URL. Fills *RESULT (caller frees with
//  zc_html_result_clear). Returns 0, or -1 if the input could not be parsed
//  at all (RESULT is then empty and ERROR, if not NULL, says why).
int zc_html_parse (const char *page_url, const char *body, size_t size, const char *charset,
                   zc_html_result_t *result, const char **error);

//  Frees what a result owns and zeroes it.
void zc_html_result_clear (zc_html_result_t *result);

#endif
