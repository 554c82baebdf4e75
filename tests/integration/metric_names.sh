#!/usr/bin/env bash
# Every metric the production Grafana dashboard, the Prometheus alert rules
# and the docs/operations.md metric table name is exported by a daemon.
#
# Starts the stack with every daemon, runs some simulated traffic, scrapes
# /metrics of ltrr-serve, ltrr-collect, ltrr-join and ltrr-learn, and
# collects the families from their `# TYPE` lines. A name used in a PromQL
# expression must be a series such a family has: `x_bucket` only for a
# histogram `x`, `x_sum`/`x_count` only for a histogram or summary, a bare
# `x` only for a counter, gauge or untyped family (a bare histogram name
# selects nothing). A label matcher `{l="v"}` or grouping `by (l)` right on
# a name must use a label that family carries (or `le` for _bucket). Every
# unknown name or label is reported before the test fails. The scrapes are
# kept under $LTRR_TEST_OUT/metric_names/.
. "$LTRR_SRC/tests/lib/harness.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 not installed"
command -v curl >/dev/null || skip "curl not installed"
for b in serve collect join learn sim index broker; do
        [ -x "$LTRR_BIN/ltrr-$b" ] || fail "$LTRR_BIN/ltrr-$b not built"
done
D=$LTRR_SRC/deploy
DASH=$D/grafana/dashboards/ltrr.json
ALERTS=$D/prometheus/alerts.yml
DOC=$LTRR_SRC/docs/operations.md
for f in "$DASH" "$ALERTS" "$DOC"; do
        [ -r "$f" ] || fail "$f missing"
done
harness_init
T=$HARNESS_DIR

# The checker: argv = exported-metrics files, then `--` and the files to
# check (*.json: dashboard targets; *.yml: rule expressions; *.md:
# backquoted names). Prints one line per problem; exit 1 if any.
cat >"$T/check.py" <<'EOF'
import json, re, sys
import yaml

args = sys.argv[1:]
sep = args.index("--")
scrapes, checked = args[:sep], args[sep + 1:]

types, labels = {}, {}
sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s")
for path in scrapes:
    for line in open(path):
        m = re.match(r"^# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
            labels.setdefault(m.group(1), set())
            continue
        m = sample.match(line)
        if not m or not m.group(3):
            continue
        names = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3))
        series = m.group(1)
        for fam in (series, re.sub(r"_(bucket|sum|count)$", "", series)):
            if fam in types:
                labels[fam].update(n for n in names if n != "le")
                break

def family(name):
    """Family and series suffix a series name belongs to, or None."""
    t = types.get(name)
    if t in ("counter", "gauge", "untyped"):
        return name, ""
    m = re.match(r"^(.*)_(bucket|sum|count)$", name)
    if m:
        base, suf = m.group(1), m.group(2)
        bt = types.get(base)
        if bt == "histogram" or (bt == "summary" and suf != "bucket"):
            return base, suf
    return None

def exprs(path):
    if path.endswith(".json"):
        for p in json.load(open(path))["panels"]:
            for t in p.get("targets", []):
                yield "panel %r" % p.get("title"), t["expr"]
    elif path.endswith((".yml", ".yaml")):
        for g in yaml.safe_load(open(path))["groups"]:
            for r in g["rules"]:
                yield "rule %s" % (r.get("alert") or r.get("record")), str(r["expr"])
    else:
        for i, line in enumerate(open(path), 1):
            for n in re.findall(r"`(ltrr_[a-z0-9_]+)`", line):
                yield "line %d" % i, n

ident = re.compile(r"\b(ltrr_[a-zA-Z0-9_]+)\b(\s*\{([^}]*)\})?")
# `sum by (l) (rate(name...` and `sum(rate(name[5m])) by (l)`.
group = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)\s*\(\s*[a-z_]*\(?\s*(ltrr_[a-zA-Z0-9_]+)")
group_after = re.compile(r"\b(ltrr_[a-zA-Z0-9_]+)\b[^()]*(?:\)\s*)+(?:by|without)\s*\(([^)]*)\)")
bad, used = [], set()
for path in checked:
    short = path.rsplit("/", 1)[-1]
    for where, e in exprs(path):
        e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)  # no label values
        for m in ident.finditer(e):
            name, sel = m.group(1), m.group(3)
            used.add(name)
            f = family(name)
            if f is None:
                if path.endswith(".md") and types.get(name) in ("histogram", "summary"):
                    continue  # the docs name a histogram by its family
                why = "a %s family" % types[name] if name in types else "not exported"
                bad.append("%s %s: %s (%s)" % (short, where, name, why))
                continue
            if sel:
                for l in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", sel):
                    if l not in labels[f[0]] and not (l == "le" and f[1] == "bucket"):
                        bad.append("%s %s: %s has no label %s" % (short, where, name, l))
        grouped = [(m.group(2), m.group(1)) for m in group.finditer(e)]
        grouped += [(m.group(1), m.group(2)) for m in group_after.finditer(e)]
        for name, ls in grouped:
            f = family(name)
            if f is None:
                continue
            for l in (x.strip() for x in ls.split(",")):
                if l and l not in labels[f[0]] and not (l == "le" and f[1] == "bucket"):
                    bad.append("%s %s: %s has no label %s" % (short, where, name, l))
for b in dict.fromkeys(bad):
    print(b)
print("checked %d names against %d families" % (len(used), len(types)), file=sys.stderr)
sys.exit(1 if bad or not used else 0)
EOF

harness_stack
"$LTRR_BIN/ltrr-sim" --serve "$LTRR_SERVE_URL" --collect "$LTRR_COLLECT_URL" \
        --api-key "$LTRR_API_KEY" --queries 300 --rate 0 --seed 7 \
        --catalog synthetic:20000:1 --concurrency 4 >"$T/sim.log" 2>&1 ||
        fail "ltrr-sim failed"
# Let join and learn consume what the simulator produced.
sleep 3

OUT=${LTRR_TEST_OUT:-$T}/metric_names
mkdir -p "$OUT" || fail "cannot create $OUT"
scrapes=()
for d in serve collect join learn; do
        var="LTRR_${d^^}_URL"
        url=${!var:-}
        [ -n "$url" ] || fail "$var missing from stack.env"
        out=$OUT/$d.metrics
        curl -sf -o "$out" "$url/metrics" || fail "GET $url/metrics"
        grep -q "^# TYPE ltrr_${d}_" "$out" || fail "$d: no ltrr_${d}_* family"
        harness_log "ltrr-$d: $(grep -c '^# TYPE' "$out") families"
        scrapes+=("$out")
done

# The checker must catch a wrong name, a bare histogram, a _bucket of a
# counter and a wrong label before its verdict on the real files counts.
cat >"$T/bad.yml" <<'EOF'
groups:
  - name: bad
    rules:
      - alert: A
        expr: sum(rate(ltrr_serve_request_duration_seconds_bucket[5m])) > 0
      - alert: B
        expr: ltrr_serve_latency_seconds > 0
      - alert: C
        expr: sum(rate(ltrr_serve_requests_total_bucket[5m])) > 0
      - alert: D
        expr: sum(rate(ltrr_serve_requests_total{status="200"}[5m])) > 0
      - alert: E
        expr: sum by (nolabel) (rate(ltrr_join_rewards_total[5m])) > 0
      - alert: F
        expr: sum by (le) (rate(ltrr_serve_latency_seconds_bucket[5m])) > 0
      - alert: G
        expr: sum(rate(ltrr_join_rewards_total[5m])) by (nolabel) > 0
      - alert: H
        expr: sum(rate(ltrr_serve_requests_total{code="a=b", nolabel="1"}[5m])) > 0
      - alert: I
        expr: sum(rate(ltrr_join_rewards_total{outcome!="late"}[5m])) by (outcome) > 0
EOF
rc=0
msg=$("$PY" "$T/check.py" "${scrapes[@]}" -- "$T/bad.yml" 2>/dev/null) || rc=$?
assert_eq "$rc" 1 "checker exit on bad rules"
assert_eq "$(grep -c . <<<"$msg")" 7 "problems found in bad rules: $msg"
assert_contains "$msg" "rule H: ltrr_serve_requests_total has no label nolabel" "label after a quoted ="
for r in A B C D E G H; do
        assert_contains "$msg" "rule $r:" "bad rule $r reported"
done
case $msg in *"rule F:"* | *"rule I:"* | *"label a"*) fail "a valid name or label reported: $msg" ;; esac

rc=0
msg=$("$PY" "$T/check.py" "${scrapes[@]}" -- "$DASH" "$ALERTS" "$DOC" 2>"$T/check.err") || rc=$?
harness_log "$(cat "$T/check.err")"
if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$msg" >&2
        fail "metric names or labels not exported by any daemon (see above)"
fi
harness_log "ok"
