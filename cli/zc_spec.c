/*  zc_spec — the YAML crawl spec; see zc_spec.h and docs/SPEC.md.

    libyaml's document API loads the whole file into a node graph; we walk it
    against a static schema (tables of fields per section), so that every
    unknown key, duplicate key, wrong type and bad value is reported with the
    field's dotted path and the line it is on. The first error wins.

    The spec is untrusted user input: nothing here asserts on its content.
    Everything the resulting zc_submit_t points to (strings and arrays) is
    allocated once, registered in self->owned, and freed by destroy, so a
    spec that fails half-way is cleaned up by the same path.

    Aliases are resolved by libyaml to shared nodes; the schema is shallow
    and each field is read once, so an alias "bomb" costs nothing here.
*/
#include "zc_spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <czmq.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "zc_url.h"
#include "zc_util.h"

//  A spec file larger than this is refused before parsing.
#define S_MAX_SPEC_BYTES (16u * 1024 * 1024)
//  Longest field path in messages.
#define S_PATH_MAX 256

struct zc_spec {
    zc_submit_t submit;
    zlist_t *owned; //  heap blocks (strings, arrays) the submit points to
};

typedef struct {
    zc_spec_t *spec;
    yaml_document_t *doc;
    const char *name; //  the file name in messages
    char *error;
    size_t size;
    bool failed;
} ctx_t;

typedef enum {
    K_INT32,    //  int32_t, integer in [min, max]
    K_UINT32,   //  uint32_t, integer in [min, max]
    K_UINT64,   //  uint64_t, integer in [min, max]
    K_SIZE,     //  uint64_t, bytes with optional K/M/G suffix, in [min, max]
    K_DURATION, //  uint32_t milliseconds from "500ms", "1.5s", "2m", "24h"
    K_BOOL,     //  bool
    K_STRING,   //  const char *, non-empty single line
    K_LIST,     //  const char ** + size_t count, items checked by check
    K_SECTION,  //  a mapping described by section
    K_CUSTOM,   //  handled by custom
} kind_t;

typedef struct field field_t;

//  Checks (and may rewrite) one string value; fills WHY on error.
typedef int (*check_fn) (const char *value, char *why, size_t size);
typedef int (*custom_fn) (ctx_t *ctx, const char *path, yaml_node_t *node);

struct field {
    const char *key;
    kind_t kind;
    size_t offset;       //  into zc_submit_t
    size_t count_offset; //  K_LIST: its size_t count
    uint64_t min, max;
    const char *expected; //  what a good value looks like, for messages
    check_fn check;       //  K_STRING / K_LIST items, NULL = any single line
    const field_t *section;
    custom_fn custom;
};

#define S_AT(field) offsetof (zc_submit_t, field)

//  ---------------------------------------------------------------------
//  Ownership and errors

static void *
s_own (ctx_t *ctx, void *block)
{
    zlist_append (ctx->spec->owned, block);
    return block;
}

static char *
s_own_strndup (ctx_t *ctx, const char *text, size_t length)
{
    char *copy = zc_malloc (length + 1);
    memcpy (copy, text, length);
    copy[length] = 0;
    return s_own (ctx, copy);
}

//  Quotes at most 40 bytes of VALUE for a message, without control bytes.
static void
s_quote (const char *value, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = value; *p && n + 4 < size && p - value < 40; p++)
        out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    if (strlen (value) > 40 && n + 4 < size) {
        memcpy (out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
}

static int s_fail_line (ctx_t *ctx, size_t line, const char *path, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_fail_line (ctx_t *ctx, size_t line, const char *path, const char *format, ...)
{
    if (ctx->failed)
        return -1;
    ctx->failed = true;
    char message[512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    if (path && *path)
        snprintf (ctx->error, ctx->size, "%s:%zu: %s: %s", ctx->name, line, path, message);
    else
        snprintf (ctx->error, ctx->size, "%s:%zu: %s", ctx->name, line, message);
    return -1;
}

#define s_fail(ctx, node, path, ...)                                                               \
    s_fail_line ((ctx), (size_t)(node)->start_mark.line + 1, (path), __VA_ARGS__)

//  "expected X, got 'value'" or "expected X, got a mapping".
static int
s_fail_expected (ctx_t *ctx, yaml_node_t *node, const char *path, const char *expected)
{
    if (node->type == YAML_SCALAR_NODE) {
        char quoted[64];
        s_quote ((const char *)node->data.scalar.value, quoted, sizeof quoted);
        return s_fail (ctx, node, path, "expected %s, got '%s'", expected, quoted);
    }
    return s_fail (ctx, node, path, "expected %s, got a %s", expected,
                   node->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
}

//  ---------------------------------------------------------------------
//  Scalars

static bool
s_is_null (const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *value = (const char *)node->data.scalar.value;
    return !*value || streq (value, "~") || streq (value, "null") || streq (value, "Null") ||
           streq (value, "NULL");
}

//  The scalar's text, or NULL after reporting a wrong type or a NUL byte.
static const char *
s_scalar (ctx_t *ctx, yaml_node_t *node, const char *path, const char *expected)
{
    if (node->type != YAML_SCALAR_NODE) {
        s_fail_expected (ctx, node, path, expected);
        return NULL;
    }
    const char *value = (const char *)node->data.scalar.value;
    if (strlen (value) != node->data.scalar.length) {
        s_fail (ctx, node, path, "contains a NUL byte");
        return NULL;
    }
    return value;
}

static int
s_parse_uint (const char *text, uint64_t *value)
{
    if (!isdigit ((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || *end)
        return -1;
    *value = parsed;
    return 0;
}

static int
s_parse_size (const char *text, uint64_t *value)
{
    if (!isdigit ((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || parsed > (UINT64_MAX >> shift))
        return -1;
    *value = (uint64_t)parsed << shift;
    return 0;
}

//  "0", or a decimal number with unit ms, s, m or h, to milliseconds.
static int
s_parse_duration (const char *text, uint64_t *ms)
{
    if (streq (text, "0")) {
        *ms = 0;
        return 0;
    }
    if (!isdigit ((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    double number = strtod (text, &end);
    if (errno || !isfinite (number))
        return -1;
    double scale;
    if (streq (end, "ms"))
        scale = 1;
    else if (streq (end, "s"))
        scale = 1000;
    else if (streq (end, "m"))
        scale = 60000;
    else if (streq (end, "h"))
        scale = 3600000;
    else
        return -1;
    double value = number * scale + 0.5;
    if (value >= 1e15)
        return -1;
    *ms = (uint64_t)value;
    return 0;
}

static int
s_parse_bool (const char *text, bool *value)
{
    if (streq (text, "true") || streq (text, "True") || streq (text, "TRUE"))
        *value = true;
    else if (streq (text, "false") || streq (text, "False") || streq (text, "FALSE"))
        *value = false;
    else
        return -1;
    return 0;
}

//  ---------------------------------------------------------------------
//  Value checks (check_fn)

static int
s_check_line (const char *value, char *why, size_t size)
{
    if (!*value)
        snprintf (why, size, "must not be empty");
    else if (strpbrk (value, "\r\n"))
        snprintf (why, size, "must be a single line");
    else
        return 0;
    return -1;
}

static int
s_check_seed (const char *value, char *why, size_t size)
{
    zc_url_status_t status;
    char *canonical = zc_url_canonical (value, &status);
    if (!canonical) {
        snprintf (why, size, "not a usable http(s) URL: %s", zc_url_status_str (status));
        return -1;
    }
    free (canonical);
    return 0;
}

//  A host name (or host:port, or [IPv6]:port).
static int
s_check_host (const char *value, char *why, size_t size)
{
    if (!*value ||
        strspn (value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_") !=
            strlen (value)) {
        snprintf (why, size, "expected a host name or host:port");
        return -1;
    }
    return 0;
}

static int
s_check_domain (const char *value, char *why, size_t size)
{
    if (!*value || *value == '.' ||
        strspn (value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
            strlen (value)) {
        snprintf (why, size, "expected a domain name such as example.org");
        return -1;
    }
    return 0;
}

static int
s_check_regex (const char *value, char *why, size_t size)
{
    regex_t regex;
    int rc = regcomp (&regex, value, REG_EXTENDED);
    if (rc != 0) {
        char reason[128];
        regerror (rc, &regex, reason, sizeof reason);
        snprintf (why, size, "invalid regular expression: %s", reason);
        return -1;
    }
    regfree (&regex);
    return 0;
}

//  "HOST:PORT:ADDRESS[,ADDRESS...]", addresses IPv4 or [IPv6] (curl's
//  CURLOPT_RESOLVE syntax).
static int
s_check_resolve (const char *value, char *why, size_t size)
{
    snprintf (why, size, "expected HOST:PORT:ADDRESS (e.g. example.org:443:127.0.0.1)");
    const char *port = strchr (value, ':');
    if (!port || port == value || memchr (value, ' ', (size_t)(port - value)))
        return -1;
    port++;
    char *end = NULL;
    errno = 0;
    long number = strtol (port, &end, 10);
    if (errno || end == port || *end != ':' || number < 1 || number > 65535 || !isdigit (*port))
        return -1;
    const char *address = end + 1;
    if (!*address)
        return -1;
    while (*address) {
        size_t length = strcspn (address, ",");
        char text[64];
        if (length == 0 || length >= sizeof text)
            return -1;
        memcpy (text, address, length);
        text[length] = 0;
        unsigned char binary[16];
        bool ok;
        if (text[0] == '[' && text[length - 1] == ']') {
            text[length - 1] = 0;
            ok = inet_pton (AF_INET6, text + 1, binary) == 1;
        } else
            ok = inet_pton (AF_INET, text, binary) == 1;
        if (!ok)
            return -1;
        address += length;
        if (*address == ',' && !*++address)
            return -1;
    }
    return 0;
}

//  RFC 9110 token (header and cookie names).
static bool
s_is_token (const char *text)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!isalnum ((unsigned char)*p) && !strchr ("!#$%&'*+-.^_`|~", *p))
            return false;
    return true;
}

//  ---------------------------------------------------------------------
//  Walking

static int s_walk_mapping (ctx_t *ctx, const char *path, yaml_node_t *node, const field_t *fields);

//  PATH.KEY into OUT (S_PATH_MAX bytes); long paths are cut, which only
//  shortens messages.
static void
s_join (char *out, const char *path, const char *key)
{
    int length = snprintf (out, S_PATH_MAX, "%s%s%s", path, *path ? "." : "", key);
    if (length < 0 || length >= S_PATH_MAX)
        out[S_PATH_MAX - 1] = 0;
}

static int
s_read_integer (ctx_t *ctx, const field_t *f, const char *path, yaml_node_t *node, uint64_t *value)
{
    const char *text = s_scalar (ctx, node, path, f->expected);
    if (!text)
        return -1;
    int rc;
    if (f->kind == K_SIZE)
        rc = s_parse_size (text, value);
    else if (f->kind == K_DURATION)
        rc = s_parse_duration (text, value);
    else
        rc = s_parse_uint (text, value);
    if (rc != 0 || *value < f->min || *value > f->max)
        return s_fail_expected (ctx, node, path, f->expected);
    return 0;
}

//  Reads a checked, owned string.
static char *
s_read_string (ctx_t *ctx, const field_t *f, const char *path, yaml_node_t *node)
{
    const char *text = s_scalar (ctx, node, path, f->expected);
    if (!text)
        return NULL;
    char why[160];
    if ((f->check ? f->check : s_check_line) (text, why, sizeof why) != 0) {
        char quoted[64];
        s_quote (text, quoted, sizeof quoted);
        s_fail (ctx, node, path, "%s, got '%s'", why, quoted);
        return NULL;
    }
    return s_own_strndup (ctx, text, strlen (text));
}

static int
s_read_list (ctx_t *ctx, const field_t *f, const char *path, yaml_node_t *node)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return s_fail_expected (ctx, node, path, "a list");
    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (count == 0)
        return s_fail (ctx, node, path, "expected a non-empty list");
    const char **items = s_own (ctx, zc_malloc (count * sizeof *items));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node (ctx->doc, node->data.sequence.items.start[i]);
        char item_path[S_PATH_MAX];
        int length = snprintf (item_path, sizeof item_path, "%s[%zu]", path, i);
        if (length < 0 || (size_t)length >= sizeof item_path)
            item_path[sizeof item_path - 1] = 0;
        if (!item || !(items[i] = s_read_string (ctx, f, item_path, item)))
            return -1;
    }
    char *base = (char *)&ctx->spec->submit;
    *(const char ***)(base + f->offset) = items;
    *(size_t *)(base + f->count_offset) = count;
    return 0;
}

static int
s_read_field (ctx_t *ctx, const field_t *f, const char *path, yaml_node_t *node)
{
    char *target = (char *)&ctx->spec->submit + f->offset;
    uint64_t value = 0;
    switch (f->kind) {
    case K_INT32:
    case K_UINT32:
    case K_UINT64:
    case K_SIZE:
    case K_DURATION:
        if (s_read_integer (ctx, f, path, node, &value) != 0)
            return -1;
        if (f->kind == K_INT32)
            *(int32_t *)target = (int32_t)value;
        else if (f->kind == K_UINT32 || f->kind == K_DURATION)
            *(uint32_t *)target = (uint32_t)value;
        else
            *(uint64_t *)target = value;
        return 0;
    case K_BOOL: {
        const char *text = s_scalar (ctx, node, path, "true or false");
        if (!text || s_parse_bool (text, (bool *)target) != 0)
            return text ? s_fail_expected (ctx, node, path, "true or false") : -1;
        return 0;
    }
    case K_STRING: {
        char *text = s_read_string (ctx, f, path, node);
        if (!text)
            return -1;
        *(const char **)target = text;
        return 0;
    }
    case K_LIST:
        return s_read_list (ctx, f, path, node);
    case K_SECTION:
        return s_walk_mapping (ctx, path, node, f->section);
    case K_CUSTOM:
        return f->custom (ctx, path, node);
    }
    return -1;
}

//  Walks mapping NODE against FIELDS (NULL-key terminated): unknown and
//  duplicate keys are errors; null values mean "absent".
static int
s_walk_mapping (ctx_t *ctx, const char *path, yaml_node_t *node, const field_t *fields)
{
    if (s_is_null (node))
        return 0;
    if (node->type != YAML_MAPPING_NODE)
        return s_fail_expected (ctx, node, path, "a mapping");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        if (!key || !value)
            return s_fail_line (ctx, 1, path, "malformed document");
        if (key->type != YAML_SCALAR_NODE)
            return s_fail (ctx, key, path, "keys must be plain names");
        const char *name = (const char *)key->data.scalar.value;
        char field_path[S_PATH_MAX];
        s_join (field_path, path, name);
        for (yaml_node_pair_t *before = node->data.mapping.pairs.start; before < pair; before++) {
            yaml_node_t *other = yaml_document_get_node (ctx->doc, before->key);
            if (other && other->type == YAML_SCALAR_NODE &&
                streq ((const char *)other->data.scalar.value, name))
                return s_fail (ctx, key, field_path, "duplicate field (first on line %zu)",
                               (size_t)other->start_mark.line + 1);
        }
        const field_t *f = fields;
        while (f->key && !streq (f->key, name))
            f++;
        if (!f->key)
            return s_fail (ctx, key, field_path, "unknown field");
        if (f->kind != K_SECTION && s_is_null (value))
            continue;
        if (s_read_field (ctx, f, field_path, value) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Custom sections: headers, cookies, extract

//  Adds "Name: value" lines to fetch.headers (grown per call; owned).
static void
s_add_headers (ctx_t *ctx, const char **lines, size_t count)
{
    zc_fetch_opts_t *fetch = &ctx->spec->submit.opts.fetch;
    const char **grown = s_own (ctx, zc_malloc ((fetch->header_count + count) * sizeof *grown));
    if (fetch->header_count)
        memcpy (grown, fetch->headers, fetch->header_count * sizeof *grown);
    memcpy (grown + fetch->header_count, lines, count * sizeof *grown);
    fetch->headers = grown;
    fetch->header_count += count;
}

static int
s_read_headers (ctx_t *ctx, const char *path, yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return s_fail_expected (ctx, node, path, "a mapping of header names to values");
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    const char **lines = zc_malloc ((count ? count : 1) * sizeof *lines);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        const char *name = key ? s_scalar (ctx, key, path, "a header name") : NULL;
        if (!name || !value) {
            rc = -1;
            break;
        }
        char field_path[S_PATH_MAX];
        s_join (field_path, path, name);
        if (!s_is_token (name) || strcasecmp (name, "Host") == 0) {
            rc =
                s_fail (ctx, key, field_path, "not a valid header name (RFC 9110 token, not Host)");
            break;
        }
        for (size_t j = 0; j < i; j++)
            if (strncasecmp (lines[j], name, strlen (name)) == 0 &&
                lines[j][strlen (name)] == ':') {
                rc = s_fail (ctx, key, field_path, "duplicate header");
                break;
            }
        const char *text = rc == 0 ? s_scalar (ctx, value, field_path, "a header value") : NULL;
        if (!text)
            rc = -1;
        else if (!*text || strpbrk (text, "\r\n"))
            rc = s_fail (ctx, value, field_path, "header value must be a non-empty single line");
        else {
            char *line = zsys_sprintf ("%s: %s", name, text);
            assert (line);
            lines[i] = s_own (ctx, line);
        }
    }
    if (rc == 0 && count)
        s_add_headers (ctx, lines, count);
    free (lines);
    return rc;
}

//  cookies: {name: value} becomes one "Cookie: a=1; b=2" header.
static int
s_read_cookies (ctx_t *ctx, const char *path, yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return s_fail_expected (ctx, node, path, "a mapping of cookie names to values");
    zchunk_t *header = zchunk_new ("Cookie: ", 8);
    assert (header);
    int rc = 0;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         rc == 0 && pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        const char *name = key ? s_scalar (ctx, key, path, "a cookie name") : NULL;
        char field_path[S_PATH_MAX];
        s_join (field_path, path, name ? name : "?");
        const char *text = name && value ? s_scalar (ctx, value, field_path, "a value") : NULL;
        if (!name || !value || !text)
            rc = -1;
        else if (!s_is_token (name))
            rc = s_fail (ctx, key, field_path, "not a valid cookie name");
        else if (strpbrk (text, " \t\r\n\";,\\"))
            rc = s_fail (ctx, value, field_path,
                         "cookie value must not contain spaces, quotes, ';', ',' or '\\'");
        else {
            if (pair > node->data.mapping.pairs.start)
                zchunk_extend (header, "; ", 2);
            zchunk_extend (header, name, strlen (name));
            zchunk_extend (header, "=", 1);
            zchunk_extend (header, text, strlen (text));
        }
    }
    if (rc == 0 && node->data.mapping.pairs.top > node->data.mapping.pairs.start) {
        const char *line =
            s_own_strndup (ctx, (const char *)zchunk_data (header), zchunk_size (header));
        s_add_headers (ctx, &line, 1);
    }
    zchunk_destroy (&header);
    return rc;
}

//  One extraction rule given as a mapping.
static int
s_read_rule_mapping (ctx_t *ctx, const char *path, yaml_node_t *node, zc_extract_rule_t *rule)
{
    const char *css = NULL, *xpath = NULL, *take = NULL;
    size_t take_line = 0;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        const char *name = key ? s_scalar (ctx, key, path, "a key") : NULL;
        if (!name || !value)
            return -1;
        char field_path[S_PATH_MAX];
        s_join (field_path, path, name);
        for (yaml_node_pair_t *before = node->data.mapping.pairs.start; before < pair; before++) {
            yaml_node_t *other = yaml_document_get_node (ctx->doc, before->key);
            if (other && streq ((const char *)other->data.scalar.value, name))
                return s_fail (ctx, key, field_path, "duplicate field");
        }
        const field_t text_field = {.kind = K_STRING, .expected = "a string"};
        if (streq (name, "css") || streq (name, "xpath") || streq (name, "attr") ||
            streq (name, "regex") || streq (name, "take")) {
            field_t f = text_field;
            if (streq (name, "regex"))
                f.check = s_check_regex;
            const char *text = s_read_string (ctx, &f, field_path, value);
            if (!text)
                return -1;
            if (streq (name, "css"))
                css = text;
            else if (streq (name, "xpath"))
                xpath = text;
            else if (streq (name, "attr"))
                rule->attr = text;
            else if (streq (name, "regex"))
                rule->regex = text;
            else {
                take = text;
                take_line = (size_t)value->start_mark.line + 1;
                if (streq (take, "text"))
                    rule->take = ZC_TAKE_TEXT;
                else if (streq (take, "html"))
                    rule->take = ZC_TAKE_HTML;
                else if (streq (take, "attr"))
                    rule->take = ZC_TAKE_ATTR;
                else
                    return s_fail_expected (ctx, value, field_path, "text, html or attr");
            }
        } else if (streq (name, "all")) {
            const char *text = s_scalar (ctx, value, field_path, "true or false");
            if (!text || s_parse_bool (text, &rule->all) != 0)
                return text ? s_fail_expected (ctx, value, field_path, "true or false") : -1;
        } else
            return s_fail (ctx, key, field_path, "unknown field");
    }
    if (!css == !xpath)
        return s_fail (ctx, node, path, "give exactly one of css or xpath");
    rule->selector = css ? css : xpath;
    rule->xpath = xpath != NULL;
    if (*rule->attr) {
        if (take && rule->take != ZC_TAKE_ATTR) {
            char take_path[S_PATH_MAX];
            s_join (take_path, path, "take");
            return s_fail_line (ctx, take_line, take_path, "must be attr when attr is given");
        }
        rule->take = ZC_TAKE_ATTR;
    } else if (rule->take == ZC_TAKE_ATTR)
        return s_fail (ctx, node, path, "take: attr needs attr: NAME");
    return 0;
}

static int
s_read_extract (ctx_t *ctx, const char *path, yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return s_fail_expected (ctx, node, path, "a mapping of field names to rules");
    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count == 0)
        return 0;
    zc_extract_rule_t *rules = s_own (ctx, zc_malloc (count * sizeof *rules));
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        yaml_node_t *key = yaml_document_get_node (ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node (ctx->doc, pair->value);
        const char *name = key ? s_scalar (ctx, key, path, "a field name") : NULL;
        if (!name || !value)
            return -1;
        char field_path[S_PATH_MAX];
        s_join (field_path, path, name);
        if (!*name || strpbrk (name, "\r\n\t"))
            return s_fail (ctx, key, field_path, "field names must be non-empty single words");
        for (size_t j = 0; j < i; j++)
            if (streq (rules[j].name, name))
                return s_fail (ctx, key, field_path, "duplicate field");
        zc_extract_rule_t *rule = &rules[i];
        *rule = (zc_extract_rule_t){
            .name = s_own_strndup (ctx, name, strlen (name)), .attr = "", .regex = ""};
        if (value->type == YAML_SCALAR_NODE) {
            const field_t css_field = {.kind = K_STRING,
                                       .expected = "a CSS selector or a rule mapping"};
            rule->selector = s_read_string (ctx, &css_field, field_path, value);
            if (!rule->selector)
                return -1;
        } else if (value->type == YAML_MAPPING_NODE) {
            if (s_read_rule_mapping (ctx, field_path, value, rule) != 0)
                return -1;
        } else
            return s_fail_expected (ctx, value, field_path, "a CSS selector or a rule mapping");
    }
    ctx->spec->submit.opts.rules = rules;
    ctx->spec->submit.opts.rule_count = count;
    return 0;
}

//  ---------------------------------------------------------------------
//  The schema

#define S_DURATION_DAY 86400000u

static const field_t s_output_fields[] = {
    {"items", K_STRING, S_AT (output), 0, 0, 0, "a file path", NULL, NULL, NULL},
    {"errors", K_STRING, S_AT (errors), 0, 0, 0, "a file path", NULL, NULL, NULL},
    {NULL, K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};

static const field_t s_scope_fields[] = {
    {"max_depth", K_INT32, S_AT (opts.max_depth), 0, 0, INT32_MAX, "an integer >= 0", NULL, NULL,
     NULL},
    {"max_pages", K_UINT64, S_AT (opts.max_pages), 0, 1, UINT64_MAX, "an integer > 0", NULL, NULL,
     NULL},
    {"max_pages_per_host", K_UINT64, S_AT (opts.max_pages_per_host), 0, 1, UINT64_MAX,
     "an integer > 0", NULL, NULL, NULL},
    {"allowed_hosts", K_LIST, S_AT (opts.allowed_hosts), S_AT (opts.allowed_host_count), 0, 0,
     "a host name", s_check_host, NULL, NULL},
    {"allowed_domains", K_LIST, S_AT (opts.allowed_domains), S_AT (opts.allowed_domain_count), 0, 0,
     "a domain name", s_check_domain, NULL, NULL},
    {"include", K_LIST, S_AT (opts.include), S_AT (opts.include_count), 0, 0,
     "a regular expression", s_check_regex, NULL, NULL},
    {"exclude", K_LIST, S_AT (opts.exclude), S_AT (opts.exclude_count), 0, 0,
     "a regular expression", s_check_regex, NULL, NULL},
    {"max_url_length", K_UINT32, S_AT (opts.max_url_bytes), 0, 16, 1048576,
     "an integer from 16 to 1048576", NULL, NULL, NULL},
    {"max_path_segments", K_UINT32, S_AT (opts.max_path_segments), 0, 1, 100000,
     "an integer from 1 to 100000", NULL, NULL, NULL},
    {"max_segment_repeats", K_UINT32, S_AT (opts.max_segment_repeats), 0, 1, 100000,
     "an integer from 1 to 100000", NULL, NULL, NULL},
    {NULL, K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};

static const field_t s_politeness_fields[] = {
    {"impolite", K_BOOL, S_AT (opts.impolite), 0, 0, 0, "true or false", NULL, NULL, NULL},
    {"host_concurrency", K_UINT32, S_AT (opts.host_concurrency), 0, 1, 100000,
     "an integer from 1 to 100000", NULL, NULL, NULL},
    {"host_delay", K_DURATION, S_AT (opts.host_delay_ms), 0, 1, S_DURATION_DAY,
     "a duration from 1ms to 24h such as 500ms or 1.5s (for no delay: impolite: true)", NULL, NULL,
     NULL},
    {"crawl_delay_cap", K_DURATION, S_AT (opts.crawl_delay_cap_ms), 0, 1, S_DURATION_DAY,
     "a duration from 1ms to 24h such as 30s", NULL, NULL, NULL},
    {"ignore_robots", K_BOOL, S_AT (opts.ignore_robots), 0, 0, 0, "true or false", NULL, NULL,
     NULL},
    {"robots_cache", K_DURATION, S_AT (opts.robots_cache_ms), 0, 1000, 30u * S_DURATION_DAY,
     "a duration from 1s to 720h such as 24h", NULL, NULL, NULL},
    {NULL, K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};

static const field_t s_fetch_fields[] = {
    {"user_agent", K_STRING, S_AT (opts.fetch.user_agent), 0, 0, 0, "a single-line string", NULL,
     NULL, NULL},
    {"connect_timeout", K_DURATION, S_AT (opts.fetch.connect_timeout_ms), 0, 1, S_DURATION_DAY,
     "a duration from 1ms to 24h such as 10s", NULL, NULL, NULL},
    {"timeout", K_DURATION, S_AT (opts.fetch.timeout_ms), 0, 1, S_DURATION_DAY,
     "a duration from 1ms to 24h such as 30s", NULL, NULL, NULL},
    {"max_body", K_SIZE, S_AT (opts.fetch.max_body_bytes), 0, 1, ZC_MSG_MAX_BODY_BYTES,
     "a size from 1 to 64M such as 10M", NULL, NULL, NULL},
    {"max_redirects", K_UINT32, S_AT (opts.fetch.max_redirects), 0, 1, 100,
     "an integer from 1 to 100", NULL, NULL, NULL},
    {"max_attempts", K_UINT32, S_AT (opts.max_attempts), 0, 1, 100, "an integer from 1 to 100",
     NULL, NULL, NULL},
    {"retry_base", K_DURATION, S_AT (opts.retry_base_ms), 0, 1, S_DURATION_DAY,
     "a duration from 1ms to 24h such as 1s", NULL, NULL, NULL},
    {"allow_private", K_BOOL, S_AT (opts.fetch.allow_private), 0, 0, 0, "true or false", NULL, NULL,
     NULL},
    {"headers", K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, s_read_headers},
    {"cookies", K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, s_read_cookies},
    {"resolve", K_LIST, S_AT (opts.fetch.resolve), S_AT (opts.fetch.resolve_count), 0, 0,
     "HOST:PORT:ADDRESS", s_check_resolve, NULL, NULL},
    {NULL, K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};

static const field_t s_top_fields[] = {
    {"seeds", K_LIST, S_AT (seeds), S_AT (seed_count), 0, 0, "an http(s) URL", s_check_seed, NULL,
     NULL},
    {"output", K_SECTION, 0, 0, 0, 0, NULL, NULL, s_output_fields, NULL},
    {"scope", K_SECTION, 0, 0, 0, 0, NULL, NULL, s_scope_fields, NULL},
    {"politeness", K_SECTION, 0, 0, 0, 0, NULL, NULL, s_politeness_fields, NULL},
    {"fetch", K_SECTION, 0, 0, 0, 0, NULL, NULL, s_fetch_fields, NULL},
    {"extract", K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, s_read_extract},
    {NULL, K_CUSTOM, 0, 0, 0, 0, NULL, NULL, NULL, NULL}};

//  ---------------------------------------------------------------------
//  Public API

void
zc_spec_destroy (zc_spec_t **self_p)
{
    assert (self_p);
    zc_spec_t *self = *self_p;
    if (!self)
        return;
    if (self->owned) {
        void *block;
        while ((block = zlist_pop (self->owned)))
            free (block);
        zlist_destroy (&self->owned);
    }
    free (self);
    *self_p = NULL;
}

static int
s_load_document (ctx_t *ctx, const char *yaml, size_t length)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser))
        return s_fail_line (ctx, 1, NULL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string (&parser, (const unsigned char *)yaml, length);
    int rc = 0;
    if (!yaml_parser_load (&parser, ctx->doc)) {
        ctx->doc = NULL;
        rc = s_fail_line (ctx, (size_t)parser.problem_mark.line + 1, NULL,
                          "YAML syntax error: %s%s%s",
                          parser.problem ? parser.problem : "unknown problem",
                          parser.context ? " " : "", parser.context ? parser.context : "");
    } else if (!yaml_document_get_root_node (ctx->doc))
        rc = s_fail_line (ctx, 1, NULL, "the spec is empty (expected a mapping with seeds)");
    else {
        //  A second document would be silently ignored; refuse it.
        yaml_document_t next;
        if (!yaml_parser_load (&parser, &next))
            rc = s_fail_line (ctx, (size_t)parser.problem_mark.line + 1, NULL,
                              "YAML syntax error: %s",
                              parser.problem ? parser.problem : "unknown problem");
        else {
            yaml_node_t *root = yaml_document_get_root_node (&next);
            if (root)
                rc = s_fail_line (ctx, (size_t)next.start_mark.line + 1, NULL,
                                  "only one YAML document is allowed");
            yaml_document_delete (&next);
        }
    }
    yaml_parser_delete (&parser);
    return rc;
}

zc_spec_t *
zc_spec_load_string (const char *yaml, size_t length, const char *name, char *error, size_t size)
{
    assert (yaml || length == 0);
    assert (name && error && size);
    error[0] = 0;
    zc_spec_t *self = zc_malloc (sizeof *self);
    *self = (zc_spec_t){.owned = zlist_new ()};
    assert (self->owned);
    zc_submit_t *s = &self->submit;
    s->output = "";
    s->errors = "";
    s->opts.max_depth = -1;
    s->opts.fetch.user_agent = "";

    yaml_document_t doc;
    ctx_t ctx = {.spec = self, .doc = &doc, .name = name, .error = error, .size = size};
    int rc = s_load_document (&ctx, yaml ? yaml : "", length);
    if (rc == 0) {
        yaml_node_t *root = yaml_document_get_root_node (&doc);
        if (root->type != YAML_MAPPING_NODE)
            rc = s_fail (&ctx, root, NULL,
                         "expected a mapping at the top level (seeds:, scope:, ...)");
        else
            rc = s_walk_mapping (&ctx, "", root, s_top_fields);
    }
    if (ctx.doc)
        yaml_document_delete (&doc);
    if (rc != 0) {
        if (!error[0])
            snprintf (error, size, "%s: invalid spec", name);
        zc_spec_destroy (&self);
    }
    return self;
}

zc_spec_t *
zc_spec_load (const char *path, char *error, size_t size)
{
    assert (path && error && size);
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (error, size, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }
    char *text = zc_malloc (S_MAX_SPEC_BYTES + 1);
    size_t length = fread (text, 1, S_MAX_SPEC_BYTES + 1, file);
    bool failed = ferror (file) != 0;
    fclose (file);
    zc_spec_t *self = NULL;
    if (failed)
        snprintf (error, size, "%s: cannot read the file", path);
    else if (length > S_MAX_SPEC_BYTES)
        snprintf (error, size, "%s: larger than %u bytes", path, S_MAX_SPEC_BYTES);
    else
        self = zc_spec_load_string (text, length, path, error, size);
    free (text);
    return self;
}

zc_submit_t *
zc_spec_submit (zc_spec_t *self)
{
    assert (self);
    return &self->submit;
}

int
zc_spec_check_regex (const char *value, char *why, size_t size)
{
    return s_check_regex (value, why, size);
}

int
zc_spec_check_host (const char *value, char *why, size_t size)
{
    return s_check_host (value, why, size);
}

int
zc_spec_check_domain (const char *value, char *why, size_t size)
{
    return s_check_domain (value, why, size);
}

int
zc_spec_check_resolve (const char *value, char *why, size_t size)
{
    return s_check_resolve (value, why, size);
}

int
zc_spec_check_header (const char *line, char *why, size_t size)
{
    const char *colon = strchr (line, ':');
    char name[128];
    size_t length = colon ? (size_t)(colon - line) : 0;
    if (!colon || length == 0 || length >= sizeof name) {
        snprintf (why, size, "expected \"Name: value\"");
        return -1;
    }
    memcpy (name, line, length);
    name[length] = 0;
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (!s_is_token (name) || strcasecmp (name, "Host") == 0) {
        snprintf (why, size, "'%s' is not a valid header name (RFC 9110 token, not Host)", name);
        return -1;
    }
    if (!*value || strpbrk (value, "\r\n")) {
        snprintf (why, size, "header value must be a non-empty single line");
        return -1;
    }
    return 0;
}
