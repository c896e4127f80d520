/*  Unit tests for zc_store: durability across reopen, batch semantics and
    order, prefix deletes and walks, map growth, the directory lock, refusal
    of foreign files, and a commit on a full filesystem (tmpfs, root only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zc_store.h"

typedef struct {
    char dir[256];  //  the temp dir, removed by teardown
    char path[300]; //  where the store lives (DIR/store)
} fixture_t;

//  Removes PATH and everything below it (our trees are small).
static void
s_remove_tree (const char *path)
{
    struct stat st;
    if (lstat (path, &st) != 0)
        return;
    if (S_ISDIR (st.st_mode)) {
        DIR *dir = opendir (path);
        if (dir) {
            struct dirent *entry;
            while ((entry = readdir (dir))) {
                if (streq (entry->d_name, ".") || streq (entry->d_name, ".."))
                    continue;
                char child[1024];
                snprintf (child, sizeof child, "%s/%s", path, entry->d_name);
                s_remove_tree (child);
            }
            closedir (dir);
        }
        rmdir (path);
    } else
        unlink (path);
}

static int
s_setup (void **state)
{
    fixture_t *fixture = (fixture_t *)zmalloc (sizeof (fixture_t));
    snprintf (fixture->dir, sizeof fixture->dir, "/tmp/test_zc_store.XXXXXX");
    if (!mkdtemp (fixture->dir)) {
        free (fixture);
        return -1;
    }
    snprintf (fixture->path, sizeof fixture->path, "%s/store", fixture->dir);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    //  test_disk_full's tmpfs, if that test failed before unmounting it.
    char mount_point[300];
    snprintf (mount_point, sizeof mount_point, "%s/mnt", fixture->dir);
    umount2 (mount_point, MNT_DETACH); //  fails (EINVAL, ENOENT) when not mounted
    s_remove_tree (fixture->dir);
    free (fixture);
    return 0;
}

static zc_store_t *
s_open (const char *path)
{
    char *error = NULL;
    zc_store_t *store = zc_store_open (path, &error);
    if (!store)
        print_error ("zc_store_open %s: %s\n", path, error ? error : "(no error)");
    assert_non_null (store);
    assert_null (error);
    return store;
}

static void
s_commit (zc_store_t *store)
{
    char *error = NULL;
    int rc = zc_store_commit (store, &error);
    if (rc != 0)
        print_error ("zc_store_commit: %s\n", error ? error : "(no error)");
    assert_int_equal (rc, 0);
    assert_null (error);
    assert_int_equal (zc_store_batch_size (store), 0);
}

static void
s_put_str (zc_store_t *store, zc_store_table_t table, const char *key, const char *value)
{
    zc_store_put (store, table, key, strlen (key), value, strlen (value));
}

//  Asserts that KEY has VALUE (NULL: is absent) in TABLE.
static void
s_expect (zc_store_t *store, zc_store_table_t table, const char *key, const char *value)
{
    void *found = NULL;
    size_t size = 0;
    int rc = zc_store_get (store, table, key, strlen (key), &found, &size);
    if (!value) {
        assert_int_equal (rc, 1);
        assert_null (found);
        return;
    }
    assert_int_equal (rc, 0);
    assert_int_equal (size, strlen (value));
    assert_memory_equal (found, value, size);
    assert_int_equal (((char *)found)[size], '\0');
    free (found);
}

static int64_t
s_now_us (void)
{
    struct timespec now;
    assert_int_equal (clock_gettime (CLOCK_MONOTONIC, &now), 0);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  Collects the keys zc_store_each visits into a string "k1,k2,...";
//  stops after STOP_AFTER records if it is not 0.
typedef struct {
    char keys[4096];
    int stop_after;
    int visited;
} collect_t;

static int
s_collect (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)value;
    (void)value_size;
    collect_t *collect = (collect_t *)arg;
    size_t used = strlen (collect->keys);
    snprintf (collect->keys + used, sizeof collect->keys - used, "%s%.*s", used ? "," : "",
              (int)key_size, (const char *)key);
    collect->visited++;
    return collect->stop_after && collect->visited >= collect->stop_after;
}

static const char *
s_walk (zc_store_t *store, zc_store_table_t table, const char *prefix, const char *from,
        int stop_after, collect_t *collect)
{
    memset (collect, 0, sizeof *collect);
    collect->stop_after = stop_after;
    int64_t count = zc_store_each (store, table, prefix, prefix ? strlen (prefix) : 0, from,
                                   from ? strlen (from) : 0, s_collect, collect);
    assert_int_equal (count, collect->visited);
    return collect->keys;
}

static void
test_round_trip_and_reopen (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path); //  creates DIR/store (mkdir -p)
    s_put_str (store, ZC_STORE_META, "crawl/1", "options");
    s_put_str (store, ZC_STORE_PENDING, "crawl/1", "a pending url");
    s_put_str (store, ZC_STORE_SEEN, "crawl/1", "");
    s_put_str (store, ZC_STORE_SEEN, "gone", "soon");
    uint8_t binary_key[5] = {0, 1, 0, 255, 0};
    uint8_t binary_value[4] = {0, 0, 7, 0};
    zc_store_put (store, ZC_STORE_PENDING, binary_key, sizeof binary_key, binary_value,
                  sizeof binary_value);
    assert_int_equal (zc_store_batch_size (store), 5);
    s_commit (store);
    //  The same key in three tables holds three values.
    s_expect (store, ZC_STORE_META, "crawl/1", "options");
    s_expect (store, ZC_STORE_PENDING, "crawl/1", "a pending url");
    s_expect (store, ZC_STORE_SEEN, "crawl/1", "");
    s_expect (store, ZC_STORE_SEEN, "gone", "soon");
    s_expect (store, ZC_STORE_SEEN, "missing", NULL);
    zc_store_del (store, ZC_STORE_SEEN, "gone", 4);
    zc_store_del (store, ZC_STORE_SEEN, "never-there", 11); //  not an error
    s_put_str (store, ZC_STORE_META, "crawl/1", "options v2");
    s_commit (store);
    assert_true (zc_store_disk_bytes (store) > 0);
    zc_store_destroy (&store);
    assert_null (store);
    zc_store_destroy (&store); //  NULL-safe

    store = s_open (fixture->path);
    s_expect (store, ZC_STORE_META, "crawl/1", "options v2");
    s_expect (store, ZC_STORE_PENDING, "crawl/1", "a pending url");
    s_expect (store, ZC_STORE_SEEN, "crawl/1", "");
    s_expect (store, ZC_STORE_SEEN, "gone", NULL);
    void *value = NULL;
    size_t size = 0;
    assert_int_equal (
        zc_store_get (store, ZC_STORE_PENDING, binary_key, sizeof binary_key, &value, &size), 0);
    assert_int_equal (size, sizeof binary_value);
    assert_memory_equal (value, binary_value, size);
    free (value);
    //  An empty batch commits trivially.
    s_commit (store);
    zc_store_destroy (&store);
}

static void
test_uncommitted_is_invisible (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    s_put_str (store, ZC_STORE_META, "kept", "1");
    s_commit (store);
    s_put_str (store, ZC_STORE_META, "later", "2");
    zc_store_del (store, ZC_STORE_META, "kept", 4);
    assert_int_equal (zc_store_batch_size (store), 2);
    s_expect (store, ZC_STORE_META, "later", NULL);
    s_expect (store, ZC_STORE_META, "kept", "1");
    collect_t collect;
    assert_string_equal (s_walk (store, ZC_STORE_META, "k", NULL, 0, &collect), "kept");

    //  Discard drops the batch.
    zc_store_discard (store);
    assert_int_equal (zc_store_batch_size (store), 0);
    s_commit (store);
    s_expect (store, ZC_STORE_META, "later", NULL);
    s_expect (store, ZC_STORE_META, "kept", "1");

    //  Destroy drops it too.
    s_put_str (store, ZC_STORE_META, "lost", "3");
    zc_store_destroy (&store);
    store = s_open (fixture->path);
    s_expect (store, ZC_STORE_META, "lost", NULL);
    s_expect (store, ZC_STORE_META, "kept", "1");
    zc_store_destroy (&store);
}

static void
test_order_within_batch (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    s_put_str (store, ZC_STORE_PENDING, "put-del", "x");
    zc_store_del (store, ZC_STORE_PENDING, "put-del", 7);
    zc_store_del (store, ZC_STORE_PENDING, "del-put", 7);
    s_put_str (store, ZC_STORE_PENDING, "del-put", "y");
    s_put_str (store, ZC_STORE_PENDING, "twice", "first");
    s_put_str (store, ZC_STORE_PENDING, "twice", "second");
    s_put_str (store, ZC_STORE_PENDING, "p/1", "old");
    zc_store_del_prefix (store, ZC_STORE_PENDING, "p/", 2);
    s_put_str (store, ZC_STORE_PENDING, "p/2", "new");
    s_commit (store);
    s_expect (store, ZC_STORE_PENDING, "put-del", NULL);
    s_expect (store, ZC_STORE_PENDING, "del-put", "y");
    s_expect (store, ZC_STORE_PENDING, "twice", "second");
    s_expect (store, ZC_STORE_PENDING, "p/1", NULL);
    s_expect (store, ZC_STORE_PENDING, "p/2", "new");
    zc_store_destroy (&store);
}

static void
test_del_prefix (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    const char *keys[] = {"a", "ab", "ab1", "ab2", "ab3", "aba", "ac", "b", "AB"};
    for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++) {
        s_put_str (store, ZC_STORE_SEEN, keys[index], "v");
        s_put_str (store, ZC_STORE_PENDING, keys[index], "v");
    }
    //  Many records under two numeric prefixes, spanning many pages.
    for (uint32_t crawl = 1; crawl <= 2; crawl++)
        for (uint64_t seq = 0; seq < 5000; seq++) {
            uint8_t key[12];
            zc_store_put_u32 (key, crawl);
            zc_store_put_u64 (key + 4, seq);
            zc_store_put (store, ZC_STORE_PENDING, key, sizeof key, "0123456789", 10);
        }
    s_commit (store);
    zc_store_del_prefix (store, ZC_STORE_SEEN, "ab", 2);
    zc_store_del_prefix (store, ZC_STORE_SEEN, "zz", 2); //  nothing: not an error
    uint8_t crawl_1[4];
    zc_store_put_u32 (crawl_1, 1);
    zc_store_del_prefix (store, ZC_STORE_PENDING, crawl_1, sizeof crawl_1);
    s_commit (store);
    collect_t collect;
    assert_string_equal (s_walk (store, ZC_STORE_SEEN, NULL, NULL, 0, &collect), "AB,a,ac,b");
    //  The other table is untouched.
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "a", NULL, 0, &collect),
                         "a,ab,ab1,ab2,ab3,aba,ac");
    assert_int_equal (
        zc_store_each (store, ZC_STORE_PENDING, crawl_1, 4, NULL, 0, s_collect, &collect), 0);
    uint8_t crawl_2[4];
    zc_store_put_u32 (crawl_2, 2);
    memset (&collect, 0, sizeof collect);
    assert_int_equal (
        zc_store_each (store, ZC_STORE_PENDING, crawl_2, 4, NULL, 0, s_collect, &collect), 5000);
    //  An empty prefix empties the table, which stays usable.
    zc_store_del_prefix (store, ZC_STORE_PENDING, NULL, 0);
    s_put_str (store, ZC_STORE_PENDING, "after", "1");
    s_commit (store);
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, NULL, NULL, 0, &collect), "after");
    assert_string_equal (s_walk (store, ZC_STORE_SEEN, NULL, NULL, 0, &collect), "AB,a,ac,b");
    zc_store_destroy (&store);
}

static void
test_each (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    const char *keys[] = {"a", "b/1", "b/2", "b/3", "b/4", "b0", "c"};
    for (size_t index = 0; index < sizeof keys / sizeof keys[0]; index++)
        s_put_str (store, ZC_STORE_PENDING, keys[index], keys[index]);
    s_commit (store);
    collect_t collect;
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, NULL, NULL, 0, &collect),
                         "a,b/1,b/2,b/3,b/4,b0,c");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", NULL, 0, &collect),
                         "b/1,b/2,b/3,b/4");
    //  From a key inside the range, from a key that is not there, from a
    //  key before the range (starts at the prefix), from one after it.
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", "b/3", 0, &collect), "b/3,b/4");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", "b/25", 0, &collect), "b/3,b/4");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", "a", 0, &collect),
                         "b/1,b/2,b/3,b/4");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", "b0", 0, &collect), "");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, NULL, "b0", 0, &collect), "b0,c");
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "x", NULL, 0, &collect), "");
    //  Stop early: the record that said stop is counted.
    assert_string_equal (s_walk (store, ZC_STORE_PENDING, "b/", NULL, 2, &collect), "b/1,b/2");
    assert_int_equal (collect.visited, 2);
    //  META holds the reserved version record.
    assert_string_equal (s_walk (store, ZC_STORE_META, NULL, NULL, 0, &collect), "zcrawl-store");
    //  An empty table walks nothing.
    assert_string_equal (s_walk (store, ZC_STORE_SEEN, NULL, NULL, 0, &collect), "");
    zc_store_destroy (&store);
}

typedef struct {
    uint64_t previous;
    int count;
    bool ordered;
} order_t;

static int
s_check_order (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    order_t *order = (order_t *)arg;
    assert_int_equal (key_size, 12);
    assert_int_equal (zc_store_get_u32 ((const uint8_t *)key), 7);
    uint64_t seq = zc_store_get_u64 ((const uint8_t *)key + 4);
    assert_int_equal (value_size, 8);
    assert_int_equal (zc_store_get_u64 ((const uint8_t *)value), seq);
    if (order->count > 0 && seq <= order->previous)
        order->ordered = false;
    order->previous = seq;
    order->count++;
    return 0;
}

static void
test_big_endian (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    uint8_t bytes[8];
    zc_store_put_u32 (bytes, 0x01020304u);
    assert_memory_equal (bytes, "\x01\x02\x03\x04", 4);
    assert_int_equal (zc_store_get_u32 (bytes), 0x01020304u);
    zc_store_put_u64 (bytes, 0x0102030405060708ULL);
    assert_memory_equal (bytes, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true (zc_store_get_u64 (bytes) == 0x0102030405060708ULL);
    zc_store_put_u64 (bytes, UINT64_MAX);
    assert_true (zc_store_get_u64 (bytes) == UINT64_MAX);
    zc_store_put_u32 (bytes, UINT32_MAX);
    assert_true (zc_store_get_u32 (bytes) == UINT32_MAX);

    //  Inserted in scrambled order, walked in numeric order.
    zc_store_t *store = s_open (fixture->path);
    const uint64_t seqs[] = {
        256, 1, 0, 255, 65536, 1ULL << 40, 257, UINT64_MAX, 1ULL << 32, 65535, 2, 1ULL << 63,
    };
    for (size_t index = 0; index < sizeof seqs / sizeof seqs[0]; index++) {
        uint8_t key[12], value[8];
        zc_store_put_u32 (key, 7);
        zc_store_put_u64 (key + 4, seqs[index]);
        zc_store_put_u64 (value, seqs[index]);
        zc_store_put (store, ZC_STORE_PENDING, key, sizeof key, value, sizeof value);
    }
    s_commit (store);
    order_t order = {.ordered = true};
    uint8_t prefix[4];
    zc_store_put_u32 (prefix, 7);
    assert_int_equal (zc_store_each (store, ZC_STORE_PENDING, prefix, sizeof prefix, NULL, 0,
                                     s_check_order, &order),
                      sizeof seqs / sizeof seqs[0]);
    assert_true (order.ordered);
    assert_true (order.previous == UINT64_MAX);
    zc_store_destroy (&store);
}

static int
s_count (const void *key, size_t key_size, const void *value, size_t value_size, void *arg)
{
    (void)key;
    (void)key_size;
    (void)value;
    assert_int_equal (value_size, 100);
    (*(int64_t *)arg)++;
    return 0;
}

//  200,000 records of 100 bytes: one commit of 100,000 operations (timed),
//  then 100,000 more in 10 commits.
static void
test_bulk (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    uint8_t value[100];
    memset (value, 'v', sizeof value);
    for (uint64_t seq = 0; seq < 100000; seq++) {
        uint8_t key[12];
        zc_store_put_u32 (key, 1);
        zc_store_put_u64 (key + 4, seq * 2654435761u % 1000003); //  scrambled order
        zc_store_put (store, ZC_STORE_PENDING, key, sizeof key, value, sizeof value);
    }
    assert_int_equal (zc_store_batch_size (store), 100000);
    int64_t start = s_now_us ();
    s_commit (store);
    int64_t elapsed_us = s_now_us () - start;
    printf ("zc_store: commit of 100000 puts (12-byte keys, 100-byte values): %.1f ms, %.0f "
            "ops/s\n",
            elapsed_us / 1000.0, 100000.0 * 1e6 / (double)(elapsed_us > 0 ? elapsed_us : 1));
    for (int batch = 0; batch < 10; batch++) {
        for (uint64_t seq = 0; seq < 10000; seq++) {
            uint8_t key[12];
            zc_store_put_u32 (key, 2);
            zc_store_put_u64 (key + 4, (uint64_t)batch * 10000 + seq);
            zc_store_put (store, ZC_STORE_PENDING, key, sizeof key, value, sizeof value);
        }
        s_commit (store);
    }
    int64_t count = 0;
    assert_int_equal (zc_store_each (store, ZC_STORE_PENDING, NULL, 0, NULL, 0, s_count, &count),
                      200000);
    assert_int_equal (count, 200000);
    //  Deleting them all in one batch of 100,000 deletes and one prefix delete.
    for (uint64_t seq = 0; seq < 100000; seq++) {
        uint8_t key[12];
        zc_store_put_u32 (key, 1);
        zc_store_put_u64 (key + 4, seq * 2654435761u % 1000003);
        zc_store_del (store, ZC_STORE_PENDING, key, sizeof key);
    }
    uint8_t crawl_2[4];
    zc_store_put_u32 (crawl_2, 2);
    zc_store_del_prefix (store, ZC_STORE_PENDING, crawl_2, sizeof crawl_2);
    start = s_now_us ();
    s_commit (store);
    elapsed_us = s_now_us () - start;
    printf ("zc_store: commit of 100000 deletes + 1 prefix delete of 100000: %.1f ms\n",
            elapsed_us / 1000.0);
    count = 0;
    assert_int_equal (zc_store_each (store, ZC_STORE_PENDING, NULL, 0, NULL, 0, s_count, &count),
                      0);
    zc_store_destroy (&store);
}

static void
s_check_blobs (zc_store_t *store, uint32_t count, size_t size)
{
    for (uint32_t index = 0; index < count; index++) {
        uint8_t key[4];
        zc_store_put_u32 (key, index);
        void *value = NULL;
        size_t found = 0;
        assert_int_equal (zc_store_get (store, ZC_STORE_META, key, sizeof key, &value, &found), 0);
        assert_int_equal (found, size);
        assert_int_equal (((uint8_t *)value)[0], (uint8_t)index);
        assert_int_equal (((uint8_t *)value)[size - 1], (uint8_t)index);
        free (value);
    }
}

//  With a 1 MiB initial map, 20 MB of data commit (the map doubles, the
//  batch is replayed), and still do after a reopen with the small map.
static void
test_map_growth (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    assert_int_equal (setenv ("ZC_STORE_INITIAL_MAP", "1048576", 1), 0);
    zc_store_t *store = s_open (fixture->path);
    const size_t size = 10000;
    uint8_t *value = (uint8_t *)zmalloc (size);
    uint32_t index = 0;
    //  One 10 MB batch, then ten 1 MB batches.
    for (; index < 1000; index++) {
        uint8_t key[4];
        zc_store_put_u32 (key, index);
        memset (value, (uint8_t)index, size);
        zc_store_put (store, ZC_STORE_META, key, sizeof key, value, size);
    }
    s_commit (store);
    for (int batch = 0; batch < 10; batch++) {
        for (int count = 0; count < 100; count++, index++) {
            uint8_t key[4];
            zc_store_put_u32 (key, index);
            memset (value, (uint8_t)index, size);
            zc_store_put (store, ZC_STORE_META, key, sizeof key, value, size);
        }
        s_commit (store);
    }
    assert_true (zc_store_disk_bytes (store) >= 20000000);
    s_check_blobs (store, index, size);
    zc_store_destroy (&store);

    store = s_open (fixture->path); //  still asks for 1 MiB: LMDB maps the whole file
    s_check_blobs (store, index, size);
    for (int count = 0; count < 500; count++, index++) {
        uint8_t key[4];
        zc_store_put_u32 (key, index);
        memset (value, (uint8_t)index, size);
        zc_store_put (store, ZC_STORE_META, key, sizeof key, value, size);
    }
    s_commit (store);
    s_check_blobs (store, index, size);
    zc_store_destroy (&store);
    free (value);
    assert_int_equal (unsetenv ("ZC_STORE_INITIAL_MAP"), 0);

    //  An invalid value is ignored (warning) rather than trusted.
    assert_int_equal (setenv ("ZC_STORE_INITIAL_MAP", "12abc", 1), 0);
    store = s_open (fixture->path);
    s_check_blobs (store, index, size);
    zc_store_destroy (&store);
    assert_int_equal (unsetenv ("ZC_STORE_INITIAL_MAP"), 0);
}

static void
test_lock (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    zc_store_t *store = s_open (fixture->path);
    char *error = NULL;
    zc_store_t *second = zc_store_open (fixture->path, &error);
    assert_null (second);
    assert_non_null (error);
    assert_non_null (strstr (error, "is in use by another process"));
    assert_non_null (strstr (error, fixture->path));
    free (error);
    //  The first one is unharmed.
    s_put_str (store, ZC_STORE_META, "k", "v");
    s_commit (store);
    zc_store_destroy (&store);
    //  Released on destroy.
    store = s_open (fixture->path);
    s_expect (store, ZC_STORE_META, "k", "v");
    zc_store_destroy (&store);
}

static void
s_expect_open_fails (const char *path, const char *message)
{
    char *error = NULL;
    zc_store_t *store = zc_store_open (path, &error);
    assert_null (store);
    assert_non_null (error);
    if (!strstr (error, message))
        print_error ("error '%s' lacks '%s'\n", error, message);
    assert_non_null (strstr (error, message));
    free (error);
}

static void
s_write_file (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
}

static void
test_not_a_store (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    char path[400], data[450];

    //  Garbage in data.mdb, short and page-sized.
    snprintf (path, sizeof path, "%s/garbage", fixture->dir);
    assert_int_equal (mkdir (path, 0700), 0);
    snprintf (data, sizeof data, "%s/data.mdb", path);
    s_write_file (data, "hello, this is not LMDB\n", 24);
    s_expect_open_fails (path, "not a zcrawl store (or an incompatible version)");
    uint8_t page[8192];
    for (size_t index = 0; index < sizeof page; index++)
        page[index] = (uint8_t)(index * 131 + 17);
    s_write_file (data, page, sizeof page);
    s_expect_open_fails (path, "not a zcrawl store (or an incompatible version)");
    //  The file was not touched.
    struct stat st;
    assert_int_equal (stat (data, &st), 0);
    assert_int_equal (st.st_size, sizeof page);

    //  A valid LMDB environment of some other program.
    snprintf (path, sizeof path, "%s/other", fixture->dir);
    assert_int_equal (mkdir (path, 0700), 0);
    MDB_env *env = NULL;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_open (env, path, 0, 0644), 0);
    MDB_txn *txn = NULL;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    MDB_dbi dbi;
    assert_int_equal (mdb_dbi_open (txn, NULL, 0, &dbi), 0);
    MDB_val key = {.mv_size = 3, .mv_data = "foo"};
    MDB_val value = {.mv_size = 3, .mv_data = "bar"};
    assert_int_equal (mdb_put (txn, dbi, &key, &value, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    s_expect_open_fails (path, "not a zcrawl store (or an incompatible version)");

    //  A store of another format version.
    zc_store_t *store = s_open (fixture->path);
    s_put_str (store, ZC_STORE_META, "zcrawl-store", "2");
    s_commit (store);
    zc_store_destroy (&store);
    s_expect_open_fails (fixture->path, "not a zcrawl store (or an incompatible version)");

    //  DIR is a file; DIR cannot be created.
    snprintf (path, sizeof path, "%s/file", fixture->dir);
    s_write_file (path, "x", 1);
    s_expect_open_fails (path, "cannot create data directory");
    snprintf (path, sizeof path, "%s/file/below", fixture->dir);
    s_expect_open_fails (path, "cannot create data directory");

    //  A missing parent is created (mkdir -p), and an empty data.mdb (a
    //  creation that never committed) is a new store.
    snprintf (path, sizeof path, "%s/a/b/c", fixture->dir);
    store = s_open (path);
    zc_store_destroy (&store);
    snprintf (path, sizeof path, "%s/empty", fixture->dir);
    assert_int_equal (mkdir (path, 0700), 0);
    snprintf (data, sizeof data, "%s/data.mdb", path);
    s_write_file (data, "", 0);
    store = s_open (path);
    s_put_str (store, ZC_STORE_META, "k", "v");
    s_commit (store);
    zc_store_destroy (&store);
}

//  Fills the filesystem of PATH's directory through the file PATH.
static void
s_fill (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true (fd >= 0);
    char chunk[4096];
    memset (chunk, 'f', sizeof chunk);
    for (;;) {
        ssize_t written = write (fd, chunk, sizeof chunk);
        if (written < 0) {
            assert_int_equal (errno, ENOSPC);
            break;
        }
        assert_true (written > 0);
    }
    assert_int_equal (close (fd), 0);
}

//  A commit on a full filesystem fails, applies nothing and keeps the
//  batch; once space is freed the same batch commits.
static void
test_disk_full (void **state)
{
    fixture_t *fixture = (fixture_t *)*state;
    char mount_point[300], store_path[350], filler[350];
    snprintf (mount_point, sizeof mount_point, "%s/mnt", fixture->dir);
    assert_int_equal (mkdir (mount_point, 0700), 0);
    if (mount ("tmpfs", mount_point, "tmpfs", 0, "size=2m") != 0) {
        print_message ("skipping: cannot mount a tmpfs (%s)\n", strerror (errno));
        skip ();
    }
    snprintf (store_path, sizeof store_path, "%s/store", mount_point);
    snprintf (filler, sizeof filler, "%s/filler", mount_point);
    zc_store_t *store = s_open (store_path);
    s_put_str (store, ZC_STORE_META, "before", "full");
    s_commit (store);
    s_fill (filler);

    uint8_t value[1000];
    memset (value, 'x', sizeof value);
    for (uint32_t index = 0; index < 300; index++) {
        uint8_t key[4];
        zc_store_put_u32 (key, index);
        zc_store_put (store, ZC_STORE_PENDING, key, sizeof key, value, sizeof value);
    }
    s_put_str (store, ZC_STORE_META, "before", "changed");
    char *error = NULL;
    assert_int_equal (zc_store_commit (store, &error), -1);
    assert_non_null (error);
    print_message ("expected commit error: %s\n", error);
    assert_non_null (strstr (error, strerror (ENOSPC)));
    free (error);
    assert_int_equal (zc_store_batch_size (store), 301);
    //  Nothing of the batch was applied; the store still reads.
    s_expect (store, ZC_STORE_META, "before", "full");
    uint8_t key0[4];
    zc_store_put_u32 (key0, 0);
    void *found = NULL;
    size_t size = 0;
    assert_int_equal (zc_store_get (store, ZC_STORE_PENDING, key0, 4, &found, &size), 1);
    //  A second attempt fails the same way.
    assert_int_equal (zc_store_commit (store, &error), -1);
    free (error);
    assert_int_equal (zc_store_batch_size (store), 301);

    assert_int_equal (unlink (filler), 0);
    s_commit (store);
    s_expect (store, ZC_STORE_META, "before", "changed");
    zc_store_destroy (&store);
    store = s_open (store_path);
    s_expect (store, ZC_STORE_META, "before", "changed");
    int64_t count = 0;
    collect_t collect;
    memset (&collect, 0, sizeof collect);
    count = zc_store_each (store, ZC_STORE_PENDING, NULL, 0, NULL, 0, s_collect, &collect);
    assert_int_equal (count, 300);
    zc_store_destroy (&store);
    if (umount (mount_point) != 0)
        assert_int_equal (umount2 (mount_point, MNT_DETACH), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_round_trip_and_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_uncommitted_is_invisible, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_order_within_batch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_del_prefix, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_each, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_big_endian, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bulk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_map_growth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_not_a_store, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_disk_full, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
