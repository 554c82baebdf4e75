#!/usr/bin/env bash
# ltrr-learn applies rewards to Redis: bandit statistics, Q2E memory,
# popularity, profiles and the online ranker statistics (from the
# ranker examples of matched rewards) equal, value by value, what the
# reward stream implies; the same rewards produced again change nothing; a Redis
# restart (SIGKILL, AOF) mid stream pauses the learner (/healthz 503) and
# the final state still equals the undisturbed expectation.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
PARTS=3
command -v kcat >/dev/null || skip "kcat not installed"
[ -x "$LTRR_BIN/ltrr-learn" ] || skip "ltrr-learn not built"
harness_stack --only redis,broker
D=$HARNESS_DIR

# produce_set NAME N SEED OFFSET0: generates and produces one reward set.
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

# Records produced so far on partition p: the last offset is count - 1.
declare -a PRODUCED=(0 0 0)
count_set() {
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                PRODUCED[p]=$((PRODUCED[p] + $(wc -l <"$D/$1/p$p.jsonl")))
        done
}

# True when the learner stored the last produced offset of every partition.
caught_up() {
        local p got
        for p in $(seq 0 $((PARTS - 1))); do
                got=$(harness_redis_cli HGET 'ltrr:learn:{off}:ltrr-learn' \
                        "ltrr.rewards:$p")
                [ "$got" = $((PRODUCED[p] - 1)) ] || return 1
        done
}

effects() { # the dump without bitmaps and offsets
        $PY "$LIB" dump "${LTRR_REDIS%:*}" "${LTRR_REDIS##*:}" |
                grep -v -e '^ltrr:dedup:' -e '^ltrr:learn:' -e '^ltrr:pop:{pop}:e' |
                grep -v -P '^ltrr:bandit:\{b0\}:v1\t(e|h|b:|A:)'
}
half_life() { # the half-life the bandit object records for its readers
        $PY "$LIB" dump "${LTRR_REDIS%:*}" "${LTRR_REDIS##*:}" |
                grep -P '^ltrr:bandit:\{b0\}:v1\th\t' | cut -f3
}

PORT=$(stack_free_port)
start_learner() {
        harness_bg learn "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port="$PORT" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25 --bandit.half_life=0 \
                --pop.half_life=0 --batch.max=64 --schemas="$LTRR_SCHEMAS"
        LEARN_PID=$HARNESS_LAST_PID
}

# 0. A schemas directory without the schemas stops the start, saying which.
if out=$(timeout 20 "$LTRR_BIN/ltrr-learn" --schemas="$D/none" \
        --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
        --http.port=0 2>&1); then
        fail "ltrr-learn started without its schemas"
fi
assert_contains "$out" "$D/none/Impression.avsc: cannot open" "schemas error"

# 1. A reward set is applied as the stream implies.
produce_set a 240 7 0
count_set a
start_learner
harness_wait "learner caught up with set a" 60 caught_up
$PY "$LIB" expect --ranker "$D"/a/p*.jsonl >"$D/want_a"
effects >"$D/got_a"
diff "$D/want_a" "$D/got_a" >&2 || fail "state after set a differs"
assert_eq "$(half_life)" "0" "bandit half-life recorded"
n=$(wc -l <"$D/want_a")
assert_ge "$n" 200 "expected state lines"
assert_contains "$(cat "$D/got_a")" 'ltrr:q2e:{q:q1%20a%7Db}' "escaped Q2E key"
rk=$(grep -c '^ltrr:ranker:{ranker}:online	[zn]:' "$D/got_a")
assert_ge "$rk" 40 "online ranker statistics fields"
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$D/metrics" || fail "/metrics"
dups=$(sed -n 's/^ltrr_learn_duplicates_total \([0-9]*\)$/\1/p' "$D/metrics")
assert_ge "${dups:-0}" 1 "replays inside set a counted as duplicates"
rex=$(sed -n 's/^ltrr_learn_ranker_examples_total \([0-9]*\)$/\1/p' "$D/metrics")
assert_ge "${rex:-0}" 100 "ranker examples counted"

# 2. The same rewards produced again: the effects do not change.
$PY "$LIB" dump "${LTRR_REDIS%:*}" "${LTRR_REDIS##*:}" |
        grep -v '^ltrr:learn:' >"$D/full_a"
for p in $(seq 0 $((PARTS - 1))); do
        kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" "$D/a/p$p"/*.bin
done
count_set a
harness_wait "learner caught up with the replay" 60 caught_up
$PY "$LIB" dump "${LTRR_REDIS%:*}" "${LTRR_REDIS##*:}" |
        grep -v '^ltrr:learn:' >"$D/full_a2"
diff "$D/full_a" "$D/full_a2" >&2 || fail "replayed rewards changed the state"

# 3. Redis killed while idle (noticed by the idle ping), then records
# arrive mid outage and the learner resumes after the restart from AOF.
rpid=$(stack_pid "$D/stack" redis)
kill -KILL "$rpid"
produce_set b 600 8 240 &
PRODUCER=$!
harness_wait "healthz 503 while redis is down" 20 \
        bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/healthz)\" = 503 ]"
sleep 1
stack_spawn "$D/stack" redis redis-server --port "${LTRR_REDIS##*:}" \
        --bind 127.0.0.1 --dir "$D/stack/redis" --appendonly yes \
        --appendfsync everysec --save '' --daemonize no --loglevel warning
harness_wait "redis back" 20 stack_redis_ready "${LTRR_REDIS##*:}"
wait "$PRODUCER" || fail "producing set b"
count_set b
harness_wait "learner caught up after the restart" 90 caught_up
harness_wait "healthz 200 again" 10 curl -fsS "http://127.0.0.1:$PORT/healthz"
$PY "$LIB" expect --ranker "$D"/a/p*.jsonl "$D"/b/p*.jsonl >"$D/want_ab"
effects >"$D/got_ab"
diff "$D/want_ab" "$D/got_ab" >&2 || fail "state after the Redis restart differs"

# 4. SIGTERM drains and exits 0.
kill -TERM "$LEARN_PID"
wait "$LEARN_PID"
rc=$?
assert_eq "$rc" 0 "ltrr-learn exit code after SIGTERM"
harness_log "ok: $(wc -l <"$D/want_ab") state lines equal, dups=$dups"
