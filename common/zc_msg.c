/*  zc_msg — the zcrawl wire codec (protocol v1). See zc_msg.h and
    docs/PROTOCOL.md.

    Design notes for newcomers:
    - Every message type is described once, by a static schema table (key,
      kind, offset in the struct). The same table drives encoding (keys are
      written in table order, so encoding is deterministic and the golden
      vectors re-encode byte for byte) and decoding (keys are looked up in
      the table; unknown keys are ignored).
    - msgpack-c's unpacker allocates whatever a container header declares
      (an array32 header claiming 4 billion elements makes it try to allocate
      ~100 GB). So before msgpack_unpack sees a byte, s_validate walks the
      raw msgpack structure without allocating and rejects every declared
      count or length larger than the bytes that remain, nesting deeper than
      S_MAX_DEPTH, truncation and trailing bytes. After that, everything the
      unpacker allocates is bounded by a small multiple of the frame size.
    - A decoded message owns one msgpack zone: the unpacked objects, our
      NUL-terminated string copies and our arrays of structs all live in it,
      so zc_msg_destroy is one zone free (plus the PAGE body frame, which is
      kept zero-copy).
    - Fields marked optional (S_OPT*) were added after v1 shipped: absent on
      the wire they decode as 0 / false / "" / empty, and encoders omit them
      while they hold that zero value, so older peers and the golden vectors
      see exactly the v1 bytes. Present, they must have the right type.
*/
#include "zc_msg.h"

#include "zc_util.h"

#include <assert.h>
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

//  Deepest container nesting accepted (v1 messages need 5: header, jobs,
//  job, rules, rule; msgpack-c's own unpacker stack is 32 deep).
#define S_MAX_DEPTH 16

//  ---------------------------------------------------------------------
//  Schema tables

typedef enum {
    S_U32,     //  uint32_t, msgpack positive int <= 2^32-1
    S_U64,     //  uint64_t, msgpack positive int
    S_I32,     //  int32_t, msgpack int
    S_BOOL,    //  bool, msgpack true/false
    S_STR,     //  const char *, msgpack str (NULL encodes as "")
    S_STR_NIL, //  const char *, msgpack str or nil (NULL), key optional
    S_BIN,     //  const void * + size_t, msgpack bin
    S_STRS,    //  const char ** + size_t, msgpack array of str
    S_U64S,    //  const uint64_t * + size_t, msgpack array of positive int
    S_FIELDS,  //  zc_field_t * + size_t, msgpack map str -> array of str
    S_ARRAY,   //  T * + size_t, msgpack array of maps (schema sub)
    S_MAP,     //  embedded struct, msgpack map (schema sub)
    S_KIND,    //  zc_job_kind_t, msgpack str "page" / "robots"
    S_TAKE,    //  zc_take_t, msgpack str "text" / "html" / "attr"
} s_kind_t;

typedef struct s_schema s_schema_t;

typedef struct {
    const char *key;
    size_t key_len;
    s_kind_t kind;
    size_t offset;       //  of the field (pointer for S_BIN/S_STRS/S_U64S/...)
    size_t count_offset; //  of the size_t count (S_BIN/S_STRS/S_U64S/S_FIELDS/S_ARRAY)
    const s_schema_t *sub;
    bool optional; //  may be absent (decodes as zero); omitted when zero
} s_field_t;

struct s_schema {
    const s_field_t *fields;
    size_t field_count;
    size_t struct_size; //  for S_ARRAY elements
};

#define S_FIELD(k, kind, type, member)                                                             \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), 0, NULL, false                           \
    }
#define S_FIELD_N(k, kind, type, member, count)                                                    \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), offsetof (type, count), NULL, false      \
    }
#define S_FIELD_SUB(k, kind, type, member, count, sub)                                             \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), offsetof (type, count), &sub, false      \
    }
#define S_FIELD_MAP(k, type, member, sub)                                                          \
    {                                                                                              \
        k, sizeof (k) - 1, S_MAP, offsetof (type, member), 0, &sub, false                          \
    }
#define S_OPT(k, kind, type, member)                                                               \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), 0, NULL, true                            \
    }
#define S_OPT_N(k, kind, type, member, count)                                                      \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), offsetof (type, count), NULL, true       \
    }
#define S_OPT_SUB(k, kind, type, member, count, sub)                                               \
    {                                                                                              \
        k, sizeof (k) - 1, kind, offsetof (type, member), offsetof (type, count), &sub, true       \
    }
#define S_SCHEMA(name, type, table)                                                                \
    static const s_schema_t name = {table, sizeof (table) / sizeof (table[0]), sizeof (type)}

static const s_field_t s_fetch_opts_fields[] = {
    S_FIELD ("connect_timeout_ms", S_U32, zc_fetch_opts_t, connect_timeout_ms),
    S_FIELD ("timeout_ms", S_U32, zc_fetch_opts_t, timeout_ms),
    S_FIELD ("max_body_bytes", S_U64, zc_fetch_opts_t, max_body_bytes),
    S_FIELD ("max_redirects", S_U32, zc_fetch_opts_t, max_redirects),
    S_FIELD ("allow_private", S_BOOL, zc_fetch_opts_t, allow_private),
    S_FIELD ("user_agent", S_STR, zc_fetch_opts_t, user_agent),
    S_OPT_N ("headers", S_STRS, zc_fetch_opts_t, headers, header_count),
    S_OPT_N ("resolve", S_STRS, zc_fetch_opts_t, resolve, resolve_count),
};
S_SCHEMA (s_fetch_opts_schema, zc_fetch_opts_t, s_fetch_opts_fields);

static const s_field_t s_robots_rule_fields[] = {
    S_FIELD ("allow", S_BOOL, zc_robots_rule_t, allow),
    S_FIELD ("path", S_STR, zc_robots_rule_t, path),
};
S_SCHEMA (s_robots_rule_schema, zc_robots_rule_t, s_robots_rule_fields);

static const s_field_t s_extract_rule_fields[] = {
    S_FIELD ("name", S_STR, zc_extract_rule_t, name),
    S_FIELD ("selector", S_STR, zc_extract_rule_t, selector),
    S_OPT ("xpath", S_BOOL, zc_extract_rule_t, xpath),
    S_OPT ("take", S_TAKE, zc_extract_rule_t, take),
    S_OPT ("attr", S_STR, zc_extract_rule_t, attr),
    S_OPT ("all", S_BOOL, zc_extract_rule_t, all),
    S_OPT ("regex", S_STR, zc_extract_rule_t, regex),
};
S_SCHEMA (s_extract_rule_schema, zc_extract_rule_t, s_extract_rule_fields);

static const s_field_t s_job_fields[] = {
    S_FIELD ("crawl", S_STR, zc_job_t, crawl),
    S_FIELD ("id", S_U64, zc_job_t, id),
    S_FIELD ("kind", S_KIND, zc_job_t, kind),
    S_FIELD ("url", S_STR, zc_job_t, url),
    S_FIELD ("depth", S_U32, zc_job_t, depth),
    S_FIELD ("attempt", S_U32, zc_job_t, attempt),
    S_FIELD ("deadline_ms", S_U64, zc_job_t, deadline_ms),
    S_FIELD_MAP ("opts", zc_job_t, opts, s_fetch_opts_schema),
    S_OPT ("redirects", S_U32, zc_job_t, redirects),
    S_OPT_SUB ("robots", S_ARRAY, zc_job_t, robots, robots_count, s_robots_rule_schema),
    S_OPT_SUB ("rules", S_ARRAY, zc_job_t, rules, rule_count, s_extract_rule_schema),
    S_OPT ("origin", S_STR, zc_job_t, origin),
    S_OPT ("spacing_ms", S_U32, zc_job_t, spacing_ms),
};
S_SCHEMA (s_job_schema, zc_job_t, s_job_fields);

static const s_field_t s_crawl_opts_fields[] = {
    S_FIELD ("max_depth", S_I32, zc_crawl_opts_t, max_depth),
    S_FIELD ("max_pages", S_U64, zc_crawl_opts_t, max_pages),
    S_FIELD ("host_concurrency", S_U32, zc_crawl_opts_t, host_concurrency),
    S_FIELD ("host_delay_ms", S_U32, zc_crawl_opts_t, host_delay_ms),
    S_FIELD_MAP ("fetch", zc_crawl_opts_t, fetch, s_fetch_opts_schema),
    S_OPT ("impolite", S_BOOL, zc_crawl_opts_t, impolite),
    S_OPT ("crawl_delay_cap_ms", S_U32, zc_crawl_opts_t, crawl_delay_cap_ms),
    S_OPT ("ignore_robots", S_BOOL, zc_crawl_opts_t, ignore_robots),
    S_OPT ("robots_cache_ms", S_U32, zc_crawl_opts_t, robots_cache_ms),
    S_OPT ("max_attempts", S_U32, zc_crawl_opts_t, max_attempts),
    S_OPT ("retry_base_ms", S_U32, zc_crawl_opts_t, retry_base_ms),
    S_OPT_N ("allowed_hosts", S_STRS, zc_crawl_opts_t, allowed_hosts, allowed_host_count),
    S_OPT_N ("allowed_domains", S_STRS, zc_crawl_opts_t, allowed_domains, allowed_domain_count),
    S_OPT_N ("include", S_STRS, zc_crawl_opts_t, include, include_count),
    S_OPT_N ("exclude", S_STRS, zc_crawl_opts_t, exclude, exclude_count),
    S_OPT ("max_pages_per_host", S_U64, zc_crawl_opts_t, max_pages_per_host),
    S_OPT ("max_url_bytes", S_U32, zc_crawl_opts_t, max_url_bytes),
    S_OPT ("max_path_segments", S_U32, zc_crawl_opts_t, max_path_segments),
    S_OPT ("max_segment_repeats", S_U32, zc_crawl_opts_t, max_segment_repeats),
    S_OPT_SUB ("rules", S_ARRAY, zc_crawl_opts_t, rules, rule_count, s_extract_rule_schema),
};
S_SCHEMA (s_crawl_opts_schema, zc_crawl_opts_t, s_crawl_opts_fields);

static const s_field_t s_node_status_fields[] = {
    S_FIELD ("id", S_STR, zc_node_status_t, id),
    S_FIELD ("role", S_STR, zc_node_status_t, role),
    S_FIELD ("endpoint", S_STR, zc_node_status_t, endpoint),
    S_FIELD ("capacity", S_U32, zc_node_status_t, capacity),
    S_FIELD ("in_flight", S_U32, zc_node_status_t, in_flight),
    S_FIELD ("done", S_U64, zc_node_status_t, done),
    S_FIELD ("decode_errors", S_U64, zc_node_status_t, decode_errors),
    S_FIELD ("last_seen_ms", S_U64, zc_node_status_t, last_seen_ms),
};
S_SCHEMA (s_node_status_schema, zc_node_status_t, s_node_status_fields);

static const s_field_t s_crawl_status_fields[] = {
    S_FIELD ("id", S_STR, zc_crawl_status_t, id),
    S_FIELD ("state", S_STR, zc_crawl_status_t, state),
    S_FIELD ("output", S_STR, zc_crawl_status_t, output),
    S_FIELD ("errors", S_STR, zc_crawl_status_t, errors),
    S_FIELD ("pages", S_U64, zc_crawl_status_t, pages),
    S_FIELD ("failed", S_U64, zc_crawl_status_t, failed),
    S_FIELD ("queued", S_U64, zc_crawl_status_t, queued),
    S_FIELD ("in_flight", S_U64, zc_crawl_status_t, in_flight),
    S_FIELD ("started_ms", S_U64, zc_crawl_status_t, started_ms),
    S_FIELD ("elapsed_ms", S_U64, zc_crawl_status_t, elapsed_ms),
    S_OPT ("error", S_STR, zc_crawl_status_t, error),
};
S_SCHEMA (s_crawl_status_schema, zc_crawl_status_t, s_crawl_status_fields);

static const s_field_t s_hello_fields[] = {
    S_FIELD ("id", S_STR, zc_hello_t, id),
    S_FIELD ("role", S_STR, zc_hello_t, role),
    S_FIELD ("version", S_STR, zc_hello_t, version),
    S_FIELD ("capacity", S_U32, zc_hello_t, capacity),
    S_FIELD ("endpoint", S_STR, zc_hello_t, endpoint),
};
S_SCHEMA (s_hello_schema, zc_hello_t, s_hello_fields);

static const s_field_t s_welcome_fields[] = {
    S_FIELD ("epoch", S_U64, zc_welcome_t, epoch),
    S_FIELD ("results", S_STR, zc_welcome_t, results),
    S_FIELD ("heartbeat_ms", S_U32, zc_welcome_t, heartbeat_ms),
};
S_SCHEMA (s_welcome_schema, zc_welcome_t, s_welcome_fields);

static const s_field_t s_ready_fields[] = {
    S_FIELD ("credit", S_U32, zc_ready_t, credit),
};
S_SCHEMA (s_ready_schema, zc_ready_t, s_ready_fields);

static const s_field_t s_jobs_fields[] = {
    S_FIELD_SUB ("jobs", S_ARRAY, zc_jobs_t, jobs, job_count, s_job_schema),
};
S_SCHEMA (s_jobs_schema, zc_jobs_t, s_jobs_fields);

static const s_field_t s_parsers_fields[] = {
    S_FIELD_N ("endpoints", S_STRS, zc_parsers_t, endpoints, endpoint_count),
};
S_SCHEMA (s_parsers_schema, zc_parsers_t, s_parsers_fields);

static const s_field_t s_heartbeat_fields[] = {
    S_FIELD ("epoch", S_U64, zc_heartbeat_t, epoch),
    S_FIELD ("node", S_STR, zc_heartbeat_t, node),
    S_FIELD ("decode_errors", S_U64, zc_heartbeat_t, decode_errors),
    S_FIELD ("in_flight", S_U32, zc_heartbeat_t, in_flight),
    S_FIELD ("done", S_U64, zc_heartbeat_t, done),
};
S_SCHEMA (s_heartbeat_schema, zc_heartbeat_t, s_heartbeat_fields);

static const s_field_t s_fetch_failed_fields[] = {
    S_FIELD ("crawl", S_STR, zc_fetch_failed_t, crawl),
    S_FIELD ("id", S_U64, zc_fetch_failed_t, id),
    S_FIELD ("url", S_STR, zc_fetch_failed_t, url),
    S_FIELD ("attempt", S_U32, zc_fetch_failed_t, attempt),
    S_FIELD ("reason", S_STR, zc_fetch_failed_t, reason),
    S_FIELD ("detail", S_STR, zc_fetch_failed_t, detail),
    S_FIELD ("status", S_U32, zc_fetch_failed_t, status),
    S_FIELD ("location", S_STR, zc_fetch_failed_t, location),
    S_FIELD ("fetched_at_ms", S_U64, zc_fetch_failed_t, fetched_at_ms),
    S_OPT ("retry_after_ms", S_U32, zc_fetch_failed_t, retry_after_ms),
    S_OPT ("redirects", S_U32, zc_fetch_failed_t, redirects),
};
S_SCHEMA (s_fetch_failed_schema, zc_fetch_failed_t, s_fetch_failed_fields);

static const s_field_t s_robots_fields[] = {
    S_FIELD ("crawl", S_STR, zc_robots_t, crawl),
    S_FIELD ("id", S_U64, zc_robots_t, id),
    S_FIELD ("url", S_STR, zc_robots_t, url),
    S_FIELD ("status", S_U32, zc_robots_t, status),
    S_FIELD ("reason", S_STR, zc_robots_t, reason),
    S_FIELD_N ("body", S_BIN, zc_robots_t, body, body_size),
    S_FIELD ("fetched_at_ms", S_U64, zc_robots_t, fetched_at_ms),
};
S_SCHEMA (s_robots_schema, zc_robots_t, s_robots_fields);

//  Page metadata, flattened into PAGE and RESULT (TYPE has a member "meta").
#define S_META_FIELDS(type)                                                                        \
    S_FIELD ("crawl", S_STR, type, meta.crawl), S_FIELD ("id", S_U64, type, meta.id),              \
        S_FIELD ("url", S_STR, type, meta.url),                                                    \
        S_FIELD ("final_url", S_STR, type, meta.final_url),                                        \
        S_FIELD ("depth", S_U32, type, meta.depth),                                                \
        S_FIELD ("attempt", S_U32, type, meta.attempt),                                            \
        S_FIELD ("status", S_U32, type, meta.status),                                              \
        S_FIELD ("content_type", S_STR, type, meta.content_type),                                  \
        S_FIELD ("fetched_at_ms", S_U64, type, meta.fetched_at_ms),                                \
        S_FIELD ("redirects", S_U32, type, meta.redirects),                                        \
        S_FIELD ("total_ms", S_U32, type, meta.timings.total_ms),                                  \
        S_FIELD ("connect_ms", S_U32, type, meta.timings.connect_ms),                              \
        S_FIELD ("ttfb_ms", S_U32, type, meta.timings.ttfb_ms)

static const s_field_t s_page_fields[] = {
    S_META_FIELDS (zc_page_t),
    S_OPT_SUB ("rules", S_ARRAY, zc_page_t, rules, rule_count, s_extract_rule_schema),
};
S_SCHEMA (s_page_schema, zc_page_t, s_page_fields);

static const s_field_t s_result_fields[] = {
    S_META_FIELDS (zc_result_t),
    S_FIELD ("title", S_STR_NIL, zc_result_t, title),
    S_FIELD_N ("links", S_STRS, zc_result_t, links, link_count),
    S_FIELD_N ("fields", S_FIELDS, zc_result_t, fields, field_count),
    S_FIELD ("parse_error", S_STR_NIL, zc_result_t, parse_error),
    S_FIELD ("body_bytes", S_U64, zc_result_t, body_bytes),
    S_OPT ("canonical", S_STR, zc_result_t, canonical),
    S_OPT ("noindex", S_BOOL, zc_result_t, noindex),
    S_OPT ("nofollow", S_BOOL, zc_result_t, nofollow),
    S_OPT ("charset", S_STR, zc_result_t, charset),
};
S_SCHEMA (s_result_schema, zc_result_t, s_result_fields);

static const s_field_t s_submit_fields[] = {
    S_FIELD_N ("seeds", S_STRS, zc_submit_t, seeds, seed_count),
    S_FIELD ("output", S_STR, zc_submit_t, output),
    S_FIELD ("errors", S_STR, zc_submit_t, errors),
    S_FIELD_MAP ("opts", zc_submit_t, opts, s_crawl_opts_schema),
};
S_SCHEMA (s_submit_schema, zc_submit_t, s_submit_fields);

static const s_field_t s_status_fields[] = {
    S_FIELD ("crawl", S_STR, zc_status_t, crawl),
};
S_SCHEMA (s_status_schema, zc_status_t, s_status_fields);

static const s_field_t s_stop_fields[] = {
    S_FIELD ("crawl", S_STR, zc_stop_t, crawl),
};
S_SCHEMA (s_stop_schema, zc_stop_t, s_stop_fields);

static const s_field_t s_ok_fields[] = {
    S_FIELD ("crawl", S_STR, zc_ok_t, crawl),
};
S_SCHEMA (s_ok_schema, zc_ok_t, s_ok_fields);

static const s_field_t s_error_fields[] = {
    S_FIELD ("error", S_STR, zc_error_t, error),
};
S_SCHEMA (s_error_schema, zc_error_t, s_error_fields);

static const s_field_t s_status_reply_fields[] = {
    S_FIELD ("epoch", S_U64, zc_status_reply_t, epoch),
    S_FIELD ("decode_errors", S_U64, zc_status_reply_t, decode_errors),
    S_FIELD_SUB ("nodes", S_ARRAY, zc_status_reply_t, nodes, node_count, s_node_status_schema),
    S_FIELD_SUB ("crawls", S_ARRAY, zc_status_reply_t, crawls, crawl_count, s_crawl_status_schema),
};
S_SCHEMA (s_status_reply_schema, zc_status_reply_t, s_status_reply_fields);

static const s_field_t s_accept_fields[] = {
    S_FIELD ("node", S_STR, zc_accept_t, node),
    S_FIELD_N ("jobs", S_U64S, zc_accept_t, jobs, job_count),
};
S_SCHEMA (s_accept_schema, zc_accept_t, s_accept_fields);

static const s_field_t s_bye_fields[] = {
    S_FIELD ("node", S_STR, zc_bye_t, node),
};
S_SCHEMA (s_bye_schema, zc_bye_t, s_bye_fields);

static const s_field_t s_pause_fields[] = {
    S_FIELD ("crawl", S_STR, zc_pause_t, crawl),
};
S_SCHEMA (s_pause_schema, zc_pause_t, s_pause_fields);

static const s_field_t s_resume_fields[] = {
    S_FIELD ("crawl", S_STR, zc_resume_t, crawl),
};
S_SCHEMA (s_resume_schema, zc_resume_t, s_resume_fields);

typedef struct {
    const char *name;
    const s_schema_t *schema;
} s_type_t;

//  Indexed by zc_msg_type_t.
static const s_type_t s_types[ZC_MSG_TYPE_COUNT] = {
    [ZC_MSG_HELLO] = {"HELLO", &s_hello_schema},
    [ZC_MSG_WELCOME] = {"WELCOME", &s_welcome_schema},
    [ZC_MSG_READY] = {"READY", &s_ready_schema},
    [ZC_MSG_JOBS] = {"JOBS", &s_jobs_schema},
    [ZC_MSG_PARSERS] = {"PARSERS", &s_parsers_schema},
    [ZC_MSG_HEARTBEAT] = {"HEARTBEAT", &s_heartbeat_schema},
    [ZC_MSG_FETCH_FAILED] = {"FETCH_FAILED", &s_fetch_failed_schema},
    [ZC_MSG_ROBOTS] = {"ROBOTS", &s_robots_schema},
    [ZC_MSG_PAGE] = {"PAGE", &s_page_schema},
    [ZC_MSG_RESULT] = {"RESULT", &s_result_schema},
    [ZC_MSG_SUBMIT] = {"SUBMIT", &s_submit_schema},
    [ZC_MSG_STATUS] = {"STATUS", &s_status_schema},
    [ZC_MSG_STOP] = {"STOP", &s_stop_schema},
    [ZC_MSG_OK] = {"OK", &s_ok_schema},
    [ZC_MSG_ERROR] = {"ERROR", &s_error_schema},
    [ZC_MSG_STATUS_REPLY] = {"STATUS_REPLY", &s_status_reply_schema},
    [ZC_MSG_ACCEPT] = {"ACCEPT", &s_accept_schema},
    [ZC_MSG_BYE] = {"BYE", &s_bye_schema},
    [ZC_MSG_PAUSE] = {"PAUSE", &s_pause_schema},
    [ZC_MSG_RESUME] = {"RESUME", &s_resume_schema},
};

static bool
s_type_valid (zc_msg_type_t type)
{
    return type >= ZC_MSG_HELLO && type < ZC_MSG_TYPE_COUNT;
}

const char *
zc_msg_type_str (zc_msg_type_t type)
{
    return s_type_valid (type) ? s_types[type].name : "?";
}

const char *
zc_msg_decode_status_str (zc_msg_decode_status_t status)
{
    switch (status) {
    case ZC_MSG_DECODE_OK:
        return "ok";
    case ZC_MSG_DECODE_FRAMES:
        return "wrong number of frames";
    case ZC_MSG_DECODE_MALFORMED:
        return "malformed msgpack";
    case ZC_MSG_DECODE_TOO_LARGE:
        return "declared size too large";
    case ZC_MSG_DECODE_VERSION:
        return "missing or unsupported protocol version";
    case ZC_MSG_DECODE_TYPE:
        return "missing or unknown message type";
    case ZC_MSG_DECODE_FIELD:
        return "missing or wrongly typed field";
    }
    return "?";
}

//  ---------------------------------------------------------------------
//  Encoding

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t len = s ? strlen (s) : 0;
    msgpack_pack_str (pk, len);
    if (len)
        msgpack_pack_str_body (pk, s, len);
}

static void s_pack_schema (msgpack_packer *pk, const s_schema_t *schema, const char *base);

static const char *
s_take_str (zc_take_t take)
{
    switch (take) {
    case ZC_TAKE_TEXT:
        return "text";
    case ZC_TAKE_HTML:
        return "html";
    case ZC_TAKE_ATTR:
        return "attr";
    }
    return NULL;
}

//  True if the field at BASE holds its zero value (0, false, NULL or "",
//  an empty array or map, take "text").
static bool
s_field_is_zero (const s_field_t *f, const char *base)
{
    const char *p = base + f->offset;
    size_t count = 0;
    if (f->kind == S_BIN || f->kind == S_STRS || f->kind == S_U64S || f->kind == S_FIELDS ||
        f->kind == S_ARRAY)
        memcpy (&count, base + f->count_offset, sizeof count);
    switch (f->kind) {
    case S_U32:
        return *(const uint32_t *)p == 0;
    case S_U64:
        return *(const uint64_t *)p == 0;
    case S_I32:
        return *(const int32_t *)p == 0;
    case S_BOOL:
        return !*(const bool *)p;
    case S_STR:
    case S_STR_NIL: {
        const char *s = *(const char *const *)p;
        return !s || !*s;
    }
    case S_BIN:
    case S_STRS:
    case S_U64S:
    case S_FIELDS:
    case S_ARRAY:
        return count == 0;
    case S_MAP:
        return false;
    case S_KIND:
        return *(const zc_job_kind_t *)p == ZC_JOB_PAGE;
    case S_TAKE:
        return *(const zc_take_t *)p == ZC_TAKE_TEXT;
    }
    return false;
}

//  Optional fields are left out while they hold their zero value.
static bool
s_field_sent (const s_field_t *f, const char *base)
{
    return !f->optional || !s_field_is_zero (f, base);
}

static size_t
s_sent_count (const s_schema_t *schema, const char *base)
{
    size_t n = 0;
    for (size_t i = 0; i < schema->field_count; i++)
        if (s_field_sent (&schema->fields[i], base))
            n++;
    return n;
}

static void
s_pack_field (msgpack_packer *pk, const s_field_t *f, const char *base)
{
    const char *p = base + f->offset;
    size_t count = 0;
    if (f->kind == S_BIN || f->kind == S_STRS || f->kind == S_U64S || f->kind == S_FIELDS ||
        f->kind == S_ARRAY)
        memcpy (&count, base + f->count_offset, sizeof count);

    switch (f->kind) {
    case S_U32:
        msgpack_pack_uint32 (pk, *(const uint32_t *)p);
        break;
    case S_U64:
        msgpack_pack_uint64 (pk, *(const uint64_t *)p);
        break;
    case S_I32:
        msgpack_pack_int32 (pk, *(const int32_t *)p);
        break;
    case S_BOOL:
        if (*(const bool *)p)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
        break;
    case S_STR:
        s_pack_str (pk, *(const char *const *)p);
        break;
    case S_STR_NIL: {
        const char *s = *(const char *const *)p;
        if (s)
            s_pack_str (pk, s);
        else
            msgpack_pack_nil (pk);
        break;
    }
    case S_BIN: {
        const void *data = *(const void *const *)p;
        assert (data || count == 0);
        msgpack_pack_bin (pk, count);
        if (count)
            msgpack_pack_bin_body (pk, data, count);
        break;
    }
    case S_STRS: {
        const char *const *strs = *(const char *const *const *)p;
        assert (strs || count == 0);
        msgpack_pack_array (pk, count);
        for (size_t i = 0; i < count; i++)
            s_pack_str (pk, strs[i]);
        break;
    }
    case S_U64S: {
        const uint64_t *values = *(const uint64_t *const *)p;
        assert (values || count == 0);
        msgpack_pack_array (pk, count);
        for (size_t i = 0; i < count; i++)
            msgpack_pack_uint64 (pk, values[i]);
        break;
    }
    case S_FIELDS: {
        const zc_field_t *fields = *(const zc_field_t *const *)p;
        assert (fields || count == 0);
        msgpack_pack_map (pk, count);
        for (size_t i = 0; i < count; i++) {
            s_pack_str (pk, fields[i].name);
            assert (fields[i].values || fields[i].value_count == 0);
            msgpack_pack_array (pk, fields[i].value_count);
            for (size_t j = 0; j < fields[i].value_count; j++)
                s_pack_str (pk, fields[i].values[j]);
        }
        break;
    }
    case S_ARRAY: {
        const char *elems = *(const char *const *)p;
        assert (elems || count == 0);
        msgpack_pack_array (pk, count);
        for (size_t i = 0; i < count; i++)
            s_pack_schema (pk, f->sub, elems + i * f->sub->struct_size);
        break;
    }
    case S_MAP:
        s_pack_schema (pk, f->sub, p);
        break;
    case S_KIND: {
        zc_job_kind_t kind = *(const zc_job_kind_t *)p;
        assert (kind == ZC_JOB_PAGE || kind == ZC_JOB_ROBOTS);
        s_pack_str (pk, kind == ZC_JOB_ROBOTS ? "robots" : "page");
        break;
    }
    case S_TAKE: {
        const char *take = s_take_str (*(const zc_take_t *)p);
        assert (take);
        s_pack_str (pk, take);
        break;
    }
    }
}

static void
s_pack_schema (msgpack_packer *pk, const s_schema_t *schema, const char *base)
{
    msgpack_pack_map (pk, s_sent_count (schema, base));
    for (size_t i = 0; i < schema->field_count; i++) {
        const s_field_t *f = &schema->fields[i];
        if (!s_field_sent (f, base))
            continue;
        msgpack_pack_str (pk, f->key_len);
        msgpack_pack_str_body (pk, f->key, f->key_len);
        s_pack_field (pk, f, base);
    }
}

//  msgpack_sbuffer's write callback with an aborting allocator: the stock
//  one returns -1 on OOM, which the packer's callers would have to check at
//  every call.
static int
s_sbuffer_write (void *data, const char *buf, size_t len)
{
    msgpack_sbuffer *sbuf = data;
    if (sbuf->alloc - sbuf->size < len) {
        size_t nsize = sbuf->alloc ? sbuf->alloc * 2 : 1024;
        while (nsize < sbuf->size + len)
            nsize *= 2;
        char *tmp = realloc (sbuf->data, nsize);
        if (!tmp) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
        sbuf->data = tmp;
        sbuf->alloc = nsize;
    }
    memcpy (sbuf->data + sbuf->size, buf, len);
    sbuf->size += len;
    return 0;
}

//  Encodes frame 1 of MSG into SBUF (initialised by the caller).
static void
s_encode_header (const zc_msg_t *msg, msgpack_sbuffer *sbuf)
{
    assert (msg);
    assert (s_type_valid (msg->type));
    const s_type_t *type = &s_types[msg->type];
    msgpack_packer pk;
    msgpack_packer_init (&pk, sbuf, s_sbuffer_write);
    const char *base = (const char *)msg + offsetof (zc_msg_t, hello);
    msgpack_pack_map (&pk, 2 + s_sent_count (type->schema, base));
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_uint32 (&pk, ZC_PROTOCOL_VERSION);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "t", 1);
    s_pack_str (&pk, type->name);
    for (size_t i = 0; i < type->schema->field_count; i++) {
        const s_field_t *f = &type->schema->fields[i];
        if (!s_field_sent (f, base))
            continue;
        msgpack_pack_str (&pk, f->key_len);
        msgpack_pack_str_body (&pk, f->key, f->key_len);
        s_pack_field (&pk, f, base);
    }
}

//  First allocation of an encode buffer: a RESULT of a page with ~40 links
//  fits without the 1 -> 2 -> 4 KiB reallocations (and their copies).
#define S_ENCODE_INITIAL_BYTES 4096

static void
s_sbuffer_init (msgpack_sbuffer *sbuf, const zc_msg_t *msg)
{
    msgpack_sbuffer_init (sbuf);
    if (msg->type == ZC_MSG_RESULT) {
        sbuf->data = zc_malloc (S_ENCODE_INITIAL_BYTES);
        sbuf->alloc = S_ENCODE_INITIAL_BYTES;
    }
}

zmsg_t *
zc_msg_encode (const zc_msg_t *msg)
{
    msgpack_sbuffer sbuf;
    s_sbuffer_init (&sbuf, msg);
    s_encode_header (msg, &sbuf);
    zmsg_t *zmsg = zmsg_new ();
    assert (zmsg);
    int rc = zmsg_addmem (zmsg, sbuf.data, sbuf.size);
    assert (rc == 0);
    msgpack_sbuffer_destroy (&sbuf);
    if (msg->type == ZC_MSG_PAGE) {
        assert (msg->page.body || msg->page.body_size == 0);
        rc = zmsg_addmem (zmsg, msg->page.body, msg->page.body_size);
        assert (rc == 0);
    }
    return zmsg;
}

static void
s_free_buffer (void *data, void *hint)
{
    (void)hint;
    free (data);
}

int
zc_msg_send (const zc_msg_t *msg, zsock_t *sock, zframe_t *routing_id)
{
    assert (sock);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    s_encode_header (msg, &sbuf);
    void *handle = zsock_resolve (sock);

    if (routing_id) {
        zframe_t *rid = routing_id;
        if (zframe_send (&rid, sock, ZFRAME_MORE | ZFRAME_REUSE | ZFRAME_DONTWAIT) != 0) {
            msgpack_sbuffer_destroy (&sbuf);
            return -1;
        }
    }
    //  Hand the encoded buffer to zmq without copying; zmq frees it.
    size_t size = sbuf.size;
    char *data = msgpack_sbuffer_release (&sbuf);
    zmq_msg_t frame;
    if (size == 0 || zmq_msg_init_data (&frame, data, size, s_free_buffer, NULL) != 0) {
        free (data);
        return -1;
    }
    bool page = msg->type == ZC_MSG_PAGE;
    if (zmq_msg_send (&frame, handle, ZMQ_DONTWAIT | (page ? ZMQ_SNDMORE : 0)) == -1) {
        int saved = errno;
        zmq_msg_close (&frame);
        errno = saved;
        return -1;
    }
    if (page) {
        //  Once the first part of a multipart message is queued the rest is
        //  always accepted; a failure here is a broken socket.
        if (zmq_send (handle, msg->page.body, msg->page.body_size, ZMQ_DONTWAIT) == -1)
            return -1;
    }
    return 0;
}

void
zc_msg_socket_setup (zsock_t *sock, int64_t max_bytes, int linger_ms)
{
    assert (sock);
    int rc = zmq_setsockopt (zsock_resolve (sock), ZMQ_MAXMSGSIZE, &max_bytes, sizeof max_bytes);
    assert (rc == 0);
    zsock_set_linger (sock, linger_ms);
}

//  ---------------------------------------------------------------------
//  Validation of raw msgpack, before anything is allocated

static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

//  Walks exactly one msgpack object in DATA[0..SIZE) without allocating.
//  Rejects truncation, trailing bytes and the reserved byte 0xc1
//  (MALFORMED), and any declared length or element count larger than the
//  bytes remaining, or nesting deeper than S_MAX_DEPTH (TOO_LARGE).
static zc_msg_decode_status_t
s_validate (const uint8_t *data, size_t size)
{
    //  pending[d]: objects still to read at depth d (0 = the top level).
    uint64_t pending[S_MAX_DEPTH + 1];
    int depth = 0;
    pending[0] = 1;
    size_t pos = 0;

    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (pos >= size)
            return ZC_MSG_DECODE_MALFORMED;
        uint8_t b = data[pos++];
        size_t left = size - pos;
        uint64_t skip = 0;     //  payload bytes after the header
        uint64_t children = 0; //  objects inside a container
        bool container = false;
        size_t len_bytes = 0; //  size of a length/count field
        int kind = 0;         //  0 scalar, 1 str/bin, 2 ext, 3 array, 4 map

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            //  fixints, nil, booleans: nothing follows
        } else if (b >= 0x80 && b <= 0x8f) {
            children = 2 * (uint64_t)(b & 0x0f);
            container = true;
            kind = 4;
        } else if (b >= 0x90 && b <= 0x9f) {
            children = b & 0x0f;
            container = true;
            kind = 3;
        } else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;
        else {
            switch (b) {
            case 0xc4:
            case 0xd9:
                len_bytes = 1;
                kind = 1;
                break;
            case 0xc5:
            case 0xda:
                len_bytes = 2;
                kind = 1;
                break;
            case 0xc6:
            case 0xdb:
                len_bytes = 4;
                kind = 1;
                break;
            case 0xc7:
                len_bytes = 1;
                kind = 2;
                break;
            case 0xc8:
                len_bytes = 2;
                kind = 2;
                break;
            case 0xc9:
                len_bytes = 4;
                kind = 2;
                break;
            case 0xca:
                skip = 4;
                break;
            case 0xcb:
                skip = 8;
                break;
            case 0xcc:
            case 0xd0:
                skip = 1;
                break;
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4:
                skip = 2;
                break;
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc:
                len_bytes = 2;
                kind = 3;
                break;
            case 0xdd:
                len_bytes = 4;
                kind = 3;
                break;
            case 0xde:
                len_bytes = 2;
                kind = 4;
                break;
            case 0xdf:
                len_bytes = 4;
                kind = 4;
                break;
            default:
                return ZC_MSG_DECODE_MALFORMED; //  0xc1, never used
            }
        }
        if (len_bytes) {
            if (left < len_bytes)
                return ZC_MSG_DECODE_MALFORMED;
            uint64_t n = s_be (data + pos, len_bytes);
            pos += len_bytes;
            left -= len_bytes;
            if (kind == 1)
                skip = n;
            else if (kind == 2)
                skip = n + 1; //  type byte, then N data bytes
            else {
                container = true;
                children = kind == 4 ? 2 * n : n;
            }
        }
        if (container) {
            //  Every element takes at least one byte.
            if (children > left)
                return ZC_MSG_DECODE_TOO_LARGE;
            if (children > 0) {
                if (depth + 1 > S_MAX_DEPTH)
                    return ZC_MSG_DECODE_TOO_LARGE;
                pending[++depth] = children;
            }
        } else {
            if (skip > left)
                return kind ? ZC_MSG_DECODE_TOO_LARGE : ZC_MSG_DECODE_MALFORMED;
            pos += (size_t)skip;
        }
    }
    return pos == size ? ZC_MSG_DECODE_OK : ZC_MSG_DECODE_MALFORMED;
}

//  ---------------------------------------------------------------------
//  Mapping unpacked objects to structs

typedef struct {
    msgpack_zone *zone; //  owned: unpacked objects, strings, arrays
    zframe_t *body;     //  owned: PAGE body frame, or NULL
} s_owned_t;

static void *
s_zone_alloc (msgpack_zone *zone, size_t size, bool align)
{
    void *p = align ? msgpack_zone_malloc (zone, size ? size : 1)
                    : msgpack_zone_malloc_no_align (zone, size ? size : 1);
    if (!p) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    return p;
}

static const char *
s_copy_str (msgpack_zone *zone, const msgpack_object_str *str)
{
    char *s = s_zone_alloc (zone, (size_t)str->size + 1, false);
    if (str->size)
        memcpy (s, str->ptr, str->size);
    s[str->size] = 0;
    return s;
}

static bool
s_key_is (const msgpack_object *key, const char *name, size_t len)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == len &&
           memcmp (key->via.str.ptr, name, len) == 0;
}

static bool s_decode_map (msgpack_zone *zone, const msgpack_object *obj, const s_schema_t *schema,
                          char *base);

static bool
s_decode_strs (msgpack_zone *zone, const msgpack_object *obj, const char ***strs, size_t *count)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY)
        return false;
    size_t n = obj->via.array.size;
    const char **array = NULL;
    if (n) {
        array = s_zone_alloc (zone, n * sizeof (char *), true);
        for (size_t i = 0; i < n; i++) {
            const msgpack_object *item = &obj->via.array.ptr[i];
            if (item->type != MSGPACK_OBJECT_STR)
                return false;
            array[i] = s_copy_str (zone, &item->via.str);
        }
    }
    *strs = array;
    *count = n;
    return true;
}

static bool
s_decode_fields (msgpack_zone *zone, const msgpack_object *obj, zc_field_t **fields, size_t *count)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return false;
    size_t n = obj->via.map.size;
    zc_field_t *array = NULL;
    if (n) {
        array = s_zone_alloc (zone, n * sizeof (zc_field_t), true);
        for (size_t i = 0; i < n; i++) {
            const msgpack_object_kv *kv = &obj->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                return false;
            array[i].name = s_copy_str (zone, &kv->key.via.str);
            const char **values;
            if (!s_decode_strs (zone, &kv->val, &values, &array[i].value_count))
                return false;
            array[i].values = values;
        }
    }
    *fields = array;
    *count = n;
    return true;
}

static bool
s_decode_field (msgpack_zone *zone, const s_field_t *f, const msgpack_object *v, char *base)
{
    char *p = base + f->offset;
    size_t *count = (size_t *)(base + f->count_offset);
    switch (f->kind) {
    case S_U32:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > UINT32_MAX)
            return false;
        *(uint32_t *)p = (uint32_t)v->via.u64;
        return true;
    case S_U64:
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return false;
        *(uint64_t *)p = v->via.u64;
        return true;
    case S_I32:
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT32_MAX)
            *(int32_t *)p = (int32_t)v->via.u64;
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && v->via.i64 >= INT32_MIN)
            *(int32_t *)p = (int32_t)v->via.i64;
        else
            return false;
        return true;
    case S_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return false;
        *(bool *)p = v->via.boolean;
        return true;
    case S_STR_NIL:
    case S_STR:
        if (f->kind == S_STR_NIL && v->type == MSGPACK_OBJECT_NIL) {
            *(const char **)p = NULL;
            return true;
        }
        if (v->type != MSGPACK_OBJECT_STR)
            return false;
        *(const char **)p = s_copy_str (zone, &v->via.str);
        return true;
    case S_BIN:
        //  str is accepted too, for msgpack libraries without bin.
        if (v->type != MSGPACK_OBJECT_BIN && v->type != MSGPACK_OBJECT_STR)
            return false;
        //  bin and str share the layout {size, ptr}; copying as a string also
        //  NUL-terminates the body, which robots parsers appreciate.
        *(const void **)p = s_copy_str (zone, &v->via.str);
        *count = v->via.str.size;
        return true;
    case S_STRS:
        return s_decode_strs (zone, v, (const char ***)p, count);
    case S_U64S: {
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return false;
        size_t n = v->via.array.size;
        uint64_t *values = NULL;
        if (n) {
            //  n <= frame bytes, checked by s_validate.
            values = s_zone_alloc (zone, n * sizeof (uint64_t), true);
            for (size_t i = 0; i < n; i++) {
                const msgpack_object *item = &v->via.array.ptr[i];
                if (item->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                    return false;
                values[i] = item->via.u64;
            }
        }
        *(const uint64_t **)p = values;
        *count = n;
        return true;
    }
    case S_FIELDS:
        return s_decode_fields (zone, v, (zc_field_t **)p, count);
    case S_ARRAY: {
        if (v->type != MSGPACK_OBJECT_ARRAY)
            return false;
        size_t n = v->via.array.size;
        char *elems = NULL;
        if (n) {
            //  n <= frame bytes, checked by s_validate.
            elems = s_zone_alloc (zone, n * f->sub->struct_size, true);
            memset (elems, 0, n * f->sub->struct_size);
            for (size_t i = 0; i < n; i++)
                if (!s_decode_map (zone, &v->via.array.ptr[i], f->sub,
                                   elems + i * f->sub->struct_size))
                    return false;
        }
        *(char **)p = elems;
        *count = n;
        return true;
    }
    case S_MAP:
        return s_decode_map (zone, v, f->sub, p);
    case S_KIND:
        if (s_key_is (v, "page", 4))
            *(zc_job_kind_t *)p = ZC_JOB_PAGE;
        else if (s_key_is (v, "robots", 6))
            *(zc_job_kind_t *)p = ZC_JOB_ROBOTS;
        else
            return false;
        return true;
    case S_TAKE:
        if (s_key_is (v, "text", 4))
            *(zc_take_t *)p = ZC_TAKE_TEXT;
        else if (s_key_is (v, "html", 4))
            *(zc_take_t *)p = ZC_TAKE_HTML;
        else if (s_key_is (v, "attr", 4))
            *(zc_take_t *)p = ZC_TAKE_ATTR;
        else
            return false;
        return true;
    }
    return false;
}

//  Decodes map OBJ into the struct at BASE (zeroed by the caller) following
//  SCHEMA. Unknown keys are ignored; a duplicate, missing (unless nil-able
//  or optional) or wrongly typed known key fails. An absent optional string
//  decodes as "" (other absent fields stay zero).
static bool
s_decode_map (msgpack_zone *zone, const msgpack_object *obj, const s_schema_t *schema, char *base)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return false;
    assert (schema->field_count <= 32);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        for (size_t j = 0; j < schema->field_count; j++) {
            const s_field_t *f = &schema->fields[j];
            if (!s_key_is (&kv->key, f->key, f->key_len))
                continue;
            if (seen & (1u << j))
                return false;
            seen |= 1u << j;
            if (!s_decode_field (zone, f, &kv->val, base))
                return false;
            break;
        }
    }
    for (size_t j = 0; j < schema->field_count; j++) {
        const s_field_t *f = &schema->fields[j];
        if ((seen & (1u << j)) || f->kind == S_STR_NIL)
            continue;
        if (!f->optional)
            return false;
        if (f->kind == S_STR)
            *(const char **)(base + f->offset) = "";
    }
    return true;
}

//  Reads "v" and "t" from the top-level map.
static zc_msg_decode_status_t
s_decode_envelope (const msgpack_object *top, zc_msg_type_t *type)
{
    const msgpack_object *v = NULL, *t = NULL;
    for (uint32_t i = 0; i < top->via.map.size; i++) {
        const msgpack_object_kv *kv = &top->via.map.ptr[i];
        if (s_key_is (&kv->key, "v", 1))
            v = &kv->val;
        else if (s_key_is (&kv->key, "t", 1))
            t = &kv->val;
    }
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != ZC_PROTOCOL_VERSION)
        return ZC_MSG_DECODE_VERSION;
    if (!t || t->type != MSGPACK_OBJECT_STR)
        return ZC_MSG_DECODE_TYPE;
    for (int i = ZC_MSG_HELLO; i < ZC_MSG_TYPE_COUNT; i++) {
        if (s_key_is (t, s_types[i].name, strlen (s_types[i].name))) {
            *type = (zc_msg_type_t)i;
            return ZC_MSG_DECODE_OK;
        }
    }
    return ZC_MSG_DECODE_TYPE;
}

static zc_msg_decode_status_t
s_decode (zmsg_t *zmsg, zc_msg_t *msg, s_owned_t *owned)
{
    size_t frames = zmsg_size (zmsg);
    if (frames < 1 || frames > 2)
        return ZC_MSG_DECODE_FRAMES;
    zframe_t *header = zmsg_first (zmsg);
    size_t size = zframe_size (header);
    if (size > ZC_MSG_MAX_HEADER_BYTES)
        return ZC_MSG_DECODE_TOO_LARGE;
    const char *data = (const char *)zframe_data (header);
    zc_msg_decode_status_t status = s_validate ((const uint8_t *)data, size);
    if (status != ZC_MSG_DECODE_OK)
        return status;

    owned->zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE);
    if (!owned->zone) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    msgpack_object top;
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack (data, size, &off, owned->zone, &top);
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    if (rc != MSGPACK_UNPACK_SUCCESS || off != size || top.type != MSGPACK_OBJECT_MAP)
        return ZC_MSG_DECODE_MALFORMED;

    zc_msg_type_t type = ZC_MSG_HELLO;
    status = s_decode_envelope (&top, &type);
    if (status != ZC_MSG_DECODE_OK)
        return status;
    msg->type = type;
    if (frames != (type == ZC_MSG_PAGE ? 2u : 1u))
        return ZC_MSG_DECODE_FRAMES;
    char *base = (char *)msg + offsetof (zc_msg_t, hello);
    if (!s_decode_map (owned->zone, &top, s_types[type].schema, base))
        return ZC_MSG_DECODE_FIELD;

    if (type == ZC_MSG_PAGE) {
        zframe_t *body = zmsg_last (zmsg);
        if (zframe_size (body) > ZC_MSG_MAX_BODY_BYTES)
            return ZC_MSG_DECODE_TOO_LARGE;
        zmsg_remove (zmsg, body);
        owned->body = body;
        msg->page.body = zframe_data (body);
        msg->page.body_size = zframe_size (body);
    }
    return ZC_MSG_DECODE_OK;
}

zc_msg_t *
zc_msg_decode (zmsg_t **zmsg_p, zc_msg_decode_status_t *status)
{
    assert (zmsg_p);
    zmsg_t *zmsg = *zmsg_p;
    *zmsg_p = NULL;
    zc_msg_decode_status_t rc = ZC_MSG_DECODE_FRAMES;
    zc_msg_t *msg = NULL;
    if (zmsg) {
        msg = (zc_msg_t *)zmalloc (sizeof (zc_msg_t));
        s_owned_t *owned = (s_owned_t *)zmalloc (sizeof (s_owned_t));
        assert (msg && owned);
        msg->owned_ = owned;
        rc = s_decode (zmsg, msg, owned);
        zmsg_destroy (&zmsg);
        if (rc != ZC_MSG_DECODE_OK)
            zc_msg_destroy (&msg);
    }
    if (status)
        *status = rc;
    return msg;
}

int
zc_msg_page_id (zmsg_t *zmsg, uint64_t *id)
{
    assert (id);
    if (!zmsg || zmsg_size (zmsg) != 2)
        return -1;
    zframe_t *header = zmsg_first (zmsg);
    size_t size = zframe_size (header);
    const char *data = (const char *)zframe_data (header);
    if (size > ZC_MSG_MAX_HEADER_BYTES ||
        s_validate ((const uint8_t *)data, size) != ZC_MSG_DECODE_OK)
        return -1;
    msgpack_zone *zone = msgpack_zone_new (MSGPACK_ZONE_CHUNK_SIZE);
    if (!zone) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    msgpack_object top;
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack (data, size, &off, zone, &top);
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR) {
        fprintf (stderr, "zcrawl: out of memory\n");
        abort ();
    }
    int result = -1;
    zc_msg_type_t type = ZC_MSG_HELLO;
    if (rc == MSGPACK_UNPACK_SUCCESS && off == size && top.type == MSGPACK_OBJECT_MAP &&
        s_decode_envelope (&top, &type) == ZC_MSG_DECODE_OK && type == ZC_MSG_PAGE) {
        const msgpack_object *value = NULL;
        bool duplicate = false;
        for (uint32_t i = 0; i < top.via.map.size; i++) {
            const msgpack_object_kv *kv = &top.via.map.ptr[i];
            if (s_key_is (&kv->key, "id", 2)) {
                if (value)
                    duplicate = true;
                value = &kv->val;
            }
        }
        if (value && !duplicate && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            *id = value->via.u64;
            result = 0;
        }
    }
    msgpack_zone_free (zone);
    return result;
}

void
zc_msg_destroy (zc_msg_t **self_p)
{
    assert (self_p);
    zc_msg_t *self = *self_p;
    if (!self)
        return;
    s_owned_t *owned = (s_owned_t *)self->owned_;
    if (owned) {
        if (owned->zone)
            msgpack_zone_free (owned->zone);
        zframe_destroy (&owned->body);
        free (owned);
    }
    free (self);
    *self_p = NULL;
}
