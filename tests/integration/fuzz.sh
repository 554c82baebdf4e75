#!/usr/bin/env bash
# Every fuzz target in CI. Each tests/fuzz/fuzz_<name>.c is replayed over
# its seed corpus (tests/fuzz/corpus/<name>/) through the same entry point
# libFuzzer calls; in a build with -DLTRR_FUZZ=ON (clang) each libFuzzer
# binary also runs for LTRR_FUZZ_SECONDS (default 10 per target, so the
# whole test stays inside its time limit) from that corpus.
# Run in the sanitizer build, the replay catches memory errors too.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
fuzz_dir=$(dirname "$LTRR_BIN")/fuzz
n=0
for src in "$LTRR_SRC"/tests/fuzz/fuzz_*.c; do
        target=$(basename "$src" .c)
        name=${target#fuzz_}
        corpus=$LTRR_SRC/tests/fuzz/corpus/$name
        replay=$fuzz_dir/${target}_replay
        [ -d "$corpus" ] || fail "$target has no corpus at $corpus"
        [ -x "$replay" ] || fail "$replay not built"
        out=$("$replay" "$corpus" 2>&1) || fail "$target replay failed: $out"
        assert_contains "$out" "replayed $(find "$corpus" -type f | wc -l) inputs" \
                "$target: every corpus file replayed"
        if [ -x "$fuzz_dir/$target" ]; then
                work=$HARNESS_DIR/corpus-$name
                mkdir -p "$work"
                cp "$corpus"/* "$work/"
                "$fuzz_dir/$target" -max_total_time="${LTRR_FUZZ_SECONDS:-10}" \
                        -max_len=65536 -timeout=10 \
                        -artifact_prefix="$HARNESS_DIR/$target-" "$work" \
                        >"$HARNESS_DIR/$target.log" 2>&1 || {
                        tail -n 40 "$HARNESS_DIR/$target.log" >&2
                        fail "$target found a crash"
                }
                harness_log "$target: $(grep -o 'stat::number_of_executed_units: [0-9]*' \
                        "$HARNESS_DIR/$target.log" || tail -n 1 "$HARNESS_DIR/$target.log")"
        fi
        n=$((n + 1))
done
assert_ge "$n" 1 "fuzz targets"
harness_log "ok ($n targets)"
