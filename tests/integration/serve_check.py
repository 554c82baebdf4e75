#!/usr/bin/python3
"""Checks an Impression read from ltrr.impressions against the search
response that produced it (serve_search.sh)."""
import io
import json
import os
import re
import sys
import time

import avro.io
import avro.schema


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def eq(got, want, what):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


def ctx_dim():
    """LTRR_FEATURE_CTX_DIM from online/feature.h (the layout in force)."""
    src = os.environ.get("LTRR_SRC") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(src, "online", "feature.h")) as f:
        m = re.search(r"#define\s+LTRR_FEATURE_CTX_DIM\s+(\d+)", f.read())
    if not m:
        fail("LTRR_FEATURE_CTX_DIM not found in online/feature.h")
    return int(m.group(1))


def decode(raw, schema_path):
    key, _, value = raw.partition(b"\t")
    if value[:2] != b"\xc3\x01":
        fail("not a single-object record")
    schema = avro.schema.parse(open(schema_path).read())
    rec = avro.io.DatumReader(schema).read(
        avro.io.BinaryDecoder(io.BytesIO(value[10:])))
    return key.decode(), rec


def check(resp_path, rec_path, schema_path):
    resp = json.load(open(resp_path))
    key, rec = decode(open(rec_path, "rb").read(), schema_path)
    dbg = resp["debug"]
    imp_id = rec["impression_id"]
    imp_hex = imp_id.hex() if isinstance(imp_id, bytes) else imp_id
    eq(imp_hex, resp["impression_id"], "impression_id")
    eq(key, "u-test", "record key")
    eq(rec["schema_version"], 1, "schema_version")
    t = rec["event_time_ms"]
    t = t.timestamp() if hasattr(t, "timestamp") else t / 1000.0
    if abs(t - time.time()) > 300:
        fail("event_time_ms far from now")
    if not rec["node_id"]:
        fail("empty node_id")
    eq(rec["user_id"], "u-test", "user_id")
    eq(rec["session_id"], "s1", "session_id")
    eq(rec["query_raw"], "love", "query_raw")
    eq(rec["query_norm"], dbg["query_norm"], "query_norm")
    eq(rec["lang"], "en", "lang")
    eq(rec["k"], 5, "k")
    eq(len(rec["context"]["features"]), ctx_dim(),
       "context features (LTRR_FEATURE_CTX_DIM)")
    eq(rec["policy"], resp["policy"], "policy")
    eq(rec["model_version"], resp["model_version"], "model_version")
    eq(rec["exploration_seed"], dbg["seed"], "exploration_seed")
    eq(rec["mc_samples"], dbg["mc_samples"], "mc_samples")
    eq(rec["shadow"], dbg["shadow"], "shadow")
    eq(rec["total_budget"], dbg["total_budget"], "total_budget")
    eq(len(rec["arms"]), len(dbg["arms"]), "arm count")
    for got, want in zip(rec["arms"], dbg["arms"]):
        eq(got["arm"], want["arm"], "arm name")
        eq(got["ran"], want["ran"], "arm ran " + want["arm"])
        eq(got["budget"], want["budget"], "arm budget " + want["arm"])
        if abs(got["propensity"] - want["probability"]) > 1e-9:
            fail("propensity of " + want["arm"])
        if len(got["candidates"]) > got["budget"]:
            fail("more candidates than budget for " + want["arm"])
    eq([r["entity_id"] for r in rec["results"]],
       [r["id"] for r in resp["results"]], "result ids")
    eq([r["position"] for r in rec["results"]],
       list(range(len(resp["results"]))), "positions")
    for got, want in zip(rec["results"], resp["results"]):
        if abs(got["score"] - want["score"]) > 1e-4:
            fail("result score of " + want["id"])
    print("impression ok: %d arms, %d results" % (len(rec["arms"]),
                                                  len(rec["results"])))


if __name__ == "__main__":
    check(sys.argv[2], sys.argv[3], sys.argv[4])
