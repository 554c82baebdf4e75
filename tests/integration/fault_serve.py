#!/usr/bin/python3
"""Load and checks for the ltrr-serve crash test (fault_serve_kill.sh).

  load URL SECONDS THREADS OUTFILE
        THREADS clients search for SECONDS seconds, each at most
        RATE_PER_THREAD searches a second. One line per request:
        "ok T IMPRESSION_ID USER" for a 200, "conn T" for a connection
        error (refused, reset, timed out), "code T STATUS" otherwise; T is
        the wall clock (seconds) when the answer or error came.
  verify OUTFILE KILL_T READY_T SETTLE_S SCHEMAS BOOTSTRAP
        Reads ltrr.impressions. Every record decodes as an Impression, is
        keyed by its user, names an impression id some client was
        answered with, carries results, and appears once. Every impression
        answered more than SETTLE_S seconds before KILL_T is on the topic
        (the broker was healthy, so the producer had delivered it). No
        answer other than 200 or a connection error; connection errors
        only between KILL_T and READY_T (plus SETTLE_S). Prints counts.
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

QUERIES = ["love", "rock", "night", "blue", "dance", "summer"]

# The development broker keeps at most 5 MiB per partition and drops the
# oldest records beyond it; an Impression with its logged ranker inputs
# is a few KiB, so an unpaced load on a fast machine would push answered
# impressions out of the topic before the check reads it.
RATE_PER_THREAD = 40


def load(url, seconds, threads, outfile):
    lock, lines = threading.Lock(), []
    end = time.time() + seconds

    def worker(w):
        i, next_t = 0, time.time()
        while time.time() < end:
            next_t += 1.0 / RATE_PER_THREAD
            time.sleep(max(0.0, next_t - time.time()))
            user = "fs-u%d" % ((w * 7 + i) % 23)
            q = QUERIES[(w + i) % len(QUERIES)]
            i += 1
            try:
                with urllib.request.urlopen(
                        "%s/v1/search?q=%s&user=%s" % (url, q, user),
                        timeout=5) as r:
                    body = json.loads(r.read())
                    line = "ok %.3f %s %s" % (time.time(),
                                              body["impression_id"], user)
            except urllib.error.HTTPError as e:
                line = "code %.3f %d" % (time.time(), e.code)
            except (urllib.error.URLError, OSError, ValueError):
                line = "conn %.3f" % time.time()
                time.sleep(0.02)
            with lock:
                lines.append(line)
    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with open(outfile, "w") as f:
        f.write("\n".join(lines) + "\n")


def read_topic(schemas, bootstrap):
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", "ltrr.impressions", "-e", "-q",
         "-f", "%K\n%k%S\n%s"], capture_output=True, timeout=60,
        check=True).stdout
    with open(os.path.join(schemas, "Impression.avsc")) as f:
        reader = avro.io.DatumReader(avro.schema.parse(f.read()))
    recs, pos = [], 0
    while pos < len(out):
        nl = out.index(b"\n", pos)
        n = int(out[pos:nl])
        key = out[nl + 1:nl + 1 + n].decode()
        pos = nl + 1 + n
        nl = out.index(b"\n", pos)
        n = int(out[pos:nl])
        val = out[nl + 1:nl + 1 + n]
        pos = nl + 1 + n
        if val[:2] != b"\xc3\x01":
            sys.exit("FAIL: a record without the single-object magic")
        recs.append((key, reader.read(
            avro.io.BinaryDecoder(io.BytesIO(val[10:])))))
    return recs


def verify(outfile, kill_t, ready_t, settle, schemas, bootstrap):
    answered, conn, other = {}, [], []
    with open(outfile) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "ok":
                answered[w[2]] = (float(w[1]), w[3])
            elif w[0] == "conn":
                conn.append(float(w[1]))
            else:
                other.append(line.strip())
    if other:
        sys.exit("FAIL: %d answers neither 200 nor a connection error, "
                 "e.g. %s" % (len(other), other[:3]))
    outside = [t for t in conn if t < kill_t or t > ready_t + settle]
    if outside:
        sys.exit("FAIL: %d connection errors outside the gap [%.3f, %.3f]"
                 % (len(outside), kill_t, ready_t + settle))
    seen = {}
    for key, rec in read_topic(schemas, bootstrap):
        iid = rec["impression_id"].hex()
        if iid not in answered:
            sys.exit("FAIL: impression %s on the topic was never answered"
                     % iid)
        if key != rec["user_id"] or rec["user_id"] != answered[iid][1]:
            sys.exit("FAIL: impression %s: key %r, user %r, asked by %r"
                     % (iid, key, rec["user_id"], answered[iid][1]))
        if not rec["results"] or not rec["arms"] or not rec["query_norm"]:
            sys.exit("FAIL: impression %s without results, arms or query"
                     % iid)
        seen[iid] = seen.get(iid, 0) + 1
    dups = [i for i, c in seen.items() if c > 1]
    if dups:
        sys.exit("FAIL: %d impressions on the topic twice" % len(dups))
    due = [i for i, (t, _) in answered.items() if t < kill_t - settle]
    missing = [i for i in due if i not in seen]
    if missing:
        sys.exit("FAIL: %d of %d impressions answered over %.1f s before "
                 "the kill are not on the topic, e.g. %s"
                 % (len(missing), len(due), settle, missing[:3]))
    after = sum(1 for t, _ in answered.values() if t > ready_t)
    if after == 0:
        sys.exit("FAIL: no search answered after the restart")
    print("verify: %d answered (%d after the restart), %d on the topic, "
          "%d due before the kill all there; %d connection errors in the "
          "gap" % (len(answered), after, len(seen), len(due), len(conn)))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "load":
        load(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 8 and sys.argv[1] == "verify":
        verify(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]),
               float(sys.argv[5]), sys.argv[6], sys.argv[7])
    else:
        sys.exit(__doc__)
