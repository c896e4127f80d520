/*  zc_sink — JSON Lines output of one crawl (see zc_sink.h for the format).

    Each line is built as a jansson object, serialised with json_dumpb into
    a reusable buffer, and appended with one fwrite to a fully buffered
    FILE*. jansson refuses strings that are not valid UTF-8, and pages in the
    wild are full of them, so every string goes through
    zc_sink_utf8_sanitize first (invalid sequences -> U+FFFD, following the
    Unicode "maximal subpart" practice).
*/
#include "zc_sink.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zc_util.h"

#define ZC_SINK_FILE_BUFFER (64 * 1024)

struct zc_sink {
    char *crawl_id;    //  owned
    char *items_path;  //  owned
    char *errors_path; //  owned
    FILE *items;       //  owned
    FILE *errors;      //  owned
    char *line;        //  owned serialisation buffer
    size_t line_size;
    uint64_t item_count;
    uint64_t error_count;
    bool write_failed; //  logged once; from then on the sink vouches for nothing
    int write_errno;   //  the first failure's errno
    bool dirs_synced;  //  the files' directory entries are durable
    char **rule_names; //  owned: distinct extraction rule names, rule order
    bool *rule_all;    //  owned: per name, true if some rule of it is `all`
    size_t rule_count;
};

//  Cuts PATH back to OFFSET bytes (the part a commit vouched for). A file
//  shorter than OFFSET was changed outside zcrawl: refused, so that lost
//  output is never silently taken for written output.
static int
s_truncate (const char *path, uint64_t offset, char *error, size_t error_size)
{
    struct stat info;
    if (stat (path, &info) != 0) {
        if (errno == ENOENT && offset == 0)
            return 0;
        snprintf (error, error_size, "cannot stat %s: %s", path, strerror (errno));
        return -1;
    }
    if ((uint64_t)info.st_size < offset) {
        snprintf (error, error_size,
                  "%s has %lld bytes but %" PRIu64 " were committed: changed outside zcrawl", path,
                  (long long)info.st_size, offset);
        return -1;
    }
    if ((uint64_t)info.st_size > offset && truncate (path, (off_t)offset) != 0) {
        snprintf (error, error_size, "cannot truncate %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

//  "-" is standard output (best effort: it cannot be cut back or synced).
static bool
s_is_stdout (const char *path)
{
    return streq (path, "-");
}

//  Opens PATH for appending, positioned at its end (so that ftello gives
//  its size, the offset a durable crawl starts from).
static FILE *
s_open (const char *path)
{
    if (s_is_stdout (path)) {
        int fd = dup (STDOUT_FILENO);
        FILE *file = fd >= 0 ? fdopen (fd, "w") : NULL;
        if (!file && fd >= 0)
            close (fd);
        return file;
    }
    FILE *file = fopen (path, "a");
    if (file && fseeko (file, 0, SEEK_END) != 0) {
        fclose (file);
        return NULL;
    }
    return file;
}

zc_sink_t *
zc_sink_new (const char *items_path, const char *errors_path, const char *crawl_id)
{
    char error[512];
    return zc_sink_open_at (items_path, errors_path, crawl_id, UINT64_MAX, UINT64_MAX, error,
                            sizeof error);
}

zc_sink_t *
zc_sink_open_at (const char *items_path, const char *errors_path, const char *crawl_id,
                 uint64_t items_offset, uint64_t errors_offset, char *error, size_t error_size)
{
    assert (items_path);
    assert (errors_path);
    assert (crawl_id);
    if ((items_offset != UINT64_MAX && !s_is_stdout (items_path) &&
         s_truncate (items_path, items_offset, error, error_size) != 0) ||
        (errors_offset != UINT64_MAX && !s_is_stdout (errors_path) &&
         s_truncate (errors_path, errors_offset, error, error_size) != 0)) {
        errno = EINVAL;
        return NULL;
    }
    zc_sink_t *self = (zc_sink_t *)zmalloc (sizeof (zc_sink_t));
    self->crawl_id = zc_strdup (crawl_id);
    self->items_path = zc_strdup (items_path);
    self->errors_path = zc_strdup (errors_path);
    self->items = s_open (items_path);
    if (self->items)
        self->errors = s_open (errors_path);
    if (!self->items || !self->errors) {
        int saved = errno;
        snprintf (error, error_size, "cannot open output '%s' / '%s': %s", items_path, errors_path,
                  strerror (saved));
        zc_sink_destroy (&self);
        errno = saved;
        return NULL;
    }
    //  setvbuf cannot fail with a NULL buffer and a valid mode in glibc, but
    //  a failure would only mean a smaller buffer
    (void)setvbuf (self->items, NULL, _IOFBF, ZC_SINK_FILE_BUFFER);
    (void)setvbuf (self->errors, NULL, _IOFBF, ZC_SINK_FILE_BUFFER);
    self->line_size = 4096;
    self->line = (char *)zc_malloc (self->line_size);
    return self;
}

//  Makes the directory entry of PATH durable (a new file's name survives a
//  power loss only once its directory is synced).
static int
s_sync_parent (const char *path)
{
    if (s_is_stdout (path))
        return 0;
    char *copy = zc_strdup (path);
    char *slash = strrchr (copy, '/');
    const char *dir = slash == copy ? "/" : slash ? (*slash = 0, copy) : ".";
    int fd = open (dir, O_RDONLY | O_DIRECTORY);
    int rc = fd >= 0 && fsync (fd) == 0 ? 0 : -1;
    int saved = errno;
    if (fd >= 0)
        close (fd);
    free (copy);
    errno = saved;
    return rc;
}

int
zc_sink_sync (zc_sink_t *self, uint64_t *items_offset, uint64_t *errors_offset)
{
    assert (self);
    //  After any failed write the file may hold a torn line followed by
    //  good ones (stdio drops what a failed write left in its buffer, and
    //  a later write can succeed once a little space is back): no offset
    //  of this sink can be trusted any more, only a reopen cut back to the
    //  last sync can
    if (self->write_failed || ferror (self->items) || ferror (self->errors)) {
        errno = self->write_errno ? self->write_errno : EIO;
        return -1;
    }
    if (zc_sink_flush (self) != 0)
        return -1;
    if (!self->dirs_synced) {
        if (s_sync_parent (self->items_path) != 0 || s_sync_parent (self->errors_path) != 0)
            return -1;
        self->dirs_synced = true;
    }
    if ((!s_is_stdout (self->items_path) && fdatasync (fileno (self->items)) != 0) ||
        (!s_is_stdout (self->errors_path) && fdatasync (fileno (self->errors)) != 0)) {
        int saved = errno;
        if (!self->write_failed)
            zsys_error ("zc_sink: syncing output of crawl %s failed: %s", self->crawl_id,
                        strerror (saved));
        self->write_failed = true;
        errno = saved;
        return -1;
    }
    off_t items = s_is_stdout (self->items_path) ? 0 : ftello (self->items);
    off_t errors = s_is_stdout (self->errors_path) ? 0 : ftello (self->errors);
    if (items < 0 || errors < 0)
        return -1;
    *items_offset = (uint64_t)items;
    *errors_offset = (uint64_t)errors;
    return 0;
}

static int
s_close (zc_sink_t *self, FILE **file_p, const char *path)
{
    if (!*file_p)
        return 0;
    int rc = fclose (*file_p);
    *file_p = NULL;
    if (rc != 0) {
        zsys_error ("zc_sink: closing %s failed: %s", path, strerror (errno));
        self->write_failed = true;
        return -1;
    }
    return 0;
}

void
zc_sink_destroy (zc_sink_t **self_p)
{
    assert (self_p);
    zc_sink_t *self = *self_p;
    if (!self)
        return;
    (void)s_close (self, &self->items, self->items_path);
    (void)s_close (self, &self->errors, self->errors_path);
    zc_sink_set_rules (self, NULL, 0);
    free (self->line);
    free (self->crawl_id);
    free (self->items_path);
    free (self->errors_path);
    free (self);
    *self_p = NULL;
}

//  Length of the valid UTF-8 sequence at P (at most N bytes), or 0 if the
//  bytes there are not one; *CONSUMED gets the length of the maximal prefix
//  of a valid sequence (>= 1) to skip when the sequence is invalid.
static size_t
s_utf8_sequence (const unsigned char *p, size_t n, size_t *consumed)
{
    unsigned char c = p[0];
    *consumed = 1;
    if (c < 0x80)
        return 1;
    size_t length;
    unsigned char lo = 0x80, hi = 0xBF; //  allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        length = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0)
            lo = 0xA0; //  no overlong forms
        else if (c == 0xED)
            hi = 0x9F; //  no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; //  nothing above U+10FFFF
    } else
        return 0;
    for (size_t i = 1; i < length; i++) {
        if (i >= n)
            return 0;
        unsigned char min = i == 1 ? lo : 0x80;
        unsigned char max = i == 1 ? hi : 0xBF;
        if (p[i] < min || p[i] > max)
            return 0;
        *consumed = i + 1;
    }
    return length;
}

char *
zc_sink_utf8_sanitize (const char *data, size_t size)
{
    //  Worst case: every byte becomes 3 bytes of U+FFFD
    char *out = (char *)zc_malloc (size * 3 + 1);
    const unsigned char *p = (const unsigned char *)data;
    size_t o = 0;
    size_t i = 0;
    while (i < size) {
        size_t consumed;
        size_t length = s_utf8_sequence (p + i, size - i, &consumed);
        if (length) {
            memcpy (out + o, p + i, length);
            o += length;
            i += length;
        } else {
            memcpy (out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += consumed;
        }
    }
    out[o] = 0;
    return out;
}

//  A JSON string from untrusted bytes; NULL becomes "".
static json_t *
s_string (const char *s)
{
    if (!s)
        s = "";
    size_t size = strlen (s);
    json_t *string = json_stringn (s, size);
    if (string)
        return string;
    //  Not valid UTF-8: repair, then it cannot fail
    char *clean = zc_sink_utf8_sanitize (s, size);
    string = json_string (clean);
    free (clean);
    assert (string);
    return string;
}

static json_t *
s_integer (uint64_t value)
{
    //  json_int_t is long long; our counters fit
    json_t *integer = json_integer ((json_int_t)value);
    assert (integer);
    return integer;
}

void
zc_sink_iso8601 (uint64_t time_ms, char *buf, size_t size)
{
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm)) {
        snprintf (buf, size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(time_ms % 1000));
}

static json_t *
s_time (uint64_t time_ms)
{
    char buf[64];
    zc_sink_iso8601 (time_ms, buf, sizeof buf);
    return json_string (buf);
}

//  Serialises OBJECT (consumed) as one line of FILE.
static int
s_write_line (zc_sink_t *self, FILE *file, const char *path, json_t *object)
{
    size_t size =
        json_dumpb (object, self->line, self->line_size - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (size >= self->line_size - 1) {
        //  Too big for the buffer (or exactly filling it): grow and redo
        free (self->line);
        self->line_size = size + 2;
        self->line = (char *)zc_malloc (self->line_size);
        size = json_dumpb (object, self->line, self->line_size - 1,
                           JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref (object);
    if (size == 0 || size >= self->line_size - 1) {
        zsys_error ("zc_sink: cannot serialise a line for %s", path);
        return -1;
    }
    self->line[size++] = '\n';
    if (fwrite (self->line, 1, size, file) != size) {
        if (!self->write_failed) {
            zsys_error ("zc_sink: writing %s failed: %s", path, strerror (errno));
            self->write_errno = errno;
        }
        self->write_failed = true;
        return -1;
    }
    return 0;
}

void
zc_sink_set_rules (zc_sink_t *self, const zc_extract_rule_t *rules, size_t rule_count)
{
    assert (self);
    for (size_t i = 0; i < self->rule_count; i++)
        free (self->rule_names[i]);
    free (self->rule_names);
    free (self->rule_all);
    self->rule_names = NULL;
    self->rule_all = NULL;
    self->rule_count = 0;
    if (rule_count == 0)
        return;
    self->rule_names = (char **)zc_malloc (rule_count * sizeof (char *));
    self->rule_all = (bool *)zc_malloc (rule_count * sizeof (bool));
    for (size_t i = 0; i < rule_count; i++) {
        const char *name = rules[i].name ? rules[i].name : "";
        size_t j = 0;
        while (j < self->rule_count && !streq (self->rule_names[j], name))
            j++;
        if (j == self->rule_count) {
            self->rule_names[j] = zc_strdup (name);
            self->rule_all[j] = false;
            self->rule_count++;
        }
        self->rule_all[j] = self->rule_all[j] || rules[i].all;
    }
}

//  A JSON object key from untrusted bytes (jansson wants valid UTF-8).
static char *
s_key (const char *name)
{
    return zc_sink_utf8_sanitize (name ? name : "", name ? strlen (name) : 0);
}

//  True if NAME is one of the rule names.
static bool
s_is_rule (zc_sink_t *self, const char *name)
{
    for (size_t i = 0; i < self->rule_count; i++)
        if (streq (self->rule_names[i], name ? name : ""))
            return true;
    return false;
}

//  The value of rule field I: the values of every RESULT field of that
//  name, as an array (`all`) or the first one (null if none).
static json_t *
s_rule_field (zc_sink_t *self, size_t i, const zc_result_t *result)
{
    json_t *values = self->rule_all[i] ? json_array () : NULL;
    for (size_t f = 0; f < result->field_count; f++) {
        const zc_field_t *field = &result->fields[f];
        if (!streq (field->name ? field->name : "", self->rule_names[i]))
            continue;
        for (size_t v = 0; v < field->value_count; v++) {
            if (!values)
                return s_string (field->values[v]);
            json_array_append_new (values, s_string (field->values[v]));
        }
    }
    return values ? values : json_null ();
}

static json_t *
s_fields (zc_sink_t *self, const zc_result_t *result)
{
    json_t *object = json_object ();
    for (size_t i = 0; i < self->rule_count; i++) {
        char *key = s_key (self->rule_names[i]);
        json_object_set_new (object, key, s_rule_field (self, i, result));
        free (key);
    }
    //  Fields no rule names: arrays, merged by name
    for (size_t f = 0; f < result->field_count; f++) {
        const zc_field_t *field = &result->fields[f];
        if (s_is_rule (self, field->name))
            continue;
        char *key = s_key (field->name);
        json_t *values = json_object_get (object, key);
        if (!json_is_array (values)) {
            values = json_array ();
            json_object_set_new (object, key, values);
        }
        for (size_t v = 0; v < field->value_count; v++)
            json_array_append_new (values, s_string (field->values[v]));
        free (key);
    }
    return object;
}

int
zc_sink_write_item (zc_sink_t *self, const zc_result_t *result)
{
    assert (self);
    assert (result);
    const zc_page_meta_t *meta = &result->meta;
    json_t *item = json_object ();
    json_object_set_new (item, "url", s_string (meta->url));
    json_object_set_new (item, "final_url", s_string (meta->final_url));
    json_object_set_new (item, "status", s_integer (meta->status));
    json_object_set_new (item, "content_type", s_string (meta->content_type));
    json_object_set_new (item, "title", result->title ? s_string (result->title) : json_null ());
    json_object_set_new (item, "canonical",
                         result->canonical && *result->canonical ? s_string (result->canonical)
                                                                 : json_null ());
    json_object_set_new (item, "noindex", json_boolean (result->noindex));
    json_object_set_new (item, "depth", s_integer (meta->depth));
    json_object_set_new (item, "fetched_at", s_time (meta->fetched_at_ms));
    json_object_set_new (item, "links", s_integer (result->link_count));
    json_object_set_new (item, "redirects", s_integer (meta->redirects));
    json_object_set_new (item, "crawl", s_string (self->crawl_id));
    json_object_set_new (item, "fields", s_fields (self, result));
    if (s_write_line (self, self->items, self->items_path, item) != 0)
        return -1;
    self->item_count++;
    return 0;
}

int
zc_sink_write_error (zc_sink_t *self, const zc_sink_error_t *error)
{
    assert (self);
    assert (error);
    json_t *line = json_object ();
    json_object_set_new (line, "url", s_string (error->url));
    json_object_set_new (line, "reason", s_string (error->reason));
    json_object_set_new (line, "detail", s_string (error->detail));
    json_object_set_new (line, "status", error->status ? s_integer (error->status) : json_null ());
    if (error->location && *error->location)
        json_object_set_new (line, "location", s_string (error->location));
    json_object_set_new (line, "attempts", s_integer (error->attempts));
    json_object_set_new (line, "depth", s_integer (error->depth));
    json_object_set_new (line, "crawl", s_string (self->crawl_id));
    json_object_set_new (line, "at", s_time (error->at_ms));
    if (s_write_line (self, self->errors, self->errors_path, line) != 0)
        return -1;
    self->error_count++;
    return 0;
}

int
zc_sink_flush (zc_sink_t *self)
{
    assert (self);
    int rc = 0;
    if (fflush (self->items) != 0 || fflush (self->errors) != 0) {
        if (!self->write_failed) {
            zsys_error ("zc_sink: flushing output of crawl %s failed: %s", self->crawl_id,
                        strerror (errno));
            self->write_errno = errno;
        }
        self->write_failed = true;
        rc = -1;
    }
    return rc;
}

uint64_t
zc_sink_items (zc_sink_t *self)
{
    assert (self);
    return self->item_count;
}

uint64_t
zc_sink_errors (zc_sink_t *self)
{
    assert (self);
    return self->error_count;
}
