#!/usr/bin/env bash
# The synthetic catalog's "today": ltrr-index build --ref-date (default
# today) must agree with the day the fresh arm reads from the request
# time. On a stack whose index is dated today, "new <artist>" seekers are
# answered by the fresh arm; on one dated 300 days ago the fresh arm's
# 90-day window holds none of the catalog's new releases. (ltrr-sim's
# DATE moves every release date with it, so its grades do not depend on
# it; it must name the index's date for the dates it reports to match.)
. "$LTRR_SRC/tests/lib/harness.sh"

for b in serve collect join learn sim index broker; do
        [ -x "$LTRR_BIN/ltrr-$b" ] || fail "$LTRR_BIN/ltrr-$b not built"
done
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
harness_init
# A second stack (the old index) is stopped on every exit, then the
# harness's own cleanup runs with the test's exit status.
trap '_rc=$?; "$LTRR_SRC/tools/stack.sh" down "$HARNESS_DIR/old" >/dev/null 2>&1
(exit $_rc); harness_cleanup' EXIT

# --- options ---------------------------------------------------------------
for bad in 2026-02-30 2026-03 yesterday; do
        rc=0
        "$LTRR_BIN/ltrr-index" build --synthetic 100 --ref-date "$bad" \
                --output "$HARNESS_DIR/bad.idx" >"$HARNESS_DIR/bad.log" 2>&1 || rc=$?
        [ "$rc" -ne 0 ] || fail "ltrr-index accepted --ref-date $bad"
        rc=0
        "$LTRR_BIN/ltrr-sim" --serve http://127.0.0.1:1 \
                --catalog "synthetic:100:1:$bad" >/dev/null 2>&1 || rc=$?
        assert_eq "$rc" 2 "ltrr-sim exit for catalog date $bad"
done
"$LTRR_BIN/ltrr-index" build --synthetic 2000 --seed 3 --ref-date 2026-03-01 \
        --output "$HARNESS_DIR/dated.idx" >"$HARNESS_DIR/dated.log" 2>&1 ||
        fail "ltrr-index build --ref-date 2026-03-01"
assert_contains "$(cat "$HARNESS_DIR/dated.log")" "ref_date=2026-03-01" \
        "the build logs its reference date"

# --- the fresh arm on an index dated today, and on an old one ----------------
harness_stack
today=$(date -u +%Y-%m-%d)
old=$(date -u -d '300 days ago' +%Y-%m-%d)
"$LTRR_BIN/ltrr-index" build --synthetic 20000 --seed 1 --ann --ref-date "$old" \
        --output "$HARNESS_DIR/old.idx" >"$HARNESS_DIR/old-index.log" 2>&1 ||
        fail "ltrr-index build --ref-date $old"
"$LTRR_SRC/tools/stack.sh" up "$HARNESS_DIR/old" --only redis,broker,index,serve \
        --index "$HARNESS_DIR/old.idx" >"$HARNESS_DIR/old-stack.log" 2>&1 ||
        fail "second stack did not start"
OLD_SERVE_URL=$(sed -n 's/^LTRR_SERVE_URL=//p' "$HARNESS_DIR/old/stack.env")
[ -n "$OLD_SERVE_URL" ] || fail "second stack has no serve URL"
# run_sim URL DATE: new_release queries, success@10 and the fresh arm's
# share of them, for the fresh arm alone.
run_sim() {
        "$LTRR_BIN/ltrr-sim" --serve "$1" --queries 800 --rate 0 \
                --seed 11 --users 300 --catalog "synthetic:20000:1:$2" \
                --arms fresh --json 2>"$HARNESS_DIR/sim-$2.log" |
                "$PY" -c 'import json, sys
k = json.loads(sys.stdin.read().strip().splitlines()[-1])["kinds"]["new_release"]
print("%d %.4f %.2f" % (k["queries"], k["success_at_10"], k["arm_share"]["fresh"]))'
}
read -r n s share <<<"$(run_sim "$LTRR_SERVE_URL" "$today")" ||
        fail "ltrr-sim (today) failed"
harness_log "index dated today: $n new-release queries, success@10 $s, fresh share $share"
assert_ge "$n" 30 "new-release queries"
"$PY" -c "import sys; sys.exit(0 if $s >= 0.3 else 1)" ||
        fail "fresh answers too few new-release queries ($s < 0.3)"
assert_eq "$share" "1.00" "fresh ran on every new-release query"
read -r n s share <<<"$(run_sim "$OLD_SERVE_URL" "$old")" ||
        fail "ltrr-sim ($old) failed"
harness_log "index dated $old: success@10 $s"
"$PY" -c "import sys; sys.exit(0 if $s < 0.05 else 1)" ||
        fail "an index dated $old still had fresh new releases ($s)"
harness_log "ok"
