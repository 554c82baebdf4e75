#!/bin/sh
# Entry point of the ltrr image. For each secret-bearing setting, when
# LTRR_<NAME>_FILE names a readable file and LTRR_<NAME> is unset, exports
# LTRR_<NAME> with the file's content (trailing newlines dropped), so
# secrets come from docker secrets instead of the compose file. Then runs
# the command (an ltrr program and its flags).
#
# Only the names below are mapped: other LTRR_*_FILE variables are real
# config keys (LTRR_BOOTSTRAP_FILE is broker's bootstrap.file).
set -eu

LTRR_SECRET_NAMES=${LTRR_SECRET_NAMES:-"REDIS_PASSWORD API_KEYS API_KEY KAFKA_X_SASL_PASSWORD"}

for name in $LTRR_SECRET_NAMES; do
        eval "file=\${LTRR_${name}_FILE:-}"
        eval "set_already=\${LTRR_${name}+x}"
        [ -n "$file" ] || continue
        if [ -n "$set_already" ]; then
                echo "ltrr-entrypoint: both LTRR_${name} and LTRR_${name}_FILE are set" >&2
                exit 64
        fi
        if [ ! -r "$file" ]; then
                echo "ltrr-entrypoint: LTRR_${name}_FILE: cannot read $file" >&2
                exit 66
        fi
        value=$(cat "$file")
        export "LTRR_${name}=$value"
        unset "LTRR_${name}_FILE"
done

[ "$#" -gt 0 ] || set -- ltrr-serve
exec "$@"
