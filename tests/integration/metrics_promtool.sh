#!/usr/bin/env bash
# The sample exposition passes `promtool check metrics` (format and lint)
# both from --print and scraped over HTTP, and the admin endpoint answers
# /healthz, 404 and 405 as documented.
. "$LTRR_SRC/tests/lib/harness.sh"

command -v promtool >/dev/null || skip "promtool not installed"
command -v curl >/dev/null || skip "curl not installed"
SAMPLE=$LTRR_BIN/ltrr-metrics-sample
[ -x "$SAMPLE" ] || fail "$SAMPLE not built"
harness_init

# promtool prints format errors and lint warnings and exits non-zero on
# either; require a clean exit and no output at all.
check_metrics() {
        local out rc=0
        out=$(promtool check metrics <"$1" 2>&1) || rc=$?
        [ "$rc" -eq 0 ] || fail "promtool check metrics ($1) exit $rc: $out"
        [ -z "$out" ] || fail "promtool check metrics ($1) warned: $out"
}

"$SAMPLE" --print >"$HARNESS_DIR/print.txt" || fail "--print failed"
check_metrics "$HARNESS_DIR/print.txt"
assert_contains "$(cat "$HARNESS_DIR/print.txt")" \
        'ltrr_sample_request_duration_seconds_bucket{route="search",le="+Inf"} 10' \
        "histogram +Inf bucket"
assert_contains "$(cat "$HARNESS_DIR/print.txt")" \
        'ltrr_metrics_label_overflow_total{family="ltrr_sample_arm_weight"} 1' \
        "label overflow counted"

"$SAMPLE" --bogus >/dev/null 2>&1 && fail "unknown argument accepted"
"$SAMPLE" --http.port=70000 >/dev/null 2>&1 && fail "port 70000 accepted"

harness_bg sample "$SAMPLE" --http.port=0 --http.addr=127.0.0.1
pid=$HARNESS_LAST_PID
harness_wait "sample to listen" 10 grep -q 'msg=listening' "$HARNESS_DIR/sample.log"
port=$(sed -n 's/.*msg=listening.* port=\([0-9]*\).*/\1/p' "$HARNESS_DIR/sample.log")
[ -n "$port" ] || fail "no port in $(cat "$HARNESS_DIR/sample.log")"
url=http://127.0.0.1:$port

curl -sf -D "$HARNESS_DIR/headers.txt" -o "$HARNESS_DIR/scrape.txt" "$url/metrics" ||
        fail "GET /metrics failed"
check_metrics "$HARNESS_DIR/scrape.txt"
assert_contains "$(tr -d '\r' <"$HARNESS_DIR/headers.txt")" \
        "Content-Type: text/plain; version=0.0.4" "metrics content type"
assert_contains "$(cat "$HARNESS_DIR/scrape.txt")" \
        "# TYPE ltrr_sample_requests_total counter" "scraped counter"

assert_eq "$(curl -s "$url/healthz")" '{"status":"ok"}' "healthz body"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" 200 "healthz code"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")" 404 "unknown path"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/metrics")" 405 \
        "POST /metrics"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq "$rc" 0 "exit status after SIGTERM"
grep -q 'msg=stopped' "$HARNESS_DIR/sample.log" || fail "no stopped line"
harness_log "ok: port $port"
