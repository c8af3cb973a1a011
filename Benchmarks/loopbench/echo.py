"""The echo part: Loop's EchoServer vs SwiftNIO's NIOEchoServer.

  1. builds Loop's EchoServer (release, scratch path .build-bench so it does not contend
     with the .build of people working on Loop), the NIOEchoServer of this package
     (release) and the C load client loadgen/echo_load.c (gcc -O2);
  2. for {64 B, 4 KiB} x {1, 100 connections} runs the Loop and NIO servers interleaved
     (Loop, NIO, Loop, NIO, ...) under the same ping-pong load client and takes the median
     msgs/s and server CPU time per message (utime+stime from /proc/PID/stat across the
     timed window). Each server gets one core and one event loop (taskset -c 0,
     --threads 1), the load client the other core (taskset -c 1): with both sharing two
     cores the client's own kernel time set the pace, so msgs/s measured the client more
     than the server; pinned, msgs/s is the server's capacity on one core;
  3. counts user-space instructions per echoed message with valgrind's callgrind on
     stripped copies of both servers (--threads 1, one connection, 64 B): the difference
     between a run of 2*N and one of N messages, divided by N, so start-up cost cancels;
  4. runs the package-benchmark micro benchmarks (ByteBuffer, pipeline traversal);
  5. writes results/report.md and results/echo.png, and prints PASS/FAIL per goal.
"""
from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from . import callgrind, charts, micro
from .common import BENCH_DIR, LOADGEN_DIR, RESULTS, BenchError, build_swift, load_average, log, run
from .goals import Goal, markdown
from .processes import CLIENT_CPU, SERVER_CPU, Server, pinned
from .report import PartResult, ratio

SERVERS = ("Loop", "NIO")
SCENARIOS = [(64, 1), (64, 100), (4096, 1), (4096, 100)]  # (message bytes, connections)
GOAL_THROUGHPUT = 1.2  # Loop >= 1.2x NIO msgs/s at 100 connections x 64 B
GOAL_INSTRUCTIONS = 5.0  # Loop instructions/msg <= NIO's / 5

LOADGEN_SRC = BENCH_DIR / "loadgen" / "echo_load.c"
LOADGEN_BIN = LOADGEN_DIR / "echo_load"
RUNTIME_CALLS = ("swift_retain", "swift_release", "swift_beginAccess", "swift_allocObject", "malloc")
MICRO_TARGETS = ("ByteBufferBenchmarks", "PipelineBenchmarks")  # the HTTP/2 ones run in the HTTP/2 part


# ---------------------------------------------------------------------------------------------
# Builds


def build(skip: bool) -> dict[str, Path]:
    built = build_swift("EchoServer", ["NIOEchoServer"], skip)
    servers = {"Loop": built["EchoServer"], "NIO": built["NIOEchoServer"]}
    LOADGEN_BIN.parent.mkdir(parents=True, exist_ok=True)
    run(["gcc", "-O2", "-Wall", "-o", str(LOADGEN_BIN), str(LOADGEN_SRC)], BENCH_DIR, "compiling echo_load.c")
    callgrind.build_shim()
    return servers


# ---------------------------------------------------------------------------------------------
# The load client


def load(port: int, size: int, connections: int, *, warmup: float = 0, duration: float = 5, count: int = 0,
         server_pid: int = 0, timeout: float = 10, cpu: str | None = None) -> dict[str, float]:
    argv = [str(LOADGEN_BIN), "--host", "127.0.0.1", "--port", str(port), "--size", str(size),
            "--connections", str(connections), "--timeout", str(timeout)]
    if count:
        argv += ["--count", str(count)]
    else:
        argv += ["--warmup", str(warmup), "--duration", str(duration)]
    if server_pid:
        argv += ["--server-pid", str(server_pid)]
    limit = (3600 if count else warmup + duration) + timeout + 60
    if cpu is not None:
        argv = pinned(cpu, argv)
    try:
        result = subprocess.run(argv, text=True, capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise BenchError(f"load client did not finish in {limit:.0f} s: {' '.join(argv)}")
    match = re.search(r"^RESULT (.*)$", result.stdout, re.M)
    if result.returncode != 0 or not match:
        raise BenchError(f"load client failed (exit {result.returncode}): {' '.join(argv)}\n"
                         f"{result.stdout[-1500:]}{result.stderr[-1500:]}")
    return {k: float(v) for k, v in (item.split("=", 1) for item in match.group(1).split())}


# ---------------------------------------------------------------------------------------------
# Throughput and CPU per message


def throughput(servers: dict[str, Path], rounds: int, warmup: float, duration: float) -> dict:
    samples: dict[tuple[int, int, str], list[dict]] = {}
    for size, connections in SCENARIOS:
        for rnd in range(rounds):
            for name in SERVERS:  # interleaved: Loop, NIO, Loop, NIO, ...
                server = Server(name, pinned(SERVER_CPU, [str(servers[name]), "--host", "127.0.0.1", "--port", "0",
                                                          "--threads", "1"]), 30)
                try:
                    result = load(server.port, size, connections, warmup=warmup, duration=duration,
                                  server_pid=server.pid, cpu=CLIENT_CPU)
                    if not server.alive():
                        raise BenchError(f"{name} server died during the run:\n{server.output()[-2000:]}")
                finally:
                    server.stop(wait=10)
                cpu_us = result["server_cpu_sec"] * 1e6 / result["messages"] if result["messages"] else float("nan")
                result["cpu_us_per_msg"] = cpu_us
                samples.setdefault((size, connections, name), []).append(result)
                log(f"  {label(size, connections):>16}  round {rnd + 1}/{rounds}  {name:<4}  "
                    f"{result['msgs_per_sec']:>10.0f} msgs/s  {cpu_us:6.2f} us CPU/msg")
    table = {}
    for (size, connections, name), runs in samples.items():
        table[(size, connections, name)] = {
            "msgs_per_sec": statistics.median(r["msgs_per_sec"] for r in runs),
            "cpu_us_per_msg": statistics.median(r["cpu_us_per_msg"] for r in runs),
            "all": [r["msgs_per_sec"] for r in runs],
        }
    for size, connections in SCENARIOS:  # Loop/NIO of the runs side by side in each round
        pairs = zip(table[(size, connections, "Loop")]["all"], table[(size, connections, "NIO")]["all"])
        table[(size, connections, "paired")] = statistics.median(l / n for l, n in pairs if n)
    return table


def label(size: int, connections: int) -> str:
    return f"{'4 KiB' if size == 4096 else f'{size} B'} x {connections} conn"


# ---------------------------------------------------------------------------------------------
# Instructions per message (callgrind)


def instructions(servers: dict[str, Path], counts: tuple[int, int], workdir: Path) -> dict:
    callgrind.require_valgrind()
    low, high = counts
    results = {}
    for name in SERVERS:
        binary = callgrind.stripped_copy(servers[name], workdir, name)
        totals, calls = {}, {}
        for count in (low, high):
            out = workdir / f"callgrind.{name}.{count}.out"
            callgrind.profile(name, out, callgrind.swift_server(name, binary, out),
                              lambda server: load(server.port, 64, 1, count=count, timeout=60))
            totals[count] = callgrind.callgrind_total(out)
            calls[count] = callgrind.call_totals(callgrind.callgrind_graph(out), RUNTIME_CALLS)
            log(f"  callgrind {name:<4} {count:>6} messages: {totals[count]:>14,} Ir")
        per_msg = (totals[high] - totals[low]) / (high - low)
        results[name] = {"totals": totals, "per_msg": per_msg,
                         "calls_per_msg": {f: (calls[high][f] - calls[low][f]) / (high - low) for f in RUNTIME_CALLS},
                         "profile": callgrind.annotate(workdir / f"callgrind.{name}.{high}.out")}
        log(f"  {name}: {per_msg:,.0f} instructions per echoed message; runtime calls per message: " +
            ", ".join(f"{f} {round(v, 1) + 0.0:.1f}" for f, v in results[name]["calls_per_msg"].items()))
    return results


# ---------------------------------------------------------------------------------------------
# Micro benchmarks (package-benchmark)


def micro_run(skip: bool) -> str:
    if skip:
        return "(skipped with --skip-micro)"
    tables = micro.run_benchmarks(MICRO_TARGETS, "package-benchmark", markers=("ByteBuffer", "Pipeline"))
    log(tables)
    return tables


# ---------------------------------------------------------------------------------------------
# Chart, tables, goals, report


def chart(table: dict, path: Path) -> bool:
    plt = charts.pyplot("chart")
    if plt is None:
        return False
    labels = [label(s, c) for s, c in SCENARIOS]
    x = range(len(SCENARIOS))
    width = 0.38
    fig, ax = plt.subplots(figsize=(9, 5))
    for offset, name, color in ((-width / 2, "Loop", "#2b7bba"), (width / 2, "NIO", "#e8772e")):
        values = [table[(s, c, name)]["msgs_per_sec"] for s, c in SCENARIOS]
        bars = ax.bar([i + offset for i in x], values, width, label=name if name == "Loop" else "SwiftNIO",
                      color=color)
        ax.bar_label(bars, labels=[f"{v / 1000:.0f}k" for v in values], fontsize=8, padding=2)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_ylabel("echoed messages / s (median)")
    ax.set_title("Echo server ping-pong throughput: Loop vs SwiftNIO")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def results_table(table: dict, instr: dict | None) -> str:
    rows = ["| scenario | Loop msgs/s | NIO msgs/s | Loop/NIO | paired Loop/NIO | Loop CPU µs/msg | NIO CPU µs/msg |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for size, connections in SCENARIOS:
        loop, nio = table[(size, connections, "Loop")], table[(size, connections, "NIO")]
        rows.append(f"| {label(size, connections)} | {loop['msgs_per_sec']:,.0f} | {nio['msgs_per_sec']:,.0f} | "
                    f"{ratio(loop['msgs_per_sec'], nio['msgs_per_sec'])} | "
                    f"{table[(size, connections, 'paired')]:.2f}x | "
                    f"{loop['cpu_us_per_msg']:.2f} | {nio['cpu_us_per_msg']:.2f} |")
    if instr:
        loop, nio = instr["Loop"]["per_msg"], instr["NIO"]["per_msg"]
        rows += ["", "| instructions per echoed message (callgrind, 1 thread, 1 conn, 64 B) | Loop | NIO | NIO/Loop |",
                 "|---|---:|---:|---:|",
                 f"| user-space Ir / msg | {loop:,.0f} | {nio:,.0f} | {ratio(nio, loop)} |"]
    return "\n".join(rows)


def goals(table: dict, instr: dict | None) -> list[Goal]:
    out = []
    loop, nio = table[(64, 100, "Loop")]["msgs_per_sec"], table[(64, 100, "NIO")]["msgs_per_sec"]
    out.append(Goal("echo", loop >= GOAL_THROUGHPUT * nio,
                    f"Loop >= {GOAL_THROUGHPUT}x NIO msgs/s at 100 connections x 64 B: "
                    f"{loop:,.0f} vs {nio:,.0f} = {ratio(loop, nio)}"))
    if instr:
        li, ni = instr["Loop"]["per_msg"], instr["NIO"]["per_msg"]
        out.append(Goal("echo", li * GOAL_INSTRUCTIONS <= ni,
                        f"Loop instructions/msg <= 1/{GOAL_INSTRUCTIONS:g} of NIO's: {li:,.0f} vs {ni:,.0f} "
                        f"(NIO/Loop = {ratio(ni, li)})"))
    else:
        out.append(Goal("echo", None, "instructions/msg goal not measured (--skip-callgrind)"))
    return out


def write_report(args, info, table, instr, micro_out, goal_lines, chart_ok) -> str:
    """The top of report.md: the machine, then the echo section."""
    lines = [
        "# Loop benchmarks",
        "",
        f"Generated by `python3 Benchmarks/bench.py{' --quick' if args.quick else ''}`. "
        "Reproduce with `make bench` (or `python3 Benchmarks/bench.py` from the repository root).",
        "",
        "## Machine",
        "",
        f"- nproc: {info['nproc']}",
        f"- CPU: {info['cpu']}",
        f"- kernel: {info['kernel']}",
        f"- swift: {info['swift']}",
        f"- date: {info['date']}",
        f"- load average (1/5/15 min) before / after the echo runs: {info['load_before']} / "
        f"{info.get('load_after', 'n/a')} (other work on the machine competes with servers and client)",
        "",
        "## Echo: Loop EchoServer vs SwiftNIO NIOEchoServer",
        "",
        f"Ping-pong load from `Benchmarks/loadgen/echo_load.c` (one epoll thread; every connection sends a "
        f"message, waits for the whole echo, repeats) over 127.0.0.1. Each server runs one event loop pinned to "
        f"core {SERVER_CPU} (`taskset -c {SERVER_CPU} ... --threads 1`) and the load client is pinned to core "
        f"{CLIENT_CPU}, so msgs/s is the server's capacity on one core rather than the pace of a client sharing "
        f"its cores; servers are started fresh for each run; Loop and NIO alternate, "
        f"{args.rounds} round(s) of {args.warmup:g} s warm-up + {args.duration:g} s timed; medians shown. "
        "CPU per message is the server's utime+stime (/proc/PID/stat) across the timed window divided by "
        "the messages echoed in it. \"paired\" is the median of Loop/NIO within each round (the two runs "
        "side by side), which cancels slow drifts in machine load. The machine is shared and noisy: treat "
        "throughput as indicative, instruction counts as exact.",
        "",
        results_table(table, instr),
        "",
        "Per-round msgs/s: " + "; ".join(
            f"{label(s, c)}: Loop {', '.join(f'{v:,.0f}' for v in table[(s, c, 'Loop')]['all'])} / "
            f"NIO {', '.join(f'{v:,.0f}' for v in table[(s, c, 'NIO')]['all'])}" for s, c in SCENARIOS),
        "",
    ]
    if chart_ok:
        lines += ["![msgs/s per scenario](echo.png)", ""]
    lines += ["## Goals", ""]
    lines += markdown(goal_lines)
    lines += [""]
    if instr:
        low, high = args.counts
        lines += [
            "## Instructions per echoed message",
            "",
            f"`valgrind --tool=callgrind` on `strip --strip-debug` copies of the release binaries, `--threads 1`, "
            f"one connection, 64-byte messages: (Ir of a {high}-message run - Ir of a {low}-message run) / "
            f"{high - low}, all threads, so start-up and connection set-up cancel.",
            "",
            "| server | Ir, " + f"{low} msgs | Ir, {high} msgs | Ir / msg |",
            "|---|---:|---:|---:|",
        ]
        for name in SERVERS:
            t = instr[name]["totals"]
            lines.append(f"| {name} | {t[low]:,} | {t[high]:,} | {instr[name]['per_msg']:,.0f} |")
        lines += ["", "Runtime calls per echoed message (same runs, difference of call counts):", "",
                  "| server | " + " | ".join(RUNTIME_CALLS) + " |", "|---|" + "---:|" * len(RUNTIME_CALLS)]
        for name in SERVERS:
            c = instr[name]["calls_per_msg"]
            lines.append(f"| {name} | " + " | ".join(f"{round(c[f], 1) + 0.0:.1f}" for f in RUNTIME_CALLS) + " |")
        for name in SERVERS:
            lines += ["", f"### Hottest functions, {name} ({high} messages, exclusive Ir)", "", "```",
                      instr[name]["profile"], "```"]
        lines += [""]
    lines += ["## Micro benchmarks (package-benchmark)", "",
              "`cd Benchmarks && swift package --disable-sandbox benchmark` (release; per-op numbers: "
              "scalingFactor .kilo, one op per scaled iteration; * = per op).", ""]
    summary = micro.summary_table(micro_out)
    if summary:
        lines += [summary, "", "Full output:", ""]
    lines += ["```", micro_out.rstrip(), "```", ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The echo part: its report text (the top of report.md), goals and console summary."""
    log("== building")
    servers = build(args.skip_build)
    log(f"== echo throughput ({args.rounds} round(s), {args.warmup:g} s warm-up + {args.duration:g} s each)")
    info["load_before"] = load_average()
    table = throughput(servers, args.rounds, args.warmup, args.duration)
    info["load_after"] = load_average()
    log(f"   load average (1/5/15 min) before: {info['load_before']}, after: {info['load_after']}")
    instr = None
    if not args.skip_callgrind:
        log(f"== instructions per message (callgrind, {args.counts[0]} and {args.counts[1]} messages)")
        with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
            instr = instructions(servers, args.counts, Path(tmp))
    log("== micro benchmarks (package-benchmark)")
    micro_out = micro_run(args.skip_micro)
    RESULTS.mkdir(parents=True, exist_ok=True)
    chart_ok = chart(table, RESULTS / "echo.png")
    goal_lines = goals(table, instr)
    text = write_report(args, info, table, instr, micro_out, goal_lines, chart_ok)
    console = [results_table(table, instr), ""]
    summary = micro.summary_table(micro_out)
    if summary:
        console += [summary, ""]
    return PartResult(text, goal_lines, "\n".join(console), False)
