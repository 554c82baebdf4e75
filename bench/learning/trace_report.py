#!/usr/bin/python3
"""Per-intent diagnosis of one `ltrr-sim --trace FILE` run.

    bench/learning/trace_report.py TRACE [--late FRACTION]

For every intent kind and form: the queries, success@10, the context
buckets serve put them in (`debug.bucket`), and the arm subsets that ran,
each with its success@10. --late keeps only the last FRACTION of the
queries (by sequence number), where a learned policy has settled.
Standard library only.
"""
import argparse
import collections
import json
import sys

# ltrr-sim's arm bit order (online/sim.h, ltrr_sim_arm_t).
ARMS = ["lexical", "popular", "structured", "fuzzy", "semantic", "memory",
        "personal", "fresh"]


def subset(mask):
    return ",".join(a for i, a in enumerate(ARMS) if (mask >> i) & 1) or "-"


def success(row):
    return any(g >= 2 for g in row.get("grades", [])[:10])


def rate(rows):
    return sum(map(success, rows)) / len(rows) if rows else 0.0


def report(rows, top, out):
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["kind"], r["form"])].append(r)
    for (kind, form), rs in sorted(groups.items()):
        buckets = collections.Counter(r.get("bucket") for r in rs)
        subs = collections.defaultdict(list)
        for r in rs:
            subs[subset(r.get("arms", 0))].append(r)
        degraded = sum(1 for r in rs if r.get("degraded"))
        out.write("%s/%s: %d queries, success@10 %.3f%s\n" % (
            kind, form, len(rs), rate(rs),
            ", %d degraded" % degraded if degraded else ""))
        out.write("  buckets: %s\n" % ", ".join(
            "%s: %d" % (b, n) for b, n in buckets.most_common(top)))
        ranked = sorted(subs.items(), key=lambda kv: -len(kv[1]))[:top]
        out.write("  subsets: %s\n" % ", ".join(
            "%s: %d (%.2f)" % (s, len(v), rate(v)) for s, v in ranked))


def main(argv):
    p = argparse.ArgumentParser(prog="trace_report.py")
    p.add_argument("trace")
    p.add_argument("--late", type=float, default=1.0,
                   help="keep the last FRACTION of the queries (0, 1]")
    p.add_argument("--top", type=int, default=6)
    a = p.parse_args(argv)
    if not 0.0 < a.late <= 1.0:
        p.error("--late must be in (0, 1]")
    with open(a.trace) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows.sort(key=lambda r: r["seq"])
    rows = rows[int(len(rows) * (1.0 - a.late)):]
    report(rows, a.top, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
