#!/usr/bin/python3
"""Freshness of the feedback loop, measured on a running stack.

  fresh.py N [QUERY...]

Reads the stack's endpoints from the environment (stack.env). For each of
N actions, one after another: a search on ltrr-serve (its impression goes
to ltrr.impressions), a play on one of its results posted to ltrr-collect
with the impression id, then Redis is polled (every 0.5 ms, one kept
connection) until the played entity's Q2E sum for the normalized query
(online/q2e.h) changes. The latency is from the 202 answer to the first
read that shows the change. Prints one summary line and, with FRESH_OUT
set, every latency (ms) to that file.
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "learn"))
import learnlib  # noqa: E402

TIMEOUT_S = 10.0


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def search(c, q, user):
    path = "/v1/search?" + urllib.parse.urlencode(
        {"q": q, "user": user, "k": 10, "debug": 1})
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError("search %s: %d %s" % (q, r.status, body[:200]))
    return json.loads(body)


def post(c, key, ev):
    c.request("POST", "/v1/events", json.dumps(ev),
              {"Authorization": "Bearer " + key,
               "Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    if r.status != 202:
        raise RuntimeError("collect: %d %s" % (r.status, body[:200]))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    n = int(sys.argv[1])
    queries = sys.argv[2:] or ["love"]
    host, port = os.environ["LTRR_REDIS"].rsplit(":", 1)
    red = learnlib.Resp(host, port)
    sv = conn(os.environ["LTRR_SERVE_URL"])
    co = conn(os.environ["LTRR_COLLECT_URL"])
    key = os.environ["LTRR_API_KEY"]
    lat, lost = [], 0
    for i in range(n):
        user = "fresh-u%d" % (i % 64)
        r = search(sv, queries[i % len(queries)], user)
        res = r["results"]
        if not res:
            raise RuntimeError("no results for %s" % queries[i % len(queries)])
        pos = i % len(res)
        ent = res[pos]["id"]
        zkey = "ltrr:q2e:{q:%s}" % learnlib.esc(r["debug"]["query_norm"])
        before = red.cmd("ZSCORE", zkey, ent)
        post(co, key, {"impression_id": r["impression_id"], "user_id": user,
                       "entity_id": ent, "position": pos, "type": "play"})
        t0 = time.monotonic()
        while red.cmd("ZSCORE", zkey, ent) == before:
            if time.monotonic() - t0 > TIMEOUT_S:
                lost += 1
                break
            time.sleep(0.0005)
        else:
            lat.append((time.monotonic() - t0) * 1000.0)
    if os.environ.get("FRESH_OUT"):
        with open(os.environ["FRESH_OUT"], "w") as f:
            f.write("".join("%.3f\n" % x for x in lat))
    if not lat:
        sys.exit("no action took effect within %.0f s" % TIMEOUT_S)
    print("freshness: actions=%d effects=%d lost=%d p50_ms=%.1f p90_ms=%.1f "
          "p99_ms=%.1f max_ms=%.1f" % (n, len(lat), lost, pct(lat, 50),
                                       pct(lat, 90), pct(lat, 99), max(lat)))
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
