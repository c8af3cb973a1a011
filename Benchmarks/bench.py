#!/usr/bin/env python3
"""Loop benchmarks: echo (Loop vs SwiftNIO) and HTTP/2 (Loop vs swift-nio-http2, nghttpd, h2o).

Run from anywhere (the top-level `make bench` runs `python3 Benchmarks/bench.py`):

    python3 Benchmarks/bench.py                # every part (echo, HTTP/2, gRPC)
    python3 Benchmarks/bench.py --quick        # smoke test: short runs, one round
    python3 Benchmarks/bench.py --only echo    # one part; the report keeps the other part's
    python3 Benchmarks/bench.py --only http2   # section from the previous run
    python3 Benchmarks/bench.py --only grpc

The echo part:

What it does:
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

The HTTP/2 part is http2_bench.py (h2load scenarios S1-S4, callgrind allocations per
request, LoopHTTP2Benchmarks/NIOHTTP2Benchmarks micro benchmarks): its section of
results/report.md, results/http2.png, and its own PASS/FAIL lines.

The gRPC part is grpc_bench.py (also runnable alone: python3 Benchmarks/grpc_bench.py [--quick]):
Loop's InteropServer vs grpc-swift-2, grpc-go and grpcio TestService servers under h2load with a
gRPC body and under this package's GRPCLoadClient, callgrind allocations per unary call; its
section of results/report.md, results/grpc.png, and its own PASS/FAIL lines.

Exit status: 0 when everything ran (even if a goal FAILs), non-zero when something broke
(a build, a server crash or stall, a load-client error).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
LOOP_SCRATCH = ROOT / ".build-bench"
LOADGEN_SRC = BENCH_DIR / "loadgen" / "echo_load.c"
LOADGEN_BIN = BENCH_DIR / ".build-loadgen" / "echo_load"
SHIM_SRC = BENCH_DIR / "loadgen" / "sigsuspend_shim.c"
SHIM_LIB = BENCH_DIR / ".build-loadgen" / "sigsuspend_shim.so"

SERVERS = ("Loop", "NIO")
SCENARIOS = [(64, 1), (64, 100), (4096, 1), (4096, 100)]  # (message bytes, connections)
GOAL_THROUGHPUT = 1.2  # Loop >= 1.2x NIO msgs/s at 100 connections x 64 B
GOAL_INSTRUCTIONS = 5.0  # Loop instructions/msg <= NIO's / 5


class BenchError(Exception):
    """Something broke (not a missed goal)."""


def log(message: str) -> None:
    print(message, flush=True)


def run(cmd: list[str], cwd: Path, what: str, capture: bool = False) -> str:
    log(f"$ (cd {cwd} && {' '.join(cmd)})")
    result = subprocess.run(cmd, cwd=cwd, text=True, stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None)
    if result.returncode != 0:
        if capture and result.stdout:
            log(result.stdout[-4000:])
        raise BenchError(f"{what} failed (exit {result.returncode})")
    return result.stdout if capture else ""


# ---------------------------------------------------------------------------------------------
# Builds


def swift_build(args: list[str], cwd: Path, what: str, attempts: int = 3) -> None:
    """`swift build`, again when a source file changed under it (others edit Sources/ while
    this runs: "input file ... was modified during the build")."""
    for attempt in range(1, attempts + 1):
        log(f"$ (cd {cwd} && {' '.join(args)})")
        result = subprocess.run(args, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if result.returncode == 0:
            return
        if "was modified during the build" in result.stdout and attempt < attempts:
            log(f"  (a source file changed during the build: building again, attempt {attempt + 1}/{attempts})")
            time.sleep(5)
            continue
        log(result.stdout[-4000:])
        raise BenchError(f"{what} failed (exit {result.returncode})")


def build(skip: bool) -> dict[str, Path]:
    loop_args = ["swift", "build", "-c", "release", "--product", "EchoServer", "--scratch-path", str(LOOP_SCRATCH)]
    nio_args = ["swift", "build", "-c", "release", "--product", "NIOEchoServer"]
    if not skip:
        swift_build(loop_args, ROOT, "building Loop's EchoServer")
        swift_build(nio_args, BENCH_DIR, "building NIOEchoServer")
    loop_bin = Path(run(loop_args + ["--show-bin-path"], ROOT, "locating Loop's build", capture=True).strip().splitlines()[-1])
    nio_bin = Path(run(nio_args + ["--show-bin-path"], BENCH_DIR, "locating NIO's build", capture=True).strip().splitlines()[-1])
    servers = {"Loop": loop_bin / "EchoServer", "NIO": nio_bin / "NIOEchoServer"}
    for name, path in servers.items():
        if not path.exists():
            raise BenchError(f"{name} server binary missing: {path}")
    LOADGEN_BIN.parent.mkdir(parents=True, exist_ok=True)
    run(["gcc", "-O2", "-Wall", "-o", str(LOADGEN_BIN), str(LOADGEN_SRC)], BENCH_DIR, "compiling echo_load.c")
    run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(SHIM_LIB), str(SHIM_SRC)], BENCH_DIR,
        "compiling sigsuspend_shim.c")
    return servers


# ---------------------------------------------------------------------------------------------
# Servers and the load client


class Server:
    """An echo server started on port 0; `port` is read from its "listening on" line."""

    def __init__(self, name: str, argv: list[str], startup_timeout: float, env: dict[str, str] | None = None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=env)
        self.port = self._wait_for_port(startup_timeout)

    def output(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def _wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"listening on (.*)", self.output())
            if match:
                port = re.search(r":(\d+)\b", match.group(1))
                if port:
                    return int(port.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        out = self.output()
        self.stop()
        raise BenchError(f"{self.name} server did not start listening (exit {self.proc.returncode}):\n{out[-2000:]}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, wait: float = 60.0) -> int | None:
        """SIGTERM (callgrind writes its profile on it), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass
        return self.proc.returncode


# The throughput runs give the server core 0 and the load client core 1 (see the docstring).
SERVER_CPU = "0"
CLIENT_CPU = "1"


def pinned(cpu: str, argv: list[str]) -> list[str]:
    """argv run on one CPU with taskset (util-linux), when the machine has at least two."""
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", cpu] + argv


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


def callgrind_total(path: Path) -> int:
    total = None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            total = int(line.split()[1])
            if line.startswith("summary:"):
                break
    if total is None:
        raise BenchError(f"no summary/totals line in {path}")
    return total


RUNTIME_CALLS = ("swift_retain", "swift_release", "swift_beginAccess", "swift_allocObject", "malloc")


def runtime_calls(path: Path) -> dict[str, int]:
    """Calls to a few runtime functions in a callgrind profile (all callers, all threads)."""
    names: dict[str, str] = {}
    totals = dict.fromkeys(RUNTIME_CALLS, 0)
    callee = None
    ref = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")
    with path.open(errors="replace") as f:
        for line in f:
            if line.startswith("cfn=") or line.startswith("fn="):
                m = ref.match(line.rstrip("\n"))
                if m and m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    callee = names.get(m.group(1)) if m else None
            elif line.startswith("calls=") and callee is not None:
                if callee in totals:
                    totals[callee] += int(line[6:].split()[0])
                callee = None
    return totals


def instructions(servers: dict[str, Path], counts: tuple[int, int], workdir: Path) -> dict:
    if not shutil.which("valgrind"):
        raise BenchError("valgrind is not installed")
    low, high = counts
    stripped_dir = workdir / "stripped"
    stripped_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in SERVERS:
        binary = stripped_dir / servers[name].name
        shutil.copy2(servers[name], binary)
        run(["strip", "--strip-debug", str(binary)], workdir, f"stripping {name}")
        totals, calls = {}, {}
        for count in (low, high):
            out = workdir / f"callgrind.{name}.{count}.out"
            argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(binary),
                    "--host", "127.0.0.1", "--port", "0", "--threads", "1"]
            # Swift's async main ends the main thread in sigsuspend() with a read-only mask, which
            # crashes valgrind 3.19: loadgen/sigsuspend_shim.c hands it a writable copy.
            env = dict(os.environ, LD_PRELOAD=str(SHIM_LIB))
            server = Server(name, argv, 180, env=env)
            try:
                load(server.port, 64, 1, count=count, timeout=60)
                if not server.alive():
                    raise BenchError(f"{name} server died under valgrind:\n{server.output()[-2000:]}")
            finally:
                server.stop(wait=120)
            if not out.exists():
                raise BenchError(f"callgrind wrote no profile for {name} ({out})")
            totals[count] = callgrind_total(out)
            calls[count] = runtime_calls(out)
            log(f"  callgrind {name:<4} {count:>6} messages: {totals[count]:>14,} Ir")
        per_msg = (totals[high] - totals[low]) / (high - low)
        results[name] = {"totals": totals, "per_msg": per_msg,
                         "calls_per_msg": {f: (calls[high][f] - calls[low][f]) / (high - low) for f in RUNTIME_CALLS},
                         "profile": annotate(workdir / f"callgrind.{name}.{high}.out")}
        log(f"  {name}: {per_msg:,.0f} instructions per echoed message; runtime calls per message: " +
            ", ".join(f"{f} {round(v, 1) + 0.0:.1f}" for f, v in results[name]["calls_per_msg"].items()))
    return results


def annotate(path: Path, top: int = 25) -> str:
    """The hottest functions (exclusive Ir) of a callgrind profile."""
    if not shutil.which("callgrind_annotate"):
        return "(callgrind_annotate not installed)"
    result = subprocess.run(["callgrind_annotate", "--threshold=99", str(path)], text=True, capture_output=True)
    lines = result.stdout.splitlines()
    start = next((i for i, l in enumerate(lines) if re.match(r"^-+$", l) and i + 1 < len(lines)
                  and "file:function" in lines[i + 1]), None)
    keep = lines[start:start + 3 + top] if start is not None else lines[-top:]
    summary = [l for l in lines if "PROGRAM TOTALS" in l]
    text = "\n".join(summary + keep)
    # Readable names: demangle Swift symbols, drop the temporary directory from object paths.
    if shutil.which("swift"):
        demangled = subprocess.run(["swift", "demangle", "--simplified"], input=text, text=True, capture_output=True)
        if demangled.returncode == 0 and demangled.stdout:
            text = demangled.stdout
    text = re.sub(r"\[[^\]]*/([^/\]]+)\]", r"[\1]", text)
    return "\n".join(line if len(line) <= 200 else line[:197] + "..." for line in text.splitlines())


# ---------------------------------------------------------------------------------------------
# Micro benchmarks (package-benchmark)


ECHO_MICRO_TARGETS = ("ByteBufferBenchmarks", "PipelineBenchmarks")


def micro(skip: bool) -> str:
    if skip:
        return "(skipped with --skip-micro)"
    cmd = ["swift", "package", "--disable-sandbox", "benchmark", "--no-progress"]
    for target in ECHO_MICRO_TARGETS:  # the HTTP/2 ones run in the HTTP/2 part
        cmd += ["--target", target]
    log(f"$ (cd {BENCH_DIR} && {' '.join(cmd)})")
    result = subprocess.run(cmd, cwd=BENCH_DIR, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = result.stdout
    if result.returncode != 0:
        log(out[-4000:])
        raise BenchError(f"package-benchmark failed (exit {result.returncode})")
    # Keep the result tables, not the build chatter before them.
    lines = out.splitlines()
    first = next((i for i, l in enumerate(lines) if re.search(r"^(=+|Host |Benchmark results|ByteBuffer|Pipeline)", l)), 0)
    tables = "\n".join(lines[first:])
    log(tables)
    return tables


def micro_summary(tables: str) -> str:
    """p50 of each metric per benchmark, from package-benchmark's text tables."""
    rows, name = [], None
    current: dict[str, str] = {}
    for line in tables.splitlines():
        if line and not line.startswith(("│", "╒", "╞", "├", "╘", "=", "Host", "#", "Baseline", "Running")):
            if name and current:
                rows.append((name, current))
            name, current = line.strip(), {}
        elif line.startswith("│") and name:
            cells = [c.strip() for c in line.strip("│").split("│")]
            if len(cells) >= 4 and cells[0] != "Metric":
                metric, unit = cells[0], ""
                scaled = re.match(r"^(.*?) \(([KMG])\)( \*)?$", metric)
                if scaled:  # "Throughput (# / s) (K)": keep one column, put the unit in the cell
                    metric, unit = scaled.group(1) + (scaled.group(3) or ""), " " + scaled.group(2)
                current[metric] = cells[3] + unit  # columns: metric, p0, p25, p50, ...
    if name and current:
        rows.append((name, current))
    if not rows:
        return ""
    metrics = list(dict.fromkeys(m for _, r in rows for m in r))
    out = ["| benchmark | " + " | ".join(f"{m} p50" for m in metrics) + " |",
           "|---|" + "---:|" * len(metrics)]
    out += [f"| {n} | " + " | ".join(r.get(m, "") for m in metrics) + " |" for n, r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        swift = subprocess.run(["swift", "--version"], text=True, capture_output=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        swift = "unknown"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "swift": swift,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": load_average(),
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("matplotlib missing: pip install matplotlib")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"], check=False)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def chart(table: dict, path: Path) -> bool:
    plt = ensure_matplotlib()
    if plt is None:
        log("WARNING: matplotlib unavailable, no chart written")
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


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def results_table(table: dict, instr: dict | None) -> str:
    rows = ["| scenario | Loop msgs/s | NIO msgs/s | Loop/NIO | paired Loop/NIO | Loop CPU µs/msg | NIO CPU µs/msg |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for size, connections in SCENARIOS:
        loop, nio = table[(size, connections, "Loop")], table[(size, connections, "NIO")]
        rows.append(f"| {label(size, connections)} | {loop['msgs_per_sec']:,.0f} | {nio['msgs_per_sec']:,.0f} | "
                    f"{fmt_ratio(loop['msgs_per_sec'], nio['msgs_per_sec'])} | "
                    f"{table[(size, connections, 'paired')]:.2f}x | "
                    f"{loop['cpu_us_per_msg']:.2f} | {nio['cpu_us_per_msg']:.2f} |")
    if instr:
        loop, nio = instr["Loop"]["per_msg"], instr["NIO"]["per_msg"]
        rows += ["", "| instructions per echoed message (callgrind, 1 thread, 1 conn, 64 B) | Loop | NIO | NIO/Loop |",
                 "|---|---:|---:|---:|",
                 f"| user-space Ir / msg | {loop:,.0f} | {nio:,.0f} | {fmt_ratio(nio, loop)} |"]
    return "\n".join(rows)


def goals(table: dict, instr: dict | None) -> list[tuple[bool | None, str]]:
    out = []
    loop, nio = table[(64, 100, "Loop")]["msgs_per_sec"], table[(64, 100, "NIO")]["msgs_per_sec"]
    out.append((loop >= GOAL_THROUGHPUT * nio,
                f"Loop >= {GOAL_THROUGHPUT}x NIO msgs/s at 100 connections x 64 B: "
                f"{loop:,.0f} vs {nio:,.0f} = {fmt_ratio(loop, nio)}"))
    if instr:
        li, ni = instr["Loop"]["per_msg"], instr["NIO"]["per_msg"]
        out.append((li * GOAL_INSTRUCTIONS <= ni,
                    f"Loop instructions/msg <= 1/{GOAL_INSTRUCTIONS:g} of NIO's: {li:,.0f} vs {ni:,.0f} "
                    f"(NIO/Loop = {fmt_ratio(ni, li)})"))
    else:
        out.append((None, "instructions/msg goal not measured (--skip-callgrind)"))
    return out


def write_report(args, info, table, instr, micro_out, goal_lines, chart_ok) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
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
    lines += [f"- {'PASS' if ok else 'FAIL' if ok is False else 'SKIP'}: {text}" for ok, text in goal_lines]
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
    summary = micro_summary(micro_out)
    if summary:
        lines += [summary, "", "Full output:", ""]
    lines += ["```", micro_out.rstrip(), "```", ""]
    return "\n".join(lines)


HTTP2_BEGIN = "<!-- http2:begin -->"
HTTP2_END = "<!-- http2:end -->"
GRPC_BEGIN = "<!-- grpc:begin -->"
GRPC_END = "<!-- grpc:end -->"
GRPC_NOTE = "_(gRPC section above: from an earlier run, not this one)_"


def compose_report(echo: str | None, http2: str | None, info: dict, args, grpc: str | None = None) -> Path:
    """Writes report.md from the parts that ran; a part that did not run keeps its text from
    the previous report (marked as such)."""
    path = RESULTS / "report.md"
    old = path.read_text() if path.exists() else ""
    old_grpc = ""
    if GRPC_BEGIN in old and GRPC_END in old:
        start, end = old.index(GRPC_BEGIN), old.index(GRPC_END) + len(GRPC_END)
        old_grpc = old[start + len(GRPC_BEGIN):end - len(GRPC_END)].replace(GRPC_NOTE, "").strip("\n").rstrip()
        old = (old[:start].rstrip() + "\n" + old[end:].lstrip("\n")).rstrip() + "\n"
    if grpc is None:
        grpc = old_grpc + "\n\n" + GRPC_NOTE if old_grpc else ""
    old_http2, old_echo = "", old
    if HTTP2_BEGIN in old and HTTP2_END in old:
        start, end = old.index(HTTP2_BEGIN), old.index(HTTP2_END) + len(HTTP2_END)
        old_http2 = old[start + len(HTTP2_BEGIN):end - len(HTTP2_END)].strip("\n")
        old_echo = (old[:start] + old[end:]).rstrip() + "\n"
    echo_note = "_(echo section above: from an earlier run, not this one)_"
    http2_note = "_(HTTP/2 section above: from an earlier run, not this one)_"
    old_echo = old_echo.replace(echo_note, "").rstrip() + "\n"
    old_http2 = old_http2.replace(http2_note, "").rstrip()
    if echo is None:
        if "## Echo" in old_echo:
            echo = old_echo.rstrip() + "\n\n" + echo_note + "\n"
        else:
            echo = "\n".join([
                "# Loop benchmarks", "",
                "Generated by `python3 Benchmarks/bench.py --only ...`. Run `make bench` for the echo part too.", "",
                "## Machine", "",
                f"- nproc: {info['nproc']}", f"- CPU: {info['cpu']}", f"- kernel: {info['kernel']}",
                f"- swift: {info['swift']}", f"- date: {info['date']}", ""])
    if http2 is None:
        http2 = old_http2 + "\n\n" + http2_note if old_http2 else ""
    else:
        http2 = f"Generated {info['date']} by `python3 Benchmarks/bench.py" + \
            (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "") + "`.\n\n" + http2
    text = echo.rstrip() + "\n"
    if http2:
        text += f"\n{HTTP2_BEGIN}\n{http2.rstrip()}\n{HTTP2_END}\n"
    if grpc:
        text += f"\n{GRPC_BEGIN}\n{grpc.rstrip()}\n{GRPC_END}\n"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, one round (smoke test)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 3, quick 1)")
    parser.add_argument("--duration", type=float, help="timed seconds per run (default 5, quick 1.5)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per run (default 1, quick 0.5)")
    parser.add_argument("--counts", type=int, nargs=2, metavar=("N", "2N"),
                        help="callgrind message counts (default 20000 40000, quick 5000 10000)")
    parser.add_argument("--skip-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--skip-callgrind", action="store_true", help="do not count instructions")
    parser.add_argument("--skip-micro", action="store_true", help="do not run package-benchmark")
    parser.add_argument("--only", choices=("echo", "http2", "grpc"), help="run one part (default: all)")
    parser.add_argument("--h2-counts", type=int, nargs=2, metavar=("N", "2N"),
                        help="HTTP/2 callgrind request counts (default 5000 10000, quick 1000 2000)")
    parser.add_argument("--h2-rounds", type=int, default=1,
                        help="HTTP/2 load: rounds per scenario, medians reported (default 1: one run, as the issue asks)")
    sys.modules.setdefault("bench", sys.modules[__name__])
    import grpc_bench
    grpc_bench.add_arguments(parser)
    args = parser.parse_args()
    env_quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    args.quick = args.quick or env_quick
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (1.5 if args.quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    args.counts = tuple(args.counts) if args.counts else ((5000, 10000) if args.quick else (20000, 40000))
    if args.counts[1] <= args.counts[0]:
        parser.error("--counts: the second count must be larger")
    args.h2_counts = tuple(args.h2_counts) if args.h2_counts else ((1000, 2000) if args.quick else (5000, 10000))
    if args.h2_counts[1] <= args.h2_counts[0]:
        parser.error("--h2-counts: the second count must be larger")
    grpc_bench.finish_arguments(args, parser)
    # http2_bench and grpc_bench import this file as `bench`: this very module (one BenchError).
    import http2_bench

    echo_text = http2_text = None
    goal_lines: list = []
    h2_goals: list = []
    echo_console = h2_console = ""
    broken = False
    info = machine()
    log(f"== machine: {info['nproc']} cores, {info['cpu']}, kernel {info['kernel']}, {info['swift']}")
    if args.only in (None, "echo"):
        try:
            echo_text, goal_lines, echo_console = echo_part(args, info)
        except BenchError as error:
            log(f"ERROR (echo): {error}")
            broken = True
        except KeyboardInterrupt:
            log("interrupted")
            return 130
    if args.only in (None, "http2"):
        try:
            http2_text, h2_goals, h2_console, h2_broken = http2_bench.run_all(args, info)
            broken = broken or h2_broken
        except BenchError as error:
            log(f"ERROR (HTTP/2): {error}")
            broken = True
        except KeyboardInterrupt:
            log("interrupted")
            return 130
    grpc_text = None
    grpc_goals: list = []
    grpc_console = ""
    if args.only in (None, "grpc"):
        try:
            grpc_text, grpc_goals, grpc_console, grpc_broken = grpc_bench.run_all(args, info)
            broken = broken or grpc_broken
        except BenchError as error:
            log(f"ERROR (gRPC): {error}")
            broken = True
        except KeyboardInterrupt:
            log("interrupted")
            return 130
    if echo_text is None and http2_text is None and grpc_text is None:
        return 1
    report = compose_report(echo_text, http2_text, info, args, grpc=grpc_text)
    log("")
    if echo_console:
        log(echo_console)
        for ok, text in goal_lines:
            log(f"{'PASS' if ok else 'FAIL' if ok is False else 'SKIP'}: {text}")
        log("")
    if h2_console:
        log(h2_console)
        log("")
        for ok, text in h2_goals:
            log(f"{'PASS' if ok else 'FAIL' if ok is False else 'SKIP'}: HTTP/2 {text}")
    if grpc_console:
        log("")
        log(grpc_console)
        log("")
        for ok, text in grpc_goals:
            log(f"{'PASS' if ok else 'FAIL' if ok is False else 'SKIP'}: gRPC {text}")
    log(f"\nreport: {report}")
    if grpc_text is not None and (RESULTS / "grpc.png").exists():
        log(f"chart:  {RESULTS / 'grpc.png'}")
    if echo_text is not None and (RESULTS / "echo.png").exists():
        log(f"chart:  {RESULTS / 'echo.png'}")
    if http2_text is not None and (RESULTS / "http2.png").exists():
        log(f"chart:  {RESULTS / 'http2.png'}")
    return 1 if broken else 0


def echo_part(args, info: dict) -> tuple[str, list, str]:
    """The echo part; returns (report text, goal lines, console summary)."""
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
    micro_out = micro(args.skip_micro)
    RESULTS.mkdir(parents=True, exist_ok=True)
    chart_ok = chart(table, RESULTS / "echo.png")
    goal_lines = goals(table, instr)
    text = write_report(args, info, table, instr, micro_out, goal_lines, chart_ok)
    console = [results_table(table, instr), ""]
    summary = micro_summary(micro_out)
    if summary:
        console += [summary, ""]
    return text, goal_lines, "\n".join(console)


if __name__ == "__main__":
    sys.exit(main())
