#!/usr/bin/env bash
# ltrr-ope on the Open Bandit Dataset sample: for the men and women
# campaigns, (a) the uniform-random policy estimated from the Bernoulli-TS
# log and (b) the Bernoulli-TS policy (rebuilt from its published prior)
# estimated from the random log. The on-policy CTR of the other log must
# lie inside the 95% bootstrap interval of SNIPS and of DR.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

OBD=${LTRR_DATA:-$LTRR_SRC/../shared/data}/obd
PY=/usr/bin/python3
[ -d "$OBD" ] || skip "Open Bandit Dataset sample not found at $OBD"
for c in men women; do
        for f in "$OBD/random/$c/$c.csv" "$OBD/bts/$c/$c.csv" \
                 "$OBD/prior_bts_$c.tsv"; do
                [ -r "$f" ] || skip "missing $f"
        done
done
[ -x "$PY" ] || skip "$PY not found"
[ -x "$LTRR_BIN/ltrr-ope" ] || fail "ltrr-ope not built in $LTRR_BIN"

# Mean of the click column: the logging policy's on-policy CTR, computed
# independently of ltrr-ope.
ctr() {
        "$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(repr(sum(int(r["click"]) for r in rows) / len(rows)))' "$1"
}

# check NAME JSON TRUTH: asserts truth in the SNIPS and DR intervals and
# that the JSON has every estimator with a value and an ordered interval.
check() {
        "$PY" - "$1" "$2" "$3" <<'PYEOF' || fail "$1: truth outside an interval"
import json, sys
name, path, truth = sys.argv[1], sys.argv[2], float(sys.argv[3])
rep = json.load(open(path))
ok = True
for est in ("ips", "snips", "dm", "dr", "switch_dr"):
    lo, hi = rep[est]["ci"]
    assert lo <= hi, (est, lo, hi)
    inside = lo <= truth <= hi
    print("%s %-9s value=%.6f ci=[%.6f, %.6f] truth=%.6f rel_err=%.3f%s" % (
        name, est, rep[est]["value"], lo, hi, truth,
        abs(rep[est]["value"] - truth) / truth, "" if inside else " OUTSIDE"))
    if est in ("snips", "dr") and not inside:
        ok = False
sys.exit(0 if ok else 1)
PYEOF
}

for c in men women; do
        truth_random=$(ctr "$OBD/random/$c/$c.csv")
        truth_bts=$(ctr "$OBD/bts/$c/$c.csv")
        "$LTRR_BIN/ltrr-ope" obd "$OBD/bts/$c/$c.csv" --target uniform \
                --json --truth "$truth_random" >"$HARNESS_DIR/$c-uniform.json" ||
                fail "$c: ltrr-ope --target uniform failed"
        check "$c/uniform<-bts" "$HARNESS_DIR/$c-uniform.json" "$truth_random"
        "$LTRR_BIN/ltrr-ope" obd "$OBD/random/$c/$c.csv" --target bts \
                --prior "$OBD/prior_bts_$c.tsv" --json --truth "$truth_bts" \
                >"$HARNESS_DIR/$c-bts.json" ||
                fail "$c: ltrr-ope --target bts failed"
        check "$c/bts<-random" "$HARNESS_DIR/$c-bts.json" "$truth_bts"
done

# The table output names every estimator; a bad option is refused.
out=$("$LTRR_BIN/ltrr-ope" obd "$OBD/bts/men/men.csv" --target uniform \
        --bootstrap 50)
for est in ips snips dm dr switch_dr; do
        assert_contains "$out" "$est" "table output"
done
if "$LTRR_BIN/ltrr-ope" obd "$OBD/bts/men/men.csv" --target nope \
        2>/dev/null; then
        fail "unknown target accepted"
fi
harness_log "ok"
