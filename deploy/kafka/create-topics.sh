#!/bin/bash
# Creates the ltrr topics (ARCHITECTURE §3) and checks them; idempotent.
# Runs once per `docker compose up` in the kafka-init service (the
# apache/kafka image), or by hand against any cluster:
#
#   KAFKA_BOOTSTRAP=host:9092 LTRR_PARTITIONS=12 deploy/kafka/create-topics.sh
#
#   KAFKA_BOOTSTRAP   bootstrap servers                     (kafka:9092)
#   LTRR_PARTITIONS   partitions of impressions, actions, rewards (6)
#   LTRR_REPLICATION  replication factor of every topic     (1)
#   KAFKA_TOPICS      the kafka-topics.sh program           (/opt/kafka/bin/kafka-topics.sh)
#   KAFKA_WAIT        seconds to wait for the cluster       (120)
#
# ltrr.impressions, ltrr.actions and ltrr.rewards get the same partition
# count: they are keyed by user_id, and ltrr-join relies on partition p of
# impressions and of actions holding the same users. ltrr.dlq gets one.
# An existing topic with another partition count is an error, not fixed
# here: adding partitions moves users between partitions (see
# docs/operations.md, "Changing the partition count").
set -euo pipefail

bootstrap=${KAFKA_BOOTSTRAP:-kafka:9092}
partitions=${LTRR_PARTITIONS:-6}
replication=${LTRR_REPLICATION:-1}
topics_bin=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}
wait_s=${KAFKA_WAIT:-120}

log() { printf 'create-topics: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_count() { [[ $1 =~ ^[1-9][0-9]{0,3}$ ]]; }
is_count "$partitions" || die "LTRR_PARTITIONS must be 1..9999, got '$partitions'"
is_count "$replication" || die "LTRR_REPLICATION must be 1..9999, got '$replication'"
[[ $wait_s =~ ^[0-9]+$ ]] || die "KAFKA_WAIT must be a number of seconds, got '$wait_s'"

kt() { "$topics_bin" --bootstrap-server "$bootstrap" "$@"; }

# With three or more replicas a write needs two of them (acks=all).
min_isr=1
(( replication >= 3 )) && min_isr=2

wait_cluster() {
        local deadline=$((SECONDS + wait_s))
        until kt --list >/dev/null 2>&1; do
                (( SECONDS < deadline )) || die "no Kafka at $bootstrap after ${wait_s}s"
                sleep 2
        done
}

# create TOPIC PARTITIONS RETENTION_MS
create() {
        log "topic $1: partitions $2, replication $replication"
        kt --create --if-not-exists --topic "$1" --partitions "$2" \
                --replication-factor "$replication" \
                --config "min.insync.replicas=$min_isr" \
                --config "retention.ms=$3" >/dev/null
}

# Prints the partition count of TOPIC.
partition_count() {
        local out n
        out=$(kt --describe --topic "$1") || die "cannot describe $1"
        n=$(sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' <<<"$out" | head -n 1)
        [ -n "$n" ] || die "no partition count for $1 in: $out"
        printf '%s\n' "$n"
}

wait_cluster
week=$((7 * 24 * 3600 * 1000))
for t in ltrr.impressions ltrr.actions ltrr.rewards; do
        create "$t" "$partitions" "$week"
done
create ltrr.dlq 1 $((4 * week))

bad=0
for t in ltrr.impressions ltrr.actions ltrr.rewards; do
        n=$(partition_count "$t")
        if [ "$n" != "$partitions" ]; then
                log "ERROR: $t has $n partitions, want $partitions"
                bad=1
        fi
done
n=$(partition_count ltrr.dlq)
[ "$n" = 1 ] || { log "ERROR: ltrr.dlq has $n partitions, want 1"; bad=1; }
(( bad == 0 )) || die "topics do not match the layout ltrr-join needs"
log "ok: ltrr.impressions, ltrr.actions, ltrr.rewards x $partitions partitions, ltrr.dlq x 1"
