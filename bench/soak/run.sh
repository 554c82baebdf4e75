#!/usr/bin/env bash
# Soak: the whole embedded stack (tools/stack.sh) under simulated load
# (ltrr-sim, events on) for M minutes. Every interval it samples each
# daemon's RSS, open fds, threads and CPU time, Redis INFO (memory, AOF,
# keys) and the keys per class, and the daemons' /metrics gauges into a
# CSV; at the end it writes an SVG plot, a markdown report (first, last,
# max and the slope of every metric over the second half) and a JSON
# summary.
#
#   bench/soak/run.sh [--minutes M] [--rate QPS] [--users N] [--interval S]
#                     [--join-window D] [--join-horizon D] [--fd-bound N]
#                     [--out DIR] [BUILD_DIR]
#
#   --minutes M       length of the run (default 10; fractions allowed)
#   --rate QPS        simulated searches per second (default 150)
#   --users N         simulated population (default 10000)
#   --interval S      seconds between samples (default 5)
#   --join-window D   ltrr-join attribution window (default 2m, see below)
#   --join-horizon D  ltrr-join late.horizon (default 1m)
#   --fd-bound N      most open fds any process may hold (default 256)
#   --out DIR         results (default BUILD_DIR/soak): soak.csv, soak.svg,
#                     soak.md, summary.json, sim.json, stack/logs/
#   BUILD_DIR         build tree whose bin/ holds the programs (default build)
#
# ltrr-join keeps an impression for window + late.horizon (20 minutes by
# default), so a 10-minute run at the default window would never reach
# its steady state; the soak shortens both so that the second half of
# the run is past them. Exit status: 0 when nothing grows beyond its
# threshold, 1 when something does (or fds exceed the bound), 2 for bad
# options, 3 when the stack did not start or a daemon died.
# shellcheck disable=SC2317  # stop_daemons and cleanup run from the traps
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
minutes=10
rate=150
users=10000
interval=5
window=2m
horizon=1m
fd_bound=256
out=""
build=$ROOT/build
usage() {
        sed -n '10,23p' "$0" | sed 's/^# \{0,1\}//' >&2
        exit "${1:-2}"
}
while [ $# -gt 0 ]; do
        case $1 in
        --minutes) minutes=${2:?}; shift 2 ;;
        --rate) rate=${2:?}; shift 2 ;;
        --users) users=${2:?}; shift 2 ;;
        --interval) interval=${2:?}; shift 2 ;;
        --join-window) window=${2:?}; shift 2 ;;
        --join-horizon) horizon=${2:?}; shift 2 ;;
        --fd-bound) fd_bound=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        -*) echo "soak: unknown option $1" >&2; usage ;;
        *) build=$1; shift ;;
        esac
done
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ && $rate =~ ^[0-9]+$ && $users =~ ^[0-9]+$ &&
   $interval =~ ^[0-9]+(\.[0-9]+)?$ && $fd_bound =~ ^[0-9]+$ ]] || usage
build=$(cd "$build" 2>/dev/null && pwd) || { echo "soak: no build dir $build" >&2; exit 2; }
export LTRR_BIN=$build/bin
out=${out:-$build/soak}
for b in ltrr-serve ltrr-collect ltrr-join ltrr-learn ltrr-index ltrr-broker ltrr-sim; do
        [ -x "$LTRR_BIN/$b" ] || { echo "soak: $LTRR_BIN/$b not built" >&2; exit 3; }
done
command -v redis-server >/dev/null || { echo "soak: redis-server not installed" >&2; exit 3; }

seconds=$($PY -c "print(int(round(float('$minutes') * 60)))")
# Enough queries that the simulator outlives the sampler; it is stopped.
queries=$(( rate * (seconds + 120) + 1000 ))
stack=$out/stack
mkdir -p "$out"
[ -d "$stack/pids" ] && "$ROOT/tools/stack.sh" down "$stack" >/dev/null 2>&1
rm -rf "$stack"
rm -f "$out"/soak.csv "$out"/soak.svg "$out"/soak.md "$out"/summary.json

sim_pid=""
# SIGTERM to the four daemons at once (each may take seconds to drain,
# longer under a sanitizer), then `stack.sh down` stops the broker and
# Redis, which the daemons need while they drain.
stop_daemons() {
        local name pid pids=()
        for name in serve collect join learn; do
                pid=$(cat "$stack/pids/$name.pid" 2>/dev/null) || continue
                kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
        done
        for pid in "${pids[@]}"; do
                timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
        done
}
cleanup() {
        trap - EXIT INT TERM
        if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
                kill -TERM "$sim_pid" 2>/dev/null
                timeout 15 tail --pid="$sim_pid" -f /dev/null 2>/dev/null ||
                        kill -KILL "$sim_pid" 2>/dev/null
        fi
        [ -f "$stack/pids/order" ] && stop_daemons
        "$ROOT/tools/stack.sh" down "$stack" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
export STACK_SYNTHETIC=${STACK_SYNTHETIC:-20000}
# ltrr-join's own keys; no other program has them.
LTRR_WINDOW=$window LTRR_LATE_HORIZON=$horizon "$ROOT/tools/stack.sh" up "$stack" ||
        { echo "soak: stack did not start" >&2; exit 3; }
set -a
# shellcheck disable=SC1091
. "$stack/stack.env"
set +a
for v in LTRR_SERVE_URL LTRR_COLLECT_URL LTRR_JOIN_URL LTRR_LEARN_URL; do
        [ -n "${!v:-}" ] || { echo "soak: $v missing: a daemon did not start" >&2; exit 3; }
done

"$LTRR_BIN/ltrr-sim" --serve "$LTRR_SERVE_URL" --collect "$LTRR_COLLECT_URL" \
        --api-key "$LTRR_API_KEY" --catalog "synthetic:$STACK_SYNTHETIC:1" \
        --users "$users" --rate "$rate" --queries "$queries" --seed 1 --json \
        </dev/null >"$out/sim.json" 2>"$out/sim.err" &
sim_pid=$!
echo "soak: $minutes min at $rate qps, $users users; stack in $stack; load $load_start" >&2

$PY "$ROOT/bench/soak/soak.py" sample --stack "$stack" --out "$out/soak.csv" \
        --seconds "$seconds" --interval "$interval" --sim-pid "$sim_pid"
sample_rc=$?
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# The simulator prints its summary on SIGTERM.
if kill -0 "$sim_pid" 2>/dev/null; then
        kill -TERM "$sim_pid"
        timeout 15 tail --pid="$sim_pid" -f /dev/null 2>/dev/null || kill -KILL "$sim_pid"
fi
wait "$sim_pid" 2>/dev/null
sim_pid=""
sim_line=$($PY -c 'import json,sys
s = json.load(open(sys.argv[1]))
print("ltrr-sim: %d searches, %d errors, success@10 %.3f, events sent %d, accepted %d, dropped %d, failed posts %d" % (
    s["queries"], s["errors"], s["success_at_10"], s["events"]["sent"],
    s["events"]["accepted"], s["events"]["dropped"], s["events"]["failed_posts"]))' \
        "$out/sim.json" 2>/dev/null || echo "ltrr-sim: no summary (see $out/sim.err)")
echo "soak: $sim_line" >&2

command="bench/soak/run.sh --minutes $minutes --rate $rate --users $users --interval $interval --join-window $window --join-horizon $horizon"
$PY "$ROOT/bench/soak/soak.py" report --csv "$out/soak.csv" --md "$out/soak.md" \
        --svg "$out/soak.svg" --json "$out/summary.json" --users "$users" \
        --rate "$rate" --fd-bound "$fd_bound" --command "$command" \
        --note "Load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end ($(nproc) cores)." \
        --note "ltrr-join ran with window=$window, late.horizon=$horizon; every other key at its default." \
        --note "$sim_line"
rc=$?
[ "$sample_rc" -eq 0 ] || rc=3
echo "soak: report $out/soak.md, plot $out/soak.svg (exit $rc)" >&2
exit "$rc"
