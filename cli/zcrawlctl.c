/*  zcrawlctl — drives a running zcrawl broker over its control socket.

        zcrawlctl submit [SPEC.yaml] [URL...] [crawl options]   start a crawl
        zcrawlctl status [CRAWL] [--json]         show crawls and nodes
        zcrawlctl wait CRAWL [--timeout S]        block until the crawl ends
        zcrawlctl stop CRAWL                      stop a crawl
        zcrawlctl pause CRAWL                     stop dispatching a crawl's jobs
        zcrawlctl resume CRAWL                    dispatch them again

    Exit status: 0 success, 1 the broker said no (or could not be reached),
    2 usage error (wait: 3 timeout).

    The control endpoint comes from --control, else $ZCRAWL_CONTROL, else
    tcp://127.0.0.1:5557.
*/
#include <czmq.h>

#include "zc_cli.h"
#include "zc_util.h"

#define DEFAULT_CONTROL "tcp://127.0.0.1:5557"
#define CALL_TIMEOUT_MS 5000

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zcrawlctl [--control EP] COMMAND [options]\n"
             "\n"
             "commands:\n"
             "  submit [SPEC.yaml] [URL...] [options]\n"
             "                           start a crawl; prints the crawl id\n"
             "  status [CRAWL] [--json]  show crawls and nodes\n"
             "  wait CRAWL [--timeout S] wait until the crawl is done (exit 0) or stopped (1)\n"
             "  stop CRAWL               stop a crawl\n"
             "  pause CRAWL              pause a crawl: no new fetches, running ones finish\n"
             "  resume CRAWL             resume a paused crawl (also one the broker paused\n"
             "                           on disk trouble: it is reloaded from its store)\n"
             "\n"
             "  --control EP             broker control endpoint (default $ZCRAWL_CONTROL or %s)\n"
             "\n"
             "Run 'zcrawlctl COMMAND --help' for a command's options.\n",
             DEFAULT_CONTROL);
}

static int
s_usage_error (const char *command, const char *message)
{
    fprintf (stderr, "zcrawlctl %s: %s\nTry 'zcrawlctl %s --help'.\n", command, message, command);
    return ZC_CLI_EXIT_USAGE;
}

//  One request, one reply; prints ERROR replies. Returns the reply or NULL.
static zc_msg_t *
s_call (const char *endpoint, const zc_msg_t *request)
{
    zsock_t *control = zc_cli_control_connect (endpoint);
    if (!control)
        return NULL;
    zc_msg_t *reply = zc_cli_control_call (control, request, CALL_TIMEOUT_MS);
    zsock_destroy (&control);
    if (reply && reply->type == ZC_MSG_ERROR) {
        fprintf (stderr, "error: %s\n", reply->error.error);
        zc_msg_destroy (&reply);
    }
    return reply;
}

static int
s_cmd_submit (const char *endpoint, int argc, char **argv)
{
    zc_cli_crawl_t crawl;
    zc_cli_crawl_init (&crawl);
    static const struct option options[] = {
        ZC_CLI_CRAWL_LONG_OPTIONS, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long (argc, argv, "ho:", options, NULL)) != -1) {
        int handled = zc_cli_crawl_option (&crawl, opt, optarg);
        if (handled < 0)
            rc = ZC_CLI_EXIT_USAGE;
        else if (handled == 0 && opt == 'h') {
            printf ("usage: zcrawlctl submit [SPEC.yaml] [URL...] [options]\n\n"
                    "Starts a crawl on the broker and prints its id. Paths are on the broker's\n"
                    "machine; relative paths are made absolute here.\n\n%s",
                    ZC_CLI_CRAWL_OPTIONS_HELP);
            zc_cli_crawl_fini (&crawl);
            return 0;
        } else if (handled == 0)
            rc = s_usage_error ("submit", "bad option");
    }
    for (int i = optind; rc == 0 && i < argc; i++)
        if (zc_cli_crawl_add_argument (&crawl, argv[i]) != 0)
            rc = ZC_CLI_EXIT_USAGE;
    if (rc == 0 && zc_cli_crawl_finish (&crawl) != 0)
        rc = ZC_CLI_EXIT_USAGE;
    if (rc == 0 && crawl.seed_count == 0)
        rc = s_usage_error ("submit", "give at least one seed URL (or a spec with seeds)");
    if (rc != 0) {
        zc_cli_crawl_fini (&crawl);
        return rc;
    }
    char *output = zc_cli_absolute_path (crawl.output);
    char *errors = zc_cli_absolute_path (crawl.errors);
    zc_msg_t request = {.type = ZC_MSG_SUBMIT,
                        .submit = {.seeds = crawl.seeds,
                                   .seed_count = crawl.seed_count,
                                   .output = output,
                                   .errors = errors,
                                   .opts = crawl.opts}};
    zc_msg_t *reply = s_call (endpoint, &request);
    free (output);
    free (errors);
    zc_cli_crawl_fini (&crawl);
    if (!reply)
        return 1;
    rc = reply->type == ZC_MSG_OK ? 0 : 1;
    if (rc == 0)
        printf ("%s\n", reply->ok.crawl);
    zc_msg_destroy (&reply);
    return rc;
}

static zc_msg_t *
s_status (const char *endpoint, const char *crawl)
{
    zc_msg_t request = {.type = ZC_MSG_STATUS, .status = {.crawl = crawl ? crawl : ""}};
    zc_msg_t *reply = s_call (endpoint, &request);
    if (reply && reply->type != ZC_MSG_STATUS_REPLY) {
        fprintf (stderr, "error: unexpected %s reply to STATUS\n", zc_msg_type_str (reply->type));
        zc_msg_destroy (&reply);
    }
    return reply;
}

static int
s_cmd_status (const char *endpoint, int argc, char **argv)
{
    bool json = false;
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'j')
            json = true;
        else if (opt == 'h') {
            printf ("usage: zcrawlctl status [CRAWL] [--json]\n\n"
                    "Shows every crawl (or CRAWL) and every node; --json for scripts.\n");
            return 0;
        } else
            return s_usage_error ("status", "bad option");
    }
    if (argc - optind > 1)
        return s_usage_error ("status", "at most one crawl id");
    zc_msg_t *reply = s_status (endpoint, optind < argc ? argv[optind] : NULL);
    if (!reply)
        return 1;
    const zc_status_reply_t *status = &reply->status_reply;
    if (json) {
        json_t *doc = zc_cli_status_json (status);
        //  A crawl's error (why the broker paused it), when it has one.
        json_t *crawls = json_object_get (doc, "crawls");
        for (size_t i = 0; i < status->crawl_count; i++) {
            json_t *crawl = json_array_get (crawls, i);
            const char *error = status->crawls[i].error;
            if (crawl && error && *error)
                json_object_set_new (crawl, "error", json_string (error));
        }
        json_dumpf (doc, stdout, JSON_INDENT (2));
        printf ("\n");
        json_decref (doc);
    } else {
        zc_cli_status_print (status, stdout);
        for (size_t i = 0; i < status->crawl_count; i++) {
            const char *error = status->crawls[i].error;
            if (error && *error)
                printf ("crawl %s error: %s\n", status->crawls[i].id, error);
        }
    }
    zc_msg_destroy (&reply);
    return 0;
}

static int
s_cmd_wait (const char *endpoint, int argc, char **argv)
{
    long timeout_s = 0;
    static const struct option options[] = {{"timeout", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (opt == 't') {
            if (zc_cli_parse_int (optarg, 1, 86400 * 365, &timeout_s))
                return s_usage_error ("wait", "--timeout must be a number of seconds >= 1");
        } else if (opt == 'h') {
            printf ("usage: zcrawlctl wait CRAWL [--timeout S]\n\n"
                    "Waits until CRAWL is done (exit 0), stopped (exit 1), or the timeout\n"
                    "passes (exit 3). A paused crawl is waited for like a running one.\n");
            return 0;
        } else
            return s_usage_error ("wait", "bad option");
    }
    if (argc - optind != 1)
        return s_usage_error ("wait", "give exactly one crawl id");
    int64_t deadline = timeout_s ? zclock_mono () + timeout_s * 1000 : INT64_MAX;
    while (!zsys_interrupted) {
        zc_msg_t *reply = s_status (endpoint, argv[optind]);
        if (!reply)
            return 1;
        const char *state =
            reply->status_reply.crawl_count == 1 ? reply->status_reply.crawls[0].state : "unknown";
        int rc = 1; //  stopped, unknown
        if (streq (state, "done"))
            rc = 0;
        else if (streq (state, "running") || streq (state, "paused"))
            rc = -1; //  not over yet
        zc_msg_destroy (&reply);
        if (rc >= 0)
            return rc;
        if (zclock_mono () > deadline) {
            fprintf (stderr, "error: crawl %s still running after %ld s\n", argv[optind],
                     timeout_s);
            return 3;
        }
        zclock_sleep (100); //  poll interval
    }
    return 1;
}

static int
s_cmd_stop (const char *endpoint, int argc, char **argv)
{
    if (argc == 2 && (streq (argv[1], "--help") || streq (argv[1], "-h"))) {
        printf ("usage: zcrawlctl stop CRAWL\n\nStops CRAWL; its output files are closed.\n");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        return s_usage_error ("stop", "give exactly one crawl id");
    zc_msg_t request = {.type = ZC_MSG_STOP, .stop = {.crawl = argv[1]}};
    zc_msg_t *reply = s_call (endpoint, &request);
    if (!reply)
        return 1;
    printf ("stopped %s\n", argv[1]);
    zc_msg_destroy (&reply);
    return 0;
}

//  pause CRAWL / resume CRAWL: PAUSE or RESUME, OK -> 0, ERROR -> 1.
static int
s_cmd_pause_resume (const char *endpoint, int argc, char **argv)
{
    bool pause = streq (argv[0], "pause");
    if (argc == 2 && (streq (argv[1], "--help") || streq (argv[1], "-h"))) {
        if (pause)
            printf ("usage: zcrawlctl pause CRAWL\n\n"
                    "Pauses CRAWL: the broker dispatches none of its jobs until 'zcrawlctl\n"
                    "resume'; jobs already running finish and their outcomes are written.\n");
        else
            printf ("usage: zcrawlctl resume CRAWL\n\n"
                    "Resumes a paused CRAWL. A crawl the broker paused itself because it\n"
                    "could not write its output or store (see 'zcrawlctl status') is\n"
                    "reloaded from the store first.\n");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        return s_usage_error (argv[0], "give exactly one crawl id");
    zc_msg_t request = {.type = pause ? ZC_MSG_PAUSE : ZC_MSG_RESUME};
    if (pause)
        request.pause.crawl = argv[1];
    else
        request.resume.crawl = argv[1];
    zc_msg_t *reply = s_call (endpoint, &request);
    if (!reply)
        return 1;
    int rc = 0;
    if (reply->type == ZC_MSG_OK)
        printf ("%s %s\n", pause ? "paused" : "resumed", argv[1]);
    else {
        fprintf (stderr, "error: unexpected %s reply to %s\n", zc_msg_type_str (reply->type),
                 pause ? "PAUSE" : "RESUME");
        rc = 1;
    }
    zc_msg_destroy (&reply);
    return rc;
}

int
main (int argc, char **argv)
{
    const char *endpoint = getenv ("ZCRAWL_CONTROL");
    if (!endpoint || !*endpoint)
        endpoint = DEFAULT_CONTROL;
    int arg = 1;
    while (arg < argc && argv[arg][0] == '-') {
        if (streq (argv[arg], "--help") || streq (argv[arg], "-h")) {
            s_usage (stdout);
            return 0;
        }
        if (streq (argv[arg], "--control") && arg + 1 < argc) {
            endpoint = argv[arg + 1];
            arg += 2;
        } else if (strncmp (argv[arg], "--control=", 10) == 0)
            endpoint = argv[arg++] + 10;
        else {
            fprintf (stderr, "zcrawlctl: unknown option '%s'\n", argv[arg]);
            s_usage (stderr);
            return ZC_CLI_EXIT_USAGE;
        }
    }
    if (arg >= argc) {
        s_usage (stderr);
        return ZC_CLI_EXIT_USAGE;
    }
    const char *command = argv[arg];
    int (*run) (const char *, int, char **) = NULL;
    if (streq (command, "submit"))
        run = s_cmd_submit;
    else if (streq (command, "status"))
        run = s_cmd_status;
    else if (streq (command, "wait"))
        run = s_cmd_wait;
    else if (streq (command, "stop"))
        run = s_cmd_stop;
    else if (streq (command, "pause") || streq (command, "resume"))
        run = s_cmd_pause_resume;
    if (!run) {
        fprintf (stderr, "zcrawlctl: unknown command '%s'\n", command);
        s_usage (stderr);
        return ZC_CLI_EXIT_USAGE;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    return run (endpoint, argc - arg, argv + arg);
}
