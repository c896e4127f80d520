#!/usr/bin/env python3
"""Where `zcrawl local` spends its CPU: perf profile of one crawl (issue 6).

Generates the same site as bench/compare.py (zc-testsite --write-dir, pages
padded to --page-bytes, --links per page), serves it with nginx on 127.0.0.1,
and runs `zcrawl local` under `perf record` with the same options as the
comparison (impolite, title/h1/.price extracted). Prints:

  - the crawl: pages, wall s, CPU s (user+sys of zcrawl), CPU us per page
  - CPU per thread (actors name their threads: zc-broker, zc-fetcher,
    zc-parser-N, zc-parser-node; ZMQbg/* are libzmq's I/O threads), as a share
    of zcrawl's samples and as us per page
  - CPU per shared object (libxml2, libc, kernel, libcurl, ...)
  - the top symbols of each busy thread

Needs perf (linux-perf) and a zcrawl build with symbols; frame pointers help
the call graphs (perf report -g) that --keep leaves behind:

    cmake -S . -B build-prof -DCMAKE_BUILD_TYPE=RelWithDebInfo \\
          -DCMAKE_C_FLAGS=-fno-omit-frame-pointer && cmake --build build-prof -j
    bench/profile.py --bin build-prof/bin [--pages 20000] [--top 12] [--out FILE]

Debian's shared libraries have no symbols here (no debug packages), so their
time shows per library, and libxml2's static functions as addresses.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import compare
from compare import EXTRACT, MAX_BODY, TIMEOUT_S, Nginx, free_port, log, make_site


def perf_rows(data, sort):
    """perf report as (percent, fields...) rows, no call graph."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort,
                          "-g", "none", "--percent-limit", "0.05", "--stdio", "-q"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), re.split(r"\s{2,}", m.group(2).strip())))
    return rows


def thread_group(comm):
    """zc-parser-0 and zc-parser-1 are one role; so are libzmq's ZMQbg threads."""
    if comm.startswith("zc-parser-") and comm[10:].isdigit():
        return "zc-parser-N"
    if comm.startswith("ZMQbg"):
        return "ZMQbg (libzmq I/O)"
    return comm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(compare.ROOT, "build-prof", "bin"))
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--page-bytes", type=int, default=40000)
    ap.add_argument("--links", type=int, default=44)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--freq", type=int, default=999, help="perf samples/s per CPU")
    ap.add_argument("--top", type=int, default=12, help="symbols shown per thread")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (perf.data)")
    args = ap.parse_args()
    if not shutil.which("perf"):
        raise SystemExit("perf not found: apt-get install linux-perf")
    zcrawl = os.path.join(os.path.abspath(args.bin), "zcrawl")

    workdir = tempfile.mkdtemp(prefix="zcrawl-profile-")
    os.chmod(workdir, 0o755)
    nginx = None
    report = []
    try:
        port = free_port()
        site, truth_json, truth = make_site(os.path.abspath(args.bin), workdir, port,
                                            args.pages, args.page_bytes, args.links)
        nginx = Nginx(site, port, os.path.join(workdir, "nginx"), "auto")
        items = os.path.join(workdir, "items.jsonl")
        data = os.path.join(workdir, "perf.data")
        cmd = [zcrawl, "local", f"http://127.0.0.1:{port}/", "-o", items, "--errors",
               os.path.join(workdir, "errors.jsonl"), "--impolite", "--allow-private", "--quiet",
               "--timeout", str(TIMEOUT_S), "--max-body", str(MAX_BODY),
               "--host-concurrency", str(args.concurrency)] + EXTRACT
        log("crawling under perf ...")
        before = os.times()
        t0 = time.monotonic()
        subprocess.run(["perf", "record", "-q", "-F", str(args.freq), "-g", "-o", data, "--"]
                       + cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - t0
        after = os.times()
        cpu = (after.children_user - before.children_user) + \
              (after.children_system - before.children_system)
        with open(items) as f:
            pages = sum(1 for _ in f)

        # perf's own CPU is in the children times too: share the samples out instead
        rows = perf_rows(data, "comm")
        total = sum(p for p, _ in rows) or 1.0
        zc_share = sum(p for p, f in rows if not f[0].startswith("perf")) / total
        zc_cpu = cpu * zc_share
        us_page = lambda share: zc_cpu * share / pages * 1e6  # noqa: E731
        report.append(f"# zcrawl local under perf: {pages} items ({len(truth)} truth URLs), "
                      f"{args.pages} pages of ~{args.page_bytes} bytes, ~{args.links} links")
        report.append(f"wall {wall:.2f} s (perf adds some), zcrawl CPU {zc_cpu:.2f} s = "
                      f"{zc_cpu / pages * 1e6:.0f} us per page")
        report.append(f"command: {' '.join(cmd)}")

        groups = defaultdict(float)
        for p, f in rows:
            if not f[0].startswith("perf"):
                groups[thread_group(f[0])] += p / total / zc_share
        report.append("\n## CPU per thread")
        report.append("| thread | share | us per page |\n|---|---|---|")
        for g, share in sorted(groups.items(), key=lambda kv: -kv[1]):
            report.append(f"| {g} | {share * 100:.1f}% | {us_page(share):.0f} |")

        dsos = defaultdict(float)
        for p, f in perf_rows(data, "comm,dso"):
            if not f[0].startswith("perf") and len(f) > 1:
                dsos[f[1]] += p / total / zc_share
        report.append("\n## CPU per shared object")
        report.append("| object | share | us per page |\n|---|---|---|")
        for d, share in sorted(dsos.items(), key=lambda kv: -kv[1])[:12]:
            report.append(f"| {d} | {share * 100:.1f}% | {us_page(share):.0f} |")

        per_thread = defaultdict(lambda: defaultdict(float))
        for p, f in perf_rows(data, "comm,dso,sym"):
            if f[0].startswith("perf") or len(f) < 3:
                continue
            sym = re.sub(r"^\[[.k]\]\s*", "", f[2]).split()[0]
            per_thread[thread_group(f[0])][f"{sym} ({os.path.basename(f[1])})"] += \
                p / total / zc_share
        for g, share in sorted(groups.items(), key=lambda kv: -kv[1]):
            if share < 0.02:
                continue
            report.append(f"\n## {g}: top symbols (share of all zcrawl CPU)")
            for sym, s in sorted(per_thread[g].items(), key=lambda kv: -kv[1])[:args.top]:
                report.append(f"- {s * 100:.1f}% {sym}")
        text = "\n".join(report) + "\n"
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text)
        if args.keep:
            log(f"kept {workdir} (perf report -i {data})")
    finally:
        if nginx:
            nginx.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
