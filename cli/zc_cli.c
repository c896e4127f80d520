/*  zc_cli — shared pieces of zcrawl and zcrawlctl; see zc_cli.h.

    The control client is a plain DEALER doing request/reply with a
    deadline: the broker answers every well-formed request exactly once, so
    one outstanding request per call is enough.
*/
#include "zc_cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zc_url.h"
#include "zc_util.h"

//  One repeatable flag as given (value borrowed from argv).
typedef struct {
    int opt;
    const char *value;
} flag_value_t;

static_assert (ZC_CLI_OPT_END - ZC_CLI_CRAWL_OPTION_BASE <= 64, "zc_cli_crawl_t.given too small");

void
zc_cli_crawl_init (zc_cli_crawl_t *crawl)
{
    *crawl = (zc_cli_crawl_t){
        .output = "",
        .errors = "",
        .opts = {.max_depth = -1, .fetch = {.user_agent = ""}},
        .flag_values = zlist_new (),
        .owned = zlist_new (),
    };
    assert (crawl->flag_values && crawl->owned);
}

void
zc_cli_crawl_fini (zc_cli_crawl_t *crawl)
{
    free (crawl->seeds);
    crawl->seeds = NULL;
    crawl->seed_count = 0;
    zlist_t *lists[] = {crawl->flag_values, crawl->owned};
    for (size_t i = 0; i < 2; i++) {
        void *block;
        while (lists[i] && (block = zlist_pop (lists[i])))
            free (block);
        zlist_destroy (&lists[i]);
    }
    crawl->flag_values = crawl->owned = NULL;
    zc_spec_destroy (&crawl->spec);
}

int
zc_cli_crawl_add_seed (zc_cli_crawl_t *crawl, const char *seed)
{
    zc_url_status_t status;
    char *canonical = zc_url_canonical (seed, &status);
    if (!canonical) {
        fprintf (stderr, "error: seed '%s' is not a usable http(s) URL: %s\n", seed,
                 zc_url_status_str (status));
        return -1;
    }
    free (canonical);
    const char **grown = realloc (crawl->seeds, (crawl->seed_count + 1) * sizeof *grown);
    assert (grown);
    crawl->seeds = grown;
    crawl->seeds[crawl->seed_count++] = seed;
    return 0;
}

static int
s_set_spec (zc_cli_crawl_t *crawl, const char *path)
{
    if (crawl->spec_path) {
        fprintf (stderr, "error: more than one crawl spec ('%s' and '%s')\n", crawl->spec_path,
                 path);
        return -1;
    }
    crawl->spec_path = path;
    return 0;
}

static bool
s_ends_with (const char *text, const char *suffix)
{
    size_t length = strlen (text), suffix_length = strlen (suffix);
    return length > suffix_length && strcmp (text + length - suffix_length, suffix) == 0;
}

int
zc_cli_crawl_add_argument (zc_cli_crawl_t *crawl, const char *arg)
{
    if (s_ends_with (arg, ".yaml") || s_ends_with (arg, ".yml"))
        return s_set_spec (crawl, arg);
    return zc_cli_crawl_add_seed (crawl, arg);
}

static bool
s_given (const zc_cli_crawl_t *crawl, int opt)
{
    return crawl->given[opt - ZC_CLI_CRAWL_OPTION_BASE];
}

static void *
s_own (zc_cli_crawl_t *crawl, void *block)
{
    zlist_append (crawl->owned, block);
    return block;
}

//  BASE's COUNT strings followed by the values of flag OPT, into *ITEMS.
static void
s_merge_list (zc_cli_crawl_t *crawl, int opt, const char **base, size_t count, const char ***items,
              size_t *item_count)
{
    size_t total = count + zlist_size (crawl->flag_values);
    const char **merged = s_own (crawl, zc_malloc ((total ? total : 1) * sizeof *merged));
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        merged[n++] = base[i];
    for (flag_value_t *f = zlist_first (crawl->flag_values); f; f = zlist_next (crawl->flag_values))
        if (f->opt == opt)
            merged[n++] = f->value;
    *items = merged;
    *item_count = n;
}

//  Length of a header line's name ("Name: value").
static size_t
s_header_name_length (const char *line)
{
    return strcspn (line, ":");
}

static bool
s_header_overridden (zc_cli_crawl_t *crawl, const char *line)
{
    size_t length = s_header_name_length (line);
    for (flag_value_t *f = zlist_first (crawl->flag_values); f; f = zlist_next (crawl->flag_values))
        if (f->opt == ZC_CLI_OPT_HEADER && s_header_name_length (f->value) == length &&
            strncasecmp (f->value, line, length) == 0)
            return true;
    return false;
}

static void
s_merge_headers (zc_cli_crawl_t *crawl, zc_fetch_opts_t *fetch)
{
    const char **base = fetch->headers;
    size_t count = fetch->header_count, kept = 0;
    const char **headers = s_own (crawl, zc_malloc ((count ? count : 1) * sizeof *headers));
    for (size_t i = 0; i < count; i++)
        if (!s_header_overridden (crawl, base[i]))
            headers[kept++] = base[i];
    s_merge_list (crawl, ZC_CLI_OPT_HEADER, headers, kept, &fetch->headers, &fetch->header_count);
}

//  The --extract name of flag value F (owned by crawl).
static char *
s_extract_name (zc_cli_crawl_t *crawl, const char *value)
{
    const char *equals = strchr (value, '=');
    assert (equals); //  checked when parsed
    size_t length = (size_t)(equals - value);
    char *name = s_own (crawl, zc_malloc (length + 1));
    memcpy (name, value, length);
    name[length] = 0;
    return name;
}

static bool
s_rule_overridden (zc_cli_crawl_t *crawl, const char *name)
{
    size_t length = strlen (name);
    for (flag_value_t *f = zlist_first (crawl->flag_values); f; f = zlist_next (crawl->flag_values))
        if (f->opt == ZC_CLI_OPT_EXTRACT && strncmp (f->value, name, length) == 0 &&
            f->value[length] == '=')
            return true;
    return false;
}

//  The spec's rules, minus those a --extract of the same name replaces,
//  then the --extract rules (text of the first match).
static void
s_merge_rules (zc_cli_crawl_t *crawl, zc_crawl_opts_t *opts)
{
    size_t total = opts->rule_count + zlist_size (crawl->flag_values);
    zc_extract_rule_t *rules = s_own (crawl, zc_malloc ((total ? total : 1) * sizeof *rules));
    size_t n = 0;
    for (size_t i = 0; i < opts->rule_count; i++)
        if (!s_rule_overridden (crawl, opts->rules[i].name))
            rules[n++] = opts->rules[i];
    for (flag_value_t *f = zlist_first (crawl->flag_values); f; f = zlist_next (crawl->flag_values))
        if (f->opt == ZC_CLI_OPT_EXTRACT)
            rules[n++] = (zc_extract_rule_t){.name = s_extract_name (crawl, f->value),
                                             .selector = strchr (f->value, '=') + 1,
                                             .take = ZC_TAKE_TEXT,
                                             .attr = "",
                                             .regex = ""};
    opts->rules = rules;
    opts->rule_count = n;
}

int
zc_cli_crawl_finish (zc_cli_crawl_t *crawl)
{
    zc_submit_t base = {.output = "", .errors = "", .opts = {.max_depth = -1}};
    base.opts.fetch.user_agent = "";
    if (crawl->spec_path) {
        char error[1024];
        crawl->spec = zc_spec_load (crawl->spec_path, error, sizeof error);
        if (!crawl->spec) {
            fprintf (stderr, "error: %s\n", error);
            return -1;
        }
        base = *zc_spec_submit (crawl->spec);
    }
    //  One path with or without a spec: start from BASE, apply the flags.
    zc_crawl_opts_t flags = crawl->opts;
    zc_crawl_opts_t *o = &crawl->opts;
    *o = base.opts;
#define S_OVERRIDE(opt, field)                                                                     \
    if (s_given (crawl, opt))                                                                      \
    o->field = flags.field
    S_OVERRIDE (ZC_CLI_OPT_MAX_DEPTH, max_depth);
    S_OVERRIDE (ZC_CLI_OPT_MAX_PAGES, max_pages);
    S_OVERRIDE (ZC_CLI_OPT_HOST_CONCURRENCY, host_concurrency);
    S_OVERRIDE (ZC_CLI_OPT_HOST_DELAY, host_delay_ms);
    S_OVERRIDE (ZC_CLI_OPT_CONNECT_TIMEOUT, fetch.connect_timeout_ms);
    S_OVERRIDE (ZC_CLI_OPT_TIMEOUT, fetch.timeout_ms);
    S_OVERRIDE (ZC_CLI_OPT_MAX_BODY, fetch.max_body_bytes);
    S_OVERRIDE (ZC_CLI_OPT_MAX_REDIRECTS, fetch.max_redirects);
    S_OVERRIDE (ZC_CLI_OPT_USER_AGENT, fetch.user_agent);
    S_OVERRIDE (ZC_CLI_OPT_ALLOW_PRIVATE, fetch.allow_private);
    S_OVERRIDE (ZC_CLI_OPT_IMPOLITE, impolite);
    S_OVERRIDE (ZC_CLI_OPT_IGNORE_ROBOTS, ignore_robots);
    S_OVERRIDE (ZC_CLI_OPT_CRAWL_DELAY_CAP, crawl_delay_cap_ms);
    S_OVERRIDE (ZC_CLI_OPT_MAX_ATTEMPTS, max_attempts);
    S_OVERRIDE (ZC_CLI_OPT_RETRY_BASE, retry_base_ms);
    S_OVERRIDE (ZC_CLI_OPT_MAX_PAGES_PER_HOST, max_pages_per_host);
    S_OVERRIDE (ZC_CLI_OPT_MAX_URL_LENGTH, max_url_bytes);
    S_OVERRIDE (ZC_CLI_OPT_MAX_PATH_SEGMENTS, max_path_segments);
    S_OVERRIDE (ZC_CLI_OPT_MAX_SEGMENT_REPEATS, max_segment_repeats);
#undef S_OVERRIDE
    s_merge_list (crawl, ZC_CLI_OPT_ALLOW_HOST, o->allowed_hosts, o->allowed_host_count,
                  &o->allowed_hosts, &o->allowed_host_count);
    s_merge_list (crawl, ZC_CLI_OPT_ALLOW_DOMAIN, o->allowed_domains, o->allowed_domain_count,
                  &o->allowed_domains, &o->allowed_domain_count);
    s_merge_list (crawl, ZC_CLI_OPT_INCLUDE, o->include, o->include_count, &o->include,
                  &o->include_count);
    s_merge_list (crawl, ZC_CLI_OPT_EXCLUDE, o->exclude, o->exclude_count, &o->exclude,
                  &o->exclude_count);
    s_merge_list (crawl, ZC_CLI_OPT_RESOLVE, o->fetch.resolve, o->fetch.resolve_count,
                  &o->fetch.resolve, &o->fetch.resolve_count);
    s_merge_headers (crawl, &o->fetch);
    s_merge_rules (crawl, o);

    //  Seeds: the spec's, then the command line's.
    size_t seed_count = base.seed_count + crawl->seed_count;
    const char **seeds = zc_malloc ((seed_count + 1) * sizeof *seeds);
    for (size_t i = 0; i < base.seed_count; i++)
        seeds[i] = base.seeds[i];
    for (size_t i = 0; i < crawl->seed_count; i++)
        seeds[base.seed_count + i] = crawl->seeds[i];
    free (crawl->seeds);
    crawl->seeds = seeds;
    crawl->seed_count = seed_count;

    if (!*crawl->output)
        crawl->output = base.output;
    if (!*crawl->errors)
        crawl->errors = base.errors;
    return 0;
}

int
zc_cli_parse_int (const char *text, long min, long max, long *value)
{
    char *end = NULL;
    errno = 0;
    long parsed = strtol (text, &end, 10);
    if (errno || end == text || *end || parsed < min || parsed > max)
        return -1;
    *value = parsed;
    return 0;
}

int
zc_cli_parse_size (const char *text, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    if (*text == '-')
        return -1;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || end == text)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 0:
        break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end || parsed > (UINT64_MAX >> shift))
        return -1;
    *value = (uint64_t)parsed << shift;
    return 0;
}

//  Seconds (decimals allowed) to milliseconds, within (0, 1 day].
static int
s_parse_seconds_ms (const char *text, uint32_t *ms)
{
    char *end = NULL;
    errno = 0;
    double seconds = strtod (text, &end);
    if (errno || end == text || *end || !isfinite (seconds) || seconds <= 0 || seconds > 86400)
        return -1;
    *ms = (uint32_t)(seconds * 1000 + 0.5);
    return *ms ? 0 : -1;
}

static int
s_bad_value (const char *option, const char *arg, const char *expected)
{
    fprintf (stderr, "error: --%s: invalid value '%s' (expected %s)\n", option, arg, expected);
    return -1;
}

//  Records a repeatable flag's value after CHECK accepted it.
static int
s_add_flag_value (zc_cli_crawl_t *crawl, int opt, const char *option, const char *arg,
                  int (*check) (const char *, char *, size_t))
{
    char why[256];
    if (check (arg, why, sizeof why) != 0) {
        fprintf (stderr, "error: --%s: invalid value '%s': %s\n", option, arg, why);
        return -1;
    }
    flag_value_t *value = zc_malloc (sizeof *value);
    *value = (flag_value_t){.opt = opt, .value = arg};
    zlist_append (crawl->flag_values, value);
    return 1;
}

//  NAME=CSS, NAME new among the --extract flags.
static int
s_check_extract (const char *arg, char *why, size_t size)
{
    const char *equals = strchr (arg, '=');
    if (!equals || equals == arg || !equals[1]) {
        snprintf (why, size, "expected NAME=CSS, e.g. title=h1");
        return -1;
    }
    for (const char *p = arg; p < equals; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf (why, size, "the field name must not contain spaces or control characters");
            return -1;
        }
    if (strpbrk (equals + 1, "\r\n")) {
        snprintf (why, size, "the selector must be a single line");
        return -1;
    }
    return 0;
}

static int
s_extract_duplicate (zc_cli_crawl_t *crawl, const char *arg)
{
    size_t length = strcspn (arg, "=");
    for (flag_value_t *f = zlist_first (crawl->flag_values); f; f = zlist_next (crawl->flag_values))
        if (f->opt == ZC_CLI_OPT_EXTRACT && strncmp (f->value, arg, length + 1) == 0) {
            fprintf (stderr, "error: --extract: field '%.*s' given twice\n", (int)length, arg);
            return -1;
        }
    return 0;
}

//  Scalar crawl options; returns 1, or -1 on a bad value (printed).
static int
s_scalar_option (zc_cli_crawl_t *crawl, int opt, const char *arg)
{
    zc_crawl_opts_t *o = &crawl->opts;
    long n;
    uint64_t size;
    switch (opt) {
    case ZC_CLI_OPT_MAX_DEPTH:
        if (zc_cli_parse_int (arg, 0, INT32_MAX, &n))
            return s_bad_value ("max-depth", arg, "an integer >= 0");
        o->max_depth = (int32_t)n;
        return 1;
    case ZC_CLI_OPT_MAX_PAGES:
        if (zc_cli_parse_size (arg, &size) || size == 0)
            return s_bad_value ("max-pages", arg, "an integer > 0");
        o->max_pages = size;
        return 1;
    case ZC_CLI_OPT_HOST_CONCURRENCY:
        if (zc_cli_parse_int (arg, 1, 100000, &n))
            return s_bad_value ("host-concurrency", arg, "an integer from 1 to 100000");
        o->host_concurrency = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_HOST_DELAY:
        if (zc_cli_parse_int (arg, 1, 86400000, &n))
            return s_bad_value ("host-delay", arg,
                                "milliseconds from 1 to 86400000; for no delay use --impolite");
        o->host_delay_ms = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_CONNECT_TIMEOUT:
        if (s_parse_seconds_ms (arg, &o->fetch.connect_timeout_ms))
            return s_bad_value ("connect-timeout", arg, "seconds > 0");
        return 1;
    case ZC_CLI_OPT_TIMEOUT:
        if (s_parse_seconds_ms (arg, &o->fetch.timeout_ms))
            return s_bad_value ("timeout", arg, "seconds > 0");
        return 1;
    case ZC_CLI_OPT_MAX_BODY:
        if (zc_cli_parse_size (arg, &size) || size == 0 || size > ZC_MSG_MAX_BODY_BYTES)
            return s_bad_value ("max-body", arg, "bytes from 1 to 64M");
        o->fetch.max_body_bytes = size;
        return 1;
    case ZC_CLI_OPT_MAX_REDIRECTS:
        if (zc_cli_parse_int (arg, 0, 100, &n))
            return s_bad_value ("max-redirects", arg, "an integer from 0 to 100");
        o->fetch.max_redirects = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_USER_AGENT:
        if (!*arg || strpbrk (arg, "\r\n"))
            return s_bad_value ("user-agent", arg, "a non-empty single line");
        o->fetch.user_agent = arg;
        return 1;
    case ZC_CLI_OPT_CRAWL_DELAY_CAP:
        if (s_parse_seconds_ms (arg, &o->crawl_delay_cap_ms))
            return s_bad_value ("crawl-delay-cap", arg, "seconds > 0");
        return 1;
    case ZC_CLI_OPT_MAX_ATTEMPTS:
        if (zc_cli_parse_int (arg, 1, 100, &n))
            return s_bad_value ("max-attempts", arg, "an integer from 1 to 100");
        o->max_attempts = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_RETRY_BASE:
        if (zc_cli_parse_int (arg, 1, 86400000, &n))
            return s_bad_value ("retry-base", arg, "milliseconds from 1 to 86400000");
        o->retry_base_ms = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_MAX_PAGES_PER_HOST:
        if (zc_cli_parse_size (arg, &size) || size == 0)
            return s_bad_value ("max-pages-per-host", arg, "an integer > 0");
        o->max_pages_per_host = size;
        return 1;
    case ZC_CLI_OPT_MAX_URL_LENGTH:
        if (zc_cli_parse_int (arg, 16, 1048576, &n))
            return s_bad_value ("max-url-length", arg, "bytes from 16 to 1048576");
        o->max_url_bytes = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_MAX_PATH_SEGMENTS:
        if (zc_cli_parse_int (arg, 1, 100000, &n))
            return s_bad_value ("max-path-segments", arg, "an integer from 1 to 100000");
        o->max_path_segments = (uint32_t)n;
        return 1;
    case ZC_CLI_OPT_MAX_SEGMENT_REPEATS:
        if (zc_cli_parse_int (arg, 1, 100000, &n))
            return s_bad_value ("max-segment-repeats", arg, "an integer from 1 to 100000");
        o->max_segment_repeats = (uint32_t)n;
        return 1;
    default:
        return 0;
    }
}

int
zc_cli_crawl_option (zc_cli_crawl_t *crawl, int opt, const char *arg)
{
    if (opt == 'o') {
        crawl->output = arg;
        return 1;
    }
    if (opt <= ZC_CLI_CRAWL_OPTION_BASE || opt >= ZC_CLI_OPT_END)
        return 0;
    crawl->given[opt - ZC_CLI_CRAWL_OPTION_BASE] = true;
    zc_crawl_opts_t *o = &crawl->opts;
    switch (opt) {
    case ZC_CLI_OPT_ERRORS:
        crawl->errors = arg;
        return 1;
    case ZC_CLI_OPT_ALLOW_PRIVATE:
        o->fetch.allow_private = true;
        return 1;
    case ZC_CLI_OPT_IMPOLITE:
        o->impolite = true;
        return 1;
    case ZC_CLI_OPT_IGNORE_ROBOTS:
        o->ignore_robots = true;
        return 1;
    case ZC_CLI_OPT_SPEC:
        return s_set_spec (crawl, arg) == 0 ? 1 : -1;
    case ZC_CLI_OPT_ALLOW_HOST:
        return s_add_flag_value (crawl, opt, "allow-host", arg, zc_spec_check_host);
    case ZC_CLI_OPT_ALLOW_DOMAIN:
        return s_add_flag_value (crawl, opt, "allow-domain", arg, zc_spec_check_domain);
    case ZC_CLI_OPT_INCLUDE:
        return s_add_flag_value (crawl, opt, "include", arg, zc_spec_check_regex);
    case ZC_CLI_OPT_EXCLUDE:
        return s_add_flag_value (crawl, opt, "exclude", arg, zc_spec_check_regex);
    case ZC_CLI_OPT_HEADER:
        return s_add_flag_value (crawl, opt, "header", arg, zc_spec_check_header);
    case ZC_CLI_OPT_RESOLVE:
        return s_add_flag_value (crawl, opt, "resolve", arg, zc_spec_check_resolve);
    case ZC_CLI_OPT_EXTRACT:
        if (s_extract_duplicate (crawl, arg) != 0)
            return -1;
        return s_add_flag_value (crawl, opt, "extract", arg, s_check_extract);
    default:
        return s_scalar_option (crawl, opt, arg);
    }
}

zsock_t *
zc_cli_control_connect (const char *endpoint)
{
    zsock_t *control = zsock_new (ZMQ_DEALER);
    assert (control);
    zc_msg_socket_setup (control, ZC_MSG_MAX_HEADER_BYTES, 0);
    if (zsock_connect (control, "%s", endpoint) != 0) {
        fprintf (stderr, "error: cannot connect to control endpoint '%s'\n", endpoint);
        zsock_destroy (&control);
    }
    return control;
}

zc_msg_t *
zc_cli_control_call (zsock_t *control, const zc_msg_t *request, int timeout_ms)
{
    if (zc_msg_send (request, control, NULL) != 0) {
        //  A DEALER with no connected peer refuses at once; wait for the
        //  connection to come up within the same deadline.
        zmsg_t *encoded = zc_msg_encode (request);
        zsock_set_sndtimeo (control, timeout_ms);
        int rc = zmsg_send (&encoded, control);
        zmsg_destroy (&encoded);
        if (rc != 0) {
            fprintf (stderr, "error: broker control socket is not reachable (%s)\n",
                     zsock_endpoint (control) ? zsock_endpoint (control) : "?");
            return NULL;
        }
    }
    zpoller_t *poller = zpoller_new (control, NULL);
    assert (poller);
    void *ready = zpoller_wait (poller, timeout_ms);
    bool interrupted = zpoller_terminated (poller);
    zpoller_destroy (&poller);
    if (!ready) {
        if (interrupted)
            fprintf (stderr, "error: interrupted\n");
        else
            fprintf (stderr, "error: broker did not answer within %d ms\n", timeout_ms);
        return NULL;
    }
    zmsg_t *reply = zmsg_recv (control);
    zc_msg_decode_status_t status;
    zc_msg_t *msg = zc_msg_decode (&reply, &status);
    if (!msg)
        fprintf (stderr, "error: bad reply from broker: %s\n", zc_msg_decode_status_str (status));
    return msg;
}

json_t *
zc_cli_status_json (const zc_status_reply_t *status)
{
    json_t *nodes = json_array ();
    for (size_t i = 0; i < status->node_count; i++) {
        const zc_node_status_t *n = &status->nodes[i];
        json_array_append_new (
            nodes,
            json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "id", n->id, "role", n->role,
                       "endpoint", n->endpoint, "capacity", (json_int_t)n->capacity, "in_flight",
                       (json_int_t)n->in_flight, "done", (json_int_t)n->done, "decode_errors",
                       (json_int_t)n->decode_errors, "last_seen_ms", (json_int_t)n->last_seen_ms));
    }
    json_t *crawls = json_array ();
    for (size_t i = 0; i < status->crawl_count; i++) {
        const zc_crawl_status_t *c = &status->crawls[i];
        double seconds = c->elapsed_ms / 1000.0;
        json_array_append_new (
            crawls,
            json_pack ("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "id", c->id,
                       "state", c->state, "output", c->output, "errors", c->errors, "pages",
                       (json_int_t)c->pages, "failed", (json_int_t)c->failed, "queued",
                       (json_int_t)c->queued, "in_flight", (json_int_t)c->in_flight, "started_ms",
                       (json_int_t)c->started_ms, "seconds", seconds, "pages_per_second",
                       seconds > 0 ? c->pages / seconds : 0.0));
    }
    return json_pack ("{s:I, s:I, s:o, s:o}", "epoch", (json_int_t)status->epoch, "decode_errors",
                      (json_int_t)status->decode_errors, "nodes", nodes, "crawls", crawls);
}

void
zc_cli_status_print (const zc_status_reply_t *status, FILE *file)
{
    fprintf (file, "broker epoch %" PRIu64 ", %zu nodes, %" PRIu64 " decode errors\n",
             status->epoch, status->node_count, status->decode_errors);
    for (size_t i = 0; i < status->node_count; i++) {
        const zc_node_status_t *n = &status->nodes[i];
        fprintf (file, "  node %-40s %-7s in-flight %-5u done %-8" PRIu64 " %s\n", n->id, n->role,
                 n->in_flight, n->done, n->endpoint);
    }
    for (size_t i = 0; i < status->crawl_count; i++) {
        const zc_crawl_status_t *c = &status->crawls[i];
        double seconds = c->elapsed_ms / 1000.0;
        fprintf (file,
                 "crawl %s %s: %" PRIu64 " pages, %" PRIu64 " errors, %" PRIu64 " queued, %" PRIu64
                 " in flight, %.1f s, %.0f pages/s\n  items: %s\n  errors: %s\n",
                 c->id, c->state, c->pages, c->failed, c->queued, c->in_flight, seconds,
                 seconds > 0 ? c->pages / seconds : 0.0, c->output, c->errors);
    }
}

char *
zc_cli_absolute_path (const char *path)
{
    if (!*path || *path == '/' || strcmp (path, "-") == 0)
        return zc_strdup (path);
    char cwd[PATH_MAX];
    if (!getcwd (cwd, sizeof cwd))
        return zc_strdup (path);
    char *absolute = zsys_sprintf ("%s/%s", cwd, path);
    assert (absolute);
    return absolute;
}
