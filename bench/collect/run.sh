#!/usr/bin/env bash
# Benchmarks ltrr-collect: events/s and p99 latency at batch sizes 1 and
# 100 with wrk, against the embedded stack (Redis, ltrr-broker, collect).
#   bench/collect/run.sh [BUILD_DIR]     (default: build)
# Env: DURATION (10s), CONNS (16), THREADS (2), COLLECT_ARGS (extra flags
# for ltrr-collect, e.g. "--poll.interval=5ms").
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
export LTRR_BIN=$build/bin
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-bench-collect.XXXXXX")
trap '"$src/tools/stack.sh" down "$dir/stack" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$src/tools/stack.sh" up "$dir/stack" --only redis,broker >/dev/null
set -a; . "$dir/stack/stack.env"; set +a
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$LTRR_BIN/ltrr-collect" --http.port="$port" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
        --api.key="$LTRR_API_KEY" --log.level=warn ${COLLECT_ARGS:-} \
        2>"$dir/collect.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; "$src/tools/stack.sh" down "$dir/stack" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
        sleep 0.1
done
# Warm-up: the idempotent producer's id and the topic metadata are
# fetched on the first records; keep that out of the percentiles.
curl -fs -o /dev/null -H "Authorization: Bearer $LTRR_API_KEY" \
        -d '{"impression_id":"0123456789abcdef0123456789abcdef","user_id":"w","entity_id":"w","position":0,"type":"click"}' \
        "http://127.0.0.1:$port/v1/events"
echo "# ltrr-collect bench: $(nproc) cores, ${DURATION:-10s}, ${CONNS:-16} connections, args '${COLLECT_ARGS:-}'"
for batch in 1 100; do
        BATCH=$batch wrk -t"${THREADS:-2}" -c"${CONNS:-16}" -d"${DURATION:-10s}" \
                -s "$src/bench/collect/events.lua" "http://127.0.0.1:$port" |
                grep '^batch='
done
curl -fs "http://127.0.0.1:$port/metrics" | grep -E '^ltrr_collect_(events_accepted|delivery_failures|overloaded)_total'
