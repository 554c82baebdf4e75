#!/usr/bin/python3
"""Load and checks for the ltrr-collect crash test (fault_collect_kill.sh).

Environment: LTRR_COLLECT_URL, LTRR_API_KEY, LTRR_BOOTSTRAP, LTRR_SCHEMAS.

  load SECONDS BATCH THREADS OUTFILE [FIRST]
        THREADS clients post batches of BATCH events for SECONDS seconds.
        Every event carries its own idempotency key. A request answered
        202 writes "acked <action_id> <request>" lines; a request that
        fails on the connection (refused, reset, timed out) is written as
        "lost <request>" and retried, same body, until it is answered or
        the time is up; a retried request that is then answered writes
        "retried <request>". Ends with a "codes" line (JSON counts).
        Requests are numbered from FIRST (default 0); a second load
        into the same topic takes another range.
  verify OUTFILE
        Every acked action id is on ltrr.actions at least once; the ids of
        requests that were never retried are there exactly once; every
        record on the topic belongs to an event that was posted. Prints
        the counts. Records of other apps than "dev" (the stack's
        development key) are not looked at.
"""
import io
import json
import os
import subprocess
import sys
import threading
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
TYPES = ["click", "play", "like", "skip"]


def post(body):
    """Returns (status, json) or (None, reason) on a connection error."""
    req = urllib.request.Request(URL + "/v1/events", data=body,
                                 method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + KEY)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError, ValueError) as e:
        return None, str(e)


def batch(req, size):
    now = int(time.time() * 1000)
    evs = []
    for i in range(size):
        n = req * size + i
        evs.append({"impression_id": "%032x" % (0xfa0000 + n),
                    "user_id": "fk-%d" % (n % 97),
                    "entity_id": "e-%d" % (n % 31), "position": n % 10,
                    "type": TYPES[n % len(TYPES)],
                    "event_time_ms": now - 100,
                    "idempotency_key": "fk-%d" % n})
    return json.dumps(evs).encode()


def load(seconds, size, threads, outfile, first=0):
    lock = threading.Lock()
    lines, codes = [], {}
    end = time.time() + seconds

    def worker(w):
        req = first + w
        while time.time() < end:
            body, tries = batch(req, size), 0
            while time.time() < end:
                st, resp = post(body)
                key = "conn" if st is None else str(st)
                with lock:
                    codes[key] = codes.get(key, 0) + 1
                    if st is None:
                        lines.append("lost %d" % req)
                    elif st == 202:
                        if tries:
                            lines.append("retried %d" % req)
                        lines.extend("acked %s %d" % (a, req)
                                     for a in resp["action_ids"])
                if st == 202:
                    break
                tries += 1
                time.sleep(0.05)
            req += threads
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(outfile, "w") as f:
        f.write("\n".join(lines) + "\n")
        f.write("codes %s\n" % json.dumps(codes, sort_keys=True))
    print("load: codes %s, %d acknowledged" %
          (codes, sum(1 for x in lines if x.startswith("acked"))))


def read_topic():
    """Action ids (hex) of every record on ltrr.actions, with counts."""
    out = subprocess.run(
        ["kcat", "-b", os.environ["LTRR_BOOTSTRAP"], "-C", "-t",
         "ltrr.actions", "-e", "-q", "-f", "%S\n%s"],
        capture_output=True, timeout=60, check=True).stdout
    path = os.path.join(os.environ["LTRR_SCHEMAS"], "Action.avsc")
    with open(path) as f:
        reader = avro.io.DatumReader(avro.schema.parse(f.read()))
    ids, pos = {}, 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        n = int(out[pos:nl])
        val = out[nl + 1:nl + 1 + n]
        pos = nl + 1 + n
        if val[:2] != b"\xc3\x01":
            sys.exit("FAIL: a record without the single-object magic")
        rec = reader.read(avro.io.BinaryDecoder(io.BytesIO(val[10:])))
        if rec["app_id"] != "dev":  # not from ltrr-collect's dev key
            continue
        if not (rec["idempotency_key"] or "").startswith("fk-"):
            sys.exit("FAIL: a record that was never posted: %s" % rec)
        aid = rec["action_id"].hex()
        ids[aid] = ids.get(aid, 0) + 1
    return ids


def verify(outfile):
    acked, retried, lost = {}, set(), 0
    with open(outfile) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "acked":
                acked[w[1]] = int(w[2])
            elif w and w[0] == "retried":
                retried.add(int(w[1]))
            elif w and w[0] == "lost":
                lost += 1
    ids = read_topic()
    missing = [a for a in acked if a not in ids]
    dup = [a for a, r in acked.items() if r not in retried and ids[a] != 1]
    if missing:
        sys.exit("FAIL: %d acknowledged events not on ltrr.actions, e.g. %s"
                 % (len(missing), missing[:3]))
    if dup:
        sys.exit("FAIL: %d events of requests never retried are on the "
                 "topic more than once, e.g. %s" % (len(dup), dup[:3]))
    extra = sum(ids.values()) - len(acked)
    print("verify: %d acknowledged, all on the topic; %d records, %d "
          "repeats or unacknowledged; %d lost requests, %d retried and "
          "answered" % (len(acked), sum(ids.values()), extra, lost,
                        len(retried)))


if __name__ == "__main__":
    if len(sys.argv) in (6, 7) and sys.argv[1] == "load":
        load(float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
             sys.argv[5], int(sys.argv[6]) if len(sys.argv) == 7 else 0)
    elif len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
    else:
        sys.exit(__doc__)
