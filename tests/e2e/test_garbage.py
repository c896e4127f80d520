#!/usr/bin/env python3
"""e2e: valid ZeroMQ frames carrying bad msgpack, sent to every bound socket
(broker jobs, results and control; every parser front), are counted as decode
errors (reported in HEARTBEAT and `zcrawlctl status`) and the crawl still
completes exactly.
"""
import json
import sys

import zmq

import zc_e2e
from zc_e2e import check
from test_cluster import start_cluster, submit_and_wait

PAGES = 300

GARBAGE = [
    b"\xc1",                          # a byte msgpack never uses
    b"\x82\xa1v\x01",                 # map of 2 with only one pair: truncated
    b"\xdd\xff\xff\xff\xff",          # array32 claiming 4 billion elements
    b"\xdb\xff\xff\xff\xf0abc",       # str32 claiming 4 GB
    b"\x81\xa1v\x01",                 # map without "t"
    b"\x82\xa1v\x01\xa1t\xa5BOGUS",   # unknown type
    bytes(range(256)),                # noise
]


def decode_errors(h, control):
    doc = json.loads(h.run(["zcrawlctl", "--control", control, "status", "--json"]).stdout)
    return doc["decode_errors"]


def test(bin_dir):
    with zc_e2e.Harness(bin_dir, "garbage") as h:
        site = h.start_testsite(PAGES)
        endpoints = start_cluster(h)
        control = endpoints["control"]
        before = decode_errors(h, control)

        ctx = zmq.Context()
        targets = [(zmq.DEALER, endpoints["jobs"]), (zmq.PUSH, endpoints["results"]),
                   (zmq.DEALER, control)] + [(zmq.PUSH, f) for f in endpoints["fronts"]]
        sockets = []
        for kind, endpoint in targets:
            s = ctx.socket(kind)
            s.setsockopt(zmq.LINGER, 2000)
            s.connect(endpoint)
            for frame in GARBAGE:
                s.send(frame)
            sockets.append(s)
        expected = len(targets) * len(GARBAGE)

        # Parser fronts report through heartbeats, so the total arrives within a few beats.
        zc_e2e.wait_until(lambda: decode_errors(h, control) - before >= expected, 15,
                          f"{expected} decode errors to be counted")
        for s in sockets:
            s.close()
        ctx.term()

        items, errors = h.path("items.jsonl"), h.path("errors.jsonl")
        submit_and_wait(h, control, site["url"], items, errors)
        summary = zc_e2e.check_crawl_output(h, items, errors)
        summary["decode_errors"] = decode_errors(h, control) - before
        return summary


if __name__ == "__main__":
    sys.exit(zc_e2e.main(test))
