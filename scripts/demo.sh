#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then crawls a
# local demo site (the project's test site, 2,000 pages on 127.0.0.1) with
# `zcrawl local`, the embedded default cluster, and prints where the items went.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
out=$PWD/demo-out
rm -rf "$out" && mkdir -p "$out"
build/bin/zc-testsite --pages 2000 --host 127.0.0.1 --slow-ms 3000 \
    --ready-file "$out/site.json" --truth "$out/truth.json" --log "$out/site.log" &
site_pid=$!
trap 'kill $site_pid 2>/dev/null; wait $site_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/site.json" ] && break; sleep 0.1; done
site_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$out/site.json")
echo "demo: crawling the local test site at $site_url/"
# --allow-private: the demo site is on 127.0.0.1; --impolite: it is our own
# site, so no per-host delay; short timeouts so that the site's deliberately
# slow and oversized pages end as errors quickly.
build/bin/zcrawl local "$site_url/" -o "$out/items.jsonl" --allow-private --impolite \
    --timeout 0.5 --retry-base 100 --max-body 1M --host-concurrency 16
echo "demo: first item:"
head -n 1 "$out/items.jsonl"
