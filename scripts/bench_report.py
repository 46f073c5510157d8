#!/usr/bin/env python3
"""Tables and chart for scripts/bench-vs-redis.sh (standard library only).

Reads OUT/runs.csv (one line per benchmark run, with the path of its raw output),
OUT/setup.md and OUT/mem-s<N>.md, and writes OUT/results.md (medians over the
rounds, ratios against Redis) and OUT/chart.png (server CPU per request, drawn by
gnuplot from OUT/chart.gp and OUT/chart-*.dat).

  scripts/bench_report.py bench-results/20250101-120000
"""
import csv
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys

BASE = "redis"  # ratios are taken against this server


def parse_redis_benchmark(path):
    """rps, p50 ms, p99 ms from `redis-benchmark --csv` (one test per file)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError("no CSV row")
    row = rows[-1]
    return float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"])


def parse_memtier(path):
    """rps, p50 ms, p99 ms from the Totals line of memtier_benchmark's summary."""
    header = None
    with open(path) as f:
        for line in f:
            cols = re.split(r"\s{2,}", line.strip())
            if cols and cols[0] == "Type":
                header = cols
            elif header and cols and cols[0] == "Totals":
                vals = dict(zip(header, cols))
                p50 = vals.get("p50 Latency", "nan")
                p99 = vals.get("p99 Latency", "nan")
                return float(vals["Ops/sec"]), float(p50), float(p99)
    raise ValueError("no Totals line")


def load_runs(out):
    """{(tool, shards, pipeline, test, server): {"ok": [...], "status": set()}}"""
    cells = {}
    with open(os.path.join(out, "runs.csv"), newline="") as f:
        for r in csv.DictReader(f):
            key = (r["tool"], int(r["shards"]), int(r["pipeline"]), r["test"], r["server"])
            cell = cells.setdefault(key, {"ok": [], "status": set()})
            cell["status"].add(r["status"])
            if r["status"] != "ok":
                continue
            path = os.path.join(out, r["raw"])
            try:
                parse = parse_memtier if r["tool"] == "memtier" else parse_redis_benchmark
                rps, p50, p99 = parse(path)
            except (OSError, ValueError, KeyError) as e:
                print(f"bench_report: skipping {r['raw']}: {e}", file=sys.stderr)
                cell["status"].add("error")
                continue
            ticks, tck, reqs = int(r["cpu_ticks"]), int(r["clk_tck"]), int(r["requests"])
            cpu_us = ticks / tck * 1e6 / reqs
            cell["ok"].append((rps, p50, p99, cpu_us))
    return cells


def medians(cell):
    if not cell["ok"]:
        return None
    return tuple(statistics.median(run[i] for run in cell["ok"]) for i in range(4))


def ordered(values):
    return list(dict.fromkeys(values))


def fmt(x, digits):
    return "-" if x is None else f"{x:.{digits}f}"


def fmt_cpu(x):
    return fmt(x, 3 if x is not None and x < 1 else 2)


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


TOOL_TITLES = {"redis-benchmark": "redis-benchmark",
               "memtier": "memtier_benchmark, 1:10 SET:GET"}


def results_table(cells):
    lines = []
    keys = list(cells)
    tools = ordered(k[0] for k in keys)
    shards = sorted(set(k[1] for k in keys))
    pipes = sorted(set(k[2] for k in keys))
    tests = ordered(k[3] for k in keys)
    servers = ordered(k[4] for k in keys)
    for tool in tools:
        lines += ["", f"### {TOOL_TITLES.get(tool, tool)}", "",
                  "| test | pipeline | shards | server | req/s | p50 ms | p99 ms | CPU µs/req"
                  f" | CPU/req vs {BASE} | req/s vs {BASE} | runs |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for n in shards:
            for p in pipes:
                for t in tests:
                    base = cells.get((tool, n, p, t, BASE))
                    base = medians(base) if base else None
                    for s in servers:
                        cell = cells.get((tool, n, p, t, s))
                        if cell is None:
                            continue
                        m = medians(cell)
                        runs = str(len(cell["ok"]))
                        if "unsupported" in cell["status"]:
                            lines.append(f"| {t} | {p} | {n} | {s} | n/a (unsupported)"
                                         " | | | | | | |")
                            continue
                        if m is None:
                            lines.append(f"| {t} | {p} | {n} | {s} | error | | | | | | 0 |")
                            continue
                        if "error" in cell["status"]:
                            runs += " (+errors)"
                        rps, p50, p99, cpu = m
                        lines.append(
                            f"| {t} | {p} | {n} | {s} | {rps:.0f} | {p50:.3f} | {p99:.3f}"
                            f" | {fmt_cpu(cpu)} | {ratio(cpu, base and base[3])}"
                            f" | {ratio(rps, base and base[0])} | {runs} |")
    return lines


def scaling_table(cells):
    """CPU per request at N shards over 1 shard, per server (Tessera's hop cost)."""
    shards = sorted(set(k[1] for k in cells))
    if 1 not in shards or len(shards) < 2:
        return []
    lines = ["| tool | test | pipeline | server | CPU µs/req, 1 shard | "
             + " | ".join(f"{n} shards (x 1 shard)" for n in shards[1:]) + " |",
             "|---|---|---|---|---|" + "---|" * (len(shards) - 1)]
    for (tool, n, p, t, s), cell in cells.items():
        if n != 1:
            continue
        one = medians(cell)
        if one is None:
            continue
        row = f"| {tool} | {t} | {p} | {s} | {fmt_cpu(one[3])} |"
        for m in shards[1:]:
            other = cells.get((tool, m, p, t, s))
            other = medians(other) if other else None
            row += f" {fmt_cpu(other[3]) if other else '-'} ({ratio(other and other[3], one[3])}) |"
        lines.append(row)
    return lines


def memory_tables(out):
    lines = []
    for path in sorted(glob.glob(os.path.join(out, "mem-s*.md"))):
        n = re.search(r"mem-s(\d+)\.md$", path).group(1)
        rows = []
        with open(path) as f:
            for line in f:
                # server | type | elements | used_memory/element | RSS/element
                cols = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cols) == 5 and re.fullmatch(r"[0-9.-]+", cols[3]):
                    rows.append(cols)
        lines += [f"{n} shard(s):", "",
                  f"| server | type | elements | used_memory/element (B) | RSS/element (B) | used_memory vs {BASE} |",
                  "|---|---|---|---|---|---|"]
        for name, kind, count, used, rss in rows:
            base = next((r for r in rows if r[0] == BASE and r[1] == kind), None)
            lines.append(f"| {name} | {kind} | {count} | {used} | {rss} | "
                         f"{ratio(float(used), base and float(base[3]))} |")
        lines.append("")
    return lines


def chart(out, cells):
    """Grouped bars of CPU µs/req per test, one bar per server; a panel per
    shard count (rows) and pipeline (columns). Returns the PNG name or None."""
    keys = [k for k in cells if k[0] == "redis-benchmark"]
    if not keys:
        return None
    shards = sorted(set(k[1] for k in keys))
    pipes = sorted(set(k[2] for k in keys))
    tests = ordered(k[3] for k in keys)
    servers = ordered(k[4] for k in keys)
    plots = []
    for n in shards:
        for p in pipes:
            name = f"chart-s{n}-p{p}.dat"
            top = 0.0
            with open(os.path.join(out, name), "w") as f:
                f.write("# test " + " ".join(servers) + "\n")
                for t in tests:
                    vals = []
                    for s in servers:
                        cell = cells.get(("redis-benchmark", n, p, t, s))
                        m = medians(cell) if cell else None
                        vals.append(f"{m[3]:.4f}" if m else "NaN")
                        top = max(top, m[3] if m else 0.0)
                    f.write(f'"{t}" ' + " ".join(vals) + "\n")
            cols = ", ".join(
                (f"'{name}'" if i == 0 else "''") + f" using {i + 2}" + (":xtic(1)" if i == 0 else "")
                + f" title '{s}'" for i, s in enumerate(servers))
            plots.append(f"set title '{n} shard{'s' if n > 1 else ''}, pipeline {p}'\n"
                         f"set yrange [0:{top * 1.1 or 1:.4g}]\nplot {cols}")
    if not shutil.which("gnuplot"):
        print("bench_report: gnuplot not found, no chart", file=sys.stderr)
        return None
    terms = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    term = "pngcairo" if "pngcairo" in terms.stdout + terms.stderr else "png"
    width, height = 520 * len(pipes), 360 * len(shards) + 40
    script = f"""set terminal {term} size {width},{height} font ",10"
set output 'chart.png'
set datafile missing 'NaN'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set ylabel 'server CPU µs per request'
set key outside bottom center horizontal
set xtics nomirror
set multiplot layout {len(shards)},{len(pipes)} title 'Server CPU per request (lower is better; missing bar = unsupported)'
""" + "\n".join(plots) + "\nunset multiplot\n"
    with open(os.path.join(out, "chart.gp"), "w") as f:
        f.write(script)
    res = subprocess.run(["gnuplot", "chart.gp"], cwd=out, capture_output=True, text=True)
    if res.returncode != 0:
        print(f"bench_report: gnuplot failed:\n{res.stderr}", file=sys.stderr)
        return None
    return "chart.png"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    cells = load_runs(out)
    with open(os.path.join(out, "setup.md")) as f:
        lines = f.read().rstrip("\n").split("\n")
    lines += ["", "## Requests/s, latency and server CPU per request", "",
              f"Medians over the rounds. Ratios divide by {BASE}'s figure in the same row group:"
              " below 1 means less CPU per request (better) or fewer requests/s (worse)."]
    lines += results_table(cells)
    scaling = scaling_table(cells)
    if scaling:
        lines += ["", "## CPU per request, N shards over 1 shard", "",
                  "With an ordinary client, a key owned by another shard costs Tessera a hop;"
                  " its ratio is what the hops cost. Redis runs commands on one thread"
                  " either way: its ratio shows the effect of CPU placement and noise.", ""] + scaling
    mem = memory_tables(out)
    if mem:
        lines += ["", "## Memory per key", "",
                  "Growth of INFO used_memory and of the process RSS after loading the keys"
                  " (key:%012d, 16-byte values) into an empty server, divided by the key count.",
                  ""] + mem
    png = chart(out, cells)
    if png:
        lines += ["", f"![server CPU per request]({png})"]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
