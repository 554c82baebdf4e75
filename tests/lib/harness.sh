# ltrr integration test harness. Source it from a test script:
#
#   . "$LTRR_SRC/tests/lib/harness.sh"
#   harness_init
#   harness_stack --only redis,broker      # exports LTRR_REDIS, LTRR_BOOTSTRAP
#   harness_bg consumer "$LTRR_BIN/ltrr-kafka" consume ...
#   assert_eq "$got" "$want" "records consumed"
#
# Every test gets a private temporary directory and its own Redis and
# broker on random ports. Cleanup runs on every exit path (success,
# failure, signal): background processes are killed and the stack is
# stopped. A test killed with SIGKILL (a ctest timeout) runs no trap: a
# reaper process, started by harness_init in its own session, then stops
# its stack and background processes and removes the directory. Set
# LTRR_KEEP_TEST_DIR=1 to keep the directory for debugging;
# on failure the tail of every log is printed.
set -euo pipefail

LTRR_SRC=${LTRR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LTRR_BIN=${LTRR_BIN:-$LTRR_SRC/build/bin}
export LTRR_SRC LTRR_BIN
HARNESS_NAME=$(basename "${0%.sh}")
HARNESS_DIR=""
HARNESS_PIDS=()
HARNESS_REAPER=""

harness_log() {
        printf '%s: %s\n' "$HARNESS_NAME" "$*" >&2
}

fail() {
        harness_log "FAIL: $*"
        exit 1
}

# Exit code 77 tells ctest the test was skipped (SKIP_RETURN_CODE).
skip() {
        harness_log "SKIP: $*"
        exit 77
}

assert_eq() {
        [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

assert_ge() {
        [ "$1" -ge "$2" ] || fail "$3: got $1, want >= $2"
}

assert_contains() {
        case $1 in
        *"$2"*) ;;
        *) fail "$3: '$2' not found in output" ;;
        esac
}

harness_cleanup() {
        local rc=$? pid f
        trap - EXIT INT TERM
        [ -z "$HARNESS_REAPER" ] || kill "$HARNESS_REAPER" 2>/dev/null || true
        for pid in "${HARNESS_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null || true
        done
        for pid in "${HARNESS_PIDS[@]}"; do
                timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null ||
                        kill -KILL "$pid" 2>/dev/null || true
        done
        if [ -n "$HARNESS_DIR" ] && [ -d "$HARNESS_DIR" ]; then
                [ -d "$HARNESS_DIR/stack" ] &&
                        "$LTRR_SRC/tools/stack.sh" down "$HARNESS_DIR/stack" 2>/dev/null
                if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
                        for f in "$HARNESS_DIR"/*.log "$HARNESS_DIR"/stack/logs/*.log; do
                                [ -s "$f" ] || continue
                                harness_log "--- last lines of $f"
                                tail -n 20 "$f" >&2
                        done
                fi
                if [ "${LTRR_KEEP_TEST_DIR:-0}" = 1 ]; then
                        harness_log "kept $HARNESS_DIR"
                else
                        rm -rf "$HARNESS_DIR"
                fi
        fi
        exit "$rc"
}

# The reaper polls the test's shell once a second; when it is gone without
# having cleaned up (the cleanup kills the reaper first), it kills what
# harness_bg started, stops the stack and removes the directory. Its
# output goes to /dev/null so ctest does not wait on its pipes.
harness_reaper() {
        setsid bash -c '
                while kill -0 "$1" 2>/dev/null; do sleep 1; done
                [ -d "$2" ] || exit 0
                [ -s "$2/.pids" ] && xargs -r kill -KILL <"$2/.pids"
                [ -d "$2/stack" ] && "$3/tools/stack.sh" down "$2/stack"
                rm -rf "$2"' reaper "$$" "$HARNESS_DIR" "$LTRR_SRC" \
                </dev/null >/dev/null 2>&1 &
        HARNESS_REAPER=$!
}

harness_init() {
        HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-$HARNESS_NAME.XXXXXX")
        trap harness_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        harness_reaper
}

# Starts the embedded stack (arguments go to tools/stack.sh up) and exports
# every variable of its stack.env.
harness_stack() {
        "$LTRR_SRC/tools/stack.sh" up "$HARNESS_DIR/stack" "$@" ||
                fail "stack did not start"
        set -a
        # shellcheck disable=SC1091
        . "$HARNESS_DIR/stack/stack.env"
        set +a
}

# harness_bg NAME CMD...: runs CMD in the background, output in
# $HARNESS_DIR/NAME.log; killed at cleanup. Sets HARNESS_LAST_PID.
harness_bg() {
        local name=$1
        shift
        "$@" </dev/null >"$HARNESS_DIR/$name.log" 2>&1 &
        HARNESS_LAST_PID=$!
        HARNESS_PIDS+=("$HARNESS_LAST_PID")
        echo "$HARNESS_LAST_PID" >>"$HARNESS_DIR/.pids"
}

# harness_wait DESC SECONDS CMD...: polls CMD every 50 ms, fails on timeout.
harness_wait() {
        local desc=$1 secs=$2 deadline
        shift 2
        deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
        until "$@" >/dev/null 2>&1; do
                (( $(date +%s%N) / 1000000 <= deadline )) ||
                        fail "timed out after ${secs}s waiting for $desc"
                sleep 0.05
        done
}

harness_redis_cli() {
        redis-cli -h "${LTRR_REDIS%:*}" -p "${LTRR_REDIS##*:}" "$@"
}
