/*  zc_stream — evaluates extraction rules during zc_html's SAX pass,
    without building a DOM, giving exactly what zc_extract_run gives on the
    DOM libxml2 would have built from the same events.

    Streamable rules: CSS (not XPath) selector lists of compound selectors
    (type or *, #id, .class, [attr], [attr=v], [attr^=v], [attr$=v],
    [attr*=v], :nth-child(N)) joined by ' ' and '>', taking text or an
    attribute (not inner HTML). A rule that zc_extract would reject (no
    name, duplicate, bad selector or regex) is streamable too: it is
    skipped and named in the result's error, as zc_extract does.

    Compiled plans are cached by the rules' contents, like zc_extract's
    XPath, so consecutive pages of a crawl compile nothing. One per parser
    actor; not thread-safe.
*/
#ifndef ZC_STREAM_H_INCLUDED
#define ZC_STREAM_H_INCLUDED

#include "zc_extract.h"
#include "zc_msg.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct zc_stream zc_stream_t;

//  Creates an evaluator with an empty plan cache. Caller owns it.
zc_stream_t *zc_stream_new (void);

//  Destroys it. NULL-safe; sets *self_p to NULL.
void zc_stream_destroy (zc_stream_t **self_p);

//  Selects the plan for RULES (RULE_COUNT, borrowed; compiled on first
//  use). Returns true if every rule is streamable: the next pages may then
//  be parsed with zc_html_parse_stream. False: use the DOM path.
bool zc_stream_prepare (zc_stream_t *self, const zc_extract_rule_t *rules, size_t rule_count);

//  Plans compiled so far (cache misses), for tests.
size_t zc_stream_compiles (zc_stream_t *self);

//  Page events, in libxml2's SAX order (zc_html_parse_stream sends them).
//  Begin starts a page with the prepared plan; finish fills *RESULT
//  (zeroed first; caller frees with zc_extract_result_clear) and returns 0,
//  or -1 if some rule was unusable (named in RESULT->error).
void zc_stream_begin (zc_stream_t *self);
void zc_stream_start_element (zc_stream_t *self, const char *name, const char **atts);
void zc_stream_end_element (zc_stream_t *self);
void zc_stream_characters (zc_stream_t *self, const char *text, size_t len);
//  A comment or processing instruction outside any element, or a
//  DOCTYPE: decides where libxml2's tree builder puts later top-level
//  elements.
void zc_stream_doc_node (zc_stream_t *self, bool doctype);
//  Open elements (the depth of libxml2's node stack in DOM mode).
size_t zc_stream_depth (const zc_stream_t *self);
int zc_stream_finish (zc_stream_t *self, zc_extract_result_t *result);

#endif
