# shellcheck shell=bash disable=SC2034,SC2012
# Shared functions of the fault_*.sh tests that compare a disturbed run of
# ltrr-learn (and ltrr-join) with an undisturbed one. Source it after
# tests/lib/harness.sh and tools/stack.sh, once harness_init has run.
#
#   fl_redis_start NAME DIR [ARGS...]   own redis-server (AOF everysec,
#                                       DEBUG allowed) on FL_RPORT; sets
#                                       LTRR_REDIS and FL_REDIS_PID
#   fl_rewards N SEED PARTS             a learnlib.py reward stream on
#                                       ltrr.rewards; sets FL_TOTAL
#   fl_rewards_gen N SEED PARTS         the same stream, not produced
#   fl_rewards_produce FIRST COUNT      produces records FIRST.. (COUNT of
#                                       each partition); sets FL_UPTO, the
#                                       offsets sum once all are applied
#   fl_learner NAME GROUP BATCH [ARGS]  ltrr-learn on a free port; sets
#                                       LEARN_PID and LEARN_URL
#   fl_stored GROUP                     sum of the group's Redis offsets
#   fl_state                            the dump, offsets excepted
#   fl_metric URL NAME                  a metric's value (-1: no answer)
# The join tests (impressions and actions through ltrr-join and
# ltrr-learn; FL_BOOT names the broker the daemons use):
#   fl_stream M PARTS SEED              fault_stream.py, encoded and split
#   fl_stream_produce BOOT CHUNKS GAP   produces it in CHUNKS slices, GAP
#                                       seconds apart (idempotent kcat)
#   fl_joiner NAME [ARGS]               ltrr-join on a free port; sets
#                                       JOIN_PID, JOIN_URL (appended to
#                                       FL_JOIN_PIDS)
#   fl_settled GROUP                    every live joiner has nothing
#                                       pending or held, and GROUP has
#                                       stored every last reward offset
FL_PY=/usr/bin/python3
FL_LIB=$LTRR_SRC/bench/learn/learnlib.py
FL_RPORT=""
FL_TOTAL=0
FL_UPTO=0
FL_PARTS=3
declare -a FL_LAST=()

fl_redis_start() { # NAME DIR [ARGS...]
        local name=$1 dir=$2
        shift 2
        [ -n "$FL_RPORT" ] || FL_RPORT=$(stack_free_port) || fail "no free port"
        mkdir -p "$dir"
        harness_bg "$name" redis-server --port "$FL_RPORT" --bind 127.0.0.1 \
                --dir "$dir" --appendonly yes --appendfsync everysec \
                --save '' --daemonize no --loglevel warning \
                --enable-debug-command yes "$@"
        FL_REDIS_PID=$HARNESS_LAST_PID
        LTRR_REDIS=127.0.0.1:$FL_RPORT
        export LTRR_REDIS
        harness_wait "redis $name on $FL_RPORT" 20 stack_redis_ready "$FL_RPORT"
}

fl_rewards_gen() { # N SEED PARTS
        local p d=$HARNESS_DIR/rewards
        FL_PARTS=$3
        FL_TOTAL=0
        FL_UPTO=0
        $FL_PY "$FL_LIB" gen "$d" "$1" "$2" "$3" || fail "reward stream"
        for p in $(seq 0 $(($3 - 1))); do
                "$LTRR_BIN/ltrr-avro" encode Reward <"$d/p$p.jsonl" \
                        >"$d/p$p.bin" || fail "encode p$p"
                $FL_PY "$FL_LIB" split "$d/p$p.bin" "$d/p$p"
                FL_TOTAL=$((FL_TOTAL + $(wc -l <"$d/p$p.jsonl") - 1))
        done
}

fl_rewards_produce() { # FIRST COUNT
        local p d=$HARNESS_DIR/rewards files
        for p in $(seq 0 $((FL_PARTS - 1))); do
                mapfile -t files < <(ls "$d/p$p"/*.bin | sed -n "$(($1 + 1)),$(($1 + $2))p")
                [ "${#files[@]}" -gt 0 ] || continue
                kcat -P -b "$LTRR_BOOTSTRAP" -t ltrr.rewards -p "$p" \
                        "${files[@]}" || fail "produce p$p"
                FL_LAST[p]=$(($1 + ${#files[@]} - 1))
        done
        FL_UPTO=0
        for p in "${!FL_LAST[@]}"; do
                FL_UPTO=$((FL_UPTO + FL_LAST[p]))
        done
}

fl_rewards() { # N SEED PARTS: the whole stream, produced
        fl_rewards_gen "$@"
        fl_rewards_produce 0 100000000
}

fl_learner() { # NAME GROUP BATCH [ARGS...]
        local name=$1 group=$2 batch=$3 port
        shift 3
        port=$(stack_free_port) || fail "no free port"
        harness_bg "$name" "$LTRR_BIN/ltrr-learn" --redis.addr="$LTRR_REDIS" \
                --kafka.bootstrap="${FL_BOOT:-$LTRR_BOOTSTRAP}" --http.port="$port" \
                --group="$group" --batch.max="$batch" \
                --bandit.arms=lexical,popular,structured,fuzzy \
                --bandit.budgets=10,25 --bandit.half_life=0 \
                --pop.half_life=0 "$@"
        LEARN_PID=$HARNESS_LAST_PID
        LEARN_URL=http://127.0.0.1:$port
}

fl_stored() { # GROUP
        local p sum=0 v
        for p in $(seq 0 $((FL_PARTS - 1))); do
                v=$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:$p" 2>/dev/null)
                [[ $v =~ ^[0-9]+$ ]] || v=0
                sum=$((sum + v))
        done
        echo "$sum"
}
fl_caught_up() { [ "$(fl_stored "$1")" = "$FL_TOTAL" ]; }
fl_beyond() { [ "$(fl_stored "$1")" -ge "$2" ]; } # GROUP SUM

fl_state() {
        $FL_PY "$FL_LIB" dump 127.0.0.1 "${LTRR_REDIS##*:}" | grep -v '^ltrr:learn:'
}

fl_metric() { # URL NAME
        curl -fsS --max-time 2 "$1/metrics" 2>/dev/null |
                awk -v n="$2" '$1 == n {v = $2} END {print (v == "" ? -1 : v)}'
}

fl_stream() { # M PARTS SEED
        local p kind d=$HARNESS_DIR/stream
        FL_PARTS=$2
        mkdir -p "$d"
        $FL_PY "$LTRR_SRC/tests/integration/fault_stream.py" "$d" "$1" "$2" \
                "$3" || fail "stream"
        for p in $(seq 0 $(($2 - 1))); do
                for kind in imp:Impression act:Action; do
                        "$LTRR_BIN/ltrr-avro" encode "${kind#*:}" \
                                <"$d/${kind%%:*}-p$p.jsonl" \
                                >"$d/${kind%%:*}-p$p.bin" || fail "encode"
                        $FL_PY "$FL_LIB" split "$d/${kind%%:*}-p$p.bin" \
                                "$d/${kind%%:*}-p$p"
                done
        done
}

fl_stream_produce() { # BOOT CHUNKS GAP
        local c p kind n files d=$HARNESS_DIR/stream
        for c in $(seq 0 $(($2 - 1))); do
                for p in $(seq 0 $((FL_PARTS - 1))); do
                        for kind in imp:impressions act:actions; do
                                mapfile -t files < <(ls "$d/${kind%%:*}-p$p"/*.bin)
                                n=${#files[@]}
                                files=("${files[@]:$((c * n / $2)):$(((c + 1) * n / $2 - c * n / $2))}")
                                [ "${#files[@]}" -gt 0 ] || continue
                                kcat -P -b "$1" -t "ltrr.${kind#*:}" -p "$p" \
                                        -k "fj-u$p" -X enable.idempotence=true \
                                        "${files[@]}" || fail "produce c$c p$p"
                        done
                done
                [ "$c" = $(($2 - 1)) ] || sleep "$3"
        done
}

FL_JOIN_PIDS=()
fl_joiner() { # NAME [ARGS...]
        local name=$1 port
        shift
        port=$(stack_free_port) || fail "no free port"
        harness_bg "$name" "$LTRR_BIN/ltrr-join" --http.port="$port" \
                --kafka.bootstrap="${FL_BOOT:-$LTRR_BOOTSTRAP}" \
                --group=fj-join --window=2s --tolerance=1s --lateness=1h \
                --late.horizon=10s --idle=3s -X fetch.wait.max.ms=20 "$@"
        JOIN_PID=$HARNESS_LAST_PID
        JOIN_URL=http://127.0.0.1:$port
        FL_JOIN_PIDS+=("$JOIN_PID:$JOIN_URL")
}

fl_last_offsets() { # BOOT: p:offset of the last reward per partition
        local p o
        for p in $(seq 0 5); do
                o=$(timeout 10 kcat -C -b "$1" -t ltrr.rewards -p "$p" -o -1 \
                        -e -q -f '%o\n' 2>/dev/null | tail -1)
                [ -n "$o" ] && echo "$p:$o"
        done
}

fl_settled() { # GROUP
        local e pid url n=0 po seen=0
        for e in "${FL_JOIN_PIDS[@]}"; do
                pid=${e%%:*} url=${e#*:}
                kill -0 "$pid" 2>/dev/null || continue
                seen=$((seen + 1))
                [ "$(fl_metric "$url" ltrr_join_pending_impressions)" = 0 ] || return 1
                [ "$(fl_metric "$url" ltrr_join_held_actions)" = 0 ] || return 1
                [ "$(fl_metric "$url" 'ltrr_join_records_total{topic="impressions"}')" \
                        != 0 ] || return 1
        done
        [ "$seen" -ge 1 ] || return 1
        for po in $(fl_last_offsets "${FL_BOOT:-$LTRR_BOOTSTRAP}"); do
                [ "$(harness_redis_cli HGET "ltrr:learn:{off}:$1" \
                        "ltrr.rewards:${po%%:*}")" = "${po#*:}" ] || return 1
                n=$((n + 1))
        done
        [ "$n" -ge 1 ]
}
