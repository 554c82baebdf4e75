#!/usr/bin/env bash
# ltrr-serve on the stack: a search's Impression is read back from
# ltrr.impressions and checked field by field; a Q2E score written to
# Redis shows in the very next search, and in the search of a typo of
# the query (spelling correction); bad input gets 400/413; a rate
# limit gets 429.
. "$LTRR_SRC/tests/lib/harness.sh"
command -v kcat >/dev/null || skip "kcat not installed"
command -v curl >/dev/null || skip "curl not installed"
/usr/bin/python3 -c 'import avro.io' 2>/dev/null || skip "python3-avro missing"
[ -x "$LTRR_BIN/ltrr-serve" ] || skip "ltrr-serve not built"
harness_init
harness_stack --only redis,broker,index,serve
url=$LTRR_SERVE_URL

code() { curl -s -o "$HARNESS_DIR/body" -w '%{http_code}' "$@"; }

# 1. A search, and its impression read back.
curl -fsS "$url/v1/search?q=love&user=u-test&session=s1&k=5&lang=en&debug=1" \
        >"$HARNESS_DIR/resp.json" || fail "search failed"
timeout 60 kcat -b "$LTRR_BOOTSTRAP" -C -t ltrr.impressions -o beginning \
        -c 1 -f '%k\t%s' -D '' >"$HARNESS_DIR/imp.bin" 2>/dev/null ||
        fail "no impression on ltrr.impressions"
/usr/bin/python3 "$LTRR_SRC/tests/integration/serve_check.py" impression \
        "$HARNESS_DIR/resp.json" "$HARNESS_DIR/imp.bin" \
        "$LTRR_SCHEMAS/Impression.avsc" || fail "impression fields"

# 2. Q2E: the last result gets a Q2E score and moves to the top.
last=$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[-1]["id"])' "$HARNESS_DIR/resp.json")
first=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["id"])' "$HARNESS_DIR/resp.json")
[ "$last" != "$first" ] || fail "need two distinct results"
harness_redis_cli ZADD 'ltrr:q2e:{q:love}' 5 "$last" >/dev/null
top=$(curl -fsS "$url/v1/search?q=love&user=u-test&k=5" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
assert_eq "$top" "$last" "Q2E-boosted entity at position 0"

# 2b. A typo reads the Q2E memory of its spelling correction: the memory
# arm alone finds the entity users chose for "love" when asked "lvoe".
curl -fsS "$url/v1/search?q=lvoe&user=u-test&k=5&arms=memory&debug=1" \
        >"$HARNESS_DIR/typo.json" || fail "typo search failed"
got=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; print(d["debug"]["query_corrected"], r[0]["id"] if r else "-", r[0]["q2e"] > 0 if r else "-")' "$HARNESS_DIR/typo.json")
assert_eq "$got" "love $last True" "correction, its Q2E entity, pooled score"
got=$(curl -fsS "$url/v1/search?q=love&k=5&debug=1" |
        /usr/bin/python3 -c 'import json,sys; print(repr(json.load(sys.stdin)["debug"]["query_corrected"]))')
assert_eq "$got" "''" "no correction for a known word"

# 3. Bad input.
long=$(head -c 2000 /dev/zero | tr '\0' a)
for q in "" "q=" "q=$long" "q=%ff%fe" "q=love&k=0" "q=love&k=100000" \
        "q=love&k=abc" "q=love&policy=nope" "q=love&arms=nope"; do
        c=$(code "$url/v1/search?$q")
        assert_eq "$c" 400 "GET ?$q"
        grep -q '"error"' "$HARNESS_DIR/body" || fail "no JSON error for ?$q"
done
c=$(code -X POST -H 'Content-Type: text/plain' -d '{"q":"love"}' "$url/v1/search")
assert_eq "$c" 400 "unknown content type"
c=$(code -X POST -H 'Content-Type: application/json' -d '{"q":' "$url/v1/search")
assert_eq "$c" 400 "malformed JSON"
c=$(code -X POST -H 'Content-Type: application/json' -d '{"q":5}' "$url/v1/search")
assert_eq "$c" 400 "q not a string"
c=$(code -X POST -H 'Content-Type: application/json' -d '{"q":"love","k":3}' "$url/v1/search")
assert_eq "$c" 200 "POST search"
head -c 40000 /dev/zero | tr '\0' ' ' >"$HARNESS_DIR/big"
c=$(code -X POST -H 'Content-Type: application/json' --data-binary @"$HARNESS_DIR/big" "$url/v1/search")
assert_eq "$c" 413 "oversized body"
c=$(code "$url/v1/search?q=love")
assert_eq "$c" 200 "still serving after bad input"

# 4. Rate limit: a second node allowing 1 query per second per worker.
. "$LTRR_SRC/tools/stack.sh" >/dev/null 2>&1 || true
port=$(stack_free_port)
harness_bg serve2 "$LTRR_BIN/ltrr-serve" --http.port="$port" --workers=1 \
        --rate.max=1 --redis.addr="$LTRR_REDIS" --kafka.bootstrap="$LTRR_BOOTSTRAP"
harness_wait "second serve" 20 curl -fsS "http://127.0.0.1:$port/healthz"
got429=0
for i in 1 2 3 4 5; do
        c=$(code "http://127.0.0.1:$port/v1/search?q=love")
        [ "$c" = 429 ] && got429=1
done
assert_eq "$got429" 1 "429 past rate.max"
harness_log "ok"
