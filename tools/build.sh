#!/usr/bin/env bash
# Configures and builds ltrr into a build directory.
#   tools/build.sh [BUILD_DIR] [extra cmake -D options...]
# Warnings are errors when CI=true.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
opts=()
[ "${CI:-}" = true ] && opts+=(-DLTRR_WERROR=ON)
cmake -S "$root" -B "$dir" "${opts[@]}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
