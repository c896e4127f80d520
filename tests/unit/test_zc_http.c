/*  Unit tests for zc_http: real transfers against the project's test site
    (libmicrohttpd on 127.0.0.1, port 0) driven by one zloop.
*/
#include "zc_http.h"
#include "zc_testsite.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define BIG_BYTES (100 * 1024)
#define SLOW_MS 3000

//  --------------------------------------------------------------------------
//  Test harness: one engine, one loop; results are copied for asserts

#define MAX_RESULTS 256

typedef struct {
    zc_http_status_t status;
    uint32_t http_status;
    char *location;
    char *content_type;
    char *effective_url;
    char *body;
    size_t body_size;
    bool truncated;
    char *error;
    uintptr_t user;
    uint32_t total_ms;
    uint32_t retry_after_ms;
} copy_t;

typedef struct {
    zc_testsite_t *site;
    zloop_t *loop;
    zc_http_t *http;
    size_t expected;
    size_t done;
    copy_t results[MAX_RESULTS];
    char url[256];
} fixture_t;

static void
s_on_done (void *arg, zc_http_result_t *result, void *user)
{
    fixture_t *f = arg;
    assert_true (f->done < MAX_RESULTS);
    copy_t *c = &f->results[f->done++];
    c->status = result->status;
    c->http_status = result->http_status;
    c->location = result->location ? strdup (result->location) : NULL;
    c->content_type = strdup (result->content_type);
    c->effective_url = strdup (result->effective_url);
    c->body = zc_http_result_take_body (result, &c->body_size);
    c->truncated = result->truncated;
    c->error = strdup (result->error);
    c->user = (uintptr_t)user;
    c->total_ms = result->total_ms;
    c->retry_after_ms = result->retry_after_ms;
    assert_null (result->body);
}

static int
s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    fixture_t *f = arg;
    return f->done >= f->expected ? -1 : 0;
}

static int
s_on_deadline (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

//  Runs the loop until EXPECTED transfers completed or 10 s passed.
static void
s_run (fixture_t *f, size_t expected)
{
    f->expected = expected;
    int check = zloop_timer (f->loop, 2, 0, s_on_check, f);
    int deadline = zloop_timer (f->loop, 10000, 1, s_on_deadline, f);
    zloop_start (f->loop);
    zloop_timer_end (f->loop, check);
    zloop_timer_end (f->loop, deadline);
    assert_int_equal (f->done, expected);
}

static const char *
s_url (fixture_t *f, const char *path)
{
    snprintf (f->url, sizeof f->url, "%s%s", zc_testsite_url (f->site), path);
    return f->url;
}

static void
s_get (fixture_t *f, const char *path, uintptr_t user)
{
    zc_http_request_t req = {.url = s_url (f, path), .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, (void *)user), 0);
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    zc_testsite_config_t config = {
        .pages = 10, .seed = 1, .host = "127.0.0.1", .slow_ms = SLOW_MS, .big_bytes = BIG_BYTES};
    f->site = zc_testsite_new (&config);
    assert_non_null (f->site);
    f->loop = zloop_new ();
    f->http = zc_http_new (f->loop, s_on_done, f);
    assert_non_null (f->http);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    zc_http_destroy (&f->http);
    assert_null (f->http);
    zloop_destroy (&f->loop);
    zc_testsite_destroy (&f->site);
    for (size_t i = 0; i < f->done; i++) {
        free (f->results[i].location);
        free (f->results[i].content_type);
        free (f->results[i].effective_url);
        free (f->results[i].body);
        free (f->results[i].error);
    }
    free (f);
    return 0;
}

//  --------------------------------------------------------------------------
//  Tests

static void
test_status_str (void **state)
{
    (void)state;
    assert_string_equal (zc_http_status_str (ZC_HTTP_OK), "ok");
    assert_string_equal (zc_http_status_str (ZC_HTTP_DNS), "dns");
    assert_string_equal (zc_http_status_str (ZC_HTTP_CONNECT), "connect");
    assert_string_equal (zc_http_status_str (ZC_HTTP_TIMEOUT), "timeout");
    assert_string_equal (zc_http_status_str (ZC_HTTP_TOO_LARGE), "too_large");
    assert_string_equal (zc_http_status_str (ZC_HTTP_TLS), "tls");
    assert_string_equal (zc_http_status_str (ZC_HTTP_NETWORK), "network");
    assert_string_equal (zc_http_status_str (ZC_HTTP_BAD_URL), "bad_url");
    assert_string_equal (zc_http_status_str (ZC_HTTP_BLOCKED), "blocked");
    assert_string_equal (zc_http_status_str ((zc_http_status_t)99), "?");
}

static void
test_ok_body (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/", 7);
    assert_int_equal (zc_http_active (f->http), 1);
    s_run (f, 1);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_int_equal (c->http_status, 200);
    assert_int_equal (c->user, 7);
    assert_non_null (c->body);
    assert_true (c->body_size > 100);
    assert_int_equal (c->body[c->body_size], 0);
    assert_non_null (strstr (c->body, "</html>"));
    assert_string_equal (c->content_type, "text/html; charset=utf-8");
    assert_string_equal (c->effective_url, s_url (f, "/"));
    assert_null (c->location);
    assert_string_equal (c->error, "");
    assert_int_equal (zc_http_active (f->http), 0);

    //  A second transfer reuses the recycled handle; same site, same bytes.
    s_get (f, "/", 8);
    s_run (f, 2);
    assert_int_equal (f->results[1].status, ZC_HTTP_OK);
    assert_int_equal (f->results[1].user, 8);
    assert_int_equal (f->results[1].body_size, c->body_size);
    assert_memory_equal (f->results[1].body, c->body, c->body_size);
}

static void
test_gzip_decoded (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/gzip.html", 1);
    s_run (f, 1);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_int_equal (c->http_status, 200);
    //  Decoded: HTML text, not the gzip magic 1f 8b.
    assert_true (c->body_size > 10);
    assert_false ((unsigned char)c->body[0] == 0x1f && (unsigned char)c->body[1] == 0x8b);
    assert_non_null (strstr (c->body, "</html>"));
    assert_int_equal (strlen (c->body), c->body_size);
}

static void
test_404 (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/missing", 1);
    s_run (f, 1);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_int_equal (c->http_status, 404);
    assert_string_equal (c->body, "not found\n");
}

static void
test_redirect_not_followed (void **state)
{
    fixture_t *f = *state;
    s_get (f, "/redirect/1", 1);
    s_run (f, 1);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_int_equal (c->http_status, 302);
    assert_non_null (c->location);
    assert_string_equal (c->location, s_url (f, "/redirect/2"));
    assert_string_equal (c->effective_url, s_url (f, "/redirect/1"));
}

static void
test_connect_refused (void **state)
{
    fixture_t *f = *state;
    //  A port that was just free: bind, read it back, close.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal (getsockname (fd, (struct sockaddr *)&addr, &len), 0);
    close (fd);
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", ntohs (addr.sin_port));
    zc_http_request_t req = {.url = url, .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    assert_int_equal (f->results[0].status, ZC_HTTP_CONNECT);
    assert_int_equal (f->results[0].http_status, 0);
    assert_true (strlen (f->results[0].error) > 0);
    assert_null (f->results[0].body);
}

static void
test_timeout (void **state)
{
    fixture_t *f = *state;
    zc_http_request_t req = {
        .url = s_url (f, "/slow.html"), .timeout_ms = 300, .allow_private = true};
    int64_t start = zclock_mono ();
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    int64_t elapsed = zclock_mono () - start;
    assert_int_equal (f->results[0].status, ZC_HTTP_TIMEOUT);
    assert_true (elapsed >= 250);
    assert_true (elapsed < SLOW_MS);
}

static void
s_too_large (fixture_t *f, const char *path)
{
    zc_http_request_t req = {
        .url = s_url (f, path), .max_body_bytes = 10 * 1024, .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    assert_int_equal (f->results[0].status, ZC_HTTP_TOO_LARGE);
    assert_null (f->results[0].body);
    assert_string_equal (zc_http_status_str (f->results[0].status), "too_large");
}

static void
test_too_large_content_length (void **state)
{
    s_too_large (*state, "/big.html");
}

static void
test_too_large_chunked (void **state)
{
    //  Endless chunked body, no Content-Length: must abort, not hang.
    s_too_large (*state, "/big-chunked.html");
}

static void
test_truncate_body (void **state)
{
    fixture_t *f = *state;
    zc_http_request_t req = {.url = s_url (f, "/big-chunked.html"),
                             .max_body_bytes = 1000,
                             .truncate_body = true,
                             .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_int_equal (c->http_status, 200);
    assert_true (c->truncated);
    assert_int_equal (c->body_size, 1000);
}

static void
test_under_limit_not_truncated (void **state)
{
    fixture_t *f = *state;
    zc_http_request_t req = {.url = s_url (f, "/big.html"),
                             .max_body_bytes = BIG_BYTES,
                             .truncate_body = true,
                             .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    assert_int_equal (f->results[0].status, ZC_HTTP_OK);
    assert_false (f->results[0].truncated);
    assert_int_equal (f->results[0].body_size, BIG_BYTES);
}

static void
test_parallel (void **state)
{
    fixture_t *f = *state;
    const size_t n = 200;
    for (size_t i = 0; i < n; i++)
        s_get (f, (i % 2) ? "/" : "/gzip.html", i);
    assert_int_equal (zc_http_active (f->http), n);
    s_run (f, n);
    bool seen[200] = {false};
    for (size_t i = 0; i < n; i++) {
        copy_t *c = &f->results[i];
        assert_int_equal (c->status, ZC_HTTP_OK);
        assert_int_equal (c->http_status, 200);
        assert_true (c->user < n);
        assert_false (seen[c->user]);
        seen[c->user] = true;
        assert_non_null (strstr (c->body, "</html>"));
    }
    assert_int_equal (zc_http_active (f->http), 0);
}

static void
test_bad_urls (void **state)
{
    fixture_t *f = *state;
    const char *urls[] = {"not a url", "ftp://127.0.0.1/file", "http://", "http://[::1"};
    size_t n = sizeof urls / sizeof urls[0];
    for (size_t i = 0; i < n; i++) {
        zc_http_request_t req = {.url = urls[i], .allow_private = true};
        assert_int_equal (zc_http_start (f->http, &req, (void *)i), 0);
    }
    zc_http_request_t none = {.url = NULL};
    assert_int_equal (zc_http_start (f->http, &none, NULL), -1);
    s_run (f, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal (f->results[i].status, ZC_HTTP_BAD_URL);
        assert_int_equal (f->results[i].http_status, 0);
    }
}

static void
test_private_blocked (void **state)
{
    fixture_t *f = *state;
    zc_http_request_t req = {.url = s_url (f, "/"), .allow_private = false};
    assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_run (f, 1);
    assert_int_equal (f->results[0].status, ZC_HTTP_BLOCKED);
    assert_string_equal (zc_http_status_str (f->results[0].status), "blocked");
}

static void
test_destroy_aborts (void **state)
{
    fixture_t *f = *state;
    //  Transfers still running at destroy are aborted without callbacks and
    //  without leaks (ASan checks the latter).
    zc_http_request_t req = {.url = s_url (f, "/slow.html"), .allow_private = true};
    for (int i = 0; i < 3; i++)
        assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_get (f, "/", 1);
    s_run (f, 1);
    assert_int_equal (zc_http_active (f->http), 3);
    zc_http_destroy (&f->http);
    assert_int_equal (f->done, 1);
}

static void
test_abort_all (void **state)
{
    fixture_t *f = *state;
    //  Aborted transfers get no callback; the engine goes on working.
    zc_http_request_t req = {.url = s_url (f, "/slow.html"), .allow_private = true};
    for (int i = 0; i < 3; i++)
        assert_int_equal (zc_http_start (f->http, &req, NULL), 0);
    s_get (f, "/", 1);
    s_run (f, 1);
    assert_int_equal (zc_http_active (f->http), 3);
    int64_t started = zclock_mono ();
    assert_int_equal (zc_http_abort_all (f->http), 3);
    assert_int_equal (zc_http_active (f->http), 0);
    assert_int_equal (zc_http_abort_all (f->http), 0);
    s_get (f, "/", 2);
    s_run (f, 2);
    assert_true (zclock_mono () - started < SLOW_MS);
    assert_int_equal (f->results[1].user, 2);
    assert_int_equal (f->results[1].status, ZC_HTTP_OK);
    assert_int_equal (f->results[1].http_status, 200);
    assert_int_equal (zc_http_active (f->http), 0);
}

//  --------------------------------------------------------------------------
//  An inline server for what the test site does not do: echo the request
//  headers, Retry-After variants, a connection cut mid-body.

typedef struct {
    char buf[4096];
    size_t size;
} echo_t;

static enum MHD_Result
s_echo_header (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    echo_t *echo = cls;
    int n = snprintf (echo->buf + echo->size, sizeof echo->buf - echo->size, "%s: %s\n", key,
                      value ? value : "");
    if (n > 0 && (size_t)n < sizeof echo->buf - echo->size)
        echo->size += (size_t)n;
    return MHD_YES;
}

static ssize_t
s_cut_body (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= 2048)
        return MHD_CONTENT_READER_END_WITH_ERROR; //  closes the connection
    size_t n = max < 512 ? max : 512;
    memset (buf, 'x', n);
    return (ssize_t)n;
}

static enum MHD_Result
s_inline_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    (void)cls, (void)method, (void)version, (void)upload_data, (void)upload_size, (void)req_cls;
    struct MHD_Response *response = NULL;
    unsigned int code = 200;
    if (strcmp (url, "/headers") == 0) {
        echo_t echo = {.size = 0};
        MHD_get_connection_values (conn, MHD_HEADER_KIND, s_echo_header, &echo);
        response = MHD_create_response_from_buffer (echo.size, echo.buf, MHD_RESPMEM_MUST_COPY);
    } else if (strcmp (url, "/cut") == 0)
        response = MHD_create_response_from_callback (100000, 512, s_cut_body, NULL, NULL);
    else {
        response = MHD_create_response_from_buffer (4, "busy", MHD_RESPMEM_PERSISTENT);
        code = strncmp (url, "/503/", 5) == 0 ? 503 : 429;
        const char *value = NULL;
        char date[64];
        if (strncmp (url, "/429/", 5) == 0 || strncmp (url, "/503/", 5) == 0)
            value = url + 5;
        else if (strcmp (url, "/429-date") == 0 || strcmp (url, "/429-past") == 0) {
            time_t when = time (NULL) + (strcmp (url, "/429-date") == 0 ? 120 : -86400);
            struct tm tm;
            gmtime_r (&when, &tm);
            strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
            value = date;
        } else if (strcmp (url, "/200-with-retry") == 0) {
            code = 200;
            value = "30";
        }
        if (value && *value)
            MHD_add_response_header (response, "Retry-After", value);
    }
    enum MHD_Result rc = MHD_queue_response (conn, code, response);
    MHD_destroy_response (response);
    return rc;
}

static struct MHD_Daemon *
s_inline_start (int *port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_inline_handler, NULL,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
    assert_non_null (d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null (info);
    *port = info->port;
    return d;
}

static void
s_inline_get (fixture_t *f, int port, const char *path, uintptr_t user)
{
    char url[256];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    zc_http_request_t req = {.url = url, .allow_private = true};
    assert_int_equal (zc_http_start (f->http, &req, (void *)user), 0);
}

static copy_t *
s_result_for (fixture_t *f, uintptr_t user)
{
    for (size_t i = 0; i < f->done; i++)
        if (f->results[i].user == user)
            return &f->results[i];
    fail_msg ("no result for %u", (unsigned)user);
    return NULL;
}

static void
test_request_headers_sent (void **state)
{
    fixture_t *f = *state;
    int port = 0;
    struct MHD_Daemon *d = s_inline_start (&port);
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/headers", port);
    const char *headers[] = {"X-Zc-Test: one two", "Accept-Language: fr", "Cookie: a=b; c=d"};
    zc_http_request_t req = {
        .url = url, .allow_private = true, .headers = headers, .header_count = 3};
    assert_int_equal (zc_http_start (f->http, &req, (void *)1), 0);
    s_run (f, 1);
    MHD_stop_daemon (d);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_OK);
    assert_non_null (c->body);
    assert_non_null (strstr (c->body, "X-Zc-Test: one two\n"));
    assert_non_null (strstr (c->body, "Accept-Language: fr\n"));
    assert_non_null (strstr (c->body, "Cookie: a=b; c=d\n"));
    assert_non_null (strstr (c->body, "User-Agent: " ZC_HTTP_DEFAULT_USER_AGENT "\n"));
}

static void
test_request_check (void **state)
{
    fixture_t *f = *state;
    const char *bad[] = {"X-A: b\r\nX-Injected: 1",
                         "X-A: b\nGET / HTTP/1.1",
                         "X-A: \x01",
                         "no colon",
                         ": empty name",
                         "Bad Name: x",
                         NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *one[] = {bad[i]};
        zc_http_request_t req = {.url = s_url (f, "/"), .headers = one, .header_count = 1};
        const char *why = NULL;
        assert_int_equal (zc_http_request_check (&req, &why), -1);
        assert_non_null (why);
        assert_int_equal (zc_http_start (f->http, &req, NULL), -1);
    }
    const char *bad_resolve[] = {"host:80", "host 80:1.2.3.4", "h:1:2\r\n", "-h:80", ":80:1.2.3.4"};
    for (size_t i = 0; i < sizeof bad_resolve / sizeof bad_resolve[0]; i++) {
        const char *one[] = {bad_resolve[i]};
        zc_http_request_t req = {.url = s_url (f, "/"), .resolve = one, .resolve_count = 1};
        assert_int_equal (zc_http_request_check (&req, NULL), -1);
        assert_int_equal (zc_http_start (f->http, &req, NULL), -1);
    }
    const char *good[] = {"X-Ok: 1", "Empty:", "A-B_c: x:y"};
    const char *resolve[] = {"example.test:80:127.0.0.1", "[::1]:443:::1"};
    zc_http_request_t req = {.url = s_url (f, "/"),
                             .headers = good,
                             .header_count = 3,
                             .resolve = resolve,
                             .resolve_count = 2};
    assert_int_equal (zc_http_request_check (&req, NULL), 0);
    assert_int_equal (zc_http_active (f->http), 0);
}

static void
test_resolve (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    const char *port = strrchr (site, ':') + 1;
    char url[128], entry[128];
    snprintf (url, sizeof url, "http://made-up-name.invalid:%s/p/1.html", port);
    snprintf (entry, sizeof entry, "made-up-name.invalid:%s:127.0.0.1", port);
    const char *resolve[] = {entry};
    zc_http_request_t req = {
        .url = url, .allow_private = true, .resolve = resolve, .resolve_count = 1};
    assert_int_equal (zc_http_start (f->http, &req, (void *)1), 0);
    //  The SSRF guard still sees the resolved (loopback) address
    zc_http_request_t guarded = {.url = url, .resolve = resolve, .resolve_count = 1};
    assert_int_equal (zc_http_start (f->http, &guarded, (void *)2), 0);
    s_run (f, 2);
    copy_t *ok = s_result_for (f, 1);
    assert_int_equal (ok->status, ZC_HTTP_OK);
    assert_int_equal (ok->http_status, 200);
    assert_non_null (strstr (ok->body, "</html>"));
    assert_int_equal (s_result_for (f, 2)->status, ZC_HTTP_BLOCKED);
}

static void
test_retry_after (void **state)
{
    fixture_t *f = *state;
    int port = 0;
    struct MHD_Daemon *d = s_inline_start (&port);
    s_inline_get (f, port, "/429/7", 1);
    s_inline_get (f, port, "/503/0", 2);
    s_inline_get (f, port, "/503/999999999999", 3);
    s_inline_get (f, port, "/429-date", 4);
    s_inline_get (f, port, "/429-past", 5);
    s_inline_get (f, port, "/429/", 6);
    s_inline_get (f, port, "/429/soon", 7);
    s_inline_get (f, port, "/200-with-retry", 8);
    s_inline_get (f, port, "/429/12abc", 9);
    s_run (f, 9);
    MHD_stop_daemon (d);
    assert_int_equal (s_result_for (f, 1)->http_status, 429);
    assert_int_equal (s_result_for (f, 1)->status, ZC_HTTP_OK);
    assert_int_equal (s_result_for (f, 1)->retry_after_ms, 7000);
    assert_int_equal (s_result_for (f, 2)->http_status, 503);
    assert_int_equal (s_result_for (f, 2)->retry_after_ms, 0);
    assert_int_equal (s_result_for (f, 3)->retry_after_ms, ZC_HTTP_MAX_RETRY_AFTER_MS);
    uint32_t date_ms = s_result_for (f, 4)->retry_after_ms;
    assert_true (date_ms > 100000 && date_ms <= 120000);
    assert_int_equal (s_result_for (f, 5)->retry_after_ms, 0);
    assert_int_equal (s_result_for (f, 6)->retry_after_ms, 0);
    assert_int_equal (s_result_for (f, 7)->retry_after_ms, 0);
    assert_int_equal (s_result_for (f, 8)->retry_after_ms, 0); //  only for 429/503
    assert_int_equal (s_result_for (f, 9)->retry_after_ms, 0);
}

static void
test_cut_mid_body (void **state)
{
    fixture_t *f = *state;
    int port = 0;
    struct MHD_Daemon *d = s_inline_start (&port);
    s_inline_get (f, port, "/cut", 1);
    s_run (f, 1);
    MHD_stop_daemon (d);
    copy_t *c = &f->results[0];
    assert_int_equal (c->status, ZC_HTTP_NETWORK);
    assert_string_equal (zc_http_status_str (c->status), "network");
    assert_int_equal (c->http_status, 0);
    assert_null (c->body);
}

int
main (void)
{
    assert_int_equal (curl_global_init (CURL_GLOBAL_DEFAULT), CURLE_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_status_str),
        cmocka_unit_test_setup_teardown (test_ok_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_gzip_decoded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_404, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirect_not_followed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_connect_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_too_large_content_length, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_too_large_chunked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_truncate_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_under_limit_not_truncated, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_parallel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bad_urls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_private_blocked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_destroy_aborts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_abort_all, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_request_headers_sent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_request_check, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resolve, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_after, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cut_mid_body, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
