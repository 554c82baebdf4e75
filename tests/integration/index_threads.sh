#!/usr/bin/env bash
# ltrr-index build gives the same file for any thread count: a 20k
# synthetic catalog with vectors and both ANN sections, built on one
# thread and on two (the arm sections then run beside the fuzzy graph),
# must be byte for byte equal; each phase's time is logged.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

tool=$LTRR_BIN/ltrr-index
[ -x "$tool" ] || fail "$tool not built"

for t in 1 2; do
        "$tool" build --synthetic 20000 --seed 3 --vectors 16 --ann \
                --ref-date 2026-01-15 --threads "$t" \
                --output "$HARNESS_DIR/t$t.idx" \
                2>"$HARNESS_DIR/build$t.log" || fail "build --threads $t failed"
done
for phase in 'phase=catalog' 'phase="arm sections"' \
        'phase="fuzzy section"' 'phase="semantic section"' 'phase=index'; do
        assert_contains "$(cat "$HARNESS_DIR/build2.log")" "$phase" \
                "$phase logged"
done
cmp "$HARNESS_DIR/t1.idx" "$HARNESS_DIR/t2.idx" ||
        fail "--threads 1 and --threads 2 built different files"
"$tool" verify "$HARNESS_DIR/t2.idx" >/dev/null 2>&1 || fail "verify failed"
harness_log "ok"
