/*  zc_seen — open-addressing hash set of 64-bit fingerprints.

    Linear probing over a power-of-two table of uint64_t slots; 0 marks an
    empty slot, so fingerprint 0 is stored as 1. Fingerprints are already
    well-mixed hashes, but we still run them through a cheap mixer before
    taking the low bits, in case a caller passes something less random. The
    table doubles when it would pass 70% load, so RAM per member is 8 bytes
    / load: 11.4 bytes just before a grow, 22.9 just after, ~16 on average
    (the design target). There are no deletions: a crawl only adds.

    Probes land anywhere in the table, so at millions of members each one
    is a cache miss and, with 4 KiB pages, a TLB miss too: tables of 2 MiB
    and more are 2 MiB-aligned and advised to use transparent huge pages,
    and callers can prefetch a slot (zc_seen_prefetch) while they do other
    work before the probe.
*/
#include "zc_seen.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <czmq.h>

#define ZC_SEEN_INITIAL_CAPACITY 1024
#define ZC_SEEN_HUGE_PAGE (2u * 1024 * 1024)

struct zc_seen {
    uint64_t *slots; //  owned; capacity entries, 0 = empty
    size_t capacity; //  power of two
    size_t size;
};

static inline uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

//  A zeroed table of CAPACITY slots; a big one on huge pages if the
//  kernel agrees (only advice: it works the same without).
static uint64_t *
s_slots_new (size_t capacity)
{
    size_t bytes = capacity * sizeof (uint64_t);
    if (bytes < ZC_SEEN_HUGE_PAGE)
        return (uint64_t *)zmalloc (bytes);
    void *slots = NULL;
    if (posix_memalign (&slots, ZC_SEEN_HUGE_PAGE, bytes) != 0 || !slots)
        return (uint64_t *)zmalloc (bytes); //  zeroed; aborts on OOM
#ifdef MADV_HUGEPAGE
    (void)madvise (slots, bytes, MADV_HUGEPAGE); //  advice only: failure is harmless
#endif
    memset (slots, 0, bytes);
    return (uint64_t *)slots;
}

zc_seen_t *
zc_seen_new (void)
{
    zc_seen_t *self = (zc_seen_t *)zmalloc (sizeof (zc_seen_t));
    self->capacity = ZC_SEEN_INITIAL_CAPACITY;
    self->slots = s_slots_new (self->capacity);
    return self;
}

void
zc_seen_destroy (zc_seen_t **self_p)
{
    assert (self_p);
    zc_seen_t *self = *self_p;
    if (!self)
        return;
    free (self->slots);
    free (self);
    *self_p = NULL;
}

//  Returns the slot holding FP, or the empty slot where it belongs.
static size_t
s_find (const uint64_t *slots, size_t capacity, uint64_t fp)
{
    size_t mask = capacity - 1;
    size_t i = (size_t)s_mix (fp) & mask;
    while (slots[i] != 0 && slots[i] != fp)
        i = (i + 1) & mask;
    return i;
}

static void
s_grow (zc_seen_t *self)
{
    size_t capacity = self->capacity * 2;
    uint64_t *slots = s_slots_new (capacity);
    for (size_t i = 0; i < self->capacity; i++) {
        uint64_t fp = self->slots[i];
        if (fp)
            slots[s_find (slots, capacity, fp)] = fp;
    }
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

int
zc_seen_add (zc_seen_t *self, uint64_t fp)
{
    assert (self);
    if (fp == 0)
        fp = 1;
    size_t i = s_find (self->slots, self->capacity, fp);
    if (self->slots[i] == fp)
        return 0;
    //  Grow before the insert would pass 70% load
    if ((self->size + 1) * 10 > self->capacity * 7) {
        s_grow (self);
        i = s_find (self->slots, self->capacity, fp);
    }
    self->slots[i] = fp;
    self->size++;
    return 1;
}

void
zc_seen_prefetch (zc_seen_t *self, uint64_t fp)
{
    assert (self);
    if (fp == 0)
        fp = 1;
    __builtin_prefetch (&self->slots[(size_t)s_mix (fp) & (self->capacity - 1)]);
}

int
zc_seen_contains (zc_seen_t *self, uint64_t fp)
{
    assert (self);
    if (fp == 0)
        fp = 1;
    return self->slots[s_find (self->slots, self->capacity, fp)] == fp;
}

size_t
zc_seen_size (zc_seen_t *self)
{
    assert (self);
    return self->size;
}

size_t
zc_seen_bytes (zc_seen_t *self)
{
    assert (self);
    return self->capacity * sizeof (uint64_t) + sizeof (zc_seen_t);
}
