#!/usr/bin/env bash
# Every daemon's /metrics on a running stack passes `promtool check
# metrics` with no lint warning: ltrr-serve, ltrr-collect, ltrr-join and
# ltrr-learn, after some simulated traffic so that labelled families and
# histograms have children. Every failing daemon and metric is reported
# before the test fails.
. "$LTRR_SRC/tests/lib/harness.sh"

command -v promtool >/dev/null || skip "promtool not installed"
command -v curl >/dev/null || skip "curl not installed"
for b in serve collect join learn sim index broker; do
        [ -x "$LTRR_BIN/ltrr-$b" ] || fail "$LTRR_BIN/ltrr-$b not built"
done
harness_init
harness_stack

"$LTRR_BIN/ltrr-sim" --serve "$LTRR_SERVE_URL" --collect "$LTRR_COLLECT_URL" \
        --api-key "$LTRR_API_KEY" --queries 300 --rate 0 --seed 5 \
        --catalog synthetic:20000:1 --concurrency 4 >"$HARNESS_DIR/sim.log" 2>&1 ||
        fail "ltrr-sim failed"
# Let join and learn consume what the simulator produced.
sleep 3

failed=""
for d in serve collect join learn; do
        var="LTRR_$(echo "$d" | tr a-z A-Z)_URL"
        url=${!var:-}
        [ -n "$url" ] || fail "$var missing from stack.env"
        out=$HARNESS_DIR/$d.metrics
        curl -sf -o "$out" "$url/metrics" || fail "GET $url/metrics"
        [ -s "$out" ] || fail "$d: empty /metrics"
        grep -q "^ltrr_${d}_" "$out" || fail "$d: no ltrr_${d}_* metric"
        rc=0
        msg=$(promtool check metrics <"$out" 2>&1) || rc=$?
        if [ "$rc" -ne 0 ] || [ -n "$msg" ]; then
                harness_log "ltrr-$d: promtool exit $rc:"
                printf '%s\n' "$msg" >&2
                failed="$failed $d"
        else
                harness_log "ltrr-$d: $(grep -c '^# TYPE' "$out") families clean"
        fi
done
[ -z "$failed" ] || fail "promtool check metrics failed for:$failed"
harness_log "ok"
