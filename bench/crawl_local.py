#!/usr/bin/env python3
"""Benchmark: `zcrawl local` crawling the project's test site.

Starts zc-testsite with N pages on 127.0.0.1 and runs `zcrawl local` against
it, REPEAT times per variant, interleaving the variants (A B A B ...) so that
machine noise hits them alike. Prints per run and as medians: pages, wall
seconds and the crawl's own seconds (submit to done), pages/s (by the
latter), CPU seconds (user+sys of zcrawl alone, from wait4), CPU ms
per 1,000 pages and zcrawl's peak RSS (through GNU time, as in compare.py:
wait4's ru_maxrss would start at this script's own size), and each
variant's pages/s as a ratio of the first. Compare only numbers from one invocation.

A variant is LABEL=BIN_DIR[:ARGS], ARGS being extra zcrawl arguments
separated by spaces. Without --variant, one variant runs: "current" with
build/bin and --impolite.

    bench/crawl_local.py [--pages 20000] [--host-concurrency 64] [--repeat 3]
        [--variant current=build/bin:--impolite] [--variant skeleton=/tmp/old/bin]
        [--json out.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from compare import timed, timed_rss  # noqa: E402  (peak RSS through GNU time)
METRICS = ("pages", "wall_s", "crawl_s", "pages_per_s", "cpu_s", "cpu_ms_per_1000_pages",
           "peak_rss_mb")


def wait_for(path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {path}")


def parse_variant(text):
    label, _, rest = text.partition("=")
    bin_dir, _, extra = rest.partition(":")
    if not label or not bin_dir:
        raise SystemExit(f"bad --variant '{text}': expected LABEL=BIN_DIR[:ARGS]")
    return {"label": label, "bin": os.path.abspath(bin_dir), "extra": extra.split()}


def run_once(variant, host_concurrency, site_url, workdir, run):
    items = os.path.join(workdir, f"{variant['label']}-{run}.jsonl")
    cmd = [os.path.join(variant["bin"], "zcrawl"), "local", site_url + "/", "-o", items,
           "--allow-private", "--quiet", "--timeout", "2", "--max-body", "1M",
           "--host-concurrency", str(host_concurrency)] + variant["extra"]
    rss_path = items + ".rss"
    start = time.monotonic()
    # zcrawl runs under GNU time (when installed), which writes zcrawl's own peak RSS to
    # rss_path; wait4 on time still gives zcrawl's CPU (time waits for it), plus time's own.
    proc = subprocess.Popen(timed(cmd, rss_path), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    rss_kib = timed_rss(rss_path, usage.ru_maxrss)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out}")
    with open(items) as f:
        pages = sum(1 for _ in f)
    # The crawl's own duration (submit to done, from the summary line) is the
    # throughput measure: the process's wall time also holds start-up,
    # shutdown and the CLI's status-poll interval.
    m = re.search(r"(\d+) errors, ([\d.]+) s", out)
    crawl_s = float(m.group(2)) if m else wall
    cpu = usage.ru_utime + usage.ru_stime
    return {"pages": pages, "wall_s": round(wall, 3), "crawl_s": crawl_s,
            "pages_per_s": round(pages / crawl_s, 1),
            "cpu_s": round(cpu, 3), "cpu_ms_per_1000_pages": round(cpu / pages * 1e6, 1),
            "peak_rss_mb": round(rss_kib / 1024, 1), "command": " ".join(cmd)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--host-concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--json")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant] or [
        {"label": "current", "bin": os.path.join(HERE, "..", "build", "bin"),
         "extra": ["--impolite"]}]

    with tempfile.TemporaryDirectory(prefix="zcrawl-bench-") as workdir:
        ready = os.path.join(workdir, "site.json")
        site = subprocess.Popen([os.path.join(variants[0]["bin"], "zc-testsite"),
                                 "--pages", str(args.pages), "--host", "127.0.0.1",
                                 "--slow-ms", "1000", "--ready-file", ready],
                                stdout=subprocess.DEVNULL)
        try:
            wait_for(ready)
            with open(ready) as f:
                site_url = json.load(f)["url"]
            runs = {v["label"]: [] for v in variants}
            for i in range(args.repeat):
                for v in variants:
                    r = run_once(v, args.host_concurrency, site_url, workdir, i)
                    runs[v["label"]].append(r)
                    print(f"{v['label']:>12}: {r['pages']} pages  crawl {r['crawl_s']:.2f} s "
                          f"(process {r['wall_s']:.2f} s)  "
                          f"{r['pages_per_s']:.0f} pages/s  CPU {r['cpu_s']:.2f} s "
                          f"({r['cpu_ms_per_1000_pages']:.0f} ms/1000 pages)  "
                          f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        finally:
            site.terminate()
            site.wait()

    medians = {label: {k: statistics.median(r[k] for r in rs) for k in METRICS}
               for label, rs in runs.items()}
    base = medians[variants[0]["label"]]["pages_per_s"]
    print(f"medians of {args.repeat} runs ({args.pages} generated pages):")
    for v in variants:
        m = medians[v["label"]]
        print(f"{v['label']:>12}: {m['pages_per_s']:.0f} pages/s ({m['pages_per_s'] / base:.2f}x), "
              f"CPU {m['cpu_s']:.2f} s, {m['cpu_ms_per_1000_pages']:.0f} ms/1000 pages, "
              f"peak RSS {m['peak_rss_mb']:.0f} MB, {m['pages']:.0f} pages  "
              f"[{v['bin']} {' '.join(v['extra'])}]")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pages": args.pages, "runs": runs, "medians": medians}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
