#!/usr/bin/python3
"""What got faster or slower between two benchmark runs, beyond their spread.

    bench/compare.py OLD.csv NEW.csv [--min-change 0.05] [--all] [--fail-on-slower]

Each CSV is a run's results as bench/run.sh keeps them (bench/results/latest.csv and
bench/results/runs/DATE-COMMIT*.csv): rows server,test,connections,metric,median,min,max,runs;
or one row per repeat with a `value` column instead of median/min/max (the spread is then
computed here); or an older file with a median and no min/max (no spread: only --min-change
guards it).

A figure is reported as changed only when the two runs' min-max ranges do not overlap, so a
difference the repeats of either run already span is noise, and when the medians differ by more
than --min-change (a fraction), so that two single runs a hair apart are not a finding either.
Only metrics with a known good direction are compared (rates up; times, latency, CPU per unit,
memory and failures down); --all lists the others' non-overlapping changes as "changed".
Exit status: 0, or 1 with --fail-on-slower when anything got slower.
"""
import argparse
import collections
import csv
import statistics
import sys

LOWER_IS_BETTER_EXACT = {
    "failures", "failed_logins", "connect_failures", "broken", "listen_overflows",
    "bytes_per_connection", "server_kib_after", "login_storm_s", "storm_s", "parallel_s",
}


def direction(metric):
    """+1 when a higher value is better, -1 when lower is, 0 when the metric has no direction."""
    if metric.endswith("_per_s"):
        return 1
    if metric in LOWER_IS_BETTER_EXACT:
        return -1
    if metric.startswith("server_cpu_s_per_million") or metric.startswith("server_cpu_ms_per"):
        return -1
    if metric.endswith("_us") or metric.endswith("_ms"):
        return -1
    return 0


class Figure:
    def __init__(self, median, low, high, runs):
        self.median, self.low, self.high, self.runs = median, low, high, runs

    def text(self):
        if self.low == self.high:
            return f"{self.median:g}"
        return f"{self.median:g} ({self.low:g}-{self.high:g})"


def read(path):
    """{(server, test, connections, metric): Figure}"""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    figures = {}
    if rows and "value" in rows[0] and "median" not in rows[0]:
        values = collections.defaultdict(list)
        for r in rows:
            values[(r["server"], r["test"], r["connections"], r["metric"])].append(
                float(r["value"]))
        for key, v in values.items():
            figures[key] = Figure(statistics.median(v), min(v), max(v), len(v))
        return figures
    for r in rows:
        median = float(r["median"])
        low = float(r["min"]) if r.get("min") not in (None, "") else median
        high = float(r["max"]) if r.get("max") not in (None, "") else median
        runs = int(r["runs"]) if r.get("runs") else 1
        figures[(r["server"], r["test"], r["connections"], r["metric"])] = Figure(
            median, low, high, runs)
    return figures


def compare(old, new, min_change=0.05, everything=False):
    """[(verdict, key, old figure, new figure, relative change)], verdict one of faster,
    slower, changed; and the number of figures compared that stayed within their spread."""
    changes, steady = [], 0
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        sign = direction(key[3])
        if sign == 0 and not everything:
            continue
        overlap = not (b.low > a.high or b.high < a.low)
        relative = (b.median - a.median) / abs(a.median) if a.median else (
            float("inf") if b.median else 0.0)
        if overlap or abs(relative) <= min_change:
            steady += 1
            continue
        if sign == 0:
            verdict = "changed"
        else:
            verdict = "faster" if relative * sign > 0 else "slower"
        changes.append((verdict, key, a, b, relative))
    return changes, steady


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--min-change", type=float, default=0.05,
                        help="smallest relative change of the medians reported (default 0.05)")
    parser.add_argument("--all", action="store_true",
                        help="also metrics with no good direction (counts, sizes)")
    parser.add_argument("--fail-on-slower", action="store_true",
                        help="exit 1 when anything got slower")
    args = parser.parse_args(argv)
    old, new = read(args.old), read(args.new)
    changes, steady = compare(old, new, args.min_change, args.all)
    only_old = len(old.keys() - new.keys())
    only_new = len(new.keys() - old.keys())
    for verdict in ("slower", "faster", "changed"):
        rows = [c for c in changes if c[0] == verdict]
        if not rows:
            continue
        print(f"{verdict} ({len(rows)}):")
        for _, (server, test, conn, metric), a, b, rel in rows:
            print(f"  {server} {test} {conn} {metric}: {a.text()} -> {b.text()} "
                  f"({rel * 100:+.1f}%)")
    print(f"{steady} within their spread (or under {args.min_change * 100:g}%); "
          f"{only_old} only in the old run, {only_new} only in the new one")
    slower = any(c[0] == "slower" for c in changes)
    return 1 if args.fail_on_slower and slower else 0


if __name__ == "__main__":
    sys.exit(main())
