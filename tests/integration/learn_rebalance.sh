#!/usr/bin/env bash
# Pipelined batches across rebalances and a flushed script: a reward
# stream is applied by one undisturbed ltrr-learn, and again into an
# emptied Redis by a learner that a second member of the same group
# joins (partitions revoked from the first while its batches are in
# flight), that then leaves on SIGTERM, and a third member that joins and
# crashes (SIGKILL: its partitions return only after its session times
# out), while the Lua script is flushed from Redis several times
# (NOSCRIPT in the middle of the pipeline). The final Redis state, every
# key with every value, must be the same.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
PARTS=3
N=${LEARN_RB_REWARDS:-12000}
command -v kcat >/dev/null || skip "kcat not installed"
[ -x "$LTRR_BIN/ltrr-learn" ] || skip "ltrr-learn not built"
harness_stack --only redis,broker
D=$HARNESS_DIR
RPORT=${LTRR_REDIS##*:}

$PY "$LIB" gen "$D/s" "$N" 23 "$PARTS"
declare -a LAST
for p in $(seq 0 $((PARTS - 1))); do
        "$LTRR_BIN/ltrr-avro" encode Reward <"$D/s/p$p.jsonl" >"$D/s/p$p.bin" ||
                fail "encode p$p"
        $PY "$LIB" split "$D/s/p$p.bin" "$D/s/p$p"
        kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" "$D/s/p$p"/*.bin ||
                fail "produce p$p"
        LAST[p]=$(($(wc -l <"$D/s/p$p.jsonl") - 1))
done
total=$((LAST[0] + LAST[1] + LAST[2]))

stored() { # GROUP: the sum of its stored offsets
        local p sum=0 v
        for p in $(seq 0 $((PARTS - 1))); do
                v=$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p")
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}

caught_up() { [ "$(stored "$1")" = "$total" ]; }
beyond() { [ "$(stored "$1")" -ge "$2" ]; } # GROUP SUM

state() { # every key but the offsets of the groups
        $PY "$LIB" dump 127.0.0.1 "$RPORT" | grep -v '^ltrr:learn:'
}

learner() { # NAME GROUP BATCH
        harness_bg "$1" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port=0 \
                --group="$2" --batch.max="$3" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25 -X session.timeout.ms=6000 \
                -X heartbeat.interval.ms=1000 -X max.poll.interval.ms=8000
        LEARN_PID=$HARNESS_LAST_PID
}

# Run 1: undisturbed.
learner calm g1 64
harness_wait "undisturbed run" 120 caught_up g1
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
state >"$D/want"
harness_redis_cli FLUSHALL >/dev/null

# Run 2: small batches so several are in flight at each disturbance.
learner first g2 16
A=$LEARN_PID
harness_wait "first progress" 60 beyond g2 1
harness_redis_cli SCRIPT FLUSH >/dev/null
learner second g2 16
B=$LEARN_PID
harness_wait "second member assigned" 60 grep -q "partitions assigned" \
        "$D/second.log"
joined=$(stored g2)
harness_wait "progress past a quarter" 120 beyond g2 $((total / 4))
harness_redis_cli SCRIPT FLUSH >/dev/null
kill -TERM "$A"
wait "$A" || fail "first learner exit code"
left=$(stored g2)
harness_wait "progress past a half" 120 beyond g2 $((total / 2))
harness_redis_cli SCRIPT FLUSH >/dev/null
assigned() { grep -c "partitions assigned" "$D/second.log"; }
# The second member may not have its share of the first member's leaving
# yet: then the third member's join folds into the same rebalance.
before_third=$(assigned)
learner third g2 16
C=$LEARN_PID
harness_wait "third member assigned" 60 grep -q "partitions assigned" \
        "$D/third.log"
# The second member's own share of the rebalance the third one joined.
harness_wait "second member reassigned" 60 \
        eval '[ "$(assigned)" -gt "$before_third" ]'
sleep 0.5
before=$(assigned)
kill -KILL "$C"
wait "$C" 2>/dev/null || true
crashed=$(stored g2)
# The crashed member's partitions come back after its session expires.
harness_wait "partitions of the crashed member reassigned" 60 \
        eval '[ "$(assigned)" -gt "$before" ]'
harness_wait "disturbed run" 120 caught_up g2
kill -TERM "$B"
wait "$B" || fail "second learner exit code"
state >"$D/got"
diff "$D/want" "$D/got" >&2 || fail "state after rebalances differs from the undisturbed run"
assert_ge "$(wc -l <"$D/want")" 1000 "state lines compared"
# A flush lands in the middle of a pipeline only when the learner is
# still working at that moment; on a fast machine it may have caught up
# already, so the NOSCRIPT path is reported, not required (the state
# comparison above is the assertion).
if grep -q NOSCRIPT "$D"/first.log "$D"/second.log; then
        harness_log "NOSCRIPT hit and recovered from"
else
        harness_log "note: every flush landed between batches (no NOSCRIPT)"
fi
grep -rh 'stored offset unreadable' "$D" && fail "offsets unreadable in a hook"
harness_log "rebalances at stored offsets sum $joined, $left and $crashed (crash) of $total"
harness_log "ok: $(wc -l <"$D/got") lines equal after four rebalances, a crashed member and three script flushes"
