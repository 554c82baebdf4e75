#!/usr/bin/env bash
# Exactly once in effect: a fixed reward stream (with replayed duplicates)
# is applied by an undisturbed ltrr-learn, and again into an emptied Redis
# by an ltrr-learn killed with SIGKILL at random moments several times,
# with one SIGKILL of Redis (restart from an AOF whose tail is cut, as a
# crash with appendfsync everysec loses it) among them. The
# final Redis state, every key with every value (bitmaps included), must
# be the same. Matched rewards carry ranker examples, so the online
# ranker statistics (integer sums) are part of the compared state.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
PARTS=3
N=${LEARN_EO_REWARDS:-9000}
KILLS=${LEARN_EO_KILLS:-5}
command -v kcat >/dev/null || skip "kcat not installed"
[ -x "$LTRR_BIN/ltrr-learn" ] || skip "ltrr-learn not built"
harness_stack --only redis,broker
D=$HARNESS_DIR
RPORT=${LTRR_REDIS##*:}

$PY "$LIB" gen "$D/s" "$N" 11 "$PARTS"
declare -a LAST
for p in $(seq 0 $((PARTS - 1))); do
        "$LTRR_BIN/ltrr-avro" encode Reward <"$D/s/p$p.jsonl" >"$D/s/p$p.bin" ||
                fail "encode p$p"
        $PY "$LIB" split "$D/s/p$p.bin" "$D/s/p$p"
        kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" "$D/s/p$p"/*.bin ||
                fail "produce p$p"
        LAST[p]=$(($(wc -l <"$D/s/p$p.jsonl") - 1))
done

caught_up() { # GROUP
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                [ "$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p")" = "${LAST[p]}" ] || return 1
        done
}

state() { # every key but the offsets of the group (named after it)
        $PY "$LIB" dump 127.0.0.1 "$RPORT" | grep -v '^ltrr:learn:'
}

stored() { # GROUP: the sum of its stored offsets
        local p sum=0 v
        for p in $(seq 0 $((PARTS - 1))); do
                v=$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p")
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}

progressed() { # BEFORE
        [ "$(stored g2)" -gt "$1" ] || caught_up g2
}

learner() { # NAME GROUP [BATCH]
        harness_bg "$1" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port=0 \
                --group="$2" --batch.max="${3:-32}" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25
        LEARN_PID=$HARNESS_LAST_PID
}

restart_redis() {
        local aof size cut
        kill -KILL "$(stack_pid "$D/stack" redis)"
        sleep 0.2
        # A crash loses the AOF tail not yet on disk (everysec): cut the
        # last quarter (at most 256 KiB); Redis loads the truncated file
        # and drops a half-written MULTI/EXEC of a script.
        aof=$(ls "$D/stack/redis/appendonlydir/"*.incr.aof | tail -1)
        size=$(stat -c %s "$aof")
        cut=$((size / 4 < 262144 ? size / 4 : 262144))
        truncate -s $((size - cut)) "$aof"
        stack_spawn "$D/stack" redis redis-server --port "$RPORT" \
                --bind 127.0.0.1 --dir "$D/stack/redis" --appendonly yes \
                --appendfsync everysec --save '' --daemonize no \
                --loglevel warning
        harness_wait "redis back" 20 stack_redis_ready "$RPORT"
}

# Run 1: undisturbed.
t0=$(date +%s%N)
learner calm g1
harness_wait "undisturbed run" 120 caught_up g1
t1=$(date +%s%N)
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
state >"$D/want"
harness_log "undisturbed: $(wc -l <"$D/want") lines in $(((t1 - t0) / 1000000)) ms"
# The ranker statistics are in the compared state and not trivial: every
# coordinate the examples touch, a count, and both signs of z.
rk=$(grep -c '^ltrr:ranker:{ranker}:online	[zn]:' "$D/want")
assert_ge "$rk" 50 "online ranker statistics fields"
cnt=$(awk -F'\t' '$1 == "ltrr:ranker:{ranker}:online" && $2 == "count" {print $3}' "$D/want")
assert_ge "${cnt:-0}" 1000 "rewards applied to the online ranker"
grep -q '^ltrr:ranker:{ranker}:online	z:[0-9]*	-' "$D/want" ||
        fail "no negative z (clicked features) in the ranker statistics"
grep -qP '^ltrr:ranker:\{ranker\}:online\tz:[0-9]+\t[0-9]' "$D/want" ||
        fail "no positive z (skipped features) in the ranker statistics"
harness_redis_cli FLUSHALL >/dev/null
[ -z "$(harness_redis_cli --scan | head -1)" ] || fail "FLUSHALL left keys"

# Run 2: killed at random moments after each assignment; Redis killed once.
for k in $(seq 1 "$KILLS"); do
        before=$(stored g2)
        learner "run$k" g2 8
        # Kill while it works: after its first stored progress, at a
        # random moment within the next 0.3 s.
        harness_wait "progress $k" 60 progressed "$before"
        sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
        if [ "$k" = 2 ]; then
                # Redis dies under the running learner, losing what its
                # AOF had not yet written (everysec).
                sum=$(stored g2)
                restart_redis
                harness_log "redis restarted: stored offsets sum $sum before," \
                        "$(stored g2) after"
                before=$(stored g2)
                harness_wait "progress after the restart" 60 progressed "$before"
                sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
        fi
        kill -KILL "$LEARN_PID"
        wait "$LEARN_PID" 2>/dev/null || true
        harness_log "kill $k: stored offsets sum $(stored g2) of $((LAST[0] + LAST[1] + LAST[2]))"
done
learner final g2
harness_wait "disturbed run" 120 caught_up g2
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "final learner exit code"
state >"$D/got"
diff "$D/want" "$D/got" >&2 || fail "state after kills differs from the undisturbed run"
assert_ge "$(wc -l <"$D/want")" 1000 "state lines compared"
harness_log "ok: $(wc -l <"$D/got") lines equal after $KILLS kills and a Redis restart"
