#!/usr/bin/env bash
# tools/stack.sh: `up` starts Redis and the broker, waits until both are
# ready and writes stack.env; `down` stops exactly what `up` started.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

# A process that looks like part of a stack but was not started by it.
harness_bg bystander sleep 300
bystander=$HARNESS_LAST_PID

dir=$HARNESS_DIR/stack
"$LTRR_SRC/tools/stack.sh" up "$dir" --only redis,broker ||
        fail "stack up failed"

env_file=$dir/stack.env
grep -q '^LTRR_REDIS=127.0.0.1:[0-9]\+$' "$env_file" || fail "LTRR_REDIS missing"
grep -q '^LTRR_BOOTSTRAP=.\+$' "$env_file" || fail "LTRR_BOOTSTRAP missing"
grep -q "^LTRR_API_KEY=dev-[0-9a-f]\{16\}$" "$env_file" || fail "LTRR_API_KEY missing"
set -a; . "$env_file"; set +a

assert_eq "$(harness_redis_cli ping)" PONG "redis ping"
assert_eq "$(harness_redis_cli config get appendonly | tail -n 1)" yes "AOF on"
assert_eq "$(harness_redis_cli config get dir | tail -n 1)" "$dir/redis" \
        "redis data directory"

topics=$(kcat -b "$LTRR_BOOTSTRAP" -L -m 5 2>&1) || fail "kcat -L: $topics"
for t in ltrr.impressions ltrr.actions ltrr.rewards ltrr.dlq; do
        assert_contains "$topics" "topic \"$t\"" "topic list"
done

# A second `up` on the same directory is refused and harms nothing.
if "$LTRR_SRC/tools/stack.sh" up "$dir" 2>/dev/null; then
        fail "second up on a running stack succeeded"
fi
assert_eq "$(harness_redis_cli ping)" PONG "redis survives a refused up"

redis_pid=$(cat "$dir/pids/redis.pid")
broker_pid=$(cat "$dir/pids/broker.pid")
"$LTRR_SRC/tools/stack.sh" down "$dir" || fail "stack down failed"
kill -0 "$redis_pid" 2>/dev/null && fail "redis still running after down"
kill -0 "$broker_pid" 2>/dev/null && fail "broker still running after down"
kill -0 "$bystander" 2>/dev/null || fail "down killed a process it did not start"
[ -e "$dir/pids/order" ] && fail "pid records left behind"

# A failing `up` (missing broker binary) leaves nothing running.
LTRR_BIN=$HARNESS_DIR/nowhere "$LTRR_SRC/tools/stack.sh" up "$HARNESS_DIR/bad" \
        --only redis,broker 2>/dev/null && fail "up without a broker succeeded"
if [ -f "$HARNESS_DIR/bad/pids/redis.pid" ]; then
        fail "failed up left a redis pid record"
fi
pgrep -f "redis-server.*--dir $HARNESS_DIR/bad/redis" && fail "failed up left redis running"
harness_log "ok"
