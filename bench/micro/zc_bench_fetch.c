/*  zc-bench-fetch — fetcher transfers/s against a local HTTP server, with a
    trivial parser (the body is taken from the engine, scanned for '<'
    and freed): fetcher/zc_http.h, the fetcher actor's curl multi engine,
    on one zloop, keeping --concurrency transfers in flight, each
    completion starting the next (pages /p/0.html .. /p/N-1.html in turn).

    Server: --url BASE (e.g. nginx started by bench/compare.py serving a
    directory written by `zc-testsite --write-dir`); otherwise this program
    writes the generated site (--pages N, padded to about --pad BYTES per
    page like zc-bench-parse) to a temporary directory and starts nginx
    (--nginx PATH, default /usr/sbin/nginx; one worker, access log off) on
    a free 127.0.0.1 port, and stops it (SIGQUIT to the pid it started)
    at the end. Only 127.0.0.1 is ever contacted.

    Output:
        fetch transfers_per_s N cpu_us_per_transfer N MB_per_s N ok N failed N
    cpu_us_per_transfer is this process's CPU (user+sys) per transfer: the
    server's CPU is not included. --json prints one JSON object instead.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE //  nftw
#endif
#include "zc_bench.h"
#include "zc_http.h"
#include "zc_testsite.h"
#include "zc_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    zc_http_t *http;
    const char *base;
    uint64_t pages;
    uint64_t next;
    uint64_t ok;
    uint64_t failed;
    uint64_t bytes;
    uint64_t markup; //  '<' seen: the trivial parser's output
    bool stopping;
} s_self_t;

static int
s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove (path);
}

static int
s_start_one (s_self_t *self)
{
    char url[512];
    snprintf (url, sizeof url, "%s/p/%llu.html", self->base,
              (unsigned long long)(self->next++ % self->pages));
    zc_http_request_t req = {.url = url, .allow_private = true};
    return zc_http_start (self->http, &req, NULL);
}

static void
s_on_done (void *arg, zc_http_result_t *result, void *user)
{
    (void)user;
    s_self_t *self = (s_self_t *)arg;
    if (result->status == ZC_HTTP_OK && result->http_status == 200) {
        size_t size = 0;
        char *body = zc_http_result_take_body (result, &size);
        for (const char *p = body;
             p && (p = (const char *)memchr (p, '<', size - (size_t)(p - body))); p++)
            self->markup++;
        free (body);
        self->ok++;
        self->bytes += size;
    } else
        self->failed++;
    if (!self->stopping && s_start_one (self) != 0)
        self->failed++;
}

static int
s_on_deadline (zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    ((s_self_t *)arg)->stopping = true;
    return -1;
}

//  A free TCP port on 127.0.0.1 (bound then released: racy, fine here).
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname (fd, (struct sockaddr *)&addr, &length) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

static bool
s_port_open (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool open = connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close (fd);
    return open;
}

//  Pads DIR/p/I.html to about PAD bytes with filler before </body>.
static int
s_pad_pages (const char *dir, uint64_t pages, size_t pad)
{
    const char *filler =
        "<p class=\"desc\">Handmade <b>walnut</b> desk organiser with three drawers, "
        "<em>brass</em> handles and a <span class=\"note\">lifetime warranty</span>.</p>\n";
    size_t filler_size = strlen (filler);
    for (uint64_t i = 0; i < pages; i++) {
        char path[4096];
        if (snprintf (path, sizeof path, "%s/p/%llu.html", dir, (unsigned long long)i) >=
            (int)sizeof path)
            return -1;
        FILE *file = fopen (path, "rb");
        if (!file)
            return -1;
        char *text = (char *)zmalloc (pad + 65536);
        size_t size = fread (text, 1, 65535, file);
        fclose (file);
        text[size] = 0;
        char *tail = strstr (text, "</body>");
        if (!tail || size >= pad) {
            free (text);
            continue;
        }
        size_t head = (size_t)(tail - text);
        file = fopen (path, "wb");
        if (!file) {
            free (text);
            return -1;
        }
        bool ok = fwrite (text, 1, head, file) == head;
        for (size_t at = size; at + filler_size <= pad && ok; at += filler_size)
            ok = fwrite (filler, 1, filler_size, file) == filler_size;
        ok = ok && fwrite (tail, 1, size - head, file) == size - head;
        ok = fclose (file) == 0 && ok;
        free (text);
        if (!ok)
            return -1;
    }
    return 0;
}

//  Writes the site and an nginx configuration under DIR and starts nginx
//  on PORT. Returns its pid, or -1.
static pid_t
s_nginx_start (const char *nginx, const char *dir, int port, uint64_t pages, size_t pad)
{
    char site[4096], conf[4096];
    snprintf (site, sizeof site, "%s/site", dir);
    snprintf (conf, sizeof conf, "%s/nginx.conf", dir);
    zc_testsite_config_t config = {.pages = (uint32_t)pages,
                                   .host = "127.0.0.1",
                                   .port = port,
                                   .external_port = port + 1,
                                   .big_bytes = 1024};
    if (zc_testsite_write_dir (&config, site) != 0 || s_pad_pages (site, pages, pad) != 0)
        return -1;
    FILE *file = fopen (conf, "w");
    if (!file)
        return -1;
    fprintf (file,
             "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
             "events { worker_connections 4096; }\n"
             "http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;\n"
             "  default_type text/html;\n"
             "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
             "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
             "  server { listen 127.0.0.1:%d; root %s; } }\n",
             dir, dir, dir, dir, dir, dir, dir, port, site);
    if (fclose (file) != 0)
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        execl (nginx, nginx, "-p", dir, "-c", conf, (char *)NULL);
        _exit (127);
    }
    return pid;
}

static void
s_usage (void)
{
    printf ("Usage: zc-bench-fetch [--url BASE] [--pages N] [--pad BYTES] [--concurrency C]\n"
            "                      [--seconds S] [--nginx PATH] [--json]\n"
            "Fetcher (zc_http, one thread) transfers/s against nginx on 127.0.0.1.\n"
            "Defaults: --pages 200 --pad 40000 --concurrency 64 --seconds 5.\n");
}

int
main (int argc, char *argv[])
{
    uint64_t pages = 200, pad = 40000, concurrency = 64, seconds = 5;
    const char *base = NULL, *nginx = "/usr/sbin/nginx";
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp (arg, "--url") == 0 && has_value)
            base = argv[++i];
        else if (strcmp (arg, "--pages") == 0 && has_value)
            pages = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--pad") == 0 && has_value)
            pad = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--concurrency") == 0 && has_value)
            concurrency = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--seconds") == 0 && has_value)
            seconds = zc_bench_parse_u64 (arg, argv[++i]);
        else if (strcmp (arg, "--nginx") == 0 && has_value)
            nginx = argv[++i];
        else if (strcmp (arg, "--json") == 0)
            json = true;
        else {
            s_usage ();
            return strcmp (arg, "--help") == 0 ? 0 : 2;
        }
    }
    if (pages == 0 || pages > 1000000 || concurrency == 0 || concurrency > 10000 || seconds == 0 ||
        pad > 16 * 1024 * 1024) {
        s_usage ();
        return 2;
    }
    char dir[] = "/tmp/zc-bench-fetch-XXXXXX";
    char own_base[64];
    pid_t server = -1;
    if (!base) {
        int port = s_free_port ();
        if (!mkdtemp (dir) || port < 0) {
            fprintf (stderr, "zc-bench-fetch: cannot prepare a server directory or port\n");
            return 1;
        }
        server = s_nginx_start (nginx, dir, port, pages, (size_t)pad);
        if (server < 0) {
            fprintf (stderr, "zc-bench-fetch: cannot start %s\n", nginx);
            return 1;
        }
        int64_t deadline = zc_now_ms () + 5000;
        while (!s_port_open (port) && zc_now_ms () < deadline)
            zclock_sleep (20); //  waiting for another process: poll with a deadline
        if (!s_port_open (port)) {
            fprintf (stderr, "zc-bench-fetch: nginx did not start (see %s/error.log)\n", dir);
            kill (server, SIGQUIT);
            waitpid (server, NULL, 0);
            return 1;
        }
        snprintf (own_base, sizeof own_base, "http://127.0.0.1:%d", port);
        base = own_base;
    }

    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf (stderr, "zc-bench-fetch: curl_global_init failed\n");
        return 1;
    }
    zloop_t *loop = zloop_new ();
    s_self_t self = {.base = base, .pages = pages};
    self.http = zc_http_new (loop, s_on_done, &self);
    int rc = self.http ? 0 : 1;
    double elapsed = 0, cpu = 0;
    if (self.http) {
        //  Warm-up: one second (connections opened, caches warm)
        for (uint64_t i = 0; i < concurrency; i++)
            if (s_start_one (&self) != 0)
                self.failed++;
        if (zloop_timer (loop, 1000, 1, s_on_deadline, &self) < 0)
            rc = 1;
        zloop_start (loop);
        self.stopping = false;
        self.ok = self.failed = self.bytes = 0;
        //  Measured window
        double start = zc_bench_wall_s (), cpu_start = zc_bench_cpu_s ();
        if (zloop_timer (loop, (size_t)(seconds * 1000), 1, s_on_deadline, &self) < 0)
            rc = 1;
        zloop_start (loop);
        elapsed = zc_bench_wall_s () - start;
        cpu = zc_bench_cpu_s () - cpu_start;
        zc_http_destroy (&self.http);
    }
    zloop_destroy (&loop);
    curl_global_cleanup ();

    if (server > 0) {
        if (kill (server, SIGQUIT) == 0)
            waitpid (server, NULL, 0);
        if (nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            fprintf (stderr, "zc-bench-fetch: cannot remove %s\n", dir);
    }
    if (rc != 0 || self.ok == 0) {
        fprintf (stderr, "zc-bench-fetch: no transfer succeeded against %s (%llu failed)\n", base,
                 (unsigned long long)self.failed);
        return 1;
    }
    double per_s = (double)self.ok / elapsed;
    double cpu_us = cpu / (double)self.ok * 1e6;
    double mb_s = (double)self.bytes / elapsed / 1e6;
    if (json)
        printf ("{\"bench\": \"fetch\", \"server\": \"%s\", \"concurrency\": %llu, \"seconds\": "
                "%.2f, \"transfers_per_s\": %.1f, \"cpu_us_per_transfer\": %.1f, \"MB_per_s\": "
                "%.1f, \"ok\": %llu, \"failed\": %llu, \"mean_bytes\": %.0f}\n",
                server > 0 ? "nginx (own)" : base, (unsigned long long)concurrency, elapsed, per_s,
                cpu_us, mb_s, (unsigned long long)self.ok, (unsigned long long)self.failed,
                (double)self.bytes / (double)self.ok);
    else
        printf ("fetch transfers_per_s %.1f cpu_us_per_transfer %.1f MB_per_s %.1f ok %llu failed "
                "%llu mean_bytes %.0f concurrency %llu\n",
                per_s, cpu_us, mb_s, (unsigned long long)self.ok, (unsigned long long)self.failed,
                (double)self.bytes / (double)self.ok, (unsigned long long)concurrency);
    return 0;
}
