#!/usr/bin/env bash
# Every program in build/bin answers --help with its usage on stdout and
# exit 0, and refuses an unknown option with exit 2 and a message.
. "$LTRR_SRC/tests/lib/harness.sh"
harness_init

n=0
for prog in "$LTRR_BIN"/ltrr-*; do
        name=$(basename "$prog")
        rc=0; out=$(timeout 10 "$prog" --help 2>/dev/null) || rc=$?
        assert_eq "$rc" 0 "$name --help exit code"
        # A here-string, not a pipe: grep -q stops at the first match and,
        # under pipefail, a writer still writing a long help gets SIGPIPE.
        grep -qi "usage" <<<"$out" || fail "$name --help prints no usage"
        rc=0; err=$(timeout 10 "$prog" --no-such-option-xyz 2>&1 >/dev/null) || rc=$?
        assert_eq "$rc" 2 "$name exit code for an unknown option"
        [ -n "$err" ] || fail "$name says nothing about an unknown option"
        n=$((n + 1))
done
assert_ge "$n" 6 "programs checked"
harness_log "ok ($n programs)"
