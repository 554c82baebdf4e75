# Sourced by tools/demo.sh: one of the impressions ltrr-serve published
# during the simulated run, read back from ltrr.impressions and decoded
# with libltrr's Avro codec — what off-policy evaluation and the joiner
# see for every query.
demo_roundtrip() {
        local dir=$1 out=$1/demo-impression.bin
        say "one impression from ltrr.impressions (Avro single-object)"
        # %R frames each value with its 4-byte big-endian length, the
        # framing ltrr-avro reads.
        kcat -b "$LTRR_BOOTSTRAP" -C -t ltrr.impressions -p 0 -o beginning \
                -c 1 -e -q -f '%R%s' >"$out"
        "$LTRR_BIN/ltrr-avro" decode <"$out" | /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
print("  query %r  user %s  policy %s  model %s" % (r["query_raw"],
      r["user_id"], r["policy"], r["model_version"]))
for a in r["arms"]:
    print("    %-10s ran=%-5s budget=%3d  P(run)=%.3f  candidates=%d" % (
          a["arm"], a["ran"], a["budget"], a["propensity"], len(a["candidates"])))
print("  results: " + ", ".join(x["entity_id"] for x in r["results"][:5]) + " ...")'
}
