/*  zcrawl — runs zcrawl nodes.

        zcrawl broker   [node options]     the broker (frontier, output)
        zcrawl fetcher  --broker EP        a fetcher node
        zcrawl parser   --broker EP        a parser node (one actor per core)
        zcrawl local    URL... [options]   everything in one process

    This file only parses arguments, starts actors and waits: the work is in
    broker/, fetcher/ and parser/.

    Signals: the node commands take SIGINT and SIGTERM over from czmq. They
    are blocked in every thread (the mask is set at the start of main, before
    czmq, libzmq or curl create a thread, and threads inherit it) and main
    reads them from a signalfd. On the first one, fetcher and parser node
    actors get DRAIN (--drain-ms) and main waits for each DRAINED (at most
    drain-ms + 5 s), then destroys the actors (the broker commits its store
    and flushes its output on $TERM) and exits 0. After the first signal the
    default action is restored, so a second SIGINT/SIGTERM kills the process
    at once (shell status 130 / 143).
*/
#include <czmq.h>
#include <curl/curl.h>
#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
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
#define DEFAULT_DRAIN_MS 10000
#define MAX_DRAIN_MS 600000
#define DRAIN_GRACE_MS 5000 //  on top of --drain-ms before giving up on DRAINED
#define MAX_ACTORS 256

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

//  Blocks SIGINT and SIGTERM in this thread, and so in every thread created
//  later, and returns a signalfd that reads them (-1 on error, printed).
static int
s_signals_take_over (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    int rc = pthread_sigmask (SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        fprintf (stderr, "zcrawl: pthread_sigmask: %s\n", strerror (rc));
        return -1;
    }
    int fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd == -1)
        fprintf (stderr, "zcrawl: signalfd: %s\n", strerror (errno));
    return fd;
}

//  The number of a signal waiting on SIGFD, or 0 if none.
static int
s_signal_read (int sigfd)
{
    struct signalfd_siginfo info;
    ssize_t n = read (sigfd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}

//  After the first signal: the next SIGINT/SIGTERM takes its default action
//  (the process dies at once). Only this thread unblocks them, so the kernel
//  delivers them here.
static void
s_signals_release (void)
{
    struct sigaction action = {.sa_handler = SIG_DFL};
    sigemptyset (&action.sa_mask);
    if (sigaction (SIGINT, &action, NULL) != 0 || sigaction (SIGTERM, &action, NULL) != 0)
        zsys_warning ("zcrawl: cannot restore the default signal actions");
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    if (pthread_sigmask (SIG_UNBLOCK, &set, NULL) != 0)
        zsys_warning ("zcrawl: cannot unblock SIGINT/SIGTERM");
}

static void
s_process_init (void)
{
    //  No czmq signal handler: zsys_interrupted would stop every zloop at
    //  the first signal, before the actors could drain.
    zsys_handler_set (NULL);
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

//  Blocks until SIGINT/SIGTERM arrives on SIGFD (returns the signal number,
//  after s_signals_release) or one of the actors exits on its own or says
//  something unexpected (returns 0, logged).
static int
s_wait_for_signal (int sigfd, zactor_t **actors, size_t count)
{
    zmq_pollitem_t items[MAX_ACTORS + 1];
    assert (count <= MAX_ACTORS);
    items[0] = (zmq_pollitem_t){.fd = sigfd, .events = ZMQ_POLLIN};
    for (size_t i = 0; i < count; i++)
        items[i + 1] = (zmq_pollitem_t){.socket = zsock_resolve (zactor_sock (actors[i])),
                                        .events = ZMQ_POLLIN};
    while (true) {
        if (zmq_poll (items, (int)count + 1, -1) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            zsys_error ("zcrawl: zmq_poll: %s", zmq_strerror (zmq_errno ()));
            return 0;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            int signo = s_signal_read (sigfd);
            if (signo) {
                s_signals_release ();
                zsys_info ("zcrawl: %s received, stopping gracefully (again to stop at once)",
                           strsignal (signo));
                return signo;
            }
        }
        for (size_t i = 0; i < count; i++)
            if (items[i + 1].revents & ZMQ_POLLIN) {
                zsys_error ("zcrawl: an actor stopped unexpectedly");
                return 0;
            }
    }
}

//  Graceful stop of ACTORS (fetchers, parser nodes; NULL entries skipped):
//  DRAIN with DRAIN_MS to each, then waits for every DRAINED, at most
//  DRAIN_MS + DRAIN_GRACE_MS in all. Returns 0, or -1 if some actor did not
//  answer in time (logged).
static int
s_drain_actors (zactor_t **actors, size_t count, long drain_ms)
{
    assert (count <= MAX_ACTORS);
    char ms[32];
    snprintf (ms, sizeof ms, "%ld", drain_ms);
    bool waiting[MAX_ACTORS] = {false};
    size_t pending = 0;
    for (size_t i = 0; i < count; i++)
        if (actors[i] && zstr_sendx (actors[i], "DRAIN", ms, NULL) == 0) {
            waiting[i] = true;
            pending++;
        }
    int64_t deadline = zclock_mono () + drain_ms + DRAIN_GRACE_MS;
    while (pending > 0) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        zmq_pollitem_t items[MAX_ACTORS];
        size_t which[MAX_ACTORS];
        int n = 0;
        for (size_t i = 0; i < count; i++)
            if (waiting[i]) {
                which[n] = i;
                items[n++] = (zmq_pollitem_t){.socket = zsock_resolve (zactor_sock (actors[i])),
                                              .events = ZMQ_POLLIN};
            }
        if (zmq_poll (items, n, (long)left) == -1 && zmq_errno () != EINTR) {
            zsys_error ("zcrawl: zmq_poll: %s", zmq_strerror (zmq_errno ()));
            break;
        }
        for (int k = 0; k < n; k++) {
            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            char *reply = zstr_recv (actors[which[k]]);
            if (!reply || streq (reply, "DRAINED")) {
                waiting[which[k]] = false;
                pending--;
            }
            zstr_free (&reply);
        }
    }
    if (pending > 0)
        zsys_warning ("zcrawl: %zu actor(s) did not finish draining within %ld ms", pending,
                      drain_ms + DRAIN_GRACE_MS);
    return pending > 0 ? -1 : 0;
}

//  --drain-ms for fetcher, parser and local. 0, or a usage error (printed).
static int
s_parse_drain_ms (const char *command, const char *arg, long *drain_ms)
{
    if (zc_cli_parse_int (arg, 0, MAX_DRAIN_MS, drain_ms) == 0)
        return 0;
    return s_usage_error (command, "--drain-ms must be 0..600000");
}

//  The broker's durable-store flags (broker and local). Returns 1 if OPT
//  was one of them, 0 if not, or -1 on a bad value (usage error printed).
//  *MAX_MEMORY_GIVEN is set by --max-memory.
enum { OPT_DATA = 300, OPT_MAX_MEMORY, OPT_COMMIT_MS, OPT_DRAIN_MS };
#define STORE_LONG_OPTIONS                                                                         \
    {"data", required_argument, NULL, OPT_DATA},                                                   \
        {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},                                   \
    {                                                                                              \
        "commit-ms", required_argument, NULL, OPT_COMMIT_MS                                        \
    }
#define STORE_OPTIONS_HELP                                                                         \
    "  --data DIR         durable store (LMDB) in DIR: crawls survive a restart and\n"             \
    "                     resume where they stopped (default: memory only)\n"                      \
    "  --max-memory SIZE  the broker's RAM budget (RssAnon), k/M/G suffixes (1024-\n"              \
    "                     based): queued URLs and the seen set beyond their shares\n"              \
    "                     live in the store (needs --data; default unlimited)\n"                   \
    "  --commit-ms MS     store commit interval, 1..60000 (default 100)\n"

static int
s_store_option (const char *command, int opt, const char *arg, zc_broker_config_t *config,
                bool *max_memory_given)
{
    long n;
    switch (opt) {
    case OPT_DATA:
        if (!*arg) {
            s_usage_error (command, "--data needs a directory");
            return -1;
        }
        config->data_dir = arg;
        return 1;
    case OPT_MAX_MEMORY:
        if (zc_cli_parse_size (arg, &config->max_memory_bytes)) {
            s_usage_error (command, "--max-memory must be a size in bytes, with an optional "
                                    "k/K/M/G suffix (1024-based)");
            return -1;
        }
        *max_memory_given = true;
        return 1;
    case OPT_COMMIT_MS:
        if (zc_cli_parse_int (arg, 1, 60000, &n)) {
            s_usage_error (command, "--commit-ms must be 1..60000");
            return -1;
        }
        config->commit_ms = (int)n;
        return 1;
    default:
        return 0;
    }
}

//  Checks the store flags together. 0 or a usage error (printed).
static int
s_store_check (const char *command, const zc_broker_config_t *config, bool max_memory_given)
{
    if (max_memory_given && !(config->data_dir && *config->data_dir))
        return s_usage_error (command, "--max-memory needs --data");
    return 0;
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
s_cmd_broker (int argc, char **argv, int sigfd)
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
                                            STORE_LONG_OPTIONS,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    long n;
    bool max_memory_given = false;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        int store = s_store_option ("broker", opt, optarg, &config, &max_memory_given);
        if (store < 0)
            return ZC_CLI_EXIT_USAGE;
        if (store > 0)
            continue;
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
                    "  --ready-file PATH  write the bound endpoints as JSON once serving\n"
                    "%s"
                    "\nSIGTERM or SIGINT: the broker commits its store, flushes its output\n"
                    "and exits 0; a second signal kills it at once.\n",
                    DEFAULT_JOBS, DEFAULT_RESULTS, DEFAULT_CONTROL, STORE_OPTIONS_HELP);
            return 0;
        default:
            return s_getopt_error ("broker");
        }
    }
    if (optind < argc)
        return s_usage_error ("broker", "unexpected argument");
    if (s_store_check ("broker", &config, max_memory_given) != 0)
        return ZC_CLI_EXIT_USAGE;

    zactor_t *broker = zactor_new (zc_broker_actor, &config);
    zstr_send (broker, "START");
    int rc = -1;
    char *jobs = NULL, *results = NULL, *control = NULL;
    zsock_recv (broker, "isss", &rc, &jobs, &results, &control);
    if (rc == 0) {
        zsys_info ("zcrawl: broker serving jobs %s results %s control %s", jobs, results, control);
        rc = s_write_ready_file (ready_file, json_pack ("{s:s, s:s, s:s}", "jobs", jobs, "results",
                                                        results, "control", control));
        if (rc == 0 && s_wait_for_signal (sigfd, &broker, 1) == 0)
            rc = -1;
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
s_cmd_fetcher (int argc, char **argv, int sigfd)
{
    zc_fetcher_config_t config = {.broker_endpoint = DEFAULT_BROKER};
    const char *ready_file = NULL;
    long actors = 1, n, drain_ms = DEFAULT_DRAIN_MS;
    static const struct option options[] = {{"broker", required_argument, NULL, 'B'},
                                            {"in-flight", required_argument, NULL, 'i'},
                                            {"actors", required_argument, NULL, 'a'},
                                            {"ready-file", required_argument, NULL, 'f'},
                                            {"drain-ms", required_argument, NULL, OPT_DRAIN_MS},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_DRAIN_MS:
            if (s_parse_drain_ms ("fetcher", optarg, &drain_ms))
                return ZC_CLI_EXIT_USAGE;
            break;
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
                "  --ready-file PATH  write {\"broker\": EP} as JSON once started\n"
                "  --drain-ms MS      graceful stop bound, 0..600000 (default %d)\n"
                "\nSIGTERM or SIGINT: stop asking for jobs, hand back jobs not started,\n"
                "finish running transfers for at most --drain-ms (then hand them back),\n"
                "deliver the pages, tell the broker (BYE) and exit 0; a second signal\n"
                "kills the node at once.\n",
                DEFAULT_BROKER, DEFAULT_DRAIN_MS);
            return 0;
        default:
            return s_getopt_error ("fetcher");
        }
    }
    if (optind < argc)
        return s_usage_error ("fetcher", "unexpected argument");

    zactor_t *fetchers[MAX_ACTORS] = {NULL};
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
    if (rc == 0) {
        if (s_wait_for_signal (sigfd, fetchers, (size_t)actors) == 0)
            rc = -1;
        else
            s_drain_actors (fetchers, (size_t)actors, drain_ms);
    }
    for (long i = 0; i < actors; i++)
        zactor_destroy (&fetchers[i]);
    return rc == 0 ? 0 : 1;
}

//  ---------------------------------------------------------------------
//  zcrawl parser

static int
s_cmd_parser (int argc, char **argv, int sigfd)
{
    zc_parser_config_t config = {.broker_endpoint = DEFAULT_BROKER,
                                 .front_endpoint = DEFAULT_PARSER_BIND};
    const char *ready_file = NULL;
    long n, drain_ms = DEFAULT_DRAIN_MS;
    static const struct option options[] = {{"broker", required_argument, NULL, 'B'},
                                            {"bind", required_argument, NULL, 'b'},
                                            {"advertise", required_argument, NULL, 'A'},
                                            {"actors", required_argument, NULL, 'a'},
                                            {"ready-file", required_argument, NULL, 'f'},
                                            {"drain-ms", required_argument, NULL, OPT_DRAIN_MS},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case OPT_DRAIN_MS:
            if (s_parse_drain_ms ("parser", optarg, &drain_ms))
                return ZC_CLI_EXIT_USAGE;
            break;
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
                    "  --ready-file PATH  write {\"front\": EP} as JSON once serving\n"
                    "  --drain-ms MS      graceful stop bound, 0..600000 (default %d)\n"
                    "\nSIGTERM or SIGINT: finish the pages already received (for at most\n"
                    "--drain-ms), deliver their results, tell the broker (BYE) and exit 0;\n"
                    "a second signal kills the node at once.\n",
                    DEFAULT_BROKER, DEFAULT_PARSER_BIND, DEFAULT_DRAIN_MS);
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
        if (rc == 0) {
            if (s_wait_for_signal (sigfd, &node, 1) == 0)
                rc = -1;
            else
                s_drain_actors (&node, 1, drain_ms);
        }
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

//  Graceful stop of the fetchers and the parser node; the broker is left
//  to s_local_stop.
static void
s_local_drain (local_cluster_t *cluster, long drain_ms)
{
    zactor_t *actors[65];
    size_t count = 0;
    for (int i = 0; i < cluster->fetcher_count; i++)
        actors[count++] = cluster->fetchers[i];
    actors[count++] = cluster->parser;
    s_drain_actors (actors, count, drain_ms);
}

static int
s_local_start (local_cluster_t *cluster, const zc_broker_config_t *store, int fetchers,
               int in_flight, int parsers)
{
    //  inproc endpoints are per process; the pid keeps two test processes'
    //  logs distinguishable.
    char jobs[64], results[64], control[64], front[64];
    snprintf (jobs, sizeof jobs, "inproc://zcrawl-jobs-%d", (int)getpid ());
    snprintf (results, sizeof results, "inproc://zcrawl-results-%d", (int)getpid ());
    snprintf (control, sizeof control, "inproc://zcrawl-control-%d", (int)getpid ());
    snprintf (front, sizeof front, "inproc://zcrawl-front-%d", (int)getpid ());

    zc_broker_config_t broker_config = *store;
    broker_config.jobs_endpoint = jobs;
    broker_config.results_endpoint = results;
    broker_config.control_endpoint = control;
    broker_config.output_dir = "";
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

static bool
s_crawl_finished (const zc_crawl_status_t *c)
{
    return streq (c->state, "done") || streq (c->state, "stopped");
}

static void
s_local_summary (const zc_crawl_status_t *c)
{
    //  With the items on standard output (-o -) the summary goes to stderr
    FILE *out = streq (c->output, "-") ? stderr : stdout;
    double seconds = c->elapsed_ms / 1000.0;
    fprintf (out, "zcrawl: %s: %" PRIu64 " pages, %" PRIu64 " errors, %.2f s, %.1f pages/s\n",
             c->state, c->pages, c->failed, seconds, seconds > 0 ? c->pages / seconds : 0.0);
    fprintf (out, "zcrawl: items in %s\nzcrawl: errors in %s\n",
             streq (c->output, "-") ? "standard output" : c->output, c->errors);
}

//  The crawl to watch: with a store that already holds crawls (resumed by
//  the broker), none is submitted and *CRAWL_ID_P stays NULL (watch them
//  all); otherwise CRAWL is submitted. Returns 0, or 1 (printed).
static int
s_local_submit (zsock_t *control, const zc_cli_crawl_t *crawl, bool durable, char **crawl_id_p)
{
    *crawl_id_p = NULL;
    if (durable) {
        zc_msg_t request = {.type = ZC_MSG_STATUS, .status = {.crawl = ""}};
        zc_msg_t *status = zc_cli_control_call (control, &request, 5000);
        if (!status || status->type != ZC_MSG_STATUS_REPLY) {
            zc_msg_destroy (&status);
            fprintf (stderr, "zcrawl local: no status from the broker\n");
            return 1;
        }
        size_t count = status->status_reply.crawl_count;
        zc_msg_destroy (&status);
        if (count > 0) {
            fprintf (stderr,
                     "zcrawl local: the store holds %zu crawl(s): not submitting the seeds, "
                     "watching those\n",
                     count);
            return 0;
        }
    }
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
    else if (reply && reply->type == ZC_MSG_OK) {
        *crawl_id_p = zc_strdup (reply->ok.crawl);
        rc = 0;
    }
    zc_msg_destroy (&reply);
    return rc;
}

//  Submits the crawl (or, with a store holding crawls, resumes them) and
//  polls the status until every watched crawl is done (0) or stopped (1),
//  or a signal arrives (*SIGNO set; returns 0, the caller drains).
static int
s_local_run (local_cluster_t *cluster, const zc_cli_crawl_t *crawl, bool durable, bool quiet,
             int sigfd, int *signo)
{
    zsock_t *control = zc_cli_control_connect (cluster->control);
    if (!control)
        return 1;
    char *crawl_id = NULL;
    if (s_local_submit (control, crawl, durable, &crawl_id) != 0) {
        zsock_destroy (&control);
        return 1;
    }
    bool tty = !quiet && isatty (STDERR_FILENO);
    zc_msg_t status_request = {.type = ZC_MSG_STATUS,
                               .status = {.crawl = crawl_id ? crawl_id : ""}};
    int rc = 1;
    char *reported_error = NULL; //  last pause reason shown
    while (true) {
        zc_msg_t *status = zc_cli_control_call (control, &status_request, 5000);
        if (!status || status->type != ZC_MSG_STATUS_REPLY ||
            status->status_reply.crawl_count < 1 ||
            (crawl_id && status->status_reply.crawl_count != 1)) {
            zc_msg_destroy (&status);
            break;
        }
        const zc_status_reply_t *reply = &status->status_reply;
        const zc_crawl_status_t *watched = NULL; //  the first crawl not finished
        bool all_done = true;
        for (size_t i = 0; i < reply->crawl_count; i++) {
            if (!s_crawl_finished (&reply->crawls[i]) && !watched)
                watched = &reply->crawls[i];
            all_done = all_done && streq (reply->crawls[i].state, "done");
        }
        if (!watched) {
            if (tty)
                fprintf (stderr, "\n");
            for (size_t i = 0; i < reply->crawl_count; i++)
                s_local_summary (&reply->crawls[i]);
            rc = all_done ? 0 : 1;
            zc_msg_destroy (&status);
            break;
        }
        s_local_progress (watched, tty);
        const char *error = watched->error ? watched->error : "";
        if (*error && !(reported_error && streq (reported_error, error))) {
            fprintf (stderr, "\nzcrawl local: crawl %s paused: %s\n", watched->id, error);
            free (reported_error);
            reported_error = zc_strdup (error);
        }
        zc_msg_destroy (&status);
        //  The progress display's poll interval, and the signal watch.
        zmq_pollitem_t item = {.fd = sigfd, .events = ZMQ_POLLIN};
        if (zmq_poll (&item, 1, 50) > 0 && (item.revents & ZMQ_POLLIN)) {
            int received = s_signal_read (sigfd);
            if (received) {
                s_signals_release ();
                if (tty)
                    fprintf (stderr, "\n");
                *signo = received;
                rc = 0;
                break;
            }
        }
    }
    free (reported_error);
    free (crawl_id);
    zsock_destroy (&control);
    return rc;
}

static int
s_cmd_local (int argc, char **argv, int sigfd)
{
    zc_cli_crawl_t crawl;
    zc_cli_crawl_init (&crawl);
    long fetchers = 1, in_flight = 64, parsers = 0, drain_ms = DEFAULT_DRAIN_MS;
    bool quiet = false, max_memory_given = false;
    zc_broker_config_t store = {.data_dir = NULL};
    enum { OPT_FETCHERS = 1, OPT_IN_FLIGHT, OPT_PARSERS, OPT_QUIET };
    static const struct option options[] = {ZC_CLI_CRAWL_LONG_OPTIONS,
                                            {"fetchers", required_argument, NULL, OPT_FETCHERS},
                                            {"in-flight", required_argument, NULL, OPT_IN_FLIGHT},
                                            {"parsers", required_argument, NULL, OPT_PARSERS},
                                            {"quiet", no_argument, NULL, OPT_QUIET},
                                            {"drain-ms", required_argument, NULL, OPT_DRAIN_MS},
                                            STORE_LONG_OPTIONS,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long (argc, argv, "ho:q", options, NULL)) != -1) {
        int handled = zc_cli_crawl_option (&crawl, opt, optarg);
        if (handled == 0)
            handled = s_store_option ("local", opt, optarg, &store, &max_memory_given);
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
        case OPT_DRAIN_MS:
            rc = s_parse_drain_ms ("local", optarg, &drain_ms);
            break;
        case 'q':
        case OPT_QUIET:
            quiet = true;
            break;
        case 'h':
            printf (
                "usage: zcrawl local [URL...] [--spec FILE] [options]\n\n"
                "Crawls from the seed URLs with a broker, fetchers and parsers running\n"
                "inside this process; exits 0 when the crawl is done.\n\n"
                "%s"
                "\nlocal cluster:\n"
                "      --fetchers N          fetcher actors (default 1)\n"
                "      --in-flight N         transfers in flight per fetcher (default 64)\n"
                "      --parsers N           parser actors (default: number of cores)\n"
                "  -q, --quiet               no live progress\n"
                "      --drain-ms MS         graceful stop bound, 0..600000 (default %d)\n"
                "      --data DIR            durable store (LMDB) in DIR: the crawl survives a\n"
                "                            stop or crash. If DIR already holds crawls, they\n"
                "                            are resumed and no new crawl is submitted (the\n"
                "                            seeds are ignored; a finished crawl just prints\n"
                "                            its summary): use a new DIR for a new crawl\n"
                "      --max-memory SIZE     the broker's RAM budget (RssAnon), k/M/G suffixes\n"
                "                            (1024-based): queued URLs and the seen set beyond\n"
                "                            their shares live in the store (needs --data;\n"
                "                            default unlimited)\n"
                "      --commit-ms MS        store commit interval, 1..60000 (default 100)\n"
                "\nSIGTERM or SIGINT stops gracefully: the fetchers finish their transfers\n"
                "and the parsers their pages (at most --drain-ms), the output is flushed\n"
                "and zcrawl exits 0. With --data the crawl resumes where it stopped when\n"
                "zcrawl local is started again with the same --data; without it the\n"
                "crawl is lost (the output written so far stays). A second signal kills\n"
                "zcrawl at once.\n",
                ZC_CLI_CRAWL_OPTIONS_HELP, DEFAULT_DRAIN_MS);
            zc_cli_crawl_fini (&crawl);
            return 0;
        default:
            rc = s_getopt_error ("local");
        }
    }
    bool durable = store.data_dir && *store.data_dir;
    if (rc == 0)
        rc = s_store_check ("local", &store, max_memory_given);
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
    int signo = 0;
    if (s_local_start (&cluster, &store, (int)fetchers, (int)in_flight, (int)parsers) != 0) {
        fprintf (stderr, "zcrawl local: could not start the cluster\n");
        rc = 1;
    } else
        rc = s_local_run (&cluster, &crawl, durable, quiet, sigfd, &signo);
    if (signo) {
        fprintf (stderr, "zcrawl local: %s: stopping (again to stop at once)\n", strsignal (signo));
        s_local_drain (&cluster, drain_ms);
    }
    s_local_stop (&cluster);
    if (signo)
        fprintf (stderr, "zcrawl local: stopped; %s\n",
                 durable ? "start again with the same --data to resume the crawl"
                         : "the crawl is not resumable (no --data)");
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
    int (*node) (int, char **, int) = NULL;
    int (*tool) (int, char **) = NULL;
    if (streq (command, "broker"))
        node = s_cmd_broker;
    else if (streq (command, "fetcher"))
        node = s_cmd_fetcher;
    else if (streq (command, "parser"))
        node = s_cmd_parser;
    else if (streq (command, "local"))
        node = s_cmd_local;
    else if (streq (command, "robots"))
        tool = zc_tools_robots_main;
    else if (streq (command, "url"))
        tool = zc_tools_url_main;
    if (!node && !tool) {
        fprintf (stderr, "zcrawl: unknown command '%s'\n", command);
        s_usage (stderr);
        return ZC_CLI_EXIT_USAGE;
    }
    //  Before any thread exists (s_process_init starts czmq's).
    int sigfd = node ? s_signals_take_over () : -1;
    if (node && sigfd == -1)
        return 1;
    s_process_init ();
    int rc = node ? node (argc - 1, argv + 1, sigfd) : tool (argc - 1, argv + 1);
    s_process_fini ();
    if (sigfd != -1)
        close (sigfd);
    return rc;
}
