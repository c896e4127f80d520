/*  zc_http — curl multi inside a zloop. See zc_http.h.

    Event flow:
    - curl tells us which sockets to watch (s_on_curl_socket) and we keep them
      in one epoll set; the epoll fd is a single zloop poller. When it is
      readable we drain ready events with epoll_wait (timeout 0) and hand
      each fd to curl_multi_socket_action with the matching CSELECT bits.
    - curl tells us when it next needs a timeout call (s_on_curl_timer); we
      keep exactly one zloop timer for that, cancelled and re-created on
      every change. curl_multi_socket_action must not be called from inside
      curl's callbacks, so even a 0 ms timeout goes through the loop.
    - After every socket_action we drain curl_multi_info_read and complete
      finished transfers; completion callbacks therefore never run inside a
      curl callback and may start new transfers.

    Bodies are collected by our write callback, which also enforces
    max_body_bytes (servers need not send Content-Length, so
    CURLOPT_MAXFILESIZE_LARGE alone is not enough).
*/
#include "zc_http.h"
#include "zc_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_BODY_INITIAL_BYTES (16 * 1024)
//  curl reads at most this much per readable event and returns to the loop:
//  with its default 16 KiB a 40 KB page took three loop turns (zmq_poll,
//  epoll_wait, recv each); 64 KiB takes most pages in one
#define S_RECV_BUFFER_BYTES (64 * 1024)
#define S_EPOLL_BATCH 64

typedef struct s_xfer s_xfer_t;

struct s_xfer {
    zc_http_t *owner; //  borrowed
    CURL *easy;       //  owned
    s_xfer_t *prev;   //  active list / free list links
    s_xfer_t *next;
    void *user; //  borrowed from zc_http_start's caller
    char *url;  //  owned copy of the requested URL
    char *body; //  owned
    size_t body_size;
    size_t body_cap;
    uint64_t max_body_bytes;
    bool truncate_body;
    bool too_large; //  the write callback cut the body
    bool allow_private;
    bool blocked;               //  the SSRF guard refused an address
    struct curl_slist *headers; //  owned: CURLOPT_HTTPHEADER, alive until done
    struct curl_slist *resolve; //  owned: CURLOPT_RESOLVE
    char errbuf[CURL_ERROR_SIZE];
};

struct zc_http {
    zloop_t *loop; //  borrowed
    zc_http_done_fn *done;
    void *arg;           //  borrowed
    CURLM *multi;        //  owned
    int epfd;            //  owned
    zmq_pollitem_t item; //  the epoll fd as registered in LOOP
    bool poller_registered;
    int timer_id;     //  -1 when none
    bool closing;     //  destroy in progress: ignore curl callbacks
    s_xfer_t *active; //  doubly linked list of running transfers
    size_t active_count;
    s_xfer_t *free_list; //  recycled transfers (easy handles kept)
};

const char *
zc_http_status_str (zc_http_status_t status)
{
    switch (status) {
    case ZC_HTTP_OK:
        return "ok";
    case ZC_HTTP_BAD_URL:
        return "bad_url";
    case ZC_HTTP_DNS:
        return "dns";
    case ZC_HTTP_CONNECT:
        return "connect";
    case ZC_HTTP_TIMEOUT:
        return "timeout";
    case ZC_HTTP_TOO_LARGE:
        return "too_large";
    case ZC_HTTP_TLS:
        return "tls";
    case ZC_HTTP_BLOCKED:
        return "blocked";
    case ZC_HTTP_NETWORK:
        return "network";
    }
    return "?";
}

//  --------------------------------------------------------------------------
//  Transfers

static void
s_xfer_destroy (s_xfer_t **self_p)
{
    s_xfer_t *self = *self_p;
    if (!self)
        return;
    if (self->easy)
        curl_easy_cleanup (self->easy);
    free (self->url);
    free (self->body);
    curl_slist_free_all (self->headers);
    curl_slist_free_all (self->resolve);
    free (self);
    *self_p = NULL;
}

static void
s_active_unlink (zc_http_t *self, s_xfer_t *xfer)
{
    if (xfer->prev)
        xfer->prev->next = xfer->next;
    else
        self->active = xfer->next;
    if (xfer->next)
        xfer->next->prev = xfer->prev;
    xfer->prev = xfer->next = NULL;
    self->active_count--;
}

//  First buffer size: the declared Content-Length when it fits the cap
//  (one allocation, no regrowth copies: a 40 KB page grown from 16 KiB was
//  copied twice more), else S_BODY_INITIAL_BYTES. A compressed body's
//  length is a first guess that still grows.
static size_t
s_body_first_cap (s_xfer_t *xfer)
{
    curl_off_t length = -1;
    if (curl_easy_getinfo (xfer->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK ||
        length <= 0 || (uint64_t)length >= xfer->max_body_bytes)
        return S_BODY_INITIAL_BYTES;
    return (size_t)length + 1;
}

static size_t
s_on_write (char *data, size_t size, size_t nmemb, void *userp)
{
    s_xfer_t *xfer = userp;
    size_t n = size * nmemb;
    if (n == 0)
        return 0;
    if (xfer->body_size + n > xfer->max_body_bytes) {
        //  Keep what fits when truncating (robots.txt), then abort either way.
        if (xfer->truncate_body)
            n = (size_t)(xfer->max_body_bytes - xfer->body_size);
        xfer->too_large = true;
        if (!xfer->truncate_body || n == 0)
            return 0;
    }
    if (xfer->body_size + n + 1 > xfer->body_cap) {
        size_t cap = xfer->body_cap ? xfer->body_cap : s_body_first_cap (xfer);
        while (cap < xfer->body_size + n + 1)
            cap *= 2;
        char *body = realloc (xfer->body, cap);
        if (!body)
            return 0; //  curl reports a write error; no abort from a callback
        xfer->body = body;
        xfer->body_cap = cap;
    }
    memcpy (xfer->body + xfer->body_size, data, n);
    xfer->body_size += n;
    xfer->body[xfer->body_size] = 0;
    //  Truncation reached the cap: stop the transfer here.
    return xfer->too_large ? 0 : n;
}

static bool
s_ipv4_private (const unsigned char *a)
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
}

static bool
s_address_private (const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return s_ipv4_private ((const unsigned char *)&in->sin_addr.s_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const unsigned char *a = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr) || IN6_IS_ADDR_V4COMPAT (&in6->sin6_addr))
            return s_ipv4_private (a + 12);
        return IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr) ||
               IN6_IS_ADDR_UNSPECIFIED (&in6->sin6_addr) ||
               (a[0] & 0xfe) == 0xfc                      //  fc00::/7 unique local
               || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) //  fe80::/10
               || a[0] == 0xff;                           //  multicast
    }
    return true; //  unix sockets and anything unknown
}

//  The SSRF guard sees the resolved address (or the proxy's) before connect.
static curl_socket_t
s_on_open_socket (void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    s_xfer_t *xfer = clientp;
    (void)purpose;
    if (!xfer->allow_private && s_address_private (&address->addr)) {
        xfer->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket (address->family, address->socktype, address->protocol);
}

static int
s_easy_setup (s_xfer_t *xfer, const zc_http_request_t *req)
{
    CURL *e = xfer->easy;
    long connect_ms =
        req->connect_timeout_ms ? req->connect_timeout_ms : ZC_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    long total_ms = req->timeout_ms ? req->timeout_ms : ZC_HTTP_DEFAULT_TIMEOUT_MS;
    const char *agent =
        req->user_agent && *req->user_agent ? req->user_agent : ZC_HTTP_DEFAULT_USER_AGENT;
    CURLcode rc = CURLE_OK;
    //  Chained so the first failure sticks; every option is checked.
#define S_SET(opt, val)                                                                            \
    if (rc == CURLE_OK)                                                                            \
    rc = curl_easy_setopt (e, opt, val)
    S_SET (CURLOPT_URL, req->url);
    S_SET (CURLOPT_PROTOCOLS_STR, "http,https");
    S_SET (CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    S_SET (CURLOPT_FOLLOWLOCATION, 0L);
    S_SET (CURLOPT_NOSIGNAL, 1L);
    S_SET (CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    S_SET (CURLOPT_TIMEOUT_MS, total_ms);
    S_SET (CURLOPT_LOW_SPEED_LIMIT, (long)ZC_HTTP_LOW_SPEED_BYTES);
    S_SET (CURLOPT_LOW_SPEED_TIME, (long)ZC_HTTP_LOW_SPEED_TIME_S);
    if (!req->truncate_body)
        S_SET (CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)xfer->max_body_bytes);
    S_SET (CURLOPT_ACCEPT_ENCODING, "");
    S_SET (CURLOPT_USERAGENT, agent);
    S_SET (CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    S_SET (CURLOPT_TCP_KEEPALIVE, 1L);
    S_SET (CURLOPT_BUFFERSIZE, (long)S_RECV_BUFFER_BYTES);
    S_SET (CURLOPT_WRITEFUNCTION, s_on_write);
    S_SET (CURLOPT_WRITEDATA, xfer);
    S_SET (CURLOPT_OPENSOCKETFUNCTION, s_on_open_socket);
    S_SET (CURLOPT_OPENSOCKETDATA, xfer);
    S_SET (CURLOPT_ERRORBUFFER, xfer->errbuf);
    S_SET (CURLOPT_PRIVATE, xfer);
    if (xfer->headers)
        S_SET (CURLOPT_HTTPHEADER, xfer->headers);
    if (xfer->resolve)
        S_SET (CURLOPT_RESOLVE, xfer->resolve);
#undef S_SET
    if (rc != CURLE_OK) {
        zsys_warning ("zc_http: cannot set up request for %s: %s", req->url,
                      curl_easy_strerror (rc));
        return -1;
    }
    return 0;
}

//  Takes a recycled transfer or makes a new one; NULL if curl fails.
static s_xfer_t *
s_xfer_get (zc_http_t *self)
{
    s_xfer_t *xfer = self->free_list;
    if (xfer) {
        self->free_list = xfer->next;
        xfer->next = NULL;
        curl_easy_reset (xfer->easy);
        return xfer;
    }
    xfer = zmalloc (sizeof *xfer);
    xfer->owner = self;
    xfer->easy = curl_easy_init ();
    if (!xfer->easy) {
        zsys_error ("zc_http: curl_easy_init failed");
        s_xfer_destroy (&xfer);
    }
    return xfer;
}

//  Returns a finished transfer to the free list (its easy handle is kept).
static void
s_xfer_recycle (zc_http_t *self, s_xfer_t *xfer)
{
    free (xfer->url);
    free (xfer->body);
    curl_slist_free_all (xfer->headers);
    curl_slist_free_all (xfer->resolve);
    CURL *easy = xfer->easy;
    memset (xfer, 0, sizeof *xfer);
    xfer->owner = self;
    xfer->easy = easy;
    xfer->next = self->free_list;
    self->free_list = xfer;
}

//  --------------------------------------------------------------------------
//  Completion

static zc_http_status_t
s_status_from_curl (s_xfer_t *xfer, CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return ZC_HTTP_OK;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return ZC_HTTP_BAD_URL;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return ZC_HTTP_DNS;
    case CURLE_COULDNT_CONNECT:
        return xfer->blocked ? ZC_HTTP_BLOCKED : ZC_HTTP_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return ZC_HTTP_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return ZC_HTTP_TOO_LARGE;
    case CURLE_PARTIAL_FILE: //  connection closed or reset mid-body
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return ZC_HTTP_NETWORK;
    case CURLE_WRITE_ERROR:
        if (xfer->too_large)
            return xfer->truncate_body ? ZC_HTTP_OK : ZC_HTTP_TOO_LARGE;
        return ZC_HTTP_NETWORK;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return ZC_HTTP_TLS;
    default:
        return ZC_HTTP_NETWORK;
    }
}

static uint32_t
s_info_ms (CURL *easy, CURLINFO info)
{
    curl_off_t us = 0;
    if (curl_easy_getinfo (easy, info, &us) != CURLE_OK || us < 0)
        return 0;
    curl_off_t ms = us / 1000;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

//  Parses Retry-After (RFC 9110 10.2.3) of the last response: delta-seconds
//  or an HTTP-date, as a delay from now capped at ZC_HTTP_MAX_RETRY_AFTER_MS.
static uint32_t
s_retry_after_ms (CURL *easy)
{
    struct curl_header *header = NULL;
    if (curl_easy_header (easy, "Retry-After", 0, CURLH_HEADER, -1, &header) != CURLHE_OK ||
        !header || !header->value)
        return 0;
    const char *value = header->value;
    while (*value == ' ' || *value == '\t')
        value++;
    int64_t delay_ms = 0;
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        errno = 0;
        unsigned long long seconds = strtoull (value, &end, 10);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        if (!end || *end != '\0')
            return 0;
        if (errno == ERANGE || seconds > ZC_HTTP_MAX_RETRY_AFTER_MS / 1000)
            return ZC_HTTP_MAX_RETRY_AFTER_MS;
        delay_ms = (int64_t)seconds * 1000;
    } else {
        time_t when = curl_getdate (value, NULL);
        if (when == (time_t)-1)
            return 0;
        delay_ms = (int64_t)when * 1000 - zc_now_ms ();
    }
    if (delay_ms <= 0)
        return 0;
    return delay_ms > ZC_HTTP_MAX_RETRY_AFTER_MS ? ZC_HTTP_MAX_RETRY_AFTER_MS : (uint32_t)delay_ms;
}

static void
s_complete (zc_http_t *self, CURL *easy, CURLcode code)
{
    s_xfer_t *xfer = NULL;
    if (curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **)&xfer) != CURLE_OK || !xfer) {
        zsys_error ("zc_http: finished transfer without private data");
        curl_multi_remove_handle (self->multi, easy);
        return;
    }
    CURLMcode mrc = curl_multi_remove_handle (self->multi, easy);
    if (mrc != CURLM_OK)
        zsys_warning ("zc_http: remove handle: %s", curl_multi_strerror (mrc));
    s_active_unlink (self, xfer);

    zc_http_result_t result = {
        .status = s_status_from_curl (xfer, code),
        .url = xfer->url,
        .effective_url = xfer->url,
        .content_type = "",
        .error = "",
    };
    long http_status = 0;
    if (curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &http_status) == CURLE_OK &&
        http_status > 0 && http_status < 1000)
        result.http_status = (uint32_t)http_status;
    char *s = NULL;
    if (curl_easy_getinfo (easy, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
        result.effective_url = s;
    s = NULL;
    if (curl_easy_getinfo (easy, CURLINFO_REDIRECT_URL, &s) == CURLE_OK && s && *s)
        result.location = s;
    s = NULL;
    if (curl_easy_getinfo (easy, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
        result.content_type = s;
    if (result.http_status == 429 || result.http_status == 503)
        result.retry_after_ms = s_retry_after_ms (easy);
    result.total_ms = s_info_ms (easy, CURLINFO_TOTAL_TIME_T);
    result.connect_ms = s_info_ms (easy, CURLINFO_CONNECT_TIME_T);
    result.ttfb_ms = s_info_ms (easy, CURLINFO_STARTTRANSFER_TIME_T);
    if (result.status == ZC_HTTP_OK) {
        result.truncated = xfer->too_large;
        result.body = xfer->body;
        result.body_size = xfer->body_size;
        xfer->body = NULL;
    } else {
        //  A failed transfer has no usable response: hand back no body and
        //  no status from a half-read response.
        if (result.status != ZC_HTTP_TOO_LARGE)
            result.http_status = 0;
        result.error = *xfer->errbuf ? xfer->errbuf : curl_easy_strerror (code);
    }
    if (result.status == ZC_HTTP_TOO_LARGE)
        result.error = "body larger than max_body_bytes";
    else if (result.status == ZC_HTTP_BLOCKED)
        result.error = "address not allowed (private or loopback; allow_private is off)";

    self->done (self->arg, &result, xfer->user);
    free (result.body); //  unless the callback took it
    s_xfer_recycle (self, xfer);
}

static void
s_check_done (zc_http_t *self)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read (self->multi, &queued))) {
        if (msg->msg == CURLMSG_DONE)
            s_complete (self, msg->easy_handle, msg->data.result);
    }
}

static void
s_socket_action (zc_http_t *self, curl_socket_t fd, int flags)
{
    int running = 0;
    CURLMcode rc = curl_multi_socket_action (self->multi, fd, flags, &running);
    if (rc != CURLM_OK)
        zsys_warning ("zc_http: socket_action: %s", curl_multi_strerror (rc));
    s_check_done (self);
}

//  --------------------------------------------------------------------------
//  Loop integration

static int
s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    zc_http_t *self = arg;
    (void)loop;
    if (timer_id != self->timer_id)
        return 0; //  a cancelled timer that fired anyway
    self->timer_id = -1;
    s_socket_action (self, CURL_SOCKET_TIMEOUT, 0);
    return 0;
}

static int
s_on_curl_timer (CURLM *multi, long timeout_ms, void *userp)
{
    zc_http_t *self = userp;
    (void)multi;
    if (self->closing)
        return 0;
    if (self->timer_id != -1) {
        zloop_timer_end (self->loop, self->timer_id);
        self->timer_id = -1;
    }
    if (timeout_ms < 0)
        return 0;
    int id = zloop_timer (self->loop, (size_t)timeout_ms, 1, s_on_timer, self);
    if (id == -1) {
        zsys_error ("zc_http: cannot create zloop timer");
        return -1;
    }
    self->timer_id = id;
    return 0;
}

static int
s_on_curl_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    zc_http_t *self = userp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        //  The socket may already be gone from the set (closed): ENOENT/EBADF
        //  are expected and harmless, so the result is deliberately ignored.
        //  curl forgets the socket's assignment (socketp) itself.
        (void)epoll_ctl (self->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev.events |= EPOLLOUT;
    //  SOCKETP is set (curl_multi_assign) once the socket is in the epoll
    //  set: ADD for a new (or re-pooled) socket, MOD after, no failed call.
    //  The other one is the fallback for a set that disagrees (an fd that
    //  was closed and reused).
    bool known = socketp != NULL;
    int rc = epoll_ctl (self->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (rc == -1 && errno == (known ? ENOENT : EEXIST))
        rc = epoll_ctl (self->epfd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    if (rc == 0 && !known && curl_multi_assign (self->multi, fd, self) != CURLM_OK)
        zsys_warning ("zc_http: curl_multi_assign fd %d failed", (int)fd);
    if (rc == -1) {
        zsys_warning ("zc_http: epoll_ctl fd %d: %s", (int)fd, strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_handle_epoll (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    zc_http_t *self = arg;
    (void)loop;
    (void)item;
    struct epoll_event events[S_EPOLL_BATCH];
    int n = epoll_wait (self->epfd, events, S_EPOLL_BATCH, 0);
    if (n == -1) {
        if (errno != EINTR)
            zsys_warning ("zc_http: epoll_wait: %s", strerror (errno));
        return 0;
    }
    for (int i = 0; i < n; i++) {
        int flags = 0;
        if (events[i].events & EPOLLIN)
            flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP))
            flags |= CURL_CSELECT_ERR;
        s_socket_action (self, events[i].data.fd, flags);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Public API

zc_http_t *
zc_http_new (zloop_t *loop, zc_http_done_fn *done, void *arg)
{
    assert (loop);
    assert (done);
    zc_http_t *self = zmalloc (sizeof *self);
    self->loop = loop;
    self->done = done;
    self->arg = arg;
    self->timer_id = -1;
    self->epfd = epoll_create1 (EPOLL_CLOEXEC);
    if (self->epfd == -1) {
        zsys_error ("zc_http: epoll_create1: %s", strerror (errno));
        zc_http_destroy (&self);
        return NULL;
    }
    self->multi = curl_multi_init ();
    if (!self->multi) {
        zsys_error ("zc_http: curl_multi_init failed");
        zc_http_destroy (&self);
        return NULL;
    }
    CURLMcode rc = curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_curl_socket);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_curl_timer);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt (self->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (rc != CURLM_OK) {
        zsys_error ("zc_http: curl_multi_setopt: %s", curl_multi_strerror (rc));
        zc_http_destroy (&self);
        return NULL;
    }
    self->item = (zmq_pollitem_t){.fd = self->epfd, .events = ZMQ_POLLIN};
    if (zloop_poller (loop, &self->item, s_handle_epoll, self) == -1) {
        zsys_error ("zc_http: cannot register epoll fd in zloop");
        zc_http_destroy (&self);
        return NULL;
    }
    self->poller_registered = true;
    zloop_poller_set_tolerant (loop, &self->item);
    return self;
}

void
zc_http_destroy (zc_http_t **self_p)
{
    assert (self_p);
    zc_http_t *self = *self_p;
    if (!self)
        return;
    self->closing = true;
    while (self->active) {
        s_xfer_t *xfer = self->active;
        s_active_unlink (self, xfer);
        curl_multi_remove_handle (self->multi, xfer->easy);
        s_xfer_destroy (&xfer);
    }
    while (self->free_list) {
        s_xfer_t *xfer = self->free_list;
        self->free_list = xfer->next;
        s_xfer_destroy (&xfer);
    }
    if (self->multi)
        curl_multi_cleanup (self->multi);
    if (self->timer_id != -1)
        zloop_timer_end (self->loop, self->timer_id);
    if (self->poller_registered)
        zloop_poller_end (self->loop, &self->item);
    if (self->epfd != -1)
        close (self->epfd);
    free (self);
    *self_p = NULL;
}

size_t
zc_http_abort_all (zc_http_t *self)
{
    assert (self);
    size_t aborted = 0;
    while (self->active) {
        s_xfer_t *xfer = self->active;
        s_active_unlink (self, xfer);
        CURLMcode mrc = curl_multi_remove_handle (self->multi, xfer->easy);
        if (mrc != CURLM_OK)
            zsys_warning ("zc_http: remove handle: %s", curl_multi_strerror (mrc));
        s_xfer_recycle (self, xfer);
        aborted++;
    }
    return aborted;
}

static bool
s_has_control (const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return true;
        else if (*s == 0x7f)
            return true;
    return false;
}

int
zc_http_request_check (const zc_http_request_t *req, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    for (size_t i = 0; i < req->header_count; i++) {
        const char *h = req->headers ? req->headers[i] : NULL;
        if (!h) {
            *why = "missing request header";
            return -1;
        }
        if (s_has_control (h)) {
            *why = "request header contains CR, LF or another control character";
            return -1;
        }
        //  A token name (RFC 9110 5.1), then ':'
        size_t name = strcspn (h, ":");
        if (name == 0 || h[name] != ':' || strcspn (h, " \t\"(),/;<=>?@[\\]{}") < name) {
            *why = "request header is not 'Name: value'";
            return -1;
        }
    }
    for (size_t i = 0; i < req->resolve_count; i++) {
        const char *r = req->resolve ? req->resolve[i] : NULL;
        const char *first = r ? strchr (r, ':') : NULL;
        if (!r || s_has_control (r) || strpbrk (r, " \t") || !first || first == r ||
            !strchr (first + 1, ':') || *r == '-' || *r == '+') {
            *why = "resolve entry is not HOST:PORT:ADDRESS";
            return -1;
        }
    }
    return 0;
}

static struct curl_slist *
s_slist (const char *const *items, size_t count)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < count; i++) {
        struct curl_slist *more = curl_slist_append (list, items[i]);
        if (!more) {
            curl_slist_free_all (list);
            zsys_error ("zc_http: out of memory");
            abort ();
        }
        list = more;
    }
    return list;
}

int
zc_http_start (zc_http_t *self, const zc_http_request_t *req, void *user)
{
    assert (self);
    assert (req);
    if (!req->url) {
        zsys_warning ("zc_http: request without URL");
        return -1;
    }
    const char *why = NULL;
    if (zc_http_request_check (req, &why) != 0) {
        zsys_warning ("zc_http: refusing request for %s: %s", req->url, why);
        return -1;
    }
    s_xfer_t *xfer = s_xfer_get (self);
    if (!xfer)
        return -1;
    xfer->user = user;
    xfer->url = zc_strdup (req->url);
    xfer->max_body_bytes =
        req->max_body_bytes ? req->max_body_bytes : ZC_HTTP_DEFAULT_MAX_BODY_BYTES;
    xfer->truncate_body = req->truncate_body;
    xfer->allow_private = req->allow_private;
    xfer->headers = s_slist (req->headers, req->header_count);
    xfer->resolve = s_slist (req->resolve, req->resolve_count);
    if (s_easy_setup (xfer, req) == -1) {
        s_xfer_recycle (self, xfer);
        return -1;
    }
    CURLMcode rc = curl_multi_add_handle (self->multi, xfer->easy);
    if (rc != CURLM_OK) {
        zsys_warning ("zc_http: add handle for %s: %s", req->url, curl_multi_strerror (rc));
        s_xfer_recycle (self, xfer);
        return -1;
    }
    xfer->next = self->active;
    if (self->active)
        self->active->prev = xfer;
    self->active = xfer;
    self->active_count++;
    return 0;
}

size_t
zc_http_active (zc_http_t *self)
{
    assert (self);
    return self->active_count;
}

char *
zc_http_result_take_body (zc_http_result_t *result, size_t *size_p)
{
    assert (result);
    char *body = result->body;
    if (size_p)
        *size_p = result->body ? result->body_size : 0;
    result->body = NULL;
    return body;
}
