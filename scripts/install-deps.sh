#!/usr/bin/env bash
# Installs the Debian 12 packages zcrawl needs to build, test and run its demo.
# Idempotent and quiet: does nothing (and prints nothing) when all are present.
set -euo pipefail

packages=(
    build-essential cmake pkg-config clang clang-format git
    libzmq3-dev libczmq-dev libcurl4-openssl-dev libmsgpack-dev libxml2-dev
    libjansson-dev libmicrohttpd-dev libcmocka-dev zlib1g-dev libyaml-dev libpsl-dev liblmdb-dev
    python3 python3-zmq procps curl mount
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
