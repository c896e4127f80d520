#!/usr/bin/env python3
"""chaos: a broker (--data), 2 fetcher nodes and 2 parser nodes as separate
processes crawl a 5,000-page test site while a seeded random schedule kills
them with SIGKILL (at least ZC_CHAOS_KILLS times, default 10; fetchers, parser
nodes and the broker, the broker at least twice) and restarts each one (the
broker on the same --data dir and ports). When the crawl is done, the items
must hold every reachable page exactly once and errors must be empty.

Usage: test_chaos_cluster.py BIN_DIR [--seed N]...
Without --seed, the seeds are ZC_CHAOS_SEEDS (default "1,2,3"). A failure
prints the seed, the schedule and the events; replay it with
    ZC_CHAOS_KILLS=K test_chaos_cluster.py BIN_DIR --seed N
(the schedule is a function of seed and kill count only).
"""
import os
import random
import sys

import zc_chaos
from zc_chaos import TestFailure, check, count_lines

PAGES = 5000
NODES = ["broker", "fetcher0", "fetcher1", "parser0", "parser1"]
FIRST_KILL_AFTER = 100  # items lines written before the schedule starts
GAPS_BUDGET = 3000      # items the schedule's gaps add up to at most (5,256 pages)
DOWN_MAX = 50           # items written while a fetcher or parser node is down, at most
PROGRESS_TIMEOUT_S = 60 # for each gap or down time to be written
DONE_TIMEOUT_S = 180    # after the last kill


def make_schedule(seed, kills):
    """[(gap, node, down)]: once gap more items are written, kill -9 node; restart it
    once down more items are written by the others (the broker, which nobody can
    write without, at once). Counted in items, the schedule lands at the same points
    of the crawl however fast the machine is. The broker is killed at least twice,
    a fetcher and a parser node at least once."""
    rng = random.Random(seed)
    targets = ["broker", "broker", rng.choice(NODES[1:3]), rng.choice(NODES[3:5])]
    while len(targets) < kills:
        targets.append(rng.choice(NODES))
    rng.shuffle(targets)
    hi = max(2, GAPS_BUDGET // len(targets))
    lo = hi // 2
    return [(rng.randint(lo, hi), t, 0 if t == "broker" else rng.randint(0, DOWN_MAX))
            for t in targets]


def describe(schedule):
    return ", ".join(f"+{gap} items kill {node} (down {down} items)"
                     for gap, node, down in schedule)


def run_seed(bin_dir, seed, kills):
    schedule = make_schedule(seed, kills)
    print(f"seed {seed}, {len(schedule)} kills: {describe(schedule)}", flush=True)
    with zc_chaos.ChaosHarness(bin_dir, f"chaos-cluster-{seed}") as h:
        try:
            site = h.start_testsite(PAGES, slow_ms=zc_chaos.SITE_SLOW_MS,
                                    big_bytes=zc_chaos.SITE_BIG_BYTES)
            total = len(zc_chaos.expected_urls(h.truth))
            cluster = zc_chaos.Cluster(h, h.path("data")).start()
            items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
            crawl = cluster.submit(site["url"] + "/", items, errors,
                                   zc_chaos.SLOW_CRAWL_OPTIONS)
            h.note(f"submitted crawl {crawl}: {total} pages expected")
            zc_chaos.wait_until(lambda: cluster.check_alive() or
                                count_lines(items) >= FIRST_KILL_AFTER,
                                60, f"{FIRST_KILL_AFTER} items before the first kill")
            def grown_by(count, what):
                base = count_lines(items)
                zc_chaos.wait_until(lambda: cluster.check_alive() or
                                    count_lines(items) >= base + count,
                                    PROGRESS_TIMEOUT_S, what)

            for n, (gap, node, down) in enumerate(schedule, 1):
                grown_by(gap, f"{gap} more items before kill {n}")
                written = count_lines(items)
                check(written < total, f"the crawl was over ({written} items) before kill {n}: "
                      "the schedule must fit in the crawl")
                rc = cluster.kill(node)
                h.note(f"kill -9 #{n} {node} at {written} items (exit status {rc})")
                check(rc == -9, f"{node} exited {rc}, not by SIGKILL")
                if down:
                    grown_by(down, f"{down} items while {node} is down")
                cluster.start_node(node)
                h.note(f"restarted {node} (ready)")
            done = cluster.wait_done(crawl, DONE_TIMEOUT_S)
            h.note(f"crawl done: {done}")
            summary = zc_chaos.check_exactly_once(h, items, errors)
            if done.get("pages") != summary["items"]:
                h.note(f"note: status says {done.get('pages')} pages, items hold "
                       f"{summary['items']}")
            return summary
        except (TestFailure, OSError) as e:
            raise TestFailure(f"seed {seed} failed (replay: ZC_CHAOS_KILLS={kills} "
                              f"{sys.argv[0]} BIN_DIR --seed {seed}): {e}\n"
                              f"schedule: {describe(schedule)}\nevents:\n  " +
                              "\n  ".join(h.events))


def parse_seeds(argv):
    seeds = [int(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "--seed"]
    if not seeds:
        seeds = [int(s) for s in os.environ.get("ZC_CHAOS_SEEDS", "1,2,3").split(",") if s]
    return seeds


def test(bin_dir):
    kills = int(os.environ.get("ZC_CHAOS_KILLS", "10"))
    results = {}
    for seed in parse_seeds(sys.argv[2:]):
        results[seed] = run_seed(bin_dir, seed, kills)
    return results


if __name__ == "__main__":
    sys.exit(zc_chaos.zc_e2e.main(test))
