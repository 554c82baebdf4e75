#!/usr/bin/env bash
# Installs every Debian package ltrr needs to build, test, benchmark and run
# its demo. Idempotent: packages already present are skipped by apt-get.
# Runs as root, or through sudo when it is available.
set -euo pipefail

PACKAGES=(
        # toolchain
        build-essential cmake pkg-config clang libclang-rt-14-dev
        # libraries
        librdkafka-dev libhiredis-dev libavro-dev libevent-dev libcmocka-dev
        libjansson-dev libutf8proc-dev libstemmer-dev libinih-dev
        liblapacke-dev libopenblas-dev libssl-dev
        # servers and tools used by the demo, tests and benchmarks
        redis-server redis-tools kcat prometheus python3 python3-avro
        curl wrk procps iproute2
        # validates the production docker-compose.yml
        docker-compose
        # the dashboard's browser test (playwright-core comes from npm)
        chromium nodejs
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "install-deps: need root or sudo" >&2; exit 1; }
        SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm ships inside some nodejs builds and as its own package in Debian's.
if ! command -v npm >/dev/null; then
        missing+=(npm)
fi

if [ "${#missing[@]}" -eq 0 ]; then
        echo "install-deps: all ${#PACKAGES[@]} packages present"
        exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
# The packaged redis-server starts a system instance; ltrr runs its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
        $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
