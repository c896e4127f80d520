#!/bin/sh
# Installs what bench/compare.py needs, and nothing else: nginx-light, wget,
# wrk, httrack, Scrapy and GNU time from Debian, Node.js + npm if absent, the pinned
# Crawlee of bench/competitors/crawlee (npm ci, into its git-ignored
# node_modules). Idempotent and quiet when nothing is missing. Run as root
# (or with sudo available). The project's own build needs are in
# scripts/install-deps.sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi

missing=""
for pkg in nginx-light wget wrk httrack python3-scrapy time; do
    if ! dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
# Node.js: any node + npm on PATH will do (e.g. NodeSource's nodejs, which
# ships npm); otherwise Debian's nodejs and npm.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if ! command -v node >/dev/null 2>&1; then
        missing="$missing nodejs"
    fi
    missing="$missing npm"
fi

if [ -n "$missing" ]; then
    echo "bench/install.sh: installing$missing"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
        >/dev/null
fi

crawlee="$here/competitors/crawlee"
if [ -f "$crawlee/package-lock.json" ] && [ ! -d "$crawlee/node_modules" ]; then
    echo "bench/install.sh: npm ci in $crawlee"
    (cd "$crawlee" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
