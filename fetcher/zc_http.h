/*  zc_http — an asynchronous HTTP client engine for one actor: libcurl multi
    driven by the actor's zloop with curl_multi_socket_action.

    Usage:
        zc_http_t *http = zc_http_new (loop, s_on_done, self);
        zc_http_request_t req = { .url = "http://127.0.0.1:8080/" };
        if (zc_http_start (http, &req, job) == 0)
            ...   //  s_on_done (self, &result, job) is called exactly once later
        zc_http_destroy (&http);   //  aborts transfers still running

    Design: curl's sockets live in one epoll set whose fd is the only thing
    registered in the zloop (zloop polls every item on every turn, so
    thousands of transfers stay cheap); curl's timer is one zloop timer.
    Easy handles are recycled through a free list, so connections and the DNS
    cache are shared through the multi handle. Redirects are not followed:
    the caller gets the Location and decides. Everything here runs on the
    actor's thread; nothing is shared between engines.

    Defaults (a zero field in zc_http_request_t):
      connect timeout 10 s, total timeout 30 s, max body 10 MiB,
      user agent ZC_HTTP_DEFAULT_USER_AGENT. A transfer slower than
      ZC_HTTP_LOW_SPEED_BYTES per second, averaged over
      ZC_HTTP_LOW_SPEED_TIME_S seconds, is aborted as a timeout (this catches
      trickling servers well before the total timeout while leaving slow but
      live links alone).
*/
#ifndef ZC_HTTP_H_INCLUDED
#define ZC_HTTP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZC_HTTP_DEFAULT_USER_AGENT "zcrawl/0.1 (+https://example.invalid/zcrawl-contact)"
#define ZC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define ZC_HTTP_DEFAULT_TIMEOUT_MS 30000
#define ZC_HTTP_DEFAULT_MAX_BODY_BYTES (10u * 1024 * 1024)
#define ZC_HTTP_LOW_SPEED_BYTES 100
#define ZC_HTTP_LOW_SPEED_TIME_S 15
#define ZC_HTTP_MAX_RETRY_AFTER_MS (3600u * 1000)

//  How a transfer ended. ZC_HTTP_OK means an HTTP response was received,
//  whatever its status code; every other value is a failure without one.
typedef enum {
    ZC_HTTP_OK = 0,
    ZC_HTTP_BAD_URL,   //  malformed URL or a scheme other than http(s)
    ZC_HTTP_DNS,       //  host name could not be resolved
    ZC_HTTP_CONNECT,   //  connection refused or unreachable
    ZC_HTTP_TIMEOUT,   //  connect, total or low-speed timeout
    ZC_HTTP_TOO_LARGE, //  body larger than max_body_bytes
    ZC_HTTP_TLS,       //  TLS handshake or certificate failure
    ZC_HTTP_BLOCKED,   //  SSRF guard: private/loopback address not allowed
    ZC_HTTP_NETWORK,   //  anything else (reset, bad encoding, protocol error)
} zc_http_status_t;

//  Short lowercase name ("ok", "bad_url", "dns", "connect", "timeout",
//  "too_large", "tls", "blocked", "network"), as used in FETCH_FAILED
//  reasons; "?" for an invalid value.
const char *zc_http_status_str (zc_http_status_t status);

//  One request. Strings are borrowed for the duration of zc_http_start.
typedef struct {
    const char *url;             //  absolute http(s) URL
    uint32_t connect_timeout_ms; //  0 = default
    uint32_t timeout_ms;         //  whole transfer; 0 = default
    uint64_t max_body_bytes;     //  0 = default
    bool truncate_body;          //  past max_body_bytes: stop reading and report
                                 //  ZC_HTTP_OK with truncated set (robots.txt),
                                 //  instead of ZC_HTTP_TOO_LARGE
    bool allow_private;          //  allow loopback/private/link-local addresses
    const char *user_agent;      //  NULL or "" = default
    const char *const *headers;  //  extra request headers, each "Name: value"
    size_t header_count;         //  (see zc_http_request_check)
    const char *const *resolve;  //  curl-style "HOST:PORT:ADDRESS[,ADDRESS]" DNS
    size_t resolve_count;        //  overrides; the SSRF guard still applies
} zc_http_request_t;

//  Checks REQ's headers and resolve entries (untrusted: they come from the
//  crawl spec through jobs): a header must be "Name: value" with a token
//  name and no CR, LF or other control character; a resolve entry must be
//  HOST:PORT:ADDRESS without whitespace or control characters. Returns 0,
//  or -1 with *WHY (if not NULL) set to a static description.
//  zc_http_start refuses requests that fail this check.
int zc_http_request_check (const zc_http_request_t *req, const char **why);

//  The outcome of one transfer, passed to the completion callback. Strings
//  are borrowed and valid only during the callback.
typedef struct {
    zc_http_status_t status;
    uint32_t http_status;      //  HTTP status code, 0 if no response
    const char *url;           //  the requested URL
    const char *effective_url; //  as curl last used it
    const char *location;      //  absolute redirect target (3xx), else NULL
    const char *content_type;  //  "" if the server sent none
    char *body;                //  owned by the engine, NUL-terminated, may be
                               //  NULL when empty; take it with
                               //  zc_http_result_take_body
    size_t body_size;
    bool truncated; //  truncate_body cut the body
    uint32_t total_ms;
    uint32_t connect_ms;
    uint32_t ttfb_ms;        //  time to first byte
    const char *error;       //  curl's error text, "" on success
    uint32_t retry_after_ms; //  429 and 503 only: the Retry-After header
                             //  (delta-seconds or HTTP-date, relative to now,
                             //  at most ZC_HTTP_MAX_RETRY_AFTER_MS); 0 if
                             //  absent, invalid or in the past
} zc_http_result_t;

//  Completion callback: ARG from zc_http_new, USER from zc_http_start. It
//  may start new transfers; it must not destroy the engine.
typedef void (zc_http_done_fn) (void *arg, zc_http_result_t *result, void *user);

typedef struct zc_http zc_http_t;

//  Creates an engine whose sockets and timer run on LOOP (borrowed; it must
//  outlive the engine). Returns NULL (logged) if curl or epoll cannot be set
//  up. Call curl_global_init once per process before.
zc_http_t *zc_http_new (zloop_t *loop, zc_http_done_fn *done, void *arg);

//  Aborts every running transfer (their callbacks are NOT called), frees
//  everything and removes the engine from its loop. NULL-safe; sets
//  *self_p to NULL.
void zc_http_destroy (zc_http_t **self_p);

//  Aborts every running transfer; their callbacks are NOT called (the
//  caller still owns what it passed as USER). The engine stays usable.
//  Returns the number of transfers aborted. Must not be called from the
//  completion callback.
size_t zc_http_abort_all (zc_http_t *self);

//  Starts a GET of REQ->url. Returns 0, after which the callback is called
//  exactly once from the loop (never from inside this call), or -1 if the
//  transfer could not be started (REQ->url NULL, curl refused it); then the
//  callback is never called for it.
int zc_http_start (zc_http_t *self, const zc_http_request_t *req, void *user);

//  Transfers started and not yet completed.
size_t zc_http_active (zc_http_t *self);

//  Takes ownership of the body: returns it (free with free()) and leaves
//  RESULT->body NULL. *SIZE_P (if not NULL) gets the size. May return NULL
//  for an empty body.
char *zc_http_result_take_body (zc_http_result_t *result, size_t *size_p);

#endif
