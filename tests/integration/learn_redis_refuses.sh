#!/usr/bin/env bash
# ltrr-learn and a Redis that answers but refuses writes. Redis is made
# to answer OOM (maxmemory 1, noeviction), then READONLY (a replica of a
# master that does not exist); each time, while rewards keep arriving:
#  - /healthz answers 503 in >= 90 % of the samples (every 10 ms, 2 s)
#    and ltrr_learn_redis_up is 0: Redis is up for the learner only
#    once its heartbeat key (SET ... PX) was written;
#  - the stored offset does not move and the refusal is logged;
#  - once writes work again the learner catches up, /healthz is 200.
# Along the way: the heartbeat key exists with a TTL while the learner
# runs and is gone after SIGTERM; ltrr_learn_pauses_total counts both
# outages and ltrr_learn_rejoins_total stays 0 (no rebalance).
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-cli >/dev/null || skip "redis-cli not installed"
for b in ltrr-learn ltrr-avro; do
        [ -x "$LTRR_BIN/$b" ] || skip "$b not built"
done
harness_stack --only redis,broker
D=$HARNESS_DIR
OFF='ltrr:learn:{off}:ltrr-learn'
total=0
produce() { # DIR SEED: 60 rewards on partition 0
        $PY "$LIB" gen "$D/$1" 60 3 "$2"
        "$LTRR_BIN/ltrr-avro" encode Reward <"$D/$1/p0.jsonl" \
                >"$D/$1/p0.bin" || fail "encode"
        $PY "$LIB" split "$D/$1/p0.bin" "$D/$1/p0"
        kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p 0 "$D/$1/p0"/*.bin ||
                fail "produce"
        total=$((total + $(wc -l <"$D/$1/p0.jsonl")))
}
stored() { harness_redis_cli HGET "$OFF" ltrr.rewards:0; }
caught_up() { [ "$(stored)" = "$((total - 1))" ]; }
PORT=$(stack_free_port)
URL=http://127.0.0.1:$PORT
metric() {
        curl -fsS --max-time 2 "$URL/metrics" |
                awk -v n="$1" '$1 == n {v = $2} END {print (v == "" ? -1 : v)}'
}
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/healthz"; }
unhealthy() { [ "$(code)" = 503 ]; }
healthy() { [ "$(code)" = 200 ]; }
share_503() { # prints "503-count samples"
        $PY "$LTRR_SRC/tests/lib/status_share.py" "$URL/healthz" 503 2
}
# refused KIND SEED: Redis refuses writes (already set up by the caller);
# more rewards arrive; the learner stays paused and reports it.
refused() {
        local kind=$1 before h
        harness_wait "/healthz 503 on $kind" 20 unhealthy
        before=$(stored)
        produce "s$2" "$2"
        h=$(share_503)
        assert_ge "${h#* }" 20 "/healthz samples on $kind"
        assert_ge "$((${h% *} * 10))" "$((${h#* } * 9))" \
                "10 x /healthz 503 samples vs 9 x all ${h#* } on $kind"
        assert_eq "$(metric ltrr_learn_redis_up)" 0 "redis_up on $kind"
        assert_eq "$(stored)" "$before" "stored offset while $kind"
        grep -q "redis refuses writes.*$kind" "$D/learn.log" ||
                fail "no logged $kind refusal"
        harness_log "$kind: /healthz 503 in ${h% *} of ${h#* } samples"
}

produce s1 1
harness_bg learn "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
        --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port="$PORT" \
        --bandit.arms=lexical,popular,structured,fuzzy --bandit.budgets=10,25
LEARN_PID=$HARNESS_LAST_PID
harness_wait "first stream applied" 60 caught_up
harness_wait "healthy" 20 healthy
hb=$(harness_redis_cli --scan --pattern 'ltrr:learn:*:hb:*')
[ -n "$hb" ] || fail "no heartbeat key while the learner runs"
ttl=$(harness_redis_cli PTTL "$hb")
if [ "$ttl" -le 0 ] || [ "$ttl" -gt 10000 ]; then
        fail "heartbeat PTTL $ttl, want 1..10000"
fi

# 1. OOM: every write refused at maxmemory with noeviction.
harness_redis_cli CONFIG SET maxmemory-policy noeviction >/dev/null
harness_redis_cli CONFIG SET maxmemory 1 >/dev/null
refused OOM 2
harness_redis_cli CONFIG SET maxmemory 0 >/dev/null
harness_wait "caught up after OOM" 30 caught_up
harness_wait "healthy after OOM" 20 healthy

# 2. READONLY: a replica (of a master that is not there) refuses writes
# and keeps its data.
harness_redis_cli REPLICAOF 127.0.0.1 "$(stack_free_port)" >/dev/null
refused READONLY 3
harness_redis_cli REPLICAOF NO ONE >/dev/null
harness_wait "caught up after READONLY" 30 caught_up
harness_wait "healthy after READONLY" 20 healthy

pauses=$(metric ltrr_learn_pauses_total)
assert_ge "$pauses" 2 "ltrr_learn_pauses_total"
assert_eq "$(metric ltrr_learn_rejoins_total)" 0 "ltrr_learn_rejoins_total"
kill -TERM "$LEARN_PID"
wait "$LEARN_PID"
assert_eq "$?" 0 "exit code after SIGTERM"
assert_eq "$(harness_redis_cli EXISTS "$hb")" 0 "heartbeat key after exit"
harness_log "ok: OOM and READONLY kept the learner paused; all $total" \
        "records applied afterwards; $pauses pauses, 0 rejoins"
