#!/usr/bin/env bash
# Freshness bench: action accepted by ltrr-collect (202) -> its effect
# readable in Redis (the played entity's Q2E sum), p50/p99 over N actions
# on the embedded dev stack (redis, broker, index, serve, collect, join,
# learn; tools/stack.sh). Target: p99 <= 100 ms.
#
#   bench/freshness/run.sh [N]        (default 500; LTRR_BIN: build/bin)
#
# The consumers are started with fetch.wait.max.ms=10 and the producers
# with linger.ms=1 (LTRR_KAFKA_X_* environment, every program); without
# them a consumer waits up to librdkafka's default 500 ms on an empty
# fetch. Set FRESH_KAFKA_DEFAULTS=1 to measure with the defaults.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export LTRR_BIN=${LTRR_BIN:-$ROOT/build/bin}
N=${1:-500}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-fresh.XXXXXX")
trap '"$ROOT/tools/stack.sh" down "$DIR/stack" >/dev/null 2>&1; rm -rf "$DIR"' EXIT
if [ "${FRESH_KAFKA_DEFAULTS:-0}" != 1 ]; then
        export LTRR_KAFKA_X_FETCH_WAIT_MAX_MS=10 LTRR_KAFKA_X_LINGER_MS=1
fi
# A short window so that no_action rewards of the searches flow too.
export LTRR_WINDOW=${LTRR_WINDOW:-2s} LTRR_IDLE=${LTRR_IDLE:-1s}
"$ROOT/tools/stack.sh" up "$DIR/stack" >"$DIR/stack.log" 2>&1 ||
        { cat "$DIR/stack.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$DIR/stack/stack.env"
set +a
for v in LTRR_SERVE_URL LTRR_COLLECT_URL LTRR_JOIN_URL LTRR_LEARN_URL; do
        [ -n "${!v:-}" ] || { echo "stack has no $v (daemon not built?)" >&2; exit 1; }
done
# Warm up: the consumer groups form and the first records flow.
/usr/bin/python3 "$ROOT/bench/freshness/fresh.py" 5 love >/dev/null
/usr/bin/python3 "$ROOT/bench/freshness/fresh.py" "$N" love rock night
