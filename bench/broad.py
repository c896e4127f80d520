#!/usr/bin/env python3
"""Broad-crawl benchmark (issue 6): many hosts, polite.

The project's test site is generated in hosts mode (zc-testsite --hosts N
--links L --write-dir: page i on h<i % N>.bench.test, cross-host links
absolute) and served by one nginx listening on PORT of every address
(allow 127.0.0.0/8, deny all), so that each host name, resolved to its own
127.A.B.C address by zcrawl's --resolve entries (zc-testsite --resolve-file),
reaches it. zcrawl local crawls it politely: --host-delay D, one request in
flight per host, extracting title, h1 and .price.

The politeness bound is hosts / delay (1,000 hosts at 1 s: 1,000 pages/s):
no polite crawler can go faster. Reported:

  pages            items written (and the truth's page count)
  wall s           zcrawl's process start to exit
  steady pages/s   from nginx's access log: the start times of the successful
                   (200) requests of truth pages, sorted; the rate between the
                   10% and the 90% points, (0.8 n) / (t90 - t10). It leaves out
                   the start (discovering the hosts from h0) and the tail
                   (the last few hosts with pages left)
  % of bound       steady pages/s / (hosts / delay)
  per host         the minimum gap between request starts (nginx's $msec -
                   $request_time, every request including robots.txt) and the
                   largest number of request starts in any window of one delay
  correctness      every truth page exactly once in the items, no other item,
                   the truth's errors (/slow.html is a page here: nginx does
                   not delay it)
  CPU s, peak RSS  zcrawl's (its process tree's user+sys; RSS via GNU time)

Exit status 1 if any host saw two request starts closer than the delay minus
TOLERANCE_MS, or if the output does not match the truth (or zcrawl failed).

    bench/broad.py [--bin build/bin] [--hosts 1000] [--pages 30000] [--links 44]
                   [--delay-ms 1000] [--workers 2] [--keep]
    bench/broad.py --hosts 50 --pages 1000      # quick smoke run (~25 s)

Network traffic stays inside 127.0.0.0/8. Build zcrawl as Release.
"""
import argparse
import collections
import datetime
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (bench/compare.py: nginx, site generation, timing)
from compare import log  # noqa: E402

# nginx takes a request's start ($msec - $request_time, both from the same
# millisecond clock) from its cached time, truncated to the millisecond and
# updated each time a worker wakes up: a start reads up to 1 ms early from
# truncation, plus however long the worker has been busy since it woke up
# (normally well under 1 ms). So a gap may read about 2 ms short of the real
# one; never long. Shorter gaps are reported as violations, and each is
# checked against zcrawl's own clock too (see confirm_short_gaps).
TOLERANCE_MS = 2

# Our log format on top of compare.py's nginx config: every address of PORT
# (127.A.B.C all reach it), loopback clients only, an access log of request
# start inputs.
LISTEN_LOCAL = "listen 127.0.0.1:{port};"
LISTEN_ALL = "listen {port};\n        allow 127.0.0.0/8;\n        deny all;"
ACCESS_OFF = "access_log off;"
ACCESS_LOG = ("log_format broad '$msec $request_time $host $request_uri $status';\n"
              "    access_log {prefix}/access.log broad;")


def nginx_conf():
    conf = compare.NGINX_CONF
    if LISTEN_LOCAL not in conf or ACCESS_OFF not in conf:
        raise SystemExit("bench/compare.py's NGINX_CONF changed: update broad.py")
    return conf.replace(LISTEN_LOCAL, LISTEN_ALL).replace(ACCESS_OFF, ACCESS_LOG)


def millis(text):
    """"1795617457.040" -> 1795617457040 (exact, no float rounding)."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


Request = collections.namedtuple("Request", "start_ms host uri status")


def read_access_log(path):
    requests = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5:
                continue
            msec, request_time, host, uri, status = parts
            requests.append(Request(millis(msec) - millis(request_time), host, uri, int(status)))
    return requests


def politeness(requests, delay_ms):
    """Per host: (min gap ms or None, max starts in any window of delay_ms, count)."""
    by_host = collections.defaultdict(list)
    for r in requests:
        by_host[r.host].append(r.start_ms)
    out = {}
    for host, starts in by_host.items():
        starts.sort()
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        most, lo = 0, 0
        for hi, t in enumerate(starts):
            while starts[lo] <= t - delay_ms:
                lo += 1
            most = max(most, hi - lo + 1)
        out[host] = (min(gaps) if gaps else None, most, len(starts))
    return out


def short_gaps(requests, delay_ms):
    """[(host, gap, first Request, second Request)] for gaps < delay - tolerance."""
    by_host = collections.defaultdict(list)
    for r in requests:
        by_host[r.host].append(r)
    out = []
    for host, entries in by_host.items():
        entries.sort(key=lambda r: r.start_ms)
        for a, b in zip(entries, entries[1:]):
            if b.start_ms - a.start_ms < delay_ms - TOLERANCE_MS:
                out.append((host, b.start_ms - a.start_ms, a, b))
    return out


def iso_ms(text):
    """"2026-11-25T14:42:58.575Z" -> epoch ms (UTC)."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


def confirm_short_gaps(shorts, items, port, delay_ms):
    """The short gaps that zcrawl's own wall clock confirms: nginx's start of
    the first request is never later than the real one (its cached clock
    only lags, and truncates), and the second request reached nginx before
    zcrawl had its answer (the item's fetched_at, same machine, same clock,
    truncated to the ms): fetched_at(second) + 1 - start(first) <= delay is a
    violation whatever nginx's clock did. [(host, that bound in ms)]"""
    fetched = {}
    for it in items:
        if it.get("url") and it.get("fetched_at"):
            try:
                fetched[compare.canonical(it["url"])] = iso_ms(it["fetched_at"])
            except ValueError:
                pass
    confirmed = []
    for host, gap, a, b in shorts:
        done = fetched.get(compare.canonical(f"http://{host}:{port}{b.uri}"))
        if done is not None and done + 1 - a.start_ms <= delay_ms:
            confirmed.append((host, done + 1 - a.start_ms))
    return confirmed


def steady_rate(starts):
    """(rate, t10, t90) between the 10% and 90% points of sorted STARTS (ms)."""
    n = len(starts)
    if n < 10:
        return None, None, None
    i10, i90 = n // 10, (9 * n) // 10
    span = (starts[i90] - starts[i10]) / 1000
    return ((i90 - i10) / span if span > 0 else None), starts[i10], starts[i90]


def correctness(items, errors, truth_json):
    """Messages describing every difference from the truth ([] = exact). nginx
    serves /slow.html at once (zc-testsite delays it): a page here, not the
    truth's timeout."""
    problems = []
    expected = {compare.canonical(p["url"]) for p in truth_json["pages"]}
    expected |= {compare.canonical(e["url"]) for e in truth_json["errors"]
                 if e["reason"] == "timeout"}
    counts = collections.Counter(compare.canonical(it.get("url", "")) for it in items)
    twice = [u for u, n in counts.items() if n > 1]
    missing = sorted(expected - set(counts))
    unexpected = sorted(set(counts) - expected)
    if twice:
        problems.append(f"{len(twice)} pages written more than once, e.g. {twice[:3]}")
    if missing:
        problems.append(f"{len(missing)} truth pages missing, e.g. {missing[:3]}")
    if unexpected:
        problems.append(f"{len(unexpected)} items not in the truth, e.g. {unexpected[:3]}")
    want_errors = {compare.canonical(e["url"]): e["reason"] for e in truth_json["errors"]
                   if e["reason"] != "timeout"}
    got_errors = {compare.canonical(e.get("url", "")): e.get("reason") for e in errors}
    if got_errors != want_errors or len(errors) != len(got_errors):
        problems.append(f"errors {sorted(got_errors.items())} != truth "
                        f"{sorted(want_errors.items())}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(compare.ROOT, "build", "bin"))
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--pages", type=int, default=30000)
    ap.add_argument("--links", type=int, default=44)
    ap.add_argument("--delay-ms", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="nginx worker processes")
    ap.add_argument("--suffix", default="bench.test")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    binary = os.path.join(args.bin, "zcrawl")
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no {binary}: build first (Release)")

    workdir = tempfile.mkdtemp(prefix="zcrawl-broad-")
    os.chmod(workdir, 0o755)  # nginx's workers may run as another user
    nginx = None
    try:
        port = compare.free_port()
        resolve_path = os.path.join(workdir, "resolve.txt")
        site, truth_json, _ = compare.make_site(
            args.bin, workdir, port, args.pages, 0, args.links,
            extra=["--hosts", str(args.hosts), "--host-suffix", args.suffix,
                   "--resolve-file", resolve_path])
        with open(resolve_path) as f:
            resolve = [line.strip() for line in f if line.strip()]
        if len(resolve) != args.hosts or not all(e.split(":")[2].startswith("127.")
                                                 for e in resolve):
            raise SystemExit(f"{resolve_path}: want {args.hosts} entries in 127.0.0.0/8")
        nginx = compare.Nginx(site, port, os.path.join(workdir, "nginx"), args.workers,
                              conf=nginx_conf())
        seed = truth_json["seed"]
        items_path = os.path.join(workdir, "items.jsonl")
        errors_path = os.path.join(workdir, "errors.jsonl")
        cmd = [binary, "local", seed, "-o", items_path, "--errors", errors_path,
               "--allow-private", "--allow-domain", args.suffix, "--quiet",
               "--host-delay", str(args.delay_ms), "--host-concurrency", "1",
               "--timeout", str(compare.TIMEOUT_S), "--max-body", str(compare.MAX_BODY)]
        cmd += compare.EXTRACT
        for entry in resolve:
            cmd += ["--resolve", entry]
        load_before = os.getloadavg()
        log(f"crawling {seed}: {len(truth_json['pages'])} truth pages on {args.hosts} hosts, "
            f"delay {args.delay_ms} ms")
        rc, wall, cpu, rss_kib = compare.run_process(cmd, os.path.join(workdir, "zcrawl.log"))
        load_after = os.getloadavg()
        nginx.stop()  # flushes and closes the access log
        nginx = None

        requests = read_access_log(os.path.join(workdir, "nginx", "access.log"))
        items = compare.read_items(items_path)
        errors = compare.read_items(errors_path)
        wrong = correctness(items, errors, truth_json)
        problems = list(wrong)
        if rc != 0:
            problems.insert(0, f"zcrawl exited {rc} (log: {workdir}/zcrawl.log)")

        truth_urls = {compare.canonical(p["url"]) for p in truth_json["pages"]}
        page_starts = sorted(r.start_ms for r in requests if r.status == 200 and
                             compare.canonical(f"http://{r.host}:{port}{r.uri}") in truth_urls)
        rate, t10, t90 = steady_rate(page_starts)
        bound = args.hosts * 1000 / args.delay_ms
        all_in_window = sum(1 for r in requests if t10 is not None and t10 <= r.start_ms < t90)
        per_host = politeness(requests, args.delay_ms)
        gaps = [g for g, _, _ in per_host.values() if g is not None]
        windows = collections.Counter(most for _, most, _ in per_host.values())
        shorts = short_gaps(requests, args.delay_ms)
        if shorts:
            hosts_short = {h for h, _, _, _ in shorts}
            worst = [(h, g, a.uri, b.uri) for h, g, a, b in sorted(shorts, key=lambda s: s[1])]
            confirmed = confirm_short_gaps(shorts, items, port, args.delay_ms)
            problems.insert(0, f"POLITENESS VIOLATED: {len(shorts)} gaps on {len(hosts_short)} "
                               f"hosts < {args.delay_ms} - {TOLERANCE_MS} ms at nginx, e.g. "
                               f"{worst[:4]}; {len(confirmed)} of them proven by zcrawl's own "
                               f"clock (the item's fetched_at within the delay of the previous "
                               f"start), e.g. {confirmed[:4]}")

        expected_errors = sum(1 for e in truth_json["errors"] if e["reason"] != "timeout")

        def pct(values, q):
            return values[min(len(values) - 1, int(q * len(values)))] if values else None
        gaps.sort()
        print(f"broad crawl: {args.hosts} hosts, {args.pages} generated pages, --links "
              f"{args.links}, --host-delay {args.delay_ms} ms, --host-concurrency 1, "
              f"nginx workers {args.workers}")
        print(f"pages:          {len(items)} items ({len(truth_json['pages'])} truth pages "
              f"+ /slow.html), {len(errors)} errors ({expected_errors} expected)")
        print(f"requests:       {len(requests)} at nginx ({len(per_host)} hosts)")
        print(f"wall:           {wall:.1f} s ({len(items) / wall:.0f} pages/s overall)")
        if rate:
            print(f"steady:         {rate:.0f} pages/s between the 10% and 90% page starts "
                  f"({(t90 - t10) / 1000:.1f} s; all requests in that window "
                  f"{all_in_window / ((t90 - t10) / 1000):.0f}/s)")
            print(f"bound:          {bound:.0f} pages/s (hosts / delay): {100 * rate / bound:.1f}%")
        else:
            print("steady:         too few pages to measure")
        if gaps:
            print(f"per-host min gap between request starts, over the hosts: smallest "
                  f"{gaps[0]} ms, p1 {pct(gaps, 0.01)} ms, median {pct(gaps, 0.5)} ms, largest "
                  f"{gaps[-1]} ms (allowed: >= {args.delay_ms} - {TOLERANCE_MS} ms)")
        print(f"per-host max requests in any {args.delay_ms} ms window: "
              + ", ".join(f"{n}: {c} hosts" for n, c in sorted(windows.items())))
        print("correctness:    " + ("exact (every truth page once, errors as in the truth)"
                                     if not wrong else "WRONG: " + "; ".join(wrong)))
        print(f"zcrawl:         exit {rc}, CPU {cpu:.1f} s ({1000 * cpu / max(1, len(items)):.2f} "
              f"s per 1,000 pages), peak RSS {rss_kib / 1024:.0f} MB")
        print(f"load average:   {load_before[0]:.2f} before, {load_after[0]:.2f} after "
              f"({os.cpu_count()} cores)")
        for p in problems:
            print(f"FAIL: {p}")
        return 1 if problems else 0
    finally:
        if nginx is not None:
            nginx.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
