#!/usr/bin/env python3
"""chaos: `zcrawl local --data DIR` stopped mid-crawl and started again with
the same command finishes the crawl exactly once.

1. kill -9 once some but not all items are written; the same command again
   exits 0; items hold every reachable page exactly once, errors is empty.
2. SIGTERM mid-crawl: the process exits 0 within a bound (graceful stop);
   the same command again finishes the crawl exactly once.
"""
import os
import signal
import subprocess
import sys

import zc_chaos
from zc_chaos import check, count_lines

PAGES = 1500          # ~17 s at the 11 ms spacing of SLOW_CRAWL_OPTIONS
STOP_AFTER = 300      # items lines written before the stop
SIGTERM_EXIT_S = 15   # graceful stop bound: --drain-ms (10 s) plus margin
RUN_TIMEOUT_S = 120


def local_command(h, site, tag):
    data = h.path(f"{tag}.data")
    os.makedirs(data, exist_ok=True)
    items, errors = h.path(f"{tag}.items.jsonl"), h.path(f"{tag}.errors.jsonl")
    args = ["zcrawl", "local", site["url"] + "/", "--data", data, "-o", items, "--errors",
            errors, "-q", "--fetchers", "2", "--in-flight", "8", "--parsers", "2"]
    return args + zc_chaos.SLOW_CRAWL_OPTIONS, items, errors


def stop_and_resume(h, site, tag, sig):
    """Runs the crawl, stops it with SIG mid-crawl, runs the same command
    again to the end and checks the output."""
    total = len(zc_chaos.expected_urls(h.truth))
    args, items, errors = local_command(h, site, tag)
    first = h.start(f"{tag}.1", args)

    def mid_crawl():
        check(first.poll() is None,
              f"{tag}.1 exited {first.returncode} before {STOP_AFTER} items were written")
        return count_lines(items) >= STOP_AFTER
    zc_chaos.wait_until(mid_crawl, 60, f"{STOP_AFTER} items from {tag}.1")
    written = count_lines(items)
    check(written < total, f"{tag}.1 was done ({written} items) before the stop")
    rc = h.end(first, sig, timeout=SIGTERM_EXIT_S)
    h.note(f"{signal.Signals(sig).name} {tag}.1 at {written} items: exit status {rc}, "
           f"{count_lines(items)} items now")
    if sig == signal.SIGKILL:
        check(rc == -9, f"{tag}.1 exited {rc}, not by SIGKILL")
    else:
        check(rc is not None, f"{tag}.1 did not exit within {SIGTERM_EXIT_S} s of SIGTERM")
        check(rc == 0, f"{tag}.1 exited {rc} after SIGTERM, not 0")

    second = h.start(f"{tag}.2", args)
    try:
        rc = second.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        rc = None
    h.end(second, signal.SIGKILL)
    check(rc == 0, f"{tag}.2 (the same command again) exited {rc}"
          if rc is not None else f"{tag}.2 did not finish within {RUN_TIMEOUT_S} s")
    h.note(f"{tag}.2 finished: {count_lines(items)} items")
    return zc_chaos.check_exactly_once(h, items, errors)


def test(bin_dir):
    summary = {}
    with zc_chaos.ChaosHarness(bin_dir, "chaos-local") as h:
        site = h.start_testsite(PAGES, slow_ms=zc_chaos.SITE_SLOW_MS,
                                big_bytes=zc_chaos.SITE_BIG_BYTES)
        for tag, sig in (("kill", signal.SIGKILL), ("term", signal.SIGTERM)):
            try:
                summary[tag] = stop_and_resume(h, site, tag, sig)
            except zc_chaos.TestFailure as e:
                raise zc_chaos.TestFailure(f"{tag} variant: {e}\nevents:\n  " +
                                           "\n  ".join(h.events))
    return summary


if __name__ == "__main__":
    sys.exit(zc_chaos.zc_e2e.main(test))
