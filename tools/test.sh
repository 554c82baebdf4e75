#!/usr/bin/env bash
# Runs the whole ltrr test suite on this machine, as CI does:
# installs the Debian packages it needs, builds, and runs every unit and
# integration test with ctest.
#
#   tools/test.sh [--sanitize] [--no-install] [-R REGEX]
#
#   --sanitize    also build into build-asan with AddressSanitizer and
#                 UndefinedBehaviorSanitizer and run the suite there
#   --no-install  skip tools/install-deps.sh
#   -R REGEX      run only the tests whose names match (ctest -R)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
install=1
filter=()
while [ $# -gt 0 ]; do
        case $1 in
        --sanitize) sanitize=1 ;;
        --no-install) install=0 ;;
        -R) filter=(-R "$2"); shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done

[ "$install" = 1 ] && "$root/tools/install-deps.sh"

run_suite() {
        local dir=$1
        shift
        echo "== build $dir"
        "$root/tools/build.sh" "$dir" "$@"
        echo "== test $dir"
        (cd "$dir" && ctest --output-on-failure --timeout 600 -j2 "${filter[@]}")
}

run_suite "$root/build"
if [ "$sanitize" = 1 ]; then
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
        run_suite "$root/build-asan" -DLTRR_SANITIZE=ON
fi
echo "== all tests passed"
