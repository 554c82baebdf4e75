#!/usr/bin/env python3
"""A stand-in for ltrr-serve and ltrr-collect with a known ranking, so
ltrr-sim can be tested end to end without the real daemons.

  sim_fake_server.py --port-file F --mode empty|perfect|shifted
                     [--trace TRACE.jsonl] [--api-key KEY]

Search (GET /v1/search) answers by mode:
  empty    no results;
  perfect  the ideal list of the query (from a trace written by an
           earlier ltrr-sim run with the same seed), best first;
  shifted  two unknown ids, then the ideal list (cut to k).
The n-th search (counting from 0) reports arms ["lexical"], plus "fuzzy"
when n % 4 == 0, and 10 candidates per arm; a request's arms= parameter,
when given, is reported instead.

Events (POST /v1/events) need "Authorization: Bearer KEY"; each event is
checked against the impression it names. GET /stats returns the counts.
"""
import argparse
import json
import os
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT_TYPES = {"click", "play", "like", "add_to_playlist", "share", "skip"}


class State:
    def __init__(self, mode, ideal, key):
        self.mode = mode
        self.ideal = ideal      # seq -> [ids]
        self.key = key
        self.lock = threading.Lock()
        self.searches = 0
        self.impressions = {}   # impression id -> (user, {id: position})
        self.events = 0
        self.bad_events = []
        self.posts = 0
        self.unauthorized = 0
        self.policies = {}      # policy= value -> count
        self.arms_params = {}   # seq -> arms= value
        self.types = {}


def load_trace(path):
    ideal = {}
    if path:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                ideal[rec["seq"]] = [x["id"] for x in rec["ideal"]]
    return ideal


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and
        # delayed ACKs add 40 ms to every answer on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path == "/stats":
            return self.stats()
        need = ("q", "user", "session", "k", "lang", "debug")
        if url.path != "/v1/search" or any(f not in q for f in need):
            return self.reply(400, {"error": "bad request"})
        st = self.server.state
        session = q.get("session", [""])[0]
        seq = int(session.rsplit("-", 1)[1]) if session.count("-") >= 2 else -1
        with st.lock:
            n = st.searches
            st.searches += 1
            for p in q.get("policy", []):
                st.policies[p] = st.policies.get(p, 0) + 1
            if "arms" in q:
                st.arms_params[seq] = q["arms"][0]
        if "arms" in q:
            arms = q["arms"][0].split(",")
        else:
            arms = ["lexical"] + (["fuzzy"] if n % 4 == 0 else [])
        ids = []
        if st.mode in ("perfect", "shifted"):
            ids = list(st.ideal.get(seq, []))
        if st.mode == "shifted":
            ids = ["zz-unknown-1", "zz-unknown-2"] + ids
        k = int(q.get("k", ["10"])[0])
        ids = ids[:k]
        imp = "%032x" % (n + 1)
        results = [{"id": e, "type": "track", "name": e, "artists": [],
                    "score": 1.0 - i / 100.0, "position": i + 1,
                    "arms": arms[:1]} for i, e in enumerate(ids)]
        with st.lock:
            st.impressions[imp] = (q["user"][0],
                                   {e: i + 1 for i, e in enumerate(ids)})
        # A context bucket and a degraded flag the trace must carry: both
        # from the query's length, which the test recomputes.
        qlen = len(q["q"][0])
        self.reply(200, {"impression_id": imp, "degraded": qlen % 2 == 1,
                         "results": results, "policy": "fake",
                         "model_version": "0",
                         "debug": {"arms": arms, "bucket": qlen,
                                   "candidates": 10 * len(arms)}})

    def stats(self):
        st = self.server.state
        with st.lock:
            self.reply(200, {"searches": st.searches, "events": st.events,
                             "bad_events": st.bad_events[:10],
                             "bad_count": len(st.bad_events),
                             "posts": st.posts,
                             "unauthorized": st.unauthorized,
                             "policies": st.policies,
                             "arms_params": st.arms_params,
                             "types": st.types})

    def check(self, ev):
        st = self.server.state
        need = ("impression_id", "user_id", "entity_id", "position", "type",
                "event_time_ms")
        if not isinstance(ev, dict) or any(f not in ev for f in need):
            return "missing field"
        if ev["type"] not in EVENT_TYPES:
            return "bad type"
        imp = st.impressions.get(ev["impression_id"])
        if not imp:
            return "unknown impression"
        user, pos = imp
        if ev["user_id"] != user:
            return "wrong user"
        if pos.get(ev["entity_id"]) != ev["position"]:
            return "entity/position not shown"
        if ev["type"] in ("play", "skip") and "duration_ms" not in ev:
            return "play without duration"
        if ev["type"] == "skip" and ev["duration_ms"] >= 30000:
            return "long skip"
        return None

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path != "/v1/events":
            return self.reply(404, {"error": "not found"})
        if self.headers.get("Authorization") != "Bearer " + st.key:
            with st.lock:
                st.unauthorized += 1
            return self.reply(401, {"error": "unauthorized"})
        try:
            events = json.loads(body)
        except ValueError:
            return self.reply(400, {"error": "bad json"})
        with st.lock:
            st.posts += 1
            for ev in events:
                err = self.check(ev)
                if err:
                    st.bad_events.append([err, ev])
                else:
                    st.events += 1
                    st.types[ev["type"]] = st.types.get(ev["type"], 0) + 1
        self.reply(202, {"accepted": len(events)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mode", default="empty",
                    choices=("empty", "perfect", "shifted"))
    ap.add_argument("--trace")
    ap.add_argument("--api-key", default="test-key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(a.mode, load_trace(a.trace), a.api_key)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
