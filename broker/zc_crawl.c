/*  zc_crawl — one crawl's state in the broker; see zc_crawl.h.

    Admission order matters for the counters: scope and depth are checked
    first (zc_scope: cheap, no state), then the seen set, and only a URL
    that is new counts against max_pages and max_pages_per_host, so
    duplicates never use up the budget. URLs dropped by scope are counted
    per verdict for the summary log. Once a
    crawl is done or stopped its frontier and seen set are freed: only the
    counters remain for STATUS.
*/
#include "zc_crawl.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <string.h>

#include "zc_scope.h"
#include "zc_seen.h"
#include "zc_url.h"
#include "zc_util.h"

#define ZC_CRAWL_HOST_KEY_MAX 512

struct zc_crawl {
    char *id; //  owned
    zc_crawl_state_t state;
    zc_crawl_opts_t opts; //  defaults applied; user_agent points to USER_AGENT
    char *user_agent;     //  owned
    char *output;         //  owned: items path
    char *errors;         //  owned: errors path
    zc_scope_t *scope;    //  owned
    zhashx_t *host_pages; //  owned: host key -> URLs admitted (uintptr_t >= 1)
    uint64_t dropped[ZC_SCOPE_SEGMENT_REPEATS + 1]; //  out-of-scope URLs per verdict
    zc_frontier_t *frontier;                        //  owned; NULL once done or stopped
    zc_seen_t *seen;                                //  owned; NULL once done or stopped
    zc_sink_t *sink;                                //  owned; NULL once done or stopped
    uint64_t admitted;                              //  URLs ever admitted, seeds included
    uint64_t pages;
    uint64_t failed;
    uint64_t in_flight;
    int64_t started_ms;
    int64_t elapsed_ms; //  frozen when done or stopped
};

static void
s_apply_defaults (zc_crawl_opts_t *opts)
{
    if (opts->max_depth < 0)
        opts->max_depth = -1;
    if (opts->host_concurrency == 0)
        opts->host_concurrency = ZC_CRAWL_DEFAULT_HOST_CONCURRENCY;
    if (opts->fetch.connect_timeout_ms == 0)
        opts->fetch.connect_timeout_ms = ZC_CRAWL_DEFAULT_CONNECT_TIMEOUT_MS;
    if (opts->fetch.timeout_ms == 0)
        opts->fetch.timeout_ms = ZC_CRAWL_DEFAULT_TIMEOUT_MS;
    if (opts->fetch.max_body_bytes == 0)
        opts->fetch.max_body_bytes = ZC_CRAWL_DEFAULT_MAX_BODY_BYTES;
    if (opts->fetch.max_redirects == 0)
        opts->fetch.max_redirects = ZC_CRAWL_DEFAULT_MAX_REDIRECTS;
}

//  Output paths: "<dir>/<id>.items.jsonl" by default; errors next to the
//  items, "x.jsonl" -> "x.errors.jsonl", anything else + ".errors.jsonl".
static void
s_paths (zc_crawl_t *self, const zc_submit_t *submit, const char *output_dir)
{
    if (submit->output && *submit->output)
        self->output = zc_strdup (submit->output);
    else if (output_dir && *output_dir)
        self->output = zsys_sprintf ("%s/%s.items.jsonl", output_dir, self->id);
    else
        self->output = zsys_sprintf ("%s.items.jsonl", self->id);
    assert (self->output);
    if (submit->errors && *submit->errors) {
        self->errors = zc_strdup (submit->errors);
        return;
    }
    size_t length = strlen (self->output);
    const char *suffix = ".jsonl";
    size_t suffix_length = strlen (suffix);
    if (length > suffix_length && streq (self->output + length - suffix_length, suffix))
        self->errors =
            zsys_sprintf ("%.*s.errors.jsonl", (int)(length - suffix_length), self->output);
    else
        self->errors = zsys_sprintf ("%s.errors.jsonl", self->output);
    assert (self->errors);
}

static zc_crawl_admit_t s_admit (zc_crawl_t *self, const char *url, uint32_t depth,
                                 bool check_scope, bool check_depth);

zc_crawl_t *
zc_crawl_new (const char *id, const zc_submit_t *submit, const char *output_dir, int64_t now_ms,
              char **error)
{
    assert (id);
    assert (submit);
    assert (error);
    *error = NULL;
    if (submit->seed_count == 0) {
        *error = zc_strdup ("no seed URL");
        return NULL;
    }
    if (submit->opts.fetch.max_body_bytes > ZC_MSG_MAX_BODY_BYTES) {
        *error = zsys_sprintf ("max body size %" PRIu64 " exceeds the limit of %u bytes",
                               submit->opts.fetch.max_body_bytes, ZC_MSG_MAX_BODY_BYTES);
        return NULL;
    }
    zc_crawl_t *self = (zc_crawl_t *)zmalloc (sizeof (zc_crawl_t));
    self->id = zc_strdup (id);
    self->started_ms = now_ms;
    self->opts = submit->opts;
    s_apply_defaults (&self->opts);
    self->user_agent =
        zc_strdup (submit->opts.fetch.user_agent ? submit->opts.fetch.user_agent : "");
    self->opts.fetch.user_agent = self->user_agent;
    self->host_pages = zhashx_new ();
    self->seen = zc_seen_new ();
    zc_frontier_config_t frontier_config = {.host_concurrency = self->opts.host_concurrency,
                                            .host_delay_ms = self->opts.host_delay_ms};
    self->frontier = zc_frontier_new (&frontier_config);

    //  Canonicalise every seed first: by default scope is the set of their hosts
    char **seeds = (char **)zmalloc (submit->seed_count * sizeof (char *));
    for (size_t i = 0; i < submit->seed_count && !*error; i++) {
        zc_url_status_t status;
        const char *seed = submit->seeds[i] ? submit->seeds[i] : "";
        seeds[i] = zc_url_canonical (seed, &status);
        char host_key[ZC_CRAWL_HOST_KEY_MAX];
        if (!seeds[i])
            *error =
                zsys_sprintf ("invalid seed URL '%.200s': %s", seed, zc_url_status_str (status));
        else if (zc_url_host_key (seeds[i], host_key, sizeof host_key) != 0)
            *error = zsys_sprintf ("invalid seed URL '%.200s'", seed);
    }
    if (!*error) {
        char reason[512];
        self->scope = zc_scope_new (&self->opts, (const char **)seeds, submit->seed_count, reason,
                                    sizeof reason);
        if (!self->scope)
            *error = zc_strdup (reason);
    }
    if (!*error) {
        s_paths (self, submit, output_dir);
        self->sink = zc_sink_new (self->output, self->errors, self->id);
        if (!self->sink)
            *error = zsys_sprintf ("cannot open output '%s' / '%s': %s", self->output, self->errors,
                                   strerror (errno));
        else
            zc_sink_set_rules (self->sink, submit->opts.rules, submit->opts.rule_count);
    }
    //  Seeds are fetched even if the scope rules would drop them (the
    //  operator named them); the rules apply to what they lead to
    for (size_t i = 0; i < submit->seed_count; i++) {
        if (!*error && seeds[i]) {
            zc_scope_verdict_t verdict = zc_scope_check (self->scope, seeds[i], 0);
            if (verdict != ZC_SCOPE_OK)
                zsys_info ("zc_broker: crawl %s: seed %s is fetched although out of scope (%s)",
                           self->id, seeds[i], zc_scope_verdict_str (verdict));
            (void)s_admit (self, seeds[i], 0, false, false);
        }
        free (seeds[i]);
    }
    free (seeds);
    if (*error) {
        zc_crawl_destroy (&self);
        return NULL;
    }
    return self;
}

void
zc_crawl_destroy (zc_crawl_t **self_p)
{
    assert (self_p);
    zc_crawl_t *self = *self_p;
    if (!self)
        return;
    zc_sink_destroy (&self->sink);
    zc_frontier_destroy (&self->frontier);
    zc_seen_destroy (&self->seen);
    zc_scope_destroy (&self->scope);
    zhashx_destroy (&self->host_pages);
    free (self->id);
    free (self->user_agent);
    free (self->output);
    free (self->errors);
    free (self);
    *self_p = NULL;
}

const char *
zc_crawl_id (zc_crawl_t *self)
{
    assert (self);
    return self->id;
}

zc_crawl_state_t
zc_crawl_state (zc_crawl_t *self)
{
    assert (self);
    return self->state;
}

const char *
zc_crawl_state_str (zc_crawl_state_t state)
{
    switch (state) {
    case ZC_CRAWL_RUNNING:
        return "running";
    case ZC_CRAWL_DONE:
        return "done";
    case ZC_CRAWL_STOPPED:
        return "stopped";
    }
    return "?";
}

const zc_crawl_opts_t *
zc_crawl_opts (zc_crawl_t *self)
{
    assert (self);
    return &self->opts;
}

zc_scope_verdict_t
zc_crawl_scope_check (zc_crawl_t *self, const char *url, uint32_t depth)
{
    assert (self);
    return zc_scope_check (self->scope, url, depth);
}

//  Admits URL; CHECK_SCOPE false for seeds, CHECK_DEPTH false for seeds
//  and redirect targets (they inherit an admitted depth).
static zc_crawl_admit_t
s_admit (zc_crawl_t *self, const char *url, uint32_t depth, bool check_scope, bool check_depth)
{
    if (self->state != ZC_CRAWL_RUNNING)
        return ZC_CRAWL_INACTIVE;
    char host_key[ZC_CRAWL_HOST_KEY_MAX];
    if (!url || strlen (url) > ZC_URL_MAX_BYTES ||
        zc_url_host_key (url, host_key, sizeof host_key) != 0)
        return ZC_CRAWL_BAD_URL;
    zc_scope_verdict_t verdict =
        check_scope ? zc_scope_check (self->scope, url, check_depth ? depth : 0) : ZC_SCOPE_OK;
    if (verdict != ZC_SCOPE_OK) {
        self->dropped[verdict]++;
        return verdict == ZC_SCOPE_DEPTH ? ZC_CRAWL_DEPTH : ZC_CRAWL_SCOPE;
    }
    uint64_t fp = zc_url_fingerprint (url);
    if (zc_seen_contains (self->seen, fp))
        return ZC_CRAWL_SEEN;
    if (self->opts.max_pages > 0 && self->admitted >= self->opts.max_pages)
        return ZC_CRAWL_LIMIT;
    if (self->opts.max_pages_per_host > 0) {
        uintptr_t host_pages = (uintptr_t)zhashx_lookup (self->host_pages, host_key);
        if (host_pages >= self->opts.max_pages_per_host)
            return ZC_CRAWL_HOST_LIMIT;
        zhashx_update (self->host_pages, host_key, (void *)(host_pages + 1));
    }
    zc_seen_add (self->seen, fp);
    zc_frontier_push (self->frontier, url, host_key, depth);
    self->admitted++;
    return ZC_CRAWL_ADMITTED;
}

zc_crawl_admit_t
zc_crawl_admit (zc_crawl_t *self, const char *url, uint32_t depth)
{
    assert (self);
    return s_admit (self, url, depth, true, true);
}

zc_crawl_admit_t
zc_crawl_admit_redirect (zc_crawl_t *self, const char *url, uint32_t depth)
{
    assert (self);
    return s_admit (self, url, depth, true, false);
}

int
zc_crawl_pop (zc_crawl_t *self, int64_t now_ms, zc_frontier_entry_t *out)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING || zc_frontier_pop (self->frontier, now_ms, out) != 0)
        return -1;
    self->in_flight++;
    return 0;
}

int64_t
zc_crawl_next_ready_ms (zc_crawl_t *self)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return -1;
    return zc_frontier_next_ready_ms (self->frontier);
}

void
zc_crawl_job_ended (zc_crawl_t *self, const char *host_key, int64_t now_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (zc_frontier_done (self->frontier, host_key, now_ms) != 0)
        zsys_error ("zc_broker: crawl %s: no URL of %s in flight", self->id, host_key);
    if (self->in_flight > 0)
        self->in_flight--;
}

void
zc_crawl_requeue (zc_crawl_t *self, const char *url, const char *host_key, uint32_t depth,
                  int64_t now_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    zc_crawl_job_ended (self, host_key, now_ms);
    zc_frontier_push (self->frontier, url, host_key, depth);
}

void
zc_crawl_write_item (zc_crawl_t *self, const zc_result_t *result)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (zc_sink_write_item (self->sink, result) == 0)
        self->pages++;
}

void
zc_crawl_write_error (zc_crawl_t *self, const zc_sink_error_t *error)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (zc_sink_write_error (self->sink, error) == 0)
        self->failed++;
}

void
zc_crawl_flush (zc_crawl_t *self)
{
    assert (self);
    if (self->sink)
        (void)zc_sink_flush (self->sink);
}

//  Leaves the running state: frees what only a running crawl needs.
static void
s_finish (zc_crawl_t *self, zc_crawl_state_t state, int64_t now_ms)
{
    self->state = state;
    self->elapsed_ms = now_ms - self->started_ms;
    self->in_flight = 0;
    zc_sink_destroy (&self->sink); //  flushes and closes
    zc_frontier_destroy (&self->frontier);
    zc_seen_destroy (&self->seen);
    zhashx_destroy (&self->host_pages);
}

//  Writes "host 3, depth 10" (the non-zero scope drop counters) into BUF.
static void
s_dropped_summary (zc_crawl_t *self, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (int v = ZC_SCOPE_OK + 1; v <= ZC_SCOPE_SEGMENT_REPEATS && o < size; v++)
        if (self->dropped[v]) {
            int n = snprintf (buf + o, size - o, "%s%s %" PRIu64, o ? ", " : "",
                              zc_scope_verdict_str ((zc_scope_verdict_t)v), self->dropped[v]);
            if (n < 0)
                break;
            o += (size_t)n;
        }
    if (o == 0)
        snprintf (buf, size, "none");
}

bool
zc_crawl_check_done (zc_crawl_t *self, int64_t now_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING || self->in_flight > 0 ||
        zc_frontier_queued (self->frontier) > 0)
        return false;
    s_finish (self, ZC_CRAWL_DONE, now_ms);
    char dropped[256];
    s_dropped_summary (self, dropped, sizeof dropped);
    zsys_info ("zc_broker: crawl %s done: %" PRIu64 " pages, %" PRIu64 " errors, %" PRIu64
               " URLs admitted, %.2f s; out of scope: %s",
               self->id, self->pages, self->failed, self->admitted, self->elapsed_ms / 1000.0,
               dropped);
    return true;
}

void
zc_crawl_stop (zc_crawl_t *self, int64_t now_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    uint64_t dropped = zc_frontier_queued (self->frontier);
    s_finish (self, ZC_CRAWL_STOPPED, now_ms);
    zsys_info ("zc_broker: crawl %s stopped: %" PRIu64 " pages, %" PRIu64 " errors, %" PRIu64
               " URLs dropped",
               self->id, self->pages, self->failed, dropped);
}

void
zc_crawl_status (zc_crawl_t *self, int64_t now_ms, zc_crawl_status_t *status)
{
    assert (self);
    assert (status);
    bool running = self->state == ZC_CRAWL_RUNNING;
    *status = (zc_crawl_status_t){
        .id = self->id,
        .state = zc_crawl_state_str (self->state),
        .output = self->output,
        .errors = self->errors,
        .pages = self->pages,
        .failed = self->failed,
        .queued = running ? zc_frontier_queued (self->frontier) : 0,
        .in_flight = self->in_flight,
        .started_ms = (uint64_t)self->started_ms,
        .elapsed_ms = (uint64_t)(running ? now_ms - self->started_ms : self->elapsed_ms),
    };
}
