#!/usr/bin/env python3
"""e2e: graceful stop. A broker, two fetcher nodes and a parser node crawl the
test site politely (a host delay, so the crawl lasts several seconds). Mid-crawl
one fetcher and the parser node get SIGTERM: both drain and exit 0 within
--drain-ms + 5 s, without sanitizer reports. A new parser node takes over, the
crawl finishes with the exact output (every reachable page once, no "shutdown"
error lines), and the broker's log shows it took the fetcher's BYE (its jobs
were requeued at once, not after their leases). Finally the broker exits 0 on
SIGTERM.
"""
import re
import subprocess
import sys
import time

import zc_e2e
from zc_e2e import check

PAGES = 300
DRAIN_MS = 3000
HOST_DELAY_MS = 20
# Polite (no --impolite): one host, a request start every HOST_DELAY_MS, so
# 300 pages take about 6 s.
CRAWL_OPTIONS = ["--allow-private", "--timeout", "1.5", "--connect-timeout", "2",
                 "--max-body", "1M", "--host-concurrency", "8", "--host-delay",
                 str(HOST_DELAY_MS), "--retry-base", "200"]


def start_parser(h, label, endpoints):
    h.start_parser(label, endpoints, actors=2, extra_args=["--drain-ms", str(DRAIN_MS)])
    return h.proc(label)


def start_fetcher(h, label, endpoints):
    h.start_fetcher(label, endpoints, ["--in-flight", "8", "--drain-ms", str(DRAIN_MS)])
    return h.proc(label)


def read_log(h, label):
    with open(h.path(f"{label}.log"), errors="replace") as f:
        return f.read()


def line_count(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def stop_gracefully(h, label, proc, limit_s):
    """SIGTERM; the process must exit 0 within LIMIT_S, with a clean log."""
    started = time.monotonic()
    proc.send_signal(subprocess.signal.SIGTERM)
    try:
        rc = proc.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        raise zc_e2e.TestFailure(f"{label} still running {limit_s} s after SIGTERM")
    took = time.monotonic() - started
    check(rc == 0, f"{label} exited {rc} after SIGTERM")
    reports = h.sanitizer_reports(label)
    check(not reports, f"sanitizer: {reports}")
    return took


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "graceful") as h:
        site = h.start_testsite(PAGES, slow_ms=3000)
        endpoints = h.start_broker()
        broker = h.proc("broker")
        parser0 = start_parser(h, "parser0", endpoints)
        fetcher0 = start_fetcher(h, "fetcher0", endpoints)
        start_fetcher(h, "fetcher1", endpoints)

        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        control = endpoints["control"]
        crawl = h.run(["zcrawlctl", "--control", control, "submit", site["url"] + "/", "-o",
                       items, "--errors", errors] + CRAWL_OPTIONS).stdout.strip()
        check(crawl, "submit printed no crawl id")
        crawl_started = time.monotonic()

        # Mid-crawl: a fifth of the pages written, most still to come.
        zc_e2e.wait_until(lambda: line_count(items) >= PAGES // 5, 60, "a fifth of the items")
        check(line_count(items) < PAGES * 3 // 4,
              f"crawl too fast to stop mid-way ({line_count(items)} items already)")
        # The nodes give up waiting for DRAINED after drain-ms + 5 s; a
        # second more for the process to tear down.
        limit = DRAIN_MS / 1000 + 5 + 1
        # Both at once, as an operator stopping two nodes would.
        t_fetcher = stop_gracefully(h, "fetcher0", fetcher0, limit)
        t_parser = stop_gracefully(h, "parser0", parser0, limit)
        at_stop = line_count(items)

        fetcher_log = read_log(h, "fetcher0")
        match = re.search(r"zc_fetcher: (\S+) drained: (\d+) jobs done, (\d+) handed back",
                          fetcher_log)
        check(match, "fetcher0 did not log that it drained")
        fetcher_id = match.group(1)

        start_parser(h, "parser1", endpoints)
        h.run(["zcrawlctl", "--control", control, "wait", crawl, "--timeout", "120"],
              timeout=130)
        crawl_seconds = time.monotonic() - crawl_started
        summary = zc_e2e.check_crawl_output(h, items, errors)

        # The broker took the BYE: some log line names the fetcher and BYE.
        broker_log = read_log(h, "broker")
        bye_lines = [line for line in broker_log.splitlines()
                     if fetcher_id in line and "bye" in line.lower()]
        check(bye_lines, f"broker log has no BYE line for {fetcher_id}")

        took_broker = stop_gracefully(h, "broker", broker, 10)
        summary.update({"fetcher_stop_s": round(t_fetcher, 2), "parser_stop_s": round(t_parser, 2),
                        "broker_stop_s": round(took_broker, 2), "items_at_stop": at_stop,
                        "handed_back": int(match.group(3)), "crawl_s": round(crawl_seconds, 1)})
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
