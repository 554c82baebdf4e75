#!/usr/bin/env bash
# Retrieval benchmark: builds a synthetic catalog index (default 1M
# entities), then times every registered arm at k=100 over queries drawn
# from the catalog's names, next to a plain scan of the same posting
# lists measured in the same run.
#
#   bench/retrieval/run.sh [BUILD_DIR] [-- extra args for the program]
#
# The program is built by bench/CMakeLists.txt as ltrr-bench-retrieval
# (enable it with add_subdirectory(bench) in the top-level CMakeLists).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
shift || true
[ "${1:-}" = "--" ] && shift
prog=$build/bin/ltrr-bench-retrieval
[ -x "$prog" ] || { echo "run.sh: $prog not built" >&2; exit 1; }
out=$(mktemp "${TMPDIR:-/tmp}/ltrr-bench-retrieval.XXXXXX")
trap 'rm -f "$out"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$prog" -o "$out" "$@"
