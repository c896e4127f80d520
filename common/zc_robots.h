/*  zc_robots — robots.txt (RFC 9309) parsing and matching.

    Parsing keeps only what a crawler with one user agent needs: the rules of
    the group(s) that apply to it (RFC 9309 2.2.1: the groups whose
    user-agent line matches our product token case-insensitively, merged;
    else the '*' groups, merged; else none = allow all), its Crawl-delay, and
    every Sitemap line. Matching is RFC 9309 2.2.2: the longest matching
    path pattern wins, Allow wins a tie, '*' matches any run of characters,
    a trailing '$' anchors the end, and percent-encodings compare equal to
    the characters they encode (except %2F, '/' stays distinct). /robots.txt
    itself is always allowed. Only the first 500 KiB are parsed.

    Used by the broker (before dispatch) and by fetchers (same-host redirect
    hops, with the rules the job carries), and by `zcrawl robots`.
*/
#ifndef ZC_ROBOTS_H_INCLUDED
#define ZC_ROBOTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zc_msg.h"

#define ZC_ROBOTS_MAX_BYTES (500u * 1024)

//  The matcher. (Named _matcher_t because zc_msg.h's ROBOTS message struct
//  is zc_robots_t.)
typedef struct zc_robots_matcher zc_robots_matcher_t;

//  Parses BODY (SIZE bytes, untrusted; only the first ZC_ROBOTS_MAX_BYTES
//  are read) for the crawler whose product token is USER_AGENT_TOKEN (e.g.
//  "zcrawl"; see zc_robots_product_token). Never fails on any input.
zc_robots_matcher_t *zc_robots_parse (const char *body, size_t size, const char *user_agent_token);

//  A matcher that allows everything (4xx robots.txt, or --ignore-robots).
zc_robots_matcher_t *zc_robots_allow_all (void);

//  A matcher that disallows everything (5xx or unreachable robots.txt).
zc_robots_matcher_t *zc_robots_disallow_all (void);

//  Builds a matcher from rules as carried in a job (zc_job_t.robots).
zc_robots_matcher_t *zc_robots_from_rules (const zc_robots_rule_t *rules, size_t count);

//  NULL-safe; sets *self_p to NULL.
void zc_robots_destroy (zc_robots_matcher_t **self_p);

//  True if PATH_AND_QUERY (the URL's path, with "?query" if any, as it
//  appears in the URL; "" counts as "/") may be fetched.
bool zc_robots_allowed (const zc_robots_matcher_t *self, const char *path_and_query);

//  Same for a whole absolute URL (path and query are taken from it).
bool zc_robots_allowed_url (const zc_robots_matcher_t *self, const char *url);

//  Crawl-delay of the selected group in ms, or -1 if none was given.
int64_t zc_robots_crawl_delay_ms (const zc_robots_matcher_t *self);

//  The selected rules, in the form jobs carry them. Borrowed, valid for
//  the matcher's lifetime.
const zc_robots_rule_t *zc_robots_rules (const zc_robots_matcher_t *self, size_t *count);

//  Sitemap URLs listed in the file (all groups). Borrowed.
const char *const *zc_robots_sitemaps (const zc_robots_matcher_t *self, size_t *count);

//  Writes the product token of a User-Agent header value into BUF: the
//  leading run of [A-Za-z_-] characters ("zcrawl/0.1 (+...)" -> "zcrawl").
//  Returns 0, or -1 if there is none or BUF is too small.
int zc_robots_product_token (const char *user_agent, char *buf, size_t size);

#endif
