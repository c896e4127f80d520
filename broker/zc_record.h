/*  zc_record — how a crawl's durable state is laid out in zc_store
    (private to broker/).

    Keys (big-endian numbers, so LMDB's byte order is numeric order):
        META     "crawl/" + crawl id            -> crawl record
                 "hosts/" + crawl id + "/" + host key -> URLs admitted for the host
                                                   (only with max_pages_per_host)
        PENDING  crawl no (u32) + seq (u64)     -> pending URL record
        SEEN     crawl no (u32) + fingerprint   -> "" (the seen set)

    A pending record is an admitted URL whose final outcome is not written
    yet; seq numbers grow with admission, so PENDING in key order is the
    crawl's admission (FIFO) order. A redirect continuation rewrites its
    origin's record in place (same seq): the chain resumes at its last hop.

    Values are a version byte followed by fixed-width little-endian numbers
    and length-prefixed strings; every decoder checks every length against
    the bytes present, so a damaged store gives an error, never a crash.
*/
#ifndef ZC_RECORD_H_INCLUDED
#define ZC_RECORD_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define ZC_RECORD_CRAWL_KEY_PREFIX "crawl/"
#define ZC_RECORD_HOSTS_KEY_PREFIX "hosts/" //  + crawl id + "/" + host key -> u64 (BE)
#define ZC_RECORD_PAUSED (1u << 8)          //  in a crawl record's state: paused by the operator
#define ZC_RECORD_NUMBERED_KEY 12           //  crawl no + seq / fingerprint
#define ZC_RECORD_PREFIX_KEY 4              //  crawl no

//  One admitted URL without an outcome (strings borrowed).
typedef struct {
    const char *url;
    const char *origin; //  "" or NULL: not a redirect continuation
    uint32_t depth;
    uint32_t attempt;
    uint32_t redirects;
} zc_record_pending_t;

//  One crawl (strings and SUBMIT borrowed).
typedef struct {
    uint32_t crawl_no; //  prefix of its PENDING and SEEN keys
    uint32_t state;    //  zc_crawl_state_t
    int64_t started_ms;
    int64_t elapsed_ms; //  when done or stopped
    uint64_t items_offset;
    uint64_t errors_offset;
    uint64_t pages;
    uint64_t failed;
    uint64_t admitted;
    uint64_t next_seq;
    const char *output;
    const char *errors;
    const void *submit; //  the SUBMIT message's first frame, as received
    size_t submit_size;
} zc_record_crawl_t;

//  Encoders return a new buffer (caller frees) and set *SIZE.
void *zc_record_pending_encode (const zc_record_pending_t *record, size_t *size);
void *zc_record_crawl_encode (const zc_record_crawl_t *record, size_t *size);

//  Decoders fill *OUT with strings pointing into DATA (which must hold
//  them NUL-terminated: the encoders write the NUL). Return 0, or -1 if
//  DATA is not a valid record.
int zc_record_pending_decode (const void *data, size_t size, zc_record_pending_t *out);
int zc_record_crawl_decode (const void *data, size_t size, zc_record_crawl_t *out);

//  Key builders: KEY must hold ZC_RECORD_NUMBERED_KEY / ZC_RECORD_PREFIX_KEY bytes.
void zc_record_numbered_key (uint8_t *key, uint32_t crawl_no, uint64_t number);
void zc_record_prefix_key (uint8_t *key, uint32_t crawl_no);

//  The number (seq or fingerprint) of a numbered key.
uint64_t zc_record_key_number (const void *key, size_t key_size);

#endif
