#!/usr/bin/env bash
# Same-run comparison of two ltrr-bench-arms binaries on one index: runs
# REF, NEW, REF, NEW, ... (ROUNDS pairs, each run alone, under nice -n
# 19), prints every run's reference loop and arm / class lines side by
# side, and checks that both binaries' answers (--dump) are
# byte-identical in every round.
#
#   bench/retrieval/compare.sh REF NEW INDEX [ROUNDS] [-- bench args]
#
# Bench args default to "--queries 2000" (all arms); pass e.g.
# "-- --arm lexical --queries 2000" to time one arm. The answers of the
# last round are kept in $TMPDIR/ltrr-compare.*/ when they differ.
set -euo pipefail
ref=$1 new=$2 index=$3
shift 3
rounds=2
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
        rounds=$1
        shift
fi
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--queries 2000)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-compare.XXXXXX")
bad=0
for r in $(seq 1 "$rounds"); do
        for which in ref new; do
                bin=$ref
                [ $which = new ] && bin=$new
                echo "## round $r $which load $(cut -d' ' -f1-3 /proc/loadavg)"
                nice -n 19 "$bin" --index "$index" "${args[@]}" \
                        --dump "$tmp/$which.dump" | tee "$tmp/$which.$r.out" |
                        grep -E '^(reference|arm|  class)'
        done
        if cmp -s "$tmp/ref.dump" "$tmp/new.dump"; then
                echo "## round $r answers identical" \
                        "($(wc -l <"$tmp/new.dump") lines)"
        else
                echo "## round $r ANSWERS DIFFER (kept in $tmp)"
                bad=1
        fi
done
[ $bad = 0 ] && rm -rf "$tmp"
exit $bad
