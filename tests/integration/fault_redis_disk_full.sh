#!/usr/bin/env bash
# Disk full for the Redis AOF under ltrr-learn. Redis keeps its AOF on a
# small tmpfs. The learner applies the first part of a reward stream;
# then the tmpfs is filled, so Redis's next AOF write fails and Redis
# refuses writes (MISCONF); the rest of the stream is produced. While
# the disk is full:
#  - the learner's stored offsets (in Redis) do not move: no offset is
#    stored for a reward whose effects were refused;
#  - the learner notices (logs the refused batch or write probe) and
#    stays paused: Redis counts as up for it only once a write went
#    through (its heartbeat key, SET ... PX), so /healthz answers 503
#    while writes are refused, although connecting, loading the script
#    and reading the stored offsets still work. /healthz is sampled
#    every 10 ms for 2 s; at least 90 % of the samples must be 503
#    (FAULT_STRICT_HEALTH=0 only reports the share).
# The filler is removed; Redis writes its AOF again and the learner
# catches up. The final state (every key and value, offsets excepted)
# must equal an undisturbed run's over the same stream (on a second
# Redis, not on the tmpfs), and the AOF on the tmpfs, loaded by a fresh
# Redis, must hold the same state (nothing acknowledged lost).
# Needs root for mount(2); skipped (exit 77) when mounting fails.
. "$LTRR_SRC/tests/lib/harness.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh" || exit 1
# shellcheck disable=SC1091
. "$LTRR_SRC/tests/integration/fault_lib.bash" || exit 1
harness_init
command -v kcat >/dev/null || skip "kcat not installed"
command -v redis-server >/dev/null || skip "redis-server not installed"
for b in ltrr-learn ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built"
done
[ "$(id -u)" = 0 ] || skip "not root: cannot mount a tmpfs for Redis's dir"
MNT=$(mktemp -d "${TMPDIR:-/tmp}/ltrr-fault-disk.XXXXXX")
mount -t tmpfs -o size=24m,mode=0700 ltrr-fault-disk "$MNT" 2>/dev/null || {
        rmdir "$MNT"
        skip "mount -t tmpfs failed (no CAP_SYS_ADMIN in this environment)"
}
# Redis holds files on the tmpfs: stop it before unmounting, then let the
# harness clean up the rest (its exit status is the test's).
disk_cleanup() {
        local rc=$?
        set +e
        if [ -n "${DISK_REDIS_PID:-}" ]; then
                kill -KILL "$DISK_REDIS_PID" 2>/dev/null
                wait "$DISK_REDIS_PID" 2>/dev/null
        fi
        umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
        rmdir "$MNT" 2>/dev/null
        (exit "$rc")
        harness_cleanup
}
trap disk_cleanup EXIT
harness_stack --only broker
D=$HARNESS_DIR
N=${FAULT_DISK_REWARDS:-3000}
fl_rewards_gen "$N" 47 3
per_part=$((N / 3))
first=$((per_part / 3))

# Run 2 first (the disturbed one): the stream arrives in two parts.
fl_redis_start redis-disk "$MNT/redis"
DISK_REDIS_PID=$FL_REDIS_PID
fl_rewards_produce 0 "$first"
fl_learner full g2 16
caught_part() { [ "$(fl_stored g2)" = "$FL_UPTO" ]; }
harness_wait "first part applied" 60 caught_part
# Fill the tmpfs: the next AOF write fails with ENOSPC.
dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null || true
harness_log "tmpfs filled: $(df -k --output=avail "$MNT" | tail -1) KiB left"
fl_rewards_produce "$first" 1000000000
# The batch that meets the full disk is executed in memory (effects and
# offsets together, in one script) and kept in Redis's AOF buffer; from
# then on Redis refuses writes.
refusing() { case $(harness_redis_cli SET ltrr:fault:probe 1 2>&1) in *MISCONF*) ;; *) false ;; esac; }
harness_wait "Redis refusing writes" 30 refusing
before=$(fl_stored g2)
misconf=0
for _ in $(seq 1 10); do
        refusing && misconf=$((misconf + 1))
        sleep 0.1
done
# /healthz sampled every 10 ms for 2 s: the fraction answered 503.
health=$(/usr/bin/python3 "$LTRR_SRC/tests/lib/status_share.py" \
        "$LEARN_URL/healthz" 503 2)
during=$(fl_stored g2)
assert_eq "$misconf" 10 "Redis refused writes (MISCONF) while the disk was full"
assert_eq "$during" "$before" "stored offsets while the disk was full"
noticed=$(grep -c 'MISCONF\|redis ping failed' "$D/full.log" || true)
assert_ge "$noticed" 1 "learner log lines on the refused writes"
assert_ge "${health#* }" 20 "/healthz samples taken"
harness_log "/healthz 503 in ${health% *} of ${health#* } samples while full"
if [ "${FAULT_STRICT_HEALTH:-1}" = 1 ]; then
        assert_ge "$((${health% *} * 10))" "$((${health#* } * 9))" \
                "10 x /healthz 503 samples vs 9 x all ${health#* } (>= 90 %)"
fi
kill -0 "$LEARN_PID" 2>/dev/null || fail "the learner died on a full disk"
rm -f "$MNT/fill"
harness_wait "caught up after the space was freed" 90 fl_caught_up g2
harness_wait "healthy again" 20 curl -fsS -o /dev/null "$LEARN_URL/healthz"
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "learner exit code"
harness_redis_cli DEL ltrr:fault:probe >/dev/null
fl_state >"$D/got"
# What Redis wrote to the tmpfs is the same state.
harness_redis_cli SHUTDOWN >/dev/null 2>&1 || true
wait "$DISK_REDIS_PID" 2>/dev/null || true
fl_redis_start redis-disk-again "$MNT/redis"
DISK_REDIS_PID=$FL_REDIS_PID
harness_redis_cli DEL ltrr:fault:probe >/dev/null
fl_state >"$D/reloaded"
diff "$D/got" "$D/reloaded" >&2 || fail "the AOF on the tmpfs does not hold the state"
harness_redis_cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$DISK_REDIS_PID" 2>/dev/null || true

# Run 1: undisturbed, on a Redis outside the tmpfs.
FL_RPORT=""
fl_redis_start redis-calm "$D/redis-calm"
fl_learner calm g1 64
harness_wait "undisturbed run caught up" 90 fl_caught_up g1
kill -TERM "$LEARN_PID"
wait "$LEARN_PID" || fail "undisturbed learner exit code"
fl_state >"$D/want"
diff "$D/want" "$D/got" >&2 ||
        fail "state after the full disk differs from the undisturbed run"
assert_ge "$(wc -l <"$D/want")" 500 "state lines compared"
harness_log "ok: $(wc -l <"$D/got") state lines equal; while full: every" \
        "write refused, offsets held at $before of $FL_TOTAL, $noticed learner" \
        "log lines on it, /healthz 503 in ${health% *} of ${health#* } samples"
