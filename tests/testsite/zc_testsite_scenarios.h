/*  zc_testsite_scenarios — the test site's misbehaving virtual hosts (issue 4).

    Private to the test site (zc_testsite.c routes a request here when its
    Host header names one of these hosts; 127.0.0.1 and unknown hosts keep
    the generated site). Each host has a small fixed page set and a ground
    truth, see zc_testsite.h for the list. The crawler reaches them with
    --resolve NAME:PORT:127.0.0.1.
*/
#ifndef ZC_TESTSITE_SCENARIOS_H_INCLUDED
#define ZC_TESTSITE_SCENARIOS_H_INCLUDED

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

typedef struct zc_scenarios zc_scenarios_t;

//  Blocks the calling connection thread for MS milliseconds or until the
//  site stops (provided by the site, which owns the condition variable).
typedef void (zc_scenarios_wait_fn) (void *arg, int ms);

//  PORT: the main listener's port; EXTERNAL: "http://HOST:PORT" of the
//  external listener; SLOW_MS: delay of flaky.test/slow.
zc_scenarios_t *zc_scenarios_new (int port, const char *external, int slow_ms);

//  NULL-safe; sets *self_p = NULL.
void zc_scenarios_destroy (zc_scenarios_t **self_p);

//  True if HOST (lowercase, without port) is a scenario host.
bool zc_scenarios_has_host (const char *host);

//  The response for PATH (without query) on HOST; *STATUS receives the HTTP
//  status. NULL means "drop the connection" (out of memory).
struct MHD_Response *zc_scenarios_response (zc_scenarios_t *self, const char *host,
                                            const char *path, unsigned int *status,
                                            zc_scenarios_wait_fn *wait, void *wait_arg);

//  Ground truth of every scenario host: { NAME: {...}, ... } (see zc_testsite.h).
json_t *zc_scenarios_truth (int port, const char *external);

#endif
