#!/usr/bin/env bash
# Redis slow under ltrr-learn. A reward backlog is applied by an
# undisturbed learner; then, into the emptied Redis, by a learner of
# another group while Redis is blocked by `DEBUG SLEEP` bursts (each
# shorter than redis.timeout, so the batches wait rather than fail;
# one longer than it, so a batch times out and the learner goes through
# its outage path). The final Redis state (every key and value, offsets
# excepted) must equal the undisturbed run's, and the learner's batch
# round-trip histogram (ltrr_learn_redis_seconds) must show batches
# slower than the sleep, which the undisturbed run does not have.
. "$LTRR_SRC/tests/lib/harness.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tests/integration/fault_lib.bash" || exit 1
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
for b in ltrr-learn ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built"
done
harness_stack --only broker
D=$HARNESS_DIR
N=${FAULT_SLOW_REWARDS:-6000}
SLEEP=0.4 # under the default redis.timeout of 500 ms
fl_redis_start redis "$D/redis"
fl_rewards "$N" 31 3

# Batches slower than 0.3 s: count of all minus the bucket le="0.3".
slow_batches() { # URL
        curl -fsS --max-time 2 "$1/metrics" | awk '
                /^ltrr_learn_redis_seconds_bucket/ {
                        le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
                        if (le != "+Inf" && le + 0 == 0.3) b = $2 }
                /^ltrr_learn_redis_seconds_count/ {c = $2}
                END {print (b == "" || c == "" ? -1 : int(c - b))}'
}

# Run 1: undisturbed.
t0=$(date +%s)
fl_learner calm g1 16
harness_wait "undisturbed run caught up" 90 fl_caught_up g1
calm_slow=$(slow_batches "$LEARN_URL")
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
fl_state >"$D/want"
harness_log "undisturbed: $(wc -l <"$D/want") state lines, $calm_slow batches" \
        "over 0.3 s, in $(($(date +%s) - t0)) s"
harness_redis_cli FLUSHALL >/dev/null

# Run 2: the same backlog under DEBUG SLEEP bursts.
t0=$(date +%s)
fl_learner slow g2 16
harness_wait "first progress" 60 fl_beyond g2 1
# Bursts until the learner has caught up: Redis sleeps about 80 % of the
# time; once, early, a sleep past redis.timeout.
bursts=0
while ! fl_caught_up g2; do
        if [ "$bursts" = 2 ]; then
                harness_redis_cli DEBUG SLEEP 1.2 >/dev/null ||
                        fail "DEBUG SLEEP refused"
                mid=$(fl_stored g2)
        fi
        harness_redis_cli DEBUG SLEEP "$SLEEP" >/dev/null ||
                fail "DEBUG SLEEP refused"
        bursts=$((bursts + 1))
        [ "$bursts" -lt 600 ] || fail "not caught up after $bursts bursts"
        sleep 0.05
done
assert_ge "$bursts" 3 "bursts while the backlog was applied"
slow=$(slow_batches "$LEARN_URL")
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "disturbed learner exit code"
fl_state >"$D/got"
diff "$D/want" "$D/got" >&2 ||
        fail "state after slow Redis differs from the undisturbed run"
assert_ge "$(wc -l <"$D/want")" 500 "state lines compared"
assert_ge "$slow" 3 "batches over 0.3 s in ltrr_learn_redis_seconds"
outages=$(grep -c 'redis unavailable' "$D/slow.log" || true)
harness_log "ok: $(wc -l <"$D/got") state lines equal; $slow batches over" \
        "0.3 s (undisturbed: $calm_slow); $bursts bursts; offsets at $mid of" \
        "$FL_TOTAL at the long sleep; $outages outage(s) logged; $(($(date +%s) - t0)) s"
