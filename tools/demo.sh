#!/usr/bin/env bash
# The ltrr demo: installs the Debian packages it needs, builds, starts the
# embedded stack (redis-server, ltrr-broker, a synthetic catalog's index,
# ltrr-collect, -join, -learn and -serve) in .stack/demo, drives it with
# simulated users (ltrr-sim) while printing their success rate and the
# dashboard URL, and stops everything it started on Ctrl-C.
#
#   tools/demo.sh [--once] [--no-install] [--no-build] [--dir DIR]
#
#   --once        a short simulated run, then stop the stack and exit (tests)
#   --no-install  skip tools/install-deps.sh
#   --no-build    use the programs in $LTRR_BIN (default build/bin) as they are
#   --dir DIR     where the stack lives (default .stack/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
once=0
install=1
build=1
dir=$root/.stack/demo
while [ $# -gt 0 ]; do
        case $1 in
        --once) once=1 ;;
        --no-install) install=0 ;;
        --no-build) build=0 ;;
        --dir) dir=$2; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done

say() {
        printf '\n\033[1m== %s\033[0m\n' "$*"
}

[ "$install" = 1 ] && "$root/tools/install-deps.sh"
if [ "$build" = 1 ]; then
        say "build"
        "$root/tools/build.sh" "$root/build" >/dev/null
        export LTRR_BIN=$root/build/bin
else
        export LTRR_BIN=${LTRR_BIN:-$root/build/bin}
fi
echo "programs in $LTRR_BIN:"
ls "$LTRR_BIN" | sed 's/^/  /'

# The catalog the stack indexes and the simulator regenerates.
export STACK_SYNTHETIC=${STACK_SYNTHETIC:-20000}
# A short attribution window, so the bandit sees its zero rewards within
# seconds: with the production default (10 min) a search that gets no
# action is scored only when its window closes, and for the first minutes
# the bandit would see only the searches that were clicked.
export LTRR_WINDOW=${LTRR_WINDOW:-5s} LTRR_IDLE=${LTRR_IDLE:-1s}
# A stack left over from an interrupted demo is stopped first.
[ -d "$dir/pids" ] && "$root/tools/stack.sh" down "$dir" >/dev/null 2>&1 || true
rm -rf "$dir"
say "start the embedded stack in $dir"
"$root/tools/stack.sh" up "$dir"
stopped=0
sim_pid=
# Stops the simulator (it prints its summary), then the stack. It must
# also work when the terminal is gone: a closed window sends SIGHUP to
# this script alone, and every write to the terminal fails. So the
# simulator is told to stop here, the messages are best effort, and once
# they cannot be written the rest of stack.sh's output is drained, so it
# still stops every daemon.
stop_stack() {
        [ "$stopped" = 1 ] && return
        stopped=1
        if [ -n "$sim_pid" ]; then
                kill -TERM "$sim_pid" 2>/dev/null || true
                wait "$sim_pid" 2>/dev/null || true
        fi
        say "stop the stack" 2>/dev/null || true
        "$root/tools/stack.sh" down "$dir" 2>&1 |
                { cat 2>/dev/null || cat >/dev/null; } || true
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# shellcheck source=/dev/null
. "$dir/stack.env"

say "Kafka topics on ltrr-broker ($LTRR_BOOTSTRAP)"
kcat -b "$LTRR_BOOTSTRAP" -L -J |
        /usr/bin/python3 -c 'import json,sys
for t in sorted(json.load(sys.stdin)["topics"], key=lambda t: t["topic"]):
    print("  %-18s %d partitions" % (t["topic"], len(t["partitions"])))'

say "the stack is up"
sed 's/^/  /' "$dir/stack.env"
echo "  logs: $dir/logs/"
for v in LTRR_SERVE_URL LTRR_COLLECT_URL; do
        [ -n "${!v:-}" ] || { echo "demo: $v missing: a daemon did not start" >&2; exit 1; }
done
say "dashboard: $LTRR_SERVE_URL/dashboard"

sim=("$LTRR_BIN/ltrr-sim" --serve "$LTRR_SERVE_URL" --collect "$LTRR_COLLECT_URL"
        --api-key "$LTRR_API_KEY" --catalog "synthetic:$STACK_SYNTHETIC:1"
        --seed "$(date +%s)")
if [ "$once" = 1 ]; then
        say "simulated users: 300 searches"
        "${sim[@]}" --queries 300 --rate 100 --json >"$dir/sim.json"
        /usr/bin/python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
print("  success@10 %.3f  nDCG@10 %.3f  queries %d" % (s["success_at_10"],
      s["ndcg_at_10"], s["queries"]))' "$dir/sim.json"
        # shellcheck source=tools/demo_roundtrip.sh
        . "$root/tools/demo_roundtrip.sh"
        demo_roundtrip "$dir"
        exit 0
fi
say "simulated users search, click, play and skip; Ctrl-C stops everything"
echo "  open $LTRR_SERVE_URL/dashboard to watch the bandit learn"
# In the background, so that a signal to this script runs its trap at
# once (bash runs traps only after a foreground command ends).
"${sim[@]}" --queries 100000000 --rate 50 &
sim_pid=$!
wait "$sim_pid" || true
