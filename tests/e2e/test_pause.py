#!/usr/bin/env python3
"""e2e: `zcrawlctl pause` / `resume` against a broker, a fetcher and a parser
node as separate processes. A polite (slow) crawl of the test site is paused
while it runs: once its in-flight jobs have ended, neither its page count nor
the test site's request log may move; after resume the crawl finishes and its
output matches the ground truth exactly. Unknown crawls and bad arguments are
refused with the documented exit statuses.
"""
import json
import sys
import time

import zc_e2e
from zc_e2e import check, wait_until

PAGES = 200
# Polite enough that the crawl is still running when we pause it (about 40
# pages/s), fast enough for a test. No --impolite: the host delay applies.
SLOW_CRAWL_OPTIONS = ["--allow-private", "--timeout", "1.5", "--connect-timeout", "2",
                      "--max-body", "1M", "--host-concurrency", "4", "--host-delay", "25"]
# How long a paused crawl must stay still (asserting an absence).
QUIET_S = 1.0


def start_cluster(h):
    """Starts broker, one fetcher and one parser node; returns the broker endpoints."""
    endpoints = h.start_broker()
    h.start_parser("parser", endpoints, actors=2)
    h.start_fetcher("fetcher", endpoints, ["--in-flight", "16"])
    return endpoints


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "pause") as h:
        site = h.start_testsite(PAGES)
        control = start_cluster(h)["control"]
        ctl = ["zcrawlctl", "--control", control]

        def status(crawl):
            doc = json.loads(h.run(ctl + ["status", crawl, "--json"]).stdout)
            check(len(doc["crawls"]) == 1, f"status of {crawl}: {doc['crawls']}")
            return doc["crawls"][0]

        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        crawl = h.run(ctl + ["submit", site["url"] + "/", "-o", items, "--errors", errors]
                      + SLOW_CRAWL_OPTIONS).stdout.strip()
        check(crawl, "submit printed no crawl id")

        # Pause while it runs.
        wait_until(lambda: status(crawl)["pages"] >= 10, 30, "the first 10 pages")
        paused = h.run(ctl + ["pause", crawl])
        check(paused.stdout.strip() == f"paused {crawl}", f"pause printed {paused.stdout!r}")
        st = status(crawl)
        check(st["state"] == "paused", f"state after pause: {st['state']}")
        check(st["pages"] < PAGES // 2, f"the crawl was nearly over when paused: {st}")
        text = h.run(ctl + ["status", crawl]).stdout
        check(f"crawl {crawl} paused" in text, f"status text does not say paused: {text!r}")
        # Pausing twice is fine.
        h.run(ctl + ["pause", crawl])

        # Jobs already dispatched end normally (the slow page may time out first).
        wait_until(lambda: status(crawl)["in_flight"] == 0, 20, "the in-flight jobs to end")
        before = status(crawl)
        requests_before = len(h.site_requests())
        deadline = time.monotonic() + QUIET_S
        while time.monotonic() < deadline:  # an observation window, not synchronisation
            now = status(crawl)
            check(now["state"] == "paused", f"state changed while paused: {now['state']}")
            for key in ("pages", "failed", "in_flight"):
                check(now[key] == before[key],
                      f"{key} moved while paused: {before[key]} -> {now[key]}")
            time.sleep(0.1)
        requests_after = len(h.site_requests())
        check(requests_after == requests_before,
              f"{requests_after - requests_before} requests reached the site while paused")
        check(before["queued"] > 0, f"nothing left to crawl after the pause: {before}")

        # Resume: the crawl finishes, output exactly the ground truth.
        resumed = h.run(ctl + ["resume", crawl])
        check(resumed.stdout.strip() == f"resumed {crawl}", f"resume printed {resumed.stdout!r}")
        check(status(crawl)["state"] in ("running", "done"), "state after resume")
        h.run(ctl + ["wait", crawl, "--timeout", "120"], timeout=130)
        summary = zc_e2e.check_crawl_output(h, items, errors)
        st = status(crawl)
        check(st["state"] == "done", f"state {st['state']}")
        check(st["pages"] == summary["items"], "status pages != items written")
        check("error" not in st, f"a crawl without trouble reports an error: {st}")

        # Unknown crawls: exit 1 with an error; bad arguments: exit 2.
        for command in ("pause", "resume"):
            r = h.run(ctl + [command, "no-such-crawl"], check_rc=False)
            check(r.returncode == 1, f"{command} of an unknown crawl exited {r.returncode}")
            check("error" in r.stderr, f"{command} of an unknown crawl: stderr {r.stderr!r}")
            for args in ([command], [command, crawl, "extra"], [command, "--bogus"]):
                r = h.run(ctl + args, check_rc=False)
                check(r.returncode == 2, f"zcrawlctl {' '.join(args)} exited {r.returncode}")
                check(r.stderr.strip(), f"zcrawlctl {' '.join(args)} printed no error")
            r = h.run(["zcrawlctl", command, "--help"])
            check(f"zcrawlctl {command} CRAWL" in r.stdout, f"{command} --help: {r.stdout!r}")
        r = h.run(["zcrawlctl", "--help"])
        check("pause CRAWL" in r.stdout and "resume CRAWL" in r.stdout,
              f"zcrawlctl --help lacks pause/resume: {r.stdout!r}")
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
