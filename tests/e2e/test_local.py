#!/usr/bin/env python3
"""e2e: `zcrawl local` crawls the 2,000-page test site in one process; the
output must match the ground truth exactly, and the exit status and summary
line must say so.
"""
import re
import sys

import zc_e2e
from zc_e2e import check

PAGES = 2000


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "local") as h:
        site = h.start_testsite(PAGES)
        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        result = h.run(["zcrawl", "local", site["url"] + "/", "-o", items, "--errors", errors]
                       + zc_e2e.FAST_CRAWL_OPTIONS, timeout=180)
        summary = zc_e2e.check_crawl_output(h, items, errors)
        m = re.search(r"done: (\d+) pages, (\d+) errors, [\d.]+ s, [\d.]+ pages/s", result.stdout)
        check(m, f"no summary line in: {result.stdout!r}")
        check(int(m.group(1)) == summary["items"] and int(m.group(2)) == summary["errors"],
              f"summary {m.group(0)} disagrees with the files {summary}")
        check(items in result.stdout, "summary does not say where the items went")

        # The rule-testing tools: `zcrawl robots` (robots_main contract) and `zcrawl url`.
        robots = h.path("robots.txt")
        with open(robots, "w") as f:
            f.write("User-agent: *\nDisallow: /private/\n\nUser-agent: zcrawl\n"
                    "Disallow: /zc-only/\nAllow: /zc-only/open$\n")
        for agent, path, allowed in (("zcrawl/0.1", "/zc-only/x", False),
                                     ("zcrawl/0.1", "/zc-only/open", True),
                                     ("zcrawl/0.1", "/private/x", True),
                                     ("otherbot", "/private/x", False),
                                     ("otherbot", "/zc-only/x", True)):
            r = h.run(["zcrawl", "robots", robots, agent, "https://example.org" + path],
                      check_rc=False)
            want = "allowed" if allowed else "disallowed"
            check(r.returncode == (0 if allowed else 1) and r.stdout.strip() == want,
                  f"zcrawl robots {agent} {path}: {r.returncode} {r.stdout!r}, want {want}")
        r = h.run(["zcrawl", "url", "http://Example.ORG:80/a/b.html", " ../c/./d?x=1#top "])
        check(r.stdout.strip() == "http://example.org/c/d?x=1", f"zcrawl url gave {r.stdout!r}")
        r = h.run(["zcrawl", "url", "http://example.org/", "mailto:a@b.invalid"], check_rc=False)
        check(r.returncode == 1 and r.stderr.strip(), f"zcrawl url mailto: {r.returncode}")

        # Bad arguments: clear error, exit 2.
        for args in (["zcrawl", "local"], ["zcrawl", "local", site["url"], "--max-depth", "x"],
                     ["zcrawl", "local", site["url"], "--bogus"], ["zcrawl", "nonsense"],
                     ["zcrawl", "local", "not a url"], ["zcrawl", "local", "mailto:a@b.invalid"],
                     ["zcrawl", "local", site["url"], "--max-body", "1Q"],
                     ["zcrawl", "broker", "extra"], ["zcrawl", "parser", "--bind", "tcp://*:1"],
                     ["zcrawlctl"], ["zcrawlctl", "submit"], ["zcrawlctl", "wait"],
                     ["zcrawlctl", "--control"], ["zcrawlctl", "submit", "ftp://x/"]):
            bad = h.run(args, check_rc=False)
            check(bad.returncode == 2, f"{args} exited {bad.returncode}, want 2")
            check(bad.stderr.strip(), f"{args} printed no error")
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
