#!/usr/bin/env bash
# The README's second command (and what CI runs): installs what is missing,
# builds with warnings as errors, runs the whole test suite, then runs the unit
# and e2e tests once more under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
ZC_BUILD_DIR=build scripts/build.sh -DZC_WERROR=ON
ctest --test-dir build --output-on-failure -j "$jobs"
ZC_BUILD_DIR=build-asan scripts/build.sh -DZC_WERROR=ON -DZC_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|e2e'
