#!/usr/bin/env bash
# ltrr-train-ranker on a synthetic log where the lexical arm's score of a
# result predicts its click (clicks also fall off with position):
# impressions and rewards are written as JSON lines, encoded with
# `ltrr-avro encode`, and fitted. The JSON summary has the expected join
# counts (one orphan and one replayed reward, unrewarded impressions
# left out), the fitted model beats the zero model on log loss and AUC,
# the propensities fall with position, and the written blob and text
# models load with --verify.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not found"
BIN=$LTRR_BIN/ltrr-train-ranker
[ -x "$BIN" ] || fail "ltrr-train-ranker not built in $LTRR_BIN"
[ -x "$LTRR_BIN/ltrr-avro" ] || fail "ltrr-avro not built in $LTRR_BIN"
D=$HARNESS_DIR

"$PY" - 400 7 "$D" <<'PYEOF' || fail "generator"
import json, math, random, sys
n, seed, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)
ctx = {"feature_version": 1, "features": [], "query_type": "entity",
       "hour": 1, "weekday": 2, "holiday": False, "user_segment": "new"}
imps, rews = [], []
exp = {"rewarded": 0, "positives": 0}
for i in range(n):
    iid = "%032x" % (i + 1)
    ents = ["e%d" % rng.randrange(60) for _ in range(5)]
    ents = list(dict.fromkeys(ents))
    lex = {e: rng.random() for e in ents}
    pop = {e: rng.random() for e in ents}
    order = ents[:]
    rng.shuffle(order)
    arms = [{"arm": "lexical", "ran": True, "budget": 10, "propensity": 1.0,
             "candidates": [{"entity_id": e, "score": 10 * lex[e]}
                            for e in ents]},
            {"arm": "popular", "ran": True, "budget": 10, "propensity": 1.0,
             "candidates": [{"entity_id": e, "score": pop[e]}
                            for e in ents]}]
    results = [{"entity_id": e, "position": p, "score": 1.0 - p / 10,
                "arm_mask": 3} for p, e in enumerate(order)]
    imps.append({"schema_version": 1, "event_time_ms": 1764000000000 + i,
                 "node_id": "s", "impression_id": iid, "user_id": "u",
                 "session_id": None, "query_raw": "q%d" % (i % 7),
                 "query_norm": "q%d" % (i % 7), "lang": "en", "k": 5,
                 "context": ctx, "policy": "thompson", "model_version": "1",
                 "exploration_seed": i, "mc_samples": 0, "shadow": False,
                 "total_budget": 20, "arms": arms, "results": results})
    if i % 20 == 19:
        continue  # no reward yet: not an example
    clicked = None
    for p, e in enumerate(order):
        rel = 1 / (1 + math.exp(-8 * (lex[e] - 0.7)))
        if rng.random() < rel / (p + 1):
            clicked = (p, e)
            break
    rew = {"schema_version": 1, "event_time_ms": 1764000000000 + i,
           "node_id": "j", "impression_id": iid,
           "impression_ref": {"topic": "ltrr.impressions", "partition": 0,
                              "offset": i},
           "action_ref": None, "action_id": None, "user_id": "u",
           "query_norm": "q", "outcome": "no_action", "apply_bandit": True,
           "apply_engagement": False, "action_type": None,
           "engaged_entity": None, "position": None, "value": 0.0,
           "arm_rewards": [], "context": ctx, "policy": "thompson",
           "model_version": "1", "impression_time_ms": 1764000000000 + i,
           "action_time_ms": None}
    if clicked:
        rew.update(outcome="matched", action_type="click",
                   engaged_entity=clicked[1], position=clicked[0], value=1.0)
        exp["positives"] += 1
    exp["rewarded"] += 1
    rews.append(rew)
rews.append(dict(rews[0]))  # a replay: same reward again
orphan = dict(rews[1], impression_id="%032x" % 999999)
rews.append(orphan)
exp["examples"] = sum(len(m["results"]) for m, k in
                      zip(imps, range(n)) if k % 20 != 19)
exp["dup_rewards"] = 1 if rews[0]["value"] > 0 else 0
with open(d + "/imps.jsonl", "w") as f:
    f.writelines(json.dumps(m) + "\n" for m in imps)
with open(d + "/rews.jsonl", "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rews)
json.dump(exp, open(d + "/expect.json", "w"))
PYEOF

"$LTRR_BIN/ltrr-avro" encode Impression <"$D/imps.jsonl" >"$D/imps.bin" ||
        fail "ltrr-avro encode Impression failed"
"$LTRR_BIN/ltrr-avro" encode Reward <"$D/rews.jsonl" >"$D/rews.bin" ||
        fail "ltrr-avro encode Reward failed"

rc=0; "$BIN" --impressions "$D/imps.bin" --rewards "$D/rews.bin" \
        >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit code without --output"
rc=0; "$BIN" --impressions "$D/imps.bin" --rewards "$D/rews.bin" \
        --output "$D/m" --epochs 0 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "exit code for --epochs 0"
printf '\000\000\000\003abc' >"$D/junk.bin"
"$BIN" --impressions "$D/junk.bin" --rewards "$D/rews.bin" \
        --output "$D/m" >/dev/null 2>&1 && fail "a corrupt record was accepted"

"$BIN" --impressions "$D/imps.bin" --rewards "$D/rews.bin" --epochs 5 \
        --seed 3 --output "$D/model.bin" --json >"$D/out.json" ||
        fail "ltrr-train-ranker failed"
"$PY" - "$D/out.json" "$D/expect.json" <<'PYEOF' || fail "summary check"
import json, sys
o = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
def check(ok, what):
    if not ok:
        sys.exit("%s: %s" % (what, json.dumps(o)))
check(o["impressions"] == 400, "impressions")
check(o["rewards"] == e["rewarded"] + 2, "rewards")
check(o["rewarded"] == e["rewarded"], "rewarded impressions")
check(o["orphan_rewards"] == 1, "orphan rewards")
check(o["dup_rewards"] == e["dup_rewards"], "duplicate rewards")
check(o["examples"] == e["examples"], "examples")
check(o["positives"] == e["positives"], "positives")
check(o["positives"] > 50, "enough clicks")
check(abs(o["before"]["auc"] - 0.5) < 1e-9, "zero model AUC")
check(o["after"]["auc"] > 0.7, "fitted AUC")
check(o["after"]["logloss"] < o["before"]["logloss"], "log loss improves")
p = o["propensity"]
check(p and len(p) == 5 and p[0] == 1 and p[4] < p[0], "propensities")
print("auc %.3f -> %.3f, logloss %.3f -> %.3f, prop %s" % (
    o["before"]["auc"], o["after"]["auc"], o["before"]["logloss"],
    o["after"]["logloss"], p))
PYEOF

"$BIN" --verify "$D/model.bin" >"$D/verify.txt" || fail "blob does not load"
assert_contains "$(cat "$D/verify.txt")" "ok layout" "--verify output"
"$BIN" --impressions "$D/imps.bin" --rewards "$D/rews.bin" --epochs 5 \
        --seed 3 --output "$D/model.txt" --text >"$D/out.txt" ||
        fail "ltrr-train-ranker --text failed"
grep -q "^after logloss" "$D/out.txt" || fail "no text summary"
"$BIN" --verify "$D/model.txt" >/dev/null || fail "text model does not load"
# Same seed, same data: the same weights.
h1=$(sed -n 's/.*"hash":"\([0-9a-f]*\)".*/\1/p' "$D/out.json")
h2=$(sed -n 's/^hash //p' "$D/out.txt")
assert_eq "$h1" "$h2" "weights hash for the same seed"
"$BIN" --verify "$D/junk.bin" >/dev/null 2>&1 && fail "junk verified as a model"
harness_log "ok"
