#!/usr/bin/env bash
# End to end through the whole loop: serve -> collect -> join -> learn ->
# serve. A search for "Love" is answered by ltrr-serve (its impression goes
# to ltrr.impressions); a play on one of its results is posted to
# ltrr-collect with the impression id; ltrr-join emits the reward on that
# first action; ltrr-learn applies it. Within a bounded wait the played
# entity's Q2E sum for the normalized query ("love") must have risen by the
# play's value in Redis (online/q2e.h layout), and the next search for the
# same normalized query, spelt differently, must rank the entity with a
# higher score than before the play (the ranker's q2e feature reads the
# Q2E state in the same request). Both searches run the lexical arm alone,
# so the candidate set is the same and only the fresh state differs.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
command -v curl >/dev/null || skip "curl not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
$PY -c 'import json' 2>/dev/null || skip "/usr/bin/python3 missing"
for b in ltrr-serve ltrr-collect ltrr-join ltrr-learn ltrr-index ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built in $LTRR_BIN"
done
# Daemon settings go through the environment (every config key has its
# LTRR_<KEY> variable; programs ignore the keys they do not have): a short
# join window, and consumers that do not wait long on empty fetches.
export LTRR_WINDOW=2s LTRR_IDLE=1s LTRR_LATENESS=200ms \
        LTRR_KAFKA_X_FETCH_WAIT_MAX_MS=10 LTRR_KAFKA_X_LINGER_MS=1
harness_stack
for v in LTRR_SERVE_URL LTRR_COLLECT_URL LTRR_JOIN_URL LTRR_LEARN_URL; do
        [ -n "${!v:-}" ] || fail "stack.env has no $v"
done
USER_ID=u-e2e

search() { # QUERY EXTRA -> response JSON on stdout
        curl -fsS -G "$LTRR_SERVE_URL/v1/search" --data-urlencode "q=$1" \
                -d "user=$USER_ID" -d k=10 -d debug=1 ${2:+-d "$2"}
}
field() { # JSON EXPR (python, over `r`) -> value
        $PY -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
q2e_key() { # NORMALIZED QUERY -> the Q2E sorted set key (online/q2e.h)
        $PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import learnlib
print("ltrr:q2e:{q:%s}" % learnlib.esc(sys.argv[2]))' \
                "$LTRR_SRC/bench/learn" "$1"
}
zscore() { # ENTITY -> its Q2E sum, 0 when absent
        local v
        v=$(harness_redis_cli ZSCORE "$KEY" "$1")
        echo "${v:-0}"
}
raised() { # ENTITY BEFORE
        $PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' \
                "$(zscore "$1")" "$2"
}
score_of() { # RESPONSE ENTITY -> score of ENTITY in the response, or -
        field "$1" "next((repr(h['score']) for h in r['results'] if h['id'] == '$2'), '-')"
}

# 1. The first search: an impression with results.
r1=$(search "Love" "arms=lexical") || fail "first search"
norm=$(field "$r1" "r['debug']['query_norm']")
assert_eq "$norm" "love" "normalized query"
imp=$(field "$r1" "r['impression_id']")
n=$(field "$r1" "len(r['results'])")
assert_ge "$n" 2 "results of the first search"
# The played entity: the last result, so the raise is not the top one's.
pos=$((n - 1))
ent=$(field "$r1" "r['results'][$pos]['id']")
KEY=$(q2e_key "$norm")
before=$(zscore "$ent")
mem_before=$(score_of "$r1" "$ent")
harness_log "impression $imp: playing $ent at position $pos; Q2E sum" \
        "$before, score $mem_before"

# 2. The play, posted to ltrr-collect with the impression id.
body=$(printf '{"impression_id":"%s","user_id":"%s","entity_id":"%s","position":%d,"type":"play"}' \
        "$imp" "$USER_ID" "$ent" "$pos")
code=$(curl -sS -o "$HARNESS_DIR/post.json" -w '%{http_code}' -X POST \
        "$LTRR_COLLECT_URL/v1/events" -H "Authorization: Bearer $LTRR_API_KEY" \
        -H 'Content-Type: application/json' -d "$body") || fail "POST /v1/events"
assert_eq "$code" 202 "collect status"
assert_eq "$(field "$(cat "$HARNESS_DIR/post.json")" "r['accepted']")" 1 "events accepted"
t0=$(date +%s%N)

# 3. Its effect in Redis, within a bounded wait.
harness_wait "Q2E of $ent for '$norm' raised" 30 raised "$ent" "$before"
ms=$((($(date +%s%N) - t0) / 1000000))
after=$(zscore "$ent")
# A play is worth 3 (join value.play); nothing else engaged with it.
$PY -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2]) - 3) < 1e-9 else 1)' \
        "$after" "$before" || fail "Q2E sum went from $before to $after, want +3"
meta=$(harness_redis_cli HGET "$KEY:meta" n)
assert_ge "${meta%.*}" 1 "impressions of '$norm' in the Q2E meta"

# 4. The next search for the same normalized query, spelt differently.
r2=$(search "  LOVE " "arms=lexical") || fail "search after"
assert_eq "$(field "$r2" "r['debug']['query_norm']")" "$norm" "normalized query of the second search"
mem_after=$(score_of "$r2" "$ent")
[ "$mem_after" != - ] || fail "$ent not in the results after the play: $r2"
$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' \
        "$mem_after" "$mem_before" ||
        fail "score of $ent not raised: $mem_before -> $mem_after"
rank_after=$(field "$r2" "[h['id'] for h in r['results']].index('$ent')")
[ "$rank_after" -lt "$pos" ] || fail "$ent did not move up from position $pos (now $rank_after)"
# debug=1 shows the Q2E score each result was ranked with: the played
# entity's is positive, an entity nobody engaged with has 0.
q2e_after=$(field "$r2" "next(h['q2e'] for h in r['results'] if h['id'] == '$ent')")
$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$q2e_after" ||
        fail "q2e of $ent in the debug results is $q2e_after, want > 0"
assert_eq "$(field "$r2" "all('q2e' in h for h in r['results'])")" True \
        "every debug result carries q2e"
assert_eq "$(field "$r1" "sum(h['q2e'] > 0 for h in r['results'])")" 0 \
        "q2e of the results before any engagement"

# 5. The memory arm alone reads the observed Q2E state of the query: the
# played entity is among its results (before the fix it served predicted
# scores only).
r4=$(search "love" "arms=memory") || fail "memory arm search"
assert_eq "$(field "$r4" "'$ent' in [h['id'] for h in r['results']]")" True \
        "played entity $ent in the memory arm's results: $r4"
assert_eq "$(field "$r4" "next(h['arms'] for h in r['results'] if h['id'] == '$ent')")" \
        "['memory']" "arms of $ent in the memory search"
# The learned policy's search for the same query still answers, not degraded.
r3=$(search "love") || fail "search after the play"
assert_eq "$(field "$r3" "r['degraded']")" False "degraded flag"
harness_log "ok: Q2E sum $before -> $after in $ms ms after 202; score" \
        "$mem_before -> $mem_after, position $pos -> $rank_after"
