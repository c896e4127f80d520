/*  zc_scope — a crawl's scope rules; see zc_scope.h for the semantics.

    Everything here works on canonical URLs from zc_url, so the host is
    already lowercase and the host key ("host:port", port always explicit)
    comes from zc_url_host_key. Hosts are kept in two hash sets: entries with
    a port match the host key exactly, entries without one match the host
    part. Domains are few, so they are a plain array scanned with a suffix
    comparison. Cheap string checks run before the regular expressions, and
    the URL length check runs first so regexec never sees a huge string.

    The trap guards count path segments in place (no allocation); the repeat
    check is quadratic in the number of segments, which the segment limit
    bounds before it runs.
*/
#include "zc_scope.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <libpsl.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zc_url.h"
#include "zc_util.h"

#define ZC_SCOPE_HOST_KEY_MAX 512

struct zc_scope {
    zhashx_t *host_keys; //  owned: set of "host:port"
    zhashx_t *hosts;     //  owned: set of "host" (any port)
    char **domains;      //  owned: lowercase, no trailing dot
    size_t domain_count;
    regex_t *include; //  owned: include_count compiled expressions
    size_t include_count;
    regex_t *exclude; //  owned
    size_t exclude_count;
    int32_t max_depth; //  < 0 = unlimited
    uint32_t max_url_bytes;
    uint32_t max_path_segments;
    uint32_t max_segment_repeats;
};

void
zc_scope_destroy (zc_scope_t **self_p)
{
    assert (self_p);
    zc_scope_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->host_keys);
    zhashx_destroy (&self->hosts);
    for (size_t i = 0; i < self->domain_count; i++)
        free (self->domains[i]);
    free (self->domains);
    for (size_t i = 0; i < self->include_count; i++)
        regfree (&self->include[i]);
    free (self->include);
    for (size_t i = 0; i < self->exclude_count; i++)
        regfree (&self->exclude[i]);
    free (self->exclude);
    free (self);
    *self_p = NULL;
}

static void
s_lowercase (char *s)
{
    for (; *s; s++)
        *s = (char)tolower ((unsigned char)*s);
}

//  True if HOST (lowercase, IPv6 in brackets) is an IP address literal.
static bool
s_is_ip (const char *host)
{
    if (*host == '[')
        return true;
    struct in_addr addr;
    return inet_pton (AF_INET, host, &addr) == 1;
}

//  Parses PORT (digits only) into 1..65535; -1 if invalid.
static long
s_port (const char *port)
{
    if (!*port || strlen (port) > 5)
        return -1;
    for (const char *p = port; *p; p++)
        if (!isdigit ((unsigned char)*p))
            return -1;
    char *end;
    long value = strtol (port, &end, 10);
    if (*end || value < 1 || value > 65535)
        return -1;
    return value;
}

//  True if HOST (no port) has only characters a host name or IP literal
//  may have after canonicalisation (bytes >= 0x80 allowed for IDNs).
static bool
s_host_chars_ok (const char *host)
{
    if (!*host)
        return false;
    for (const unsigned char *p = (const unsigned char *)host; *p; p++)
        if (!(isalnum (*p) || *p == '-' || *p == '.' || *p == '_' || *p >= 0x80))
            return false;
    return true;
}

//  Adds one allowed_hosts ENTRY ("host", "host:port", "[v6]", "[v6]:port",
//  or a bare IPv6 address). Returns 0 or -1 with ERROR written.
static int
s_add_host (zc_scope_t *self, size_t index, const char *entry, char *error, size_t size)
{
    char *copy = zc_strdup (entry ? entry : "");
    s_lowercase (copy);
    char *host = copy;
    const char *port = NULL;
    bool ok = true;
    if (*copy == '[') {
        char *close = strchr (copy, ']');
        ok = close && close > copy + 1 && (close[1] == 0 || close[1] == ':');
        if (ok) {
            for (char *p = copy + 1; p < close; p++)
                if (!(isxdigit ((unsigned char)*p) || *p == ':' || *p == '.'))
                    ok = false;
            if (close[1] == ':')
                port = close + 2;
            close[1] = 0;
        }
    } else {
        char *colon = strchr (copy, ':');
        if (colon && strchr (colon + 1, ':')) {
            //  Bare IPv6 address: any port
            char *bracketed = zsys_sprintf ("[%s]", copy);
            assert (bracketed);
            free (copy);
            copy = bracketed;
            host = copy;
        } else {
            if (colon) {
                *colon = 0;
                port = colon + 1;
            }
            ok = s_host_chars_ok (host);
        }
    }
    long port_number = port ? s_port (port) : 0;
    if (!ok || port_number < 0) {
        snprintf (error, size, "allowed_hosts[%zu]: '%.200s' is not a host or host:port", index,
                  entry ? entry : "");
        free (copy);
        return -1;
    }
    if (port) {
        char key[ZC_SCOPE_HOST_KEY_MAX];
        snprintf (key, sizeof key, "%.400s:%ld", host, port_number);
        zhashx_update (self->host_keys, key, self);
    } else
        zhashx_update (self->hosts, host, self);
    free (copy);
    return 0;
}

//  Adds one allowed_domains ENTRY. Returns 0 or -1 with ERROR written.
static int
s_add_domain (zc_scope_t *self, size_t index, const char *entry, const psl_ctx_t *psl, char *error,
              size_t size)
{
    char *domain = zc_strdup (entry ? entry : "");
    s_lowercase (domain);
    size_t length = strlen (domain);
    if (length > 0 && domain[length - 1] == '.')
        domain[--length] = 0;
    const char *problem = NULL;
    if (!s_host_chars_ok (domain) || domain[0] == '.' || strstr (domain, ".."))
        problem = "is not a domain name";
    else if (s_is_ip (domain))
        problem = "is an IP address (use allowed_hosts)";
    //  Only listed suffixes count: a local name like "test" or "localhost"
    //  is a fine domain for one's own machines
    else if (psl && psl_is_public_suffix2 (psl, domain, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
        problem = "is a public suffix, not a registrable domain";
    if (problem) {
        snprintf (error, size, "allowed_domains[%zu]: '%.200s' %s", index, entry ? entry : "",
                  problem);
        free (domain);
        return -1;
    }
    self->domains[self->domain_count++] = domain;
    return 0;
}

//  Compiles COUNT expressions into *OUT. Returns 0 or -1 with ERROR
//  written naming OPTION[index]; *COMPILED counts what must be freed.
static int
s_compile (const char *option, const char **patterns, size_t count, regex_t **out, size_t *compiled,
           char *error, size_t size)
{
    *out = count ? (regex_t *)zc_malloc (count * sizeof (regex_t)) : NULL;
    *compiled = 0;
    for (size_t i = 0; i < count; i++) {
        const char *pattern = patterns[i] ? patterns[i] : "";
        int rc = regcomp (&(*out)[i], pattern, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char reason[256];
            (void)regerror (rc, &(*out)[i], reason, sizeof reason);
            snprintf (error, size, "%s[%zu]: bad regular expression '%.200s': %s", option, i,
                      pattern, reason);
            return -1;
        }
        (*compiled)++;
    }
    return 0;
}

zc_scope_t *
zc_scope_new (const zc_crawl_opts_t *opts, const char **seeds, size_t seed_count, char *error,
              size_t size)
{
    assert (opts);
    assert (error);
    assert (size > 0);
    *error = 0;
    zc_scope_t *self = (zc_scope_t *)zmalloc (sizeof (zc_scope_t));
    self->host_keys = zhashx_new ();
    self->hosts = zhashx_new ();
    self->max_depth = opts->max_depth < 0 ? -1 : opts->max_depth;
    self->max_url_bytes =
        opts->max_url_bytes ? opts->max_url_bytes : ZC_SCOPE_DEFAULT_MAX_URL_BYTES;
    self->max_path_segments =
        opts->max_path_segments ? opts->max_path_segments : ZC_SCOPE_DEFAULT_MAX_PATH_SEGMENTS;
    self->max_segment_repeats = opts->max_segment_repeats ? opts->max_segment_repeats
                                                          : ZC_SCOPE_DEFAULT_MAX_SEGMENT_REPEATS;
    int rc = 0;
    for (size_t i = 0; i < opts->allowed_host_count && rc == 0; i++)
        rc = s_add_host (self, i, opts->allowed_hosts[i], error, size);
    if (opts->allowed_domain_count > 0) {
        self->domains = (char **)zmalloc (opts->allowed_domain_count * sizeof (char *));
        //  NULL only if libpsl was built without its list: then no suffix check
        const psl_ctx_t *psl = psl_builtin ();
        for (size_t i = 0; i < opts->allowed_domain_count && rc == 0; i++)
            rc = s_add_domain (self, i, opts->allowed_domains[i], psl, error, size);
    }
    if (rc == 0 && opts->allowed_host_count == 0 && opts->allowed_domain_count == 0) {
        for (size_t i = 0; i < seed_count && rc == 0; i++) {
            char key[ZC_SCOPE_HOST_KEY_MAX];
            if (!seeds[i] || zc_url_host_key (seeds[i], key, sizeof key) != 0) {
                snprintf (error, size, "seeds[%zu]: '%.200s' is not a canonical http(s) URL", i,
                          seeds[i] ? seeds[i] : "");
                rc = -1;
            } else
                zhashx_update (self->host_keys, key, self);
        }
    }
    if (rc == 0)
        rc = s_compile ("include", opts->include, opts->include_count, &self->include,
                        &self->include_count, error, size);
    if (rc == 0)
        rc = s_compile ("exclude", opts->exclude, opts->exclude_count, &self->exclude,
                        &self->exclude_count, error, size);
    if (rc != 0) {
        zc_scope_destroy (&self);
        return NULL;
    }
    return self;
}

//  Host verdict for HOST_KEY ("host:port", host lowercase).
static zc_scope_verdict_t
s_check_host (zc_scope_t *self, const char *host_key)
{
    if (zhashx_lookup (self->host_keys, host_key))
        return ZC_SCOPE_OK;
    const char *colon = strrchr (host_key, ':');
    assert (colon); //  zc_url_host_key always writes a port
    char host[ZC_SCOPE_HOST_KEY_MAX];
    size_t host_len = (size_t)(colon - host_key);
    if (host_len >= sizeof host)
        host_len = sizeof host - 1; //  as snprintf truncated: a key this long matches no entry
    memcpy (host, host_key, host_len);
    host[host_len] = 0;
    if (zhashx_lookup (self->hosts, host))
        return ZC_SCOPE_OK;
    if (self->domain_count == 0)
        return ZC_SCOPE_HOST;
    if (s_is_ip (host))
        return ZC_SCOPE_DOMAIN;
    size_t host_length = strlen (host);
    for (size_t i = 0; i < self->domain_count; i++) {
        const char *domain = self->domains[i];
        size_t length = strlen (domain);
        if (host_length == length && memcmp (host, domain, length) == 0)
            return ZC_SCOPE_OK;
        if (host_length > length && host[host_length - length - 1] == '.' &&
            memcmp (host + host_length - length, domain, length) == 0)
            return ZC_SCOPE_OK;
    }
    return ZC_SCOPE_DOMAIN;
}

//  Finds the next non-empty segment in [*P, END): sets *SEGMENT and
//  *LENGTH, advances *P past it. Returns false when there is none.
static bool
s_next_segment (const char **p, const char *end, const char **segment, size_t *length)
{
    while (*p < end && **p == '/')
        (*p)++;
    if (*p >= end)
        return false;
    const char *start = *p;
    while (*p < end && **p != '/')
        (*p)++;
    *segment = start;
    *length = (size_t)(*p - start);
    return true;
}

//  Trap guard verdict for the path of URL.
static zc_scope_verdict_t
s_check_path (zc_scope_t *self, const char *url)
{
    const char *authority = strstr (url, "://");
    if (!authority)
        return ZC_SCOPE_HOST;
    authority += 3;
    const char *path = authority + strcspn (authority, "/?#");
    const char *end = path + strcspn (path, "?#");
    const char *p = path;
    const char *segment;
    size_t length;
    uint32_t segments = 0;
    while (s_next_segment (&p, end, &segment, &length))
        if (++segments > self->max_path_segments)
            return ZC_SCOPE_PATH_SEGMENTS;
    p = path;
    while (s_next_segment (&p, end, &segment, &length)) {
        //  Count this segment's occurrences from here on; an earlier
        //  occurrence was counted when the outer loop was there
        uint32_t count = 0;
        const char *q = segment;
        const char *other;
        size_t other_length;
        while (s_next_segment (&q, end, &other, &other_length))
            if (other_length == length && memcmp (other, segment, length) == 0)
                count++;
        if (count > self->max_segment_repeats)
            return ZC_SCOPE_SEGMENT_REPEATS;
    }
    return ZC_SCOPE_OK;
}

zc_scope_verdict_t
zc_scope_check (zc_scope_t *self, const char *canonical_url, uint32_t depth)
{
    assert (self);
    if (!canonical_url)
        return ZC_SCOPE_HOST;
    if (strlen (canonical_url) > self->max_url_bytes)
        return ZC_SCOPE_URL_LENGTH;
    char host_key[ZC_SCOPE_HOST_KEY_MAX];
    if (zc_url_host_key (canonical_url, host_key, sizeof host_key) != 0)
        return ZC_SCOPE_HOST;
    zc_scope_verdict_t verdict = s_check_host (self, host_key);
    if (verdict != ZC_SCOPE_OK)
        return verdict;
    if (self->max_depth >= 0 && depth > (uint32_t)self->max_depth)
        return ZC_SCOPE_DEPTH;
    verdict = s_check_path (self, canonical_url);
    if (verdict != ZC_SCOPE_OK)
        return verdict;
    for (size_t i = 0; i < self->exclude_count; i++)
        if (regexec (&self->exclude[i], canonical_url, 0, NULL, 0) == 0)
            return ZC_SCOPE_EXCLUDE;
    if (self->include_count == 0)
        return ZC_SCOPE_OK;
    for (size_t i = 0; i < self->include_count; i++)
        if (regexec (&self->include[i], canonical_url, 0, NULL, 0) == 0)
            return ZC_SCOPE_OK;
    return ZC_SCOPE_INCLUDE;
}

const char *
zc_scope_verdict_str (zc_scope_verdict_t verdict)
{
    switch (verdict) {
    case ZC_SCOPE_OK:
        return "ok";
    case ZC_SCOPE_HOST:
        return "host";
    case ZC_SCOPE_DOMAIN:
        return "domain";
    case ZC_SCOPE_INCLUDE:
        return "include";
    case ZC_SCOPE_EXCLUDE:
        return "exclude";
    case ZC_SCOPE_DEPTH:
        return "depth";
    case ZC_SCOPE_URL_LENGTH:
        return "url_length";
    case ZC_SCOPE_PATH_SEGMENTS:
        return "path_segments";
    case ZC_SCOPE_SEGMENT_REPEATS:
        return "segment_repeats";
    }
    return "?";
}
