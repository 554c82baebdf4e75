#!/usr/bin/env bash
# SIGKILL of ltrr-collect under load. Six clients post batches of 10
# events (each with its own idempotency key) for a fixed time; ltrr-collect
# is killed with SIGKILL at a random moment after the first
# acknowledgements and started again on the same port a second later.
# Clients retry a request that failed on the connection, same body.
#
# What the design promises (docs/decisions/0014-collect-durability.md):
# 202 only after Kafka acknowledged every record (acks=all, idempotent
# producer), so every action id answered 202 is on ltrr.actions: at least
# once. A request whose answer was lost in the crash may have been
# delivered and is then delivered again by its retry, with the same
# action id (derived from the idempotency key), which ltrr-join drops as
# a repeat. So: every acknowledged id on the topic; the ids of requests
# that were never retried exactly once; nothing on the topic that was
# not posted; and the restarted process acknowledges the resumed load.
. "$LTRR_SRC/tests/lib/harness.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh" || exit 1
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
/usr/bin/python3 -c 'import avro.io, avro.schema' 2>/dev/null ||
        skip "python3-avro is not installed"
[ -x "$LTRR_BIN/ltrr-collect" ] || fail "ltrr-collect not built"
harness_stack --only broker
D=$HARNESS_DIR
CHECK=$LTRR_SRC/tests/integration/fault_collect.py
LOAD_S=${FAULT_COLLECT_LOAD_S:-6}

collect_metric() { # NAME -> integer value
        curl -fsS --max-time 2 "$LTRR_COLLECT_URL/metrics" |
                awk -v n="$1" '$1 == n {print int($2)}'
}
collect_start() { # NAME PORT
        harness_bg "$1" env LTRR_API_KEY="$LTRR_API_KEY" \
                "$LTRR_BIN/ltrr-collect" --http.port="$2" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --node.id="$1"
        COLLECT_PID=$HARNESS_LAST_PID
        harness_wait "ltrr-collect $1 ready" 20 stack_http_ready \
                "http://127.0.0.1:$2"
}

PORT=$(stack_free_port) || fail "no free port"
export LTRR_COLLECT_URL="http://127.0.0.1:$PORT"
collect_start collect1 "$PORT"
harness_bg load /usr/bin/python3 "$CHECK" load "$LOAD_S" 10 6 "$D/acked"
LOAD_PID=$HARNESS_LAST_PID
acked_any() { [ "$(collect_metric ltrr_collect_events_accepted_total)" -ge 200 ]; }
harness_wait "first acknowledgements" 20 acked_any
sleep "0.$((RANDOM % 10))"
before=$(collect_metric ltrr_collect_events_accepted_total || echo "?")
kill -KILL "$COLLECT_PID"
wait "$COLLECT_PID" 2>/dev/null || true
harness_log "ltrr-collect killed after about $before acknowledged events"
sleep 1
collect_start collect2 "$PORT"
kill -0 "$LOAD_PID" 2>/dev/null || fail "load ended before the restart"
rc=0; wait "$LOAD_PID" || rc=$?
cat "$D/load.log" >&2
assert_eq "$rc" 0 "load generator exit code"
after=$(collect_metric ltrr_collect_events_accepted_total)
assert_ge "$after" 100 "events acknowledged by the restarted ltrr-collect"
conn=$(sed -n 's/^codes .*"conn": \([0-9]*\).*/\1/p' "$D/acked")
assert_ge "${conn:-0}" 1 "requests that failed on the connection in the gap"
other=$(sed -n 's/^codes //p' "$D/acked" | /usr/bin/python3 -c \
        'import json,sys; c=json.load(sys.stdin); print(sum(v for k,v in c.items() if k not in ("202","conn")))')
assert_eq "$other" 0 "answers other than 202 (no 5xx expected)"
/usr/bin/python3 "$CHECK" verify "$D/acked" >&2 ||
        fail "acknowledged events missing or duplicated on ltrr.actions"
curl -fsS "$LTRR_COLLECT_URL/healthz" >/dev/null ||
        fail "restarted ltrr-collect unhealthy"
kill -TERM "$COLLECT_PID"
wait "$COLLECT_PID" || fail "restarted ltrr-collect exit code (SIGTERM)"
harness_log "ok: ${conn:-0} connection errors in the gap, $after events" \
        "acknowledged after the restart"
