#!/usr/bin/env python3
"""Benchmark: `zcrawl local` crawling the project's test site.

Starts zc-testsite with N pages on 127.0.0.1, runs `zcrawl local` against it
(REPEAT times) and prints, per run and as a median: pages, wall seconds,
pages/s, CPU seconds (user+sys of zcrawl), CPU ms per 1,000 pages and zcrawl's
peak RSS. Numbers drift on a shared machine: compare only runs made side by
side in one invocation.

    bench/crawl_local.py [--pages 20000] [--host-concurrency 64] [--repeat 3]
                         [--bin build/bin] [--json out.json] [-- extra zcrawl args]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def wait_for(path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {path}")


def run_once(args, site_url, workdir, run, extra):
    items = os.path.join(workdir, f"items{run}.jsonl")
    cmd = [os.path.join(args.bin, "zcrawl"), "local", site_url + "/", "-o", items,
           "--allow-private", "--impolite", "--quiet", "--timeout", "2", "--max-body", "1M",
           "--host-concurrency", str(args.host_concurrency)] + extra
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    # wait4 gives the rusage of this one child: CPU and peak RSS of zcrawl alone.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"zcrawl exited {proc.returncode}: {out}")
    with open(items) as f:
        pages = sum(1 for _ in f)
    cpu = usage.ru_utime + usage.ru_stime
    after = usage
    return {"pages": pages, "wall_s": round(wall, 3), "pages_per_s": round(pages / wall, 1),
            "cpu_s": round(cpu, 3), "cpu_ms_per_1000_pages": round(cpu / pages * 1e6, 1),
            "peak_rss_mb": round(after.ru_maxrss / 1024, 1), "command": " ".join(cmd)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--host-concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    parser.add_argument("--json")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]

    with tempfile.TemporaryDirectory(prefix="zcrawl-bench-") as workdir:
        ready = os.path.join(workdir, "site.json")
        site = subprocess.Popen([os.path.join(args.bin, "zc-testsite"), "--pages", str(args.pages),
                                 "--host", "127.0.0.1", "--slow-ms", "1000",
                                 "--ready-file", ready], stdout=subprocess.DEVNULL)
        try:
            wait_for(ready)
            with open(ready) as f:
                site_url = json.load(f)["url"]
            runs = [run_once(args, site_url, workdir, i, extra) for i in range(args.repeat)]
        finally:
            site.terminate()
            site.wait()

    for r in runs:
        print(f"run: {r['pages']} pages  {r['wall_s']:.2f} s  {r['pages_per_s']:.0f} pages/s  "
              f"CPU {r['cpu_s']:.2f} s ({r['cpu_ms_per_1000_pages']:.0f} ms/1000 pages)  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    median = {k: statistics.median(r[k] for r in runs)
              for k in ("pages", "wall_s", "pages_per_s", "cpu_s", "cpu_ms_per_1000_pages",
                        "peak_rss_mb")}
    print(f"median of {len(runs)}: {median['pages_per_s']:.0f} pages/s, "
          f"CPU {median['cpu_s']:.2f} s, peak RSS {median['peak_rss_mb']:.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "median": median, "pages": args.pages}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
