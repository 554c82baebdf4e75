#!/usr/bin/env bash
# tools/demo.sh --once: the README's demo starts the stack, shows an Avro
# record travelling through Kafka, and stops everything it started.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

dir=$HARNESS_DIR/demo
out=$("$LTRR_SRC/tools/demo.sh" --once --no-install --no-build --dir "$dir" 2>&1) ||
        fail "demo failed: $out"
for t in ltrr.impressions ltrr.actions ltrr.rewards ltrr.dlq; do
        assert_contains "$out" "$t" "demo topic list"
done
# The record decoded after the round trip is the one encoded before it.
assert_contains "$out" '"action_id":"00112233445566778899aabbccddeeff"' "decoded record"
assert_contains "$out" '"type":"play"' "decoded record"
assert_contains "$out" "LTRR_API_KEY=dev-" "stack.env shown"
[ -e "$dir/pids/order" ] && fail "demo left its stack running"
pgrep -f "redis-server.*--dir $dir/redis" && fail "demo left redis running"
harness_log "ok"
