/*  Unit tests for the fetcher actor. The test plays the broker (ROUTER on
    inproc) and a parser node front (PULL), and the project's test site
    serves the pages. The "broker" here hands out jobs only against READY
    credit, as the real one does, and checks on every READY that the credit
    never exceeds the fetcher's capacity.
*/
#include "zc_fetcher.h"
#include "zc_msg.h"
#include "zc_testsite.h"
#include "zc_util.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MAX_JOBS 32
#define DEADLINE_MS 10000

typedef struct {
    char url[256];
    zc_job_kind_t kind;
    zc_fetch_opts_t opts;
    uint32_t prior_redirects;       //  job.redirects
    char origin[256];               //  job.origin ("" = none)
    const zc_robots_rule_t *robots; //  job.robots (ignored by the fetcher)
    size_t robots_count;
    const zc_extract_rule_t *rules; //  job.rules
    size_t rule_count;
    uint32_t spacing_ms; //  job.spacing_ms
    //  outcome, as observed
    int outcomes;
    zc_msg_type_t type; //  PAGE, FETCH_FAILED or ROBOTS
    char reason[64];
    char location[256];
    char url_seen[256];
    char final_url[256];
    uint32_t status;
    uint32_t redirects;
    size_t body_size;
    bool html_body;
    uint32_t retry_after_ms;
    size_t page_rule_count;
    char rule_names[128]; //  "name=selector;" for every rule of the PAGE
} job_t;

typedef struct fixture_t fixture_t;
typedef bool (cond_fn) (fixture_t *f);

struct fixture_t {
    zc_testsite_t *site;
    zsock_t *router; //  the broker's jobs socket
    zsock_t *pull;   //  the parser front
    char broker_ep[64];
    char front_ep[64];
    zactor_t *fetcher;
    uint32_t capacity;
    zframe_t *rid; //  the fetcher's routing id
    size_t hellos;
    job_t jobs[MAX_JOBS];
    size_t job_count;
    size_t jobs_sent;       //  in total
    size_t jobs_sent_epoch; //  in this epoch
    size_t outcomes;
    uint64_t credit_granted; //  READY credit in this epoch
    uint32_t last_ready;
    bool auto_jobs; //  answer READY with JOBS
    uint64_t epoch;
    uint32_t heartbeat_ms;
    zc_heartbeat_t heartbeat; //  last one received (node not kept)
    size_t heartbeats;
    size_t readies;             //  READY messages received
    size_t byes;                //  BYE messages received
    char bye_node[64];          //  node of the last BYE
    size_t drained;             //  "DRAINED" replies on the actor pipe
    size_t byes_before_drained; //  BYEs seen when the first DRAINED came
};

//  --------------------------------------------------------------------------
//  Broker side

static void
s_send (fixture_t *f, const zc_msg_t *msg)
{
    assert_non_null (f->rid);
    assert_int_equal (zc_msg_send (msg, f->router, f->rid), 0);
}

static void
s_send_welcome (fixture_t *f, uint64_t epoch)
{
    f->epoch = epoch;
    f->credit_granted = 0;
    f->jobs_sent_epoch = 0;
    zc_msg_t msg = {.type = ZC_MSG_WELCOME,
                    .welcome = {.epoch = epoch,
                                .results = "inproc://zc-test-results",
                                .heartbeat_ms = f->heartbeat_ms}};
    s_send (f, &msg);
}

static void
s_send_parsers (fixture_t *f)
{
    const char *endpoints[] = {f->front_ep};
    zc_msg_t msg = {.type = ZC_MSG_PARSERS,
                    .parsers = {.endpoints = endpoints, .endpoint_count = 1}};
    s_send (f, &msg);
}

//  Sends at most MAX pending jobs, as far as the outstanding credit allows.
static void
s_send_jobs_max (fixture_t *f, size_t max)
{
    uint64_t outstanding = f->credit_granted - f->jobs_sent_epoch;
    size_t n = f->job_count - f->jobs_sent;
    if (n > outstanding)
        n = (size_t)outstanding;
    if (n > max)
        n = max;
    if (n == 0)
        return;
    zc_job_t batch[MAX_JOBS];
    for (size_t i = 0; i < n; i++) {
        job_t *job = &f->jobs[f->jobs_sent + i];
        batch[i] = (zc_job_t){.crawl = "c1",
                              .id = f->jobs_sent + i + 1,
                              .kind = job->kind,
                              .url = job->url,
                              .depth = 1,
                              .attempt = 1,
                              .deadline_ms = (uint64_t)zc_now_ms () + 60000,
                              .opts = job->opts,
                              .redirects = job->prior_redirects,
                              .robots = (zc_robots_rule_t *)job->robots,
                              .robots_count = job->robots_count,
                              .rules = (zc_extract_rule_t *)job->rules,
                              .rule_count = job->rule_count,
                              .origin = job->origin,
                              .spacing_ms = job->spacing_ms};
    }
    zc_msg_t msg = {.type = ZC_MSG_JOBS, .jobs = {.jobs = batch, .job_count = n}};
    s_send (f, &msg);
    f->jobs_sent += n;
    f->jobs_sent_epoch += n;
}

//  Sends as many pending jobs as the outstanding credit allows.
static void
s_send_jobs (fixture_t *f)
{
    s_send_jobs_max (f, MAX_JOBS);
}

static job_t *
s_job_for (fixture_t *f, const char *crawl, uint64_t id)
{
    assert_string_equal (crawl, "c1");
    assert_true (id >= 1 && id <= f->jobs_sent);
    return &f->jobs[id - 1];
}

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

static bool
s_contains (const void *data, size_t size, const char *needle)
{
    size_t n = strlen (needle);
    const char *p = data;
    for (size_t i = 0; n <= size && i <= size - n; i++)
        if (memcmp (p + i, needle, n) == 0)
            return true;
    return false;
}

static void
s_outcome (fixture_t *f, job_t *job, zc_msg_type_t type)
{
    job->outcomes++;
    f->outcomes++;
    job->type = type;
}

static void
s_handle_pull (fixture_t *f)
{
    zmsg_t *zmsg = zmsg_recv (f->pull);
    assert_non_null (zmsg);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    assert_int_equal (msg->type, ZC_MSG_PAGE);
    const zc_page_t *page = &msg->page;
    job_t *job = s_job_for (f, page->meta.crawl, page->meta.id);
    s_outcome (f, job, ZC_MSG_PAGE);
    s_copy (job->url_seen, sizeof job->url_seen, page->meta.url);
    s_copy (job->final_url, sizeof job->final_url, page->meta.final_url);
    job->status = page->meta.status;
    job->redirects = page->meta.redirects;
    job->body_size = page->body_size;
    job->html_body = s_contains (page->body, page->body_size, "</html>");
    job->page_rule_count = page->rule_count;
    size_t used = 0;
    for (size_t i = 0; i < page->rule_count && used < sizeof job->rule_names; i++) {
        const zc_extract_rule_t *rule = &page->rules[i];
        int n = snprintf (job->rule_names + used, sizeof job->rule_names - used, "%s=%s/%d%d%s;",
                          rule->name, rule->selector, rule->xpath, rule->all, rule->attr);
        used += n > 0 ? (size_t)n : 0;
    }
    zc_msg_destroy (&msg);
}

//  Reads every PAGE already queued on the front.
static void
s_drain_pull (fixture_t *f)
{
    while (zsock_events (f->pull) & ZMQ_POLLIN)
        s_handle_pull (f);
}

static void
s_on_ready (fixture_t *f, uint32_t credit)
{
    assert_true (credit > 0);
    f->last_ready = credit;
    f->credit_granted += credit;
    //  Outstanding credit alone, and with the jobs the fetcher still holds
    //  (pages it pushed before this READY are already on the front).
    s_drain_pull (f);
    uint64_t outstanding = f->credit_granted - f->jobs_sent_epoch;
    assert_true (f->credit_granted >= f->jobs_sent_epoch);
    assert_true (outstanding <= f->capacity);
    assert_true (outstanding + (f->jobs_sent - f->outcomes) <= f->capacity);
    if (f->auto_jobs)
        s_send_jobs (f);
}

static void
s_handle_router (fixture_t *f)
{
    zmsg_t *zmsg = zmsg_recv (f->router);
    assert_non_null (zmsg);
    zframe_t *rid = zmsg_pop (zmsg);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    assert_non_null (msg);
    zframe_destroy (&f->rid);
    f->rid = rid;
    switch (msg->type) {
    case ZC_MSG_HELLO:
        assert_string_equal (msg->hello.role, "fetcher");
        assert_string_equal (msg->hello.id, "fetcher-under-test");
        assert_int_equal (msg->hello.capacity, f->capacity);
        assert_string_equal (msg->hello.endpoint, "");
        f->hellos++;
        break;
    case ZC_MSG_READY:
        f->readies++;
        s_on_ready (f, msg->ready.credit);
        break;
    case ZC_MSG_BYE:
        f->byes++;
        s_copy (f->bye_node, sizeof f->bye_node, msg->bye.node);
        break;
    case ZC_MSG_HEARTBEAT: {
        f->heartbeat = msg->heartbeat;
        f->heartbeat.node = NULL;
        f->heartbeats++;
        zc_msg_t reply = {.type = ZC_MSG_HEARTBEAT,
                          .heartbeat = {.epoch = f->epoch, .node = "broker"}};
        s_send (f, &reply);
        break;
    }
    case ZC_MSG_FETCH_FAILED: {
        const zc_fetch_failed_t *ff = &msg->fetch_failed;
        job_t *job = s_job_for (f, ff->crawl, ff->id);
        s_outcome (f, job, ZC_MSG_FETCH_FAILED);
        s_copy (job->url_seen, sizeof job->url_seen, ff->url);
        s_copy (job->reason, sizeof job->reason, ff->reason);
        s_copy (job->location, sizeof job->location, ff->location);
        job->status = ff->status;
        job->redirects = ff->redirects;
        job->retry_after_ms = ff->retry_after_ms;
        assert_int_equal (ff->attempt, 1);
        assert_true (ff->fetched_at_ms > 0);
        break;
    }
    case ZC_MSG_ROBOTS: {
        const zc_robots_t *robots = &msg->robots;
        job_t *job = s_job_for (f, robots->crawl, robots->id);
        s_outcome (f, job, ZC_MSG_ROBOTS);
        s_copy (job->url_seen, sizeof job->url_seen, robots->url);
        s_copy (job->reason, sizeof job->reason, robots->reason);
        job->status = robots->status;
        job->body_size = robots->body_size;
        break;
    }
    default:
        fail_msg ("unexpected %s from the fetcher", zc_msg_type_str (msg->type));
    }
    zc_msg_destroy (&msg);
}

//  A reply on the actor pipe after START: only DRAINED is expected.
static void
s_handle_pipe (fixture_t *f)
{
    char *reply = zstr_recv (f->fetcher);
    assert_non_null (reply);
    assert_string_equal (reply, "DRAINED");
    if (f->drained++ == 0)
        f->byes_before_drained = f->byes;
    zstr_free (&reply);
}

//  Handles messages until COND holds; false if DEADLINE_MS passed first.
static bool
s_pump (fixture_t *f, cond_fn *cond)
{
    zpoller_t *poller = zpoller_new (f->router, f->pull, f->fetcher, NULL);
    assert_non_null (poller);
    int64_t deadline = zclock_mono () + DEADLINE_MS;
    bool met = cond (f);
    while (!met && zclock_mono () < deadline) {
        void *which = zpoller_wait (poller, 50);
        if (which == f->router)
            s_handle_router (f);
        else if (which == f->pull)
            s_handle_pull (f);
        else if (which == f->fetcher)
            s_handle_pipe (f);
        met = cond (f);
    }
    zpoller_destroy (&poller);
    return met;
}

static bool
s_cond_hello (fixture_t *f)
{
    return f->hellos > 0;
}

static bool
s_cond_credit (fixture_t *f)
{
    return f->credit_granted > 0;
}

//  All jobs ended and the whole capacity has been granted back.
static bool
s_cond_idle (fixture_t *f)
{
    return f->outcomes == f->job_count &&
           f->credit_granted - f->jobs_sent_epoch + (f->jobs_sent - f->outcomes) == f->capacity;
}

//  --------------------------------------------------------------------------
//  Fixture

static job_t *
s_add_job (fixture_t *f, const char *base, const char *path)
{
    assert_true (f->job_count < MAX_JOBS);
    job_t *job = &f->jobs[f->job_count++];
    snprintf (job->url, sizeof job->url, "%s%s", base, path);
    job->kind = ZC_JOB_PAGE;
    job->opts = (zc_fetch_opts_t){.connect_timeout_ms = 2000,
                                  .timeout_ms = 5000,
                                  .max_body_bytes = 1024 * 1024,
                                  .max_redirects = 10,
                                  .allow_private = true,
                                  .user_agent = ""};
    return job;
}

static void
s_start_fetcher (fixture_t *f, uint32_t capacity)
{
    f->capacity = capacity;
    zc_fetcher_config_t config = {.broker_endpoint = f->broker_ep,
                                  .max_in_flight = (int)capacity,
                                  .node_id = "fetcher-under-test"};
    f->fetcher = zactor_new (zc_fetcher_actor, &config);
    assert_non_null (f->fetcher);
    assert_int_equal (zstr_send (f->fetcher, "START"), 0);
    int rc = -1;
    assert_int_equal (zsock_recv (f->fetcher, "i", &rc), 0);
    assert_int_equal (rc, 0);
    assert_true (s_pump (f, s_cond_hello));
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    zc_testsite_config_t config = {
        .pages = 10, .seed = 7, .host = "127.0.0.1", .slow_ms = 6000, .big_bytes = 256 * 1024};
    f->site = zc_testsite_new (&config);
    assert_non_null (f->site);
    //  Unique inproc names per fixture (tests share one process context).
    //  Not the fixture's address alone: malloc may hand the next test the
    //  same address while libzmq is still releasing the previous test's
    //  inproc endpoint in the background, and the bind then fails.
    unsigned tag = (unsigned)randof (0x7fffffff);
    snprintf (f->broker_ep, sizeof f->broker_ep, "inproc://zc-test-broker-%p-%x", (void *)f, tag);
    snprintf (f->front_ep, sizeof f->front_ep, "inproc://zc-test-front-%p-%x", (void *)f, tag);
    f->router = zsock_new_router (f->broker_ep);
    assert_non_null (f->router);
    f->pull = zsock_new_pull (f->front_ep);
    assert_non_null (f->pull);
    f->heartbeat_ms = 100;
    f->auto_jobs = true;
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    zactor_destroy (&f->fetcher);
    zframe_destroy (&f->rid);
    zsock_destroy (&f->router);
    zsock_destroy (&f->pull);
    zc_testsite_destroy (&f->site);
    free (f);
    return 0;
}

static int
s_closed_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal (getsockname (fd, (struct sockaddr *)&addr, &len), 0);
    close (fd);
    return ntohs (addr.sin_port);
}

//  --------------------------------------------------------------------------
//  Tests

static void
test_outcomes (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    char other[128], refused[64];
    //  Same server under another host key (host includes the port and
    //  name): its absolute Location on /redirect/2 points to 127.0.0.1.
    const char *port = strrchr (site, ':');
    snprintf (other, sizeof other, "http://localhost%s", port);
    snprintf (refused, sizeof refused, "http://127.0.0.1:%d", s_closed_port ());

    job_t *home = s_add_job (f, site, "/");
    job_t *missing = s_add_job (f, site, "/missing.html");
    job_t *chain = s_add_job (f, site, "/redirect/1");
    job_t *offhost = s_add_job (f, other, "/redirect/2");
    job_t *conn = s_add_job (f, refused, "/");
    job_t *limit = s_add_job (f, site, "/redirect/1");
    limit->opts.max_redirects = 1;
    limit->prior_redirects = 1;
    job_t *slow = s_add_job (f, site, "/slow.html");
    slow->opts.timeout_ms = 300;
    job_t *big = s_add_job (f, site, "/big-chunked.html");
    big->opts.max_body_bytes = 10 * 1024;
    job_t *robots = s_add_job (f, site, "/robots.txt");
    robots->kind = ZC_JOB_ROBOTS;
    //  robots.txt jobs still follow redirects themselves (RFC 9309)
    job_t *robots_moved = s_add_job (f, site, "/redirect/1");
    robots_moved->kind = ZC_JOB_ROBOTS;
    job_t *gzip = s_add_job (f, site, "/gzip.html");
    job_t *page3 = s_add_job (f, site, "/p/3.html");
    job_t *page4 = s_add_job (f, site, "/p/4.html");

    //  Capacity 4 < 13 jobs: the rest flows in as credit comes back.
    s_start_fetcher (f, 4);
    s_send_welcome (f, 42);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));

    for (size_t i = 0; i < f->job_count; i++) {
        assert_int_equal (f->jobs[i].outcomes, 1);
        assert_string_equal (f->jobs[i].url_seen, f->jobs[i].url);
    }
    char want[256];
    assert_int_equal (home->type, ZC_MSG_PAGE);
    assert_int_equal (home->status, 200);
    assert_true (home->html_body);
    assert_string_equal (home->final_url, home->url);
    assert_int_equal (home->redirects, 0);
    assert_int_equal (gzip->type, ZC_MSG_PAGE);
    assert_true (gzip->html_body);
    assert_int_equal (page3->type, ZC_MSG_PAGE);
    assert_int_equal (page4->type, ZC_MSG_PAGE);

    assert_int_equal (missing->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (missing->reason, "http");
    assert_int_equal (missing->status, 404);

    //  A same-host redirect is not followed: the broker gets the target.
    assert_int_equal (chain->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (chain->reason, "redirect");
    snprintf (want, sizeof want, "%s/redirect/2", site);
    assert_string_equal (chain->location, want);
    assert_int_equal (chain->redirects, 1);
    assert_int_equal (chain->status, 302);

    assert_int_equal (offhost->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (offhost->reason, "redirect");
    snprintf (want, sizeof want, "%s/redirect/3", site);
    assert_string_equal (offhost->location, want);
    assert_int_equal (offhost->status, 301);
    assert_int_equal (offhost->redirects, 1);

    assert_int_equal (conn->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (conn->reason, "connect");

    assert_int_equal (limit->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (limit->reason, "redirect_limit");
    snprintf (want, sizeof want, "%s/redirect/2", site);
    assert_string_equal (limit->location, want);
    assert_int_equal (limit->redirects, 2);

    assert_int_equal (slow->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (slow->reason, "timeout");

    assert_int_equal (big->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (big->reason, "too_large");

    assert_int_equal (robots->type, ZC_MSG_ROBOTS);
    assert_int_equal (robots->status, 404);
    assert_string_equal (robots->reason, "");
    assert_int_equal (robots_moved->type, ZC_MSG_ROBOTS);
    assert_int_equal (robots_moved->status, 200);
    assert_string_equal (robots_moved->reason, "");
    assert_true (robots_moved->body_size > 0);

    //  A new broker epoch: the fetcher re-announces its whole capacity.
    s_send_welcome (f, 43);
    assert_true (s_pump (f, s_cond_credit));
    assert_int_equal (f->last_ready, f->capacity);
}

static bool
s_cond_queued (fixture_t *f)
{
    //  All three jobs ended at the fetcher and sit in its outbox.
    return f->heartbeats > 0 && f->heartbeat.done == 3 && f->heartbeat.in_flight == 3 &&
           f->heartbeat.decode_errors == 1;
}

static void
test_outbox_before_parsers (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    s_add_job (f, site, "/p/1.html");
    s_add_job (f, site, "/p/2.html");
    s_add_job (f, site, "/p/3.html");
    s_start_fetcher (f, 4);
    s_send_welcome (f, 7);
    //  Garbage from the "broker" is counted, not fatal.
    zmsg_t *garbage = zmsg_new ();
    zmsg_addmem (garbage, zframe_data (f->rid), zframe_size (f->rid));
    zmsg_addstr (garbage, "not msgpack");
    assert_int_equal (zmsg_send (&garbage, f->router), 0);

    //  JOBS before PARSERS: the pages cannot go anywhere yet.
    assert_true (s_pump (f, s_cond_queued));
    assert_int_equal (f->outcomes, 0);
    //  Three slots are held by the outbox: credit shrank to one.
    assert_int_equal (f->credit_granted - f->jobs_sent_epoch, 1);

    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));
    for (size_t i = 0; i < f->job_count; i++) {
        assert_int_equal (f->jobs[i].outcomes, 1);
        assert_int_equal (f->jobs[i].type, ZC_MSG_PAGE);
        assert_true (f->jobs[i].html_body);
        assert_string_equal (f->jobs[i].final_url, f->jobs[i].url);
    }
}

static bool
s_cond_fast_page (fixture_t *f)
{
    return f->jobs[2].outcomes == 1;
}

static void
test_shutdown_mid_transfer (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    s_add_job (f, site, "/slow.html");
    s_add_job (f, site, "/slow.html");
    s_add_job (f, site, "/");
    s_start_fetcher (f, 8);
    s_send_welcome (f, 9);
    s_send_parsers (f);
    //  The fast page arrives; the slow ones are still running at $TERM.
    assert_true (s_pump (f, s_cond_fast_page));
    assert_int_equal (f->outcomes, 1);
    zactor_destroy (&f->fetcher); //  aborts the slow transfers, no leaks
}

//  Page jobs never follow redirects: every 3xx (same host or not) goes back
//  to the broker as "redirect" with the hop counted on from job.redirects,
//  or "redirect_limit" once past max_redirects. A continuation job (origin
//  set) reports its outcome under the origin. job.robots is ignored.
static void
test_redirects_and_origin (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    char other[128];
    snprintf (other, sizeof other, "http://localhost%s", strrchr (site, ':'));
    static const zc_robots_rule_t no_hop2[] = {{false, "/redirect/2"}, {true, "/redirect/"}};

    job_t *same = s_add_job (f, site, "/redirect/1");
    same->robots = no_hop2; //  not the fetcher's business any more
    same->robots_count = 2;
    job_t *counted = s_add_job (f, site, "/redirect/1");
    counted->prior_redirects = 5;
    job_t *last = s_add_job (f, site, "/redirect/1");
    last->prior_redirects = 9; //  the 10th hop is still allowed
    job_t *limit = s_add_job (f, site, "/redirect/1");
    limit->prior_redirects = 10;
    job_t *offhost = s_add_job (f, other, "/redirect/2");
    offhost->prior_redirects = 4;
    job_t *offhost_limit = s_add_job (f, other, "/redirect/2");
    offhost_limit->prior_redirects = 10;
    job_t *failed = s_add_job (f, site, "/missing.html");
    failed->prior_redirects = 2;
    //  Continuations of a chain that started at /redirect/1
    char origin[256];
    snprintf (origin, sizeof origin, "%s/redirect/1", site);
    job_t *cont_page = s_add_job (f, site, "/redirect/final.html");
    cont_page->prior_redirects = 3;
    job_t *cont_hop = s_add_job (f, site, "/redirect/2");
    cont_hop->prior_redirects = 1;
    job_t *cont_failed = s_add_job (f, site, "/missing.html");
    cont_failed->prior_redirects = 2;
    job_t *cont_limit = s_add_job (f, site, "/redirect/3");
    cont_limit->prior_redirects = 10;
    job_t *conts[] = {cont_page, cont_hop, cont_failed, cont_limit};
    for (size_t i = 0; i < 4; i++)
        s_copy (conts[i]->origin, sizeof conts[i]->origin, origin);

    s_start_fetcher (f, 4);
    s_send_welcome (f, 1);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));
    char hop2[256], hop3[256], final[256], missing[256];
    snprintf (hop2, sizeof hop2, "%s/redirect/2", site);
    snprintf (hop3, sizeof hop3, "%s/redirect/3", site);
    snprintf (final, sizeof final, "%s/redirect/final.html", site);
    snprintf (missing, sizeof missing, "%s/missing.html", site);
    for (size_t i = 0; i < f->job_count; i++) {
        job_t *job = &f->jobs[i];
        assert_int_equal (job->outcomes, 1);
        assert_string_equal (job->url_seen, *job->origin ? job->origin : job->url);
    }

    assert_int_equal (same->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (same->reason, "redirect");
    assert_string_equal (same->location, hop2);
    assert_int_equal (same->redirects, 1);
    assert_int_equal (same->status, 302);

    assert_string_equal (counted->reason, "redirect");
    assert_int_equal (counted->redirects, 6);
    assert_string_equal (last->reason, "redirect");
    assert_int_equal (last->redirects, 10);
    assert_string_equal (limit->reason, "redirect_limit");
    assert_string_equal (limit->location, hop2);
    assert_int_equal (limit->redirects, 11);

    assert_string_equal (offhost->reason, "redirect");
    assert_string_equal (offhost->location, hop3);
    assert_int_equal (offhost->redirects, 5);
    assert_string_equal (offhost_limit->reason, "redirect_limit");
    assert_string_equal (offhost_limit->location, hop3);
    assert_int_equal (offhost_limit->redirects, 11);

    assert_int_equal (failed->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (failed->reason, "http");
    assert_int_equal (failed->redirects, 2);
    assert_int_equal (failed->retry_after_ms, 0);
    assert_string_equal (failed->location, "");

    //  The chain's page is the origin's page, fetched from the target.
    assert_int_equal (cont_page->type, ZC_MSG_PAGE);
    assert_string_equal (cont_page->final_url, final);
    assert_int_equal (cont_page->redirects, 3);
    assert_int_equal (cont_page->status, 200);
    assert_true (cont_page->html_body);
    //  A further hop: location is the new target.
    assert_string_equal (cont_hop->reason, "redirect");
    assert_string_equal (cont_hop->location, hop3);
    assert_int_equal (cont_hop->redirects, 2);
    //  Other failures: location is the URL that failed.
    assert_string_equal (cont_failed->reason, "http");
    assert_int_equal (cont_failed->status, 404);
    assert_string_equal (cont_failed->location, missing);
    assert_int_equal (cont_failed->redirects, 2);
    assert_string_equal (cont_limit->reason, "redirect_limit");
    assert_string_equal (cont_limit->location, final);
    assert_int_equal (cont_limit->redirects, 11);
}

//  Extraction rules travel from the job into the PAGE; custom headers and
//  resolve overrides reach the transfer; bad headers are never sent.
static void
test_rules_headers_resolve (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    const char *port = strrchr (site, ':') + 1;
    static const zc_extract_rule_t rules[] = {
        {.name = "title", .selector = "h1", .take = ZC_TAKE_TEXT, .attr = "", .regex = ""},
        {.name = "links",
         .selector = "//a",
         .xpath = true,
         .take = ZC_TAKE_ATTR,
         .attr = "href",
         .all = true,
         .regex = "p/([0-9]+)"},
    };
    job_t *with_rules = s_add_job (f, site, "/p/1.html");
    with_rules->rules = rules;
    with_rules->rule_count = 2;
    job_t *plain = s_add_job (f, site, "/p/2.html");

    char url[128], entry[128];
    snprintf (url, sizeof url, "http://made-up-name.invalid:%s", port);
    snprintf (entry, sizeof entry, "made-up-name.invalid:%s:127.0.0.1", port);
    const char *resolve[] = {entry};
    const char *headers[] = {"X-Zc: 1", "Accept-Language: en"};
    job_t *resolved = s_add_job (f, url, "/p/3.html");
    resolved->opts.resolve = resolve;
    resolved->opts.resolve_count = 1;
    resolved->opts.headers = headers;
    resolved->opts.header_count = 2;
    job_t *guarded = s_add_job (f, url, "/p/3.html");
    guarded->opts.resolve = resolve;
    guarded->opts.resolve_count = 1;
    guarded->opts.allow_private = false;
    const char *smuggle[] = {"X-A: b\r\nX-Injected: 1"};
    job_t *bad_header = s_add_job (f, site, "/p/4.html");
    bad_header->opts.headers = smuggle;
    bad_header->opts.header_count = 1;

    uint64_t hits_before = zc_testsite_hits (f->site);
    s_start_fetcher (f, 8);
    s_send_welcome (f, 1);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));

    assert_int_equal (with_rules->type, ZC_MSG_PAGE);
    assert_int_equal (with_rules->page_rule_count, 2);
    assert_string_equal (with_rules->rule_names, "title=h1/00;links=//a/11href;");
    assert_int_equal (plain->type, ZC_MSG_PAGE);
    assert_int_equal (plain->page_rule_count, 0);

    assert_int_equal (resolved->type, ZC_MSG_PAGE);
    assert_int_equal (resolved->status, 200);
    assert_true (resolved->html_body);
    assert_int_equal (guarded->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (guarded->reason, "blocked");

    assert_int_equal (bad_header->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (bad_header->reason, "invalid");
    //  3 pages fetched; neither the blocked nor the bad-header job reached the site
    assert_int_equal (zc_testsite_hits (f->site) - hits_before, 3);
}

//  The test site's scenario hosts, reached through resolve overrides:
//  Retry-After reaches FETCH_FAILED, a reset mid-body is "network", and a
//  hop into a path robots.txt disallows goes back to the broker (which
//  checks robots for every hop) as an ordinary redirect.
static void
test_scenario_hosts (void **state)
{
    fixture_t *f = *state;
    const char *port = strrchr (zc_testsite_url (f->site), ':') + 1;
    char flaky[128], polite[128], flaky_entry[128], polite_entry[128];
    snprintf (flaky, sizeof flaky, "http://flaky.test:%s", port);
    snprintf (polite, sizeof polite, "http://polite.test:%s", port);
    snprintf (flaky_entry, sizeof flaky_entry, "flaky.test:%s:127.0.0.1", port);
    snprintf (polite_entry, sizeof polite_entry, "polite.test:%s:127.0.0.1", port);
    const char *resolve[] = {flaky_entry, polite_entry};
    static const zc_robots_rule_t rules[] = {{false, "/private/"}};

    job_t *retry = s_add_job (f, flaky, "/retry-after");
    job_t *date = s_add_job (f, flaky, "/429-date");
    job_t *always = s_add_job (f, flaky, "/always-503");
    job_t *reset = s_add_job (f, flaky, "/reset");
    job_t *hop = s_add_job (f, polite, "/go-private");
    hop->robots = rules;
    hop->robots_count = 1;
    for (size_t i = 0; i < f->job_count; i++) {
        f->jobs[i].opts.resolve = resolve;
        f->jobs[i].opts.resolve_count = 2;
    }
    s_start_fetcher (f, 8);
    s_send_welcome (f, 1);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));

    assert_int_equal (retry->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (retry->reason, "http");
    assert_int_equal (retry->status, 503);
    assert_int_equal (retry->retry_after_ms, 1000);
    assert_int_equal (date->type, ZC_MSG_FETCH_FAILED);
    assert_int_equal (date->status, 429);
    assert_true (date->retry_after_ms > 0 && date->retry_after_ms <= 2000);
    assert_int_equal (always->type, ZC_MSG_FETCH_FAILED);
    assert_int_equal (always->status, 503);
    assert_int_equal (always->retry_after_ms, 0);
    assert_int_equal (reset->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (reset->reason, "network");
    assert_int_equal (hop->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (hop->reason, "redirect");
    char want[256];
    snprintf (want, sizeof want, "%s/private/x.html", polite);
    assert_string_equal (hop->location, want);
}

//  --------------------------------------------------------------------------
//  Graceful stop (DRAIN)

static bool
s_cond_job1_done (fixture_t *f)
{
    return f->jobs[1].outcomes == 1;
}

//  The test site has received the two requests started before the drain.
static bool
s_cond_site_saw_two (fixture_t *f)
{
    return zc_testsite_hits (f->site) >= 2;
}

static bool
s_cond_late_jobs_done (fixture_t *f)
{
    for (size_t i = 2; i < f->job_count; i++)
        if (f->jobs[i].outcomes == 0)
            return false;
    return true;
}

static bool
s_cond_drained (fixture_t *f)
{
    return f->drained > 0 && f->byes > 0 && f->jobs[0].outcomes > 0;
}

static bool
s_cond_drained_only (fixture_t *f)
{
    return f->drained > 0 && f->byes > 0;
}

static bool
s_cond_two_running (fixture_t *f)
{
    return f->heartbeats > 0 && f->heartbeat.in_flight == 2;
}

//  Sends DRAIN, then START as a barrier: the actor handles its pipe in
//  order, and START after DRAIN is refused, so once -1 is back the DRAIN
//  has been handled.
static void
s_drain (fixture_t *f, const char *ms)
{
    assert_int_equal (zstr_sendx (f->fetcher, "DRAIN", ms, NULL), 0);
    assert_int_equal (zstr_send (f->fetcher, "START"), 0);
    int rc = 0;
    assert_int_equal (zsock_recv (f->fetcher, "i", &rc), 0);
    assert_int_equal (rc, -1);
}

//  DRAIN during a slow transfer: it finishes and its page is delivered;
//  jobs that arrive during the drain are handed back at once as
//  "shutdown"; no READY after DRAIN; then BYE and DRAINED.
static void
test_drain_finishes_running (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    //  6 s, within its 9 s timeout: long enough that the steps below end
    //  well before it even on a loaded machine under sanitizers
    job_t *slow = s_add_job (f, site, "/slow.html");
    slow->opts.timeout_ms = 9000;
    job_t *fast = s_add_job (f, site, "/");
    for (int i = 1; i <= 4; i++) {
        char path[32];
        snprintf (path, sizeof path, "/p/%d.html", i);
        s_add_job (f, site, path);
    }
    f->auto_jobs = false;
    s_start_fetcher (f, 8);
    s_send_welcome (f, 5);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_credit));
    assert_true (f->credit_granted >= 6);
    s_send_jobs_max (f, 2);
    assert_true (s_pump (f, s_cond_job1_done));
    assert_int_equal (fast->type, ZC_MSG_PAGE);
    assert_int_equal (slow->outcomes, 0);

    int64_t drained_at = zclock_mono ();
    s_drain (f, "10000");
    //  What the fetcher sent before it handled DRAIN is queued here by now
    //  (inproc delivers on send): READY counted from here on came after.
    while (zsock_events (f->router) & ZMQ_POLLIN)
        s_handle_router (f);
    size_t readies = f->readies;
    //  A batch the broker sent against older credit: every job goes back
    //  untried, long before the slow page is done. Both earlier requests
    //  must have reached the site first (the slow one can arrive after the
    //  fast one is done on a loaded machine).
    assert_true (s_pump (f, s_cond_site_saw_two));
    uint64_t hits = zc_testsite_hits (f->site);
    assert_int_equal (hits, 2);
    s_send_jobs (f);
    assert_int_equal (f->jobs_sent, f->job_count);
    assert_true (s_pump (f, s_cond_late_jobs_done));
    for (size_t i = 2; i < f->job_count; i++) {
        job_t *job = &f->jobs[i];
        assert_int_equal (job->outcomes, 1);
        assert_int_equal (job->type, ZC_MSG_FETCH_FAILED);
        assert_string_equal (job->reason, "shutdown");
        assert_string_equal (job->url_seen, job->url);
        assert_int_equal (job->status, 0);
    }
    assert_int_equal (zc_testsite_hits (f->site), hits);
    assert_int_equal (slow->outcomes, 0);
    assert_int_equal (f->drained, 0);

    assert_true (s_pump (f, s_cond_drained));
    assert_int_equal (slow->outcomes, 1);
    assert_int_equal (slow->type, ZC_MSG_PAGE);
    assert_int_equal (slow->status, 200);
    assert_int_equal (f->byes, 1);
    assert_int_equal (f->byes_before_drained, 1);
    assert_string_equal (f->bye_node, "fetcher-under-test");
    assert_int_equal (f->drained, 1);
    assert_int_equal (f->readies, readies);
    assert_true (zclock_mono () - drained_at < 10000);

    //  DRAIN again: DRAINED again, no second BYE.
    assert_int_equal (zstr_sendx (f->fetcher, "DRAIN", "0", NULL), 0);
    char *reply = zstr_recv (f->fetcher);
    assert_non_null (reply);
    assert_string_equal (reply, "DRAINED");
    zstr_free (&reply);
    assert_int_equal (f->byes, 1);
}

//  The drain deadline aborts what still runs: a page job goes back as
//  "shutdown", a robots job without a message (BYE requeues it).
static void
test_drain_deadline (void **state)
{
    fixture_t *f = *state;
    const char *site = zc_testsite_url (f->site);
    job_t *slow = s_add_job (f, site, "/slow.html");
    job_t *robots = s_add_job (f, site, "/slow.html");
    robots->kind = ZC_JOB_ROBOTS;
    s_start_fetcher (f, 4);
    s_send_welcome (f, 6);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_two_running));
    int64_t started = zclock_mono ();
    assert_int_equal (zstr_sendx (f->fetcher, "DRAIN", "300", NULL), 0);
    assert_true (s_pump (f, s_cond_drained_only));
    int64_t took = zclock_mono () - started;
    assert_true (took >= 250 && took < 2500); //  slow.html answers after 6 s
    assert_int_equal (slow->outcomes, 1);
    assert_int_equal (slow->type, ZC_MSG_FETCH_FAILED);
    assert_string_equal (slow->reason, "shutdown");
    assert_string_equal (slow->url_seen, slow->url);
    assert_int_equal (robots->outcomes, 0);
    assert_int_equal (f->byes_before_drained, 1);
    assert_string_equal (f->bye_node, "fetcher-under-test");
}

//  DRAIN before START: nothing to do, DRAINED at once.
static void
test_drain_unstarted (void **state)
{
    (void)state;
    zc_fetcher_config_t config = {.broker_endpoint = "inproc://zc-test-nobody"};
    zactor_t *fetcher = zactor_new (zc_fetcher_actor, &config);
    assert_non_null (fetcher);
    assert_int_equal (zstr_send (fetcher, "DRAIN"), 0);
    char *reply = zstr_recv (fetcher);
    assert_non_null (reply);
    assert_string_equal (reply, "DRAINED");
    zstr_free (&reply);
    zactor_destroy (&fetcher);
}

//  Request start times (ms) the site logged for URI, in log order.
static size_t
s_logged_starts (const char *log_path, const char *uri, int64_t *starts, size_t max)
{
    FILE *file = fopen (log_path, "r");
    assert_non_null (file);
    char line[512], listener[32], host[128], method[16], path[256];
    long long start;
    int status;
    size_t n = 0;
    while (fgets (line, sizeof line, file))
        if (sscanf (line, "%31s %lld %127s %15s %255s %d", listener, &start, host, method, path,
                    &status) == 6 &&
            streq (path, uri) && n < max)
            starts[n++] = start;
    fclose (file);
    return n;
}

static void
test_host_spacing (void **state)
{
    fixture_t *f = *state;
    char log_path[] = "/tmp/test_zc_fetcher_log.XXXXXX";
    int fd = mkstemp (log_path);
    assert_true (fd >= 0);
    close (fd);
    zc_testsite_config_t config = {.pages = 10,
                                   .seed = 7,
                                   .host = "127.0.0.1",
                                   .slow_ms = 3000,
                                   .big_bytes = 1024,
                                   .log_path = log_path};
    zc_testsite_t *site = zc_testsite_new (&config);
    assert_non_null (site);
    //  Four jobs of one host in one batch, a 150 ms gap asked: the server
    //  must see them at least that far apart, although they arrive at once
    const uint32_t gap = 150;
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf (path, sizeof path, "/p/%d.html", i + 1);
        job_t *job = s_add_job (f, zc_testsite_url (site), path);
        job->spacing_ms = gap;
    }
    s_start_fetcher (f, 8);
    s_send_welcome (f, 42);
    s_send_parsers (f);
    assert_true (s_pump (f, s_cond_idle));
    for (size_t i = 0; i < f->job_count; i++)
        assert_int_equal (f->jobs[i].outcomes, 1);
    zc_testsite_destroy (&site); //  the log is complete
    int64_t starts[8];
    size_t n = 0;
    const char *uris[] = {"/p/1.html", "/p/2.html", "/p/3.html", "/p/4.html"};
    for (size_t u = 0; u < 4; u++)
        n += s_logged_starts (log_path, uris[u], starts + n, 8 - n);
    unlink (log_path);
    assert_int_equal (n, 4);
    //  Sorted start times, then every gap (a few ms of clock slack)
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && starts[j] < starts[j - 1]; j--) {
            int64_t t = starts[j];
            starts[j] = starts[j - 1];
            starts[j - 1] = t;
        }
    for (size_t i = 1; i < n; i++)
        assert_true (starts[i] - starts[i - 1] >= (int64_t)gap - 5);
}

static void
test_bad_start (void **state)
{
    (void)state;
    zc_fetcher_config_t config = {.broker_endpoint = "nonsense://x"};
    zactor_t *fetcher = zactor_new (zc_fetcher_actor, &config);
    assert_non_null (fetcher);
    assert_int_equal (zstr_send (fetcher, "START"), 0);
    int rc = 0;
    assert_int_equal (zsock_recv (fetcher, "i", &rc), 0);
    assert_int_equal (rc, -1);
    zactor_destroy (&fetcher);
}

int
main (void)
{
    assert_int_equal (curl_global_init (CURL_GLOBAL_DEFAULT), CURLE_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_outcomes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_outbox_before_parsers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_shutdown_mid_transfer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_redirects_and_origin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rules_headers_resolve, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_scenario_hosts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_drain_finishes_running, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_drain_deadline, s_setup, s_teardown),
        cmocka_unit_test (test_drain_unstarted),
        cmocka_unit_test (test_bad_start),
        cmocka_unit_test_setup_teardown (test_host_spacing, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
