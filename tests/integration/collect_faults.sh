#!/usr/bin/env bash
# ltrr-collect durability: a load of requests while a broker is taken down
# and brought back (ltrr-broker fault injection). Every event answered 202
# must be on ltrr.actions, exactly once, counted by action_id.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c 'import avro.io, avro.schema' 2>/dev/null ||
        skip "python3-avro is not installed"
[ -x "$LTRR_BIN/ltrr-collect" ] || fail "ltrr-collect not built"

harness_stack --only redis,broker,collect
[ -n "$LTRR_COLLECT_URL" ] || fail "stack did not start ltrr-collect"
check=$LTRR_SRC/tests/integration/collect_check.py
ctl() {
        "$LTRR_BIN/ltrr-broker" --control "$LTRR_BROKER_CONTROL" --send "$*"
}

# Broker 1 goes down, then 400 requests of 20 events from 8 clients start:
# the ones with records led by broker 1 wait for it; it comes back after
# 3 s.
assert_eq "$(ctl broker down 1)" "ok broker 1 down" "broker down"
harness_bg load /usr/bin/python3 "$check" load 400 20 8 "$HARNESS_DIR/acked"
load=$HARNESS_LAST_PID
sleep 3
kill -0 "$load" 2>/dev/null ||
        fail "load finished while a partition leader was down"
code=$(curl -s -o /dev/null -w '%{http_code}' "$LTRR_COLLECT_URL/metrics")
assert_eq "$code" 200 "/metrics answers while deliveries wait"
assert_eq "$(ctl broker up 1)" "ok broker 1 up" "broker up"
rc=0; wait "$load" || rc=$?
cat "$HARNESS_DIR/load.log"
assert_eq "$rc" 0 "load generator exit code"
[ -s "$HARNESS_DIR/acked" ] || fail "no event was acknowledged"
/usr/bin/python3 "$check" verify "$HARNESS_DIR/acked" ||
        fail "acknowledged events missing from ltrr.actions"
curl -fsS "$LTRR_COLLECT_URL/healthz" >/dev/null ||
        fail "ltrr-collect unhealthy after the broker came back"
