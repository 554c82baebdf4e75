#!/usr/bin/env bash
# Benchmarks ltrr-serve on a 1M-entity synthetic index with wrk at 4
# connections, beside nginx serving a static JSON file of the size of a
# typical response, in the same run. Prints p50/p90/p99 and requests/s
# of each and the throughput ratio (target: p99 <= 5 ms, ratio >= 0.25).
#   bench/serve/run.sh [BUILD_DIR]        (default: build)
# Env: ENTITIES (1000000), DURATION (10s), CONNS (4), THREADS (2),
# WORKERS (serve workers, 2), INDEX (a prebuilt index; else built once
# and cached as $CACHE/catalog-$ENTITIES.idx, CACHE default /tmp),
# SERVE_ARGS (extra ltrr-serve flags).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
export LTRR_BIN=$build/bin
n=${ENTITIES:-1000000}
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
        { echo "nginx not installed (Debian nginx-light)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-bench-serve.XXXXXX")
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

index=${INDEX:-${CACHE:-/tmp}/catalog-$n.idx}
if [ ! -s "$index" ]; then
        echo "# building a $n-entity synthetic index into $index" >&2
        "$LTRR_BIN/ltrr-index" build --synthetic "$n" --seed 1 \
                --output "$index.tmp" >"$dir/index.log" 2>&1
        mv "$index.tmp" "$index"
fi
"$src/tools/stack.sh" up "$dir/stack" --only redis,broker >/dev/null 2>&1
set -a; . "$dir/stack/stack.env"; set +a

port=$(free_port)
# shellcheck disable=SC2086
"$LTRR_BIN/ltrr-serve" --http.port="$port" --index="$index" \
        --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
        --workers="${WORKERS:-2}" --log.level=warn ${SERVE_ARGS:-} \
        2>"$dir/serve.log" &
pids+=($!)
url="http://127.0.0.1:$port"
wait_http "$url/healthz"

# A typical response: the first query of the list at k=10.
curl -fs "$url/v1/search?q=love&k=10&user=bench-1" >"$dir/typical.json"
size=$(wc -c <"$dir/typical.json")
mkdir -p "$dir/www"
chmod a+rx "$dir" "$dir/www"   # nginx workers run as another user
head -c "$size" /dev/zero | tr '\0' ' ' >"$dir/www/search.json"
nport=$(free_port)
cat >"$dir/nginx.conf" <<NGX
worker_processes ${WORKERS:-2};
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
pids+=($!)
wait_http "http://127.0.0.1:$nport/search.json"

# Warm-up: page in the index and fetch the producer's metadata.
wrk -t1 -c2 -d2s -s "$src/bench/serve/search.lua" "$url" >/dev/null
echo "# ltrr-serve bench: $(nproc) cores, $n entities, ${DURATION:-10s}," \
        "${CONNS:-4} connections, ${WORKERS:-2} workers, response $size bytes"
wopts=(-t"${THREADS:-2}" -c"${CONNS:-4}" -d"${DURATION:-10s}" -s "$src/bench/serve/search.lua")
s=$(LABEL=serve wrk "${wopts[@]}" "$url" | grep '^serve ')
g=$(LABEL=nginx PATH_FIXED=/search.json wrk "${wopts[@]}" "http://127.0.0.1:$nport" | grep '^nginx ')
echo "$s"
echo "$g"
rs=$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$s")
rg=$(sed 's/.*rps=\([0-9]*\).*/\1/' <<<"$g")
p99=$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$s")
awk -v a="$rs" -v b="$rg" -v p="$p99" 'BEGIN {
        printf "ratio serve/nginx=%.3f (target >= 0.25) serve_p99_ms=%s (target <= 5)\n", a / b, p }'
curl -fs "$url/metrics" | grep -E '^ltrr_serve_(requests_total|degraded_total|impressions_dropped_total)' || true
