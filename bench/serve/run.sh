#!/usr/bin/env bash
# Benchmarks ltrr-serve on a 1M-entity synthetic index with wrk at 4
# connections, beside nginx serving a static JSON file of the size of a
# typical response, in the same run, with the same number of workers
# (serve threads, nginx processes). Prints for each: p50/p90/p99 and
# requests/s, then the throughput ratio (target: p99 <= 5 ms,
# ratio >= 0.25), the CPU each server used per request (run time of all
# its threads / requests, from /proc/PID/task/*/schedstat), wrk's own
# CPU, serve's allocations per request (an LD_PRELOAD counter,
# malloc_count.c) and serve's per-stage times under the load (the
# ltrr_serve_stage_seconds histograms, difference over the run).
#   bench/serve/run.sh [BUILD_DIR]        (default: build)
# Env: ENTITIES (1000000), DURATION (10s), CONNS (4), THREADS (2, wrk),
# WORKERS (serve workers and nginx processes, 2), INDEX (a prebuilt
# index; else built once and cached as $CACHE/catalog-$ENTITIES.idx,
# CACHE default /tmp), SERVE_ARGS (extra ltrr-serve flags), MALLOC_COUNT
# (1: count allocations, default 1), DEBUG_EVERY (every Nth serve request
# asks debug=1; their per-stage CPU times are averaged; default 10), PERF (1: perf record -g on
# ltrr-serve during its run; report in $OUT/perf.txt), OUT (keep the
# logs and reports there). Also printed: how busy the whole machine was
# during serve's run (other processes share its cores).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
export LTRR_BIN=$build/bin
n=${ENTITIES:-1000000}
workers=${WORKERS:-2}
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
        { echo "nginx not installed (Debian nginx-light)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-bench-serve.XXXXXX")
out=${OUT:-$dir}
mkdir -p "$out"
pids=()
cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        "$src/tools/stack.sh" down "$dir/stack" >/dev/null 2>&1 || true
        rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() {
        for _ in $(seq 200); do
                curl -fs -o /dev/null "$1" && return 0
                sleep 0.05
        done
        echo "not ready: $1" >&2
        exit 1
}
# Run time in ns of every thread of the given processes.
cpu_ns() {
        local p t sum=0 v
        for p in "$@"; do
                for t in /proc/"$p"/task/*/schedstat; do
                        v=$(cut -d' ' -f1 "$t" 2>/dev/null) || continue
                        sum=$((sum + v))
                done
        done
        echo "$sum"
}
# Total and idle jiffies of the machine.
machine() {
        awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i
                       print t, $5 + $6; exit }' /proc/stat
}
# The sum and count of histogram $2 (with label text $3) of a /metrics text.
hist() {
        awk -v s="$2" -v l="${3:-}" '
                index($0, s "_sum") == 1 && index($0, l) { sum = $NF }
                index($0, s "_count") == 1 && index($0, l) { cnt = $NF }
                END { printf "%s %s\n", sum + 0, cnt + 0 }' "$1"
}

index=${INDEX:-${CACHE:-/tmp}/catalog-$n.idx}
if [ ! -s "$index" ]; then
        echo "# building a $n-entity synthetic index into $index" >&2
        "$LTRR_BIN/ltrr-index" build --synthetic "$n" --seed 1 \
                --output "$index.tmp" >"$dir/index.log" 2>&1
        mv "$index.tmp" "$index"
fi
"$src/tools/stack.sh" up "$dir/stack" --only redis,broker >/dev/null 2>&1
set -a; . "$dir/stack/stack.env"; set +a

preload=()
if [ "${MALLOC_COUNT:-1}" = 1 ]; then
        cc -O2 -shared -fPIC -o "$dir/malloc_count.so" \
                "$src/bench/serve/malloc_count.c" -lpthread
        preload=(env LD_PRELOAD="$dir/malloc_count.so"
                 LTRR_MALLOC_COUNT="$dir/allocs.txt")
fi
port=$(free_port)
# shellcheck disable=SC2086
"${preload[@]}" "$LTRR_BIN/ltrr-serve" --http.port="$port" --index="$index" \
        --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
        --workers="$workers" --log.level=warn ${SERVE_ARGS:-} \
        2>"$out/serve.log" &
spid=$!
pids+=("$spid")
url="http://127.0.0.1:$port"
wait_http "$url/healthz"

# A typical response: a two-word query at k=10.
curl -fs "$url/v1/search?q=city+lights&k=10&user=bench-1" >"$dir/typical.json"
size=$(wc -c <"$dir/typical.json")
mkdir -p "$dir/www"
chmod a+rx "$dir" "$dir/www"   # nginx workers run as another user
head -c "$size" /dev/zero | tr '\0' ' ' >"$dir/www/search.json"
nport=$(free_port)
cat >"$dir/nginx.conf" <<NGX
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
        access_log off;
        default_type application/json;
        client_body_temp_path $dir/tmp;
        proxy_temp_path $dir/tmp;
        fastcgi_temp_path $dir/tmp;
        uwsgi_temp_path $dir/tmp;
        scgi_temp_path $dir/tmp;
        server {
                listen 127.0.0.1:$nport;
                root $dir/www;
        }
}
NGX
mkdir -p "$dir/tmp"
"$nginx_bin" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" 2>>"$dir/nginx-error.log" &
npid=$!
pids+=("$npid")
wait_http "http://127.0.0.1:$nport/search.json"

# Warm-up: page in the index and fetch the producer's metadata.
wrk -t1 -c2 -d2s -s "$src/bench/serve/search.lua" "$url" >/dev/null
echo "# ltrr-serve bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
        "$n entities, ${DURATION:-10s}, ${CONNS:-4} connections, $workers" \
        "workers (serve threads = nginx processes), response $size bytes"
wopts=(-t"${THREADS:-2}" -c"${CONNS:-4}" -d"${DURATION:-10s}" -s "$src/bench/serve/search.lua")

curl -fs "$url/metrics" >"$dir/m0.txt"
a0=$(cat "$dir/allocs.txt" 2>/dev/null || echo "allocs=0")
c0=$(cpu_ns "$spid")
if [ "${PERF:-0}" = 1 ]; then
        perf record -g -o "$out/perf.data" -p "$spid" >/dev/null 2>&1 &
        perfpid=$!
fi
rpid=$(cat "$dir/stack/pids/redis.pid" 2>/dev/null || echo)
bpid=$(cat "$dir/stack/pids/broker.pid" 2>/dev/null || echo)
# shellcheck disable=SC2086
r0=$(cpu_ns $rpid); b0=$(cpu_ns $bpid)
m0=$(machine)
LABEL=serve DEBUG_EVERY=${DEBUG_EVERY:-10} wrk "${wopts[@]}" "$url" >"$dir/wrk-serve.txt"
m1=$(machine)
# shellcheck disable=SC2086
r1=$(cpu_ns $rpid); b1=$(cpu_ns $bpid)
s=$(grep '^serve ' "$dir/wrk-serve.txt")
c1=$(cpu_ns "$spid")
if [ "${PERF:-0}" = 1 ]; then
        kill -INT "$perfpid"; wait "$perfpid" || true
        perf report -i "$out/perf.data" --no-children --stdio \
                --percent-limit 0.5 --sort symbol -g none \
                >"$out/perf.txt" 2>/dev/null || true
fi
a1=$(cat "$dir/allocs.txt" 2>/dev/null || echo "allocs=0")
curl -fs "$url/metrics" >"$dir/m1.txt"
# The HTTP layer's own share: /healthz answers without the pipeline.
sleep 0.3
h0=$(cat "$dir/allocs.txt" 2>/dev/null || echo "allocs=0")
hc0=$(cpu_ns "$spid")
h=$(LABEL=healthz PATH_FIXED=/healthz wrk -t1 -c"${CONNS:-4}" -d3s \
        -s "$src/bench/serve/search.lua" "$url" | grep '^healthz ')
hc1=$(cpu_ns "$spid")
sleep 0.3
h1=$(cat "$dir/allocs.txt" 2>/dev/null || echo "allocs=0")

nkids=$(pgrep -P "$npid" | tr '\n' ' ')
# shellcheck disable=SC2086
g0=$(cpu_ns "$npid" $nkids)
LABEL=nginx PATH_FIXED=/search.json wrk "${wopts[@]}" \
        "http://127.0.0.1:$nport" >"$dir/wrk-nginx.txt"
# shellcheck disable=SC2086
g1=$(cpu_ns "$npid" $nkids)
g=$(grep '^nginx ' "$dir/wrk-nginx.txt")
echo "$s"
echo "$g"
grep '^serve_stage_cpu_us' "$dir/wrk-serve.txt" || true

field() { sed "s/.*$1=\\([0-9.]*\\).*/\\1/" <<<"$2"; }
rs=$(field rps "$s"); rg=$(field rps "$g")
ns=$(field requests "$s"); ng=$(field requests "$g")
p99=$(field p99_ms "$s")
awk -v a="$rs" -v b="$rg" -v p="$p99" 'BEGIN {
        printf "ratio serve/nginx=%.4f (target >= 0.25) serve_p99_ms=%s (target <= 5)\n", a / b, p }'
awk -v cs=$((c1 - c0)) -v ns="$ns" -v cg=$((g1 - g0)) -v ng="$ng" 'BEGIN {
        printf "cpu_us_per_request serve=%.1f nginx=%.1f (all threads; ratio %.1fx)\n",
               cs / ns / 1e3, cg / ng / 1e3, (cs / ns) / (cg / ng) }'
awk -v r=$((r1 - r0)) -v b=$((b1 - b0)) -v ns="$ns" 'BEGIN {
        printf "cpu_us_per_request of the dependencies: redis-server=%.1f broker=%.1f\n",
               r / ns / 1e3, b / ns / 1e3 }'
awk -v a="$m0" -v b="$m1" 'BEGIN { split(a, x, " "); split(b, y, " ")
        printf "machine_busy_during_serve_run=%.0f%% (all cores, all processes incl. wrk)\n",
               100 * (1 - (y[2] - x[2]) / (y[1] - x[1])) }'
if [ "${MALLOC_COUNT:-1}" = 1 ]; then
        awk -v a="$a0" -v b="$a1" -v n="$ns" 'BEGIN {
                split(a, x, /[= ]+/); split(b, y, /[= ]+/)
                printf "allocs_per_request=%.1f reallocs_per_request=%.1f frees_per_request=%.1f\n",
                       (y[2] - x[2]) / n, (y[4] - x[4]) / n, (y[6] - x[6]) / n }'
fi
nh=$(field requests "$h")
awk -v cs=$((hc1 - hc0)) -v n="$nh" -v a="$h0" -v b="$h1" -v m="${MALLOC_COUNT:-1}" 'BEGIN {
        split(a, x, /[= ]+/); split(b, y, /[= ]+/)
        printf "healthz (HTTP layer only): cpu_us_per_request=%.1f", cs / n / 1e3
        if (m == 1) printf " allocs_per_request=%.1f", (y[2] - x[2]) / n
        printf "\n" }'
line="stage_us_under_load"
for st in state analyze decide arms rank; do
        read -r s0 k0 < <(hist "$dir/m0.txt" ltrr_serve_stage_seconds "stage=\"$st\"")
        read -r s1 k1 < <(hist "$dir/m1.txt" ltrr_serve_stage_seconds "stage=\"$st\"")
        line="$line $st=$(awk -v a="$s0" -v b="$s1" -v c="$k0" -v d="$k1" \
                'BEGIN { printf "%.0f", (d > c ? (b - a) / (d - c) * 1e6 : 0) }')"
done
read -r s0 k0 < <(hist "$dir/m0.txt" "ltrr_serve_latency_seconds")
read -r s1 k1 < <(hist "$dir/m1.txt" "ltrr_serve_latency_seconds")
echo "$line total=$(awk -v a="$s0" -v b="$s1" -v c="$k0" -v d="$k1" \
        'BEGIN { printf "%.0f", (d > c ? (b - a) / (d - c) * 1e6 : 0) }')"
grep -E '^ltrr_serve_(requests_total|degraded_total|impressions_dropped_total)' \
        "$dir/m1.txt" || true
