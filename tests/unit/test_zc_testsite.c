/*  Tests for zc_testsite: determinism of the ground truth, the truth checked
    against the served bytes by an independent crawl (libxml2 + curl_url,
    not the project's parser or URL code), and each special path over real
    HTTP on 127.0.0.1.
*/
#include "zc_testsite.h"

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

//  ---------------------------------------------------------------------
//  Helpers

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    char *data;
    size_t size;
    char headers[4096];
    size_t headers_len;
} s_body_t;

static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *userdata)
{
    s_body_t *body = userdata;
    size_t n = size * nmemb;
    char *grown = realloc (body->data, body->size + n + 1);
    assert_non_null (grown);
    body->data = grown;
    memcpy (body->data + body->size, ptr, n);
    body->size += n;
    body->data[body->size] = '\0';
    return n;
}

static size_t
s_on_header (char *ptr, size_t size, size_t nmemb, void *userdata)
{
    s_body_t *body = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof body->headers - 1 - body->headers_len;
    size_t copy = n < room ? n : room;
    memcpy (body->headers + body->headers_len, ptr, copy);
    body->headers_len += copy;
    body->headers[body->headers_len] = '\0';
    return n;
}

static CURL *
s_easy (const char *url, s_body_t *body)
{
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    memset (body, 0, sizeof *body);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, body);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    return curl;
}

//  GET URL (no redirects followed); returns the status, body in *BODY.
static long
s_get (const char *url, s_body_t *body)
{
    CURL *curl = s_easy (url, body);
    CURLcode rc = curl_easy_perform (curl);
    assert_int_equal (rc, CURLE_OK);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    return status;
}

static char *
s_url (zc_testsite_t *site, const char *path)
{
    size_t n = strlen (zc_testsite_url (site)) + strlen (path) + 1;
    char *url = malloc (n);
    assert_non_null (url);
    snprintf (url, n, "%s%s", zc_testsite_url (site), path);
    return url;
}

static long
s_get_path (zc_testsite_t *site, const char *path, s_body_t *body)
{
    char *url = s_url (site, path);
    long status = s_get (url, body);
    free (url);
    return status;
}

static bool
s_has_header (const s_body_t *body, const char *line)
{
    //  case-insensitive search for a header line prefix
    size_t n = strlen (line);
    for (const char *p = body->headers; *p; p++)
        if ((p == body->headers || p[-1] == '\n') && strncasecmp (p, line, n) == 0)
            return true;
    return false;
}

//  Title of the page in TRUTH with URL, or NULL.
static const char *
s_truth_title (json_t *truth, const char *url)
{
    size_t i;
    json_t *page;
    json_array_foreach (json_object_get (truth, "pages"), i, page)
    {
        if (strcmp (json_string_value (json_object_get (page, "url")), url) == 0)
            return json_string_value (json_object_get (page, "title"));
    }
    return NULL;
}

static zc_testsite_t *
s_site_new (uint32_t pages, int slow_ms, const char *log_path)
{
    zc_testsite_config_t config = {.pages = pages,
                                   .seed = 42,
                                   .host = "127.0.0.1",
                                   .slow_ms = slow_ms,
                                   .big_bytes = 100000,
                                   .log_path = log_path};
    zc_testsite_t *site = zc_testsite_new (&config);
    assert_non_null (site);
    return site;
}

//  ---------------------------------------------------------------------
//  Truth

static void
test_truth_deterministic (void **state)
{
    (void)state;
    zc_testsite_config_t a = {
        .pages = 300, .seed = 7, .host = "127.0.0.1", .port = 8080, .external_port = 8081};
    zc_testsite_config_t b = a;
    json_t *ta = zc_testsite_truth_static (&a);
    json_t *tb = zc_testsite_truth_static (&b);
    assert_true (json_equal (ta, tb));
    b.seed = 8;
    json_t *tc = zc_testsite_truth_static (&b);
    assert_false (json_equal (ta, tc));
    assert_string_equal (json_string_value (json_object_get (ta, "seed")),
                         "http://127.0.0.1:8080/");
    assert_string_equal (json_string_value (json_object_get (ta, "external")),
                         "http://127.0.0.1:8081");
    json_decref (ta);
    json_decref (tb);
    json_decref (tc);
}

static void
test_truth_complete (void **state)
{
    (void)state;
    const uint32_t pages = 1000;
    zc_testsite_config_t config = {
        .pages = pages, .seed = 3, .host = "127.0.0.1", .port = 9000, .external_port = 9001};
    json_t *truth = zc_testsite_truth_static (&config);
    json_t *list = json_object_get (truth, "pages");
    json_t *urls = json_object ();
    size_t i, queries = 0, redirected = 0;
    json_t *page;
    json_array_foreach (list, i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        const char *title = json_string_value (json_object_get (page, "title"));
        const char *final_url = json_string_value (json_object_get (page, "final_url"));
        assert_non_null (url);
        assert_non_null (title);
        assert_non_null (final_url);
        assert_true (strncmp (url, "http://127.0.0.1:9000/", 22) == 0);
        assert_null (strchr (url, '#'));
        assert_null (strstr (url, "/./"));
        assert_null (strstr (url, "/../"));
        assert_null (strstr (title, "&amp;"));
        assert_null (strstr (title, "&#"));
        assert_null (json_object_get (urls, url)); //  each URL once
        json_object_set_new (urls, url, json_true ());
        queries += strchr (url, '?') != NULL;
        redirected += strcmp (url, final_url) != 0;
    }
    //  every generated page, the home, gzip and redirect pages
    for (uint32_t p = 0; p < pages; p++) {
        char url[64];
        snprintf (url, sizeof url, "http://127.0.0.1:9000/p/%u.html", p);
        assert_non_null (json_object_get (urls, url));
    }
    assert_non_null (json_object_get (urls, "http://127.0.0.1:9000/"));
    assert_non_null (json_object_get (urls, "http://127.0.0.1:9000/gzip.html"));
    assert_int_equal (redirected, 1);
    assert_true (queries > 0 && queries <= pages / 20);
    assert_int_equal (json_array_size (list), pages + 3 + queries);
    //  some titles carry decoded entities and non-ASCII text
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:9000/p/%u.html", 3);
    assert_non_null (strstr (s_truth_title (truth, url), " & "));
    snprintf (url, sizeof url, "http://127.0.0.1:9000/p/%u.html", 4);
    assert_non_null (strstr (s_truth_title (truth, url), "café"));

    json_t *errors = json_object_get (truth, "errors");
    assert_int_equal (json_array_size (errors), 3);
    json_t *reasons = json_object ();
    json_array_foreach (errors, i, page)
    {
        json_object_set (reasons, json_string_value (json_object_get (page, "url")),
                         json_object_get (page, "reason"));
    }
    assert_string_equal (
        json_string_value (json_object_get (reasons, "http://127.0.0.1:9000/slow.html")),
        "timeout");
    assert_string_equal (
        json_string_value (json_object_get (reasons, "http://127.0.0.1:9000/big.html")),
        "too_large");
    assert_string_equal (
        json_string_value (json_object_get (reasons, "http://127.0.0.1:9000/big-chunked.html")),
        "too_large");
    json_decref (reasons);
    json_decref (urls);
    json_decref (truth);
}

//  ---------------------------------------------------------------------
//  The truth against the served bytes: an independent BFS crawl

typedef struct {
    json_t *seen; //  canonical URL -> true
    char **queue; //  owned URLs
    size_t head, tail, cap;
    const char *prefix; //  main base URL + "/"
    const char *marker; //  hosts mode: in scope iff "http://h..." holding this (".SUFFIX:PORT/")
} s_crawl_t;

static void
s_crawl_push (s_crawl_t *crawl, const char *url)
{
    if (crawl->marker) {
        if (strncmp (url, "http://h", 8) != 0 || !strstr (url, crawl->marker))
            return; //  other host (external listener)
    } else if (strncmp (url, crawl->prefix, strlen (crawl->prefix)) != 0)
        return; //  other host (external listener)
    if (json_object_get (crawl->seen, url))
        return;
    json_object_set_new (crawl->seen, url, json_true ());
    if (crawl->tail == crawl->cap) {
        crawl->cap = crawl->cap ? crawl->cap * 2 : 256;
        crawl->queue = realloc (crawl->queue, crawl->cap * sizeof *crawl->queue);
        assert_non_null (crawl->queue);
    }
    crawl->queue[crawl->tail++] = strdup (url);
}

//  Resolves HREF against BASE with curl_url; canonical URL or NULL.
static char *
s_resolve (const char *base, const char *href)
{
    while (*href == ' ' || *href == '\t' || *href == '\n')
        href++;
    char trimmed[512];
    snprintf (trimmed, sizeof trimmed, "%s", href);
    //  curl 7.88 resolves "#x" against /a/b as /a/ (RFC 3986: /a/b): cut the
    //  fragment first; an empty reference is the base itself.
    trimmed[strcspn (trimmed, "#")] = '\0';
    size_t n = strlen (trimmed);
    while (n > 0 && (trimmed[n - 1] == ' ' || trimmed[n - 1] == '\t' || trimmed[n - 1] == '\n'))
        trimmed[--n] = '\0';
    CURLU *u = curl_url ();
    assert_non_null (u);
    char *out = NULL;
    if (curl_url_set (u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        (n == 0 || curl_url_set (u, CURLUPART_URL, trimmed, 0) == CURLUE_OK)) {
        char *scheme = NULL;
        if (curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            strcasecmp (scheme, "http") == 0) {
            curl_url_set (u, CURLUPART_FRAGMENT, NULL, 0);
            curl_url_get (u, CURLUPART_URL, &out, 0);
        }
        curl_free (scheme);
    }
    curl_url_cleanup (u);
    if (!out)
        return NULL;
    char *copy = strdup (out);
    curl_free (out);
    assert_non_null (copy);
    //  canonical: lowercase host (curl keeps "H1.BENCH.TEST" as written)
    char *host = strstr (copy, "://");
    for (char *c = host ? host + 3 : copy; host && *c && *c != '/'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return copy;
}

static void
s_collect (xmlNode *node, char *title, size_t title_size, char *base, size_t base_size,
           json_t *hrefs)
{
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)node->name;
            if (strcasecmp (name, "title") == 0 && !*title) {
                xmlChar *text = xmlNodeGetContent (node);
                snprintf (title, title_size, "%s", text ? (const char *)text : "");
                xmlFree (text);
            }
            xmlChar *href = xmlGetProp (node, (const xmlChar *)"href");
            if (href) {
                if (strcasecmp (name, "base") == 0 && !*base)
                    snprintf (base, base_size, "%s", (const char *)href);
                else if (strcasecmp (name, "a") == 0)
                    json_array_append_new (hrefs, json_string ((const char *)href));
                xmlFree (href);
            }
        }
        s_collect (node->children, title, title_size, base, base_size, hrefs);
    }
}

//  Crawls SITE over HTTP from its seed with curl and libxml2 (URLs in scope:
//  MARKER as in s_crawl_t, or the site's own prefix), RESOLVE entries given
//  to curl, and checks the result against the truth: same URLs, same titles.
//  Returns the number of cross-host links seen (pages linking another host).
static size_t
s_check_served (zc_testsite_t *site, const char *marker, struct curl_slist *resolve)
{
    json_t *truth = zc_testsite_truth (site);
    char prefix[256];
    snprintf (prefix, sizeof prefix, "%s/", zc_testsite_url (site));
    s_crawl_t crawl = {.seen = json_object (), .prefix = prefix, .marker = marker};
    s_crawl_push (&crawl, prefix);
    size_t cross = 0;
    json_t *titles = json_object ();
    size_t fetched = 0;
    CURL *curl = curl_easy_init ();
    assert_non_null (curl);
    while (crawl.head < crawl.tail) {
        char *url = crawl.queue[crawl.head++];
        if (strstr (url, "/slow.html") || strstr (url, "/big")) {
            free (url); //  errors, checked elsewhere
            continue;
        }
        s_body_t body;
        memset (&body, 0, sizeof body);
        curl_easy_reset (curl);
        curl_easy_setopt (curl, CURLOPT_URL, url);
        curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
        curl_easy_setopt (curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "");
        if (resolve)
            curl_easy_setopt (curl, CURLOPT_RESOLVE, resolve);
        assert_int_equal (curl_easy_perform (curl), CURLE_OK);
        long status = 0;
        char *effective = NULL;
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo (curl, CURLINFO_EFFECTIVE_URL, &effective);
        if (status != 200)
            fail_msg ("%s: status %ld", url, status);
        fetched++;

        htmlDocPtr doc = htmlReadMemory (body.data, (int)body.size, effective, "utf-8",
                                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
        assert_non_null (doc);
        char title[512] = "", base_href[512] = "";
        json_t *hrefs = json_array ();
        s_collect (xmlDocGetRootElement (doc), title, sizeof title, base_href, sizeof base_href,
                   hrefs);
        xmlFreeDoc (doc);
        json_object_set_new (titles, url, json_string (title));
        char *base = *base_href ? s_resolve (effective, base_href) : strdup (effective);
        assert_non_null (base);
        size_t k;
        json_t *href;
        json_array_foreach (hrefs, k, href)
        {
            char *target = s_resolve (base, json_string_value (href));
            if (target) {
                s_crawl_push (&crawl, target);
                //  another host of the site: "http://hK." differs from the page's
                const char *dot = strchr (target + 7, '.');
                size_t host_len = dot ? (size_t)(dot - target) : 0;
                if (marker && host_len && strstr (target, marker) &&
                    strncmp (target, effective, host_len + 1) != 0)
                    cross++;
            }
            free (target);
        }
        free (base);
        json_decref (hrefs);
        free (body.data);
        free (url);
    }
    curl_easy_cleanup (curl);

    //  Same URL set, same titles
    json_t *pages = json_object_get (truth, "pages");
    assert_int_equal (json_array_size (pages), fetched);
    size_t i;
    json_t *page;
    json_array_foreach (pages, i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        json_t *title = json_object_get (titles, url);
        if (!title)
            fail_msg ("truth page %s not reached by the crawl", url);
        assert_string_equal (json_string_value (title),
                             json_string_value (json_object_get (page, "title")));
    }
    json_t *errors = json_object_get (truth, "errors");
    json_array_foreach (errors, i, page)
    {
        assert_non_null (
            json_object_get (crawl.seen, json_string_value (json_object_get (page, "url"))));
    }
    assert_int_equal (json_object_size (crawl.seen), fetched + json_array_size (errors));
    //  Nothing the crawl found is missing from the truth (checked by the
    //  counts above) and the external listener was linked but is not in it.
    assert_true (zc_testsite_external_hits (site) == 0);
    free (crawl.queue);
    json_decref (crawl.seen);
    json_decref (titles);
    json_decref (truth);
    return cross;
}

static void
test_truth_matches_served_site (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (150, 200, NULL);
    assert_int_equal (s_check_served (site, NULL, NULL), 0);
    zc_testsite_destroy (&site);
    assert_null (site);
}

//  ---------------------------------------------------------------------
//  Special paths over HTTP

static void
test_page_and_keepalive (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (50, 200, NULL);
    json_t *truth = zc_testsite_truth (site);
    s_body_t body;
    assert_int_equal (s_get_path (site, "/p/7.html", &body), 200);
    assert_true (s_has_header (&body, "Content-Type: text/html; charset=utf-8"));
    assert_non_null (strstr (body.data, "<span class=\"price\">"));
    assert_true (body.size > 1500 && body.size < 12000);
    char *url = s_url (site, "/p/7.html");
    const char *title = s_truth_title (truth, url);
    assert_non_null (title);
    char expected[600];
    snprintf (expected, sizeof expected, "<title>%s</title>", title);
    assert_non_null (strstr (body.data, expected)); //  no entity in page 7's title
    free (body.data);

    //  Two requests on one handle share one connection (keep-alive)
    CURL *curl = s_easy (url, &body);
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    long connects = -1;
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    curl_easy_getinfo (curl, CURLINFO_NUM_CONNECTS, &connects);
    assert_int_equal (connects, 0);
    curl_easy_cleanup (curl);
    free (body.data);
    free (url);

    //  A query variant serves the same page
    assert_int_equal (s_get_path (site, "/p/7.html?ref=2", &body), 200);
    assert_non_null (strstr (body.data, expected));
    free (body.data);
    json_decref (truth);
    zc_testsite_destroy (&site);
}

static void
test_not_found (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (100, 200, NULL);
    const char *paths[] = {
        "/nope",    "/robots.txt", "/p/100.html", "/p/07.html",
        "/p/7.htm", "/p/-1.html",  "/redirect/4", "/p/99999999999999999999.html"};
    for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
        s_body_t body;
        assert_int_equal (s_get_path (site, paths[k], &body), 404);
        free (body.data);
    }
    s_body_t body;
    assert_int_equal (s_get_path (site, "/p/99.html", &body), 200);
    free (body.data);
    zc_testsite_destroy (&site);
}

static void
test_gzip (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    char *url = s_url (site, "/gzip.html");

    //  Without Accept-Encoding: plain
    s_body_t plain;
    assert_int_equal (s_get (url, &plain), 200);
    assert_false (s_has_header (&plain, "Content-Encoding:"));
    assert_non_null (strstr (plain.data, "<title>Compressed page — gzip</title>"));

    //  With it: gzip bytes that inflate to the same page
    s_body_t gz;
    CURL *curl = s_easy (url, &gz);
    struct curl_slist *headers = curl_slist_append (NULL, "Accept-Encoding: deflate, gzip;q=0.8");
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    assert_true (s_has_header (&gz, "Content-Encoding: gzip"));
    assert_true (gz.size > 2 && (unsigned char)gz.data[0] == 0x1f &&
                 (unsigned char)gz.data[1] == 0x8b);
    assert_true (gz.size < plain.size);
    z_stream z;
    memset (&z, 0, sizeof z);
    assert_int_equal (inflateInit2 (&z, 15 + 16), Z_OK);
    char *out = malloc (plain.size + 16);
    assert_non_null (out);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.size;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)(plain.size + 16);
    assert_int_equal (inflate (&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal (z.total_out, plain.size);
    assert_memory_equal (out, plain.data, plain.size);
    inflateEnd (&z);
    free (out);
    free (gz.data);

    //  q=0 refuses gzip
    curl = s_easy (url, &gz);
    headers = curl_slist_append (NULL, "Accept-Encoding: gzip;q=0, identity");
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    assert_false (s_has_header (&gz, "Content-Encoding:"));
    assert_int_equal (gz.size, plain.size);
    free (gz.data);
    free (plain.data);
    free (url);
    zc_testsite_destroy (&site);
}

static void
test_redirects (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    s_body_t body;
    assert_int_equal (s_get_path (site, "/redirect/1", &body), 302);
    assert_true (s_has_header (&body, "Location: /redirect/2\r"));
    free (body.data);
    assert_int_equal (s_get_path (site, "/redirect/2", &body), 301);
    char location[256];
    snprintf (location, sizeof location, "Location: %s/redirect/3\r", zc_testsite_url (site));
    assert_true (s_has_header (&body, location));
    free (body.data);
    assert_int_equal (s_get_path (site, "/redirect/3", &body), 302);
    assert_true (s_has_header (&body, "Location: /redirect/final.html\r"));
    free (body.data);

    //  Followed: ends on the final page, whose title is the truth's
    char *url = s_url (site, "/redirect/1");
    CURL *curl = s_easy (url, &body);
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    char *effective = NULL;
    long redirects = 0;
    curl_easy_getinfo (curl, CURLINFO_EFFECTIVE_URL, &effective);
    curl_easy_getinfo (curl, CURLINFO_REDIRECT_COUNT, &redirects);
    assert_int_equal (redirects, 3);
    json_t *truth = zc_testsite_truth (site);
    size_t i;
    json_t *page;
    bool found = false;
    json_array_foreach (json_object_get (truth, "pages"), i, page)
    {
        if (strcmp (json_string_value (json_object_get (page, "url")), url) == 0) {
            found = true;
            assert_string_equal (json_string_value (json_object_get (page, "final_url")),
                                 effective);
        }
    }
    assert_true (found);
    assert_non_null (strstr (body.data, "<title>Redirect target — final</title>"));
    curl_easy_cleanup (curl);
    json_decref (truth);
    free (body.data);
    free (url);
    zc_testsite_destroy (&site);
}

static void
test_big (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    s_body_t body;
    assert_int_equal (s_get_path (site, "/big.html", &body), 200);
    assert_true (s_has_header (&body, "Content-Length: 100000\r"));
    assert_int_equal (body.size, 100000);
    assert_non_null (strstr (body.data, "<title>Big page</title>"));
    assert_non_null (strstr (body.data + body.size - 20, "</html>\n"));
    char *first = body.data;

    assert_int_equal (s_get_path (site, "/big-chunked.html", &body), 200);
    assert_false (s_has_header (&body, "Content-Length:"));
    assert_true (s_has_header (&body, "Transfer-Encoding: chunked"));
    assert_int_equal (body.size, 100000);
    assert_memory_equal (body.data, first, 100000);
    free (body.data);
    free (first);
    zc_testsite_destroy (&site);
}

static void
test_slow_does_not_block (void **state)
{
    (void)state;
    const int slow_ms = 300;
    zc_testsite_t *site = s_site_new (20, slow_ms, NULL);
    char *slow_url = s_url (site, "/slow.html");
    char *fast_url = s_url (site, "/p/1.html");
    s_body_t slow_body, fast_body;
    CURLM *multi = curl_multi_init ();
    CURL *slow = s_easy (slow_url, &slow_body);
    CURL *fast = s_easy (fast_url, &fast_body);
    int64_t started = s_mono_ms ();
    curl_multi_add_handle (multi, slow);
    curl_multi_add_handle (multi, fast);
    int64_t fast_done = -1, slow_done = -1;
    while (slow_done < 0 && s_mono_ms () - started < 10000) {
        int running = 0;
        curl_multi_perform (multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read (multi, &left))) {
            assert_int_equal (msg->msg, CURLMSG_DONE);
            assert_int_equal (msg->data.result, CURLE_OK);
            if (msg->easy_handle == fast)
                fast_done = s_mono_ms () - started;
            else
                slow_done = s_mono_ms () - started;
        }
        curl_multi_poll (multi, NULL, 0, 50, NULL);
    }
    assert_true (fast_done >= 0);
    assert_true (slow_done >= slow_ms);
    assert_true (fast_done < slow_ms); //  served while the slow one waited
    assert_non_null (strstr (slow_body.data, "<title>Slow page</title>"));
    curl_multi_remove_handle (multi, slow);
    curl_multi_remove_handle (multi, fast);
    curl_easy_cleanup (slow);
    curl_easy_cleanup (fast);
    curl_multi_cleanup (multi);
    free (slow_body.data);
    free (fast_body.data);
    free (slow_url);
    free (fast_url);
    zc_testsite_destroy (&site);
}

static void
test_destroy_does_not_wait_for_slow (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 30000, NULL);
    char *url = s_url (site, "/slow.html");
    s_body_t body;
    CURLM *multi = curl_multi_init ();
    CURL *slow = s_easy (url, &body);
    curl_multi_add_handle (multi, slow);
    //  wait (with a deadline) until the request is inside the site
    int64_t deadline = s_mono_ms () + 5000;
    while (zc_testsite_hits (site) == 0 && s_mono_ms () < deadline) {
        int running = 0;
        curl_multi_perform (multi, &running);
        curl_multi_poll (multi, NULL, 0, 20, NULL);
    }
    assert_int_equal (zc_testsite_hits (site), 1);
    int64_t started = s_mono_ms ();
    zc_testsite_destroy (&site);
    assert_true (s_mono_ms () - started < 5000);
    curl_multi_remove_handle (multi, slow);
    curl_easy_cleanup (slow);
    curl_multi_cleanup (multi);
    free (body.data);
    free (url);
}

static void
test_hits_and_log (void **state)
{
    (void)state;
    char log_path[] = "/tmp/zc_testsite_logXXXXXX";
    int fd = mkstemp (log_path);
    assert_true (fd >= 0);
    close (fd);
    zc_testsite_t *site = s_site_new (20, 200, log_path);
    s_body_t body;
    assert_int_equal (s_get_path (site, "/p/1.html?ref=2", &body), 200);
    free (body.data);
    assert_int_equal (s_get_path (site, "/missing", &body), 404);
    free (body.data);
    char external[256];
    snprintf (external, sizeof external, "%s/x/5.html", zc_testsite_external_url (site));
    assert_int_equal (s_get (external, &body), 200);
    free (body.data);
    assert_int_equal (zc_testsite_hits (site), 2);
    assert_int_equal (zc_testsite_external_hits (site), 1);

    //  Lines are flushed as they are written: readable while serving
    FILE *file = fopen (log_path, "r");
    assert_non_null (file);
    char line[512];
    //  "LISTENER START_MS HOST METHOD URI STATUS", START_MS wall clock
    const char *expected[] = {"main",     "127.0.0.1 GET /p/1.html?ref=2 200\n",
                              "main",     "127.0.0.1 GET /missing 404\n",
                              "external", "127.0.0.1 GET /x/5.html 200\n"};
    int64_t now_ms = (int64_t)time (NULL) * 1000;
    for (size_t k = 0; k < 3; k++) {
        assert_non_null (fgets (line, sizeof line, file));
        char listener[16];
        long long start_ms = 0;
        int used = 0;
        assert_int_equal (sscanf (line, "%15s %lld %n", listener, &start_ms, &used), 2);
        assert_string_equal (listener, expected[2 * k]);
        assert_true (start_ms > now_ms - 60000 && start_ms < now_ms + 60000);
        assert_string_equal (line + used, expected[2 * k + 1]);
    }
    assert_null (fgets (line, sizeof line, file));
    fclose (file);
    zc_testsite_destroy (&site);
    unlink (log_path);
}

static void
test_bad_config (void **state)
{
    (void)state;
    zc_testsite_config_t config = {
        .pages = 10, .host = "127.0.0.1", .log_path = "/nonexistent-dir/x/log"};
    assert_null (zc_testsite_new (&config));
    zc_testsite_t *site = s_site_new (10, 200, NULL);
    //  port already taken
    const char *url = zc_testsite_url (site);
    int port = atoi (strrchr (url, ':') + 1);
    zc_testsite_config_t taken = {.pages = 10, .host = "127.0.0.1", .port = port};
    assert_null (zc_testsite_new (&taken));
    zc_testsite_destroy (&site);
    zc_testsite_destroy (&site); //  NULL-safe
    zc_testsite_destroy (NULL);
}

static void
test_write_dir (void **state)
{
    (void)state;
    char dir[] = "/tmp/zc_testsite_dirXXXXXX";
    assert_non_null (mkdtemp (dir));
    zc_testsite_t *site = s_site_new (30, 200, NULL);
    const char *url = zc_testsite_url (site);
    const char *ext = zc_testsite_external_url (site);
    zc_testsite_config_t config = {.pages = 30,
                                   .seed = 42,
                                   .host = "127.0.0.1",
                                   .port = atoi (strrchr (url, ':') + 1),
                                   .external_port = atoi (strrchr (ext, ':') + 1),
                                   .big_bytes = 100000};
    assert_int_equal (zc_testsite_write_dir (&config, dir), 0);

    //  Served and written bytes agree; the static truth equals the live one
    const char *files[] = {"index.html",          "p/0.html", "p/29.html",        "gzip.html",
                           "redirect/final.html", "big.html", "big-chunked.html", "slow.html"};
    const char *paths[] = {
        "/",         "/p/0.html",         "/p/29.html", "/gzip.html", "/redirect/final.html",
        "/big.html", "/big-chunked.html", NULL};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s", dir, files[k]);
        FILE *file = fopen (path, "rb");
        assert_non_null (file);
        char *data = malloc (200000);
        assert_non_null (data);
        size_t n = fread (data, 1, 200000, file);
        fclose (file);
        assert_true (n > 0);
        if (paths[k]) {
            s_body_t body;
            assert_int_equal (s_get_path (site, paths[k], &body), 200);
            assert_int_equal (body.size, n);
            assert_memory_equal (body.data, data, n);
            free (body.data);
        }
        free (data);
        assert_int_equal (unlink (path), 0);
    }
    json_t *live = zc_testsite_truth (site);
    json_t *static_truth = zc_testsite_truth_static (&config);
    assert_true (json_equal (live, static_truth));
    json_decref (live);
    json_decref (static_truth);
    for (uint32_t i = 1; i < 29; i++) {
        char path[512];
        snprintf (path, sizeof path, "%s/p/%u.html", dir, i);
        assert_int_equal (unlink (path), 0);
    }
    char path[512];
    snprintf (path, sizeof path, "%s/p", dir);
    assert_int_equal (rmdir (path), 0);
    snprintf (path, sizeof path, "%s/redirect", dir);
    assert_int_equal (rmdir (path), 0);
    assert_int_equal (rmdir (dir), 0); //  nothing else was written
    zc_testsite_destroy (&site);
}

//  ---------------------------------------------------------------------
//  Scenario hosts (chosen by the Host header)

typedef struct {
    long status;
    CURLcode rc;
    double seconds; //  total transfer time
} s_result_t;

//  GET PATH on the main listener with "Host: HOST"; body in *BODY.
static s_result_t
s_get_host (zc_testsite_t *site, const char *host, const char *path, s_body_t *body)
{
    char *url = s_url (site, path);
    CURL *curl = s_easy (url, body);
    char header[256];
    snprintf (header, sizeof header, "Host: %s", host);
    struct curl_slist *headers = curl_slist_append (NULL, header);
    assert_non_null (headers);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    s_result_t result = {0, CURLE_OK, 0};
    result.rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &result.status);
    curl_easy_getinfo (curl, CURLINFO_TOTAL_TIME, &result.seconds);
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    free (url);
    return result;
}

static long
s_status_host (zc_testsite_t *site, const char *host, const char *path)
{
    s_body_t body;
    s_result_t result = s_get_host (site, host, path, &body);
    free (body.data);
    assert_int_equal (result.rc, CURLE_OK);
    return result.status;
}

//  The value of header NAME (case-insensitive) in BODY's headers, into OUT.
static bool
s_header_value (const s_body_t *body, const char *name, char *out, size_t size)
{
    size_t n = strlen (name);
    for (const char *p = body->headers; *p; p++)
        if ((p == body->headers || p[-1] == '\n') && strncasecmp (p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn (v, "\r\n");
            snprintf (out, size, "%.*s", (int)len, v);
            return true;
        }
    return false;
}

//  "http://HOST:PORT/PATH": HOST into HOST_OUT, returns PATH ("/..." ).
static const char *
s_split_url (const char *url, char *host_out, size_t size)
{
    assert_true (strncmp (url, "http://", 7) == 0);
    const char *host = url + 7;
    size_t n = strcspn (host, ":/");
    assert_true (n < size);
    memcpy (host_out, host, n);
    host_out[n] = '\0';
    const char *path = strchr (host, '/');
    assert_non_null (path);
    return path;
}

static json_t *
s_scenario (json_t *truth, const char *host)
{
    json_t *scenario = json_object_get (json_object_get (truth, "scenarios"), host);
    assert_non_null (scenario);
    return scenario;
}

static void
test_scenario_hosts (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    s_body_t body;
    //  127.0.0.1, an unknown host and a scenario host with a port
    s_result_t r = s_get_host (site, "127.0.0.1", "/", &body);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (body.data, "zcrawl test site"));
    free (body.data);
    r = s_get_host (site, "unknown.test", "/p/1.html", &body);
    assert_int_equal (r.status, 200);
    free (body.data);
    r = s_get_host (site, "Polite.TEST:8080", "/", &body);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (body.data, "<title>Polite home</title>"));
    assert_null (strstr (body.data, "zcrawl test site"));
    free (body.data);
    assert_int_equal (s_status_host (site, "polite.test", "/p/1.html"), 404);
    //  Every scenario host has a robots.txt answer and a home page
    json_t *truth = zc_testsite_truth (site);
    const char *hosts[] = {"polite.test",    "flaky.test",     "unavailable.test", "reset.test",
                           "slow.test",      "redirects.test", "charset.test",     "trap.test",
                           "robots503.test", "extract.test"};
    long robots[] = {200, 404, 404, 404, 404, 404, 404, 404, 503, 404};
    for (size_t k = 0; k < sizeof hosts / sizeof hosts[0]; k++) {
        s_scenario (truth, hosts[k]);
        assert_int_equal (s_status_host (site, hosts[k], "/robots.txt"), robots[k]);
        assert_int_equal (s_status_host (site, hosts[k], "/"), 200);
    }
    r = s_get_host (site, "polite.test", "/robots.txt", &body);
    assert_string_equal (body.data, json_string_value (json_object_get (
                                        s_scenario (truth, "polite.test"), "robots")));
    assert_non_null (strstr (body.data, "Crawl-delay: 0.2\n"));
    free (body.data);
    json_decref (truth);
    zc_testsite_destroy (&site);
}

//  Every truth page of every scenario is served with its title (UTF-8
//  pages; charset.test checked byte-wise below) and each redirect ends
//  where the truth says.
static void
test_scenario_truth_served (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    json_t *truth = zc_testsite_truth (site);
    const char *url = zc_testsite_url (site);
    int port = atoi (strrchr (url, ':') + 1);
    const char *key;
    json_t *scenario;
    size_t pages = 0;
    json_object_foreach (json_object_get (truth, "scenarios"), key, scenario)
    {
        char prefix[128];
        snprintf (prefix, sizeof prefix, "http://%s:%d", key, port);
        assert_string_equal (json_string_value (json_object_get (scenario, "base")), prefix);
        size_t i;
        json_t *page;
        json_array_foreach (json_object_get (scenario, "pages"), i, page)
        {
            const char *page_url = json_string_value (json_object_get (page, "url"));
            const char *final_url = json_string_value (json_object_get (page, "final_url"));
            assert_true (strncmp (page_url, prefix, strlen (prefix)) == 0);
            //  The final URL may be on another scenario host (/to-polite)
            char final_host[128];
            const char *path = s_split_url (final_url, final_host, sizeof final_host);
            if (strcmp (page_url, final_url) != 0) {
                s_body_t body;
                s_result_t r = s_get_host (site, key, page_url + strlen (prefix), &body);
                free (body.data);
                assert_true (r.status == 301 || r.status == 302);
            }
            s_body_t body;
            s_result_t r = s_get_host (site, final_host, path, &body);
            if (strcmp (path, "/500-then-200") == 0 || strcmp (path, "/retry-after") == 0 ||
                strcmp (path, "/429-date") == 0) {
                assert_true (r.status >= 400); //  first request fails, then 200
                free (body.data);
                r = s_get_host (site, key, path, &body);
            }
            assert_int_equal (r.status, 200);
            if (strcmp (key, "charset.test") != 0) {
                char expected[512];
                snprintf (expected, sizeof expected, "<title>%s</title>",
                          json_string_value (json_object_get (page, "title")));
                assert_non_null (strstr (body.data, expected));
            }
            free (body.data);
            pages++;
        }
        //  "never_requested" paths are linked or redirected to, never in pages
        json_t *never;
        json_array_foreach (json_object_get (scenario, "never_requested"), i, never)
        {
            char never_url[1024];
            snprintf (never_url, sizeof never_url, "%s%s", prefix, json_string_value (never));
            size_t j;
            json_array_foreach (json_object_get (scenario, "pages"), j, page)
                assert_string_not_equal (json_string_value (json_object_get (page, "url")),
                                         never_url);
        }
    }
    assert_true (pages > 70);
    json_t *trap = s_scenario (truth, "trap.test");
    json_t *cut = json_object_get (trap, "cut");
    assert_true (json_array_size (cut) >= 3);
    size_t i;
    json_t *entry;
    int guards = 0;
    json_array_foreach (cut, i, entry)
    {
        const char *guard = json_string_value (json_object_get (entry, "guard"));
        guards |= strcmp (guard, "max_depth") == 0 ? 1 : 0;
        guards |= strcmp (guard, "max_segment_repeats") == 0 ? 2 : 0;
        guards |= strcmp (guard, "max_path_segments") == 0 ? 4 : 0;
    }
    assert_int_equal (guards, 7);
    json_decref (truth);
    zc_testsite_destroy (&site);
}

static void
test_scenario_flaky (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 300, NULL);
    assert_int_equal (s_status_host (site, "flaky.test", "/500-then-200"), 500);
    assert_int_equal (s_status_host (site, "flaky.test", "/500-then-200"), 200);
    assert_int_equal (s_status_host (site, "flaky.test", "/500-then-200"), 200);
    for (int k = 0; k < 4; k++)
        assert_int_equal (s_status_host (site, "flaky.test", "/always-503"), 503);

    s_body_t body;
    char value[128];
    s_result_t r = s_get_host (site, "flaky.test", "/retry-after", &body);
    assert_int_equal (r.status, 503);
    assert_true (s_header_value (&body, "Retry-After", value, sizeof value));
    assert_string_equal (value, "1");
    free (body.data);
    assert_int_equal (s_status_host (site, "flaky.test", "/retry-after"), 200);

    time_t before = time (NULL);
    r = s_get_host (site, "flaky.test", "/429-date", &body);
    time_t after = time (NULL);
    assert_int_equal (r.status, 429);
    assert_true (s_header_value (&body, "Retry-After", value, sizeof value));
    assert_non_null (strstr (value, " GMT"));
    time_t at = curl_getdate (value, NULL);
    assert_true (at >= before + 2 && at <= after + 2);
    free (body.data);
    assert_int_equal (s_status_host (site, "flaky.test", "/429-date"), 200);

    //  Reset mid-body, every time: curl sees a partial transfer
    for (int k = 0; k < 2; k++) {
        r = s_get_host (site, "flaky.test", "/reset", &body);
        assert_int_equal (r.rc, CURLE_PARTIAL_FILE);
        assert_true (body.size > 0 && body.size < 4096);
        free (body.data);
    }
    //  Slow: answers after slow_ms
    int64_t start = s_mono_ms ();
    assert_int_equal (s_status_host (site, "flaky.test", "/slow"), 200);
    assert_true (s_mono_ms () - start >= 300);
    zc_testsite_destroy (&site);
}

static void
test_scenario_redirects (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    const char *url = zc_testsite_url (site);
    int port = atoi (strrchr (url, ':') + 1);
    s_body_t body;
    char value[256], expected[256];
    struct {
        const char *host, *path, *location;
    } hops[] = {
        {"redirects.test", "/loop/a", "/loop/b"},
        {"redirects.test", "/loop/b", "/loop/a"},
        {"redirects.test", "/chain/1", "/chain/2"},
        {"redirects.test", "/chain/11", "/chain/12"},
        {"redirects.test", "/chain/12", "/chain/end.html"},
        {"redirects.test", "/short/1", "/short/2"},
        {"polite.test", "/go-private", "/private/x.html"},
    };
    for (size_t k = 0; k < sizeof hops / sizeof hops[0]; k++) {
        s_result_t r = s_get_host (site, hops[k].host, hops[k].path, &body);
        assert_true (r.status == 301 || r.status == 302);
        assert_true (s_header_value (&body, "Location", value, sizeof value));
        assert_string_equal (value, hops[k].location);
        free (body.data);
    }
    s_result_t r = s_get_host (site, "redirects.test", "/to-polite", &body);
    assert_int_equal (r.status, 301);
    assert_true (s_header_value (&body, "Location", value, sizeof value));
    snprintf (expected, sizeof expected, "http://polite.test:%d/landing.html", port);
    assert_string_equal (value, expected);
    free (body.data);
    r = s_get_host (site, "redirects.test", "/to-external", &body);
    assert_true (s_header_value (&body, "Location", value, sizeof value));
    snprintf (expected, sizeof expected, "%s/x/redirected.html", zc_testsite_external_url (site));
    assert_string_equal (value, expected);
    free (body.data);
    assert_int_equal (s_status_host (site, "redirects.test", "/chain/13"), 404);
    zc_testsite_destroy (&site);
}

//  Appends to HOPS every URL the redirect chain starting at URL visits after
//  URL itself (absolute), up to a loop, a non-redirect or 20 hops.
static void
s_follow_chain (zc_testsite_t *site, const char *url, json_t *hops)
{
    char current[1024];
    snprintf (current, sizeof current, "%s", url);
    for (int k = 0; k < 20; k++) {
        char host[128];
        const char *path = s_split_url (current, host, sizeof host);
        if (strcmp (host, "127.0.0.1") != 0 && !strstr (current, ".test:"))
            return;
        s_body_t body;
        s_result_t r = s_get_host (site, host, path, &body);
        char location[1024];
        bool moved = (r.status == 301 || r.status == 302) &&
                     s_header_value (&body, "Location", location, sizeof location);
        free (body.data);
        if (!moved)
            return;
        CURLU *u = curl_url ();
        assert_non_null (u);
        char *next = NULL;
        assert_int_equal (curl_url_set (u, CURLUPART_URL, current, 0), CURLUE_OK);
        assert_int_equal (curl_url_set (u, CURLUPART_URL, location, 0), CURLUE_OK);
        assert_int_equal (curl_url_get (u, CURLUPART_URL, &next, 0), CURLUE_OK);
        curl_url_cleanup (u);
        bool again = strcmp (next, url) == 0;
        size_t i;
        json_t *hop;
        json_array_foreach (hops, i, hop) again =
            again || strcmp (json_string_value (hop), next) == 0;
        if (!again)
            json_array_append_new (hops, json_string (next));
        snprintf (current, sizeof current, "%s", next);
        curl_free (next);
        if (again)
            return;
    }
}

//  Appends to LINKS every href="..." of the page at URL, resolved (absolute).
static void
s_page_links (zc_testsite_t *site, const char *url, json_t *links)
{
    char host[128];
    const char *path = s_split_url (url, host, sizeof host);
    s_body_t body;
    s_result_t r = s_get_host (site, host, path, &body);
    if (r.status >= 400) { //  /500-then-200 and the like: fails once, then 200
        free (body.data);
        r = s_get_host (site, host, path, &body);
    }
    assert_int_equal (r.status, 200);
    for (const char *p = strstr (body.data, "href=\""); p; p = strstr (p, "href=\"")) {
        p += 6;
        size_t n = strcspn (p, "\"");
        char href[1024];
        snprintf (href, sizeof href, "%.*s", (int)n, p);
        CURLU *u = curl_url ();
        assert_non_null (u);
        char *link = NULL;
        if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_set (u, CURLUPART_URL, href, 0) == CURLUE_OK &&
            curl_url_set (u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
            curl_url_get (u, CURLUPART_URL, &link, 0) == CURLUE_OK) {
            json_array_append_new (links, json_string (link));
            curl_free (link);
        }
        curl_url_cleanup (u);
    }
    free (body.data);
}

static void
s_chains_of (zc_testsite_t *site, json_t *doc, json_t *hops, json_t *pages)
{
    size_t i;
    json_t *page;
    json_array_foreach (json_object_get (doc, "pages"), i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        const char *final_url = json_string_value (json_object_get (page, "final_url"));
        json_array_append (pages, json_object_get (page, "final_url"));
        if (strcmp (url, final_url) != 0)
            s_follow_chain (site, url, hops);
    }
    json_t *error;
    json_array_foreach (json_object_get (doc, "errors"), i, error)
    {
        if (json_object_get (error, "location"))
            s_follow_chain (site, json_string_value (json_object_get (error, "url")), hops);
    }
}

//  Determinism: no redirect hop or target of any chain in the truth (generated
//  site and scenarios) is also linked directly from a page the crawler parses,
//  else its outcome would depend on whether the link or the hop came first.
static void
test_scenario_hops_not_linked (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (60, 200, NULL);
    json_t *truth = zc_testsite_truth (site);
    json_t *hops = json_array (), *pages = json_array (), *links = json_array ();
    s_chains_of (site, truth, hops, pages);
    const char *key;
    json_t *scenario;
    json_object_foreach (json_object_get (truth, "scenarios"), key, scenario)
        s_chains_of (site, scenario, hops, pages);
    //  every chain of the truth was followed: generated /redirect/1 (3 hops),
    //  /loop/a (/loop/b, then back to the origin), /chain/1 (/chain/2 .. 12 and
    //  end.html), /short/1 (2), /to-polite, /to-external, /go-private (1 each)
    assert_int_equal (json_array_size (hops), 3 + 1 + 12 + 2 + 1 + 1 + 1);
    size_t i, j;
    json_t *page, *hop, *link;
    json_array_foreach (pages, i, page) s_page_links (site, json_string_value (page), links);
    assert_true (json_array_size (links) > 100);
    json_array_foreach (hops, i, hop)
    {
        json_array_foreach (links, j, link)
        {
            if (strcmp (json_string_value (hop), json_string_value (link)) == 0)
                fail_msg ("redirect hop %s is also linked directly", json_string_value (hop));
        }
    }
    json_decref (hops);
    json_decref (pages);
    json_decref (links);
    json_decref (truth);
    zc_testsite_destroy (&site);
}

static void
test_scenario_charset (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    s_body_t body;
    char value[128];
    struct {
        const char *path, *content_type, *bytes;
    } cases[] = {
        {"/latin1.html", "text/html; charset=ISO-8859-1", "<title>Caf\xe9 cr\xe8me</title>"},
        {"/header-wins.html", "text/html; charset=iso-8859-1", "<meta charset=\"utf-8\">"},
        {"/cp1252.html", "text/html", "<title>Price \x80\x35 \x93quoted\x94</title>"},
        {"/bom.html", "text/html", "\xef\xbb\xbf<!DOCTYPE html>"},
        {"/invalid.html", "text/html; charset=utf-8", "<title>Bad \xff\xfe byte \xc3(</title>"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        s_result_t r = s_get_host (site, "charset.test", cases[k].path, &body);
        assert_int_equal (r.status, 200);
        assert_true (s_header_value (&body, "Content-Type", value, sizeof value));
        assert_string_equal (value, cases[k].content_type);
        assert_non_null (strstr (body.data, cases[k].bytes));
        free (body.data);
    }
    zc_testsite_destroy (&site);
}

static void
test_scenario_trap (void **state)
{
    (void)state;
    zc_testsite_t *site = s_site_new (20, 200, NULL);
    s_body_t body;
    s_result_t r = s_get_host (site, "trap.test", "/cal/2026/12/", &body);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (body.data, "href=\"/cal/2026/11/\""));
    assert_non_null (strstr (body.data, "href=\"/cal/2027/01/\""));
    assert_non_null (strstr (body.data, "href=\"/cal/2026/12/01/\""));
    free (body.data);
    //  endless both ways
    assert_int_equal (s_status_host (site, "trap.test", "/cal/1999/01/"), 200);
    assert_int_equal (s_status_host (site, "trap.test", "/cal/2400/02/29/"), 200);
    assert_int_equal (s_status_host (site, "trap.test", "/cal/2100/02/29/"), 404);
    r = s_get_host (site, "trap.test", "/rel/a/a/a/a/a/a/", &body);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (body.data, "href=\"a/\""));
    free (body.data);
    assert_int_equal (s_status_host (site, "trap.test", "/rel/b/"), 404);
    assert_int_equal (s_status_host (site, "trap.test", "/seg/1/2/3"), 200);
    zc_testsite_destroy (&site);
}

static void
test_scenario_log (void **state)
{
    (void)state;
    char log_path[] = "/tmp/zc_testsite_logXXXXXX";
    int fd = mkstemp (log_path);
    assert_true (fd >= 0);
    close (fd);
    zc_testsite_t *site = s_site_new (20, 200, log_path);
    assert_int_equal (s_status_host (site, "Polite.Test:1234", "/robots.txt"), 200);
    assert_int_equal (s_status_host (site, "robots503.test", "/robots.txt"), 503);
    //  an unusable Host is logged as "-" and gets the generated site
    assert_int_equal (s_status_host (site, "bad_host!", "/"), 200);
    FILE *file = fopen (log_path, "r");
    assert_non_null (file);
    char line[512];
    long long first = 0, second = 0;
    int used = 0;
    assert_non_null (fgets (line, sizeof line, file));
    assert_int_equal (sscanf (line, "main %lld %n", &first, &used), 1);
    assert_string_equal (line + used, "polite.test GET /robots.txt 200\n");
    assert_non_null (fgets (line, sizeof line, file));
    assert_int_equal (sscanf (line, "main %lld %n", &second, &used), 1);
    assert_string_equal (line + used, "robots503.test GET /robots.txt 503\n");
    assert_true (second >= first);
    assert_non_null (fgets (line, sizeof line, file));
    assert_int_equal (sscanf (line, "main %lld %n", &second, &used), 1);
    assert_string_equal (line + used, "- GET / 200\n");
    fclose (file);
    zc_testsite_destroy (&site);
    unlink (log_path);
}

//  ---------------------------------------------------------------------
//  Hosts mode (--hosts) and the link count (--links)

//  Parses "http://h<K>.<SUFFIX><path>" into K and PATH; false otherwise.
static bool
s_split_host_url (const char *url, const char *suffix, unsigned *k, const char **path)
{
    if (strncmp (url, "http://h", 8) != 0)
        return false;
    char *end = NULL;
    unsigned long v = strtoul (url + 8, &end, 10);
    if (end == url + 8 || *end != '.' || strncmp (end + 1, suffix, strlen (suffix)) != 0)
        return false;
    *k = (unsigned)v;
    *path = end + 1 + strlen (suffix);
    return true;
}

static void
test_hosts_truth (void **state)
{
    (void)state;
    zc_testsite_config_t config = {.pages = 400,
                                   .seed = 7,
                                   .host = "127.0.0.1",
                                   .port = 8080,
                                   .external_port = 9090,
                                   .hosts = 9,
                                   .links = 44};
    json_t *truth = zc_testsite_truth_static (&config);
    assert_non_null (truth);
    json_t *again = zc_testsite_truth_static (&config);
    assert_true (json_equal (truth, again)); //  same config, same site
    json_decref (again);
    assert_string_equal (json_string_value (json_object_get (truth, "seed")),
                         "http://h0.bench.test:8080/");
    assert_string_equal (json_string_value (json_object_get (truth, "external")),
                         "http://127.0.0.1:9090");

    //  Every page under its own host, every generated page reachable once
    bool reached[400] = {false};
    bool host_seen[9] = {false};
    size_t i, generated = 0;
    json_t *page;
    json_array_foreach (json_object_get (truth, "pages"), i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        unsigned k = 0;
        const char *path = NULL;
        if (!s_split_host_url (url, "bench.test:8080", &k, &path))
            fail_msg ("truth URL %s is not on a site host", url);
        assert_true (k < 9);
        host_seen[k] = true;
        unsigned n = 0;
        if (sscanf (path, "/p/%u.html", &n) == 1) {
            assert_true (n < 400);
            if (k != n % 9)
                fail_msg ("%s: page %u on host h%u, want h%u", url, n, k, n % 9);
            if (!strchr (path, '?')) {
                assert_false (reached[n]);
                reached[n] = true;
                generated++;
            }
        } else
            assert_int_equal (k, 0); //  home and fixed paths live on h0
        const char *final_url = json_string_value (json_object_get (page, "final_url"));
        assert_true (strncmp (final_url, "http://h", 8) == 0);
    }
    for (unsigned k = 0; k < 9; k++)
        assert_true (host_seen[k]);
    assert_int_equal (generated, 400); //  the tree and chain links reach every page
    json_array_foreach (json_object_get (truth, "errors"), i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        assert_true (strncmp (url, "http://h0.bench.test:8080/", 26) == 0);
    }
    json_decref (truth);

    //  Suffix and port 80: lowercase names, no ":80"
    config.host_suffix = "Crawl.Example";
    config.port = 80;
    truth = zc_testsite_truth_static (&config);
    assert_non_null (truth);
    assert_string_equal (json_string_value (json_object_get (truth, "seed")),
                         "http://h0.crawl.example/");
    json_decref (truth);

    //  hosts = 0 is the single-host site
    config.hosts = 0;
    config.port = 8080;
    truth = zc_testsite_truth_static (&config);
    json_array_foreach (json_object_get (truth, "pages"), i, page)
    {
        const char *url = json_string_value (json_object_get (page, "url"));
        assert_true (strncmp (url, "http://127.0.0.1:8080/", 22) == 0);
    }
    json_decref (truth);
}

//  Mean number of <a href> on the first N generated pages of SITE.
static double
s_mean_links (zc_testsite_t *site, uint32_t n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        char path[64];
        snprintf (path, sizeof path, "/p/%u.html", i);
        s_body_t body;
        assert_int_equal (s_get_path (site, path, &body), 200);
        for (const char *p = body.data; (p = strstr (p, "<a href=")) != NULL; p++)
            total++;
        free (body.data);
    }
    return (double)total / n;
}

static void
test_links_option (void **state)
{
    (void)state;
    const uint32_t links[] = {44, 12, 100};
    for (size_t t = 0; t < sizeof links / sizeof links[0]; t++) {
        zc_testsite_config_t config = {
            .pages = 300, .seed = 3, .host = "127.0.0.1", .links = links[t]};
        zc_testsite_t *site = zc_testsite_new (&config);
        assert_non_null (site);
        double mean = s_mean_links (site, 150);
        //  about L: page links average L - 4, the rest (mail, script,
        //  external, "#top", duplicates) about 4
        if (mean < links[t] * 0.9 - 1 || mean > links[t] * 1.1 + 1)
            fail_msg ("--links %u: mean %.1f links per page", links[t], mean);
        zc_testsite_destroy (&site);
    }
    //  links = 0: the generator's own mix
    zc_testsite_t *site = s_site_new (300, 200, NULL);
    double mean = s_mean_links (site, 150);
    assert_true (mean > 20 && mean < 40);
    zc_testsite_destroy (&site);
}

static void
test_hosts_served (void **state)
{
    (void)state;
    char log_path[] = "/tmp/zc_testsite_hosts_logXXXXXX";
    int fd = mkstemp (log_path);
    assert_true (fd >= 0);
    close (fd);
    zc_testsite_config_t config = {.pages = 120,
                                   .seed = 11,
                                   .host = "127.0.0.1",
                                   .slow_ms = 200,
                                   .big_bytes = 100000,
                                   .log_path = log_path,
                                   .hosts = 6,
                                   .links = 30};
    zc_testsite_t *site = zc_testsite_new (&config);
    assert_non_null (site);
    const char *url = zc_testsite_url (site);
    assert_true (strncmp (url, "http://h0.bench.test:", 21) == 0);
    int port = atoi (url + 21);
    assert_true (port > 0);

    //  Every host resolved to the listener, as a crawler would with --resolve
    struct curl_slist *resolve = NULL;
    for (uint32_t k = 0; k < 6; k++) {
        char name[64], entry[128];
        assert_int_equal (zc_testsite_host_name (&config, k, name, sizeof name), 0);
        snprintf (entry, sizeof entry, "%s:%d:127.0.0.1", name, port);
        resolve = curl_slist_append (resolve, entry);
        assert_non_null (resolve);
    }
    char marker[64];
    snprintf (marker, sizeof marker, ".bench.test:%d/", port);
    size_t cross = s_check_served (site, marker, resolve);
    assert_true (cross > 100); //  most links go to other hosts
    curl_slist_free_all (resolve);

    //  The log names each page's own host
    FILE *file = fopen (log_path, "r");
    assert_non_null (file);
    char line[1024];
    size_t pages = 0;
    bool host_seen[6] = {false};
    while (fgets (line, sizeof line, file)) {
        char listener[16], host[128], method[16], uri[512];
        long long start = 0;
        unsigned status = 0, n = 0, k = 0;
        assert_int_equal (sscanf (line, "%15s %lld %127s %15s %511s %u", listener, &start, host,
                                  method, uri, &status),
                          6);
        assert_string_equal (listener, "main");
        assert_int_equal (sscanf (host, "h%u.", &k), 1);
        assert_true (k < 6);
        host_seen[k] = true;
        if (sscanf (uri, "/p/%u.html", &n) == 1) {
            assert_int_equal (k, n % 6);
            pages++;
        } else
            assert_int_equal (k, 0);
    }
    fclose (file);
    assert_true (pages >= 120);
    for (unsigned k = 0; k < 6; k++)
        assert_true (host_seen[k]);
    zc_testsite_destroy (&site);
    unlink (log_path);
}

static void
test_host_names_and_addresses (void **state)
{
    (void)state;
    zc_testsite_config_t config = {.hosts = 3};
    char out[64];
    assert_int_equal (zc_testsite_host_name (&config, 2, out, sizeof out), 0);
    assert_string_equal (out, "h2.bench.test");
    assert_int_equal (zc_testsite_host_name (&config, 3, out, sizeof out), -1);
    assert_int_equal (zc_testsite_host_name (&config, 0, out, 5), -1);
    config.host_suffix = "Sites.Test";
    assert_int_equal (zc_testsite_host_name (&config, 0, out, sizeof out), 0);
    assert_string_equal (out, "h0.sites.test");
    const char *bad[] = {"",
                         "a b",
                         ".x",
                         "x.",
                         "a/b",
                         "a:1",
                         "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        config.host_suffix = bad[k];
        assert_int_equal (zc_testsite_host_name (&config, 0, out, sizeof out), -1);
        assert_null (zc_testsite_truth_static (&config));
        assert_null (zc_testsite_new (&config));
        assert_int_equal (zc_testsite_write_dir (&config, "/nonexistent/zc"), -1);
    }
    config.hosts = 0;
    config.host_suffix = NULL;
    assert_int_equal (zc_testsite_host_name (&config, 0, out, sizeof out), -1);

    assert_int_equal (zc_testsite_host_address (0, out, sizeof out), 0);
    assert_string_equal (out, "127.1.1.1");
    assert_int_equal (zc_testsite_host_address (253, out, sizeof out), 0);
    assert_string_equal (out, "127.1.1.254");
    assert_int_equal (zc_testsite_host_address (254, out, sizeof out), 0);
    assert_string_equal (out, "127.1.2.1");
    assert_int_equal (zc_testsite_host_address (254u * 254u * 254u - 1, out, sizeof out), 0);
    assert_string_equal (out, "127.254.254.254");
    assert_int_equal (zc_testsite_host_address (254u * 254u * 254u, out, sizeof out), -1);
    assert_int_equal (zc_testsite_host_address (0, out, 8), -1);
    //  Distinct, inside 127.0.0.0/8, no .0 or .255 octet
    json_t *seen = json_object ();
    for (uint32_t k = 0; k < 70000; k++) {
        assert_int_equal (zc_testsite_host_address (k, out, sizeof out), 0);
        unsigned a = 0, b = 0, c = 0;
        assert_int_equal (sscanf (out, "127.%u.%u.%u", &a, &b, &c), 3);
        assert_true (a >= 1 && a <= 254 && b >= 1 && b <= 254 && c >= 1 && c <= 254);
        assert_null (json_object_get (seen, out));
        json_object_set_new (seen, out, json_true ());
    }
    assert_int_equal (json_object_size (seen), 70000);
    json_decref (seen);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    xmlInitParser ();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_truth_deterministic),
        cmocka_unit_test (test_truth_complete),
        cmocka_unit_test (test_truth_matches_served_site),
        cmocka_unit_test (test_page_and_keepalive),
        cmocka_unit_test (test_not_found),
        cmocka_unit_test (test_gzip),
        cmocka_unit_test (test_redirects),
        cmocka_unit_test (test_big),
        cmocka_unit_test (test_slow_does_not_block),
        cmocka_unit_test (test_destroy_does_not_wait_for_slow),
        cmocka_unit_test (test_hits_and_log),
        cmocka_unit_test (test_bad_config),
        cmocka_unit_test (test_write_dir),
        cmocka_unit_test (test_scenario_hosts),
        cmocka_unit_test (test_scenario_truth_served),
        cmocka_unit_test (test_scenario_flaky),
        cmocka_unit_test (test_scenario_redirects),
        cmocka_unit_test (test_scenario_hops_not_linked),
        cmocka_unit_test (test_scenario_charset),
        cmocka_unit_test (test_scenario_trap),
        cmocka_unit_test (test_scenario_log),
        cmocka_unit_test (test_hosts_truth),
        cmocka_unit_test (test_links_option),
        cmocka_unit_test (test_hosts_served),
        cmocka_unit_test (test_host_names_and_addresses),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    xmlCleanupParser ();
    curl_global_cleanup ();
    return rc;
}
