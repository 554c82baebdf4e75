#!/usr/bin/env bash
# Runs the whole ltrr test suite on this machine, as CI does:
# installs the Debian packages it needs, builds, and runs every unit and
# integration test with ctest.
#
#   tools/test.sh [--sanitize] [--no-install] [-R REGEX]
#
#   --sanitize    also build into build-asan with AddressSanitizer and
#                 UndefinedBehaviorSanitizer and run the suite there;
#                 then build the libFuzzer targets with clang into
#                 build-fuzz and run each for LTRR_FUZZ_SECONDS (10)
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
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# Every libFuzzer target (clang, ASan + UBSan) for a bounded time each,
# through integration.fuzz; only the fuzz targets are built there.
fuzz_suite() {
        local dir=$root/build-fuzz targets=() src name
        echo "== fuzz $dir"
        for src in "$root"/tests/fuzz/fuzz_*.c; do
                name=$(basename "$src" .c)
                targets+=(--target "$name" --target "${name}_replay")
        done
        CC=clang cmake -S "$root" -B "$dir" -DLTRR_SANITIZE=ON \
                -DLTRR_FUZZ=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
                >/dev/null
        cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
        (cd "$dir" && LTRR_FUZZ_SECONDS=${LTRR_FUZZ_SECONDS:-10} \
                ctest --output-on-failure --timeout 600 -R '^integration\.fuzz$')
}

run_suite "$root/build"
if [ "$sanitize" = 1 ]; then
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
        run_suite "$root/build-asan" -DLTRR_SANITIZE=ON
        fuzz_suite
fi
echo "== all tests passed"
