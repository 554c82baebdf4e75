#!/usr/bin/env bash
# ltrr-collect over HTTP: posted events reach ltrr.actions with every field
# right (decoded by python3-avro), partial batches list per-item errors,
# 401 without a key, 413 past the limits, idempotency keys give the same
# action_id (tests/integration/collect_check.py).
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
/usr/bin/python3 -c 'import avro.io, avro.schema' 2>/dev/null ||
        skip "python3-avro is not installed"
[ -x "$LTRR_BIN/ltrr-collect" ] || fail "ltrr-collect not built"

harness_stack --only redis,broker,collect
[ -n "$LTRR_COLLECT_URL" ] || fail "stack did not start ltrr-collect"

/usr/bin/python3 "$LTRR_SRC/tests/integration/collect_check.py" ||
        fail "collect_check.py failed"

# SIGTERM drains and exits 0.
pid=$(cat "$HARNESS_DIR/stack/pids/collect.pid")
kill -TERM "$pid"
for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "ltrr-collect still running after SIGTERM"
grep -q 'msg=stopped' "$HARNESS_DIR/stack/logs/collect.log" ||
        fail "ltrr-collect did not log a clean stop"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$HARNESS_DIR/stack/logs/collect.log" && fail "sanitizer report in the log"
exit 0
