#!/usr/bin/env python3
"""chaos: a broker killed and restarted refetches at most the pages that were
in flight (counted from the test site's request log).

A cluster (broker --data --commit-ms 50, 2 fetcher nodes, 2 parser nodes)
crawls the test site. Mid-crawl both fetchers are frozen (SIGSTOP), so no
outcome can arrive; once the crawl's status has been still for many commit
intervals (everything written is committed), its in_flight count is recorded
(plus "uncommitted" if status reports one), the broker is killed with -9 and
restarted on the same --data dir and ports, and the fetchers are thawed
(SIGCONT). When the crawl is done: output exactly once, and the page requests
the site saw more than once (/robots.txt aside) are at most that count.
"""
import os
import signal
import sys
import time

import zc_chaos
from zc_chaos import check, count_lines

PAGES = 1000
FREEZE_AFTER = 200     # items lines written before the fetchers are frozen
COMMIT_MS = 50
HEARTBEAT_MS = 1000    # frozen fetchers are declared dead after 5 s: measure before that
STILL_FOR_S = 0.6      # status unchanged this long = stable (12 commit intervals)
STABLE_WITHIN_S = 3.5  # ... reached this soon after the freeze
DONE_TIMEOUT_S = 120


def test(bin_dir):
    with zc_chaos.ChaosHarness(bin_dir, "chaos-refetch") as h:
        frozen = []
        try:
            site = h.start_testsite(PAGES, slow_ms=zc_chaos.SITE_SLOW_MS,
                                    big_bytes=zc_chaos.SITE_BIG_BYTES)
            cluster = zc_chaos.Cluster(h, h.path("data"), heartbeat_ms=HEARTBEAT_MS,
                                       commit_ms=COMMIT_MS).start()
            items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
            crawl = cluster.submit(site["url"] + "/", items, errors,
                                   zc_chaos.SLOW_CRAWL_OPTIONS)
            zc_chaos.wait_until(lambda: cluster.check_alive() or
                                count_lines(items) >= FREEZE_AFTER,
                                60, f"{FREEZE_AFTER} items")

            for name in ("fetcher0", "fetcher1"):
                os.kill(cluster.procs[name].pid, signal.SIGSTOP)
                frozen.append(cluster.procs[name])
            frozen_at = time.monotonic()
            h.note(f"SIGSTOP both fetchers at {count_lines(items)} items")

            # Stable: the crawl's counters and the items file unchanged for STILL_FOR_S.
            seen = {"key": None, "since": None, "status": None}

            def stable():
                c = cluster.crawl_status(crawl)
                check(c is not None, "broker did not answer status")
                key = (c.get("pages"), c.get("failed"), c.get("queued"), c.get("in_flight"),
                       c.get("uncommitted"), count_lines(items))
                now = time.monotonic()
                if key != seen["key"]:
                    seen.update(key=key, since=now, status=c)
                return now - seen["since"] >= STILL_FOR_S
            zc_chaos.wait_until(stable, STABLE_WITHIN_S, "the crawl's status to be still")
            check(time.monotonic() - frozen_at < 5 * HEARTBEAT_MS / 1000,
                  "measured too late: the frozen fetchers may have been declared dead")
            status = seen["status"]
            in_flight = status["in_flight"]
            uncommitted = status.get("uncommitted", 0)
            fetchers = [n for n in (cluster.status() or {}).get("nodes", [])
                        if n.get("role") == "fetcher"]
            h.note(f"stable: {status}; fetchers {fetchers}")
            check(status["state"] == "running", f"crawl not running at the kill: {status}")
            before = count_lines(items)

            rc = cluster.kill("broker")
            h.note(f"kill -9 broker at {before} items, in_flight {in_flight}, "
                   f"uncommitted {uncommitted} (exit status {rc})")
            cluster.start_node("broker")
            h.note("restarted broker")
            for proc in frozen:
                os.kill(proc.pid, signal.SIGCONT)
            frozen = []
            h.note("SIGCONT both fetchers")

            cluster.wait_done(crawl, DONE_TIMEOUT_S)
            summary = zc_chaos.check_exactly_once(h, items, errors)
            extra, repeated = zc_chaos.page_refetches(h)
            bound = in_flight + uncommitted
            h.note(f"refetched {extra} requests ({len(repeated)} URIs), bound {bound}")
            check(extra <= bound,
                  f"{extra} page requests repeated ({len(repeated)} URIs, e.g. "
                  f"{sorted(repeated.items())[:10]}) > {in_flight} in flight + "
                  f"{uncommitted} uncommitted at the broker kill")
            summary.update(in_flight=in_flight, refetched=extra)
            return summary
        except zc_chaos.TestFailure as e:
            raise zc_chaos.TestFailure(f"{e}\nevents:\n  " + "\n  ".join(h.events))
        finally:
            for proc in frozen:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGCONT)


if __name__ == "__main__":
    sys.exit(zc_chaos.zc_e2e.main(test))
