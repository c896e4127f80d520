/*  zc_hostgap — the fetcher's per-host start spacing, the second line of
    politeness behind the broker's dispatch spacing.

    A fetcher that was busy (or not scheduled) for a while can receive
    several jobs of one host in one turn; started together, the server
    would see them at once. So each job of a host with a gap waits in its
    host's FIFO and starts only GAP ms after the host's previous request
    start as it really happened:
      - when the previous job was actually started (zc_hostgap_offer or
        zc_hostgap_pop_due at NOW), not when it was planned: a timer that
        fires late must push the next job back, not let it catch up;
      - or later, when a finished transfer shows that its request went out
        later than that (zc_hostgap_observed: a stalled loop or a slow
        connect delays the request after its start).
    The next job's time is computed when its predecessor starts, so one late
    start moves every later job of the host.

    Items are borrowed pointers (the fetcher's jobs). The clock is passed in
    (monotonic ms) so tests control time. Not thread-safe.
*/
#ifndef ZC_HOSTGAP_H_INCLUDED
#define ZC_HOSTGAP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zc_hostgap zc_hostgap_t;

//  Creates an empty table that remembers at most about MAX_HOSTS hosts
//  without waiting items (older ones are forgotten: the broker's spacing
//  still holds for them). Caller owns the result.
zc_hostgap_t *zc_hostgap_new (size_t max_hosts);

//  Destroys the table (items are borrowed: not freed). NULL-safe; sets
//  *self_p to NULL.
void zc_hostgap_destroy (zc_hostgap_t **self_p);

//  Offers ITEM for HOST (a host key) with GAP_MS at NOW. Returns true if it
//  may start now (its start is recorded), false if it waits in the host's
//  FIFO (take it later with zc_hostgap_pop_due).
bool zc_hostgap_offer (zc_hostgap_t *self, const char *host, uint32_t gap_ms, void *item,
                       int64_t now);

//  When the earliest waiting item may start, or -1 if none waits.
int64_t zc_hostgap_next_due (zc_hostgap_t *self);

//  Takes the earliest waiting item whose time has come at NOW and records
//  its start at NOW; NULL if none is due.
void *zc_hostgap_pop_due (zc_hostgap_t *self, int64_t now);

//  Takes any waiting item without starting it (a drain hands them back);
//  NULL when none waits.
void *zc_hostgap_pop_any (zc_hostgap_t *self);

//  HOST's request really started at START (from the transfer's timings):
//  if that is later than its recorded start, the host's next job is spaced
//  from START instead.
void zc_hostgap_observed (zc_hostgap_t *self, const char *host, int64_t start);

//  Items waiting.
size_t zc_hostgap_waiting (zc_hostgap_t *self);

#endif
