/*  Unit tests for zc_sink: exact fields, valid JSON and UTF-8 on hostile
    strings, open failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zc_sink.h"
#include "zc_util.h"

typedef struct {
    char dir[256];
    char items[300];
    char errors[300];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = (fixture_t *)zmalloc (sizeof (fixture_t));
    snprintf (fixture->dir, sizeof fixture->dir, "/tmp/test_zc_sink.XXXXXX");
    if (!mkdtemp (fixture->dir))
        return -1;
    snprintf (fixture->items, sizeof fixture->items, "%s/items.jsonl", fixture->dir);
    snprintf (fixture->errors, sizeof fixture->errors, "%s/errors.jsonl", fixture->dir);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    unlink (fixture->items);
    unlink (fixture->errors);
    rmdir (fixture->dir);
    free (fixture);
    return 0;
}

//  Reads PATH as JSON Lines: returns an array of the parsed lines; every
//  line must parse and the whole file must be valid UTF-8.
static json_t *
s_read_lines (const char *path)
{
    FILE *file = fopen (path, "r");
    assert_non_null (file);
    json_t *lines = json_array ();
    char *line = NULL;
    size_t size = 0;
    ssize_t length;
    while ((length = getline (&line, &size, file)) > 0) {
        assert_int_equal (line[length - 1], '\n');
        json_error_t error;
        json_t *value = json_loadb (line, (size_t)length, 0, &error);
        if (!value)
            fail_msg ("invalid JSON line %s: %s", line, error.text);
        assert_true (json_is_object (value));
        json_array_append_new (lines, value);
    }
    free (line);
    fclose (file);
    return lines;
}

//  Checks that OBJECT has exactly the keys in KEYS (NULL-terminated), in order.
static void
s_assert_keys (json_t *object, const char **keys)
{
    size_t count = 0;
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value)
    {
        (void)value;
        assert_non_null (keys[count]);
        assert_string_equal (key, keys[count]);
        count++;
    }
    assert_null (keys[count]);
}

static void
test_item_line (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_sink_t *sink = zc_sink_new (fixture->items, fixture->errors, "c0ffee01");
    assert_non_null (sink);
    const char *values[] = {"one", "two"};
    zc_field_t fields[] = {{.name = "price", .values = values, .value_count = 2}};
    const char *links[] = {"http://a/1", "http://a/2", "http://a/3"};
    zc_result_t result = {
        .meta = {.crawl = "c0ffee01",
                 .id = 7,
                 .url = "http://127.0.0.1:8080/",
                 .final_url = "http://127.0.0.1:8080/index.html",
                 .depth = 2,
                 .status = 200,
                 .content_type = "text/html; charset=utf-8",
                 .fetched_at_ms = 1700000000123ULL,
                 .redirects = 1},
        .title = "Hello \"world\"\n\t\x01",
        .links = links,
        .link_count = 3,
        .fields = fields,
        .field_count = 1,
        .canonical = "http://127.0.0.1:8080/canonical",
        .noindex = true,
    };
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    result.title = NULL;
    result.canonical = "";
    result.noindex = false;
    result.field_count = 0;
    result.link_count = 0;
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    assert_int_equal (zc_sink_flush (sink), 0);
    assert_int_equal (zc_sink_items (sink), 2);

    json_t *lines = s_read_lines (fixture->items);
    assert_int_equal (json_array_size (lines), 2);
    json_t *item = json_array_get (lines, 0);
    const char *keys[] = {
        "url",   "final_url",  "status", "content_type", "title", "canonical", "noindex",
        "depth", "fetched_at", "links",  "redirects",    "crawl", "fields",    NULL};
    s_assert_keys (item, keys);
    assert_string_equal (json_string_value (json_object_get (item, "url")),
                         "http://127.0.0.1:8080/");
    assert_string_equal (json_string_value (json_object_get (item, "final_url")),
                         "http://127.0.0.1:8080/index.html");
    assert_int_equal (json_integer_value (json_object_get (item, "status")), 200);
    assert_string_equal (json_string_value (json_object_get (item, "content_type")),
                         "text/html; charset=utf-8");
    assert_string_equal (json_string_value (json_object_get (item, "title")),
                         "Hello \"world\"\n\t\x01");
    assert_int_equal (json_integer_value (json_object_get (item, "depth")), 2);
    assert_string_equal (json_string_value (json_object_get (item, "fetched_at")),
                         "2023-11-14T22:13:20.123Z");
    assert_int_equal (json_integer_value (json_object_get (item, "links")), 3);
    assert_int_equal (json_integer_value (json_object_get (item, "redirects")), 1);
    assert_string_equal (json_string_value (json_object_get (item, "canonical")),
                         "http://127.0.0.1:8080/canonical");
    assert_true (json_is_true (json_object_get (item, "noindex")));
    assert_string_equal (json_string_value (json_object_get (item, "crawl")), "c0ffee01");
    json_t *price = json_object_get (json_object_get (item, "fields"), "price");
    assert_int_equal (json_array_size (price), 2);
    assert_string_equal (json_string_value (json_array_get (price, 1)), "two");

    item = json_array_get (lines, 1);
    assert_true (json_is_null (json_object_get (item, "title")));
    assert_true (json_is_null (json_object_get (item, "canonical")));
    assert_true (json_is_false (json_object_get (item, "noindex")));
    assert_int_equal (json_object_size (json_object_get (item, "fields")), 0);
    assert_int_equal (json_integer_value (json_object_get (item, "links")), 0);
    json_decref (lines);
    zc_sink_destroy (&sink);
    assert_null (sink);
}

//  With rules set, a single-value rule is a string (null when nothing
//  matched) and an `all` rule an array ([] when nothing matched), in rule
//  order; fields no rule names stay arrays.
static void
test_fields_by_rule (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_sink_t *sink = zc_sink_new (fixture->items, fixture->errors, "c4");
    assert_non_null (sink);
    zc_extract_rule_t rules[] = {
        {.name = "title", .selector = "h1"},
        {.name = "tags", .selector = ".tag", .all = true},
        {.name = "price", .selector = "//span", .xpath = true},
        {.name = "images", .selector = "img", .take = ZC_TAKE_ATTR, .attr = "src", .all = true},
        //  Same name again, this time `all`: the field becomes an array
        {.name = "both", .selector = "a"},
        {.name = "both", .selector = "b", .all = true},
    };
    zc_sink_set_rules (sink, rules, 6);
    const char *title[] = {"First", "Second"};
    const char *tags[] = {"x", "y\xff"};
    const char *both[] = {"b1"};
    const char *extra[] = {"e"};
    zc_field_t fields[] = {
        {.name = "extra", .values = extra, .value_count = 1},
        {.name = "tags", .values = tags, .value_count = 2},
        {.name = "title", .values = title, .value_count = 2},
        {.name = "both", .values = both, .value_count = 1},
    };
    zc_result_t result = {
        .meta = {.url = "http://a/", .final_url = "http://a/", .status = 200},
        .fields = fields,
        .field_count = 4,
    };
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    //  Without rules every field is an array
    zc_sink_set_rules (sink, NULL, 0);
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    zc_sink_destroy (&sink);

    json_t *lines = s_read_lines (fixture->items);
    assert_int_equal (json_array_size (lines), 2);
    json_t *object = json_object_get (json_array_get (lines, 0), "fields");
    const char *keys[] = {"title", "tags", "price", "images", "both", "extra", NULL};
    s_assert_keys (object, keys);
    assert_string_equal (json_string_value (json_object_get (object, "title")), "First");
    json_t *array = json_object_get (object, "tags");
    assert_int_equal (json_array_size (array), 2);
    assert_string_equal (json_string_value (json_array_get (array, 0)), "x");
    assert_string_equal (json_string_value (json_array_get (array, 1)), "y\xef\xbf\xbd");
    assert_true (json_is_null (json_object_get (object, "price")));
    array = json_object_get (object, "images");
    assert_true (json_is_array (array));
    assert_int_equal (json_array_size (array), 0);
    array = json_object_get (object, "both");
    assert_int_equal (json_array_size (array), 1);
    array = json_object_get (object, "extra");
    assert_int_equal (json_array_size (array), 1);
    assert_string_equal (json_string_value (json_array_get (array, 0)), "e");

    object = json_object_get (json_array_get (lines, 1), "fields");
    const char *plain_keys[] = {"extra", "tags", "title", "both", NULL};
    s_assert_keys (object, plain_keys);
    assert_int_equal (json_array_size (json_object_get (object, "title")), 2);
    json_decref (lines);
}

static void
test_error_line (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_sink_t *sink = zc_sink_new (fixture->items, fixture->errors, "c1");
    assert_non_null (sink);
    zc_sink_error_t error = {.url = "http://a/x",
                             .reason = "http",
                             .detail = "HTTP 404",
                             .status = 404,
                             .attempts = 1,
                             .depth = 3,
                             .at_ms = 0};
    assert_int_equal (zc_sink_write_error (sink, &error), 0);
    zc_sink_error_t redirect = {.url = "http://a/r",
                                .reason = "scope",
                                .detail = NULL,
                                .status = 0,
                                .location = "http://elsewhere/",
                                .attempts = 2,
                                .depth = 0,
                                .at_ms = 1500};
    assert_int_equal (zc_sink_write_error (sink, &redirect), 0);
    assert_int_equal (zc_sink_errors (sink), 2);
    zc_sink_destroy (&sink); //  flushes

    json_t *lines = s_read_lines (fixture->errors);
    assert_int_equal (json_array_size (lines), 2);
    json_t *line = json_array_get (lines, 0);
    const char *keys[] = {"url",   "reason", "detail", "status", "attempts",
                          "depth", "crawl",  "at",     NULL};
    s_assert_keys (line, keys);
    assert_string_equal (json_string_value (json_object_get (line, "reason")), "http");
    assert_string_equal (json_string_value (json_object_get (line, "detail")), "HTTP 404");
    assert_int_equal (json_integer_value (json_object_get (line, "status")), 404);
    assert_int_equal (json_integer_value (json_object_get (line, "depth")), 3);
    assert_string_equal (json_string_value (json_object_get (line, "at")),
                         "1970-01-01T00:00:00.000Z");
    line = json_array_get (lines, 1);
    const char *redirect_keys[] = {"url",      "reason", "detail", "status", "location",
                                   "attempts", "depth",  "crawl",  "at",     NULL};
    s_assert_keys (line, redirect_keys);
    assert_true (json_is_null (json_object_get (line, "status")));
    assert_string_equal (json_string_value (json_object_get (line, "detail")), "");
    assert_string_equal (json_string_value (json_object_get (line, "location")),
                         "http://elsewhere/");
    assert_string_equal (json_string_value (json_object_get (line, "at")),
                         "1970-01-01T00:00:01.500Z");
    json_decref (lines);
    //  The items file exists and is empty
    lines = s_read_lines (fixture->items);
    assert_int_equal (json_array_size (lines), 0);
    json_decref (lines);
}

static void
test_invalid_utf8 (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_sink_t *sink = zc_sink_new (fixture->items, fixture->errors, "c2");
    assert_non_null (sink);
    zc_result_t result = {
        .meta = {.url = "http://a/\xff",
                 .final_url = "http://a/\xc3\xa9",
                 .status = 200,
                 .content_type = "text/html"},
        //  Latin-1 e-acute, a truncated 3-byte sequence, a surrogate, an
        //  overlong slash, a code point above U+10FFFF, then valid text
        .title = "caf\xe9 \xe2\x82 \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 ok \xe2\x82\xac",
    };
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    zc_sink_destroy (&sink);
    json_t *lines = s_read_lines (fixture->items); //  json_loadb rejects invalid UTF-8
    assert_int_equal (json_array_size (lines), 1);
    json_t *item = json_array_get (lines, 0);
    assert_string_equal (json_string_value (json_object_get (item, "url")),
                         "http://a/\xef\xbf\xbd");
    assert_string_equal (json_string_value (json_object_get (item, "final_url")),
                         "http://a/\xc3\xa9");
    const char *title = json_string_value (json_object_get (item, "title"));
    assert_non_null (strstr (title, "caf\xef\xbf\xbd "));
    assert_non_null (strstr (title, " ok \xe2\x82\xac"));
    json_decref (lines);
}

static void
test_sanitize (void **state)
{
    (void)state;
    struct {
        const char *in;
        size_t size;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"\xe2\x82\xac", 3, "\xe2\x82\xac"},
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},
        {"\xff", 1, "\xef\xbf\xbd"},
        //  A truncated sequence is one U+FFFD (maximal subpart)
        {"\xe2\x82x", 3, "\xef\xbf\xbdx"},
        {"\xe2\x82", 2, "\xef\xbf\xbd"},
        //  Overlong: C0 is never valid, then AF is a lone continuation
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        //  Surrogate D800: ED then A0 is out of range
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = zc_sink_utf8_sanitize (cases[i].in, cases[i].size);
        assert_string_equal (out, cases[i].out);
        free (out);
    }
}

static void
test_open_failure (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    errno = 0;
    zc_sink_t *sink = zc_sink_new ("/nonexistent-dir/x/items.jsonl", fixture->errors, "c3");
    assert_null (sink);
    assert_int_equal (errno, ENOENT);
    errno = 0;
    sink = zc_sink_new (fixture->items, "/nonexistent-dir/x/errors.jsonl", "c3");
    assert_null (sink);
    assert_int_equal (errno, ENOENT);
}

static void
test_iso8601 (void **state)
{
    (void)state;
    char buf[32];
    zc_sink_iso8601 (951782400999ULL, buf, sizeof buf); //  2000-02-29
    assert_string_equal (buf, "2000-02-29T00:00:00.999Z");
}

//  A sink that failed a write on a full disk never vouches for an offset
//  again, even once writes go through: the file may hold a torn line. A
//  reopen cut back to the last good sync leaves only whole lines.
static void
test_full_disk (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    char mnt[300], items[340], errors[340], filler[340];
    snprintf (mnt, sizeof mnt, "%s/mnt", fixture->dir);
    assert_int_equal (mkdir (mnt, 0700), 0);
    if (mount ("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
        print_message ("skipping: cannot mount a tmpfs (%s)\n", strerror (errno));
        rmdir (mnt);
        skip ();
    }
    snprintf (items, sizeof items, "%s/items.jsonl", mnt);
    snprintf (errors, sizeof errors, "%s/errors.jsonl", mnt);
    snprintf (filler, sizeof filler, "%s/filler", mnt);
    //  Room to free later
    FILE *file = fopen (filler, "w");
    assert_non_null (file);
    for (int i = 0; i < 64 * 1024; i++)
        fputc ('x', file);
    assert_int_equal (fclose (file), 0);

    zc_sink_t *sink = zc_sink_new (items, errors, "c1");
    assert_non_null (sink);
    uint64_t good_items, good_errors, offset_items, offset_errors;
    zc_result_t result = {.meta = {.crawl = "c1",
                                   .url = "http://a.test/p",
                                   .final_url = "http://a.test/p",
                                   .status = 200,
                                   .content_type = "text/html"},
                          .title = "a title long enough to fill the disk in a few thousand lines"};
    assert_int_equal (zc_sink_write_item (sink, &result), 0);
    assert_int_equal (zc_sink_sync (sink, &good_items, &good_errors), 0);
    //  Fill the disk: some write or flush fails
    bool failed = false;
    for (int i = 0; i < 100000 && !failed; i++)
        failed = zc_sink_write_item (sink, &result) != 0 || (i % 100 == 0 && zc_sink_flush (sink));
    assert_true (failed);
    //  Space comes back and writes go through again: still no offset
    assert_int_equal (unlink (filler), 0);
    (void)zc_sink_write_item (sink, &result);
    assert_int_equal (zc_sink_sync (sink, &offset_items, &offset_errors), -1);
    zc_sink_destroy (&sink);
    //  Cut back to the last good sync: whole lines only
    char error[256];
    sink = zc_sink_open_at (items, errors, "c1", good_items, good_errors, error, sizeof error);
    assert_non_null (sink);
    zc_sink_destroy (&sink);
    json_t *lines = s_read_lines (items);
    assert_int_equal (json_array_size (lines), 1);
    json_decref (lines);
    unlink (items);
    unlink (errors);
    assert_int_equal (umount2 (mnt, MNT_DETACH), 0);
    rmdir (mnt);
}

//  --- Differential test against jansson --------------------------------
//  The reference: how zc_sink built its lines before the streaming writer
//  (jansson objects dumped with json_dumpb), kept here verbatim in spirit.

static json_t *
s_ref_string (const char *s)
{
    if (!s)
        s = "";
    size_t size = strlen (s);
    json_t *string = json_stringn (s, size);
    if (string)
        return string;
    char *clean = zc_sink_utf8_sanitize (s, size);
    string = json_string (clean);
    free (clean);
    assert_non_null (string);
    return string;
}

static json_t *
s_ref_time (uint64_t time_ms)
{
    char buf[64];
    zc_sink_iso8601 (time_ms, buf, sizeof buf);
    return json_string (buf);
}

static char *
s_ref_key (const char *name)
{
    return zc_sink_utf8_sanitize (name ? name : "", name ? strlen (name) : 0);
}

typedef struct {
    const char **names; //  distinct rule names
    bool *all;
    size_t count;
} s_ref_rules_t;

static bool
s_ref_is_rule (const s_ref_rules_t *rules, const char *name)
{
    for (size_t i = 0; i < rules->count; i++)
        if (streq (rules->names[i], name ? name : ""))
            return true;
    return false;
}

static json_t *
s_ref_fields (const s_ref_rules_t *rules, const zc_result_t *result)
{
    json_t *object = json_object ();
    for (size_t i = 0; i < rules->count; i++) {
        json_t *values = rules->all[i] ? json_array () : NULL;
        json_t *single = NULL;
        for (size_t f = 0; f < result->field_count && !single; f++) {
            const zc_field_t *field = &result->fields[f];
            if (!streq (field->name ? field->name : "", rules->names[i]))
                continue;
            for (size_t v = 0; v < field->value_count && !single; v++) {
                if (!values)
                    single = s_ref_string (field->values[v]);
                else
                    json_array_append_new (values, s_ref_string (field->values[v]));
            }
        }
        char *key = s_ref_key (rules->names[i]);
        json_object_set_new (object, key, values ? values : single ? single : json_null ());
        free (key);
    }
    for (size_t f = 0; f < result->field_count; f++) {
        const zc_field_t *field = &result->fields[f];
        if (s_ref_is_rule (rules, field->name))
            continue;
        char *key = s_ref_key (field->name);
        json_t *values = json_object_get (object, key);
        if (!json_is_array (values)) {
            values = json_array ();
            json_object_set_new (object, key, values);
        }
        for (size_t v = 0; v < field->value_count; v++)
            json_array_append_new (values, s_ref_string (field->values[v]));
        free (key);
    }
    return object;
}

//  The reference line of RESULT (new string, with its newline).
static char *
s_ref_item (const s_ref_rules_t *rules, const char *crawl, const zc_result_t *result)
{
    const zc_page_meta_t *meta = &result->meta;
    json_t *item = json_object ();
    json_object_set_new (item, "url", s_ref_string (meta->url));
    json_object_set_new (item, "final_url", s_ref_string (meta->final_url));
    json_object_set_new (item, "status", json_integer ((json_int_t)meta->status));
    json_object_set_new (item, "content_type", s_ref_string (meta->content_type));
    json_object_set_new (item, "title",
                         result->title ? s_ref_string (result->title) : json_null ());
    json_object_set_new (item, "canonical",
                         result->canonical && *result->canonical ? s_ref_string (result->canonical)
                                                                 : json_null ());
    json_object_set_new (item, "noindex", json_boolean (result->noindex));
    json_object_set_new (item, "depth", json_integer ((json_int_t)meta->depth));
    json_object_set_new (item, "fetched_at", s_ref_time (meta->fetched_at_ms));
    json_object_set_new (item, "links", json_integer ((json_int_t)result->link_count));
    json_object_set_new (item, "redirects", json_integer ((json_int_t)meta->redirects));
    json_object_set_new (item, "crawl", s_ref_string (crawl));
    json_object_set_new (item, "fields", s_ref_fields (rules, result));
    char *text = json_dumps (item, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null (text);
    json_decref (item);
    char *line = zsys_sprintf ("%s\n", text);
    free (text);
    return line;
}

static char *
s_ref_error (const char *crawl, const zc_sink_error_t *error)
{
    json_t *line = json_object ();
    json_object_set_new (line, "url", s_ref_string (error->url));
    json_object_set_new (line, "reason", s_ref_string (error->reason));
    json_object_set_new (line, "detail", s_ref_string (error->detail));
    json_object_set_new (line, "status",
                         error->status ? json_integer ((json_int_t)error->status) : json_null ());
    if (error->location && *error->location)
        json_object_set_new (line, "location", s_ref_string (error->location));
    json_object_set_new (line, "attempts", json_integer ((json_int_t)error->attempts));
    json_object_set_new (line, "depth", json_integer ((json_int_t)error->depth));
    json_object_set_new (line, "crawl", s_ref_string (crawl));
    json_object_set_new (line, "at", s_ref_time (error->at_ms));
    char *text = json_dumps (line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null (text);
    json_decref (line);
    char *result = zsys_sprintf ("%s\n", text);
    free (text);
    return result;
}

//  Reads the whole of PATH (new string).
static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fseek (file, 0, SEEK_END), 0);
    long size = ftell (file);
    assert_true (size >= 0);
    rewind (file);
    char *data = (char *)zmalloc ((size_t)size + 1);
    assert_int_equal (fread (data, 1, (size_t)size, file), (size_t)size);
    fclose (file);
    return data;
}

//  Every item and error line is byte for byte what jansson's json_dumps
//  gave for the objects zc_sink used to build, on tricky strings: quotes,
//  backslashes, every control character, DEL, "/", U+2028/U+2029,
//  non-ASCII, 4-byte sequences, invalid UTF-8 of every kind, empty, NULL,
//  long; extraction fields with and without rules (same names, names that
//  only collide once made valid UTF-8); extreme integers and times.
static void
test_matches_jansson (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    char controls[64];
    for (int c = 1; c < 32; c++)
        controls[c - 1] = (char)c;
    controls[31] = 0x7f;
    controls[32] = 0;
    char *big = (char *)zmalloc (200001);
    for (size_t i = 0; i < 200000; i++)
        big[i] = "a\"\\\n\xc3\xa9\xe2\x80\xa8/\x01\xff"[i % 12];
    //  a multiple of 12 bytes: ends after \xff, an invalid byte
    const char *strings[] = {
        "",
        "plain",
        "quote \" and backslash \\ and both \\\"",
        controls,
        "slash / and </script>",
        "line sep \xe2\x80\xa8 para sep \xe2\x80\xa9",
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xef\xbf\xbd \xef\xbb\xbf",
        "\xff",
        "caf\xe9 \xe2\x82 \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 ok \xe2\x82\xac",
        "trunc at end \xf0\x9f\x98",
        "\xc2",
        "\x80\x80 lone continuations \xbf",
        "\xf5\xf8\xfc\xfe",
        "\xe0\x80\x80 overlong 3, \xf0\x80\x80\x80 overlong 4",
        big,
    };
    size_t string_count = sizeof strings / sizeof strings[0];
    const char *crawls[] = {"c0ffee01", "we\"ird\\id\n\xff"};
    const uint64_t times[] = {0,
                              999,
                              1000,
                              1700000000123ULL,
                              1700000000999ULL,
                              1700000001000ULL,
                              1700000000001ULL,
                              253402300799999ULL,
                              UINT64_MAX};
    size_t time_count = sizeof times / sizeof times[0];
    const uint32_t numbers[] = {0, 1, 9, 10, 200, 404, 999999, UINT32_MAX};
    size_t number_count = sizeof numbers / sizeof numbers[0];

    //  Rule sets: none; one of each kind; names that collide once made
    //  valid UTF-8 ("k\xff" and "k\xfe" are both "k\xef\xbf\xbd")
    zc_extract_rule_t rule_sets[][5] = {
        {{.name = NULL}},
        {{.name = "title"},
         {.name = "tags", .all = true},
         {.name = "both"},
         {.name = "both", .all = true},
         {.name = "q\"\\\n"}},
        {{.name = "k\xff", .all = true}, {.name = "k\xfe"}, {.name = "m\xff"}, {.name = NULL}},
    };
    size_t rule_counts[] = {0, 5, 4};
    const char *v1[] = {"one", "two\"\n", "\xff"};
    const char *v2[] = {"x"};
    const char *v3[] = {NULL, ""};
    zc_field_t field_sets[][7] = {
        {{.name = "price", .values = v1, .value_count = 3}},
        {{.name = "extra", .values = v1, .value_count = 3},
         {.name = "tags", .values = v2, .value_count = 1},
         {.name = "title", .values = v1, .value_count = 3},
         {.name = "both", .values = v2, .value_count = 1},
         {.name = "extra", .values = v2, .value_count = 1},
         {.name = "empty", .values = v1, .value_count = 0},
         {.name = NULL, .values = v3, .value_count = 2}},
        {{.name = "k\xfd", .values = v2, .value_count = 1},
         {.name = "k\xff", .values = v1, .value_count = 2},
         {.name = "m\xfe", .values = v3, .value_count = 2},
         {.name = "k\xfe", .values = v3, .value_count = 1},
         {.name = "m\xfd", .values = v2, .value_count = 1},
         {.name = "", .values = v2, .value_count = 1},
         {.name = "q\"\\\n", .values = v1, .value_count = 1}},
    };
    size_t field_counts[] = {1, 7, 7};

    for (size_t c = 0; c < 2; c++) {
        zc_sink_t *sink = zc_sink_new (fixture->items, fixture->errors, crawls[c]);
        assert_non_null (sink);
        char *expected_items = zc_strdup ("");
        char *expected_errors = zc_strdup ("");
        size_t n = 0;
        for (size_t r = 0; r < 3; r++) {
            zc_sink_set_rules (sink, rule_sets[r], rule_counts[r]);
            const char *names[5];
            bool all[5];
            s_ref_rules_t rules = {.names = names, .all = all, .count = 0};
            for (size_t i = 0; i < rule_counts[r]; i++) {
                const char *name = rule_sets[r][i].name ? rule_sets[r][i].name : "";
                size_t j = 0;
                while (j < rules.count && !streq (names[j], name))
                    j++;
                if (j == rules.count) {
                    names[j] = name;
                    all[j] = false;
                    rules.count++;
                }
                all[j] = all[j] || rule_sets[r][i].all;
            }
            for (size_t s = 0; s < string_count + 1; s++, n++) {
                //  s == string_count: the NULL strings
                const char *text = s < string_count ? strings[s] : NULL;
                const char *other = strings[(s + 3) % string_count];
                zc_result_t result = {
                    .meta = {.url = text,
                             .final_url = other,
                             .status = numbers[n % number_count],
                             .content_type = text,
                             .depth = numbers[(n + 1) % number_count],
                             .redirects = numbers[(n + 2) % number_count],
                             .fetched_at_ms = times[n % time_count]},
                    .title = text,
                    .canonical = s % 2 ? text : other,
                    .noindex = s % 2,
                    .link_count = n % 5 == 4 ? SIZE_MAX : n,
                    .fields = field_sets[n % 3],
                    .field_count = n % 4 == 3 ? 0 : field_counts[n % 3],
                };
                assert_int_equal (zc_sink_write_item (sink, &result), 0);
                char *line = s_ref_item (&rules, crawls[c], &result);
                char *joined = zsys_sprintf ("%s%s", expected_items, line);
                free (line);
                free (expected_items);
                expected_items = joined;

                zc_sink_error_t error = {.url = text,
                                         .reason = other,
                                         .detail = text,
                                         .status = numbers[(n + 3) % number_count],
                                         .location = s % 3 ? text : NULL,
                                         .attempts = numbers[(n + 4) % number_count],
                                         .depth = numbers[(n + 5) % number_count],
                                         .at_ms = times[(n + 1) % time_count]};
                assert_int_equal (zc_sink_write_error (sink, &error), 0);
                line = s_ref_error (crawls[c], &error);
                joined = zsys_sprintf ("%s%s", expected_errors, line);
                free (line);
                free (expected_errors);
                expected_errors = joined;
            }
        }
        zc_sink_destroy (&sink);
        char *items = s_read_file (fixture->items);
        char *errors = s_read_file (fixture->errors);
        assert_int_equal (strlen (items), strlen (expected_items));
        assert_string_equal (items, expected_items);
        assert_string_equal (errors, expected_errors);
        free (items);
        free (errors);
        free (expected_items);
        free (expected_errors);
        unlink (fixture->items);
        unlink (fixture->errors);
    }
    free (big);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_item_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fields_by_rule, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_error_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_invalid_utf8, s_setup, s_teardown),
        cmocka_unit_test (test_sanitize),
        cmocka_unit_test_setup_teardown (test_open_failure, s_setup, s_teardown),
        cmocka_unit_test (test_iso8601),
        cmocka_unit_test_setup_teardown (test_full_disk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_matches_jansson, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
