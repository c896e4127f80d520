#!/usr/bin/env python3
"""e2e: a durable crawl whose disk fills up. The broker's store and output live
on a 1 MiB tmpfs; the crawl must pause with a clear error (log and status)
instead of losing or duplicating anything, and once the disk has room again
`zcrawlctl resume` must finish it with every reachable page exactly once.

Needs root (mount); exits 77 (skipped) where mounting is not permitted.
"""
import json
import os
import subprocess
import sys
import time

import zc_e2e
from zc_e2e import check

PAGES = 2000
SKIPPED = 77  # ctest SKIP_RETURN_CODE


class Skipped(Exception):
    pass


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                           capture_output=True, text=True)
    except OSError:  # no mount(8) at all
        return False
    return r.returncode == 0


def status(h, control, crawl):
    out = h.run(["zcrawlctl", "--control", control, "status", crawl, "--json"]).stdout
    return json.loads(out)["crawls"][0]


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "diskfull") as h:
        disk = h.path("disk")
        if not mount_tmpfs(disk, "1m"):
            raise Skipped()
        try:
            return run(h, disk)
        finally:
            # Processes first (they hold files on the tmpfs), then the mount
            for proc, _ in h.procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc, _ in h.procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            subprocess.run(["umount", "-l", disk], check=False)


def run(h, disk):
    site = h.start_testsite(PAGES)
    endpoints = h.start_broker(extra_args=["--data", os.path.join(disk, "data")])
    control = endpoints["control"]
    h.start_parser("parser", endpoints, actors=2)
    h.start_fetcher("fetcher", endpoints)
    items, errors = os.path.join(disk, "items.jsonl"), os.path.join(disk, "errors.jsonl")
    crawl = h.run(["zcrawlctl", "--control", control, "submit", site["url"] + "/", "-o", items,
                   "--errors", errors] + zc_e2e.FAST_CRAWL_OPTIONS).stdout.strip()

    # The output of 2,000 pages is several MiB: the 1 MiB disk fills up
    paused = zc_e2e.wait_until(
        lambda: (lambda s: s if s["state"] == "paused" else None)(status(h, control, crawl)),
        60, "the crawl to pause on the full disk")
    check("space" in paused.get("error", "") or "write" in paused.get("error", ""),
          f"status error does not say what went wrong: {paused.get('error')!r}")
    with open(h.path("broker.log"), errors="replace") as f:
        check("paused" in f.read(), "the broker log does not say the crawl paused")
    # Nothing moves while paused: the counters stay (an absence, observed for 1 s)
    before = status(h, control, crawl)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        now = status(h, control, crawl)
        check(now["pages"] == before["pages"] and now["state"] == "paused",
              f"the crawl moved while paused: {before} -> {now}")
        time.sleep(0.1)  # observation interval of an absence, not synchronisation

    # Room again: resume, and the crawl ends exactly once
    r = subprocess.run(["mount", "-o", "remount,size=256m", disk], capture_output=True, text=True)
    check(r.returncode == 0, f"remount failed: {r.stderr}")
    h.run(["zcrawlctl", "--control", control, "resume", crawl])
    h.run(["zcrawlctl", "--control", control, "wait", crawl, "--timeout", "120"], timeout=130)
    summary = zc_e2e.check_crawl_output(h, items, errors)
    done = status(h, control, crawl)
    check(done["state"] == "done" and not done.get("error"), f"final status {done}")
    check(done["pages"] == summary["items"], f"status pages {done['pages']} != {summary}")
    summary["paused_error"] = paused.get("error")
    return summary


def main():
    def guarded(bin_dir):
        try:
            return test(bin_dir)
        except Skipped:
            print("SKIP: cannot mount a tmpfs (needs root)", file=sys.stderr)
            sys.exit(SKIPPED)
    return zc_e2e.main(guarded)


if __name__ == "__main__":
    sys.exit(main())
