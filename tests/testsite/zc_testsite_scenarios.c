/*  zc_testsite_scenarios — misbehaving virtual hosts of the test site.

    Each scenario host is a small hand-written site: its pages are fixed
    (no generator), so its ground truth is written out next to it rather
    than derived from a crawl. Stateful paths ("500 then 200") keep one
    atomic request counter each in the scenarios object: a fresh site
    starts over, so each crawl that needs them starts its own site.

    Redirects go through the broker: the output has exactly one record per
    admitted URL, the chain's final outcome under the URL first requested
    (an item with "final_url", or an error with "location"); hop URLs have
    no record of their own. So that outcomes do not depend on timing, no
    hop or redirect target is also linked directly from any page (it would
    be "already seen" or not depending on which came first).

    extract.test's truth gives, per page, the item's "fields" for the rules
    of tests/fixtures/spec/extract.yaml: a single rule without a match is
    null (absent in the truth), an "all" rule without a match is [].

    The truth assumes one crawl seeded with every scenario host's "/"
    (so every scenario host is in scope), --max-attempts 3 (the default),
    --max-redirects 10 (the default), the default trap guards
    (max_path_segments 32, max_segment_repeats 3) and --max-depth 6; the
    timeout must be shorter than slow_ms.
*/
#include "zc_testsite_scenarios.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BASE_MAX 192
#define S_URL_MAX 1024

#define S_POLITE_PAGES 16  //  /page/1.html .. /page/16.html
#define S_POLITE_PRIVATE 3 //  /private/0.html .. /private/2.html are linked
#define S_CHAIN_HOPS 12    //  /chain/1 -> ... -> /chain/12 -> /chain/end.html
#define S_MAX_REDIRECTS 10 //  the --max-redirects the redirect truth assumes
#define S_TRAP_MAX_DEPTH 6 //  the --max-depth the trap truth assumes
#define S_TRAP_YEAR 2026   //  the calendar starts at 2026-11
#define S_TRAP_MONTH 11
#define S_SEG_KEPT 30     //  path segments of the deep URL that is kept
#define S_SEG_CUT 40      //  path segments of the deep URL that is cut
#define S_RESET_SENT 1024 //  /reset sends this many bytes of a longer body
#define S_RESET_CLAIMED 4096

typedef enum {
    S_COUNT_500_THEN_200,
    S_COUNT_RETRY_AFTER,
    S_COUNT_429_DATE,
    S_COUNTERS
} s_counter_t;

struct zc_scenarios {
    int port;
    char external[S_BASE_MAX]; //  external listener base URL
    int slow_ms;
    _Atomic unsigned counters[S_COUNTERS];
};

static const char *const s_hosts[] = {
    "polite.test",    "flaky.test",   "unavailable.test", "reset.test",     "slow.test",
    "redirects.test", "charset.test", "trap.test",        "robots503.test", "extract.test"};

//  ---------------------------------------------------------------------
//  Growing buffer (aborts on out of memory, like the rest of the site)

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_buf_t;

static void
s_buf_add (s_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc (b->data, cap);
        if (!data) {
            fprintf (stderr, "zc_testsite: out of memory\n");
            abort ();
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void s_buf_printf (s_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_buf_printf (s_buf_t *b, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (NULL, 0, fmt, args);
    va_end (args);
    if (n <= 0)
        return;
    char *text = malloc ((size_t)n + 1);
    if (!text) {
        fprintf (stderr, "zc_testsite: out of memory\n");
        abort ();
    }
    va_start (args, fmt);
    vsnprintf (text, (size_t)n + 1, fmt, args);
    va_end (args);
    s_buf_add (b, text, (size_t)n);
    free (text);
}

//  ---------------------------------------------------------------------
//  Responses

//  A response owning a copy of DATA with CONTENT_TYPE (NULL = none).
static struct MHD_Response *
s_bytes (const char *data, size_t size, const char *content_type)
{
    char *copy = malloc (size ? size : 1);
    if (!copy)
        return NULL;
    memcpy (copy, data, size);
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, copy, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (copy);
        return NULL;
    }
    if (content_type &&
        MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
        MHD_destroy_response (response);
        return NULL;
    }
    return response;
}

static struct MHD_Response *
s_buf_response (s_buf_t *b, const char *content_type)
{
    struct MHD_Response *response = s_bytes (b->data ? b->data : "", b->len, content_type);
    free (b->data);
    b->data = NULL;
    return response;
}

static struct MHD_Response *
s_with_header (struct MHD_Response *response, const char *name, const char *value)
{
    if (response && MHD_add_response_header (response, name, value) != MHD_YES) {
        MHD_destroy_response (response);
        return NULL;
    }
    return response;
}

static struct MHD_Response *
s_text (const char *text)
{
    return s_bytes (text, strlen (text), "text/plain; charset=utf-8");
}

static struct MHD_Response *
s_not_found (unsigned int *status)
{
    *status = MHD_HTTP_NOT_FOUND;
    return s_text ("not found\n");
}

static struct MHD_Response *
s_redirect (unsigned int *status, unsigned int code, const char *location)
{
    *status = code;
    return s_with_header (
        s_bytes ("<html><body>Moved</body></html>\n", 32, "text/html; charset=utf-8"),
        MHD_HTTP_HEADER_LOCATION, location);
}

//  A UTF-8 page: TITLE (as HTML, already escaped) and BODY (HTML).
static struct MHD_Response *
s_page (const char *title, const char *body)
{
    s_buf_t b = {0};
    s_buf_printf (&b,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>%s</title>\n</head>\n<body>\n<h1>%s</h1>\n%s</body>\n</html>\n",
                  title, title, body);
    return s_buf_response (&b, "text/html; charset=utf-8");
}

static bool
s_prefix (const char *path, const char *prefix)
{
    return strncmp (path, prefix, strlen (prefix)) == 0;
}

//  Parses a decimal in [MIN, MAX] from *P, advancing it. Returns -1 if none.
static int
s_number (const char **p, int min, int max)
{
    int n = 0, digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 6) {
        n = n * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits && n >= min && n <= max ? n : -1;
}

//  ---------------------------------------------------------------------
//  polite.test: robots.txt with Disallow, Allow, a wildcard and Crawl-delay

static const char s_polite_robots[] = "# zcrawl test site: polite.test\n"
                                      "User-agent: otherbot\n"
                                      "Disallow: /\n"
                                      "\n"
                                      "User-agent: *\n"
                                      "Disallow: /private/\n"
                                      "Allow: /private/open.html\n"
                                      "Disallow: /*?sort=\n"
                                      "Crawl-delay: 0.2\n";

static struct MHD_Response *
s_polite (const char *path, unsigned int *status)
{
    s_buf_t b = {0};
    const char *p = path;
    if (strcmp (path, "/robots.txt") == 0)
        return s_text (s_polite_robots);
    if (strcmp (path, "/") == 0) {
        for (int i = 1; i <= S_POLITE_PAGES; i++)
            s_buf_printf (&b, "<p><a href=\"/page/%d.html\">Page %d</a></p>\n", i, i);
        s_buf_printf (&b, "<p><a href=\"/private/open.html\">Open</a> "
                          "<a href=\"/go-private\">Go private</a></p>\n");
        struct MHD_Response *response = s_page ("Polite home", b.data);
        free (b.data);
        return response;
    }
    if (s_prefix (path, "/page/")) {
        p += strlen ("/page/");
        int n = s_number (&p, 1, S_POLITE_PAGES);
        if (n < 0 || strcmp (p, ".html") != 0)
            return s_not_found (status);
        s_buf_printf (&b,
                      "<p><a href=\"/\">Home</a> <a href=\"/page/%d.html\">Next</a></p>\n"
                      "<p><a href=\"/private/%d.html\">Secret</a> "
                      "<a href=\"/list?sort=asc\">Sorted</a> "
                      "<a href=\"/go-private\">Go private</a></p>\n",
                      n % S_POLITE_PAGES + 1, n % S_POLITE_PRIVATE);
        char title[64];
        snprintf (title, sizeof title, "Polite page %d", n);
        struct MHD_Response *response = s_page (title, b.data);
        free (b.data);
        return response;
    }
    if (strcmp (path, "/private/open.html") == 0)
        return s_page ("Open private page", "<p><a href=\"/\">Home</a></p>\n");
    if (s_prefix (path, "/private/"))
        return s_page ("Secret page (disallowed)", "<p>must never be fetched</p>\n");
    if (strcmp (path, "/list") == 0)
        return s_page ("Sorted list (disallowed with ?sort=)", "<p>list</p>\n");
    if (strcmp (path, "/go-private") == 0)
        return s_redirect (status, MHD_HTTP_FOUND, "/private/x.html");
    if (strcmp (path, "/landing.html") == 0)
        return s_page ("Landing from redirects.test", "<p><a href=\"/\">Home</a></p>\n");
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  flaky.test: errors then success, Retry-After, resets, slow answers

static const char s_reset_head[] =
    "<!DOCTYPE html>\n<html><head><title>Reset</title></head><body>\n";

static ssize_t
s_reset_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    const char *head = s_reset_head;
    if (pos >= S_RESET_SENT)
        return MHD_CONTENT_READER_END_WITH_ERROR; //  drops the connection mid-body
    size_t n = S_RESET_SENT - (size_t)pos;
    if (n > max)
        n = max;
    for (size_t k = 0; k < n; k++) {
        uint64_t at = pos + k;
        buf[k] = at < sizeof s_reset_head - 1 ? head[at] : 'x';
    }
    return (ssize_t)n;
}

//  /slow: the status line and headers go out at once (so the request is
//  logged when it arrives), the body only after slow_ms.
typedef struct {
    zc_scenarios_wait_fn *wait;
    void *wait_arg;
    int ms;
    bool waited;
    s_buf_t body;
} s_slow_t;

static ssize_t
s_slow_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
    s_slow_t *slow = cls;
    if (!slow->waited) {
        slow->wait (slow->wait_arg, slow->ms);
        slow->waited = true;
    }
    if (pos >= slow->body.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = slow->body.len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy (buf, slow->body.data + pos, n);
    return (ssize_t)n;
}

static void
s_slow_free (void *cls)
{
    s_slow_t *slow = cls;
    free (slow->body.data);
    free (slow);
}

static struct MHD_Response *
s_slow_response (int ms, zc_scenarios_wait_fn *wait, void *wait_arg)
{
    s_slow_t *slow = calloc (1, sizeof *slow);
    if (!slow)
        return NULL;
    slow->wait = wait;
    slow->wait_arg = wait_arg;
    slow->ms = ms;
    s_buf_printf (&slow->body, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                               "<title>Slow flaky page</title></head>\n"
                               "<body><p>too late</p></body></html>\n");
    struct MHD_Response *response =
        MHD_create_response_from_callback (slow->body.len, 1024, s_slow_reader, slow, s_slow_free);
    if (!response) {
        s_slow_free (slow);
        return NULL;
    }
    return s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
}

static struct MHD_Response *
s_flaky (zc_scenarios_t *self, const char *path, unsigned int *status, zc_scenarios_wait_fn *wait,
         void *wait_arg)
{
    if (strcmp (path, "/") == 0)
        return s_page ("Flaky home", "<p><a href=\"/ok.html\">ok</a> "
                                     "<a href=\"/500-then-200\">500 then 200</a> "
                                     "<a href=\"/retry-after\">Retry-After</a> "
                                     "<a href=\"/429-date\">429 date</a></p>\n");
    if (strcmp (path, "/ok.html") == 0)
        return s_page ("Flaky ok", "<p><a href=\"/\">Home</a></p>\n");
    if (strcmp (path, "/500-then-200") == 0) {
        if (atomic_fetch_add (&self->counters[S_COUNT_500_THEN_200], 1) == 0) {
            *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            return s_text ("internal error, try again\n");
        }
        return s_page ("Recovered after 500", "<p>ok</p>\n");
    }
    if (strcmp (path, "/always-503") == 0) {
        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        return s_text ("unavailable, forever\n");
    }
    if (strcmp (path, "/retry-after") == 0) {
        if (atomic_fetch_add (&self->counters[S_COUNT_RETRY_AFTER], 1) == 0) {
            *status = MHD_HTTP_SERVICE_UNAVAILABLE;
            return s_with_header (s_text ("come back in a second\n"), MHD_HTTP_HEADER_RETRY_AFTER,
                                  "1");
        }
        return s_page ("After Retry-After", "<p>ok</p>\n");
    }
    if (strcmp (path, "/429-date") == 0) {
        if (atomic_fetch_add (&self->counters[S_COUNT_429_DATE], 1) == 0) {
            //  An HTTP date 2 s ahead of the current second: between 1 and
            //  2 s from now (dates have a resolution of one second).
            time_t at = time (NULL) + 2;
            struct tm tm;
            char date[64];
            if (!gmtime_r (&at, &tm) ||
                strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
                return NULL;
            *status = MHD_HTTP_TOO_MANY_REQUESTS;
            return s_with_header (s_text ("too many requests\n"), MHD_HTTP_HEADER_RETRY_AFTER,
                                  date);
        }
        return s_page ("After 429", "<p>ok</p>\n");
    }
    if (strcmp (path, "/reset") == 0) {
        struct MHD_Response *response = MHD_create_response_from_callback (
            S_RESET_CLAIMED, S_RESET_SENT, s_reset_reader, NULL, NULL);
        return s_with_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    }
    if (strcmp (path, "/slow") == 0)
        return s_slow_response (self->slow_ms, wait, wait_arg);
    return s_not_found (status); //  robots.txt too: allow all
}

//  ---------------------------------------------------------------------
//  redirects.test: loops, long chains, cross-host and out-of-scope hops

static struct MHD_Response *
s_redirects (zc_scenarios_t *self, const char *path, unsigned int *status)
{
    char location[S_URL_MAX];
    const char *p = path;
    if (strcmp (path, "/") == 0)
        return s_page ("Redirects home", "<p><a href=\"/loop/a\">loop</a> "
                                         "<a href=\"/chain/1\">chain</a> "
                                         "<a href=\"/short/1\">short</a> "
                                         "<a href=\"/to-polite\">to polite.test</a> "
                                         "<a href=\"/to-external\">to external</a></p>\n");
    if (strcmp (path, "/loop/a") == 0)
        return s_redirect (status, MHD_HTTP_FOUND, "/loop/b");
    if (strcmp (path, "/loop/b") == 0)
        return s_redirect (status, MHD_HTTP_FOUND, "/loop/a");
    if (strcmp (path, "/chain/end.html") == 0)
        return s_page ("End of the long chain (too far)", "<p>never reached</p>\n");
    if (s_prefix (path, "/chain/")) {
        p += strlen ("/chain/");
        int n = s_number (&p, 1, S_CHAIN_HOPS);
        if (n < 0 || *p)
            return s_not_found (status);
        if (n == S_CHAIN_HOPS)
            snprintf (location, sizeof location, "/chain/end.html");
        else
            snprintf (location, sizeof location, "/chain/%d", n + 1);
        return s_redirect (status, MHD_HTTP_FOUND, location);
    }
    if (strcmp (path, "/short/1") == 0)
        return s_redirect (status, MHD_HTTP_MOVED_PERMANENTLY, "/short/2");
    if (strcmp (path, "/short/2") == 0)
        return s_redirect (status, MHD_HTTP_FOUND, "/short/end.html");
    if (strcmp (path, "/short/end.html") == 0)
        return s_page ("End of the short chain", "<p><a href=\"/\">Home</a></p>\n");
    if (strcmp (path, "/to-polite") == 0) {
        snprintf (location, sizeof location, "http://polite.test:%d/landing.html", self->port);
        return s_redirect (status, MHD_HTTP_MOVED_PERMANENTLY, location);
    }
    if (strcmp (path, "/to-external") == 0) {
        snprintf (location, sizeof location, "%s/x/redirected.html", self->external);
        return s_redirect (status, MHD_HTTP_FOUND, location);
    }
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  charset.test: ISO-8859-1, windows-1252, BOM, invalid UTF-8

typedef struct {
    const char *path;
    const char *content_type;
    const char *bytes; //  the whole body
    const char *title; //  expected title, UTF-8
    const char *how;   //  what the page exercises (truth)
} s_charset_page_t;

static const s_charset_page_t s_charset_pages[] = {
    {"/latin1.html", "text/html; charset=ISO-8859-1",
     "<!DOCTYPE html>\n<html><head><title>Caf\xe9 cr\xe8me</title></head>\n"
     "<body><h1>Caf\xe9</h1><p><a href=\"/\">Home</a></p></body></html>\n",
     "Caf\xc3\xa9 cr\xc3\xa8me", "ISO-8859-1 from the HTTP header"},
    {"/header-wins.html", "text/html; charset=iso-8859-1",
     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
     "<title>Cr\xe8me br\xfbl\xe9\x65</title></head>\n"
     "<body><p>header beats meta</p></body></html>\n",
     "Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\x65", "HTTP header charset beats <meta charset>"},
    {"/cp1252.html", "text/html",
     "<!DOCTYPE html>\n<html><head><meta charset=\"windows-1252\">"
     "<title>Price \x80\x35 \x93quoted\x94</title></head>\n"
     "<body><p>windows-1252</p></body></html>\n",
     "Price \xe2\x82\xac\x35 \xe2\x80\x9cquoted\xe2\x80\x9d", "windows-1252 from <meta charset>"},
    {"/bom.html", "text/html",
     "\xef\xbb\xbf<!DOCTYPE html>\n<html><head><title>Z\xc3\xbcrich na\xc3\xafve</title></head>\n"
     "<body><p>UTF-8 with a byte order mark, no declaration</p></body></html>\n",
     "Z\xc3\xbcrich na\xc3\xafve", "UTF-8 from a BOM"},
    {"/invalid.html", "text/html; charset=utf-8",
     "<!DOCTYPE html>\n<html><head><title>Bad \xff\xfe byte \xc3(</title></head>\n"
     "<body><p>invalid \xc0\xaf UTF-8 \xed\xa0\x80 here</p></body></html>\n",
     "Bad \xef\xbf\xbd\xef\xbf\xbd byte \xef\xbf\xbd(",
     "invalid UTF-8: each invalid byte becomes U+FFFD"},
};
#define S_CHARSET_PAGES (sizeof s_charset_pages / sizeof s_charset_pages[0])

static struct MHD_Response *
s_charset (const char *path, unsigned int *status)
{
    if (strcmp (path, "/") == 0) {
        s_buf_t b = {0};
        for (size_t k = 0; k < S_CHARSET_PAGES; k++)
            s_buf_printf (&b, "<p><a href=\"%s\">%s</a></p>\n", s_charset_pages[k].path,
                          s_charset_pages[k].path);
        struct MHD_Response *response = s_page ("Charset home", b.data);
        free (b.data);
        return response;
    }
    for (size_t k = 0; k < S_CHARSET_PAGES; k++)
        if (strcmp (path, s_charset_pages[k].path) == 0)
            return s_bytes (s_charset_pages[k].bytes, strlen (s_charset_pages[k].bytes),
                            s_charset_pages[k].content_type);
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  trap.test: an endless calendar, a relative-path trap, a deep path

static const int s_month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int
s_days_in_month (int year, int month)
{
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : s_month_days[month - 1];
}

//  Month M of year Y shifted by DELTA months.
static void
s_month_add (int *year, int *month, int delta)
{
    int index = *year * 12 + (*month - 1) + delta;
    *year = index / 12;
    *month = index % 12 + 1;
}

//  Appends "/seg/1/2/.../N-1" (N path segments in all) to B.
static void
s_seg_path (s_buf_t *b, int segments)
{
    s_buf_printf (b, "/seg");
    for (int k = 1; k < segments; k++)
        s_buf_printf (b, "/%d", k);
}

static struct MHD_Response *
s_trap (const char *path, unsigned int *status)
{
    s_buf_t b = {0};
    const char *p = path;
    struct MHD_Response *response = NULL;
    if (strcmp (path, "/") == 0) {
        s_buf_printf (&b,
                      "<p><a href=\"/cal/%d/%02d/\">Calendar</a> "
                      "<a href=\"/rel/a/\">Relative</a> "
                      "<a href=\"/deep.html\">Deep</a></p>\n",
                      S_TRAP_YEAR, S_TRAP_MONTH);
        response = s_page ("Trap home", b.data);
    } else if (s_prefix (path, "/cal/")) {
        p += strlen ("/cal/");
        int year = s_number (&p, 1000, 9999);
        int month = year > 0 && *p++ == '/' ? s_number (&p, 1, 12) : -1;
        if (month < 0 || *p++ != '/')
            return s_not_found (status);
        int day = 0;
        if (*p) {
            day = s_number (&p, 1, s_days_in_month (year, month));
            if (day < 0 || strcmp (p, "/") != 0)
                return s_not_found (status);
        }
        char title[64];
        if (day == 0) {
            int py = year, pm = month, ny = year, nm = month;
            s_month_add (&py, &pm, -1);
            s_month_add (&ny, &nm, 1);
            s_buf_printf (&b,
                          "<p><a href=\"/cal/%d/%02d/\">Previous month</a> "
                          "<a href=\"/cal/%d/%02d/\">Next month</a> "
                          "<a href=\"/cal/%d/%02d/01/\">First day</a></p>\n",
                          py, pm, ny, nm, year, month);
            snprintf (title, sizeof title, "Calendar %d-%02d", year, month);
        } else {
            s_buf_printf (&b, "<p><a href=\"/cal/%d/%02d/\">Month</a>", year, month);
            if (day < s_days_in_month (year, month))
                s_buf_printf (&b, " <a href=\"/cal/%d/%02d/%02d/\">Next day</a>", year, month,
                              day + 1);
            s_buf_printf (&b, "</p>\n");
            snprintf (title, sizeof title, "Calendar %d-%02d-%02d", year, month, day);
        }
        response = s_page (title, b.data);
    } else if (s_prefix (path, "/rel/")) {
        //  /rel/a/, /rel/a/a/, ...: each links "a/", one level deeper
        int level = 0;
        for (p += strlen ("/rel"); strncmp (p, "/a", 2) == 0; p += 2)
            level++;
        if (level == 0 || strcmp (p, "/") != 0)
            return s_not_found (status);
        char title[64];
        snprintf (title, sizeof title, "Relative trap level %d", level);
        response = s_page (title, "<p><a href=\"a/\">Deeper</a></p>\n");
    } else if (strcmp (path, "/deep.html") == 0) {
        s_buf_printf (&b, "<p><a href=\"");
        s_seg_path (&b, S_SEG_KEPT);
        s_buf_printf (&b, "\">Deep but allowed</a> <a href=\"");
        s_seg_path (&b, S_SEG_CUT);
        s_buf_printf (&b, "\">Too deep</a></p>\n");
        response = s_page ("Deep links", b.data);
    } else if (s_prefix (path, "/seg/")) {
        int segments = 0;
        for (const char *s = path; *s; s++)
            segments += *s == '/';
        char title[64];
        snprintf (title, sizeof title, "Segments %d", segments);
        response = s_page (title, "<p>leaf</p>\n");
    } else
        response = s_not_found (status);
    free (b.data);
    return response;
}

//  ---------------------------------------------------------------------
//  robots503.test: robots.txt always 503

static struct MHD_Response *
s_robots503 (const char *path, unsigned int *status)
{
    if (strcmp (path, "/robots.txt") == 0) {
        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        return s_text ("robots.txt unavailable\n");
    }
    if (strcmp (path, "/") == 0)
        return s_page ("Robots 503 home (never fetched)",
                       "<p><a href=\"/page.html\">page</a></p>\n");
    if (strcmp (path, "/page.html") == 0)
        return s_page ("Robots 503 page (never fetched)", "<p>page</p>\n");
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  extract.test: pages with known values for extraction rules

typedef struct {
    const char *name;
    const char *sku;
    const char *price;
    const char *tags[3];
    const char *color;
    const char *related_href;
    const char *related_text;
} s_product_t;

static const s_product_t s_products[] = {
    {"Desk Lamp",
     "SKU-001",
     "19.99",
     {"home", "light", "desk"},
     "Black",
     "/product/2.html",
     "Next"},
    {"Caf\xc3\xa9 Chair",
     "SKU-002",
     "149.50",
     {"seat", "wood", "kitchen"},
     "Oak",
     "/product/1.html",
     "Previous"},
};
#define S_PRODUCTS (sizeof s_products / sizeof s_products[0])

static void
s_product_html (s_buf_t *b, size_t index)
{
    const s_product_t *pr = &s_products[index];
    s_buf_printf (b,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>Product %zu: %s</title>\n</head>\n<body>\n<div id=\"main\">\n"
                  "<h1 id=\"name\">%s</h1>\n"
                  "<div class=\"product card\" data-sku=\"%s\">\n"
                  "<p class=\"price-line\">Price: <span class=\"price\">$%s</span></p>\n"
                  "<ul id=\"tags\"><li>%s</li><li>%s</li><li>%s</li></ul>\n"
                  "<table class=\"specs\"><tr><td>Weight</td><td>1.5 kg</td></tr>"
                  "<tr><td>Color</td><td>%s</td></tr></table>\n"
                  "<div class=\"desc\"><p>The <b>%s</b> is great.</p></div>\n"
                  "</div>\n"
                  "<ul class=\"related\"><li><a class=\"rel\" href=\"%s\">%s</a></li>"
                  "<li><a class=\"rel\" href=\"/\">Home</a></li></ul>\n"
                  "</div>\n</body>\n</html>\n",
                  index + 1, pr->name, pr->name, pr->sku, pr->price, pr->tags[0], pr->tags[1],
                  pr->tags[2], pr->color, pr->name, pr->related_href, pr->related_text);
}

static struct MHD_Response *
s_extract (const char *path, unsigned int *status)
{
    if (strcmp (path, "/") == 0)
        return s_page ("Extract home", "<p><a href=\"/product/1.html\">One</a> "
                                       "<a href=\"/product/2.html\">Two</a></p>\n");
    const char *p = path;
    if (s_prefix (path, "/product/")) {
        p += strlen ("/product/");
        int n = s_number (&p, 1, (int)S_PRODUCTS);
        if (n < 0 || strcmp (p, ".html") != 0)
            return s_not_found (status);
        s_buf_t b = {0};
        s_product_html (&b, (size_t)n - 1);
        return s_buf_response (&b, "text/html; charset=utf-8");
    }
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  Public API

zc_scenarios_t *
zc_scenarios_new (int port, const char *external, int slow_ms)
{
    zc_scenarios_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->port = port;
    snprintf (self->external, sizeof self->external, "%s", external ? external : "");
    self->slow_ms = slow_ms;
    for (int k = 0; k < S_COUNTERS; k++)
        atomic_init (&self->counters[k], 0);
    return self;
}

void
zc_scenarios_destroy (zc_scenarios_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

bool
zc_scenarios_has_host (const char *host)
{
    for (size_t k = 0; k < sizeof s_hosts / sizeof s_hosts[0]; k++)
        if (strcmp (host, s_hosts[k]) == 0)
            return true;
    return false;
}

struct MHD_Response *
zc_scenarios_response (zc_scenarios_t *self, const char *host, const char *path,
                       unsigned int *status, zc_scenarios_wait_fn *wait, void *wait_arg)
{
    *status = MHD_HTTP_OK;
    if (strcmp (host, "polite.test") == 0)
        return s_polite (path, status);
    if (strcmp (host, "flaky.test") == 0)
        return s_flaky (self, path, status, wait, wait_arg);
    //  The paths that always fail live on hosts of their own: the adaptive
    //  back-off slows a host down on every failure, so one host with all of
    //  them would take a minute to crawl.
    if (strcmp (host, "unavailable.test") == 0 && strcmp (path, "/") == 0)
        return s_page ("Unavailable home", "<p><a href=\"/always-503\">always 503</a></p>\n");
    if (strcmp (host, "reset.test") == 0 && strcmp (path, "/") == 0)
        return s_page ("Reset home", "<p><a href=\"/reset\">reset</a></p>\n");
    if (strcmp (host, "slow.test") == 0 && strcmp (path, "/") == 0)
        return s_page ("Slow home", "<p><a href=\"/slow\">slow</a></p>\n");
    if (strcmp (host, "unavailable.test") == 0 || strcmp (host, "reset.test") == 0 ||
        strcmp (host, "slow.test") == 0)
        return s_flaky (self, path, status, wait, wait_arg);
    if (strcmp (host, "redirects.test") == 0)
        return s_redirects (self, path, status);
    if (strcmp (host, "charset.test") == 0)
        return s_charset (path, status);
    if (strcmp (host, "trap.test") == 0)
        return s_trap (path, status);
    if (strcmp (host, "robots503.test") == 0)
        return s_robots503 (path, status);
    if (strcmp (host, "extract.test") == 0)
        return s_extract (path, status);
    return s_not_found (status);
}

//  ---------------------------------------------------------------------
//  Ground truth

typedef struct {
    char base[S_BASE_MAX]; //  "http://NAME:PORT"
    json_t *pages;         //  [{url, title, final_url}]
    json_t *errors;        //  [{url, reason, ...}]
    json_t *never;         //  paths that must never be requested
} s_truth_t;

static void
s_truth_init (s_truth_t *t, const char *host, int port)
{
    snprintf (t->base, sizeof t->base, "http://%s:%d", host, port);
    t->pages = json_array ();
    t->errors = json_array ();
    t->never = json_array ();
}

static char *
s_abs (const s_truth_t *t, const char *path, char *url, size_t size)
{
    size_t n = strlen (t->base), m = strlen (path);
    if (n + m + 1 > size)
        n = m = 0; //  cannot happen: paths are short
    memcpy (url, t->base, n);
    memcpy (url + n, path, m);
    url[n + m] = '\0';
    return url;
}

static void
s_truth_page (s_truth_t *t, const char *path, const char *title, const char *final_path)
{
    char url[S_URL_MAX], final_url[S_URL_MAX];
    json_array_append_new (
        t->pages,
        json_pack ("{s:s, s:s, s:s}", "url", s_abs (t, path, url, sizeof url), "title", title,
                   "final_url",
                   s_abs (t, final_path ? final_path : path, final_url, sizeof final_url)));
}

//  A page reached through redirects: its item is under PATH with FINAL_URL
//  (absolute, possibly on another host).
static void
s_truth_page_abs (s_truth_t *t, const char *path, const char *title, const char *final_url)
{
    char url[S_URL_MAX];
    json_array_append_new (t->pages,
                           json_pack ("{s:s, s:s, s:s}", "url", s_abs (t, path, url, sizeof url),
                                      "title", title, "final_url", final_url));
}

//  Adds an error {url, reason} (+ FIELDS' members); steals FIELDS (may be NULL).
static void
s_truth_error (s_truth_t *t, const char *path, const char *reason, json_t *fields)
{
    char url[S_URL_MAX];
    json_t *error =
        json_pack ("{s:s, s:s}", "url", s_abs (t, path, url, sizeof url), "reason", reason);
    if (fields) {
        json_object_update (error, fields);
        json_decref (fields);
    }
    json_array_append_new (t->errors, error);
}

static void
s_truth_never (s_truth_t *t, const char *path)
{
    json_array_append_new (t->never, json_string (path));
}

//  {base, pages, errors, never_requested} + EXTRA's members; steals EXTRA.
static json_t *
s_truth_done (s_truth_t *t, json_t *extra)
{
    json_t *doc = json_pack ("{s:s, s:o, s:o, s:o}", "base", t->base, "pages", t->pages, "errors",
                             t->errors, "never_requested", t->never);
    if (extra) {
        json_object_update (doc, extra);
        json_decref (extra);
    }
    return doc;
}

static json_t *
s_truth_polite (int port)
{
    s_truth_t t;
    s_truth_init (&t, "polite.test", port);
    s_truth_page (&t, "/", "Polite home", NULL);
    for (int i = 1; i <= S_POLITE_PAGES; i++) {
        char path[64], title[64];
        snprintf (path, sizeof path, "/page/%d.html", i);
        snprintf (title, sizeof title, "Polite page %d", i);
        s_truth_page (&t, path, title, NULL);
    }
    s_truth_page (&t, "/private/open.html", "Open private page", NULL);
    for (int i = 0; i < S_POLITE_PRIVATE; i++) {
        char path[64];
        snprintf (path, sizeof path, "/private/%d.html", i);
        s_truth_error (&t, path, "robots", NULL);
        s_truth_never (&t, path);
    }
    s_truth_error (&t, "/list?sort=asc", "robots", NULL);
    s_truth_never (&t, "/list?sort=asc");
    char location[S_URL_MAX];
    s_truth_error (&t, "/go-private", "robots",
                   json_pack ("{s:s, s:s}", "location",
                              s_abs (&t, "/private/x.html", location, sizeof location), "note",
                              "the hop to /private/x.html is disallowed at dispatch"));
    s_truth_never (&t, "/private/x.html");
    //  requests: exact number of requests per path (linked from many pages,
    //  fetched once; /landing.html once, as the hop of redirects.test/to-polite)
    json_t *requests = json_pack ("{s:i, s:i}", "/go-private", 1, "/landing.html", 1);
    return s_truth_done (
        &t, json_pack ("{s:s, s:i, s:[s], s:[s], s:o, s:s}", "robots", s_polite_robots,
                       "crawl_delay_ms", 200, "disallowed_prefixes", "/private/",
                       "allowed_exceptions", "/private/open.html", "requests", requests, "note",
                       "/landing.html is reached only through redirects.test/to-polite: "
                       "its item is that URL's (final_url on polite.test), none of its own"));
}

static json_t *
s_truth_flaky (int port)
{
    s_truth_t t;
    s_truth_init (&t, "flaky.test", port);
    s_truth_page (&t, "/", "Flaky home", NULL);
    s_truth_page (&t, "/ok.html", "Flaky ok", NULL);
    s_truth_page (&t, "/500-then-200", "Recovered after 500", NULL);
    s_truth_page (&t, "/retry-after", "After Retry-After", NULL);
    s_truth_page (&t, "/429-date", "After 429", NULL);
    //  requests: exact number of requests per path; min_gap_ms: least gap
    //  between the starts of consecutive requests to the path
    json_t *requests =
        json_pack ("{s:i, s:i, s:i}", "/500-then-200", 2, "/retry-after", 2, "/429-date", 2);
    json_t *gaps = json_pack ("{s:i, s:i}", "/retry-after", 1000, "/429-date", 1000);
    return s_truth_done (&t, json_pack ("{s:i, s:o, s:o}", "max_attempts", 3, "requests", requests,
                                        "min_gap_ms", gaps));
}

//  A host whose home links one PATH that always fails with REASON.
static json_t *
s_truth_failing (int port, const char *host, const char *title, const char *path,
                 const char *reason, int status)
{
    s_truth_t t;
    s_truth_init (&t, host, port);
    s_truth_page (&t, "/", title, NULL);
    json_t *fields = json_pack ("{s:i}", "attempts", 3);
    if (status)
        json_object_set_new (fields, "status", json_integer (status));
    s_truth_error (&t, path, reason, fields);
    return s_truth_done (&t, json_pack ("{s:i, s:{s:i}}", "max_attempts", 3, "requests", path, 3));
}

static json_t *
s_truth_redirects (int port, const char *external)
{
    s_truth_t t;
    s_truth_init (&t, "redirects.test", port);
    s_truth_page (&t, "/", "Redirects home", NULL);
    //  "redirects": the hops followed, in the item
    s_truth_page (&t, "/short/1", "End of the short chain", "/short/end.html");
    json_object_set_new (json_array_get (t.pages, json_array_size (t.pages) - 1), "redirects",
                         json_integer (2));
    //  /loop/a -> /loop/b -> /loop/a: the target is the origin
    char location[S_URL_MAX];
    s_truth_error (&t, "/loop/a", "redirect_limit",
                   json_pack ("{s:s, s:s}", "location",
                              s_abs (&t, "/loop/a", location, sizeof location), "note",
                              "redirect loop"));
    //  /chain/1 -> ... -> /chain/11 -> /chain/12: hop 11 > max_redirects 10
    s_truth_error (&t, "/chain/1", "redirect_limit",
                   json_pack ("{s:s, s:s}", "location",
                              s_abs (&t, "/chain/12", location, sizeof location), "note",
                              "the 11th hop is not followed"));
    snprintf (location, sizeof location, "http://polite.test:%d/landing.html", port);
    s_truth_page_abs (&t, "/to-polite", "Landing from redirects.test", location);
    json_object_set_new (json_array_get (t.pages, json_array_size (t.pages) - 1), "redirects",
                         json_integer (1));
    snprintf (location, sizeof location, "%s/x/redirected.html", external);
    s_truth_error (&t, "/to-external", "scope", json_pack ("{s:s}", "location", location));
    s_truth_never (&t, "/chain/end.html");
    //  requests: every hop exactly once, nothing after the limit
    json_t *requests =
        json_pack ("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "/loop/a", 1, "/loop/b", 1, "/short/1", 1,
                   "/short/2", 1, "/short/end.html", 1, "/to-polite", 1, "/to-external", 1);
    for (int n = 1; n <= S_CHAIN_HOPS; n++) {
        char path[32];
        snprintf (path, sizeof path, "/chain/%d", n);
        bool hop = n <= S_MAX_REDIRECTS + 1; //  /chain/11 answers the 11th redirect
        if (!hop)
            s_truth_never (&t, path);
        json_object_set_new (requests, path, json_integer (hop ? 1 : 0));
    }
    return s_truth_done (&t, json_pack ("{s:i, s:i, s:o, s:s}", "max_redirects", S_MAX_REDIRECTS,
                                        "chain_hops", S_CHAIN_HOPS, "requests", requests, "note",
                                        "/to-polite is an item only when polite.test is in scope "
                                        "(a seed or an allowed host); otherwise reason scope"));
}

static json_t *
s_truth_charset (int port)
{
    s_truth_t t;
    s_truth_init (&t, "charset.test", port);
    s_truth_page (&t, "/", "Charset home", NULL);
    json_t *how = json_object ();
    for (size_t k = 0; k < S_CHARSET_PAGES; k++) {
        s_truth_page (&t, s_charset_pages[k].path, s_charset_pages[k].title, NULL);
        json_object_set_new (how, s_charset_pages[k].path, json_string (s_charset_pages[k].how));
    }
    return s_truth_done (&t, json_pack ("{s:o}", "cases", how));
}

static json_t *
s_truth_trap (int port)
{
    s_truth_t t;
    s_truth_init (&t, "trap.test", port);
    json_t *cut = json_array ();
    char url[S_URL_MAX], path[S_URL_MAX];
    s_truth_page (&t, "/", "Trap home", NULL);
    //  The calendar is a tree of unique shortest paths: month k months
    //  away from the start is at depth 1 + |k|, its day D at that + D.
    for (int k = -(S_TRAP_MAX_DEPTH); k <= S_TRAP_MAX_DEPTH; k++) {
        int year = S_TRAP_YEAR, month = S_TRAP_MONTH;
        s_month_add (&year, &month, k);
        int depth = 1 + abs (k);
        snprintf (path, sizeof path, "/cal/%d/%02d/", year, month);
        if (depth > S_TRAP_MAX_DEPTH) {
            json_array_append_new (cut, json_pack ("{s:s, s:s, s:i}", "url",
                                                   s_abs (&t, path, url, sizeof url), "guard",
                                                   "max_depth", "depth", depth));
            continue;
        }
        char title[64];
        snprintf (title, sizeof title, "Calendar %d-%02d", year, month);
        s_truth_page (&t, path, title, NULL);
        for (int day = 1; day <= s_days_in_month (year, month); day++) {
            snprintf (path, sizeof path, "/cal/%d/%02d/%02d/", year, month, day);
            if (depth + day > S_TRAP_MAX_DEPTH) {
                json_array_append_new (cut, json_pack ("{s:s, s:s, s:i}", "url",
                                                       s_abs (&t, path, url, sizeof url), "guard",
                                                       "max_depth", "depth", depth + day));
                break;
            }
            snprintf (title, sizeof title, "Calendar %d-%02d-%02d", year, month, day);
            s_truth_page (&t, path, title, NULL);
        }
    }
    //  /rel/a/ (depth 1) .. /rel/a/a/a/ (depth 3); /rel/a/a/a/a/ has "a"
    //  four times (> max_segment_repeats 3) at depth 4 (< max_depth)
    s_truth_page (&t, "/rel/a/", "Relative trap level 1", NULL);
    s_truth_page (&t, "/rel/a/a/", "Relative trap level 2", NULL);
    s_truth_page (&t, "/rel/a/a/a/", "Relative trap level 3", NULL);
    json_array_append_new (cut, json_pack ("{s:s, s:s, s:i}", "url",
                                           s_abs (&t, "/rel/a/a/a/a/", url, sizeof url), "guard",
                                           "max_segment_repeats", "depth", 4));
    s_truth_never (&t, "/rel/a/a/a/a/");
    //  /deep.html (depth 1) links a 30-segment path (kept) and a 40-segment
    //  one (> max_path_segments 32), both at depth 2
    s_truth_page (&t, "/deep.html", "Deep links", NULL);
    s_buf_t b = {0};
    s_seg_path (&b, S_SEG_KEPT);
    char title[64];
    snprintf (title, sizeof title, "Segments %d", S_SEG_KEPT);
    s_truth_page (&t, b.data, title, NULL);
    b.len = 0;
    s_seg_path (&b, S_SEG_CUT);
    json_array_append_new (cut,
                           json_pack ("{s:s, s:s, s:i}", "url", s_abs (&t, b.data, url, sizeof url),
                                      "guard", "max_path_segments", "depth", 2));
    s_truth_never (&t, b.data);
    free (b.data);
    //  Every cut URL is dropped silently (out of scope: no errors line)
    size_t i;
    json_t *entry;
    json_array_foreach (cut, i, entry)
    {
        const char *u = json_string_value (json_object_get (entry, "url"));
        if (strncmp (u, t.base, strlen (t.base)) == 0 &&
            strcmp (json_string_value (json_object_get (entry, "guard")), "max_depth") == 0)
            s_truth_never (&t, u + strlen (t.base));
    }
    return s_truth_done (&t,
                         json_pack ("{s:i, s:i, s:i, s:o}", "max_depth", S_TRAP_MAX_DEPTH,
                                    "max_path_segments", 32, "max_segment_repeats", 3, "cut", cut));
}

static json_t *
s_truth_robots503 (int port)
{
    s_truth_t t;
    s_truth_init (&t, "robots503.test", port);
    s_truth_error (&t, "/", "robots",
                   json_pack ("{s:s}", "note", "robots.txt answers 503: disallow all"));
    s_truth_never (&t, "/");
    s_truth_never (&t, "/page.html");
    return s_truth_done (&t, json_pack ("{s:i}", "max_robots_requests", 3));
}

static json_t *
s_truth_extract (int port)
{
    s_truth_t t;
    s_truth_init (&t, "extract.test", port);
    s_truth_page (&t, "/", "Extract home", NULL);
    json_t *fields = json_object ();
    char url[S_URL_MAX];
    json_object_set_new (fields, s_abs (&t, "/", url, sizeof url),
                         json_pack ("{s:s, s:[], s:[], s:[s,s]}", "title", "Extract home", "tags",
                                    "links", "product_links", "One", "Two"));
    for (size_t k = 0; k < S_PRODUCTS; k++) {
        const s_product_t *pr = &s_products[k];
        char path[64], title[128], desc[256];
        snprintf (path, sizeof path, "/product/%zu.html", k + 1);
        snprintf (title, sizeof title, "Product %zu: %s", k + 1, pr->name);
        snprintf (desc, sizeof desc, "<p>The <b>%s</b> is great.</p>", pr->name);
        s_truth_page (&t, path, title, NULL);
        json_object_set_new (
            fields, s_abs (&t, path, url, sizeof url),
            json_pack ("{s:s, s:s, s:s, s:s, s:[s,s,s], s:s, s:s, s:[s,s], s:s, s:[s]}", "title",
                       title, "name", pr->name, "price", pr->price, "sku", pr->sku, "tags",
                       pr->tags[0], pr->tags[1], pr->tags[2], "second_tag", pr->tags[1], "color",
                       pr->color, "links", pr->related_href, "/", "description_html", desc,
                       "product_links", pr->related_text));
    }
    return s_truth_done (
        &t, json_pack ("{s:s, s:o}", "spec", "tests/fixtures/spec/extract.yaml", "fields", fields));
}

json_t *
zc_scenarios_truth (int port, const char *external)
{
    json_t *truth = json_pack (
        "{s:o, s:o, s:o, s:o, s:o}", "flaky.test", s_truth_flaky (port), "unavailable.test",
        s_truth_failing (port, "unavailable.test", "Unavailable home", "/always-503", "http", 503),
        "reset.test", s_truth_failing (port, "reset.test", "Reset home", "/reset", "network", 0),
        "slow.test", s_truth_failing (port, "slow.test", "Slow home", "/slow", "timeout", 0),
        "polite.test", s_truth_polite (port));
    json_t *more =
        json_pack ("{s:o, s:o, s:o, s:o, s:o}", "redirects.test",
                   s_truth_redirects (port, external ? external : ""), "charset.test",
                   s_truth_charset (port), "trap.test", s_truth_trap (port), "robots503.test",
                   s_truth_robots503 (port), "extract.test", s_truth_extract (port));
    json_object_update (truth, more);
    json_decref (more);
    return truth;
}
