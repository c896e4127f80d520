/*  zc_robots_cache — one crawl's robots.txt rules per host (private to
    broker/, used by zc_crawl).

    A host's entry goes through these states:

        unknown --start--> pending --outcome 2xx/3xx/4xx--> ready
                            |   ^                            |
                            |   +-------start (expired)------+
                            |   +--outcome 5xx/none, attempts left (retry)
                            +--outcome 5xx/none, last attempt--> failed

    - unknown: never asked; the host's first URL triggers a robots job.
    - pending: its robots job is out or waiting for a retry (the crawl
      holds the host's URLs meanwhile).
    - ready: a matcher, until it expires (cache_ms after the outcome); then
      robots.txt is fetched again (the old rules stay until the answer).
    - failed: robots.txt stayed unavailable (5xx or no response) after
      max_attempts; the host's URLs are not fetched. Final for the crawl.

    Outcomes (RFC 9309 2.3.1): 2xx is parsed for our product token; 4xx
    means there is no robots.txt and everything is allowed; 3xx (more
    redirects than the fetcher follows) is treated the same; 5xx or no
    response means "disallow all for now" and is retried.

    The cache only keeps the rules: holding the frontier, the retry queue
    and writing errors stay with the crawl.
*/
#ifndef ZC_ROBOTS_CACHE_H_INCLUDED
#define ZC_ROBOTS_CACHE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "zc_msg.h"

typedef struct zc_robots_cache zc_robots_cache_t;

typedef enum {
    ZC_ROBOTS_CACHE_UNKNOWN = 0, //  never asked
    ZC_ROBOTS_CACHE_PENDING,     //  robots job out or waiting for a retry
    ZC_ROBOTS_CACHE_READY,       //  rules known until they expire
    ZC_ROBOTS_CACHE_FAILED,      //  unavailable after max_attempts
} zc_robots_cache_state_t;

//  What zc_robots_cache_outcome did with an outcome.
typedef enum {
    ZC_ROBOTS_CACHE_IGNORED = 0, //  host not pending: nobody waits for it
    ZC_ROBOTS_CACHE_CACHED,      //  now ready
    ZC_ROBOTS_CACHE_RETRY,       //  still pending: fetch again (attempt + 1)
    ZC_ROBOTS_CACHE_GAVE_UP,     //  now failed
} zc_robots_cache_result_t;

typedef struct {
    const char *user_agent;    //  borrowed: our product token is taken from it
    const char *default_token; //  borrowed: the token if USER_AGENT has none
    uint64_t cache_ms;         //  how long ready rules are used
    uint32_t max_attempts;     //  robots jobs per host before it fails (>= 1)
} zc_robots_cache_config_t;

//  Creates an empty cache (every host unknown). CONFIG is borrowed.
zc_robots_cache_t *zc_robots_cache_new (const zc_robots_cache_config_t *config);

//  Destroys the cache. NULL-safe; sets *self_p to NULL.
void zc_robots_cache_destroy (zc_robots_cache_t **self_p);

//  The state of HOST_KEY (expiry not considered).
zc_robots_cache_state_t zc_robots_cache_state (zc_robots_cache_t *self, const char *host_key);

//  True if robots.txt of HOST_KEY must be fetched before its URLs at
//  NOW_MS: unknown, or ready and expired.
bool zc_robots_cache_needs_fetch (zc_robots_cache_t *self, const char *host_key, int64_t now_ms);

//  Marks HOST_KEY pending (a robots job for it goes out) and returns its
//  robots.txt URL, "scheme://authority/robots.txt" of URL (canonical, a URL
//  of that host; or the robots.txt URL itself); caller frees. Returns NULL
//  and changes nothing if URL has no usable authority.
char *zc_robots_cache_start (zc_robots_cache_t *self, const char *host_key, const char *url);

//  Records OUTCOME (borrowed) of the robots job of HOST_KEY, attempt
//  ATTEMPT (>= 1), received at NOW_MS; see the top comment. A pending
//  host with a 5xx or no response stays pending while ATTEMPT is below
//  max_attempts (RETRY; the caller sends attempt + 1), else fails.
zc_robots_cache_result_t zc_robots_cache_outcome (zc_robots_cache_t *self, const char *host_key,
                                                  uint32_t attempt, const zc_robots_t *outcome,
                                                  int64_t now_ms);

//  True unless the rules of HOST_KEY disallow URL. A host without rules
//  (unknown, or pending for the first time) is allowed; a pending host
//  keeps its previous rules.
bool zc_robots_cache_allowed (zc_robots_cache_t *self, const char *host_key, const char *url);

//  Why robots.txt of a failed HOST_KEY is unavailable ("robots.txt
//  unavailable: HTTP 503"); borrowed, valid while the cache lives. NULL
//  unless failed.
const char *zc_robots_cache_failure (zc_robots_cache_t *self, const char *host_key);

//  Crawl-delay of the rules of HOST_KEY in ms, or -1 if none was given or
//  there are no rules.
int64_t zc_robots_cache_crawl_delay_ms (zc_robots_cache_t *self, const char *host_key);

#endif
