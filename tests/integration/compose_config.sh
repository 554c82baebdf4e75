#!/usr/bin/env bash
# The production deployment (docker-compose.yml, deploy/) is valid without
# a Docker engine:
#   - Prometheus config and alert rules pass promtool; the Grafana dashboard
#     is JSON whose every query is valid PromQL on known metric names;
#   - deploy/ltrr.ini is accepted by every daemon built;
#   - the Redis config and ACL users work on a real redis-server (AOF
#     everysec, serve read-only on ltrr:*, learn scripts, default user off);
#   - the topic script creates the layout ARCHITECTURE §3 asks for;
#   - the image's entrypoint, health check and runtime package list behave;
#   - `docker-compose config -q` accepts the stack, alone and with three
#     brokers, and the merged config has what operations.md promises.
# Skips (77) when docker-compose is not installed, after the other checks.
. "$LTRR_SRC/tests/lib/harness.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 not installed"
command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
command -v redis-server >/dev/null || skip "redis-server not installed"
harness_init
cd "$LTRR_SRC" || fail "cannot enter $LTRR_SRC"
D=$LTRR_SRC/deploy
T=$HARNESS_DIR

# ---- Prometheus and Grafana ----------------------------------------------

out=$(promtool check config "$D/prometheus/prometheus.yml" 2>&1) ||
        fail "promtool check config: $out"
assert_contains "$out" "rules found" "alert rules loaded through rule_files"
for job in ltrr-serve:8080 ltrr-collect:8081 ltrr-join:8082 ltrr-learn:8083; do
        blk=$(grep -A4 "job_name: ${job%:*}\$" "$D/prometheus/prometheus.yml") || true
        grep -q "port: ${job#*:}" <<<"$blk" || fail "prometheus does not scrape $job"
done

# Every dashboard query as a recording rule, so promtool parses its PromQL;
# the datasource of every panel and query is the provisioned one.
"$PY" - "$D/grafana/dashboards/ltrr.json" "$D/grafana/provisioning/datasources/prometheus.yml" \
        "$T/dash_rules.yml" "$T/dash_exprs.txt" <<'EOF' || fail "dashboard check failed"
import json, re, sys
dash = json.load(open(sys.argv[1]))
uid = re.search(r"^\s*uid:\s*(\S+)", open(sys.argv[2]).read(), re.M).group(1)
assert dash["uid"] and dash["title"], "dashboard needs uid and title"
exprs, ids = [], set()
for p in dash["panels"]:
    assert p["id"] not in ids, "duplicate panel id %s" % p["id"]
    ids.add(p["id"])
    if p["type"] == "row":
        continue
    assert p["datasource"]["uid"] == uid, "panel %r: datasource %r" % (p["title"], p["datasource"])
    assert p["targets"], "panel %r has no query" % p["title"]
    for t in p["targets"]:
        assert t["datasource"]["uid"] == uid, "query of %r: wrong datasource" % p["title"]
        exprs.append(t["expr"].replace("$__rate_interval", "1m"))
with open(sys.argv[3], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: dashboard:q%d\n        expr: %s\n" % (i, json.dumps(e)))
with open(sys.argv[4], "w") as f:
    f.write("\n".join(exprs) + "\n")
print("dashboard: %d panels, %d queries" % (len(dash["panels"]), len(exprs)))
EOF
n=$(wc -l <"$T/dash_exprs.txt")
assert_ge "$n" 20 "dashboard queries"
out=$(promtool check rules "$T/dash_rules.yml" 2>&1) || fail "dashboard PromQL: $out"
out=$(promtool check rules "$D/prometheus/alerts.yml" 2>&1) || fail "alert rules: $out"

# A deliberately broken query must be caught by the same check.
printf 'groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: "sum(rate(a[1m])"\n' \
        >"$T/broken.yml"
promtool check rules "$T/broken.yml" >/dev/null 2>&1 && fail "promtool accepted broken PromQL"

# Metric names: each is registered by a daemon's code (serving/dashboard.c
# only reads metrics, so it does not count). metric_names.sh checks the
# same names, and their labels, against a running stack's /metrics.
names=$(cat "$T/dash_exprs.txt" "$D/prometheus/alerts.yml" |
        grep -o 'ltrr_[a-z0-9_]*' | sed 's/_\(bucket\|sum\|count\)$//' | sort -u)
assert_ge "$(wc -w <<<"$names")" 20 "metric names in the dashboard and alerts"
unknown=""
for m in $names; do
        grep -rqs --include='*.c' --exclude=dashboard.c "\"$m\"" \
                online adapters serving producers consumers tools && continue
        unknown="$unknown $m"
done
[ -z "$unknown" ] || fail "metric names no daemon registers:$unknown"

# ---- deploy/ltrr.ini with the daemons that are built ----------------------

checked=0
for p in serve collect join learn; do
        bin=$LTRR_BIN/ltrr-$p
        [ -x "$bin" ] || { harness_log "ltrr-$p not built: ltrr.ini [$p] not checked"; continue; }
        out=$(env -u LTRR_CONFIG "$bin" --config "$D/ltrr.ini" --dump-config 2>&1) ||
                fail "ltrr-$p rejects deploy/ltrr.ini: $out"
        assert_contains "$out" "http.addr = 0.0.0.0" "ltrr-$p listens on all addresses"
        checked=$((checked + 1))
done
assert_ge "$checked" 1 "daemons that checked ltrr.ini"
if command -v kcat >/dev/null; then
        xs=()
        while IFS= read -r kv; do xs+=(-X "$kv"); done < <(
                sed -n '/^\[kafka\]/,/^\[/{/^[a-z]/{s/ *= */=/;p}}' "$D/ltrr.ini")
        assert_ge "${#xs[@]}" 2 "[kafka] properties"
        out=$(timeout 10 kcat "${xs[@]}" -b 127.0.0.1:9 -L -m 0.1 2>&1) || true
        case $out in
        *"configuration property"* | *"Invalid value"*) fail "librdkafka rejects [kafka]: $out" ;;
        esac
fi

# ---- Redis: config, ACL rendering, per-daemon rights ----------------------

mkdir -p "$T/redis/data" "$T/redis/secrets"
for u in admin serve learn replica; do
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/redis/secrets/redis_${u}_password"
done
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|^dir .*|dir $T/redis/data|" -e "s|^aclfile .*|aclfile $T/redis/users.acl|" \
    -e "s|^bind .*|bind 127.0.0.1|" -e "s|^port .*|port $port|" \
    "$D/redis/redis.conf" >"$T/redis/redis.conf"
grep -q "^port $port\$" "$T/redis/redis.conf" || fail "redis.conf has no port line"
export REDIS_ACL_TEMPLATE=$D/redis/users.acl.in REDIS_ACL_FILE=$T/redis/users.acl \
        REDIS_SECRETS_DIR=$T/redis/secrets
harness_bg redis sh "$D/redis/entrypoint.sh" redis-server "$T/redis/redis.conf"
rcli() {
        local u=$1
        shift
        REDISCLI_AUTH=$(cat "$T/redis/secrets/redis_${u}_password") \
                redis-cli --no-auth-warning --user "$u" -p "$port" "$@" 2>&1
}
redis_ready() { rcli admin ping | grep -q PONG; }
harness_wait "redis with the rendered ACL" 10 redis_ready
grep -q "$(cat "$T/redis/secrets/redis_serve_password")" "$T/redis/users.acl" &&
        fail "a password is in clear in the ACL file"
assert_eq "$(rcli admin config get appendonly | tail -n 1)" yes "AOF on"
assert_eq "$(rcli admin config get appendfsync | tail -n 1)" everysec "appendfsync"
assert_eq "$(rcli admin config get maxmemory-policy | tail -n 1)" noeviction "eviction policy"
assert_contains "$(redis-cli -p "$port" get ltrr:x 2>&1)" NOAUTH "default user off"
assert_eq "$(rcli learn hset 'ltrr:q2e:{q:x}:meta' n 1)" 1 "learn writes ltrr:*"
assert_eq "$(rcli serve hget 'ltrr:q2e:{q:x}:meta' n)" 1 "serve reads ltrr:*"
assert_contains "$(rcli serve hset 'ltrr:q2e:{q:x}:meta' n 2)" NOPERM "serve cannot write"
assert_contains "$(rcli serve get other:key)" NOPERM "serve limited to ltrr:*"
assert_contains "$(rcli serve keys '*')" NOPERM "serve cannot KEYS"
sha=$(rcli learn script load "redis.call('HINCRBY', KEYS[1], 'n', 1) return 1")
[[ $sha =~ ^[0-9a-f]{40}$ ]] || fail "learn SCRIPT LOAD: $sha"
assert_eq "$(rcli learn evalsha "$sha" 1 'ltrr:learn:{off}:g')" 1 "learn EVALSHA on ltrr:*"
assert_contains "$(rcli learn evalsha "$sha" 1 other:k)" NOPERM "learn script outside ltrr:*"
assert_contains "$(rcli learn flushall)" NOPERM "learn cannot FLUSHALL"
assert_contains "$(rcli learn config get dir)" NOPERM "learn cannot CONFIG"
assert_contains "$(rcli serve evalsha "$sha" 1 ltrr:x)" NOPERM "serve cannot run scripts"
assert_contains "$(rcli replica get ltrr:x)" NOPERM "replica user only replicates"
# A missing or short password stops the entrypoint before Redis starts.
mkdir -p "$T/redis/short"
cp "$T/redis/secrets/"* "$T/redis/short/"
printf 'short' >"$T/redis/short/redis_learn_password"
REDIS_SECRETS_DIR=$T/redis/short REDIS_ACL_FILE=$T/redis/short.acl \
        sh "$D/redis/entrypoint.sh" true 2>/dev/null && fail "short password accepted"
rm "$T/redis/short/redis_learn_password"
REDIS_SECRETS_DIR=$T/redis/short REDIS_ACL_FILE=$T/redis/short.acl \
        sh "$D/redis/entrypoint.sh" true 2>/dev/null && fail "missing password accepted"
[ -e "$T/redis/short.acl" ] && fail "ACL file written despite an error"

# ---- Kafka topics, against a stand-in kafka-topics.sh --------------------

mkdir -p "$T/kafka/state"
cat >"$T/kafka/kafka-topics.sh" <<'EOF'
#!/bin/bash
# Stand-in for kafka-topics.sh: one file per topic holding its partitions.
state=$(dirname "$0")/state
echo "$*" >>"$state/../calls.log"
topic="" parts="" op=""
while [ $# -gt 0 ]; do
        case $1 in
        --create | --describe | --list) op=$1 ;;
        --topic) topic=$2; shift ;;
        --partitions) parts=$2; shift ;;
        esac
        shift
done
case $op in
--list) ls "$state" ;;
--create) [ -e "$state/$topic" ] || echo "$parts" >"$state/$topic" ;;
--describe)
        [ -e "$state/$topic" ] || exit 1
        printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: 1\tConfigs: \n' \
                "$topic" "$(cat "$state/$topic")" ;;
esac
EOF
chmod +x "$T/kafka/kafka-topics.sh"
topics() {
        KAFKA_TOPICS=$T/kafka/kafka-topics.sh KAFKA_BOOTSTRAP=k:9092 KAFKA_WAIT=5 \
                bash "$D/kafka/create-topics.sh"
}
LTRR_PARTITIONS=12 topics 2>"$T/topics.log" || fail "create-topics: $(cat "$T/topics.log")"
for t in ltrr.impressions ltrr.actions ltrr.rewards; do
        assert_eq "$(cat "$T/kafka/state/$t")" 12 "partitions of $t"
done
assert_eq "$(cat "$T/kafka/state/ltrr.dlq")" 1 "partitions of ltrr.dlq"
grep -q -- '--if-not-exists' "$T/kafka/calls.log" || fail "topics created without --if-not-exists"
LTRR_PARTITIONS=12 topics 2>/dev/null || fail "second run is not idempotent"
# An existing topic with another count breaks co-partitioning: refused.
echo 6 >"$T/kafka/state/ltrr.actions"
LTRR_PARTITIONS=12 topics 2>"$T/topics.log" && fail "partition mismatch accepted"
assert_contains "$(cat "$T/topics.log")" "ltrr.actions has 6 partitions, want 12" "mismatch message"
LTRR_PARTITIONS=0 topics 2>/dev/null && fail "0 partitions accepted"

# ---- image scripts ---------------------------------------------------------

printf 'pw-from-secret\n' >"$T/pw"
out=$(env LTRR_REDIS_PASSWORD_FILE="$T/pw" LTRR_BOOTSTRAP_FILE=/keep sh "$D/entrypoint.sh" env)
assert_contains "$out" "LTRR_REDIS_PASSWORD=pw-from-secret" "secret file mapped"
assert_contains "$out" "LTRR_BOOTSTRAP_FILE=/keep" "a real *_FILE key left alone"
case $out in *LTRR_REDIS_PASSWORD_FILE*) fail "LTRR_REDIS_PASSWORD_FILE still set" ;; esac
env LTRR_API_KEYS_FILE="$T/none" sh "$D/entrypoint.sh" true 2>/dev/null &&
        fail "unreadable secret accepted"

SAMPLE=$LTRR_BIN/ltrr-metrics-sample
if [ -x "$SAMPLE" ]; then
        harness_bg sample "$SAMPLE" --http.port=0 --http.addr=127.0.0.1
        spid=$HARNESS_LAST_PID
        harness_wait "sample to listen" 10 grep -q 'msg=listening' "$T/sample.log"
        hport=$(sed -n 's/.*msg=listening.* port=\([0-9]*\).*/\1/p' "$T/sample.log")
        LTRR_HTTP_PORT=$hport "$D/healthcheck.sh" || fail "healthcheck on a healthy daemon"
        kill -TERM "$spid"
        wait "$spid" || true
        LTRR_HTTP_PORT=$hport "$D/healthcheck.sh" >/dev/null 2>&1 && fail "healthcheck on a stopped daemon"
fi
LTRR_HTTP_PORT=x "$D/healthcheck.sh" >/dev/null 2>&1 && fail "healthcheck with a bad port"

bins=("$LTRR_BIN"/ltrr-*)
[ -e "${bins[0]}" ] || fail "no programs in $LTRR_BIN"
pkgs=$("$D/runtime-packages.sh" "${bins[@]}") || fail "runtime-packages failed"
for p in librdkafka1 libhiredis0.14 libevent-2.1-7 libjansson4; do
        grep -qx "$p" <<<"$pkgs" || fail "runtime packages lack $p: $pkgs"
done
grep -q -- '-dev$' <<<"$pkgs" && fail "a -dev package in the runtime list: $pkgs"
"$D/runtime-packages.sh" "$D/entrypoint.sh" 2>/dev/null && fail "non-ELF input accepted"

# The image builds with the README's scripts, and ships only runtime parts.
grep -q '^RUN tools/install-deps.sh' "$D/Dockerfile" || fail "Dockerfile skips tools/install-deps.sh"
grep -q 'tools/build.sh' "$D/Dockerfile" || fail "Dockerfile skips tools/build.sh"
for dir in $(sed -n 's/^add_subdirectory(\([^/)]*\).*/\1/p' CMakeLists.txt | sort -u) schemas docs; do
        grep -q "^COPY $dir $dir\$" "$D/Dockerfile" || fail "Dockerfile does not copy $dir/"
done
# shellcheck disable=SC2016 # the Dockerfile's own ${...}, not ours
grep -q '^FROM debian:${DEBIAN_RELEASE}-slim AS runtime' "$D/Dockerfile" ||
        fail "runtime stage is not Debian slim"
grep -q '^ARG DEBIAN_RELEASE=bookworm' "$D/Dockerfile" || fail "base is not Debian 12"

# ---- docker-compose ---------------------------------------------------------

if command -v docker-compose >/dev/null; then
        COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
else
        skip "docker-compose not installed (Debian package docker-compose); other checks passed"
fi
export LTRR_PARTITIONS=6
"${COMPOSE[@]}" -f docker-compose.yml config -q 2>"$T/compose.err" ||
        fail "compose config: $(cat "$T/compose.err")"
"${COMPOSE[@]}" -f docker-compose.yml -f deploy/kafka/kafka-3.yml config -q 2>"$T/compose.err" ||
        fail "compose config with three brokers: $(cat "$T/compose.err")"
"${COMPOSE[@]}" -f docker-compose.yml config >"$T/one.yml" 2>/dev/null || fail "compose config"
"${COMPOSE[@]}" -f docker-compose.yml -f deploy/kafka/kafka-3.yml config >"$T/three.yml" 2>/dev/null ||
        fail "compose config (three brokers)"
"$PY" - "$T/one.yml" "$T/three.yml" <<'EOF' || fail "merged compose config check failed"
import sys, yaml
one, three = (yaml.safe_load(open(p)) for p in sys.argv[1:3])
s = one["services"]
ports = {"ltrr-serve": "8080", "ltrr-collect": "8081", "ltrr-join": "8082", "ltrr-learn": "8083"}
for name, port in ports.items():
    d = s[name]
    env = d["environment"]
    assert d["command"] == [name], name
    assert str(env["LTRR_HTTP_PORT"]) == port, (name, env)
    assert env["LTRR_KAFKA_BOOTSTRAP"] == "kafka:9092", (name, env)
    assert env["LTRR_REDIS_ADDR"] == "redis:6379", (name, env)
    assert env["LTRR_CONFIG"] == "/etc/ltrr/ltrr.ini", (name, env)
    assert "healthcheck" in d["healthcheck"]["test"][-1], (name, d["healthcheck"])
    assert d["restart"] == "unless-stopped", name
    assert d.get("mem_limit") and d.get("cpus"), name
    assert d["build"]["dockerfile"] == "deploy/Dockerfile", name
    assert d["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully", name
for name, user in (("ltrr-serve", "serve"), ("ltrr-learn", "learn")):
    env = s[name]["environment"]
    assert env["LTRR_REDIS_USER"] == user
    assert env["LTRR_REDIS_PASSWORD_FILE"] == "/run/secrets/redis_%s_password" % user
    assert [x["source"] for x in s[name]["secrets"]] == ["redis_%s_password" % user]
for name in ("ltrr-collect", "ltrr-join"):
    assert "LTRR_REDIS_PASSWORD_FILE" not in s[name]["environment"], name
assert s["kafka"]["image"].startswith("apache/kafka:")
k = s["kafka"]["environment"]
assert k["KAFKA_PROCESS_ROLES"] == "broker,controller" and "ZOOKEEPER" not in str(k)
assert str(k["KAFKA_NUM_PARTITIONS"]) == "6"
assert str(s["kafka-init"]["environment"]["LTRR_PARTITIONS"]) == "6"
assert s["redis"]["image"].startswith("redis:7")
for name in ("prometheus", "grafana"):
    assert "healthcheck" in s[name], name
t = three["services"]
for b in ("kafka", "kafka-2", "kafka-3"):
    assert t[b]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3, b
assert str(t["kafka-init"]["environment"]["LTRR_REPLICATION"]) == "3"
for name in ports:
    assert t[name]["environment"]["LTRR_KAFKA_BOOTSTRAP"].count(":9092") == 3, name
    assert str(t[name]["environment"]["LTRR_HTTP_PORT"]) == ports[name], name
print("compose: %d services, %d with three brokers" % (len(s), len(t)))
EOF
# Partition count from the environment reaches the broker and the topics.
LTRR_PARTITIONS=24 "${COMPOSE[@]}" -f docker-compose.yml config >"$T/p24.yml" 2>/dev/null ||
        fail "compose config with LTRR_PARTITIONS=24"
"$PY" - "$T/p24.yml" <<'EOF' || fail "LTRR_PARTITIONS does not reach kafka and kafka-init"
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["services"]
assert str(s["kafka-init"]["environment"]["LTRR_PARTITIONS"]) == "24"
assert str(s["kafka"]["environment"]["KAFKA_NUM_PARTITIONS"]) == "24"
EOF
# A broken file is rejected (the check can fail).
sed 's/^services:/servicez:/' docker-compose.yml >"$T/broken-compose.yml"
"${COMPOSE[@]}" -f "$T/broken-compose.yml" --project-directory "$LTRR_SRC" config -q \
        >/dev/null 2>&1 && fail "compose accepted an invalid file"
harness_log "ok: $n dashboard queries, $checked daemons read ltrr.ini, compose valid"
