/*  zc_fetcher — the fetcher actor. See zc_fetcher.h and docs/PROTOCOL.md.

    One actor = one zloop = one zc_http engine. The actor registers with the
    broker through zc_link, asks for work with READY credit, fetches jobs
    with curl multi inside its loop, pushes pages (PAGE) to parser nodes and
    reports every other outcome (FETCH_FAILED, ROBOTS) to the broker. Every
    job ends in exactly one outcome.

    Redirects: a PAGE job never follows one. A 3xx ends the job with
    FETCH_FAILED "redirect" (or "redirect_limit" past max_redirects) and the
    target in location; the broker checks scope, robots, dedup and the host's
    politeness and sends the target back as a continuation job whose origin
    is the URL first requested. Outcomes of a continuation are reported under
    that origin. Only ROBOTS jobs follow redirects here (RFC 9309, 5 hops).

    Credit accounting keeps  active jobs + outbox + outstanding credit
    <= capacity  at all times: credit is only granted for free slots, a job
    received consumes one credit, and a page that cannot be pushed (no parser
    yet, or the PUSH socket at its small HWM) waits in the outbox and keeps
    its slot until it leaves. A new broker epoch voids outstanding credit,
    so we re-announce all free slots. Jobs beyond capacity (a broker that
    over-commits) end at once as FETCH_FAILED "overloaded", which keeps the
    outbox bounded.

    Page bodies are handed to libzmq without a copy: zc_http's buffer becomes
    the body frame (zmq_msg_init_data), and frame 1 comes from zc_msg.

    Graceful stop (pipe command DRAIN, see zc_fetcher.h): no more READY;
    page jobs that arrive afterwards are handed back at once as FETCH_FAILED
    "shutdown" (the broker requeues them with the same attempt); running
    transfers finish until the drain deadline, then they are aborted and
    handed back the same way, as are pages still in the outbox. Robots jobs
    are not handed back by message (the broker only takes FETCH_FAILED for
    page jobs): the BYE that ends the drain requeues them. Once nothing is
    left, BYE goes to the broker, the PAGE and broker sockets linger so that
    what is queued leaves, and DRAINED goes up the pipe.
*/
#include "zc_fetcher.h"
#include "zc_http.h"
#include "zc_link.h"
#include "zc_msg.h"
#include "zc_url.h"
#include "zc_hostgap.h"
#include "zc_util.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_IN_FLIGHT 64
#define S_DEFAULT_MAX_REDIRECTS 10
#define S_TICK_MS 200
#define S_ROBOTS_MAX_BYTES (500u * 1024)
#define S_ROBOTS_MAX_REDIRECTS 5
#define S_PAGE_SNDHWM 16
#define S_PAGE_LINGER_MS 2000
#define S_BYE_LINGER_MS 2000
#define S_DEFAULT_DRAIN_MS 10000
#define S_MAX_DRAIN_MS 600000
#define S_MAX_PARSERS 1024
#define S_MAX_ENDPOINT_BYTES 256
#define S_MAX_HOST_STARTS 100000 //  idle hosts whose last request start we remember
#define S_HOST_KEY_MAX 512

//  One job, from JOBS to its outcome.
typedef struct {
    char *crawl; //  owned
    uint64_t id;
    zc_job_kind_t kind;
    char *url;    //  owned: the requested URL, as the broker sent it
    char *origin; //  owned: job.origin, "" if the job is no continuation
    uint32_t depth;
    uint32_t attempt;
    zc_fetch_opts_t opts;     //  user_agent points to USER_AGENT
    char *user_agent;         //  owned
    char *current;            //  owned: the URL of the hop being fetched
    zlistx_t *visited;        //  owned: URLs fetched in this (robots) redirect chain
    uint32_t prior_redirects; //  job.redirects: hops before this job
    uint32_t hops;            //  redirects followed by this (robots) job
    zc_extract_rule_t *rules; //  owned deep copy, copied into PAGE
    size_t rule_count;
    uint32_t spacing_ms; //  job.spacing_ms: least gap after the host's previous start
    int64_t started_ms;  //  when the transfer was started (zclock_mono)
    void *handle;        //  in self->jobs
} s_job_t;

//  A page waiting for the PUSH socket, with what a hand-back needs.
typedef struct {
    zframe_t *header; //  owned: frame 1 (PAGE metadata)
    char *body;       //  owned (malloc), handed to zmq when sent
    size_t body_size;
    char *crawl;    //  owned
    uint64_t id;    //  the job's
    char *url;      //  owned: the URL outcomes are reported under
    char *location; //  owned: FETCH_FAILED location of a hand-back
    uint32_t attempt;
    uint32_t redirects; //  job.redirects
} s_page_t;

typedef struct {
    zsock_t *pipe;         //  borrowed: actor pipe
    zloop_t *loop;         //  owned
    char *broker_endpoint; //  owned
    char *node_id;         //  owned
    uint32_t capacity;
    bool started;
    zc_link_t *link;          //  owned
    zsock_t *push;            //  owned: PAGE socket to parser fronts
    zc_http_t *http;          //  owned
    zlistx_t *jobs;           //  owned: s_job_t being fetched
    zlistx_t *outbox;         //  owned: s_page_t not yet pushed
    zlistx_t *parsers;        //  owned: endpoints PUSH is connected to (char *)
    zmq_pollitem_t push_item; //  POLLOUT poller, registered while outbox non-empty
    bool push_polling;
    int tick_id;     //  -1 when none
    uint32_t credit; //  READY credit granted and not yet used by JOBS
    uint64_t done;   //  jobs ended
    uint64_t decode_errors;
    bool draining;        //  DRAIN received: no READY, new jobs handed back
    bool drained;         //  BYE sent and DRAINED replied
    int drain_timer_id;   //  -1 when none
    uint64_t handed_back; //  jobs returned as "shutdown"
    zc_hostgap_t *gaps;   //  owned: page jobs waiting for their host's gap (borrowed)
    int wait_timer_id;    //  -1 when none
} self_t;

//  --------------------------------------------------------------------------
//  Jobs and pages

static void
s_strv_free (char **strv, size_t count)
{
    for (size_t i = 0; strv && i < count; i++)
        free (strv[i]);
    free (strv);
}

//  Deep copy of a decoded string array (NULL entries become "").
static const char **
s_strv_dup (const char **strv, size_t count)
{
    if (!strv || count == 0)
        return NULL;
    char **copy = zmalloc (count * sizeof *copy);
    for (size_t i = 0; i < count; i++)
        copy[i] = zc_strdup (strv[i] ? strv[i] : "");
    return (const char **)copy;
}

static const char *
s_dup_or_empty (const char *s)
{
    return zc_strdup (s ? s : "");
}

static void
s_job_destroy (s_job_t **job_p)
{
    s_job_t *job = *job_p;
    if (!job)
        return;
    free (job->crawl);
    free (job->url);
    free (job->origin);
    free (job->user_agent);
    free (job->current);
    zlistx_destroy (&job->visited);
    s_strv_free ((char **)job->opts.headers, job->opts.header_count);
    s_strv_free ((char **)job->opts.resolve, job->opts.resolve_count);
    for (size_t i = 0; i < job->rule_count; i++) {
        zc_extract_rule_t *rule = &job->rules[i];
        free ((char *)rule->name);
        free ((char *)rule->selector);
        free ((char *)rule->attr);
        free ((char *)rule->regex);
    }
    free (job->rules);
    free (job);
    *job_p = NULL;
}

static void
s_job_destructor (void **item)
{
    s_job_destroy ((s_job_t **)item);
}

static void
s_str_destructor (void **item)
{
    free (*item);
    *item = NULL;
}

static int
s_str_comparator (const void *a, const void *b)
{
    return strcmp ((const char *)a, (const char *)b);
}

static zlistx_t *
s_strlist_new (void)
{
    zlistx_t *list = zlistx_new ();
    zlistx_set_destructor (list, s_str_destructor);
    zlistx_set_comparator (list, s_str_comparator);
    return list;
}

static s_job_t *
s_job_new (const zc_job_t *src)
{
    s_job_t *job = zmalloc (sizeof *job);
    job->crawl = zc_strdup (src->crawl ? src->crawl : "");
    job->id = src->id;
    job->kind = src->kind;
    job->url = zc_strdup (src->url ? src->url : "");
    job->origin = zc_strdup (src->kind == ZC_JOB_PAGE && src->origin ? src->origin : "");
    job->depth = src->depth;
    job->attempt = src->attempt;
    job->opts = src->opts;
    job->user_agent = zc_strdup (src->opts.user_agent ? src->opts.user_agent : "");
    job->opts.user_agent = job->user_agent;
    //  The decoded JOBS message dies with this handler: copy what the job
    //  keeps pointing at.
    job->opts.headers = s_strv_dup (src->opts.headers, src->opts.header_count);
    job->opts.header_count = job->opts.headers ? src->opts.header_count : 0;
    job->opts.resolve = s_strv_dup (src->opts.resolve, src->opts.resolve_count);
    job->opts.resolve_count = job->opts.resolve ? src->opts.resolve_count : 0;
    job->prior_redirects = src->redirects;
    job->spacing_ms = src->spacing_ms;
    if (src->rules && src->rule_count > 0) {
        job->rules = zmalloc (src->rule_count * sizeof *job->rules);
        job->rule_count = src->rule_count;
        for (size_t i = 0; i < src->rule_count; i++) {
            const zc_extract_rule_t *from = &src->rules[i];
            job->rules[i] = *from;
            job->rules[i].name = s_dup_or_empty (from->name);
            job->rules[i].selector = s_dup_or_empty (from->selector);
            job->rules[i].attr = s_dup_or_empty (from->attr);
            job->rules[i].regex = s_dup_or_empty (from->regex);
        }
    }
    //  Zero options mean "default" here, as in the crawl options.
    if (job->opts.max_redirects == 0)
        job->opts.max_redirects = S_DEFAULT_MAX_REDIRECTS;
    //  RFC 9309 2.3.1.2: follow at least five redirects for robots.txt
    if (job->kind == ZC_JOB_ROBOTS && job->opts.max_redirects > S_ROBOTS_MAX_REDIRECTS)
        job->opts.max_redirects = S_ROBOTS_MAX_REDIRECTS;
    if (job->opts.max_body_bytes == 0 || job->opts.max_body_bytes > ZC_MSG_MAX_BODY_BYTES)
        job->opts.max_body_bytes =
            job->opts.max_body_bytes ? ZC_MSG_MAX_BODY_BYTES : ZC_HTTP_DEFAULT_MAX_BODY_BYTES;
    job->visited = s_strlist_new ();
    //  The broker sends canonical URLs; canonicalise anyway so redirect
    //  targets compare equal to the start of the chain.
    char *canonical = zc_url_canonical (job->url, NULL);
    job->current = canonical ? canonical : zc_strdup (job->url);
    zlistx_add_end (job->visited, zc_strdup (job->current));
    return job;
}

static void
s_page_destroy (s_page_t **page_p)
{
    s_page_t *page = *page_p;
    if (!page)
        return;
    zframe_destroy (&page->header);
    free (page->body);
    free (page->crawl);
    free (page->url);
    free (page->location);
    free (page);
    *page_p = NULL;
}

static void
s_page_destructor (void **item)
{
    s_page_destroy ((s_page_t **)item);
}

static void
s_free_body (void *data, void *hint)
{
    (void)hint;
    free (data);
}

//  Sends PAGE without blocking. Returns 0 if sent (the body now belongs to
//  zmq), -1 if the socket cannot take it now (nothing changed).
static int
s_page_send (self_t *self, s_page_t *page)
{
    zframe_t *header = page->header;
    if (zframe_send (&header, self->push, ZFRAME_MORE | ZFRAME_REUSE | ZFRAME_DONTWAIT) != 0)
        return -1;
    //  libzmq delivers multipart messages atomically: once the first frame
    //  is queued the rest is accepted.
    zmq_msg_t body;
    int rc = page->body_size
                 ? zmq_msg_init_data (&body, page->body, page->body_size, s_free_body, NULL)
                 : zmq_msg_init (&body);
    if (rc == 0 && page->body_size)
        page->body = NULL; //  zmq owns it now
    if (rc != 0 || zmq_msg_send (&body, zsock_resolve (self->push), ZMQ_DONTWAIT) == -1) {
        zsys_error ("zc_fetcher: PAGE body frame not sent: %s", zmq_strerror (zmq_errno ()));
        if (rc == 0)
            zmq_msg_close (&body);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Credit

static uint32_t
s_free_slots (self_t *self)
{
    uint64_t used = (uint64_t)zlistx_size (self->jobs) + zlistx_size (self->outbox) + self->credit;
    return used >= self->capacity ? 0 : (uint32_t)(self->capacity - used);
}

//  Grants credit for free slots: at once when FORCE (new epoch, timer),
//  else only once a batch worth has freed up, to keep READY traffic low.
static void
s_top_up (self_t *self, bool force)
{
    if (self->draining || !self->link || !zc_link_registered (self->link))
        return;
    uint32_t free_slots = s_free_slots (self);
    uint32_t batch = self->capacity / 8 > 1 ? self->capacity / 8 : 1;
    if (free_slots == 0 || (!force && free_slots < batch))
        return;
    zc_msg_t msg = {.type = ZC_MSG_READY, .ready = {.credit = free_slots}};
    if (zc_msg_send (&msg, zc_link_socket (self->link), NULL) == 0)
        self->credit += free_slots;
    else
        zsys_warning ("zc_fetcher: READY not sent: %s", zmq_strerror (zmq_errno ()));
}

//  --------------------------------------------------------------------------
//  Outcomes

static void s_drain_check (self_t *self);

static void
s_job_end (self_t *self, s_job_t *job)
{
    zlistx_delete (self->jobs, job->handle); //  destroys the job
    self->done++;
    s_top_up (self, false);
    s_drain_check (self);
}

//  The URL outcomes are reported under: the origin of a continuation job,
//  else the requested URL.
static const char *
s_job_report_url (const s_job_t *job)
{
    return *job->origin ? job->origin : job->url;
}

//  Ends JOB with FETCH_FAILED. REDIRECTS is the hop count to report
//  (job.redirects included), RETRY_AFTER_MS from a 429/503 response.
//  LOCATION NULL means: the URL that failed if it is not the one reported.
static void
s_job_fail_ex (self_t *self, s_job_t *job, const char *reason, const char *detail, uint32_t status,
               const char *location, uint32_t redirects, uint32_t retry_after_ms)
{
    if (!location)
        location = *job->origin && !streq (job->origin, job->url) ? job->url : "";
    zc_msg_t msg = {.type = ZC_MSG_FETCH_FAILED,
                    .fetch_failed = {.crawl = job->crawl,
                                     .id = job->id,
                                     .url = s_job_report_url (job),
                                     .attempt = job->attempt,
                                     .reason = reason,
                                     .detail = detail ? detail : "",
                                     .status = status,
                                     .location = location,
                                     .fetched_at_ms = (uint64_t)zc_now_ms (),
                                     .retry_after_ms = retry_after_ms,
                                     .redirects = redirects}};
    //  If the broker cannot take it, its lease expires and it re-dispatches.
    if (zc_msg_send (&msg, zc_link_socket (self->link), NULL) != 0)
        zsys_warning ("zc_fetcher: FETCH_FAILED for %s not sent: %s", job->url,
                      zmq_strerror (zmq_errno ()));
    s_job_end (self, job);
}

static void
s_job_fail (self_t *self, s_job_t *job, const char *reason, const char *detail, uint32_t status,
            const char *location)
{
    s_job_fail_ex (self, job, reason, detail, status, location, job->prior_redirects, 0);
}

static void
s_robots_reply (self_t *self, s_job_t *job, uint32_t status, const char *reason, const char *body,
                size_t body_size)
{
    zc_msg_t msg = {.type = ZC_MSG_ROBOTS,
                    .robots = {.crawl = job->crawl,
                               .id = job->id,
                               .url = job->url,
                               .status = status,
                               .reason = reason,
                               .body = body ? body : "",
                               .body_size = body ? body_size : 0,
                               .fetched_at_ms = (uint64_t)zc_now_ms ()}};
    if (zc_msg_send (&msg, zc_link_socket (self->link), NULL) != 0)
        zsys_warning ("zc_fetcher: ROBOTS for %s not sent: %s", job->url,
                      zmq_strerror (zmq_errno ()));
    s_job_end (self, job);
}

static void
s_outbox_drain (self_t *self)
{
    size_t sent = 0;
    s_page_t *page;
    while ((page = zlistx_first (self->outbox))) {
        if (s_page_send (self, page) != 0)
            break;
        zlistx_delete (self->outbox, zlistx_cursor (self->outbox));
        sent++;
    }
    if (zlistx_size (self->outbox) == 0 && self->push_polling) {
        zloop_poller_end (self->loop, &self->push_item);
        self->push_polling = false;
    }
    if (sent) {
        s_top_up (self, false);
        s_drain_check (self);
    }
}

static int
s_handle_push_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    s_outbox_drain (arg);
    return 0;
}

//  Queues a page; it is sent at once if the socket can take it.
static void
s_page_emit (self_t *self, s_job_t *job, zc_http_result_t *result)
{
    zc_msg_t msg = {.type = ZC_MSG_PAGE,
                    .page = {.meta = {.crawl = job->crawl,
                                      .id = job->id,
                                      .url = s_job_report_url (job),
                                      .final_url = job->url,
                                      .depth = job->depth,
                                      .attempt = job->attempt,
                                      .status = result->http_status,
                                      .content_type = result->content_type,
                                      .fetched_at_ms = (uint64_t)zc_now_ms (),
                                      .redirects = job->prior_redirects,
                                      .timings = {.total_ms = result->total_ms,
                                                  .connect_ms = result->connect_ms,
                                                  .ttfb_ms = result->ttfb_ms}},
                             .rules = job->rules,
                             .rule_count = job->rule_count,
                             .body = NULL,
                             .body_size = 0}};
    zmsg_t *zmsg = zc_msg_encode (&msg);
    s_page_t *page = zmalloc (sizeof *page);
    page->header = zmsg_pop (zmsg); //  frame 2 (the empty body) is replaced
    zmsg_destroy (&zmsg);
    page->body = zc_http_result_take_body (result, &page->body_size);
    page->crawl = zc_strdup (job->crawl);
    page->id = job->id;
    page->url = zc_strdup (s_job_report_url (job));
    page->location = zc_strdup (*job->origin && !streq (job->origin, job->url) ? job->url : "");
    page->attempt = job->attempt;
    page->redirects = job->prior_redirects;

    zlistx_add_end (self->outbox, page);
    s_job_end (self, job);
    s_outbox_drain (self);
    if (zlistx_size (self->outbox) && !self->push_polling) {
        self->push_item =
            (zmq_pollitem_t){.socket = zsock_resolve (self->push), .events = ZMQ_POLLOUT};
        if (zloop_poller (self->loop, &self->push_item, s_handle_push_writable, self) == 0)
            self->push_polling = true;
        else
            zsys_error ("zc_fetcher: cannot poll the PAGE socket");
    }
}

//  --------------------------------------------------------------------------
//  Fetching

static void
s_job_start (self_t *self, s_job_t *job)
{
    bool robots = job->kind == ZC_JOB_ROBOTS;
    job->started_ms = zclock_mono ();
    zc_http_request_t req = {
        .url = job->current,
        .connect_timeout_ms = job->opts.connect_timeout_ms,
        .timeout_ms = job->opts.timeout_ms,
        .max_body_bytes = robots ? S_ROBOTS_MAX_BYTES : job->opts.max_body_bytes,
        .truncate_body = robots, //  RFC 9309: parse at least the first 500 KiB
        .allow_private = job->opts.allow_private,
        .user_agent = job->opts.user_agent,
        .headers = job->opts.headers,
        .header_count = job->opts.header_count,
        .resolve = job->opts.resolve,
        .resolve_count = job->opts.resolve_count,
    };
    const char *why = NULL;
    if (zc_http_request_check (&req, &why) != 0) {
        //  Never sent: a header with CR/LF could smuggle another request
        if (robots)
            s_robots_reply (self, job, 0, "invalid", NULL, 0);
        else
            s_job_fail (self, job, "invalid", why, 0, NULL);
        return;
    }
    if (zc_http_start (self->http, &req, job) == 0)
        return;
    if (robots)
        s_robots_reply (self, job, 0, "network", NULL, 0);
    else
        s_job_fail (self, job, "network", "could not start the transfer", 0, NULL);
}

//  A 3xx with a Location. A page job ends here: the broker gets the target
//  (scope, robots, dedup and the target host's politeness are its business)
//  and sends it back as a continuation job. A robots.txt job follows up to
//  S_ROBOTS_MAX_REDIRECTS hops to any host itself (RFC 9309 2.3.1.2).
static int s_on_wait_timer (zloop_t *loop, int timer_id, void *arg);

//  (Re)arms the one-shot timer for the earliest waiting job.
static void
s_wait_arm (self_t *self)
{
    if (self->wait_timer_id != -1)
        zloop_timer_end (self->loop, self->wait_timer_id);
    self->wait_timer_id = -1;
    int64_t due = zc_hostgap_next_due (self->gaps);
    if (due < 0)
        return;
    int64_t delay = due - zclock_mono ();
    self->wait_timer_id =
        zloop_timer (self->loop, delay > 1 ? (size_t)delay : 1, 1, s_on_wait_timer, self);
    if (self->wait_timer_id == -1)
        zsys_error ("zc_fetcher: cannot arm the host gap timer");
}

static int
s_on_wait_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = (self_t *)arg;
    self->wait_timer_id = -1; //  one-shot: gone once fired
    int64_t now = zclock_mono ();
    s_job_t *job;
    while ((job = (s_job_t *)zc_hostgap_pop_due (self->gaps, now)))
        s_job_start (self, job);
    s_wait_arm (self);
    return 0;
}

//  Starts page JOB now, or once its host's gap (job spacing_ms) has passed
//  since this fetcher's previous request start to that host (zc_hostgap:
//  a fetcher that was busy receives several jobs of one host in one turn,
//  and must not start them together).
static void
s_job_schedule (self_t *self, s_job_t *job)
{
    char host_key[S_HOST_KEY_MAX];
    if (job->kind != ZC_JOB_PAGE || job->spacing_ms == 0 ||
        zc_url_host_key (job->current, host_key, sizeof host_key) != 0 ||
        zc_hostgap_offer (self->gaps, host_key, job->spacing_ms, job, zclock_mono ())) {
        s_job_start (self, job);
        return;
    }
    s_wait_arm (self);
}

//  A spaced page job's request went out at its start plus its connect
//  time, as curl measured them; when the transfer completes late (a loop
//  stall) "now - total" puts that start later, never earlier: the host's
//  next job is spaced from the later of this and its recorded start.
static void
s_job_observed (self_t *self, const s_job_t *job, const zc_http_result_t *result)
{
    char host_key[S_HOST_KEY_MAX];
    if (job->kind != ZC_JOB_PAGE || job->spacing_ms == 0 ||
        zc_url_host_key (job->current, host_key, sizeof host_key) != 0)
        return;
    int64_t start = zclock_mono () - (int64_t)result->total_ms + (int64_t)result->connect_ms;
    if (start < job->started_ms)
        start = job->started_ms;
    zc_hostgap_observed (self->gaps, host_key, start);
}

static void
s_redirect (self_t *self, s_job_t *job, const zc_http_result_t *result)
{
    bool robots = job->kind == ZC_JOB_ROBOTS;
    zc_url_status_t url_status = ZC_URL_OK;
    char *target = zc_url_canonical (result->location, &url_status);
    if (!target) {
        char detail[256];
        snprintf (detail, sizeof detail, "redirect to an unusable URL (%s)",
                  zc_url_status_str (url_status));
        if (robots)
            s_robots_reply (self, job, result->http_status, "bad_url", NULL, 0);
        else
            s_job_fail (self, job, "bad_url", detail, result->http_status, NULL);
        return;
    }
    if (!robots) {
        //  This hop counts: the target is fetched with redirects = hops.
        bool over = job->prior_redirects >= job->opts.max_redirects;
        uint32_t hops = job->prior_redirects < UINT32_MAX ? job->prior_redirects + 1 : UINT32_MAX;
        s_job_fail_ex (self, job, over ? "redirect_limit" : "redirect",
                       over ? "too many redirects" : "redirected", result->http_status, target,
                       hops, 0);
        free (target);
        return;
    }
    if (zlistx_find (job->visited, target) || job->hops >= job->opts.max_redirects) {
        s_robots_reply (self, job, result->http_status, "redirect_limit", NULL, 0);
        free (target);
        return;
    }
    job->hops++;
    zlistx_add_end (job->visited, zc_strdup (target));
    free (job->current);
    job->current = target;
    s_job_start (self, job);
}

static void
s_on_http_done (void *arg, zc_http_result_t *result, void *user)
{
    self_t *self = arg;
    s_job_t *job = user;
    bool robots = job->kind == ZC_JOB_ROBOTS;
    uint32_t status = result->http_status;
    s_job_observed (self, job, result);
    if (result->status != ZC_HTTP_OK) {
        const char *reason = zc_http_status_str (result->status);
        if (robots)
            s_robots_reply (self, job, 0, reason, NULL, 0);
        else
            s_job_fail (self, job, reason, result->error, status, NULL);
    } else if (status >= 300 && status < 400 && result->location)
        s_redirect (self, job, result);
    else if (robots)
        s_robots_reply (self, job, status, "", result->body, result->body_size);
    else if (status >= 200 && status < 300)
        s_page_emit (self, job, result);
    else {
        char detail[32];
        snprintf (detail, sizeof detail, "HTTP %u", status);
        s_job_fail_ex (self, job, "http", detail, status, NULL, job->prior_redirects,
                       result->retry_after_ms);
    }
}

//  --------------------------------------------------------------------------
//  Graceful stop

#define S_SHUTDOWN_DETAIL "the fetcher is stopping"

//  Returns JOB to the broker untried (or aborted): FETCH_FAILED "shutdown"
//  for a page job, which the broker requeues with the same attempt. A
//  robots job just ends here; the BYE that follows requeues it.
static void
s_hand_back (self_t *self, s_job_t *job)
{
    self->handed_back++;
    if (job->kind == ZC_JOB_ROBOTS)
        s_job_end (self, job);
    else
        s_job_fail (self, job, "shutdown", S_SHUTDOWN_DETAIL, 0, NULL);
}

//  Returns the job of a page that never left the outbox.
static void
s_page_hand_back (self_t *self, s_page_t *page)
{
    self->handed_back++;
    zc_msg_t msg = {.type = ZC_MSG_FETCH_FAILED,
                    .fetch_failed = {.crawl = page->crawl,
                                     .id = page->id,
                                     .url = page->url,
                                     .attempt = page->attempt,
                                     .reason = "shutdown",
                                     .detail = S_SHUTDOWN_DETAIL,
                                     .location = page->location,
                                     .fetched_at_ms = (uint64_t)zc_now_ms (),
                                     .redirects = page->redirects}};
    if (zc_msg_send (&msg, zc_link_socket (self->link), NULL) != 0)
        zsys_warning ("zc_fetcher: FETCH_FAILED for %s not sent: %s", page->url,
                      zmq_strerror (zmq_errno ()));
}

//  Nothing left: BYE to the broker, lingering sockets, DRAINED up the pipe.
static void
s_drain_finish (self_t *self)
{
    self->drained = true;
    if (self->drain_timer_id != -1)
        zloop_timer_end (self->loop, self->drain_timer_id);
    self->drain_timer_id = -1;
    //  No more heartbeats: they would register us again after BYE.
    if (self->tick_id != -1)
        zloop_timer_end (self->loop, self->tick_id);
    self->tick_id = -1;
    if (self->push)
        zsock_set_linger (self->push, S_PAGE_LINGER_MS);
    //  Not registered (broker unreachable): no BYE, the broker's heartbeat
    //  and lease checks requeue what we held.
    int bye = self->link ? zc_link_bye (self->link, S_BYE_LINGER_MS) : 1;
    zsys_info ("zc_fetcher: %s drained: %" PRIu64 " jobs done, %" PRIu64 " handed back%s",
               self->node_id, self->done, self->handed_back,
               bye == 0 ? ", BYE sent" : ", no BYE (not registered)");
    if (zstr_send (self->pipe, "DRAINED") != 0)
        zsys_warning ("zc_fetcher: cannot answer DRAIN");
}

static void
s_drain_check (self_t *self)
{
    if (self->draining && !self->drained && zlistx_size (self->jobs) == 0 &&
        zlistx_size (self->outbox) == 0)
        s_drain_finish (self);
}

//  The drain deadline: running transfers are aborted and, like pages that
//  could not be pushed, handed back.
static void
s_drain_deadline (self_t *self)
{
    size_t aborted = self->http ? zc_http_abort_all (self->http) : 0;
    size_t unsent = zlistx_size (self->outbox);
    if (aborted || unsent)
        zsys_info ("zc_fetcher: %s drain deadline: %zu transfers aborted, %zu pages unsent, "
                   "handing them back",
                   self->node_id, aborted, unsent);
    s_job_t *job;
    while ((job = zlistx_first (self->jobs)))
        s_hand_back (self, job);
    s_page_t *page;
    while ((page = zlistx_first (self->outbox))) {
        s_page_hand_back (self, page);
        zlistx_delete (self->outbox, zlistx_cursor (self->outbox));
    }
    if (self->push_polling)
        zloop_poller_end (self->loop, &self->push_item);
    self->push_polling = false;
    s_drain_check (self);
}

static int
s_on_drain_deadline (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = arg;
    self->drain_timer_id = -1; //  a one-shot timer: gone once fired
    s_drain_deadline (self);
    return 0;
}

static void
s_drain_start (self_t *self, int64_t drain_ms)
{
    if (self->drained) {
        if (zstr_send (self->pipe, "DRAINED") != 0)
            zsys_warning ("zc_fetcher: cannot answer DRAIN");
        return;
    }
    if (self->draining)
        return; //  DRAINED follows
    self->draining = true;
    //  Jobs waiting for their host's gap have not started: back at once
    s_job_t *waiting;
    while ((waiting = (s_job_t *)zc_hostgap_pop_any (self->gaps)))
        s_hand_back (self, waiting);
    if (!self->started) {
        s_drain_finish (self);
        return;
    }
    zsys_info ("zc_fetcher: %s draining: %zu transfers running, %zu pages queued, "
               "deadline %" PRId64 " ms",
               self->node_id, zlistx_size (self->jobs), zlistx_size (self->outbox), drain_ms);
    if (drain_ms > 0)
        self->drain_timer_id =
            zloop_timer (self->loop, (size_t)drain_ms, 1, s_on_drain_deadline, self);
    if (drain_ms <= 0 || self->drain_timer_id == -1)
        s_drain_deadline (self);
    else
        s_drain_check (self);
}

//  --------------------------------------------------------------------------
//  Broker messages

static void
s_on_jobs (self_t *self, const zc_jobs_t *jobs)
{
    for (size_t i = 0; i < jobs->job_count; i++) {
        s_job_t *job = s_job_new (&jobs->jobs[i]);
        job->handle = zlistx_add_end (self->jobs, job);
        bool over = zlistx_size (self->jobs) + zlistx_size (self->outbox) > self->capacity;
        if (self->credit > 0)
            self->credit--;
        if (self->draining)
            s_hand_back (self, job);
        else if (over) {
            zsys_warning ("zc_fetcher: job %" PRIu64 " beyond capacity %u", job->id,
                          self->capacity);
            s_job_fail (self, job, "overloaded", "job beyond the fetcher's credit", 0, NULL);
        } else
            s_job_schedule (self, job);
    }
}

static bool
s_valid_endpoint (const char *endpoint)
{
    return endpoint && strlen (endpoint) < S_MAX_ENDPOINT_BYTES &&
           (strncmp (endpoint, "tcp://", 6) == 0 || strncmp (endpoint, "ipc://", 6) == 0 ||
            strncmp (endpoint, "inproc://", 9) == 0);
}

static void
s_on_parsers (self_t *self, const zc_parsers_t *parsers)
{
    //  Disconnect what is no longer listed.
    char *endpoint = zlistx_first (self->parsers);
    while (endpoint) {
        bool listed = false;
        for (size_t i = 0; i < parsers->endpoint_count && !listed; i++)
            listed = parsers->endpoints[i] && streq (parsers->endpoints[i], endpoint);
        void *cursor = zlistx_cursor (self->parsers);
        endpoint = zlistx_next (self->parsers);
        if (!listed) {
            char *gone = zlistx_handle_item (cursor);
            if (zsock_disconnect (self->push, "%s", gone) != 0)
                zsys_warning ("zc_fetcher: disconnect %s failed", gone);
            zlistx_delete (self->parsers, cursor);
        }
    }
    //  Connect what is new.
    for (size_t i = 0; i < parsers->endpoint_count; i++) {
        const char *ep = parsers->endpoints[i];
        if (!s_valid_endpoint (ep)) {
            zsys_warning ("zc_fetcher: ignoring invalid parser endpoint");
            continue;
        }
        if (zlistx_find (self->parsers, (void *)ep))
            continue;
        if (zlistx_size (self->parsers) >= S_MAX_PARSERS) {
            zsys_warning ("zc_fetcher: more than %d parser endpoints, ignoring %s", S_MAX_PARSERS,
                          ep);
            continue;
        }
        if (zsock_connect (self->push, "%s", ep) != 0) {
            zsys_warning ("zc_fetcher: connect %s failed: %s", ep, zmq_strerror (zmq_errno ()));
            continue;
        }
        zlistx_add_end (self->parsers, zc_strdup (ep));
    }
    if (zlistx_size (self->outbox))
        s_outbox_drain (self);
}

static int
s_handle_link (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    self_t *self = arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return 0; //  interrupted
    zc_msg_decode_status_t status = ZC_MSG_DECODE_OK;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    if (!msg) {
        self->decode_errors++;
        zsys_warning ("zc_fetcher: undecodable message from broker: %s",
                      zc_msg_decode_status_str (status));
        return 0;
    }
    switch (zc_link_handle (self->link, msg, zc_now_ms ())) {
    case ZC_LINK_WELCOMED:
        //  A (new) epoch: the broker knows nothing of our earlier credit.
        self->credit = 0;
        s_top_up (self, true);
        break;
    case ZC_LINK_CONSUMED:
        break;
    case ZC_LINK_PASS:
        if (msg->type == ZC_MSG_JOBS)
            s_on_jobs (self, &msg->jobs);
        else if (msg->type == ZC_MSG_PARSERS)
            s_on_parsers (self, &msg->parsers);
        else
            zsys_warning ("zc_fetcher: unexpected %s from broker", zc_msg_type_str (msg->type));
        break;
    }
    zc_msg_destroy (&msg);
    return 0;
}

static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    self_t *self = arg;
    zc_heartbeat_t counters = {
        .decode_errors = self->decode_errors,
        .in_flight = (uint32_t)(zlistx_size (self->jobs) + zlistx_size (self->outbox)),
        .done = self->done,
    };
    zc_link_tick (self->link, zc_now_ms (), &counters);
    s_top_up (self, true);
    return 0;
}

//  --------------------------------------------------------------------------
//  Actor

static void s_stop (self_t *self);

static self_t *
s_self_new (zsock_t *pipe, const zc_fetcher_config_t *config)
{
    self_t *self = zmalloc (sizeof *self);
    self->pipe = pipe;
    self->loop = zloop_new ();
    self->broker_endpoint =
        zc_strdup (config && config->broker_endpoint ? config->broker_endpoint : "");
    self->node_id =
        config && config->node_id ? zc_strdup (config->node_id) : zc_node_id_new ("fetcher");
    self->capacity =
        config && config->max_in_flight > 0 ? (uint32_t)config->max_in_flight : S_DEFAULT_IN_FLIGHT;
    self->jobs = zlistx_new ();
    zlistx_set_destructor (self->jobs, s_job_destructor);
    self->outbox = zlistx_new ();
    zlistx_set_destructor (self->outbox, s_page_destructor);
    self->parsers = s_strlist_new ();
    self->tick_id = -1;
    self->drain_timer_id = -1;
    self->gaps = zc_hostgap_new (S_MAX_HOST_STARTS);
    self->wait_timer_id = -1;
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (!self)
        return;
    s_stop (self); //  aborts transfers; their jobs are freed below
    zloop_destroy (&self->loop);
    zc_hostgap_destroy (&self->gaps); //  borrowed jobs: freed with JOBS
    zlistx_destroy (&self->jobs);
    zlistx_destroy (&self->outbox);
    zlistx_destroy (&self->parsers);
    free (self->broker_endpoint);
    free (self->node_id);
    free (self);
    *self_p = NULL;
}

//  Undoes a partial s_start so that START can be retried.
static void
s_stop (self_t *self)
{
    if (self->tick_id != -1)
        zloop_timer_end (self->loop, self->tick_id);
    self->tick_id = -1;
    if (self->drain_timer_id != -1)
        zloop_timer_end (self->loop, self->drain_timer_id);
    self->drain_timer_id = -1;
    if (self->wait_timer_id != -1)
        zloop_timer_end (self->loop, self->wait_timer_id);
    self->wait_timer_id = -1;
    if (self->link)
        zloop_reader_end (self->loop, zc_link_socket (self->link));
    if (self->push_polling)
        zloop_poller_end (self->loop, &self->push_item);
    self->push_polling = false;
    zc_http_destroy (&self->http);
    zc_link_destroy (&self->link);
    zsock_destroy (&self->push);
}

static int
s_start (self_t *self)
{
    if (self->started)
        return 0;
    zc_hello_t hello = {.id = self->node_id,
                        .role = "fetcher",
                        .version = ZC_VERSION,
                        .capacity = self->capacity,
                        .endpoint = ""};
    self->link = zc_link_new (self->broker_endpoint, &hello);
    if (!self->link) {
        zsys_error ("zc_fetcher: cannot connect to broker at %s", self->broker_endpoint);
        return -1;
    }
    self->push = zsock_new (ZMQ_PUSH);
    self->http = zc_http_new (self->loop, s_on_http_done, self);
    if (!self->push || !self->http ||
        zloop_reader (self->loop, zc_link_socket (self->link), s_handle_link, self) != 0) {
        zsys_error ("zc_fetcher: cannot set up sockets or the HTTP engine");
        s_stop (self);
        return -1;
    }
    zc_msg_socket_setup (self->push, ZC_MSG_MAX_HEADER_BYTES, S_PAGE_LINGER_MS);
    zsock_set_sndhwm (self->push, S_PAGE_SNDHWM);
    self->tick_id = zloop_timer (self->loop, S_TICK_MS, 0, s_on_tick, self);
    if (self->tick_id == -1) {
        s_stop (self);
        return -1;
    }
    self->started = true;
    //  HELLO goes out now rather than one tick later.
    zc_heartbeat_t counters = {.in_flight = 0};
    zc_link_tick (self->link, zc_now_ms (), &counters);
    return 0;
}

static int
s_handle_pipe (zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    self_t *self = arg;
    zmsg_t *request = zmsg_recv (pipe);
    if (!request)
        return -1; //  interrupted
    char *command = zmsg_popstr (request);
    int rc = 0;
    if (!command)
        zsys_warning ("zc_fetcher: empty command");
    else if (streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "START")) {
        if (self->draining)
            zsys_warning ("zc_fetcher: START after DRAIN ignored");
        int started = self->draining ? -1 : s_start (self);
        if (zsock_send (pipe, "i", started) != 0)
            zsys_warning ("zc_fetcher: cannot answer START");
    } else if (streq (command, "DRAIN")) {
        char *ms = zmsg_popstr (request);
        long drain_ms = S_DEFAULT_DRAIN_MS;
        if (ms) {
            char *end = NULL;
            drain_ms = strtol (ms, &end, 10);
            if (end == ms || *end || drain_ms < 0 || drain_ms > S_MAX_DRAIN_MS) {
                zsys_warning ("zc_fetcher: DRAIN with bad milliseconds '%s', using %d", ms,
                              S_DEFAULT_DRAIN_MS);
                drain_ms = S_DEFAULT_DRAIN_MS;
            }
        }
        zstr_free (&ms);
        s_drain_start (self, drain_ms);
    } else
        zsys_warning ("zc_fetcher: unknown command %s", command);
    zstr_free (&command);
    zmsg_destroy (&request);
    return rc;
}

void
zc_fetcher_actor (zsock_t *pipe, void *args)
{
    zc_thread_name ("zc-fetcher");
    self_t *self = s_self_new (pipe, args);
    zsock_signal (pipe, 0);
    if (zloop_reader (self->loop, pipe, s_handle_pipe, self) == 0)
        zloop_start (self->loop);
    else
        zsys_error ("zc_fetcher: cannot register the pipe");
    s_self_destroy (&self);
}
