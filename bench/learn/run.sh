#!/usr/bin/env bash
# ltrr-learn throughput beside redis-benchmark on the same Redis.
#
#   bench/learn/run.sh [REWARDS] [BATCH]     (defaults 60000, 512)
#
# LTRR_LEARN_INFLIGHT=0 measures the serial loop (send, wait, poll);
# the default 2 overlaps the next batch with the replies of the last.
#
# Starts a private stack (Redis + broker), produces REWARDS rewards over 3
# partitions (learnlib.py gen: ~75% carry engagement), runs ltrr-learn
# until every partition's offset is stored, and reports rewards/s.
#
# The reference: redis-benchmark -P 32 on the same Redis, in the same
# run, sending one HINCRBYFLOAT (and, separately, one ZINCRBY) per key
# update the stream implies -- each distinct reward part times the keys
# it writes (bandit 1, Q2E count 1, Q2E 1, popularity 1, profile 2) --
# over a key space as large as the learner's. The ratio is key updates
# per second of the learner over the benchmark's commands per second,
# i.e. "for the same number of keys touched" (docs/decisions/0023).
set -euo pipefail
LTRR_SRC=${LTRR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
LTRR_BIN=${LTRR_BIN:-$LTRR_SRC/build/bin}
N=${1:-60000}
BATCH=${2:-512}
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
D=$(mktemp -d /tmp/ltrr-bench-learn.XXXXXX)
LEARN_PID=
cleanup() {
        [ -n "$LEARN_PID" ] && kill "$LEARN_PID" 2>/dev/null || true
        "$LTRR_SRC/tools/stack.sh" down "$D/stack" 2>/dev/null || true
        rm -rf "$D"
}
trap cleanup EXIT
"$LTRR_SRC/tools/stack.sh" up "$D/stack" --only redis,broker >/dev/null 2>&1
. "$D/stack/stack.env"
RHOST=${LTRR_REDIS%:*}
RPORT=${LTRR_REDIS##*:}

$PY "$LIB" gen "$D/s" "$N" 5 3
declare -a LAST
for p in 0 1 2; do
        "$LTRR_BIN/ltrr-avro" encode Reward <"$D/s/p$p.jsonl" >"$D/s/p$p.bin"
        $PY "$LIB" split "$D/s/p$p.bin" "$D/s/p$p"
        (cd "$D/s/p$p" && ls | xargs kcat -P -b "$LTRR_BOOTSTRAP" \
                -t ltrr.rewards -p "$p")
        LAST[p]=$(($(wc -l <"$D/s/p$p.jsonl") - 1))
done
records=$(( LAST[0] + LAST[1] + LAST[2] + 3 ))
# Key updates the stream implies: distinct references x keys written.
updates=$($PY - "$D"/s/p*.jsonl <<'PYEOF'
import json, sys
imp, act = set(), set()
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        ir = r["impression_ref"]
        if r["apply_bandit"]:
            imp.add((ir["partition"], ir["offset"]))
        ar = r.get("action_ref")
        if r["apply_engagement"] and ar and r.get("engaged_entity"):
            act.add((ar["partition"], ar["offset"]))
print(2 * len(imp) + 4 * len(act))
PYEOF
)

caught_up() {
        local p
        for p in 0 1 2; do
                [ "$(redis-cli -h "$RHOST" -p "$RPORT" HGET \
                        'ltrr:learn:{off}:bench' "ltrr.rewards:$p")" = \
                        "${LAST[p]}" ] || return 1
        done
}

"$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
        --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port=0 --group=bench \
        --batch.max="$BATCH" --bandit.arms=lexical,popular,structured,fuzzy \
        --bandit.budgets=10,25 >"$D/learn.log" 2>&1 &
LEARN_PID=$!
until grep -q "partitions assigned" "$D/learn.log"; do sleep 0.01; done
t0=$(date +%s%N)
until caught_up; do sleep 0.02; done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
stats=$(redis-cli -h "$RHOST" -p "$RPORT" INFO commandstats | tr -d "\r")
calls=$(echo "$stats" |
        sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p')
keys=$(redis-cli -h "$RHOST" -p "$RPORT" DBSIZE)
usec=$(echo "$stats" | sed -n "s/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p")
kill -TERM "$LEARN_PID"; wait "$LEARN_PID" || true; LEARN_PID=
learn_rps=$(( records * 1000 / (ms > 0 ? ms : 1) ))
calls_ps=$(( calls * 1000 / (ms > 0 ? ms : 1) ))
updates_ps=$(( updates * 1000 / (ms > 0 ? ms : 1) ))

bench() { # redis-benchmark -P 32 ops/s of one command over $keys keys
        redis-benchmark -h "$RHOST" -p "$RPORT" -P 32 -n "$updates" \
                -r "$keys" -q "$@" | tr '\r' '\n' |
                sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1
}
hincr=$(bench HINCRBYFLOAT 'bench:h:__rand_int__' f 1.5)
zincr=$(bench ZINCRBY 'bench:z:__rand_int__' 1.5 m)

echo "records consumed:          $records in $ms ms (batch.max $BATCH, in flight ${LTRR_LEARN_INFLIGHT:-2})"
echo "ltrr-learn rewards/s:      $learn_rps"
echo "ltrr-learn key updates/s:  $updates_ps ($updates key updates)"
echo "ltrr-learn script calls/s: $calls_ps ($calls EVALSHA, $keys keys, ${usec} us per call in Redis)"
echo "redis-benchmark -P 32 HINCRBYFLOAT/s: $hincr (-n $updates -r $keys)"
echo "redis-benchmark -P 32 ZINCRBY/s:      $zincr"
# Seconds per stage inside the learner (logged at exit).
grep 'msg="stage seconds"' "$D/learn.log" | sed 's/.*msg="stage seconds" /learner stage seconds:     /' || true
awk -v u="$updates_ps" -v h="$hincr" -v z="$zincr" 'BEGIN {
        printf "key updates/s vs HINCRBYFLOAT -P 32: %.0f%%\n", 100 * u / h
        printf "key updates/s vs ZINCRBY -P 32:      %.0f%%\n", 100 * u / z }'
