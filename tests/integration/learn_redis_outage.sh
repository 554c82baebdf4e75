#!/usr/bin/env bash
# A Redis outage longer than max.poll.interval.ms does not cost a
# rebalance: while a learner streams rewards, Redis is SIGKILLed (its
# AOF loses what was not yet written) and stays down for 12 s while more
# rewards are produced (max.poll.interval.ms is 8 s); /healthz answers
# 503 meanwhile. Redis restarts from its AOF; the learner, still the
# same group member with the same assignment (no revocation in its log,
# ltrr_learn_rejoins_total 0), seeks back to the offsets Redis holds and
# catches up. The final state, every key with every value (bitmaps
# included), must equal an undisturbed run's over the same records.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
PARTS=3
NA=${LEARN_OUT_REWARDS:-9000}
NB=3000
DOWN_S=12
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
[ -x "$LTRR_BIN/ltrr-learn" ] || skip "ltrr-learn not built"
harness_stack --only redis,broker
D=$HARNESS_DIR
RPORT=${LTRR_REDIS##*:}
PORT=$(stack_free_port)

# produce_set NAME N SEED OFFSET0: generates and produces one reward set.
declare -a PRODUCED=(0 0 0)
produce_set() {
        local name=$1 p
        $PY "$LIB" gen "$D/$name" "$2" "$3" "$PARTS" "$4"
        for p in $(seq 0 $((PARTS - 1))); do
                "$LTRR_BIN/ltrr-avro" encode Reward <"$D/$name/p$p.jsonl" \
                        >"$D/$name/p$p.bin" || fail "encode $name p$p"
                $PY "$LIB" split "$D/$name/p$p.bin" "$D/$name/p$p"
                kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" \
                        "$D/$name/p$p"/*.bin || fail "produce $name p$p"
        done
}
count_set() {
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                PRODUCED[p]=$((PRODUCED[p] + $(wc -l <"$D/$1/p$p.jsonl")))
        done
}

stored() { # GROUP: the sum of its stored offsets
        local p sum=0 v
        for p in $(seq 0 $((PARTS - 1))); do
                v=$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p" 2>/dev/null)
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}
caught_up() { # GROUP
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                [ "$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p")" = $((PRODUCED[p] - 1)) ] || return 1
        done
}
beyond() { [ "$(stored "$1")" -ge "$2" ]; } # GROUP SUM

state() { # every key but the offsets of the group
        $PY "$LIB" dump 127.0.0.1 "$RPORT" | grep -v '^ltrr:learn:'
}
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz"; }
metric() { # NAME: its value on /metrics
        curl -fsS "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 \(.*\)$/\1/p"
}

learner() { # NAME GROUP BATCH
        harness_bg "$1" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port="$PORT" \
                --group="$2" --batch.max="$3" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25 -X max.poll.interval.ms=8000 \
                -X heartbeat.interval.ms=1000
        LEARN_PID=$HARNESS_LAST_PID
}

produce_set a "$NA" 31 0
count_set a
total_a=$((PRODUCED[0] + PRODUCED[1] + PRODUCED[2] - PARTS))

# Run 1: disturbed. Redis dies while the learner is streaming.
learner outage g2 16
harness_wait "first progress" 60 beyond g2 1
before=$(stored g2)
kill -KILL "$(stack_pid "$D/stack" redis)"
t_down=$(date +%s)
produce_set b "$NB" 32 "$NA" &
PRODUCER=$!
harness_wait "healthz 503 while redis is down" 10 \
        bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/healthz)\" = 503 ]"
assert_eq "$(metric ltrr_learn_redis_up)" 0 "ltrr_learn_redis_up during the outage"
# Down for longer than max.poll.interval.ms: /healthz stays 503 all along.
while (( $(date +%s) - t_down < DOWN_S )); do
        assert_eq "$(health)" 503 "/healthz during the outage"
        sleep 0.5
done
wait "$PRODUCER" || fail "producing set b"
count_set b
stack_spawn "$D/stack" redis redis-server --port "$RPORT" \
        --bind 127.0.0.1 --dir "$D/stack/redis" --appendonly yes \
        --appendfsync everysec --save '' --daemonize no --loglevel warning
harness_wait "redis back" 20 stack_redis_ready "$RPORT"
after=$(stored g2)
harness_log "redis down for $(( $(date +%s) - t_down )) s; stored offsets" \
        "sum from the AOF $after of $total_a (set a)"
harness_wait "caught up after the outage" 120 caught_up g2
harness_wait "healthz 200 again" 10 curl -fsS "http://127.0.0.1:$PORT/healthz"
# No rebalance: one assignment, no revocation, the same member all along.
assert_eq "$(grep -c 'partitions assigned' "$D/outage.log")" 1 "assignments"
assert_eq "$(grep -c 'partitions revoked' "$D/outage.log")" 0 "revocations"
assert_eq "$(metric ltrr_learn_rejoins_total)" 0 "ltrr_learn_rejoins_total"
assert_ge "$(metric ltrr_learn_pauses_total)" 1 "ltrr_learn_pauses_total"
grep -q 'msg="redis unavailable, partitions paused"' "$D/outage.log" ||
        fail "no pause logged"
grep -q 'msg="resumed at the stored offsets"' "$D/outage.log" ||
        fail "no seek to the stored offsets logged"
grep -qi 'max.poll.interval\|maximum poll interval' "$D/outage.log" &&
        fail "the poll interval expired"
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "disturbed learner exit code"
state >"$D/got"

# Run 2: undisturbed, same records, emptied Redis.
harness_redis_cli FLUSHALL >/dev/null
learner calm g1 64
harness_wait "undisturbed run" 120 caught_up g1
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
state >"$D/want"
diff "$D/want" "$D/got" >&2 || fail "state after the outage differs from the undisturbed run"
assert_ge "$(wc -l <"$D/want")" 1000 "state lines compared"
harness_log "ok: $(wc -l <"$D/got") lines equal; outage at stored sum $before," \
        "$after after the restart, no rebalance"
