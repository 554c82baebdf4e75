#!/usr/bin/python3
"""Fixtures of tests/integration/join_stream.sh.

  stream.py gen DIR NOW_MS   writes DIR/imp-N.json and DIR/act-N.json, one
                             JSON record each, event times around NOW_MS
  stream.py check FILE       checks decoded rewards (JSON lines) against
                             the expected outcomes; prints a summary

Scenario (window 2 s in the test):
  imp 1: a click in the window           -> matched, bandit + engagement
  imp 2: no action                       -> no_action, value 0, bandit
  imp 3: a like 2.5 s after it           -> no_action (bandit) + late
  imp 4: a play sent twice (same id)     -> one matched reward
  imp 5: a skip read before the imp      -> matched, negative value
  an action for an impression never sent -> dangling (counted only)
"""
import json
import sys

USER = "user-join"


def ident(tag, n):
    return "%02x" % tag + "00" * 7 + "%016x" % n


def impression(n, t):
    arms = [{"arm": "lexical", "ran": True, "budget": 10, "propensity": 0.6,
             "candidates": [{"entity_id": "track:%d" % n, "score": 1.0}]},
            {"arm": "popular", "ran": False, "budget": 10, "propensity": 0.4,
             "candidates": [{"entity_id": "track:x", "score": 0.5}]}]
    return {"schema_version": 1, "event_time_ms": t, "node_id": "serve-t",
            "impression_id": ident(1, n), "user_id": USER,
            "session_id": None, "query_raw": "Query %d" % n,
            "query_norm": "query %d" % n, "lang": "en", "k": 10,
            "context": {"feature_version": 1, "features": [0.5, 1.0],
                        "query_type": "entity", "hour": 12, "weekday": 2,
                        "holiday": False, "user_segment": "casual"},
            "policy": "linucb", "model_version": "v1",
            "exploration_seed": 7, "mc_samples": 0, "shadow": False,
            "total_budget": 20, "arms": arms,
            "results": [{"entity_id": "track:%d" % n, "position": 0,
                         "score": 1.0, "arm_mask": 1}]}


def action(aid, imp, t, typ):
    return {"schema_version": 1, "event_time_ms": t, "node_id": "collect-t",
            "action_id": ident(2, aid), "impression_id": ident(1, imp),
            "received_time_ms": t + 5, "user_id": USER,
            "entity_id": "track:%d" % imp, "position": 0, "type": typ,
            "duration_ms": None, "idempotency_key": None, "app_id": "test"}


def gen(out, now):
    t0 = now - 1000
    imps = [impression(n, t0 + 10 * n) for n in range(1, 6)]
    # Actions, in the order they are produced. The skip on imp 5 goes
    # first: the join must hold it until imp 5 is read.
    acts = [action(50, 5, t0 + 300, "skip"),
            action(10, 1, t0 + 500, "click"),
            action(40, 4, t0 + 600, "play"),
            action(40, 4, t0 + 600, "play"),
            action(99, 77, t0 + 700, "click"),
            action(30, 3, t0 + 30 + 2500, "like")]
    for i, rec in enumerate(imps):
        with open("%s/imp-%d.json" % (out, i), "w") as f:
            f.write(json.dumps(rec) + "\n")
    for i, rec in enumerate(acts):
        with open("%s/act-%d.json" % (out, i), "w") as f:
            f.write(json.dumps(rec) + "\n")


EXPECTED = {  # (impression n, action n or None) -> (outcome, bandit, value)
    (1, 10): ("matched", True, 1.0),
    (2, None): ("no_action", True, 0.0),
    (3, None): ("no_action", True, 0.0),
    (3, 30): ("late", False, 2.0),
    (4, 40): ("matched", True, 3.0),
    (5, 50): ("matched", True, -1.0),
}


def key(rec):
    imp = int(rec["impression_id"][-16:], 16)
    act = int(rec["action_id"][-16:], 16) if rec.get("action_id") else None
    return imp, act


def check(path):
    seen = {}
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            k = key(rec)
            got = (rec["outcome"], rec["apply_bandit"], rec["value"])
            if k not in EXPECTED:
                sys.exit("unexpected reward %s: %s" % (k, got))
            if got != EXPECTED[k]:
                sys.exit("reward %s: got %s, want %s" % (k, got, EXPECTED[k]))
            ref = (rec["impression_ref"]["partition"],
                   rec["impression_ref"]["offset"])
            if seen.setdefault(k, (ref, line)) [0] != ref:
                sys.exit("reward %s with two impression refs" % (k,))
            if rec["user_id"] != USER or rec["query_norm"] != "query %d" % k[0]:
                sys.exit("reward %s: wrong user or query" % (k,))
            arm = rec["arm_rewards"][0]["reward"]
            if arm != (got[2] if k[1] else 0.0):
                sys.exit("reward %s: lexical arm reward %s" % (k, arm))
    missing = sorted(set(EXPECTED) - set(seen), key=str)
    if missing:
        sys.exit("missing rewards: %s" % missing)
    print("ok %d distinct rewards" % len(seen))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
    else:
        check(sys.argv[2])
