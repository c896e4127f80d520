/*  zc_html — links, title and robots hints of one HTML page, from
    libxml2's SAX events.

    The SAX callbacks only collect: raw href/src values (copied, in document
    order), the first <base href>, the text of the first <title>, the first
    <link rel=canonical> and <meta name=robots> flags. Resolution happens
    once at the end, against the final base, because a browser applies
    <base href> to the whole document, including links that come before it.
    Each link is then one zc_url dup+set+get, and a zhashx (keys borrowed
    from the result array) drops duplicates in order.

    Two modes share the collectors: plain SAX (no DOM, the fast path for
    pages without extraction rules) and DOM, where libxml2's own tree
    builder callbacks run and then ours, so both see the very same events
    and give the same links and title.

    Encoding: we decode the body to UTF-8 ourselves before libxml2 sees it
    (BOM, HTTP charset, <meta> prescan, valid UTF-8, windows-1252; iconv with
    U+FFFD for undecodable bytes) and tell libxml2 it is UTF-8 and to ignore
    <meta charset>. libxml2 2.9's own switching on <meta> happens mid-stream
    and on invalid bytes it silently changes to ISO-8859-1, so neither the
    result nor the charset it used would be reliable. A page that is already
    valid UTF-8 (the common case) is parsed in place, without a copy.

    Untrusted input bounds: the title keeps at most ZC_HTML_TITLE_MAX_BYTES,
    a page yields at most ZC_HTML_MAX_LINKS links and ZC_HTML_MAX_LINK_BYTES
    of link text (so a RESULT always fits the codec's header limit); hrefs
    beyond the caps are counted as skipped.
*/
#include "zc_html.h"

#include "zc_stream.h"
#include "zc_url.h"
#include "zc_utf8.h"
#include "zc_util.h"

#include <czmq.h>
#include <errno.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ZC_HTML_TITLE_MAX_BYTES 2048
#define ZC_HTML_MAX_LINKS 20000
#define ZC_HTML_MAX_LINK_BYTES (4u * 1024 * 1024)
#define ZC_HTML_META_PRESCAN_BYTES 4096

//  ---------------------------------------------------------------------
//  Decoding to UTF-8

typedef struct {
    const char *text; //  UTF-8 to parse: into the body, or owned
    size_t size;
    char *owned;                                 //  owned decoded copy, or NULL
    char charset[ZC_HTML_CHARSET_MAX_BYTES + 1]; //  what it was decoded from
} s_decoded_t;

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

//  Lowercased, trimmed charset label LABEL (LEN bytes) in NAME, with the
//  browser aliases applied (ISO-8859-1 and ASCII are windows-1252, utf8 is
//  utf-8, utf-16 is utf-16le). False if it is not a plausible name.
static bool
s_label_normalise (const char *label, size_t len, char *name)
{
    while (len > 0 && (s_is_space (*label) || *label == '"' || *label == '\'')) {
        label++;
        len--;
    }
    while (len > 0 &&
           (s_is_space (label[len - 1]) || label[len - 1] == '"' || label[len - 1] == '\''))
        len--;
    if (len == 0 || len > ZC_HTML_CHARSET_MAX_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = label[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':'))
            return false;
        name[i] = c;
    }
    name[len] = 0;
    const char *windows_1252[] = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1",
                                  "us-ascii",   "ascii",     "iso-ir-100", "cp819",  "ibm819",
                                  "cp1252",     "x-cp1252",  "csisolatin1"};
    for (size_t i = 0; i < sizeof windows_1252 / sizeof windows_1252[0]; i++)
        if (streq (name, windows_1252[i]))
            strcpy (name, "windows-1252");
    if (streq (name, "utf8") || streq (name, "unicode-1-1-utf-8"))
        strcpy (name, "utf-8");
    if (streq (name, "utf-16") || streq (name, "unicode"))
        strcpy (name, "utf-16le");
    return true;
}

static void
s_decoded_utf8 (const char *body, size_t size, s_decoded_t *out)
{
    strcpy (out->charset, "utf-8");
    if (zc_utf8_valid (body, size)) {
        out->text = body;
        out->size = size;
    } else {
        out->owned = zc_utf8_sanitise (body, size, &out->size);
        out->text = out->owned;
    }
}

//  Decodes BODY from charset NAME (normalised) into OUT. Returns 0, or -1
//  if iconv does not know NAME (OUT untouched).
static int
s_decode_as (const char *body, size_t size, const char *name, s_decoded_t *out)
{
    if (streq (name, "utf-8")) {
        s_decoded_utf8 (body, size, out);
        return 0;
    }
    iconv_t cd = iconv_open ("UTF-8", name);
    if (cd == (iconv_t)-1)
        return -1;
    //  Undecodable input is skipped a code unit at a time.
    size_t unit = strncmp (name, "utf-16", 6) == 0 ? 2 : strncmp (name, "utf-32", 6) == 0 ? 4 : 1;
    size_t alloc = size * 2 + 16;
    char *buffer = zc_malloc (alloc);
    char *in = (char *)body;
    size_t in_left = size;
    size_t len = 0;
    bool grow = false;
    while (in_left > 0) {
        if (grow || alloc - len < 16) {
            alloc *= 2;
            buffer = realloc (buffer, alloc);
            if (!buffer) {
                fprintf (stderr, "zcrawl: out of memory\n");
                abort ();
            }
            grow = false;
        }
        char *outp = buffer + len;
        size_t out_left = alloc - len - 1;
        size_t rc = iconv (cd, &in, &in_left, &outp, &out_left);
        len = (size_t)(outp - buffer);
        if (rc != (size_t)-1)
            continue; //  all converted
        if (errno == E2BIG) {
            grow = true;
            continue;
        }
        if (alloc - len < 8) {
            grow = true; //  room for the replacement first
            continue;
        }
        memcpy (buffer + len, "\xef\xbf\xbd", 3);
        len += 3;
        if (errno != EILSEQ) //  EINVAL: truncated sequence at the end
            break;
        size_t skip = unit < in_left ? unit : in_left;
        in += skip;
        in_left -= skip;
        (void)iconv (cd, NULL, NULL, NULL, NULL); //  reset shift state
    }
    iconv_close (cd);
    buffer[len] = 0;
    //  iconv's output is UTF-8, but be certain: it ends up in JSON.
    if (!zc_utf8_valid (buffer, len)) {
        char *clean = zc_utf8_sanitise (buffer, len, &len);
        free (buffer);
        buffer = clean;
    }
    out->owned = buffer;
    out->text = buffer;
    out->size = len;
    snprintf (out->charset, sizeof out->charset, "%s", name);
    return 0;
}

static bool
s_name_is (const char *name, size_t len, const char *expected)
{
    return strlen (expected) == len && strncasecmp (name, expected, len) == 0;
}

//  The charset named in a <meta content="text/html; charset=X"> value.
static bool
s_content_charset (const char *content, char *name)
{
    for (const char *p = content; *p; p++) {
        if (strncasecmp (p, "charset", 7) != 0)
            continue;
        p += 7;
        while (s_is_space (*p))
            p++;
        if (*p != '=') {
            p--; //  the loop steps over the character that was not '='
            continue;
        }
        p++;
        while (s_is_space (*p))
            p++;
        char quote = (*p == '"' || *p == '\'') ? *p++ : 0;
        size_t len = quote ? strcspn (p, quote == '"' ? "\"" : "'") : strcspn (p, "; \t\r\n\f");
        return s_label_normalise (p, len, name);
    }
    return false;
}

//  Reads the attributes of a <meta> tag from P (after "<meta") up to END;
//  sets *FOUND and NAME if it declares a charset. Returns where it stopped.
static const char *
s_meta_tag (const char *p, const char *end, char *name, bool *found)
{
    char content[512] = "";
    bool http_equiv = false, has_content = false;
    while (p < end) {
        while (p < end && (s_is_space (*p) || *p == '/'))
            p++;
        if (p >= end || *p == '>')
            break;
        const char *attr = p;
        while (p < end && !s_is_space (*p) && *p != '=' && *p != '>' && *p != '/')
            p++;
        size_t attr_len = (size_t)(p - attr);
        while (p < end && s_is_space (*p))
            p++;
        const char *value = p;
        size_t value_len = 0;
        if (p < end && *p == '=') {
            p++;
            while (p < end && s_is_space (*p))
                p++;
            if (p < end && (*p == '"' || *p == '\'')) {
                char quote = *p++;
                value = p;
                while (p < end && *p != quote)
                    p++;
                value_len = (size_t)(p - value);
                if (p < end)
                    p++;
            } else {
                value = p;
                while (p < end && !s_is_space (*p) && *p != '>')
                    p++;
                value_len = (size_t)(p - value);
            }
        }
        if (attr_len == 0) {
            p++; //  a stray '=': step over it
            continue;
        }
        if (s_name_is (attr, attr_len, "charset")) {
            *found = s_label_normalise (value, value_len, name);
            if (*found)
                return p;
        } else if (s_name_is (attr, attr_len, "http-equiv"))
            http_equiv = s_name_is (value, value_len, "content-type");
        else if (s_name_is (attr, attr_len, "content") && value_len < sizeof content) {
            memcpy (content, value, value_len);
            content[value_len] = 0;
            has_content = true;
        }
    }
    if (http_equiv && has_content)
        *found = s_content_charset (content, name);
    return p;
}

//  The charset a <meta> in the first bytes of BODY declares, in NAME.
static bool
s_meta_charset (const char *body, size_t size, char *name)
{
    const char *p = body;
    const char *end =
        body + (size < ZC_HTML_META_PRESCAN_BYTES ? size : ZC_HTML_META_PRESCAN_BYTES);
    while (p < end && (p = memchr (p, '<', (size_t)(end - p))) != NULL) {
        size_t left = (size_t)(end - p);
        if (left >= 4 && memcmp (p, "<!--", 4) == 0) {
            const char *close = NULL;
            for (const char *q = p + 4; q + 3 <= end && !close; q++)
                if (memcmp (q, "-->", 3) == 0)
                    close = q;
            if (!close)
                return false;
            p = close + 3;
        } else if (left >= 6 && strncasecmp (p, "<meta", 5) == 0 &&
                   (s_is_space (p[5]) || p[5] == '/')) {
            bool found = false;
            p = s_meta_tag (p + 5, end, name, &found);
            if (found)
                return true;
        } else
            p++;
    }
    return false;
}

//  Decides the charset and decodes BODY to UTF-8 (see the top comment).
static void
s_decode (const char *body, size_t size, const char *header_charset, s_decoded_t *out)
{
    const unsigned char *b = (const unsigned char *)body;
    char name[ZC_HTML_CHARSET_MAX_BYTES + 1];
    if (size >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
        s_decoded_utf8 (body + 3, size - 3, out);
        return;
    }
    if (size >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff)) &&
        s_decode_as (body + 2, size - 2, b[0] == 0xff ? "utf-16le" : "utf-16be", out) == 0)
        return;
    if (header_charset && s_label_normalise (header_charset, strlen (header_charset), name) &&
        s_decode_as (body, size, name, out) == 0)
        return;
    if (s_meta_charset (body, size, name)) {
        //  A page that could read its own <meta> is ASCII-compatible.
        if (strncmp (name, "utf-16", 6) == 0 || strncmp (name, "utf-32", 6) == 0)
            strcpy (name, "utf-8");
        if (s_decode_as (body, size, name, out) == 0)
            return;
    }
    if (zc_utf8_valid (body, size) || s_decode_as (body, size, "windows-1252", out) != 0)
        s_decoded_utf8 (body, size, out);
}

//  ---------------------------------------------------------------------
//  Collecting from parse events

typedef struct {
    size_t *hrefs; //  owned; offsets of the raw values in href_text, document order
    size_t href_count;
    size_t href_alloc;
    char *href_text; //  owned; the raw values, NUL-terminated, one after another
    size_t href_text_len;
    size_t href_text_alloc;
    size_t href_dropped;  //  beyond ZC_HTML_MAX_LINKS
    char *base_href;      //  owned; first <base href>, or NULL
    char *canonical_href; //  owned; first <link rel=canonical href>, or NULL
    bool noindex;
    bool nofollow;
    bool in_title;
    bool title_done;
    char title[ZC_HTML_TITLE_MAX_BYTES + 1]; //  raw title text
    size_t title_len;
    zc_stream_t *stream; //  borrowed; rules evaluated on the events, or NULL
    bool halted;         //  stream mode: stopped where the DOM builder would
} self_t;

static void
s_self_clear (self_t *self)
{
    free (self->hrefs);
    free (self->href_text);
    free (self->base_href);
    free (self->canonical_href);
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
    //  One buffer for all values: no allocation per link.
    size_t len = strlen (value) + 1;
    if (self->href_text_alloc - self->href_text_len < len) {
        size_t alloc = self->href_text_alloc ? self->href_text_alloc : 4096;
        while (alloc - self->href_text_len < len)
            alloc *= 2;
        self->href_text = realloc (self->href_text, alloc);
        if (!self->href_text) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
        self->href_text_alloc = alloc;
    }
    memcpy (self->href_text + self->href_text_len, value, len);
    self->hrefs[self->href_count++] = self->href_text_len;
    self->href_text_len += len;
}

//  Value of attribute NAME (lowercase) in ATTS (name/value pairs,
//  NULL-terminated), or NULL if absent or without a value.
static const char *
s_attribute (const xmlChar **atts, const char *name)
{
    if (!atts)
        return NULL;
    for (size_t i = 0; atts[i]; i += 2) {
        const char *att = (const char *)atts[i];
        //  First letters differ for most attributes: skip the call.
        if ((att[0] == name[0] || (att[0] ^ 0x20) == name[0]) && strcasecmp (att, name) == 0)
            return (const char *)atts[i + 1];
    }
    return NULL;
}

//  True if LIST (tokens separated by ASCII whitespace or commas) contains
//  TOKEN, ignoring case.
static bool
s_has_token (const char *list, const char *token)
{
    size_t token_len = strlen (token);
    for (const char *p = list; p && *p;) {
        while (*p && (s_is_space (*p) || *p == ','))
            p++;
        const char *start = p;
        while (*p && !s_is_space (*p) && *p != ',')
            p++;
        if ((size_t)(p - start) == token_len && strncasecmp (start, token, token_len) == 0)
            return true;
    }
    return false;
}

typedef enum {
    S_TAG_OTHER,
    S_TAG_A,     //  a, area
    S_TAG_FRAME, //  frame, iframe
    S_TAG_BASE,
    S_TAG_TITLE,
    S_TAG_META,
    S_TAG_LINK
} s_tag_t;

//  Which of the elements we collect from NAME is (ASCII case-insensitive).
//  Called for every element: the first letter decides which one name can
//  match, so most names (p, div, span, li, ...) cost a switch and at most
//  one comparison. (x | 0x20) is a lowercase letter only for that letter
//  in either case.
static s_tag_t
s_tag (const char *name)
{
    switch (name[0] | 0x20) {
    case 'a':
        return strcasecmp (name, "a") == 0 || strcasecmp (name, "area") == 0 ? S_TAG_A
                                                                             : S_TAG_OTHER;
    case 'b':
        return strcasecmp (name, "base") == 0 ? S_TAG_BASE : S_TAG_OTHER;
    case 'f':
        return strcasecmp (name, "frame") == 0 ? S_TAG_FRAME : S_TAG_OTHER;
    case 'i':
        return strcasecmp (name, "iframe") == 0 ? S_TAG_FRAME : S_TAG_OTHER;
    case 'l':
        return strcasecmp (name, "link") == 0 ? S_TAG_LINK : S_TAG_OTHER;
    case 'm':
        return strcasecmp (name, "meta") == 0 ? S_TAG_META : S_TAG_OTHER;
    case 't':
        return strcasecmp (name, "title") == 0 ? S_TAG_TITLE : S_TAG_OTHER;
    default:
        return S_TAG_OTHER;
    }
}

static void
s_collect_meta (self_t *self, const xmlChar **atts)
{
    const char *meta_name = s_attribute (atts, "name");
    const char *content = s_attribute (atts, "content");
    if (meta_name && content && strcasecmp (meta_name, "robots") == 0) {
        bool none = s_has_token (content, "none");
        self->noindex = self->noindex || none || s_has_token (content, "noindex");
        self->nofollow = self->nofollow || none || s_has_token (content, "nofollow");
    }
}

static void
s_collect_start (self_t *self, const char *name, const xmlChar **atts)
{
    const char *value = NULL;
    switch (s_tag (name)) {
    case S_TAG_OTHER:
        return;
    case S_TAG_A:
        if (!s_has_token (s_attribute (atts, "rel"), "nofollow"))
            value = s_attribute (atts, "href");
        break;
    case S_TAG_FRAME:
        value = s_attribute (atts, "src");
        break;
    case S_TAG_BASE: {
        const char *href = s_attribute (atts, "href");
        if (href && !self->base_href)
            self->base_href = zc_strdup (href);
        break;
    }
    case S_TAG_TITLE:
        if (!self->title_done)
            self->in_title = true;
        break;
    case S_TAG_META:
        s_collect_meta (self, atts);
        break;
    case S_TAG_LINK:
        if (!self->canonical_href) {
            const char *href = s_attribute (atts, "href");
            if (href && s_has_token (s_attribute (atts, "rel"), "canonical"))
                self->canonical_href = zc_strdup (href);
        }
        break;
    }
    if (value)
        s_add_href (self, value);
}

static void
s_collect_end (self_t *self, const char *name)
{
    if (self->in_title && strcasecmp (name, "title") == 0) {
        self->in_title = false;
        self->title_done = true;
    }
}

static void
s_collect_characters (self_t *self, const xmlChar *text, int len)
{
    if (!self->in_title || len <= 0)
        return;
    size_t room = ZC_HTML_TITLE_MAX_BYTES - self->title_len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy (self->title + self->title_len, text, n);
    self->title_len += n;
    self->title[self->title_len] = 0;
}

//  SAX callbacks get the parser context (userData is the context itself),
//  whose _private is our self_t. The DOM variants first let libxml2's
//  tree builder see the event.

static void
s_sax_start (void *ctx, const xmlChar *name, const xmlChar **atts)
{
    s_collect_start (((htmlParserCtxtPtr)ctx)->_private, (const char *)name, atts);
}

static void
s_sax_end (void *ctx, const xmlChar *name)
{
    s_collect_end (((htmlParserCtxtPtr)ctx)->_private, (const char *)name);
}

static void
s_sax_characters (void *ctx, const xmlChar *text, int len)
{
    s_collect_characters (((htmlParserCtxtPtr)ctx)->_private, text, len);
}

static void
s_dom_start (void *ctx, const xmlChar *name, const xmlChar **atts)
{
    xmlSAX2StartElement (ctx, name, atts);
    s_sax_start (ctx, name, atts);
}

static void
s_dom_end (void *ctx, const xmlChar *name)
{
    xmlSAX2EndElement (ctx, name);
    s_sax_end (ctx, name);
}

static void
s_dom_characters (void *ctx, const xmlChar *text, int len)
{
    xmlSAX2Characters (ctx, text, len);
    s_sax_characters (ctx, text, len);
}

static void
s_dom_whitespace (void *ctx, const xmlChar *text, int len)
{
    xmlSAX2IgnorableWhitespace (ctx, text, len);
    s_sax_characters (ctx, text, len);
}

//  Stream mode: plain SAX plus the rules evaluator, which sees the events
//  libxml2's tree builder would see. The tree builder halts the parser
//  when an element would be deeper than xmlParserMaxDepth; so do we, so
//  that links, title and values are those of the DOM path.

static void
s_stream_start (void *ctx, const xmlChar *name, const xmlChar **atts)
{
    htmlParserCtxtPtr ctxt = (htmlParserCtxtPtr)ctx;
    self_t *self = ctxt->_private;
    if (!self->halted) {
        if (zc_stream_depth (self->stream) > xmlParserMaxDepth) {
            xmlStopParser (ctxt);
            self->halted = true;
        } else
            zc_stream_start_element (self->stream, (const char *)name, (const char **)atts);
    }
    s_collect_start (self, (const char *)name, atts);
}

static void
s_stream_end (void *ctx, const xmlChar *name)
{
    self_t *self = ((htmlParserCtxtPtr)ctx)->_private;
    if (!self->halted)
        zc_stream_end_element (self->stream);
    s_collect_end (self, (const char *)name);
}

static void
s_stream_characters (void *ctx, const xmlChar *text, int len)
{
    self_t *self = ((htmlParserCtxtPtr)ctx)->_private;
    if (!self->halted && len > 0)
        zc_stream_characters (self->stream, (const char *)text, (size_t)len);
    s_collect_characters (self, text, len);
}

//  Script and style text: in the tree, but (as in DOM mode, where only
//  libxml2's builder sees this event) not collected.
static void
s_stream_cdata (void *ctx, const xmlChar *text, int len)
{
    self_t *self = ((htmlParserCtxtPtr)ctx)->_private;
    if (!self->halted && len > 0)
        zc_stream_characters (self->stream, (const char *)text, (size_t)len);
}

static void
s_stream_comment (void *ctx, const xmlChar *value)
{
    (void)value;
    self_t *self = ((htmlParserCtxtPtr)ctx)->_private;
    if (!self->halted && zc_stream_depth (self->stream) == 0)
        zc_stream_doc_node (self->stream, false);
}

static void
s_stream_pi (void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    s_stream_comment (ctx, NULL);
}

static void
s_stream_doctype (void *ctx, const xmlChar *name, const xmlChar *external_id,
                  const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    self_t *self = ((htmlParserCtxtPtr)ctx)->_private;
    if (!self->halted)
        zc_stream_doc_node (self->stream, true);
}

static void
s_silent_error (void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

//  ---------------------------------------------------------------------
//  Results

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
        size_t seq = zc_utf8_sequence (in + i, n - i);
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

//  Adds LINKS[INDEX] (BYTES long) to the open-addressing set SLOTS (MASK + 1
//  slots, a power of two, more than twice the links; a slot holds an index
//  into LINKS + 1, 0 = empty). False if an equal link is already there.
static bool
s_seen_insert (uint32_t *slots, size_t mask, char *const *links, size_t index, size_t bytes)
{
    const char *link = links[index];
    size_t j = (size_t)zc_hash64 (link, bytes) & mask;
    while (slots[j]) {
        if (streq (links[slots[j] - 1], link))
            return false;
        j = (j + 1) & mask;
    }
    slots[j] = (uint32_t)index + 1;
    return true;
}

//  Resolves, canonicalises and deduplicates the collected hrefs (unless
//  the page says nofollow) and the canonical link into RESULT.
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
    if (self->canonical_href)
        result->canonical = base ? zc_url_base_resolve (base, self->canonical_href, NULL)
                                 : zc_url_canonical (self->canonical_href, NULL);
    size_t count = self->nofollow ? 0 : self->href_count;
    size_t slot_count = 16;
    while (slot_count < count * 2 + 1)
        slot_count *= 2;
    uint32_t *seen = zc_malloc (slot_count * sizeof *seen);
    memset (seen, 0, slot_count * sizeof *seen);
    result->links = zc_malloc ((count ? count : 1) * sizeof (char *));
    result->skipped_links = self->nofollow ? 0 : self->href_dropped;
    size_t total_bytes = 0;
    for (size_t i = 0; i < count; i++) {
        //  Without a usable base only absolute hrefs can be resolved.
        const char *href = self->href_text + self->hrefs[i];
        char *link = base ? zc_url_base_resolve (base, href, NULL) : zc_url_canonical (href, NULL);
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
        result->links[result->link_count] = link;
        if (!s_seen_insert (seen, slot_count - 1, result->links, result->link_count, bytes)) {
            free (link); //  duplicate
            continue;
        }
        total_bytes += bytes;
        result->link_count++;
    }
    free (seen);
    zc_url_base_destroy (&base);
}

//  Parses TEXT (valid UTF-8) into SELF with plain SAX, or, if DOC is not
//  NULL, also building the DOM into *DOC. Returns 0 or -1.
static int
s_parse (self_t *self, const char *text, size_t size, xmlDocPtr *doc)
{
    int length = size > INT_MAX ? INT_MAX : (int)size;
    htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt (text, length);
    if (!ctxt)
        return -1;
    //  Already decoded: <meta charset> must not switch it again.
    int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                  HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC;
    //  Our text is valid UTF-8: xmlSwitchEncoding (UTF-8) marks the input as
    //  UTF-8 (no Latin-1 guessing) without a conversion handler, where
    //  xmlSwitchToEncoding with libxml2's UTF-8 handler copies the whole
    //  page once more (~5% of a parse) for the same bytes. Only if the first
    //  4 bytes hold a NUL or a byte >= 0x80 (a BOM, or what libxml2's
    //  sniffing takes for UTF-16/UCS-4) do we install the handler as
    //  before, so that the sniffing then does what it always did.
    bool sniff_safe = size >= 4;
    for (size_t i = 0; i < 4 && sniff_safe; i++)
        sniff_safe = text[i] > 0 && (unsigned char)text[i] < 0x80;
    if (sniff_safe) {
        if (xmlSwitchEncoding (ctxt, XML_CHAR_ENCODING_UTF8) != 0)
            options &= ~HTML_PARSE_IGNORE_ENC;
    } else {
        xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler ("UTF-8");
        if (!handler || xmlSwitchToEncoding (ctxt, handler) != 0)
            options &= ~HTML_PARSE_IGNORE_ENC;
    }
    htmlSAXHandler sax;
    memset (&sax, 0, sizeof sax); //  the init below skips a non-zero initialized
    if (doc) {
        xmlSAX2InitHtmlDefaultSAXHandler (&sax);
        sax.startElement = s_dom_start;
        sax.endElement = s_dom_end;
        sax.characters = s_dom_characters;
        sax.ignorableWhitespace = s_dom_whitespace;
    } else if (self->stream) {
        sax.initialized = 1;
        sax.startElement = s_stream_start;
        sax.endElement = s_stream_end;
        sax.characters = s_stream_characters;
        sax.ignorableWhitespace = s_sax_characters; //  not in the tree
        sax.cdataBlock = s_stream_cdata;
        sax.comment = s_stream_comment;
        sax.processingInstruction = s_stream_pi;
        sax.internalSubset = s_stream_doctype;
    } else {
        sax.initialized = 1;
        sax.startElement = s_sax_start;
        sax.endElement = s_sax_end;
        sax.characters = s_sax_characters;
        sax.ignorableWhitespace = s_sax_characters;
    }
    //  Same swap as libxml2's own htmlSAXParseDoc: our handler for the
    //  parse, the context's own one back before it is freed.
    htmlSAXHandlerPtr old_sax = ctxt->sax;
    ctxt->sax = &sax;
    ctxt->_private = self;
    htmlCtxtUseOptions (ctxt, options);
    //  The result code only says whether the document was well formed;
    //  recovery means whatever was collected is the answer.
    (void)htmlParseDocument (ctxt);
    ctxt->sax = old_sax;
    ctxt->_private = NULL;
    if (doc)
        *doc = ctxt->myDoc;
    else if (ctxt->myDoc)
        xmlFreeDoc (ctxt->myDoc);
    ctxt->myDoc = NULL;
    htmlFreeParserCtxt (ctxt);
    return 0;
}

static int
s_html_parse (const char *page_url, const char *body, size_t size, const char *charset,
              zc_html_result_t *result, xmlDocPtr *doc, zc_stream_t *stream, const char **error)
{
    assert (result);
    memset (result, 0, sizeof *result);
    if (doc)
        *doc = NULL;
    if (error)
        *error = NULL;
    if (!body || size == 0)
        return 0; //  an empty page has no links and no title
    s_decoded_t decoded = {0};
    s_decode (body, size, charset, &decoded);
    self_t *self = zc_malloc (sizeof *self);
    memset (self, 0, sizeof *self);
    self->stream = stream;

    //  libxml2 reports some errors through the thread's generic handler
    //  even with NOERROR; silence it for this call only, so garbage pages
    //  do not flood the logs.
    xmlGenericErrorFunc old_error = xmlGenericError;
    void *old_error_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc old_serror = xmlStructuredError;
    void *old_serror_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc (NULL, s_silent_error);
    xmlSetStructuredErrorFunc (NULL, NULL);
    int rc = decoded.size > 0 ? s_parse (self, decoded.text, decoded.size, doc) : 0;
    xmlSetGenericErrorFunc (old_error_ctx, old_error);
    xmlSetStructuredErrorFunc (old_serror_ctx, old_serror);

    if (rc == 0) {
        result->title = s_title_finish (self);
        result->noindex = self->noindex;
        result->nofollow = self->nofollow;
        snprintf (result->charset, sizeof result->charset, "%s", decoded.charset);
        s_resolve_links (self, page_url, result);
    } else if (error)
        *error = "libxml2 could not create an HTML parser";
    s_self_clear (self);
    free (self);
    free (decoded.owned);
    return rc;
}

int
zc_html_parse (const char *page_url, const char *body, size_t size, const char *charset,
               zc_html_result_t *result, const char **error)
{
    return s_html_parse (page_url, body, size, charset, result, NULL, NULL, error);
}

int
zc_html_parse_dom (const char *page_url, const char *body, size_t size, const char *charset,
                   zc_html_result_t *result, xmlDocPtr *doc, const char **error)
{
    assert (doc);
    return s_html_parse (page_url, body, size, charset, result, doc, NULL, error);
}

int
zc_html_parse_stream (const char *page_url, const char *body, size_t size, const char *charset,
                      zc_stream_t *stream, zc_html_result_t *result, const char **error)
{
    assert (stream);
    zc_stream_begin (stream);
    return s_html_parse (page_url, body, size, charset, result, NULL, stream, error);
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
    free (result->canonical);
    memset (result, 0, sizeof *result);
}
