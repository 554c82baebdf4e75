#!/usr/bin/env bash
# Broker faults through the daemons (ltrr-broker fault injection,
# docs/broker.md), on a 3-broker cluster:
#  A. ltrr-collect under load while the next Produce requests fail with
#     NOT_LEADER_FOR_PARTITION and REQUEST_TIMED_OUT (retriable): every
#     answer is 202 and every acknowledged action id is on ltrr.actions
#     exactly once (idempotent producer: the retries add no duplicate).
#     Then one Produce fails with TOPIC_AUTHORIZATION_FAILED (fatal for
#     that record): the requests it hits are answered 503, the client
#     retries them with the same body until 202; every acknowledged id
#     is on the topic (a retried request's ids at least once).
#  B. ltrr-join and ltrr-learn on a stream produced live in slices
#     (tests/integration/fault_stream.py) while broker 2 goes down for
#     2 s and comes back, and retriable errors hit the next Fetch
#     requests (join's and learn's consumers) and, once the stream is in,
#     the next Produce requests (join's rewards: the no_action rewards
#     are produced when the windows close). The final Redis state (every
#     key and value, learner offsets excepted) must equal an undisturbed
#     run's over the same stream.
# The undisturbed run uses the stack's cluster, before part A; the
# disturbed run a second cluster, so neither sees the other's records.
# Windows close by the join's idle advance (event times are in 2023):
# in the disturbed run it is 10 s, longer than any stall the faults cause
# (a partition that gets no record for `idle` has its windows closed,
# and the actions read after that are dangling: a different decision,
# not a loss of acknowledged data; with live event times the advance
# only closes windows older than idle + lateness + window).
. "$LTRR_SRC/tests/lib/harness.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tests/integration/fault_lib.bash" || exit 1
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
/usr/bin/python3 -c 'import avro.io, avro.schema' 2>/dev/null ||
        skip "python3-avro is not installed"
for b in ltrr-join ltrr-learn ltrr-collect ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built"
done
STACK_BROKERS=3 harness_stack --only broker
D=$HARNESS_DIR
M=${FAULT_PIPELINE_IMPRESSIONS:-120}
fl_redis_start redis "$D/redis"
fl_stream "$M" 3 17
# Quick reconnects and fetch retries after the outage and the errors.
FAST=(-X reconnect.backoff.ms=50 -X reconnect.backoff.max.ms=300
        -X fetch.error.backoff.ms=50 -X retry.backoff.ms=50)
ctl() { # SOCKET COMMAND...
        local sock=$1
        shift
        "$LTRR_BIN/ltrr-broker" --control "$sock" --send "$*"
}

# The undisturbed run, on the stack's cluster.
t0=$(date +%s)
FL_BOOT=$LTRR_BOOTSTRAP
fl_stream_produce "$FL_BOOT" 1 0
fl_joiner join1
fl_learner learn1 fj-learn 16
harness_wait "undisturbed run settled" 90 fl_settled fj-learn
sleep 1
harness_wait "undisturbed run settled again" 30 fl_settled fj-learn
curl -fsS "$JOIN_URL/metrics" | grep '^ltrr_join_' >"$D/join1.metrics" || true
kill -TERM "$JOIN_PID" "$LEARN_PID"
wait "$JOIN_PID" || fail "undisturbed joiner exit code"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
fl_state >"$D/want"
harness_redis_cli FLUSHALL >/dev/null
FL_JOIN_PIDS=()
harness_log "undisturbed: $(wc -l <"$D/want") state lines in $(($(date +%s) - t0)) s"
assert_ge "$(wc -l <"$D/want")" 200 "state lines of the undisturbed run"

# A. ltrr-collect with retriable Produce errors.
PORT=$(stack_free_port) || fail "no free port"
export LTRR_COLLECT_URL="http://127.0.0.1:$PORT"
harness_bg collect env LTRR_API_KEY="$LTRR_API_KEY" "$LTRR_BIN/ltrr-collect" \
        --http.port="$PORT" --kafka.bootstrap="$LTRR_BOOTSTRAP"
COLLECT_PID=$HARNESS_LAST_PID
harness_wait "ltrr-collect ready" 20 stack_http_ready "$LTRR_COLLECT_URL"
ctl "$LTRR_BROKER_CONTROL" error Produce NOT_LEADER_FOR_PARTITION 4 >/dev/null ||
        fail "inject NOT_LEADER_FOR_PARTITION"
ctl "$LTRR_BROKER_CONTROL" error Produce REQUEST_TIMED_OUT 3 >/dev/null ||
        fail "inject REQUEST_TIMED_OUT"
/usr/bin/python3 "$LTRR_SRC/tests/integration/fault_collect.py" load 3 10 4 \
        "$D/acked" >&2 || fail "collect load"
grep -q '^acked' "$D/acked" || fail "no event acknowledged"
assert_eq "$(sed -n 's/^codes //p' "$D/acked")" \
        "{\"202\": $(grep -c '^acked' "$D/acked" | awk '{print $1 / 10}')}" \
        "answers under retriable Produce errors (all 202)"
grep -q '^retried' "$D/acked" && fail "a request was retried"
/usr/bin/python3 "$LTRR_SRC/tests/integration/fault_collect.py" verify \
        "$D/acked" >&2 || fail "acknowledged events lost or duplicated"
# A fatal (non-retriable) Produce error: the request it hits is answered
# 503 and retried by the client with the same body; the retry is 202.
ctl "$LTRR_BROKER_CONTROL" error Produce TOPIC_AUTHORIZATION_FAILED 1 >/dev/null ||
        fail "inject TOPIC_AUTHORIZATION_FAILED"
/usr/bin/python3 "$LTRR_SRC/tests/integration/fault_collect.py" load 1 10 2 \
        "$D/acked-fatal" 1000000 >&2 || fail "collect load"
codes=$(sed -n 's/^codes //p' "$D/acked-fatal")
n503=$(echo "$codes" | sed -n 's/.*"503": \([0-9]*\).*/\1/p')
assert_ge "${n503:-0}" 1 "requests answered 503 after the fatal error"
assert_eq "$(echo "$codes" | tr -d '{} ' | tr ',' '\n' | grep -vc '^"\(202\|503\)"')" 0 \
        "answers other than 202 and 503"
grep -q '^retried' "$D/acked-fatal" || fail "the failed request was not retried"
cat "$D/acked" "$D/acked-fatal" | grep -v '^codes' >"$D/acked-all"
/usr/bin/python3 "$LTRR_SRC/tests/integration/fault_collect.py" verify \
        "$D/acked-all" >&2 || fail "acknowledged events lost after a fatal error"
curl -fsS "$LTRR_COLLECT_URL/healthz" >/dev/null ||
        fail "ltrr-collect unhealthy after a fatal delivery error"
kill -TERM "$COLLECT_PID"
wait "$COLLECT_PID" || fail "ltrr-collect exit code"

# B. The disturbed pipeline, on a second 3-broker cluster.
t0=$(date +%s)
SOCK=$D/broker2.sock
harness_bg broker2 "$LTRR_BIN/ltrr-broker" --bootstrap-file "$D/bootstrap2" \
        --partitions 6 --brokers 3 --control "$SOCK"
harness_wait "second cluster" 20 test -s "$D/bootstrap2"
FL_BOOT=$(cat "$D/bootstrap2")
fl_joiner join2 --idle=10s "${FAST[@]}"
fl_learner learn2 fj-learn 16 "${FAST[@]}"
harness_wait "joiner assigned" 30 grep -q "partitions assigned" "$D/join2.log"
( fl_stream_produce "$FL_BOOT" 10 0.5 ) >"$D/producer.log" 2>&1 &
PROD=$!
HARNESS_PIDS+=("$PROD")
read_some() { [ "$(fl_metric "$JOIN_URL" 'ltrr_join_records_total{topic="impressions"}')" -ge 10 ]; }
harness_wait "joiner reading" 30 read_some
assert_eq "$(ctl "$SOCK" broker down 2)" "ok broker 2 down" "broker down"
sleep 2
assert_eq "$(ctl "$SOCK" broker up 2)" "ok broker 2 up" "broker up"
ctl "$SOCK" error Fetch NOT_LEADER_FOR_PARTITION 4 >/dev/null || fail "inject Fetch"
ctl "$SOCK" error Fetch REQUEST_TIMED_OUT 3 >/dev/null || fail "inject Fetch"
wait "$PROD" || fail "live producer failed"
ctl "$SOCK" error Produce NOT_LEADER_FOR_PARTITION 3 >/dev/null || fail "inject Produce"
ctl "$SOCK" error Produce REQUEST_TIMED_OUT 2 >/dev/null || fail "inject Produce"
harness_wait "disturbed run settled" 90 fl_settled fj-learn
sleep 1
harness_wait "disturbed run settled again" 30 fl_settled fj-learn
kill -0 "$JOIN_PID" 2>/dev/null || fail "ltrr-join exited under broker faults"
curl -fsS "$JOIN_URL/metrics" | grep '^ltrr_join_' >"$D/join2.metrics" || true
kill -TERM "$JOIN_PID" "$LEARN_PID"
wait "$JOIN_PID" || fail "joiner exit code"
wait "$LEARN_PID" || fail "learner exit code"
fl_state >"$D/got"
reward_parts() { # BOOT: rewards per partition
        timeout 10 kcat -C -b "$1" -t ltrr.rewards -e -q -f '%p\n' | sort | uniq -c | tr '\n' ' '
}
diff "$D/want" "$D/got" >/dev/null || {
        harness_log "join counters, undisturbed vs disturbed:"
        paste "$D/join1.metrics" "$D/join2.metrics" >&2
        harness_log "rewards per partition: $(reward_parts "$LTRR_BOOTSTRAP") vs" \
                "$(reward_parts "$FL_BOOT")"
}
diff "$D/want" "$D/got" >&2 ||
        fail "state after broker faults differs from the undisturbed run"
dlq=$(timeout 10 kcat -C -b "$FL_BOOT" -t ltrr.dlq -e -q -f '.\n' 2>/dev/null | wc -l)
assert_eq "$dlq" 0 "records sent to ltrr.dlq"
harness_log "ok: $(wc -l <"$D/got") state lines equal after broker 2 down" \
        "for 2 s and injected Fetch/Produce errors; $(($(date +%s) - t0)) s"
