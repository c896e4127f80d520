/*  zc_robots_cache — robots.txt rules per host; see zc_robots_cache.h.

    One record per host ever asked, in a hash by host key; an unknown host
    has no record. A record is created only when a robots job can actually
    go out (zc_robots_cache_start with a usable URL), so a URL without an
    authority never leaves its host pending forever.

    Re-fetching an expired robots.txt keeps the old matcher until the new
    outcome, so the host's URLs are judged by the last rules seen rather
    than by none.
*/
#include "zc_robots_cache.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>

#include "zc_robots.h"
#include "zc_util.h"

//  robots.txt of one host.
typedef struct {
    zc_robots_cache_state_t state;
    zc_robots_matcher_t *matcher; //  owned; NULL until a first outcome
    int64_t expires_ms;           //  when ready: re-fetch after this
    char *failure;                //  owned: why it is unavailable (failed)
} s_host_t;

struct zc_robots_cache {
    zhashx_t *hosts; //  owned: host key -> s_host_t (owned)
    char token[64];  //  our product token for robots.txt
    uint64_t cache_ms;
    uint32_t max_attempts;
};

static void
s_host_destroy (void **item_p)
{
    s_host_t *host = (s_host_t *)*item_p;
    if (!host)
        return;
    zc_robots_destroy (&host->matcher);
    free (host->failure);
    free (host);
    *item_p = NULL;
}

zc_robots_cache_t *
zc_robots_cache_new (const zc_robots_cache_config_t *config)
{
    assert (config);
    assert (config->default_token);
    zc_robots_cache_t *self = (zc_robots_cache_t *)zmalloc (sizeof (zc_robots_cache_t));
    const char *user_agent = config->user_agent ? config->user_agent : "";
    if (zc_robots_product_token (user_agent, self->token, sizeof self->token) != 0)
        snprintf (self->token, sizeof self->token, "%s", config->default_token);
    self->cache_ms = config->cache_ms;
    self->max_attempts = config->max_attempts;
    self->hosts = zhashx_new ();
    zhashx_set_destructor (self->hosts, s_host_destroy);
    return self;
}

void
zc_robots_cache_destroy (zc_robots_cache_t **self_p)
{
    assert (self_p);
    zc_robots_cache_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

static s_host_t *
s_lookup (zc_robots_cache_t *self, const char *host_key)
{
    assert (self);
    assert (host_key);
    return (s_host_t *)zhashx_lookup (self->hosts, host_key);
}

zc_robots_cache_state_t
zc_robots_cache_state (zc_robots_cache_t *self, const char *host_key)
{
    s_host_t *host = s_lookup (self, host_key);
    return host ? host->state : ZC_ROBOTS_CACHE_UNKNOWN;
}

bool
zc_robots_cache_needs_fetch (zc_robots_cache_t *self, const char *host_key, int64_t now_ms)
{
    s_host_t *host = s_lookup (self, host_key);
    return !host || (host->state == ZC_ROBOTS_CACHE_READY && now_ms >= host->expires_ms);
}

//  "scheme://authority/robots.txt" for URL (canonical); NULL if malformed.
static char *
s_robots_url (const char *url)
{
    const char *authority = strstr (url, "://");
    if (!authority)
        return NULL;
    authority += 3;
    size_t length = strcspn (authority, "/?#");
    if (length == 0)
        return NULL;
    return zsys_sprintf ("%.*s/robots.txt", (int)(authority - url) + (int)length, url);
}

char *
zc_robots_cache_start (zc_robots_cache_t *self, const char *host_key, const char *url)
{
    assert (url);
    s_host_t *host = s_lookup (self, host_key);
    char *robots_url = s_robots_url (url);
    if (!robots_url)
        return NULL;
    if (!host) {
        host = (s_host_t *)zmalloc (sizeof (s_host_t));
        int rc = zhashx_insert (self->hosts, host_key, host);
        assert (rc == 0);
    }
    host->state = ZC_ROBOTS_CACHE_PENDING;
    return robots_url;
}

//  robots.txt of HOST stays unavailable: no rules, and the reason.
static void
s_host_fail (s_host_t *host, const zc_robots_t *outcome)
{
    host->state = ZC_ROBOTS_CACHE_FAILED;
    zc_robots_destroy (&host->matcher);
    free (host->failure);
    if (outcome->status)
        host->failure = zsys_sprintf ("robots.txt unavailable: HTTP %u", outcome->status);
    else
        host->failure =
            zsys_sprintf ("robots.txt unavailable: %s",
                          outcome->reason && *outcome->reason ? outcome->reason : "no response");
}

zc_robots_cache_result_t
zc_robots_cache_outcome (zc_robots_cache_t *self, const char *host_key, uint32_t attempt,
                         const zc_robots_t *outcome, int64_t now_ms)
{
    assert (outcome);
    s_host_t *host = s_lookup (self, host_key);
    if (!host || host->state != ZC_ROBOTS_CACHE_PENDING)
        return ZC_ROBOTS_CACHE_IGNORED;
    uint32_t status = outcome->status;
    zc_robots_matcher_t *matcher = NULL;
    if (status >= 200 && status < 300)
        matcher = zc_robots_parse ((const char *)outcome->body, outcome->body_size, self->token);
    else if (status >= 300 && status < 500)
        //  4xx: no robots.txt, allow all (RFC 9309 2.3.1.3); 3xx: more
        //  redirects than the fetcher follows, "unavailable" likewise
        matcher = zc_robots_allow_all ();
    else if (attempt < self->max_attempts)
        //  5xx or unreachable: disallow all (the host stays pending) and retry
        return ZC_ROBOTS_CACHE_RETRY;
    else {
        s_host_fail (host, outcome);
        return ZC_ROBOTS_CACHE_GAVE_UP;
    }
    zc_robots_destroy (&host->matcher);
    host->matcher = matcher;
    host->state = ZC_ROBOTS_CACHE_READY;
    host->expires_ms = now_ms + (int64_t)self->cache_ms;
    return ZC_ROBOTS_CACHE_CACHED;
}

bool
zc_robots_cache_allowed (zc_robots_cache_t *self, const char *host_key, const char *url)
{
    assert (url);
    s_host_t *host = s_lookup (self, host_key);
    return !host || !host->matcher || zc_robots_allowed_url (host->matcher, url);
}

const char *
zc_robots_cache_failure (zc_robots_cache_t *self, const char *host_key)
{
    s_host_t *host = s_lookup (self, host_key);
    return host && host->state == ZC_ROBOTS_CACHE_FAILED ? host->failure : NULL;
}

int64_t
zc_robots_cache_crawl_delay_ms (zc_robots_cache_t *self, const char *host_key)
{
    s_host_t *host = s_lookup (self, host_key);
    return host && host->matcher ? zc_robots_crawl_delay_ms (host->matcher) : -1;
}
