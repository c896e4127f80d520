/*  zc-bench-frontier — the broker's admission + dedup + dispatch path
    without network: drives broker/zc_crawl.h directly, as the broker actor
    does, with one impolite crawl (no delay, robots ignored, 64 per host).

    Phase 1 (enqueue+dedup): zc_crawl_admit of --urls N synthetic URLs
    over --hosts H hosts (http://hK.bench.test/p/I.html), with --dups P %
    extra admissions of an earlier URL (rejected as seen).
    Phase 2 (dispatch): zc_crawl_pop, zc_crawl_write_item (a title-only
    item, as for a page without links) and zc_crawl_job_ended until the
    frontier is empty (a synthetic fetcher answering at once).

    Modes (--mode, default both; each runs in its own child process so
    that RSS figures do not mix): memory (no store, as without --data) and
    durable (zc_store under a temporary directory, as with --data: a
    commit, zc_crawl_checkpoint + zc_store_commit + zc_crawl_committed,
    every --commit-ms of wall time as the broker's timer does, or every
    --commit-ops store operations if set, as --max-memory forces).

    One line per mode:
        frontier MODE urls N admits N enqueue_per_s N dispatch_per_s N
          total_per_s N rss_bytes_per_url N commits N
    (one line, wrapped here): enqueue_per_s = zc_crawl_admit calls per
    second (duplicates included), dispatch_per_s = URLs popped + written +
    ended per second, total_per_s = unique URLs / (phase 1 + phase 2 time),
    rss_bytes_per_url = RssAnon growth over phase 1 / unique URLs.
    URL generation (snprintf) is inside the timed loops; its own cost is
    printed as gen_ns_per_url. On a shared machine the wall-clock rates
    include time the process waited for a core: cpu_s is the process's CPU
    time (user + system) over both phases and cpu_total_per_s = unique
    URLs / cpu_s.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  nftw
#endif
#include "zc_bench.h"
#include "zc_crawl.h"
#include "zc_store.h"
#include "zc_util.h"

#include <ftw.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    uint64_t urls;
    uint64_t hosts;
    uint64_t dups; //  percent
    uint64_t commit_ms;
    uint64_t commit_ops;
    bool json;
} s_config_t;

static uint64_t
s_mix (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void
s_url (char *buffer, size_t size, uint64_t index, uint64_t hosts)
{
    snprintf (buffer, size, "http://h%llu.bench.test/p/%llu.html",
              (unsigned long long)(index % hosts), (unsigned long long)(index / hosts));
}

static int
s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

//  Commits a durable crawl's batch as the broker's commit timer does.
static void
s_commit (zc_crawl_t *crawl, zc_store_t *store)
{
    char *error = NULL;
    if (zc_crawl_checkpoint (crawl, &error) != 0 || zc_store_commit (store, &error) != 0) {
        fprintf (stderr, "zc-bench-frontier: commit failed: %s\n", error ? error : "?");
        exit (1);
    }
    (void)zc_crawl_committed (crawl);
}

//  Commits when COMMIT_EVERY seconds have passed since *LAST_COMMIT, or the
//  batch holds config->commit_ops operations. Returns the commits made (0/1).
static int
s_commit_if_due (zc_crawl_t *crawl, zc_store_t *store, const s_config_t *config,
                 double commit_every, double *last_commit)
{
    double now = zc_bench_wall_s ();
    if (now - *last_commit < commit_every &&
        !(config->commit_ops && zc_store_batch_size (store) >= config->commit_ops))
        return 0;
    s_commit (crawl, store);
    *last_commit = now;
    return 1;
}

static int
s_run (const s_config_t *config, bool durable)
{
    char dir[] = "/tmp/zc-bench-frontier-XXXXXX";
    if (!mkdtemp (dir)) {
        perror ("mkdtemp");
        return 1;
    }
    char store_dir[sizeof dir + 16];
    snprintf (store_dir, sizeof store_dir, "%s/data", dir);
    zc_store_t *store = NULL;
    char *error = NULL;
    if (durable) {
        store = zc_store_open (store_dir, &error);
        if (!store) {
            fprintf (stderr, "zc-bench-frontier: %s\n", error);
            free (error);
            return 1;
        }
    }
    //  Seeds: one per host (the scope is the seeds' hosts)
    char **seeds = (char **)zmalloc (config->hosts * sizeof (char *));
    for (uint64_t h = 0; h < config->hosts; h++) {
        char seed[96];
        snprintf (seed, sizeof seed, "http://h%llu.bench.test/", (unsigned long long)h);
        seeds[h] = zc_strdup (seed);
    }
    zc_submit_t submit = {.seeds = (const char **)seeds,
                          .seed_count = config->hosts,
                          .output = "",
                          .errors = "",
                          .opts = {.max_depth = -1, .impolite = true, .ignore_robots = true}};
    zc_crawl_durable_t durable_config = {.store = store, .crawl_no = 1};
    uint64_t rss_start = zc_bench_status_kib ("RssAnon");
    zc_crawl_t *crawl = zc_crawl_new ("bench", &submit, dir, durable ? &durable_config : NULL,
                                      zc_now_ms (), &error);
    if (!crawl) {
        fprintf (stderr, "zc-bench-frontier: %s\n", error);
        free (error);
        return 1;
    }
    uint64_t commits = 0;
    double last_commit = zc_bench_wall_s ();
    double commit_every = (double)config->commit_ms / 1000;

    //  Phase 1: enqueue + dedup
    uint64_t admits = 0, admitted = 0, rejected = 0;
    char url[128];
    double cpu_start = zc_bench_cpu_s ();
    double start = zc_bench_wall_s ();
    for (uint64_t i = 0; i < config->urls; i++) {
        s_url (url, sizeof url, i, config->hosts);
        admitted += zc_crawl_admit (crawl, url, 1) == ZC_CRAWL_ADMITTED;
        admits++;
        uint64_t mixed = s_mix (i);
        if (mixed % 100 < config->dups) {
            s_url (url, sizeof url, (mixed >> 8) % (i + 1), config->hosts);
            rejected += zc_crawl_admit (crawl, url, 1) == ZC_CRAWL_SEEN;
            admits++;
        }
        if (durable && (i & 1023) == 0)
            commits += s_commit_if_due (crawl, store, config, commit_every, &last_commit);
    }
    double enqueue_s = zc_bench_wall_s () - start;
    uint64_t rss_enqueued = zc_bench_status_kib ("RssAnon");

    //  Phase 2: dispatch to a synthetic fetcher that answers at once
    uint64_t dispatched = 0;
    start = zc_bench_wall_s ();
    zc_crawl_job_t job;
    while (zc_crawl_pop (crawl, zc_now_ms (), &job) == 0) {
        zc_result_t item = {.meta = {.crawl = "bench",
                                     .id = dispatched + 1,
                                     .url = job.url,
                                     .final_url = job.url,
                                     .depth = job.depth,
                                     .attempt = job.attempt,
                                     .status = 200,
                                     .content_type = "text/html",
                                     .fetched_at_ms = (uint64_t)zc_now_ms ()},
                            .title = "A page",
                            .body_bytes = 40000,
                            .canonical = "",
                            .charset = "utf-8"};
        zc_crawl_host_ok (crawl, job.host_key);
        zc_crawl_write_item (crawl, job.seq, &item);
        zc_crawl_job_ended (crawl, job.kind, job.host_key, zc_now_ms ());
        zc_crawl_job_clear (&job);
        dispatched++;
        if (durable && (dispatched & 1023) == 0)
            commits += s_commit_if_due (crawl, store, config, commit_every, &last_commit);
    }
    if (durable) {
        s_commit (crawl, store);
        commits++;
    }
    double dispatch_s = zc_bench_wall_s () - start;
    double cpu_s = zc_bench_cpu_s () - cpu_start;
    bool done = zc_crawl_check_done (crawl, zc_now_ms ());

    //  Cost of the URL generator alone, to read the figures above
    start = zc_bench_wall_s ();
    uint64_t checksum = 0;
    for (uint64_t i = 0; i < config->urls; i++) {
        s_url (url, sizeof url, i, config->hosts);
        checksum += (unsigned char)url[20];
    }
    double gen_ns = (zc_bench_wall_s () - start) / (double)config->urls * 1e9;

    uint64_t unique = admitted + config->hosts; //  + the seeds
    double rss_per_url = (double)(rss_enqueued - rss_start) * 1024.0 / (double)unique;
    uint64_t disk = store ? zc_store_disk_bytes (store) : 0;
    const char *mode = durable ? "durable" : "memory";
    if (!done || dispatched != unique)
        fprintf (stderr, "zc-bench-frontier: %s: dispatched %llu of %llu URLs (done %d)\n", mode,
                 (unsigned long long)dispatched, (unsigned long long)unique, done);
    if (config->json)
        printf ("{\"bench\": \"frontier\", \"mode\": \"%s\", \"urls\": %llu, \"hosts\": %llu, "
                "\"admits\": %llu, \"seen_rejected\": %llu, \"enqueue_s\": %.3f, \"dispatch_s\": "
                "%.3f, \"enqueue_per_s\": %.0f, \"dispatch_per_s\": %.0f, \"total_per_s\": %.0f, "
                "\"rss_bytes_per_url\": %.1f, \"rss_anon_kib_after_enqueue\": %llu, \"commits\": "
                "%llu, \"store_disk_bytes\": %llu, \"gen_ns_per_url\": %.1f, \"cpu_s\": %.3f, "
                "\"cpu_total_per_s\": %.0f}\n",
                mode, (unsigned long long)unique, (unsigned long long)config->hosts,
                (unsigned long long)admits, (unsigned long long)rejected, enqueue_s, dispatch_s,
                (double)admits / enqueue_s, (double)dispatched / dispatch_s,
                (double)unique / (enqueue_s + dispatch_s), rss_per_url,
                (unsigned long long)rss_enqueued, (unsigned long long)commits,
                (unsigned long long)disk, gen_ns, cpu_s, (double)unique / cpu_s);
    else
        printf ("frontier %s urls %llu admits %llu enqueue_per_s %.0f dispatch_per_s %.0f "
                "total_per_s %.0f rss_bytes_per_url %.1f commits %llu enqueue_s %.2f dispatch_s "
                "%.2f rss_anon_kib %llu store_disk_bytes %llu gen_ns_per_url %.1f cpu_s %.2f "
                "cpu_total_per_s %.0f\n",
                mode, (unsigned long long)unique, (unsigned long long)admits,
                (double)admits / enqueue_s, (double)dispatched / dispatch_s,
                (double)unique / (enqueue_s + dispatch_s), rss_per_url, (unsigned long long)commits,
                enqueue_s, dispatch_s, (unsigned long long)rss_enqueued, (unsigned long long)disk,
                gen_ns, cpu_s, (double)unique / cpu_s);
    fflush (stdout);
    (void)checksum;

    zc_crawl_destroy (&crawl);
    zc_store_destroy (&store);
    for (uint64_t h = 0; h < config->hosts; h++)
        free (seeds[h]);
    free (seeds);
    if (nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf (stderr, "zc-bench-frontier: cannot remove %s\n", dir);
    return dispatched == unique ? 0 : 1;
}

static void
s_usage (void)
{
    printf ("Usage: zc-bench-frontier [--urls N] [--hosts H] [--dups PERCENT]\n"
            "                         [--mode memory|durable|both] [--commit-ms MS]\n"
            "                         [--commit-ops N] [--json]\n"
            "Broker admission + dedup + dispatch rate (zc_crawl, no network).\n"
            "Defaults: --urls 1000000 --hosts 1000 --dups 50 --mode both --commit-ms 100.\n");
}

int
main (int argc, char *argv[])
{
    s_config_t config = {.urls = 1000000, .hosts = 1000, .dups = 50, .commit_ms = 100};
    const char *mode = "both";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (arg, "--urls") == 0 && value)
            config.urls = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--hosts") == 0 && value)
            config.hosts = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--dups") == 0 && value)
            config.dups = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--commit-ms") == 0 && value)
            config.commit_ms = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--commit-ops") == 0 && value)
            config.commit_ops = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--mode") == 0 && value)
            mode = argv[++i];
        else if (strcmp (arg, "--json") == 0)
            config.json = true;
        else {
            s_usage ();
            return strcmp (arg, "--help") == 0 ? 0 : 2;
        }
    }
    if (config.hosts == 0 || config.urls == 0 || config.dups > 100) {
        s_usage ();
        return 2;
    }
    bool run_memory = strcmp (mode, "memory") == 0 || strcmp (mode, "both") == 0;
    bool run_durable = strcmp (mode, "durable") == 0 || strcmp (mode, "both") == 0;
    if (!run_memory && !run_durable) {
        s_usage ();
        return 2;
    }
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        bool durable = pass == 1;
        if ((durable && !run_durable) || (!durable && !run_memory))
            continue;
        fflush (stdout);
        pid_t child = fork ();
        if (child < 0) {
            perror ("fork");
            return 1;
        }
        if (child == 0) {
            int child_rc = s_run (&config, durable);
            fflush (stdout);
            _exit (child_rc);
        }
        int status = 0;
        if (waitpid (child, &status, 0) != child || !WIFEXITED (status) ||
            WEXITSTATUS (status) != 0)
            rc = 1;
    }
    return rc;
}
