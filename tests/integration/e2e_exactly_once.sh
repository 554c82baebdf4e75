#!/usr/bin/env bash
# Exactly once in effect, through join and learn together. A fixed stream
# of impressions and actions (actions out of order, read before their
# impression, late, duplicated, and for impressions that never come) is
# produced to ltrr.impressions / ltrr.actions. Run 1: ltrr-join and
# ltrr-learn undisturbed, on their own broker. Run 2: the same stream on a
# second broker into the emptied Redis, with join and learn each killed
# with SIGKILL at random moments several times and restarted, and Redis
# killed once and restarted from its AOF. The final Redis state (every
# key, every field and value; numbers to 10 significant digits, as
# bench/learn/learnlib.py dumps them; the learner's offset keys, named
# after the group, excepted) must be equal. The impressions log ranker
# inputs on their results, so matched engagements carry ranker examples
# and the online ranker statistics are part of the compared state.
#
# Time is event time in 2023, so windows close only by the join's idle
# advance (wall clock, `idle` after a partition's last record); lateness
# is 1 h so that no watermark closes a window while the stream is read:
# each decision then depends on the records alone, not on how the two
# topics' reads interleave.
. "$LTRR_SRC/tests/lib/harness.sh"
# shellcheck disable=SC1091
. "$LTRR_SRC/tools/stack.sh"
harness_init
PY=/usr/bin/python3
LIB=$LTRR_SRC/bench/learn/learnlib.py
PARTS=3
M=${E2E_EO_IMPRESSIONS:-240}
KILLS=${E2E_EO_KILLS:-6}
command -v kcat >/dev/null || skip "kcat not installed"
for b in ltrr-join ltrr-learn ltrr-avro ltrr-broker; do
        [ -x "$LTRR_BIN/$b" ] || fail "$b not built in $LTRR_BIN"
done
harness_stack --only redis,broker
D=$HARNESS_DIR
RPORT=${LTRR_REDIS##*:}

# The stream: per partition p, user eo-u<p>; files D/s/{imp,act}-p<p>.jsonl.
mkdir -p "$D/s"
$PY - "$D/s" "$M" "$PARTS" <<'PYEOF'
import json, random, sys
out, m, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
T0 = 1_700_000_000_000
rng = random.Random(8)
def ranker_in(rng):
    """A logged ranker input as serving writes it: 32 values, multiples
    of 1/64 (exact in float32), and a logit."""
    x = [0.0] * 32
    x[0] = 1.0
    for f in rng.sample(range(1, 31), 5):
        x[f] = rng.randrange(1, 65) / 64.0
    return {"features": x, "margin": rng.randrange(-128, 129) / 64.0}
def ident(tag, p, n):
    return "%02x%02x" % (tag, p) + "00" * 6 + "%016x" % n
for p in range(parts):
    user = "eo-u%d" % p
    imps, acts = [], []
    def act(aid, imp, t, typ, ent, pos=0):
        acts.append((t, {"schema_version": 1, "event_time_ms": t,
            "node_id": "collect-t", "action_id": ident(2, p, aid),
            "impression_id": ident(1, p, imp), "received_time_ms": t + 5,
            "user_id": user, "entity_id": ent, "position": pos, "type": typ,
            "duration_ms": None, "idempotency_key": None, "app_id": "t"}))
    for i in range(m):
        t = T0 + i * 1000
        e, f = "e%d" % (i % 23), "e%d" % ((i * 7 + 3) % 23)
        q = "q%d %s" % (i % 9, ["rock", "jazz", "a:b"][i % 3])
        arms = [{"arm": "lexical", "ran": True, "budget": 10,
                 "propensity": 0.6,
                 "candidates": [{"entity_id": e, "score": 1.0}]},
                {"arm": "popular", "ran": i % 2 == 0, "budget": 25,
                 "propensity": 0.4,
                 "candidates": [{"entity_id": f, "score": 0.5}]}]
        imps.append({"schema_version": 1, "event_time_ms": t,
            "node_id": "serve-t", "impression_id": ident(1, p, i),
            "user_id": user, "session_id": None, "query_raw": q,
            "query_norm": q, "lang": "en", "k": 10,
            "context": {"feature_version": 1, "features": [0.5, 1.0],
                        "query_type": "entity", "hour": 12, "weekday": 2,
                        "holiday": False, "user_segment": "casual"},
            "policy": "thompson", "model_version": "v1",
            "exploration_seed": i, "mc_samples": 0, "shadow": False,
            "total_budget": 35, "arms": arms,
            "results": [{"entity_id": e, "position": 0, "score": 1.0,
                         "arm_mask": 1, "ranker": ranker_in(rng)},
                        {"entity_id": f, "position": 1, "score": 0.5,
                         "arm_mask": 2, "ranker": ranker_in(rng)}]})
        k = i % 6
        if k == 1:
            act(i * 10, i, t + 300, "play", e)
        elif k == 2:   # two in the window, the click sent twice
            act(i * 10, i, t + 200, "click", f, 1)
            act(i * 10 + 1, i, t + 900, "like", e)
            act(i * 10, i, t + 200, "click", f, 1)
        elif k == 3:   # late: after the 2 s window, within the horizon
            act(i * 10, i, t + 2600, "like", e)
        elif k == 4:   # before its impression, within the tolerance
            act(i * 10, i, t - 500, "skip", e)
        elif k == 5:   # too early (dangling) and one in the window
            act(i * 10, i, t - 5000, "click", e)
            act(i * 10 + 1, i, t + 1500, "add_to_playlist", f, 1)
        if i % 7 == 0:  # an impression that never comes
            act(i * 10 + 5, m + i, t + 100, "click", e)
    # Out of order: event time order with random local swaps; actions may
    # also be read before their impressions (both topics produced at once).
    acts.sort(key=lambda a: a[0])
    for j in range(len(acts) - 1):
        if rng.random() < 0.3:
            acts[j], acts[j + 1] = acts[j + 1], acts[j]
    with open("%s/imp-p%d.jsonl" % (out, p), "w") as fo:
        fo.write("".join(json.dumps(r) + "\n" for r in imps))
    with open("%s/act-p%d.jsonl" % (out, p), "w") as fo:
        fo.write("".join(json.dumps(r) + "\n" for _, r in acts))
PYEOF
for p in $(seq 0 $((PARTS - 1))); do
        for kind in imp:Impression act:Action; do
                f=$D/s/${kind%%:*}-p$p
                "$LTRR_BIN/ltrr-avro" encode "${kind#*:}" <"$f.jsonl" >"$f.bin" ||
                        fail "encode $f"
                $PY "$LIB" split "$f.bin" "$f"
        done
done

produce() { # BOOTSTRAP: the whole stream, partition p to partition p
        local p
        for p in $(seq 0 $((PARTS - 1))); do
                kcat -P -b "$1" -t ltrr.impressions -p "$p" -k "eo-u$p" \
                        "$D/s/imp-p$p"/*.bin || fail "produce impressions p$p"
                kcat -P -b "$1" -t ltrr.actions -p "$p" -k "eo-u$p" \
                        "$D/s/act-p$p"/*.bin || fail "produce actions p$p"
        done
}

JOIN_PORT=0
joiner() { # NAME BOOTSTRAP
        JOIN_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        harness_bg "$1" "$LTRR_BIN/ltrr-join" --http.port="$JOIN_PORT" \
                --kafka.bootstrap="$2" --group=eo-join --window=2s \
                --tolerance=1s --lateness=1h --idle=3s --late.horizon=10s \
                -X fetch.wait.max.ms=20
        JOIN_PID=$HARNESS_LAST_PID
}
learner() { # NAME BOOTSTRAP
        harness_bg "$1" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="$2" --http.port=0 --group=eo-learn \
                --batch.max=16 --bandit.half_life=0 --pop.half_life=0 \
                -X fetch.wait.max.ms=20
        LEARN_PID=$HARNESS_LAST_PID
}
metric() { # NAME -> integer value, or -1 when the join does not answer
        curl -fsS --max-time 2 "http://127.0.0.1:$JOIN_PORT/metrics" 2>/dev/null |
                awk -v n="$1" '$1 == n {v = int($2)} END {print (v == "" ? -1 : v)}'
}
last_offsets() { # BOOTSTRAP -> "p:offset" of the last reward per partition
        local p o
        for p in 0 1 2 3 4 5; do
                o=$(timeout 10 kcat -C -b "$1" -t ltrr.rewards -p "$p" -o -1 -e \
                        -q -f '%o\n' 2>/dev/null | tail -1)
                [ -n "$o" ] && echo "$p:$o"
        done
}
# Done: every impression decided (idle advance has run), nothing held,
# and the learner has stored the last reward offset of every partition.
settled() { # BOOTSTRAP
        local po n
        kill -0 "$JOIN_PID" 2>/dev/null && kill -0 "$LEARN_PID" 2>/dev/null || return 1
        [ "$(metric ltrr_join_pending_impressions)" = 0 ] || return 1
        [ "$(metric ltrr_join_held_actions)" = 0 ] || return 1
        [ "$(metric 'ltrr_join_records_total{topic="impressions"}')" -ge 1 ] || return 1
        # Both inputs read to their end (also fails when the gauge is absent).
        [ "$(metric ltrr_join_consumer_lag_records)" = 0 ] || return 1
        n=0
        for po in $(last_offsets "$1"); do
                [ "$(harness_redis_cli HGET 'ltrr:learn:{off}:eo-learn' \
                        "ltrr.rewards:${po%%:*}")" = "${po#*:}" ] || return 1
                n=$((n + 1))
        done
        [ "$n" -ge 1 ]
}
state() {
        $PY "$LIB" dump 127.0.0.1 "$RPORT" | grep -v '^ltrr:learn:'
}
stop_both() {
        kill -TERM "$JOIN_PID" "$LEARN_PID" 2>/dev/null || true
        wait "$JOIN_PID" 2>/dev/null || true
        wait "$LEARN_PID" 2>/dev/null || true
}

# Run 1: undisturbed, on the stack's broker.
t0=$(date +%s)
produce "$LTRR_BOOTSTRAP"
joiner join1 "$LTRR_BOOTSTRAP"
learner learn1 "$LTRR_BOOTSTRAP"
sleep 4
harness_wait "undisturbed run settled" 90 settled "$LTRR_BOOTSTRAP"
# Settled twice, a second apart: nothing more is coming.
sleep 1
harness_wait "undisturbed run settled again" 30 settled "$LTRR_BOOTSTRAP"
rewards1=$(metric 'ltrr_join_rewards_total{outcome="matched"}')
dangling1=$(metric ltrr_join_dangling_actions_total)
dups1=$(metric ltrr_join_duplicates_total)
late1=$(metric ltrr_join_late_actions_total)
stop_both
state >"$D/want"
harness_log "undisturbed: $(wc -l <"$D/want") state lines in $(($(date +%s) - t0)) s;" \
        "matched $rewards1, late $late1, dangling $dangling1, duplicates $dups1"
assert_ge "$(wc -l <"$D/want")" 300 "state lines of the undisturbed run"
rk=$(grep -c '^ltrr:ranker:{ranker}:online	[zn]:' "$D/want")
assert_ge "$rk" 40 "online ranker statistics fields"
cnt=$(awk -F'\t' '$1 == "ltrr:ranker:{ranker}:online" && $2 == "count" {print $3}' "$D/want")
assert_ge "${cnt:-0}" $((PARTS * M / 4)) "rewards applied to the online ranker"
assert_ge "$dangling1" $((PARTS * M / 7)) "dangling actions counted"
assert_ge "$dups1" $((PARTS * M / 6 - PARTS)) "duplicate actions dropped"
assert_ge "$late1" $((PARTS * M / 6 - PARTS)) "late actions"
harness_redis_cli FLUSHALL >/dev/null
[ -z "$(harness_redis_cli --scan | head -1)" ] || fail "FLUSHALL left keys"

# Run 2: a second broker, the same stream, kills.
harness_bg broker2 "$LTRR_BIN/ltrr-broker" --bootstrap-file "$D/bootstrap2" \
        --partitions 6
harness_wait "second broker" 20 test -s "$D/bootstrap2"
B2=$(cat "$D/bootstrap2")
produce "$B2"
joiner join2-0 "$B2"
learner learn2-0 "$B2"
for k in $(seq 1 "$KILLS"); do
        sleep "$((RANDOM % 2)).$((RANDOM % 10))"
        if [ $((k % 2)) = 1 ]; then
                kill -KILL "$JOIN_PID"
                wait "$JOIN_PID" 2>/dev/null || true
                joiner "join2-$k" "$B2"
                harness_log "kill $k: ltrr-join"
        else
                kill -KILL "$LEARN_PID"
                wait "$LEARN_PID" 2>/dev/null || true
                learner "learn2-$k" "$B2"
                harness_log "kill $k: ltrr-learn"
        fi
        if [ "$k" = 3 ]; then
                # Redis dies under the running learner; it restarts from its
                # AOF (appendfsync everysec: the last second may be lost).
                kill -KILL "$(stack_pid "$D/stack" redis)"
                sleep 0.3
                stack_spawn "$D/stack" redis redis-server --port "$RPORT" \
                        --bind 127.0.0.1 --dir "$D/stack/redis" --appendonly yes \
                        --appendfsync everysec --save '' --daemonize no \
                        --loglevel warning
                harness_wait "redis back" 20 stack_redis_ready "$RPORT"
                harness_log "kill $k: redis restarted from its AOF"
        fi
done
harness_wait "disturbed run settled" 120 settled "$B2"
sleep 1
harness_wait "disturbed run settled again" 30 settled "$B2"
stop_both
state >"$D/got"
diff "$D/want" "$D/got" >&2 || fail "state after kills differs from the undisturbed run"
harness_log "ok: $(wc -l <"$D/got") state lines equal after $KILLS kills" \
        "(join and learn) and a Redis restart, in $(($(date +%s) - t0)) s"
