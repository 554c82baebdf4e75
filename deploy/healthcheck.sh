#!/bin/bash
# Container health check of an ltrr daemon: GET /healthz on the daemon's
# own HTTP port ($LTRR_HTTP_PORT, default 8080) must answer 200 within
# $LTRR_HEALTH_TIMEOUT seconds (default 2). Exit 0 healthy, 1 not.
# Plain bash (/dev/tcp), so the runtime image needs no HTTP client.
set -u
port=${LTRR_HTTP_PORT:-8080}
host=${LTRR_HEALTH_HOST:-127.0.0.1}
case $port in
''|*[!0-9]*) echo "healthcheck: bad LTRR_HTTP_PORT '$port'" >&2; exit 1 ;;
esac

check() {
        local status
        exec 3<>"/dev/tcp/$host/$port" || return 1
        printf 'GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' \
                "$host" >&3 || return 1
        IFS= read -r status <&3 || return 1
        exec 3<&-
        case $status in
        "HTTP/1."[01]" 200 "*) return 0 ;;
        esac
        echo "healthcheck: ${status%$'\r'}" >&2
        return 1
}

# Docker reads 0 as healthy and 1 as unhealthy (2 is reserved): a timeout
# (124) or any other failure becomes 1.
timeout "${LTRR_HEALTH_TIMEOUT:-2}" bash -c \
        "$(declare -f check); host=$host; port=$port; check" || exit 1
