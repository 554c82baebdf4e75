#!/usr/bin/python3
"""Cross-checks ltrr's Avro single-object codec against python3-avro.

C-written records are decoded here with avro.io.DatumReader, and records
written here with avro.io.DatumWriter are decoded by `ltrr-avro decode`;
both are compared field by field with the records they came from. Exit 77
when python3-avro is missing.
"""
import datetime
import io
import json
import os
import struct
import subprocess
import sys

try:
    import avro.io
    import avro.schema
except ImportError:
    print("SKIP: python3-avro is not installed (apt-get install python3-avro)")
    sys.exit(77)

BIN = os.environ["LTRR_BIN"]
SCHEMAS = os.environ["LTRR_SCHEMAS"]
V2 = os.path.join(os.environ["LTRR_SRC"], "tests", "data", "schemas-v2")
TOOL = os.path.join(BIN, "ltrr-avro")
TYPES = ("Impression", "Action", "Reward")
ADDED = {"Impression": "experiment_id", "Action": "client_version",
         "Reward": "join_latency_ms"}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
checks = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def crc64_avro(data):
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


def fingerprint(path):
    out = subprocess.run([TOOL, "fingerprint", path], check=True,
                         capture_output=True, text=True).stdout.split("\n")
    fp = int(out[0], 16)
    check(crc64_avro(out[1].encode()) == fp,
          "python CRC-64-AVRO of the canonical form of %s" % path)
    return fp


def load(path):
    with open(path) as f:
        return avro.schema.parse(f.read())


def ident(n):
    return bytes(range(n, n + 16)).hex()


def context():
    return {"feature_version": 2, "features": [0.5, -1.25, 3.0, 0.1],
            "query_type": "artist", "hour": 21, "weekday": 4,
            "holiday": False, "user_segment": "heavy"}


def ranker_vec(c):
    """A logged ranker vector: 32 floats exact in float32."""
    return [(c + j) / 8.0 - 2.0 for j in range(32)]


def impressions():
    arms = [{"arm": a, "ran": i % 2 == 0, "budget": 20, "propensity": 0.3,
             "candidates": [{"entity_id": "track:%d%d" % (i, c),
                             "score": 1.0 / (c + 1)} for c in range(12)]}
            for i, a in enumerate(["lexical", "popular", "fuzzy", "memory"])]
    results = [{"entity_id": "track:0%d" % c, "position": c,
                "score": 0.9 - c / 10, "arm_mask": 5,
                "ranker": {"features": ranker_vec(c), "margin": 0.25 * c - 1}
                if c < 4 else None}
               for c in range(10)]
    base = {"schema_version": 1, "event_time_ms": 1764000000123,
            "node_id": "serve-1", "impression_id": ident(1),
            "user_id": "user-42", "session_id": "sess-1",
            "query_raw": "Tayler L\u00f6ve \u266b", "query_norm": "tayler love",
            "lang": "en", "k": 10, "context": context(), "policy": "linucb",
            "model_version": "v17", "exploration_seed": -9876543210,
            "mc_samples": 0, "shadow": True, "total_budget": 80, "arms": arms,
            "results": results}
    return [base, dict(base, session_id=None, arms=[], results=[])]


def actions():
    base = {"schema_version": 1, "event_time_ms": 1764000001000,
            "node_id": "collect-1", "action_id": ident(2),
            "impression_id": ident(1), "received_time_ms": 1764000001050,
            "user_id": "user-42", "entity_id": "track:03", "position": 3,
            "type": "add_to_playlist", "duration_ms": 183000,
            "idempotency_key": "k-1", "app_id": "ios"}
    return [base, dict(base, type="skip", duration_ms=None,
                       idempotency_key=None, app_id=None)]


def rewards():
    base = {"schema_version": 1, "event_time_ms": 1764000001000,
            "node_id": "join-1", "impression_id": ident(1),
            "impression_ref": {"topic": "ltrr.impressions", "partition": 4,
                               "offset": 9876543210},
            "action_ref": {"topic": "ltrr.actions", "partition": 4,
                           "offset": 77},
            "action_id": ident(2), "user_id": "user-42",
            "query_norm": "tayler love", "outcome": "matched",
            "apply_bandit": True, "apply_engagement": True,
            "action_type": "play", "engaged_entity": "track:03",
            "position": 3, "value": 0.8,
            "arm_rewards": [{"arm": "lexical", "ran": True, "budget": 20,
                             "propensity": 0.75, "reward": 0.8}],
            "context": context(), "policy": "linucb", "model_version": "v17",
            "impression_time_ms": 1764000000123,
            "action_time_ms": 1764000001000,
            "ranker_examples": [{"position": p, "label": float(p == 3),
                                 "features": ranker_vec(p),
                                 "margin": 0.25 * p - 1} for p in range(4)]}
    return [base, dict(base, action_ref=None, action_id=None,
                       outcome="no_action", action_type=None,
                       engaged_entity=None, position=None, value=0.0,
                       action_time_ms=None, apply_engagement=False,
                       ranker_examples=None)]


SAMPLES = {"Impression": impressions(), "Action": actions(),
           "Reward": rewards()}


def to_avro(v, key=""):
    """The tool's JSON form to a python3-avro datum."""
    if isinstance(v, dict):
        return {k: to_avro(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [to_avro(x, key) for x in v]
    if key in ("impression_id", "action_id") and isinstance(v, str):
        return bytes.fromhex(v)
    if key.endswith("_time_ms") and isinstance(v, int):
        return EPOCH + datetime.timedelta(milliseconds=v)
    return v


def from_avro(v):
    if isinstance(v, dict):
        return {k: from_avro(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_avro(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, datetime.datetime):
        return (v - EPOCH) // datetime.timedelta(milliseconds=1)
    return v


def same(a, b, path="record"):
    """Deep equality; floats equal after rounding to float32."""
    if isinstance(a, dict) and isinstance(b, dict):
        check(sorted(a) == sorted(b), "%s: keys %s vs %s" % (path, sorted(a),
                                                            sorted(b)))
        for k in a:
            same(a[k], b[k], path + "." + k)
    elif isinstance(a, list) and isinstance(b, list):
        check(len(a) == len(b), "%s: %d vs %d items" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (path, i))
    elif isinstance(a, float) or isinstance(b, float):
        f32 = [struct.unpack("<f", struct.pack("<f", v))[0] for v in (a, b)]
        check(a == b or f32[0] == f32[1], "%s: %r vs %r" % (path, a, b))
    else:
        check(a == b and type(a) == type(b), "%s: %r vs %r" % (path, a, b))


def frames(data):
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    check(pos == len(data), "torn frame at the end of ltrr-avro output")
    return out


def c_to_python(t, fp):
    """C encodes, python3-avro decodes with the v1 and the v2 reader."""
    lines = "".join(json.dumps(r) + "\n" for r in SAMPLES[t]).encode()
    out = subprocess.run([TOOL, "encode", t], input=lines, check=True,
                         capture_output=True).stdout
    recs = frames(out)
    check(len(recs) == len(SAMPLES[t]), "%s: record count" % t)
    v1, v2 = load("%s/%s.avsc" % (SCHEMAS, t)), load("%s/%s.avsc" % (V2, t))
    for rec, want in zip(recs, SAMPLES[t]):
        check(rec[:2] == b"\xc3\x01", "%s: magic" % t)
        check(struct.unpack("<Q", rec[2:10])[0] == fp, "%s: fingerprint" % t)
        for reader in (v1, v2):
            body = io.BytesIO(rec[10:])
            got = avro.io.DatumReader(v1, reader).read(
                avro.io.BinaryDecoder(body))
            check(body.tell() == len(rec) - 10, "%s: body fully read" % t)
            got = from_avro(got)
            if reader is v2:
                check(got.pop(ADDED[t]) is None, "%s: v2 default" % t)
            same(got, want, "C->python " + t)


def python_frame(schema, fp, datum):
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
    body = buf.getvalue()
    return struct.pack(">I", 10 + len(body)) + b"\xc3\x01" + \
        struct.pack("<Q", fp) + body


def python_to_c(t, fp, fp2):
    """python3-avro encodes with v1 and v2, ltrr-avro decodes."""
    v1, v2 = load("%s/%s.avsc" % (SCHEMAS, t)), load("%s/%s.avsc" % (V2, t))
    data = b""
    for r in SAMPLES[t]:
        data += python_frame(v1, fp, to_avro(r))
        extra = 1234 if t == "Reward" else "exp-7"
        data += python_frame(v2, fp2, to_avro(dict(r, **{ADDED[t]: extra})))
    res = subprocess.run([TOOL, "decode", "-w", "%s/%s.avsc" % (V2, t)],
                         input=data, capture_output=True)
    if res.returncode != 0:
        fail("ltrr-avro decode: " + res.stderr.decode())
    got = [json.loads(line) for line in res.stdout.decode().splitlines()]
    check(len(got) == 2 * len(SAMPLES[t]), "%s: decoded count" % t)
    for i, g in enumerate(got):
        check(g.pop("_type") == t, "%s: type" % t)
        same(g, SAMPLES[t][i // 2], "python->C %s #%d" % (t, i))


def main():
    for t in TYPES:
        fp = fingerprint("%s/%s.avsc" % (SCHEMAS, t))
        fp2 = fingerprint("%s/%s.avsc" % (V2, t))
        check(fp != fp2, "%s: v1 and v2 fingerprints differ" % t)
        c_to_python(t, fp)
        python_to_c(t, fp, fp2)
    print("avro_python: %d checks passed" % checks)


if __name__ == "__main__":
    main()
