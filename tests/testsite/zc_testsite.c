/*  zc_testsite — the project's deterministic test web site (see zc_testsite.h).

    How it works, and why:
    - Every page is generated on demand from (seed, page index) with a
      splitmix64 stream: 20,000 pages cost no memory, and the same seed always
      gives the same bytes.
    - A page is first built as a model (title as written and as decoded text,
      optional <base href>, links), then rendered to HTML. Each link carries
      its canonical target, known by construction when the generator chose
      the href's form. The ground truth is a BFS over those targets, so it
      never depends on an HTML parser or a URL resolver, in particular not on
      the crawler code it is used to check.
    - libmicrohttpd runs one thread per connection: /slow.html then waits on
      a condition variable (broadcast at shutdown) without holding up other
      requests. This is test instrumentation, not an actor, so the mutex
      around the request log and the condition variable are fine here.
*/
#include "zc_testsite.h"
#include "zc_testsite_scenarios.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define S_MAX_LINKS 256 //  --links up to S_LINKS_MAX: up to 1.5x that + extras
#define S_LINKS_MAX 160
#define S_SUFFIX_MAX 64
#define S_HREF_MAX 256
#define S_PATH_MAX 64
#define S_TEXT_MAX 256
#define S_BASE_MAX 160
#define S_HOME_PAGES 16  //  pages the home page links to directly
#define S_QUERY_EVERY 20 //  page j has a "?ref=K" variant when j % 20 == 3
#define S_BASE_EVERY 37  //  page i has <base href="/p/deep/"> when i % 37 == 5

//  ---------------------------------------------------------------------
//  Small helpers: aborting allocation, growing buffer, PRNG

static void *
s_realloc (void *p, size_t size)
{
    void *q = realloc (p, size ? size : 1);
    if (!q) {
        fprintf (stderr, "zc_testsite: out of memory\n");
        abort ();
    }
    return q;
}

static char *
s_strdup (const char *s)
{
    size_t n = strlen (s) + 1;
    char *copy = s_realloc (NULL, n);
    memcpy (copy, s, n);
    return copy;
}

typedef struct {
    char *data; //  owned, always NUL-terminated once non-empty
    size_t len;
    size_t cap;
} s_buf_t;

static void
s_buf_add (s_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = s_realloc (b->data, cap);
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
s_buf_puts (s_buf_t *b, const char *s)
{
    s_buf_add (b, s, strlen (s));
}

static void s_buf_printf (s_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_buf_printf (s_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (small, sizeof small, fmt, args);
    va_end (args);
    if (n < 0)
        return; //  cannot happen with our formats
    if ((size_t)n < sizeof small) {
        s_buf_add (b, small, (size_t)n);
        return;
    }
    char *large = s_realloc (NULL, (size_t)n + 1);
    va_start (args, fmt);
    n = vsnprintf (large, (size_t)n + 1, fmt, args);
    va_end (args);
    if (n > 0)
        s_buf_add (b, large, (size_t)n);
    free (large);
}

//  HTML-escapes S into B (text and attribute values).
static void
s_buf_escape (s_buf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            s_buf_puts (b, "&amp;");
            break;
        case '<':
            s_buf_puts (b, "&lt;");
            break;
        case '>':
            s_buf_puts (b, "&gt;");
            break;
        case '"':
            s_buf_puts (b, "&quot;");
            break;
        default:
            s_buf_add (b, s, 1);
        }
    }
}

static uint64_t
s_next (uint64_t *state)
{
    //  splitmix64
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t
s_below (uint64_t *state, uint32_t bound)
{
    return bound ? (uint32_t)(s_next (state) % bound) : 0;
}

//  ---------------------------------------------------------------------
//  The generator: site parameters, page models, rendering

typedef struct {
    uint32_t pages;
    uint64_t seed;
    int port; //  main listener port, 0 if unknown
    int slow_ms;
    size_t big_bytes;
    size_t page_bytes;           //  filler target of /p/ pages, 0 = none
    uint32_t links;              //  mean links per /p/ page, 0 = the default mix
    uint32_t hosts;              //  hosts mode: number of hosts, 0 = one host
    char suffix[S_SUFFIX_MAX];   //  hosts mode: "h<K>.<suffix>"
    char portpart[16];           //  ":port", "" for port 0 or 80
    char base[S_BASE_MAX];       //  canonical "http://host:port", "" if port unknown
    char base_upper[S_BASE_MAX]; //  same with uppercase scheme and host
    char external[S_BASE_MAX];   //  external listener base, "" if unknown
} s_site_t;

typedef enum {
    S_TARGET_NONE, //  not followed (mailto:, javascript:, other host)
    S_TARGET_SELF, //  resolves to the page's own URL
    S_TARGET_PATH, //  canonical path (+query) on the main listener
} s_target_kind_t;

typedef struct {
    char href[S_HREF_MAX]; //  as written (before HTML escaping)
    char anchor[64];       //  anchor text
    s_target_kind_t kind;
    char target[S_PATH_MAX]; //  S_TARGET_PATH: canonical path and query
    uint32_t host;           //  S_TARGET_PATH: the target's host (hosts mode; else 0)
} s_link_t;

typedef struct {
    char title_html[S_TEXT_MAX]; //  as written in <title>, entities included
    char title_text[S_TEXT_MAX]; //  decoded: what the ground truth records
    const char *base_href;       //  <base href>, or NULL
    uint64_t body_seed;          //  drives the paragraphs' words
    int paragraphs;
    int body_words; //  words per paragraph (about)
    uint32_t price_cents;
    size_t fill_to; //  filler paragraphs until the page is about this size, 0 = none
    uint32_t host;  //  hosts mode: the host the page lives on (else 0)
    size_t link_count;
    s_link_t links[S_MAX_LINKS];
} s_doc_t;

typedef enum {
    S_ROUTE_NOT_FOUND,
    S_ROUTE_HOME,
    S_ROUTE_PAGE,
    S_ROUTE_GZIP,
    S_ROUTE_REDIRECT_1,
    S_ROUTE_REDIRECT_2,
    S_ROUTE_REDIRECT_3,
    S_ROUTE_FINAL,
    S_ROUTE_SLOW,
    S_ROUTE_BIG,
    S_ROUTE_BIG_CHUNKED,
} s_route_t;

static const char *const s_words[] = {
    "amber",   "basil",   "cedar",   "delta",   "ember",  "fjord",  "garnet",  "harbor",
    "indigo",  "juniper", "kestrel", "lagoon",  "meadow", "nectar", "orchid",  "pebble",
    "quartz",  "raven",   "saffron", "tundra",  "umber",  "velvet", "willow",  "xenon",
    "yarrow",  "zephyr",  "café",    "naïve",   "Zürich", "crème",  "über",    "façade",
    "granite", "lantern", "mosaic",  "portico", "ripple", "sierra", "thistle", "vortex",
};
#define S_WORDS (sizeof s_words / sizeof s_words[0])

static const char *
s_word (uint64_t *rng)
{
    return s_words[s_below (rng, S_WORDS)];
}

static void s_link_add (s_doc_t *doc, s_target_kind_t kind, const char *target, const char *anchor,
                        const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

static void
s_link_add (s_doc_t *doc, s_target_kind_t kind, const char *target, const char *anchor,
            const char *fmt, ...)
{
    if (doc->link_count >= S_MAX_LINKS)
        return;
    s_link_t *link = &doc->links[doc->link_count++];
    va_list args;
    va_start (args, fmt);
    vsnprintf (link->href, sizeof link->href, fmt, args);
    va_end (args);
    snprintf (link->anchor, sizeof link->anchor, "%s", anchor);
    link->kind = kind;
    snprintf (link->target, sizeof link->target, "%s", kind == S_TARGET_PATH ? target : "");
    link->host = doc->host;
}

//  "http://h<K>.<suffix>[:port]" in hosts mode, else the site's base, into OUT.
static void
s_host_base (const s_site_t *site, uint32_t host, char *out, size_t size)
{
    if (site->hosts == 0)
        snprintf (out, size, "%s", site->base);
    else
        snprintf (out, size, "http://h%u.%s%s", host, site->suffix, site->portpart);
}

//  Adds an absolute link to TARGET (a path) on HOST (hosts mode).
static void
s_link_add_on (const s_site_t *site, s_doc_t *doc, uint32_t host, const char *target,
               const char *anchor)
{
    char base[S_BASE_MAX];
    s_host_base (site, host, base, sizeof base);
    size_t before = doc->link_count;
    s_link_add (doc, S_TARGET_PATH, target, anchor, "%s%s", base, target);
    if (doc->link_count > before)
        doc->links[before].host = host;
}

static void
s_doc_init (s_doc_t *doc, uint64_t body_seed, const char *title_html, const char *title_text)
{
    memset (doc, 0, sizeof *doc);
    snprintf (doc->title_html, sizeof doc->title_html, "%s", title_html);
    snprintf (doc->title_text, sizeof doc->title_text, "%s", title_text);
    doc->body_seed = body_seed;
    doc->paragraphs = 2;
    doc->body_words = 40;
    doc->price_cents = 100;
}

//  Adds a link from a /p/ page (or the home page) to generated page J, in a
//  form picked by RNG. DIR is how the page's base directory is reached:
//  "/p/" pages, "/p/deep/" pages (with <base href>), or "/" (home page).
static void
s_link_page (const s_site_t *site, s_doc_t *doc, uint64_t *rng, uint32_t j, const char *dir)
{
    char query[32] = "";
    if (j % S_QUERY_EVERY == 3 && s_below (rng, 2) == 0)
        snprintf (query, sizeof query, "?ref=%u", 1 + (j / S_QUERY_EVERY) % 3);
    char target[S_PATH_MAX];
    snprintf (target, sizeof target, "/p/%u.html%s", j, query);
    char anchor[64];
    if (s_below (rng, 3) == 0)
        snprintf (anchor, sizeof anchor, "%s", s_word (rng));
    else
        snprintf (anchor, sizeof anchor, "Page %u", j);

    if (site->hosts > 0 && j % site->hosts != doc->host) {
        //  Another host: "http://h<K>.<suffix>:<port>/p/<j>.html", no query.
        //  (With the ?ref variants, hosts K = 3 mod 20 would hold twice the
        //  URLs of the others when N is a multiple of 20, and set the crawl's
        //  length on their own.)
        snprintf (target, sizeof target, "/p/%u.html", j);
        s_link_add_on (site, doc, j % site->hosts, target, anchor);
        return;
    }
    bool home = strcmp (dir, "/") == 0;
    bool deep = strcmp (dir, "/p/deep/") == 0;
    uint32_t form = s_below (rng, 10);
    if ((form == 4 || form == 5) && !site->base[0])
        form = 0; //  port unknown (written to a directory): no absolute URLs
    //  Absolute forms name the page's own host (h<K> in hosts mode)
    char base[S_BASE_MAX], base_upper[S_BASE_MAX];
    s_host_base (site, doc->host, base, sizeof base);
    snprintf (base_upper, sizeof base_upper, "%s", site->base_upper);
    if (site->hosts > 0) {
        size_t k = 0;
        for (; base[k]; k++)
            base_upper[k] = (base[k] >= 'a' && base[k] <= 'z') ? (char)(base[k] - 32) : base[k];
        base_upper[k] = '\0';
    }
    switch (form) {
    case 0:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s", target);
        break;
    case 1:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%sp/%u.html%s",
                    home   ? "./"
                    : deep ? "../../"
                           : "../",
                    j, query);
        break;
    case 2:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s%u.html%s",
                    home   ? "./p/"
                    : deep ? "../"
                           : "./",
                    j, query);
        break;
    case 3:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s%u.html%s",
                    home   ? "p/"
                    : deep ? "./../"
                           : "",
                    j, query);
        break;
    case 4:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s%s", base, target);
        break;
    case 5:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s%s", base_upper, target);
        break;
    case 6:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "%s#sec%u", target, s_below (rng, 9));
        break;
    case 7:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "/p/./x/../%u.html%s", j, query);
        break;
    case 8:
        s_link_add (doc, S_TARGET_PATH, target, anchor, "/x/y/../../p/%u.html%s", j, query);
        break;
    default:
        //  Leading/trailing spaces are stripped by URL parsers (WHATWG, curl)
        s_link_add (doc, S_TARGET_PATH, target, anchor, " %s ", target);
        break;
    }
}

static void
s_link_external (const s_site_t *site, s_doc_t *doc, uint64_t *rng)
{
    if (!site->external[0])
        return;
    s_link_add (doc, S_TARGET_NONE, NULL, "elsewhere", "%s/x/%u.html", site->external,
                s_below (rng, 1000));
}

static void
s_doc_page (const s_site_t *site, uint32_t i, s_doc_t *doc)
{
    uint64_t rng = site->seed ^ (0xd1b54a32d192ed03ULL * ((uint64_t)i + 1));
    s_next (&rng);

    //  Title: "Page <i> — w w [w]", some with an entity to decode
    char html[S_TEXT_MAX], text[S_TEXT_MAX];
    int n = snprintf (html, sizeof html, "Page %u — %s %s", i, s_word (&rng), s_word (&rng));
    if (s_below (&rng, 2))
        n += snprintf (html + n, sizeof html - (size_t)n, " %s", s_word (&rng));
    snprintf (text, sizeof text, "%s", html);
    if (i % 7 == 3) {
        const char *w = s_word (&rng);
        size_t len = strlen (html);
        snprintf (html + len, sizeof html - len, " &amp; %s", w);
        len = strlen (text);
        snprintf (text + len, sizeof text - len, " & %s", w);
    }
    if (i % 11 == 4) {
        size_t len = strlen (html);
        snprintf (html + len, sizeof html - len, " caf&#233;");
        len = strlen (text);
        snprintf (text + len, sizeof text - len, " café");
    }
    s_doc_init (doc, s_next (&rng), html, text);
    doc->paragraphs = 3 + (int)s_below (&rng, 4);
    doc->body_words = 30 + (int)s_below (&rng, 50);
    doc->price_cents = 99 + s_below (&rng, 99900);
    doc->fill_to = site->page_bytes;
    doc->host = site->hosts > 0 ? i % site->hosts : 0;

    bool deep = i % S_BASE_EVERY == 5;
    const char *dir = deep ? "/p/deep/" : "/p/";
    doc->base_href = deep ? "/p/deep/" : NULL;

    //  Structure first: a binary tree (depth log2 N from page 0) plus a chain
    uint64_t kids[3] = {2 * (uint64_t)i + 1, 2 * (uint64_t)i + 2, (uint64_t)i + 1};
    for (int k = 0; k < 3; k++)
        if (kids[k] < site->pages)
            s_link_page (site, doc, &rng, (uint32_t)kids[k], dir);
    if (i % 5 == 0) {
        if (doc->host != 0)
            s_link_add_on (site, doc, 0, "/", "Home"); //  the home page is on h0
        else
            s_link_add (doc, S_TARGET_PATH, "/", "Home", "/");
    }

    if (site->links == 0) {
        size_t want = 20 + s_below (&rng, 21);
        while (doc->link_count + 6 < want)
            s_link_page (site, doc, &rng, s_below (&rng, site->pages), dir);
    } else {
        //  want: uniform in [L/2, L/2 + L], mean L; the links added below
        //  (mail, script, external, self, duplicates) are about 4 on average
        size_t want = site->links / 2 + s_below (&rng, site->links + 1);
        while (doc->link_count + 4 < want && doc->link_count + 8 < S_MAX_LINKS)
            s_link_page (site, doc, &rng, s_below (&rng, site->pages), dir);
    }

    //  Links a crawler must ignore or deduplicate
    if (s_below (&rng, 2))
        s_link_add (doc, S_TARGET_NONE, NULL, "Mail us", "mailto:page%u@example.invalid", i);
    if (s_below (&rng, 3) == 0)
        s_link_add (doc, S_TARGET_NONE, NULL, "Toggle", "javascript:void(0)");
    s_link_external (site, doc, &rng);
    if (!deep) {
        //  against a <base href> these would resolve to the base, not the page
        s_link_add (doc, S_TARGET_SELF, NULL, "Top", "#top");
        if (i % 13 == 0)
            s_link_add (doc, S_TARGET_SELF, NULL, "Reload", "%s", "");
    }
    for (int dup = (int)s_below (&rng, 3); dup > 0 && doc->link_count > 0; dup--) {
        s_link_t copy = doc->links[s_below (&rng, (uint32_t)doc->link_count)];
        if (doc->link_count < S_MAX_LINKS)
            doc->links[doc->link_count++] = copy;
    }
}

static void
s_doc_home (const s_site_t *site, s_doc_t *doc)
{
    uint64_t rng = site->seed ^ 0x5eed0f0e0d0c0b0aULL;
    s_next (&rng);
    s_doc_init (doc, s_next (&rng), "zcrawl test site &mdash; home", "zcrawl test site — home");
    uint32_t direct = site->pages < S_HOME_PAGES ? site->pages : S_HOME_PAGES;
    for (uint32_t j = 0; j < direct; j++)
        s_link_page (site, doc, &rng, j, "/");
    s_link_add (doc, S_TARGET_PATH, "/gzip.html", "Compressed", "/gzip.html");
    s_link_add (doc, S_TARGET_PATH, "/redirect/1", "Moved", "/redirect/1");
    s_link_add (doc, S_TARGET_PATH, "/slow.html", "Slow", "/slow.html");
    s_link_add (doc, S_TARGET_PATH, "/big.html", "Big", "/big.html");
    s_link_add (doc, S_TARGET_PATH, "/big-chunked.html", "Big, chunked", "big-chunked.html");
    s_link_add (doc, S_TARGET_SELF, NULL, "Home", "/#top");
    s_link_add (doc, S_TARGET_NONE, NULL, "Mail", "mailto:webmaster@example.invalid");
    s_link_add (doc, S_TARGET_NONE, NULL, "Menu", "javascript:void(0)");
    s_link_external (site, doc, &rng);
}

static void
s_doc_gzip (const s_site_t *site, s_doc_t *doc)
{
    s_doc_init (doc, site->seed ^ 0x677a6970ULL, "Compressed page — gzip",
                "Compressed page — gzip");
    doc->paragraphs = 8;
    doc->body_words = 80;
    s_link_add (doc, S_TARGET_PATH, "/", "Home", "/");
    if (site->pages > 1) {
        if (site->hosts > 1)
            s_link_add_on (site, doc, 1, "/p/1.html", "Page 1"); //  page 1 lives on h1
        else
            s_link_add (doc, S_TARGET_PATH, "/p/1.html", "Page 1", "p/1.html");
    }
}

static void
s_doc_final (const s_site_t *site, s_doc_t *doc)
{
    s_doc_init (doc, site->seed ^ 0xf1a1ULL, "Redirect target — final", "Redirect target — final");
    s_link_add (doc, S_TARGET_PATH, "/", "Home", "../");
}

static void
s_doc_slow (const s_site_t *site, s_doc_t *doc)
{
    s_doc_init (doc, site->seed ^ 0x510fULL, "Slow page", "Slow page");
    s_link_add (doc, S_TARGET_PATH, "/", "Home", "/");
}

static void
s_doc_external (s_doc_t *doc)
{
    s_doc_init (doc, 0xe8, "External page", "External page");
}

static void
s_paragraph (s_buf_t *b, uint64_t *rng, int words)
{
    s_buf_puts (b, "<p>");
    for (int w = 0; w < words; w++) {
        const char *word = s_word (rng);
        if (w == 0)
            s_buf_printf (b, "%c%s", word[0] >= 'a' && word[0] <= 'z' ? word[0] - 32 : word[0],
                          word + 1);
        else
            s_buf_printf (b, " %s", word);
    }
    s_buf_puts (b, ".</p>\n");
}

//  Renders DOC as a complete HTML document into B.
static void
s_render (const s_doc_t *doc, s_buf_t *b)
{
    s_buf_printf (b,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>%s</title>\n",
                  doc->title_html);
    if (doc->base_href)
        s_buf_printf (b, "<base href=\"%s\">\n", doc->base_href);
    s_buf_printf (b, "</head>\n<body>\n<h1 id=\"top\">%s</h1>\n", doc->title_html);
    s_buf_printf (b, "<p class=\"meta\">Price: <span class=\"price\">$%u.%02u</span></p>\n",
                  doc->price_cents / 100, doc->price_cents % 100);
    uint64_t rng = doc->body_seed;
    size_t next_link = 0;
    for (int p = 0; p < doc->paragraphs; p++) {
        s_paragraph (b, &rng, doc->body_words + (int)s_below (&rng, 20));
        size_t upto = doc->link_count * (size_t)(p + 1) / (size_t)doc->paragraphs;
        if (next_link < upto) {
            s_buf_puts (b, "<ul>\n");
            for (; next_link < upto; next_link++) {
                s_buf_puts (b, "<li><a href=\"");
                s_buf_escape (b, doc->links[next_link].href);
                s_buf_puts (b, "\">");
                s_buf_escape (b, doc->links[next_link].anchor);
                s_buf_puts (b, "</a></li>\n");
            }
            s_buf_puts (b, "</ul>\n");
        }
    }
    //  Filler (benchmarks' page size): words only, no links, no markup that
    //  an extraction rule matches
    uint64_t fill = doc->body_seed ^ 0xf111e7f111e7ULL;
    while (doc->fill_to > 0 && b->len + 16 < doc->fill_to)
        s_paragraph (b, &fill, 60);
    s_buf_puts (b, "</body>\n</html>\n");
}

//  Parses "/p/<N>.html" (no leading zeros, N < pages).
static bool
s_parse_page (const s_site_t *site, const char *path, uint32_t *index)
{
    if (strncmp (path, "/p/", 3) != 0)
        return false;
    const char *p = path + 3;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '.'))
        return false;
    uint64_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (uint64_t)(*p - '0');
        if (n >= site->pages)
            return false;
    }
    if (strcmp (p, ".html") != 0)
        return false;
    *index = (uint32_t)n;
    return true;
}

static const struct {
    const char *path;
    s_route_t route;
} s_fixed_routes[] = {
    {"/", S_ROUTE_HOME},
    {"/gzip.html", S_ROUTE_GZIP},
    {"/redirect/1", S_ROUTE_REDIRECT_1},
    {"/redirect/2", S_ROUTE_REDIRECT_2},
    {"/redirect/3", S_ROUTE_REDIRECT_3},
    {"/redirect/final.html", S_ROUTE_FINAL},
    {"/slow.html", S_ROUTE_SLOW},
    {"/big.html", S_ROUTE_BIG},
    {"/big-chunked.html", S_ROUTE_BIG_CHUNKED},
};

//  PATH without query.
static s_route_t
s_route (const s_site_t *site, const char *path, uint32_t *index)
{
    for (size_t k = 0; k < sizeof s_fixed_routes / sizeof s_fixed_routes[0]; k++)
        if (strcmp (path, s_fixed_routes[k].path) == 0)
            return s_fixed_routes[k].route;
    if (s_parse_page (site, path, index))
        return S_ROUTE_PAGE;
    return S_ROUTE_NOT_FOUND;
}

//  True if SUFFIX is a usable host name suffix (letters, digits, '-', '.',
//  not empty, no leading or trailing '.', shorter than S_SUFFIX_MAX).
static bool
s_suffix_valid (const char *suffix)
{
    size_t n = strlen (suffix);
    if (n == 0 || n >= S_SUFFIX_MAX || suffix[0] == '.' || suffix[n - 1] == '.')
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = suffix[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

static const char *
s_suffix_of (const zc_testsite_config_t *config)
{
    return config->host_suffix ? config->host_suffix : "bench.test";
}

//  Returns 0, or -1 if the hosts-mode suffix is unusable.
static int
s_site_init (s_site_t *site, const zc_testsite_config_t *config, int port, int external_port)
{
    memset (site, 0, sizeof *site);
    if (config->hosts > 0 && !s_suffix_valid (s_suffix_of (config))) {
        fprintf (stderr, "zc_testsite: bad host suffix\n");
        return -1;
    }
    site->pages = config->pages ? config->pages : 100;
    site->seed = config->seed;
    site->port = port;
    site->slow_ms = config->slow_ms > 0 ? config->slow_ms : 5000;
    site->big_bytes = config->big_bytes ? config->big_bytes : 2 * 1024 * 1024;
    site->page_bytes = config->page_bytes;
    site->links = config->links > S_LINKS_MAX ? S_LINKS_MAX : config->links;
    site->hosts = config->hosts;
    if (site->hosts > 0) {
        const char *suffix = s_suffix_of (config);
        for (size_t k = 0; suffix[k]; k++)
            site->suffix[k] =
                (suffix[k] >= 'A' && suffix[k] <= 'Z') ? (char)(suffix[k] + 32) : suffix[k];
        if (port > 0 && port != 80)
            snprintf (site->portpart, sizeof site->portpart, ":%d", port);
    }
    const char *host = config->host && *config->host ? config->host : "127.0.0.1";
    bool v6 = strchr (host, ':') != NULL;
    char lower[S_BASE_MAX / 2], upper[S_BASE_MAX / 2];
    size_t k = 0;
    for (; host[k] && k + 1 < sizeof lower; k++) {
        char c = host[k];
        lower[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        upper[k] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    lower[k] = upper[k] = '\0';
    const char *open = v6 ? "[" : "", *close = v6 ? "]" : "";
    if (port > 0) {
        char portpart[16] = "";
        if (port != 80)
            snprintf (portpart, sizeof portpart, ":%d", port);
        snprintf (site->base, sizeof site->base, "http://%s%s%s%s", open, lower, close, portpart);
        snprintf (site->base_upper, sizeof site->base_upper, "HTTP://%s%s%s%s", open, upper, close,
                  portpart);
    }
    if (external_port > 0)
        snprintf (site->external, sizeof site->external, "http://%s%s%s:%d", open, lower, close,
                  external_port);
    if (site->hosts > 0) {
        //  h0 is the site's base: the seed, the fixed paths, redirect targets
        s_host_base (site, 0, site->base, sizeof site->base);
        size_t at = 0;
        for (; site->base[at]; at++) {
            char c = site->base[at];
            site->base_upper[at] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
        }
        site->base_upper[at] = '\0';
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Ground truth: BFS over the links' targets from "/"

typedef struct {
    uint32_t host; //  hosts mode: the URL's host (else 0)
    char *path;    //  owned: canonical path and query
} s_node_t;

static json_t *
s_truth (const s_site_t *site)
{
    json_t *pages = json_array ();
    json_t *errors = json_array ();
    json_t *seen = json_object (); //  set of canonical URLs
    size_t cap = 1024, head = 0, tail = 0;
    s_node_t *queue = s_realloc (NULL, cap * sizeof *queue);
    queue[tail++] = (s_node_t){.host = 0, .path = s_strdup ("/")};
    char url[S_BASE_MAX + S_PATH_MAX], final_url[S_BASE_MAX + S_PATH_MAX];
    snprintf (url, sizeof url, "%s/", site->base);
    json_object_set_new (seen, url, json_true ());
    s_doc_t *doc = s_realloc (NULL, sizeof *doc);

    while (head < tail) {
        char *path = queue[head].path;
        s_host_base (site, queue[head].host, url, sizeof url);
        head++;
        size_t base_len = strlen (url);
        snprintf (url + base_len, sizeof url - base_len, "%s", path);
        snprintf (final_url, sizeof final_url, "%s", url);
        char bare[S_PATH_MAX];
        snprintf (bare, sizeof bare, "%.*s", (int)strcspn (path, "?"), path);
        uint32_t index = 0;
        const char *reason = NULL;
        switch (s_route (site, bare, &index)) {
        case S_ROUTE_HOME:
            s_doc_home (site, doc);
            break;
        case S_ROUTE_PAGE:
            s_doc_page (site, index, doc);
            break;
        case S_ROUTE_GZIP:
            s_doc_gzip (site, doc);
            break;
        case S_ROUTE_REDIRECT_1:
        case S_ROUTE_REDIRECT_2:
        case S_ROUTE_REDIRECT_3:
        case S_ROUTE_FINAL:
            s_doc_final (site, doc);
            snprintf (final_url, sizeof final_url, "%s/redirect/final.html", site->base);
            break;
        case S_ROUTE_SLOW:
            reason = "timeout";
            break;
        case S_ROUTE_BIG:
        case S_ROUTE_BIG_CHUNKED:
            reason = "too_large";
            break;
        case S_ROUTE_NOT_FOUND:
            reason = "http_404"; //  never linked; kept honest if it ever is
            break;
        }
        if (reason) {
            json_array_append_new (errors, json_pack ("{s:s, s:s}", "url", url, "reason", reason));
            free (path);
            continue;
        }
        json_array_append_new (pages, json_pack ("{s:s, s:s, s:s}", "url", url, "title",
                                                 doc->title_text, "final_url", final_url));
        for (size_t k = 0; k < doc->link_count; k++) {
            const s_link_t *link = &doc->links[k];
            if (link->kind != S_TARGET_PATH)
                continue;
            char target[S_BASE_MAX + S_PATH_MAX];
            s_host_base (site, link->host, target, sizeof target);
            size_t len = strlen (target);
            snprintf (target + len, sizeof target - len, "%s", link->target);
            if (json_object_get (seen, target))
                continue;
            json_object_set_new (seen, target, json_true ());
            if (tail == cap) {
                cap *= 2;
                queue = s_realloc (queue, cap * sizeof *queue);
            }
            queue[tail++] = (s_node_t){.host = link->host, .path = s_strdup (link->target)};
        }
        free (path);
    }
    free (queue);
    free (doc);
    json_decref (seen);
    char seed_url[S_BASE_MAX + 2];
    snprintf (seed_url, sizeof seed_url, "%s/", site->base);
    return json_pack ("{s:s, s:o, s:o, s:s, s:o}", "seed", seed_url, "pages", pages, "errors",
                      errors, "external", site->external, "scenarios",
                      zc_scenarios_truth (site->port, site->external));
}

//  ---------------------------------------------------------------------
//  Big pages: deterministic bytes at any offset, streamed by a callback

static const char s_big_head[] = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
                                 "<title>Big page</title>\n</head>\n<body>\n";
static const char s_big_tail[] = "</body>\n</html>\n";
static const char s_big_line[] = "<p>big filler text to exceed the crawler's body limit ...</p>\n";

static size_t
s_big_total (const s_site_t *site)
{
    size_t fixed = sizeof s_big_head - 1 + sizeof s_big_tail - 1;
    return site->big_bytes > fixed ? site->big_bytes : fixed;
}

//  Copies bytes [POS, POS+MAX) of the big page into BUF; returns the count.
static size_t
s_big_copy (const s_site_t *site, uint64_t pos, char *buf, size_t max)
{
    size_t total = s_big_total (site);
    size_t head = sizeof s_big_head - 1, tail = sizeof s_big_tail - 1;
    size_t line = sizeof s_big_line - 1;
    size_t done = 0;
    while (done < max && pos < total) {
        size_t chunk;
        if (pos < head) {
            chunk = head - (size_t)pos;
            if (chunk > max - done)
                chunk = max - done;
            memcpy (buf + done, s_big_head + pos, chunk);
        } else if (pos >= total - tail) {
            size_t off = (size_t)pos - (total - tail);
            chunk = tail - off;
            if (chunk > max - done)
                chunk = max - done;
            memcpy (buf + done, s_big_tail + off, chunk);
        } else {
            size_t off = ((size_t)pos - head) % line;
            chunk = line - off;
            if (chunk > total - tail - (size_t)pos)
                chunk = total - tail - (size_t)pos;
            if (chunk > max - done)
                chunk = max - done;
            memcpy (buf + done, s_big_line + off, chunk);
        }
        done += chunk;
        pos += chunk;
    }
    return done;
}

//  ---------------------------------------------------------------------
//  The server

typedef struct {
    zc_testsite_t *site; //  borrowed: the owner
    const char *name;    //  "main" or "external"
    bool external;
} s_listener_t;

typedef struct {
    char *uri;        //  owned: raw request target with query, as sent
    bool counted;     //  the first handler call has been seen (and counted)
    int64_t start_ms; //  wall clock when the request line arrived
    char host[128];   //  Host header, lowercase, without port ("-" if none)
} s_request_t;

struct zc_testsite {
    s_site_t gen;                //  generator parameters
    struct MHD_Daemon *main;     //  owned
    struct MHD_Daemon *external; //  owned
    zc_scenarios_t *scenarios;   //  owned: the scenario hosts
    s_listener_t main_listener;
    s_listener_t external_listener;
    char url[S_BASE_MAX];
    char external_url[S_BASE_MAX];
    char *gzip_plain; //  owned: /gzip.html as HTML
    size_t gzip_plain_size;
    unsigned char *gzip_body; //  owned: /gzip.html gzip-compressed
    size_t gzip_body_size;
    FILE *log;            //  owned, or NULL
    pthread_mutex_t lock; //  guards log writes and stopping
    pthread_cond_t wake;  //  wakes slow requests at shutdown
    bool sync_ready;      //  lock and wake are initialised
    bool stopping;
    _Atomic bool serving; //  main listener's content is ready
    _Atomic uint64_t hits;
    _Atomic uint64_t external_hits;
};

static void
s_log (zc_testsite_t *self, const s_listener_t *listener, const char *method,
       const s_request_t *request, unsigned int status)
{
    if (!self->log)
        return;
    pthread_mutex_lock (&self->lock);
    fprintf (self->log, "%s %lld %s %s %s %u\n", listener->name,
             request ? (long long)request->start_ms : 0LL, request ? request->host : "-", method,
             request && request->uri ? request->uri : "?", status);
    fflush (self->log);
    pthread_mutex_unlock (&self->lock);
}

static enum MHD_Result
s_queue (struct MHD_Connection *con, const s_listener_t *listener, const char *method,
         const s_request_t *request, unsigned int status, struct MHD_Response *response)
{
    if (!response)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response (con, status, response);
    MHD_destroy_response (response);
    s_log (listener->site, listener, method, request, status);
    return rc;
}

//  Adds a header to RESPONSE; on failure destroys it and returns NULL (the
//  request handler then drops the connection). NULL passes through.
static struct MHD_Response *
s_with_header (struct MHD_Response *response, const char *name, const char *value)
{
    if (response && MHD_add_response_header (response, name, value) != MHD_YES) {
        fprintf (stderr, "zc_testsite: cannot add header %s\n", name);
        MHD_destroy_response (response);
        return NULL;
    }
    return response;
}

static struct MHD_Response *
s_html_response (s_buf_t *b)
{
    size_t size = b->len;
    char *data = b->data ? b->data : s_strdup ("");
    b->data = NULL;
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, data, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (data);
        return NULL;
    }
    return s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
}

static struct MHD_Response *
s_doc_response (const s_doc_t *doc)
{
    s_buf_t b = {0};
    s_render (doc, &b);
    return s_html_response (&b);
}

static struct MHD_Response *
s_text_response (const char *text, const char *content_type)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (text), (void *)text, MHD_RESPMEM_PERSISTENT);
    return s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
}

static struct MHD_Response *
s_redirect_response (const char *location)
{
    struct MHD_Response *response =
        s_text_response ("<html><body>Moved</body></html>\n", "text/html; charset=utf-8");
    return s_with_header (response, MHD_HTTP_HEADER_LOCATION, location);
}

//  True if an Accept-Encoding value accepts gzip (token gzip/x-gzip, q > 0).
static bool
s_accepts_gzip (const char *value)
{
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - start);
        bool gzip = (len == 4 && strncasecmp (start, "gzip", 4) == 0) ||
                    (len == 6 && strncasecmp (start, "x-gzip", 6) == 0);
        const char *end = strchr (p, ',');
        if (!end)
            end = p + strlen (p);
        double q = 1.0;
        for (const char *s = p; s + 1 < end; s++)
            if ((s[0] == 'q' || s[0] == 'Q') && s[1] == '=') {
                q = strtod (s + 2, NULL);
                break;
            }
        if (gzip && q > 0)
            return true;
        p = end;
    }
    return false;
}

static ssize_t
s_big_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
    const s_site_t *gen = cls;
    size_t n = s_big_copy (gen, pos, buf, max);
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

//  Waits until MS milliseconds have passed or the site is stopping.
static void
s_wait_ms (void *arg, int ms)
{
    zc_testsite_t *self = arg;
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        int rc = pthread_cond_timedwait (&self->wake, &self->lock, &deadline);
        if (rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock (&self->lock);
}

static struct MHD_Response *
s_main_response (zc_testsite_t *self, struct MHD_Connection *con, const char *url,
                 unsigned int *status)
{
    s_doc_t doc;
    uint32_t index = 0;
    *status = MHD_HTTP_OK;
    switch (s_route (&self->gen, url, &index)) {
    case S_ROUTE_HOME:
        s_doc_home (&self->gen, &doc);
        return s_doc_response (&doc);
    case S_ROUTE_PAGE:
        s_doc_page (&self->gen, index, &doc);
        return s_doc_response (&doc);
    case S_ROUTE_GZIP: {
        const char *accept =
            MHD_lookup_connection_value (con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
        bool gz = s_accepts_gzip (accept);
        struct MHD_Response *response = MHD_create_response_from_buffer (
            gz ? self->gzip_body_size : self->gzip_plain_size,
            gz ? (void *)self->gzip_body : (void *)self->gzip_plain, MHD_RESPMEM_PERSISTENT);
        response =
            s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
        response = s_with_header (response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
        if (gz)
            response = s_with_header (response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
        return response;
    }
    case S_ROUTE_REDIRECT_1:
        *status = MHD_HTTP_FOUND;
        return s_redirect_response ("/redirect/2");
    case S_ROUTE_REDIRECT_2: {
        //  an absolute Location, where the others are root-relative
        *status = MHD_HTTP_MOVED_PERMANENTLY;
        char location[S_BASE_MAX + 16];
        snprintf (location, sizeof location, "%s/redirect/3", self->url);
        return s_redirect_response (location);
    }
    case S_ROUTE_REDIRECT_3:
        *status = MHD_HTTP_FOUND;
        return s_redirect_response ("/redirect/final.html");
    case S_ROUTE_FINAL:
        s_doc_final (&self->gen, &doc);
        return s_doc_response (&doc);
    case S_ROUTE_SLOW:
        s_wait_ms (self, self->gen.slow_ms);
        s_doc_slow (&self->gen, &doc);
        return s_doc_response (&doc);
    case S_ROUTE_BIG:
    case S_ROUTE_BIG_CHUNKED: {
        bool chunked = strcmp (url, "/big-chunked.html") == 0;
        struct MHD_Response *response = MHD_create_response_from_callback (
            chunked ? MHD_SIZE_UNKNOWN : (uint64_t)s_big_total (&self->gen), 32 * 1024,
            s_big_reader, &self->gen, NULL);
        return s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    }
    case S_ROUTE_NOT_FOUND:
        break;
    }
    *status = MHD_HTTP_NOT_FOUND;
    return s_text_response ("not found\n", "text/plain; charset=utf-8");
}

//  The host part of a Host header VALUE, lowercase, without the port, into
//  OUT ("-" if none or unusable: only letters, digits, '.', '-', ':', '[', ']').
static void
s_host_of (const char *value, char *out, size_t size)
{
    snprintf (out, size, "-");
    if (!value || !*value)
        return;
    size_t n = strlen (value);
    const char *colon = strrchr (value, ':');
    const char *bracket = strrchr (value, ']');
    if (colon && (!bracket || colon > bracket))
        n = (size_t)(colon - value);
    if (n == 0 || n >= size)
        return;
    for (size_t k = 0; k < n; k++) {
        char c = value[k];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            snprintf (out, size, "-");
            return;
        }
        out[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[n] = '\0';
}

static enum MHD_Result
s_handle_request (void *cls, struct MHD_Connection *con, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_data_size,
                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    s_listener_t *listener = cls;
    zc_testsite_t *self = listener->site;
    s_request_t *request = *con_cls;
    if (request && !request->counted) {
        //  Answer from the second call on: a response queued on the first
        //  call makes libmicrohttpd close the connection (no keep-alive).
        request->counted = true;
        atomic_fetch_add (listener->external ? &self->external_hits : &self->hits, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; //  request bodies are read and ignored
        return MHD_YES;
    }
    if (request)
        s_host_of (MHD_lookup_connection_value (con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
                   request->host, sizeof request->host);
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0 && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_queue (con, listener, method, request, MHD_HTTP_METHOD_NOT_ALLOWED,
                        s_text_response ("method not allowed\n", "text/plain; charset=utf-8"));
    unsigned int status = MHD_HTTP_OK;
    struct MHD_Response *response;
    if (listener->external) {
        s_doc_t doc;
        s_doc_external (&doc);
        response = s_doc_response (&doc);
    } else if (!atomic_load (&self->serving)) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        response = s_text_response ("starting\n", "text/plain; charset=utf-8");
    } else if (request && zc_scenarios_has_host (request->host))
        response =
            zc_scenarios_response (self->scenarios, request->host, url, &status, s_wait_ms, self);
    else
        response = s_main_response (self, con, url, &status);
    return s_queue (con, listener, method, request, status, response);
}

typedef struct {
    int64_t accept_ms; //  wall clock when the connection was accepted
    bool used;         //  its first request has started
} s_connection_t;

static int64_t
s_wall_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
s_on_connection (void *cls, struct MHD_Connection *con, void **socket_context,
                 enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)con;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        s_connection_t *connection = s_realloc (NULL, sizeof *connection);
        connection->accept_ms = s_wall_ms ();
        connection->used = false;
        *socket_context = connection;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        free (*socket_context);
        *socket_context = NULL;
    }
}

static void *
s_on_uri (void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    s_request_t *request = s_realloc (NULL, sizeof *request);
    request->uri = s_strdup (uri ? uri : "");
    request->counted = false;
    request->start_ms = s_wall_ms ();
    //  The first request of a connection started when the connection was
    //  accepted: its thread may start reading a little later.
    const union MHD_ConnectionInfo *info =
        con ? MHD_get_connection_info (con, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    s_connection_t *connection = info ? info->socket_context : NULL;
    if (connection && !connection->used) {
        connection->used = true;
        request->start_ms = connection->accept_ms;
    }
    snprintf (request->host, sizeof request->host, "-");
    return request;
}

static void
s_on_completed (void *cls, struct MHD_Connection *con, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    s_request_t *request = *con_cls;
    if (request) {
        free (request->uri);
        free (request);
        *con_cls = NULL;
    }
}

//  Starts one listener on HOST:PORT; *BOUND receives the actual port.
static struct MHD_Daemon *
s_daemon_start (s_listener_t *listener, const char *host, int port, int *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *info = NULL;
    int rc = getaddrinfo (host, NULL, &hints, &info);
    if (rc != 0 || !info) {
        fprintf (stderr, "zc_testsite: cannot resolve %s: %s\n", host, gai_strerror (rc));
        return NULL;
    }
    struct sockaddr_storage addr;
    memset (&addr, 0, sizeof addr);
    memcpy (&addr, info->ai_addr, info->ai_addrlen);
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (info->ai_family == AF_INET6) {
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons ((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else
        ((struct sockaddr_in *)&addr)->sin_port = htons ((uint16_t)port);
    freeaddrinfo (info);

    struct MHD_Daemon *daemon = MHD_start_daemon (
        flags, (uint16_t)port, NULL, NULL, s_handle_request, listener, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK, s_on_uri, listener,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, listener, MHD_OPTION_NOTIFY_CONNECTION,
        s_on_connection, listener, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "zc_testsite: cannot listen on %s:%d (%s)\n", host, port, listener->name);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    *bound = di ? (int)di->port : port;
    if (*bound <= 0) {
        fprintf (stderr, "zc_testsite: cannot read the port of %s\n", listener->name);
        MHD_stop_daemon (daemon);
        return NULL;
    }
    return daemon;
}

//  gzip-compresses IN into a new buffer. Returns 0 or -1.
static int
s_gzip (const char *in, size_t size, unsigned char **out, size_t *out_size)
{
    z_stream z;
    memset (&z, 0, sizeof z);
    if (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound (&z, (uLong)size) + 32;
    unsigned char *buf = s_realloc (NULL, bound);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)size;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    int rc = deflate (&z, Z_FINISH);
    if (rc != Z_STREAM_END) {
        deflateEnd (&z);
        free (buf);
        return -1;
    }
    *out_size = z.total_out;
    *out = buf;
    deflateEnd (&z);
    return 0;
}

zc_testsite_t *
zc_testsite_new (const zc_testsite_config_t *config)
{
    if (config->hosts > 0 && !s_suffix_valid (s_suffix_of (config))) {
        fprintf (stderr, "zc_testsite: bad host suffix\n");
        return NULL;
    }
    zc_testsite_t *self = s_realloc (NULL, sizeof *self);
    memset (self, 0, sizeof *self);
    atomic_init (&self->hits, 0);
    atomic_init (&self->external_hits, 0);
    atomic_init (&self->serving, false);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    if (pthread_mutex_init (&self->lock, NULL) != 0 ||
        pthread_cond_init (&self->wake, &attr) != 0) {
        pthread_condattr_destroy (&attr);
        fprintf (stderr, "zc_testsite: cannot initialise locks\n");
        free (self);
        return NULL;
    }
    pthread_condattr_destroy (&attr);
    self->sync_ready = true;
    const char *host = config->host && *config->host ? config->host : "127.0.0.1";
    if (config->log_path) {
        self->log = fopen (config->log_path, "a");
        if (!self->log) {
            fprintf (stderr, "zc_testsite: cannot open log %s: %s\n", config->log_path,
                     strerror (errno));
            zc_testsite_destroy (&self);
            return NULL;
        }
    }
    self->main_listener = (s_listener_t){.site = self, .name = "main", .external = false};
    self->external_listener = (s_listener_t){.site = self, .name = "external", .external = true};

    //  The external listener first, so that pages can link to it; the page
    //  content (and the gzip body) are fixed once both ports are known.
    int external_port = 0, port = 0;
    self->external =
        s_daemon_start (&self->external_listener, host, config->external_port, &external_port);
    if (!self->external) {
        zc_testsite_destroy (&self);
        return NULL;
    }
    //  The pages need the main port, known only once it is bound: until
    //  'serving' is set, the main listener answers 503 (nobody can know the
    //  port yet, so this is belt and braces).
    self->main = s_daemon_start (&self->main_listener, host, config->port, &port);
    if (!self->main) {
        zc_testsite_destroy (&self);
        return NULL;
    }
    if (s_site_init (&self->gen, config, port, external_port) != 0) {
        zc_testsite_destroy (&self);
        return NULL;
    }
    snprintf (self->url, sizeof self->url, "%s", self->gen.base);
    snprintf (self->external_url, sizeof self->external_url, "%s", self->gen.external);
    self->scenarios = zc_scenarios_new (port, self->gen.external, self->gen.slow_ms);
    if (!self->scenarios) {
        zc_testsite_destroy (&self);
        return NULL;
    }

    s_doc_t doc;
    s_doc_gzip (&self->gen, &doc);
    s_buf_t b = {0};
    s_render (&doc, &b);
    self->gzip_plain = b.data;
    self->gzip_plain_size = b.len;
    if (s_gzip (self->gzip_plain, self->gzip_plain_size, &self->gzip_body, &self->gzip_body_size) !=
        0) {
        fprintf (stderr, "zc_testsite: gzip failed\n");
        zc_testsite_destroy (&self);
        return NULL;
    }
    atomic_store (&self->serving, true);
    return self;
}

void
zc_testsite_destroy (zc_testsite_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zc_testsite_t *self = *self_p;
    if (self->sync_ready) {
        pthread_mutex_lock (&self->lock);
        self->stopping = true;
        pthread_cond_broadcast (&self->wake);
        pthread_mutex_unlock (&self->lock);
    }
    if (self->main)
        MHD_stop_daemon (self->main);
    if (self->external)
        MHD_stop_daemon (self->external);
    if (self->log)
        fclose (self->log);
    zc_scenarios_destroy (&self->scenarios);
    free (self->gzip_plain);
    free (self->gzip_body);
    if (self->sync_ready) {
        pthread_cond_destroy (&self->wake);
        pthread_mutex_destroy (&self->lock);
    }
    free (self);
    *self_p = NULL;
}

const char *
zc_testsite_url (zc_testsite_t *self)
{
    return self->url;
}

const char *
zc_testsite_external_url (zc_testsite_t *self)
{
    return self->external_url;
}

json_t *
zc_testsite_truth (zc_testsite_t *self)
{
    return s_truth (&self->gen);
}

uint64_t
zc_testsite_hits (zc_testsite_t *self)
{
    return atomic_load (&self->hits);
}

uint64_t
zc_testsite_external_hits (zc_testsite_t *self)
{
    return atomic_load (&self->external_hits);
}

json_t *
zc_testsite_truth_static (const zc_testsite_config_t *config)
{
    s_site_t site;
    if (s_site_init (&site, config, config->port, config->external_port) != 0)
        return NULL;
    return s_truth (&site);
}

//  ---------------------------------------------------------------------
//  Writing the site to a directory

static int
s_mkdir (const char *path)
{
    if (mkdir (path, 0755) == 0 || errno == EEXIST)
        return 0;
    fprintf (stderr, "zc_testsite: mkdir %s: %s\n", path, strerror (errno));
    return -1;
}

static int
s_write_file (const char *dir, const char *name, const char *data, size_t size)
{
    char path[4096];
    if (snprintf (path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    FILE *file = fopen (path, "wb");
    if (!file) {
        fprintf (stderr, "zc_testsite: cannot write %s: %s\n", path, strerror (errno));
        return -1;
    }
    size_t written = size ? fwrite (data, 1, size, file) : 0;
    int rc = fclose (file);
    if (written != size || rc != 0) {
        fprintf (stderr, "zc_testsite: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int
s_write_doc (const char *dir, const char *name, const s_doc_t *doc)
{
    s_buf_t b = {0};
    s_render (doc, &b);
    int rc = s_write_file (dir, name, b.data, b.len);
    free (b.data);
    return rc;
}

static int
s_write_big (const s_site_t *site, const char *dir, const char *name)
{
    size_t total = s_big_total (site);
    char *data = s_realloc (NULL, total);
    size_t n = s_big_copy (site, 0, data, total);
    int rc = n == total ? s_write_file (dir, name, data, total) : -1;
    free (data);
    return rc;
}

int
zc_testsite_write_dir (const zc_testsite_config_t *config, const char *dir)
{
    s_site_t site;
    if (s_site_init (&site, config, config->port, config->external_port) != 0)
        return -1;
    char sub[4096];
    if (s_mkdir (dir) != 0)
        return -1;
    const char *subdirs[] = {"p", "redirect"};
    for (size_t k = 0; k < 2; k++) {
        if (snprintf (sub, sizeof sub, "%s/%s", dir, subdirs[k]) >= (int)sizeof sub ||
            s_mkdir (sub) != 0)
            return -1;
    }
    s_doc_t *doc = s_realloc (NULL, sizeof *doc);
    int rc = 0;
    s_doc_home (&site, doc);
    rc |= s_write_doc (dir, "index.html", doc);
    for (uint32_t i = 0; i < site.pages && rc == 0; i++) {
        char name[64];
        snprintf (name, sizeof name, "p/%u.html", i);
        s_doc_page (&site, i, doc);
        rc |= s_write_doc (dir, name, doc);
    }
    s_doc_gzip (&site, doc);
    rc |= s_write_doc (dir, "gzip.html", doc);
    s_doc_final (&site, doc);
    rc |= s_write_doc (dir, "redirect/final.html", doc);
    s_doc_slow (&site, doc);
    rc |= s_write_doc (dir, "slow.html", doc);
    rc |= s_write_big (&site, dir, "big.html");
    rc |= s_write_big (&site, dir, "big-chunked.html");
    free (doc);
    return rc ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  Hosts mode: names and test addresses

int
zc_testsite_host_name (const zc_testsite_config_t *config, uint32_t k, char *out, size_t size)
{
    const char *suffix = s_suffix_of (config);
    if (config->hosts == 0 || k >= config->hosts || !s_suffix_valid (suffix) || !out)
        return -1;
    int n = snprintf (out, size, "h%u.%s", k, suffix);
    if (n < 0 || (size_t)n >= size)
        return -1;
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return 0;
}

int
zc_testsite_host_address (uint32_t k, char *out, size_t size)
{
    //  254 values per octet (1..254): 127.0.0.0/8 holds 254^3 such addresses
    if (k >= 254u * 254u * 254u || !out)
        return -1;
    unsigned a = 1 + k / (254u * 254u), b = 1 + (k / 254u) % 254u, c = 1 + k % 254u;
    int n = snprintf (out, size, "127.%u.%u.%u", a, b, c);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
