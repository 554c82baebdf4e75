#!/usr/bin/env bash
# ltrr-ope rewards on a synthetic reward log with a known truth: rewards
# are written as JSON lines, encoded with `ltrr-avro encode Reward` (the
# framing kcat -f '%R%s' gives), and evaluated for three targets. The
# logged target's IPS equals the on-policy mean computed here; for every
# target the DR estimate of the total is within the width of its 95%
# interval of the truth, and the engagement-only and corrupt records are
# counted, not used.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY not found"
[ -x "$LTRR_BIN/ltrr-ope" ] || fail "ltrr-ope not built in $LTRR_BIN"
[ -x "$LTRR_BIN/ltrr-avro" ] || fail "ltrr-avro not built in $LTRR_BIN"
D=$HARNESS_DIR

# gen N SEED OUT.jsonl TRUTH.json: rewards of a logging policy whose arm
# propensities depend on a context, with the per-target truth.
"$PY" - 6000 11 "$D/rewards.jsonl" "$D/truth.json" <<'PYEOF' || fail "generator"
import json, random, sys
n, seed, out, truth_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
arms = ["lexical", "popular", "fuzzy"]
p = [[0.8, 0.3, 0.5], [0.4, 0.7, 0.2], [0.6, 0.5, 0.9]]
mu = [[0.7, 0.2, 0.4], [0.1, 0.6, 0.3], [0.5, 0.5, 0.2]]
rng = random.Random(seed)
truth = {"logged": 0.0, "uniform": 0.0, "arm:popular": 0.0}
on_policy = 0.0
with open(out, "w") as f:
    for i in range(n):
        c = rng.randrange(3)
        k = sum(p[c]) / 3
        rows = []
        for a, name in enumerate(arms):
            ran = rng.random() < p[c][a]
            r = 1.0 if ran and rng.random() < mu[c][a] else 0.0
            on_policy += r
            rows.append({"arm": name, "ran": ran, "budget": 25 if ran else 0,
                         "propensity": p[c][a], "reward": r})
            truth["logged"] += p[c][a] * mu[c][a]
            truth["uniform"] += k * mu[c][a]
            truth["arm:popular"] += mu[c][a] if name == "popular" else 0.0
        rec = {
            "schema_version": 1, "event_time_ms": 1764000000000 + i,
            "node_id": "t", "impression_id": "%032x" % (i + 1),
            "impression_ref": {"topic": "ltrr.impressions", "partition": 0,
                               "offset": i},
            "action_ref": None, "action_id": None, "user_id": "u",
            "query_norm": "q", "outcome": "no_action", "apply_bandit": True,
            "apply_engagement": False, "action_type": None,
            "engaged_entity": None, "position": None, "value": 0.0,
            "arm_rewards": rows,
            "context": {"feature_version": 1, "features": [],
                        "query_type": "entity", "hour": 1, "weekday": 2,
                        "holiday": False, "user_segment": "new"},
            "policy": "thompson", "model_version": "1",
            "impression_time_ms": 1764000000000 + i, "action_time_ms": None}
        f.write(json.dumps(rec) + "\n")
        if i % 1000 == 0:  # a later, engagement-only reward: not used
            rec["apply_bandit"] = False
            rec["outcome"] = "late"
            f.write(json.dumps(rec) + "\n")
truth = {t: v / n for t, v in truth.items()}
truth["on_policy"] = on_policy / n
json.dump(truth, open(truth_path, "w"))
PYEOF

"$LTRR_BIN/ltrr-avro" encode Reward <"$D/rewards.jsonl" >"$D/rewards.bin" ||
        fail "ltrr-avro encode Reward failed"
# One corrupt frame at the end: a length of 3 and three bytes of junk.
cp "$D/rewards.bin" "$D/bad.bin"
printf '\000\000\000\003abc' >>"$D/bad.bin"
"$LTRR_BIN/ltrr-ope" rewards "$D/bad.bin" --target logged --json \
        >/dev/null 2>&1 && fail "a corrupt record was accepted"
"$LTRR_BIN/ltrr-ope" rewards "$D/rewards.bin" --target bogus \
        >/dev/null 2>&1 && fail "an unknown target was accepted"

for t in logged uniform arm:popular; do
        "$LTRR_BIN/ltrr-ope" rewards "$D/bad.bin" --target "$t" --json \
                --max-bad 1 --bootstrap 300 >"$D/$t.json" ||
                fail "ltrr-ope rewards --target $t failed"
done
"$LTRR_BIN/ltrr-ope" rewards "$D/rewards.bin" --target uniform \
        >"$D/table.txt" || fail "table output failed"
assert_contains "$(cat "$D/table.txt")" "arm popular"

"$PY" - "$D" <<'PYEOF' || fail "estimates do not match the truth"
import json, sys
d = sys.argv[1]
truth = json.load(open(d + "/truth.json"))
ok = True
for t in ("logged", "uniform", "arm:popular"):
    rep = json.load(open("%s/%s.json" % (d, t)))
    assert rep["impressions"] == 6000, rep["impressions"]
    assert rep["skipped"] == 6 and rep["bad"] == 1, (rep["skipped"], rep["bad"])
    assert rep["records"] == 6007, rep["records"]
    assert abs(rep["total"]["on_policy"] - truth["on_policy"]) < 1e-9
    assert set(rep["arms"]) == {"lexical", "popular", "fuzzy"}
    for est in ("ips", "dm", "dr"):
        e = rep["total"][est]
        lo, hi = e["ci"]
        print("%-12s %-5s value=%.4f ci=[%.4f, %.4f] truth=%.4f" % (
            t, est, e["value"], lo, hi, truth[t]))
        assert lo <= e["value"] <= hi
    dr = rep["total"]["dr"]
    if abs(dr["value"] - truth[t]) > dr["ci"][1] - dr["ci"][0]:
        print("%s: DR too far from the truth" % t)
        ok = False
    snips = sum(rep["arms"][a]["snips"]["value"] for a in rep["arms"])
    print("%-12s snips(sum of arms)=%.4f" % (t, snips))
    if abs(snips - truth[t]) > 0.05:
        ok = False
logged = json.load(open(d + "/logged.json"))
assert abs(logged["total"]["ips"]["value"] - truth["on_policy"]) < 1e-9
assert logged["gaps"] == 0
sys.exit(0 if ok else 1)
PYEOF
harness_log "ok"
