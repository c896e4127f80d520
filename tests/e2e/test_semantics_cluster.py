#!/usr/bin/env python3
"""e2e (issue 4): the politeness and retry checks of test_semantics.py on the
multi-process cluster (broker, 2 fetchers, 2 parsers as separate processes):
robots.txt first and once per host, no disallowed path requested, Crawl-delay
and --host-delay gaps between request starts, Retry-After honoured, retries
stopped at the limit, and the errors/items the truth expects for polite.test,
flaky.test, unavailable.test and charset.test. A fresh test site, because flaky.test's
"fail the first time" paths count per site.
"""
import sys

import test_cluster
import test_semantics
import zc_e2e

HOSTS = ["polite.test", "flaky.test", "unavailable.test", "charset.test"]


def test(bin_dir):
    checks = test_semantics.Checks("cluster")
    with zc_e2e.Harness(bin_dir, "semantics-cluster") as h:
        site = h.start_testsite(20, slow_ms=3000)
        port = test_semantics.port_of(site["url"])
        truth = h.truth
        endpoints = test_cluster.start_cluster(h)
        control = endpoints["control"]
        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        seeds = [f"http://{host}:{port}/" for host in HOSTS]
        submit = h.run(["zcrawlctl", "--control", control, "submit"] + seeds
                       + ["-o", items, "--errors", errors]
                       + test_semantics.crawl_options(port, HOSTS), check_rc=False)
        crawl = submit.stdout.strip()
        checks.run("zcrawlctl submit accepted", lambda: zc_e2e.check(
            submit.returncode == 0 and crawl,
            f"exit {submit.returncode}: {submit.stderr[-1500:]}"))
        if crawl and submit.returncode == 0:
            wait = h.run(["zcrawlctl", "--control", control, "wait", crawl, "--timeout", "30"],
                         timeout=40, check_rc=False)
            checks.run("crawl done", lambda: zc_e2e.check(
                wait.returncode == 0, f"wait exit {wait.returncode}: {wait.stderr[-800:]}"))
        # polite.test's /landing.html is reached only through redirects.test, not crawled
        # here: it must not be requested at all
        truth_here = dict(truth)
        truth_here["scenarios"] = dict(truth["scenarios"])
        polite = dict(truth["scenarios"]["polite.test"])
        polite["requests"] = dict(polite["requests"], **{"/landing.html": 0})
        truth_here["scenarios"]["polite.test"] = polite
        test_semantics.check_log_politeness(checks, h, truth_here, HOSTS)
        test_semantics.check_output(checks, truth_here, HOSTS, items, errors)
        return checks.report()


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
