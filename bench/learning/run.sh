#!/usr/bin/env bash
# Learning bench: the learned policy against static arm subsets, uniform
# random and the oracle, on the same simulated population and seed, each
# configuration on a fresh embedded stack (tools/stack.sh). Rewrites
# docs/LEARNING.md and docs/learning-curve.svg.
#
#   bench/learning/run.sh [--seed S[,S...]] [--queries N] [--json]
#                         [--screen-queries M] [--max-size K] [--top T]
#                         [--catalog N] [--users N] [--no-doc] [--keep]
#
# Programs come from $LTRR_BIN (default: build/bin). With --json the last
# line of stdout is one JSON object (success@10 under learned,
# best_static, oracle, and every static subset under static/screen).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LTRR_BIN=${LTRR_BIN:-$ROOT/build/bin}
for b in ltrr-serve ltrr-collect ltrr-join ltrr-learn ltrr-index ltrr-broker ltrr-sim; do
        [ -x "$LTRR_BIN/$b" ] || { echo "learning: $LTRR_BIN/$b not built" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "learning: redis-server not installed" >&2; exit 1; }
exec /usr/bin/python3 "$ROOT/bench/learning/learning.py" "$@"
