#!/bin/sh
# Creates the secret files docker-compose.yml reads, with random values,
# in deploy/secrets/ (or $1). Existing files are kept, so it is safe to run
# again; delete a file and run it to rotate that secret (see
# docs/operations.md, "Secrets").
#
# The directory is 0700, so on the host only its owner reads the secrets;
# the files are 0644 because compose bind-mounts them as they are, and the
# containers run as unprivileged users (ltrr 10001, grafana 472).
set -eu
dir=${1:-$(cd "$(dirname "$0")" && pwd)/secrets}
mkdir -p "$dir"
chmod 0700 "$dir"

random() {
        head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

put() {
        [ -s "$dir/$1" ] && { echo "make-secrets: kept $1"; return 0; }
        (umask 022; printf '%s' "$2" >"$dir/$1.tmp")
        mv "$dir/$1.tmp" "$dir/$1"
        echo "make-secrets: wrote $1"
}

for user in admin serve learn replica; do
        put "redis_${user}_password" "$(random)"
done
put grafana_admin_password "$(random)"

# ltrr-collect's API keys: app_id:sha256(key)[:rate]. One key for app
# "web" is generated; its plain value is printed once and not stored.
if [ ! -s "$dir/collect_api_keys" ]; then
        key=$(random)
        hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
        put collect_api_keys "web:$hash"
        echo "make-secrets: API key of app \"web\" (give it to the app): $key"
fi
