#!/usr/bin/python3
"""Helpers for the ltrr-learn tests and benchmark.

  learnlib.py gen OUTDIR N SEED PARTS [OFFSET0]
        writes OUTDIR/p<k>.jsonl: a fixed stream of Reward records (JSON
        for `ltrr-avro encode Reward`) spread over PARTS partitions, with
        no-action, matched and engagement-only rewards and replays
        (identical copies of earlier rewards, as a joiner replay makes).
        Matched rewards also carry "ranker_examples" (the online
        ranker's training examples, as ltrr-join attaches them).
  learnlib.py split FRAMED OUTDIR
        splits length-framed records into OUTDIR/000000.bin, ... (one
        Kafka message per file, for `kcat -P`).
  learnlib.py expect [--ranker] JSONL...
        the Redis state the rewards imply with half-lives 0, in dump
        format, for the keys the learner's effects touch (no bitmaps, no
        offsets); with --ranker also the online ranker statistics of the
        ranker_examples (computed as online/ranker_online.c does).
  learnlib.py dump HOST PORT
        every key, sorted, with its type and value (hashes and sorted sets
        member by member, numbers to 10 significant digits, strings in
        hex). No TTLs.
  learnlib.py slowlog HOST PORT
        Redis time per script kind from the slow log (the bench sets
        slowlog-log-slower-than 0): calls, total ms, us per call, by the
        kind of the call's first key (bandit, q2e count, q2e, popularity,
        profile, offsets).
"""
import json
import math
import os
import random
import socket
import struct
import sys

ARMS = ["lexical", "popular", "structured", "fuzzy"]
BUDGETS = [10, 25]
T0 = 1_700_000_000_000
NFEAT = 32
RK_SCALE = 100000000.0       # LTRR_RANKER_ONLINE_SCALE
RK_DELTA_MAX = 10 ** 12      # LTRR_RANKER_ONLINE_DELTA_MAX
RK_CLIP = 10.0               # default ipw_clip
RK_KEY = "ltrr:ranker:{ranker}:online"


def rank_examples(seed, i, pos, value):
    """The examples ltrr-join attaches to an engagement at pos: the
    results above a positive one (label 0), then the engaged one. Values
    are multiples of 1/64, exact in float32."""
    rng = random.Random(seed * 1000003 + i)
    out = []
    for p in range(pos + 1) if value > 0 else [pos]:
        label = 1.0 if (p == pos and value > 0) else 0.0
        x = [0.0] * NFEAT
        x[0] = 1.0
        for f in rng.sample(range(1, 24), 6):
            x[f] = rng.randrange(1, 65) / 64.0
        # A signal to learn: exact_name on engaged results, token_overlap
        # on the ones passed over.
        x[24 if label else 30] = 1.0
        out.append({"position": p, "label": label, "features": x,
                    "margin": rng.randrange(-128, 129) / 64.0})
    return out


def reward(rng, i, part, off):
    """One reward: the i-th impression overall, at offset off of partition
    part; its action, if any, at offset off of the actions partition."""
    kind = rng.choice(["no_action", "matched", "matched", "late"])
    q = "q%d %s" % (rng.randrange(8), rng.choice(["rock", "jazz", "a}b"]))
    user = "u%d" % rng.randrange(10)
    t_imp = T0 + i * 1000
    arms = []
    for a in ARMS:
        ran = rng.random() < 0.6 or a == "lexical"
        r = {"no_action": 0.0, "matched": 1.0, "late": 0.0}[kind]
        if ran and kind == "matched":
            r = rng.choice([1.0, 0.5, 0.0])
        arms.append({"arm": a, "ran": ran, "budget": rng.choice(BUDGETS),
                     "propensity": 0.5, "reward": r})
    rec = {
        "schema_version": 1, "event_time_ms": t_imp + 500, "node_id": "t",
        "impression_id": "%032x" % (i * 7 + part),
        "impression_ref": {"topic": "ltrr.impressions", "partition": part,
                           "offset": off},
        "action_ref": None, "action_id": None, "user_id": user,
        "query_norm": q, "outcome": kind if kind != "late" else "late",
        "apply_bandit": kind != "late", "apply_engagement": kind != "no_action",
        "action_type": None, "engaged_entity": None, "position": None,
        "value": 0.0, "arm_rewards": arms,
        "context": {"feature_version": 1, "features": [], "query_type":
                    "entity", "hour": 1, "weekday": 2, "holiday": False,
                    "user_segment": "new"},
        "policy": "thompson", "model_version": "1",
        "impression_time_ms": t_imp, "action_time_ms": None,
    }
    if kind != "no_action":
        rec["action_ref"] = {"topic": "ltrr.actions", "partition": part,
                             "offset": off}
        rec["action_id"] = "%032x" % (i * 11 + part + 1)
        rec["action_type"] = "play"
        rec["engaged_entity"] = "e%d" % rng.randrange(20)
        rec["position"] = rng.randrange(10)
        rec["value"] = rng.choice([1.0, 3.0, 2.0, -1.0, 0.5])
        rec["action_time_ms"] = t_imp + 200 + rng.randrange(5000)
    return rec


def gen(outdir, n, seed, parts, off0=0):
    rng = random.Random(seed)

    def make(i, part):  # the examples have an rng of their own
        # Kafka offsets are dense per partition: the i-th record of the
        # stream is the (i // parts)-th of its partition.
        rec = reward(rng, i, part, i // parts)
        if rec["outcome"] == "matched" and rec["value"] != 0:
            rec["ranker_examples"] = rank_examples(seed, i, rec["position"],
                                                   rec["value"])
        return rec
    os.makedirs(outdir, exist_ok=True)
    streams = [[] for _ in range(parts)]
    for i in range(off0, off0 + n):
        part = i % parts
        streams[part].append(make(i, part))
        if streams[part] and rng.random() < 0.15:  # a replay
            streams[part].append(rng.choice(streams[part]))
    for p, recs in enumerate(streams):
        with open(os.path.join(outdir, "p%d.jsonl" % p), "w") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")


def llround(x):
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def rk_fixed(v):
    u = v * RK_SCALE
    if u > RK_DELTA_MAX:
        return RK_DELTA_MAX
    if u < -RK_DELTA_MAX:
        return -RK_DELTA_MAX
    return llround(u)


def rk_delta(exs):
    """Fixed-point (z, n) deltas of one reward, as ltrr_ranker_online_delta
    computes them with the default examination model (1/p)."""
    z, q = [0.0] * NFEAT, [0.0] * NFEAT
    for e in exs:
        ipw = min(1.0 / (1.0 / (e["position"] + 1)), RK_CLIP)
        r = 1.0 / (1.0 + math.exp(-e["margin"])) - e["label"] * ipw
        for i, x in enumerate(e["features"]):
            g = r * x
            z[i] += g
            q[i] += g * g
    return [rk_fixed(v) for v in z], [rk_fixed(v) for v in q]


def split(framed, outdir):
    os.makedirs(outdir, exist_ok=True)
    data = open(framed, "rb").read()
    pos = k = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        with open(os.path.join(outdir, "%06d.bin" % k), "wb") as f:
            f.write(data[pos + 4:pos + 4 + n])
        pos += 4 + n
        k += 1


def num(v):
    return "%.10g" % float(v)


def esc(s):
    out = []
    for ch in s:
        c = ord(ch)
        if c < 0x21 or c == 0x7f or ch in "%{}:":
            out.append("".join("%%%02X" % b for b in ch.encode()))
        else:
            out.append(ch)
    return "".join(out)


def expect(paths, ranker=False):
    state = {}
    strings = {}

    def add(key, field, v):
        state.setdefault(key, {})
        state[key][field] = state[key].get(field, 0.0) + v

    seen = set()
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            iref = (r["impression_ref"]["partition"],
                    r["impression_ref"]["offset"])
            aref = r["action_ref"] and (r["action_ref"]["partition"],
                                        r["action_ref"]["offset"])
            q = "ltrr:q2e:{q:%s}" % esc(r["query_norm"])
            if r["apply_bandit"] and ("i",) + iref not in seen:
                seen.add(("i",) + iref)
                k = "ltrr:bandit:{b0}:v1"
                for a in r["arm_rewards"]:
                    if not a["ran"]:
                        continue
                    cell = "%s:%d" % (a["arm"], a["budget"])
                    x = a["reward"]
                    for f, v in (("n", 1), ("s", x), ("q", x * x), ("c", 1)):
                        add(k, f + ":" + cell, v)
                    add(k, "v", 1)
                add(q + ":meta", "n", 1)
            if r["apply_engagement"] and aref and ("a",) + aref not in seen:
                seen.add(("a",) + aref)
                e, v = r["engaged_entity"], r["value"]
                add(q, e, v)
                add("ltrr:pop:{pop}", e, v)
                u = "ltrr:user:{u:%s}" % esc(r["user_id"])
                add(u + ":aff", e, v)
                state.setdefault(u + ":recent", {})
                rec = state[u + ":recent"]
                rec[e] = max(rec.get(e, 0), r["action_time_ms"])
                if ranker and r.get("ranker_examples"):
                    dz, dn = rk_delta(r["ranker_examples"])
                    for i in range(NFEAT):  # every field is written
                        add(RK_KEY, "z:%d" % i, dz[i])
                        add(RK_KEY, "n:%d" % i, dn[i])
                    add(RK_KEY, "count", 1)
                    c = RK_KEY + ":count"
                    strings[c] = strings.get(c, 0) + 1
    lines = []
    for key in state:
        for f in state[key]:
            lines.append("%s\t%s\t%s" % (key, f, num(state[key][f])))
    for key in strings:
        lines.append("%s\t\t%s" % (key, str(strings[key]).encode().hex()))
    for line in sorted(lines):
        print(line)


class Resp:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, int(port)))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t in (b"+", b":"):
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError("bad reply %r" % line)


def slow_kind(args):
    """The kind of an EVALSHA from the slow log, by its first key."""
    if len(args) < 4:
        return "other"
    k = args[3].decode(errors="replace")
    if k.startswith("ltrr:learn:"):
        return "offsets"
    for tag, name in (("{b", "bandit"), ("{lin", "bandit"), ("{pop}", "pop"),
                      ("{u:", "profile")):
        if tag in k:
            return name
    if "{q:" in k:
        return "q2e count" if ":i:" in k.split("}", 1)[1] else "q2e"
    return "other"


def slowlog(host, port):
    r = Resp(host, port)
    tot = {}
    for e in r.cmd("SLOWLOG", "GET", -1):
        args = e[3]
        if not args or args[0].upper() != b"EVALSHA":
            continue
        c = tot.setdefault(slow_kind(args), [0, 0])
        c[0] += 1
        c[1] += int(e[2])
    for kind, (n, us) in sorted(tot.items(), key=lambda x: -x[1][1]):
        print("redis %-10s %6d calls %9.1f ms %8.1f us/call"
              % (kind, n, us / 1000.0, us / n))


def dump(host, port):
    r = Resp(host, port)
    keys, cur = [], b"0"
    while True:
        cur, batch = r.cmd("SCAN", cur, "COUNT", 1000)
        keys += batch
        if cur == b"0":
            break
    for k in sorted(set(keys)):
        ks = k.decode()
        t = r.cmd("TYPE", k).decode()
        if t == "hash":
            fv = r.cmd("HGETALL", k)
            for f, v in sorted(zip(fv[0::2], fv[1::2])):
                print("%s\t%s\t%s" % (ks, f.decode(), num(v)))
        elif t == "zset":
            fv = r.cmd("ZRANGE", k, 0, -1, "WITHSCORES")
            for f, v in sorted(zip(fv[0::2], fv[1::2])):
                print("%s\t%s\t%s" % (ks, f.decode(), num(v)))
        elif t == "string":
            print("%s\t\t%s" % (ks, r.cmd("GET", k).hex()))
        else:
            print("%s\t%s\t?" % (ks, t))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
            int(sys.argv[5]), int(sys.argv[6]) if len(sys.argv) > 6 else 0)
    elif cmd == "split":
        split(sys.argv[2], sys.argv[3])
    elif cmd == "expect":
        rk = len(sys.argv) > 2 and sys.argv[2] == "--ranker"
        expect(sys.argv[3 if rk else 2:], rk)
    elif cmd == "dump":
        dump(sys.argv[2], sys.argv[3])
    elif cmd == "slowlog":
        slowlog(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)
