/*  zc_broker_outcomes — how the broker actor ends a job: RESULT (from the
    results socket), FETCH_FAILED and ROBOTS (from the jobs socket).
    Redirect hops, retries with back-off and the error lines are decided
    here. Every outcome first claims its job record (zc_inflight_claim):
    one that finds none is late or a duplicate, and is counted and dropped.
    Part of the broker actor (zc_broker.c), in its zloop.
*/
#include "zc_broker_internal.h"

#include <inttypes.h>
#include <string.h>

#include "zc_url.h"
#include "zc_util.h"

//  Logs (at most once per interval) an outcome zc_inflight_claim counted late.
static void
s_log_late (zc_broker_self_t *self, const char *type, uint64_t job_id)
{
    int64_t now = zc_now_ms ();
    if (now - self->last_late_log_ms >= ZC_BROKER_LOG_INTERVAL_MS) {
        self->last_late_log_ms = now;
        zsys_info ("zc_broker: dropped %s for unknown or finished job %" PRIu64 " (%" PRIu64
                   " late or duplicate outcomes so far)",
                   type, job_id, zc_inflight_late_count (self->outstanding));
    }
}

//  Finds and detaches the job an outcome is about; NULL (counted) if it is
//  unknown, already finished, or the crawl or the kind of job does not
//  match (a RESULT for a robots job stays outstanding).
static zc_inflight_job_t *
s_job_take (zc_broker_self_t *self, const char *type, const char *crawl_id, uint64_t job_id,
            zc_job_kind_t kind)
{
    zc_inflight_job_t *job = zc_inflight_claim (self->outstanding, job_id, crawl_id, kind);
    if (!job)
        s_log_late (self, type, job_id);
    return job;
}

//  Ends JOB (owned): frees its host slot, checks completion, dispatches.
static void
s_job_finish (zc_broker_self_t *self, zc_inflight_job_t *job)
{
    int64_t now = zc_now_ms ();
    zc_crawl_job_ended (job->crawl, job->work.kind, job->work.host_key, now);
    zc_crawl_check_done (job->crawl, now);
    zc_inflight_job_destroy (&job);
    zc_broker_dispatch (self);
}

//  Uniform in [0.5, 1.0): the jitter of retry back-offs.
static double
s_jitter (zc_broker_self_t *self)
{
    return 0.5 + 0.5 * (double)(zc_broker_random (self) >> 11) / 9007199254740992.0;
}

//  Failures worth another attempt: the network's and the server's, not ours
//  (bad URL, too large, 4xx...).
static bool
s_retryable (const char *reason, uint32_t status)
{
    if (streq (reason, "http"))
        return status == 429 || (status >= 500 && status < 600);
    return streq (reason, "timeout") || streq (reason, "connect") || streq (reason, "dns") ||
           streq (reason, "network");
}

//  A retryable failure of page JOB: the host backs off; unless this was the
//  last attempt, the URL is queued again with attempt + 1, due after the
//  exponential back-off with jitter and not before RETRY_AFTER_MS. Returns
//  true if it was queued again.
static bool
s_retry (zc_broker_self_t *self, zc_inflight_job_t *job, uint32_t retry_after_ms)
{
    int64_t now = zc_now_ms ();
    zc_crawl_host_failed (job->crawl, job->work.host_key, now, retry_after_ms);
    if (job->work.attempt >= zc_crawl_opts (job->crawl)->max_attempts)
        return false;
    int64_t delay = zc_crawl_backoff_ms (job->crawl, job->work.attempt, s_jitter (self));
    if (delay < (int64_t)retry_after_ms)
        delay = retry_after_ms;
    zc_crawl_job_t next = job->work; //  borrows the strings
    next.attempt++;
    zc_crawl_retry (job->crawl, &next, now + delay);
    return true;
}

static void
s_handle_result (zc_broker_self_t *self, const zc_result_t *result)
{
    zc_inflight_job_t *job =
        s_job_take (self, "RESULT", result->meta.crawl, result->meta.id, ZC_JOB_PAGE);
    if (!job)
        return;
    //  The broker's own record is authoritative for what it asked: the
    //  item of a redirect chain is its origin's, fetched from the target
    zc_result_t item = *result;
    const char *origin = job->work.origin;
    item.meta.url = origin ? origin : job->work.url;
    item.meta.final_url = job->work.url;
    item.meta.redirects = job->work.redirects;
    item.meta.depth = job->work.depth;
    item.meta.attempt = job->work.attempt;
    item.meta.crawl = zc_crawl_id (job->crawl);
    uint32_t status = item.meta.status;
    if (status >= 200 && status < 300) {
        zc_crawl_host_ok (job->crawl, job->work.host_key);
        //  (a redirect target is in the seen set since it was queued)
        zc_crawl_write_item (job->crawl, job->work.seq, &item);
        for (size_t i = 0; i < result->link_count; i++)
            (void)zc_crawl_admit (job->crawl, result->links[i], job->work.depth + 1);
    } else if (!s_retryable ("http", status) || !s_retry (self, job, 0)) {
        if (!s_retryable ("http", status))
            zc_crawl_host_ok (job->crawl, job->work.host_key);
        char detail[64];
        snprintf (detail, sizeof detail, "HTTP %u", status);
        zc_sink_error_t error = {.url = item.meta.url,
                                 .reason = "http",
                                 .detail = detail,
                                 .status = status,
                                 .location = origin ? job->work.url : NULL,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = item.meta.fetched_at_ms};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    s_job_finish (self, job);
}

//  A redirect of page JOB: every hop comes back here. The target T goes
//  through scope and dedup now and through robots and the host's politeness
//  at its dispatch, as a continuation of the chain's origin O (the URL first
//  requested) at the same depth, carrying the hops so far. Only the chain's
//  final outcome is written, under O: a loop back to O, a target out of
//  scope or already seen (crawled on its own) ends it here.
static void
s_handle_redirect (zc_broker_self_t *self, zc_inflight_job_t *job, const zc_fetch_failed_t *failed)
{
    (void)self;
    zc_url_status_t status;
    char *location = zc_url_canonical (failed->location, &status);
    const char *origin = job->work.origin ? job->work.origin : job->work.url;
    const char *reason = NULL;
    const char *detail = NULL;
    //  failed->redirects counts the hop to LOCATION (the fetcher reports
    //  redirect_limit itself past max_redirects): more is over the limit
    if (failed->redirects > zc_crawl_opts (job->crawl)->fetch.max_redirects) {
        reason = "redirect_limit";
        detail = "too many redirects";
    } else if (!location) {
        reason = "bad_url";
        detail = "invalid redirect location";
    } else if (streq (location, origin)) {
        reason = "redirect_limit";
        detail = "redirect loop";
    } else
        switch (zc_crawl_continue (job->crawl, location, origin, job->work.depth, failed->redirects,
                                   job->work.seq)) {
        case ZC_CRAWL_ADMITTED:
        case ZC_CRAWL_INACTIVE:
            break;
        case ZC_CRAWL_SCOPE:
        case ZC_CRAWL_DEPTH:
        case ZC_CRAWL_LIMIT:
        case ZC_CRAWL_HOST_LIMIT:
            reason = "scope";
            detail = "redirect target out of scope";
            break;
        case ZC_CRAWL_SEEN:
            reason = "redirect";
            detail = "redirect target already crawled on its own";
            break;
        case ZC_CRAWL_BAD_URL:
            reason = "bad_url";
            detail = "invalid redirect location";
            break;
        }
    if (reason) {
        zc_sink_error_t error = {.url = origin,
                                 .reason = reason,
                                 .detail = detail,
                                 .status = failed->status,
                                 .location = location ? location : failed->location,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = failed->fetched_at_ms ? failed->fetched_at_ms
                                                                : (uint64_t)zc_now_ms ()};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    free (location);
}

void
zc_broker_handle_fetch_failed (zc_broker_self_t *self, const zc_fetch_failed_t *failed)
{
    zc_inflight_job_t *job =
        s_job_take (self, "FETCH_FAILED", failed->crawl, failed->id, ZC_JOB_PAGE);
    if (!job)
        return;
    const char *reason = failed->reason ? failed->reason : "";
    if (streq (reason, "shutdown")) {
        //  Handed back untried by a draining fetcher: not a failure
        int64_t now = zc_now_ms ();
        zc_crawl_requeue (job->crawl, &job->work, now);
        zc_inflight_job_destroy (&job);
        zc_broker_dispatch (self);
        return;
    }
    bool retryable = s_retryable (reason, failed->status);
    if (streq (reason, "redirect") && failed->location && *failed->location) {
        zc_crawl_host_ok (job->crawl, job->work.host_key);
        s_handle_redirect (self, job, failed);
    } else if (!retryable || !s_retry (self, job, failed->retry_after_ms)) {
        if (!retryable)
            zc_crawl_host_ok (job->crawl, job->work.host_key);
        //  A continuation's outcome is its origin's; location then says
        //  which URL of the chain failed (or where it was going)
        const char *location = failed->location && *failed->location ? failed->location
                               : job->work.origin                    ? job->work.url
                                                                     : NULL;
        zc_sink_error_t error = {.url = job->work.origin ? job->work.origin : job->work.url,
                                 .reason = reason,
                                 .detail = failed->detail,
                                 .status = failed->status,
                                 .location = location,
                                 .attempts = job->work.attempt,
                                 .depth = job->work.depth,
                                 .at_ms = failed->fetched_at_ms ? failed->fetched_at_ms
                                                                : (uint64_t)zc_now_ms ()};
        zc_crawl_write_error (job->crawl, job->work.seq, &error);
    }
    s_job_finish (self, job);
}

void
zc_broker_handle_robots (zc_broker_self_t *self, const zc_robots_t *robots)
{
    zc_inflight_job_t *job = s_job_take (self, "ROBOTS", robots->crawl, robots->id, ZC_JOB_ROBOTS);
    if (!job)
        return;
    int64_t now = zc_now_ms ();
    zc_robots_t outcome = *robots;
    outcome.url = job->work.url; //  ours, not the sender's
    int64_t retry_at = now + zc_crawl_backoff_ms (job->crawl, job->work.attempt, s_jitter (self));
    zc_crawl_robots_done (job->crawl, job->work.host_key, job->work.attempt, &outcome, now,
                          retry_at);
    zc_crawl_check_done (job->crawl, now);
    zc_inflight_job_destroy (&job);
    zc_broker_dispatch (self);
}

static void
s_handle_results_message (zc_broker_self_t *self, zmsg_t *zmsg)
{
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&zmsg, &status);
    if (!msg)
        zc_broker_count_decode_error (self, "results", zc_msg_decode_status_str (status));
    else if (msg->type != ZC_MSG_RESULT)
        zc_broker_count_decode_error (self, "results", "unexpected message type");
    else
        s_handle_result (self, &msg->result);
    zc_msg_destroy (&msg);
    zc_broker_commit_if_full (self);
}

int
zc_broker_handle_results (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void)loop;
    zc_broker_read_batch ((zc_broker_self_t *)arg, reader, s_handle_results_message);
    return 0;
}
