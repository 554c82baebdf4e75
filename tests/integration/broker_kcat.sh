#!/usr/bin/env bash
# ltrr-broker: topics and partition counts as seen by kcat, records
# crossing between kcat and ltrr-kafka both ways, clean SIGTERM exit.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
broker=$LTRR_BIN/ltrr-broker
kafka=$LTRR_BIN/ltrr-kafka
[ -x "$broker" ] && [ -x "$kafka" ] || fail "ltrr-broker/ltrr-kafka not built"
# Group timeouts the mock cluster needs for a prompt join.
group_props=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000
        -X max.poll.interval.ms=8000)

# Bad arguments: a clear message and exit code 2.
rc=0; out=$("$broker" --bootstrap-file x --brokers 0 2>&1) || rc=$?
assert_eq "$rc" 2 "exit code for --brokers 0"
assert_contains "$out" "--brokers" "bad value message"
rc=0; "$broker" --brokers 3 2>/dev/null || rc=$?
assert_eq "$rc" 2 "exit code without --bootstrap-file"
assert_contains "$("$broker" --help)" "--partitions=INT" "help text"

bs=$HARNESS_DIR/bootstrap
sock=$HARNESS_DIR/broker.sock
harness_bg broker "$broker" --bootstrap-file "$bs" --control "$sock" \
        --partitions 4
broker_pid=$HARNESS_LAST_PID
harness_wait "bootstrap file" 30 test -s "$bs"
bootstrap=$(cat "$bs")

meta=$(kcat -b "$bootstrap" -L -m 10 2>&1) || fail "kcat -L: $meta"
assert_contains "$meta" " 3 brokers:" "broker count"
for t in impressions actions rewards; do
        assert_contains "$meta" "topic \"ltrr.$t\" with 4 partitions" "ltrr.$t"
done
assert_contains "$meta" 'topic "ltrr.dlq" with 1 partitions' "ltrr.dlq"
assert_eq "$("$broker" --control "$sock" --send ping)" "ok pong" "ping"
assert_eq "$("$broker" --control "$sock" --send topics)" \
        "ok ltrr.impressions:4 ltrr.actions:4 ltrr.rewards:4 ltrr.dlq:1" "topics"

# kcat produces, ltrr-kafka consumes the same records.
seq 1 200 | sed 's/^/kcat-/' >"$HARNESS_DIR/in1"
kcat -b "$bootstrap" -P -t ltrr.actions -l "$HARNESS_DIR/in1" ||
        fail "kcat produce"
timeout 90 "$kafka" -b "$bootstrap" -C -t ltrr.actions -G it-kcat -c 200 \
        "${group_props[@]}" >"$HARNESS_DIR/out1" 2>"$HARNESS_DIR/consume1.log" ||
        fail "ltrr-kafka consume"
assert_eq "$(sort "$HARNESS_DIR/out1" | md5sum)" \
        "$(sort "$HARNESS_DIR/in1" | md5sum)" "kcat -> ltrr-kafka records"

# ltrr-kafka produces (keyed), kcat consumes them; one key, one partition.
seq 1 200 | sed 's/^/ltrr-/' >"$HARNESS_DIR/in2"
"$kafka" -b "$bootstrap" -P -t ltrr.rewards -k user-7 \
        <"$HARNESS_DIR/in2" 2>"$HARNESS_DIR/produce2.log" ||
        fail "ltrr-kafka produce"
timeout 60 kcat -b "$bootstrap" -C -t ltrr.rewards -e -q -f '%p %k %s\n' \
        >"$HARNESS_DIR/out2" || fail "kcat consume"
assert_eq "$(cut -d' ' -f3 "$HARNESS_DIR/out2" | sort | md5sum)" \
        "$(sort "$HARNESS_DIR/in2" | md5sum)" "ltrr-kafka -> kcat records"
assert_eq "$(cut -d' ' -f1,2 "$HARNESS_DIR/out2" | sort -u | wc -l)" 1 \
        "one key lands in one partition"
assert_eq "$(cut -d' ' -f2 "$HARNESS_DIR/out2" | sort -u)" user-7 "record key"

# -e stops at the end of the partitions after the resumed group's rest.
out=$(timeout 60 "$kafka" -b "$bootstrap" -C -t ltrr.actions -G it-kcat -e \
        "${group_props[@]}" 2>/dev/null) || fail "ltrr-kafka -e"
assert_eq "$out" "" "committed group has nothing left"

# SIGTERM: exit 0, bootstrap file and socket removed.
kill -TERM "$broker_pid"
rc=0; wait "$broker_pid" || rc=$?
assert_eq "$rc" 0 "broker exit code on SIGTERM"
[ -e "$bs" ] && fail "bootstrap file left behind"
[ -e "$sock" ] && fail "control socket left behind"
harness_log "ok"
