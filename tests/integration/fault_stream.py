#!/usr/bin/python3
"""A fixed impression and action stream for the join fault tests.

  fault_stream.py OUTDIR M PARTS SEED
        writes OUTDIR/imp-p<k>.jsonl and OUTDIR/act-p<k>.jsonl (JSON for
        `ltrr-avro encode Impression|Action`), M impressions per
        partition, user fj-u<k> on partition k. Event times are in 2023,
        one impression a second. Actions, by impression number i mod 5:
        0 none (no_action); 1 a play in the window; 2 a click sent twice
        (same action id) and a like; 3 a like after the 2 s window, within
        a 10 s horizon (late); 4 a skip 0.5 s before its impression (held
        until it comes). Every 6th impression also gets a click for an
        impression that never comes (dangling). Actions are in event-time
        order with random neighbour swaps.
"""
import json
import random
import sys

T0 = 1_690_000_000_000


def ident(kind, part, n):
    return "%02x%02x%012x%016x" % (kind, part, 0, n)


def impression(p, i, t):
    ents = ["x%d" % (i % 17), "x%d" % ((i * 5 + 2) % 17)]
    q = "fq%d %s" % (i % 7, ("pop", "folk", "b:c")[i % 3])
    arms = [{"arm": "lexical", "ran": True, "budget": 10, "propensity": 0.7,
             "candidates": [{"entity_id": ents[0], "score": 1.0}]},
            {"arm": "popular", "ran": i % 3 != 0, "budget": 25,
             "propensity": 0.3,
             "candidates": [{"entity_id": ents[1], "score": 0.4}]}]
    return {"schema_version": 1, "event_time_ms": t, "node_id": "serve-f",
            "impression_id": ident(1, p, i), "user_id": "fj-u%d" % p,
            "session_id": None, "query_raw": q, "query_norm": q,
            "lang": "en", "k": 10,
            "context": {"feature_version": 1, "features": [0.25, 1.0],
                        "query_type": "entity", "hour": 9, "weekday": 3,
                        "holiday": False, "user_segment": "casual"},
            "policy": "thompson", "model_version": "v1",
            "exploration_seed": i, "mc_samples": 0, "shadow": False,
            "total_budget": 35, "arms": arms,
            "results": [{"entity_id": ents[0], "position": 0, "score": 1.0,
                         "arm_mask": 1},
                        {"entity_id": ents[1], "position": 1, "score": 0.4,
                         "arm_mask": 2}]}, ents


def action(p, aid, imp, t, typ, ent):
    return {"schema_version": 1, "event_time_ms": t, "node_id": "collect-f",
            "action_id": ident(2, p, aid), "impression_id": ident(1, p, imp),
            "received_time_ms": t + 3, "user_id": "fj-u%d" % p,
            "entity_id": ent, "position": 0, "type": typ,
            "duration_ms": None, "idempotency_key": None, "app_id": "f"}


def partition(p, m, rng):
    imps, acts = [], []
    for i in range(m):
        t = T0 + i * 1000
        imp, ents = impression(p, i, t)
        imps.append(imp)
        k = i % 5
        if k == 1:
            acts.append(action(p, i * 8, i, t + 400, "play", ents[0]))
        elif k == 2:
            click = action(p, i * 8, i, t + 300, "click", ents[1])
            acts += [click, action(p, i * 8 + 1, i, t + 1200, "like",
                                   ents[0]), dict(click)]
        elif k == 3:
            acts.append(action(p, i * 8, i, t + 2700, "like", ents[0]))
        elif k == 4:
            acts.append(action(p, i * 8, i, t - 500, "skip", ents[1]))
        if i % 6 == 0:
            acts.append(action(p, i * 8 + 7, m + i, t + 50, "click",
                               ents[0]))
    acts.sort(key=lambda a: a["event_time_ms"])
    for j in range(len(acts) - 1):
        if rng.random() < 0.25:
            acts[j], acts[j + 1] = acts[j + 1], acts[j]
    return imps, acts


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    out, m, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]))
    for p in range(parts):
        imps, acts = partition(p, m, rng)
        for name, recs in (("imp", imps), ("act", acts)):
            with open("%s/%s-p%d.jsonl" % (out, name, p), "w") as f:
                f.write("".join(json.dumps(r) + "\n" for r in recs))


if __name__ == "__main__":
    main()
