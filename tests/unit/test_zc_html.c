/*  Tests for zc_html: link forms, <base href>, duplicates, non-http links,
    titles (entities, whitespace, charsets), and hostile input.
*/
#include "zc_html.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PAGE "http://www.example.com/dir/page.html"

static void s_assert_same (const zc_html_result_t *a, const zc_html_result_t *b);

//  Parses with the SAX fast path and checks that the DOM path (used for
//  pages with extraction rules) gives the very same result.
static void
s_parse_bytes (const char *html, size_t size, const char *charset, zc_html_result_t *result)
{
    const char *error = "unset";
    assert_int_equal (zc_html_parse (PAGE, html, size, charset, result, &error), 0);
    assert_null (error);
    zc_html_result_t dom;
    xmlDocPtr doc = NULL;
    error = "unset";
    assert_int_equal (zc_html_parse_dom (PAGE, html, size, charset, &dom, &doc, &error), 0);
    assert_null (error);
    if (size > 0)
        assert_non_null (doc);
    s_assert_same (result, &dom);
    zc_html_result_clear (&dom);
    if (doc)
        xmlFreeDoc (doc);
}

static void
s_parse_str (const char *html, const char *charset, zc_html_result_t *result)
{
    s_parse_bytes (html, strlen (html), charset, result);
}

static void
s_assert_same (const zc_html_result_t *a, const zc_html_result_t *b)
{
    if (a->title || b->title) {
        assert_non_null (a->title);
        assert_non_null (b->title);
        assert_string_equal (a->title, b->title);
    }
    assert_int_equal (a->link_count, b->link_count);
    for (size_t i = 0; i < a->link_count; i++)
        assert_string_equal (a->links[i], b->links[i]);
    assert_int_equal (a->skipped_links, b->skipped_links);
    if (a->canonical || b->canonical) {
        assert_non_null (a->canonical);
        assert_non_null (b->canonical);
        assert_string_equal (a->canonical, b->canonical);
    }
    assert_int_equal (a->noindex, b->noindex);
    assert_int_equal (a->nofollow, b->nofollow);
    assert_string_equal (a->charset, b->charset);
}

static void
s_assert_links (const zc_html_result_t *result, const char *const *expected, size_t count)
{
    bool same = result->link_count == count;
    for (size_t i = 0; same && i < count; i++)
        same = strcmp (result->links[i], expected[i]) == 0;
    for (size_t i = 0; !same && i < result->link_count; i++)
        fprintf (stderr, "    link %zu: %s\n", i, result->links[i]);
    assert_int_equal (result->link_count, count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (result->links[i], expected[i]);
}

static bool
s_utf8_valid (const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80   ? 0
                   : *p < 0xc2 ? 9
                   : *p < 0xe0 ? 1
                   : *p < 0xf0 ? 2
                   : *p < 0xf5 ? 3
                               : 9;
        if (n == 9)
            return false;
        for (size_t i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n + 1;
    }
    return true;
}

static char *
s_read_fixture (const char *name, size_t *size)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/html/%s", ZC_FIXTURES_DIR, name);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long length = ftell (file);
    assert_true (length > 0);
    rewind (file);
    char *data = malloc ((size_t)length);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, (size_t)length, file), (size_t)length);
    fclose (file);
    *size = (size_t)length;
    return data;
}

static void
test_fixture_links (void **state)
{
    (void)state;
    size_t size;
    char *html = s_read_fixture ("links.html", &size);
    zc_html_result_t result;
    s_parse_bytes (html, size, NULL, &result);
    assert_string_equal (result.charset, "utf-8");
    assert_null (result.canonical);
    assert_false (result.noindex);
    assert_false (result.nofollow);
    const char *expected[] = {
        "http://www.example.com/",
        "http://www.example.com/dir/about.html",
        "http://www.example.com/up/index.html",
        "http://www.example.com/dir/page.html?page=2",
        "http://www.example.com/dir/page.html",
        "http://cdn.example.org/asset",
        "https://www.example.com/Secure",
        "http://www.example.com/dir/area.html",
        "http://www.example.com/dir/frame.html",
        "http://www.example.com/dir/spaced%20name.html",
        "http://www.example.com/svg-link",
    };
    s_assert_links (&result, expected, sizeof expected / sizeof expected[0]);
    assert_int_equal (result.skipped_links, 3); //  mailto, javascript, data
    assert_string_equal (result.title, "Fixture \xe2\x80\x94 links & frames");
    zc_html_result_clear (&result);
    assert_null (result.links);
    assert_int_equal (result.link_count, 0);
    free (html);
}

static void
test_link_forms (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<A HREF='/upper'>u</A><a href=unquoted.html>x</a>"
                 "<a href>no value</a><a href=\"\">self</a>"
                 "<frameset><frame src=\"f1.html\"><frame></frameset>"
                 "<iframe src='https://other.org/embed'></iframe>"
                 "<area href=\"/map\"><img src=\"/image.png\"><link href=\"/feed\">",
                 NULL, &result);
    const char *expected[] = {
        "http://www.example.com/upper",
        "http://www.example.com/dir/unquoted.html",
        "http://www.example.com/dir/page.html",
        "http://www.example.com/dir/f1.html",
        "https://other.org/embed",
        "http://www.example.com/map",
    };
    s_assert_links (&result, expected, sizeof expected / sizeof expected[0]);
    assert_null (result.title);
    zc_html_result_clear (&result);
}

static void
test_base_href (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  The base applies to links before it too; only the first base counts.
    s_parse_str ("<html><head><title>t</title></head><body><a href='before'>b</a>"
                 "<base href='http://cdn.example.net/root/'>"
                 "<base href='http://ignored.example/'>"
                 "<a href='after'>a</a><a href='/abs'>c</a><a href='#top'>t</a></body></html>",
                 NULL, &result);
    const char *expected[] = {
        "http://cdn.example.net/root/before",
        "http://cdn.example.net/root/after",
        "http://cdn.example.net/abs",
        "http://cdn.example.net/root/",
    };
    s_assert_links (&result, expected, sizeof expected / sizeof expected[0]);
    zc_html_result_clear (&result);

    //  A relative base resolves against the page URL.
    s_parse_str ("<base href='../other/'><a href='x'>x</a>", NULL, &result);
    const char *relative[] = {"http://www.example.com/other/x"};
    s_assert_links (&result, relative, 1);
    zc_html_result_clear (&result);

    //  An unusable base is ignored.
    s_parse_str ("<base href='javascript:x'><a href='x'>x</a>", NULL, &result);
    const char *ignored[] = {"http://www.example.com/dir/x"};
    s_assert_links (&result, ignored, 1);
    zc_html_result_clear (&result);

    //  A base without href does not count as the first base.
    s_parse_str ("<base target='_blank'><base href='/b/'><a href='x'>x</a>", NULL, &result);
    const char *target[] = {"http://www.example.com/b/x"};
    s_assert_links (&result, target, 1);
    zc_html_result_clear (&result);
}

static void
test_duplicates (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<a href='b'>1</a><a href='a'>2</a><a href='b#x'>3</a>"
                 "<a href='HTTP://WWW.EXAMPLE.COM:80/dir/a'>4</a><a href='./b'>5</a>"
                 "<iframe src='a'></iframe><a href='c'>6</a>",
                 NULL, &result);
    const char *expected[] = {
        "http://www.example.com/dir/b",
        "http://www.example.com/dir/a",
        "http://www.example.com/dir/c",
    };
    s_assert_links (&result, expected, 3);
    assert_int_equal (result.skipped_links, 0);
    zc_html_result_clear (&result);
}

static void
test_skipped (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<a href='mailto:a@b.c'>m</a><a href='javascript:go()'>j</a>"
                 "<a href=' tel:123 '>t</a><a href='ftp://f.example/x'>f</a>"
                 "<a href='http://'>bad</a><a href='http://ok.example/'>ok</a>",
                 NULL, &result);
    const char *expected[] = {"http://ok.example/"};
    s_assert_links (&result, expected, 1);
    assert_int_equal (result.skipped_links, 5);
    zc_html_result_clear (&result);
}

static void
test_title (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<html><head><title>\n\t  Tom &amp;   Jerry&#39;s &eacute;t&eacute; &#x263A;"
                 " \r\n</title><title>second</title></head></html>",
                 NULL, &result);
    assert_string_equal (result.title, "Tom & Jerry's \xc3\xa9t\xc3\xa9 \xe2\x98\xba");
    zc_html_result_clear (&result);

    s_parse_str ("<title>   </title>", NULL, &result);
    assert_null (result.title);
    zc_html_result_clear (&result);

    s_parse_str ("<html><body><p>no title here</p></body></html>", NULL, &result);
    assert_null (result.title);
    zc_html_result_clear (&result);

    //  Title without a head
    s_parse_str ("<title>Bare</title><a href=x>x</a>", NULL, &result);
    assert_string_equal (result.title, "Bare");
    assert_int_equal (result.link_count, 1);
    zc_html_result_clear (&result);

    //  A huge title is capped and stays valid UTF-8.
    size_t n = 100000;
    char *html = malloc (n + 64);
    assert_non_null (html);
    strcpy (html, "<title>");
    size_t len = strlen (html);
    for (size_t i = 0; i < n / 2; i++) {
        html[len++] = '\xc3';
        html[len++] = '\xa9';
    }
    html[len++] = 'x'; //  odd length so the cut falls mid-character
    strcpy (html + len, "</title>");
    s_parse_str (html, "utf-8", &result);
    assert_non_null (result.title);
    assert_true (strlen (result.title) <= 2048);
    assert_true (strlen (result.title) > 1000);
    assert_true (s_utf8_valid (result.title));
    zc_html_result_clear (&result);
    free (html);
}

static void
test_charset (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  ISO-8859-1 page with the charset from the HTTP header
    const char *latin1 = "<html><head><title>Caf\xe9 cr\xe8me</title></head>"
                         "<body><a href='/caf\xe9'>x</a></body></html>";
    s_parse_str (latin1, "ISO-8859-1", &result);
    assert_string_equal (result.title, "Caf\xc3\xa9 cr\xc3\xa8me");
    const char *expected[] = {"http://www.example.com/caf%C3%A9"};
    s_assert_links (&result, expected, 1);
    zc_html_result_clear (&result);

    //  Charset from <meta charset> when the header has none
    s_parse_str ("<html><head><meta charset=\"iso-8859-1\"><title>\xe9t\xe9</title></head></html>",
                 NULL, &result);
    assert_string_equal (result.title, "\xc3\xa9t\xc3\xa9");
    zc_html_result_clear (&result);

    //  <meta http-equiv> form
    s_parse_str ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                 "charset=windows-1252\"><title>\x93q\x94</title></head></html>",
                 NULL, &result);
    assert_string_equal (result.title, "\xe2\x80\x9cq\xe2\x80\x9d");
    zc_html_result_clear (&result);

    //  UTF-8 header wins over a wrong <meta>
    s_parse_str ("<html><head><meta charset=\"iso-8859-1\"><title>\xc3\xa9</title></head></html>",
                 "utf-8", &result);
    assert_string_equal (result.title, "\xc3\xa9");
    zc_html_result_clear (&result);

    //  Undeclared UTF-8 (libxml2 alone would read it as ISO-8859-1)
    s_parse_str ("<html><head><title>na\xc3\xafve \xe2\x82\xac</title></head></html>", NULL,
                 &result);
    assert_string_equal (result.title, "na\xc3\xafve \xe2\x82\xac");
    zc_html_result_clear (&result);

    //  Unknown charset name: sniffed instead, still UTF-8 out
    s_parse_str ("<title>caf\xc3\xa9</title>", "no-such-charset", &result);
    assert_string_equal (result.title, "caf\xc3\xa9");
    zc_html_result_clear (&result);

    //  Undeclared non-UTF-8 bytes still give valid UTF-8
    s_parse_str ("<title>bad \xff\xfe bytes</title>", NULL, &result);
    assert_non_null (result.title);
    assert_true (s_utf8_valid (result.title));
    zc_html_result_clear (&result);

    //  UTF-8 BOM
    s_parse_str ("\xef\xbb\xbf<title>\xc3\xa9</title>", NULL, &result);
    assert_string_equal (result.title, "\xc3\xa9");
    zc_html_result_clear (&result);
}

static void
test_broken_html (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<html><body><div><p><a href='one'>one<a href=\"two\">two<table><tr><td>"
                 "<a href=three>3</td></a></div></div></span><a href='four'",
                 NULL, &result);
    assert_true (result.link_count >= 3);
    assert_string_equal (result.links[0], "http://www.example.com/dir/one");
    assert_string_equal (result.links[1], "http://www.example.com/dir/two");
    assert_string_equal (result.links[2], "http://www.example.com/dir/three");
    zc_html_result_clear (&result);

    //  Unclosed title swallows the rest but stays bounded
    s_parse_str ("<title>open <a href='x'>x</a>", NULL, &result);
    assert_non_null (result.title);
    zc_html_result_clear (&result);

    //  Comments, CDATA-ish and script content are not links
    s_parse_str ("<!-- <a href='c1'>x</a> --><script>document.write('<a href=\"s1\">')</script>"
                 "<style>a[href='s2']{}</style><a href='real'>r</a>",
                 NULL, &result);
    const char *expected[] = {"http://www.example.com/dir/real"};
    s_assert_links (&result, expected, 1);
    zc_html_result_clear (&result);
}

static void
test_hostile_bytes (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  Empty input
    const char *error = "unset";
    assert_int_equal (zc_html_parse (PAGE, "", 0, NULL, &result, &error), 0);
    assert_null (error);
    assert_int_equal (result.link_count, 0);
    assert_null (result.title);
    zc_html_result_clear (&result);
    assert_int_equal (zc_html_parse (PAGE, NULL, 0, NULL, &result, NULL), 0);
    zc_html_result_clear (&result);

    //  NUL bytes in the middle
    const char nul[] = "<title>a\0b</title><a href='x'>\0</a><a href='y'>y</a>";
    assert_int_equal (zc_html_parse (PAGE, nul, sizeof nul - 1, NULL, &result, NULL), 0);
    if (result.title)
        assert_true (s_utf8_valid (result.title));
    zc_html_result_clear (&result);

    //  Deterministic garbage, with and without a charset, many seeds
    size_t size = 64 * 1024;
    unsigned char *garbage = malloc (size);
    assert_non_null (garbage);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    const char *charsets[] = {NULL, "utf-8", "iso-8859-1", "utf-16", "shift_jis"};
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < size; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            //  Bias towards markup characters so the tokenizer works hard.
            unsigned char c = (unsigned char)x;
            garbage[i] = (x >> 8) % 4 == 0 ? (unsigned char)"<>='\"/a &#"[c % 10] : c;
        }
        assert_int_equal (
            zc_html_parse (PAGE, (const char *)garbage, size, charsets[round % 5], &result, NULL),
            0);
        if (result.title)
            assert_true (s_utf8_valid (result.title));
        for (size_t i = 0; i < result.link_count; i++)
            assert_true (s_utf8_valid (result.links[i]));
        zc_html_result_clear (&result);
    }
    free (garbage);
}

static void
test_large_body (void **state)
{
    (void)state;
    //  10 MB of links: parsed without crashing, link count capped.
    size_t size = 10 * 1024 * 1024;
    char *html = malloc (size + 1);
    assert_non_null (html);
    size_t len = 0;
    len += (size_t)snprintf (html, size, "<html><head><title>big</title></head><body>");
    for (int i = 0; len + 64 < size; i++)
        len += (size_t)snprintf (html + len, size - len, "<a href='/p%d'>%d</a>\n", i, i);
    zc_html_result_t result;
    assert_int_equal (zc_html_parse (PAGE, html, len, NULL, &result, NULL), 0);
    assert_string_equal (result.title, "big");
    assert_true (result.link_count > 1000);
    assert_true (result.link_count <= 20000);
    assert_string_equal (result.links[0], "http://www.example.com/p0");
    assert_true (result.skipped_links > 0);
    zc_html_result_clear (&result);
    free (html);
}

static void
test_bad_page_url (void **state)
{
    (void)state;
    zc_html_result_t result;
    const char *html = "<a href='rel'>r</a><a href='https://abs.example/x'>a</a>";
    assert_int_equal (zc_html_parse ("not a url", html, strlen (html), NULL, &result, NULL), 0);
    const char *expected[] = {"https://abs.example/x"};
    s_assert_links (&result, expected, 1);
    assert_int_equal (result.skipped_links, 1);
    zc_html_result_clear (&result);
    //  An absolute <base> rescues relative links.
    html = "<base href='http://b.example/d/'><a href='rel'>r</a>";
    assert_int_equal (zc_html_parse (NULL, html, strlen (html), NULL, &result, NULL), 0);
    const char *based[] = {"http://b.example/d/rel"};
    s_assert_links (&result, based, 1);
    zc_html_result_clear (&result);
}

//  Every string in RESULT is valid UTF-8.
static void
s_assert_utf8 (const zc_html_result_t *result)
{
    if (result->title)
        assert_true (s_utf8_valid (result->title));
    if (result->canonical)
        assert_true (s_utf8_valid (result->canonical));
    for (size_t i = 0; i < result->link_count; i++)
        assert_true (s_utf8_valid (result->links[i]));
}

static void
test_charset_sources (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  ISO-8859-1 from the HTTP header (decoded as windows-1252, as browsers do)
    s_parse_str ("<title>Caf\xe9 \x80</title>", "ISO-8859-1", &result);
    assert_string_equal (result.title, "Caf\xc3\xa9 \xe2\x82\xac");
    assert_string_equal (result.charset, "windows-1252");
    zc_html_result_clear (&result);

    //  windows-1252 from <meta http-equiv>, and from <meta charset> after a
    //  comment that mentions another charset
    s_parse_str ("<head><meta http-equiv=content-type content='text/html;charset=Windows-1252'>"
                 "<title>\x93q\x94</title>",
                 NULL, &result);
    assert_string_equal (result.title, "\xe2\x80\x9cq\xe2\x80\x9d");
    assert_string_equal (result.charset, "windows-1252");
    zc_html_result_clear (&result);
    s_parse_str ("<!-- <meta charset=utf-8> --><meta name=x charset = 'koi8-r'>"
                 "<title>\xf0\xf2\xe9</title>",
                 NULL, &result);
    assert_string_equal (result.title, "\xd0\x9f\xd0\xa0\xd0\x98");
    assert_string_equal (result.charset, "koi8-r");
    zc_html_result_clear (&result);

    //  The header wins over <meta>; an unknown header name falls back to it.
    s_parse_str ("<meta charset=koi8-r><title>\xc3\xa9</title>", "UTF-8", &result);
    assert_string_equal (result.title, "\xc3\xa9");
    assert_string_equal (result.charset, "utf-8");
    zc_html_result_clear (&result);
    s_parse_str ("<meta charset=iso-8859-15><title>\xa4</title>", "x-no-such", &result);
    assert_string_equal (result.title, "\xe2\x82\xac");
    assert_string_equal (result.charset, "iso-8859-15");
    zc_html_result_clear (&result);
    //  A <meta> naming UTF-16 in an ASCII-compatible page means UTF-8.
    s_parse_str ("<meta charset=utf-16><title>\xc3\xa9</title>", NULL, &result);
    assert_string_equal (result.title, "\xc3\xa9");
    assert_string_equal (result.charset, "utf-8");
    zc_html_result_clear (&result);

    //  UTF-8 BOM (wins over the header), UTF-16 BOMs
    s_parse_str ("\xef\xbb\xbf<title>\xe2\x82\xac</title>", "iso-8859-1", &result);
    assert_string_equal (result.title, "\xe2\x82\xac");
    assert_string_equal (result.charset, "utf-8");
    zc_html_result_clear (&result);
    const char le[] = "\xff\xfe<\0t\0i\0t\0l\0e\0>\0\xe9\0\xac\x20<\0/\0t\0i\0t\0l\0e\0>\0"
                      "<\0a\0 \0h\0r\0e\0f\0=\0x\0>\0";
    s_parse_bytes (le, sizeof le - 1, NULL, &result);
    assert_string_equal (result.title, "\xc3\xa9\xe2\x82\xac");
    assert_string_equal (result.charset, "utf-16le");
    assert_int_equal (result.link_count, 1);
    assert_string_equal (result.links[0], "http://www.example.com/dir/x");
    zc_html_result_clear (&result);
    const char be[] = "\xfe\xff\0<\0t\0i\0t\0l\0e\0>\0\xe9\0<\0/\0t\0i\0t\0l\0e\0>";
    s_parse_bytes (be, sizeof be - 1, "utf-8", &result);
    assert_string_equal (result.title, "\xc3\xa9");
    assert_string_equal (result.charset, "utf-16be");
    zc_html_result_clear (&result);
    //  A lone surrogate and an odd trailing byte in UTF-16
    const char broken16[] = "\xff\xfe<\0t\0i\0t\0l\0e\0>\0a\0\x00\xd8"
                            "b\0<\0/\0t\0i\0t\0l\0e\0>\0z";
    s_parse_bytes (broken16, sizeof broken16 - 1, NULL, &result);
    assert_non_null (result.title);
    assert_string_equal (result.title, "a\xef\xbf\xbd"
                                       "b");
    s_assert_utf8 (&result);
    zc_html_result_clear (&result);

    //  Undeclared valid UTF-8, and undeclared non-UTF-8 (windows-1252)
    s_parse_str ("<title>\xe2\x82\xac</title>", NULL, &result);
    assert_string_equal (result.charset, "utf-8");
    zc_html_result_clear (&result);
    s_parse_str ("<title>caf\xe9</title>", NULL, &result);
    assert_string_equal (result.title, "caf\xc3\xa9");
    assert_string_equal (result.charset, "windows-1252");
    zc_html_result_clear (&result);
    //  Bytes windows-1252 leaves undefined become U+FFFD.
    s_parse_str ("<title>a\x81z</title>", "windows-1252", &result);
    assert_string_equal (result.title, "a\xef\xbf\xbdz");
    zc_html_result_clear (&result);

    //  A big page whose UTF-8 form outgrows the first decode buffer
    //  (3 bytes out per byte in for the euro sign).
    size_t n = 300000;
    char *big = malloc (n + 64);
    assert_non_null (big);
    size_t len = (size_t)snprintf (big, 64, "<title>\x80</title><p>");
    memset (big + len, 0x80, n);
    len += n;
    len += (size_t)snprintf (big + len, 64, "</p><a href=/end>e</a>");
    s_parse_bytes (big, len, "cp1252", &result);
    assert_string_equal (result.title, "\xe2\x82\xac");
    assert_int_equal (result.link_count, 1);
    assert_string_equal (result.links[0], "http://www.example.com/end");
    zc_html_result_clear (&result);
    free (big);
}

static void
test_invalid_utf8 (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  Declared UTF-8 with invalid bytes: U+FFFD, the rest intact, links fine.
    const char *html = "<title>ok \xc3\xa9 bad \xff\xc3 \xed\xa0\x80 \xf8\x88\x80\x80\x80 "
                       "end</title><link rel=canonical href='/c\xff'>"
                       "<a href='/p\xc3\xa9'>x</a><a href='/q\xfe'>y</a>";
    s_parse_str (html, "utf-8", &result);
    s_assert_utf8 (&result);
    assert_non_null (strstr (result.title, "ok \xc3\xa9 bad \xef\xbf\xbd"));
    assert_non_null (strstr (result.title, " end"));
    assert_string_equal (result.charset, "utf-8");
    assert_int_equal (result.link_count, 2);
    assert_string_equal (result.links[0], "http://www.example.com/p%C3%A9");
    assert_string_equal (result.links[1], "http://www.example.com/q%EF%BF%BD");
    assert_string_equal (result.canonical, "http://www.example.com/c%EF%BF%BD");
    zc_html_result_clear (&result);
    //  Truncated sequence at the very end
    s_parse_str ("<title>x</title>\xe2\x82", "utf-8", &result);
    assert_string_equal (result.title, "x");
    zc_html_result_clear (&result);
    //  Character references to surrogates / NUL / beyond Unicode
    s_parse_str ("<title>&#xD800;&#0;&#x110000;&#55296;ok</title>", NULL, &result);
    s_assert_utf8 (&result);
    zc_html_result_clear (&result);
}

static void
test_nofollow (void **state)
{
    (void)state;
    zc_html_result_t result;
    s_parse_str ("<a href=a1 rel=nofollow>1</a><a href=a2 rel='external NoFollow'>2</a>"
                 "<a href=a3 rel='nofollowing'>3</a><a href=a4 rel=''>4</a>"
                 "<area href=a5 rel='noopener\tnofollow'><iframe src=a6 rel=nofollow></iframe>"
                 "<a href=a7 rel=\"noreferrer\">7</a>",
                 NULL, &result);
    const char *expected[] = {
        "http://www.example.com/dir/a3",
        "http://www.example.com/dir/a4",
        "http://www.example.com/dir/a6",
        "http://www.example.com/dir/a7",
    };
    s_assert_links (&result, expected, 4);
    assert_int_equal (result.skipped_links, 0);
    assert_false (result.nofollow);
    zc_html_result_clear (&result);
}

static void
test_meta_robots (void **state)
{
    (void)state;
    zc_html_result_t result;
    const char *links = "<a href=a>a</a><a href=b>b</a>";
    struct {
        const char *meta;
        bool noindex, nofollow;
    } cases[] = {
        {"<meta name=robots content=nofollow>", false, true},
        {"<meta name='ROBOTS' content='NoIndex'>", true, false},
        {"<meta name=robots content='noindex, nofollow'>", true, true},
        {"<meta name=robots content='noindex,nofollow'>", true, true},
        {"<meta content='none' name=Robots>", true, true},
        {"<meta name=robots content='index, follow'>", false, false},
        {"<meta name=robots content='nofollowx noindexy'>", false, false},
        {"<meta name=googlebot content='noindex, nofollow'>", false, false},
        {"<meta name=description content='nofollow'>", false, false},
        {"<meta name=robots>", false, false},
        {"<meta name=robots content=noindex><meta name=robots content=nofollow>", true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char html[512];
        snprintf (html, sizeof html, "<html><head>%s</head><body>%s</body></html>", cases[i].meta,
                  links);
        s_parse_str (html, NULL, &result);
        if (result.noindex != cases[i].noindex || result.nofollow != cases[i].nofollow)
            fprintf (stderr, "    case %s\n", cases[i].meta);
        assert_int_equal (result.noindex, cases[i].noindex);
        assert_int_equal (result.nofollow, cases[i].nofollow);
        assert_int_equal (result.link_count, cases[i].nofollow ? 0 : 2);
        zc_html_result_clear (&result);
    }
}

static void
test_canonical (void **state)
{
    (void)state;
    zc_html_result_t result;
    //  Resolved against the page (and <base>), canonicalised; the first wins.
    s_parse_str ("<link rel=canonical href='../Other/./x.html#frag'>"
                 "<link rel=canonical href='/second'>",
                 NULL, &result);
    assert_string_equal (result.canonical, "http://www.example.com/Other/x.html");
    zc_html_result_clear (&result);
    s_parse_str ("<base href='http://b.example/d/'><link rel='Canonical' href='c'>", NULL, &result);
    assert_string_equal (result.canonical, "http://b.example/d/c");
    zc_html_result_clear (&result);
    s_parse_str ("<link rel='alternate canonical' href='HTTP://WWW.EXAMPLE.COM:80'>", NULL,
                 &result);
    assert_string_equal (result.canonical, "http://www.example.com/");
    zc_html_result_clear (&result);
    //  Not a link: not canonical; an unusable href leaves none.
    s_parse_str ("<link rel=canonical><link rel=canonical href='javascript:x'>"
                 "<a rel=canonical href='/a'>a</a><link rel=stylesheet href=/s.css>",
                 NULL, &result);
    assert_null (result.canonical);
    assert_int_equal (result.link_count, 1);
    zc_html_result_clear (&result);
    //  A nofollow page still reports its canonical URL.
    s_parse_str ("<meta name=robots content=nofollow><link rel=canonical href=/c><a href=x>x</a>",
                 NULL, &result);
    assert_string_equal (result.canonical, "http://www.example.com/c");
    assert_int_equal (result.link_count, 0);
    zc_html_result_clear (&result);
}

static void
test_dom_same_as_sax (void **state)
{
    (void)state;
    //  Fixtures and hostile input: both paths give identical results (checked
    //  inside s_parse_bytes).
    const char *fixtures[] = {"links.html", "products.html"};
    for (size_t i = 0; i < 2; i++) {
        size_t size;
        char *html = s_read_fixture (fixtures[i], &size);
        zc_html_result_t result;
        s_parse_bytes (html, size, NULL, &result);
        assert_true (result.link_count > 0);
        zc_html_result_clear (&result);
        s_parse_bytes (html, size, "windows-1252", &result);
        zc_html_result_clear (&result);
        free (html);
    }
    size_t size = 16 * 1024;
    unsigned char *garbage = malloc (size);
    assert_non_null (garbage);
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 10; round++) {
        for (size_t i = 0; i < size; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            unsigned char c = (unsigned char)x;
            garbage[i] = (x >> 8) % 3 == 0 ? (unsigned char)"<>='\"/a &#"[c % 10] : c;
        }
        memcpy (garbage, "<a href=x rel=nofollow><title>", 30);
        zc_html_result_t result;
        s_parse_bytes ((const char *)garbage, size, round % 2 ? "utf-8" : NULL, &result);
        s_assert_utf8 (&result);
        zc_html_result_clear (&result);
    }
    free (garbage);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    xmlInitParser ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_fixture_links),   cmocka_unit_test (test_link_forms),
        cmocka_unit_test (test_base_href),       cmocka_unit_test (test_duplicates),
        cmocka_unit_test (test_skipped),         cmocka_unit_test (test_title),
        cmocka_unit_test (test_charset),         cmocka_unit_test (test_broken_html),
        cmocka_unit_test (test_hostile_bytes),   cmocka_unit_test (test_large_body),
        cmocka_unit_test (test_bad_page_url),    cmocka_unit_test (test_charset_sources),
        cmocka_unit_test (test_invalid_utf8),    cmocka_unit_test (test_nofollow),
        cmocka_unit_test (test_meta_robots),     cmocka_unit_test (test_canonical),
        cmocka_unit_test (test_dom_same_as_sax),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    xmlCleanupParser ();
    curl_global_cleanup ();
    return rc;
}
