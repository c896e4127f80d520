/*  zc_testsite — the project's own test web site (libmicrohttpd).

    Serves a deterministic site of N generated pages (same seed, same site)
    on a main listener, plus an "external" listener that pages link to but
    the crawler must never visit (scope). It knows its ground truth: the set
    of canonical URLs reachable from "/" within the main host, their titles
    and the outcome a correct crawler records for each. Every request is
    logged to a file (format below) and counted.

    Fixed paths on the main listener (besides the generated pages):
      /                 home, links into the generated pages
      /p/N.html         generated pages (also reached with ?query forms)
      /gzip.html        served with Content-Encoding: gzip
      /redirect/1       302 -> /redirect/2 -> 301 /redirect/3 -> 302 /redirect/final.html
      /slow.html        answers after slow_ms (the crawler's timeout must be shorter)
      /big.html         big_bytes of HTML (larger than the crawler's max body)
      /big-chunked.html the same bytes without Content-Length (chunked)
      /robots.txt       404 for now
    The generator may also emit links to the external listener and non-http
    links (mailto:, javascript:) that a crawler must ignore.

    Scenario hosts (issue 4): the main listener picks the site by the Host
    header. 127.0.0.1 and unknown hosts get the generated site above; these
    names (reached with --resolve NAME:PORT:127.0.0.1) get small hand-written
    sites that misbehave on purpose (zc_testsite_scenarios.c):
      polite.test     robots.txt with Disallow /private/, an Allow exception,
                      a wildcard, Crawl-delay: 0.2; /go-private -> /private/x.html
      flaky.test      /500-then-200, /retry-after (503 +
                      Retry-After: 1 once), /429-date (429 + HTTP date once)
      unavailable.test, reset.test, slow.test: a home linking /always-503,
                      /reset (connection dropped mid-body), /slow (slow_ms);
                      all flaky paths are served on these four hosts
      redirects.test  /loop/a <-> /loop/b, /chain/1 .. 12 hops, /short/1 (2
                      hops), /to-polite (cross-host), /to-external (out of scope)
      charset.test    ISO-8859-1 (header), header beats meta, windows-1252
                      (meta), UTF-8 BOM, invalid UTF-8
      trap.test       endless calendar /cal/Y/M/[D/], relative trap /rel/a/a/...,
                      a 40-segment path
      robots503.test  robots.txt always 503
      extract.test    product pages with known values for extraction rules
    Stateful paths ("the first request fails") count per site object.

    Request log: one line per request, "LISTENER START_MS HOST METHOD URI
    STATUS" (START_MS: wall clock ms when the request line arrived, or when
    the connection was accepted for its first request; HOST:
    the Host header, lowercase, without port, "-" if none).

    The same site can be written to a directory (for nginx-based benchmarks).
*/
#ifndef ZC_TESTSITE_H_INCLUDED
#define ZC_TESTSITE_H_INCLUDED

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t pages;          //  generated pages (0 = 100)
    uint64_t seed;           //  generator seed
    const char *host;        //  listen address of both listeners ("127.0.0.1")
    int port;                //  main listener port, 0 = any
    int external_port;       //  external listener port, 0 = any
    int slow_ms;             //  /slow.html delay (0 = 5000)
    size_t big_bytes;        //  /big.html size (0 = 2 MiB)
    const char *log_path;    //  request log (NULL = none)
    size_t page_bytes;       //  pad generated /p/ pages with filler text to about this size
                             //  (0 = no filler; links and truth are unchanged)
    uint32_t links;          //  about this many links per generated page, on average (0 = the
                             //  generator's own mix: 20 to 40, mean about 30)
    uint32_t hosts;          //  0 = one host (host, above); N > 0: many hosts, see "Hosts mode"
    const char *host_suffix; //  hosts mode: the hosts' domain (NULL = "bench.test")
} zc_testsite_config_t;

/*  Hosts mode (config->hosts = N > 0, for broad-crawl benchmarks): generated
    page i lives on host "h<i % N>.<suffix>", the home page "/" and the fixed
    paths (/gzip.html, /redirect/..., /slow.html, /big*.html) on h0. A link to
    a page on another host is absolute ("http://h<K>.<suffix>:<port>/p/<j>.html",
    no query, no ":<port>" for port 0 or 80); links within a host keep their usual
    variety of forms. The server answers every host alike (pages do not
    depend on the Host header), so does a directory written with
    zc_testsite_write_dir. zc_testsite_url and the truth's "seed" are h0's
    URL; the truth lists every page under its own host. Crawlers reach the
    hosts with curl-style resolve entries (see zc_testsite_host_address). */

typedef struct zc_testsite zc_testsite_t;

//  Starts both listeners. Returns NULL (logged) if a listener cannot start
//  (or config->host_suffix is not a host name).
zc_testsite_t *zc_testsite_new (const zc_testsite_config_t *config);

//  Stops the listeners and frees everything. NULL-safe; sets *self_p = NULL.
void zc_testsite_destroy (zc_testsite_t **self_p);

//  "http://HOST:PORT" of the main and external listeners. Borrowed.
const char *zc_testsite_url (zc_testsite_t *self);
const char *zc_testsite_external_url (zc_testsite_t *self);

//  The ground truth as a new JSON object (caller decrefs):
//  { "seed": "/"-URL, "pages": [ {"url", "title", "final_url"} ... ] (every
//    reachable URL that ends in an item, canonical),
//    "errors": [ {"url", "reason"} ... ] (slow -> "timeout", big -> "too_large"),
//    "external": external base URL,
//    "scenarios": { HOST: {"base", "pages", "errors" (with "attempts",
//      "status", "location" where they matter), "never_requested" (paths),
//      + per host: robots/crawl_delay_ms, requests/min_gap_ms, cut, fields} } }
//  One entry per URL a crawler admits, the outcome of its whole redirect
//  chain: a redirected page is an item under the URL first requested with
//  "final_url" (possibly on another host), a failed chain an error with
//  "location"; hop URLs have no entry of their own (and are never linked).
//  The generated site's pages and errors do not include the scenarios.
json_t *zc_testsite_truth (zc_testsite_t *self);

//  Requests served so far on the main / external listener.
uint64_t zc_testsite_hits (zc_testsite_t *self);
uint64_t zc_testsite_external_hits (zc_testsite_t *self);

//  The ground truth of the site as it is served on config->host:port with
//  the external listener on config->external_port, without starting it
//  (e.g. for a directory written by zc_testsite_write_dir and served by
//  nginx on that port). Same shape as zc_testsite_truth. Caller decrefs.
//  NULL if config->host_suffix is not a host name.
json_t *zc_testsite_truth_static (const zc_testsite_config_t *config);

//  Writes every generated page under DIR as files (DIR/index.html,
//  DIR/p/N.html, ...). Returns 0 or -1.
int zc_testsite_write_dir (const zc_testsite_config_t *config, const char *dir);

//  Hosts mode: the name of host K, "h<K>.<suffix>", into OUT. Returns 0, or
//  -1 if config->hosts is 0, K >= config->hosts, the suffix is not a host
//  name (letters, digits, '-', '.'; at most 63 bytes) or OUT is too small.
int zc_testsite_host_name (const zc_testsite_config_t *config, uint32_t k, char *out, size_t size);

//  A loopback address for host K, distinct for every K < 254^3:
//  "127.A.B.C" with A, B, C in 1..254 (never .0 or .255). Returns 0 or -1.
int zc_testsite_host_address (uint32_t k, char *out, size_t size);

#endif
