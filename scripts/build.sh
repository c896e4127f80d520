#!/usr/bin/env bash
# Installs what is missing and builds zcrawl into build/ (or $ZC_BUILD_DIR).
# Extra arguments go to cmake's configure step, e.g. -DZC_SANITIZE=address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${ZC_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" -- --no-print-directory >/dev/null
echo "build: binaries in $build_dir/bin"
