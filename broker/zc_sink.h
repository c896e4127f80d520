/*  zc_sink — one crawl's output: items.jsonl (one line per 2xx page) and
    errors.jsonl (one line per other final outcome).

    Lines are written by a streaming JSON writer that gives exactly what
    jansson's json_dumpb (compact, keys in order) gives for the same
    object (test_zc_sink checks it against jansson). Every string from the
    network is made valid UTF-8 (invalid sequences become U+FFFD), so the
    output files are always valid UTF-8 JSON Lines. Writes go through a
    buffered FILE*; the broker calls zc_sink_flush on a timer and the sink
    flushes when destroyed.

    Item line:  {"url", "final_url", "status", "content_type", "title" (null
                 if none), "canonical" (the page's <link rel="canonical">,
                 resolved; null if none), "noindex" (true if the page's
                 <meta name="robots"> says noindex), "depth", "fetched_at"
                 (ISO-8601 UTC, ms), "links" (links found on the page),
                 "redirects", "crawl", "fields"}
    "fields" has one member per extraction rule of the crawl (see
    zc_sink_set_rules), in rule order: a rule taking one value gives a
    string, or null when nothing matched; an `all` rule gives an array of
    strings, [] when nothing matched. A field of the RESULT that no rule
    names (or every field, if no rules were set) is an array of strings.
    Error line: {"url", "reason", "detail", "status" (null if none),
                 "location" (only when set), "attempts", "depth", "crawl",
                 "at" (ISO-8601 UTC, ms)}
*/
#ifndef ZC_SINK_H_INCLUDED
#define ZC_SINK_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "zc_msg.h"

typedef struct zc_sink zc_sink_t;

//  One error line (all strings borrowed; NULL reads as "").
typedef struct {
    const char *url;
    const char *reason;
    const char *detail;
    uint32_t status;      //  0 = none (written as null)
    const char *location; //  NULL or "" = field omitted
    uint32_t attempts;
    uint32_t depth;
    uint64_t at_ms; //  wall clock, ms since 1970
} zc_sink_error_t;

//  Opens (creates or appends to) ITEMS_PATH and ERRORS_PATH for crawl
//  CRAWL_ID (copied); "-" is standard output, best effort: a durable crawl
//  can neither sync it nor cut it back after a crash, so lines may repeat. Returns NULL with errno
//  set if either cannot be opened (nothing is left open).
zc_sink_t *zc_sink_new (const char *items_path, const char *errors_path, const char *crawl_id);

//  Like zc_sink_new, after cutting each file back to its OFFSET (the bytes
//  a store commit vouched for; UINT64_MAX = leave the file as it is). A
//  missing file is fine at offset 0. Returns NULL with ERROR (ERROR_SIZE
//  bytes) set if a file is shorter than its offset (changed outside
//  zcrawl), cannot be truncated or cannot be opened.
zc_sink_t *zc_sink_open_at (const char *items_path, const char *errors_path, const char *crawl_id,
                            uint64_t items_offset, uint64_t errors_offset, char *error,
                            size_t error_size);

//  Flushes both files and forces their data to disk (fdatasync); on
//  success sets the offsets up to which both files are now durable.
//  Returns 0, or -1 with errno set (logged once per sink).
int zc_sink_sync (zc_sink_t *self, uint64_t *items_offset, uint64_t *errors_offset);

//  Flushes and closes both files. NULL-safe; sets *self_p to NULL.
void zc_sink_destroy (zc_sink_t **self_p);

//  Sets the crawl's extraction rules (borrowed; names are copied), which
//  decide the shape of each item's "fields" (see above). Replaces earlier
//  rules; a name used by several rules is one field, an array if any of
//  them is `all`.
void zc_sink_set_rules (zc_sink_t *self, const zc_extract_rule_t *rules, size_t rule_count);

//  Writes one item line from RESULT (borrowed). Returns 0, or -1 if the
//  write failed (logged once per sink).
int zc_sink_write_item (zc_sink_t *self, const zc_result_t *result);

//  Writes one error line. Returns 0 or -1 as zc_sink_write_item.
int zc_sink_write_error (zc_sink_t *self, const zc_sink_error_t *error);

//  Flushes buffered lines to the files. Returns 0, or -1 on a write error.
int zc_sink_flush (zc_sink_t *self);

//  Lines written so far.
uint64_t zc_sink_items (zc_sink_t *self);
uint64_t zc_sink_errors (zc_sink_t *self);

//  Writes TIME_MS as "YYYY-MM-DDTHH:MM:SS.mmmZ" into BUF (at least 25
//  bytes). Exposed for tests.
void zc_sink_iso8601 (uint64_t time_ms, char *buf, size_t size);

//  Returns a newly allocated copy of the SIZE bytes at DATA with every
//  invalid UTF-8 sequence (truncated, overlong forms, surrogates
//  and code points above U+10FFFF) replaced by U+FFFD. Caller frees.
//  Exposed for tests.
char *zc_sink_utf8_sanitize (const char *data, size_t size);

#endif
