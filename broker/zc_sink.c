/*  zc_sink — JSON Lines output of one crawl (see zc_sink.h for the format).

    Each line is written by a small streaming JSON writer into a reusable
    buffer (exactly the bytes json_dumpb gave for the jansson objects this
    module once built; test_zc_sink compares the two), and appended with
    one fwrite to a fully buffered FILE*. Pages in the wild are full of
    invalid UTF-8, so every string is repaired on the way as
    zc_sink_utf8_sanitize does (invalid sequences -> U+FFFD, following the
    Unicode "maximal subpart" practice).
*/
#include "zc_sink.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zc_util.h"

#define ZC_SINK_FILE_BUFFER (64 * 1024)

static const char s_hex[] = "0123456789ABCDEF";

struct zc_sink {
    char *crawl_id;    //  owned
    char *items_path;  //  owned
    char *errors_path; //  owned
    FILE *items;       //  owned
    FILE *errors;      //  owned
    char *line;        //  owned: the line being written
    size_t line_size;
    size_t line_length;
    char *crawl_json; //  owned: the crawl id as a JSON string
    size_t crawl_json_length;
    bool time_valid;      //  time_text holds the second time_second
    uint64_t time_second; //  time_ms / 1000 of time_text
    char time_text[64];   //  ISO-8601 of a time in time_second
    size_t time_length;
    uint64_t item_count;
    uint64_t error_count;
    bool write_failed; //  logged once; from then on the sink vouches for nothing
    int write_errno;   //  the first failure's errno
    bool dirs_synced;  //  the files' directory entries are durable
    char **rule_names; //  owned: distinct extraction rule names, rule order
    char **rule_keys;  //  owned: per name, the name made valid UTF-8 (its key)
    bool *rule_all;    //  owned: per name, true if some rule of it is `all`
    size_t rule_count;
};

static void s_put_string (zc_sink_t *self, const char *s);

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
    s_put_string (self, crawl_id);
    self->crawl_json = (char *)zc_malloc (self->line_length);
    memcpy (self->crawl_json, self->line, self->line_length);
    self->crawl_json_length = self->line_length;
    self->line_length = 0;
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
    free (self->crawl_json);
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

//  Formats TIME_MS as zc_sink_iso8601 does; returns false (BUF then holds
//  the fallback, the epoch) if it cannot be represented.
static bool
s_iso8601 (uint64_t time_ms, char *buf, size_t size)
{
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm)) {
        snprintf (buf, size, "1970-01-01T00:00:00.000Z");
        return false;
    }
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(time_ms % 1000));
    return true;
}

void
zc_sink_iso8601 (uint64_t time_ms, char *buf, size_t size)
{
    (void)s_iso8601 (time_ms, buf, size);
}

//  --- Line writer -------------------------------------------------------
//  Lines are written straight into SELF->line (grown as needed), byte for
//  byte what json_dumpb (JSON_COMPACT | JSON_PRESERVE_ORDER) gave for the
//  jansson objects this module used to build (test_zc_sink checks it
//  against jansson): keys in insertion order, no spaces, strings escaped
//  as jansson does (\" \\ \b \f \n \r \t, other bytes below 0x20 as \u00XX
//  in upper-case hex, "/" and everything from 0x7F up as is), and a string
//  that is not valid UTF-8 repaired as zc_sink_utf8_sanitize does.

//  Makes room for MORE bytes after the current line.
static void
s_reserve (zc_sink_t *self, size_t more)
{
    if (self->line_length + more <= self->line_size)
        return;
    size_t size = self->line_size * 2;
    while (size < self->line_length + more)
        size *= 2;
    char *line = (char *)zc_malloc (size);
    memcpy (line, self->line, self->line_length);
    free (self->line);
    self->line = line;
    self->line_size = size;
}

static void
s_put (zc_sink_t *self, const char *data, size_t size)
{
    s_reserve (self, size);
    memcpy (self->line + self->line_length, data, size);
    self->line_length += size;
}

//  Appends a string literal (a key with its punctuation, a constant).
#define S_PUT_LITERAL(self, literal) s_put ((self), (literal), sizeof (literal) - 1)

//  Appends S (untrusted bytes; NULL reads as "") as a JSON string.
static void
s_put_string (zc_sink_t *self, const char *s)
{
    if (!s)
        s = "";
    size_t size = strlen (s);
    //  Worst case: every byte a control character (\u00XX, 6 bytes)
    s_reserve (self, size * 6 + 2);
    char *out = self->line + self->line_length;
    *out++ = '"';
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < size) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *out++ = (char)c;
            i++;
        } else if (c < 0x80) {
            *out++ = '\\';
            switch (c) {
            case '"':
            case '\\':
                *out++ = (char)c;
                break;
            case '\b':
                *out++ = 'b';
                break;
            case '\f':
                *out++ = 'f';
                break;
            case '\n':
                *out++ = 'n';
                break;
            case '\r':
                *out++ = 'r';
                break;
            case '\t':
                *out++ = 't';
                break;
            default:
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = s_hex[c >> 4];
                *out++ = s_hex[c & 15];
                break;
            }
            i++;
        } else {
            size_t consumed;
            size_t length = s_utf8_sequence (p + i, size - i, &consumed);
            if (length) {
                memcpy (out, p + i, length);
                out += length;
                i += length;
            } else {
                memcpy (out, "\xEF\xBF\xBD", 3);
                out += 3;
                i += consumed;
            }
        }
    }
    *out++ = '"';
    self->line_length = (size_t)(out - self->line);
}

//  Appends VALUE as jansson wrote a json_integer of it (json_int_t is
//  long long: a uint64_t above INT64_MAX came out negative).
static void
s_put_integer (zc_sink_t *self, uint64_t value)
{
    char digits[24];
    char *end = digits + sizeof digits;
    char *p = end;
    long long signed_value = (long long)value;
    uint64_t magnitude = signed_value < 0 ? 0 - value : value;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (signed_value < 0)
        *--p = '-';
    s_put (self, p, (size_t)(end - p));
}

//  Appends TIME_MS as a JSON string, "YYYY-MM-DDTHH:MM:SS.mmmZ". The part
//  up to the seconds is formatted once per second.
static void
s_put_time (zc_sink_t *self, uint64_t time_ms)
{
    uint64_t second = time_ms / 1000;
    if (!self->time_valid || self->time_second != second) {
        if (!s_iso8601 (time_ms, self->time_text, sizeof self->time_text)) {
            //  Not representable: the fixed fallback, not cached
            S_PUT_LITERAL (self, "\"");
            s_put (self, self->time_text, strlen (self->time_text));
            S_PUT_LITERAL (self, "\"");
            return;
        }
        self->time_length = strlen (self->time_text);
        self->time_second = second;
        self->time_valid = true;
    }
    //  time_text ends with ".mmmZ": write the milliseconds of TIME_MS
    size_t length = self->time_length;
    s_reserve (self, length + 2);
    char *out = self->line + self->line_length;
    *out++ = '"';
    memcpy (out, self->time_text, length - 4);
    out += length - 4;
    unsigned ms = (unsigned)(time_ms % 1000);
    *out++ = (char)('0' + ms / 100);
    *out++ = (char)('0' + ms / 10 % 10);
    *out++ = (char)('0' + ms % 10);
    *out++ = 'Z';
    *out++ = '"';
    self->line_length = (size_t)(out - self->line);
}

//  Appends the line (with its newline) to FILE and starts a new one.
static int
s_write_line (zc_sink_t *self, FILE *file, const char *path)
{
    s_put (self, "\n", 1);
    size_t size = self->line_length;
    self->line_length = 0;
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
    for (size_t i = 0; i < self->rule_count; i++) {
        free (self->rule_names[i]);
        free (self->rule_keys[i]);
    }
    free (self->rule_names);
    free (self->rule_keys);
    free (self->rule_all);
    self->rule_names = NULL;
    self->rule_keys = NULL;
    self->rule_all = NULL;
    self->rule_count = 0;
    if (rule_count == 0)
        return;
    self->rule_names = (char **)zc_malloc (rule_count * sizeof (char *));
    self->rule_keys = (char **)zc_malloc (rule_count * sizeof (char *));
    self->rule_all = (bool *)zc_malloc (rule_count * sizeof (bool));
    for (size_t i = 0; i < rule_count; i++) {
        const char *name = rules[i].name ? rules[i].name : "";
        size_t j = 0;
        while (j < self->rule_count && !streq (self->rule_names[j], name))
            j++;
        if (j == self->rule_count) {
            self->rule_names[j] = zc_strdup (name);
            self->rule_keys[j] = zc_sink_utf8_sanitize (name, strlen (name));
            self->rule_all[j] = false;
            self->rule_count++;
        }
        self->rule_all[j] = self->rule_all[j] || rules[i].all;
    }
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

//  One member of "fields" while it is assembled: the value of rule RULE
//  (if >= 0), as an array or not, followed (arrays only) by the values of
//  the fields no rule names whose key is KEY (see s_put_fields).
typedef struct {
    const char *key; //  sanitized, borrowed
    ssize_t rule;    //  -1 = none
    bool array;
} s_member_t;

//  Appends the values of RESULT's fields named NAME (NULL reads as ""),
//  each preceded by a comma unless it is the first value of the array;
//  returns the updated FIRST flag.
static bool
s_put_named_values (zc_sink_t *self, const zc_result_t *result, const char *name, bool first)
{
    for (size_t f = 0; f < result->field_count; f++) {
        const zc_field_t *field = &result->fields[f];
        if (!streq (field->name ? field->name : "", name))
            continue;
        for (size_t v = 0; v < field->value_count; v++) {
            if (!first)
                S_PUT_LITERAL (self, ",");
            s_put_string (self, field->values[v]);
            first = false;
        }
    }
    return first;
}

//  Appends the "fields" object as the jansson object built by setting,
//  in rule order, key(rule) to the rule's value (a later rule with the same
//  key replacing the value in place), then, for each field no rule names,
//  appending its values to the array at key(field), or setting a new array
//  there if the key holds no array yet.
static void
s_put_fields (zc_sink_t *self, const zc_result_t *result)
{
    size_t max = self->rule_count + result->field_count;
    if (max == 0) {
        S_PUT_LITERAL (self, "{}");
        return;
    }
    s_member_t *members = (s_member_t *)zc_malloc (max * sizeof (s_member_t));
    //  Per field: its sanitized key, and the member its values go to (-1 =
    //  a rule's field, written with its rule)
    char **keys = (char **)zc_malloc ((result->field_count + 1) * sizeof (char *));
    ssize_t *member_of = (ssize_t *)zc_malloc ((result->field_count + 1) * sizeof (ssize_t));
    size_t count = 0;
    for (size_t i = 0; i < self->rule_count; i++) {
        size_t m = 0;
        while (m < count && !streq (members[m].key, self->rule_keys[i]))
            m++;
        if (m == count)
            members[count++].key = self->rule_keys[i];
        members[m].rule = (ssize_t)i;
        members[m].array = self->rule_all[i];
    }
    for (size_t f = 0; f < result->field_count; f++) {
        const zc_field_t *field = &result->fields[f];
        keys[f] = NULL;
        member_of[f] = -1;
        if (s_is_rule (self, field->name))
            continue;
        keys[f] = zc_sink_utf8_sanitize (field->name ? field->name : "",
                                         field->name ? strlen (field->name) : 0);
        size_t m = 0;
        while (m < count && !streq (members[m].key, keys[f]))
            m++;
        if (m == count) {
            members[count].key = keys[f];
            members[count].rule = -1;
            members[count].array = true;
            count++;
        } else if (!members[m].array) {
            //  Replaced by a new array: the rule's value is gone
            members[m].rule = -1;
            members[m].array = true;
        }
        member_of[f] = (ssize_t)m;
    }
    S_PUT_LITERAL (self, "{");
    for (size_t m = 0; m < count; m++) {
        if (m)
            S_PUT_LITERAL (self, ",");
        s_put_string (self, members[m].key);
        S_PUT_LITERAL (self, ":");
        if (!members[m].array) {
            //  A single-value rule: its first value, or null
            const zc_field_t *found = NULL;
            const char *name = self->rule_names[members[m].rule];
            for (size_t f = 0; f < result->field_count && !found; f++) {
                const zc_field_t *field = &result->fields[f];
                if (field->value_count && streq (field->name ? field->name : "", name))
                    found = field;
            }
            if (found)
                s_put_string (self, found->values[0]);
            else
                S_PUT_LITERAL (self, "null");
            continue;
        }
        S_PUT_LITERAL (self, "[");
        bool first = true;
        if (members[m].rule >= 0)
            first = s_put_named_values (self, result, self->rule_names[members[m].rule], first);
        for (size_t f = 0; f < result->field_count; f++) {
            if (member_of[f] != (ssize_t)m)
                continue;
            const zc_field_t *field = &result->fields[f];
            for (size_t v = 0; v < field->value_count; v++) {
                if (!first)
                    S_PUT_LITERAL (self, ",");
                s_put_string (self, field->values[v]);
                first = false;
            }
        }
        S_PUT_LITERAL (self, "]");
    }
    S_PUT_LITERAL (self, "}");
    for (size_t f = 0; f < result->field_count; f++)
        free (keys[f]);
    free (keys);
    free (member_of);
    free (members);
}

int
zc_sink_write_item (zc_sink_t *self, const zc_result_t *result)
{
    assert (self);
    assert (result);
    const zc_page_meta_t *meta = &result->meta;
    self->line_length = 0;
    S_PUT_LITERAL (self, "{\"url\":");
    s_put_string (self, meta->url);
    S_PUT_LITERAL (self, ",\"final_url\":");
    s_put_string (self, meta->final_url);
    S_PUT_LITERAL (self, ",\"status\":");
    s_put_integer (self, meta->status);
    S_PUT_LITERAL (self, ",\"content_type\":");
    s_put_string (self, meta->content_type);
    S_PUT_LITERAL (self, ",\"title\":");
    if (result->title)
        s_put_string (self, result->title);
    else
        S_PUT_LITERAL (self, "null");
    S_PUT_LITERAL (self, ",\"canonical\":");
    if (result->canonical && *result->canonical)
        s_put_string (self, result->canonical);
    else
        S_PUT_LITERAL (self, "null");
    if (result->noindex)
        S_PUT_LITERAL (self, ",\"noindex\":true,\"depth\":");
    else
        S_PUT_LITERAL (self, ",\"noindex\":false,\"depth\":");
    s_put_integer (self, meta->depth);
    S_PUT_LITERAL (self, ",\"fetched_at\":");
    s_put_time (self, meta->fetched_at_ms);
    S_PUT_LITERAL (self, ",\"links\":");
    s_put_integer (self, result->link_count);
    S_PUT_LITERAL (self, ",\"redirects\":");
    s_put_integer (self, meta->redirects);
    S_PUT_LITERAL (self, ",\"crawl\":");
    s_put (self, self->crawl_json, self->crawl_json_length);
    S_PUT_LITERAL (self, ",\"fields\":");
    s_put_fields (self, result);
    S_PUT_LITERAL (self, "}");
    if (s_write_line (self, self->items, self->items_path) != 0)
        return -1;
    self->item_count++;
    return 0;
}

int
zc_sink_write_error (zc_sink_t *self, const zc_sink_error_t *error)
{
    assert (self);
    assert (error);
    self->line_length = 0;
    S_PUT_LITERAL (self, "{\"url\":");
    s_put_string (self, error->url);
    S_PUT_LITERAL (self, ",\"reason\":");
    s_put_string (self, error->reason);
    S_PUT_LITERAL (self, ",\"detail\":");
    s_put_string (self, error->detail);
    S_PUT_LITERAL (self, ",\"status\":");
    if (error->status)
        s_put_integer (self, error->status);
    else
        S_PUT_LITERAL (self, "null");
    if (error->location && *error->location) {
        S_PUT_LITERAL (self, ",\"location\":");
        s_put_string (self, error->location);
    }
    S_PUT_LITERAL (self, ",\"attempts\":");
    s_put_integer (self, error->attempts);
    S_PUT_LITERAL (self, ",\"depth\":");
    s_put_integer (self, error->depth);
    S_PUT_LITERAL (self, ",\"crawl\":");
    s_put (self, self->crawl_json, self->crawl_json_length);
    S_PUT_LITERAL (self, ",\"at\":");
    s_put_time (self, error->at_ms);
    S_PUT_LITERAL (self, "}");
    if (s_write_line (self, self->errors, self->errors_path) != 0)
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
