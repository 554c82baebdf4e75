#!/usr/bin/python3
"""Soak sampler and report for the embedded ltrr stack.

  soak.py sample --stack DIR --out CSV --seconds S [--interval I] [--sim-pid P]
  soak.py report --csv CSV --md FILE --svg FILE --json FILE [--users N]
                 [--rate QPS] [--command TEXT] [--note TEXT]...

`sample` reads, every interval, for each process recorded in DIR/pids/
(ltrr-serve, -collect, -join, -learn, -broker, redis-server): VmRSS and
Threads from /proc/PID/status, the number of entries in /proc/PID/fd and
the CPU seconds (utime + stime) from /proc/PID/stat; Redis INFO
(used_memory, AOF size, keys, keys with a TTL) and, every sixth sample,
the keys per class by SCAN; the daemons' /metrics gauges and counters.
One CSV row per sample.

`report` fits a line to every metric over the second half of the run and
writes a markdown report, an SVG plot and a JSON summary. Exit status: 0
when nothing grows beyond its threshold, 1 when something does, 3 when a
daemon died during the run.

Only the Python standard library is used (Debian's /usr/bin/python3).
"""
import argparse
import json
import math
import os
import re
import socket
import sys
import time
import urllib.request

DAEMONS = ["serve", "collect", "join", "learn", "broker", "redis"]
HTTP_DAEMONS = {"serve": "LTRR_SERVE_URL", "collect": "LTRR_COLLECT_URL",
                "join": "LTRR_JOIN_URL", "learn": "LTRR_LEARN_URL"}
# /metrics families sampled per daemon; a family with labels is summed.
METRICS = {
    "serve": ["queue_depth", "requests_total", "impressions_dropped_total",
              "degraded_total", "redis_errors_total", "kafka_errors_total"],
    "collect": ["queue_depth", "inflight_requests", "events_accepted_total",
                "overloaded_total", "delivery_failures_total"],
    "join": ["pending_impressions", "held_actions", "consumer_lag_records",
             "records_total", "rewards_total", "evicted_total",
             "dangling_actions_total"],
    "learn": ["lag_seconds", "rewards_total", "redis_up", "rejoins_total"],
}
KEY_CLASSES = ["bandit", "q2e", "q2e_meta", "user_recent", "user_aff",
               "pop", "dedup", "offsets", "other"]
SCAN_EVERY = 6
CLK_TCK = os.sysconf("SC_CLK_TCK")


class RedisError(Exception):
    pass


class Redis:
    """A minimal RESP2 client: enough for INFO, SCAN and CONFIG GET."""

    def __init__(self, addr, timeout=5.0):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout)
        self.rd = self.sock.makefile("rb")

    def close(self):
        self.rd.close()
        self.sock.close()

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _reply(self):
        line = self.rd.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.rd.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError("bad reply %r" % line[:40])


def read_env(stack):
    env = {}
    with open(os.path.join(stack, "stack.env")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
    return env


def read_pids(stack):
    pids = {}
    for name in DAEMONS:
        try:
            with open(os.path.join(stack, "pids", name + ".pid")) as f:
                pids[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return pids


def proc_sample(pid):
    """RSS (kB), threads, open fds and CPU seconds of a live process, or
    None when it is gone (or a zombie)."""
    try:
        st = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.split()
        if st.get("State", ["Z"])[0] in ("Z", "X"):
            return None
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, IndexError):
        return None
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return {"rss_kb": int(st["VmRSS"][0]), "threads": int(st["Threads"][0]),
            "fds": fds, "cpu_s": round(cpu, 2)}


def parse_prom(text, families):
    """Sums every sample of each wanted family (labels summed over)."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m or m.group(1) not in families:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        out[m.group(1)] = out.get(m.group(1), 0.0) + v
    return out


def http_sample(name, url):
    fams = {"ltrr_%s_%s" % (name, m): m for m in METRICS[name]}
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=3) as r:
            text = r.read().decode(errors="replace")
    except OSError:
        return {}
    vals = parse_prom(text, fams)
    return {"%s.%s" % (name, fams[k]): v for k, v in vals.items()}


def key_class(key):
    if not key.startswith(b"ltrr:"):
        return "other"
    rest = key[5:]
    for prefix, cls in ((b"bandit:", "bandit"), (b"pop:", "pop"),
                        (b"dedup:", "dedup"), (b"learn:", "offsets")):
        if rest.startswith(prefix):
            return cls
    if rest.startswith(b"q2e:"):
        return "q2e_meta" if rest.endswith(b"}:meta") else "q2e"
    if rest.startswith(b"user:"):
        if rest.endswith(b"}:recent"):
            return "user_recent"
        if rest.endswith(b"}:aff"):
            return "user_aff"
    return "other"


def redis_sample(addr, scan):
    out = {}
    try:
        r = Redis(addr)
    except OSError:
        return out
    try:
        info = {}
        for line in r.cmd("INFO").decode().splitlines():
            k, sep, v = line.partition(":")
            if sep:
                info[k] = v
        out["redis.used_memory"] = int(info.get("used_memory", 0))
        out["redis.aof_bytes"] = int(info.get("aof_current_size", 0))
        out["redis.aof_rewrites"] = int(info.get("aof_rewrites", 0))
        db = dict(kv.split("=") for kv in info.get("db0", "keys=0,expires=0").split(","))
        out["redis.keys"] = int(db.get("keys", 0))
        out["redis.expires"] = int(db.get("expires", 0))
        out["redis.keys_no_ttl"] = out["redis.keys"] - out["redis.expires"]
        out["redis.expired_total"] = int(info.get("expired_keys", 0))
        if scan:
            counts = dict.fromkeys(KEY_CLASSES, 0)
            cursor = b"0"
            while True:
                cursor, keys = r.cmd("SCAN", cursor, "COUNT", 2000)
                for k in keys:
                    counts[key_class(k)] += 1
                if cursor == b"0":
                    break
            for cls, n in counts.items():
                out["keys." + cls] = n
    except (OSError, RedisError, ValueError):
        pass
    finally:
        r.close()
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def sample_once(env, pids, scan, t0, sim_pid):
    row = {"t_s": round(time.monotonic() - t0, 2), "load1": loadavg()}
    for name in DAEMONS:
        ps = proc_sample(pids[name]) if name in pids else None
        row[name + ".alive"] = 1 if ps else 0
        for k, v in (ps or {}).items():
            row["%s.%s" % (name, k)] = v
    if sim_pid:
        row["sim.alive"] = 1 if proc_sample(sim_pid) else 0
    for name, key in HTTP_DAEMONS.items():
        if env.get(key):
            row.update(http_sample(name, env[key]))
    if env.get("LTRR_REDIS"):
        row.update(redis_sample(env["LTRR_REDIS"], scan))
    return row


def columns_for(pids, sim_pid):
    cols = ["t_s", "load1"]
    for name in DAEMONS:
        cols.append(name + ".alive")
        cols += ["%s.%s" % (name, k) for k in ("rss_kb", "threads", "fds", "cpu_s")]
    if sim_pid:
        cols.append("sim.alive")
    for name in HTTP_DAEMONS:
        cols += ["%s.%s" % (name, m) for m in METRICS[name]]
    cols += ["redis.used_memory", "redis.aof_bytes", "redis.aof_rewrites",
             "redis.keys", "redis.expires", "redis.keys_no_ttl",
             "redis.expired_total"]
    cols += ["keys." + c for c in KEY_CLASSES]
    return cols


def cmd_sample(a):
    env = read_env(a.stack)
    pids = read_pids(a.stack)
    cols = columns_for(pids, a.sim_pid)
    t0 = time.monotonic()
    n = 0
    with open(a.out, "w") as f:
        f.write(",".join(cols) + "\n")
        while True:
            last = (n + 1) * a.interval > a.seconds + 1e-6
            row = sample_once(env, pids, n % SCAN_EVERY == 0 or last, t0,
                              a.sim_pid)
            f.write(",".join(fmt(row.get(c)) for c in cols) + "\n")
            f.flush()
            if last:
                break
            n += 1
            delay = t0 + n * a.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    return 0


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return ("%.6g" % v) if not v.is_integer() else str(int(v))
    return str(v)


# ---------------------------------------------------------------- report

def read_csv(path):
    with open(path) as f:
        cols = f.readline().rstrip("\n").split(",")
        data = {c: [] for c in cols}
        for line in f:
            vals = line.rstrip("\n").split(",")
            for c, v in zip(cols, vals):
                data[c].append(float(v) if v != "" else None)
    return cols, data


def fit(ts, ys):
    """Least-squares slope and intercept of the points with a value."""
    pts = [(t, y) for t, y in zip(ts, ys) if y is not None]
    if len(pts) < 2:
        return 0.0, pts[0][1] if pts else 0.0
    n = len(pts)
    mt = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mt) ** 2 for p in pts)
    if sxx == 0:
        return 0.0, my
    b = sum((p[0] - mt) * (p[1] - my) for p in pts) / sxx
    return b, my - b * mt


# Judged metrics: (column regex, unit, scale, relative threshold per minute,
# absolute floor on the fitted growth over the second half, fails run).
# A metric "grows" when its fitted slope exceeds both the relative
# threshold (share of the final value per minute) and floor / half-length.
RULES = [
    (r"^(broker|redis)\.rss_kb$", "MiB", 1 / 1024, 0.01, 1.0, False),
    (r"^(serve|collect|join|learn)\.rss_kb$", "MiB", 1 / 1024, 0.01, 1.0, True),
    (r"^(serve|collect|join|learn|broker|redis)\.fds$", "fds", 1, 0.0, 8.0, True),
    (r"^(serve|collect|join|learn|broker|redis)\.threads$", "threads", 1, 0.0, 1.0, True),
    (r"^join\.(pending_impressions|held_actions)$", "", 1, 0.01, 500.0, True),
    (r"^(serve|collect)\.queue_depth$", "", 1, 0.01, 1000.0, True),
    (r"^collect\.inflight_requests$", "", 1, 0.01, 100.0, True),
    (r"^join\.consumer_lag_records$", "", 1, 0.01, 1000.0, True),
    (r"^learn\.lag_seconds$", "s", 1, 0.01, 10.0, True),
    (r"^redis\.keys_no_ttl$", "keys", 1, 0.0, 8.0, True),
    (r"^redis\.bytes_per_key$", "B", 1, 0.01, 16.0, True),
    (r"^redis\.used_memory$", "MiB", 1 / 2**20, 0.01, 1.0, False),
    (r"^redis\.aof_bytes$", "MiB", 1 / 2**20, 0.01, 1.0, False),
    (r"^redis\.(keys|expires)$", "keys", 1, 0.01, 100.0, False),
    (r"^keys\.", "keys", 1, 0.01, 100.0, False),
]


def rule_for(col):
    for rx, unit, scale, rel, floor, fails in RULES:
        if re.match(rx, col):
            return unit, scale, rel, floor, fails
    return None


def judge(cols, data):
    ts = [t / 60.0 for t in data["t_s"]]
    T = ts[-1] if ts else 0.0
    half = T / 2.0
    rows = []
    for c in cols:
        r = rule_for(c)
        if not r:
            continue
        unit, scale, rel, floor, fails = r
        ys = [None if v is None else v * scale for v in data[c]]
        vals = [y for y in ys if y is not None]
        if not vals:
            continue
        sel = [(t, y) for t, y in zip(ts, ys) if t >= half]
        b, _ = fit([p[0] for p in sel], [p[1] for p in sel])
        last = vals[-1]
        limit = max(rel * abs(last), floor / max(T - half, 1e-9))
        grows = b > limit
        rows.append({"metric": c, "unit": unit, "first": vals[0], "last": last,
                     "max": max(vals), "slope_per_min": b,
                     "limit_per_min": limit, "grows": grows, "fails": fails})
    return rows


def rate_of(data, col):
    """Mean rate per second of a counter over the whole run."""
    ts, ys = data["t_s"], data.get(col) or []
    pts = [(t, y) for t, y in zip(ts, ys) if y is not None]
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


def deriv(ts, ys):
    out = [None]
    for i in range(1, len(ys)):
        if ys[i] is None or ys[i - 1] is None or ts[i] <= ts[i - 1]:
            out.append(None)
        else:
            out.append(max(0.0, (ys[i] - ys[i - 1]) / (ts[i] - ts[i - 1])))
    return out


# Bounds of the Redis key classes (docs/LEARN.md, docs/CONFIG.md).
KEY_BOUNDS = {
    "bandit": "one hash per context bucket; a fixed set, no TTL",
    "q2e": "one zset per distinct normalized query, capped at `q2e.max` "
           "(200) entities, expires after `q2e.ttl` (720 h) without traffic",
    "q2e_meta": "one per distinct query (impression count), same TTL as q2e",
    "user_recent": "one per user with engagement, capped at "
                   "`profile.recent.max` (50), expires after `profile.ttl` "
                   "(2160 h); at most the population",
    "user_aff": "one per user with engagement, capped at "
                "`profile.affinity.max` (200), same TTL; at most the population",
    "pop": "two keys, capped at `pop.max` (100000) entities",
    "dedup": "one 128-byte bitmap per (slot, partition, 1024-offset segment) "
             "touched, expires `dedup.ttl` (24 h) after its last bit: grows "
             "with the reward stream for 24 h, then steady",
    "offsets": "one hash per consumer group",
    "other": "none expected",
}

# Why the metrics judged "grows by design" are bounded.
DESIGN_BOUNDS = {
    "broker.rss_kb": "ltrr-broker is librdkafka's mock cluster, which keeps "
                     "each partition's log up to 5 MiB or 100000 message sets "
                     "and drops the oldest beyond (rd_kafka_mock_partition_"
                     "log_append()); its memory is bounded by the partitions "
                     "written to times that cap (plus allocator overhead)",
    "redis.rss_kb": "follows `redis.used_memory`",
    "redis.used_memory": "the sum of the key classes below; every growing "
                         "class has a TTL or a cap, and `redis.bytes_per_key` "
                         "(judged, must stay flat) shows memory grows with the "
                         "number of keys, not inside them",
    "redis.aof_bytes": "Redis rewrites the AOF when it doubles past 64 MiB "
                       "(auto-aof-rewrite-percentage 100, -min-size 64mb, "
                       "the defaults the stack keeps): at most about twice "
                       "the rewritten dataset",
}

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def series(data, col, scale=1.0):
    return [None if v is None else v * scale for v in data.get(col, [])]


def summed(data, cols):
    out = []
    for vals in zip(*(data.get(c, []) for c in cols)):
        out.append(None if any(v is None for v in vals) else sum(vals))
    return out


def panels(data):
    ts = data["t_s"]
    mib = 1 / 1024.0
    P = []
    P.append(("RSS of the ltrr daemons (MiB)",
              [(d, series(data, d + ".rss_kb", mib)) for d in ("serve", "collect", "join", "learn")]))
    P.append(("Broker and Redis memory (MiB)",
              [("broker RSS", series(data, "broker.rss_kb", mib)),
               ("redis RSS", series(data, "redis.rss_kb", mib)),
               ("redis used_memory", series(data, "redis.used_memory", 1 / 2**20)),
               ("redis AOF size", series(data, "redis.aof_bytes", 1 / 2**20))]))
    P.append(("Open file descriptors",
              [(d, series(data, d + ".fds")) for d in DAEMONS]))
    P.append(("Threads", [(d, series(data, d + ".threads")) for d in DAEMONS]))
    P.append(("Redis keys (total, by class)",
              [("all", series(data, "redis.keys")),
               ("dedup", series(data, "keys.dedup")),
               ("user (recent+aff)", summed(data, ["keys.user_recent", "keys.user_aff"])),
               ("q2e (+meta)", summed(data, ["keys.q2e", "keys.q2e_meta"])),
               ("no TTL", series(data, "redis.keys_no_ttl"))]))
    P.append(("ltrr-join state",
              [("pending impressions", series(data, "join.pending_impressions")),
               ("held actions", series(data, "join.held_actions"))]))
    P.append(("Queues (records / requests)",
              [("serve producer queue", series(data, "serve.queue_depth")),
               ("collect producer queue", series(data, "collect.queue_depth")),
               ("collect in flight", series(data, "collect.inflight_requests")),
               ("join consumer lag", series(data, "join.consumer_lag_records"))]))
    P.append(("Throughput (per second)",
              [("searches", deriv(ts, series(data, "serve.requests_total"))),
               ("events accepted", deriv(ts, series(data, "collect.events_accepted_total"))),
               ("rewards joined", deriv(ts, series(data, "join.rewards_total"))),
               ("rewards learned", deriv(ts, series(data, "learn.rewards_total")))]))
    P.append(("CPU (% of one core)",
              [(d, [None if v is None else 100 * v
                    for v in deriv(ts, series(data, d + ".cpu_s"))]) for d in DAEMONS]))
    P.append(("ltrr-learn lag (s) and load average",
              [("learn lag s", series(data, "learn.lag_seconds")),
               ("load1", series(data, "load1"))]))
    return P


def nice_step(span, n=4):
    if span <= 0:
        return 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def tick_label(v):
    if abs(v) >= 1e6:
        return "%gM" % (v / 1e6)
    if abs(v) >= 1e4:
        return "%gk" % (v / 1e3)
    return "%g" % round(v, 6)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_panel(out, x0, y0, w, h, title, lines, tmin):
    left, right, top, bottom = 52, 10, 22, 26
    pw, ph = w - left - right, h - top - bottom
    allv = [v for _, ys in lines for v in ys if v is not None]
    lo = min(0.0, min(allv)) if allv else 0.0
    hi = max(allv) if allv else 1.0
    step = nice_step(hi - lo)
    hi = math.ceil(hi / step) * step if hi > lo else lo + 1
    lo = math.floor(lo / step) * step
    T = max(tmin[-1], 1e-9)

    def X(t):
        return x0 + left + pw * t / T

    def Y(v):
        return y0 + top + ph * (1 - (v - lo) / (hi - lo))
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f2f2f2"/>'
               % (X(T / 2), y0 + top, pw / 2, ph))
    out.append('<text x="%.1f" y="%.1f" font-size="12" font-weight="bold">%s</text>'
               % (x0 + left, y0 + 14, esc(title)))
    v = lo
    while v <= hi + step / 2:
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                   % (x0 + left, x0 + left + pw, Y(v), Y(v)))
        out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>'
                   % (x0 + left - 4, Y(v) + 3, tick_label(v)))
        v += step
    ts = nice_step(T, 5)
    t = 0.0
    while t <= T + 1e-9:
        out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%g</text>'
                   % (X(t), y0 + top + ph + 13, round(t, 3)))
        t += ts
    out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">minutes</text>'
               % (x0 + left + pw, y0 + top + ph + 24))
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>'
               % (x0 + left, y0 + top, pw, ph))
    for i, (label, ys) in enumerate(lines):
        pts = ["%.1f,%.1f" % (X(t), Y(v)) for t, v in zip(tmin, ys) if v is not None]
        if pts:
            out.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>'
                       % (PALETTE[i % len(PALETTE)], " ".join(pts)))
    lw = 30 + 6 * max([len(lb) for lb, _ in lines] or [0])
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" '
               'fill="white" fill-opacity="0.8"/>'
               % (x0 + left + 3, y0 + top + 2, lw, 12 * len(lines) + 4))
    for i, (label, ys) in enumerate(lines):
        color = PALETTE[i % len(PALETTE)]
        ly = y0 + top + 12 + 12 * i
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>'
                   % (x0 + left + 6, x0 + left + 20, ly - 4, ly - 4, color))
        out.append('<text x="%.1f" y="%.1f" font-size="10">%s</text>'
                   % (x0 + left + 24, ly, esc(label)))


def write_svg(path, data, subtitle):
    tmin = [t / 60.0 for t in data["t_s"]]
    P = panels(data)
    w, h, cols = 520, 210, 2
    rows = (len(P) + cols - 1) // cols
    W, H = w * cols + 20, h * rows + 50
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="sans-serif">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">ltrr soak: %s</text>'
           % esc(subtitle),
           '<text x="10" y="36" font-size="11">grey: second half of the run, '
           'where the slopes are fitted</text>']
    for i, (title, lines) in enumerate(P):
        svg_panel(out, 10 + (i % cols) * w, 44 + (i // cols) * h, w, h,
                  title, lines, tmin)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def num(v, unit=""):
    if v is None:
        return "–"
    if unit == "MiB" or (abs(v) < 100 and not float(v).is_integer()):
        return "%.2f" % v
    return "%d" % round(v)


def metric_table(rows):
    out = ["| metric | unit | first | last | max | slope/min (2nd half) "
           "| limit/min | verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = "flat"
        if r["grows"]:
            verdict = "**GROWS**" if r["fails"] else "grows (bounded by design, below)"
        out.append("| %s | %s | %s | %s | %s | %+.3g | %.3g | %s |" % (
            r["metric"], r["unit"], num(r["first"], r["unit"]),
            num(r["last"], r["unit"]), num(r["max"], r["unit"]),
            r["slope_per_min"], r["limit_per_min"], verdict))
    return out


def last_value(data, col):
    vals = [v for v in data.get(col, []) if v is not None]
    return vals[-1] if vals else None


def md_verdict(a, rows, died, fd_over):
    """The verdict section: deaths, fd bound, growth, growth by design."""
    L = ["## Verdict", ""]
    fails = [r["metric"] for r in rows if r["grows"] and r["fails"]]
    if died:
        L.append("- daemon(s) died during the run: %s" % ", ".join(died))
    if fd_over:
        L.append("- open fds above the bound (%d): %s" % (a.fd_bound, ", ".join(fd_over)))
    if fails:
        L.append("- growing beyond the threshold: %s" % ", ".join(fails))
    expected = [r["metric"] for r in rows if r["grows"] and not r["fails"]]
    if expected:
        L.append("- growing by design, each bounded as stated below (not "
                 "failed): %s" % ", ".join(expected))
    if not (died or fd_over or fails):
        L.append("- every other judged metric is flat over the second half; no "
                 "daemon died; open fds stayed at or below %d per process."
                 % a.fd_bound)
    L += ["", "A metric grows when the slope of a least-squares line through "
          "the samples of the second half exceeds both 1 % of its final value "
          "per minute (0 for fds, threads and keys without TTL) and an absolute "
          "floor spread over the second half (RSS and Redis memory 1 MiB, fds 8, "
          "threads 1, join state 500, queues 1000, in-flight requests 100, "
          "learn lag 10 s, keys without TTL 8, key classes 100).", ""]
    return L


def md_redis(data, rows):
    """The Redis section: metric table, bounds, dedup projection."""
    L = ["## Redis", ""]
    L += metric_table([r for r in rows if r["metric"].startswith(("redis.", "keys."))
                       and not r["metric"].endswith((".rss_kb", ".fds", ".threads"))])
    grown = [r["metric"] for r in rows if r["grows"] and not r["fails"]
             and r["metric"] in DESIGN_BOUNDS]
    if grown:
        L += ["", "What bounds the memory that grows by design:", ""]
        L += ["- `%s`: %s." % (m, DESIGN_BOUNDS[m]) for m in grown]
    L += ["", "What bounds each key class:", ""]
    for cls in KEY_CLASSES:
        L.append("- `%s` (%s at the end): %s." % (
            cls, num(last_value(data, "keys." + cls)), KEY_BOUNDS[cls]))
    mem_rows = [r for r in rows if r["metric"] == "redis.used_memory"]
    dedup = [r for r in rows if r["metric"] == "keys.dedup"]
    if mem_rows and dedup:
        L += ["", "Projection at this rate: `dedup` keys grow by %.0f per minute, "
              "so about %.3g keys once `dedup.ttl` (24 h) expires the first ones; "
              "Redis memory grows by %.2f MiB per minute over the second half, "
              "at most %.1f GiB after 24 h if that slope held (the user and query "
              "classes saturate, so the real figure is lower)."
              % (dedup[0]["slope_per_min"], dedup[0]["slope_per_min"] * 1440,
                 mem_rows[0]["slope_per_min"],
                 mem_rows[0]["slope_per_min"] * 1440 / 1024)]
    return L


def md_counters(data, T):
    """Counter totals and rates, and CPU seconds per process and search."""
    L = ["## Throughput, counters and CPU", "",
         "| counter | total at the end | mean per second |", "|---|---|---|"]
    for c in sorted(k for k in data if k.endswith("_total")):
        L.append("| %s | %s | %.2f |" % (c, num(last_value(data, c)), rate_of(data, c) or 0))
    L += ["", "| process | CPU seconds | mean % of one core | ms CPU per search |",
          "|---|---|---|---|"]
    reqs = [v for v in data.get("serve.requests_total", []) if v is not None]
    searches = reqs[-1] - reqs[0] if reqs else 0
    for d in DAEMONS:
        vals = [v for v in series(data, d + ".cpu_s") if v is not None]
        if len(vals) < 2:
            continue
        used = vals[-1] - vals[0]
        L.append("| %s | %.1f | %.1f | %s |" % (
            d, used, 100 * used / max(T, 1e-9),
            "%.3f" % (1000 * used / searches) if searches > 0 else "–"))
    return L


def write_md(path, a, data, rows, died, fd_over, svg_name):
    T = data["t_s"][-1] if data["t_s"] else 0.0
    qps = rate_of(data, "serve.requests_total")
    L = ["# Soak report", ""]
    if a.command:
        L += ["Command: `%s`" % a.command, ""]
    L.append("Duration %.1f min, %d samples every %.0f s; target rate %s qps, "
             "measured %.1f searches/s; %s simulated users."
             % (T / 60, len(data["t_s"]), data["t_s"][1] - data["t_s"][0]
                if len(data["t_s"]) > 1 else 0, a.rate or "?", qps or 0,
                a.users or "?"))
    for n in a.note or []:
        L += ["", n]
    L += ["", "![curves](%s)" % svg_name, ""]
    L += md_verdict(a, rows, died, fd_over)
    L += ["## Processes and daemon gauges", ""]
    L += metric_table([r for r in rows if not r["metric"].startswith(("redis.", "keys."))
                       or r["metric"].endswith((".rss_kb", ".fds", ".threads"))])
    L += [""] + md_redis(data, rows) + [""] + md_counters(data, T)
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def cmd_report(a):
    cols, data = read_csv(a.csv)
    if len(data.get("t_s", [])) < 2:
        print("soak: fewer than two samples in %s" % a.csv, file=sys.stderr)
        return 3
    mem, keys = data.get("redis.used_memory", []), data.get("redis.keys", [])
    data["redis.bytes_per_key"] = [m / k if m is not None and k else None
                                   for m, k in zip(mem, keys)]
    cols.append("redis.bytes_per_key")
    rows = judge(cols, data)
    died = [d for d in DAEMONS + ["sim"] if d + ".alive" in data
            and any(v == 0 for v in data[d + ".alive"])]
    fd_max = {d: max(v for v in data[d + ".fds"] if v is not None)
              for d in DAEMONS if any(v is not None for v in data.get(d + ".fds", []))}
    fd_over = ["%s (%d)" % (d, m) for d, m in fd_max.items() if m > a.fd_bound]
    if a.users:
        for cls in ("user_recent", "user_aff"):
            v = last_value(data, "keys." + cls)
            if v is not None and v > a.users:
                rows.append({"metric": "keys.%s above the population" % cls,
                             "unit": "keys", "first": v, "last": v, "max": v,
                             "slope_per_min": 0, "limit_per_min": a.users,
                             "grows": True, "fails": True})
    growing = [r["metric"] for r in rows if r["grows"] and r["fails"]]
    T = data["t_s"][-1]
    subtitle = "%.1f min at %s qps, %s users" % (T / 60, a.rate or "?", a.users or "?")
    write_svg(a.svg, data, subtitle)
    write_md(a.md, a, data, rows, died, fd_over, os.path.basename(a.svg))
    verdict = "died" if died else ("grows" if growing or fd_over else "flat")
    summary = {"verdict": verdict, "died": died, "growing": growing,
               "fd_max": fd_max, "fd_bound": a.fd_bound, "duration_s": T,
               "samples": len(data["t_s"]),
               "searches_per_s": rate_of(data, "serve.requests_total"),
               "expected_growth": [r["metric"] for r in rows
                                   if r["grows"] and not r["fails"]],
               "metrics": {r["metric"]: {k: r[k] for k in (
                   "first", "last", "max", "slope_per_min", "limit_per_min",
                   "grows", "fails")} for r in rows}}
    with open(a.json, "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    print("soak: %s (died: %s; growing: %s; fd max: %s)" % (
        verdict, ",".join(died) or "none", ",".join(growing + fd_over) or "none",
        " ".join("%s=%d" % kv for kv in fd_max.items())), file=sys.stderr)
    return 3 if died else (1 if growing or fd_over else 0)


def main():
    ap = argparse.ArgumentParser(prog="soak.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--stack", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--interval", type=float, default=5.0)
    s.add_argument("--sim-pid", type=int, default=0)
    r = sub.add_parser("report")
    r.add_argument("--csv", required=True)
    r.add_argument("--md", required=True)
    r.add_argument("--svg", required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--users", type=int, default=0)
    r.add_argument("--rate", default="")
    r.add_argument("--fd-bound", type=int, default=256)
    r.add_argument("--command", default="")
    r.add_argument("--note", action="append")
    a = ap.parse_args()
    return cmd_sample(a) if a.cmd == "sample" else cmd_report(a)


if __name__ == "__main__":
    sys.exit(main())
