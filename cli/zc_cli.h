/*  zc_cli — what the two command-line programs share: parsing crawl
    options (zcrawl local and zcrawlctl submit take the same ones), the
    control client (SUBMIT / STATUS / STOP over a DEALER), and printing
    status.

    Argument errors are reported on stderr and the programs exit 2
    (ZC_CLI_EXIT_USAGE); runtime failures exit 1.
*/
#ifndef ZC_CLI_H_INCLUDED
#define ZC_CLI_H_INCLUDED

#include <czmq.h>
#include <getopt.h>
#include <jansson.h>
#include "zc_msg.h"

#define ZC_CLI_EXIT_USAGE 2

//  Crawl options as given on a command line; strings borrowed from argv.
typedef struct {
    const char **seeds; //  owned array of borrowed strings
    size_t seed_count;
    const char *output; //  items path ("" = broker default)
    const char *errors; //  errors path ("" = derived)
    zc_crawl_opts_t opts;
} zc_cli_crawl_t;

//  getopt_long entries for the crawl options, to splice into a program's
//  option table; their values start at ZC_CLI_CRAWL_OPTION_BASE so that
//  programs keep the values below it for their own options.
#define ZC_CLI_CRAWL_OPTION_BASE 1000
#define ZC_CLI_CRAWL_LONG_OPTIONS                                                                  \
    {"output", required_argument, NULL, 'o'},                                                      \
        {"errors", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 1},                         \
        {"max-depth", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 2},                      \
        {"max-pages", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 3},                      \
        {"host-concurrency", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 4},               \
        {"host-delay", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 5},                     \
        {"connect-timeout", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 6},                \
        {"timeout", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 7},                        \
        {"max-body", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 8},                       \
        {"max-redirects", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 9},                  \
        {"user-agent", required_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 10},                    \
    {                                                                                              \
        "allow-private", no_argument, NULL, ZC_CLI_CRAWL_OPTION_BASE + 11                          \
    }
#define ZC_CLI_CRAWL_OPTIONS_HELP                                                                  \
    "crawl options:\n"                                                                             \
    "  -o, --output PATH         items file (JSON Lines; default <crawl>.items.jsonl)\n"           \
    "      --errors PATH         errors file (default: output with .errors.jsonl)\n"               \
    "      --max-depth N         follow links at most N hops from a seed (default unlimited)\n"    \
    "      --max-pages N         admit at most N URLs (default unlimited)\n"                       \
    "      --host-concurrency N  requests in flight per host (default 8)\n"                        \
    "      --host-delay MS       minimum gap between requests to one host (default 0)\n"           \
    "      --connect-timeout S   connect timeout, seconds (default 10)\n"                          \
    "      --timeout S           whole-transfer timeout per hop, seconds (default 30)\n"           \
    "      --max-body BYTES      largest body, K/M/G suffixes allowed (default 10M)\n"             \
    "      --max-redirects N     redirect hops followed (default 10)\n"                            \
    "      --user-agent STRING   User-Agent header (default names zcrawl)\n"                       \
    "      --allow-private       allow crawling loopback and private addresses (127.0.0.1)\n"

//  Sets defaults (all zero = broker defaults; max_depth -1).
void zc_cli_crawl_init (zc_cli_crawl_t *crawl);

//  Frees what zc_cli_crawl_init / _parse allocated.
void zc_cli_crawl_fini (zc_cli_crawl_t *crawl);

//  Handles one getopt_long result OPT (with optarg) if it is a crawl option.
//  Returns 1 if handled, 0 if not a crawl option, -1 on a bad value (the
//  error is printed).
int zc_cli_crawl_option (zc_cli_crawl_t *crawl, int opt, const char *arg);

//  Adds a seed (borrowed) after checking that it is a usable http(s) URL.
//  Returns 0, or -1 with the error printed.
int zc_cli_crawl_add_seed (zc_cli_crawl_t *crawl, const char *seed);

//  Parses a non-negative integer with optional K/M/G suffix (binary). 0 or -1.
int zc_cli_parse_size (const char *text, uint64_t *value);

//  Parses a non-negative integer within [min, max]. 0 or -1.
int zc_cli_parse_int (const char *text, long min, long max, long *value);

//  A connected control client. Returns NULL if ENDPOINT is invalid.
zsock_t *zc_cli_control_connect (const char *endpoint);

//  Sends REQUEST and waits up to TIMEOUT_MS for the reply. Returns the
//  decoded reply (caller destroys) or NULL (error printed) on timeout or a
//  bad reply.
zc_msg_t *zc_cli_control_call (zsock_t *control, const zc_msg_t *request, int timeout_ms);

//  Status reply as JSON (new reference).
json_t *zc_cli_status_json (const zc_status_reply_t *status);

//  Human-readable status table to FILE.
void zc_cli_status_print (const zc_status_reply_t *status, FILE *file);

//  Makes PATH absolute against the current directory (the broker may run
//  elsewhere). Returns a new string; "" stays "".
char *zc_cli_absolute_path (const char *path);

#endif
