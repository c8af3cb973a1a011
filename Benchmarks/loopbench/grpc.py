"""The gRPC part: Loop's InteropServer vs grpc-swift-2, grpc-go 1.33 and grpcio TestService servers.

Run by bench.py (`python3 Benchmarks/bench.py`, or `--only grpc`), or as `python3 Benchmarks/grpc_bench.py`
(the same as `bench.py --only grpc`). It writes the gRPC section of results/report.md (other sections
kept) and results/grpc.png.

  1. builds Loop's InteropServer (release, scratch path .build-bench) and this package's
     GRPCSwift2Server and GRPCLoadClient (release); grpc-go's interop_server and grpcio_peer.py
     come from `make peers` ($LOOP_PEERS_DIR, default ~/.cache/loop-peers);
  2. workloads, every server started fresh for each run, pinned to core 0 with one event loop
     (grpc-go: GOMAXPROCS 1 from the affinity), the client pinned to core 1; interleaved (each round
     runs every workload on every server, the server order rotating from round to round); medians:
       unary 11 B    h2load -c 8 -m 100 POST /grpc.testing.TestService/UnaryCall, an 11-byte
                     SimpleRequest (response_size 7: the 11-byte SimpleResponse)
       unary 4 KiB   the same with a 4 KiB payload each way (response_size 4096)
       streaming     h2load -c 8 -m 100 POST .../StreamingOutputCall asking for 100 responses of
                     11 bytes each (7-byte payloads); messages/s = calls x 100 / time
       load client   GRPCLoadClient (this package: Loop's GRPCChannel, 8 connections, 800 concurrent
                     calls) with the unary 11 B request: calls/s, p50 / p99 latency
     Each run: untimed warm-up runs (growing until one lasts 0.4 s), then a timed run sized to last
     about --duration seconds. Server CPU per call = utime+stime of the server process
     (/proc/PID/stat, all threads) across the timed run / calls. Errors: h2load's failed, errored,
     timed-out and non-2xx requests, and the DATA bytes received must equal calls x the expected
     response (a call that failed with a grpc-status has no message: HTTP 200 alone proves nothing);
     every run also makes one call of its workload with the grpcio client and checks status OK and
     the exact response bytes;
  3. allocations per unary call: valgrind --tool=callgrind on stripped copies of Loop's InteropServer
     and of GRPCSwift2Server (--threads 1), h2load -c 1 -m 10 unary 11 B for N and N + 20,000 calls:
     (malloc calls(N + 20,000) - malloc calls(N)) / 20,000, plus the allocation sites;
  4. returns the report section, goal lines and console summary; draws results/grpc.png.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from . import callgrind, charts
from .callgrind import CALL_TARGETS
from .common import BENCH_DIR, RESULTS, ROOT, BenchError, build_swift, load_average, log, loop_commit
from .goals import Goal, markdown
from .grpc_messages import STREAM_MESSAGES, WORKLOADS, frame
from .h2load import h2load_tail, run_h2load
from .processes import CLIENT_CPU, SERVER_CPU, PeerServer, Server, cpu_times, free_port, pinned
from .report import PartResult, command, fmt, get, ratio, valid

SERVERS = ("Loop", "grpc-swift-2", "grpc-go", "grpcio")
LABELS = {"Loop": "Loop InteropServer", "grpc-swift-2": "grpc-swift-2 2.4.3", "grpc-go": "grpc-go 1.33",
          "grpcio": "grpcio (Python)"}
COLORS = {"Loop": "#2b7bba", "grpc-swift-2": "#e8772e", "grpc-go": "#5aa05a", "grpcio": "#9467bd"}

# Goals (issue): server CPU per unary call <= 1.0x grpc-go's and <= 1/5 of grpc-swift-2's;
# <= 15 allocations per unary call on the server; server-streaming messages/s >= grpc-go's.
GOAL_CPU_VS_GO = 1.0
GOAL_CPU_VS_SWIFT = 5.0
GOAL_ALLOCS = 15.0
GOAL_STREAM_VS_GO = 1.0

CONNECTIONS = 8
STREAMS = 100


def peers_dir() -> Path:
    return Path(os.environ.get("LOOP_PEERS_DIR") or Path.home() / ".cache" / "loop-peers")


GRPCIO_PEER = ROOT / "Tests" / "LoopGRPCTests" / "Interop" / "Scripts" / "grpcio_peer.py"


# ---------------------------------------------------------------------------------------------
# Builds


def build(skip: bool) -> dict[str, Path]:
    built = build_swift("InteropServer", ["GRPCSwift2Server", "GRPCLoadClient"], skip)
    binaries = {
        "Loop": built["InteropServer"],
        "grpc-swift-2": built["GRPCSwift2Server"],
        "loadclient": built["GRPCLoadClient"],
        "grpc-go": peers_dir() / "bin" / "interop_server",
        "grpcio": GRPCIO_PEER,
    }
    h2load = shutil.which("h2load")
    if h2load is None:
        raise BenchError("h2load is not installed (apt-get install nghttp2-client)")
    binaries["h2load"] = Path(h2load)
    for name, path in binaries.items():
        if not path.exists():
            hint = " (run `make peers`)" if name in ("grpc-go", "grpcio") else ""
            raise BenchError(f"{name} binary missing: {path}{hint}")
    callgrind.build_shim()
    return binaries


# ---------------------------------------------------------------------------------------------
# Servers


def start(name: str, binaries: dict[str, Path], threads: int):
    """A server pinned to the server core (SERVER_CPU) with `threads` event loops (grpc-go's
    GOMAXPROCS follows the affinity: 1 on one core)."""
    if name == "Loop":
        return Server(name, pinned(SERVER_CPU, [str(binaries["Loop"]), "--host", "127.0.0.1", "--port", "0",
                                                "--threads", str(threads)]), 30)
    if name == "grpc-swift-2":
        return Server(name, pinned(SERVER_CPU, [str(binaries["grpc-swift-2"]), "--host", "127.0.0.1",
                                                "--port", "0", "--threads", str(threads)]), 30)
    port = free_port()
    if name == "grpc-go":
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["grpc-go"]), f"--port={port}"]), port)
    if name == "grpcio":
        return PeerServer(name, pinned(SERVER_CPU, [sys.executable, str(binaries["grpcio"]), "server",
                                                    "--host", "127.0.0.1", "--port", str(port)]),
                          port, startup_timeout=60)
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# Load: h2load with a gRPC body, and the Loop load client


class Bodies:
    """The request bodies (one length-prefixed message each) as files for h2load -d."""

    def __init__(self, workdir: Path):
        self.paths = {}
        for name, w in WORKLOADS.items():
            path = workdir / f"{name}.grpc"
            path.write_bytes(frame(w["request"]))
            self.paths[name] = path


def expected_data_bytes(workload: str) -> int:
    """DATA payload bytes of one call's response: each message with its 5-byte prefix."""
    return sum(5 + len(m) for m in WORKLOADS[workload]["responses"])


def h2load(port: int, workload: str, bodies: Bodies, n: int, c: int = CONNECTIONS, m: int = STREAMS,
           timeout: float = 300, cpu: str | None = None) -> tuple[dict, str]:
    """h2load POSTing the workload's request body; errors also when the DATA received is not
    n times the expected response (h2load counts any HTTP 200 as success; a call that ended
    with an error grpc-status carries no message)."""
    w = WORKLOADS[workload]
    argv = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m), "-d", str(bodies.paths[workload]),
            "-H", "content-type: application/grpc", "-H", "te: trailers", f"http://127.0.0.1:{port}{w['path']}"]
    if cpu is not None:
        argv = pinned(cpu, argv)
    result, text = run_h2load(argv, n, timeout)
    if "succeeded" in result:
        expected = n * expected_data_bytes(workload)
        if result.get("data_bytes") != expected:
            missing = (expected - result.get("data_bytes", 0)) / expected_data_bytes(workload)
            result["errors"].append(f"DATA received {result.get('data_bytes')} bytes, expected {expected} "
                                    f"({missing:.0f} calls' worth missing: calls that ended without their response)")
    return result, text


def load_client(binary: Path, port: int, workload: str, count: int, warmup: int, server_pid: int = 0,
                connections: int = CONNECTIONS, concurrency: int = CONNECTIONS * STREAMS,
                timeout: float = 300, cpu: str | None = None) -> dict:
    w = WORKLOADS[workload]
    argv = [str(binary), "--host", "127.0.0.1", "--port", str(port), "--path", w["path"],
            "--request-hex", w["request"].hex(), "--expect-bytes", str(len(w["responses"][0])),
            "--connections", str(connections), "--concurrency", str(concurrency), "--count", str(count),
            "--warmup", str(warmup), "--threads", "1"]
    if server_pid:
        argv += ["--server-pid", str(server_pid)]
    if cpu is not None:
        argv = pinned(cpu, argv)
    try:
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"errors": [f"load client did not finish in {timeout:.0f} s"], "argv": " ".join(argv)}
    match = re.search(r"^RESULT (.*)$", proc.stdout, re.M)
    result: dict = {"argv": " ".join(argv), "errors": []}
    if not match:
        result["errors"].append(f"load client printed no result (exit {proc.returncode}): "
                                f"{(proc.stdout + proc.stderr)[-500:]}")
        return result
    values = {k: float(v) for k, v in (item.split("=", 1) for item in match.group(1).split())}
    values["failed_calls"] = values.pop("errors", 0.0)
    result.update(values)
    if values["failed_calls"]:
        first = proc.stderr.strip().splitlines()[-1:] or [""]
        result["errors"].append(f"{values['failed_calls']:.0f} of {values['calls']:.0f} calls failed; {first[0]}")
    elif proc.returncode != 0:
        result["errors"].append(f"load client exit {proc.returncode}: {proc.stderr[-300:]}")
    return result


# ---------------------------------------------------------------------------------------------
# Verification with a real gRPC client (grpcio), in a subprocess so its threads leave with it


def verify(port: int, workload: str, ca_file: Path | None = None) -> tuple[bool, str]:
    """One call of the workload with grpcio (loopbench/grpc_verify.py): (ok, what it saw); over TLS,
    trusting the certificate in ca_file, when it is given (the TLS part)."""
    proc = subprocess.run([sys.executable, "-m", "loopbench.grpc_verify", str(port), workload]
                          + ([str(ca_file)] if ca_file else []), cwd=BENCH_DIR,
                          text=True, capture_output=True, timeout=60)
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        return bool(data["ok"]), data["detail"]
    except (IndexError, ValueError, KeyError):
        return False, f"verification failed to run (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-300:]}"


# ---------------------------------------------------------------------------------------------
# Runs


MEDIAN_KEYS = ("calls_per_sec", "msgs_per_sec", "cpu_us_per_call", "user_us_per_call", "sys_us_per_call",
               "cpu_us_per_msg", "latency_mean_us", "p50_us", "p99_us", "seconds")


def one_run(workload: str, name: str, binaries: dict, bodies: Bodies, threads: int, duration: float) -> dict:
    try:
        server = start(name, binaries, threads)
    except BenchError as error:
        log(f"    {name:<13} did not start: {error}")
        return {"errors": [str(error)], "broken": True}
    record: dict = {}
    try:
        ok, detail = verify(server.port, workload)
        record["verified"] = ok
        record["verify_detail"] = detail
        errors = [] if ok else [f"verification: {detail}"]
        per_call_msgs = len(WORKLOADS[workload]["responses"])
        cap = 2_000_000
        if WORKLOADS[workload]["tool"] == "h2load":
            # Warm-up runs, growing until one lasts 0.4 s; their rate sizes the timed run.
            n = CONNECTIONS * STREAMS
            while True:
                warm, text = h2load(server.port, workload, bodies, n, timeout=120, cpu=CLIENT_CPU)
                if warm["errors"]:
                    errors += [f"warm-up: {e}" for e in warm["errors"]]
                    record["h2load_tail"] = text[-1500:]
                    break
                if warm.get("seconds", 0) >= 0.4 or n >= cap:
                    break
                n = min(cap, n * 4)
            rate = warm.get("req_per_sec") or 1000.0
            n = int(min(cap, max(CONNECTIONS * STREAMS, rate * duration)))
            n -= n % CONNECTIONS
            if not errors:
                user0, sys0 = cpu_times(server.pid)
                result, text = h2load(server.port, workload, bodies, n, timeout=max(120, 20 * duration),
                                      cpu=CLIENT_CPU)
                user1, sys1 = cpu_times(server.pid)
                errors += result["errors"]
                ok_calls = result.get("succeeded", 0)
                record.update({"calls": ok_calls, "seconds": result.get("seconds"), "argv": result["argv"],
                               "calls_per_sec": result.get("req_per_sec"),
                               "latency_mean_us": result.get("latency_mean_us"),
                               "data_bytes": result.get("data_bytes")})
                cpu = (user1 - user0) + (sys1 - sys0)
                if ok_calls:
                    record["cpu_us_per_call"] = cpu * 1e6 / ok_calls
                    record["user_us_per_call"] = (user1 - user0) * 1e6 / ok_calls
                    record["sys_us_per_call"] = (sys1 - sys0) * 1e6 / ok_calls
                    record["cpu_us_per_msg"] = record["cpu_us_per_call"] / per_call_msgs
                    record["msgs_per_sec"] = (result.get("req_per_sec") or 0) * per_call_msgs
                if result["errors"]:
                    record["h2load_tail"] = "\n".join(text.strip().splitlines()[-14:])
        else:
            calib = load_client(binaries["loadclient"], server.port, workload, count=CONNECTIONS * STREAMS * 4,
                                warmup=CONNECTIONS * STREAMS, timeout=120, cpu=CLIENT_CPU)
            errors += [f"calibration: {e}" for e in calib["errors"]]
            if not calib["errors"]:
                rate = calib.get("calls_per_sec") or 1000.0
                count = int(min(cap, max(CONNECTIONS * STREAMS, rate * duration)))
                result = load_client(binaries["loadclient"], server.port, workload, count=count,
                                     warmup=CONNECTIONS * STREAMS, server_pid=server.pid,
                                     timeout=max(120, 20 * duration), cpu=CLIENT_CPU)
                errors += result["errors"]
                record.update({k: result.get(k) for k in ("calls", "seconds", "calls_per_sec", "p50_us", "p99_us",
                                                            "argv")})
                record["latency_mean_us"] = result.get("mean_us")
                if result.get("calls") and result.get("server_cpu_sec") is not None:
                    record["cpu_us_per_call"] = result["server_cpu_sec"] * 1e6 / result["calls"]
                    record["cpu_us_per_msg"] = record["cpu_us_per_call"]
                record["msgs_per_sec"] = record.get("calls_per_sec")
        if not server.alive():
            errors.append(f"{name} exited during the run (status {server.proc.returncode})")
            record["broken"] = True
            record["server_output"] = server.output()[-2000:]
        record["errors"] = errors
    finally:
        server.stop(wait=10)
    rate_key = "msgs_per_sec" if workload == "stream" else "calls_per_sec"
    unit = "msgs/s" if workload == "stream" else "calls/s"
    extra = ""
    if record.get("p50_us") is not None:
        extra = f"  p50 {record['p50_us']:,.0f} us  p99 {record['p99_us']:,.0f} us"
    log(f"    {name:<13} {fmt(record.get(rate_key)):>10} {unit}  {fmt(record.get('cpu_us_per_call'), '.2f'):>7} us CPU/call"
        f"  mean latency {fmt(record.get('latency_mean_us'), ',.0f')} us{extra}"
        + (f"  ERRORS: {'; '.join(record['errors'])}" if record.get("errors") else ""))
    if record.get("h2load_tail") and record.get("errors"):
        log("      " + record["h2load_tail"].replace("\n", "\n      "))
    return record


def load_runs(binaries: dict, bodies: Bodies, threads: int, rounds: int, duration: float) -> dict:
    runs = interleaved_runs(SERVERS, rounds, {w: WORKLOADS[w]["label"] for w in WORKLOADS}, "server order",
                            lambda workload, name: one_run(workload, name, binaries, bodies, threads, duration))
    return aggregate_runs(runs, MEDIAN_KEYS)


def interleaved_runs(names, rounds: int, workloads: dict, order_label: str, run) -> dict:
    """`run(workload, name)` for every workload (key → label) and name, `rounds` times, the
    order of the names rotating between rounds so slow drifts in load hit each alike; the
    runs listed per (workload, name) for `aggregate_runs`."""
    names = tuple(names)
    runs: dict[tuple[str, str], list[dict]] = {}
    for rnd in range(rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        log(f"  round {rnd + 1}/{rounds} ({order_label}: {', '.join(order)})")
        for workload, label in workloads.items():
            log(f"   {label}")
            for name in order:
                runs.setdefault((workload, name), []).append(run(workload, name))
    return runs


def aggregate_runs(runs: dict, median_keys) -> dict:
    """Each (workload, server) key's runs in one record: the last run's fields, the median of
    each of `median_keys` (and every round's value as KEY_all), errors, broken, verification."""
    results = {}
    for key, rs in runs.items():
        out = dict(rs[-1])
        for k in median_keys:
            values = [r[k] for r in rs if valid(r.get(k))]
            out[k] = statistics.median(values) if values else None
            out[k + "_all"] = [r.get(k) for r in rs]
        out["errors"] = [e for r in rs for e in (r.get("errors") or [])]
        out["broken"] = any(r.get("broken") for r in rs)
        out["verified_all"] = all(r.get("verified") for r in rs)
        out["verify_details"] = sorted({r.get("verify_detail", "") for r in rs if r.get("verify_detail")})
        out["rounds"] = len(rs)
        results[key] = out
    return results


# ---------------------------------------------------------------------------------------------
# Allocations per unary call (callgrind)


CALLGRIND_RUNS = (("Loop", "Loop", "unary-11B", "call"), ("grpc-swift-2", "grpc-swift-2", "unary-11B", "call"),
                  ("Loop stream", "Loop", "stream", "message"))


def allocations(binaries: dict, bodies: Bodies, counts: tuple[int, int], workdir: Path) -> dict:
    """Per unary call (and per streamed message for Loop): (count(high) - count(low)) / (high - low)."""
    callgrind.require_valgrind()
    results = {}
    for key, name, workload, per in CALLGRIND_RUNS:
        binary = callgrind.stripped_copy(binaries[name], workdir, name)
        msgs = len(WORKLOADS[workload]["responses"]) if per == "message" else 1
        # Streaming calls carry 100 messages each: a hundredth of the calls, at least 2 x 10.
        low, high = (max(20, counts[0] // msgs), max(40, counts[1] // msgs)) if msgs > 1 else counts
        data = {}
        for count in (low, high):
            out = workdir / f"callgrind.grpc.{name}.{workload}.{count}.out"

            def drive(server):
                result, text = h2load(server.port, workload, bodies, count, c=1, m=10, timeout=1200)
                if result["errors"]:
                    raise BenchError(f"h2load against {name} under valgrind: {'; '.join(result['errors'])}\n"
                                     f"{h2load_tail(text)}")
            callgrind.profile(name, out, callgrind.swift_server(name, binary, out), drive)
            edges = callgrind.callgrind_graph(out)
            totals = callgrind.call_totals(edges)
            direct: dict[str, int] = {}
            for (caller, callee), k in edges.items():
                if callee in ("malloc", "swift_slowAlloc"):
                    edge = f"{caller} → {callee}"
                    direct[edge] = direct.get(edge, 0) + k
            data[count] = {"ir": callgrind.callgrind_total(out), "calls": totals, "direct": direct,
                           "sites": callgrind.allocation_sites(edges),
                           "exclusive": callgrind.exclusive_costs(out)}
            log(f"  callgrind {name:<13} {WORKLOADS[workload]['label']:<22} {count:>6} calls: "
                f"{data[count]['ir']:>14,} Ir, {totals['malloc']:,} malloc calls")
        d = (high - low) * msgs
        entry = {
            "server": name,
            "workload": workload,
            "per": per,
            "counts": (low, high),
            "ir": {c: data[c]["ir"] for c in (low, high)},
            "ir_per_call": (data[high]["ir"] - data[low]["ir"]) / d,
            "calls_per_call": {f: (data[high]["calls"][f] - data[low]["calls"][f]) / d
                               for f in CALL_TARGETS},
            "top": callgrind.per_request_top(data[low]["exclusive"], data[high]["exclusive"], d, 20),
            "malloc_sites": callgrind.per_request_top(data[low]["sites"], data[high]["sites"], d, 20),
            "direct": callgrind.per_request_top(data[low]["direct"], data[high]["direct"], d, 12),
        }
        results[key] = entry
        log(f"  {key}: {entry['ir_per_call']:,.0f} Ir/{per}, " +
            ", ".join(f"{f} {v:.2f}" for f, v in entry["calls_per_call"].items()) + f" per {per}")
    return results


# ---------------------------------------------------------------------------------------------
# Tables, goals, chart


def paired(results: dict, workload: str, a: str, b: str, key: str) -> tuple[float | None, list[float]]:
    """a/b within each round (the runs side by side), and their median: cancels slow drifts in load."""
    xs = get(results, workload, a, key + "_all") or []
    ys = get(results, workload, b, key + "_all") or []
    ratios = [x / y for x, y in zip(xs, ys) if valid(x) and valid(y) and y]
    return (statistics.median(ratios) if ratios else None), ratios


def paired_text(results: dict, workload: str, a: str, b: str, key: str) -> str:
    med, ratios = paired(results, workload, a, b, key)
    if med is None or len(ratios) < 2:
        return ""
    return f"; per round {', '.join(f'{r:.2f}' for r in ratios)}, median {med:.2f}x"


def summary_table(results: dict, allocs: dict | None) -> str:
    rows = ["| server | unary 11 B calls/s | mean latency | server CPU µs/call | Loop CPU ÷ this | "
            "unary 4 KiB calls/s | 4 KiB CPU µs/call | allocations/call | streaming msgs/s | Loop msgs/s ÷ this | "
            "streaming CPU µs/msg |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    loop_cpu = get(results, "unary-11B", "Loop", "cpu_us_per_call")
    loop_stream = get(results, "stream", "Loop", "msgs_per_sec")
    for name in SERVERS:
        cpu = get(results, "unary-11B", name, "cpu_us_per_call")
        allocs_cell = "n/a"
        if allocs and name in allocs:
            allocs_cell = f"{allocs[name]['calls_per_call']['malloc']:.2f}"
        stream = get(results, "stream", name, "msgs_per_sec")
        rows.append(
            f"| {LABELS[name]} | {fmt(get(results, 'unary-11B', name, 'calls_per_sec'))} | "
            f"{fmt(get(results, 'unary-11B', name, 'latency_mean_us'), ',.0f')} µs | {fmt(cpu, '.2f')} | "
            f"{'—' if name == 'Loop' else ratio(loop_cpu, cpu)} | "
            f"{fmt(get(results, 'unary-4KiB', name, 'calls_per_sec'))} | "
            f"{fmt(get(results, 'unary-4KiB', name, 'cpu_us_per_call'), '.2f')} | {allocs_cell} | "
            f"{fmt(stream)} | {'—' if name == 'Loop' else ratio(loop_stream, stream)} | "
            f"{fmt(get(results, 'stream', name, 'cpu_us_per_msg'), '.2f')} |")
    return "\n".join(rows)


def detail_table(results: dict) -> str:
    rows = ["| workload | server | calls/s | msgs/s | server CPU µs/call | user + sys µs/call | CPU ÷ Loop's | "
            "mean latency | p50 / p99 | errors | grpcio check |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for workload, w in WORKLOADS.items():
        loop_cpu = get(results, workload, "Loop", "cpu_us_per_call")
        for name in SERVERS:
            r = results.get((workload, name), {})
            errors = "; ".join(dict.fromkeys(r.get("errors") or [])) or "0"
            pct = f"{fmt(r.get('p50_us'), ',.0f')} / {fmt(r.get('p99_us'), ',.0f')} µs" if valid(r.get("p50_us")) else ""
            user_sys = (f"{fmt(r.get('user_us_per_call'), '.2f')} + {fmt(r.get('sys_us_per_call'), '.2f')}"
                        if valid(r.get("user_us_per_call")) else "")
            check = "OK" if r.get("verified_all") else ("; ".join(r.get("verify_details") or []) or "not run")
            rows.append(f"| {w['label']} | {LABELS[name]} | {fmt(r.get('calls_per_sec'))} | "
                        f"{fmt(r.get('msgs_per_sec'))} | {fmt(r.get('cpu_us_per_call'), '.2f')} | {user_sys} | "
                        f"{ratio(r.get('cpu_us_per_call'), loop_cpu)} | {fmt(r.get('latency_mean_us'), ',.0f')} µs | "
                        f"{pct} | {errors} | {check} |")
    return "\n".join(rows)


def alloc_table(allocs: dict) -> str:
    rows = ["| server | h2load (N / N + Δ calls) | Ir, N calls | Ir, N + Δ calls | per | Ir | malloc | "
            "swift_allocObject | swift_retain | swift_release |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for key, a in allocs.items():
        low, high = a["counts"]
        c = a["calls_per_call"]
        rows.append(f"| {LABELS[a['server']]} | `-n {low:,}/{high:,} -c 1 -m 10` {WORKLOADS[a['workload']]['label']} | "
                    f"{a['ir'][low]:,} | {a['ir'][high]:,} | {'unary call' if a['per'] == 'call' else 'streamed message'} | "
                    f"{a['ir_per_call']:,.0f} | " +
                    " | ".join(f"{c[f]:.2f}" for f in CALL_TARGETS) + " |")
    return "\n".join(rows)


def goals(results: dict, allocs: dict | None) -> list[Goal]:
    out: list[Goal] = []
    loop = get(results, "unary-11B", "Loop", "cpu_us_per_call")
    go = get(results, "unary-11B", "grpc-go", "cpu_us_per_call")
    swift2 = get(results, "unary-11B", "grpc-swift-2", "cpu_us_per_call")
    out.append(Goal("gRPC", None if not valid(loop) or not valid(go) else loop <= GOAL_CPU_VS_GO * go,
                    f"server CPU per unary call (11 B, h2load -c 8 -m 100) <= {GOAL_CPU_VS_GO:g}x grpc-go's: "
                    f"Loop {fmt(loop, '.2f')} µs vs grpc-go {fmt(go, '.2f')} µs (Loop/grpc-go = {ratio(loop, go)}"
                    f"{paired_text(results, 'unary-11B', 'Loop', 'grpc-go', 'cpu_us_per_call')})"))
    out.append(Goal("gRPC", None if not valid(loop) or not valid(swift2) else loop * GOAL_CPU_VS_SWIFT <= swift2,
                    f"server CPU per unary call <= 1/{GOAL_CPU_VS_SWIFT:g} of grpc-swift-2's: Loop {fmt(loop, '.2f')} µs "
                    f"vs grpc-swift-2 {fmt(swift2, '.2f')} µs (grpc-swift-2/Loop = {ratio(swift2, loop)}"
                    f"{paired_text(results, 'unary-11B', 'grpc-swift-2', 'Loop', 'cpu_us_per_call')})"))
    if allocs and "Loop" in allocs:
        a = allocs["Loop"]["calls_per_call"]["malloc"]
        s = allocs.get("grpc-swift-2", {}).get("calls_per_call", {}).get("malloc")
        out.append(Goal("gRPC", a <= GOAL_ALLOCS,
                        f"allocations per unary call on the server <= {GOAL_ALLOCS:g} (malloc calls, callgrind): "
                        f"Loop {a:.2f}" + (f" (grpc-swift-2: {s:.2f})" if s is not None else "")))
    else:
        out.append(Goal("gRPC", None, "allocations per unary call not measured (--skip-callgrind)"))
    ls = get(results, "stream", "Loop", "msgs_per_sec")
    gs = get(results, "stream", "grpc-go", "msgs_per_sec")
    out.append(Goal("gRPC", None if not valid(ls) or not valid(gs) else ls >= GOAL_STREAM_VS_GO * gs,
                    f"server-streaming messages/s >= grpc-go's: Loop {fmt(ls)} vs grpc-go {fmt(gs)} "
                    f"(Loop/grpc-go = {ratio(ls, gs)}{paired_text(results, 'stream', 'Loop', 'grpc-go', 'msgs_per_sec')}); "
                    f"server CPU per streamed message: Loop {fmt(get(results, 'stream', 'Loop', 'cpu_us_per_msg'), '.2f')} µs, "
                    f"grpc-go {fmt(get(results, 'stream', 'grpc-go', 'cpu_us_per_msg'), '.2f')} µs"))
    loop_errors = [e for w in WORKLOADS for e in (results.get((w, "Loop"), {}).get("errors") or [])]
    out.append(Goal("gRPC", not loop_errors,
                    "Loop: 0 errors in every run (h2load status and DATA bytes, load client, grpcio check)"
                    + ("" if not loop_errors else ": " + "; ".join(dict.fromkeys(loop_errors))[:600])))
    return out


def chart(results: dict, path: Path) -> bool:
    plt = charts.pyplot("gRPC chart")
    if plt is None:
        return False
    fig, axes = plt.subplots(1, 4, figsize=(17, 5))
    width = 0.2
    panels = [
        (axes[0], ("unary-11B", "unary-4KiB", "client-11B"), "calls_per_sec", "calls / s (median)", "Unary throughput",
         lambda v: f"{v / 1000:.1f}k"),
        (axes[1], ("unary-11B", "unary-4KiB", "client-11B"), "cpu_us_per_call", "server CPU µs / call (log)",
         "Server CPU per unary call", lambda v: f"{v:.3g}"),
        (axes[2], ("unary-11B", "unary-4KiB", "client-11B"), "latency_mean_us", "mean latency µs (log)",
         "Mean latency (800 calls in flight)", lambda v: f"{v / 1000:.1f}ms" if v >= 1000 else f"{v:.0f}"),
        (axes[3], ("stream",), "msgs_per_sec", "messages / s (median)", f"Server streaming ({STREAM_MESSAGES} x 11 B)",
         lambda v: f"{v / 1000:.0f}k"),
    ]
    short = {"unary-11B": "11 B\nh2load", "unary-4KiB": "4 KiB\nh2load", "client-11B": "11 B\nLoop client",
             "stream": "streaming\nh2load"}
    for ax, workloads, key, ylabel, title, label in panels:
        charts.grouped_bars(ax, workloads, list(SERVERS), lambda w, n: get(results, w, n, key), COLORS, width, label,
                            rotation=90 if len(workloads) > 1 else 0)
        ax.set_xticklabels([short[w] for w in workloads], fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if "log" in ylabel:
            charts.log_scale(ax)
            ax.margins(y=0.25)
        else:
            ax.margins(y=0.18)
    charts.save_with_legend(fig, path, SERVERS, COLORS, LABELS, "gRPC TestService over h2c: Loop vs grpc-swift-2, "
                            "grpc-go, grpcio (8 connections x 100 calls in flight)")
    return True


def section(args, info: dict, results: dict, allocs: dict | None, goal_lines, chart_ok: bool, threads: int,
            duration: float) -> str:
    rounds = args.grpc_rounds
    lines = [
        "## gRPC: Loop InteropServer vs grpc-swift-2, grpc-go, grpcio",
        "",
        f"Generated {info['date']} by `{command(args)}`. "
        f"Loop sources at `{info.get('loop_commit', 'unknown')}`. Load average before / after the load runs: "
        f"{info.get('grpc_load_before', 'n/a')} / {info.get('grpc_load_after', 'n/a')}.",
        "",
        "grpc.testing.TestService over h2c on 127.0.0.1. Every server is one process pinned to one core "
        f"(`taskset -c {SERVER_CPU}`) with one event loop, started fresh for every run; the client (h2load, or "
        f"the load client) is pinned to the other core (`taskset -c {CLIENT_CPU}`), so calls/s and msgs/s are the "
        "server's capacity on one core, not the pace of a client sharing its cores (as in the echo part). Loop "
        f"`InteropServer --threads {threads}` (Sources/examples/InteropServer: LoopGRPC + LoopGRPCProtobuf); "
        f"grpc-swift-2 `GRPCSwift2Server --threads {threads}` (Benchmarks/Sources/GRPCSwift2Server: GRPCCore 2.4.3, "
        "grpc-swift-nio-transport 2.9.2 `HTTP2ServerTransport.Posix` plaintext with its default config on a "
        "one-thread MultiThreadedEventLoopGroup, handlers on Swift's global executor (its threads share the core), "
        "GRPCProtobuf serializers, the same generated messages); grpc-go 1.33 `interop_server` (Debian's source, "
        "`make peers`; GOMAXPROCS follows the affinity: 1); grpcio `grpcio_peer.py server` (grpcio's C core and a "
        "Python servicer on a ThreadPoolExecutor(32), one process on the core). "
        f"Same client for all: `h2load -c {CONNECTIONS} -m {STREAMS}` POSTing one length-prefixed message with "
        "`content-type: application/grpc` and `te: trailers`, and Loop's own load client (`GRPCLoadClient`: "
        f"{CONNECTIONS} GRPCChannels, {CONNECTIONS * STREAMS} concurrent unary calls, pre-encoded request bytes).",
        "",
        "- **unary 11 B**: UnaryCall with an 11-byte SimpleRequest (`response_size: 7`, 5-byte payload), answered by an "
        "11-byte SimpleResponse (7-byte payload).",
        "- **unary 4 KiB**: UnaryCall with a 4096-byte payload each way (4,105-byte request, 4,102-byte response).",
        f"- **streaming**: StreamingOutputCall asking for {STREAM_MESSAGES} responses of 11 bytes (7-byte payloads); "
        f"msgs/s = calls × {STREAM_MESSAGES} ÷ time, CPU per call covers the {STREAM_MESSAGES} messages.",
        "- **load client**: the unary 11 B call from GRPCLoadClient; p50 / p99 are its per-call latencies.",
        "",
        f"{rounds} round(s); each round runs every workload on every server, the server order rotating between rounds; "
        "medians shown. A run: untimed warm-up runs (growing until one lasts 0.4 s), then a timed run sized to last "
        f"about {duration:g} s. Server CPU per call = utime+stime of the server process (/proc/PID/stat, all threads, "
        "10 ms ticks) across the timed run ÷ calls. Mean latency is h2load's mean \"time for request\" (with 800 calls "
        "in flight it is mostly queueing: calls in flight ÷ throughput). Errors count h2load's failed / errored / "
        "timed-out / non-2xx requests, and DATA bytes received must equal calls × the expected response (h2load counts "
        "any HTTP 200 as success; a call failed with a grpc-status carries no message). Every run also makes one call "
        "of its workload with the grpcio client, checking status OK and the exact response bytes (\"grpcio check\"). "
        "CPU per call is the stable figure. The machine is shared and noisy.",
        "",
        summary_table(results, allocs),
        "",
    ]
    if chart_ok:
        lines += ["![gRPC results](grpc.png)", ""]
    lines += ["### Goals", ""]
    lines += markdown(goal_lines)
    lines += ["", "### All workloads", "", detail_table(results), ""]
    if rounds > 1:
        per_round = []
        for workload in WORKLOADS:
            for name in SERVERS:
                r = results.get((workload, name), {})
                cpu = r.get("cpu_us_per_call_all") or []
                rate = r.get("msgs_per_sec_all" if workload == "stream" else "calls_per_sec_all") or []
                per_round.append(f"{WORKLOADS[workload]['label']} {name}: "
                                 + ", ".join(f"{fmt(a)}/s {fmt(b, '.2f')} µs" for a, b in zip(rate, cpu)))
        lines += ["Per round (rate, CPU µs/call): " + "; ".join(per_round) + ".", ""]
    if allocs:
        low, high = allocs["Loop"]["counts"] if "Loop" in allocs else next(iter(allocs.values()))["counts"]
        lines += [
            "### Allocations per unary call (callgrind)",
            "",
            f"`valgrind --tool=callgrind` on `strip --strip-debug` copies of the release servers, `--threads 1`, under "
            f"`h2load -n N -c 1 -m 10` unary 11 B with N = {low:,} and {high:,}: (count({high:,}) − count({low:,})) ÷ "
            f"{high - low:,}, so start-up, connection set-up and warm-up cancel. malloc counts every heap allocation "
            "(swift_allocObject allocates through it), all threads. Loop is also profiled under the streaming "
            f"workload (a hundredth of the calls, {STREAM_MESSAGES} messages each), per streamed message.",
            "",
            alloc_table(allocs),
            "",
        ]
        for key, a in allocs.items():
            what = "unary call" if a["per"] == "call" else "streamed message"
            title = LABELS[a["server"]] + ("" if a["per"] == "call" else ", streaming")
            lines += [f"#### {title}: malloc calls per {what} by allocation site", "",
                      "First caller outside the Swift runtime, standard library and malloc, then the helpers it went "
                      "through; calls through a shared helper are split in proportion to its callers.", "", "```"]
            lines += [f"{v:>8.2f}  {n}" for n, v in a["malloc_sites"]]
            lines += ["```", "", f"Direct callers of malloc and swift_slowAlloc per {what} ({title}; exact counts, no "
                      "attribution):", "", "```"]
            lines += [f"{v:>8.2f}  {n}" for n, v in a["direct"]]
            lines += ["```", "", f"#### {title}: top exclusive functions per {what} (Ir)", "", "```"]
            lines += [f"{v:>10,.1f}  {n}" for n, v in a["top"]]
            lines += ["```", ""]
    bad = [(k, v) for k, v in results.items() if v.get("errors")]
    if bad:
        lines += ["### Runs with errors", ""]
        for (workload, name), v in bad:
            lines += [f"{WORKLOADS[workload]['label']}, {LABELS[name]}: {'; '.join(dict.fromkeys(v['errors']))}", ""]
            if v.get("h2load_tail") or v.get("server_output"):
                lines += ["```", (v.get("h2load_tail") or "").rstrip(), (v.get("server_output") or "").rstrip(), "```",
                          ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The gRPC part: its report section, goals, console summary, and whether something broke."""
    threads = 1  # one event loop on one core (SERVER_CPU); the clients on the other core
    duration = args.grpc_duration
    log("== gRPC: building")
    binaries = build(args.skip_build)
    info["loop_commit"] = loop_commit()
    with tempfile.TemporaryDirectory(prefix="bench-grpc-") as tmp:
        bodies = Bodies(Path(tmp))
        log(f"== gRPC load ({args.grpc_rounds} round(s), ~{duration:g} s per run; "
            f"{', '.join(SERVERS)} interleaved; servers on core {SERVER_CPU} with {threads} event loop, "
            f"clients on core {CLIENT_CPU})")
        info["grpc_load_before"] = load_average()
        results = load_runs(binaries, bodies, threads, args.grpc_rounds, duration)
        info["grpc_load_after"] = load_average()
        allocs = None
        if not args.skip_callgrind:
            log(f"== gRPC allocations per unary call (callgrind, {args.grpc_counts[0]} and {args.grpc_counts[1]} calls)")
            allocs = allocations(binaries, bodies, args.grpc_counts, Path(tmp))
    RESULTS.mkdir(parents=True, exist_ok=True)
    chart_ok = chart(results, RESULTS / "grpc.png")
    goal_lines = goals(results, allocs)
    text = section(args, info, results, allocs, goal_lines, chart_ok, threads, duration)
    console = [summary_table(results, allocs), "", detail_table(results)]
    if allocs:
        console += ["", alloc_table(allocs)]
        for key, a in allocs.items():
            what = "unary call" if a["per"] == "call" else "streamed message"
            console += ["", f"{key}: malloc calls per {what} by site"]
            console += [f"{v:>8.2f}  {n}" for n, v in a["malloc_sites"][:12]]
            console += [f"{key}: direct callers of malloc / swift_slowAlloc per {what}"]
            console += [f"{v:>8.2f}  {n}" for n, v in a["direct"]]
    broken = any(v.get("broken") for v in results.values())
    return PartResult(text, goal_lines, "\n".join(console), broken)
