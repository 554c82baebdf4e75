#!/usr/bin/env bash
# ltrr-index end to end: build a 20k synthetic index, inspect and verify
# it, find a known entity by its name and artist, and refuse the file
# once a byte of its postings is changed.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

tool=$LTRR_BIN/ltrr-index
py=/usr/bin/python3
[ -x "$tool" ] || fail "$tool not built"
ix=$HARNESS_DIR/synth.idx

"$tool" build --synthetic 20000 --seed 7 --output "$ix" \
        2>"$HARNESS_DIR/build.log" || fail "build failed"
assert_contains "$(cat "$HARNESS_DIR/build.log")" "entities=20000" "build log"
# progress goes to a terminal only, never into a log
if grep -q "analyze" "$HARNESS_DIR/build.log"; then
        fail "progress written to a non-terminal"
fi

info=$("$tool" info "$ix") || fail "info failed"
assert_contains "$info" "entities 20000" "info entities"
assert_contains "$info" "checksums ok" "info checksums"
assert_contains "$info" "section postings" "info sections"
"$tool" info "$ix" --json >"$HARNESS_DIR/info.json" || fail "info --json"
"$tool" verify "$ix" >"$HARNESS_DIR/verify.out" 2>&1 || fail "verify failed"

# a known entity: the first result for "love", searched by name + artists
"$tool" search "$ix" "love" -k 1 --json >"$HARNESS_DIR/first.json" ||
        fail "search failed"
read -r id query < <($py -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(r["id"], r["name"], r["artists"].replace(",", " "))' "$HARNESS_DIR/first.json")
[ -n "$id" ] || fail "no result for love"
"$tool" search "$ix" "$query" -k 5 --json >"$HARNESS_DIR/known.json" ||
        fail "search for the known entity failed"
# the catalog holds same-named tracks by one artist (other albums): the
# entity must be in the top 5 and the first result must carry its name
got=$($py -c '
import json, sys
first = json.load(open(sys.argv[1]))["results"][0]
r = json.load(open(sys.argv[2]))["results"]
ids = [x["id"] for x in r]
print(sys.argv[3] in ids, r[0]["name"] == first["name"],
      r[0]["artists"] == first["artists"],
      "lexical" in r[0]["arms"].split("+"), len(r))' \
        "$HARNESS_DIR/first.json" "$HARNESS_DIR/known.json" "$id")
assert_eq "$got" "True True True True 5" \
        "known entity in top 5, same name first, found by lexical, k"
text=$("$tool" search "$ix" "$query" -k 3 --arm lexical) || fail "text search"
assert_contains "$text" "$id" "text output"
assert_eq "$(printf '%s\n' "$text" | wc -l)" "3" "text output has k lines"

# usage errors exit 2
set +e
"$tool" search "$ix" "x" --arm nosuch >/dev/null 2>&1; rc=$?
assert_eq "$rc" "2" "unknown arm"
"$tool" search "$ix" "x" -k 0 >/dev/null 2>&1; rc=$?
assert_eq "$rc" "2" "k 0"
"$tool" build --output "$ix.none" >/dev/null 2>&1; rc=$?
assert_eq "$rc" "2" "build without a source"
set -e

# change one byte in the middle of the postings section
off=$($py -c '
import json, sys
s = [s for s in json.load(open(sys.argv[1]))["sections"]
     if s["name"] == "postings"][0]
print(s["offset"] + s["length"] // 2)' "$HARNESS_DIR/info.json")
byte=$(od -An -tu1 -j "$off" -N1 "$ix" | tr -d ' ')
printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" |
        dd of="$ix" bs=1 seek="$off" conv=notrunc status=none
set +e
"$tool" verify "$ix" >"$HARNESS_DIR/corrupt.out" 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "verify accepted a corrupt file"
assert_contains "$(cat "$HARNESS_DIR/corrupt.out")" \
        "section 7 ('postings') checksum mismatch" "corrupt message"

# a foreign file is refused by every command
echo "this is not an index" >"$HARNESS_DIR/foreign.idx"
set +e
"$tool" info "$HARNESS_DIR/foreign.idx" >"$HARNESS_DIR/foreign.out" 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "info accepted a foreign file"
assert_contains "$(cat "$HARNESS_DIR/foreign.out")" "shorter than the index header" \
        "foreign message"
harness_log "ok"
