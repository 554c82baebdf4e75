#!/usr/bin/env bash
# Online ranker updates end to end: serve -> collect -> join -> learn ->
# serve. A search for "Love" logs, for each of its first results, the
# ranker's feature vector and logit (Impression Result.ranker); a play on
# the result at position 3 (0-based; the one at the end when fewer) is
# posted to ltrr-collect; ltrr-join attaches the ranker examples (the
# results above it passed over, label 0, then the played one, label 1) to
# the reward; ltrr-learn adds their statistics to
# ltrr:ranker:{ranker}:online. Serving reads the statistics' count with
# the ranker version on each query and reloads them in the background:
# search A (the first after the update, the old weights) and search B
# (after the reload, seen in ltrr_serve_ranker_online_rewards) see the same
# state, so their logged vectors are equal and the logits differ by the
# online weights only: the change of each logit must be the closed form
# of the statistics in Redis (docs/RANKER.md) applied to its vector, and
# B must score the played entity higher relative to the results shown
# above it (their mean logit) than A did. (Against each one alone the
# gap need not grow: with correlated vectors one engagement can move a
# weight the played entity has less of; decisions/0034 shows why the
# mean gap grows.)
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
command -v curl >/dev/null || skip "curl not installed"
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
$PY -c 'import avro.io' 2>/dev/null || skip "python3-avro not installed"
for b in ltrr-serve ltrr-collect ltrr-join ltrr-learn ltrr-index ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built in $LTRR_BIN"
done
# One serving worker, so the search after the reload is answered by the
# worker that reloaded.
export LTRR_WINDOW=2s LTRR_IDLE=1s LTRR_LATENESS=200ms LTRR_WORKERS=1 \
        LTRR_KAFKA_X_FETCH_WAIT_MAX_MS=10 LTRR_KAFKA_X_LINGER_MS=1
harness_stack
for v in LTRR_SERVE_URL LTRR_COLLECT_URL LTRR_BOOTSTRAP; do
        [ -n "${!v:-}" ] || fail "stack.env has no $v"
done
USER_ID=u-ranker
D=$HARNESS_DIR
RK='ltrr:ranker:{ranker}:online'

search() { # QUERY -> response JSON on stdout
        curl -fsS -G "$LTRR_SERVE_URL/v1/search" --data-urlencode "q=$1" \
                -d "user=$USER_ID" -d k=10 -d arms=lexical
}
field() { # JSON EXPR (python, over `r`) -> value
        $PY -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
metric() { # NAME -> value on serve's /metrics, 0 when absent
        curl -fsS "$LTRR_SERVE_URL/metrics" |
                awk -v n="$1" '$1 == n {v = $2} END {print v + 0}'
}
# Framed records of a topic (kcat %R: 4-byte big-endian length).
consume() { # TOPIC FILE
        timeout 20 kcat -C -b "$LTRR_BOOTSTRAP" -t "$1" -e -q -f '%R%s' >"$2" ||
                fail "consume $1"
}
cat >"$D/dec.py" <<'PYEOF'
# dec.py SCHEMA FRAMED: one JSON line per record, ids in hex.
import io, json, struct, sys
import avro.io, avro.schema
schema = avro.schema.parse(open(sys.argv[1]).read())
data = open(sys.argv[2], "rb").read()
pos = 0
while pos < len(data):
    (n,) = struct.unpack(">I", data[pos:pos + 4])
    rec = data[pos + 4:pos + 4 + n]
    pos += 4 + n
    r = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(rec[10:])))
    out = {"id": r["impression_id"].hex()}
    if "results" in r:
        out["results"] = r["results"]
    else:
        out["examples"] = r["ranker_examples"]
        out["position"] = r["position"]
    print(json.dumps(out))
PYEOF
# The record of impression ID from a decoded stream.
record() { # JSONL ID
        $PY -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["id"] == sys.argv[2] and ("results" in r or r["examples"]):
        print(line.strip())' "$1" "$2" | tail -1
}

# 1. The first search; its impression logs the ranker inputs.
r1=$(search "Love") || fail "first search"
imp1=$(field "$r1" "r['impression_id']")
n=$(field "$r1" "len(r['results'])")
assert_ge "$n" 2 "results of the first search"
pos=$((n - 1 < 3 ? n - 1 : 3))
ent=$(field "$r1" "r['results'][$pos]['id']")
read -r -a above <<<"$(field "$r1" "' '.join(h['id'] for h in r['results'][:$pos])")"
harness_log "impression $imp1: playing $ent at position $pos, above: ${above[*]}"
assert_eq "$(metric ltrr_serve_ranker_online_rewards)" 0 "online count before"

# 2. The play.
body=$(printf '{"impression_id":"%s","user_id":"%s","entity_id":"%s","position":%d,"type":"play"}' \
        "$imp1" "$USER_ID" "$ent" "$pos")
code=$(curl -sS -o "$D/post.json" -w '%{http_code}' -X POST \
        "$LTRR_COLLECT_URL/v1/events" -H "Authorization: Bearer $LTRR_API_KEY" \
        -H 'Content-Type: application/json' -d "$body") || fail "POST /v1/events"
assert_eq "$code" 202 "collect status"

# 3. Learned: the statistics count one reward (no search meanwhile).
learned() { [ "$(harness_redis_cli GET "$RK:count")" = 1 ]; }
harness_wait "online ranker statistics in Redis" 30 learned
assert_eq "$(harness_redis_cli HGET "$RK" count)" 1 "rewards in the statistics hash"
nf=$(harness_redis_cli HLEN "$RK")
assert_ge "$nf" 5 "fields of the statistics hash"

# The reward carried the examples: the results above, then the played one.
consume ltrr.rewards "$D/rew.bin"
$PY "$D/dec.py" "$LTRR_SRC/schemas/Reward.avsc" "$D/rew.bin" >"$D/rew.jsonl" ||
        fail "decode rewards"
rew=$(record "$D/rew.jsonl" "$imp1")
[ -n "$rew" ] || fail "no reward with ranker examples for $imp1"
assert_eq "$(field "$rew" "[e['position'] for e in r['examples']]")" \
        "$(field "[$pos]" "list(range(r[0] + 1))")" "example positions"
assert_eq "$(field "$rew" "[e['label'] for e in r['examples']]")" \
        "$(field "[$pos]" "[0.0] * r[0] + [1.0]")" "example labels"
assert_eq "$(field "$rew" "len(r['examples'][0]['features'])")" 32 \
        "example vector length"

# 4. Search A: the first query that sees the new count; it is answered
# with the old weights while the statistics load in the background.
rA=$(search "Love") || fail "search A"
impA=$(field "$rA" "r['impression_id']")
reloaded() { [ "$(metric ltrr_serve_ranker_online_rewards)" = 1 ]; }
harness_wait "serve reloaded the online statistics" 20 reloaded
assert_ge "$(metric ltrr_serve_ranker_online_reloads_total)" 1 "online reloads"
rB=$(search "Love") || fail "search B"
impB=$(field "$rB" "r['impression_id']")

# 5. The logged inputs of A and B.
consume ltrr.impressions "$D/imp.bin"
$PY "$D/dec.py" "$LTRR_SRC/schemas/Impression.avsc" "$D/imp.bin" \
        >"$D/imp.jsonl" || fail "decode impressions"
record "$D/imp.jsonl" "$impA" >"$D/a.json"
record "$D/imp.jsonl" "$impB" >"$D/b.json"
if [ ! -s "$D/a.json" ] || [ ! -s "$D/b.json" ]; then
        fail "impressions A and B not on ltrr.impressions"
fi
harness_redis_cli HGETALL "$RK" >"$D/stats.txt"
$PY - "$D/a.json" "$D/b.json" "$D/stats.txt" "$ent" "${above[@]}" <<'PYEOF' ||
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
lines = open(sys.argv[3]).read().split("\n")
stats = dict(zip(lines[0::2], lines[1::2]))
ent, above = sys.argv[4], sys.argv[5:]
# Closed form of docs/RANKER.md with the default parameters.
alpha, beta, l1, l2 = 0.1, 1.0, 0.01, 0.1
dw = []
for i in range(32):
    z = int(stats.get("z:%d" % i, 0)) / 1e8
    n = int(stats.get("n:%d" % i, 0)) / 1e8
    dw.append(0.0 if abs(z) <= l1 else
              -(z - math.copysign(l1, z)) / ((beta + math.sqrt(n)) / alpha + l2))
def inputs(rec):
    return {r["entity_id"]: r["ranker"] for r in rec["results"] if r["ranker"]}
ia, ib = inputs(a), inputs(b)
for e in [ent] + above:
    if e not in ia or e not in ib:
        sys.exit("%s has no logged ranker input in A or B" % e)
    if ia[e]["features"] != ib[e]["features"]:
        sys.exit("%s: vectors of A and B differ" % e)
    want = sum(w * x for w, x in zip(dw, ia[e]["features"]))
    got = ib[e]["margin"] - ia[e]["margin"]
    if abs(got - want) > 1e-3 + 1e-3 * abs(want):
        sys.exit("%s: logit moved by %.6f, closed form says %.6f" % (e, got, want))
def gap(i):  # the played entity's logit minus the mean of those above
    return i[ent]["margin"] - sum(i[s]["margin"] for s in above) / len(above)
for s in above:
    print("%s vs %s: logit gap %.4f -> %.4f" % (
        ent, s, ia[ent]["margin"] - ia[s]["margin"],
        ib[ent]["margin"] - ib[s]["margin"]))
print("%s vs the mean above: %.4f -> %.4f" % (ent, gap(ia), gap(ib)))
if not gap(ib) > gap(ia) + 1e-4:
    sys.exit("the played %s did not gain on the results above it" % ent)
PYEOF
        fail "ranker scores of search B"
harness_log "ok: $nf statistics fields; serve reloaded; $ent gained on" \
        "the results above it"
