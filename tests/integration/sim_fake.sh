#!/usr/bin/env bash
# ltrr-sim end to end against a fake search and event API with a known
# ranking (sim_fake_server.py): the summary must match what the ranking
# implies, events must be well formed and tied to their impressions, the
# policy parameters must reach the server, and a seed must give the same
# queries whatever the concurrency.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
trap 'harness_log "FAIL: line $LINENO: $BASH_COMMAND"' ERR

PY=/usr/bin/python3
SIM=$LTRR_BIN/ltrr-sim
FAKE=$LTRR_SRC/tests/integration/sim_fake_server.py
[ -x "$SIM" ] || skip "ltrr-sim not built"
[ -x "$PY" ] || skip "no /usr/bin/python3"
D=$HARNESS_DIR
N=240
COMMON=(--queries $N --rate 0 --seed 7 --catalog synthetic:3000:5 --users 150)

# fake NAME MODE [TRACE]: starts a fake server, sets URL.
fake() {
        rm -f "$D/$1.port"
        harness_bg "$1" "$PY" "$FAKE" --port-file "$D/$1.port" --mode "$2" \
                ${3:+--trace "$3"} --api-key k3y
        harness_wait "$1 port" 10 test -s "$D/$1.port"
        URL=http://127.0.0.1:$(cat "$D/$1.port")
}

# json FILE EXPR: evaluates a Python expression on the JSON in FILE (as j).
json() {
        "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# approx GOT WANT WHAT: equal to 1e-6.
approx() {
        "$PY" -c 'import sys; sys.exit(abs(float(sys.argv[1])-float(sys.argv[2]))>1e-6)' "$1" "$2" ||
                fail "$3: got $1, want $2"
}

# --- bad invocations --------------------------------------------------------
rc=0; "$SIM" --queries 5 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit code without --serve"
rc=0; "$SIM" --serve http://127.0.0.1:1 --collect http://127.0.0.1:1 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit code for --collect without --api-key"
rc=0; "$SIM" --serve http://127.0.0.1:1 --catalog synthetic:x >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit code for a bad --catalog"
grep -q -- "--serve" <<<"$("$SIM" --help)" || fail "--help lists --serve"

# A server that is not there: every search fails, exit 1, errors counted.
rc=0
"$SIM" --serve http://127.0.0.1:1 --queries 5 --rate 0 --timeout 2 \
        --catalog synthetic:500:1 --json >"$D/down.json" 2>"$D/down.log" || rc=$?
assert_eq "$rc" 1 "exit code when serve is down"
assert_eq "$(json "$D/down.json" 'j["errors"]')" 5 "errors when serve is down"

# --- empty ranking: nothing to find, arm shares and candidates from debug ---
fake empty empty
"$SIM" --serve "$URL" --collect "$URL" --api-key k3y "${COMMON[@]}" \
        --trace "$D/t1.jsonl" --json >"$D/empty.json"
assert_eq "$(json "$D/empty.json" 'j["queries"]')" $N "queries answered"
assert_eq "$(json "$D/empty.json" 'j["errors"]')" 0 "errors"
approx "$(json "$D/empty.json" 'j["success_at_10"]')" 0 "success@10 of nothing"
approx "$(json "$D/empty.json" 'j["ndcg_at_10"]')" 0 "nDCG of nothing"
# Every 4th search also ran fuzzy: 60 of 240, 10 candidates per arm.
approx "$(json "$D/empty.json" 'j["arm_share"]["lexical"]')" 1 "lexical share"
approx "$(json "$D/empty.json" 'j["arm_share"]["fuzzy"]')" 0.25 "fuzzy share"
approx "$(json "$D/empty.json" 'j["mean_candidates"]')" 12.5 "mean candidates"
assert_eq "$(json "$D/empty.json" 'j["events"]["sent"]')" 0 "events with no results"
# Default width: 240 / 50 = 4 queries per point.
assert_eq "$(json "$D/empty.json" 'len(j["series"]["points"])')" 60 "time-series points"
assert_eq "$(json "$D/empty.json" 'sum(p["queries"] for p in j["series"]["points"])')" $N "series covers every query"

# The trace holds every kind of intent and every known-item form.
"$PY" - "$D/t1.jsonl" <<'EOF' || fail "intent mix in the trace"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
kinds = {r["kind"] for r in recs}
forms = {(r["kind"], r["form"]) for r in recs}
assert len(recs) == 240, len(recs)
assert kinds == {"known_item", "artist", "topical", "ambiguous", "new_release"}, kinds
for f in ("exact", "typo", "partial", "artist_word"):
    assert ("known_item", f) in forms, f
for f in ("decade", "mood", "podcast"):
    assert ("topical", f) in forms, f
assert all(r["ideal"] for r in recs), "an intent without a relevant entity"
# serve's debug.bucket and degraded flag reach the trace
assert all(r["bucket"] == len(r["q"]) for r in recs), "trace bucket"
assert all(r.get("degraded", False) == (len(r["q"]) % 2 == 1)
           for r in recs), "trace degraded flag"
assert any(r.get("degraded") for r in recs) and \
    any(not r.get("degraded") for r in recs), "both degraded and not"
EOF

# Same seed, other concurrency: the same users, queries and truths.
"$SIM" --serve "$URL" "${COMMON[@]}" --concurrency 3 --trace "$D/t2.jsonl" \
        --json >/dev/null
"$PY" - "$D/t1.jsonl" "$D/t2.jsonl" <<'EOF' || fail "same seed, same queries"
import json, sys
def load(p):
    out = {}
    for l in open(p):
        r = json.loads(l)
        r.pop("arms")
        out[r["seq"]] = r
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a == b
EOF

# --- perfect ranking: the ideal list, best first ----------------------------
fake perfect perfect "$D/t1.jsonl"
"$SIM" --serve "$URL" --collect "$URL" --api-key k3y "${COMMON[@]}" \
        --json >"$D/perfect.json"
want=$("$PY" - "$D/t1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(sum(r["ideal"][0]["grade"] >= 2 for r in recs) / len(recs))
EOF
)
approx "$(json "$D/perfect.json" 'j["success_at_1"]')" "$want" "perfect success@1"
approx "$(json "$D/perfect.json" 'j["success_at_10"]')" "$want" "perfect success@10"
approx "$(json "$D/perfect.json" 'j["ndcg_at_10"]')" 1 "perfect nDCG@10"
curl -fsS "$URL/stats" >"$D/perfect.stats"
sent=$(json "$D/perfect.json" 'j["events"]["sent"]')
assert_ge "$sent" 100 "events sent on a perfect ranking"
assert_eq "$(json "$D/perfect.json" 'j["events"]["accepted"]')" "$sent" "events accepted"
assert_eq "$(json "$D/perfect.stats" 'j["events"]')" "$sent" "events the server checked"
assert_eq "$(json "$D/perfect.stats" 'j["bad_count"]')" 0 "malformed or unattributable events"
assert_eq "$(json "$D/perfect.stats" 'j["unauthorized"]')" 0 "unauthorized posts"
assert_ge "$(json "$D/perfect.stats" 'j["types"].get("play", 0)')" 50 "plays"
assert_ge "$(json "$D/perfect.stats" 'j["types"].get("click", 0)')" 100 "clicks"

# --- shifted ranking: two misses, then the ideal list -----------------------
fake shifted shifted "$D/t1.jsonl"
"$SIM" --serve "$URL" --collect "$URL" --api-key k3y "${COMMON[@]}" \
        --json >"$D/shifted.json"
read -r s10 ndcg < <("$PY" - "$D/t1.jsonl" <<'EOF'
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def dcg(g):
    return sum((2 ** x - 1) / math.log2(i + 2) for i, x in enumerate(g[:10]))
s10 = nd = 0
for r in recs:
    ideal = [x["grade"] for x in r["ideal"]]
    shown = ([0, 0] + ideal)[:10]
    s10 += any(x >= 2 for x in shown)
    nd += dcg(shown) / dcg(ideal)
print(s10 / len(recs), nd / len(recs))
EOF
)
approx "$(json "$D/shifted.json" 'j["success_at_1"]')" 0 "shifted success@1"
approx "$(json "$D/shifted.json" 'j["success_at_10"]')" "$s10" "shifted success@10"
approx "$(json "$D/shifted.json" 'j["ndcg_at_10"]')" "$ndcg" "shifted nDCG@10"
# Fewer clicks when the good results are lower (position bias).
assert_ge "$sent" "$(json "$D/shifted.json" 'j["events"]["sent"]')" "events, perfect vs shifted"

# --- policies reach the server ----------------------------------------------
"$SIM" --serve "$URL" "${COMMON[@]}" --policy oracle --json >"$D/oracle.json"
curl -fsS "$URL/stats" >"$D/oracle.stats"
"$PY" - "$D/t1.jsonl" "$D/oracle.stats" <<'EOF' || fail "oracle arms per intent"
import json, sys
best = {json.loads(l)["seq"]: json.loads(l)["best_arms"] for l in open(sys.argv[1])}
got = {int(k): v for k, v in json.load(open(sys.argv[2]))["arms_params"].items()}
assert got == best, [(k, got.get(k), best[k]) for k in best if got.get(k) != best[k]][:5]
EOF
"$SIM" --serve "$URL" "${COMMON[@]}" --policy learned --json >/dev/null
curl -fsS "$URL/stats" >"$D/learned.stats"
assert_eq "$(json "$D/learned.stats" 'j["policies"].get("learned", 0)')" $N "policy=learned requests"

# --- the real event API accepts what the simulator posts ---------------------
if [ -x "$LTRR_BIN/ltrr-collect" ] && [ -x "$LTRR_BIN/ltrr-broker" ] &&
        command -v redis-server >/dev/null; then
        harness_stack --only redis,broker,collect
        "$SIM" --serve "$URL" --collect "$LTRR_COLLECT_URL" \
                --api-key "$LTRR_API_KEY" "${COMMON[@]}" --json >"$D/real.json"
        sent=$(json "$D/real.json" 'j["events"]["sent"]')
        assert_ge "$sent" 100 "events sent to ltrr-collect"
        assert_eq "$(json "$D/real.json" 'j["events"]["accepted"]')" "$sent" \
                "events ltrr-collect accepted"
        assert_eq "$(json "$D/real.json" 'j["events"]["failed_posts"]')" 0 \
                "posts ltrr-collect refused"
else
        harness_log "ltrr-collect not built: real event API not checked"
fi

harness_log "ok"
