#!/usr/bin/python3
"""Benchmarks of issue 5 (reliability): the durable store's costs.

Three subcommands, each printing per-run lines, then medians:

  throughput  `zcrawl local` on the test site, in memory vs with `--data DIR`
              (a fresh DIR under --tmp for every run), REPEAT times each,
              interleaved in ABBA order (memory, durable, durable, memory, ...). pages/s by the
              crawl's own seconds (bench/crawl_local.py's measure), ratio of
              the medians, size of the store after the crawl. Peak RSS is
              zcrawl's own, through GNU time (crawl_local.run_once; wait4's
              ru_maxrss would start at this script's size).

  restart     a cluster (zcrawl broker --data, 1 fetcher node, 1 parser node,
              separate processes) crawls a large test site; KILLS times, mid-
              crawl, the broker is killed with -9 and restarted at once on the
              same --data dir and ports. The crawl's pages counter is polled
              every ~100 ms over the control socket. Per kill: the pre-kill rate
              (pages/s over the 3 s before the kill), the time from the restart
              to the start of the first 0.5 s window whose rate is >= 90% of it
              ("resume"), and the pages the test site served more than once
              because of that kill (request log: a repeat of a URI, /robots.txt
              aside, counts against the last kill before it), next to the
              in-flight jobs the broker last reported before the kill. At the end
              the items must hold every URL once.

  memory      a broker alone, fed by a synthetic fetcher written here (pyzmq +
              a minimal MessagePack codec, docs/PROTOCOL.md): it registers as a
              fetcher, takes jobs, and answers each page job with a RESULT of
              LINKS new unique URLs (http://hK.bench.test/pK, K spread over HOSTS
              hosts) until the frontier holds URLS queued URLs. The broker's
              RssAnon (/proc/PID/status) is read at each --at count (status
              `queued`), for (a) memory only and (b) --data with --max-memory
              (queued URLs beyond the budget live only in the store, so its RAM
              growth is the seen set's).

Run with Debian's python3 (python3-zmq is a project dependency):

    bench/reliability.py throughput [--bin build/bin] [--pages 20000] [--repeat 5] [--tmp /tmp]
    bench/reliability.py restart [--bin build/bin] [--pages 300000] [--kills 5]
    bench/reliability.py memory [--bin build/bin] [--urls 10000000] [--at 1000000 ...]
        [--max-memory 256M] [--variant memory|durable]

Traffic goes only to 127.0.0.1. Every process started is ended at exit.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import crawl_local  # noqa: E402  (run_once, wait_for)


# --- a minimal MessagePack codec: the subset zcrawl's protocol uses -----------

def mp_pack(obj, out):
    """Appends OBJ (dict, list, str, bytes, int >= 0, bool, None) to bytearray OUT."""
    if obj is None:
        out.append(0xc0)
    elif obj is True:
        out.append(0xc3)
    elif obj is False:
        out.append(0xc2)
    elif isinstance(obj, int):
        if obj < 0:
            raise ValueError("negative integers are not used")
        if obj < 0x80:
            out.append(obj)
        elif obj <= 0xff:
            out += b"\xcc" + obj.to_bytes(1, "big")
        elif obj <= 0xffff:
            out += b"\xcd" + obj.to_bytes(2, "big")
        elif obj <= 0xffffffff:
            out += b"\xce" + obj.to_bytes(4, "big")
        else:
            out += b"\xcf" + obj.to_bytes(8, "big")
    elif isinstance(obj, str):
        data = obj.encode()
        n = len(data)
        if n < 32:
            out.append(0xa0 | n)
        elif n <= 0xff:
            out += b"\xd9" + n.to_bytes(1, "big")
        elif n <= 0xffff:
            out += b"\xda" + n.to_bytes(2, "big")
        else:
            out += b"\xdb" + n.to_bytes(4, "big")
        out += data
    elif isinstance(obj, (bytes, bytearray)):
        n = len(obj)
        if n <= 0xff:
            out += b"\xc4" + n.to_bytes(1, "big")
        elif n <= 0xffff:
            out += b"\xc5" + n.to_bytes(2, "big")
        else:
            out += b"\xc6" + n.to_bytes(4, "big")
        out += obj
    elif isinstance(obj, (list, tuple)):
        n = len(obj)
        if n < 16:
            out.append(0x90 | n)
        elif n <= 0xffff:
            out += b"\xdc" + n.to_bytes(2, "big")
        else:
            out += b"\xdd" + n.to_bytes(4, "big")
        for item in obj:
            mp_pack(item, out)
    elif isinstance(obj, dict):
        n = len(obj)
        if n < 16:
            out.append(0x80 | n)
        elif n <= 0xffff:
            out += b"\xde" + n.to_bytes(2, "big")
        else:
            out += b"\xdf" + n.to_bytes(4, "big")
        for key, value in obj.items():
            mp_pack(key, out)
            mp_pack(value, out)
    else:
        raise TypeError(f"cannot pack {type(obj)}")
    return out


def mp_dumps(obj):
    return bytes(mp_pack(obj, bytearray()))


def mp_loads(data):
    """Decodes one MessagePack value (the whole of DATA)."""
    def be(i, n):
        return int.from_bytes(data[i:i + n], "big"), i + n

    def signed(i, n):
        return int.from_bytes(data[i:i + n], "big", signed=True), i + n

    def value(i):
        b = data[i]
        i += 1
        if b < 0x80:
            return b, i
        if b >= 0xe0:
            return b - 0x100, i
        if 0xa0 <= b <= 0xbf:
            n = b & 0x1f
            return data[i:i + n].decode(), i + n
        if 0x90 <= b <= 0x9f:
            return array(i, b & 0x0f)
        if 0x80 <= b <= 0x8f:
            return mapping(i, b & 0x0f)
        if b == 0xc0:
            return None, i
        if b == 0xc2:
            return False, i
        if b == 0xc3:
            return True, i
        if b in (0xcc, 0xcd, 0xce, 0xcf):
            return be(i, 1 << (b - 0xcc))
        if b in (0xd0, 0xd1, 0xd2, 0xd3):
            return signed(i, 1 << (b - 0xd0))
        if b in (0xd9, 0xda, 0xdb):
            n, i = be(i, 1 << (b - 0xd9))
            return data[i:i + n].decode(), i + n
        if b in (0xc4, 0xc5, 0xc6):
            n, i = be(i, 1 << (b - 0xc4))
            return bytes(data[i:i + n]), i + n
        if b in (0xdc, 0xdd):
            n, i = be(i, 2 if b == 0xdc else 4)
            return array(i, n)
        if b in (0xde, 0xdf):
            n, i = be(i, 2 if b == 0xde else 4)
            return mapping(i, n)
        raise ValueError(f"unsupported MessagePack byte 0x{b:02x}")

    def array(i, n):
        items = []
        for _ in range(n):
            item, i = value(i)
            items.append(item)
        return items, i

    def mapping(i, n):
        result = {}
        for _ in range(n):
            key, i = value(i)
            result[key], i = value(i)
        return result, i

    obj, end = value(0)
    if end != len(data):
        raise ValueError("trailing bytes")
    return obj


def zc_message(msg_type, **fields):
    header = {"v": 1, "t": msg_type}
    header.update(fields)
    return mp_dumps(header)


# --- helpers ------------------------------------------------------------------

def need_zmq():
    try:
        import zmq  # noqa: F401
    except ImportError:
        raise SystemExit("this benchmark needs pyzmq: run it with /usr/bin/python3 "
                         "(Debian's python3-zmq, scripts/install-deps.sh)")
    return zmq


def filesystem_of(path):
    """'ext4 (/dev/vda)' for the file system holding PATH."""
    out = subprocess.run(["df", "--output=fstype,source", path], capture_output=True,
                         text=True).stdout.split("\n")[1].split()
    return f"{out[0]} ({out[1]})" if len(out) == 2 else "?"


def disk_usage(path):
    """(bytes allocated on disk, apparent bytes) of the files under PATH."""
    used = size = 0
    for root, _, files in os.walk(path):
        for name in files:
            st = os.stat(os.path.join(root, name))
            used += st.st_blocks * 512
            size += st.st_size
    return used, size


def proc_status(pid):
    """{'RssAnon': bytes, 'RssFile': ..., 'VmRSS': ..., 'VmHWM': ...} of PID."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem", "VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def log_problems(path):
    """Warning and error lines (czmq's 'W:' / 'E:') and sanitizer reports of a log."""
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [line.rstrip() for line in f
                if line.startswith(("W:", "E:")) or "Sanitizer" in line or "runtime error" in line]


class Procs:
    """Processes started by a benchmark; all are ended (SIGTERM, then SIGKILL) at exit."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, label, cmd):
        log = open(os.path.join(self.workdir, f"{label}.log"), "ab")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append(proc)
        return proc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return False


def read_ready(path, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited {proc.returncode} before it was ready")
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return json.load(f)
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {path}")


class Control:
    """The broker's control socket, spoken directly (no zcrawlctl process per
    poll): one fresh DEALER per request, so that a reply lost with a killed
    broker never pairs with a later request."""

    def __init__(self, zmq, ctx, endpoint):
        self.zmq, self.ctx, self.endpoint = zmq, ctx, endpoint

    def call(self, msg_type, timeout_ms=1000, **fields):
        sock = self.ctx.socket(self.zmq.DEALER)
        sock.setsockopt(self.zmq.LINGER, 0)
        try:
            sock.connect(self.endpoint)
            sock.send(zc_message(msg_type, **fields))
            if not sock.poll(timeout_ms):
                return None
            return mp_loads(sock.recv())
        finally:
            sock.close()

    def crawl(self, crawl_id, timeout_ms=1000):
        reply = self.call("STATUS", timeout_ms=timeout_ms, crawl=crawl_id)
        if not reply or reply.get("t") != "STATUS_REPLY" or not reply.get("crawls"):
            return None, None
        return reply["epoch"], reply["crawls"][0]


def submit(bin_dir, control, args):
    out = subprocess.run([os.path.join(bin_dir, "zcrawlctl"), "--control", control, "submit"]
                         + args, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit(f"zcrawlctl submit failed: {out.stdout} {out.stderr}")
    return out.stdout.strip().split()[-1]


# --- throughput: zcrawl local, memory vs --data ---------------------------------

def cmd_throughput(args):
    bin_dir = os.path.abspath(args.bin)
    os.makedirs(args.tmp, exist_ok=True)
    fs = filesystem_of(args.tmp)
    variants = [{"label": "memory", "bin": bin_dir, "extra": ["--impolite"]},
                {"label": "durable", "bin": bin_dir, "extra": ["--impolite", "--data"]}]
    runs = {v["label"]: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="zcrawl-bench-rel-", dir=args.tmp) as workdir:
        ready = os.path.join(workdir, "site.json")
        site = subprocess.Popen([os.path.join(bin_dir, "zc-testsite"), "--pages", str(args.pages),
                                 "--host", "127.0.0.1", "--slow-ms", "1000",
                                 "--ready-file", ready], stdout=subprocess.DEVNULL)
        try:
            crawl_local.wait_for(ready)
            with open(ready) as f:
                site_url = json.load(f)["url"]
            print(f"store on {args.tmp}: {fs}", flush=True)
            for i in range(args.repeat):
                # ABBA order: neither variant always runs first
                for v in (variants if i % 2 == 0 else variants[::-1]):
                    variant = dict(v)
                    data = None
                    if v["label"] == "durable":
                        # A new dir per run: zcrawl local resumes crawls found in DIR
                        data = os.path.join(workdir, f"data-{i}")
                        variant["extra"] = v["extra"] + [data]
                    r = crawl_local.run_once(variant, args.host_concurrency, site_url, workdir, i)
                    if data:
                        r["store_bytes_on_disk"], r["store_bytes_apparent"] = disk_usage(data)
                    runs[v["label"]].append(r)
                    store = (f"  store {r['store_bytes_on_disk'] / 2**20:.1f} MiB on disk"
                             if data else "")
                    print(f"{v['label']:>8}: {r['pages']} pages  crawl {r['crawl_s']:.2f} s "
                          f"(process {r['wall_s']:.2f} s)  {r['pages_per_s']:.0f} pages/s  "
                          f"CPU {r['cpu_s']:.2f} s ({r['cpu_ms_per_1000_pages']:.0f} ms/1000 "
                          f"pages)  peak RSS {r['peak_rss_mb']:.0f} MB{store}", flush=True)
                    os.remove(os.path.join(workdir, f"{v['label']}-{i}.jsonl"))
        finally:
            site.terminate()
            site.wait()
    medians = {label: {k: statistics.median(r[k] for r in rs) for k in crawl_local.METRICS}
               for label, rs in runs.items()}
    base = medians["memory"]["pages_per_s"]
    print(f"medians of {args.repeat} runs ({args.pages} generated pages, store on {fs}):")
    for label in runs:
        m = medians[label]
        print(f"{label:>8}: {m['pages_per_s']:.0f} pages/s ({m['pages_per_s'] / base:.2f}x), "
              f"crawl {m['crawl_s']:.2f} s, CPU {m['cpu_s']:.2f} s, "
              f"{m['cpu_ms_per_1000_pages']:.0f} ms/1000 pages, peak RSS {m['peak_rss_mb']:.0f} MB, "
              f"{m['pages']:.0f} pages")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pages": args.pages, "filesystem": fs, "runs": runs, "medians": medians},
                      f, indent=2)


# --- restart: time to full speed and refetches after kill -9 of the broker -------

def cmd_restart(args):
    zmq = need_zmq()
    bin_dir = os.path.abspath(args.bin)
    zcrawl = os.path.join(bin_dir, "zcrawl")
    ctx = zmq.Context()
    with tempfile.TemporaryDirectory(prefix="zcrawl-bench-restart-", dir=args.tmp) as workdir, \
            Procs(workdir) as procs:
        path = lambda name: os.path.join(workdir, name)  # noqa: E731
        site_log = path("site.requests.log")
        site = procs.start("testsite", [os.path.join(bin_dir, "zc-testsite"), "--pages",
                                        str(args.pages), "--host", "127.0.0.1", "--slow-ms",
                                        "1000", "--log", site_log, "--ready-file",
                                        path("site.json")])
        site_url = read_ready(path("site.json"), site)["url"]

        data = path("data")
        broker_args = ["--data", data, "--ready-file", path("broker.json")]
        broker = procs.start("broker", [zcrawl, "broker", "--jobs", "tcp://127.0.0.1:*",
                                        "--results", "tcp://127.0.0.1:*", "--control",
                                        "tcp://127.0.0.1:*"] + broker_args)
        ep = read_ready(path("broker.json"), broker)
        restart_cmd = [zcrawl, "broker", "--jobs", ep["jobs"], "--results", ep["results"],
                       "--control", ep["control"]] + broker_args
        parser = procs.start("parser", [zcrawl, "parser", "--broker", ep["jobs"], "--bind",
                                        "tcp://127.0.0.1:*", "--ready-file", path("parser.json")])
        read_ready(path("parser.json"), parser)
        fetcher = procs.start("fetcher", [zcrawl, "fetcher", "--broker", ep["jobs"],
                                          "--ready-file", path("fetcher.json")])
        read_ready(path("fetcher.json"), fetcher)
        control = Control(zmq, ctx, ep["control"])
        items, errors = path("items.jsonl"), path("errors.jsonl")
        crawl_args = [site_url + "/", "-o", items, "--errors", errors, "--allow-private",
                      "--impolite", "--timeout", "2", "--max-body", "1M", "--host-concurrency",
                      str(args.host_concurrency)]
        crawl_id = submit(bin_dir, ep["control"], crawl_args)
        print(f"crawl {crawl_id}: {site_url}/ ({args.pages} generated pages), broker "
              f"--data on {filesystem_of(args.tmp)}", flush=True)

        samples = []  # (monotonic s, epoch, pages, in_flight, state)

        def poll():
            t = time.monotonic()
            epoch, c = control.crawl(crawl_id, timeout_ms=200)
            if c is not None:
                samples.append((t, epoch, c["pages"] + c["failed"], c["in_flight"], c["state"]))
            return c

        def sleep_polling(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                c = poll()
                if c is not None and c["state"] != "running":
                    return False
                time.sleep(args.poll_ms / 1000)
            return True

        def rate(t_from, t_to, epoch):
            pts = [s for s in samples if s[1] == epoch and t_from <= s[0] <= t_to]
            if len(pts) < 2 or pts[-1][0] - pts[0][0] <= 0:
                return None
            return (pts[-1][2] - pts[0][2]) / (pts[-1][0] - pts[0][0])

        kills = []
        running = sleep_polling(args.warmup)
        broker_runs = 1
        while running and len(kills) < args.kills:
            now = time.monotonic()
            last = samples[-1]
            pre = rate(now - args.pre_window, now, last[1])
            if pre is None or pre <= 0:
                running = sleep_polling(1)
                continue
            if poll() is not None:  # a fresh sample right before the kill
                last = samples[-1]
            in_flight = last[3]
            kill_wall_ms = int(time.time() * 1000)
            broker.send_signal(signal.SIGKILL)
            broker.wait()
            t_restart = time.monotonic()
            broker = procs.start("broker", restart_cmd)
            broker_runs += 1
            old_epoch = last[1]
            recovered = None
            first_sample = None
            deadline = t_restart + args.recover_timeout
            while time.monotonic() < deadline and recovered is None:
                c = poll()
                if c is not None and c["state"] != "running":
                    break
                new = [s for s in samples if s[0] >= t_restart and s[1] != old_epoch]
                if new and first_sample is None:
                    first_sample = new[0][0] - t_restart
                # the first window of new-epoch samples whose rate is >= 90% pre-kill
                for j, s in enumerate(new):
                    ends = [e for e in new[j:] if e[0] - s[0] >= args.window]
                    if not ends:
                        break
                    e = ends[0]
                    if (e[2] - s[2]) / (e[0] - s[0]) >= 0.9 * pre:
                        recovered = (s[0] - t_restart, e[0] - t_restart)
                        break
                time.sleep(args.poll_ms / 1000)
            # Outcomes written but not committed at the kill are rolled back (the
            # items file is cut to the committed offset) and their URLs fetched again:
            # the first counter of the new broker vs the last of the old one
            # (read just before the kill and just after the restart)
            after = [s for s in samples if s[0] >= t_restart and s[1] != old_epoch]
            rolled_back = last[2] - after[0][2] if after else None
            kill = {"kill": len(kills) + 1, "pre_rate": round(pre, 1), "in_flight": in_flight,
                    "rolled_back": rolled_back,
                    "kill_wall_ms": kill_wall_ms, "first_status_s": first_sample,
                    "resume_s": recovered[0] if recovered else None,
                    "resume_window_end_s": recovered[1] if recovered else None}
            kills.append(kill)
            print(f"kill {kill['kill']}: pre-kill {pre:.0f} pages/s, in flight {in_flight}, "
                  f"outcomes rolled back ~{rolled_back}; "
                  f"restarted broker answered status after "
                  f"{first_sample if first_sample is None else round(first_sample, 2)} s; "
                  + (f"full speed (>= 90%) from {recovered[0]:.2f} s after the restart "
                     f"(window end {recovered[1]:.2f} s)" if recovered else
                     f"NOT back to 90% within {args.recover_timeout} s"), flush=True)
            running = sleep_polling(args.gap)

        # Let the crawl finish
        deadline = time.monotonic() + args.done_timeout
        state = None
        while time.monotonic() < deadline:
            _, c = control.crawl(crawl_id)
            state = c["state"] if c else None
            if state in ("done", "stopped"):
                break
            time.sleep(0.2)
        print(f"crawl {state}", flush=True)
        broker.terminate()
        broker.wait(timeout=30)

        # Refetches from the site's request log
        requests = []
        with open(site_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[0] == "main" and parts[1].isdigit():
                    requests.append((int(parts[1]), parts[4]))
        requests.sort()
        seen_uris = set()
        repeats_before_kills = 0
        for start_ms, uri in requests:
            if uri.split("?")[0] == "/robots.txt":
                continue
            if uri in seen_uris:
                owner = [k for k in kills if k["kill_wall_ms"] <= start_ms]
                if owner:
                    owner[-1]["refetched"] = owner[-1].get("refetched", 0) + 1
                else:
                    repeats_before_kills += 1
            seen_uris.add(uri)
        urls = []
        with open(items) as f:
            for line in f:
                urls.append(json.loads(line)["url"])
        err_lines = sum(1 for _ in open(errors)) if os.path.exists(errors) else 0
        duplicates = len(urls) - len(set(urls))
        problems = {label: log_problems(path(f"{label}.log"))
                    for label in ("broker", "fetcher", "parser")}
        for k in kills:
            k.setdefault("refetched", 0)
            print(f"kill {k['kill']}: refetched {k['refetched']} pages (in flight at the kill: "
                  f"{k['in_flight']}, outcomes rolled back: ~{k['rolled_back']})")
        print(f"items {len(urls)} ({len(set(urls))} distinct, {duplicates} duplicates), "
              f"errors {err_lines}, page requests {len(requests)}, repeats before the first "
              f"kill {repeats_before_kills}, broker starts {broker_runs}")
        done = [k["resume_s"] for k in kills if k["resume_s"] is not None]
        if done:
            print(f"median time to full speed after a restart: {statistics.median(done):.2f} s "
                  f"({len(done)} of {len(kills)} kills recovered); median refetched per kill: "
                  f"{statistics.median(k['refetched'] for k in kills):.0f}")
        for label, lines in problems.items():
            if lines:
                print(f"{label} log: {len(lines)} warning/error lines, e.g.:")
                for line in lines[:args.show_log]:
                    print(f"    {line}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"pages": args.pages, "kills": kills, "items": len(urls),
                           "duplicates": duplicates, "errors": err_lines,
                           "repeats_before_kills": repeats_before_kills, "state": state,
                           "log_problems": problems}, f, indent=2)
        if args.keep:
            subprocess.run(["cp", "-a", workdir, args.keep])


# --- memory: RAM per queued and per seen URL with a synthetic fetcher ------------

class SyntheticFetcher:
    """A fetcher node that fetches nothing: every page job is answered with a
    RESULT carrying LINKS new unique URLs, every robots job with a 404."""

    def __init__(self, zmq, ctx, jobs_endpoint, capacity, hosts, links):
        self.zmq = zmq
        self.jobs = ctx.socket(zmq.DEALER)
        self.jobs.setsockopt(zmq.LINGER, 0)
        self.jobs.connect(jobs_endpoint)
        self.ctx = ctx
        self.results = None
        self.capacity, self.hosts, self.links = capacity, hosts, links
        self.id = f"fetcher-synthetic-{os.getpid()}"
        self.epoch = 0
        self.heartbeat_ms = 1000
        self.last_beat = 0.0
        self.pending = []  # jobs received, not answered
        self.next_url = 1  # K of the next link; 0 is the seed's host
        self.done = 0

    def send(self, msg_type, **fields):
        self.jobs.send(zc_message(msg_type, **fields))

    def register(self, timeout=10):
        self.send("HELLO", id=self.id, role="fetcher", version="bench", capacity=self.capacity,
                  endpoint="")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.jobs.poll(100):
                msg = mp_loads(self.jobs.recv())
                if msg["t"] == "WELCOME":
                    self.epoch, self.heartbeat_ms = msg["epoch"], msg["heartbeat_ms"]
                    self.results = self.ctx.socket(self.zmq.PUSH)
                    self.results.setsockopt(self.zmq.LINGER, 2000)
                    self.results.connect(msg["results"])
                    self.send("READY", credit=self.capacity)
                    return
        raise SystemExit("the broker did not WELCOME the synthetic fetcher")

    def pump(self, timeout_ms=0):
        """Reads what the broker sent; heartbeats when due."""
        while self.jobs.poll(timeout_ms):
            timeout_ms = 0
            msg = mp_loads(self.jobs.recv())
            if msg["t"] == "JOBS":
                self.pending.extend(msg["jobs"])
            elif msg["t"] == "HEARTBEAT" and msg["epoch"] not in (0, self.epoch):
                raise SystemExit("broker epoch changed under the benchmark")
        now = time.monotonic()
        if now - self.last_beat >= self.heartbeat_ms / 1000 / 2:
            self.send("HEARTBEAT", epoch=self.epoch, node=self.id, decode_errors=0,
                      in_flight=len(self.pending), done=self.done)
            self.last_beat = now

    def answer(self, count):
        """Answers up to COUNT pending jobs; returns the number of page RESULTs sent."""
        sent = 0
        answered = 0
        while self.pending and answered < count:
            job = self.pending.pop(0)
            answered += 1
            now_ms = int(time.time() * 1000)
            if job["kind"] == "robots":
                self.send("ROBOTS", crawl=job["crawl"], id=job["id"], url=job["url"], status=404,
                          reason="", body=b"", fetched_at_ms=now_ms)
                continue
            first = self.next_url
            self.next_url += self.links
            links = [f"http://h{k % self.hosts}.bench.test/p{k}"
                     for k in range(first, first + self.links)]
            url = job["origin"] if job.get("origin") else job["url"]
            self.results.send(zc_message(
                "RESULT", crawl=job["crawl"], id=job["id"], url=url, final_url=job["url"],
                depth=job["depth"], attempt=job["attempt"], status=200,
                content_type="text/html", fetched_at_ms=now_ms,
                redirects=job.get("redirects", 0), total_ms=1, connect_ms=0, ttfb_ms=0,
                title="synthetic", links=links, fields={}, body_bytes=1000))
            sent += 1
        self.done += answered
        if answered:
            self.send("READY", credit=answered)
        return sent


def memory_run(args, zmq, ctx, variant, workdir, procs):
    bin_dir = os.path.abspath(args.bin)
    label = f"broker-{variant}"
    extra = []
    data = None
    if variant == "durable":
        data = os.path.join(workdir, "data")
        extra = ["--data", data, "--max-memory", args.max_memory]
    extra += args.broker_args.split()
    ready = os.path.join(workdir, f"{label}.json")
    broker = procs.start(label, [os.path.join(bin_dir, "zcrawl"), "broker", "--jobs",
                                 "tcp://127.0.0.1:*", "--results", "tcp://127.0.0.1:*",
                                 "--control", "tcp://127.0.0.1:*", "--ready-file", ready] + extra)
    ep = read_ready(ready, broker)
    control = Control(zmq, ctx, ep["control"])
    items = os.path.join(workdir, f"{variant}.items.jsonl")
    crawl_id = submit(bin_dir, ep["control"],
                      ["http://h0.bench.test/", "-o", items, "--allow-domain", "bench.test",
                       "--ignore-robots", "--impolite"])
    fetcher = SyntheticFetcher(zmq, ctx, ep["jobs"], args.capacity, args.hosts, args.links)
    fetcher.register()

    def status():
        _, c = control.crawl(crawl_id, timeout_ms=30000)
        if c is None:
            raise SystemExit(f"{label}: no status reply")
        return c

    def measure(c, t0):
        m = proc_status(broker.pid)
        m.update(queued=c["queued"], pages=c["pages"], in_flight=c["in_flight"],
                 seen=c["queued"] + c["pages"] + c["failed"] + c["in_flight"],
                 elapsed_s=round(time.monotonic() - t0, 1))
        if data:
            m["store_on_disk"], m["store_apparent"] = disk_usage(data)
        return m

    t0 = time.monotonic()
    base = measure(status(), t0)
    points = []
    targets = sorted(args.at)
    sent = 0
    result_deadline = t0 + args.time_limit
    while targets and time.monotonic() < result_deadline:
        # Jobs to answer: the broker dispatches as credit and the frontier allow
        fetcher.pump(timeout_ms=1000 if not fetcher.pending else 0)
        if args.rate:
            # Pace the feed: LINKS new URLs per RESULT, at most RATE new URLs/s
            ahead = t0 + sent * args.links / args.rate - time.monotonic()
            if ahead > 0:
                fetcher.pump(timeout_ms=int(ahead * 1000) + 1)
                continue
        sent += fetcher.answer(max(1, min(args.chunk, args.rate // args.links))
                               if args.rate else args.chunk)
        # Wait until the broker has written every result sent (its frontier is then
        # up to date), heartbeating meanwhile
        while True:
            c = status()
            if c["pages"] + c["failed"] >= sent:
                break
            fetcher.pump(timeout_ms=50)
        while targets and c["queued"] >= targets[0]:
            # Let the broker settle (a few commit intervals) before reading its RAM
            settle = time.monotonic() + args.settle
            while time.monotonic() < settle:
                fetcher.pump(timeout_ms=50)
            c = status()
            m = measure(c, t0)
            points.append(m)
            print(f"{variant:>8}: queued {m['queued']:>10,}  seen {m['seen']:>10,}  "
                  f"RssAnon {m['RssAnon'] / 2**20:8.1f} MiB  RssFile {m['RssFile'] / 2**20:7.1f} "
                  f"MiB  VmHWM {m['VmHWM'] / 2**20:8.1f} MiB"
                  + (f"  store {m['store_on_disk'] / 2**20:.0f} MiB on disk" if data else "")
                  + f"  ({m['elapsed_s']} s)", flush=True)
            targets.pop(0)
    broker.terminate()
    try:
        rc = broker.wait(timeout=120)
    except subprocess.TimeoutExpired:
        rc = "did not exit in 120 s after SIGTERM"
    return {"variant": variant, "base": base, "points": points, "results_sent": sent,
            "links_per_result": args.links, "hosts": args.hosts, "broker_exit": rc,
            "log_problems": log_problems(os.path.join(workdir, f"{label}.log"))}


def cmd_memory(args):
    zmq = need_zmq()
    ctx = zmq.Context()
    out = []
    with tempfile.TemporaryDirectory(prefix="zcrawl-bench-mem-", dir=args.tmp) as workdir, \
            Procs(workdir) as procs:
        print(f"store on {args.tmp}: {filesystem_of(args.tmp)}", flush=True)
        for variant in args.variant or ["memory", "durable"]:
            r = memory_run(args, zmq, ctx, variant, workdir, procs)
            out.append(r)
            base = r["base"]
            print(f"{variant:>8}: baseline RssAnon {base['RssAnon'] / 2**20:.1f} MiB at queued "
                  f"{base['queued']}; {r['results_sent']} results sent; broker exit "
                  f"{r['broker_exit']}")
            for m in r["points"]:
                grow = m["RssAnon"] - base["RssAnon"]
                print(f"{variant:>8}: at {m['queued']:,} queued / {m['seen']:,} seen: RssAnon "
                      f"growth {grow / 2**20:.1f} MiB = {grow / m['queued']:.1f} B per queued "
                      f"URL = {grow / m['seen']:.1f} B per seen URL")
            for line in r["log_problems"][:args.show_log]:
                print(f"    log: {line}")
            if len(r["log_problems"]) > args.show_log:
                print(f"    log: ... {len(r['log_problems'])} warning/error lines in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bin", default=os.path.join(HERE, "..", "build", "bin"))
    common.add_argument("--tmp", default="/tmp", help="where stores and outputs go")
    common.add_argument("--json")
    common.add_argument("--show-log", type=int, default=5)

    p = sub.add_parser("throughput", parents=[common])
    p.add_argument("--pages", type=int, default=20000)
    p.add_argument("--host-concurrency", type=int, default=64)
    p.add_argument("--repeat", type=int, default=5)
    p.set_defaults(func=cmd_throughput)

    p = sub.add_parser("restart", parents=[common])
    p.add_argument("--pages", type=int, default=300000)
    p.add_argument("--host-concurrency", type=int, default=64)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--warmup", type=float, default=5.0, help="s of crawl before the first kill")
    p.add_argument("--gap", type=float, default=4.0, help="s of crawl after a recovery")
    p.add_argument("--pre-window", type=float, default=3.0)
    p.add_argument("--window", type=float, default=0.5)
    p.add_argument("--poll-ms", type=int, default=100)
    p.add_argument("--recover-timeout", type=float, default=30.0)
    p.add_argument("--done-timeout", type=float, default=600.0)
    p.add_argument("--keep", help="copy the work dir (logs, outputs) here")
    p.set_defaults(func=cmd_restart)

    p = sub.add_parser("memory", parents=[common])
    p.add_argument("--urls", type=int, default=10_000_000)
    p.add_argument("--at", type=int, action="append", default=[])
    p.add_argument("--hosts", type=int, default=10000)
    p.add_argument("--links", type=int, default=1000)
    p.add_argument("--capacity", type=int, default=256, help="the synthetic fetcher's credit")
    p.add_argument("--chunk", type=int, default=100, help="RESULTs sent between status checks")
    p.add_argument("--max-memory", default="256M")
    p.add_argument("--variant", action="append", choices=["memory", "durable"])
    p.add_argument("--time-limit", type=float, default=600.0, help="s per variant")
    p.add_argument("--rate", type=int, default=0, help="new URLs/s at most (0 = no limit)")
    p.add_argument("--broker-args", default="", help="more zcrawl broker flags")
    p.add_argument("--settle", type=float, default=1.0, help="s of rest before a reading")
    p.set_defaults(func=cmd_memory)

    args = parser.parse_args()
    if args.command == "memory":
        args.at = args.at or [1_000_000, 5_000_000, args.urls]
        args.at = sorted({a for a in args.at if a <= args.urls})
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
