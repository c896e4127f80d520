#!/usr/bin/env bash
# Fails if any C source or header differs from the repository's .clang-format
# (Debian's clang-format 14). Fix with: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror
