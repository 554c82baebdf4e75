#!/usr/bin/env bash
# bench/soak/run.sh for one minute: the whole stack under simulated load
# completes with no daemon dying, open fds and threads stay within their
# bounds and do not trend up, the sampler saw every daemon on every
# sample, and the SVG and report are written. The report's verdict logic
# is checked first on hand-made samples (a leak, a death, an fd bound).
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init
PY=/usr/bin/python3
SOAK=$LTRR_SRC/bench/soak
command -v redis-server >/dev/null || skip "redis-server not installed"
for b in ltrr-serve ltrr-collect ltrr-join ltrr-learn ltrr-index ltrr-broker ltrr-sim; do
        [ -x "$LTRR_BIN/$b" ] || skip "$b not built"
done

# --- the verdicts, on synthetic samples -------------------------------
# synth FILE FD_STEP LEARN_DIES: 13 samples 5 s apart; serve's fds grow
# by FD_STEP per sample; ltrr-learn is gone at the last sample when
# LEARN_DIES is 1.
synth() {
        $PY - "$@" <<'EOF'
import sys
path, step, dies = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
cols = ["t_s", "load1", "serve.alive", "serve.rss_kb", "serve.fds",
        "serve.threads", "learn.alive", "learn.rss_kb", "learn.fds",
        "redis.keys_no_ttl", "keys.dedup"]
with open(path, "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(13):
        alive = 0 if dies and i == 12 else 1
        row = [5 * i, 1.0, 1, 40000, 40 + step * i, 7, alive,
               11000 if alive else "", 20 if alive else "", 15, 1000 * i]
        f.write(",".join(str(v) for v in row) + "\n")
EOF
}
report() {
        $PY "$SOAK/soak.py" report --csv "$1" --md "$1.md" --svg "$1.svg" \
                --json "$1.json" --fd-bound "${2:-256}" 2>/dev/null
}
jq_py() {
        $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

synth "$HARNESS_DIR/flat.csv" 0 0
report "$HARNESS_DIR/flat.csv" && rc=0 || rc=$?
assert_eq "$rc" 0 "flat samples: exit status"
assert_eq "$(jq_py "$HARNESS_DIR/flat.csv.json" 'd["verdict"]')" flat "flat verdict"
# Keys with a TTL (dedup) grow by design: reported, not failed.
assert_eq "$(jq_py "$HARNESS_DIR/flat.csv.json" 'd["expected_growth"]')" \
        "['keys.dedup']" "dedup growth reported as bounded by design"

synth "$HARNESS_DIR/leak.csv" 2 0
report "$HARNESS_DIR/leak.csv" && rc=0 || rc=$?
assert_eq "$rc" 1 "two fds per sample: exit status"
assert_eq "$(jq_py "$HARNESS_DIR/leak.csv.json" 'd["growing"]')" "['serve.fds']" \
        "the leaking metric is named"
grep -q '| serve.fds | fds | 40 | 64 | 64 | +24 ' "$HARNESS_DIR/leak.csv.md" ||
        fail "report row for serve.fds: $(grep serve.fds "$HARNESS_DIR/leak.csv.md")"

synth "$HARNESS_DIR/bound.csv" 0 0
report "$HARNESS_DIR/bound.csv" 32 && rc=0 || rc=$?
assert_eq "$rc" 1 "fds above --fd-bound: exit status"

synth "$HARNESS_DIR/dead.csv" 0 1
report "$HARNESS_DIR/dead.csv" && rc=0 || rc=$?
assert_eq "$rc" 3 "a daemon died: exit status"
assert_eq "$(jq_py "$HARNESS_DIR/dead.csv.json" 'd["died"]')" "['learn']" "dead daemon named"

"$SOAK/run.sh" --minutes x 2>/dev/null && rc=0 || rc=$?
assert_eq "$rc" 2 "bad --minutes"

# --- one minute of the whole stack ------------------------------------
# Its stack lives in $HARNESS_DIR/stack, which the harness stops on
# every exit path.
out=$HARNESS_DIR
STACK_SYNTHETIC=2000 "$SOAK/run.sh" --minutes 1 --rate 100 --users 2000 \
        --interval 5 --join-window 20s --join-horizon 10s --fd-bound 128 \
        --out "$out" "$(dirname "$LTRR_BIN")" >"$HARNESS_DIR/run.log" 2>&1 &&
        rc=0 || rc=$?
# 0: flat; 1: something grew (a minute is mostly warm-up, judged below
# only for fds and threads); 2, 3: bad options, stack failure, death.
[ "$rc" -le 1 ] || fail "run.sh exit $rc: $(tail -n 5 "$HARNESS_DIR/run.log")"
[ -e "$out/stack/pids/order" ] && fail "run.sh left its stack running"

sum=$out/summary.json
assert_eq "$(jq_py "$sum" 'd["died"]')" "[]" "no daemon died"
assert_eq "$(jq_py "$sum" 'sorted(d["fd_max"])')" \
        "['broker', 'collect', 'join', 'learn', 'redis', 'serve']" "fds sampled for every daemon"
assert_eq "$(jq_py "$sum" 'max(d["fd_max"].values()) <= 128')" True \
        "open fds within 128: $(jq_py "$sum" 'd["fd_max"]')"
assert_eq "$(jq_py "$sum" '[m for m, r in d["metrics"].items()
        if r["grows"] and m.endswith((".threads", "keys_no_ttl"))]')" "[]" \
        "threads and keys without TTL do not trend up"
assert_ge "$(jq_py "$sum" 'd["samples"]')" 13 "samples"
assert_eq "$(jq_py "$sum" 'd["searches_per_s"] >= 50')" True \
        "searches answered: $(jq_py "$sum" 'd["searches_per_s"]')/s"
# Every sample saw every daemon alive and the Redis key classes counted.
$PY - "$out/soak.csv" <<'EOF' || fail "samples incomplete"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    for d in ("serve", "collect", "join", "learn", "broker", "redis", "sim"):
        assert r[d + ".alive"] == "1", (r["t_s"], d)
    assert int(r["serve.rss_kb"]) > 0 and int(r["redis.fds"]) > 0, r["t_s"]
last = rows[-1]
assert int(last["keys.dedup"]) > 0 and int(last["keys.user_recent"]) > 0, last
assert int(last["keys.user_recent"]) <= 2000, last["keys.user_recent"]
assert float(last["learn.rewards_total"]) > 0, last["learn.rewards_total"]
# Descriptors: a client connection more or less moves them; a leak would
# keep adding over the second half.
half = len(rows) // 2
for d in ("serve", "collect", "join", "learn", "broker", "redis"):
    first = max(int(r[d + ".fds"]) for r in rows[:half])
    second = max(int(r[d + ".fds"]) for r in rows[half:])
    assert second <= first + 8, (d, first, second)
EOF
$PY -c 'import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
lines = root.findall("{http://www.w3.org/2000/svg}polyline")
assert len(lines) >= 20, len(lines)' "$out/soak.svg" || fail "soak.svg is not a plot"
grep -q '^| serve.fds | fds |' "$out/soak.md" || fail "report has no fd row"
# In a sanitizer build the daemons' exit (leak check) is part of the run.
if grep -hE 'Sanitizer|runtime error:' "$out"/stack/logs/*.log; then
        fail "sanitizer report in the daemons' logs"
fi
harness_log "ok: $(jq_py "$sum" 'd["verdict"]'), fds max $(jq_py "$sum" 'd["fd_max"]')"
