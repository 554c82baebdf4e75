#!/usr/bin/env bash
# Avro records written by ltrr are read by python3-avro and the other way
# round (tests/integration/avro_python.py). Needs no Redis or broker.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is missing"
/usr/bin/python3 -c 'import avro.io, avro.schema' 2>/dev/null ||
        skip "python3-avro is not installed (apt-get install python3-avro)"
[ -x "$LTRR_BIN/ltrr-avro" ] || fail "ltrr-avro not built in $LTRR_BIN"

/usr/bin/python3 "$LTRR_SRC/tests/integration/avro_python.py" ||
        fail "python3-avro cross-check failed"
