# Sourced by tools/demo.sh: one Action record through the stack. It is
# encoded with libltrr's Avro codec, produced to ltrr.actions on
# ltrr-broker, consumed back and decoded again. The demo grows as the
# daemons arrive: then the record comes from ltrr-collect instead.
demo_roundtrip() {
        local dir=$1 rec=$1/demo-action.bin out=$1/demo-action.out
        say "round trip: Avro single-object record through ltrr.actions"
        "$LTRR_BIN/ltrr-avro" encode Action <"$root/docs/examples/action.json" |
                tail -c +5 >"$rec"
        printf '  encoded %d bytes: ' "$(stat -c %s "$rec")"
        head -c 10 "$rec" | od -An -tx1 | tr -d '\n'
        echo " ..."
        kcat -b "$LTRR_BOOTSTRAP" -P -t ltrr.actions -k u42 "$rec"
        # %R frames each value with its 4-byte big-endian length, the
        # framing ltrr-avro reads.
        kcat -b "$LTRR_BOOTSTRAP" -C -t ltrr.actions -o beginning -c 1 -e \
                -q -f '%R%s' >"$out"
        echo "  consumed back and decoded:"
        "$LTRR_BIN/ltrr-avro" decode <"$out" | sed 's/^/  /'
}
