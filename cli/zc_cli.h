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

#include "zc_spec.h"

//  Crawl options as given on a command line, merged with an optional crawl
//  spec. Parse with zc_cli_crawl_option / zc_cli_crawl_add_argument, then
//  zc_cli_crawl_finish merges: the spec (or an empty crawl when there is
//  none) is the base; scalar flags given on the command line replace the
//  spec's values; list flags (--allow-host, --include, ...) and seeds add
//  to the spec's lists, except that --header and --extract replace a spec
//  entry of the same name. After finish, seeds/output/errors/opts hold the
//  crawl to submit; strings are borrowed from argv or owned by the spec or
//  by this struct.
typedef struct {
    const char **seeds; //  owned array of borrowed strings
    size_t seed_count;
    const char *output; //  items path ("" = broker default)
    const char *errors; //  errors path ("" = derived)
    zc_crawl_opts_t opts;
    //  Private to zc_cli:
    const char *spec_path; //  borrowed from argv, NULL if none
    zc_spec_t *spec;       //  owned, loaded by finish
    bool given[64];        //  crawl options seen, by opt - ZC_CLI_CRAWL_OPTION_BASE
    zlist_t *flag_values;  //  owned: repeatable flags in order (opt, value)
    zlist_t *owned;        //  owned heap blocks the merged crawl points to
} zc_cli_crawl_t;

//  getopt_long entries for the crawl options, to splice into a program's
//  option table; their values start at ZC_CLI_CRAWL_OPTION_BASE so that
//  programs keep the values below it for their own options.
#define ZC_CLI_CRAWL_OPTION_BASE 1000
enum {
    ZC_CLI_OPT_ERRORS = ZC_CLI_CRAWL_OPTION_BASE + 1,
    ZC_CLI_OPT_MAX_DEPTH,
    ZC_CLI_OPT_MAX_PAGES,
    ZC_CLI_OPT_HOST_CONCURRENCY,
    ZC_CLI_OPT_HOST_DELAY,
    ZC_CLI_OPT_CONNECT_TIMEOUT,
    ZC_CLI_OPT_TIMEOUT,
    ZC_CLI_OPT_MAX_BODY,
    ZC_CLI_OPT_MAX_REDIRECTS,
    ZC_CLI_OPT_USER_AGENT,
    ZC_CLI_OPT_ALLOW_PRIVATE,
    ZC_CLI_OPT_IMPOLITE,
    ZC_CLI_OPT_IGNORE_ROBOTS,
    ZC_CLI_OPT_CRAWL_DELAY_CAP,
    ZC_CLI_OPT_MAX_ATTEMPTS,
    ZC_CLI_OPT_RETRY_BASE,
    ZC_CLI_OPT_ALLOW_HOST,
    ZC_CLI_OPT_ALLOW_DOMAIN,
    ZC_CLI_OPT_INCLUDE,
    ZC_CLI_OPT_EXCLUDE,
    ZC_CLI_OPT_MAX_PAGES_PER_HOST,
    ZC_CLI_OPT_MAX_URL_LENGTH,
    ZC_CLI_OPT_MAX_PATH_SEGMENTS,
    ZC_CLI_OPT_MAX_SEGMENT_REPEATS,
    ZC_CLI_OPT_HEADER,
    ZC_CLI_OPT_RESOLVE,
    ZC_CLI_OPT_EXTRACT,
    ZC_CLI_OPT_SPEC,
    ZC_CLI_OPT_END
};
#define ZC_CLI_CRAWL_LONG_OPTIONS                                                                  \
    {"output", required_argument, NULL, 'o'},                                                      \
        {"errors", required_argument, NULL, ZC_CLI_OPT_ERRORS},                                    \
        {"max-depth", required_argument, NULL, ZC_CLI_OPT_MAX_DEPTH},                              \
        {"max-pages", required_argument, NULL, ZC_CLI_OPT_MAX_PAGES},                              \
        {"host-concurrency", required_argument, NULL, ZC_CLI_OPT_HOST_CONCURRENCY},                \
        {"host-delay", required_argument, NULL, ZC_CLI_OPT_HOST_DELAY},                            \
        {"connect-timeout", required_argument, NULL, ZC_CLI_OPT_CONNECT_TIMEOUT},                  \
        {"timeout", required_argument, NULL, ZC_CLI_OPT_TIMEOUT},                                  \
        {"max-body", required_argument, NULL, ZC_CLI_OPT_MAX_BODY},                                \
        {"max-redirects", required_argument, NULL, ZC_CLI_OPT_MAX_REDIRECTS},                      \
        {"user-agent", required_argument, NULL, ZC_CLI_OPT_USER_AGENT},                            \
        {"allow-private", no_argument, NULL, ZC_CLI_OPT_ALLOW_PRIVATE},                            \
        {"impolite", no_argument, NULL, ZC_CLI_OPT_IMPOLITE},                                      \
        {"ignore-robots", no_argument, NULL, ZC_CLI_OPT_IGNORE_ROBOTS},                            \
        {"crawl-delay-cap", required_argument, NULL, ZC_CLI_OPT_CRAWL_DELAY_CAP},                  \
        {"max-attempts", required_argument, NULL, ZC_CLI_OPT_MAX_ATTEMPTS},                        \
        {"retry-base", required_argument, NULL, ZC_CLI_OPT_RETRY_BASE},                            \
        {"allow-host", required_argument, NULL, ZC_CLI_OPT_ALLOW_HOST},                            \
        {"allow-domain", required_argument, NULL, ZC_CLI_OPT_ALLOW_DOMAIN},                        \
        {"include", required_argument, NULL, ZC_CLI_OPT_INCLUDE},                                  \
        {"exclude", required_argument, NULL, ZC_CLI_OPT_EXCLUDE},                                  \
        {"max-pages-per-host", required_argument, NULL, ZC_CLI_OPT_MAX_PAGES_PER_HOST},            \
        {"max-url-length", required_argument, NULL, ZC_CLI_OPT_MAX_URL_LENGTH},                    \
        {"max-path-segments", required_argument, NULL, ZC_CLI_OPT_MAX_PATH_SEGMENTS},              \
        {"max-segment-repeats", required_argument, NULL, ZC_CLI_OPT_MAX_SEGMENT_REPEATS},          \
        {"header", required_argument, NULL, ZC_CLI_OPT_HEADER},                                    \
        {"resolve", required_argument, NULL, ZC_CLI_OPT_RESOLVE},                                  \
        {"extract", required_argument, NULL, ZC_CLI_OPT_EXTRACT},                                  \
    {                                                                                              \
        "spec", required_argument, NULL, ZC_CLI_OPT_SPEC                                           \
    }
#define ZC_CLI_CRAWL_OPTIONS_HELP                                                                  \
    "crawl options (* = repeatable; flags override the spec's values):\n"                          \
    "      --spec FILE           YAML crawl spec (docs/SPEC.md); an argument ending in\n"          \
    "                            .yaml or .yml is a spec too\n"                                    \
    "  -o, --output PATH         items file (JSON Lines; default <crawl>.items.jsonl)\n"           \
    "      --errors PATH         errors file (default: output with .errors.jsonl)\n"               \
    "scope:\n"                                                                                     \
    "      --max-depth N         follow links at most N hops from a seed (default unlimited)\n"    \
    "      --max-pages N         admit at most N URLs (default unlimited)\n"                       \
    "      --max-pages-per-host N  admit at most N URLs per host (default unlimited)\n"            \
    "      --allow-host HOST*    crawl HOST or HOST:PORT (default: the seeds' hosts)\n"            \
    "      --allow-domain DOM*   crawl DOM and its subdomains (registrable domain)\n"              \
    "      --include REGEX*      only URLs matching one of these (POSIX ERE)\n"                    \
    "      --exclude REGEX*      never URLs matching one of these (POSIX ERE)\n"                   \
    "      --max-url-length N    longer URLs are out of scope (default 2048 bytes)\n"              \
    "      --max-path-segments N trap guard: more path segments are out (default 32)\n"            \
    "      --max-segment-repeats N  trap guard: a segment repeated more is out (default 3)\n"      \
    "politeness:\n"                                                                                \
    "      --impolite            for your own sites: no delay, no Crawl-delay, 64 per host\n"      \
    "      --host-concurrency N  requests in flight per host (default 2; 64 if impolite)\n"        \
    "      --host-delay MS       gap between request starts to one host (default 1000)\n"          \
    "      --crawl-delay-cap S   honour robots.txt Crawl-delay up to S seconds (default 30)\n"     \
    "      --ignore-robots       do not fetch or obey robots.txt\n"                                \
    "fetch:\n"                                                                                     \
    "      --connect-timeout S   connect timeout, seconds (default 10)\n"                          \
    "      --timeout S           whole-transfer timeout per hop, seconds (default 30)\n"           \
    "      --max-body BYTES      largest body, K/M/G suffixes allowed (default 10M)\n"             \
    "      --max-redirects N     redirect hops followed (default 10)\n"                            \
    "      --max-attempts N      tries per URL on timeouts, 5xx, 429... (default 3)\n"             \
    "      --retry-base MS       first retry delay, doubled per attempt (default 1000)\n"          \
    "      --user-agent STRING   User-Agent (default zcrawl/0.1 (+https://example.invalid/...))\n" \
    "      --header 'N: V'*      extra request header\n"                                           \
    "      --resolve H:P:ADDR*   connect to ADDR for host H, port P (like curl --resolve)\n"       \
    "      --allow-private       allow crawling loopback and private addresses (127.0.0.1)\n"      \
    "extraction:\n"                                                                                \
    "      --extract NAME=CSS*   item field NAME: text of the first match of CSS\n"

//  Sets defaults (all zero = broker defaults; max_depth -1).
void zc_cli_crawl_init (zc_cli_crawl_t *crawl);

//  Frees what zc_cli_crawl_init / _option / _finish allocated.
void zc_cli_crawl_fini (zc_cli_crawl_t *crawl);

//  Handles one getopt_long result OPT (with optarg) if it is a crawl option.
//  Returns 1 if handled, 0 if not a crawl option, -1 on a bad value (the
//  error is printed).
int zc_cli_crawl_option (zc_cli_crawl_t *crawl, int opt, const char *arg);

//  Adds a seed (borrowed) after checking that it is a usable http(s) URL.
//  Returns 0, or -1 with the error printed.
int zc_cli_crawl_add_seed (zc_cli_crawl_t *crawl, const char *seed);

//  A positional argument: a spec path if it ends in .yaml or .yml (at most
//  one spec in all, --spec included), else a seed. 0, or -1 (printed).
int zc_cli_crawl_add_argument (zc_cli_crawl_t *crawl, const char *arg);

//  Loads the spec (if any) and merges it with the flags (see
//  zc_cli_crawl_t). Call once, after parsing. Returns 0, or -1 with the
//  error printed (a usage error: exit ZC_CLI_EXIT_USAGE).
int zc_cli_crawl_finish (zc_cli_crawl_t *crawl);

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
