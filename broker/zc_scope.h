/*  zc_scope — which URLs a crawl may enqueue (pure: no I/O, no counters).

    Built once per crawl from its options and seeds, then asked about every
    candidate URL (canonical, from zc_url). The checks, in this order (the
    first failing one is the verdict):

    1. url_length: the URL is longer than max_url_bytes (default 2048).
    2. host / domain: the URL's host must be allowed. Allowed are the hosts
       in allowed_hosts ("host" = any port, "host:port" = that port only,
       IPv6 as "[::1]" or "[::1]:8080") and every host that equals an entry
       of allowed_domains or ends with "." + entry. When neither list is
       given, the seeds' host keys (host:port) are the allowed hosts. When
       both are given, matching either is enough. IP addresses never match a
       domain entry, only host entries. The verdict is "domain" when
       allowed_domains is given, else "host".
    3. depth: deeper than max_depth (max_depth < 0 = unlimited).
    4. path_segments: the path has more than max_path_segments non-empty
       segments (default 32).
    5. segment_repeats: one path segment occurs more than
       max_segment_repeats times (default 3), e.g. /a/b/a/b/a/b/a/b.
    6. exclude: the URL matches one of the exclude POSIX EREs.
    7. include: include EREs are given and the URL matches none of them.

    Page limits (max_pages, max_pages_per_host) are counters and stay in
    zc_crawl. allowed_domains entries are checked against the Public Suffix
    List (libpsl's built-in copy): a listed public suffix such as "com" or
    "co.uk" is rejected, since it would put half the web in scope.
*/
#ifndef ZC_SCOPE_H_INCLUDED
#define ZC_SCOPE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "zc_msg.h"

typedef struct zc_scope zc_scope_t;

//  Why a URL is in or out of scope (see the order above).
typedef enum {
    ZC_SCOPE_OK = 0,
    ZC_SCOPE_HOST,            //  host not allowed (or the URL has no host)
    ZC_SCOPE_DOMAIN,          //  host not in an allowed domain nor an allowed host
    ZC_SCOPE_INCLUDE,         //  matches no include expression
    ZC_SCOPE_EXCLUDE,         //  matches an exclude expression
    ZC_SCOPE_DEPTH,           //  deeper than max_depth
    ZC_SCOPE_URL_LENGTH,      //  longer than max_url_bytes
    ZC_SCOPE_PATH_SEGMENTS,   //  more than max_path_segments path segments
    ZC_SCOPE_SEGMENT_REPEATS, //  a path segment repeated more than max_segment_repeats
} zc_scope_verdict_t;

#define ZC_SCOPE_DEFAULT_MAX_URL_BYTES 2048
#define ZC_SCOPE_DEFAULT_MAX_PATH_SEGMENTS 32
#define ZC_SCOPE_DEFAULT_MAX_SEGMENT_REPEATS 3

//  Builds the scope of a crawl from OPTS (borrowed; zero limits mean the
//  defaults above; max_depth < 0 = unlimited) and its SEED_COUNT canonical
//  SEEDS (borrowed; used only when neither allowed_hosts nor
//  allowed_domains is given). Returns NULL and writes a message naming the
//  bad option into ERROR (SIZE bytes), e.g. "exclude[1]: bad regular
//  expression '(': ...", for an invalid regex, host, domain or seed.
zc_scope_t *zc_scope_new (const zc_crawl_opts_t *opts, const char **seeds, size_t seed_count,
                          char *error, size_t size);

//  Destroys the scope. NULL-safe; sets *self_p to NULL.
void zc_scope_destroy (zc_scope_t **self_p);

//  Verdict for CANONICAL_URL (untrusted, expected canonical as zc_url
//  produces it) found at DEPTH. A URL that is not an http(s) URL with a
//  host gets ZC_SCOPE_HOST.
zc_scope_verdict_t zc_scope_check (zc_scope_t *self, const char *canonical_url, uint32_t depth);

//  Short name of VERDICT for logs and counters: "ok", "host", "domain",
//  "include", "exclude", "depth", "url_length", "path_segments",
//  "segment_repeats".
const char *zc_scope_verdict_str (zc_scope_verdict_t verdict);

#endif
