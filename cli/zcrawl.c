/*  zcrawl — runs zcrawl nodes.

        zcrawl broker   [node options]     the broker (frontier, output)
        zcrawl fetcher  --broker EP        a fetcher node
        zcrawl parser   --broker EP        a parser node (one actor per core)
        zcrawl local    URL... [options]   everything in one process

    This file only parses arguments, starts actors and waits: the work is in
    broker/, fetcher/ and parser/.
*/
#include <czmq.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <signal.h>
#include <unistd.h>

#include "zc_broker.h"
#include "zc_cli.h"
#include "zc_fetcher.h"
#include "zc_parser.h"
#include "zc_tools.h"
#include "zc_util.h"

#define DEFAULT_JOBS "tcp://*:5555"
#define DEFAULT_RESULTS "tcp://*:5556"
#define DEFAULT_CONTROL "tcp://127.0.0.1:5557"
#define DEFAULT_BROKER "tcp://127.0.0.1:5555"
#define DEFAULT_PARSER_BIND "tcp://127.0.0.1:5560"

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: zcrawl COMMAND [options]\n"
                  "\n"
                  "commands:\n"
                  "  local URL...    crawl URL... with a whole cluster inside this process\n"
                  "  broker          run the broker node\n"
                  "  fetcher         run a fetcher node\n"
                  "  parser          run a parser node\n"
                  "  robots FILE UA URL   is URL allowed by robots.txt FILE for user agent UA?\n"
                  "  url BASE HREF   the canonical URL zcrawl would enqueue for HREF on BASE\n"
                  "\n"
                  "Run 'zcrawl COMMAND --help' for a command's options.\n");
}

static int
s_usage_error (const char *command, const char *message)
{
    fprintf (stderr, "zcrawl %s: %s\n", command, message);
    fprintf (stderr, "Try 'zcrawl %s --help'.\n", command);
    return ZC_CLI_EXIT_USAGE;
}

//  getopt's own complaint is already printed; add the hint.
static int
s_getopt_error (const char *command)
{
    fprintf (stderr, "Try 'zcrawl %s --help'.\n", command);
    return ZC_CLI_EXIT_USAGE;
}

static void
s_process_init (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_logident ("zcrawl");
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "zcrawl: curl_global_init failed\n");
        exit (1);
    }
    xmlInitParser ();
}

//  No xmlCleanupParser here: actor threads are detached and may still be
//  exiting when main returns; deleting libxml2's per-thread key under them
//  would leak their per-thread state (seen as an intermittent LSan report).
static void
s_process_fini (void)
{
    curl_global_cleanup ();
}

//  Blocks until SIGINT/SIGTERM (czmq's handler sets zsys_interrupted) or
//  until one of the actors exits on its own.
static void
s_wait_for_signal (zactor_t **actors, size_t count)
{
    zpoller_t *poller = zpoller_new (NULL);
    assert (poller);
    for (size_t i = 0; i < count; i++)
        zpoller_add (poller, actors[i]);
    while (!zsys_interrupted) {
        void *which = zpoller_wait (poller, 1000);
        if (which) {
            zsys_error ("zcrawl: an actor stopped unexpectedly");
            break;
        }
    }
    zpoller_destroy (&poller);
}

static int
s_write_ready_file (const char *path, json_t *endpoints)
{
    int rc = path ? zc_ready_file_write (path, endpoints) : 0;
    json_decref (endpoints);
    return rc;
}

//  ---------------------------------------------------------------------
//  zcrawl broker

static int
s_cmd_broker (int argc, char **argv)
{
    zc_broker_config_t config = {
        .jobs_endpoint = DEFAULT_JOBS,
        .results_endpoint = DEFAULT_RESULTS,
        .control_endpoint = DEFAULT_CONTROL,
        .output_dir = "",
    };
    const char *ready_file = NULL;
    static const struct option options[] = {{"jobs", required_argument, NULL, 'j'},
                                            {"results", required_argument, NULL, 'r'},
                                            {"control", required_argument, NULL, 'c'},
                                            {"output-dir", required_argument, NULL, 'd'},
                                            {"heartbeat-ms", required_argument, NULL, 'b'},
                                            {"ready-file", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    long n;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'j':
            config.jobs_endpoint = optarg;
            break;
        case 'r':
            config.results_endpoint = optarg;
            break;
        case 'c':
            config.control_endpoint = optarg;
            break;
        case 'd':
            config.output_dir = optarg;
            break;
        case 'f':
            ready_file = optarg;
            break;
        case 'b':
            if (zc_cli_parse_int (optarg, 10, 60000, &n))
                return s_usage_error ("broker", "--heartbeat-ms must be 10..60000");
            config.heartbeat_ms = (int)n;
            break;
        case 'h':
            printf ("usage: zcrawl broker [options]\n\n"
                    "The broker owns the crawls: frontier, deduplication, scope and output.\n\n"
                    "  --jobs EP          bind for fetchers and parser nodes (default %s)\n"
                    "  --results EP       bind for parser results (default %s)\n"
                    "  --control EP       bind for zcrawlctl (default %s)\n"
                    "  --output-dir DIR   where crawls without -o write (default: cwd)\n"
                    "  --heartbeat-ms MS  heartbeat interval; dead after 5 missed (default 1000)\n"
                    "  --ready-file PATH  write the bound endpoints as JSON once serving\n",
                    DEFAULT_JOBS, DEFAULT_RESULTS, DEFAULT_CONTROL);
            return 0;
        default:
            return s_getopt_error ("broker");
        }
    }
    if (optind < argc)
        return s_usage_error ("broker", "unexpected argument");

    zactor_t *broker = zactor_new (zc_broker_actor, &config);
    zstr_send (broker, "START");
    int rc = -1;
    char *jobs = NULL, *results = NULL, *control = NULL;
    zsock_recv (broker, "isss", &rc, &jobs, &results, &control);
    if (rc == 0) {
        zsys_info ("zcrawl: broker serving jobs %s results %s control %s", jobs, results, control);
        rc = s_write_ready_file (ready_file, json_pack ("{s:s, s:s, s:s}", "jobs", jobs, "results",
                                                        results, "control", control));
        if (rc == 0)
            s_wait_for_signal (&broker, 1);
    }
    zstr_free (&jobs);
    zstr_free (&results);
    zstr_free (&control);
    zactor_destroy (&broker);
    return rc == 0 ? 0 : 1;
}

//  ---------------------------------------------------------------------
//  zcrawl fetcher

static int
s_cmd_fetcher (int argc, char **argv)
{
    zc_fetcher_config_t config = {.broker_endpoint = DEFAULT_BROKER};
    const char *ready_file = NULL;
    long actors = 1, n;
    static const struct option options[] = {
        {"broker", required_argument, NULL, 'B'}, {"in-flight", required_argument, NULL, 'i'},
        {"actors", required_argument, NULL, 'a'}, {"ready-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'B':
            config.broker_endpoint = optarg;
            break;
        case 'f':
            ready_file = optarg;
            break;
        case 'i':
            if (zc_cli_parse_int (optarg, 1, 100000, &n))
                return s_usage_error ("fetcher", "--in-flight must be 1..100000");
            config.max_in_flight = (int)n;
            break;
        case 'a':
            if (zc_cli_parse_int (optarg, 1, 256, &actors))
                return s_usage_error ("fetcher", "--actors must be 1..256");
            break;
        case 'h':
            printf (
                "usage: zcrawl fetcher [options]\n\n"
                "A fetcher node: downloads jobs from the broker and pushes pages to parsers.\n\n"
                "  --broker EP        the broker's jobs endpoint (default %s)\n"
                "  --in-flight N      transfers in flight per actor (default 64)\n"
                "  --actors N         fetcher actors (threads) in this node (default 1)\n"
                "  --ready-file PATH  write {\"broker\": EP} as JSON once started\n",
                DEFAULT_BROKER);
            return 0;
        default:
            return s_getopt_error ("fetcher");
        }
    }
    if (optind < argc)
        return s_usage_error ("fetcher", "unexpected argument");

    zactor_t *fetchers[256] = {NULL};
    int rc = 0;
    for (long i = 0; i < actors && rc == 0; i++) {
        fetchers[i] = zactor_new (zc_fetcher_actor, &config);
        zstr_send (fetchers[i], "START");
        zsock_recv (fetchers[i], "i", &rc);
    }
    if (rc == 0)
        rc = s_write_ready_file (
            ready_file,
            json_pack ("{s:s, s:i}", "broker", config.broker_endpoint, "actors", (int)actors));
    if (rc == 0)
        s_wait_for_signal (fetchers, (size_t)actors);
    for (long i = 0; i < actors; i++)
        zactor_destroy (&fetchers[i]);
    return rc == 0 ? 0 : 1;
}

//  ---------------------------------------------------------------------
//  zcrawl parser

static int
s_cmd_parser (int argc, char **argv)
{
    zc_parser_config_t config = {.broker_endpoint = DEFAULT_BROKER,
                                 .front_endpoint = DEFAULT_PARSER_BIND};
    const char *ready_file = NULL;
    long n;
    static const struct option options[] = {{"broker", required_argument, NULL, 'B'},
                                            {"bind", required_argument, NULL, 'b'},
                                            {"advertise", required_argument, NULL, 'A'},
                                            {"actors", required_argument, NULL, 'a'},
                                            {"ready-file", required_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'B':
            config.broker_endpoint = optarg;
            break;
        case 'b':
            config.front_endpoint = optarg;
            break;
        case 'A':
            config.advertise = optarg;
            break;
        case 'f':
            ready_file = optarg;
            break;
        case 'a':
            if (zc_cli_parse_int (optarg, 1, 1024, &n))
                return s_usage_error ("parser", "--actors must be 1..1024");
            config.actors = (int)n;
            break;
        case 'h':
            printf ("usage: zcrawl parser [options]\n\n"
                    "A parser node: parses pages pushed by fetchers, one actor per core.\n\n"
                    "  --broker EP        the broker's jobs endpoint (default %s)\n"
                    "  --bind EP          front endpoint fetchers push pages to (default %s)\n"
                    "  --advertise EP     endpoint fetchers should use (required when --bind\n"
                    "                     is a wildcard address such as tcp://*:5560)\n"
                    "  --actors N         parser actors (default: number of cores)\n"
                    "  --ready-file PATH  write {\"front\": EP} as JSON once serving\n",
                    DEFAULT_BROKER, DEFAULT_PARSER_BIND);
            return 0;
        default:
            return s_getopt_error ("parser");
        }
    }
    if (optind < argc)
        return s_usage_error ("parser", "unexpected argument");
    if (zc_endpoint_is_wildcard (config.front_endpoint) && !config.advertise)
        return s_usage_error ("parser", "--bind is a wildcard address: give --advertise EP");

    zactor_t *node = zactor_new (zc_parser_node_actor, &config);
    zstr_send (node, "START");
    int rc = -1;
    char *front = NULL;
    zsock_recv (node, "is", &rc, &front);
    if (rc == 0) {
        zsys_info ("zcrawl: parser node front %s", front);
        rc = s_write_ready_file (ready_file, json_pack ("{s:s}", "front", front));
        if (rc == 0)
            s_wait_for_signal (&node, 1);
    }
    zstr_free (&front);
    zactor_destroy (&node);
    return rc == 0 ? 0 : 1;
}

//  ---------------------------------------------------------------------
//  zcrawl local

typedef struct {
    zactor_t *broker;
    zactor_t *parser;
    zactor_t *fetchers[64];
    int fetcher_count;
    char *control; //  owned: the broker's control endpoint
} local_cluster_t;

static void
s_local_stop (local_cluster_t *cluster)
{
    //  Fetchers first so nothing new is pushed, the broker last so that it
    //  flushes every outcome already received.
    for (int i = 0; i < cluster->fetcher_count; i++)
        zactor_destroy (&cluster->fetchers[i]);
    zactor_destroy (&cluster->parser);
    zactor_destroy (&cluster->broker);
    zstr_free (&cluster->control);
}

static int
s_local_start (local_cluster_t *cluster, int fetchers, int in_flight, int parsers)
{
    //  inproc endpoints are per process; the pid keeps two test processes'
    //  logs distinguishable.
    char jobs[64], results[64], control[64], front[64];
    snprintf (jobs, sizeof jobs, "inproc://zcrawl-jobs-%d", (int)getpid ());
    snprintf (results, sizeof results, "inproc://zcrawl-results-%d", (int)getpid ());
    snprintf (control, sizeof control, "inproc://zcrawl-control-%d", (int)getpid ());
    snprintf (front, sizeof front, "inproc://zcrawl-front-%d", (int)getpid ());

    zc_broker_config_t broker_config = {.jobs_endpoint = jobs,
                                        .results_endpoint = results,
                                        .control_endpoint = control,
                                        .output_dir = ""};
    cluster->broker = zactor_new (zc_broker_actor, &broker_config);
    zstr_send (cluster->broker, "START");
    int rc = -1;
    char *bound_jobs = NULL, *bound_results = NULL;
    zsock_recv (cluster->broker, "isss", &rc, &bound_jobs, &bound_results, &cluster->control);
    zstr_free (&bound_jobs);
    zstr_free (&bound_results);
    if (rc != 0)
        return -1;

    zc_parser_config_t parser_config = {
        .broker_endpoint = jobs, .front_endpoint = front, .actors = parsers};
    cluster->parser = zactor_new (zc_parser_node_actor, &parser_config);
    zstr_send (cluster->parser, "START");
    char *bound_front = NULL;
    zsock_recv (cluster->parser, "is", &rc, &bound_front);
    zstr_free (&bound_front);
    if (rc != 0)
        return -1;

    zc_fetcher_config_t fetcher_config = {.broker_endpoint = jobs, .max_in_flight = in_flight};
    for (int i = 0; i < fetchers; i++) {
        cluster->fetchers[i] = zactor_new (zc_fetcher_actor, &fetcher_config);
        cluster->fetcher_count++;
        zstr_send (cluster->fetchers[i], "START");
        zsock_recv (cluster->fetchers[i], "i", &rc);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void
s_local_progress (const zc_crawl_status_t *c, bool tty)
{
    if (!tty)
        return;
    double seconds = c->elapsed_ms / 1000.0;
    fprintf (stderr,
             "\r\033[K%" PRIu64 " pages  %" PRIu64 " errors  %" PRIu64 " queued  %" PRIu64
             " in flight  %.1f s  %.0f pages/s",
             c->pages, c->failed, c->queued, c->in_flight, seconds,
             seconds > 0 ? c->pages / seconds : 0.0);
    fflush (stderr);
}

//  Submits the crawl and polls its status until it is done (0), stopped or
//  interrupted (1).
static int
s_local_run (local_cluster_t *cluster, const zc_cli_crawl_t *crawl, bool quiet)
{
    zsock_t *control = zc_cli_control_connect (cluster->control);
    if (!control)
        return 1;
    char *output = zc_cli_absolute_path (crawl->output);
    char *errors = zc_cli_absolute_path (crawl->errors);
    zc_msg_t submit = {.type = ZC_MSG_SUBMIT,
                       .submit = {.seeds = crawl->seeds,
                                  .seed_count = crawl->seed_count,
                                  .output = output,
                                  .errors = errors,
                                  .opts = crawl->opts}};
    zc_msg_t *reply = zc_cli_control_call (control, &submit, 5000);
    free (output);
    free (errors);
    int rc = 1;
    if (reply && reply->type == ZC_MSG_ERROR)
        fprintf (stderr, "zcrawl local: crawl refused: %s\n", reply->error.error);
    if (!reply || reply->type != ZC_MSG_OK) {
        zc_msg_destroy (&reply);
        zsock_destroy (&control);
        return 1;
    }
    char *crawl_id = zc_strdup (reply->ok.crawl);
    zc_msg_destroy (&reply);

    bool tty = !quiet && isatty (STDERR_FILENO);
    zc_msg_t status_request = {.type = ZC_MSG_STATUS, .status = {.crawl = crawl_id}};
    while (!zsys_interrupted) {
        zc_msg_t *status = zc_cli_control_call (control, &status_request, 5000);
        if (!status || status->type != ZC_MSG_STATUS_REPLY ||
            status->status_reply.crawl_count != 1) {
            zc_msg_destroy (&status);
            break;
        }
        const zc_crawl_status_t *c = &status->status_reply.crawls[0];
        s_local_progress (c, tty);
        if (streq (c->state, "done") || streq (c->state, "stopped")) {
            if (tty)
                fprintf (stderr, "\n");
            double seconds = c->elapsed_ms / 1000.0;
            printf ("zcrawl: %s: %" PRIu64 " pages, %" PRIu64 " errors, %.2f s, %.1f pages/s\n",
                    c->state, c->pages, c->failed, seconds, seconds > 0 ? c->pages / seconds : 0.0);
            printf ("zcrawl: items in %s\nzcrawl: errors in %s\n", c->output, c->errors);
            rc = streq (c->state, "done") ? 0 : 1;
            zc_msg_destroy (&status);
            break;
        }
        zc_msg_destroy (&status);
        //  Poll interval of the progress display, not synchronisation.
        zclock_sleep (50);
    }
    if (zsys_interrupted) {
        fprintf (stderr, "\nzcrawl local: interrupted\n");
        rc = 130;
    }
    free (crawl_id);
    zsock_destroy (&control);
    return rc;
}

static int
s_cmd_local (int argc, char **argv)
{
    zc_cli_crawl_t crawl;
    zc_cli_crawl_init (&crawl);
    long fetchers = 1, in_flight = 64, parsers = 0;
    bool quiet = false;
    enum { OPT_FETCHERS = 1, OPT_IN_FLIGHT, OPT_PARSERS, OPT_QUIET };
    static const struct option options[] = {ZC_CLI_CRAWL_LONG_OPTIONS,
                                            {"fetchers", required_argument, NULL, OPT_FETCHERS},
                                            {"in-flight", required_argument, NULL, OPT_IN_FLIGHT},
                                            {"parsers", required_argument, NULL, OPT_PARSERS},
                                            {"quiet", no_argument, NULL, OPT_QUIET},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long (argc, argv, "ho:q", options, NULL)) != -1) {
        int handled = zc_cli_crawl_option (&crawl, opt, optarg);
        if (handled < 0)
            rc = ZC_CLI_EXIT_USAGE;
        if (handled != 0)
            continue;
        switch (opt) {
        case OPT_FETCHERS:
            if (zc_cli_parse_int (optarg, 1, 64, &fetchers))
                rc = s_usage_error ("local", "--fetchers must be 1..64");
            break;
        case OPT_IN_FLIGHT:
            if (zc_cli_parse_int (optarg, 1, 100000, &in_flight))
                rc = s_usage_error ("local", "--in-flight must be 1..100000");
            break;
        case OPT_PARSERS:
            if (zc_cli_parse_int (optarg, 1, 1024, &parsers))
                rc = s_usage_error ("local", "--parsers must be 1..1024");
            break;
        case 'q':
        case OPT_QUIET:
            quiet = true;
            break;
        case 'h':
            printf ("usage: zcrawl local [URL...] [--spec FILE] [options]\n\n"
                    "Crawls from the seed URLs with a broker, fetchers and parsers running\n"
                    "inside this process; exits 0 when the crawl is done.\n\n"
                    "%s"
                    "\nlocal cluster:\n"
                    "      --fetchers N          fetcher actors (default 1)\n"
                    "      --in-flight N         transfers in flight per fetcher (default 64)\n"
                    "      --parsers N           parser actors (default: number of cores)\n"
                    "  -q, --quiet               no live progress\n",
                    ZC_CLI_CRAWL_OPTIONS_HELP);
            zc_cli_crawl_fini (&crawl);
            return 0;
        default:
            rc = s_getopt_error ("local");
        }
    }
    for (int i = optind; rc == 0 && i < argc; i++)
        if (zc_cli_crawl_add_argument (&crawl, argv[i]) != 0)
            rc = ZC_CLI_EXIT_USAGE;
    if (rc == 0 && zc_cli_crawl_finish (&crawl) != 0)
        rc = ZC_CLI_EXIT_USAGE;
    if (rc == 0 && crawl.seed_count == 0)
        rc = s_usage_error ("local", "give at least one seed URL (or a spec with seeds)");
    if (rc == 0 && !*crawl.output)
        crawl.output = "items.jsonl";
    if (rc != 0) {
        zc_cli_crawl_fini (&crawl);
        return rc;
    }

    local_cluster_t cluster = {NULL};
    if (s_local_start (&cluster, (int)fetchers, (int)in_flight, (int)parsers) != 0) {
        fprintf (stderr, "zcrawl local: could not start the cluster\n");
        rc = 1;
    } else
        rc = s_local_run (&cluster, &crawl, quiet);
    s_local_stop (&cluster);
    zc_cli_crawl_fini (&crawl);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return ZC_CLI_EXIT_USAGE;
    }
    const char *command = argv[1];
    if (streq (command, "--help") || streq (command, "-h") || streq (command, "help")) {
        s_usage (stdout);
        return 0;
    }
    if (streq (command, "--version")) {
        printf ("zcrawl %s\n", ZC_VERSION);
        return 0;
    }
    int (*run) (int, char **) = NULL;
    if (streq (command, "broker"))
        run = s_cmd_broker;
    else if (streq (command, "fetcher"))
        run = s_cmd_fetcher;
    else if (streq (command, "parser"))
        run = s_cmd_parser;
    else if (streq (command, "local"))
        run = s_cmd_local;
    else if (streq (command, "robots"))
        run = zc_tools_robots_main;
    else if (streq (command, "url"))
        run = zc_tools_url_main;
    if (!run) {
        fprintf (stderr, "zcrawl: unknown command '%s'\n", command);
        s_usage (stderr);
        return ZC_CLI_EXIT_USAGE;
    }
    s_process_init ();
    int rc = run (argc - 1, argv + 1);
    s_process_fini ();
    return rc;
}
