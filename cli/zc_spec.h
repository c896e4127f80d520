/*  zc_spec — the YAML crawl spec (docs/SPEC.md), loaded with libyaml.

    A spec describes one crawl: seeds, scope, politeness, fetch options,
    headers, extraction rules and output. Loading turns it into the SUBMIT
    request the broker takes; every field has a documented default, and an
    unknown field, a wrong type or a bad value is an error naming the field
    and its line ("spec.yaml:12: scope.max_depth: expected an integer >= 0").
*/
#ifndef ZC_SPEC_H_INCLUDED
#define ZC_SPEC_H_INCLUDED

#include <stddef.h>

#include "zc_msg.h"

typedef struct zc_spec zc_spec_t;

//  Loads the spec in PATH. Returns NULL on any error, with a one-line
//  message "PATH:LINE: FIELD: what is wrong" in ERROR (SIZE bytes).
zc_spec_t *zc_spec_load (const char *path, char *error, size_t size);

//  Same from memory; NAME stands for the path in messages.
zc_spec_t *zc_spec_load_string (const char *yaml, size_t length, const char *name, char *error,
                                size_t size);

//  NULL-safe; sets *self_p to NULL.
void zc_spec_destroy (zc_spec_t **self_p);

//  The crawl the spec describes, as a SUBMIT request (defaults not filled
//  in: 0 / "" mean "broker default" as in zc_msg.h). Mutable so that
//  command-line flags can override fields; everything it points to is
//  owned by the spec.
zc_submit_t *zc_spec_submit (zc_spec_t *self);

//  The value checks the spec applies, shared with the command-line flags.
//  Each returns 0, or -1 with the reason in WHY (SIZE bytes).
//  A POSIX extended regular expression (regcomp REG_EXTENDED).
int zc_spec_check_regex (const char *value, char *why, size_t size);
//  A host name, host:port, [IPv6] or [IPv6]:port.
int zc_spec_check_host (const char *value, char *why, size_t size);
//  A domain name such as example.org.
int zc_spec_check_domain (const char *value, char *why, size_t size);
//  curl's HOST:PORT:ADDRESS[,ADDRESS...], addresses IPv4 or [IPv6].
int zc_spec_check_resolve (const char *value, char *why, size_t size);
//  A request header line "Name: value" (token name other than Host,
//  non-empty single-line value).
int zc_spec_check_header (const char *line, char *why, size_t size);

#endif
