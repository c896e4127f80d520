/*  zc_seen — the set of URL fingerprints a crawl has admitted.

    A crawl never fetches the same canonical URL twice; the broker checks
    every discovered link against this set. It stores only the 64-bit
    fingerprint of the canonical URL (zc_url_fingerprint), so a collision
    (about 1 in 2^64 / n per insert) may drop a URL; that is the accepted
    price for 8-16 bytes of RAM per URL instead of the whole string.
*/
#ifndef ZC_SEEN_H_INCLUDED
#define ZC_SEEN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct zc_seen zc_seen_t;

//  Creates an empty set. Caller owns the result. Never fails (OOM aborts).
zc_seen_t *zc_seen_new (void);

//  Destroys the set. NULL-safe; sets *self_p to NULL.
void zc_seen_destroy (zc_seen_t **self_p);

//  Adds fingerprint FP. Returns 1 if it was not in the set (now added), 0 if
//  it was already present. Fingerprint 0 is stored as 1 (0 marks an empty
//  slot), so 0 and 1 are the same member.
int zc_seen_add (zc_seen_t *self, uint64_t fp);

//  True if FP is in the set (same 0 -> 1 mapping as zc_seen_add).
int zc_seen_contains (zc_seen_t *self, uint64_t fp);

//  Starts loading the slot where FP would be (a hint: a later
//  zc_seen_contains or zc_seen_add of FP then waits less for memory).
void zc_seen_prefetch (zc_seen_t *self, uint64_t fp);

//  Number of distinct fingerprints in the set.
size_t zc_seen_size (zc_seen_t *self);

//  Bytes of RAM used by the table (for tests and status).
size_t zc_seen_bytes (zc_seen_t *self);

#endif
