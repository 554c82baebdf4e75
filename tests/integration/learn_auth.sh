#!/usr/bin/env bash
# ltrr-learn authenticates to Redis with redis.user / redis.password
# (an ACL user): wrong credentials keep it paused (/healthz 503, nothing
# written); the right ones let it apply the stream.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
command -v kcat >/dev/null || skip "kcat not installed"
[ -x "$LTRR_BIN/ltrr-learn" ] || skip "ltrr-learn not built"
harness_stack --only redis,broker
D=$HARNESS_DIR
ADMIN=adminpw
rcli() { harness_redis_cli --no-auth-warning -a "$ADMIN" "$@"; }

harness_redis_cli ACL SETUSER learner on '>s3cret' '~ltrr:*' '+@all' \
        >/dev/null || fail "ACL SETUSER"
harness_redis_cli CONFIG SET requirepass "$ADMIN" >/dev/null ||
        fail "requirepass"
[ "$(harness_redis_cli SET ltrr:probe 1 2>&1)" != OK ] ||
        fail "redis still accepts unauthenticated writes"

$PY "$LIB" gen "$D/s" 60 3 1
"$LTRR_BIN/ltrr-avro" encode Reward <"$D/s/p0.jsonl" >"$D/s/p0.bin" ||
        fail "encode"
$PY "$LIB" split "$D/s/p0.bin" "$D/s/p0"
kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p 0 "$D/s/p0"/*.bin ||
        fail "produce"
last=$(($(wc -l <"$D/s/p0.jsonl") - 1))

PORT=$(stack_free_port)
learner() { # NAME PASSWORD
        harness_bg "$1" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$LTRR_BOOTSTRAP" --http.port="$PORT" \
                --redis.user=learner --redis.password="$2" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25
        LEARN_PID=$HARNESS_LAST_PID
}

# 1. Wrong password: refused, paused, nothing written.
learner bad n0t-the-pass
harness_wait "AUTH refused" 20 grep -q 'AUTH refused' "$D/bad.log"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
assert_eq "$code" 503 "/healthz with refused credentials"
assert_eq "$(rcli DBSIZE)" 0 "keys written without authentication"
grep -q s3cret "$D/bad.log" && fail "the log shows a password"
grep -q n0t-the-pass "$D/bad.log" && fail "the log shows the given password"
kill -TERM "$LEARN_PID"; wait "$LEARN_PID" || true

# 2. The ACL user's password: the stream is applied.
learner good s3cret
caught_up() {
        [ "$(rcli HGET 'ltrr:learn:{off}:ltrr-learn' ltrr.rewards:0)" = \
                "$last" ]
}
harness_wait "learner caught up with credentials" 60 caught_up
n=$(rcli --scan --pattern 'ltrr:q2e:*' | wc -l)
assert_ge "$n" 1 "Q2E keys written by the authenticated learner"
kill -TERM "$LEARN_PID"
wait "$LEARN_PID"
assert_eq "$?" 0 "exit code after SIGTERM"
harness_log "ok: AUTH refused then accepted, $n Q2E keys"
