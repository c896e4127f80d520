#!/usr/bin/env python3
"""e2e: a small broad crawl (issue 6). The test site spreads 200 pages over 20
host names (zc-testsite --hosts 20: page i on h<i % 20>.bench.test, cross-host
links absolute), every name resolved to the site's 127.0.0.1 listener with
--resolve entries built from the site's --resolve-file. `zcrawl local` crawls
it politely (--host-delay 200, one request in flight per host):

- the output matches the ground truth exactly (every truth page once, the
  errors, nothing from the external listener);
- the site's request log shows every truth URL requested exactly once, on
  its own host;
- no host's consecutive request starts (START_MS of the site's log, taken
  when the request line arrives) are closer than the delay, allowing
  CLOCK_TOLERANCE_MS for the log's millisecond resolution.
"""
import collections
import json
import sys
from urllib.parse import urlsplit

import zc_e2e
from zc_e2e import check

PAGES = 200
HOSTS = 20
HOST_DELAY_MS = 200
# START_MS is a wall clock truncated to milliseconds, taken by the server when
# the request line arrives: each of the two starts of a gap may be up to 1 ms
# off, so a gap may read up to 2 ms short of the crawler's real spacing.
CLOCK_TOLERANCE_MS = 2
# /slow.html answers after SLOW_MS, the crawler gives up after 1.5 s; the site
# logs a request when it answers, so the slow request's line comes late.
SLOW_MS = 2500


def start_site(h):
    """zc-testsite in hosts mode; sets h.truth and h.site_log like
    Harness.start_testsite does. Returns (ready endpoints, resolve entries)."""
    ready = h.path("testsite.ready.json")
    truth_path = h.path("truth.json")
    resolve_path = h.path("resolve.txt")
    h.site_log = h.path("testsite.requests.log")
    proc = h.start("testsite", [
        "zc-testsite", "--pages", str(PAGES), "--seed", "42", "--hosts", str(HOSTS),
        "--links", "44", "--host", "127.0.0.1", "--slow-ms", str(SLOW_MS), "--big-bytes",
        str(2 << 20), "--log", h.site_log, "--truth", truth_path, "--ready-file", ready,
        "--resolve-file", resolve_path])
    site = h.wait_ready("testsite", proc, ready)
    with open(truth_path) as f:
        h.truth = json.load(f)
    port = urlsplit(site["url"]).port
    entries = []
    with open(resolve_path) as f:
        for line in f:
            name, entry_port, address = line.strip().split(":")
            check(int(entry_port) == port, f"resolve entry {line!r}: port is not {port}")
            check(address.startswith("127."), f"resolve entry {line!r} not in 127.0.0.0/8")
            entries.append(f"{name}:{port}:127.0.0.1")  # the site listens on 127.0.0.1 only
    check(len(entries) == HOSTS, f"{len(entries)} resolve entries, want {HOSTS}")
    check(len({e.split(':')[0] for e in entries}) == HOSTS, "resolve names not distinct")
    return site, entries


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "broad") as h:
        site, resolve = start_site(h)
        check(site["url"].startswith("http://h0.bench.test:"), f"seed {site['url']}")
        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        args = ["zcrawl", "local", site["url"] + "/", "-o", items, "--errors", errors,
                "--quiet", "--allow-private", "--allow-domain", "bench.test",
                "--host-delay", str(HOST_DELAY_MS), "--host-concurrency", "1",
                "--timeout", "1.5", "--connect-timeout", "2", "--max-body", "1M",
                "--max-attempts", "1"]
        for entry in resolve:
            args += ["--resolve", entry]
        h.run(args, timeout=120)
        summary = zc_e2e.check_crawl_output(h, items, errors)

        # Every truth URL requested once, on its own host (waiting for the
        # slow page's log line, written when the site answers it)
        wanted = []
        for url in [p["url"] for p in h.truth["pages"]] + [e["url"] for e in h.truth["errors"]]:
            parts = urlsplit(url)
            wanted.append((url, parts.hostname,
                           parts.path + (f"?{parts.query}" if parts.query else "")))

        def all_logged():
            logged = {(r.host, r.url) for r in h.site_requests() if r.listener == "main"}
            return all((host, target) in logged for _, host, target in wanted)
        zc_e2e.wait_until(all_logged, SLOW_MS / 1000 + 10, "the site's log of every truth URL")
        requests = [r for r in h.site_requests() if r.listener == "main"]
        by_host = collections.defaultdict(list)
        for r in requests:
            by_host[r.host].append(r)
        counts = collections.Counter((r.host, r.url) for r in requests)
        for url, host, target in wanted:
            n = counts[(host, target)]
            check(n == 1, f"{url} requested {n} times, want 1")
        hosts = sorted(by_host)
        want_hosts = sorted(f"h{k}.bench.test" for k in range(HOSTS))
        check(hosts == want_hosts, f"requests reached hosts {hosts}, want {want_hosts}")

        # Politeness: consecutive request starts per host >= the delay
        min_gap = None
        gap_count = 0
        for host, entries in by_host.items():
            starts = sorted(r.start_ms for r in entries)
            check(len(starts) >= 3, f"{host}: only {len(starts)} requests")
            gaps = [(b - a) for a, b in zip(starts, starts[1:])]
            short = [g for g in gaps if g < HOST_DELAY_MS - CLOCK_TOLERANCE_MS]
            check(not short, f"{host}: {len(short)} of {len(gaps)} gaps < {HOST_DELAY_MS} ms, "
                             f"e.g. {short[:4]}")
            gap_count += len(gaps)
            min_gap = min(gaps) if min_gap is None else min(min_gap, min(gaps))
        summary.update({"hosts": len(by_host), "requests": len(requests), "gaps": gap_count,
                        "min_gap_ms": min_gap})
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
