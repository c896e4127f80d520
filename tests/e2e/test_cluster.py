#!/usr/bin/env python3
"""e2e: a broker, two fetcher nodes and two parser nodes as separate processes
crawl a 2,000-page test site; the output must match the ground truth exactly.
"""
import sys

import zc_e2e
from zc_e2e import check

PAGES = 2000


def start_cluster(h):
    """Starts broker, 2 fetchers, 2 parsers on 127.0.0.1; returns the broker endpoints."""
    endpoints = h.start_broker()
    fronts = [h.start_parser(f"parser{i}", endpoints, actors=2)["front"] for i in range(2)]
    for i in range(2):
        h.start_fetcher(f"fetcher{i}", endpoints, ["--in-flight", "32"])
    endpoints["fronts"] = fronts
    return endpoints


def submit_and_wait(h, control, site_url, items, errors, timeout=120):
    crawl = h.run(["zcrawlctl", "--control", control, "submit", site_url + "/", "-o", items,
                   "--errors", errors] + zc_e2e.FAST_CRAWL_OPTIONS).stdout.strip()
    check(crawl, "submit printed no crawl id")
    h.run(["zcrawlctl", "--control", control, "wait", crawl, "--timeout", str(timeout)],
          timeout=timeout + 10)
    return crawl


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "cluster") as h:
        site = h.start_testsite(PAGES)
        endpoints = start_cluster(h)
        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        crawl = submit_and_wait(h, endpoints["control"], site["url"], items, errors)
        summary = zc_e2e.check_crawl_output(h, items, errors)
        status = h.run(["zcrawlctl", "--control", endpoints["control"], "status", crawl,
                        "--json"]).stdout
        import json
        doc = json.loads(status)
        check(doc["crawls"][0]["state"] == "done", f"state {doc['crawls'][0]['state']}")
        check(doc["crawls"][0]["pages"] == summary["items"], "status pages != items written")
        roles = sorted(n["role"] for n in doc["nodes"])
        check(roles == ["fetcher", "fetcher", "parser", "parser"], f"nodes {roles}")
        busy = [n for n in doc["nodes"] if n["done"] > 0]
        check(len(busy) == 4, f"every node should have done work: {doc['nodes']}")
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
