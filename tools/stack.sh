#!/usr/bin/env bash
# ltrr embedded development stack.
#
#   tools/stack.sh up DIR [--only redis,broker,...] [--index FILE]
#   tools/stack.sh down DIR
#   tools/stack.sh status DIR
#
# `up` starts redis-server (its own port, data directory and AOF under DIR),
# ltrr-broker, and every ltrr daemon that has been built, waits until each
# is ready, and writes DIR/stack.env. `down` stops exactly the processes
# that `up` recorded in DIR/pids/, newest first. Programs come from
# $LTRR_BIN (default: build/bin next to this script).
#
# The file can also be sourced by test harnesses for its stack_* functions.
set -uo pipefail

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LTRR_BIN=${LTRR_BIN:-$STACK_ROOT/build/bin}
STACK_WAIT_S=${STACK_WAIT_S:-20}
STACK_PARTITIONS=${STACK_PARTITIONS:-6}
STACK_BROKERS=${STACK_BROKERS:-1}

stack_log() {
        printf 'stack: %s\n' "$*" >&2
}

# Fails the command. A half-started stack is stopped again first, so a
# failed `up` leaves no process behind.
stack_die() {
        stack_log "error: $*"
        if [ -n "${STACK_UP_DIR:-}" ]; then
                stack_down "$STACK_UP_DIR"
        fi
        exit 1
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now. Ports
# come from below the kernel's ephemeral range: a port there may be the
# local end of an outgoing connection (or its TIME_WAIT), which no probe
# sees and which makes bind() fail. A race with another process remains;
# callers retry on a failed bind.
stack_free_port() {
        local port i lo=32768
        read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
        (( lo > 12000 )) || lo=32768
        for i in $(seq 1 200); do
                port=$(( (RANDOM << 1 | RANDOM & 1) % (lo - 10000) + 10000 ))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                        echo "$port"
                        return 0
                fi
        done
        return 1
}

# stack_wait DESC SECONDS CMD...: runs CMD every 50 ms until it succeeds.
stack_wait() {
        local desc=$1 secs=$2 deadline
        shift 2
        deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
        until "$@" >/dev/null 2>&1; do
                if (( $(date +%s%N) / 1000000 > deadline )); then
                        stack_log "timed out after ${secs}s waiting for $desc"
                        return 1
                fi
                sleep 0.05
        done
}

stack_alive() {
        kill -0 "$1" 2>/dev/null
}

# stack_spawn DIR NAME CMD...: starts CMD in the background with its output
# in DIR/logs/NAME.log and records its pid in DIR/pids/NAME.pid.
stack_spawn() {
        local dir=$1 name=$2
        shift 2
        mkdir -p "$dir/logs" "$dir/pids"
        setsid "$@" </dev/null >>"$dir/logs/$name.log" 2>&1 &
        echo $! >"$dir/pids/$name.pid"
        # Order of start, so that `down` stops in reverse.
        echo "$name" >>"$dir/pids/order"
}

stack_pid() {
        cat "$1/pids/$2.pid" 2>/dev/null
}

stack_env_set() {
        local file=$1/stack.env key=$2 val=$3
        touch "$file"
        grep -v "^$key=" "$file" >"$file.tmp" || true
        printf '%s=%s\n' "$key" "$val" >>"$file.tmp"
        mv "$file.tmp" "$file"
}

stack_redis_ready() {
        [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

stack_up_redis() {
        local dir=$1 port try pid
        command -v redis-server >/dev/null || stack_die "redis-server not found (run tools/install-deps.sh)"
        mkdir -p "$dir/redis"
        for try in 1 2 3 4 5; do
                port=$(stack_free_port) || stack_die "no free port"
                rm -f "$dir/pids/redis.pid"
                stack_spawn "$dir" redis redis-server --port "$port" \
                        --bind 127.0.0.1 --dir "$dir/redis" \
                        --appendonly yes --appendfsync everysec \
                        --save '' --daemonize no --loglevel warning
                pid=$(stack_pid "$dir" redis)
                if stack_wait "redis on port $port" "$STACK_WAIT_S" \
                        stack_redis_ready "$port"; then
                        stack_env_set "$dir" LTRR_REDIS "127.0.0.1:$port"
                        stack_log "redis ready on 127.0.0.1:$port (pid $pid)"
                        return 0
                fi
                stack_alive "$pid" && kill "$pid"
                sed -i '/^redis$/d' "$dir/pids/order"
                stack_log "redis did not start on port $port, retrying"
        done
        stack_die "redis-server did not start; see $dir/logs/redis.log"
}

stack_up_broker() {
        local dir=$1 bin=$LTRR_BIN/ltrr-broker pid
        [ -x "$bin" ] || stack_die "$bin not built (run cmake --build build)"
        rm -f "$dir/bootstrap" "$dir/broker.sock"
        stack_spawn "$dir" broker "$bin" --bootstrap-file "$dir/bootstrap" \
                --control "$dir/broker.sock" --brokers "$STACK_BROKERS" \
                --partitions "$STACK_PARTITIONS"
        pid=$(stack_pid "$dir" broker)
        stack_wait "ltrr-broker bootstrap file" "$STACK_WAIT_S" \
                test -s "$dir/bootstrap" ||
                stack_die "ltrr-broker did not start; see $dir/logs/broker.log"
        stack_env_set "$dir" LTRR_BOOTSTRAP "$(cat "$dir/bootstrap")"
        stack_env_set "$dir" LTRR_BROKER_CONTROL "$dir/broker.sock"
        stack_log "broker ready on $(cat "$dir/bootstrap") (pid $pid)"
}

stack_http_ready() {
        curl -fsS -o /dev/null --max-time 1 "$1/healthz"
}

# stack_up_daemon DIR NAME ENVKEY [ARGS...]: starts ltrr-NAME on a free port
# if it has been built, and records its base URL under ENVKEY.
stack_up_daemon() {
        local dir=$1 name=$2 envkey=$3 bin port url
        local LTRR_REDIS_ENDPOINT LTRR_BOOTSTRAP_ENDPOINT
        shift 3
        LTRR_REDIS_ENDPOINT=$(sed -n 's/^LTRR_REDIS=//p' "$dir/stack.env")
        LTRR_BOOTSTRAP_ENDPOINT=$(sed -n 's/^LTRR_BOOTSTRAP=//p' "$dir/stack.env")
        bin=$LTRR_BIN/ltrr-$name
        [ -x "$bin" ] || return 0
        port=$(stack_free_port) || stack_die "no free port"
        url="http://127.0.0.1:$port"
        # shellcheck disable=SC1091
        # stack.env names the stack's endpoints for people and scripts; the
        # daemons get them as config flags.
        # shellcheck disable=SC2046
        stack_spawn "$dir" "$name" env $(cat "$dir/stack.env") "$bin" \
                --http.port="$port" \
                ${LTRR_REDIS_ENDPOINT:+--redis.addr="$LTRR_REDIS_ENDPOINT"} \
                ${LTRR_BOOTSTRAP_ENDPOINT:+--kafka.bootstrap="$LTRR_BOOTSTRAP_ENDPOINT"} \
                "$@"
        stack_wait "ltrr-$name at $url" "$STACK_WAIT_S" stack_http_ready "$url" ||
                stack_die "ltrr-$name did not become ready; see $dir/logs/$name.log"
        stack_env_set "$dir" "$envkey" "$url"
        stack_log "$name ready at $url"
}

# Flags pointing ltrr-serve's dashboard at the daemons already up.
stack_dashboard_flags() {
        local dir=$1 key flag url
        for key in COLLECT JOIN LEARN; do
                url=$(sed -n "s/^LTRR_${key}_URL=//p" "$dir/stack.env")
                flag=$(echo "$key" | tr 'A-Z' 'a-z')
                [ -n "$url" ] && echo "--dashboard.${flag}_url=$url"
        done
}

stack_want() {
        [ -z "$STACK_ONLY" ] || [[ ",$STACK_ONLY," == *",$1,"* ]]
}

stack_up() {
        local dir=$1
        mkdir -p "$dir" || stack_die "cannot create $dir"
        dir=$(cd "$dir" && pwd)
        [ -s "$dir/pids/order" ] && stack_die "$dir already has a stack; run: $0 down $dir"
        mkdir -p "$dir/pids" "$dir/logs"
        STACK_UP_DIR=$dir
        : >"$dir/stack.env"
        stack_env_set "$dir" LTRR_STACK_DIR "$dir"
        # The development API key that ltrr-collect accepts from apps.
        stack_env_set "$dir" LTRR_API_KEY \
                "dev-$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
        stack_want redis && stack_up_redis "$dir"
        stack_want broker && stack_up_broker "$dir"
        stack_want index && stack_up_index "$dir"
        stack_want collect && stack_up_daemon "$dir" collect LTRR_COLLECT_URL
        stack_want join && stack_up_daemon "$dir" join LTRR_JOIN_URL
        stack_want learn && stack_up_daemon "$dir" learn LTRR_LEARN_URL
        # serve last: its dashboard scrapes the others' /metrics.
        stack_want serve && stack_up_daemon "$dir" serve LTRR_SERVE_URL \
                $(stack_dashboard_flags "$dir")
        STACK_UP_DIR=""
        stack_log "up: $dir/stack.env"
}

# Builds the default index from a synthetic catalog once ltrr-index exists.
stack_up_index() {
        local dir=$1
        if [ -n "$STACK_INDEX" ]; then
                stack_env_set "$dir" LTRR_INDEX "$STACK_INDEX"
                return 0
        fi
        [ -x "$LTRR_BIN/ltrr-index" ] || return 0
        # --ann adds the fuzzy arm's n-gram HNSW (about 2 s for 20k entities).
        "$LTRR_BIN/ltrr-index" build --synthetic "${STACK_SYNTHETIC:-20000}" --ann \
                --seed 1 --output "$dir/catalog.idx" >>"$dir/logs/index.log" 2>&1 ||
                stack_die "index build failed; see $dir/logs/index.log"
        stack_env_set "$dir" LTRR_INDEX "$dir/catalog.idx"
}

# Stops every recorded process, newest first: SIGTERM, then SIGKILL after
# a grace period. Processes not started by `up` are never touched.
stack_down() {
        local dir=$1 name pid i
        [ -f "$dir/pids/order" ] || { stack_log "nothing to stop in $dir"; return 0; }
        for name in $(tac "$dir/pids/order"); do
                pid=$(stack_pid "$dir" "$name") || continue
                [ -n "$pid" ] || continue
                if stack_alive "$pid"; then
                        kill -TERM "$pid" 2>/dev/null
                        for i in $(seq 1 100); do
                                stack_alive "$pid" || break
                                sleep 0.05
                        done
                        if stack_alive "$pid"; then
                                stack_log "$name (pid $pid) ignored SIGTERM; killing"
                                kill -KILL "$pid" 2>/dev/null
                        fi
                fi
                rm -f "$dir/pids/$name.pid"
        done
        rm -f "$dir/pids/order"
        stack_log "down: $dir"
}

stack_status() {
        local dir=$1 name pid
        [ -f "$dir/pids/order" ] || { echo "no stack in $dir"; return 1; }
        for name in $(cat "$dir/pids/order"); do
                pid=$(stack_pid "$dir" "$name")
                if [ -n "$pid" ] && stack_alive "$pid"; then
                        echo "$name running (pid $pid)"
                else
                        echo "$name stopped"
                fi
        done
        cat "$dir/stack.env"
}

stack_main() {
        local cmd=${1:-} dir=${2:-}
        STACK_ONLY=""
        STACK_INDEX=""
        [ -n "$cmd" ] && [ -n "$dir" ] || {
                sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
                exit 2
        }
        shift 2
        while [ $# -gt 0 ]; do
                case $1 in
                --only) STACK_ONLY=$2; shift 2 ;;
                --index) STACK_INDEX=$2; shift 2 ;;
                *) stack_die "unknown option $1" ;;
                esac
        done
        case $cmd in
        up) stack_up "$dir" ;;
        down) stack_down "$dir" ;;
        status) stack_status "$dir" ;;
        *) stack_die "unknown command $cmd (up, down, status)" ;;
        esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        stack_main "$@"
fi
