#!/usr/bin/env python3
"""Side-by-side benchmark: zcrawl vs Scrapy, Crawlee and wget on one nginx-served site.

One run, one machine, one site (issue 6). Generates the project's test site
with zc-testsite --write-dir (--pages N, pages padded to --page-bytes), serves
it with nginx on 127.0.0.1 (a child process, stopped at the end), then runs
each tool REPEAT times, interleaved (A B C A B C ...) so that machine noise
hits them alike:

  zcrawl-local    zcrawl local --impolite, extracting title, h1 and .price
  zcrawl-cluster  zcrawl broker + 1 fetcher node + 1 parser node as separate
                  processes, the crawl submitted with zcrawlctl (same options)
  scrapy          bench/competitors/scrapy_crawl.py (Debian's Scrapy 2.8)
  crawlee         bench/competitors/crawlee/crawl.mjs (CheerioCrawler, pinned)
  wget            wget -r -np -l inf --delete-after (sequential, no extraction)
  httrack         httrack -c64 with its limits lifted (-%! -%c100000 -A2000000000,
                  robots.txt off), mirroring into the run's directory (no
                  extraction); stopped at --httrack-max-seconds (its -E)

Per run: wall seconds (process start to exit), pages/s (truth pages found /
wall), CPU seconds per 1,000 pages (user+sys of the whole process tree: the
RUSAGE_CHILDREN delta around the run), peak RSS (ru_maxrss of the tool's main
process, through GNU time, see timed(); for zcrawl-cluster the largest of its
three processes, their sum also reported), pages found = distinct canonical URLs of the output
that are pages of the generator's ground truth, and how many items carry all
three fields.

The machine's limit, measured in the same run: nginx alone with wrk (-t2 -c64
-d5s on one page and on a list of pages), nginx's CPU per request (its
processes' CPU during the list run / requests), and libxml2's raw parse rate
on the same pages (zc-bench-parse from bench/micro when built, else libxml2
through ctypes: htmlSAXParseDoc with no callbacks, and htmlReadMemory for a
DOM). limit pages/s = cores / (SAX parse CPU per page + nginx CPU per request).
Each tool's pages/s is reported as a ratio of Scrapy's, Crawlee's, wget's and
as a percentage of that limit. Compare only numbers from one invocation.

    bench/install.sh                       # nginx-light, wrk, scrapy, crawlee...
    bench/compare.py [--bin build/bin] [--pages 20000] [--page-bytes 40000]
        [--repeat 3] [--tools zcrawl-local,zcrawl-cluster,scrapy,crawlee,wget,httrack]
        [--json out.json] [--write-results]

The zcrawl binaries should be a Release build:
    cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && \\
        cmake --build build-release -j && bench/compare.py --bin build-release/bin
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOLS = ("zcrawl-local", "zcrawl-cluster", "scrapy", "crawlee", "wget", "httrack")
# zcrawl-local-base: `zcrawl local` from --base-bin (a before/after pair in one run)
EXTRA_TOOLS = ("zcrawl-local-base",)
COMPETITORS = os.path.join(HERE, "competitors")
SCRAPY = os.path.join(COMPETITORS, "scrapy_crawl.py")
CRAWLEE = os.path.join(COMPETITORS, "crawlee", "crawl.mjs")
FIELDS = ("title", "h1", "price")
EXTRACT = ["--extract", "title=title", "--extract", "h1=h1", "--extract", "price=.price"]
TIMEOUT_S = 10          # per-transfer timeout given to every crawler
MAX_BODY = 1024 * 1024  # the 2 MiB /big.html pages are dropped by every crawler
METRICS = ("wall_s", "pages_per_s", "cpu_s", "cpu_ms_per_1000_pages", "peak_rss_mb",
           "pages_found", "items", "items_with_all_fields")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_file(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited {proc.returncode} before it was ready")
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return json.load(f)
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {path}")


def wait_for_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def canonical(url):
    """Lowercase scheme and host, no default port, no fragment, "/" path if empty."""
    try:
        p = urlsplit(url.strip())
        host = (p.hostname or "").lower()
        port = p.port
    except ValueError:
        return None
    scheme = p.scheme.lower()
    netloc = host if port is None or port == {"http": 80, "https": 443}.get(scheme) \
        else f"{host}:{port}"
    return urlunsplit((scheme, netloc, p.path or "/", p.query, ""))


def field(item, name):
    for holder in (item, item.get("fields"), item.get("data"), item.get("extracted")):
        if isinstance(holder, dict) and holder.get(name) not in (None, ""):
            return holder[name]
    return None


def score(urls, items, truth):
    """pages found: distinct canonical URLs that are truth pages (URL first
    requested or final URL of a redirected one)."""
    found = {canonical(u) for u in urls} & truth
    out = {"pages_found": len(found), "urls_out": len(set(urls))}
    if items is not None:
        out["items"] = len(items)
        out["items_with_all_fields"] = sum(1 for it in items
                                           if all(field(it, f) is not None for f in FIELDS))
    return out


def read_items(path):
    items = []
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        items.append(json.loads(line))
                    except ValueError:
                        pass
    return items


# --- nginx -------------------------------------------------------------------

NGINX_CONF = """\
worker_processes {workers};
# open_file_cache keeps pages open: past the workers' fd limit pages fail
# with EMFILE (HTTP 500, refused connections). The limit cannot be raised
# past the hard limit without CAP_SYS_RESOURCE (containers), so the cache
# stays well under a 20,000 limit and worker_rlimit_nofile only asks.
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=8000 inactive=60s;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {root};
        index index.html;
        # the generator's redirect chain (zc-testsite serves it itself)
        location = /redirect/1 {{ return 302 /redirect/2; }}
        location = /redirect/2 {{ return 301 /redirect/3; }}
        location = /redirect/3 {{ return 302 /redirect/final.html; }}
    }}
}}
"""


def make_site(bin_dir, workdir, port, pages, page_bytes, links, extra=()):
    """Writes the generated site under WORKDIR/site for 127.0.0.1:PORT.
    Returns (site dir, truth JSON, set of canonical truth URLs)."""
    site = os.path.join(workdir, "site")
    truth_path = os.path.join(workdir, "truth.json")
    gen = [os.path.join(bin_dir, "zc-testsite"), "--write-dir", site, "--pages", str(pages),
           "--port", str(port), "--truth", truth_path]
    if page_bytes:
        gen += ["--page-bytes", str(page_bytes)]
    if links:
        gen += ["--links", str(links)]
    gen += list(extra)
    log(f"generating {pages} pages into {site}")
    if subprocess.run(gen).returncode != 0:
        raise SystemExit("zc-testsite --write-dir failed (does it know --page-bytes and "
                         "--links? rebuild, or pass 0)")
    with open(truth_path) as f:
        truth_json = json.load(f)
    truth = set()
    for p in truth_json["pages"]:
        for k in ("url", "final_url"):
            if p.get(k):
                truth.add(canonical(p[k]))
    return site, truth_json, truth


class Nginx:
    def __init__(self, root, port, prefix, workers, conf=NGINX_CONF):
        self.prefix = prefix
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf.format(workers=workers, prefix=prefix, port=port, root=root))
        self.cmd = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-e",
                    os.path.join(prefix, "error.log"), "-c", self.conf,
                    "-g", "daemon off;"]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL)
        wait_for_port(port)

    def pids(self):
        """The master and its workers."""
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def cpu_s(self):
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- running one tool once -----------------------------------------------------

GNU_TIME = "/usr/bin/time"


def timed(cmd, rss_path):
    """CMD run under GNU time, which writes the tool's peak RSS (KiB) to
    RSS_PATH. Needed because a child's ru_maxrss from wait4 starts at the RSS
    of the process that forked it (Linux carries the forking process's high
    water mark across fork/vfork and exec): this harness holds the truth and
    the items, so wait4 here would report at least its own size. time is a
    small process, so the tool's figure is its own."""
    if os.access(GNU_TIME, os.X_OK):
        return [GNU_TIME, "-f", "%M", "-o", rss_path] + cmd
    return cmd


def timed_rss(rss_path, fallback_kib):
    """Peak RSS in KiB written by GNU time (last line), else FALLBACK_KIB."""
    try:
        with open(rss_path) as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return fallback_kib


def run_process(cmd, out_path, cwd=None):
    """Runs CMD to completion; returns (exit code, wall s, cpu s of its tree, maxrss KiB)."""
    rss_path = out_path + ".rss"
    cpu0 = children_cpu()
    start = time.monotonic()
    with open(out_path, "ab") as out:
        proc = subprocess.Popen(timed(cmd, rss_path), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    return proc.returncode, wall, children_cpu() - cpu0, timed_rss(rss_path, usage.ru_maxrss)


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


def run_zcrawl_local(ctx, run_dir, bin_dir=None):
    items = os.path.join(run_dir, "items.jsonl")
    cmd = [os.path.join(bin_dir or ctx.bin, "zcrawl"), "local", ctx.url + "/", "-o", items,
           "--errors", os.path.join(run_dir, "errors.jsonl"), "--impolite", "--allow-private",
           "--quiet", "--timeout", str(TIMEOUT_S), "--max-body", str(MAX_BODY),
           "--host-concurrency", str(ctx.concurrency)] + EXTRACT
    rc, wall, cpu, rss = run_process(cmd, os.path.join(run_dir, "log.txt"))
    got = read_items(items)
    return rc, {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss / 1024}, \
        [it.get("url", "") for it in got], got, cmd


def run_zcrawl_cluster(ctx, run_dir):
    zcrawl = os.path.join(ctx.bin, "zcrawl")
    items = os.path.join(run_dir, "items.jsonl")
    cpu0 = children_cpu()
    start = time.monotonic()
    procs = []

    def spawn(label, cmd):
        with open(os.path.join(run_dir, f"{label}.log"), "ab") as out:
            p = subprocess.Popen(timed(cmd, os.path.join(run_dir, f"{label}.rss")),
                                 stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append((label, p))
        return p

    rc = 1
    rss = {}
    cmds = []
    try:
        cmd = [zcrawl, "broker", "--jobs", "tcp://127.0.0.1:*", "--results", "tcp://127.0.0.1:*",
               "--control", "tcp://127.0.0.1:*", "--output-dir", run_dir,
               "--ready-file", os.path.join(run_dir, "broker.json")]
        cmds.append(cmd)
        ep = wait_for_file(os.path.join(run_dir, "broker.json"), spawn("broker", cmd))
        cmd = [zcrawl, "parser", "--broker", ep["jobs"], "--bind", "tcp://127.0.0.1:*",
               "--ready-file", os.path.join(run_dir, "parser.json")]
        cmds.append(cmd)
        wait_for_file(os.path.join(run_dir, "parser.json"), spawn("parser", cmd))
        cmd = [zcrawl, "fetcher", "--broker", ep["jobs"],
               "--ready-file", os.path.join(run_dir, "fetcher.json")]
        cmds.append(cmd)
        wait_for_file(os.path.join(run_dir, "fetcher.json"), spawn("fetcher", cmd))
        ctl = os.path.join(ctx.bin, "zcrawlctl")
        cmd = [ctl, "--control", ep["control"], "submit", ctx.url + "/", "-o", items,
               "--errors", os.path.join(run_dir, "errors.jsonl"), "--impolite",
               "--allow-private", "--timeout", str(TIMEOUT_S), "--max-body", str(MAX_BODY),
               "--host-concurrency", str(ctx.concurrency)] + EXTRACT
        cmds.append(cmd)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"zcrawlctl submit failed: {out.stdout} {out.stderr}")
        crawl_id = out.stdout.strip().split()[-1]
        cmd = [ctl, "--control", ep["control"], "wait", crawl_id]
        cmds.append(cmd)
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    finally:
        # stop the nodes (fetcher and parser first: the broker flushes its output on exit)
        for label in ("fetcher", "parser", "broker"):
            for lab, p in procs:
                if lab != label:
                    continue
                # the node is time's child (GNU time does not pass signals on)
                for pid in child_pids(p.pid) or [p.pid]:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                try:
                    _, status, usage = os.wait4(p.pid, 0)
                    p.returncode = os.waitstatus_to_exitcode(status)
                    rss[lab] = timed_rss(os.path.join(run_dir, f"{lab}.rss"),
                                         usage.ru_maxrss) / 1024
                except ChildProcessError:
                    pass
    wall = time.monotonic() - start
    got = read_items(items)
    metrics = {"wall_s": wall, "cpu_s": children_cpu() - cpu0,
               "peak_rss_mb": max(rss.values()) if rss else 0,
               "peak_rss_sum_mb": sum(rss.values()),
               "peak_rss_by_process_mb": {k: round(v, 1) for k, v in rss.items()}}
    return rc, metrics, [it.get("url", "") for it in got], got, cmds


def run_competitor(ctx, run_dir, cmd_head, cwd=None):
    items = os.path.join(run_dir, "items.jsonl")
    cmd = cmd_head + ["--start-url", ctx.url + "/", "--out", items, "--concurrency",
                      str(ctx.concurrency), "--timeout", str(TIMEOUT_S),
                      "--max-body", str(MAX_BODY)]
    rc, wall, cpu, rss = run_process(cmd, os.path.join(run_dir, "log.txt"), cwd=cwd)
    got = read_items(items)
    return rc, {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss / 1024}, \
        [it.get("url", "") for it in got], got, cmd


def run_scrapy(ctx, run_dir):
    return run_competitor(ctx, run_dir, ["/usr/bin/python3", SCRAPY], cwd=run_dir)


def run_crawlee(ctx, run_dir):
    return run_competitor(ctx, run_dir, [shutil.which("node") or "node", CRAWLEE], cwd=run_dir)


def run_wget(ctx, run_dir):
    wlog = os.path.join(run_dir, "wget.log")
    cmd = ["wget", "-r", "-np", "-l", "inf", "--delete-after", "-nv", "-e", "robots=off",
           "-P", os.path.join(run_dir, "files"), "-o", wlog, "--timeout", str(TIMEOUT_S),
           "--tries", "1", ctx.url + "/"]
    rc, wall, cpu, rss = run_process(cmd, os.path.join(run_dir, "log.txt"))
    urls = []
    with open(wlog, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r"URL:\s*(\S+)\s+\[", line)
            if m:
                urls.append(m.group(1))
    # wget exits 8 when some request failed (the generator's 404 links): not an error here
    return (0 if rc in (0, 8) else rc), {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss / 1024}, \
        urls, None, cmd


def run_httrack(ctx, run_dir):
    """httrack with 64 sockets (-c) and its limits lifted: -%! (else it caps
    sockets at 8), and then -%c and -A set high, because its defaults stay in
    force with -%! (10 new connections per second and a low byte rate: on a
    2,000-page site it got ~1 page/s with -c64 -%! alone, all 2,106 files in
    7 s with them). robots.txt ignored, one retry, HTML and other files up to
    MAX_BODY, no index pages. It mirrors into
    run_dir/mirror (the files are the pages; nothing is extracted). The URLs
    it got are read from its cache's transfer list (hts-cache/new.txt: one
    line per file, with status code and URL): the URLs answered 200 count."""
    mirror = os.path.join(run_dir, "mirror")
    cmd = ["httrack", ctx.url + "/", "-O", mirror, f"-c{ctx.concurrency}", "-%!",
           "-%c100000", "-A2000000000", "-s0", f"-T{TIMEOUT_S}", "-R1", f"-m{MAX_BODY},{MAX_BODY}", "-I0", "-%v0", "-q",
           f"-E{ctx.httrack_max_seconds}"]
    rc, wall, cpu, rss = run_process(cmd, os.path.join(run_dir, "log.txt"))
    urls = []
    try:
        with open(os.path.join(mirror, "hts-cache", "new.txt"), encoding="utf-8",
                  errors="replace") as f:
            next(f, None)  # header
            for line in f:
                cols = line.rstrip("\n").split("\t")
                # date, size, flags, status code, status, MIME, etag, URL, local file, (from)
                if len(cols) > 7 and cols[3] == "200":
                    urls.append(cols[7])
    except OSError:
        pass
    # stopped by -E rather than finished (its pages found are then a lower bound)
    capped = False
    try:
        with open(os.path.join(mirror, "hts-log.txt"), errors="replace") as f:
            capped = "seconds passed.. giving up" in f.read()
    except OSError:
        pass
    metrics = {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss / 1024, "capped": capped}
    shutil.rmtree(mirror, ignore_errors=True)
    return rc, metrics, urls, None, cmd


RUNNERS = {"zcrawl-local": run_zcrawl_local, "zcrawl-cluster": run_zcrawl_cluster,
           "scrapy": run_scrapy, "crawlee": run_crawlee, "wget": run_wget,
           "httrack": run_httrack,
           "zcrawl-local-base": lambda ctx, d: run_zcrawl_local(ctx, d, ctx.base_bin)}


def available(tool, ctx):
    """None if TOOL can run, else why not."""
    if tool.startswith("zcrawl"):
        bin_dir = ctx.base_bin if tool == "zcrawl-local-base" else ctx.bin
        if not bin_dir:
            return "no --base-bin given"
        need = ["zcrawl"] + (["zcrawlctl"] if tool == "zcrawl-cluster" else [])
        for b in need:
            if not os.access(os.path.join(bin_dir, b), os.X_OK):
                return f"{os.path.join(bin_dir, b)} not built"
        return None
    if tool == "scrapy":
        if not os.path.exists(SCRAPY):
            return f"{SCRAPY} not there yet"
        if subprocess.run(["/usr/bin/python3", "-c", "import scrapy"],
                          capture_output=True).returncode != 0:
            return "python3-scrapy not installed (bench/install.sh)"
        return None
    if tool == "crawlee":
        if not os.path.exists(CRAWLEE):
            return f"{CRAWLEE} not there yet"
        if not os.path.isdir(os.path.join(COMPETITORS, "crawlee", "node_modules")):
            return "crawlee not installed (bench/install.sh)"
        if not shutil.which("node"):
            return "node not installed (bench/install.sh)"
        return None
    if tool == "wget":
        return None if shutil.which("wget") else "wget not installed (bench/install.sh)"
    if tool == "httrack":
        return None if shutil.which("httrack") else "httrack not installed (bench/install.sh)"
    return "unknown tool"


# --- the machine's limit -------------------------------------------------------

WRK_LUA = """\
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
"""


def run_wrk(url, seconds, script=None):
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60)
    reqs = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out.stdout)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if not reqs or not rps:
        raise RuntimeError(f"wrk: cannot read its output: {out.stdout} {out.stderr}")
    return {"requests": int(reqs.group(1)), "req_per_s": float(rps.group(1)),
            "non_2xx": int(errors.group(1)) if errors else 0, "command": " ".join(cmd + [url])}


def measure_nginx(ctx, nginx, workdir, page_paths):
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed (bench/install.sh)"}
    res = {"one_page": run_wrk(ctx.url + page_paths[0], ctx.wrk_seconds)}
    lst = os.path.join(workdir, "wrk-paths.txt")
    with open(lst, "w") as f:
        f.write("\n".join(page_paths) + "\n")
    script = os.path.join(workdir, "wrk-paths.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA % lst)
    cpu0 = nginx.cpu_s()
    res["page_list"] = run_wrk(ctx.url + "/", ctx.wrk_seconds, script)
    cpu = nginx.cpu_s() - cpu0
    res["page_list"]["pages"] = len(page_paths)
    res["page_list"]["nginx_cpu_s"] = round(cpu, 3)
    res["nginx_cpu_us_per_request"] = round(cpu / res["page_list"]["requests"] * 1e6, 2)
    return res


def find_bench_parse(ctx):
    for d in (ctx.bin, os.path.join(ROOT, "build", "bin")):
        for name in ("zc-bench-parse",):
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
    return None


def libxml2_ctypes(files, seconds):
    """Raw libxml2 parse rate through ctypes on the page files, one core:
    htmlSAXParseDoc with an all-NULL SAX handler (tokenising only) and
    htmlReadMemory + xmlFreeDoc (a DOM). Per-call ctypes overhead (~1 us) is
    included, so the figures slightly understate libxml2."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("xml2")
    if not name:
        return {"skipped": "libxml2 not found"}
    lib = ctypes.CDLL(name)
    lib.htmlSAXParseDoc.restype = ctypes.c_void_p
    lib.htmlSAXParseDoc.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p,
                                    ctypes.c_void_p]
    lib.htmlReadMemory.restype = ctypes.c_void_p
    lib.htmlReadMemory.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                   ctypes.c_char_p, ctypes.c_int]
    lib.xmlFreeDoc.argtypes = [ctypes.c_void_p]
    lib.xmlFreeDoc.restype = None
    pages = []
    for path in files:
        with open(path, "rb") as f:
            pages.append(f.read())
    sax = ctypes.create_string_buffer(1024)  # zeroed: larger than htmlSAXHandler
    opts = 1 | 32 | 64 | 2048  # RECOVER | NOERROR | NOWARNING | NONET

    def rate(parse_one):
        n, nbytes = 0, 0
        t0 = time.process_time()
        while True:
            for page in pages:
                parse_one(page)
                n += 1
                nbytes += len(page)
            if time.process_time() - t0 >= seconds:
                break
        cpu = time.process_time() - t0
        return n / cpu, nbytes / n

    def sax_one(page):
        doc = lib.htmlSAXParseDoc(page, b"utf-8", sax, None)
        if doc:
            lib.xmlFreeDoc(doc)

    def dom_one(page):
        doc = lib.htmlReadMemory(page, len(page), b"http://127.0.0.1/", b"utf-8", opts)
        if doc:
            lib.xmlFreeDoc(doc)

    sax_rate, avg = rate(sax_one)
    dom_rate, _ = rate(dom_one)
    return {"source": f"libxml2 through ctypes ({name})", "pages": len(pages),
            "avg_page_bytes": round(avg), "sax_pages_per_s_per_core": round(sax_rate, 1),
            "dom_pages_per_s_per_core": round(dom_rate, 1)}


def measure_parse(ctx, site, files):
    res = {}
    tool = find_bench_parse(ctx)
    if tool:
        cmd = [tool, "--dir", site, "--pages", str(len(files)), "--seconds",
               str(ctx.parse_seconds), "--json"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        try:
            res["zc_bench_parse"] = json.loads(run.stdout)
        except ValueError:
            res["zc_bench_parse"] = {"skipped": f"{tool} printed no JSON (exit "
                                     f"{run.returncode}): {run.stderr.strip()[-300:]}"}
        res["zc_bench_parse"]["command"] = " ".join(cmd)
    else:
        res["zc_bench_parse"] = {"skipped": "zc-bench-parse (bench/micro) not built in "
                                 f"{ctx.bin}"}
    res["libxml2"] = libxml2_ctypes(files, ctx.parse_seconds)
    return res


# --- main ----------------------------------------------------------------------

def machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    ncores = len(os.sched_getaffinity(0))
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        mem = 0
    return {"cores": ncores, "cpu": model, "mem_mb": mem, "kernel": platform.release(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": commit + ("-dirty" if dirty else ""), "load_avg": os.getloadavg()}


def versions(tools):
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    v = {"nginx": first_line(["nginx", "-v"]), "wrk": first_line(["wrk", "-v"])}
    if "scrapy" in tools:
        v["scrapy"] = first_line(["/usr/bin/python3", "-c",
                                  "import scrapy; print('Scrapy', scrapy.__version__)"])
    if "crawlee" in tools:
        pkg = os.path.join(COMPETITORS, "crawlee", "node_modules", "crawlee", "package.json")
        try:
            with open(pkg) as f:
                v["crawlee"] = "crawlee " + json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            v["crawlee"] = None
        v["node"] = first_line(["node", "--version"])
    if "wget" in tools:
        v["wget"] = first_line(["wget", "--version"])
    if "httrack" in tools:
        v["httrack"] = first_line(["httrack", "--version"])
    return v


def fmt(x, nd=0):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}"


def table(result):
    limit = result["limit"].get("pages_per_s")
    med = result["medians"]
    refs = [t for t in ("scrapy", "crawlee", "wget") if t in med]
    head = ["tool", "wall s", "pages/s", "CPU s", "CPU s/1k pages", "peak RSS MB",
            "found/truth", "3 fields"] + [f"x {r}" for r in refs] + ["% limit"]
    rows = []
    for tool, m in med.items():
        row = [tool, fmt(m["wall_s"], 2), fmt(m["pages_per_s"]), fmt(m["cpu_s"], 2),
               fmt(m["cpu_ms_per_1000_pages"] / 1000, 2), fmt(m["peak_rss_mb"]),
               f"{m['pages_found']:.0f}/{result['truth_pages']}",
               "-" if m.get("items_with_all_fields") is None else f"{m['items_with_all_fields']:.0f}"]
        for r in refs:
            base = med[r]["pages_per_s"]
            row.append(f"{m['pages_per_s'] / base:.2f}" if base else "-")
        row.append(f"{100 * m['pages_per_s'] / limit:.1f}" if limit else "-")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def limit_lines(result):
    lim, nginx, parse = result["limit"], result["nginx"], result["parse"].get("libxml2", {})
    out = []
    if "one_page" in nginx:
        out.append(f"nginx alone (wrk -t2 -c64): {fmt(nginx['one_page']['req_per_s'])} req/s on one "
                   f"page, {fmt(nginx['page_list']['req_per_s'])} req/s over "
                   f"{nginx['page_list']['pages']} pages, nginx CPU "
                   f"{nginx['nginx_cpu_us_per_request']} us/request")
    else:
        out.append(f"nginx alone: {nginx.get('skipped')}")
    if "sax_pages_per_s_per_core" in parse:
        out.append(f"libxml2 alone ({parse['pages']} pages of ~{parse['avg_page_bytes']} bytes, "
                   f"ctypes): SAX {fmt(parse['sax_pages_per_s_per_core'])} / DOM "
                   f"{fmt(parse['dom_pages_per_s_per_core'])} pages/s per core")
    zbp = result["parse"].get("zc_bench_parse", {})
    if zbp.get("measures"):
        ms = zbp["measures"]
        out.append(f"zc-bench-parse ({zbp.get('pages')} pages of ~{zbp.get('mean_bytes')} bytes, "
                   f"{zbp.get('mean_links')} links, one thread): " + ", ".join(
                       f"{k} {fmt(v.get('pages_per_s'))} pages/s" for k, v in ms.items()))
    else:
        out.append("zc-bench-parse: " + str(zbp.get("skipped")))
    if lim.get("pages_per_s"):
        out.append(f"machine limit = {lim['cores']} cores / ({lim['parse_sax_us_per_page']} us SAX "
                   f"parse [{lim['parse_source']}] + {lim['nginx_us_per_request']} us nginx) = "
                   f"{fmt(lim['pages_per_s'])} pages/s")
    else:
        out.append(f"machine limit: not measured ({lim.get('skipped')})")
    return out


def write_results(result, path):
    m = result["machine"]
    lines = ["", f"## Side by side (bench/compare.py), {m['date'][:10]}: {result['pages']} pages "
             f"of ~{result['page_bytes']} bytes, ~{result.get('links') or '20-40'} links", "",
             f"Machine: {m['cores']} cores ({m['cpu']}), {m['mem_mb']} MB RAM, kernel "
             f"{m['kernel']}, load average at start {m['load_avg'][0]:.2f}. Commit "
             f"{m['commit']}, zcrawl from {result['bin']} ({result['build_type']}). "
             f"{result['repeat']} run(s) per tool, interleaved"
             + ("; medians. " if result["repeat"] > 1 else ". ")
             + ("" if not result.get("label") else result["label"] + " "),
             "",
             f"Command: `{result['command']}`", "",
             table(result), ""]
    lines += [f"- {ln}" for ln in limit_lines(result)]
    for tool, why in result["skipped"].items():
        lines.append(f"- {tool}: skipped ({why})")
    for tool, rs in result["runs"].items():
        if any(r.get("capped") for r in rs):
            lines.append(f"- {tool}: stopped by --httrack-max-seconds in "
                         f"{sum(1 for r in rs if r.get('capped'))} of {len(rs)} run(s); "
                         "its pages found are what it got by then")
    lines.append("- pages/s = truth pages found / wall seconds (process start to exit); CPU = "
                 "user+sys of the whole process tree (RUSAGE_CHILDREN); peak RSS = ru_maxrss of "
                 "the tool's main process (through GNU time; zcrawl-cluster: the largest of "
                 "broker, fetcher, parser; their sum is in the JSON); \"3 fields\" = items with title, h1 and "
                 "price (wget and httrack extract nothing).")
    v = result["versions"]
    lines.append("- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    lines.append("- commands (paths under the run's temporary directory):")
    for t, c in result["commands"].items():
        lines.append(f"  - {t}: `{c}`")
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"),
                    help="zcrawl build's bin directory (default build/bin)")
    ap.add_argument("--base-bin", help="another zcrawl build's bin directory, run as the tool "
                    "zcrawl-local-base (before/after in one run)")
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--page-bytes", type=int, default=40000,
                    help="pad pages to about this size (zc-testsite --page-bytes; 0 = none)")
    ap.add_argument("--links", type=int, default=44,
                    help="mean links per page (zc-testsite --links; 0 = its default 20-40)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--httrack-max-seconds", type=int, default=600,
                    help="httrack's -E: stop its mirror after this many seconds")
    ap.add_argument("--wrk-seconds", type=int, default=5)
    ap.add_argument("--parse-seconds", type=int, default=3)
    ap.add_argument("--nginx-workers", default="auto")
    ap.add_argument("--tmp", default=None, help="work directory's parent (default $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--write-results", action="store_true",
                    help="append a dated section to bench/RESULTS.md")
    ap.add_argument("--results-file", default=os.path.join(HERE, "RESULTS.md"),
                    help="where --write-results appends (default bench/RESULTS.md)")
    ap.add_argument("--label", default="", help="a note for the RESULTS.md section")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS + EXTRA_TOOLS:
            raise SystemExit(f"unknown tool {t}; known: {', '.join(TOOLS + EXTRA_TOOLS)}")
    if not os.access(os.path.join(args.bin, "zc-testsite"), os.X_OK):
        raise SystemExit(f"{args.bin}/zc-testsite not found. Build zcrawl first, e.g.\n"
                         "  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release && "
                         "cmake --build build-release -j\nthen pass --bin build-release/bin")
    build_type = "unknown"
    cache = os.path.join(os.path.dirname(args.bin), "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
            build_type = (m.group(1) if m else "") or "none"
    if build_type != "Release":
        log(f"note: {args.bin} is a {build_type} build; numbers are for a Release build "
            "(cmake -DCMAKE_BUILD_TYPE=Release)")
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise SystemExit("nginx not installed: run bench/install.sh")

    ctx = argparse.Namespace(bin=args.bin, concurrency=args.concurrency,
                             base_bin=os.path.abspath(args.base_bin) if args.base_bin else None,
                             httrack_max_seconds=args.httrack_max_seconds,
                             wrk_seconds=args.wrk_seconds, parse_seconds=args.parse_seconds)
    skipped = {}
    for t in list(tools):
        why = available(t, ctx)
        if why:
            skipped[t] = why
            tools.remove(t)
            log(f"skipping {t}: {why}")

    workdir = tempfile.mkdtemp(prefix="zcrawl-compare-", dir=args.tmp)
    os.chmod(workdir, 0o755)  # nginx's workers may run as another user
    nginx = None
    try:
        port = free_port()
        ctx.url = f"http://127.0.0.1:{port}"
        site, truth_json, truth = make_site(args.bin, workdir, port, args.pages,
                                            args.page_bytes, args.links)
        truth_pages = len(truth_json["pages"])
        page_files = sorted(glob.glob(os.path.join(site, "p", "*.html")),
                            key=lambda p: int(os.path.basename(p).split(".")[0]))
        sample = page_files[:1000]
        page_paths = ["/p/" + os.path.basename(p) for p in sample]

        nginx = Nginx(site, port, os.path.join(workdir, "nginx"), args.nginx_workers)
        log(f"nginx serving {ctx.url} ({truth_pages} truth pages)")

        log("measuring nginx alone (wrk) ...")
        nginx_res = measure_nginx(ctx, nginx, workdir, page_paths)
        log("measuring libxml2 alone ...")
        parse_res = measure_parse(ctx, site, sample)

        runs = {t: [] for t in tools}
        commands = {}
        for i in range(args.repeat):
            for t in tools:
                run_dir = os.path.join(workdir, "runs", f"{t}-{i}")
                os.makedirs(run_dir)
                rc, metrics, urls, items, cmd = RUNNERS[t](ctx, run_dir)
                commands[t] = " ; ".join(" ".join(c) for c in cmd) \
                    if isinstance(cmd[0], list) else " ".join(cmd)
                sc = score(urls, items, truth)
                r = dict(metrics)
                r.update(sc)
                r["exit"] = rc
                r["pages_per_s"] = sc["pages_found"] / r["wall_s"] if r["wall_s"] else 0
                r["cpu_ms_per_1000_pages"] = (r["cpu_s"] / sc["pages_found"] * 1e6
                                              if sc["pages_found"] else 0)
                for k in ("wall_s", "cpu_s", "pages_per_s", "cpu_ms_per_1000_pages",
                          "peak_rss_mb"):
                    r[k] = round(r[k], 3)
                runs[t].append(r)
                log(f"{t:>15} run {i + 1}: {r['pages_found']}/{truth_pages} pages  "
                    f"{r['wall_s']:.2f} s  {r['pages_per_s']:.0f} pages/s  CPU {r['cpu_s']:.2f} s "
                    f"({r['cpu_ms_per_1000_pages'] / 1000:.2f} s/1k pages)  peak RSS "
                    f"{r['peak_rss_mb']:.0f} MB  items {r.get('items', '-')} "
                    f"(3 fields: {r.get('items_with_all_fields', '-')})"
                    + (f"  EXIT {rc}" if rc else "")
                    + ("  STOPPED at --httrack-max-seconds" if r.get("capped") else ""))
    finally:
        if nginx:
            nginx.stop()
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    medians = {}
    for t, rs in runs.items():
        medians[t] = {k: statistics.median(r[k] for r in rs) for k in METRICS
                      if all(r.get(k) is not None for r in rs)}
    cores = len(os.sched_getaffinity(0))
    limit = {"cores": cores}
    lx = parse_res.get("libxml2", {})
    zbp = parse_res.get("zc_bench_parse", {})
    sax_us, sax_source = None, None
    if zbp.get("raw_sax_cpu_us_per_page"):
        sax_us, sax_source = zbp["raw_sax_cpu_us_per_page"], "zc-bench-parse raw_sax (CPU)"
    elif lx.get("sax_pages_per_s_per_core"):
        sax_us, sax_source = 1e6 / lx["sax_pages_per_s_per_core"], "libxml2 through ctypes"
    if "one_page" in nginx_res and sax_us:
        ng_us = nginx_res["nginx_cpu_us_per_request"]
        limit.update({"parse_sax_us_per_page": round(sax_us, 1), "parse_source": sax_source,
                      "nginx_us_per_request": ng_us,
                      "pages_per_s": round(cores * 1e6 / (sax_us + ng_us), 1)})
    else:
        limit["skipped"] = "needs wrk and libxml2"
    ratios = {}
    for t, m in medians.items():
        ratios[t] = {f"vs_{r}": round(m["pages_per_s"] / medians[r]["pages_per_s"], 3)
                     for r in ("scrapy", "crawlee", "wget")
                     if r in medians and medians[r]["pages_per_s"]}
        if limit.get("pages_per_s"):
            ratios[t]["pct_of_limit"] = round(100 * m["pages_per_s"] / limit["pages_per_s"], 1)
        for r in ("scrapy", "wget"):
            if r in medians and medians[r]["cpu_ms_per_1000_pages"]:
                ratios[t][f"cpu_per_page_vs_{r}"] = round(
                    m["cpu_ms_per_1000_pages"] / medians[r]["cpu_ms_per_1000_pages"], 3)
    result = {"machine": machine(), "versions": versions(tools), "bin": args.bin,
              "build_type": build_type, "pages": args.pages, "page_bytes": args.page_bytes,
              "links": args.links,
              "truth_pages": truth_pages, "repeat": args.repeat, "label": args.label,
              "command": shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
              "skipped": skipped, "nginx": nginx_res, "parse": parse_res, "limit": limit,
              "runs": runs, "medians": medians, "ratios": ratios, "commands": commands}

    print(f"{args.pages} pages (~{args.page_bytes} bytes), {truth_pages} truth pages, "
          f"medians of {args.repeat} run(s), {cores} cores, zcrawl {build_type} from {args.bin}")
    print(table(result))
    for ln in limit_lines(result):
        print(ln)
    for t, why in skipped.items():
        print(f"{t}: skipped ({why})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if args.write_results:
        write_results(result, args.results_file)
        log(f"appended a section to {args.results_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
