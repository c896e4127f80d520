/*  zc-testsite — serves the project's test web site (or writes it to a
    directory) for e2e tests, chaos tests and benchmarks.

    Signals are blocked before the listeners start, so that every thread
    inherits the mask, and the main thread collects SIGINT/SIGTERM with
    sigwait: no handler runs inside libmicrohttpd's threads.
*/
#include "zc_testsite.h"
#include "zc_util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Every option takes a value.
static const char *const s_options[] = {
    "--pages",         "--seed",        "--host",         "--port",
    "--external-port", "--slow-ms",     "--big-bytes",    "--log",
    "--truth",         "--ready-file",  "--page-bytes",   "--links",
    "--hosts",         "--host-suffix", "--resolve-file", "--write-dir"};

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zc-testsite [options]\n"
                  "Serves the deterministic zcrawl test site until SIGINT/SIGTERM.\n\n"
                  "  --pages N           generated pages (default 100)\n"
                  "  --seed S            generator seed (default 0)\n"
                  "  --host ADDR         listen address of both listeners (default 127.0.0.1)\n"
                  "  --port P            main listener port (default 0 = any)\n"
                  "  --external-port P   external (out-of-scope) listener port (default 0 = any)\n"
                  "  --slow-ms MS        delay of /slow.html (default 5000)\n"
                  "  --big-bytes N       size of /big.html and /big-chunked.html (default 2 MiB)\n"
                  "  --page-bytes N      pad each generated page with filler paragraphs to about\n"
                  "                      N bytes (default 0: no filler; links are unchanged)\n"
                  "  --links N           about N links per generated page on average, 1..160\n"
                  "                      (default: the generator's own mix, 20 to 40)\n"
                  "  --hosts N           spread the pages over N hosts h<K>.SUFFIX (page i on\n"
                  "                      h<i %% N>, home on h0; default: one host)\n"
                  "  --host-suffix S     domain of the --hosts names (default bench.test)\n"
                  "  --resolve-file FILE with --hosts: write one curl-style resolve entry per\n"
                  "                      host, h<K>.SUFFIX:PORT:127.A.B.C (distinct addresses)\n"
                  "  --log FILE          append one line per request:\n"
                  "                      LISTENER START_MS HOST METHOD URI STATUS\n"
                  "  --truth FILE        write the ground truth JSON\n"
                  "  --ready-file FILE   once serving, write {\"url\", \"external\"} atomically\n"
                  "  --write-dir DIR     write the site as files under DIR and exit (absolute\n"
                  "                      links use --port; redirects need server config)\n"
                  "  --help              this text\n");
}

//  Parses an unsigned decimal in [MIN, MAX]. Returns 0 or -1.
static int
s_parse_u64 (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    if (!text || !*text || *text == '-')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *value = v;
    return 0;
}

//  Writes the hosts' resolve entries "h<K>.SUFFIX:PORT:127.A.B.C" to PATH
//  (through PATH.tmp and a rename). Returns 0 or -1 (logged).
static int
s_write_resolve (const zc_testsite_config_t *config, int port, const char *path)
{
    char tmp[4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *file = fopen (tmp, "w");
    if (!file) {
        fprintf (stderr, "zc-testsite: cannot write %s: %s\n", tmp, strerror (errno));
        return -1;
    }
    int rc = 0;
    for (uint32_t k = 0; k < config->hosts && rc == 0; k++) {
        char name[128], address[32];
        if (zc_testsite_host_name (config, k, name, sizeof name) != 0 ||
            zc_testsite_host_address (k, address, sizeof address) != 0 ||
            fprintf (file, "%s:%d:%s\n", name, port, address) < 0)
            rc = -1;
    }
    if (fclose (file) != 0)
        rc = -1;
    if (rc == 0 && rename (tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf (stderr, "zc-testsite: cannot write %s\n", path);
        remove (tmp);
    }
    return rc;
}

int
main (int argc, char **argv)
{
    zc_testsite_config_t config = {.host = "127.0.0.1"};
    const char *truth_path = NULL, *ready_path = NULL, *write_dir = NULL, *resolve_path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        bool is_known = false;
        for (size_t k = 0; k < sizeof s_options / sizeof s_options[0]; k++)
            is_known = is_known || strcmp (arg, s_options[k]) == 0;
        if (!is_known) {
            fprintf (stderr, "zc-testsite: unknown option %s (see --help)\n", arg);
            return 2;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        int rc = 0;
        if (!value) {
            fprintf (stderr, "zc-testsite: %s needs a value (see --help)\n", arg);
            return 2;
        }
        if (strcmp (arg, "--pages") == 0) {
            rc = s_parse_u64 (value, 1, 10000000, &n);
            config.pages = (uint32_t)n;
        } else if (strcmp (arg, "--seed") == 0) {
            rc = s_parse_u64 (value, 0, UINT64_MAX, &n);
            config.seed = n;
        } else if (strcmp (arg, "--host") == 0)
            config.host = value;
        else if (strcmp (arg, "--port") == 0) {
            rc = s_parse_u64 (value, 0, 65535, &n);
            config.port = (int)n;
        } else if (strcmp (arg, "--external-port") == 0) {
            rc = s_parse_u64 (value, 0, 65535, &n);
            config.external_port = (int)n;
        } else if (strcmp (arg, "--slow-ms") == 0) {
            rc = s_parse_u64 (value, 1, 3600 * 1000, &n);
            config.slow_ms = (int)n;
        } else if (strcmp (arg, "--big-bytes") == 0) {
            rc = s_parse_u64 (value, 1, (uint64_t)1 << 34, &n);
            config.big_bytes = (size_t)n;
        } else if (strcmp (arg, "--page-bytes") == 0) {
            rc = s_parse_u64 (value, 0, (uint64_t)1 << 30, &n);
            config.page_bytes = (size_t)n;
        } else if (strcmp (arg, "--links") == 0) {
            rc = s_parse_u64 (value, 1, 160, &n);
            config.links = (uint32_t)n;
        } else if (strcmp (arg, "--hosts") == 0) {
            rc = s_parse_u64 (value, 1, 1000000, &n);
            config.hosts = (uint32_t)n;
        } else if (strcmp (arg, "--host-suffix") == 0)
            config.host_suffix = value;
        else if (strcmp (arg, "--resolve-file") == 0)
            resolve_path = value;
        else if (strcmp (arg, "--log") == 0)
            config.log_path = value;
        else if (strcmp (arg, "--truth") == 0)
            truth_path = value;
        else if (strcmp (arg, "--ready-file") == 0)
            ready_path = value;
        else
            write_dir = value; //  "--write-dir", the last known option
        if (rc != 0) {
            fprintf (stderr, "zc-testsite: bad value for %s: %s\n", arg, value);
            return 2;
        }
        i++;
    }

    char name[128];
    if (config.hosts > 0 && zc_testsite_host_name (&config, 0, name, sizeof name) != 0) {
        fprintf (stderr, "zc-testsite: bad --host-suffix (letters, digits, '-', '.')\n");
        return 2;
    }
    if (resolve_path && config.hosts == 0) {
        fprintf (stderr, "zc-testsite: --resolve-file needs --hosts\n");
        return 2;
    }
    if (resolve_path && write_dir && config.port == 0) {
        fprintf (stderr, "zc-testsite: --resolve-file with --write-dir needs --port\n");
        return 2;
    }

    if (write_dir) {
        if (resolve_path && s_write_resolve (&config, config.port, resolve_path) != 0)
            return 1;
        if (zc_testsite_write_dir (&config, write_dir) != 0) {
            fprintf (stderr, "zc-testsite: cannot write the site to %s\n", write_dir);
            return 1;
        }
        if (truth_path) {
            json_t *truth = zc_testsite_truth_static (&config);
            int rc = zc_ready_file_write (truth_path, truth);
            json_decref (truth);
            if (rc != 0) {
                fprintf (stderr, "zc-testsite: cannot write %s\n", truth_path);
                return 1;
            }
        }
        return 0;
    }

    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    if (pthread_sigmask (SIG_BLOCK, &signals, NULL) != 0) {
        fprintf (stderr, "zc-testsite: cannot block signals\n");
        return 1;
    }
    zc_testsite_t *site = zc_testsite_new (&config);
    if (!site)
        return 1;
    int status = 0;
    if (resolve_path) {
        //  the bound port, from "http://h0.SUFFIX:PORT" (no port: 80)
        const char *url = zc_testsite_url (site);
        const char *colon = strrchr (url, ':');
        uint64_t port = 80;
        if (colon && colon > url + 5 && s_parse_u64 (colon + 1, 1, 65535, &port) != 0)
            port = 0;
        if (port == 0 || s_write_resolve (&config, (int)port, resolve_path) != 0)
            status = 1;
    }
    if (status == 0 && truth_path) {
        json_t *truth = zc_testsite_truth (site);
        if (zc_ready_file_write (truth_path, truth) != 0) {
            fprintf (stderr, "zc-testsite: cannot write %s\n", truth_path);
            status = 1;
        }
        json_decref (truth);
    }
    if (status == 0 && ready_path) {
        json_t *ready = json_pack ("{s:s, s:s}", "url", zc_testsite_url (site), "external",
                                   zc_testsite_external_url (site));
        if (!ready || zc_ready_file_write (ready_path, ready) != 0) {
            fprintf (stderr, "zc-testsite: cannot write %s\n", ready_path);
            status = 1;
        }
        json_decref (ready);
    }
    if (status == 0) {
        printf ("zc-testsite: serving %s (external %s)\n", zc_testsite_url (site),
                zc_testsite_external_url (site));
        fflush (stdout);
        int sig = 0;
        if (sigwait (&signals, &sig) != 0)
            status = 1;
    }
    zc_testsite_destroy (&site);
    return status;
}
