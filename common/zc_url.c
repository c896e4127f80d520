/*  zc_url — URL resolution and canonicalisation on top of curl_url.

    Resolving one link costs one curl_url_dup of the page's parsed base, one
    curl_url_set and one curl_url_get; everything else is a single linear
    pass over the href (s_clean) and over the result (s_lowercase_host).

    Why the pre-pass instead of CURLU_URLENCODE: libcurl 7.88 encodes a space
    in the query as '+' (which changes the meaning of the URL), writes
    lowercase hex (so "%C3%A9" and "é" would give two canonical forms) and
    passes '<', '"', '|' ... through. s_clean does what a browser does to an
    href before parsing it:
      - strips leading/trailing C0 controls and spaces, removes TAB/CR/LF;
      - cuts the fragment at the first '#' (so "#x" and "" resolve to the
        page itself, which curl 7.88 gets wrong: it returns the directory);
      - turns '\' into '/' before the query, as browsers do for http(s);
      - drops "http:" from "http:g" when the base has the same scheme (RFC
        3986 5.2.2 non-strict mode, what browsers do);
      - percent-encodes, outside the authority, every byte that may not
        appear in a URI (controls, space, non-ASCII, "<>\^`{|}, and a '%'
        not followed by two hex digits) with uppercase hex.
    The authority is left alone (IDN is out of scope: curl keeps the bytes).

    libcurl lowercases the scheme and drops a default port on request, but
    keeps the host's case, so s_lowercase_host lowercases the host in the
    output string (not the userinfo, which is case-sensitive).

    Fast path (s_resolve_fast): a curl_url dup+set+get costs ~1.5 us, most
    of it in curl's printf and allocations, and a page has ~40 links. The
    common cleaned hrefs (relative references, and absolute http(s) URLs
    whose authority is a plain ASCII host name or dotted-quad IPv4 address
    with an optional canonical port) are resolved here with RFC 3986 5.2
    string operations on the base's canonical string, giving byte for byte
    what curl gives; anything else (userinfo, IPv6, IDN, other schemes, odd
    ports or IPv4 forms curl would normalise, an empty query, a result near
    the length cap) goes through curl. test_zc_url checks the two paths
    against each other on many hrefs (zc_url_base_resolve_curl).
*/
#include "zc_url.h"

#include "zc_util.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zc_url_base {
    CURLU *url;      //  owned; parsed canonical base, no fragment
    char *canonical; //  owned; its canonical string (what "" and "#x" resolve to)
    size_t origin;   //  length of "scheme://authority" in canonical
    size_t path_end; //  end of the path in canonical (start of "?query" or NUL)
    size_t dir_end;  //  one past the path's last '/'
    bool https;      //  scheme is https
    bool fast;       //  the fast path may copy the origin
};

static void
s_out_of_memory (void)
{
    fprintf (stderr, "zcrawl: out of memory\n");
    abort ();
}

static zc_url_status_t
s_status_from_curl (CURLUcode rc)
{
    if (rc == CURLUE_OUT_OF_MEMORY)
        s_out_of_memory ();
    return rc == CURLUE_UNSUPPORTED_SCHEME ? ZC_URL_SCHEME : ZC_URL_MALFORMED;
}

static void
s_set_status (zc_url_status_t *status, zc_url_status_t value)
{
    if (status)
        *status = value;
}

static bool
s_is_c0_or_space (unsigned char c)
{
    return c <= 0x20;
}

static bool
s_is_hex (char c)
{
    return isxdigit ((unsigned char)c) != 0;
}

//  Bytes that may not appear literally in a URI outside the authority.
static bool
s_needs_encoding (unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
           c == '`' || c == '{' || c == '|' || c == '}';
}

//  Length of the scheme of S (without ':'), or 0 if S has none.
static size_t
s_scheme_length (const char *s)
{
    if (!isalpha ((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum ((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

//  First pass: trim, remove TAB/CR/LF, cut at '#', '\' -> '/' before '?'.
//  Writes into BUF (SIZE bytes incl. NUL). Returns the length or -1 if too
//  long.
static long
s_strip (const char *href, char *buf, size_t size)
{
    const unsigned char *start = (const unsigned char *)href;
    while (*start && s_is_c0_or_space (*start))
        start++;
    const unsigned char *end = start + strlen ((const char *)start);
    while (end > start && s_is_c0_or_space (end[-1]))
        end--;

    size_t len = 0;
    bool in_query = false;
    for (const unsigned char *p = start; p < end; p++) {
        unsigned char c = *p;
        if (c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '#')
            break;
        if (c == '?')
            in_query = true;
        else if (c == '\\' && !in_query)
            c = '/';
        if (len + 1 >= size)
            return -1;
        buf[len++] = (char)c;
    }
    buf[len] = 0;
    return (long)len;
}

//  Second pass: percent-encodes outside the authority. Returns the length
//  or -1 if the result does not fit in SIZE bytes.
static long
s_encode (const char *in, char *buf, size_t size)
{
    //  Find the authority span [auth_start, auth_end): "//" at the start, or
    //  right after "scheme:".
    size_t scheme_len = s_scheme_length (in);
    size_t after_scheme = scheme_len ? scheme_len + 1 : 0;
    size_t auth_start = (size_t)-1, auth_end = (size_t)-1;
    if (in[after_scheme] == '/' && in[after_scheme + 1] == '/') {
        auth_start = after_scheme + 2;
        auth_end = auth_start + strcspn (in + auth_start, "/?");
    }
    size_t len = 0;
    for (size_t i = 0; in[i]; i++) {
        unsigned char c = (unsigned char)in[i];
        bool in_authority = i >= auth_start && i < auth_end;
        bool bad_percent = c == '%' && !(s_is_hex (in[i + 1]) && s_is_hex (in[i + 2]));
        if (!in_authority && (s_needs_encoding (c) || bad_percent)) {
            if (len + 3 >= size)
                return -1;
            buf[len++] = '%';
            buf[len++] = "0123456789ABCDEF"[c >> 4];
            buf[len++] = "0123456789ABCDEF"[c & 15];
        } else {
            if (len + 1 >= size)
                return -1;
            buf[len++] = (char)c;
        }
    }
    buf[len] = 0;
    return (long)len;
}

//  Cleans HREF into OUT (ZC_URL_MAX_BYTES + 1 bytes). BASE_SCHEME (NULL if
//  none) enables the "http:g" rule. Returns 0 or -1 (too long).
static int
s_clean (const char *href, const char *base_scheme, char *out)
{
    char stripped[ZC_URL_MAX_BYTES + 1];
    if (s_strip (href, stripped, sizeof stripped) < 0)
        return -1;
    const char *from = stripped;
    size_t scheme_len = s_scheme_length (stripped);
    if (base_scheme && scheme_len == strlen (base_scheme) &&
        strncasecmp (stripped, base_scheme, scheme_len) == 0 &&
        strncmp (stripped + scheme_len + 1, "//", 2) != 0)
        from = stripped + scheme_len + 1;
    return s_encode (from, out, ZC_URL_MAX_BYTES + 1) < 0 ? -1 : 0;
}

//  Lowercases the host of an absolute URL string in place.
static void
s_lowercase_host (char *url)
{
    char *auth = strstr (url, "://");
    if (!auth)
        return;
    auth += 3;
    size_t auth_len = strcspn (auth, "/?#");
    char *host = auth;
    for (size_t i = 0; i < auth_len; i++)
        if (auth[i] == '@')
            host = auth + i + 1;
    for (char *p = host; p < auth + auth_len; p++)
        *p = (char)tolower ((unsigned char)*p);
}

//  True if S is valid UTF-8 (hosts keep their bytes, and the output must
//  be valid UTF-8 for JSON and msgpack str).
static bool
s_utf8_valid (const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        s += n + 1;
    }
    return true;
}

static bool
s_is_http (const char *url)
{
    return strncmp (url, "http://", 7) == 0 || strncmp (url, "https://", 8) == 0;
}

//  Gets the canonical string from U (a parsed URL). Returns a new string
//  (malloc) or NULL with *status.
static char *
s_get_canonical (CURLU *u, zc_url_status_t *status)
{
    char *out = NULL;
    CURLUcode rc = curl_url_get (u, CURLUPART_URL, &out, CURLU_NO_DEFAULT_PORT);
    if (rc != CURLUE_OK) {
        s_set_status (status, s_status_from_curl (rc));
        return NULL;
    }
    if (!s_is_http (out)) {
        curl_free (out);
        s_set_status (status, ZC_URL_SCHEME);
        return NULL;
    }
    if (strlen (out) > ZC_URL_MAX_BYTES) {
        curl_free (out);
        s_set_status (status, ZC_URL_TOO_LONG);
        return NULL;
    }
    if (!s_utf8_valid ((const unsigned char *)out)) {
        curl_free (out);
        s_set_status (status, ZC_URL_MALFORMED);
        return NULL;
    }
    s_lowercase_host (out);
    //  Hand out malloc memory so callers free() it (curl_free may differ).
    char *copy = zc_strdup (out);
    curl_free (out);
    s_set_status (status, ZC_URL_OK);
    return copy;
}

//  Parses absolute URL into a new handle; returns it with its canonical
//  string in *canonical, or NULL with *status.
static CURLU *
s_parse_absolute (const char *url, char **canonical, zc_url_status_t *status)
{
    char clean[ZC_URL_MAX_BYTES + 1];
    if (s_clean (url, NULL, clean) != 0) {
        s_set_status (status, ZC_URL_TOO_LONG);
        return NULL;
    }
    CURLU *u = curl_url ();
    if (!u)
        s_out_of_memory ();
    CURLUcode rc = curl_url_set (u, CURLUPART_URL, clean, 0);
    if (rc != CURLUE_OK) {
        curl_url_cleanup (u);
        s_set_status (status, s_status_from_curl (rc));
        return NULL;
    }
    *canonical = s_get_canonical (u, status);
    if (!*canonical) {
        curl_url_cleanup (u);
        return NULL;
    }
    return u;
}

//  ---------------------------------------------------------------------
//  Fast path (see the top comment)

//  True if HOST (LEN bytes) is a host name curl keeps as it is: ASCII
//  letters, digits, '-' and '.', not starting with a digit; or an IPv4
//  address already in the dotted-quad form curl normalises to.
static bool
s_simple_host (const char *host, size_t len)
{
    if (len == 0)
        return false;
    if (host[0] >= '0' && host[0] <= '9') {
        size_t parts = 0;
        for (size_t i = 0; i < len; i++) {
            size_t start = i;
            unsigned value = 0;
            while (i < len && host[i] >= '0' && host[i] <= '9' && i - start < 3)
                value = value * 10 + (unsigned)(host[i++] - '0');
            size_t digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && host[start] == '0') || ++parts > 4)
                return false;
            if (i < len && (host[i] != '.' || i + 1 == len))
                return false;
        }
        return parts == 4;
    }
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

//  Writes the canonical "scheme://host[:port]" of the authority at AUTH
//  (which ends at '/', '?' or the end) into OUT and the authority's length
//  into *AUTH_LEN. Returns the bytes written, or -1 if the authority is not
//  simple (userinfo, IPv6, odd host or port: curl decides).
static long
s_fast_origin (const char *auth, bool https, char *out, size_t *auth_len)
{
    size_t len = strcspn (auth, "/?");
    const char *colon = memchr (auth, ':', len);
    size_t host_len = colon ? (size_t)(colon - auth) : len;
    if (!s_simple_host (auth, host_len))
        return -1;
    bool keep_port = false;
    if (colon) {
        const char *port = colon + 1;
        size_t port_len = len - host_len - 1;
        if (port_len == 0 || port_len > 5 || port[0] < '1' || port[0] > '9')
            return -1;
        unsigned long value = 0;
        for (size_t i = 0; i < port_len; i++) {
            if (port[i] < '0' || port[i] > '9')
                return -1;
            value = value * 10 + (unsigned long)(port[i] - '0');
        }
        if (value > 65535)
            return -1;
        keep_port = value != (https ? 443 : 80);
    }
    size_t n = https ? 8 : 7;
    memcpy (out, https ? "https://" : "http://", n);
    for (size_t i = 0; i < host_len; i++) {
        char c = auth[i];
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    if (keep_port) {
        memcpy (out + n, colon, len - host_len);
        n += len - host_len;
    }
    *auth_len = len;
    return (long)n;
}

//  RFC 3986 5.2.4 remove_dot_segments of IN (N bytes) into OUT (at least N
//  bytes). Returns the output length.
static size_t
s_remove_dots (const char *in, size_t n, char *out)
{
    size_t len = 0;
    size_t i = 0;
    while (i < n) {
        const char *p = in + i;
        size_t left = n - i;
        if (left >= 3 && memcmp (p, "../", 3) == 0)
            i += 3;
        else if (left >= 2 && memcmp (p, "./", 2) == 0)
            i += 2;
        else if (left >= 3 && memcmp (p, "/./", 3) == 0)
            i += 2;
        else if (left == 2 && memcmp (p, "/.", 2) == 0) {
            out[len++] = '/';
            i = n;
        } else if ((left >= 4 && memcmp (p, "/../", 4) == 0) ||
                   (left == 3 && memcmp (p, "/..", 3) == 0)) {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            if (left == 3) {
                out[len++] = '/';
                i = n;
            } else
                i += 3;
        } else if ((left == 1 && p[0] == '.') || (left == 2 && memcmp (p, "..", 2) == 0))
            i = n;
        else {
            out[len++] = in[i++];
            while (i < n && in[i] != '/')
                out[len++] = in[i++];
        }
    }
    return len;
}

#define S_FAST_BUFFER_BYTES (2 * ZC_URL_MAX_BYTES + 16)

//  Resolves CLEAN (cleaned, non-empty, no fragment) against SELF into OUT
//  (S_FAST_BUFFER_BYTES). Returns the length of the canonical result, or
//  -1 if curl must decide.
static long
s_resolve_fast (const zc_url_base_t *self, const char *clean, char *out)
{
    const char *canonical = self->canonical;
    bool https = self->https;
    const char *ref = clean;
    size_t scheme_len = s_scheme_length (clean);
    if (scheme_len > 0) {
        if (scheme_len == 4 && strncasecmp (clean, "http", 4) == 0)
            https = false;
        else if (scheme_len == 5 && strncasecmp (clean, "https", 5) == 0)
            https = true;
        else
            return -1;
        ref = clean + scheme_len + 1;
        if (ref[0] != '/' || ref[1] != '/')
            return -1; //  "https:g" against an http base
    }
    size_t n;
    const char *path;
    size_t path_len;
    const char *query;
    char merged[S_FAST_BUFFER_BYTES];
    if (ref[0] == '/' && ref[1] == '/') {
        size_t auth_len = 0;
        long origin = s_fast_origin (ref + 2, https, out, &auth_len);
        if (origin < 0)
            return -1;
        n = (size_t)origin;
        path = ref + 2 + auth_len;
        path_len = strcspn (path, "?");
        query = path + path_len;
        if (path_len == 0) {
            path = "/";
            path_len = 1;
        }
    } else {
        memcpy (out, canonical, self->origin);
        n = self->origin;
        size_t ref_path_len = strcspn (ref, "?");
        query = ref + ref_path_len;
        if (ref[0] == '/') {
            path = ref;
            path_len = ref_path_len;
        } else if (ref_path_len == 0) {
            path = canonical + self->origin; //  "?y": the base's path
            path_len = self->path_end - self->origin;
        } else {
            //  curl 7.88 strips leading "./" and "../" itself, then drops the
            //  directory's last '/' before "?y" or "/y" ("./?y", "..//y"; not
            //  "?y", ".?y", "a/../?y", "./"): those go to curl.
            const char *rest = ref;
            while (strncmp (rest, "./", 2) == 0 || strncmp (rest, "../", 3) == 0)
                rest += rest[0] == '.' && rest[1] == '/' ? 2 : 3;
            if (rest != ref && (rest[0] == '?' || rest[0] == '/'))
                return -1;
            size_t dir_len = self->dir_end - self->origin;
            memcpy (merged, canonical + self->origin, dir_len);
            memcpy (merged + dir_len, ref, ref_path_len);
            path = merged;
            path_len = dir_len + ref_path_len;
        }
    }
    if (query[0] == '?' && query[1] == 0)
        return -1; //  an empty query: as curl has it
    n += s_remove_dots (path, path_len, out + n);
    size_t query_len = strlen (query);
    if (n + query_len > ZC_URL_MAX_BYTES)
        return -1; //  curl sets the status
    memcpy (out + n, query, query_len + 1);
    return (long)(n + query_len);
}

//  Sets the fast path's view of SELF->canonical.
static void
s_base_split (zc_url_base_t *self)
{
    const char *c = self->canonical;
    self->https = strncmp (c, "https:", 6) == 0;
    const char *auth = c + (self->https ? 8 : 7);
    size_t auth_len = strcspn (auth, "/?");
    self->origin = (size_t)(auth - c) + auth_len;
    self->path_end = self->origin + strcspn (c + self->origin, "?");
    self->dir_end = self->origin;
    for (size_t i = self->path_end; i > self->origin; i--)
        if (c[i - 1] == '/') {
            self->dir_end = i;
            break;
        }
    //  The fast path copies the base's origin: only if we would have
    //  written the very same one.
    char origin[ZC_URL_MAX_BYTES + 16];
    size_t len = 0;
    self->fast = c[self->origin] == '/' && auth_len <= ZC_URL_MAX_BYTES &&
                 s_fast_origin (auth, self->https, origin, &len) == (long)self->origin &&
                 memcmp (origin, c, self->origin) == 0;
}

zc_url_base_t *
zc_url_base_new (const char *base_url, zc_url_status_t *status)
{
    assert (base_url);
    char *canonical = NULL;
    CURLU *u = s_parse_absolute (base_url, &canonical, status);
    if (!u)
        return NULL;
    zc_url_base_t *self = zc_malloc (sizeof *self);
    self->url = u;
    self->canonical = canonical;
    s_base_split (self);
    return self;
}

void
zc_url_base_destroy (zc_url_base_t **self_p)
{
    assert (self_p);
    zc_url_base_t *self = *self_p;
    if (!self)
        return;
    curl_url_cleanup (self->url);
    free (self->canonical);
    free (self);
    *self_p = NULL;
}

static char *
s_resolve (zc_url_base_t *self, const char *href, bool fast, zc_url_status_t *status)
{
    assert (self);
    assert (href);
    char clean[ZC_URL_MAX_BYTES + 1];
    if (s_clean (href, self->https ? "https" : "http", clean) != 0) {
        s_set_status (status, ZC_URL_TOO_LONG);
        return NULL;
    }
    //  An empty reference (after the fragment is cut) is the page itself.
    if (clean[0] == 0) {
        s_set_status (status, ZC_URL_OK);
        return zc_strdup (self->canonical);
    }
    if (fast && self->fast) {
        char out[S_FAST_BUFFER_BYTES];
        long len = s_resolve_fast (self, clean, out);
        if (len >= 0) {
            char *result = zc_malloc ((size_t)len + 1);
            memcpy (result, out, (size_t)len + 1);
            s_set_status (status, ZC_URL_OK);
            return result;
        }
    }
    CURLU *u = curl_url_dup (self->url);
    if (!u)
        s_out_of_memory ();
    CURLUcode rc = curl_url_set (u, CURLUPART_URL, clean, 0);
    char *result = NULL;
    if (rc == CURLUE_OK)
        result = s_get_canonical (u, status);
    else
        s_set_status (status, s_status_from_curl (rc));
    curl_url_cleanup (u);
    return result;
}

char *
zc_url_base_resolve (zc_url_base_t *self, const char *href, zc_url_status_t *status)
{
    return s_resolve (self, href, true, status);
}

char *
zc_url_base_resolve_curl (zc_url_base_t *self, const char *href, zc_url_status_t *status)
{
    return s_resolve (self, href, false, status);
}

int
zc_url_base_rebase (zc_url_base_t *self, const char *href)
{
    assert (self);
    char *resolved = zc_url_base_resolve (self, href, NULL);
    if (!resolved)
        return -1;
    char *canonical = NULL;
    CURLU *u = s_parse_absolute (resolved, &canonical, NULL);
    free (resolved);
    if (!u)
        return -1;
    curl_url_cleanup (self->url);
    free (self->canonical);
    self->url = u;
    self->canonical = canonical;
    s_base_split (self);
    return 0;
}

char *
zc_url_canonical (const char *url, zc_url_status_t *status)
{
    assert (url);
    char *canonical = NULL;
    CURLU *u = s_parse_absolute (url, &canonical, status);
    if (!u)
        return NULL;
    curl_url_cleanup (u);
    return canonical;
}

int
zc_url_host_key (const char *url, char *buf, size_t size)
{
    assert (url);
    assert (buf);
    const char *auth;
    const char *default_port;
    if (strncmp (url, "http://", 7) == 0) {
        auth = url + 7;
        default_port = "80";
    } else if (strncmp (url, "https://", 8) == 0) {
        auth = url + 8;
        default_port = "443";
    } else
        return -1;
    size_t auth_len = strcspn (auth, "/?#");
    const char *auth_end = auth + auth_len;
    const char *host = auth;
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@')
            host = p + 1;
    const char *host_end;
    if (*host == '[') {
        host_end = memchr (host, ']', (size_t)(auth_end - host));
        if (!host_end)
            return -1;
        host_end++;
    } else {
        host_end = memchr (host, ':', (size_t)(auth_end - host));
        if (!host_end)
            host_end = auth_end;
    }
    if (host_end == host)
        return -1;
    const char *port = default_port;
    int port_len = (int)strlen (default_port);
    if (host_end < auth_end) {
        if (*host_end != ':' || host_end + 1 == auth_end)
            return -1;
        port = host_end + 1;
        port_len = (int)(auth_end - port);
        for (int i = 0; i < port_len; i++)
            if (!isdigit ((unsigned char)port[i]))
                return -1;
    }
    //  "host:port" without snprintf: this runs for every link the broker sees
    size_t host_len = (size_t)(host_end - host);
    if (host_len + 1 + (size_t)port_len >= size)
        return -1;
    memcpy (buf, host, host_len);
    buf[host_len] = ':';
    memcpy (buf + host_len + 1, port, (size_t)port_len);
    buf[host_len + 1 + (size_t)port_len] = 0;
    return 0;
}

uint64_t
zc_url_fingerprint (const char *url)
{
    assert (url);
    return zc_hash64 (url, strlen (url));
}

const char *
zc_url_status_str (zc_url_status_t status)
{
    switch (status) {
    case ZC_URL_OK:
        return "ok";
    case ZC_URL_MALFORMED:
        return "malformed URL";
    case ZC_URL_SCHEME:
        return "not an http(s) URL";
    case ZC_URL_TOO_LONG:
        return "URL too long";
    }
    return "?";
}
