#!/usr/bin/env python3
"""e2e (issue 4): crawl semantics against the test site's scenario hosts.

`zcrawl local` crawls polite.test, flaky.test, redirects.test, charset.test,
trap.test and robots503.test (reached with --resolve NAME:PORT:127.0.0.1) in
one crawl with short delays, then extract.test with the spec
tests/fixtures/spec/extract.yaml (XPath and CSS rules). The assertions read
the test site's request log (robots.txt first, nothing disallowed requested,
gaps between request starts, Retry-After, retry limits, traps cut) and the
output (errors with reasons and attempts, items and titles, valid UTF-8,
extracted fields) and compare them with the site's ground truth
(truth["scenarios"]).

Redirects go through the broker: every hop is a request to its host under
that host's politeness (the gap checks include hops) and robots rules, and
the output has exactly one record per admitted URL, the chain's outcome under
the URL first requested (items with final_url/redirects, errors with
location); hop URLs have no record of their own.

Every check runs and prints PASS/FAIL with its evidence; the test fails if any
check failed.
"""
import os
import subprocess
import sys

import zc_e2e
from zc_e2e import check

HERE = os.path.dirname(os.path.abspath(__file__))
EXTRACT_SPEC = os.path.join(HERE, "..", "fixtures", "spec", "extract.yaml")

SCENARIO_HOSTS = ["polite.test", "flaky.test", "unavailable.test", "reset.test", "slow.test",
                  "redirects.test", "charset.test", "trap.test", "robots503.test", "extract.test"]
# One crawl over these; extract.test gets its own crawl with the spec.
CRAWLED = ["polite.test", "flaky.test", "unavailable.test", "reset.test", "slow.test",
           "redirects.test", "charset.test", "trap.test", "robots503.test"]
HOST_DELAY_MS = 50
MAX_ATTEMPTS = 3
# The log has millisecond timestamps taken by the server when the request
# line arrives: allow for that resolution (1 ms each side), nothing more.
CLOCK_TOLERANCE_MS = 2


class Checks:
    """Runs named checks, records each outcome, raises at the end if any failed."""

    def __init__(self, title):
        self.title = title
        self.results = []

    def run(self, name, function, *args):
        try:
            detail = function(*args)
            self.results.append((name, True, detail or ""))
        except zc_e2e.TestFailure as e:
            self.results.append((name, False, str(e)))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            self.results.append((name, False, f"{type(e).__name__}: {e}"))

    def report(self):
        failed = [r for r in self.results if not r[1]]
        for name, ok, detail in self.results:
            line = f"{'PASS' if ok else 'FAIL'} {self.title}: {name}"
            if detail:
                line += f": {detail}"
            print(line[:2000], file=sys.stderr)
        check(not failed, f"{len(failed)} of {len(self.results)} checks failed: "
                          f"{', '.join(r[0] for r in failed)}")
        return f"{len(self.results)} checks passed"


def run_crawl(checks, h, name, args, timeout):
    """Runs a crawl to completion; a non-zero exit or a timeout is a failed check
    (the log and output checks still run on what was done)."""
    try:
        result = h.run(args, timeout=timeout, check_rc=False)
        outcome = (result.returncode == 0, f"exit {result.returncode}: {result.stderr[-1500:]}")
    except subprocess.TimeoutExpired as e:
        tail = (e.stderr or b"")[-600:].decode("utf-8", "replace")
        outcome = (False, f"still running after {timeout} s (expected a few seconds): {tail}")
    checks.run(name, lambda: check(*outcome))


def scenario(truth, host):
    return truth["scenarios"][host]


def crawl_options(port, hosts):
    """The options of a polite test crawl: short delays, --resolve for every scenario host."""
    options = ["--allow-private", "--timeout", "1", "--connect-timeout", "2",
               "--host-delay", str(HOST_DELAY_MS), "--max-attempts", str(MAX_ATTEMPTS),
               "--retry-base", "100", "--max-depth", "6"]
    for host in hosts:
        options += ["--resolve", f"{host}:{port}:127.0.0.1"]
    return options


def port_of(url):
    return int(url.rsplit(":", 1)[1].strip("/"))


def requests_by_host(h):
    """{host: [SiteRequest sorted by start]} of the main listener."""
    by_host = {}
    for r in h.site_requests():
        if r.listener == "main":
            by_host.setdefault(r.host, []).append(r)
    for entries in by_host.values():
        entries.sort(key=lambda r: r.start_ms)
    return by_host


def read_output_strict(path):
    """Every line valid UTF-8 and JSON (zc_e2e.read_jsonl raises otherwise)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise zc_e2e.TestFailure(f"{path}: invalid UTF-8 at byte {e.start}: "
                                 f"{raw[max(0, e.start - 40):e.start + 10]!r}")
    return zc_e2e.read_jsonl(path)


# --- checks on the request log ---------------------------------------------

def check_robots_first(by_host, hosts):
    notes = []
    for host in hosts:
        entries = by_host.get(host, [])
        check(entries, f"{host}: no request at all")
        check(entries[0].url == "/robots.txt",
              f"{host}: first request {entries[0].url} at {entries[0].start_ms}, "
              f"robots.txt at {[r.start_ms for r in entries if r.url == '/robots.txt']}")
        robots = [r for r in entries if r.url == "/robots.txt"]
        if host == "robots503.test":
            check(1 <= len(robots) <= MAX_ATTEMPTS,
                  f"{host}: robots.txt requested {len(robots)} times, want 1..{MAX_ATTEMPTS}")
        else:
            check(len(robots) == 1, f"{host}: robots.txt requested {len(robots)} times "
                                    f"(cached per crawl: want 1)")
        notes.append(f"{host}:{len(entries)}")
    return "requests " + " ".join(notes)


def check_never_requested(by_host, truth, hosts):
    count = 0
    for host in hosts:
        never = set(scenario(truth, host)["never_requested"])
        bad = [r.url for r in by_host.get(host, []) if r.url in never]
        check(not bad, f"{host}: requested {sorted(set(bad))[:5]}")
        count += len(never)
    return f"{count} forbidden paths never requested"


def check_polite_disallowed(by_host):
    bad = [r.url for r in by_host.get("polite.test", [])
           if (r.url.startswith("/private/") and r.url != "/private/open.html")
           or "?sort=" in r.url]
    check(not bad, f"disallowed paths requested on polite.test: {bad[:5]}")
    opened = [r.url for r in by_host.get("polite.test", []) if r.url == "/private/open.html"]
    check(len(opened) == 1, f"the Allow exception /private/open.html requested {len(opened)} "
                            f"times, want 1")
    return "no /private/ path (except the Allow exception), no ?sort="


def gaps(entries):
    return [(b.start_ms - a.start_ms, a.url, b.url) for a, b in zip(entries, entries[1:])]


def check_min_gap(by_host, host, min_ms):
    entries = by_host.get(host, [])
    check(len(entries) >= 3, f"{host}: only {len(entries)} requests")
    all_gaps = gaps(entries)
    short = [g for g in all_gaps if g[0] < min_ms - CLOCK_TOLERANCE_MS]
    check(not short, f"{host}: {len(short)} of {len(all_gaps)} gaps < {min_ms} ms, e.g. "
                     f"{short[:4]}")
    return f"{len(all_gaps)} gaps, min {min(g[0] for g in all_gaps)} ms"


def check_request_counts(by_host, truth, hosts):
    """Exactly truth["requests"][path] requests per path (retries stop at the limit)."""
    seen = {}
    for host in hosts:
        want_counts = scenario(truth, host).get("requests", {})
        counts = {}
        for r in by_host.get(host, []):
            counts[r.url] = counts.get(r.url, 0) + 1
        wrong = {path: (counts.get(path, 0), want) for path, want in want_counts.items()
                 if counts.get(path, 0) != want}
        check(not wrong, f"{host}: requests per path (got, want): {wrong}")
        seen.update({f"{host}{path}": n for path, n in want_counts.items()})
    return f"{seen}"


def check_flaky_gaps(by_host, truth):
    flaky = scenario(truth, "flaky.test")
    seen = []
    for path, min_gap in flaky["min_gap_ms"].items():
        starts = [r.start_ms for r in by_host.get("flaky.test", []) if r.url == path]
        check(len(starts) >= 2, f"{path}: {len(starts)} requests, no retry")
        gap = starts[1] - starts[0]
        check(gap >= min_gap, f"{path}: retry {gap} ms after the first try, want >= {min_gap}")
        seen.append(f"{path} {gap} ms")
    return ", ".join(seen)


def check_trap(by_host, truth):
    trap = scenario(truth, "trap.test")
    base = trap["base"]
    want = {p["url"][len(base):] for p in trap["pages"]} | {"/robots.txt"}
    got = {r.url for r in by_host.get("trap.test", [])}
    cut = {c["url"][len(base):]: c["guard"] for c in trap["cut"]}
    fetched_cut = {u: cut[u] for u in got if u in cut}
    check(not fetched_cut, f"trap URLs that should have been cut were requested: "
                           f"{dict(list(fetched_cut.items())[:5])}")
    check(got == want, f"trap.test requests differ from the truth: missing "
                       f"{sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}")
    return f"{len(got)} requested, {len(cut)} cut ({sorted(set(cut.values()))})"


def check_robots503(by_host):
    entries = by_host.get("robots503.test", [])
    other = [r.url for r in entries if r.url != "/robots.txt"]
    check(not other, f"robots503.test: pages requested although robots.txt is 5xx: {other}")
    return f"{len(entries)} robots.txt requests, no page"


def check_no_external(h):
    external = [r for r in h.site_requests() if r.listener == "external"]
    check(not external, f"{len(external)} requests reached the external listener: "
                        f"{external[:3]}")


# --- checks on the output ----------------------------------------------------

def check_errors(errors, truth, hosts):
    got = {}
    for e in errors:
        check(e["url"] not in got, f"error for {e['url']} written twice")
        got[e["url"]] = e
    problems = []
    expected_urls = set()
    for host in hosts:
        for want in scenario(truth, host)["errors"]:
            expected_urls.add(want["url"])
            e = got.get(want["url"])
            if not e:
                problems.append(f"missing {want['url']} ({want['reason']})")
                continue
            for key in ("reason", "status", "attempts", "location"):
                if key in want and e.get(key) != want[key]:
                    problems.append(f"{want['url']}: {key} {e.get(key)!r}, want {want[key]!r} "
                                    f"(detail {e.get('detail')!r})")
    bases = tuple(scenario(truth, host)["base"] + "/" for host in hosts)
    extra = [f"{u} ({e.get('reason')}: {e.get('detail')})" for u, e in got.items()
             if u.startswith(bases) and u not in expected_urls]
    if extra:
        problems.append(f"unexpected errors {extra[:5]}")
    check(not problems, "; ".join(problems[:8]))
    return f"{len(expected_urls)} errors as in the truth"


def check_items(items, truth, hosts):
    by_url = {}
    for item in items:
        check(item["url"] not in by_url, f"item {item['url']} written twice")
        by_url[item["url"]] = item
    problems = []
    expected = set()
    for host in hosts:
        for page in scenario(truth, host)["pages"]:
            expected.add(page["url"])
            item = by_url.get(page["url"])
            if not item:
                problems.append(f"missing item {page['url']}")
                continue
            if item.get("title") != page["title"]:
                problems.append(f"{page['url']}: title {item.get('title')!r}, "
                                f"want {page['title']!r}")
            if item.get("final_url") != page["final_url"]:
                problems.append(f"{page['url']}: final_url {item.get('final_url')!r}, "
                                f"want {page['final_url']!r}")
            if "redirects" in page and item.get("redirects") != page["redirects"]:
                problems.append(f"{page['url']}: redirects {item.get('redirects')!r}, "
                                f"want {page['redirects']!r}")
    bases = tuple(scenario(truth, host)["base"] + "/" for host in hosts)
    extra = [u for u in by_url if u.startswith(bases) and u not in expected]
    if extra:
        problems.append(f"unexpected items {extra[:5]}")
    check(not problems, "; ".join(problems[:8]))
    return f"{len(expected)} items"


def check_one_record_per_url(items, errors, truth, hosts):
    """Exactly one record (item or error) per admitted URL; no record for a hop
    URL (a redirect target reached only through a chain)."""
    records = [r["url"] for r in items] + [e["url"] for e in errors]
    twice = sorted({u for u in records if records.count(u) > 1})
    check(not twice, f"URLs with more than one record: {twice[:5]}")
    hops = set()
    for host in hosts:
        doc = scenario(truth, host)
        hops |= {p["final_url"] for p in doc["pages"] if p["final_url"] != p["url"]}
        hops |= {e["location"] for e in doc["errors"] if "location" in e}
    hops -= {r["url"] for host in hosts for kind in ("pages", "errors")
             for r in scenario(truth, host)[kind]}  # /loop/a: the loop's target is its origin
    hop_records = sorted(set(records) & hops)
    check(not hop_records, f"records for redirect hop URLs: {hop_records[:5]}")
    return f"{len(records)} records, {len(hops)} hop URLs without one"


def check_charset_titles(items, truth):
    charset = scenario(truth, "charset.test")
    by_url = {item["url"]: item for item in items}
    wrong = []
    for page in charset["pages"]:
        title = by_url.get(page["url"], {}).get("title")
        if title != page["title"]:
            wrong.append(f"{page['url'][len(charset['base']):]} ({charset['cases'].get(page['url'][len(charset['base']):], 'home')}): "
                         f"{title!r} != {page['title']!r}")
    check(not wrong, "; ".join(wrong))
    return f"{len(charset['pages'])} titles right"


def check_fields(items, truth, spec_rules):
    extract = scenario(truth, "extract.test")
    by_url = {item["url"]: item for item in items}
    problems = []
    for url, want in extract["fields"].items():
        item = by_url.get(url)
        if not item:
            problems.append(f"missing item {url}")
            continue
        fields = item.get("fields")
        if not isinstance(fields, dict):
            problems.append(f"{url}: fields {fields!r}")
            continue
        for name in spec_rules:
            value = fields.get(name)  # no match: null or absent
            if value != want.get(name):
                problems.append(f"{url}: {name} {value!r}, want {want.get(name)!r}")
    check(not problems, "; ".join(problems[:10]))
    return f"{len(extract['fields'])} pages x {len(spec_rules)} rules"


def spec_rule_names():
    """Top-level keys under extract: in the spec fixture (two-space indent)."""
    names, inside = [], False
    with open(EXTRACT_SPEC) as f:
        for line in f:
            if line.startswith("extract:"):
                inside = True
            elif inside and line[:1] not in (" ", "\n", "#"):
                inside = False
            elif inside and line.startswith("  ") and not line.startswith("   "):
                names.append(line.strip().split(":", 1)[0])
    return names


def check_log_politeness(checks, h, truth, hosts):
    """The request-log checks shared by the local and cluster tests."""
    by_host = requests_by_host(h)
    checks.run("robots.txt first to each host, once", check_robots_first, by_host, hosts)
    checks.run("nothing disallowed or cut requested (also via redirects)", check_never_requested,
               by_host, truth, hosts)
    if "polite.test" in hosts:
        checks.run("polite.test: robots Disallow/Allow obeyed", check_polite_disallowed, by_host)
        checks.run("polite.test: gaps >= Crawl-delay 200 ms", check_min_gap, by_host,
                   "polite.test", scenario(truth, "polite.test")["crawl_delay_ms"])
    for host in hosts:
        if host not in ("polite.test", "robots503.test"):
            checks.run(f"{host}: gaps >= --host-delay {HOST_DELAY_MS} ms", check_min_gap,
                       by_host, host, HOST_DELAY_MS)
    checks.run("retries stop at the limit (requests per path)", check_request_counts, by_host,
               truth, hosts)
    if "flaky.test" in hosts:
        checks.run("flaky.test: Retry-After honoured (seconds and HTTP date)", check_flaky_gaps,
                   by_host, truth)
    if "trap.test" in hosts:
        checks.run("trap.test: traps cut by the right guard", check_trap, by_host, truth)
    if "robots503.test" in hosts:
        checks.run("robots503.test: no page while robots.txt is 5xx", check_robots503, by_host)
    checks.run("no request to the external listener", check_no_external, h)


def check_output(checks, truth, hosts, items_path, errors_path):
    holder = {}

    def read():
        holder["items"] = read_output_strict(items_path)
        holder["errors"] = read_output_strict(errors_path)
        return f"{len(holder['items'])} items, {len(holder['errors'])} errors"

    checks.run("output is valid UTF-8 JSON Lines", read)
    items, errors = holder.get("items", []), holder.get("errors", [])
    checks.run("errors: right URLs, reasons, status, attempts, location", check_errors, errors,
               truth, hosts)
    checks.run("items: right URLs, titles, final URLs, redirects", check_items, items, truth,
               hosts)
    checks.run("one record per admitted URL, none for redirect hops", check_one_record_per_url,
               items, errors, truth, hosts)
    if "charset.test" in hosts:
        checks.run("charset.test: titles decoded to UTF-8", check_charset_titles, items, truth)
    return items, errors


def test(bin_dir):
    checks = Checks("local")
    with zc_e2e.Harness(bin_dir, "semantics") as h:
        site = h.start_testsite(20, slow_ms=3000)
        port = port_of(site["url"])
        truth = h.truth
        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        seeds = [f"http://{host}:{port}/" for host in CRAWLED]
        run_crawl(checks, h, "zcrawl local exits 0 (crawl complete)",
                  ["zcrawl", "local"] + seeds + ["-o", items, "--errors", errors]
                  + crawl_options(port, SCENARIO_HOSTS), timeout=30)
        check_log_politeness(checks, h, truth, CRAWLED)
        check_output(checks, truth, CRAWLED, items, errors)

        # Extraction with a spec (XPath and CSS rules) on extract.test
        items2, errors2 = h.path("extract.items.jsonl"), h.path("extract.errors.jsonl")
        run_crawl(checks, h, "zcrawl local --spec extract.yaml exits 0",
                  ["zcrawl", "local", f"http://extract.test:{port}/", "--spec", EXTRACT_SPEC,
                   "-o", items2, "--errors", errors2,
                   "--resolve", f"extract.test:{port}:127.0.0.1"], timeout=20)
        extracted, _ = check_output(checks, truth, ["extract.test"], items2, errors2)
        checks.run("extract.test: fields from XPath and CSS rules", check_fields, extracted,
                   truth, spec_rule_names())
        return checks.report()


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
