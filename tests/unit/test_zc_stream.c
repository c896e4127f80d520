/*  Tests for zc_stream: a differential test (the streaming evaluator on
    zc_html's SAX events must give, value by value, what zc_extract_run
    gives on the DOM, and zc_html_parse_stream the same links and title as
    zc_html_parse_dom) over fixture pages, the test site's generated pages
    and seeded random tag soup, with many rule sets; plus which rules are
    streamable, bad rules and the plan cache.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  nftw, mkdtemp
#endif
#include "zc_extract.h"
#include "zc_html.h"
#include "zc_stream.h"
#include "zc_testsite.h"

#include <curl/curl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PAGE "http://shop.example/list.html"

typedef struct {
    zc_extract_t *extract;
    zc_stream_t *stream;
    size_t pages;
    size_t values; //  values compared
} s_state_t;

#define R(n, sel, tk, at, all_, rx)                                                                \
    {                                                                                              \
        .name = (n), .selector = (sel), .xpath = false, .take = (tk), .attr = (at), .all = (all_), \
        .regex = (rx)                                                                              \
    }

//  Rule sets, all streamable.
static const zc_extract_rule_t s_set_issue[] = {
    R ("title", "title", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("h1", "h1", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("price", ".price", ZC_TAKE_TEXT, NULL, true, NULL),
};
static const zc_extract_rule_t s_set_many[] = {
    R ("divprice", "div.price", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("main", "#main", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("hrefs", "a[href]", ZC_TAKE_ATTR, "href", true, NULL),
    R ("pb", "p > b", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("ulli", "ul li", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("list", "h1, h2, .price, b", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("firstp", "p", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("num", ".price", ZC_TAKE_TEXT, NULL, true, "([0-9]+)"),
    R ("firstnum", "td, .price", ZC_TAKE_TEXT, NULL, false, "[0-9]+\\.[0-9]+"),
    R ("cls", "[class]", ZC_TAKE_ATTR, "CLASS", true, NULL),
};
static const zc_extract_rule_t s_set_all[] = {
    R ("all", "*", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("ids", "*", ZC_TAKE_ATTR, "id", true, NULL),
};
static const zc_extract_rule_t s_set_attr[] = {
    R ("pre", "a[href^=http]", ZC_TAKE_ATTR, "href", true, NULL),
    R ("suf", "a[href$='.html']", ZC_TAKE_ATTR, "href", true, NULL),
    R ("sub", "[href*=\"p/\"]", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("eq", "input[type=checkbox]", ZC_TAKE_ATTR, "checked", true, NULL),
    R ("bool", "[checked]", ZC_TAKE_ATTR, "checked", true, NULL),
    R ("empty", "[title^='']", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("valueless", "[data-x]", ZC_TAKE_ATTR, "data-x", true, NULL),
    R ("nth", "li:nth-child(2)", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("nth1", "body > :nth-child(1)", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("deep", "html body div div span", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("chain", "div > div span > b", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("mixed", "table tr > td.price", ZC_TAKE_TEXT, NULL, true, "(.*)"),
    R ("scripts", "script, style", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("html", "html", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("body", "body", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("idfirst", "#main, #x", ZC_TAKE_ATTR, "id", false, NULL),
};
static const zc_extract_rule_t s_set_bad[] = {
    R ("ok", "h1", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("badcss", "h1 +", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("badregex", "h1", ZC_TAKE_TEXT, NULL, true, "(["),
    R ("ok", "h2", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("", "h2", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("noattr", "a", ZC_TAKE_ATTR, NULL, true, NULL),
    R ("pseudo", "a:hover", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("last", "p b", ZC_TAKE_TEXT, NULL, true, NULL),
};

//  Rules like those the e2e tests run on extract.test.
static const zc_extract_rule_t s_set_product[] = {
    R ("name", "#main > h1#name", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("price", "span.price", ZC_TAKE_TEXT, NULL, false, "\\$([0-9.]+)"),
    R ("sku", "div.product.card", ZC_TAKE_ATTR, "data-sku", false, NULL),
    R ("tags", "#tags li", ZC_TAKE_TEXT, NULL, true, NULL),
    R ("second_tag", "#tags li:nth-child(2)", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("color", "table.specs tr:nth-child(2) td:nth-child(2)", ZC_TAKE_TEXT, NULL, false, NULL),
    R ("links", "ul.related a", ZC_TAKE_ATTR, "href", true, NULL),
    R ("product_links", "a[href^='/product/']", ZC_TAKE_TEXT, NULL, true, NULL),
};

typedef struct {
    const zc_extract_rule_t *rules;
    size_t count;
} s_set_t;

static const s_set_t s_sets[] = {
    {s_set_issue, sizeof s_set_issue / sizeof s_set_issue[0]},
    {s_set_many, sizeof s_set_many / sizeof s_set_many[0]},
    {s_set_all, sizeof s_set_all / sizeof s_set_all[0]},
    {s_set_attr, sizeof s_set_attr / sizeof s_set_attr[0]},
    {s_set_bad, sizeof s_set_bad / sizeof s_set_bad[0]},
    {s_set_product, sizeof s_set_product / sizeof s_set_product[0]},
};

static int
s_setup (void **state)
{
    s_state_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    self->extract = zc_extract_new ();
    self->stream = zc_stream_new ();
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_state_t *self = *state;
    zc_extract_destroy (&self->extract);
    zc_stream_destroy (&self->stream);
    free (self);
    return 0;
}

static const char *
s_or (const char *s)
{
    return s ? s : "(null)";
}

//  Parses HTML both ways with every rule set and compares everything.
static void
s_compare (s_state_t *self, const char *label, const char *html, size_t size, const char *charset)
{
    for (size_t k = 0; k < sizeof s_sets / sizeof s_sets[0]; k++) {
        const s_set_t *set = &s_sets[k];
        zc_html_result_t dom_parsed, stream_parsed;
        zc_extract_result_t dom_result, stream_result;
        xmlDocPtr doc = NULL;
        assert_int_equal (zc_html_parse_dom (PAGE, html, size, charset, &dom_parsed, &doc, NULL),
                          0);
        int dom_rc = zc_extract_run (self->extract, set->rules, set->count, doc, &dom_result);
        if (doc)
            xmlFreeDoc (doc);
        assert_true (zc_stream_prepare (self->stream, set->rules, set->count));
        assert_int_equal (
            zc_html_parse_stream (PAGE, html, size, charset, self->stream, &stream_parsed, NULL),
            0);
        int stream_rc = zc_stream_finish (self->stream, &stream_result);

        bool same = dom_rc == stream_rc && dom_result.field_count == stream_result.field_count &&
                    streq (s_or (dom_result.error), s_or (stream_result.error));
        for (size_t i = 0; same && i < dom_result.field_count; i++) {
            zc_extract_field_t *a = &dom_result.fields[i], *b = &stream_result.fields[i];
            same = streq (a->name, b->name) && a->value_count == b->value_count;
            for (size_t j = 0; same && j < a->value_count; j++) {
                same = streq (a->values[j], b->values[j]);
                self->values++;
            }
        }
        if (!same) {
            fprintf (stderr, "MISMATCH page %s set %zu (rc %d/%d, error '%s' / '%s')\n", label, k,
                     dom_rc, stream_rc, s_or (dom_result.error), s_or (stream_result.error));
            for (size_t i = 0; i < dom_result.field_count && i < stream_result.field_count; i++) {
                zc_extract_field_t *x = &dom_result.fields[i], *y = &stream_result.fields[i];
                fprintf (stderr, " field %s/%s: %zu/%zu values\n", x->name, y->name, x->value_count,
                         y->value_count);
                for (size_t j = 0; j < x->value_count && j < y->value_count; j++)
                    if (!streq (x->values[j], y->values[j])) {
                        fprintf (stderr, "  [%zu] dom '%.300s'\n  [%zu] str '%.300s'\n", j,
                                 x->values[j], j, y->values[j]);
                        break;
                    }
            }
            fprintf (stderr, "--- html ---\n%.*s\n---\n", (int)(size < 3000 ? size : 3000), html);
        }
        assert_true (same);
        //  The page's own results are those of the DOM path.
        assert_string_equal (s_or (dom_parsed.title), s_or (stream_parsed.title));
        assert_string_equal (s_or (dom_parsed.canonical), s_or (stream_parsed.canonical));
        assert_string_equal (dom_parsed.charset, stream_parsed.charset);
        assert_int_equal (dom_parsed.noindex, stream_parsed.noindex);
        assert_int_equal (dom_parsed.nofollow, stream_parsed.nofollow);
        assert_int_equal (dom_parsed.skipped_links, stream_parsed.skipped_links);
        assert_int_equal (dom_parsed.link_count, stream_parsed.link_count);
        for (size_t i = 0; i < dom_parsed.link_count; i++)
            assert_string_equal (dom_parsed.links[i], stream_parsed.links[i]);
        zc_html_result_clear (&dom_parsed);
        zc_html_result_clear (&stream_parsed);
        zc_extract_result_clear (&dom_result);
        zc_extract_result_clear (&stream_result);
    }
    self->pages++;
}

static char *
s_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long length = ftell (file);
    assert_true (length >= 0);
    rewind (file);
    char *data = malloc ((size_t)length + 1);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, (size_t)length, file), (size_t)length);
    fclose (file);
    *size = (size_t)length;
    return data;
}

static void
test_fixtures (void **state)
{
    s_state_t *self = *state;
    const char *names[] = {"products.html", "links.html"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/html/%s", ZC_FIXTURES_DIR, names[i]);
        size_t size;
        char *html = s_read_file (path, &size);
        s_compare (self, names[i], html, size, NULL);
        free (html);
    }
}

static int
s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

static void
test_testsite (void **state)
{
    s_state_t *self = *state;
    char dir[] = "/tmp/zc_test_stream_XXXXXX";
    assert_non_null (mkdtemp (dir));
    zc_testsite_config_t config = {
        .pages = 60, .seed = 7, .host = "127.0.0.1", .port = 8080, .page_bytes = 6000};
    assert_int_equal (zc_testsite_write_dir (&config, dir), 0);
    char path[1200];
    size_t compared = 0;
    for (int i = 0; i < 60; i++) {
        snprintf (path, sizeof path, "%s/p/%d.html", dir, i);
        if (access (path, R_OK) != 0)
            continue;
        size_t size;
        char *html = s_read_file (path, &size);
        s_compare (self, path, html, size, NULL);
        free (html);
        compared++;
    }
    snprintf (path, sizeof path, "%s/index.html", dir);
    if (access (path, R_OK) == 0) {
        size_t size;
        char *html = s_read_file (path, &size);
        s_compare (self, path, html, size, NULL);
        free (html);
        compared++;
    }
    assert_true (compared > 30);
    assert_int_equal (nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

typedef struct {
    char *data;
    size_t len;
} s_body_t;

static size_t
s_on_body (char *data, size_t size, size_t count, void *arg)
{
    s_body_t *body = arg;
    size_t n = size * count;
    body->data = realloc (body->data, body->len + n + 1);
    assert_non_null (body->data);
    memcpy (body->data + body->len, data, n);
    body->len += n;
    body->data[body->len] = 0;
    return n;
}

//  The extract.test scenario pages, fetched from a running test site.
static void
test_extract_site (void **state)
{
    s_state_t *self = *state;
    zc_testsite_config_t config = {.host = "127.0.0.1"};
    zc_testsite_t *site = zc_testsite_new (&config);
    assert_non_null (site);
    const char *base = zc_testsite_url (site); //  http://127.0.0.1:PORT
    const char *port = strrchr (base, ':') + 1;
    char resolve_entry[64];
    snprintf (resolve_entry, sizeof resolve_entry, "extract.test:%s:127.0.0.1", port);
    struct curl_slist *resolve = curl_slist_append (NULL, resolve_entry);
    assert_non_null (resolve);
    const char *paths[] = {"/", "/product/1.html", "/product/2.html"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char url[128];
        snprintf (url, sizeof url, "http://extract.test:%s%s", port, paths[i]);
        CURL *curl = curl_easy_init ();
        assert_non_null (curl);
        s_body_t body = {0};
        assert_int_equal (curl_easy_setopt (curl, CURLOPT_URL, url), CURLE_OK);
        assert_int_equal (curl_easy_setopt (curl, CURLOPT_RESOLVE, resolve), CURLE_OK);
        assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body), CURLE_OK);
        assert_int_equal (curl_easy_setopt (curl, CURLOPT_WRITEDATA, &body), CURLE_OK);
        assert_int_equal (curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 10000L), CURLE_OK);
        assert_int_equal (curl_easy_perform (curl), CURLE_OK);
        long status = 0;
        assert_int_equal (curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
        assert_int_equal (status, 200);
        curl_easy_cleanup (curl);
        assert_non_null (body.data);
        s_compare (self, url, body.data, body.len, NULL);
        if (i == 1) {
            //  And the known values of product 1.
            size_t n = sizeof s_set_product / sizeof s_set_product[0];
            assert_true (zc_stream_prepare (self->stream, s_set_product, n));
            zc_html_result_t parsed;
            assert_int_equal (
                zc_html_parse_stream (url, body.data, body.len, NULL, self->stream, &parsed, NULL),
                0);
            zc_extract_result_t result;
            assert_int_equal (zc_stream_finish (self->stream, &result), 0);
            assert_int_equal (result.field_count, n);
            const char *expected[][3] = {{"Desk Lamp"},
                                         {"19.99"},
                                         {"SKU-001"},
                                         {"home", "light", "desk"},
                                         {"light"},
                                         {"Black"},
                                         {"/product/2.html", "/"},
                                         {"Next"}};
            for (size_t f = 0; f < n; f++) {
                assert_string_equal (result.fields[f].name, s_set_product[f].name);
                for (size_t v = 0; v < result.fields[f].value_count; v++) {
                    assert_true (v < 3);
                    assert_non_null (expected[f][v]);
                    assert_string_equal (result.fields[f].values[v], expected[f][v]);
                }
            }
            assert_int_equal (result.fields[3].value_count, 3);
            zc_extract_result_clear (&result);
            zc_html_result_clear (&parsed);
        }
        free (body.data);
    }
    curl_slist_free_all (resolve);
    zc_testsite_destroy (&site);
}

//  ---------------------------------------------------------------------
//  Seeded tag soup

typedef struct {
    char *data;
    size_t len;
    size_t alloc;
    uint64_t rng;
} s_soup_t;

static uint32_t
s_rand (s_soup_t *soup, uint32_t n)
{
    soup->rng ^= soup->rng << 13;
    soup->rng ^= soup->rng >> 7;
    soup->rng ^= soup->rng << 17;
    return (uint32_t)(soup->rng % n);
}

static void
s_put (s_soup_t *soup, const char *s)
{
    size_t n = strlen (s);
    if (soup->len + n + 1 > soup->alloc) {
        soup->alloc = (soup->len + n + 1) * 2;
        soup->data = realloc (soup->data, soup->alloc);
        assert_non_null (soup->data);
    }
    memcpy (soup->data + soup->len, s, n + 1);
    soup->len += n;
}

static const char *
s_pick (s_soup_t *soup, const char *const *list, size_t n)
{
    return list[s_rand (soup, (uint32_t)n)];
}

#define PICK(soup, list) s_pick (soup, list, sizeof list / sizeof list[0])

static void
s_soup_tag (s_soup_t *soup)
{
    static const char *const tags[] = {
        "div",  "p",     "b",     "i",        "span",     "a",   "ul",     "li",    "table", "tr",
        "td",   "h1",    "h2",    "title",    "ul",       "ol",  "em",     "input", "br",    "img",
        "form", "tbody", "thead", "select",   "option",   "pre", "center", "font",  "DIV",   "Td",
        "head", "body",  "html",  "svg:rect", "x-custom", "dl",  "dt",     "dd",    "p",     "div"};
    static const char *const attrs[] = {" class=price",       " class=\"price big\"",
                                        " class='a\tprice'",  " class=\"xprice\"",
                                        " id=main",           " id=x",
                                        " ID=\"main\"",       " href=\"/p/1.html\"",
                                        " href=http://e.x/a", " href='p/2.html'",
                                        " HREF=\"#top\"",     " checked",
                                        " type=checkbox",     " data-x",
                                        " data-x=\"\"",       " title=\"t&amp;x\"",
                                        " class=\"\"",        " href",
                                        " class=PRICE",       " selected",
                                        " id=main id=x",      " class=price class=b",
                                        " href=\"a&#32;b\"",  " class=\"\fprice\""};
    s_put (soup, "<");
    s_put (soup, PICK (soup, tags));
    for (uint32_t n = s_rand (soup, 4); n > 0; n--)
        s_put (soup, PICK (soup, attrs));
    s_put (soup, s_rand (soup, 10) == 0 ? " />" : ">");
}

static void
s_soup_piece (s_soup_t *soup)
{
    static const char *const ends[] = {"</div>",  "</p>",    "</b>",     "</i>",     "</span>",
                                       "</a>",    "</ul>",   "</li>",    "</table>", "</tr>",
                                       "</td>",   "</h1>",   "</title>", "</body>",  "</html>",
                                       "</head>", "</font>", "</x>",     "</DIV>",   "</select>"};
    static const char *const texts[] = {
        "hello",     " ",       "  \n\t ",   "12.50",       "price: 42 EUR",  "a&amp;b", "&#32;",
        "&nbsp;x",   "&bogus;", "&lt;b&gt;", "caf\xc3\xa9", "\xe9t\xe9",      "x < y",   "\n",
        "word word", "&#10;",   "3.14",      "&",           "\r\n  spaced  ", "<",       "a\fb"};
    static const char *const specials[] = {"<script>if (a < b && c > d) { x = '</p>'; }</script>",
                                           "<style> p < b { color: red } </style>",
                                           "<script></script>",
                                           "<script> </script>",
                                           "<!-- a comment <b> -->",
                                           "<!DOCTYPE html>",
                                           "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">",
                                           "<?php echo 1; ?>",
                                           "<![CDATA[ x ]]>",
                                           "<textarea> a <b> </textarea>",
                                           "<title> The   title </title>",
                                           "<base href=\"http://other.example/dir/\">",
                                           "<meta name=robots content=nofollow>",
                                           "<link rel=canonical href=\"/canon\">",
                                           "<noscript><b>n</b></noscript>",
                                           "<iframe src=\"/frame.html\"></iframe>",
                                           "</",
                                           "<>",
                                           "<a href=\"/q?a=1&b=2\">q</a>"};
    uint32_t r = s_rand (soup, 100);
    if (r < 38)
        s_soup_tag (soup);
    else if (r < 60)
        s_put (soup, PICK (soup, ends));
    else if (r < 92)
        s_put (soup, PICK (soup, texts));
    else
        s_put (soup, PICK (soup, specials));
}

static void
test_soup (void **state)
{
    s_state_t *self = *state;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        s_soup_t soup = {.rng = seed * 0x9e3779b97f4a7c15ull + 1};
        if (s_rand (&soup, 3) == 0)
            s_put (&soup, PICK (&soup, ((const char *const[]){"<!DOCTYPE html>", "<!-- c -->",
                                                              "<html>", "<p>x</p>", " "})));
        uint32_t pieces = 5 + s_rand (&soup, seed % 10 == 0 ? 600 : 120);
        for (uint32_t i = 0; i < pieces; i++)
            s_soup_piece (&soup);
        char label[32];
        snprintf (label, sizeof label, "soup %llu", (unsigned long long)seed);
        s_compare (self, label, soup.data, soup.len, seed % 7 == 0 ? "iso-8859-1" : NULL);
        free (soup.data);
    }
}

//  Nesting beyond libxml2's tree depth limit: the DOM builder stops there.
static void
test_deep (void **state)
{
    s_state_t *self = *state;
    s_soup_t soup = {.rng = 5};
    s_put (&soup, "<html><body><h1>t</h1>");
    for (int i = 0; i < 400; i++)
        s_put (&soup, i % 3 ? "<div class=price>7 " : "<span><a href=\"/d.html\">l</a>");
    s_put (&soup, "<h1>after</h1><a href=\"/late.html\">late</a>");
    s_compare (self, "deep", soup.data, soup.len, NULL);
    free (soup.data);
}

//  An element after </html> becomes the last child of the first root.
static void
test_reopen (void **state)
{
    s_state_t *self = *state;
    const char *pages[] = {"<html><body><p>a</p></body></html><p class=price>b</p><div>c</div>",
                           "<!-- first --><html><body><p>a</p></body></html><p class=price>b</p>",
                           "<html><body><p>a</p></body></html><!DOCTYPE html><p class=price>b</p>",
                           "<p>a</p></html>x<h1>y</h1></html><!-- c --><h1>z</h1>",
                           "<html id=main><li>1</li></html><li class=price>2</li><li>3</li>"};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        s_compare (self, pages[i], pages[i], strlen (pages[i]), NULL);
    s_compare (self, "empty", "", 0, NULL);
    s_compare (self, "blank", "  \n", 3, NULL);
}

static void
test_streamable (void **state)
{
    s_state_t *self = *state;
    zc_extract_rule_t rule = R ("x", "div.price > b", ZC_TAKE_TEXT, NULL, true, NULL);
    assert_true (zc_stream_prepare (self->stream, &rule, 1));
    rule.take = ZC_TAKE_ATTR;
    rule.attr = "href";
    assert_true (zc_stream_prepare (self->stream, &rule, 1));
    rule.take = ZC_TAKE_HTML;
    assert_false (zc_stream_prepare (self->stream, &rule, 1));
    rule.take = ZC_TAKE_TEXT;
    rule.xpath = true;
    rule.selector = "//h1";
    assert_false (zc_stream_prepare (self->stream, &rule, 1));
    rule.xpath = false;
    rule.selector = "li:nth-child(3), a[href$=x]";
    assert_true (zc_stream_prepare (self->stream, &rule, 1));
    rule.selector = "h\xff";
    assert_false (zc_stream_prepare (self->stream, &rule, 1));
    //  A set is streamable only if every rule is.
    zc_extract_rule_t two[] = {R ("a", "h1", ZC_TAKE_TEXT, NULL, true, NULL),
                               R ("b", "//h2", ZC_TAKE_TEXT, NULL, true, NULL)};
    two[1].xpath = true;
    assert_false (zc_stream_prepare (self->stream, two, 2));
    //  Bad rules are streamable: skipped and named, as on the DOM.
    zc_extract_rule_t bad = R ("bad", "h1 ~ p", ZC_TAKE_TEXT, NULL, true, NULL);
    assert_true (zc_stream_prepare (self->stream, &bad, 1));
    zc_html_result_t parsed;
    assert_int_equal (
        zc_html_parse_stream (PAGE, "<h1>x</h1>", 10, NULL, self->stream, &parsed, NULL), 0);
    zc_extract_result_t result;
    assert_int_equal (zc_stream_finish (self->stream, &result), -1);
    assert_int_equal (result.field_count, 0);
    assert_non_null (result.error);
    assert_non_null (strstr (result.error, "rule 'bad': CSS selector 'h1 ~ p'"));
    zc_extract_result_clear (&result);
    zc_html_result_clear (&parsed);
}

static void
test_cache (void **state)
{
    s_state_t *self = *state;
    size_t before = zc_stream_compiles (self->stream);
    for (int i = 0; i < 5; i++) {
        //  Fresh copies each time, as in every PAGE.
        zc_extract_rule_t copy[3];
        memcpy (copy, s_set_issue, sizeof copy);
        char name[] = "title";
        copy[0].name = name;
        assert_true (zc_stream_prepare (self->stream, copy, 3));
        zc_html_result_t parsed;
        const char *html = "<title>T</title><h1>H</h1><p class=price>1</p>";
        assert_int_equal (
            zc_html_parse_stream (PAGE, html, strlen (html), NULL, self->stream, &parsed, NULL), 0);
        zc_extract_result_t result;
        assert_int_equal (zc_stream_finish (self->stream, &result), 0);
        assert_int_equal (result.field_count, 3);
        assert_string_equal (result.fields[0].values[0], "T");
        assert_string_equal (result.fields[2].values[0], "1");
        zc_extract_result_clear (&result);
        zc_html_result_clear (&parsed);
    }
    assert_int_equal (zc_stream_compiles (self->stream), before + 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_fixtures, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_testsite, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_extract_site, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_soup, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_deep, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_streamable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cache, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
