#!/usr/bin/env bash
# ltrr-learn throughput beside redis-benchmark on the same Redis.
#
#   bench/learn/run.sh [REWARDS] [BATCH]     (defaults 60000, 2048)
#
# LTRR_LEARN_INFLIGHT=0 measures the serial loop (send, wait, poll);
# the default 2 overlaps the next batch with the replies of the last.
#
# Starts a private stack (Redis + broker), produces REWARDS rewards over 12
# partitions (learnlib.py gen: ~75% carry engagement), runs ltrr-learn
# until every partition's offset is stored, and reports rewards/s.
#
# The reference: redis-benchmark -P 32 on the same Redis, in the same
# run, sending one HINCRBYFLOAT (and, separately, one ZINCRBY) per key
# update the stream implies -- each distinct reward part times the keys
# it writes (bandit 1, Q2E count 1, Q2E 1, popularity 1, profile 2,
# ranker 1 for an engagement with ranker examples) --
# over a key space as large as the learner's. The ratio is key updates
# per second of the learner over the benchmark's commands per second,
# i.e. "for the same number of keys touched" (docs/decisions/0023).
# Also printed: the same ratio on the learner's own clock (first record
# polled to last reply read, as redis-benchmark counts first request to
# last reply), Redis main-thread CPU seconds spent on each side (the
# ratio least sensitive to other load on the machine), the commands the
# scripts ran (INFO commandstats), the learner's CPU seconds, and Redis
# time per script kind from the slow log (docs/LEARN.md, "Throughput";
# docs/decisions/0029). With the slow log on (threshold 0), Redis
# spends 11-20 % more CPU on the learner's pass (docs/decisions/0038),
# and the benchmark's commands never paid that. So the slow log is read
# from a second pass of the learner over the same stream (FLUSHALL, a
# new group) after the measured one; LTRR_BENCH_LEARN_SLOWLOG=0 skips
# that pass.
set -euo pipefail
LTRR_SRC=${LTRR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
LTRR_BIN=${LTRR_BIN:-$LTRR_SRC/build/bin}
N=${1:-60000}
BATCH=${2:-2048}
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
# Rewards with ranker examples are up to ~1.5 KB: 12 partitions keep a
# 60000-reward stream under the development broker's 5 MiB per partition
# (checked below).
PARTS=${LTRR_BENCH_LEARN_PARTS:-12}
STACK_PARTITIONS=$PARTS "$LTRR_SRC/tools/stack.sh" up "$D/stack" \
        --only redis,broker >/dev/null 2>&1
. "$D/stack/stack.env"
RHOST=${LTRR_REDIS%:*}
RPORT=${LTRR_REDIS##*:}

$PY "$LIB" gen "$D/s" "$N" 5 "$PARTS"
declare -a LAST
records=0
for p in $(seq 0 $((PARTS - 1))); do
        "$LTRR_BIN/ltrr-avro" encode Reward <"$D/s/p$p.jsonl" >"$D/s/p$p.bin"
        $PY "$LIB" split "$D/s/p$p.bin" "$D/s/p$p"
        (cd "$D/s/p$p" && ls | xargs kcat -P -b "$LTRR_BOOTSTRAP" \
                -t ltrr.rewards -p "$p")
        LAST[p]=$(($(wc -l <"$D/s/p$p.jsonl") - 1))
        records=$(( records + LAST[p] + 1 ))
done
# The development broker drops the oldest records of a partition beyond
# 5 MiB: the learner would then skip them and the rate be overstated.
for p in $(seq 0 $((PARTS - 1))); do
        first=$(kcat -C -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" \
                -o beginning -c 1 -e -q -f '%o\n')
        [ "$first" = 0 ] || {
                echo "bench/learn: partition $p starts at offset $first:" \
                        "the stream does not fit the development broker" \
                        "(5 MiB per partition); use fewer rewards" >&2
                exit 1
        }
done
# Key updates the stream implies: distinct references x keys written.
updates=$($PY - "$D"/s/p*.jsonl <<'PYEOF'
import json, sys
imp, act, rk = set(), set(), set()
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)
        ir = r["impression_ref"]
        if r["apply_bandit"]:
            imp.add((ir["partition"], ir["offset"]))
        ar = r.get("action_ref")
        if r["apply_engagement"] and ar and r.get("engaged_entity"):
            act.add((ar["partition"], ar["offset"]))
        if r["apply_engagement"] and ar and r.get("ranker_examples"):
            rk.add((ar["partition"], ar["offset"]))
print(2 * len(imp) + 4 * len(act) + len(rk))
PYEOF
)

caught_up() {
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                [ "$(redis-cli -h "$RHOST" -p "$RPORT" HGET \
                        "ltrr:learn:{off}:$GROUP" "ltrr.rewards:$p")" = \
                        "${LAST[p]}" ] || return 1
        done
}

rcli() { redis-cli -h "$RHOST" -p "$RPORT" "$@"; }
# Redis main-thread CPU seconds so far (INFO cpu).
redis_cpu() {
        rcli INFO cpu | tr -d '\r' | awk -F: '
                /^used_cpu_(user|sys)_main_thread:/ { s += $2 } END { printf "%.3f", s }'
}
# CPU seconds (user + system, every thread) of process $1 so far.
proc_cpu() {
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' \
                "/proc/$1/stat"
}
# Starts the learner in group $1, logging to $2.
learn_start() {
        "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port=0 \
                --group="$1" --batch.max="$BATCH" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25 >"$2" 2>&1 &
        LEARN_PID=$!
        until grep -q "partitions assigned" "$2"; do sleep 0.01; done
}
GROUP=bench
rcpu0=$(redis_cpu)
learn_start "$GROUP" "$D/learn.log"
t0=$(date +%s%N)
until caught_up; do sleep 0.02; done
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
learn_cpu=$(proc_cpu "$LEARN_PID")
rcpu1=$(redis_cpu)
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
rcpu2=$(redis_cpu)
hincr=$(bench HINCRBYFLOAT 'bench:h:__rand_int__' f 1.5)
rcpu3=$(redis_cpu)
zincr=$(bench ZINCRBY 'bench:z:__rand_int__' 1.5 m)
# The learner's own clock: first record polled -> last reply read.
active=$(sed -n 's/.*msg="stage seconds".* active=\([0-9.]*\).*/\1/p' \
        "$D/learn.log")
# Redis time per script kind: every script call of a second pass over
# the same stream goes to the slow log (not measured above).
slow="redis time per script kind: not measured (LTRR_BENCH_LEARN_SLOWLOG=0)"
if [ "${LTRR_BENCH_LEARN_SLOWLOG:-1}" != 0 ]; then
        rcli FLUSHALL >/dev/null
        rcli CONFIG SET slowlog-log-slower-than 0 >/dev/null
        rcli CONFIG SET slowlog-max-len 1000000 >/dev/null
        rcli SLOWLOG RESET >/dev/null
        GROUP=bench-slowlog
        learn_start "$GROUP" "$D/learn-slowlog.log"
        until caught_up; do sleep 0.02; done
        rcli CONFIG SET slowlog-log-slower-than 10000 >/dev/null
        slow="redis time per script kind (second pass, slow log on):
$($PY "$LIB" slowlog "$RHOST" "$RPORT")"
        rcli SLOWLOG RESET >/dev/null
        kill -TERM "$LEARN_PID"; wait "$LEARN_PID" || true; LEARN_PID=
fi

echo "records consumed:          $records in $ms ms (batch.max $BATCH, in flight ${LTRR_LEARN_INFLIGHT:-2})"
echo "ltrr-learn rewards/s:      $learn_rps"
echo "ltrr-learn key updates/s:  $updates_ps ($updates key updates)"
echo "ltrr-learn script calls/s: $calls_ps ($calls EVALSHA, $keys keys, ${usec} us per call in Redis)"
echo "ltrr-learn CPU seconds:    $learn_cpu (all threads); Redis main thread $(awk -v a="$rcpu0" -v b="$rcpu1" 'BEGIN { printf "%.3f", b - a }') s"
echo "$slow"
# Commands the scripts ran (INFO commandstats; EVALSHA includes them).
echo "$stats" | sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),usec=\([0-9]*\),usec_per_call=\([0-9.]*\).*/\3 \1 \2 \4/p' |
        grep -v -e '^[0-9]* evalsha ' -e ' info ' -e ' config' -e ' slowlog' |
        sort -rn | head -8 |
        awk '{ printf "redis cmd %-14s %7d calls %8.1f ms %6.2f us/call\n", $2, $3, $1 / 1000, $4 }'
echo "redis-benchmark -P 32 HINCRBYFLOAT/s: $hincr (-n $updates -r $keys; Redis main thread $(awk -v a="$rcpu2" -v b="$rcpu3" 'BEGIN { printf "%.3f", b - a }') s)"
echo "redis-benchmark -P 32 ZINCRBY/s:      $zincr"
# Seconds per stage inside the learner (logged at exit).
grep 'msg="stage seconds"' "$D/learn.log" | sed 's/.*msg="stage seconds" /learner stage seconds:     /' || true
awk -v u="$updates_ps" -v h="$hincr" -v z="$zincr" -v n="$updates" \
    -v a="${active:-0}" -v r0="$rcpu0" -v r1="$rcpu1" -v r2="$rcpu2" \
    -v r3="$rcpu3" 'BEGIN {
        printf "assignment to caught up (with the first fetch), key updates/s vs HINCRBYFLOAT -P 32: %.0f%%\n", 100 * u / h
        printf "assignment to caught up (with the first fetch), key updates/s vs ZINCRBY -P 32:      %.0f%%\n", 100 * u / z
        if (a > 0)
                printf "first record to last reply (the span redis-benchmark counts): %.3f s = %.0f key updates/s = %.0f%% of HINCRBYFLOAT -P 32\n", a, n / a, 100 * n / a / h
        if (r1 > r0 && r3 > r2)
                printf "key updates per Redis CPU second: learner %.0f, HINCRBYFLOAT -P 32 %.0f (%.0f%%)\n", n / (r1 - r0), n / (r3 - r2), 100 * (r3 - r2) / (r1 - r0) }'
