"""package-benchmark micro benchmarks: running some targets, reading their result tables."""
from __future__ import annotations

import re

from .common import BENCH_DIR, run_retrying

TABLE_PREFIXES = ("│", "╒", "╞", "├", "╘", "=", "Host", "#", "Baseline", "Running")


def run_benchmarks(targets: tuple[str, ...], what: str, markers: tuple[str, ...] = (),
                   timeout: float | None = None) -> str:
    """`swift package benchmark` of `targets` (release); its result tables, without the build
    chatter before the first line that starts with "=", "Host ", "Benchmark results" or one of
    `markers`. BenchError when it fails or outlasts `timeout` seconds (`what`: which, for the message)."""
    cmd = ["swift", "package", "--disable-sandbox", "benchmark", "--no-progress"]
    for target in targets:
        cmd += ["--target", target]
    out = run_retrying(cmd, BENCH_DIR, what, timeout=timeout)
    first_line = re.compile("^(" + "|".join(["=+", "Host ", "Benchmark results"] + list(markers)) + ")")
    lines = out.splitlines()
    first = next((i for i, l in enumerate(lines) if first_line.match(l)), 0)
    return "\n".join(lines[first:])


def benchmark_tables(tables: str) -> list[tuple[str | None, str, list[list[str]]]]:
    """(target, benchmark, metric rows) from package-benchmark's text tables; a row is its cells:
    metric, p0, p25, p50, ... A target is the line between two rules of "="."""
    out: list[tuple[str | None, str, list[list[str]]]] = []
    lines = tables.splitlines()
    target, rows = None, None
    for i, line in enumerate(lines):
        if line and not line.startswith(TABLE_PREFIXES):
            if i + 1 < len(lines) and lines[i + 1].startswith("="):
                target, rows = line.strip(), None
                continue
            rows = []
            out.append((target, line.strip(), rows))
        elif line.startswith("│") and rows is not None:
            cells = [c.strip() for c in line.strip("│").split("│")]
            if len(cells) >= 4 and cells[0] != "Metric":
                rows.append(cells)
    return out


def summary_table(tables: str) -> str:
    """p50 of each metric per benchmark (markdown), from package-benchmark's text tables."""
    rows = []
    for _, name, metrics in benchmark_tables(tables):
        current: dict[str, str] = {}
        for cells in metrics:
            metric, unit = cells[0], ""
            scaled = re.match(r"^(.*?) \(([KMG])\)( \*)?$", metric)
            if scaled:  # "Throughput (# / s) (K)": keep one column, put the unit in the cell
                metric, unit = scaled.group(1) + (scaled.group(3) or ""), " " + scaled.group(2)
            current[metric] = cells[3] + unit  # columns: metric, p0, p25, p50, ...
        if current:
            rows.append((name, current))
    if not rows:
        return ""
    metrics = list(dict.fromkeys(m for _, r in rows for m in r))
    out = ["| benchmark | " + " | ".join(f"{m} p50" for m in metrics) + " |",
           "|---|" + "---:|" * len(metrics)]
    out += [f"| {n} | " + " | ".join(r.get(m, "") for m in metrics) + " |" for n, r in rows]
    return "\n".join(out)


def per_op(tables: str, targets: tuple[str, ...]) -> dict[tuple[str, str], dict[str, float]]:
    """{(target, benchmark): {"ns": p50 per op, "mallocs": p50 per op}} for the benchmarks of `targets`."""
    rows: dict = {}
    for target, name, metrics in benchmark_tables(tables):
        if target not in targets:
            continue
        row = rows.setdefault((target, name), {})
        for cells in metrics:
            metric = cells[0]
            try:
                value = float(cells[3].replace(",", ""))
            except ValueError:
                continue
            scale = 1.0
            m = re.search(r"\(([KM])\)", metric.replace("(#", ""))
            if "Time (wall clock)" in metric:
                unit = re.search(r"\((ns|us|μs|ms|s)\)", metric)
                scale = {"ns": 1, "us": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}[unit.group(1)] if unit else 1
                row["ns"] = value * scale
            elif metric.startswith("Malloc (total)"):
                if m:
                    scale = {"K": 1e3, "M": 1e6}[m.group(1)]
                row["mallocs"] = value * scale
    return rows
