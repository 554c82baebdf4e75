#!/usr/bin/env bash
# Retrieval benchmark: one report for issue 4 on a synthetic catalog.
#
#   bench/retrieval/run.sh [BUILD_DIR] [--n N] [--seed S] [--queries Q]
#                          [--index FILE] [--rebuild] [--threads T]
#                          [--vectors D] [--arm NAME]
#
# 1. Builds the index the way production builds it, with every section:
#    `ltrr-index build --synthetic N --seed S --vectors D --ann
#    --ref-date 2026-01-01` (the arm sections, the fuzzy arm's n-gram
#    HNSW and the semantic arm's IVF), and prints its wall time, user
#    and system CPU time, peak RSS and file size. --index FILE keeps the
#    index there and reuses it when it exists already (nothing is built
#    or timed then; --rebuild builds it again); without --index a
#    temporary file is built and removed at the end.
# 2. ltrr-bench-arms on that index: the reference loop (a fixed amount
#    of integer work timed before and after the arms: a machine-speed
#    yardstick measured in the same run), then for each arm (lexical,
#    popular, structured, fresh, personal, memory, fuzzy, semantic) p50
#    and p99 of the thread CPU time and of the wall time at k = 100 over
#    Q queries drawn from the catalog, p99_cpu_ref (the arm's p99 CPU
#    time in reference loops), and per query class the CPU p50 / p99.
# 3. ltrr-bench-retrieval on the same index, lexical arm only: its wall
#    p50 / p99 over Q whole names beside a plain scan of the same
#    posting lists (every doc id and tf read, no scoring) timed in the
#    same run, and the ratio of the two.
#
# Defaults: N 1000000, S 1, Q 2000, D 64, T the online CPUs. BUILD_DIR
# (default build) holds bin/ltrr-index, bin/ltrr-bench-arms and
# bin/ltrr-bench-retrieval. The 1M build takes about 45-90 s and 1 GB
# of memory; the timings about 2 minutes more.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$src/build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
        build=$1
        shift
fi
n=1000000 seed=1 nq=2000 dim=64 threads=0 index= rebuild=0 arm=
while [ $# -gt 0 ]; do
        case $1 in
        --n) n=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --queries) nq=$2; shift 2 ;;
        --index) index=$2; shift 2 ;;
        --rebuild) rebuild=1; shift ;;
        --threads) threads=$2; shift 2 ;;
        --vectors) dim=$2; shift 2 ;;
        --arm) arm=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        esac
done
bin=$build/bin
for p in ltrr-index ltrr-bench-arms ltrr-bench-retrieval; do
        [ -x "$bin/$p" ] || { echo "run.sh: $bin/$p not built" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-bench-retrieval.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -z "$index" ]; then
        index=$tmp/catalog.idx
fi

echo "# $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# entities $n seed $seed queries $nq k 100 index $index"
if [ -e "$index" ] && [ "$rebuild" = 0 ]; then
        echo "index_build reused (not built or timed here)"
else
        rm -f "$index"
        targs=()
        [ "$threads" != 0 ] && targs=(--threads "$threads")
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
                "$bin/ltrr-index" build --synthetic "$n" --seed "$seed" \
                --vectors "$dim" --ann --ref-date 2026-01-01 \
                "${targs[@]}" --output "$index" >"$tmp/build.log" 2>&1 || {
                cat "$tmp/build.log" >&2
                echo "run.sh: index build failed" >&2
                exit 1
        }
        read -r wall user sys rss_kb <"$tmp/time"
        echo "index_build ltrr-index build --synthetic $n --seed $seed" \
                "--vectors $dim --ann --ref-date 2026-01-01${targs[*]:+ ${targs[*]}}"
        echo "index_build wall_s $wall user_s $user sys_s $sys" \
                "peak_rss_mib $((rss_kb / 1024))"
        # The build's phase lines (logfmt): msg=phase phase=... ms=...
        grep 'msg=phase' "$tmp/build.log" |
                sed -n 's/.*phase=\("[^"]*"\|[^ ]*\).* ms=\([0-9.]*\).*/\1 \2/p' |
                tr -d '"' | awk '{ms = $NF; $NF = ""; sub(/ $/, "");
                        gsub(/ /, "_"); print "index_phase", $0, "ms", ms}' || true
fi
echo "index_file_mib $(( $(stat -c %s "$index") / 1048576 ))"
aargs=()
[ -n "$arm" ] && aargs=(--arm "$arm")
"$bin/ltrr-bench-arms" --index "$index" --n "$n" --seed "$seed" \
        --queries "$nq" "${aargs[@]}"
echo "# lexical arm against a plain scan of its posting lists (wall time)"
"$bin/ltrr-bench-retrieval" -i "$index" -a lexical -q "$nq" -s "$seed" |
        grep -E '^(arm|slowest|ref) '
