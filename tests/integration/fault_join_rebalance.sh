#!/usr/bin/env bash
# Rebalance of ltrr-join under load. A fixed impression/action stream
# (tests/integration/fault_stream.py: matched, duplicated, late, held and
# dangling actions) goes through ltrr-join and ltrr-learn twice:
#  1. undisturbed: the whole stream produced first, one joiner;
#  2. on a second broker, the stream produced live in slices while a
#     first joiner runs; a second joiner joins the group mid-stream
#     (partitions revoked from the first with windows open), then one
#     of the two, chosen at random, is killed with SIGKILL; the survivor
#     takes its partitions over from the committed offsets.
# The final Redis state after learn applied the rewards (every key and
# value, learner offsets excepted) must be equal. Windows close only by
# the join's idle advance (event times in 2023, lateness 1 h), so each
# decision depends on the records alone, not on how reads interleave.
. "$LTRR_SRC/tests/lib/harness.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tests/integration/fault_lib.bash" || exit 1
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
for b in ltrr-join ltrr-learn ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built"
done
harness_stack --only broker
D=$HARNESS_DIR
M=${FAULT_REBALANCE_IMPRESSIONS:-150}
fl_redis_start redis "$D/redis"
fl_stream "$M" 3 11
t0=$(date +%s)

# Run 1: undisturbed.
FL_BOOT=$LTRR_BOOTSTRAP
fl_stream_produce "$FL_BOOT" 1 0
fl_joiner join1
fl_learner learn1 fj-learn 16
harness_wait "undisturbed run settled" 90 fl_settled fj-learn
sleep 1
harness_wait "undisturbed run settled again" 30 fl_settled fj-learn
matched1=$(fl_metric "$JOIN_URL" 'ltrr_join_rewards_total{outcome="matched"}')
kill -TERM "$JOIN_PID" "$LEARN_PID"
wait "$JOIN_PID" || fail "undisturbed joiner exit code"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
fl_state >"$D/want"
harness_log "undisturbed: $(wc -l <"$D/want") state lines, $matched1 matched," \
        "$(($(date +%s) - t0)) s"
assert_ge "$(wc -l <"$D/want")" 200 "state lines of the undisturbed run"
harness_redis_cli FLUSHALL >/dev/null
FL_JOIN_PIDS=()

# Run 2: a second broker, live production, a member joins, one is killed.
t0=$(date +%s)
harness_bg broker2 "$LTRR_BIN/ltrr-broker" --bootstrap-file "$D/bootstrap2" \
        --partitions 6 --brokers 1
harness_wait "second broker" 20 test -s "$D/bootstrap2"
FL_BOOT=$(cat "$D/bootstrap2")
fl_joiner joinA
A=$JOIN_PID A_URL=$JOIN_URL
fl_learner learn2 fj-learn 16
harness_wait "first joiner assigned" 30 grep -q "partitions assigned" "$D/joinA.log"
( fl_stream_produce "$FL_BOOT" 12 0.6 ) >"$D/producer.log" 2>&1 &
PROD=$!
HARNESS_PIDS+=("$PROD")
read_some() { [ "$(fl_metric "$A_URL" 'ltrr_join_records_total{topic="impressions"}')" -ge 20 ]; }
harness_wait "first joiner reading" 30 read_some
fl_joiner joinB
B=$JOIN_PID B_URL=$JOIN_URL
harness_wait "second joiner assigned" 30 grep -q "partitions assigned" "$D/joinB.log"
harness_wait "first joiner revoked" 30 grep -q "partitions revoked" "$D/joinA.log"
pendA=$(fl_metric "$A_URL" ltrr_join_pending_impressions)
pendB=$(fl_metric "$B_URL" ltrr_join_pending_impressions)
sleep "0.$((RANDOM % 10))"
if [ $((RANDOM % 2)) = 0 ]; then victim=A; V=$A; else victim=B; V=$B; fi
kill -KILL "$V"
wait "$V" 2>/dev/null || true
harness_log "second member joined (pending: A $pendA, B $pendB);" \
        "joiner $victim killed"
wait "$PROD" || fail "live producer failed"
harness_wait "disturbed run settled" 90 fl_settled fj-learn
sleep 1
harness_wait "disturbed run settled again" 30 fl_settled fj-learn
survivor=$([ "$victim" = A ] && echo B || echo A)
[ "$victim" = A ] && S=$B || S=$A
grep -q "partitions assigned" "$D/join$survivor.log" || fail "survivor never assigned"
kill -TERM "$S" "$LEARN_PID"
wait "$S" || fail "surviving joiner exit code"
wait "$LEARN_PID" || fail "learner exit code"
fl_state >"$D/got"
diff "$D/want" "$D/got" >&2 ||
        fail "state after the rebalance and the kill differs from the undisturbed run"
harness_log "ok: $(wc -l <"$D/got") state lines equal after a member joined" \
        "and joiner $victim was killed; $(($(date +%s) - t0)) s"
