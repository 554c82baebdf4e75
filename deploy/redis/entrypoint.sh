#!/bin/sh
# Renders the Redis ACL file from users.acl.in, replacing each @USER@ with
# "#<sha256>" of the password in $REDIS_SECRETS_DIR/redis_<user>_password,
# so no password is written in clear anywhere, then runs the command.
#
#   REDIS_ACL_TEMPLATE  template (users.acl.in)
#   REDIS_ACL_FILE      file written (must match aclfile in redis.conf)
#   REDIS_SECRETS_DIR   directory of the password files (/run/secrets)
set -eu

template=${REDIS_ACL_TEMPLATE:-/usr/local/etc/redis/users.acl.in}
out=${REDIS_ACL_FILE:-/tmp/users.acl}
secrets=${REDIS_SECRETS_DIR:-/run/secrets}

die() {
        echo "redis-entrypoint: $*" >&2
        exit 1
}

# Prints "#<sha256 hex>" of the password of user $1.
hashed() {
        f=$secrets/redis_$1_password
        [ -r "$f" ] || die "missing password file $f"
        pw=$(cat "$f")
        [ "${#pw}" -ge 16 ] || die "password in $f is shorter than 16 characters"
        printf '#%s' "$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)"
}

[ -r "$template" ] || die "missing ACL template $template"
umask 077
tmp=$out.tmp
# Assignments, so that set -e stops on a bad secret (a substitution inside
# sed's arguments would not).
admin=$(hashed admin)
serve=$(hashed serve)
learn=$(hashed learn)
replica=$(hashed replica)
sed -e "s/@ADMIN@/$admin/" -e "s/@SERVE@/$serve/" \
    -e "s/@LEARN@/$learn/" -e "s/@REPLICA@/$replica/" "$template" >"$tmp"
grep -q '@[A-Z]*@' "$tmp" && die "unreplaced placeholder in $template"
# The official image drops to the redis user before starting the server.
if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then
        chown redis:redis "$tmp"
fi
mv -f "$tmp" "$out"
exec "$@"
