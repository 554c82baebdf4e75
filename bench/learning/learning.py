#!/usr/bin/python3
"""Learning bench: the learned policy against static arm subsets, uniform
random and the oracle, on the same simulated population and seed.

Every configuration runs on a fresh embedded stack (tools/stack.sh up in
its own directory, sharing one prebuilt index), so nothing learned in one
configuration reaches another. Protocol (docs/LEARNING.md):

1. the arm names are read from a debug=1 answer of ltrr-serve;
2. screening: every static subset of at most --max-size arms, plus the
   all-arms subset, runs --screen-queries searches;
3. the --top best screened subsets, the all-arms subset, the learned
   policy, uniform random and the oracle run --queries searches;
4. best_static is the best full-length static subset.

Standard library only (Debian python3).
"""
import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Short join window and consumers that do not idle on empty fetches, so the
# rewards of a search reach Redis within seconds (as in docs/E2E.md).
STACK_ENV = {
    "LTRR_WINDOW": "2s",
    "LTRR_IDLE": "1s",
    "LTRR_LATENESS": "200ms",
    "LTRR_KAFKA_X_FETCH_WAIT_MAX_MS": "10",
    "LTRR_KAFKA_X_LINGER_MS": "1",
    # A degraded answer (Redis state later than state.timeout) has no Q2E
    # memory and no profile, so the memory and personal arms find nothing.
    # On a box shared by several stacks the default 5 ms is missed under
    # load, which would measure the CPU contention, not the policy.
    "LTRR_STATE_TIMEOUT": "100ms",
}


def log(msg):
    print("learning: " + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/learning/run.sh")
    p.add_argument("--seed", default="1",
                   help="simulation seed, or a comma list (one bench each)")
    p.add_argument("--queries", type=int, default=50000,
                   help="searches per full-length configuration")
    p.add_argument("--screen-queries", type=int, default=0,
                   help="searches per screened subset (default queries/10)")
    p.add_argument("--max-size", type=int, default=3,
                   help="largest static subset screened (all-arms always)")
    p.add_argument("--top", type=int, default=3,
                   help="screened subsets rerun at full length")
    p.add_argument("--screen-margin", type=float, default=0.01,
                   help="also rerun every subset screened within this "
                        "much success@10 of the last of the --top (the "
                        "screen's noise at 2,000 queries is about 0.01)")
    p.add_argument("--catalog", type=int, default=20000,
                   help="synthetic catalog size (index seed 1)")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--rate", type=int, default=300,
                   help="searches per second; above ~500 here the sim drops "
                   "event posts and the learners see fewer rewards")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--jobs", type=int, default=1,
                   help="seeds benched at the same time, each on its own "
                   "stacks (the sim's rate is per seed)")
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "LEARNING.md"))
    p.add_argument("--svg", default=os.path.join(ROOT, "docs",
                                                 "learning-curve.svg"))
    p.add_argument("--no-doc", action="store_true",
                   help="do not rewrite the doc and the plot")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (logs) after the run")
    p.add_argument("--json", action="store_true",
                   help="last line of stdout: one JSON object")
    p.add_argument("--render-json", metavar="FILE",
                   help="run nothing: rewrite the doc (not the plot) from "
                   "the --json line of an earlier run with these options")
    a = p.parse_args(argv)
    try:
        a.seeds = [int(s) for s in a.seed.split(",") if s != ""]
    except ValueError:
        p.error("--seed: integers expected")
    if (not a.seeds or a.queries < 1 or a.max_size < 1 or a.top < 0 or
            a.jobs < 1 or not 0.0 <= a.screen_margin <= 1.0):
        p.error("bad --seed, --queries, --max-size, --top or "
                "--screen-margin")
    if a.screen_queries <= 0:
        a.screen_queries = max(100, a.queries // 10)
    return a


class Bench:
    """Runs configurations, each on its own stack."""

    def __init__(self, args, work):
        self.a = args
        self.work = work
        self.bin = os.environ.get("LTRR_BIN", os.path.join(ROOT, "build",
                                                            "bin"))
        self.index = os.path.join(work, "catalog.idx")
        self.nstack = 0
        self.stack_s = 0.0
        self.lock = threading.Lock()
        self.ref_date = time.strftime("%Y-%m-%d", time.gmtime())

    def build_index(self):
        # --ann: the fuzzy arm's n-gram HNSW, as tools/stack.sh builds it.
        # --ref-date: the catalog's "today" is the day the stacks run, the
        # day the fresh arm reads from the request time; the simulator
        # gets the same date in --catalog.
        cmd = [os.path.join(self.bin, "ltrr-index"), "build", "--synthetic",
               str(self.a.catalog), "--seed", "1", "--ann",
               "--ref-date", self.ref_date, "--output", self.index]
        with open(os.path.join(self.work, "index.log"), "w") as out:
            subprocess.run(cmd, stdout=out, stderr=out, check=True)

    def stack_up(self, name):
        with self.lock:
            self.nstack += 1
            n = self.nstack
        # Numbered, not named: the broker's control socket path under it
        # must stay within the 107 bytes of a Unix socket address.
        d = os.path.join(self.work, "stack-%03d" % n)
        env = dict(os.environ, LTRR_BIN=self.bin, **STACK_ENV)
        t0 = time.time()
        with open(d + ".log", "w") as out:
            r = subprocess.run([os.path.join(ROOT, "tools", "stack.sh"), "up",
                                d, "--index", self.index], env=env,
                               stdout=out, stderr=out)
        with self.lock:
            self.stack_s += time.time() - t0
        if r.returncode != 0:
            self.stack_down(d)
            raise RuntimeError("stack up failed; see %s.log" % d)
        senv = {}
        with open(os.path.join(d, "stack.env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                senv[k] = v
        for k in ("LTRR_SERVE_URL", "LTRR_COLLECT_URL", "LTRR_LEARN_URL",
                  "LTRR_JOIN_URL"):
            if not senv.get(k):
                self.stack_down(d)
                raise RuntimeError("stack has no %s (daemon not built?)" % k)
        return d, senv

    def stack_down(self, d):
        """Kills the stack's recorded processes (by their recorded pids)
        all at once (tools/stack.sh down stops them one by one, ~12 s here),
        then lets stack.sh clean up whatever is left."""
        t0 = time.time()
        pids = []
        pdir = os.path.join(d, "pids")
        for name in os.listdir(pdir) if os.path.isdir(pdir) else []:
            if name.endswith(".pid"):
                try:
                    with open(os.path.join(pdir, name)) as f:
                        pids.append(int(f.read().strip()))
                except (OSError, ValueError):
                    pass
        # SIGKILL: the stack and its data are thrown away, and a graceful
        # stop costs ~3 s per configuration (the broker).
        for sig in (9,):
            for p in pids:
                if alive(p):
                    try:
                        os.kill(p, sig)
                    except OSError:
                        pass
            deadline = time.time() + 5
            while time.time() < deadline and any(alive(p) for p in pids):
                time.sleep(0.05)
        with open(d + ".log", "a") as out:
            subprocess.run([os.path.join(ROOT, "tools", "stack.sh"), "down",
                            d], stdout=out, stderr=out)
        with self.lock:
            self.stack_s += time.time() - t0
        if not self.a.keep:
            shutil.rmtree(d, ignore_errors=True)

    def discover_arms(self):
        d, senv = self.stack_up("arms")
        try:
            q = urllib.parse.urlencode({"q": "love", "k": 1, "debug": 1})
            url = senv["LTRR_SERVE_URL"] + "/v1/search?" + q
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
            arms = [x["arm"] if isinstance(x, dict) else x
                    for x in body["debug"]["arms"]]
            # The learned answer's total is what its policy chose; a static
            # answer with every arm carries the configured total budget.
            q = urllib.parse.urlencode({"q": "love", "k": 1, "debug": 1,
                                        "arms": ",".join(arms)})
            url = senv["LTRR_SERVE_URL"] + "/v1/search?" + q
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
            # An arm the index cannot serve (semantic without vectors) does
            # not run even when asked for: it is no static choice, and the
            # policy never gets it either.
            ran = [x["arm"] for x in body["debug"]["arms"]
                   if isinstance(x, dict) and x.get("ran")]
            gone = [a for a in arms if a not in ran]
            if gone:
                log("unavailable on this index, left out: %s"
                    % " ".join(gone))
            return [a for a in arms if a in ran], \
                body["debug"].get("total_budget")
        finally:
            self.stack_down(d)

    def run(self, name, seed, queries, policy=None, arms=None):
        """One configuration on a fresh stack: the sim's JSON summary."""
        d, senv = self.stack_up(name)
        try:
            cmd = [os.path.join(self.bin, "ltrr-sim"),
                   "--serve", senv["LTRR_SERVE_URL"],
                   "--collect", senv["LTRR_COLLECT_URL"],
                   "--api-key", senv["LTRR_API_KEY"],
                   "--queries", str(queries), "--seed", str(seed),
                   "--rate", str(self.a.rate),
                   "--concurrency", str(self.a.concurrency),
                   "--users", str(self.a.users),
                   "--catalog", "synthetic:%d:1:%s" % (self.a.catalog,
                                                         self.ref_date),
                   "--json"]
            if policy:
                cmd += ["--policy", policy]
            if arms:
                cmd += ["--arms", ",".join(arms)]
            t0 = time.time()
            log("%s: stack %s" % (name, d))
            with open(d + ".sim.log", "w") as err:
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err,
                                   universal_newlines=True)
            lines = r.stdout.strip().splitlines()
            if r.returncode != 0 or not lines:
                raise RuntimeError("ltrr-sim failed (%d); see %s.sim.log"
                                   % (r.returncode, d))
            res = json.loads(lines[-1])
            log("%-34s seed %d  %6d queries  success@10 %.4f  "
                "cands %s  errors %d  %.1fs" % (
                    name, seed, res.get("queries", 0),
                    res.get("success_at_10") or 0.0,
                    res.get("mean_candidates"), res.get("errors", 0),
                    time.time() - t0))
            return res
        finally:
            self.stack_down(d)


def alive(pid):
    """True while pid runs (a zombie counts as stopped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def subset_name(arms):
    return ",".join(arms)


def best_per_kind(runs):
    """{kind: (success@10, subset, queries)}: the best run per intent kind."""
    best = {}
    for name, res in runs.items():
        for kind, st in (res.get("kinds") or {}).items():
            s = st.get("success_at_10")
            if s is None:
                continue
            if s > best.get(kind, (-1.0, "", 0))[0]:
                best[kind] = (s, name, st.get("queries", 0))
    return best


def empirical_oracle(runs):
    """Best static subset per intent kind, weighted by the kinds' shares."""
    best = best_per_kind(runs)
    total = sum(q for _, _, q in best.values())
    if total == 0:
        return None
    return sum(s * q for s, _, q in best.values()) / total


def run_seed(b, arms, seed):
    a = b.a
    everything = tuple(arms)
    subsets = []
    for size in range(1, min(a.max_size, len(arms)) + 1):
        subsets += list(itertools.combinations(arms, size))
    if everything not in subsets:
        subsets.append(everything)
    screen = {}
    for s in subsets:
        res = b.run("screen-" + subset_name(s), seed, a.screen_queries,
                    arms=s)
        screen[subset_name(s)] = res
    def screened(s):
        return screen[subset_name(s)]["success_at_10"] or 0.0
    ranked = sorted(subsets, key=lambda s: -screened(s))
    finalists = ranked[:a.top]
    if finalists:
        cut = screened(finalists[-1]) - a.screen_margin
        finalists += [s for s in ranked[a.top:] if screened(s) >= cut]
    if everything not in finalists:
        finalists.append(everything)
    full = {}
    for s in finalists:
        full[subset_name(s)] = b.run("static-" + subset_name(s), seed,
                                     a.queries, arms=s)
    pol = {}
    for p in ("learned", "uniform", "oracle"):
        pol[p] = b.run(p, seed, a.queries, policy=p)
    return {"screen": screen, "static": full, "policies": pol,
            "finalists": [subset_name(s) for s in finalists]}


def run_seeds(b, arms, budget, a):
    """Every seed, a.jobs at a time: their summaries in seed order and the
    first seed's learning curves."""
    done, errors = {}, []

    def one(seed):
        try:
            done[seed] = run_seed(b, arms, seed)
        except (RuntimeError, OSError, subprocess.CalledProcessError,
                KeyError, ValueError) as e:
            errors.append(e)

    for i in range(0, len(a.seeds), a.jobs):
        threads = [threading.Thread(target=one, args=(seed,))
                   for seed in a.seeds[i:i + a.jobs]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    sums = [summarize(seed, done[seed], arms, budget, a)
            for seed in a.seeds]
    first = done[a.seeds[0]]
    return sums, curves(first, sums[0]["best_static_arms"], arms)


def s10(res):
    v = res.get("success_at_10")
    return float(v) if v is not None else 0.0


def summarize(seed, r, arms, budget, args):
    static = r["static"]
    best = max(static, key=lambda k: s10(static[k]))
    all_name = subset_name(arms)
    pol = r["policies"]
    learned = s10(pol["learned"])
    out = {
        "seed": seed,
        "queries": args.queries,
        "screen_queries": args.screen_queries,
        "learned": learned,
        "best_static": s10(static[best]),
        "best_static_arms": best,
        "oracle": s10(pol["oracle"]),
        "uniform": s10(pol["uniform"]),
        "oracle_empirical": empirical_oracle(r["screen"]),
        "static": {k: s10(v) for k, v in static.items()},
        "screen": {k: s10(v) for k, v in r["screen"].items()},
        "mean_candidates": {
            "learned": pol["learned"].get("mean_candidates"),
            "all_arms_split": static[all_name].get("mean_candidates"),
            "all_arms_full_budget": (len(arms) * budget) if budget else None,
        },
        "ndcg_at_10": {"learned": pol["learned"].get("ndcg_at_10"),
                       "best_static": static[best].get("ndcg_at_10"),
                       "oracle": pol["oracle"].get("ndcg_at_10")},
        "arm_share_learned": pol["learned"].get("arm_share"),
        "kinds": kinds_summary(r, best),
        "errors": sum(int(v.get("errors") or 0) for v in
                      list(static.values()) + list(pol.values())),
        "events_dropped": sum(int((v.get("events") or {}).get("dropped") or 0)
                              for v in list(static.values()) +
                              list(pol.values()) +
                              list(r["screen"].values())),
    }
    bs = out["best_static"]
    out["vs_best_static"] = (learned / bs - 1.0) if bs > 0 else None
    out["vs_oracle"] = (learned / out["oracle"] - 1.0) \
        if out["oracle"] > 0 else None
    full = out["mean_candidates"]["all_arms_full_budget"]
    lc = out["mean_candidates"]["learned"]
    out["candidate_saving"] = (1.0 - lc / full) if full and lc else None
    return out


def kinds_summary(r, best):
    """Per intent kind: queries, success@10 of learned, best static,
    oracle, and the best screened subset of that kind."""
    out = {}
    pol = r["policies"]
    screened = best_per_kind(r["screen"])
    for kind, st in (pol["learned"].get("kinds") or {}).items():
        def k10(res):
            v = ((res.get("kinds") or {}).get(kind) or {}).get(
                "success_at_10")
            return float(v) if v is not None else None
        sb = screened.get(kind)
        out[kind] = {"queries": st.get("queries", 0),
                     "learned": k10(pol["learned"]),
                     "best_static": k10(r["static"][best]),
                     "oracle": k10(pol["oracle"]),
                     "screen_best": sb[0] if sb else None,
                     "screen_best_arms": sb[1] if sb else None,
                     "arm_share_learned": st.get("arm_share")}
    return out


def curves(r, best, arms):
    """(label, [(x, success@10)]) for the plot."""
    out = []
    pol = r["policies"]
    short = "all arms" if best == subset_name(arms) else best
    series = [("learned", pol["learned"]), ("oracle", pol["oracle"]),
              ("best static (" + short + ")", r["static"][best]),
              ("all arms", r["static"][subset_name(arms)]),
              ("uniform", pol["uniform"])]
    for label, res in series:
        pts = []
        for p in (res.get("series") or {}).get("points", []):
            if p.get("success_at_10") is None or not p.get("queries"):
                continue
            pts.append((p["from"] + p["queries"], p["success_at_10"]))
        out.append((label, pts))
    return out


COLORS = ["#d62728", "#2ca02c", "#1f77b4", "#9467bd", "#7f7f7f"]


def svg_plot(lines, title):
    w, h, ml, mr, mt, mb = 800, 420, 60, 280, 40, 50
    pw, ph = w - ml - mr, h - mt - mb
    xmax = max([x for _, pts in lines for x, _ in pts] + [1])
    ys = [y for _, pts in lines for _, y in pts] or [0.0, 1.0]
    ylo = max(0.0, int(min(ys) * 10) / 10.0)
    yhi = min(1.0, int(max(ys) * 10 + 1) / 10.0)
    if yhi <= ylo:
        yhi = ylo + 0.1

    def px(x):
        return ml + pw * x / xmax

    def py(y):
        return mt + ph * (1 - (y - ylo) / (yhi - ylo))

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
         % (w, h, w, h),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="14">%s</text>' % (ml, title)]
    steps = 5
    for i in range(steps + 1):
        y = ylo + (yhi - ylo) * i / steps
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                 % (ml, ml + pw, py(y), py(y)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>'
                 % (ml - 6, py(y) + 4, y))
        x = xmax * i / steps
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                 % (px(x), mt + ph + 18, x))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
             'stroke="black"/>' % (ml, mt, pw, ph))
    o.append('<text x="%d" y="%d" text-anchor="middle">queries</text>'
             % (ml + pw / 2, h - 12))
    o.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" '
             'text-anchor="middle">success@10 per bucket</text>'
             % (mt + ph / 2, mt + ph / 2))
    for i, (label, pts) in enumerate(lines):
        c = COLORS[i % len(COLORS)]
        if pts:
            path = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)
            o.append('<polyline fill="none" stroke="%s" stroke-width="2" '
                     'points="%s"/>' % (c, path))
        ly = mt + 14 + 20 * i
        o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" '
                 'stroke-width="3"/>' % (ml + pw + 10, ml + pw + 30, ly, ly, c))
        o.append('<text x="%d" y="%d">%s</text>'
                 % (ml + pw + 36, ly + 4, label.replace("&", "&amp;")))
    o.append("</svg>")
    return "\n".join(o) + "\n"


def pct(v):
    return "n/a" if v is None else "%+.1f%%" % (100.0 * v)


def num(v, fmt="%.4f"):
    return "n/a" if v is None else fmt % v


def doc_text(args, arms, budget, sums, elapsed, svgname):
    L = ["# Learning bench: learned policy vs static arm subsets",
         "",
         "Generated by `bench/learning/run.sh` (do not edit by hand; rerun",
         "the bench). Protocol and reasoning: "
         "decisions/0026-learning-bench.md.",
         "",
         "Command: `bench/learning/run.sh --seed %s --queries %d "
         "--screen-queries %d --max-size %d --top %d --screen-margin %g "
         "--catalog %d --users %d --rate %d --concurrency %d --jobs %d`" % (
             ",".join(str(s) for s in args.seeds), args.queries,
             args.screen_queries, args.max_size, args.top,
             args.screen_margin, args.catalog,
             args.users, args.rate, args.concurrency, args.jobs),
         "",
         "Arms (from a `debug=1` answer): `%s`; total candidate budget %s."
         % (" ".join(arms), budget),
         ("Wall time: %.0f s." % elapsed) if elapsed is not None
         else "Wall time: not recorded (rendered with --render-json).",
         "",
         "## Summary (success@10 at full length)",
         "",
         "| seed | learned | best static (arms) | oracle | uniform | "
         "learned vs best static | learned vs oracle | empirical oracle | "
         "events dropped |",
         "|---|---|---|---|---|---|---|---|---|"]
    for s in sums:
        L.append("| %d | %s | %s (`%s`) | %s | %s | %s | %s | %s | %s |" % (
            s["seed"], num(s["learned"]), num(s["best_static"]),
            s["best_static_arms"], num(s["oracle"]), num(s["uniform"]),
            pct(s["vs_best_static"]), pct(s["vs_oracle"]),
            num(s["oracle_empirical"]), s.get("events_dropped", "n/a")))
    L += ["",
          "Targets: learned ≥ best static + 10%, learned within 5% of the "
          "oracle. \"events dropped\": event posts the simulator dropped "
          "over all the seed's runs (more than 256 waiting on each of its "
          "4 event connections: a loaded machine); those rewards never "
          "reached the learner.",
          "",
          "What these numbers show about the learning loop and what limits "
          "the learned policy: decisions/0030-query-shape-bucket.md (the "
          "blockers), decisions/0031-merge-price-credit.md (their "
          "fixes: rank fusion, a price per candidate, no baseline arm, "
          "split credit), decisions/0037-subset-bandit.md (the learned "
          "policy, `subsets`: Thompson sampling over arm subsets; "
          "per-intent diagnosis with `ltrr-sim --trace` and "
          "`bench/learning/trace_report.py`), "
          "decisions/0039-subset-sets.md (each menu entry learned on its "
          "own set's reward; the menu), "
          "decisions/0042-bandit-half-life-in-object.md (serving reads "
          "decayed counts, so Thompson sampling explores), "
          "decisions/0043-subsets-length-buckets.md (subsets buckets by "
          "query length), decisions/0045-unknown-word-bucket.md (and by "
          "a query word the index does not know), "
          "decisions/0046-profile-from-affinities.md (the personal "
          "profile from affinities, not recent plays), "
          "decisions/0047-q2e-spelling.md (a typo reads the Q2E memory "
          "of its spelling correction), "
          "decisions/0048-ranker-affinities.md (the ranker sees the "
          "user's taste) and decisions/0049-fresh-relevance-first.md "
          "(the fresh arm ranks the release asked for first).",
          "",
          "## Candidates retrieved per query",
          "",
          "| seed | learned | all arms, budget split | all arms at full "
          "budget (arms × total) | saving vs full budget |",
          "|---|---|---|---|---|"]
    for s in sums:
        mc = s["mean_candidates"]
        L.append("| %d | %s | %s | %s | %s |" % (
            s["seed"], num(mc["learned"], "%.1f"),
            num(mc["all_arms_split"], "%.1f"),
            num(mc["all_arms_full_budget"], "%d"),
            pct(-s["candidate_saving"] if s["candidate_saving"] is not None
                else None)))
    for s in sums:
        L += ["", "## Seed %d: static subsets" % s["seed"], "",
              "| subset | screen success@10 | full success@10 |",
              "|---|---|---|"]
        for k in sorted(s["screen"], key=lambda k: (-s["screen"][k], k)):
            L.append("| `%s` | %.4f | %s |" % (
                k, s["screen"][k], num(s["static"].get(k))))
        share = s.get("arm_share_learned") or {}
        L += ["", "Arm shares of the learned policy: " + ", ".join(
            "%s %.2f" % (k, v) for k, v in sorted(share.items())
            if v is not None) + "."]
        L += ["", "Per intent kind (full-length runs; \"best screened\" is "
              "the best static subset of that kind in the screen):", "",
              "| kind | queries | learned | best static | oracle | "
              "best screened (arms) | learned's arms (share ≥ 0.5) |",
              "|---|---|---|---|---|---|---|"]
        for kind, k in sorted((s.get("kinds") or {}).items()):
            arms_on = " ".join(a for a, v in sorted(
                (k.get("arm_share_learned") or {}).items())
                if v is not None and v >= 0.5)
            L.append("| %s | %d | %s | %s | %s | %s (`%s`) | %s |" % (
                kind, k["queries"], num(k["learned"]), num(k["best_static"]),
                num(k["oracle"]), num(k["screen_best"]),
                k["screen_best_arms"] or "", arms_on))
    L += ["", "## Learning curve (seed %d)" % sums[0]["seed"], "",
          "![learning curve](%s)" % svgname, ""]
    return "\n".join(L)


def render_json(a):
    """Rewrites the doc from the JSON line of an earlier run."""
    with open(a.render_json) as f:
        out = json.loads(f.read().strip().splitlines()[-1])
    sums = out.get("seeds") or [out]
    every = max(sums[0]["screen"], key=lambda k: len(k.split(",")))
    arms = every.split(",")
    full = sums[0]["mean_candidates"]["all_arms_full_budget"]
    budget = full // len(arms) if full else None
    with open(a.doc, "w") as f:
        f.write(doc_text(a, arms, budget, sums, out.get("elapsed_s"),
                         os.path.basename(a.svg)))
    return 0


def main(argv):
    a = parse_args(argv)
    if a.render_json:
        return render_json(a)
    work = tempfile.mkdtemp(prefix="ltrr-learning.")
    t0 = time.time()
    try:
        b = Bench(a, work)
        b.build_index()
        arms, budget = b.discover_arms()
        log("arms: %s; total budget %s" % (" ".join(arms), budget))
        sums, plot = run_seeds(b, arms, budget, a)
        elapsed = time.time() - t0
        log("%d stacks, %.1f s starting/stopping them, %.1f s in all"
            % (b.nstack, b.stack_s, elapsed))
        if not a.no_doc:
            with open(a.svg, "w") as f:
                f.write(svg_plot(plot, "success@10 per bucket, seed %d, "
                                 "%d queries" % (a.seeds[0], a.queries)))
            with open(a.doc, "w") as f:
                f.write(doc_text(a, arms, budget, sums, elapsed,
                                 os.path.basename(a.svg)))
        for s in sums:
            print("seed %d: learned %.4f  best static %.4f (%s)  oracle %.4f"
                  "  uniform %.4f  vs best static %s  vs oracle %s  "
                  "candidates learned %s vs full budget %s" % (
                      s["seed"], s["learned"], s["best_static"],
                      s["best_static_arms"], s["oracle"], s["uniform"],
                      pct(s["vs_best_static"]), pct(s["vs_oracle"]),
                      num(s["mean_candidates"]["learned"], "%.1f"),
                      s["mean_candidates"]["all_arms_full_budget"]))
        if a.json:
            out = dict(sums[0])
            out["elapsed_s"] = round(elapsed, 1)
            if len(sums) > 1:
                out["seeds"] = sums
            print(json.dumps(out, sort_keys=True))
        return 0
    except (RuntimeError, OSError, subprocess.CalledProcessError,
            KeyError, ValueError) as e:
        log("error: %s (work directory %s kept)" % (e, work))
        a.keep = True
        return 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
