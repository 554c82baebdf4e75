#!/usr/bin/env bash
# ltrr-serve under faults, each with a bounded request loop counting
# non-200 answers:
#  1. Redis killed mid-load: no client errors, degraded answers, and
#     fresh (not degraded) answers again once Redis is back.
#  2. Redis slow (DEBUG SLEEP on the state connection's server): the
#     state wait times out, answers are degraded, and quick.
#  3. Broker down (ltrr-broker fault injection): search still answers,
#     impressions are counted as dropped in /metrics.
#  4. SIGHUP with a new index file under load: no failed request, the
#     new entities are found after.
#  5. SIGTERM with queries in flight: they complete (200), exit 0.
. "$LTRR_SRC/tests/lib/harness.sh"
command -v curl >/dev/null || skip "curl not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
[ -x "$LTRR_BIN/ltrr-serve" ] || skip "ltrr-serve not built"
harness_init
harness_stack --only redis,broker,index
. "$LTRR_SRC/tools/stack.sh" >/dev/null 2>&1 || true
D=$HARNESS_DIR
rport=${LTRR_REDIS##*:}

# Restarts Redis on its port, with DEBUG allowed (for the slow case).
redis_start() {
        harness_bg "redis-$1" redis-server --port "$rport" --bind 127.0.0.1 \
                --dir "$D" --save '' --appendonly no --daemonize no \
                --enable-debug-command yes
        REDIS_PID=$HARNESS_LAST_PID
        harness_wait "redis restart" 20 harness_redis_cli ping
}

# serve_start NAME ARGS...: a serve node on a free port (retried on a
# lost race for the port); sets URL and SERVE_PID.
serve_start() {
        local name=$1 try port
        shift
        for try in 1 2 3; do
                port=$(stack_free_port)
                harness_bg "$name" "$LTRR_BIN/ltrr-serve" --http.port="$port" \
                        --redis.addr="$LTRR_REDIS" --index="$D/serve.idx" \
                        --kafka.bootstrap="$LTRR_BOOTSTRAP" "$@"
                SERVE_PID=$HARNESS_LAST_PID
                URL="http://127.0.0.1:$port"
                for _ in $(seq 1 200); do
                        curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && return 0
                        kill -0 "$SERVE_PID" 2>/dev/null || break
                        sleep 0.05
                done
        done
        fail "ltrr-serve $name did not start"
}

# load FILE N QUERY: N sequential searches; one "code degraded" line each.
load() {
        local i out
        : >"$1"
        for i in $(seq 1 "$2"); do
                out=$(curl -s --max-time 5 -w '\n%{http_code}' "$URL/v1/search?$3" || true)
                printf '%s %s\n' "${out##*$'\n'}" \
                        "$(case $out in *'"degraded":true'*) echo 1 ;; *) echo 0 ;; esac)" >>"$1"
        done
}
non200() { awk '$1 != 200' "$1" | wc -l; }
degraded() { awk '$2 == 1' "$1" | wc -l; }
metric() {
        curl -fsS "$URL/metrics" | awk -v m="$1" '$1 == m {print int($2)}'
}

cp "$LTRR_INDEX" "$D/serve.idx"
serve_start serve --workers=2 --state.timeout=20ms -X message.timeout.ms=2000

# 1. Redis killed mid-load, then restarted.
load "$D/l1" 300 'q=love&user=u1' &
lp=$!
sleep 1
kill -KILL "$(cat "$LTRR_STACK_DIR/pids/redis.pid")"
sleep 1
redis_start 1
wait "$lp"
assert_eq "$(non200 "$D/l1")" 0 "non-200 answers while Redis died"
assert_ge "$(degraded "$D/l1")" 1 "degraded answers while Redis was down"
recovered() {
        curl -fsS "$URL/v1/search?q=love" | grep -q '"degraded":false'
}
harness_wait "fresh answers after the Redis restart" 10 recovered
harness_log "redis kill: $(wc -l <"$D/l1") requests, $(degraded "$D/l1") degraded, 0 errors"

# 2. Redis slow: every command waits 50 ms, the state wait is 20 ms.
harness_redis_cli -r 40 DEBUG SLEEP 0.05 >/dev/null &
sp=$!
sleep 0.1
load "$D/l2" 20 'q=love'
wait "$sp"
assert_eq "$(non200 "$D/l2")" 0 "non-200 answers while Redis was slow"
assert_ge "$(degraded "$D/l2")" 1 "degraded answers while Redis was slow"
assert_ge "$(metric ltrr_serve_redis_errors_total)" 1 "state timeouts counted"
harness_wait "fresh answers after the slow spell" 10 recovered

# 3. Broker down: impressions fail delivery (message.timeout 2 s).
drop0=$(metric ltrr_serve_impressions_dropped_total)
"$LTRR_BIN/ltrr-broker" --control "$LTRR_BROKER_CONTROL" --send 'broker down 1' \
        >/dev/null || fail "broker down"
load "$D/l3" 30 'q=love'
assert_eq "$(non200 "$D/l3")" 0 "non-200 answers while the broker was down"
dropped_more() { [ "$(metric ltrr_serve_impressions_dropped_total)" -gt "$drop0" ]; }
harness_wait "impressions counted as dropped" 30 dropped_more
"$LTRR_BIN/ltrr-broker" --control "$LTRR_BROKER_CONTROL" --send 'broker up 1' \
        >/dev/null || fail "broker up"
harness_log "broker down: dropped $drop0 -> $(metric ltrr_serve_impressions_dropped_total)"

# 4. SIGHUP: a new index under load.
printf '%s\n' '{"id":"new-1","type":"track","name":"Zyzzyva Quokka","artists":["Zed"]}' \
        '{"id":"old-1","type":"track","name":"Love Song","artists":["Ann"]}' >"$D/new.jsonl"
"$LTRR_BIN/ltrr-index" build --jsonl "$D/new.jsonl" --output "$D/new.idx" \
        >/dev/null 2>&1 || fail "index build"
curl -fsS "$URL/v1/search?q=zyzzyva" | grep -q new-1 && fail "new-1 before reload"
load "$D/l4" 200 'q=love' &
lp=$!
sleep 0.5
mv "$D/new.idx" "$D/serve.idx"
kill -HUP "$SERVE_PID"
wait "$lp"
assert_eq "$(non200 "$D/l4")" 0 "non-200 answers during the index swap"
harness_wait "index reloaded" 10 sh -c "curl -fsS '$URL/metrics' | grep -q '^ltrr_serve_index_reloads_total 1'"
curl -fsS "$URL/v1/search?q=zyzzyva" | grep -q '"id":"new-1"' ||
        fail "new entity not found after SIGHUP"

# 5. SIGTERM drains: queries wait 2 s for a sleeping Redis, then finish.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "first serve exit code"
serve_start drain --workers=1 --state.timeout=3s
harness_redis_cli DEBUG SLEEP 1.5 >/dev/null &
sp=$!
sleep 0.2
for i in 1 2 3 4; do
        curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' \
                "$URL/v1/search?q=love" >"$D/drain.$i" &
        eval "cp$i=\$!"
done
sleep 0.3
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
assert_eq "$rc" 0 "serve exit code after SIGTERM"
for i in 1 2 3 4; do
        eval "wait \$cp$i" || true
        assert_eq "$(cat "$D/drain.$i")" 200 "in-flight query $i"
done
wait "$sp" || true
grep -q 'msg=draining' "$D/drain.log" || fail "no drain logged"
harness_log "ok"
