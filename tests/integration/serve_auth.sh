#!/usr/bin/env bash
# ltrr-serve authenticates its per-worker Redis connections with
# redis.user / redis.password (an ACL user with read rights only): with
# the right credentials searches read fresh state (not degraded); with
# wrong ones they still answer, from cached state, flagged degraded, and
# the refusal is logged without the password.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
[ -x "$LTRR_BIN/ltrr-serve" ] || skip "ltrr-serve not built"
harness_stack --only redis,broker,index
[ -n "${LTRR_INDEX:-}" ] || fail "no index in the stack"

harness_redis_cli ACL SETUSER server on '>r3ad0nly' '~ltrr:*' '+@read' \
        '+ping' '+evalsha' >/dev/null || fail "ACL SETUSER"
harness_redis_cli CONFIG SET requirepass adminpw >/dev/null ||
        fail "requirepass"

# serve NAME PASSWORD: starts ltrr-serve (in this shell, so that cleanup
# stops it) and sets URL to its base URL.
serve() {
        local port
        port=$(stack_free_port)
        harness_bg "$1" "$LTRR_BIN/ltrr-serve" --http.port="$port" \
                --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP" \
                --index="$LTRR_INDEX" --redis.user=server --redis.password="$2"
        stack_wait "ltrr-serve $1" 20 stack_http_ready "http://127.0.0.1:$port" ||
                fail "ltrr-serve $1 did not start"
        URL="http://127.0.0.1:$port"
}
degraded() { # URL: prints the degraded flag of one search
        curl -fsS "$1/v1/search?q=love&user=u1" |
                /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["degraded"])'
}
# flags URL N: the degraded flags of N searches, 200 ms apart. A loaded
# machine can miss the 5 ms state deadline now and then (a degraded
# answer with good credentials), so the good server must give at least
# one fresh answer in N and the bad one none.
flags() {
        local i
        for i in $(seq 1 "$2"); do
                sleep 0.2
                degraded "$1"
        done | sort -u | tr '\n' ' '
}

serve good r3ad0nly
assert_contains "$(flags "$URL" 10)" False "a fresh search with the right credentials"
serve bad wrong-password
assert_eq "$(flags "$URL" 10)" "True " "every search with wrong credentials degraded"
grep -q 'msg="AUTH refused"' "$HARNESS_DIR/bad.log" ||
        fail "refused AUTH not logged"
grep -q "wrong-password" "$HARNESS_DIR/bad.log" "$HARNESS_DIR/good.log" &&
        fail "a password reached the log"
harness_log "ok"
