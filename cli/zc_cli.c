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

void
zc_cli_crawl_init (zc_cli_crawl_t *crawl)
{
    *crawl = (zc_cli_crawl_t){
        .output = "",
        .errors = "",
        .opts = {.max_depth = -1, .fetch = {.user_agent = ""}},
    };
}

void
zc_cli_crawl_fini (zc_cli_crawl_t *crawl)
{
    free (crawl->seeds);
    crawl->seeds = NULL;
    crawl->seed_count = 0;
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

int
zc_cli_crawl_option (zc_cli_crawl_t *crawl, int opt, const char *arg)
{
    zc_crawl_opts_t *o = &crawl->opts;
    long n;
    uint64_t size;
    switch (opt) {
    case 'o':
        crawl->output = arg;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 1:
        crawl->errors = arg;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 2:
        if (zc_cli_parse_int (arg, 0, INT32_MAX, &n))
            return s_bad_value ("max-depth", arg, "an integer >= 0");
        o->max_depth = (int32_t)n;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 3:
        if (zc_cli_parse_size (arg, &size) || size == 0)
            return s_bad_value ("max-pages", arg, "an integer > 0");
        o->max_pages = size;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 4:
        if (zc_cli_parse_int (arg, 1, 100000, &n))
            return s_bad_value ("host-concurrency", arg, "an integer from 1 to 100000");
        o->host_concurrency = (uint32_t)n;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 5:
        if (zc_cli_parse_int (arg, 0, 86400000, &n))
            return s_bad_value ("host-delay", arg, "milliseconds >= 0");
        o->host_delay_ms = (uint32_t)n;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 6:
        if (s_parse_seconds_ms (arg, &o->fetch.connect_timeout_ms))
            return s_bad_value ("connect-timeout", arg, "seconds > 0");
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 7:
        if (s_parse_seconds_ms (arg, &o->fetch.timeout_ms))
            return s_bad_value ("timeout", arg, "seconds > 0");
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 8:
        if (zc_cli_parse_size (arg, &size) || size == 0 || size > ZC_MSG_MAX_BODY_BYTES)
            return s_bad_value ("max-body", arg, "bytes from 1 to 64M");
        o->fetch.max_body_bytes = size;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 9:
        if (zc_cli_parse_int (arg, 0, 100, &n))
            return s_bad_value ("max-redirects", arg, "an integer from 0 to 100");
        o->fetch.max_redirects = (uint32_t)n;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 10:
        if (!*arg || strpbrk (arg, "\r\n"))
            return s_bad_value ("user-agent", arg, "a non-empty single line");
        o->fetch.user_agent = arg;
        return 1;
    case ZC_CLI_CRAWL_OPTION_BASE + 11:
        o->fetch.allow_private = true;
        return 1;
    default:
        return 0;
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
