/*  zc_html — links and title of one HTML page, libxml2 SAX (no DOM).

    The SAX callbacks only collect: raw href/src values (copied, in document
    order), the first <base href>, and the text of the first <title>.
    Resolution happens once at the end, against the final base, because a
    browser applies <base href> to the whole document, including links that
    come before it. Each link is then one zc_url dup+set+get, and a zhashx
    (keys borrowed from the result array) drops duplicates in order.

    Encoding: with a charset from the HTTP header we switch the input to it
    before parsing (libxml2 then ignores <meta charset>, as browsers do);
    without one, a body that is valid UTF-8 is declared UTF-8 by us (libxml2
    2.9 would decode it as ISO-8859-1), else libxml2 sniffs the BOM and
    <meta>, falling back to ISO-8859-1. SAX callbacks always get UTF-8; the
    title is still sanitised, since the output ends up in JSON.

    Untrusted input bounds: the title keeps at most ZC_HTML_TITLE_MAX_BYTES,
    a page yields at most ZC_HTML_MAX_LINKS links and ZC_HTML_MAX_LINK_BYTES
    of link text (so a RESULT always fits the codec's header limit); hrefs
    beyond the caps are counted as skipped.
*/
#include "zc_html.h"

#include "zc_url.h"
#include "zc_util.h"

#include <czmq.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ZC_HTML_TITLE_MAX_BYTES 2048
#define ZC_HTML_MAX_LINKS 20000
#define ZC_HTML_MAX_LINK_BYTES (4u * 1024 * 1024)

typedef struct {
    char **hrefs; //  owned array of owned raw values, document order
    size_t href_count;
    size_t href_alloc;
    size_t href_dropped; //  beyond ZC_HTML_MAX_LINKS
    char *base_href;     //  owned; first <base href>, or NULL
    bool in_title;
    bool title_done;
    char title[ZC_HTML_TITLE_MAX_BYTES + 1]; //  raw title text
    size_t title_len;
} self_t;

static void
s_self_clear (self_t *self)
{
    for (size_t i = 0; i < self->href_count; i++)
        free (self->hrefs[i]);
    free (self->hrefs);
    free (self->base_href);
}

static void
s_add_href (self_t *self, const char *value)
{
    if (self->href_count >= ZC_HTML_MAX_LINKS) {
        self->href_dropped++;
        return;
    }
    if (self->href_count == self->href_alloc) {
        self->href_alloc = self->href_alloc ? self->href_alloc * 2 : 64;
        self->hrefs = realloc (self->hrefs, self->href_alloc * sizeof *self->hrefs);
        if (!self->hrefs) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    self->hrefs[self->href_count++] = zc_strdup (value);
}

//  Value of attribute NAME in ATTS (name/value pairs, NULL-terminated), or
//  NULL if absent or without a value.
static const char *
s_attribute (const xmlChar **atts, const char *name)
{
    if (!atts)
        return NULL;
    for (size_t i = 0; atts[i]; i += 2)
        if (strcasecmp ((const char *)atts[i], name) == 0)
            return (const char *)atts[i + 1];
    return NULL;
}

static void
s_start_element (void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    self_t *self = ctx;
    const char *name = (const char *)xname;
    const char *value = NULL;
    if (strcasecmp (name, "a") == 0 || strcasecmp (name, "area") == 0)
        value = s_attribute (atts, "href");
    else if (strcasecmp (name, "frame") == 0 || strcasecmp (name, "iframe") == 0)
        value = s_attribute (atts, "src");
    else if (strcasecmp (name, "base") == 0) {
        const char *href = s_attribute (atts, "href");
        if (href && !self->base_href)
            self->base_href = zc_strdup (href);
    } else if (strcasecmp (name, "title") == 0 && !self->title_done)
        self->in_title = true;
    if (value)
        s_add_href (self, value);
}

static void
s_end_element (void *ctx, const xmlChar *xname)
{
    self_t *self = ctx;
    if (self->in_title && strcasecmp ((const char *)xname, "title") == 0) {
        self->in_title = false;
        self->title_done = true;
    }
}

static void
s_characters (void *ctx, const xmlChar *text, int len)
{
    self_t *self = ctx;
    if (!self->in_title || len <= 0)
        return;
    size_t room = ZC_HTML_TITLE_MAX_BYTES - self->title_len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy (self->title + self->title_len, text, n);
    self->title_len += n;
    self->title[self->title_len] = 0;
}

static void
s_silent_error (void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

//  Length of the valid UTF-8 sequence at S (N bytes available), or 0.
static size_t
s_utf8_sequence (const unsigned char *s, size_t n)
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

//  The title: ASCII whitespace runs collapsed to one space, trimmed,
//  invalid UTF-8 replaced by U+FFFD (a truncated last character dropped).
//  Returns a new string, or NULL if nothing is left.
static char *
s_title_finish (const self_t *self)
{
    const unsigned char *in = (const unsigned char *)self->title;
    size_t n = self->title_len;
    char *out = zc_malloc (n * 3 + 1);
    size_t len = 0;
    bool space = false;
    for (size_t i = 0; i < n;) {
        unsigned char c = in[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            space = len > 0;
            i++;
            continue;
        }
        if (space)
            out[len++] = ' ';
        space = false;
        size_t seq = s_utf8_sequence (in + i, n - i);
        if (seq == 0) {
            //  A multi-byte character cut by the length cap is dropped.
            if (n == ZC_HTML_TITLE_MAX_BYTES && n - i < 4 && c >= 0xc2)
                break;
            memcpy (out + len, "\xef\xbf\xbd", 3);
            len += 3;
            i++;
            continue;
        }
        memcpy (out + len, in + i, seq);
        len += seq;
        i += seq;
    }
    out[len] = 0;
    if (len == 0) {
        free (out);
        return NULL;
    }
    return out;
}

//  Resolves, canonicalises and deduplicates the collected hrefs into RESULT.
static void
s_resolve_links (self_t *self, const char *page_url, zc_html_result_t *result)
{
    zc_url_base_t *base = page_url ? zc_url_base_new (page_url, NULL) : NULL;
    if (self->base_href) {
        if (base)
            zc_url_base_rebase (base, self->base_href); //  -1: keep the page URL
        else
            base = zc_url_base_new (self->base_href, NULL);
    }
    zhashx_t *seen = zhashx_new ();
    zhashx_set_key_duplicator (seen, NULL); //  keys borrowed from result->links
    zhashx_set_key_destructor (seen, NULL);
    result->links = zc_malloc ((self->href_count ? self->href_count : 1) * sizeof (char *));
    result->skipped_links = self->href_dropped;
    size_t total_bytes = 0;
    for (size_t i = 0; i < self->href_count; i++) {
        //  Without a usable base only absolute hrefs can be resolved.
        char *link = base ? zc_url_base_resolve (base, self->hrefs[i], NULL)
                          : zc_url_canonical (self->hrefs[i], NULL);
        if (!link) {
            result->skipped_links++;
            continue;
        }
        size_t bytes = strlen (link);
        if (total_bytes + bytes > ZC_HTML_MAX_LINK_BYTES) {
            result->skipped_links++;
            free (link);
            continue;
        }
        if (zhashx_insert (seen, link, link) != 0) {
            free (link); //  duplicate
            continue;
        }
        total_bytes += bytes;
        result->links[result->link_count++] = link;
    }
    zhashx_destroy (&seen);
    zc_url_base_destroy (&base);
}

//  True if BODY has no UTF-16/32 BOM and is entirely valid UTF-8. Without
//  a charset libxml2 2.9 decodes undeclared bytes as ISO-8859-1, which turns
//  every undeclared UTF-8 page into mojibake; a body that validates as UTF-8
//  is (all but certainly) UTF-8, so we say so before parsing.
static bool
s_body_is_utf8 (const char *body, size_t size)
{
    const unsigned char *p = (const unsigned char *)body;
    if (size >= 2 && ((p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff)))
        return false;
    for (size_t i = 0; i < size;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t seq = s_utf8_sequence (p + i, size - i);
        if (seq == 0)
            return false;
        i += seq;
    }
    return true;
}

//  Runs the SAX parse of BODY into SELF. Returns 0 or -1.
static int
s_sax_parse (self_t *self, const char *body, size_t size, const char *charset)
{
    int length = size > INT_MAX ? INT_MAX : (int)size;
    htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt (body, length);
    if (!ctxt)
        return -1;
    int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
    xmlCharEncodingHandlerPtr handler = NULL;
    if (charset && *charset)
        //  An unknown charset name is ignored, as if there were none.
        handler = xmlFindCharEncodingHandler (charset);
    if (!handler && s_body_is_utf8 (body, (size_t)length))
        handler = xmlFindCharEncodingHandler ("UTF-8");
    //  A decided charset wins over <meta charset>, as in browsers.
    if (handler && xmlSwitchToEncoding (ctxt, handler) == 0)
        options |= HTML_PARSE_IGNORE_ENC;
    htmlSAXHandler sax;
    memset (&sax, 0, sizeof sax);
    sax.initialized = 1;
    sax.startElement = s_start_element;
    sax.endElement = s_end_element;
    sax.characters = s_characters;
    sax.ignorableWhitespace = s_characters;
    //  Same swap as libxml2's own htmlSAXParseDoc: our handler for the
    //  parse, the context's own one back before it is freed.
    htmlSAXHandlerPtr old_sax = ctxt->sax;
    ctxt->sax = &sax;
    ctxt->userData = self;
    htmlCtxtUseOptions (ctxt, options);
    //  The result code only says whether the document was well formed;
    //  recovery means whatever was collected is the answer.
    (void)htmlParseDocument (ctxt);
    ctxt->sax = old_sax;
    ctxt->userData = ctxt;
    if (ctxt->myDoc)
        xmlFreeDoc (ctxt->myDoc);
    ctxt->myDoc = NULL;
    htmlFreeParserCtxt (ctxt);
    return 0;
}

int
zc_html_parse (const char *page_url, const char *body, size_t size, const char *charset,
               zc_html_result_t *result, const char **error)
{
    assert (result);
    memset (result, 0, sizeof *result);
    if (error)
        *error = NULL;
    if (!body || size == 0)
        return 0; //  an empty page has no links and no title
    self_t *self = zc_malloc (sizeof *self);
    memset (self, 0, sizeof *self);

    //  libxml2 reports some errors (encoding conversion) through the
    //  thread's generic handler even with NOERROR; silence it for this call
    //  only, so garbage pages do not flood the logs.
    xmlGenericErrorFunc old_error = xmlGenericError;
    void *old_error_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc old_serror = xmlStructuredError;
    void *old_serror_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc (NULL, s_silent_error);
    xmlSetStructuredErrorFunc (NULL, NULL);
    int rc = s_sax_parse (self, body, size, charset);
    xmlSetGenericErrorFunc (old_error_ctx, old_error);
    xmlSetStructuredErrorFunc (old_serror_ctx, old_serror);

    if (rc == 0) {
        result->title = s_title_finish (self);
        s_resolve_links (self, page_url, result);
    } else if (error)
        *error = "libxml2 could not create an HTML parser";
    s_self_clear (self);
    free (self);
    return rc;
}

void
zc_html_result_clear (zc_html_result_t *result)
{
    if (!result)
        return;
    free (result->title);
    for (size_t i = 0; i < result->link_count; i++)
        free (result->links[i]);
    free (result->links);
    memset (result, 0, sizeof *result);
}
