/*  zc_crawl — one crawl's state in the broker; see zc_crawl.h.

    Admission order matters for the counters: scope and depth are checked
    first (zc_scope: cheap, no state), then the seen set, and only a URL
    that is new counts against max_pages and max_pages_per_host, so
    duplicates never use up the budget. URLs dropped by scope are counted
    per verdict for the summary log. Once a
    crawl is done or stopped its frontier and seen set are freed: only the
    counters remain for STATUS.

    robots.txt: the rules per host live in zc_robots_cache (unknown,
    pending, ready until they expire, failed). While a host is pending it
    is held in the frontier so its URLs wait; once it failed (robots.txt
    stayed unavailable after max_attempts) the host's URLs end as errors
    when they come up. The check happens at dispatch
    (zc_crawl_pop), not at admission, so an expired and changed robots.txt
    applies to URLs already queued. A URL that is not fetched does not use
    up its host's delay (zc_frontier_drop).

    Redirects: every hop is a job of its own, dispatched like any URL (the
    target host's robots.txt, delay and in-flight limit apply). A target is
    queued as a continuation (zc_crawl_continue) carrying its origin, the
    URL first requested, under which the chain's one outcome is written.

    The SUBMIT message is freed after zc_crawl_new: every option array a
    job or the scope needs later is deep-copied (s_copy_opts).

    What the crawl admits and writes is remembered by its journal
    (zc_journal: seen set, per-host counts, and for a durable crawl the
    store records and the URLs queued in the store only).
*/
#include "zc_crawl.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <errno.h>
#include <string.h>

#include "zc_journal.h"
#include "zc_robots_cache.h"
#include "zc_scope.h"
#include "zc_url.h"
#include "zc_util.h"

#define ZC_CRAWL_HOST_KEY_MAX 512
#define ZC_CRAWL_MAX_BACKOFF_MS (3600 * 1000)

//  A job waiting in the retry heap.
typedef struct {
    int64_t due_ms;
    uint64_t order; //  FIFO among equal due times
    uint64_t seq;   //  admission number
    zc_job_kind_t kind;
    char *url;      //  owned
    char *host_key; //  owned
    uint32_t depth;
    uint32_t attempt;
    uint32_t redirects;
    char *origin; //  owned: a continuation's origin, NULL if none
} s_retry_t;

struct zc_crawl {
    char *id; //  owned
    zc_crawl_state_t state;
    zc_crawl_opts_t opts;  //  defaults applied; user_agent points to USER_AGENT
    char *user_agent;      //  owned
    char *output;          //  owned: items path
    char *errors;          //  owned: errors path
    zc_scope_t *scope;     //  owned
    zc_journal_t *journal; //  owned: seen set, host counts, store records
    uint64_t dropped[ZC_SCOPE_SEGMENT_REPEATS + 1]; //  out-of-scope URLs per verdict
    zc_frontier_t *frontier;                        //  owned; NULL once done or stopped
    zc_sink_t *sink;                                //  owned; NULL once done or stopped
    uint64_t admitted;                              //  URLs ever admitted, seeds included
    zc_robots_cache_t *robots;                      //  owned; NULL once done or stopped
    s_retry_t **retries;                            //  owned: min-heap by (due_ms, seq)
    size_t retry_count;
    size_t retry_capacity;
    uint64_t retry_seq;
    char **strings; //  owned: deep copies of option strings (s_copy_opts)
    size_t string_count;
    zc_extract_rule_t *rules; //  owned array; strings in STRINGS
    uint64_t pages;
    uint64_t failed;
    uint64_t in_flight;
    int64_t started_ms;
    int64_t elapsed_ms; //  frozen when done or stopped
    bool paused;
    char *error;            //  owned: why it is paused (disk trouble), NULL if none
    uint64_t next_seq;      //  admission numbers: the last one given
    uint64_t items_offset;  //  output bytes made durable by the last checkpoint
    uint64_t errors_offset; //
    void *submit;           //  owned: SUBMIT's first frame (the crawl's options), durable only
    size_t submit_size;
    zhashx_t *resolve; //  owned: "host:port" or "*:port" -> s_resolve_t; NULL if no entries
};

//  The resolve entries one host's jobs carry (strings borrowed from the
//  crawl's options), in the spec's order.
typedef struct {
    const char **entries; //  owned array
    size_t count;
} s_resolve_t;

static void
s_apply_defaults (zc_crawl_opts_t *opts)
{
    if (opts->max_depth < 0)
        opts->max_depth = -1;
    //  impolite: no delay (unless one is given), Crawl-delay ignored (see
    //  zc_crawl_robots_done), high concurrency unless given
    if (opts->host_concurrency == 0)
        opts->host_concurrency =
            opts->impolite ? ZC_CRAWL_IMPOLITE_HOST_CONCURRENCY : ZC_CRAWL_DEFAULT_HOST_CONCURRENCY;
    if (opts->host_delay_ms == 0 && !opts->impolite)
        opts->host_delay_ms = ZC_CRAWL_DEFAULT_HOST_DELAY_MS;
    if (opts->crawl_delay_cap_ms == 0)
        opts->crawl_delay_cap_ms = ZC_CRAWL_DEFAULT_CRAWL_DELAY_CAP_MS;
    if (opts->robots_cache_ms == 0)
        opts->robots_cache_ms = ZC_CRAWL_DEFAULT_ROBOTS_CACHE_MS;
    if (opts->max_attempts == 0)
        opts->max_attempts = ZC_CRAWL_DEFAULT_MAX_ATTEMPTS;
    if (opts->retry_base_ms == 0)
        opts->retry_base_ms = ZC_CRAWL_DEFAULT_RETRY_BASE_MS;
    if (opts->fetch.connect_timeout_ms == 0)
        opts->fetch.connect_timeout_ms = ZC_CRAWL_DEFAULT_CONNECT_TIMEOUT_MS;
    if (opts->fetch.timeout_ms == 0)
        opts->fetch.timeout_ms = ZC_CRAWL_DEFAULT_TIMEOUT_MS;
    if (opts->fetch.max_body_bytes == 0)
        opts->fetch.max_body_bytes = ZC_CRAWL_DEFAULT_MAX_BODY_BYTES;
    if (opts->fetch.max_redirects == 0)
        opts->fetch.max_redirects = ZC_CRAWL_DEFAULT_MAX_REDIRECTS;
}

//  Returns a copy of STR ("" for NULL) kept until the crawl is destroyed.
static const char *
s_keep (zc_crawl_t *self, const char *str)
{
    self->strings = (char **)realloc (self->strings, (self->string_count + 1) * sizeof (char *));
    if (!self->strings) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    char *copy = zc_strdup (str ? str : "");
    self->strings[self->string_count++] = copy;
    return copy;
}

//  Deep-copies the string array *ARRAY of COUNT entries into SELF.
static void
s_keep_array (zc_crawl_t *self, const char ***array, size_t count)
{
    if (count == 0 || !*array) {
        *array = NULL;
        return;
    }
    const char **copy = (const char **)zmalloc (count * sizeof (char *));
    for (size_t i = 0; i < count; i++)
        copy[i] = s_keep (self, (*array)[i]);
    //  The array itself is one more string-sized allocation to free
    self->strings = (char **)realloc (self->strings, (self->string_count + 1) * sizeof (char *));
    if (!self->strings) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    self->strings[self->string_count++] = (char *)copy;
    *array = copy;
}

//  Makes SELF->opts independent of the SUBMIT message it came from.
static void
s_copy_opts (zc_crawl_t *self)
{
    zc_crawl_opts_t *opts = &self->opts;
    s_keep_array (self, &opts->fetch.headers, opts->fetch.header_count);
    s_keep_array (self, &opts->fetch.resolve, opts->fetch.resolve_count);
    s_keep_array (self, &opts->allowed_hosts, opts->allowed_host_count);
    s_keep_array (self, &opts->allowed_domains, opts->allowed_domain_count);
    s_keep_array (self, &opts->include, opts->include_count);
    s_keep_array (self, &opts->exclude, opts->exclude_count);
    if (opts->rule_count > 0 && opts->rules) {
        self->rules = (zc_extract_rule_t *)zmalloc (opts->rule_count * sizeof (zc_extract_rule_t));
        for (size_t i = 0; i < opts->rule_count; i++) {
            self->rules[i] = opts->rules[i];
            self->rules[i].name = s_keep (self, opts->rules[i].name);
            self->rules[i].selector = s_keep (self, opts->rules[i].selector);
            self->rules[i].attr = s_keep (self, opts->rules[i].attr);
            self->rules[i].regex = s_keep (self, opts->rules[i].regex);
        }
    }
    opts->rules = self->rules;
    if (!opts->rules)
        opts->rule_count = 0;
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
    if (streq (self->output, "-")) {
        //  Items on standard output: errors go to a file of their own
        self->errors = output_dir && *output_dir
                           ? zsys_sprintf ("%s/%s.errors.jsonl", output_dir, self->id)
                           : zsys_sprintf ("%s.errors.jsonl", self->id);
        assert (self->errors);
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
                                 bool check_scope);

//  Queues the crawl record (state, counters, durable output offsets) and
//  the per-host counts that changed (no-op for a memory-only crawl).
static void
s_store_record (zc_crawl_t *self)
{
    zc_record_crawl_t record = {.state = (uint32_t)self->state |
                                         (self->paused && !self->error ? ZC_RECORD_PAUSED : 0),
                                .started_ms = self->started_ms,
                                .elapsed_ms = self->elapsed_ms,
                                .items_offset = self->items_offset,
                                .errors_offset = self->errors_offset,
                                .pages = self->pages,
                                .failed = self->failed,
                                .admitted = self->admitted,
                                .next_seq = self->next_seq,
                                .output = self->output,
                                .errors = self->errors,
                                .submit = self->submit,
                                .submit_size = self->submit_size};
    zc_journal_put_crawl (self->journal, &record);
}

static void s_retries_clear (zc_crawl_t *self);
static void s_finish (zc_crawl_t *self, zc_crawl_state_t state, int64_t now_ms);

//  The frontier spaces dispatches to a host by the delay plus a margin (a
//  quarter of it, at least 10 ms, at most 50 ms): we control when a job
//  leaves, not when its request reaches the server, and the way there
//  (sockets, the fetcher's loop, connection set-up) varies from one job to
//  the next — by up to ~10 ms on this 2-core machine under a full parallel
//  build. Without the margin the server could see two requests slightly
//  closer than the delay it asked for.
static uint32_t
s_spacing_ms (uint32_t delay_ms)
{
    if (delay_ms == 0)
        return 0;
    uint32_t margin = delay_ms / 4;
    margin = margin < 10 ? 10 : margin > 50 ? 50 : margin;
    return delay_ms + margin;
}

//  --------------------------------------------------------------------------
//  Per-host resolve entries

static void
s_resolve_destroy (void **item_p)
{
    s_resolve_t *resolve = (s_resolve_t *)*item_p;
    if (resolve) {
        free (resolve->entries);
        free (resolve);
    }
    *item_p = NULL;
}

//  Writes the key of resolve entry ENTRY, "[+]HOST:PORT:ADDRESS", into KEY
//  (SIZE bytes): "host:port", HOST lower-cased as in zc_url_host_key and
//  PORT in plain decimal ("*:port" for curl's wildcard host). Returns 0,
//  or -1 if ENTRY does not have that form.
static int
s_resolve_key (const char *entry, char *key, size_t size)
{
    if (*entry == '+') //  curl's "time out this entry" mark
        entry++;
    const char *colon = strchr (entry, ':');
    if (!colon || colon == entry || (size_t)(colon - entry) >= size)
        return -1;
    const char *p = colon + 1;
    unsigned long port = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9' && port <= 65535)
        port = port * 10 + (unsigned long)(*p++ - '0');
    if (*p != ':' || port == 0 || port > 65535)
        return -1;
    size_t host_length = (size_t)(colon - entry);
    for (size_t i = 0; i < host_length; i++)
        key[i] = (char)tolower ((unsigned char)entry[i]);
    int n = snprintf (key + host_length, size - host_length, ":%lu", port);
    return n > 0 && (size_t)n < size - host_length ? 0 : -1;
}

//  The port part of KEY ("host:port"): what follows its last colon.
static const char *
s_key_port (const char *key)
{
    const char *colon = strrchr (key, ':');
    return colon ? colon + 1 : "";
}

//  Indexes the crawl's resolve entries by host key, once per crawl: each
//  job then carries only its own host's entries (a broad crawl may map
//  thousands of hosts). An entry of host "*" (curl's wildcard, used for
//  names no other entry has) goes with every host of its port.
static void
s_resolve_index (zc_crawl_t *self)
{
    const zc_fetch_opts_t *fetch = &self->opts.fetch;
    size_t count = fetch->resolve ? fetch->resolve_count : 0;
    if (count == 0)
        return;
    self->resolve = zhashx_new ();
    zhashx_set_destructor (self->resolve, s_resolve_destroy);
    //  KEYS: entry I's key at I * ZC_CRAWL_HOST_KEY_MAX, "" if unusable
    char *keys = (char *)zc_malloc (count * ZC_CRAWL_HOST_KEY_MAX);
    for (size_t i = 0; i < count; i++) {
        char *key = keys + i * ZC_CRAWL_HOST_KEY_MAX;
        if (s_resolve_key (fetch->resolve[i], key, ZC_CRAWL_HOST_KEY_MAX) != 0) {
            zsys_warning ("zc_broker: crawl %s: resolve entry '%.200s' is not "
                          "HOST:PORT:ADDRESS; ignored",
                          self->id, fetch->resolve[i]);
            key[0] = 0;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const char *key = keys + i * ZC_CRAWL_HOST_KEY_MAX;
        if (!key[0] || zhashx_lookup (self->resolve, key))
            continue;
        //  KEY's entries, in spec order: its own, and the wildcards of its
        //  port (for a wildcard key: just those)
        const char *port = s_key_port (key);
        s_resolve_t *resolve = (s_resolve_t *)zmalloc (sizeof (s_resolve_t));
        resolve->entries = (const char **)zc_malloc (count * sizeof (char *));
        for (size_t j = 0; j < count; j++) {
            const char *other = keys + j * ZC_CRAWL_HOST_KEY_MAX;
            if (other[0] && (streq (other, key) ||
                             (strncmp (other, "*:", 2) == 0 && streq (s_key_port (other), port))))
                resolve->entries[resolve->count++] = fetch->resolve[j];
        }
        int rc = zhashx_insert (self->resolve, key, resolve);
        assert (rc == 0);
    }
    free (keys);
}

void
zc_crawl_resolve (zc_crawl_t *self, const char *host_key, const char ***entries, size_t *count)
{
    assert (self);
    assert (entries);
    assert (count);
    *entries = NULL;
    *count = 0;
    if (!self->resolve || !host_key)
        return;
    s_resolve_t *resolve = (s_resolve_t *)zhashx_lookup (self->resolve, host_key);
    if (!resolve) {
        //  No entry of its own: the wildcards of its port, if any
        char key[ZC_CRAWL_HOST_KEY_MAX];
        int n = snprintf (key, sizeof key, "*:%s", s_key_port (host_key));
        if (n > 0 && (size_t)n < sizeof key)
            resolve = (s_resolve_t *)zhashx_lookup (self->resolve, key);
    }
    if (resolve) {
        *entries = resolve->entries;
        *count = resolve->count;
    }
}

//  Creates crawl ID's options, scope, seen set and frontier from SUBMIT
//  (borrowed; its seeds give the default scope). Returns NULL with *ERROR
//  set if they are unusable.
static zc_crawl_t *
s_create (const char *id, const zc_submit_t *submit, const zc_crawl_durable_t *durable,
          int64_t now_ms, char **error)
{
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
    zc_journal_config_t journal_config = {.crawl_id = id};
    if (durable) {
        journal_config.store = durable->store;
        journal_config.crawl_no = durable->crawl_no;
        journal_config.memory_urls = durable->memory_urls;
        journal_config.seen_bytes = durable->seen_bytes;
    }
    self->journal = zc_journal_new (&journal_config);
    self->opts = submit->opts;
    s_apply_defaults (&self->opts);
    self->user_agent =
        zc_strdup (submit->opts.fetch.user_agent ? submit->opts.fetch.user_agent : "");
    self->opts.fetch.user_agent = self->user_agent;
    s_copy_opts (self);
    s_resolve_index (self);
    zc_robots_cache_config_t robots_config = {.user_agent = self->user_agent,
                                              .default_token = ZC_CRAWL_DEFAULT_ROBOTS_TOKEN,
                                              .cache_ms = self->opts.robots_cache_ms,
                                              .max_attempts = self->opts.max_attempts};
    self->robots = zc_robots_cache_new (&robots_config);
    zc_frontier_config_t frontier_config = {.host_concurrency = self->opts.host_concurrency,
                                            .host_delay_ms =
                                                s_spacing_ms (self->opts.host_delay_ms)};
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
    for (size_t i = 0; i < submit->seed_count; i++)
        free (seeds[i]);
    free (seeds);
    if (*error)
        zc_crawl_destroy (&self);
    return self;
}

//  Keeps SUBMIT's encoding: a durable crawl's record carries its options.
static void
s_keep_submit (zc_crawl_t *self, const zc_submit_t *submit)
{
    zc_msg_t msg = {.type = ZC_MSG_SUBMIT, .submit = *submit};
    zmsg_t *zmsg = zc_msg_encode (&msg);
    zframe_t *frame = zmsg_first (zmsg);
    self->submit_size = zframe_size (frame);
    self->submit = zc_malloc (self->submit_size ? self->submit_size : 1);
    memcpy (self->submit, zframe_data (frame), self->submit_size);
    zmsg_destroy (&zmsg);
}

zc_crawl_t *
zc_crawl_new (const char *id, const zc_submit_t *submit, const char *output_dir,
              const zc_crawl_durable_t *durable, int64_t now_ms, char **error)
{
    assert (id);
    assert (submit);
    assert (error);
    zc_crawl_t *self = s_create (id, submit, durable, now_ms, error);
    if (!self)
        return NULL;
    s_paths (self, submit, output_dir);
    char reason[512];
    //  A durable crawl appending to an existing file vouches for nothing
    //  of what was there: its offsets start at the current sizes
    self->sink = zc_sink_open_at (self->output, self->errors, self->id, UINT64_MAX, UINT64_MAX,
                                  reason, sizeof reason);
    if (!self->sink || (zc_journal_durable (self->journal) &&
                        zc_sink_sync (self->sink, &self->items_offset, &self->errors_offset))) {
        *error = self->sink
                     ? zsys_sprintf ("cannot sync output '%s': %s", self->output, strerror (errno))
                     : zc_strdup (reason);
        zc_crawl_destroy (&self);
        return NULL;
    }
    zc_sink_set_rules (self->sink, self->opts.rules, self->opts.rule_count);
    if (zc_journal_durable (self->journal))
        s_keep_submit (self, submit);
    //  Seeds are fetched even if the scope rules would drop them (the
    //  operator named them); the rules apply to what they lead to
    for (size_t i = 0; i < submit->seed_count; i++) {
        zc_url_status_t status;
        char *seed = zc_url_canonical (submit->seeds[i], &status);
        zc_scope_verdict_t verdict = zc_scope_check (self->scope, seed, 0);
        if (verdict != ZC_SCOPE_OK)
            zsys_info ("zc_broker: crawl %s: seed %s is fetched although out of scope (%s)",
                       self->id, seed, zc_scope_verdict_str (verdict));
        (void)s_admit (self, seed, 0, false);
        free (seed);
    }
    s_store_record (self);
    return self;
}

zc_crawl_t *
zc_crawl_restore (const char *id, const zc_record_crawl_t *record,
                  const zc_crawl_durable_t *durable, int64_t now_ms, char **error)
{
    assert (id);
    assert (record);
    assert (durable && durable->store);
    assert (error);
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addmem (zmsg, record->submit, record->submit_size);
    zc_msg_t *msg = zc_msg_decode (&zmsg, NULL);
    if (!msg || msg->type != ZC_MSG_SUBMIT) {
        zc_msg_destroy (&msg);
        *error = zsys_sprintf ("crawl %s: its stored options are unreadable", id);
        return NULL;
    }
    bool paused = (record->state & ZC_RECORD_PAUSED) != 0;
    uint32_t state = record->state & ~(uint32_t)ZC_RECORD_PAUSED;
    zc_crawl_durable_t own = *durable;
    own.crawl_no = record->crawl_no;
    if (state != ZC_CRAWL_RUNNING)
        own.store = NULL; //  finished: nothing more to write
    zc_crawl_t *self = s_create (id, &msg->submit, &own, now_ms, error);
    if (self)
        s_keep_submit (self, &msg->submit);
    zc_msg_destroy (&msg);
    if (!self)
        return NULL;
    self->output = zc_strdup (record->output);
    self->errors = zc_strdup (record->errors);
    self->started_ms = record->started_ms;
    self->elapsed_ms = record->elapsed_ms;
    self->items_offset = record->items_offset;
    self->errors_offset = record->errors_offset;
    self->pages = record->pages;
    self->failed = record->failed;
    self->admitted = record->admitted;
    self->next_seq = record->next_seq;
    if (state != ZC_CRAWL_RUNNING) {
        //  Finished: only its counters matter (for STATUS)
        self->state = state == ZC_CRAWL_DONE ? ZC_CRAWL_DONE : ZC_CRAWL_STOPPED;
        s_finish (self, self->state, self->started_ms + self->elapsed_ms);
        return self;
    }
    char reason[512];
    self->sink = zc_sink_open_at (self->output, self->errors, self->id, self->items_offset,
                                  self->errors_offset, reason, sizeof reason);
    if (!self->sink) {
        *error = zsys_sprintf ("crawl %s: %s", id, reason);
        zc_crawl_destroy (&self);
        return NULL;
    }
    zc_sink_set_rules (self->sink, self->opts.rules, self->opts.rule_count);
    uint64_t pending, in_ram;
    if (zc_journal_restore (self->journal, self->frontier, self->opts.max_pages_per_host > 0,
                            &pending, &in_ram) != 0) {
        *error = zsys_sprintf ("crawl %s: cannot read its state from the store", id);
        zc_crawl_destroy (&self);
        return NULL;
    }
    self->paused = paused; //  by the operator: it stays paused
    zsys_info ("zc_broker: crawl %s resumed: %" PRIu64 " pages and %" PRIu64
               " errors written, %" PRIu64 " URLs admitted, %" PRIu64 " pending (%" PRIu64
               " in RAM)",
               id, self->pages, self->failed, self->admitted, pending, in_ram);
    return self;
}

int
zc_crawl_checkpoint (zc_crawl_t *self, char **error)
{
    assert (self);
    assert (error);
    *error = NULL;
    if (!zc_journal_durable (self->journal) || self->state != ZC_CRAWL_RUNNING || !self->sink ||
        !zc_journal_dirty (self->journal))
        return 0;
    if (zc_sink_sync (self->sink, &self->items_offset, &self->errors_offset) != 0) {
        *error = zsys_sprintf ("cannot write the output of crawl %s (%s): %s", self->id,
                               self->output, strerror (errno));
        return -1;
    }
    s_store_record (self);
    zc_journal_clean (self->journal);
    return 0;
}

size_t
zc_crawl_committed (zc_crawl_t *self)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return 0;
    return zc_journal_committed (self->journal, self->frontier);
}

uint32_t
zc_crawl_number (zc_crawl_t *self)
{
    assert (self);
    return zc_journal_number (self->journal);
}

void
zc_crawl_pause (zc_crawl_t *self, const char *error)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    self->paused = true;
    free (self->error);
    self->error = error ? zc_strdup (error) : NULL;
    zc_journal_touch (self->journal); //  an operator's pause is part of the record
}

void
zc_crawl_resume (zc_crawl_t *self)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    self->paused = false;
    free (self->error);
    self->error = NULL;
    zc_journal_touch (self->journal);
}

bool
zc_crawl_paused (zc_crawl_t *self)
{
    assert (self);
    return self->state == ZC_CRAWL_RUNNING && self->paused;
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
    zc_journal_destroy (&self->journal);
    zc_scope_destroy (&self->scope);
    zc_robots_cache_destroy (&self->robots);
    s_retries_clear (self);
    zhashx_destroy (&self->resolve);
    for (size_t i = 0; i < self->string_count; i++)
        free (self->strings[i]);
    free (self->strings);
    free (self->rules);
    free (self->id);
    free (self->error);
    free (self->submit);
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

//  Admits URL; CHECK_SCOPE false for seeds.
static zc_crawl_admit_t
s_admit (zc_crawl_t *self, const char *url, uint32_t depth, bool check_scope)
{
    if (self->state != ZC_CRAWL_RUNNING)
        return ZC_CRAWL_INACTIVE;
    char host_key[ZC_CRAWL_HOST_KEY_MAX];
    if (!url || strlen (url) > ZC_URL_MAX_BYTES)
        return ZC_CRAWL_BAD_URL;
    //  The seen-set probe is a cache miss in a big crawl: start it now,
    //  let the host key and the scope rules run meanwhile
    uint64_t fp = zc_url_fingerprint (url);
    zc_journal_seen_prefetch (self->journal, fp);
    if (zc_url_host_key (url, host_key, sizeof host_key) != 0)
        return ZC_CRAWL_BAD_URL;
    zc_scope_verdict_t verdict =
        check_scope ? zc_scope_check (self->scope, url, depth) : ZC_SCOPE_OK;
    if (verdict != ZC_SCOPE_OK) {
        self->dropped[verdict]++;
        return verdict == ZC_SCOPE_DEPTH ? ZC_CRAWL_DEPTH : ZC_CRAWL_SCOPE;
    }
    if (zc_journal_seen (self->journal, fp))
        return ZC_CRAWL_SEEN;
    if (self->opts.max_pages > 0 && self->admitted >= self->opts.max_pages)
        return ZC_CRAWL_LIMIT;
    if (self->opts.max_pages_per_host > 0) {
        if (zc_journal_host_pages (self->journal, host_key) >= self->opts.max_pages_per_host)
            return ZC_CRAWL_HOST_LIMIT;
        zc_journal_host_pages_add (self->journal, host_key);
    }
    zc_journal_seen_add (self->journal, fp);
    uint64_t seq = ++self->next_seq;
    zc_journal_pending (self->journal, seq, url, NULL, depth, 1, 0);
    zc_frontier_entry_t entry = {
        .url = (char *)url, .host_key = host_key, .depth = depth, .attempt = 1, .seq = seq};
    zc_journal_enqueue (self->journal, self->frontier, &entry);
    self->admitted++;
    return ZC_CRAWL_ADMITTED;
}

zc_crawl_admit_t
zc_crawl_admit (zc_crawl_t *self, const char *url, uint32_t depth)
{
    assert (self);
    return s_admit (self, url, depth, true);
}

zc_crawl_admit_t
zc_crawl_continue (zc_crawl_t *self, const char *url, const char *origin, uint32_t depth,
                   uint32_t redirects, uint64_t seq)
{
    assert (self);
    assert (origin);
    if (self->state != ZC_CRAWL_RUNNING)
        return ZC_CRAWL_INACTIVE;
    char host_key[ZC_CRAWL_HOST_KEY_MAX];
    if (!url || strlen (url) > ZC_URL_MAX_BYTES ||
        zc_url_host_key (url, host_key, sizeof host_key) != 0)
        return ZC_CRAWL_BAD_URL;
    //  Scope without the depth rule: the chain inherits an admitted depth
    zc_scope_verdict_t verdict = zc_scope_check (self->scope, url, 0);
    if (verdict != ZC_SCOPE_OK) {
        self->dropped[verdict]++;
        return ZC_CRAWL_SCOPE;
    }
    uint64_t fp = zc_url_fingerprint (url);
    if (zc_journal_seen (self->journal, fp))
        return ZC_CRAWL_SEEN;
    zc_journal_seen_add (self->journal, fp);
    zc_journal_pending (self->journal, seq, url, origin, depth, 1, redirects);
    zc_frontier_entry_t entry = {.url = (char *)url,
                                 .host_key = host_key,
                                 .depth = depth,
                                 .attempt = 1,
                                 .redirects = redirects,
                                 .origin = (char *)origin,
                                 .seq = seq};
    zc_frontier_push_item (self->frontier, &entry, false);
    return ZC_CRAWL_ADMITTED;
}

void
zc_crawl_mark_seen (zc_crawl_t *self, const char *url)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING || !url)
        return;
    zc_url_status_t status;
    char *canonical = zc_url_canonical (url, &status);
    if (canonical)
        zc_journal_seen_add (self->journal, zc_url_fingerprint (canonical));
    free (canonical);
}

//  --------------------------------------------------------------------------
//  Retry heap: jobs waiting for their next attempt, earliest due first

static bool
s_retry_before (const s_retry_t *a, const s_retry_t *b)
{
    return a->due_ms != b->due_ms ? a->due_ms < b->due_ms : a->order < b->order;
}

static void
s_retry_push (zc_crawl_t *self, zc_job_kind_t kind, const char *url, const char *host_key,
              uint32_t depth, uint32_t attempt, uint32_t redirects, const char *origin,
              uint64_t seq, int64_t due_ms)
{
    if (self->retry_count == self->retry_capacity) {
        self->retry_capacity = self->retry_capacity ? self->retry_capacity * 2 : 16;
        self->retries =
            (s_retry_t **)realloc (self->retries, self->retry_capacity * sizeof (s_retry_t *));
        if (!self->retries) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    s_retry_t *retry = (s_retry_t *)zmalloc (sizeof (s_retry_t));
    *retry = (s_retry_t){.due_ms = due_ms,
                         .order = self->retry_seq++,
                         .seq = seq,
                         .kind = kind,
                         .url = zc_strdup (url),
                         .host_key = zc_strdup (host_key),
                         .depth = depth,
                         .attempt = attempt,
                         .redirects = redirects,
                         .origin = origin && *origin ? zc_strdup (origin) : NULL};
    size_t index = self->retry_count++;
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!s_retry_before (retry, self->retries[parent]))
            break;
        self->retries[index] = self->retries[parent];
        index = parent;
    }
    self->retries[index] = retry;
}

//  Removes and returns the earliest retry (caller owns it).
static s_retry_t *
s_retry_pop (zc_crawl_t *self)
{
    assert (self->retry_count > 0);
    s_retry_t *top = self->retries[0];
    s_retry_t *last = self->retries[--self->retry_count];
    size_t index = 0;
    while (self->retry_count > 0) {
        size_t child = 2 * index + 1;
        if (child >= self->retry_count)
            break;
        if (child + 1 < self->retry_count &&
            s_retry_before (self->retries[child + 1], self->retries[child]))
            child++;
        if (!s_retry_before (self->retries[child], last))
            break;
        self->retries[index] = self->retries[child];
        index = child;
    }
    if (self->retry_count > 0)
        self->retries[index] = last;
    return top;
}

static void
s_retry_destroy (s_retry_t **retry_p)
{
    s_retry_t *retry = *retry_p;
    if (!retry)
        return;
    free (retry->url);
    free (retry->host_key);
    free (retry->origin);
    free (retry);
    *retry_p = NULL;
}

static void
s_retries_clear (zc_crawl_t *self)
{
    for (size_t i = 0; i < self->retry_count; i++)
        s_retry_destroy (&self->retries[i]);
    free (self->retries);
    self->retries = NULL;
    self->retry_count = self->retry_capacity = 0;
}

//  --------------------------------------------------------------------------
//  robots.txt

//  Writes an error line (reason "robots") for a URL that will not be
//  fetched (a continuation: under its origin, the target as location);
//  ENTRY is cleared.
static void
s_robots_error (zc_crawl_t *self, zc_frontier_entry_t *entry, const char *detail, int64_t now_ms)
{
    zc_sink_error_t error = {.url = entry->origin ? entry->origin : entry->url,
                             .reason = "robots",
                             .detail = detail,
                             .location = entry->origin ? entry->url : NULL,
                             .attempts = entry->attempt - 1, //  tries actually made
                             .depth = entry->depth,
                             .at_ms = (uint64_t)now_ms};
    zc_crawl_write_error (self, entry->seq, &error);
    zc_frontier_entry_clear (entry);
}

//  Fills OUT with a robots job for HOST_KEY (from URL) and counts it in
//  flight: the host is held until the outcome and the request counts as a
//  start for its delay. Returns -1 if URL has no usable authority.
static int
s_robots_start (zc_crawl_t *self, const char *url, const char *host_key, uint32_t attempt,
                int64_t now_ms, zc_crawl_job_t *out)
{
    char *robots_url = zc_robots_cache_start (self->robots, host_key, url);
    if (!robots_url)
        return -1;
    zc_frontier_hold (self->frontier, host_key, true);
    zc_frontier_start (self->frontier, host_key, now_ms);
    *out = (zc_crawl_job_t){.kind = ZC_JOB_ROBOTS,
                            .url = robots_url,
                            .host_key = zc_strdup (host_key),
                            .attempt = attempt};
    self->in_flight++;
    return 0;
}

//  Moves due page retries to the head of their host's queue; returns the
//  first due robots retry (caller owns it), or NULL.
static s_retry_t *
s_due_retries (zc_crawl_t *self, int64_t now_ms)
{
    while (self->retry_count > 0 && self->retries[0]->due_ms <= now_ms) {
        s_retry_t *retry = s_retry_pop (self);
        if (retry->kind == ZC_JOB_ROBOTS)
            return retry;
        zc_frontier_entry_t entry = {.url = retry->url,
                                     .host_key = retry->host_key,
                                     .depth = retry->depth,
                                     .attempt = retry->attempt,
                                     .redirects = retry->redirects,
                                     .origin = retry->origin,
                                     .seq = retry->seq};
        zc_frontier_push_item (self->frontier, &entry, true);
        s_retry_destroy (&retry);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Dispatch and outcomes

void
zc_crawl_job_clear (zc_crawl_job_t *job)
{
    if (!job)
        return;
    free (job->url);
    free (job->host_key);
    free (job->origin);
    memset (job, 0, sizeof *job);
}

int
zc_crawl_pop (zc_crawl_t *self, int64_t now_ms, zc_crawl_job_t *out)
{
    assert (self);
    assert (out);
    if (self->state != ZC_CRAWL_RUNNING || self->paused)
        return -1;
    s_retry_t *robots_retry = s_due_retries (self, now_ms);
    if (robots_retry) {
        int rc = s_robots_start (self, robots_retry->url, robots_retry->host_key,
                                 robots_retry->attempt, now_ms, out);
        s_retry_destroy (&robots_retry);
        if (rc == 0)
            return 0;
    }
    const char *url, *host_key;
    while (zc_frontier_peek (self->frontier, now_ms, &url, &host_key) == 0) {
        bool check_robots = !self->opts.ignore_robots;
        if (check_robots && zc_robots_cache_needs_fetch (self->robots, host_key, now_ms) &&
            s_robots_start (self, url, host_key, 1, now_ms, out) == 0)
            return 0;
        zc_frontier_entry_t entry;
        const char *failure =
            check_robots ? zc_robots_cache_failure (self->robots, host_key) : NULL;
        if (failure) {
            char *key = zc_strdup (host_key);
            if (zc_frontier_drop (self->frontier, key, &entry) == 0)
                s_robots_error (self, &entry, failure, now_ms);
            free (key);
            continue;
        }
        if (check_robots && !zc_robots_cache_allowed (self->robots, host_key, url)) {
            char *key = zc_strdup (host_key);
            if (zc_frontier_drop (self->frontier, key, &entry) == 0)
                s_robots_error (self, &entry, "disallowed by robots.txt", now_ms);
            free (key);
            continue;
        }
        int rc = zc_frontier_pop (self->frontier, now_ms, &entry);
        assert (rc == 0); //  peek said so
        *out = (zc_crawl_job_t){.kind = ZC_JOB_PAGE,
                                .url = entry.url,
                                .host_key = entry.host_key,
                                .depth = entry.depth,
                                .attempt = entry.attempt,
                                .redirects = entry.redirects,
                                .origin = entry.origin,
                                .seq = entry.seq};
        self->in_flight++;
        return 0;
    }
    return -1;
}

int64_t
zc_crawl_next_ready_ms (zc_crawl_t *self)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING || self->paused)
        return -1;
    int64_t next = zc_frontier_next_ready_ms (self->frontier);
    if (self->retry_count > 0 && (next < 0 || self->retries[0]->due_ms < next))
        next = self->retries[0]->due_ms;
    return next;
}

void
zc_crawl_job_ended (zc_crawl_t *self, zc_job_kind_t kind, const char *host_key, int64_t now_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (kind == ZC_JOB_PAGE && zc_frontier_done (self->frontier, host_key, now_ms) != 0)
        zsys_error ("zc_broker: crawl %s: no URL of %s in flight", self->id, host_key);
    if (self->in_flight > 0)
        self->in_flight--;
}

void
zc_crawl_requeue (zc_crawl_t *self, const zc_crawl_job_t *job, int64_t now_ms)
{
    assert (self);
    assert (job);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    zc_crawl_job_ended (self, job->kind, job->host_key, now_ms);
    if (job->kind == ZC_JOB_PAGE) {
        zc_frontier_entry_t entry = {.url = job->url,
                                     .host_key = job->host_key,
                                     .depth = job->depth,
                                     .attempt = job->attempt,
                                     .redirects = job->redirects,
                                     .origin = job->origin,
                                     .seq = job->seq};
        zc_frontier_push_item (self->frontier, &entry, true);
    } else
        s_retry_push (self, ZC_JOB_ROBOTS, job->url, job->host_key, 0, job->attempt, 0, NULL, 0,
                      now_ms);
}

void
zc_crawl_retry (zc_crawl_t *self, const zc_crawl_job_t *job, int64_t due_ms)
{
    assert (self);
    assert (job);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    s_retry_push (self, ZC_JOB_PAGE, job->url, job->host_key, job->depth, job->attempt,
                  job->redirects, job->origin, job->seq, due_ms);
    //  The attempt number survives a restart
    zc_journal_pending (self->journal, job->seq, job->url, job->origin, job->depth, job->attempt,
                        job->redirects);
}

void
zc_crawl_host_failed (zc_crawl_t *self, const char *host_key, int64_t now_ms,
                      uint32_t retry_after_ms)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    //  Adaptive back-off is politeness: --impolite (one's own site) skips
    //  it, but a server's explicit Retry-After is always honoured
    if (!self->opts.impolite)
        zc_frontier_backoff (self->frontier, host_key, now_ms);
    if (retry_after_ms > 0)
        zc_frontier_defer (self->frontier, host_key, now_ms + (int64_t)retry_after_ms);
}

uint32_t
zc_crawl_host_spacing (zc_crawl_t *self, const char *host_key)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return 0;
    int64_t delay = zc_frontier_host_delay (self->frontier, host_key);
    return delay > 0 && delay <= UINT32_MAX ? (uint32_t)delay : 0;
}

void
zc_crawl_host_ok (zc_crawl_t *self, const char *host_key)
{
    assert (self);
    if (self->state == ZC_CRAWL_RUNNING)
        zc_frontier_success (self->frontier, host_key);
}

int64_t
zc_crawl_backoff_ms (zc_crawl_t *self, uint32_t attempt, double jitter)
{
    assert (self);
    double delay = (double)self->opts.retry_base_ms * jitter;
    for (uint32_t i = 1; i < attempt && delay < ZC_CRAWL_MAX_BACKOFF_MS; i++)
        delay *= 2;
    return delay < ZC_CRAWL_MAX_BACKOFF_MS ? (int64_t)delay : ZC_CRAWL_MAX_BACKOFF_MS;
}

//  robots.txt of HOST_KEY stays unavailable: every URL of the host ends.
static void
s_robots_fail (zc_crawl_t *self, const char *host_key, int64_t now_ms)
{
    const char *failure = zc_robots_cache_failure (self->robots, host_key);
    assert (failure);
    zsys_info ("zc_broker: crawl %s: %s for %s; its URLs are given up", self->id, failure,
               host_key);
    zc_frontier_entry_t entry;
    while (zc_frontier_drop (self->frontier, host_key, &entry) == 0)
        s_robots_error (self, &entry, failure, now_ms);
    zc_frontier_hold (self->frontier, host_key, false);
}

//  Applies the Crawl-delay of HOST_KEY's new rules (capped; only if longer
//  than the crawl's own delay; ignored when impolite).
static void
s_robots_crawl_delay (zc_crawl_t *self, const char *host_key)
{
    int64_t crawl_delay = zc_robots_cache_crawl_delay_ms (self->robots, host_key);
    if (crawl_delay >= 0 && !self->opts.impolite) {
        int64_t delay = crawl_delay < (int64_t)self->opts.crawl_delay_cap_ms
                            ? crawl_delay
                            : (int64_t)self->opts.crawl_delay_cap_ms;
        if (delay > (int64_t)self->opts.host_delay_ms)
            zc_frontier_set_delay (self->frontier, host_key, s_spacing_ms ((uint32_t)delay));
    }
}

void
zc_crawl_robots_done (zc_crawl_t *self, const char *host_key, uint32_t attempt,
                      const zc_robots_t *outcome, int64_t now_ms, int64_t retry_at_ms)
{
    assert (self);
    assert (outcome);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (self->in_flight > 0)
        self->in_flight--;
    switch (zc_robots_cache_outcome (self->robots, host_key, attempt, outcome, now_ms)) {
    case ZC_ROBOTS_CACHE_IGNORED:
        return;
    case ZC_ROBOTS_CACHE_RETRY: {
        //  5xx or unreachable: the host stays held until the next attempt
        char *url = zsys_sprintf ("%s", outcome->url ? outcome->url : "");
        s_retry_push (self, ZC_JOB_ROBOTS, url, host_key, 0, attempt + 1, 0, NULL, 0, retry_at_ms);
        free (url);
        return;
    }
    case ZC_ROBOTS_CACHE_GAVE_UP:
        s_robots_fail (self, host_key, now_ms);
        return;
    case ZC_ROBOTS_CACHE_CACHED:
        break;
    }
    s_robots_crawl_delay (self, host_key);
    //  The first page waits the delay from the robots.txt response, not
    //  from its dispatch: the server saw that request start later than we
    //  sent it (new connection), and a gap measured there must hold too
    zc_frontier_start (self->frontier, host_key, now_ms);
    zc_frontier_hold (self->frontier, host_key, false);
}

//  A line that fails to be written is not counted; its pending record is
//  deleted anyway: a durable crawl then fails its checkpoint and the
//  broker reloads it from the last commit, where the record still exists.
void
zc_crawl_write_item (zc_crawl_t *self, uint64_t seq, const zc_result_t *result)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (zc_sink_write_item (self->sink, result) == 0)
        self->pages++;
    zc_journal_done (self->journal, seq);
}

void
zc_crawl_write_error (zc_crawl_t *self, uint64_t seq, const zc_sink_error_t *error)
{
    assert (self);
    if (self->state != ZC_CRAWL_RUNNING)
        return;
    if (zc_sink_write_error (self->sink, error) == 0)
        self->failed++;
    zc_journal_done (self->journal, seq);
}

int
zc_crawl_flush (zc_crawl_t *self)
{
    assert (self);
    return self->sink ? zc_sink_flush (self->sink) : 0;
}

//  Leaves the running state: frees what only a running crawl needs.
static void
s_finish (zc_crawl_t *self, zc_crawl_state_t state, int64_t now_ms)
{
    self->state = state;
    self->elapsed_ms = now_ms - self->started_ms;
    self->in_flight = 0;
    self->paused = false;
    if (zc_journal_durable (self->journal)) {
        //  The final record: if the output cannot be synced the commit
        //  must not happen either (the broker's next checkpoint of a
        //  running crawl would not cover this one), so it is logged and
        //  the offsets stay those of the last checkpoint: on a restart the
        //  crawl is done with what was durable then.
        if (self->sink && zc_sink_sync (self->sink, &self->items_offset, &self->errors_offset) != 0)
            zsys_error ("zc_broker: crawl %s: cannot sync its output: %s", self->id,
                        strerror (errno));
        s_store_record (self);
    }
    zc_journal_finish (self->journal);
    zc_sink_destroy (&self->sink); //  flushes and closes
    zc_frontier_destroy (&self->frontier);
    zc_robots_cache_destroy (&self->robots);
    s_retries_clear (self);
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
        zc_frontier_queued (self->frontier) > 0 || self->retry_count > 0 ||
        zc_journal_spilled (self->journal) > 0)
        return false;
    //  A durable crawl is done only with its whole output on disk: if that
    //  fails it stays running, and the broker's next commit finds the
    //  failure and rolls it back to the last commit
    uint64_t items_offset, errors_offset;
    if (zc_crawl_number (self) && self->sink &&
        zc_sink_sync (self->sink, &items_offset, &errors_offset) != 0)
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
    uint64_t dropped = zc_frontier_queued (self->frontier) + self->retry_count +
                       zc_journal_spilled (self->journal);
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
        .state = running && self->paused ? "paused" : zc_crawl_state_str (self->state),
        .error = self->error ? self->error : "",
        .output = self->output,
        .errors = self->errors,
        .pages = self->pages,
        .failed = self->failed,
        .queued = running ? zc_frontier_queued (self->frontier) + self->retry_count +
                                zc_journal_spilled (self->journal)
                          : 0,
        .in_flight = self->in_flight,
        .started_ms = (uint64_t)self->started_ms,
        .elapsed_ms = (uint64_t)(running ? now_ms - self->started_ms : self->elapsed_ms),
    };
}
