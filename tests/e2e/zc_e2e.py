"""Shared harness for zcrawl's end-to-end tests.

Starts real processes (the test site, zcrawl nodes), waits on conditions with
deadlines (ready files, crawl state), and checks a crawl's output against the
test site's ground truth. Every process started through a Harness is killed
and every temporary file removed when the `with` block ends, also on failure.
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


class TestFailure(Exception):
    pass


# One line of the test site's request log; [0] is the listener ("main" or
# "external"), as in the issue-3 tests.
SiteRequest = collections.namedtuple("SiteRequest",
                                     "listener method url status start_ms host")


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def wait_until(predicate, timeout, what):
    """Polls predicate() until it returns a truthy value or timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)  # poll interval, not synchronisation
    raise TestFailure(f"timed out after {timeout} s waiting for {what}")


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    lines = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            text = raw.decode("utf-8")  # raises on invalid UTF-8: that is a failure
            try:
                lines.append(json.loads(text))
            except json.JSONDecodeError as e:
                raise TestFailure(f"{path}:{number}: not JSON: {e}: {text[:200]!r}")
    return lines


class Harness:
    def __init__(self, bin_dir, name):
        self.bin_dir = os.path.abspath(bin_dir)
        self.dir = tempfile.mkdtemp(prefix=f"zcrawl-{name}-")
        self.procs = []
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        unclean = []
        for proc, label in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                unclean.append(f"{label} ignored SIGTERM for 10 s")
            if proc.returncode != 0:
                unclean.append(f"{label} exited {proc.returncode} after SIGTERM")
            unclean += self.sanitizer_reports(label)
        if exc_type is None and unclean:
            self.dump_logs()
            raise TestFailure("; ".join(unclean))
        if exc_type is not None:
            self.dump_logs()
        if exc_type is None or os.environ.get("ZC_E2E_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"kept {self.dir}", file=sys.stderr)
        return False

    def sanitizer_reports(self, label):
        """ASan/LSan/UBSan reports in a process's log: each one fails the test."""
        path = self.path(f"{label}.log")
        if not os.path.exists(path):
            return []
        with open(path, errors="replace") as f:
            text = f.read()
        return [f"{label}: {marker.strip()}" for marker in
                ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
                if marker in text]

    def dump_logs(self):
        for _, label in self.procs:
            path = self.path(f"{label}.log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.readlines()[-30:]
                print(f"--- {label}.log (last {len(tail)} lines) ---", file=sys.stderr)
                sys.stderr.writelines(tail)

    def path(self, name):
        return os.path.join(self.dir, name)

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    def start(self, label, args):
        """Starts a program from the build's bin dir; output goes to LABEL.log."""
        log = open(self.path(f"{label}.log"), "wb")
        proc = subprocess.Popen([self.binary(args[0])] + args[1:], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append((proc, label))
        return proc

    def wait_ready(self, label, proc, ready_file, timeout=20):
        def ready():
            check(proc.poll() is None, f"{label} exited with {proc.returncode} before it was ready")
            if os.path.exists(ready_file):
                with open(ready_file) as f:
                    return json.load(f)
            return None
        return wait_until(ready, timeout, f"{label} ready file")

    def proc(self, label):
        """The process started as LABEL (the latest one if LABEL was reused)."""
        for proc, name in reversed(self.procs):
            if name == label:
                return proc
        raise TestFailure(f"no process started as {label}")

    # --- zcrawl nodes (the broker binds wildcard ports on 127.0.0.1) ---

    def start_broker(self, label="broker", extra_args=()):
        """Starts `zcrawl broker` on tcp://127.0.0.1:* (jobs, results, control) with
        --heartbeat-ms 200 unless EXTRA_ARGS sets one; waits for its ready file and
        returns it (the bound endpoints). h.proc(LABEL) is the process."""
        extra = list(extra_args)
        heartbeat = [] if any(a == "--heartbeat-ms" or a.startswith("--heartbeat-ms=")
                              for a in extra) else ["--heartbeat-ms", "200"]
        ready = self.path(f"{label}.ready.json")
        proc = self.start(label, ["zcrawl", "broker", "--jobs", "tcp://127.0.0.1:*",
                                  "--results", "tcp://127.0.0.1:*",
                                  "--control", "tcp://127.0.0.1:*"]
                          + heartbeat + extra + ["--ready-file", ready])
        return self.wait_ready(label, proc, ready)

    def start_parser(self, label, endpoints, actors=2, extra_args=()):
        """Starts `zcrawl parser` against the broker's ENDPOINTS, bound to
        tcp://127.0.0.1:*; waits for its ready file and returns it ("front" is the
        bound endpoint). h.proc(LABEL) is the process."""
        ready = self.path(f"{label}.ready.json")
        proc = self.start(label, ["zcrawl", "parser", "--broker", endpoints["jobs"],
                                  "--bind", "tcp://127.0.0.1:*", "--actors", str(actors)]
                          + list(extra_args) + ["--ready-file", ready])
        return self.wait_ready(label, proc, ready)

    def start_fetcher(self, label, endpoints, extra_args=()):
        """Starts `zcrawl fetcher` against the broker's ENDPOINTS; waits for its ready
        file and returns it. h.proc(LABEL) is the process."""
        ready = self.path(f"{label}.ready.json")
        proc = self.start(label, ["zcrawl", "fetcher", "--broker", endpoints["jobs"]]
                          + list(extra_args) + ["--ready-file", ready])
        return self.wait_ready(label, proc, ready)

    def run(self, args, timeout=60, check_rc=True):
        """Runs a program to completion; returns CompletedProcess."""
        result = subprocess.run([self.binary(args[0])] + args[1:], capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check_rc and result.returncode != 0:
            raise TestFailure(f"{' '.join(args)} exited {result.returncode}:\n"
                              f"{result.stdout}\n{result.stderr}")
        return result

    # --- the test site -------------------------------------------------

    def start_testsite(self, pages, seed=42, slow_ms=4000, big_bytes=2 << 20):
        ready = self.path("testsite.ready.json")
        truth_path = self.path("truth.json")
        self.site_log = self.path("testsite.requests.log")
        proc = self.start("testsite", [
            "zc-testsite", "--pages", str(pages), "--seed", str(seed), "--host", "127.0.0.1",
            "--slow-ms", str(slow_ms), "--big-bytes", str(big_bytes), "--log", self.site_log,
            "--truth", truth_path, "--ready-file", ready])
        endpoints = self.wait_ready("testsite", proc, ready)
        with open(truth_path) as f:
            self.truth = json.load(f)
        return endpoints

    def site_requests(self):
        """The test site's request log as SiteRequest tuples (listener, method, url,
        status, start_ms, host), in log order (the order responses were queued; sort
        by start_ms for the order requests arrived). Lines are
        "LISTENER START_MS HOST METHOD URI STATUS"; the older
        "LISTENER METHOD URI STATUS" form is read too (start_ms 0, host "-")."""
        entries = []
        with open(self.site_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[1].isdigit():
                    entries.append(SiteRequest(parts[0], parts[3], parts[4], parts[5],
                                               int(parts[1]), parts[2]))
                elif len(parts) >= 4:
                    entries.append(SiteRequest(parts[0], parts[1], parts[2], parts[3], 0, "-"))
        return entries


# Crawl options every e2e crawl of the test site uses: the slow page must time
# out and the big page must be too large; --impolite because the site is ours
# (no per-host delay, so the crawl stays fast under the polite defaults).
FAST_CRAWL_OPTIONS = ["--allow-private", "--impolite", "--timeout", "1.5", "--connect-timeout",
                      "2", "--max-body", "1M", "--host-concurrency", "16"]


def check_crawl_output(harness, items_path, errors_path):
    """Asserts the crawl output matches the test site's ground truth exactly."""
    truth = harness.truth
    items = read_jsonl(items_path)
    errors = read_jsonl(errors_path)

    urls = [item["url"] for item in items]
    duplicates = {u for u in urls if urls.count(u) > 1} if len(set(urls)) != len(urls) else set()
    check(not duplicates, f"pages written more than once: {sorted(duplicates)[:10]}")

    expected = {page["url"]: page for page in truth["pages"]}
    missing = sorted(set(expected) - set(urls))
    unexpected = sorted(set(urls) - set(expected))
    check(not missing, f"{len(missing)} reachable pages missing from items, e.g. {missing[:5]}")
    check(not unexpected, f"{len(unexpected)} unexpected items, e.g. {unexpected[:5]}")

    for item in items:
        page = expected[item["url"]]
        check(item["title"] == page["title"],
              f"{item['url']}: title {item['title']!r} != truth {page['title']!r}")
        check(item["final_url"] == page["final_url"],
              f"{item['url']}: final_url {item['final_url']!r} != truth {page['final_url']!r}")
        check(200 <= item["status"] < 300, f"{item['url']}: status {item['status']}")

    expected_errors = {e["url"]: e["reason"] for e in truth["errors"]}
    got_errors = {}
    for e in errors:
        check(e["url"] not in got_errors, f"error for {e['url']} written twice")
        got_errors[e["url"]] = e["reason"]
    check(got_errors == expected_errors,
          f"errors {got_errors} != truth {expected_errors}")

    external = [r for r in harness.site_requests() if r[0] == "external"]
    check(not external, f"{len(external)} requests reached the external host: {external[:3]}")

    redirected = [p for p in truth["pages"] if p["final_url"] != p["url"]]
    gzip = [p for p in truth["pages"] if p["url"].endswith("/gzip.html")]
    check(redirected and gzip, "truth lacks the redirect or gzip page")
    return {"items": len(items), "errors": len(errors)}


def main(test):
    """Runs TEST(bin_dir) and maps the outcome to an exit status and a closing line."""
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "bin")
    started = time.monotonic()
    try:
        summary = test(bin_dir)
    except TestFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    print(f"ok ({time.monotonic() - started:.1f} s) {summary or ''}")
    print("1 passed, 0 failed")
    return 0
