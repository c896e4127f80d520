/*  Tests for zc_url: resolution against a base (RFC 3986 section 5.4 and the
    href shapes found in real pages), canonical form, host keys and
    fingerprints. The fast path of zc_url_base_resolve is checked against
    the curl-only path (zc_url_base_resolve_curl) on a grid of tricky hrefs
    and on every href of the test site's pages and the HTML fixtures.
*/
#include "zc_url.h"

#include "zc_testsite.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    const char *base;
    const char *href;
    const char *expected;   //  NULL = error
    zc_url_status_t status; //  expected status
} resolve_case_t;

#define RFC_BASE "http://a/b/c/d;p?q"

static const resolve_case_t s_resolve_cases[] = {
    //  RFC 3986 5.4.1 normal examples (fragments dropped: canonical form)
    {RFC_BASE, "g:h", NULL, ZC_URL_SCHEME},
    {RFC_BASE, "g", "http://a/b/c/g", ZC_URL_OK},
    {RFC_BASE, "./g", "http://a/b/c/g", ZC_URL_OK},
    {RFC_BASE, "g/", "http://a/b/c/g/", ZC_URL_OK},
    {RFC_BASE, "/g", "http://a/g", ZC_URL_OK},
    {RFC_BASE, "//g", "http://g/", ZC_URL_OK},
    {RFC_BASE, "?y", "http://a/b/c/d;p?y", ZC_URL_OK},
    {RFC_BASE, "g?y", "http://a/b/c/g?y", ZC_URL_OK},
    {RFC_BASE, "#s", "http://a/b/c/d;p?q", ZC_URL_OK},
    {RFC_BASE, "g#s", "http://a/b/c/g", ZC_URL_OK},
    {RFC_BASE, "g?y#s", "http://a/b/c/g?y", ZC_URL_OK},
    {RFC_BASE, ";x", "http://a/b/c/;x", ZC_URL_OK},
    {RFC_BASE, "g;x", "http://a/b/c/g;x", ZC_URL_OK},
    {RFC_BASE, "g;x?y#s", "http://a/b/c/g;x?y", ZC_URL_OK},
    {RFC_BASE, "", "http://a/b/c/d;p?q", ZC_URL_OK},
    {RFC_BASE, ".", "http://a/b/c/", ZC_URL_OK},
    {RFC_BASE, "./", "http://a/b/c/", ZC_URL_OK},
    {RFC_BASE, "..", "http://a/b/", ZC_URL_OK},
    {RFC_BASE, "../", "http://a/b/", ZC_URL_OK},
    {RFC_BASE, "../g", "http://a/b/g", ZC_URL_OK},
    {RFC_BASE, "../..", "http://a/", ZC_URL_OK},
    {RFC_BASE, "../../", "http://a/", ZC_URL_OK},
    {RFC_BASE, "../../g", "http://a/g", ZC_URL_OK},
    //  RFC 3986 5.4.2 abnormal examples
    {RFC_BASE, "../../../g", "http://a/g", ZC_URL_OK},
    {RFC_BASE, "../../../../g", "http://a/g", ZC_URL_OK},
    {RFC_BASE, "/./g", "http://a/g", ZC_URL_OK},
    {RFC_BASE, "/../g", "http://a/g", ZC_URL_OK},
    {RFC_BASE, "g.", "http://a/b/c/g.", ZC_URL_OK},
    {RFC_BASE, ".g", "http://a/b/c/.g", ZC_URL_OK},
    {RFC_BASE, "g..", "http://a/b/c/g..", ZC_URL_OK},
    {RFC_BASE, "..g", "http://a/b/c/..g", ZC_URL_OK},
    {RFC_BASE, "./../g", "http://a/b/g", ZC_URL_OK},
    {RFC_BASE, "./g/.", "http://a/b/c/g/", ZC_URL_OK},
    {RFC_BASE, "g/./h", "http://a/b/c/g/h", ZC_URL_OK},
    {RFC_BASE, "g/../h", "http://a/b/c/h", ZC_URL_OK},
    {RFC_BASE, "g;x=1/./y", "http://a/b/c/g;x=1/y", ZC_URL_OK},
    {RFC_BASE, "g;x=1/../y", "http://a/b/c/y", ZC_URL_OK},
    {RFC_BASE, "g?y/./x", "http://a/b/c/g?y/./x", ZC_URL_OK},
    {RFC_BASE, "g?y/../x", "http://a/b/c/g?y/../x", ZC_URL_OK},
    {RFC_BASE, "g#s/./x", "http://a/b/c/g", ZC_URL_OK},
    {RFC_BASE, "g#s/../x", "http://a/b/c/g", ZC_URL_OK},
    //  "http:g": non-strict (browser) reading, same scheme as the base
    {RFC_BASE, "http:g", "http://a/b/c/g", ZC_URL_OK},
    {RFC_BASE, "HTTP:/g", "http://a/g", ZC_URL_OK},

    //  Schemes that are not http(s)
    {"http://ex.com/", "mailto:someone@ex.com", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", "javascript:void(0)", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", "JavaScript:alert('x')", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", "data:text/html,<p>hi</p>", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", "tel:+123", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", "ftp://ex.com/file", NULL, ZC_URL_SCHEME},
    {"http://ex.com/", " mailto:x@y ", NULL, ZC_URL_SCHEME},
    //  Scheme-relative, query-only, fragment-only, dot segments
    {"https://ex.com/a/b", "//cdn.ex.com/lib.js", "https://cdn.ex.com/lib.js", ZC_URL_OK},
    {"http://ex.com/a/b", "//CDN.Ex.COM:80/x", "http://cdn.ex.com/x", ZC_URL_OK},
    {"http://ex.com/a/b?x=1", "?q=1", "http://ex.com/a/b?q=1", ZC_URL_OK},
    {"http://ex.com/a/b?x=1#top", "#frag", "http://ex.com/a/b?x=1", ZC_URL_OK},
    {"http://ex.com/a/b/c", "../../x", "http://ex.com/x", ZC_URL_OK},
    {"http://ex.com/a/b/c", "./y", "http://ex.com/a/b/y", ZC_URL_OK},
    //  Absolute URLs, case, default ports, empty path
    {"http://ex.com/", "https://other.org/p?q#f", "https://other.org/p?q", ZC_URL_OK},
    {"http://ex.com/", "HTTP://EXAMPLE.COM:80/Path", "http://example.com/Path", ZC_URL_OK},
    {"http://ex.com/", "HTTPS://Ex.Com:443", "https://ex.com/", ZC_URL_OK},
    {"http://ex.com/", "https://ex.com:80/", "https://ex.com:80/", ZC_URL_OK},
    {"http://ex.com/", "http://ex.com:8080", "http://ex.com:8080/", ZC_URL_OK},
    {"http://ex.com/", "http://ex.com?a=1", "http://ex.com/?a=1", ZC_URL_OK},
    {"http://ex.com/", "http://User:PW@Ex.COM/", "http://User:PW@ex.com/", ZC_URL_OK},
    {"http://ex.com/", "http://[::1]:80/x", "http://[::1]/x", ZC_URL_OK},
    {"http://ex.com/", "http://[FE80::1]:81/x", "http://[fe80::1]:81/x", ZC_URL_OK},
    //  Whitespace: trimmed around, TAB/CR/LF removed inside, spaces encoded
    {"http://ex.com/d/", "  \t\n page.html \r\n", "http://ex.com/d/page.html", ZC_URL_OK},
    {"http://ex.com/d/", "pa\tge\n.ht\rml", "http://ex.com/d/page.html", ZC_URL_OK},
    {"http://ex.com/d/", "my page.html?q=a b", "http://ex.com/d/my%20page.html?q=a%20b", ZC_URL_OK},
    {"http://ex.com/d/", "caf\xc3\xa9", "http://ex.com/d/caf%C3%A9", ZC_URL_OK},
    {"http://ex.com/d/", "caf%C3%A9", "http://ex.com/d/caf%C3%A9", ZC_URL_OK},
    {"http://ex.com/d/", "a<b>\"c|d", "http://ex.com/d/a%3Cb%3E%22c%7Cd", ZC_URL_OK},
    {"http://ex.com/d/", "100%", "http://ex.com/d/100%25", ZC_URL_OK},
    {"http://ex.com/d/", "a%2fb", "http://ex.com/d/a%2fb", ZC_URL_OK},
    {"http://ex.com/d/", "..\\x\\y", "http://ex.com/x/y", ZC_URL_OK},
    {"http://ex.com/d/", "   ", "http://ex.com/d/", ZC_URL_OK},
    //  Malformed
    {"http://ex.com/", "http://", NULL, ZC_URL_MALFORMED},
    {"http://ex.com/", "http://ex.com:99999/", NULL, ZC_URL_MALFORMED},
    {"http://ex.com/", "http://user@/x", NULL, ZC_URL_MALFORMED},
    {"http://ex.com/", "http:////x", NULL, ZC_URL_MALFORMED},
    {"http://ex.com/", "http://\xff\xfe.com/", NULL, ZC_URL_MALFORMED},
    {"http://ex.com/", "http://\xc3\xa9.com/", "http://\xc3\xa9.com/", ZC_URL_OK},
};

static void
test_resolve_table (void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof s_resolve_cases / sizeof s_resolve_cases[0]; i++) {
        const resolve_case_t *c = &s_resolve_cases[i];
        zc_url_status_t status = ZC_URL_OK;
        zc_url_base_t *base = zc_url_base_new (c->base, &status);
        assert_non_null (base);
        status = (zc_url_status_t)-1;
        char *got = zc_url_base_resolve (base, c->href, &status);
        bool ok = c->expected ? (got && strcmp (got, c->expected) == 0) : got == NULL;
        ok = ok && status == c->status;
        if (!ok) {
            fprintf (stderr, "case %zu: base %s href '%s': expected %s (%s), got %s (%s)\n", i,
                     c->base, c->href, c->expected ? c->expected : "NULL",
                     zc_url_status_str (c->status), got ? got : "NULL", zc_url_status_str (status));
            failures++;
        }
        free (got);
        zc_url_base_destroy (&base);
        assert_null (base);
    }
    assert_int_equal (failures, 0);
}

static void
test_base_new (void **state)
{
    (void)state;
    zc_url_status_t status;
    zc_url_base_t *base = zc_url_base_new ("mailto:x@y", &status);
    assert_null (base);
    assert_int_equal (status, ZC_URL_SCHEME);
    base = zc_url_base_new ("ftp://x/", &status);
    assert_null (base);
    assert_int_equal (status, ZC_URL_SCHEME);
    base = zc_url_base_new ("relative/path", &status);
    assert_null (base);
    assert_int_equal (status, ZC_URL_MALFORMED);
    base = zc_url_base_new ("", &status);
    assert_null (base);
    assert_int_not_equal (status, ZC_URL_OK);
    base = zc_url_base_new ("HTTP://Ex.Com:80/a#frag", &status);
    assert_non_null (base);
    assert_int_equal (status, ZC_URL_OK);
    char *self = zc_url_base_resolve (base, "", NULL);
    assert_string_equal (self, "http://ex.com/a");
    free (self);
    zc_url_base_destroy (&base);
    zc_url_base_destroy (&base); //  NULL-safe
}

static void
test_rebase (void **state)
{
    (void)state;
    zc_url_base_t *base = zc_url_base_new ("http://ex.com/a/page.html", NULL);
    assert_non_null (base);
    assert_int_equal (zc_url_base_rebase (base, "https://cdn.ex.com/root/"), 0);
    char *got = zc_url_base_resolve (base, "x/y", NULL);
    assert_string_equal (got, "https://cdn.ex.com/root/x/y");
    free (got);
    //  A relative base is resolved against the current one.
    assert_int_equal (zc_url_base_rebase (base, "../other/"), 0);
    got = zc_url_base_resolve (base, "z", NULL);
    assert_string_equal (got, "https://cdn.ex.com/other/z");
    free (got);
    //  Unusable hrefs leave the base unchanged.
    assert_int_equal (zc_url_base_rebase (base, "javascript:x"), -1);
    assert_int_equal (zc_url_base_rebase (base, "http://"), -1);
    got = zc_url_base_resolve (base, "z", NULL);
    assert_string_equal (got, "https://cdn.ex.com/other/z");
    free (got);
    zc_url_base_destroy (&base);
}

static void
test_canonical (void **state)
{
    (void)state;
    zc_url_status_t status;
    char *got = zc_url_canonical ("  HTTP://WWW.Example.COM:80  ", &status);
    assert_int_equal (status, ZC_URL_OK);
    assert_string_equal (got, "http://www.example.com/");
    free (got);
    got = zc_url_canonical ("https://ex.com:443/a/./b/../c?x=1#frag", &status);
    assert_string_equal (got, "https://ex.com/a/c?x=1");
    free (got);
    got = zc_url_canonical ("http://ex.com/a b", &status);
    assert_string_equal (got, "http://ex.com/a%20b");
    free (got);
    //  Idempotent
    char *again = zc_url_canonical ("http://ex.com/a%20b", &status);
    assert_string_equal (again, "http://ex.com/a%20b");
    free (again);
    assert_null (zc_url_canonical ("/relative", &status));
    assert_int_equal (status, ZC_URL_MALFORMED);
    assert_null (zc_url_canonical ("mailto:a@b", &status));
    assert_int_equal (status, ZC_URL_SCHEME);
    assert_null (zc_url_canonical ("file:///etc/passwd", &status));
    assert_int_equal (status, ZC_URL_SCHEME);
    assert_null (zc_url_canonical ("", &status));
    assert_int_not_equal (status, ZC_URL_OK);
}

static void
test_too_long (void **state)
{
    (void)state;
    size_t n = ZC_URL_MAX_BYTES + 100;
    char *url = malloc (n + 1);
    assert_non_null (url);
    memcpy (url, "http://ex.com/", 14);
    memset (url + 14, 'a', n - 14);
    url[n] = 0;
    zc_url_status_t status;
    assert_null (zc_url_canonical (url, &status));
    assert_int_equal (status, ZC_URL_TOO_LONG);
    zc_url_base_t *base = zc_url_base_new ("http://ex.com/", NULL);
    assert_non_null (base);
    assert_null (zc_url_base_resolve (base, url + 14, &status));
    assert_int_equal (status, ZC_URL_TOO_LONG);
    //  Fits in the input limit but not once spaces are encoded.
    memset (url + 14, ' ', ZC_URL_MAX_BYTES / 2);
    url[14] = 'x';
    url[14 + ZC_URL_MAX_BYTES / 2] = 'x';
    url[15 + ZC_URL_MAX_BYTES / 2] = 0;
    assert_null (zc_url_base_resolve (base, url + 14, &status));
    assert_int_equal (status, ZC_URL_TOO_LONG);
    //  Just under the limit works.
    url[ZC_URL_MAX_BYTES] = 0;
    memset (url + 14, 'b', ZC_URL_MAX_BYTES - 14);
    char *got = zc_url_canonical (url, &status);
    assert_non_null (got);
    assert_int_equal (strlen (got), ZC_URL_MAX_BYTES);
    free (got);
    zc_url_base_destroy (&base);
    free (url);
}

static void
test_host_key (void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal (zc_url_host_key ("http://ex.com/", buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:80");
    assert_int_equal (zc_url_host_key ("https://ex.com/a?b", buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:443");
    assert_int_equal (zc_url_host_key ("http://ex.com:8080/", buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:8080");
    assert_int_equal (zc_url_host_key ("https://ex.com:80/", buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:80");
    assert_int_equal (zc_url_host_key ("http://[::1]/x", buf, sizeof buf), 0);
    assert_string_equal (buf, "[::1]:80");
    assert_int_equal (zc_url_host_key ("http://[::1]:9000/x", buf, sizeof buf), 0);
    assert_string_equal (buf, "[::1]:9000");
    assert_int_equal (zc_url_host_key ("http://user:pw@ex.com:81/", buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:81");
    assert_int_equal (zc_url_host_key ("http://127.0.0.1:4321/", buf, sizeof buf), 0);
    assert_string_equal (buf, "127.0.0.1:4321");
    //  Round trip with canonicalisation
    char *canonical = zc_url_canonical ("HTTP://EX.COM:80/x", NULL);
    assert_int_equal (zc_url_host_key (canonical, buf, sizeof buf), 0);
    assert_string_equal (buf, "ex.com:80");
    free (canonical);
    //  Errors
    assert_int_equal (zc_url_host_key ("ftp://ex.com/", buf, sizeof buf), -1);
    assert_int_equal (zc_url_host_key ("http:///x", buf, sizeof buf), -1);
    assert_int_equal (zc_url_host_key ("http://[::1/x", buf, sizeof buf), -1);
    assert_int_equal (zc_url_host_key ("http://ex.com:/x", buf, sizeof buf), -1);
    assert_int_equal (zc_url_host_key ("http://ex.com:8a/x", buf, sizeof buf), -1);
    assert_int_equal (zc_url_host_key ("relative", buf, sizeof buf), -1);
    char small[6];
    assert_int_equal (zc_url_host_key ("http://ex.com/", small, sizeof small), -1);
}

static void
test_fingerprint (void **state)
{
    (void)state;
    uint64_t a = zc_url_fingerprint ("http://ex.com/");
    //  Stable across calls and processes (the seen set is persisted).
    assert_true (a == zc_url_fingerprint ("http://ex.com/"));
    assert_true (a != zc_url_fingerprint ("http://ex.com/a"));
    assert_true (a != zc_url_fingerprint ("https://ex.com/"));
    //  Equivalent spellings collapse to one fingerprint via the canonical form.
    char *c1 = zc_url_canonical ("HTTP://Ex.com:80", NULL);
    char *c2 = zc_url_canonical ("http://ex.com/#top", NULL);
    assert_true (zc_url_fingerprint (c1) == zc_url_fingerprint (c2));
    assert_true (zc_url_fingerprint (c1) == a);
    free (c1);
    free (c2);
    //  Pinned value: must never change without migrating stored seen sets.
    assert_true (zc_url_fingerprint ("http://example.com/") == 0x7193bf4c41ae0ad3ULL);
}

static void
test_status_str (void **state)
{
    (void)state;
    assert_string_equal (zc_url_status_str (ZC_URL_OK), "ok");
    assert_non_null (zc_url_status_str (ZC_URL_MALFORMED));
    assert_non_null (zc_url_status_str (ZC_URL_SCHEME));
    assert_non_null (zc_url_status_str (ZC_URL_TOO_LONG));
}

//  ---------------------------------------------------------------------
//  Fast path vs curl

typedef struct {
    size_t compared;
    size_t differences;
} diff_stats_t;

static void
s_compare (const char *base_url, const char *href, diff_stats_t *stats)
{
    zc_url_base_t *base = zc_url_base_new (base_url, NULL);
    if (!base)
        return;
    zc_url_status_t fast_status = ZC_URL_OK, curl_status = ZC_URL_OK;
    char *fast = zc_url_base_resolve (base, href, &fast_status);
    char *slow = zc_url_base_resolve_curl (base, href, &curl_status);
    stats->compared++;
    bool same = fast_status == curl_status &&
                ((!fast && !slow) || (fast && slow && strcmp (fast, slow) == 0));
    if (!same) {
        stats->differences++;
        if (stats->differences <= 200)
            printf ("fast path differs: base '%s' href '%s': fast '%s' (%d) curl '%s' (%d)\n",
                    base_url, href, fast ? fast : "(null)", (int)fast_status,
                    slow ? slow : "(null)", (int)curl_status);
    }
    free (fast);
    free (slow);
    zc_url_base_destroy (&base);
}

static const char *s_diff_bases[] = {
    "http://a/b/c/d;p?q",     "http://127.0.0.1:8080/p/5.html",
    "https://ex.com/",        "http://ex.com",
    "http://Ex.COM:80/a/b/",  "http://ex.com:8080/a?x=1",
    "https://ex.com:443/x/y", "http://User:PW@ex.com/a/",
    "http://[::1]:8080/a/b",  "http://h1.bench.test:8080/p/deep/",
};

static void
test_fast_grid (void **state)
{
    (void)state;
    const char *authorities[] = {
        "",
        "//ex.org",
        "//EX.Org:80",
        "//ex.org:443",
        "//ex.org:8080",
        "//ex.org:0",
        "//ex.org:08080",
        "//ex.org:65535",
        "//ex.org:65536",
        "//ex.org:",
        "//ex.org:8a",
        "//1.2.3.4",
        "//127.0.0.1:8080",
        "//255.255.255.255",
        "//256.1.1.1",
        "//127.1",
        "//01.2.3.4",
        "//1.2.3.4.",
        "//0x7f.0.0.1",
        "//1.2.3.4.5",
        "//1a.b",
        "//a1.b2",
        "//a..b",
        "//-a.b",
        "//a.",
        "//.a",
        "//h_x.com",
        "//u@ex.org",
        "//[::1]",
        "//caf\xc3\xa9.com",
        "///x",
        "http://H.com",
        "HTTPS://h.com:443",
        "https://h.com:80",
        "Http://h.com:81",
        "http:",
        "https:",
        "ftp:",
        "ftp://h.com",
        "mailto:",
        "a:",
    };
    const char *paths[] = {"",
                           ".",
                           "..",
                           "./",
                           "../",
                           "././",
                           "./../",
                           "../../",
                           ".././",
                           "a/../",
                           "./a/../",
                           ".//",
                           "..//",
                           ".///x",
                           "./..//x",
                           "a/..//x",
                           "./a//../x",
                           "..",
                           "...",
                           ".../x",
                           "/",
                           "/.",
                           "/..",
                           "/./",
                           "/../",
                           "a",
                           "a/",
                           "/a/./b",
                           "/a/../b",
                           "a/../b",
                           "../../../../x",
                           "a/..",
                           "a/.",
                           "/a/..",
                           "/a/.",
                           "%2e/x",
                           "%2E%2E/x",
                           "/%2e%2e/x",
                           ".a/..b/",
                           "a//b/../c",
                           "//x",
                           ";x",
                           "a:b",
                           "./a:b",
                           "/p/./x/../134.html",
                           "../../p/11.html",
                           "./../12.html",
                           "a b",
                           "caf\xc3\xa9",
                           "100%",
                           "a%zz",
                           "a\\b",
                           "~user/!$&'()*+,;=:@-._",
                           "a<b>\"{|}^`"};
    const char *queries[] = {"", "?", "?q", "?a/../b", "??x", "?a=1&b=%20", "?x#f", "#f", "?a b"};
    diff_stats_t stats = {0};
    char href[512];
    for (size_t b = 0; b < sizeof s_diff_bases / sizeof s_diff_bases[0]; b++)
        for (size_t a = 0; a < sizeof authorities / sizeof authorities[0]; a++)
            for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++)
                for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
                    //  A path after an authority needs its '/'.
                    const char *path = paths[p];
                    const char *sep =
                        authorities[a][0] == '/' && path[0] && path[0] != '/' ? "/" : "";
                    snprintf (href, sizeof href, "%s%s%s%s", authorities[a], sep, path, queries[q]);
                    s_compare (s_diff_bases[b], href, &stats);
                }
    printf ("fast path grid: %zu hrefs compared, %zu differences\n", stats.compared,
            stats.differences);
    assert_true (stats.compared > 10000);
    assert_int_equal (stats.differences, 0);
}

//  Compares every href="..." and src="..." value of the HTML in TEXT
//  against each base.
static void
s_compare_html (const char *text, diff_stats_t *stats)
{
    const char *attrs[] = {"href=\"", "src=\""};
    for (size_t a = 0; a < 2; a++)
        for (const char *p = strstr (text, attrs[a]); p; p = strstr (p, attrs[a])) {
            p += strlen (attrs[a]);
            const char *end = strchr (p, '"');
            if (!end)
                break;
            char href[2048];
            size_t len = (size_t)(end - p) < sizeof href - 1 ? (size_t)(end - p) : sizeof href - 1;
            memcpy (href, p, len);
            href[len] = 0;
            for (size_t b = 0; b < sizeof s_diff_bases / sizeof s_diff_bases[0]; b++)
                s_compare (s_diff_bases[b], href, stats);
            p = end;
        }
}

static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t len = 0, alloc = 0;
    char chunk[65536];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0) {
        if (len + got + 1 > alloc) {
            alloc = (len + got + 1) * 2;
            text = realloc (text, alloc);
            assert_non_null (text);
        }
        memcpy (text + len, chunk, got);
        len += got;
    }
    fclose (file);
    if (text)
        text[len] = 0;
    return text;
}

static void
s_compare_dir (const char *dir, diff_stats_t *stats)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    struct dirent *entry;
    while ((entry = readdir (d)) != NULL) {
        size_t len = strlen (entry->d_name);
        if (len < 5 || strcmp (entry->d_name + len - 5, ".html") != 0)
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        char *text = s_read_file (path);
        if (text)
            s_compare_html (text, stats);
        free (text);
    }
    closedir (d);
}

static void
s_remove_tree (const char *dir)
{
    char command[4200];
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    assert_int_equal (system (command), 0);
}

static void
test_fast_site_and_fixtures (void **state)
{
    (void)state;
    diff_stats_t stats = {0};
    s_compare_dir (ZC_FIXTURES_DIR "/html", &stats);
    //  The generated site in its three shapes: default, benchmark, hosts.
    zc_testsite_config_t configs[] = {
        {.pages = 300, .host = "127.0.0.1", .port = 8080, .external_port = 8081},
        {.pages = 300, .host = "127.0.0.1", .port = 8080, .external_port = 8081, .links = 44},
        {.pages = 300, .host = "127.0.0.1", .port = 8080, .external_port = 8081, .hosts = 20},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        char dir[] = "/tmp/test_zc_url-XXXXXX";
        assert_non_null (mkdtemp (dir));
        assert_int_equal (zc_testsite_write_dir (&configs[i], dir), 0);
        s_compare_dir (dir, &stats);
        char pages[4200];
        snprintf (pages, sizeof pages, "%s/p", dir);
        s_compare_dir (pages, &stats);
        s_remove_tree (dir);
    }
    printf ("fast path on pages: %zu hrefs compared, %zu differences\n", stats.compared,
            stats.differences);
    assert_true (stats.compared > 10000);
    assert_int_equal (stats.differences, 0);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_resolve_table), cmocka_unit_test (test_base_new),
        cmocka_unit_test (test_rebase),        cmocka_unit_test (test_canonical),
        cmocka_unit_test (test_too_long),      cmocka_unit_test (test_host_key),
        cmocka_unit_test (test_fingerprint),   cmocka_unit_test (test_status_str),
        cmocka_unit_test (test_fast_grid),     cmocka_unit_test (test_fast_site_and_fixtures),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
