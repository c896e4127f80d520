/*  zc_record — durable record layout; see zc_record.h. */
#include "zc_record.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zc_store.h"
#include "zc_util.h"

#define ZC_RECORD_PENDING_VERSION 1
#define ZC_RECORD_CRAWL_VERSION 1

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} s_writer_t;

static void
s_write (s_writer_t *w, const void *bytes, size_t size)
{
    if (w->size + size > w->capacity) {
        w->capacity = (w->size + size) * 2;
        w->data = (uint8_t *)realloc (w->data, w->capacity);
        if (!w->data) {
            fprintf (stderr, "zcrawl: out of memory\n");
            abort ();
        }
    }
    memcpy (w->data + w->size, bytes, size);
    w->size += size;
}

static void
s_write_u32 (s_writer_t *w, uint32_t value)
{
    uint8_t bytes[4];
    for (int i = 0; i < 4; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    s_write (w, bytes, sizeof bytes);
}

static void
s_write_u64 (s_writer_t *w, uint64_t value)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    s_write (w, bytes, sizeof bytes);
}

//  Length, bytes and a NUL (so that decoded strings can point into the data).
static void
s_write_blob (s_writer_t *w, const void *bytes, size_t size)
{
    assert (size <= UINT32_MAX);
    s_write_u32 (w, (uint32_t)size);
    if (size)
        s_write (w, bytes, size);
    s_write (w, "", 1);
}

static void
s_write_str (s_writer_t *w, const char *str)
{
    s_write_blob (w, str ? str : "", str ? strlen (str) : 0);
}

typedef struct {
    const uint8_t *at;
    size_t left;
    bool failed;
} s_reader_t;

static uint64_t
s_read_number (s_reader_t *r, size_t width)
{
    if (r->failed || r->left < width) {
        r->failed = true;
        return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < width; i++)
        value |= (uint64_t)r->at[i] << (8 * i);
    r->at += width;
    r->left -= width;
    return value;
}

static const void *
s_read_blob (s_reader_t *r, size_t *size)
{
    uint64_t length = s_read_number (r, 4);
    if (r->failed || r->left < length + 1 || r->at[length] != 0) {
        r->failed = true;
        *size = 0;
        return "";
    }
    const void *blob = r->at;
    r->at += length + 1;
    r->left -= length + 1;
    *size = (size_t)length;
    return blob;
}

static const char *
s_read_str (s_reader_t *r)
{
    size_t size;
    const char *str = (const char *)s_read_blob (r, &size);
    if (!r->failed && memchr (str, 0, size))
        r->failed = true; //  an embedded NUL: not a string we wrote
    return r->failed ? "" : str;
}

void *
zc_record_pending_encode (const zc_record_pending_t *record, size_t *size)
{
    assert (record);
    assert (size);
    s_writer_t w = {0};
    uint8_t version = ZC_RECORD_PENDING_VERSION;
    s_write (&w, &version, 1);
    s_write_u32 (&w, record->depth);
    s_write_u32 (&w, record->attempt);
    s_write_u32 (&w, record->redirects);
    s_write_str (&w, record->url);
    s_write_str (&w, record->origin);
    *size = w.size;
    return w.data;
}

int
zc_record_pending_decode (const void *data, size_t size, zc_record_pending_t *out)
{
    assert (out);
    s_reader_t r = {.at = (const uint8_t *)data, .left = data ? size : 0};
    if (s_read_number (&r, 1) != ZC_RECORD_PENDING_VERSION)
        return -1;
    out->depth = (uint32_t)s_read_number (&r, 4);
    out->attempt = (uint32_t)s_read_number (&r, 4);
    out->redirects = (uint32_t)s_read_number (&r, 4);
    out->url = s_read_str (&r);
    out->origin = s_read_str (&r);
    return r.failed || r.left != 0 || !*out->url ? -1 : 0;
}

void *
zc_record_crawl_encode (const zc_record_crawl_t *record, size_t *size)
{
    assert (record);
    assert (size);
    s_writer_t w = {0};
    uint8_t version = ZC_RECORD_CRAWL_VERSION;
    s_write (&w, &version, 1);
    s_write_u32 (&w, record->crawl_no);
    s_write_u32 (&w, record->state);
    s_write_u64 (&w, (uint64_t)record->started_ms);
    s_write_u64 (&w, (uint64_t)record->elapsed_ms);
    s_write_u64 (&w, record->items_offset);
    s_write_u64 (&w, record->errors_offset);
    s_write_u64 (&w, record->pages);
    s_write_u64 (&w, record->failed);
    s_write_u64 (&w, record->admitted);
    s_write_u64 (&w, record->next_seq);
    s_write_str (&w, record->output);
    s_write_str (&w, record->errors);
    s_write_blob (&w, record->submit, record->submit ? record->submit_size : 0);
    *size = w.size;
    return w.data;
}

int
zc_record_crawl_decode (const void *data, size_t size, zc_record_crawl_t *out)
{
    assert (out);
    s_reader_t r = {.at = (const uint8_t *)data, .left = data ? size : 0};
    if (s_read_number (&r, 1) != ZC_RECORD_CRAWL_VERSION)
        return -1;
    out->crawl_no = (uint32_t)s_read_number (&r, 4);
    out->state = (uint32_t)s_read_number (&r, 4);
    out->started_ms = (int64_t)s_read_number (&r, 8);
    out->elapsed_ms = (int64_t)s_read_number (&r, 8);
    out->items_offset = s_read_number (&r, 8);
    out->errors_offset = s_read_number (&r, 8);
    out->pages = s_read_number (&r, 8);
    out->failed = s_read_number (&r, 8);
    out->admitted = s_read_number (&r, 8);
    out->next_seq = s_read_number (&r, 8);
    out->output = s_read_str (&r);
    out->errors = s_read_str (&r);
    out->submit = s_read_blob (&r, &out->submit_size);
    return r.failed || r.left != 0 ? -1 : 0;
}

void
zc_record_numbered_key (uint8_t *key, uint32_t crawl_no, uint64_t number)
{
    zc_store_put_u32 (key, crawl_no);
    zc_store_put_u64 (key + 4, number);
}

void
zc_record_prefix_key (uint8_t *key, uint32_t crawl_no)
{
    zc_store_put_u32 (key, crawl_no);
}

uint64_t
zc_record_key_number (const void *key, size_t key_size)
{
    if (key_size != ZC_RECORD_NUMBERED_KEY)
        return 0;
    return zc_store_get_u64 ((const uint8_t *)key + 4);
}
