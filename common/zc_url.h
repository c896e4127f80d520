/*  zc_url — URL resolution and canonicalisation (curl_url based).

    The canonical form is what the frontier deduplicates on and what appears
    in the output: absolute http(s) URL, lowercase scheme and host, default
    port dropped, dot segments resolved, fragment dropped, an empty path
    written as "/". Anything that is not http(s) (mailto:, javascript:, data:,
    ftp:, ...) is rejected, as is anything curl cannot parse.
*/
#ifndef ZC_URL_H_INCLUDED
#define ZC_URL_H_INCLUDED

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ZC_URL_OK = 0,
    ZC_URL_MALFORMED, //  curl could not parse it
    ZC_URL_SCHEME,    //  not http or https
    ZC_URL_TOO_LONG,  //  longer than ZC_URL_MAX_BYTES
} zc_url_status_t;

#define ZC_URL_MAX_BYTES 8192

//  A parsed base URL to resolve many links against (one per page).
typedef struct zc_url_base zc_url_base_t;

//  Parses BASE_URL (absolute). Returns NULL with *status if it is not a
//  usable absolute http(s) URL. Caller owns the result.
zc_url_base_t *zc_url_base_new (const char *base_url, zc_url_status_t *status);

//  Destroys a base. NULL-safe; sets *self_p to NULL.
void zc_url_base_destroy (zc_url_base_t **self_p);

//  Replaces the base (for <base href>) by resolving HREF against the current
//  base. Returns 0, or -1 (base unchanged) if HREF is unusable.
int zc_url_base_rebase (zc_url_base_t *self, const char *href);

//  Resolves HREF (relative or absolute, untrusted, leading/trailing
//  whitespace ignored) against SELF and returns its canonical form, newly
//  allocated (caller frees with free()), or NULL with *status (may be NULL).
char *zc_url_base_resolve (zc_url_base_t *self, const char *href, zc_url_status_t *status);

//  zc_url_base_resolve without its fast path: every href through curl_url.
//  Same results by design; for the differential tests of the fast path.
char *zc_url_base_resolve_curl (zc_url_base_t *self, const char *href, zc_url_status_t *status);

//  Canonical form of an absolute URL; newly allocated or NULL with *status.
char *zc_url_canonical (const char *url, zc_url_status_t *status);

//  Writes the scope key "host:port" of a canonical URL (port always
//  explicit: http -> 80, https -> 443) into BUF. Returns 0, or -1 if URL
//  is not a canonical http(s) URL or BUF is too small.
int zc_url_host_key (const char *url, char *buf, size_t size);

//  64-bit fingerprint of a canonical URL (for the seen set).
uint64_t zc_url_fingerprint (const char *url);

//  Human-readable status.
const char *zc_url_status_str (zc_url_status_t status);

#endif
