/*  zc_journal — how one crawl's state is kept in the store; see
    zc_journal.h.

    Every store operation goes to the store's batch: nothing here commits.
    What the journal knows about the store is therefore "as of the last
    commit" plus what it queued since; the two RAM trims (seen set, queued
    URLs) happen only in zc_journal_committed, when the two agree.

    PENDING in key order is admission order, so a refill reads the store
    from the first spilled seq on (SPILL_FROM).
*/
#include "zc_journal.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>

#include "zc_seen.h"
#include "zc_url.h"
#include "zc_util.h"

#define ZC_JOURNAL_HOST_KEY_MAX 512

struct zc_journal {
    char *id;                   //  owned: the crawl's id
    zc_store_t *store;          //  borrowed; NULL = memory only
    uint32_t crawl_no;          //  store key prefix
    size_t memory_urls;         //  in-memory queue budget (0 = none)
    size_t seen_budget;         //  RAM for the seen set (0 = no limit)
    zc_seen_t *seen;            //  owned; NULL once finished
    bool seen_in_store;         //  the RAM seen set holds only recent URLs: ask the store too
    zhashx_t *host_pages;       //  owned: host key -> URLs admitted (uintptr_t >= 1)
    zhashx_t *host_pages_dirty; //  owned: host keys whose count changed since the checkpoint
    bool spilling;              //  URLs from SPILL_FROM on are in the store only
    uint64_t spill_from;        //  first admission number not in RAM
    uint64_t spilled;           //  URLs in the store only
    bool dirty;                 //  store records changed since the last checkpoint
};

zc_journal_t *
zc_journal_new (const zc_journal_config_t *config)
{
    assert (config);
    assert (config->crawl_id);
    zc_journal_t *self = (zc_journal_t *)zmalloc (sizeof (zc_journal_t));
    self->id = zc_strdup (config->crawl_id);
    if (config->store) {
        self->store = config->store;
        self->crawl_no = config->crawl_no;
        self->memory_urls = config->memory_urls;
        self->seen_budget = config->seen_bytes;
    }
    self->seen = zc_seen_new ();
    self->host_pages = zhashx_new ();
    self->host_pages_dirty = zhashx_new ();
    return self;
}

void
zc_journal_destroy (zc_journal_t **self_p)
{
    assert (self_p);
    zc_journal_t *self = *self_p;
    if (!self)
        return;
    zc_seen_destroy (&self->seen);
    zhashx_destroy (&self->host_pages);
    zhashx_destroy (&self->host_pages_dirty);
    free (self->id);
    free (self);
    *self_p = NULL;
}

bool
zc_journal_durable (zc_journal_t *self)
{
    assert (self);
    return self->store != NULL;
}

uint32_t
zc_journal_number (zc_journal_t *self)
{
    assert (self);
    return self->store ? self->crawl_no : 0;
}

//  --------------------------------------------------------------------------
//  Seen set and per-host admission counts

//  Better to miss a URL than to fetch one twice: a store error counts as
//  seen.
bool
zc_journal_seen (zc_journal_t *self, uint64_t fp)
{
    assert (self);
    if (zc_seen_contains (self->seen, fp))
        return true;
    if (!self->seen_in_store)
        return false;
    uint8_t key[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (key, self->crawl_no, fp);
    return zc_store_contains (self->store, ZC_STORE_SEEN, key, sizeof key) != 0;
}

void
zc_journal_seen_prefetch (zc_journal_t *self, uint64_t fp)
{
    assert (self);
    if (self->seen)
        zc_seen_prefetch (self->seen, fp);
}

void
zc_journal_seen_add (zc_journal_t *self, uint64_t fp)
{
    assert (self);
    if (zc_seen_add (self->seen, fp) != 1 || !self->store)
        return;
    uint8_t key[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (key, self->crawl_no, fp);
    zc_store_put (self->store, ZC_STORE_SEEN, key, sizeof key, "", 0);
}

uint64_t
zc_journal_host_pages (zc_journal_t *self, const char *host_key)
{
    assert (self);
    return (uint64_t)(uintptr_t)zhashx_lookup (self->host_pages, host_key);
}

void
zc_journal_host_pages_add (zc_journal_t *self, const char *host_key)
{
    assert (self);
    uintptr_t host_pages = (uintptr_t)zhashx_lookup (self->host_pages, host_key);
    zhashx_update (self->host_pages, host_key, (void *)(host_pages + 1));
    if (self->store)
        zhashx_update (self->host_pages_dirty, host_key, (void *)1);
}

//  --------------------------------------------------------------------------
//  Pending URLs

void
zc_journal_pending (zc_journal_t *self, uint64_t seq, const char *url, const char *origin,
                    uint32_t depth, uint32_t attempt, uint32_t redirects)
{
    assert (self);
    if (!self->store || seq == 0)
        return;
    zc_record_pending_t record = {
        .url = url, .origin = origin, .depth = depth, .attempt = attempt, .redirects = redirects};
    size_t size;
    void *value = zc_record_pending_encode (&record, &size);
    uint8_t key[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (key, self->crawl_no, seq);
    zc_store_put (self->store, ZC_STORE_PENDING, key, sizeof key, value, size);
    free (value);
    self->dirty = true;
}

void
zc_journal_done (zc_journal_t *self, uint64_t seq)
{
    assert (self);
    if (!self->store || seq == 0)
        return;
    uint8_t key[ZC_RECORD_NUMBERED_KEY];
    zc_record_numbered_key (key, self->crawl_no, seq);
    zc_store_del (self->store, ZC_STORE_PENDING, key, sizeof key);
    self->dirty = true; //  (every line written is the end of a pending record)
}

//  Spilled URLs keep admission order: once one is in the store only, every
//  later one is too until zc_journal_committed catches up.
void
zc_journal_enqueue (zc_journal_t *self, zc_frontier_t *frontier, const zc_frontier_entry_t *entry)
{
    assert (self);
    if (self->store && self->memory_urls > 0 &&
        (self->spilling || zc_frontier_queued (frontier) >= self->memory_urls)) {
        if (!self->spilling) {
            self->spilling = true;
            self->spill_from = entry->seq;
        }
        self->spilled++;
        return;
    }
    zc_frontier_push_item (frontier, entry, false);
}

uint64_t
zc_journal_spilled (zc_journal_t *self)
{
    assert (self);
    return self->spilled;
}

//  --------------------------------------------------------------------------
//  Crawl record and checkpoints

void
zc_journal_put_crawl (zc_journal_t *self, const zc_record_crawl_t *record)
{
    assert (self);
    assert (record);
    if (!self->store)
        return;
    zc_record_crawl_t own = *record;
    own.crawl_no = self->crawl_no;
    size_t size;
    void *value = zc_record_crawl_encode (&own, &size);
    char *key = zsys_sprintf ("%s%s", ZC_RECORD_CRAWL_KEY_PREFIX, self->id);
    assert (key);
    zc_store_put (self->store, ZC_STORE_META, key, strlen (key), value, size);
    zstr_free (&key);
    free (value);
    //  The per-host admission counts (max_pages_per_host) that changed
    for (void *count = zhashx_first (self->host_pages_dirty); count;
         count = zhashx_next (self->host_pages_dirty)) {
        const char *host_key = (const char *)zhashx_cursor (self->host_pages_dirty);
        char *host = zsys_sprintf ("%s%s/%s", ZC_RECORD_HOSTS_KEY_PREFIX, self->id, host_key);
        assert (host);
        uint8_t admitted[8];
        zc_store_put_u64 (admitted,
                          (uint64_t)(uintptr_t)zhashx_lookup (self->host_pages, host_key));
        if (strlen (host) <= ZC_STORE_MAX_KEY)
            zc_store_put (self->store, ZC_STORE_META, host, strlen (host), admitted,
                          sizeof admitted);
        zstr_free (&host);
    }
    zhashx_purge (self->host_pages_dirty);
}

bool
zc_journal_dirty (zc_journal_t *self)
{
    assert (self);
    return self->dirty;
}

void
zc_journal_touch (zc_journal_t *self)
{
    assert (self);
    self->dirty = true;
}

void
zc_journal_clean (zc_journal_t *self)
{
    assert (self);
    self->dirty = false;
}

//  --------------------------------------------------------------------------
//  Loading from the store

//  Key prefix of the crawl's per-host admission counts (new string).
static char *
s_hosts_prefix (zc_journal_t *self)
{
    char *hosts = zsys_sprintf ("%s%s/", ZC_RECORD_HOSTS_KEY_PREFIX, self->id);
    assert (hosts);
    return hosts;
}

//  zc_store_each callback: counts a SEEN record into the seen set.
static int
s_load_seen (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value;
    (void)value_size;
    zc_journal_t *self = (zc_journal_t *)arg;
    (void)zc_seen_add (self->seen, zc_record_key_number (key, key_size));
    return 0;
}

//  zc_store_each callback: one per-host admission count back into RAM.
static int
s_load_host_pages (const void *key, size_t key_size, const void *value, size_t value_size,
                   void *arg)
{
    zc_journal_t *self = (zc_journal_t *)arg;
    size_t prefix = strlen (ZC_RECORD_HOSTS_KEY_PREFIX) + strlen (self->id) + 1;
    if (key_size <= prefix || value_size != 8)
        return 0;
    char *host_key = zc_strndup ((const char *)key + prefix, key_size - prefix);
    uint64_t admitted = zc_store_get_u64 ((const uint8_t *)value);
    zhashx_update (self->host_pages, host_key, (void *)(uintptr_t)admitted);
    free (host_key);
    return 0;
}

typedef struct {
    zc_journal_t *journal;
    zc_frontier_t *frontier;
    uint64_t wanted; //  URLs to move into RAM
    uint64_t loaded;
    uint64_t skipped; //  unusable records (logged)
    uint64_t beyond;  //  records past WANTED (counted, not loaded)
    uint64_t first_beyond;
    bool count_all; //  go on counting past WANTED (else stop there)
} s_load_t;

//  zc_store_each callback: queues a PENDING record in RAM until WANTED
//  are loaded, then only counts.
static int
s_load_pending (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    s_load_t *load = (s_load_t *)arg;
    uint64_t seq = zc_record_key_number (key, key_size);
    if (load->loaded >= load->wanted) {
        if (load->beyond++ == 0)
            load->first_beyond = seq;
        return load->count_all ? 0 : 1;
    }
    zc_record_pending_t record;
    char host_key[ZC_JOURNAL_HOST_KEY_MAX];
    if (seq == 0 || zc_record_pending_decode (value, value_size, &record) != 0 ||
        zc_url_host_key (record.url, host_key, sizeof host_key) != 0) {
        if (load->skipped++ == 0)
            zsys_error ("zc_broker: crawl %s: unusable pending record %" PRIu64 " in the store",
                        load->journal->id, seq);
        return 0;
    }
    zc_frontier_entry_t entry = {.url = (char *)record.url,
                                 .host_key = host_key,
                                 .depth = record.depth,
                                 .attempt = record.attempt ? record.attempt : 1,
                                 .redirects = record.redirects,
                                 .origin = (char *)record.origin,
                                 .seq = seq};
    zc_frontier_push_item (load->frontier, &entry, false);
    load->loaded++;
    return 0;
}

size_t
zc_journal_committed (zc_journal_t *self, zc_frontier_t *frontier)
{
    assert (self);
    if (!self->store)
        return 0;
    if (self->seen_budget > 0 && zc_seen_bytes (self->seen) > self->seen_budget) {
        //  Every fingerprint in RAM is committed: the store answers for them
        zc_seen_destroy (&self->seen);
        self->seen = zc_seen_new ();
        self->seen_in_store = true;
    }
    if (!self->spilling)
        return 0;
    size_t queued = zc_frontier_queued (frontier);
    if (queued >= self->memory_urls / 2)
        return 0;
    uint8_t prefix[ZC_RECORD_PREFIX_KEY];
    uint8_t from[ZC_RECORD_NUMBERED_KEY];
    zc_record_prefix_key (prefix, self->crawl_no);
    zc_record_numbered_key (from, self->crawl_no, self->spill_from);
    s_load_t load = {.journal = self, .frontier = frontier, .wanted = self->memory_urls - queued};
    int64_t visited = zc_store_each (self->store, ZC_STORE_PENDING, prefix, sizeof prefix, from,
                                     sizeof from, s_load_pending, &load);
    if (visited < 0)
        return 0;
    uint64_t moved = load.loaded + load.skipped;
    if (load.beyond == 0) {
        self->spilling = false; //  the store has no URL beyond RAM any more
        self->spilled = 0;
    } else {
        self->spill_from = load.first_beyond;
        self->spilled = self->spilled > moved ? self->spilled - moved : 1;
    }
    return (size_t)load.loaded;
}

int
zc_journal_restore (zc_journal_t *self, zc_frontier_t *frontier, bool host_pages, uint64_t *pending,
                    uint64_t *in_ram)
{
    assert (self);
    assert (self->store);
    assert (pending);
    assert (in_ram);
    uint8_t prefix[ZC_RECORD_PREFIX_KEY];
    zc_record_prefix_key (prefix, self->crawl_no);
    s_load_t load = {.journal = self,
                     .frontier = frontier,
                     .wanted = self->memory_urls ? self->memory_urls : UINT64_MAX,
                     .count_all = true};
    //  With a RAM budget the seen set stays in the store (loading it could
    //  take more RAM than the budget)
    self->seen_in_store = self->seen_budget > 0;
    if ((!self->seen_in_store && zc_store_each (self->store, ZC_STORE_SEEN, prefix, sizeof prefix,
                                                NULL, 0, s_load_seen, self) < 0) ||
        zc_store_each (self->store, ZC_STORE_PENDING, prefix, sizeof prefix, NULL, 0,
                       s_load_pending, &load) < 0)
        return -1;
    char *hosts = s_hosts_prefix (self);
    if (host_pages)
        (void)zc_store_each (self->store, ZC_STORE_META, hosts, strlen (hosts), NULL, 0,
                             s_load_host_pages, self);
    zstr_free (&hosts);
    if (load.beyond > 0) {
        self->spilling = true;
        self->spill_from = load.first_beyond;
        self->spilled = load.beyond;
    }
    *pending = load.loaded + load.beyond;
    *in_ram = load.loaded;
    return 0;
}

void
zc_journal_finish (zc_journal_t *self)
{
    assert (self);
    if (self->store) {
        uint8_t prefix[ZC_RECORD_PREFIX_KEY];
        zc_record_prefix_key (prefix, self->crawl_no);
        zc_store_del_prefix (self->store, ZC_STORE_PENDING, prefix, sizeof prefix);
        zc_store_del_prefix (self->store, ZC_STORE_SEEN, prefix, sizeof prefix);
        char *hosts = s_hosts_prefix (self);
        zc_store_del_prefix (self->store, ZC_STORE_META, hosts, strlen (hosts));
        zstr_free (&hosts);
    }
    self->spilling = false;
    self->spilled = 0;
    zc_seen_destroy (&self->seen);
    zhashx_destroy (&self->host_pages);
    zhashx_destroy (&self->host_pages_dirty);
}
