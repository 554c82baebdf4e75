#!/usr/bin/python3
"""Drives a running ltrr-collect over HTTP and checks ltrr.actions.

Environment: LTRR_COLLECT_URL, LTRR_API_KEY, LTRR_BOOTSTRAP, LTRR_SCHEMAS.
Without arguments: posts valid, partly invalid, unauthenticated,
oversized and retried requests, then reads ltrr.actions with kcat and
decodes every record with python3-avro, comparing each field with what
was posted.
  load N BATCH THREADS IDFILE: posts N batches, writes the acknowledged
                               action ids to IDFILE.
  verify IDFILE: every id of IDFILE is on ltrr.actions exactly once.
"""
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

try:
    import avro.io
    import avro.schema
except ImportError:
    print("SKIP: python3-avro is not installed")
    sys.exit(77)

URL = os.environ["LTRR_COLLECT_URL"]
KEY = os.environ["LTRR_API_KEY"]
BOOTSTRAP = os.environ["LTRR_BOOTSTRAP"]
SCHEMAS = os.environ["LTRR_SCHEMAS"]
TYPES = ["click", "play", "like", "add_to_playlist", "share", "skip"]
checks = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def post(body, key=KEY, raw=False):
    """POSTs body (JSON-encoded unless raw); returns (status, json)."""
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request(URL + "/v1/events", data=data, method="POST")
    req.add_header("Content-Type", "application/json")
    if key is not None:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        txt = e.read()
        try:
            return e.code, json.loads(txt)
        except ValueError:
            return e.code, {"raw": txt.decode(errors="replace")}


def event(i, **extra):
    now = int(time.time() * 1000)
    ev = {"impression_id": "%032x" % (0xabc000 + i), "user_id": "user-%d" % i,
          "entity_id": "ent-%d" % (i * 7), "position": i % 20,
          "type": TYPES[i % len(TYPES)], "event_time_ms": now - 1000 - i}
    if i % 2:
        ev["duration_ms"] = 1000 + i
    ev.update(extra)
    return ev


sent = {}  # action_id hex -> list of events posted under it


def accept(events, resp):
    """Records the accepted events of a 202 answer by action id."""
    rejected = {r["index"] for r in resp.get("rejected", [])}
    ok = [ev for i, ev in enumerate(events) if i not in rejected]
    check(len(ok) == len(resp["action_ids"]), "one action id per accepted")
    for ev, aid in zip(ok, resp["action_ids"]):
        sent.setdefault(aid, []).append(ev)


def read_topic():
    """Returns [(key, record)] of every record on ltrr.actions."""
    out = subprocess.run(
        ["kcat", "-b", BOOTSTRAP, "-C", "-t", "ltrr.actions", "-e", "-q",
         "-f", "%K\n%k%S\n%s"], capture_output=True, timeout=60,
        check=True).stdout
    with open(os.path.join(SCHEMAS, "Action.avsc")) as f:
        reader = avro.io.DatumReader(avro.schema.parse(f.read()))
    records = []
    pos = 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        klen = int(out[pos:nl])
        key = out[nl + 1:nl + 1 + klen]
        pos = nl + 1 + klen
        nl = out.index(b"\n", pos)
        vlen = int(out[pos:nl])
        val = out[nl + 1:nl + 1 + vlen]
        pos = nl + 1 + vlen
        check(val[:2] == b"\xc3\x01", "single-object magic")
        rec = reader.read(avro.io.BinaryDecoder(io.BytesIO(val[10:])))
        records.append((key.decode(), rec))
    return records


def load(nreq, batch, threads, idfile):
    """Posts nreq batches from several threads; writes acked ids."""
    import threading
    acked, codes, lock = [], {}, threading.Lock()

    def worker(w):
        for r in range(w, nreq, threads):
            evs = [event(r * batch + i) for i in range(batch)]
            st, resp = post(evs)
            with lock:
                codes[st] = codes.get(st, 0) + 1
                if st == 202:
                    acked.extend(resp["action_ids"])
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(idfile, "w") as f:
        f.write("\n".join(acked) + "\n")
    print("load: codes %s, %d events acknowledged" % (codes, len(acked)))


def verify(idfile):
    """Every acknowledged action id is on the topic exactly once."""
    with open(idfile) as f:
        acked = [line.strip() for line in f if line.strip()]
    on_topic = {}
    for _, rec in read_topic():
        aid = rec["action_id"].hex()
        on_topic[aid] = on_topic.get(aid, 0) + 1
    missing = [a for a in acked if a not in on_topic]
    dup = [a for a in acked if on_topic.get(a, 0) > 1]
    check(not missing, "%d acknowledged events missing, e.g. %s"
          % (len(missing), missing[:3]))
    check(not dup, "%d acknowledged events duplicated" % len(dup))
    print("verify: %d acknowledged, all on the topic once (%d records)"
          % (len(acked), sum(on_topic.values())))


if len(sys.argv) > 1 and sys.argv[1] == "load":
    load(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    sys.exit(0)
if len(sys.argv) > 1 and sys.argv[1] == "verify":
    verify(sys.argv[2])
    sys.exit(0)

# 1. Single-event form and a clean batch.
ev = event(1, idempotency_key="single-1")
st, resp = post(ev)
check(st == 202, "single event: 202, got %d %s" % (st, resp))
check(resp["accepted"] == 1 and resp["rejected"] == [], "single accepted")
accept([ev], resp)
batch = [event(i) for i in range(10, 20)]
st, resp = post(batch)
check(st == 202 and resp["accepted"] == 10, "batch of 10: %d %s" % (st, resp))
accept(batch, resp)

# 2. A partly invalid batch: per-item errors, the rest accepted.
mixed = [event(30, colour="blue"),
         {"user_id": "u", "entity_id": "e", "position": 1, "type": "click"},
         event(31, position=-3),
         event(32, type="hover"),
         "not an object",
         event(33, user_id=""),
         event(34)]
st, resp = post(mixed)
check(st == 202, "mixed batch: 202, got %d" % st)
check(resp["accepted"] == 2, "mixed: 2 accepted, got %s" % resp["accepted"])
got = [(r["index"], r["field"], r["reason"]) for r in resp["rejected"]]
want = [(1, "impression_id", "missing"), (2, "position", "range"),
        (3, "type", "format"), (4, "", "not_object"),
        (5, "user_id", "length")]
check(got == want, "rejected items: %s" % got)
check(all(r["message"] for r in resp["rejected"]), "rejections have reasons")
check(resp["unknown_fields"] == 1, "unknown field counted")
accept(mixed, resp)

# 3. Nothing valid: 400 with the list.
st, resp = post([{"type": "click"}])
check(st == 400 and len(resp["rejected"]) == 1, "all invalid: 400 with list")

# 4. Authentication.
st, resp = post([event(40)], key=None)
check(st == 401 and "error" in resp, "no key: 401, got %d" % st)
st, resp = post([event(40)], key=KEY + "x")
check(st == 401 and "error" in resp, "wrong key: 401, got %d" % st)

# 5. Limits and malformed JSON.
st, resp = post([event(i) for i in range(1001)])
check(st == 413, "1001 events: 413, got %d" % st)
st, resp = post([event(1, entity_id="x" * 200)] * 400)
check(st == 413, "body over body.max: 413, got %d" % st)
st, resp = post(b'[{"impression_id": ', raw=True)
check(st == 400 and "malformed JSON" in resp.get("error", ""),
      "malformed JSON: 400, got %d %s" % (st, resp))

# 6. Idempotency: a retry carries the same action id.
ev = event(50, idempotency_key="retry-me")
st1, r1 = post([ev])
st2, r2 = post([ev])
check(st1 == 202 and st2 == 202, "idempotent posts accepted")
check(r1["action_ids"] == r2["action_ids"], "retry: same action_id")
accept([ev], r1)
accept([ev], r2)
other = event(50, idempotency_key="retry-me-2")
st, r3 = post([other])
check(r3["action_ids"] != r1["action_ids"], "another key: another id")
accept([other], r3)

# 7. Every acknowledged record is on the topic with every field right.
want_cnt = sum(len(v) for v in sent.values())
records = read_topic()
check(len(records) == want_cnt,
      "records on topic: %d, acknowledged: %d" % (len(records), want_cnt))
seen = {}
for key, rec in records:
    aid = rec["action_id"].hex()
    check(aid in sent, "unexpected action_id %s" % aid)
    ev = sent[aid][0]
    seen[aid] = seen.get(aid, 0) + 1
    check(key == ev["user_id"], "key is user_id")
    check(rec["schema_version"] == 1, "schema_version")
    check(rec["impression_id"].hex() == ev["impression_id"], "impression_id")
    check(rec["user_id"] == ev["user_id"], "user_id")
    check(rec["entity_id"] == ev["entity_id"], "entity_id")
    check(rec["position"] == ev["position"], "position")
    check(rec["type"] == ev["type"], "type %s" % rec["type"])
    t = rec["event_time_ms"]
    if not isinstance(t, int):  # timestamp-millis may decode to datetime
        t = int(t.timestamp() * 1000)
    check(t == ev["event_time_ms"], "event_time_ms")
    check(rec["duration_ms"] == ev.get("duration_ms"), "duration_ms")
    check(rec["idempotency_key"] == ev.get("idempotency_key"),
          "idempotency_key")
    check(rec["app_id"] == "dev", "app_id")
    check(rec["node_id"] != "", "node_id")
for aid, evs in sent.items():
    check(seen.get(aid, 0) == len(evs), "count of %s" % aid)

# 8. Metrics count what happened.
with urllib.request.urlopen(URL + "/metrics", timeout=10) as r:
    metrics = r.read().decode()
for line in ('ltrr_collect_events_rejected_total{reason="missing"} 2',
             'ltrr_collect_events_rejected_total{reason="range"} 1',
             'ltrr_collect_requests_total{code="401"} 2',
             'ltrr_collect_unknown_fields_total 1',
             'ltrr_collect_events_accepted_total %d' % want_cnt):
    check(line in metrics.splitlines(), "metric line: " + line)
print("ok: %d checks, %d records" % (checks, len(records)))
