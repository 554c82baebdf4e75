#!/usr/bin/env bash
# The learner's script (consumers/lua/apply.lua) called directly: the
# marks of a call (bits, duplicates within the call, bitmap bytes, TTL
# only where a bit was set) and a malformed call that must fail before
# it writes anything, so no record is marked without being applied.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
SCRIPT=${LEARN_SCRIPT:-$LTRR_SRC/consumers/lua/apply.lua}
[ -r "$SCRIPT" ] || skip "no script at $SCRIPT"
harness_stack --only redis
r() { harness_redis_cli "$@"; }

BM1='ltrr:dedup:{q:t}:a:0:0'
BM2='ltrr:dedup:{q:t}:a:1:0'
BM3='ltrr:dedup:{q:t}:a:2:0'
Z='ltrr:q2e:{q:t}'
META='ltrr:q2e:{q:t}:meta'

# q2e call: bitmaps, then zset and meta; kind, m, bitmap TTL, 2 fixed
# (ttl, max), then per record: bitmap index, bit, 2, entity, value.
# Error replies print as "(error) ..." (--no-raw).
q2e() { # q2e M BITMAP... -- RECORD_ARGS...
        local m=$1 keys=()
        shift
        while [ "$1" != -- ]; do
                keys+=("$1")
                shift
        done
        shift
        r --no-raw EVAL "$(cat "$SCRIPT")" $((m + 2)) "${keys[@]}" "$Z" \
                "$META" q "$m" 3600 2 600 100 "$@"
}

# 1. Two bitmaps; a record repeated within the call is a duplicate.
out=$(q2e 2 "$BM1" "$BM2" -- 1 0 2 e1 1.5  2 9 2 e2 2  1 0 2 e1 4 \
        1 15 2 e1 0.25 | tr '\n' ' ')
assert_eq "$out" "1) (integer) 3 2) (integer) 1 " "applied and duplicate records"
assert_eq "$(r ZSCORE "$Z" e1)" 1.75 "e1: the fresh records only"
assert_eq "$(r ZSCORE "$Z" e2)" 2 "e2"
assert_eq "$(r --no-raw GET "$BM1")" '"\x80\x01"' "bitmap 1: bits 0 and 15"
assert_eq "$(r --no-raw GET "$BM2")" '"\x00@"' "bitmap 2: bit 9"
for k in "$BM1" "$BM2"; do
        ttl=$(r TTL "$k")
        [ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] ||
                fail "TTL of $k: $ttl, want the call's 3600 s"
done

# 2. The same call again: every record a duplicate, nothing added, and
# a bitmap no bit of which was set keeps its TTL.
r EXPIRE "$BM1" 100 >/dev/null
out=$(q2e 1 "$BM1" -- 1 0 2 e1 1.5  1 15 2 e1 0.25 | tr '\n' ' ')
assert_eq "$out" "1) (integer) 0 2) (integer) 2 " "a replayed call"
assert_eq "$(r ZSCORE "$Z" e1)" 1.75 "e1 after the replay"
ttl=$(r TTL "$BM1")
[ "$ttl" -le 100 ] || fail "an all-duplicate call refreshed the TTL ($ttl)"

# 3. A record naming a bitmap beyond the call's m fails the call before
# any write: the valid record's bit is not set (it would be skipped as a
# duplicate when the call is fixed and sent again).
keys_before=$(r DBSIZE)
out=$(q2e 1 "$BM3" -- 1 3 2 e3 1  2 4 2 e3 1 2>&1)
assert_contains "$out" "(error)" "a call with bitmap index 2 of 1"
assert_eq "$(r EXISTS "$BM3")" 0 "no bitmap written by the failed call"
assert_eq "$(r DBSIZE)" "$keys_before" "no key written by the failed call"
assert_eq "$(r ZSCORE "$Z" e3)" "" "nothing applied by the failed call"

# 4. The same record in a well-formed call is applied once.
out=$(q2e 1 "$BM3" -- 1 3 2 e3 1 | tr '\n' ' ')
assert_eq "$out" "1) (integer) 1 2) (integer) 0 " "the corrected call"
assert_eq "$(r ZSCORE "$Z" e3)" 1 "e3"
harness_log "ok: marks, duplicates, TTL and a malformed call"
