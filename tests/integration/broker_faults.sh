#!/usr/bin/env bash
# ltrr-broker fault injection: a broker down while producing, and injected
# Produce errors. The idempotent producer delivers every record exactly
# once either way.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
broker=$LTRR_BIN/ltrr-broker
kafka=$LTRR_BIN/ltrr-kafka
[ -x "$broker" ] && [ -x "$kafka" ] || fail "ltrr-broker/ltrr-kafka not built"

bs=$HARNESS_DIR/bootstrap
sock=$HARNESS_DIR/broker.sock
harness_bg broker "$broker" --bootstrap-file "$bs" --control "$sock"
harness_wait "bootstrap file" 30 test -s "$bs"
bootstrap=$(cat "$bs")

ctl() {
        "$broker" --control "$sock" --send "$*"
}

# check_topic TOPIC FILE: the topic holds exactly the lines of FILE.
check_topic() {
        timeout 60 kcat -b "$bootstrap" -C -t "$1" -e -q >"$HARNESS_DIR/got.$1" ||
                fail "kcat consume $1"
        assert_eq "$(wc -l <"$HARNESS_DIR/got.$1")" "$(wc -l <"$2")" \
                "record count in $1"
        assert_eq "$(sort "$HARNESS_DIR/got.$1" | md5sum)" \
                "$(sort "$2" | md5sum)" "records in $1"
}

# Bad control commands are refused with a reason and a non-zero exit.
for bad in "broker down 9" "broker sideways 1" "error NoSuchApi NOT_LEADER_FOR_PARTITION" \
        "error Produce NO_SUCH_ERROR" "frobnicate"; do
        out=$(ctl "$bad") && fail "'$bad' accepted"
        assert_contains "$out" "error " "reply to '$bad'"
done
out=$(ctl "$(head -c 600 /dev/zero | tr '\0' x)") && fail "long line accepted"
assert_eq "$out" "error line too long" "long line"
assert_eq "$(ctl ping)" "ok pong" "broker still serves after bad input"

# 1. A partition leader down while producing: the records it leads wait,
#    and all arrive once it is back. The mock cluster places leaders at
#    random, so the broker to take down is read from the metadata. Records
#    are keyed (key = value), so the partitioner cannot route around the
#    partitions that broker leads, as it does for keyless records once it
#    knows they are unavailable.
leader=$(kcat -b "$bootstrap" -L -t ltrr.impressions -J |
        /usr/bin/python3 -c 'import json,sys
print(json.load(sys.stdin)["topics"][0]["partitions"][0]["leader"])') ||
        fail "no leader in the metadata"
assert_eq "$(ctl broker down "$leader")" "ok broker $leader down" "broker down"
seq 1 600 | sed 's/^/imp-/' >"$HARNESS_DIR/in1"
sed 's/.*/&\t&/' "$HARNESS_DIR/in1" |
        "$kafka" -b "$bootstrap" -P -t ltrr.impressions -K "$(printf '\t')" \
        >"$HARNESS_DIR/produce1.log" 2>&1 &
producer=$!
sleep 3
kill -0 "$producer" 2>/dev/null ||
        fail "producer finished while a partition leader was down"
assert_eq "$(ctl broker up "$leader")" "ok broker $leader up" "broker up"
rc=0; wait "$producer" || rc=$?
assert_eq "$rc" 0 "producer exit code after broker up"
assert_contains "$(cat "$HARNESS_DIR/produce1.log")" \
        "produced=600 delivered=600 failed=0" "producer counters"
check_topic ltrr.impressions "$HARNESS_DIR/in1"

# 2a. Injected errors reach the client: a non-retriable one fails the
#     record, and the producer says so.
ctl error Produce TOPIC_AUTHORIZATION_FAILED 1 >/dev/null
echo doomed | "$kafka" -b "$bootstrap" -P -t ltrr.dlq \
        >"$HARNESS_DIR/produce0.log" 2>&1 && fail "injected fatal error ignored"
assert_contains "$(cat "$HARNESS_DIR/produce0.log")" "failed=1" \
        "failed record counted"

# 2b. Produce requests fail with NOT_LEADER_FOR_PARTITION three times (by
#    name) and REQUEST_TIMED_OUT twice (by number): retried, no loss, no
#    duplicate.
assert_contains "$(ctl error Produce NOT_LEADER_FOR_PARTITION 3)" "count=3" \
        "inject by name"
assert_contains "$(ctl error 0 7 2)" "err=REQUEST_TIMED_OUT count=2" \
        "inject by number"
seq 1 300 | sed 's/^/rew-/' >"$HARNESS_DIR/in2"
"$kafka" -b "$bootstrap" -P -t ltrr.rewards <"$HARNESS_DIR/in2" \
        >"$HARNESS_DIR/produce2.log" 2>&1 || fail "producer with injected errors"
check_topic ltrr.rewards "$HARNESS_DIR/in2"

# 3. Added latency and clear: everything is back to normal.
assert_eq "$(ctl broker rtt 1 300)" "ok broker 1 rtt 300" "rtt"
ctl broker down 3 >/dev/null
assert_eq "$(ctl clear)" "ok cleared" "clear"
seq 1 100 | sed 's/^/act-/' >"$HARNESS_DIR/in3"
timeout 60 "$kafka" -b "$bootstrap" -P -t ltrr.actions <"$HARNESS_DIR/in3" \
        >"$HARNESS_DIR/produce3.log" 2>&1 || fail "producer after clear"
check_topic ltrr.actions "$HARNESS_DIR/in3"
harness_log "ok"
