"""Shared helpers for zcrawl's chaos tests (issue 5 acceptance, ctest label chaos).

Builds on the e2e harness (tests/e2e/zc_e2e.py): real processes, ready files,
conditions waited for with deadlines. Adds what killing processes on purpose
needs: a harness that lets a test end a process with a signal (its log is
still dumped on failure), a cluster whose nodes can be killed and restarted
(the broker on the same ports and --data dir), a crawl slowed down by a
politeness delay so that it outlives a kill schedule, and an exactly-once
check of the output against the test site's ground truth.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

import zc_e2e  # noqa: E402
from zc_e2e import TestFailure, check, read_jsonl, wait_until  # noqa: E402,F401

# The test site as chaos tests serve it: /slow.html answers in 50 ms and
# /big.html is 64 KiB, so with the options below every reachable page is
# fetchable and the errors file must end empty (the site's truth still lists
# those two as errors; expected_urls() moves them to the items).
SITE_SLOW_MS = 50
SITE_BIG_BYTES = 64 << 10

# A polite crawl of our own site: --host-delay 1 makes the broker space
# dispatches to the one host by 11 ms (delay + a 10 ms margin, broker/zc_crawl.c),
# so a crawl cannot go faster than ~90 pages/s: 5,000 pages take at least ~55 s,
# whatever the machine, and a kill schedule of ~30 s always lands mid-crawl.
# No errors are acceptable: the slow page gets 5 s, the big page fits in 1M.
SLOW_CRAWL_OPTIONS = ["--allow-private", "--host-delay", "1", "--host-concurrency", "4",
                      "--timeout", "5", "--connect-timeout", "2", "--max-body", "1M",
                      "--retry-base", "100"]

# Ports of processes that end on purpose take this long at most to go away.
KILL_WAIT_S = 10


def count_lines(path):
    """Complete lines in a file so far (0 if it does not exist yet)."""
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


class ChaosHarness(zc_e2e.Harness):
    """An e2e Harness whose processes may be ended on purpose (kill -9, SIGTERM).

    A process ended with end() leaves the set the harness stops at exit (so its
    exit status is not held against it) but its log is still dumped on failure.
    Every event (kill, restart) is recorded so a failure can print it.
    """

    def __init__(self, bin_dir, name):
        super().__init__(bin_dir, name)
        self.ended = []   # (proc, label) ended on purpose
        self.events = []  # "T+12.3s kill -9 broker.1 (items 1234)" lines
        self.t0 = time.monotonic()

    def note(self, text):
        line = f"T+{time.monotonic() - self.t0:.1f}s {text}"
        self.events.append(line)
        print(line, flush=True)

    def label_of(self, proc):
        for p, label in self.procs + self.ended:
            if p is proc:
                return label
        return "?"

    def end(self, proc, sig=signal.SIGKILL, timeout=KILL_WAIT_S):
        """Sends SIG to PROC, waits up to TIMEOUT s for it to exit; returns its status
        (None if it did not exit in time; it is then killed)."""
        label = self.label_of(proc)
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
        self.procs = [(p, lb) for p, lb in self.procs if p is not proc]
        self.ended.append((proc, label))
        return rc

    def dump_logs(self):
        for _, label in self.ended:
            path = self.path(f"{label}.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.readlines()[-30:]
                print(f"--- {label}.log (ended on purpose; last {len(tail)} lines) ---",
                      file=sys.stderr)
                sys.stderr.writelines(tail)
        super().dump_logs()

    def __exit__(self, exc_type, exc, tb):
        reports = []
        for _, label in self.ended:
            reports += self.sanitizer_reports(label)
        if exc_type is None and reports:
            super().__exit__(TestFailure, None, None)  # stops the rest, dumps every log
            raise TestFailure("; ".join(reports))
        return super().__exit__(exc_type, exc, tb)


def expected_urls(truth):
    """URL -> truth page (or None for the pages the site's truth calls errors but
    which the chaos crawl options make fetchable)."""
    expected = {page["url"]: page for page in truth["pages"]}
    for error in truth["errors"]:
        expected[error["url"]] = None
    return expected


def check_exactly_once(harness, items_path, errors_path):
    """Asserts the items hold every reachable page of the site exactly once
    (titles and final URLs as in the truth), errors is empty, and nothing
    reached the external listener. Returns {"items": n}."""
    expected = expected_urls(harness.truth)
    items = read_jsonl(items_path)
    errors = read_jsonl(errors_path)
    counts = {}
    for item in items:
        counts[item["url"]] = counts.get(item["url"], 0) + 1
    duplicates = sorted(u for u, n in counts.items() if n > 1)
    check(not duplicates, f"{len(duplicates)} pages written more than once "
          f"({len(items)} items, {len(counts)} distinct), e.g. {duplicates[:5]}")
    missing = sorted(set(expected) - set(counts))
    unexpected = sorted(set(counts) - set(expected))
    check(not missing, f"{len(missing)} of {len(expected)} reachable pages missing from items, "
          f"e.g. {missing[:5]}")
    check(not unexpected, f"{len(unexpected)} unexpected items, e.g. {unexpected[:5]}")
    check(not errors, f"errors file not empty ({len(errors)} lines), e.g. {errors[:3]}")
    for item in items:
        page = expected[item["url"]]
        check(200 <= item["status"] < 300, f"{item['url']}: status {item['status']}")
        if page is None:
            continue
        check(item["title"] == page["title"],
              f"{item['url']}: title {item['title']!r} != truth {page['title']!r}")
        check(item["final_url"] == page["final_url"],
              f"{item['url']}: final_url {item['final_url']!r} != truth {page['final_url']!r}")
    external = [r for r in harness.site_requests() if r.listener == "external"]
    check(not external, f"{len(external)} requests reached the external host: {external[:3]}")
    return {"items": len(items)}


def page_refetches(harness):
    """(extra requests, distinct URIs requested more than once) of the main
    listener's page requests in the site's request log, /robots.txt ignored."""
    counts = {}
    for r in harness.site_requests():
        if r.listener != "main" or r.url.split("?")[0] == "/robots.txt":
            continue
        counts[r.url] = counts.get(r.url, 0) + 1
    repeated = {u: n for u, n in counts.items() if n > 1}
    return sum(n - 1 for n in repeated.values()), repeated


class Cluster:
    """A broker (with --data), fetcher and parser nodes as separate processes
    whose members can be killed and restarted. Names: "broker", "fetcher0",
    "fetcher1", ..., "parser0", ... Each incarnation logs to NAME.N.log.

    The broker binds wildcard ports the first time and the same ports (read
    from its ready file) on every restart, so nodes reconnect by themselves;
    parser nodes bind a new wildcard port on restart (the broker relays it)."""

    def __init__(self, h, data_dir, fetchers=2, parsers=2, heartbeat_ms=200, commit_ms=None,
                 fetcher_in_flight=8, parser_actors=1):
        self.h = h
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        self.heartbeat_ms = heartbeat_ms
        self.commit_ms = commit_ms
        self.fetcher_in_flight = fetcher_in_flight
        self.parser_actors = parser_actors
        self.names = (["broker"] + [f"parser{i}" for i in range(parsers)] +
                      [f"fetcher{i}" for i in range(fetchers)])
        self.procs = {}
        self.incarnation = {name: 0 for name in self.names}
        self.endpoints = None  # the broker's {"jobs", "results", "control"}

    def start(self):
        for name in self.names:
            self.start_node(name)
        return self

    @property
    def control(self):
        return self.endpoints["control"]

    def start_node(self, name, timeout=30):
        """Starts (or restarts) NAME and waits for its ready file."""
        self.incarnation[name] += 1
        label = f"{name}.{self.incarnation[name]}"
        ready = self.h.path(f"{label}.ready.json")
        if name == "broker":
            eps = self.endpoints or {"jobs": "tcp://127.0.0.1:*", "results": "tcp://127.0.0.1:*",
                                     "control": "tcp://127.0.0.1:*"}
            args = ["zcrawl", "broker", "--jobs", eps["jobs"], "--results", eps["results"],
                    "--control", eps["control"], "--heartbeat-ms", str(self.heartbeat_ms),
                    "--data", self.data_dir]
            if self.commit_ms is not None:
                args += ["--commit-ms", str(self.commit_ms)]
        elif name.startswith("parser"):
            args = ["zcrawl", "parser", "--broker", self.endpoints["jobs"], "--bind",
                    "tcp://127.0.0.1:*", "--actors", str(self.parser_actors)]
        else:
            args = ["zcrawl", "fetcher", "--broker", self.endpoints["jobs"], "--in-flight",
                    str(self.fetcher_in_flight)]
        proc = self.h.start(label, args + ["--ready-file", ready])
        doc = self.h.wait_ready(label, proc, ready, timeout=timeout)
        if name == "broker":
            fresh = {k: doc[k] for k in ("jobs", "results", "control")}
            check(self.endpoints is None or fresh == self.endpoints,
                  f"restarted broker bound {fresh}, not {self.endpoints}")
            self.endpoints = fresh
        self.procs[name] = proc
        return proc

    def kill(self, name, sig=signal.SIGKILL):
        """Ends NAME with SIG (default kill -9); returns its exit status."""
        return self.h.end(self.procs.pop(name), sig)

    def check_alive(self):
        for name, proc in self.procs.items():
            check(proc.poll() is None,
                  f"{self.h.label_of(proc)} exited by itself with status {proc.returncode}")

    def ctl(self, args, timeout=15, check_rc=True):
        return self.h.run(["zcrawlctl", "--control", self.control] + args, timeout=timeout,
                          check_rc=check_rc)

    def submit(self, seed_url, items, errors, options):
        crawl = self.ctl(["submit", seed_url, "-o", items, "--errors", errors] +
                         options).stdout.strip()
        check(crawl, "submit printed no crawl id")
        return crawl

    def status(self, crawl=None):
        """The broker's status as JSON, or None if it did not answer."""
        try:
            result = self.ctl(["status"] + ([crawl] if crawl else []) + ["--json"],
                              timeout=10, check_rc=False)
        except subprocess.TimeoutExpired:
            return None
        if result.returncode != 0:
            return None
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError:
            return None

    def crawl_status(self, crawl):
        doc = self.status(crawl)
        if not doc:
            return None
        for c in doc.get("crawls", []):
            if c.get("id") == crawl:
                return c
        return None

    def wait_done(self, crawl, timeout, unknown_for_s=10):
        """Polls the crawl's status until it is "done"; fails on "stopped", when
        the broker answers without the crawl for UNKNOWN_FOR_S s (a restarted
        broker did not resume it), or when TIMEOUT s pass (with the last status)."""
        last = [None]
        unknown_since = [None]
        next_note = [time.monotonic()]

        def done():
            self.check_alive()
            doc = self.status()  # every crawl: an unknown one is not an error reply
            if doc is None:
                return False  # the broker did not answer (yet)
            c = next((c for c in doc.get("crawls", []) if c.get("id") == crawl), None)
            if c is None:
                now = time.monotonic()
                unknown_since[0] = unknown_since[0] or now
                check(now - unknown_since[0] < unknown_for_s,
                      f"the broker does not know crawl {crawl} (for {unknown_for_s} s): {doc}")
                return False
            unknown_since[0] = None
            last[0] = c
            if time.monotonic() >= next_note[0]:  # progress in the events, for diagnosis
                next_note[0] = time.monotonic() + 10
                self.h.note(f"progress: {c.get('state')}, {c.get('pages')} pages, "
                            f"{c.get('queued')} queued, {c.get('in_flight')} in flight")
            check(c.get("state") != "stopped", f"crawl {crawl} stopped: {c}")
            return c.get("state") == "done"
        try:
            wait_until(done, timeout, f"crawl {crawl} to be done")
        except TestFailure as e:
            raise TestFailure(f"{e}; last status {last[0]}")
        return last[0]
