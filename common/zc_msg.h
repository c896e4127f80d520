/*  zc_msg — the zcrawl wire codec (protocol v1).

    Every message between zcrawl nodes is a multipart ZeroMQ message: frame 1
    is a msgpack map holding "v" (protocol version), "t" (type name) and the
    type's fields; frame 2 exists only for PAGE and holds the raw body.
    docs/PROTOCOL.md is the normative description; this module is the only
    code that touches msgpack.

    Two directions, two ownership rules:
    - Encoding: the caller fills a zc_msg_t (usually on the stack) whose
      string and array fields are BORROWED for the duration of the call.
    - Decoding: zc_msg_decode returns a heap zc_msg_t that OWNS everything its
      fields point to (strings, arrays and, for PAGE, the body frame); free it
      with zc_msg_destroy. Decoded strings are NUL-terminated UTF-8 bytes as
      received (the codec does not validate UTF-8).

    Everything decoded comes from the network and is untrusted: every declared
    array/map/string size is checked against the bytes actually remaining
    before anything is allocated, so a 5-byte header cannot make us allocate
    gigabytes. Unknown fields are ignored; missing or wrongly typed required
    fields are a decode error.
*/
#ifndef ZC_MSG_H_INCLUDED
#define ZC_MSG_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZC_PROTOCOL_VERSION 1

//  Largest frame 1 we accept on any socket (jobs batches, results with many
//  links). Body frames are limited separately by ZC_MSG_MAX_BODY_BYTES.
#define ZC_MSG_MAX_HEADER_BYTES (16u * 1024 * 1024)
//  Largest PAGE body frame a parser node accepts (the fetcher's per-crawl
//  max_body_bytes must not exceed it).
#define ZC_MSG_MAX_BODY_BYTES (64u * 1024 * 1024)

typedef enum {
    //  node <-> broker, on the broker's jobs ROUTER
    ZC_MSG_HELLO = 1,    //  node -> broker: register
    ZC_MSG_WELCOME,      //  broker -> node: epoch and results endpoint
    ZC_MSG_READY,        //  fetcher -> broker: credit for more jobs
    ZC_MSG_JOBS,         //  broker -> fetcher: batch of jobs
    ZC_MSG_PARSERS,      //  broker -> fetcher: current parser endpoints
    ZC_MSG_HEARTBEAT,    //  both ways
    ZC_MSG_FETCH_FAILED, //  fetcher -> broker: job ended without a page
    ZC_MSG_ROBOTS,       //  fetcher -> broker: robots.txt outcome
    //  fetcher -> parser node front; parser actor -> broker results
    ZC_MSG_PAGE,
    ZC_MSG_RESULT,
    //  control: zcrawlctl DEALER -> broker control ROUTER, and replies
    ZC_MSG_SUBMIT,
    ZC_MSG_STATUS,
    ZC_MSG_STOP,
    ZC_MSG_OK,
    ZC_MSG_ERROR,
    ZC_MSG_STATUS_REPLY,
    //  Added for reliability (issue 5); appended to keep the numbering:
    ZC_MSG_ACCEPT, //  parser node -> broker (jobs): it now holds these jobs
    ZC_MSG_BYE,    //  node -> broker (jobs): leaving, requeue my jobs now
    ZC_MSG_PAUSE,  //  control: stop dispatching a crawl's jobs
    ZC_MSG_RESUME, //  control: dispatch a paused crawl's jobs again
} zc_msg_type_t;

#define ZC_MSG_TYPE_COUNT (ZC_MSG_RESUME + 1)

typedef enum {
    ZC_MSG_DECODE_OK = 0,
    ZC_MSG_DECODE_FRAMES,    //  wrong number of frames for the type
    ZC_MSG_DECODE_MALFORMED, //  not valid msgpack, truncated, or trailing bytes
    ZC_MSG_DECODE_TOO_LARGE, //  a declared size exceeds the bytes available or a limit
    ZC_MSG_DECODE_VERSION,   //  missing or unsupported "v"
    ZC_MSG_DECODE_TYPE,      //  missing or unknown "t"
    ZC_MSG_DECODE_FIELD,     //  a required field is missing or has the wrong type
} zc_msg_decode_status_t;

//  Per-job fetch options; they travel with every job (protocol v1) so the
//  fetcher needs no per-crawl state.
typedef struct {
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;     //  whole transfer, per hop
    uint64_t max_body_bytes; //  larger bodies end the job with reason too_large
    uint32_t max_redirects;  //  hops per chain (each hop is a job via the broker)
    bool allow_private;      //  SSRF guard off (needed for 127.0.0.1)
    const char *user_agent;  //  "" = fetcher default
    //  Optional (added for crawl semantics; absent = empty):
    const char **headers; //  extra request headers, each "Name: value"
    size_t header_count;
    const char **resolve; //  curl-style "HOST:PORT:ADDRESS" overrides of DNS
    size_t resolve_count;
} zc_fetch_opts_t;

//  One robots.txt rule of the group that applies to the crawl's user agent
//  (RFC 9309), as the broker's zc_robots matcher selected it.
typedef struct {
    bool allow;       //  Allow (true) or Disallow (false)
    const char *path; //  the rule's path pattern, '*' and '$' as in RFC 9309
} zc_robots_rule_t;

//  What an extraction rule takes from each matched node.
typedef enum {
    ZC_TAKE_TEXT = 0, //  text content, whitespace collapsed
    ZC_TAKE_HTML,     //  inner HTML
    ZC_TAKE_ATTR,     //  the attribute named by attr
} zc_take_t;

//  A named extraction rule of the crawl spec; travels with each job and
//  PAGE so that parsers need no per-crawl state.
typedef struct {
    const char *name;     //  field name in the item
    const char *selector; //  CSS selector, or XPath when xpath is true
    bool xpath;
    zc_take_t take;
    const char *attr;  //  attribute name for ZC_TAKE_ATTR, else ""
    bool all;          //  every match (array) rather than the first
    const char *regex; //  "" or POSIX ERE; the first capture group (or the
                       //  whole match) replaces the value; no match drops it
} zc_extract_rule_t;

typedef enum {
    ZC_JOB_PAGE = 0, //  fetch and push the page to a parser
    ZC_JOB_ROBOTS,   //  fetch robots.txt and return it to the broker
} zc_job_kind_t;

typedef struct {
    const char *crawl; //  crawl id
    uint64_t id;       //  job (lease) id, unique per broker epoch
    zc_job_kind_t kind;
    const char *url;      //  canonical absolute URL
    uint32_t depth;       //  seeds are depth 0
    uint32_t attempt;     //  1 for the first try
    uint64_t deadline_ms; //  wall clock (ms since 1970) by which the outcome is due
    zc_fetch_opts_t opts;
    //  Optional (absent = empty / 0):
    uint32_t redirects;       //  hops already followed (cross-host redirects
                              //  come back as new jobs and keep counting)
    zc_robots_rule_t *robots; //  the URL's host rules (not sent by zcrawl:
    size_t robots_count;      //  every redirect hop goes through the broker)
    zc_extract_rule_t *rules; //  extraction rules, copied into PAGE
    size_t rule_count;
    const char *origin;  //  "" or the URL whose outcome this job continues (a
                         //  redirect target): PAGE meta.url and FETCH_FAILED.url
                         //  are then the origin
    uint32_t spacing_ms; //  optional: least gap between request starts to this job's
                         //  host that the fetcher keeps (0 = none)
} zc_job_t;

//  Crawl-wide options, sent in SUBMIT. Zero / empty values mean "broker
//  default" except where noted (docs/SPEC.md lists every default).
typedef struct {
    int32_t max_depth;         //  -1 = unlimited
    uint64_t max_pages;        //  0 = unlimited
    uint32_t host_concurrency; //  per-host in-flight limit (default 2; 64 if impolite)
    uint32_t host_delay_ms;    //  minimum gap between request starts to one host
                               //  (default 1000; 0 when impolite)
    zc_fetch_opts_t fetch;
    //  Optional (added for crawl semantics; absent = 0 / empty / false):
    bool impolite;               //  no delay, no Crawl-delay, concurrency 64 unless given
    uint32_t crawl_delay_cap_ms; //  robots Crawl-delay honoured up to this (default 30000)
    bool ignore_robots;          //  do not fetch or obey robots.txt
    uint32_t robots_cache_ms;    //  robots.txt cache lifetime (default 24 h)
    uint32_t max_attempts;       //  tries per URL for retryable failures (default 3)
    uint32_t retry_base_ms;      //  first retry delay (default 1000), doubled per attempt,
                                 //  with jitter
    const char **allowed_hosts;  //  scope: host or host:port; empty = the seeds' hosts
    size_t allowed_host_count;
    const char **allowed_domains; //  scope: registrable domains (and subdomains), libpsl
    size_t allowed_domain_count;
    const char **include; //  POSIX EREs: a URL must match one (if any given)
    size_t include_count;
    const char **exclude; //  POSIX EREs: a URL matching one is out of scope
    size_t exclude_count;
    uint64_t max_pages_per_host;  //  0 = unlimited
    uint32_t max_url_bytes;       //  longer URLs are out of scope (default 2048)
    uint32_t max_path_segments;   //  trap guard (default 32)
    uint32_t max_segment_repeats; //  trap guard: a path segment repeated more
                                  //  than this is a trap (default 3)
    zc_extract_rule_t *rules;     //  extraction rules
    size_t rule_count;
} zc_crawl_opts_t;

//  Response metadata measured by the fetcher, echoed parser -> broker.
typedef struct {
    uint32_t total_ms;
    uint32_t connect_ms;
    uint32_t ttfb_ms; //  time to first byte
} zc_timings_t;

//  Metadata of one fetched page; shared by PAGE and RESULT.
typedef struct {
    const char *crawl;
    uint64_t id;
    const char *url;       //  the requested (canonical) URL: the job's origin if set
    const char *final_url; //  the URL fetched last (redirect target); equals url if none
    uint32_t depth;
    uint32_t attempt;
    uint32_t status;          //  HTTP status of the final response
    const char *content_type; //  "" if the server sent none
    uint64_t fetched_at_ms;   //  wall clock when the response completed
    uint32_t redirects;       //  hops followed
    zc_timings_t timings;
} zc_page_meta_t;

//  One extracted field (extraction rules arrive with the crawl spec).
typedef struct {
    const char *name;
    const char **values;
    size_t value_count;
} zc_field_t;

typedef struct {
    const char *id;       //  node id, unique per process start
    const char *role;     //  "fetcher" or "parser"
    const char *version;  //  zcrawl version string
    uint32_t capacity;    //  fetcher: in-flight limit; parser: actor count
    const char *endpoint; //  parser: advertised front endpoint; fetcher: ""
} zc_hello_t;

typedef struct {
    uint64_t epoch;        //  changes on every broker start
    const char *results;   //  endpoint parser actors push RESULTs to;
                           //  a "*" or 0.0.0.0 host means "the host you
                           //  reached the broker at"
    uint32_t heartbeat_ms; //  interval; a peer is dead after 5 missed
} zc_welcome_t;

typedef struct {
    uint32_t credit; //  additional jobs the fetcher can take now
} zc_ready_t;

typedef struct {
    zc_job_t *jobs;
    size_t job_count;
} zc_jobs_t;

typedef struct {
    const char **endpoints;
    size_t endpoint_count;
} zc_parsers_t;

typedef struct {
    uint64_t epoch;         //  broker epoch the sender believes in (0 if none)
    const char *node;       //  sender id ("broker" for the broker)
    uint64_t decode_errors; //  messages the sender could not decode, total
    uint32_t in_flight;     //  jobs the sender holds now
    uint64_t done;          //  jobs the sender finished, total
} zc_heartbeat_t;

typedef struct {
    zc_page_meta_t meta;
    zc_extract_rule_t *rules; //  optional: the job's extraction rules
    size_t rule_count;
    const void *body; //  decoded: points into the owned body frame
    size_t body_size;
} zc_page_t;

typedef struct {
    zc_page_meta_t meta;
    const char *title;  //  NULL if the page has none (encoded as nil)
    const char **links; //  canonical absolute http(s) URLs, deduplicated per page
    size_t link_count;
    zc_field_t *fields;
    size_t field_count;
    const char *parse_error; //  NULL, or why the body could not be parsed
    uint64_t body_bytes;
    //  Optional (absent = "" / false):
    const char *canonical; //  <link rel="canonical">, resolved; "" if none
    bool noindex;          //  <meta name="robots"> says noindex
    bool nofollow;         //  <meta name="robots"> says nofollow (links then empty);
                           //  links with rel=nofollow are never in links
    const char *charset;   //  the charset the body was decoded from ("" if unknown)
} zc_result_t;

typedef struct {
    const char *crawl;
    uint64_t id;
    const char *url;
    uint32_t attempt;
    const char *reason;   //  dns, connect, timeout, too_large, http, redirect,
                          //  redirect_limit, tls, network, bad_url, blocked, ...
    const char *detail;   //  human-readable, e.g. curl's error text
    uint32_t status;      //  HTTP status if one was received, else 0
    const char *location; //  redirect target when reason is "redirect"; for a
                          //  continuation job the URL that failed; else ""
    uint64_t fetched_at_ms;
    //  Optional (absent = 0):
    uint32_t retry_after_ms; //  from a Retry-After header (429/503), seconds or
                             //  HTTP date converted to a delay from fetched_at
    uint32_t redirects;      //  hops followed before this outcome (job.redirects included)
} zc_fetch_failed_t;

typedef struct {
    const char *crawl;
    uint64_t id;
    const char *url;    //  the robots.txt URL
    uint32_t status;    //  0 if no HTTP response (see reason)
    const char *reason; //  "" on an HTTP response, else as FETCH_FAILED
    const void *body;   //  at most 500 KiB (RFC 9309)
    size_t body_size;
    uint64_t fetched_at_ms;
} zc_robots_t;

typedef struct {
    const char **seeds;
    size_t seed_count;
    const char *output; //  items path on the broker's file system ("" = default)
    const char *errors; //  errors path ("" = derived from output)
    zc_crawl_opts_t opts;
} zc_submit_t;

typedef struct {
    const char *crawl; //  "" = all crawls
} zc_status_t;

typedef struct {
    const char *crawl;
} zc_stop_t;

typedef struct {
    const char *crawl; //  the crawl the request concerned ("" if none)
} zc_ok_t;

typedef struct {
    const char *error; //  human-readable reason
} zc_error_t;

typedef struct {
    const char *id;
    const char *role;
    const char *endpoint;
    uint32_t capacity;
    uint32_t in_flight;
    uint64_t done;
    uint64_t decode_errors;
    uint64_t last_seen_ms;
} zc_node_status_t;

typedef struct {
    const char *id;
    const char *state; //  "running", "paused", "done", "stopped"
    const char *output;
    const char *errors;
    uint64_t pages;     //  items written
    uint64_t failed;    //  error lines written
    uint64_t queued;    //  in the frontier
    uint64_t in_flight; //  dispatched, no outcome yet
    uint64_t started_ms;
    uint64_t elapsed_ms;
    //  Optional (absent = "" = none):
    const char *error; //  why the crawl is paused by the broker (disk trouble)
} zc_crawl_status_t;

typedef struct {
    uint64_t epoch;
    uint64_t decode_errors; //  the broker's own plus every node's last report
    zc_node_status_t *nodes;
    size_t node_count;
    zc_crawl_status_t *crawls;
    size_t crawl_count;
} zc_status_reply_t;

typedef struct {
    const char *node;     //  the parser node's id (as in its HELLO)
    const uint64_t *jobs; //  ids of the jobs whose PAGE it has received
    size_t job_count;
} zc_accept_t;

typedef struct {
    const char *node; //  the leaving node's id (as in its HELLO)
} zc_bye_t;

typedef struct {
    const char *crawl;
} zc_pause_t;

typedef struct {
    const char *crawl;
} zc_resume_t;

typedef struct {
    zc_msg_type_t type;
    union {
        zc_hello_t hello;
        zc_welcome_t welcome;
        zc_ready_t ready;
        zc_jobs_t jobs;
        zc_parsers_t parsers;
        zc_heartbeat_t heartbeat;
        zc_fetch_failed_t fetch_failed;
        zc_robots_t robots;
        zc_page_t page;
        zc_result_t result;
        zc_submit_t submit;
        zc_status_t status;
        zc_stop_t stop;
        zc_ok_t ok;
        zc_error_t error;
        zc_status_reply_t status_reply;
        zc_accept_t accept;
        zc_bye_t bye;
        zc_pause_t pause;
        zc_resume_t resume;
    };
    void *owned_; //  decoder's private storage; NULL for caller-built messages
} zc_msg_t;

//  Encodes MSG (fields borrowed) into a new zmsg_t: frame 1, plus the body
//  frame for PAGE. Caller owns the result. Never fails (OOM aborts).
zmsg_t *zc_msg_encode (const zc_msg_t *msg);

//  Encodes MSG and sends it on SOCK without blocking (ZMQ_DONTWAIT). If
//  ROUTING_ID is not NULL (ROUTER sockets) it is sent first; it stays owned by
//  the caller. Returns 0, or -1 if the message could not be queued (errno from
//  zmq: EAGAIN when the peer's pipe is full, EHOSTUNREACH for a gone peer).
int zc_msg_send (const zc_msg_t *msg, zsock_t *sock, zframe_t *routing_id);

//  Decodes ZMSG, taking ownership of it (*zmsg_p is set to NULL). Returns a
//  new message owned by the caller, or NULL with *status (if not NULL) saying
//  why. Never crashes and never leaks on any input.
zc_msg_t *zc_msg_decode (zmsg_t **zmsg_p, zc_msg_decode_status_t *status);

//  Destroys a decoded message. NULL-safe; sets *self_p to NULL.
void zc_msg_destroy (zc_msg_t **self_p);

//  Reads the job id of a PAGE without decoding it (ZMSG is not taken and not
//  changed, except its frame cursor): for a parser node, which forwards
//  pages undecoded but ACCEPTs their job ids. Returns 0 and sets *ID if
//  ZMSG has two frames and frame 1 is a well-formed map with "v" 1, "t"
//  "PAGE" and one "id" that is an unsigned integer; else -1. The rest of the
//  PAGE is not checked (the full decode may still fail).
int zc_msg_page_id (zmsg_t *zmsg, uint64_t *id);

//  Name of a message type as sent in "t" ("HELLO", ...), or "?" if invalid.
const char *zc_msg_type_str (zc_msg_type_t type);

//  Human-readable description of a decode status.
const char *zc_msg_decode_status_str (zc_msg_decode_status_t status);

//  Sets the socket options every zcrawl socket needs: ZMQ_MAXMSGSIZE
//  (MAX_BYTES, so oversized garbage is dropped by libzmq before we see it)
//  and LINGER_MS.
void zc_msg_socket_setup (zsock_t *sock, int64_t max_bytes, int linger_ms);

#endif
