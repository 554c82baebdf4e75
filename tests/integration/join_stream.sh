#!/usr/bin/env bash
# ltrr-join on the embedded stack: impressions and actions in, rewards out.
# Matched, no_action after a 2 s window, late, a duplicate dropped, an
# action held until its impression, a dangling action counted, a malformed
# record to ltrr.dlq with its reason; SIGTERM exits 0; a restart replays
# from the committed offsets and adds no reward that differs from the
# first run's (the learner dedups identical ones).
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
/usr/bin/python3 -c 'import json' 2>/dev/null || skip "/usr/bin/python3 missing"
for b in ltrr-join ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built in $LTRR_BIN"
done
harness_stack --only redis,broker
fx=$LTRR_SRC/tests/data/join/stream.py
data=$HARNESS_DIR/data
mkdir -p "$data"
# Both producers must partition keys alike (co-partitioning).
produce() { # TOPIC FILE...
        local topic=$1
        shift
        kcat -b "$LTRR_BOOTSTRAP" -P -t "$topic" -k user-join \
                -X partitioner=murmur2_random "$@" || fail "kcat -P $topic"
}
encode() { # TYPE JSON -> JSON.bin (single-object record)
        "$LTRR_BIN/ltrr-avro" encode "$1" <"$2" | tail -c +5 >"$2.bin" ||
                fail "encode $2"
}
free_port() {
        /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
metric() { # NAME -> value (0 when absent)
        curl -fsS "$url/metrics" | awk -v n="$1" '$1 == n {print int($2); f=1} END {if (!f) print 0}'
}
start_join() { # LOGNAME
        port=$(free_port)
        url=http://127.0.0.1:$port
        harness_bg "$1" "$LTRR_BIN/ltrr-join" --http.port="$port" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --window=2s \
                --tolerance=1s --lateness=200ms --idle=1s --late.horizon=60s \
                --group=it-join --schemas="$LTRR_SCHEMAS"
        join_pid=$HARNESS_LAST_PID
        harness_wait "ltrr-join /healthz" 30 curl -fsS "$url/healthz"
}
metric_is() { # NAME VALUE
        [ "$(metric "$1")" = "$2" ]
}
metric_ge() { # NAME VALUE
        [ "$(metric "$1")" -ge "$2" ]
}
rewards() { # -> decoded rewards, JSON lines, in $HARNESS_DIR/rewards.json
        kcat -b "$LTRR_BOOTSTRAP" -C -t ltrr.rewards -o beginning -e -q \
                -f '%R%s' >"$HARNESS_DIR/rewards.bin" || return 1
        "$LTRR_BIN/ltrr-avro" decode <"$HARNESS_DIR/rewards.bin" \
                >"$HARNESS_DIR/rewards.json" || return 1
}
rewards_at_least() { # N
        rewards && [ "$(wc -l <"$HARNESS_DIR/rewards.json")" -ge "$1" ]
}
stop_join() {
        kill -TERM "$join_pid"
        rc=0
        wait "$join_pid" || rc=$?
        assert_eq "$rc" 0 "ltrr-join exit code after SIGTERM"
}

/usr/bin/python3 "$fx" gen "$data" "$(date +%s%3N)"
for f in "$data"/imp-*.json; do encode Impression "$f"; done
for f in "$data"/act-*.json; do encode Action "$f"; done

start_join join1
# The group needs a moment to form; the skip goes first and must be held.
harness_wait "partitions assigned" 30 grep -q assigned "$HARNESS_DIR/join1.log"
produce ltrr.actions "$data/act-0.json.bin"
harness_wait "held action" 30 metric_is ltrr_join_held_actions 1
produce ltrr.impressions "$data"/imp-{0,1,2,3,4}.json.bin
produce ltrr.actions "$data"/act-{1,2,3,4,5}.json.bin
printf 'not an avro record' >"$data/garbage.bin"
produce ltrr.actions "$data/garbage.bin"

harness_wait "6 rewards" 60 rewards_at_least 6
harness_wait "dangling action" 30 metric_is ltrr_join_dangling_actions_total 1
/usr/bin/python3 "$fx" check "$HARNESS_DIR/rewards.json" ||
        fail "rewards of the first run"
assert_eq "$(wc -l <"$HARNESS_DIR/rewards.json")" 6 "rewards of the first run"
assert_eq "$(metric ltrr_join_duplicates_total)" 1 "duplicates dropped"
assert_eq "$(metric ltrr_join_dlq_total)" 1 "records sent to the dlq"
assert_ge "$(metric ltrr_join_late_actions_total)" 1 "late actions"
metrics=$(curl -fsS "$url/metrics") || fail "GET /metrics"
assert_contains "$metrics" $'\nltrr_join_latency_seconds_count 4' \
        "join latency observed for the 4 rewards of in-time actions"
dlq=$(kcat -b "$LTRR_BOOTSTRAP" -C -t ltrr.dlq -o beginning -e -q \
        -f '%h|%s\n') || fail "kcat dlq"
assert_contains "$dlq" "ltrr.error=" "dlq error header"
assert_contains "$dlq" "ltrr.source.topic=ltrr.actions" "dlq source header"
assert_contains "$dlq" "not an avro record" "dlq value"
stop_join

# Restart: replay from the committed offsets. Whatever is emitted again
# must be the same rewards (same refs, outcomes and values).
start_join join2
harness_wait "replay read" 30 metric_ge 'ltrr_join_records_total{topic="impressions"}' 1
sleep 5
rewards || fail "consume rewards after restart"
/usr/bin/python3 "$fx" check "$HARNESS_DIR/rewards.json" ||
        fail "rewards after the restart differ"
stop_join
harness_log "ok: $(wc -l <"$HARNESS_DIR/rewards.json") reward records, 6 distinct"
