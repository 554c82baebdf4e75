#!/usr/bin/env bash
# The lexical arm on BEIR SciFact must reach the published BM25 nDCG@10
# of 0.665 (BEIR paper, Elasticsearch BM25 over title + text).
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

tool=$LTRR_BIN/ltrr-index
data=${LTRR_DATA:-$LTRR_SRC/../shared/data}/scifact
[ -x "$tool" ] || fail "$tool not built"
for f in corpus.jsonl queries.jsonl qrels/test.tsv; do
        [ -f "$data/$f" ] || skip "SciFact data absent: $data/$f"
done

"$tool" beir "$data" --json >"$HARNESS_DIR/beir.json" \
        2>"$HARNESS_DIR/beir.log" || fail "ltrr-index beir failed"
cat "$HARNESS_DIR/beir.json" >&2
read -r queries ndcg recall < <(/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["queries"], r["ndcg@10"], r["recall@100"])' "$HARNESS_DIR/beir.json")
assert_eq "$queries" "300" "judged test queries"
/usr/bin/python3 -c "import sys; sys.exit(0 if $ndcg >= 0.665 else 1)" ||
        fail "nDCG@10 $ndcg below 0.665"
/usr/bin/python3 -c "import sys; sys.exit(0 if $recall >= 0.85 else 1)" ||
        fail "recall@100 $recall below 0.85"
harness_log "ok: nDCG@10 $ndcg recall@100 $recall"
