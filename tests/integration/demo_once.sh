#!/usr/bin/env bash
# tools/demo.sh --once: the README's demo starts the whole stack, drives
# it with simulated users, shows an impression read back from Kafka and
# the dashboard URL, and stops everything it started.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

dir=$HARNESS_DIR/demo
out=$("$LTRR_SRC/tools/demo.sh" --once --no-install --no-build --dir "$dir" 2>&1) ||
        fail "demo failed: $out"
for t in ltrr.impressions ltrr.actions ltrr.rewards ltrr.dlq; do
        assert_contains "$out" "$t" "demo topic list"
done
assert_contains "$out" "LTRR_API_KEY=dev-" "stack.env shown"
assert_contains "$out" "/dashboard" "dashboard URL"
# The simulated run answered and was scored.
echo "$out" | grep -Eq 'success@10 0\.[0-9]+ +nDCG@10 0\.[0-9]+ +queries 300' ||
        fail "no simulation summary in: $out"
# The impression decoded from ltrr.impressions lists the lexical arm with
# its selection probability.
echo "$out" | grep -Eq 'lexical +ran=True +budget= *[0-9]+ +P\(run\)=[01]\.[0-9]{3}' ||
        fail "no decoded impression in: $out"
[ -e "$dir/pids/order" ] && fail "demo left its stack running"
pgrep -f "redis-server.*--dir $dir/redis" && fail "demo left redis running"
harness_log "ok"
