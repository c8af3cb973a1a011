"""The HTTP/2 part: Loop's HTTP2Server vs swift-nio-http2, nghttpd and h2o.

  1. builds Loop's HTTP2Server (release, scratch path .build-bench) and this package's
     NIOHTTP2Server (release);
  2. load with h2load, one run per server per scenario, servers interleaved (Loop, NIO,
     nghttpd, h2o, then the next scenario), each started fresh with the core count as its
     thread count and given a short warm-up run first:
       S1  h2load -n 200000 -c 8 -m 100     GET /hello        req/s and server CPU per request
       S2  h2load -n 20000  -c 1 -m 1       GET /hello        mean latency ("time for request")
       S3  h2load -n 400000 -c 4 -m 1000    GET /hello        req/s and server CPU per request
       S4  h2load -n 10000  -c 10 -m 1000   GET /delay/3000   RSS per open stream (Loop, NIO)
     server CPU = utime+stime of the server process (/proc/PID/stat, all threads) across the
     timed h2load run, divided by the requests that succeeded;
  3. allocations (and instructions) per request with valgrind's callgrind on stripped copies
     of Loop's and NIO's servers (--threads 1): h2load -n N -c 1 -m 10 /hello and the same
     with 2N, (calls(2N) - calls(N)) / N, plus per-request profiles (top exclusive functions,
     callers of swift_allocObject and malloc);
  4. package-benchmark micro benchmarks LoopHTTP2Benchmarks and NIOHTTP2Benchmarks (frame
     codec, HPACK, one request through the connection handler);
  5. returns the report section (markdown), the goal lines, and draws results/http2.png.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from . import callgrind, charts, micro
from .callgrind import CALL_TARGETS
from .common import RESULTS, BenchError, build_swift, load_average, log, loop_commit
from .goals import Goal, markdown
from .h2load import h2load_tail, run_h2load
from .processes import PeerServer, Server, cpu_times, free_port, rss_kib
from .report import PartResult, fmt, get, ratio, valid

SERVERS = ("Loop", "NIO", "nghttpd", "h2o")
SWIFT_SERVERS = ("Loop", "NIO")
LABELS = {"Loop": "Loop HTTP2Server", "NIO": "swift-nio-http2", "nghttpd": "nghttpd", "h2o": "h2o"}

# Goals (issue): S1/S3 CPU per request <= 2x h2o's and <= 1/8 of NIO's; S2 mean latency
# <= 1.1x nghttpd's; <= 5 allocations per request; 0 per DATA frame decoded; <= 2 KiB RSS per
# open stream with 10,000 open.
GOAL_CPU_VS_H2O = 2.0
GOAL_CPU_VS_NIO = 8.0
GOAL_LATENCY_VS_NGHTTPD = 1.1
GOAL_ALLOCS_PER_REQUEST = 5.0
GOAL_RSS_PER_STREAM = 2048.0

HELLO = b"Hello, world!"


def scenarios(quick: bool) -> dict[str, dict]:
    scale = 10 if quick else 1
    return {
        "S1": {"n": 200_000 // scale, "c": 8, "m": 100, "path": "/hello"},
        "S2": {"n": 20_000 // scale, "c": 1, "m": 1, "path": "/hello"},
        "S3": {"n": 400_000 // scale, "c": 4, "m": 1000, "path": "/hello"},
        "S4": {"n": 2_000 if quick else 10_000, "c": 2 if quick else 10, "m": 1000,
               "path": f"/delay/{1000 if quick else 3000}"},
    }


def describe(spec: dict) -> str:
    return f"h2load -n {spec['n']} -c {spec['c']} -m {spec['m']} {spec['path']}"


# ---------------------------------------------------------------------------------------------
# Builds


def build(skip: bool) -> dict[str, Path]:
    built = build_swift("HTTP2Server", ["NIOHTTP2Server"], skip)
    binaries = {"Loop": built["HTTP2Server"], "NIO": built["NIOHTTP2Server"]}
    for name in ("nghttpd", "h2o", "h2load"):
        path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
        if path is None:
            raise BenchError(f"{name} is not installed (apt-get install nghttp2-client nghttp2-server h2o)")
        binaries[name] = Path(path)
    for name, path in binaries.items():
        if not path.exists():
            raise BenchError(f"{name} binary missing: {path}")
    callgrind.build_shim()
    return binaries


# ---------------------------------------------------------------------------------------------
# Servers


class Peers:
    """The document root and h2o configuration shared by the nghttpd and h2o runs."""

    def __init__(self, workdir: Path):
        self.root = workdir / "www"
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "hello").write_bytes(HELLO)
        # h2o drops root privileges to "nobody": the tree must be world-readable.
        for path in (workdir, self.root):
            path.chmod(0o755)
        (self.root / "hello").chmod(0o644)
        self.workdir = workdir

    def h2o_config(self, port: int, threads: int) -> Path:
        path = self.workdir / f"h2o-{port}.conf"
        path.write_text(
            "listen:\n"
            "  host: 127.0.0.1\n"
            f"  port: {port}\n"
            f"num-threads: {threads}\n"
            "http2-max-concurrent-requests-per-connection: 1000\n"
            "hosts:\n"
            "  \"default\":\n"
            "    paths:\n"
            "      /:\n"
            f"        file.dir: {self.root}\n"
        )
        path.chmod(0o644)
        return path


def start(name: str, binaries: dict[str, Path], peers: Peers, threads: int):
    if name == "Loop":
        return Server(name, [str(binaries["Loop"]), "--host", "127.0.0.1", "--port", "0",
                             "--threads", str(threads), "--max-streams", "1000"], 30)
    if name == "NIO":
        return Server(name, [str(binaries["NIO"]), "--host", "127.0.0.1", "--port", "0",
                             "--threads", str(threads), "--max-streams", "1000"], 30)
    port = free_port()
    if name == "nghttpd":
        return PeerServer(name, [str(binaries["nghttpd"]), "--no-tls", "-a", "127.0.0.1", "-d", str(peers.root),
                                 "-n", str(threads), "-m", "1000", str(port)], port)
    if name == "h2o":
        return PeerServer(name, [str(binaries["h2o"]), "-c", str(peers.h2o_config(port, threads))], port,
                          cwd=peers.workdir)
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# h2load


def h2load(port: int, spec: dict, *, n: int | None = None, timeout: float = 180,
           on_tick=None) -> tuple[dict, str]:
    """Runs h2load; `on_tick` is called every 50 ms while it runs (RSS sampling)."""
    n = n or spec["n"]
    argv = ["h2load", "-n", str(n), "-c", str(spec["c"]), "-m", str(spec["m"]),
            f"http://127.0.0.1:{port}{spec['path']}"]
    return run_h2load(argv, n, timeout, on_tick)


# ---------------------------------------------------------------------------------------------
# Load scenarios


MEDIAN_KEYS = ("req_per_sec", "seconds", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req", "latency_mean_us",
               "rss_before_kib", "rss_peak_kib", "rss_per_stream_bytes")


def load_runs(binaries: dict[str, Path], quick: bool, threads: int, peers: Peers, rounds: int = 1) -> dict:
    """{(scenario, server): result}; servers interleaved within each scenario (and round);
    with several rounds, the median of each figure."""
    specs = scenarios(quick)
    results: dict = {}
    for scenario in ("S1", "S2", "S3", "S4"):
        spec = specs[scenario]
        log(f"  {scenario}: {describe(spec)}")
        runs: dict[str, list[dict]] = {}
        for rnd in range(rounds):
            for name in SERVERS:
                if scenario == "S4" and name not in SWIFT_SERVERS:
                    continue
                if rounds > 1:
                    if name == SERVERS[0]:
                        log(f"    round {rnd + 1}/{rounds}")
                runs.setdefault(name, []).append(one_run(scenario, spec, name, binaries, peers, threads, quick))
        for name in SERVERS:
            if name not in runs:
                results[(scenario, name)] = {"na": "no slow route"}
            else:
                results[(scenario, name)] = combine(runs[name])
    return results


def combine(runs: list[dict]) -> dict:
    if len(runs) == 1:
        return runs[0]
    out = dict(runs[-1])
    for key in MEDIAN_KEYS:
        values = [r[key] for r in runs if valid(r.get(key))]
        if values:
            out[key] = statistics.median(values)
            out[key + "_all"] = values
    out["errors"] = [e for r in runs for e in (r.get("errors") or [])]
    out["broken"] = any(r.get("broken") for r in runs)
    for key in ("succeeded", "failed", "errored", "timeout"):
        if all(key in r for r in runs):
            out[key] = sum(r[key] for r in runs)
    out["rounds"] = len(runs)
    return out


def one_run(scenario: str, spec: dict, name: str, binaries, peers, threads: int, quick: bool) -> dict:
    try:
        server = start(name, binaries, peers, threads)
    except BenchError as error:
        log(f"    {name:<8} did not start: {error}")
        return {"errors": [str(error)], "broken": True}
    try:
        record: dict = {}
        if scenario != "S4":
            # Warm-up (not timed): fills caches and pools, steadies the allocator.
            warm = max(spec["c"] * spec["m"], spec["n"] // 20)
            warm -= warm % spec["c"]
            _, _ = h2load(server.port, spec, n=warm, timeout=120)
            user0, sys0 = cpu_times(server.pid)
            result, text = h2load(server.port, spec, timeout=300)
            user1, sys1 = cpu_times(server.pid)
            record.update(result)
            ok = result.get("succeeded", 0)
            cpu = (user1 - user0) + (sys1 - sys0)
            record["cpu_seconds"] = cpu
            record["cpu_us_per_req"] = cpu * 1e6 / ok if ok else float("nan")
            record["user_us_per_req"] = (user1 - user0) * 1e6 / ok if ok else float("nan")
            record["sys_us_per_req"] = (sys1 - sys0) * 1e6 / ok if ok else float("nan")
        else:
            before = rss_kib(server.pid)
            samples = [before]
            start_time = time.monotonic()

            def sample():
                try:
                    samples.append(rss_kib(server.pid))
                except (OSError, BenchError):
                    pass
            delay_ms = int(spec["path"].rsplit("/", 1)[1])
            result, text = h2load(server.port, spec, timeout=delay_ms / 1000 + 120, on_tick=sample)
            record.update(result)
            record["rss_before_kib"] = before
            record["rss_peak_kib"] = max(samples)
            record["rss_samples"] = len(samples)
            record["wall_seconds"] = time.monotonic() - start_time
            streams = spec["n"]
            record["rss_per_stream_bytes"] = (record["rss_peak_kib"] - before) * 1024 / streams
        record["h2load_tail"] = h2load_tail(text)
        if not server.alive():
            record["errors"] = record.get("errors", []) + [f"{name} exited during the run (status {server.proc.returncode})"]
            record["broken"] = True
            record["server_output"] = server.output()[-2000:]
        summary = (f"{record.get('req_per_sec', 0):>10,.0f} req/s" if scenario != "S4" else
                   f"RSS {record['rss_before_kib']:,} -> {record['rss_peak_kib']:,} KiB, "
                   f"{record['rss_per_stream_bytes']:,.0f} B/stream")
        extra = ""
        if scenario in ("S1", "S3"):
            extra = f"  {record['cpu_us_per_req']:6.2f} us CPU/req"
        elif scenario == "S2":
            extra = f"  mean latency {record.get('latency_mean_us', float('nan')):7.1f} us"
        log(f"    {name:<8} {summary}{extra}" + (f"  ERRORS: {'; '.join(record['errors'])}" if record.get("errors") else ""))
        if record.get("errors"):
            log("      " + record["h2load_tail"].replace("\n", "\n      "))
        return record
    finally:
        server.stop(wait=10)


# ---------------------------------------------------------------------------------------------
# Allocations and instructions per request (callgrind)


# (key, server, streams per connection): the table rows, plus Loop at S3's concurrency.
CALLGRIND_RUNS = (("Loop", "Loop", 10), ("NIO", "NIO", 10), ("nghttpd", "nghttpd", 10), ("Loop m1000", "Loop", 1000))


def allocations(binaries: dict[str, Path], counts: tuple[int, int], workdir: Path, peers_root: Path) -> dict:
    callgrind.require_valgrind()
    results = {}
    for key, name, streams in CALLGRIND_RUNS:
        spec = {"c": 1, "m": streams, "path": "/hello"}
        # At 1000 streams a run needs more requests than batches: at least 4 full windows.
        low, high = counts if streams <= 10 else (max(counts[0], 4 * streams), 2 * max(counts[0], 4 * streams))
        if name in SWIFT_SERVERS:
            binary = callgrind.stripped_copy(binaries[name], workdir, name)
        data = {}
        for count in (low, high):
            out = workdir / f"callgrind.h2.{name}.{streams}.{count}.out"
            if name in SWIFT_SERVERS:
                server = callgrind.swift_server(name, binary, out)
            else:  # nghttpd, one worker: the C reference
                port = free_port()
                server = PeerServer(name, callgrind.valgrind_argv(out) + [
                    str(binaries["nghttpd"]), "--no-tls", "-a", "127.0.0.1", "-d", str(peers_root), "-n", "1", "-m",
                    "1000", str(port)], port, 180)

            def drive(server):
                result, text = h2load(server.port, spec, n=count, timeout=600)
                if result["errors"]:
                    raise BenchError(f"h2load against {name} under valgrind: {'; '.join(result['errors'])}\n"
                                     f"{h2load_tail(text)}")
            callgrind.profile(name, out, server, drive)
            edges = callgrind.callgrind_graph(out)
            totals = callgrind.call_totals(edges)
            data[count] = {"ir": callgrind.callgrind_total(out), "calls": totals,
                           "sites": callgrind.allocation_sites(edges), "exclusive": callgrind.exclusive_costs(out)}
            log(f"  callgrind {name:<7} -m {streams:<4} {count:>6} requests: {data[count]['ir']:>14,} Ir, "
                f"{totals['malloc']:,} malloc calls")
        d = high - low
        entry = {
            "counts": (low, high),
            "streams": streams,
            "ir": {c: data[c]["ir"] for c in (low, high)},
            "ir_per_req": (data[high]["ir"] - data[low]["ir"]) / d,
            "calls_per_req": {f: (data[high]["calls"][f] - data[low]["calls"][f]) / d for f in CALL_TARGETS},
            "top": callgrind.per_request_top(data[low]["exclusive"], data[high]["exclusive"], d, 20),
            "malloc_sites": callgrind.per_request_top(data[low]["sites"], data[high]["sites"], d, 15),
        }
        results[key] = entry
        log(f"  {key}: {entry['ir_per_req']:,.0f} Ir/request, " +
            ", ".join(f"{f} {v:.2f}" for f, v in entry["calls_per_req"].items()) + " per request")
    return results


# ---------------------------------------------------------------------------------------------
# Micro benchmarks


MICRO_TARGETS = ("LoopHTTP2Benchmarks", "NIOHTTP2Benchmarks")


def micro_run(skip: bool) -> str:
    if skip:
        return ""
    return micro.run_benchmarks(MICRO_TARGETS, "package-benchmark (HTTP/2)", timeout=3600)


# ---------------------------------------------------------------------------------------------
# Goals, tables, chart


def goals(results: dict, allocs: dict | None, micro_rows: dict) -> list[Goal]:
    out: list[Goal] = []
    for scenario in ("S1", "S3"):
        loop = get(results, scenario, "Loop", "cpu_us_per_req")
        h2o = get(results, scenario, "h2o", "cpu_us_per_req")
        nio = get(results, scenario, "NIO", "cpu_us_per_req")
        errors = results.get((scenario, "Loop"), {}).get("errors") or []
        ok_h2o = None if loop is None or h2o is None else loop <= GOAL_CPU_VS_H2O * h2o
        ok_nio = None if loop is None or nio is None else loop * GOAL_CPU_VS_NIO <= nio
        out.append(Goal("HTTP/2", ok_h2o,
                        f"{scenario} Loop CPU/request <= {GOAL_CPU_VS_H2O:g}x h2o's: {fmt(loop, '.2f')} vs "
                        f"{fmt(h2o, '.2f')} us (Loop/h2o = {ratio(loop, h2o)})"))
        out.append(Goal("HTTP/2", ok_nio,
                        f"{scenario} Loop CPU/request <= 1/{GOAL_CPU_VS_NIO:g} of swift-nio-http2's: "
                        f"{fmt(loop, '.2f')} vs {fmt(nio, '.2f')} us (NIO/Loop = {ratio(nio, loop)})"))
        out.append(Goal("HTTP/2", not errors,
                        f"{scenario} Loop 0 errors: " + ("0" if not errors else "; ".join(errors))))
    loop = get(results, "S2", "Loop", "latency_mean_us")
    ng = get(results, "S2", "nghttpd", "latency_mean_us")
    out.append(Goal("HTTP/2", None if loop is None or ng is None else loop <= GOAL_LATENCY_VS_NGHTTPD * ng,
                    f"S2 Loop mean latency <= {GOAL_LATENCY_VS_NGHTTPD:g}x nghttpd's: {fmt(loop, '.1f')} vs "
                    f"{fmt(ng, '.1f')} us (Loop/nghttpd = {ratio(loop, ng)})"))
    if allocs:
        a = allocs["Loop"]["calls_per_req"]["malloc"]
        n = allocs["NIO"]["calls_per_req"]["malloc"]
        g = allocs["nghttpd"]["calls_per_req"]["malloc"]
        out.append(Goal("HTTP/2", a <= GOAL_ALLOCS_PER_REQUEST,
                        f"Loop allocations/request <= {GOAL_ALLOCS_PER_REQUEST:g} (malloc calls, callgrind): "
                        f"{a:.2f} (swift-nio-http2: {n:.2f}, nghttpd: {g:.2f})"))
    else:
        out.append(Goal("HTTP/2", None, "allocations/request not measured (--skip-callgrind)"))
    gate = micro_rows.get(("LoopHTTP2Benchmarks", "DATA frame decode (48 B), malloc gate"), {}).get("mallocs")
    per_k = micro_rows.get(("LoopHTTP2Benchmarks", "DATA frame decode (48 B)"), {}).get("mallocs")
    if gate is None:
        out.append(Goal("HTTP/2", None, "allocations per DATA frame decoded not measured (--skip-micro)"))
    else:
        out.append(Goal("HTTP/2", gate == 0 and (per_k or 0) == 0,
                        f"Loop 0 allocations per DATA frame decoded: {gate:g} (one frame per iteration, p50), "
                        f"{fmt(per_k, 'g')} per frame over 1,000-frame iterations"))
    rss = get(results, "S4", "Loop", "rss_per_stream_bytes")
    s4_errors = results.get(("S4", "Loop"), {}).get("errors") or []
    out.append(Goal("HTTP/2", None if rss is None else (rss <= GOAL_RSS_PER_STREAM and not s4_errors),
                    f"S4 Loop RSS per open stream <= {GOAL_RSS_PER_STREAM / 1024:g} KiB: {fmt(rss, ',.0f')} B "
                    f"(swift-nio-http2: {fmt(get(results, 'S4', 'NIO', 'rss_per_stream_bytes'), ',.0f')} B)"
                    + (f"; errors: {'; '.join(s4_errors)}" if s4_errors else "")))
    return out


def load_table(results: dict, specs: dict) -> str:
    rows = ["| scenario | server | req/s | server CPU µs/req | user + sys µs/req | CPU vs Loop | mean latency | errors |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    for scenario in ("S1", "S2", "S3"):
        loop_cpu = get(results, scenario, "Loop", "cpu_us_per_req")
        for name in SERVERS:
            r = results.get((scenario, name), {})
            errors = "; ".join(r.get("errors") or []) or "0"
            cpu = r.get("cpu_us_per_req")
            rows.append(f"| {scenario} `{describe(specs[scenario])}` | {LABELS[name]} | {fmt(r.get('req_per_sec'))} | "
                        f"{fmt(cpu, '.2f')} | {fmt(r.get('user_us_per_req'), '.2f')} + {fmt(r.get('sys_us_per_req'), '.2f')} | "
                        f"{ratio(cpu, loop_cpu)} | "
                        f"{fmt(r.get('latency_mean_us'), ',.1f')} µs | {errors} |")
    return "\n".join(rows)


def ratio_table(results: dict) -> str:
    rows = ["| ratio (server CPU per request) | S1 | S3 | goal |", "|---|---:|---:|---|"]
    def r(a, b, s):
        return ratio(get(results, s, a, "cpu_us_per_req"), get(results, s, b, "cpu_us_per_req"))
    rows.append(f"| Loop / h2o | {r('Loop', 'h2o', 'S1')} | {r('Loop', 'h2o', 'S3')} | ≤ {GOAL_CPU_VS_H2O:g}x |")
    rows.append(f"| Loop / nghttpd | {r('Loop', 'nghttpd', 'S1')} | {r('Loop', 'nghttpd', 'S3')} | |")
    rows.append(f"| swift-nio-http2 / Loop | {r('NIO', 'Loop', 'S1')} | {r('NIO', 'Loop', 'S3')} | ≥ {GOAL_CPU_VS_NIO:g}x |")
    lat = ratio(get(results, "S2", "Loop", "latency_mean_us"), get(results, "S2", "nghttpd", "latency_mean_us"))
    rows += ["", f"S2 mean latency Loop / nghttpd: {lat} (goal ≤ {GOAL_LATENCY_VS_NGHTTPD:g}x)"]
    return "\n".join(rows)


def rss_table(results: dict, specs: dict) -> str:
    rows = [f"| server | RSS before (KiB) | RSS peak with {specs['S4']['n']:,} streams open (KiB) | "
            "RSS per open stream | h2load | errors |", "|---|---:|---:|---:|---|---|"]
    for name in SERVERS:
        r = results.get(("S4", name), {})
        if "na" in r:
            rows.append(f"| {LABELS[name]} | n/a | n/a | n/a | {r['na']} | |")
            continue
        done = f"{r.get('succeeded', 0):,} ok in {fmt(r.get('seconds'), '.2f')} s" if "succeeded" in r else "-"
        rows.append(f"| {LABELS[name]} | {fmt(r.get('rss_before_kib'))} | {fmt(r.get('rss_peak_kib'))} | "
                    f"{fmt(r.get('rss_per_stream_bytes'), ',.0f')} B | {done} | {'; '.join(r.get('errors') or []) or '0'} |")
    return "\n".join(rows)


def alloc_table(allocs: dict, counts: tuple[int, int]) -> str:
    rows = ["| server | h2load | Ir, N req | Ir, 2N req | Ir / request | malloc / request | "
            "swift_allocObject / request | swift_retain / request | swift_release / request |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key, name, streams in CALLGRIND_RUNS:
        a = allocs[key]
        c = a["calls_per_req"]
        low, high = a["counts"]
        rows.append(f"| {LABELS[name]} | `-n {low:,}/{high:,} -c 1 -m {streams}` | {a['ir'][low]:,} | {a['ir'][high]:,} | "
                    f"{a['ir_per_req']:,.0f} | "
                    f"{c['malloc']:.2f} | {c['swift_allocObject']:.2f} | {c['swift_retain']:.2f} | {c['swift_release']:.2f} |")
    return "\n".join(rows)


MICRO_ORDER = [
    "DATA frame decode (48 B)",
    "DATA frame decode (48 B), malloc gate",
    "DATA frame encode (48 B)",
    "HEADERS frame decode (gRPC request)",
    "HEADERS frame encode (gRPC response)",
    "HPACK encode (gRPC request)",
    "HPACK decode (gRPC request)",
    "HPACK encode (gRPC response)",
    "HPACK decode (gRPC response)",
    "Server request GET /hello (handler, EmbeddedChannel)",
]


def micro_table(rows: dict) -> str:
    out = ["| operation | Loop ns/op | Loop mallocs/op | NIO ns/op | NIO mallocs/op | NIO/Loop time |",
           "|---|---:|---:|---:|---:|---:|"]
    names = MICRO_ORDER + sorted({n for (_, n) in rows} - set(MICRO_ORDER))
    for name in names:
        loop = rows.get(("LoopHTTP2Benchmarks", name))
        nio = rows.get(("NIOHTTP2Benchmarks", name))
        if not loop and not nio:
            continue
        loop, nio = loop or {}, nio or {}
        out.append(f"| {name} | {fmt(loop.get('ns'), ',.0f', '-')} | {fmt(loop.get('mallocs'), 'g', '-')} | "
                   f"{fmt(nio.get('ns'), ',.0f', '-')} | {fmt(nio.get('mallocs'), 'g', '-')} | "
                   f"{ratio(nio.get('ns'), loop.get('ns')) if loop.get('ns') and nio.get('ns') else '-'} |")
    return "\n".join(out)


def chart(results: dict, path: Path) -> bool:
    plt = charts.pyplot("HTTP/2 chart")
    if plt is None:
        return False
    colors = {"Loop": "#2b7bba", "NIO": "#e8772e", "nghttpd": "#5aa05a", "h2o": "#9467bd"}
    fig, axes = plt.subplots(1, 4, figsize=(16, 5))
    width = 0.2
    panels = [
        (axes[0], ("S1", "S3"), "req_per_sec", "requests / s", "Throughput", lambda v: f"{v / 1000:.0f}k"),
        (axes[1], ("S1", "S3"), "cpu_us_per_req", "server CPU µs / request (log)", "Server CPU per request",
         lambda v: f"{v:.2g}"),
        (axes[2], ("S2",), "latency_mean_us", "mean µs / request", "S2 latency (1 conn, 1 stream)",
         lambda v: f"{v:.0f}"),
        (axes[3], ("S4",), "rss_per_stream_bytes", "bytes RSS / open stream", "S4 memory per open stream",
         lambda v: f"{v:,.0f}"),
    ]
    for ax, scen, key, ylabel, title, label in panels:
        present = [n for n in SERVERS if any(valid(get(results, s, n, key)) for s in scen)]
        charts.grouped_bars(ax, scen, present, lambda s, n: get(results, s, n, key), colors, width, label)
        ax.set_xticklabels(scen)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if key == "cpu_us_per_req":
            charts.log_scale(ax, minor=True)
        else:
            ax.margins(y=0.12)
    charts.save_with_legend(fig, path, SERVERS, colors, LABELS,
                            "HTTP/2 h2c, GET /hello (h2load): Loop vs swift-nio-http2, nghttpd, h2o")
    return True


def section(args, info: dict, results: dict, specs: dict, allocs: dict | None, micro_out: str,
            micro_rows: dict, goal_lines, chart_ok: bool, threads: int) -> str:
    lines = [
        "## HTTP/2: Loop HTTP2Server vs swift-nio-http2, nghttpd, h2o",
        "",
        f"h2c (prior knowledge) over 127.0.0.1, load from `h2load` ({info.get('h2load', 'nghttp2')}). Each server is "
        f"started fresh for each run with {threads} threads (the core count): Loop "
        "`HTTP2Server --threads N --max-streams 1000`, swift-nio-http2 `NIOHTTP2Server --threads N --max-streams 1000` "
        "(Benchmarks/Sources/NIOHTTP2Server: NIOHTTP2Handler with its inline stream multiplexer, one "
        "HTTP2StreamChannel per stream with an HTTP2FramePayload handler, MultiThreadedEventLoopGroup), "
        "`nghttpd --no-tls -n N -m 1000` serving a 13-byte file `hello`, and `h2o` (cleartext listener, "
        "`num-threads: N`, `http2-max-concurrent-requests-per-connection: 1000`, `file.dir` with the same file). "
        f"{'One run' if args.h2_rounds == 1 else f'{args.h2_rounds} rounds (medians shown)'} per server per scenario, "
        "servers interleaved, each after an untimed warm-up run "
        "(5 % of the requests, at least c × m). Server CPU per request = utime+stime of the server process "
        "(/proc/PID/stat, all threads, 10 ms ticks) across the timed h2load run ÷ requests that succeeded. "
        "h2load shares the 2 cores with the server and saturates before the C servers do, so req/s is "
        "client-bound for them; CPU per request is the stable figure. The machine is shared and noisy.",
        "",
        f"Loop sources at `{info.get('loop_commit', 'unknown')}`. "
        f"Load average before / after the HTTP/2 load runs: {info.get('h2_load_before', 'n/a')} / "
        f"{info.get('h2_load_after', 'n/a')}.",
        "",
        "h2o 2.2.5 advertises SETTINGS_MAX_CONCURRENT_STREAMS = 100 whatever "
        "`http2-max-concurrent-requests-per-connection` says (the value is built in), so in S3 h2load keeps at "
        "most 100 streams open per connection to h2o; the other three advertise 1000.",
        "",
        "### Load (S1–S3)",
        "",
        load_table(results, specs),
        "",
    ]
    if args.h2_rounds > 1:
        per_round = [f"{scenario} {LABELS[name]}: " + ", ".join(f"{v:.2f}" for v in r["cpu_us_per_req_all"])
                     for (scenario, name), r in results.items() if r.get("cpu_us_per_req_all")]
        lines += ["Server CPU µs/request per round: " + "; ".join(per_round) + ".", ""]
    lines += [
        ratio_table(results),
        "",
    ]
    if chart_ok:
        lines += ["![HTTP/2 results](http2.png)", ""]
    lines += [
        "### S4: memory with many streams open",
        "",
        f"`{describe(specs['S4'])}`: every request waits {specs['S4']['path'].rsplit('/', 1)[1]} ms on the server, so "
        f"all {specs['S4']['n']:,} streams ({specs['S4']['c']} connections × {specs['S4']['m']}) are open at once. "
        "VmRSS (/proc/PID/status) is read just before h2load starts and every 50 ms while it runs; RSS per open "
        "stream = (peak − before) ÷ streams (the connections' own buffers are included). nghttpd and h2o have no "
        "slow route: n/a.",
        "",
        rss_table(results, specs),
        "",
        "### Goals",
        "",
    ]
    lines += markdown(goal_lines)
    lines += [""]
    if allocs:
        low, high = args.h2_counts
        lines += [
            "### Allocations and instructions per request (callgrind)",
            "",
            f"`valgrind --tool=callgrind` on `strip --strip-debug` copies of the release servers, `--threads 1`, "
            f"under `h2load -n N -c 1 -m 10 /hello` with N = {low:,} and {high:,}: (count({high:,}) − count({low:,})) "
            f"÷ {high - low:,}, so start-up and connection set-up cancel (Loop is also profiled at S3's 1000 streams per "
            "connection, with N = 4 windows of 1000 at least). malloc counts every heap allocation "
            "(swift_allocObject allocates through it). nghttpd (`-n 1`, its own build with symbols as Debian ships "
            "it) is the C reference for the instruction count.",
            "",
            alloc_table(allocs, args.h2_counts),
            "",
        ]
        for key, name, streams in CALLGRIND_RUNS:
            if name not in SWIFT_SERVERS:
                continue
            a = allocs[key]
            lines += [f"#### {LABELS[name]}, {streams} streams per connection: top exclusive functions per request (Ir)",
                      "", "```"]
            lines += [f"{v:>10,.1f}  {n}" for n, v in a["top"]]
            lines += ["```", "", f"malloc calls per request by allocation site ({LABELS[name]}, -m {streams}; first caller outside "
                      "the Swift runtime, standard library and malloc, then the helpers it went through; "
                      "calls through a shared helper split in proportion to its callers):", "", "```"]
            lines += [f"{v:>8.2f}  {n}" for n, v in a["malloc_sites"]]
            lines += ["```", ""]
    if micro_out:
        lines += [
            "### Micro benchmarks: LoopHTTP2 vs swift-nio-http2 (package-benchmark)",
            "",
            "`cd Benchmarks && swift package --disable-sandbox benchmark --target LoopHTTP2Benchmarks --target "
            "NIOHTTP2Benchmarks`; p50 per op (scalingFactor .kilo, 1,000 ops per sample; the malloc gate runs one op "
            "per sample). Header blocks are in steady state (both dynamic tables already hold the fields). gRPC request "
            "head: 9 fields (:method POST, :scheme, :path, :authority, content-type, te, grpc-timeout, "
            "grpc-accept-encoding, user-agent); response head: 3 fields. What each side measures:",
            "",
            "- **Loop**: the public codec: `HTTP2FrameDecoder.nextFrame()` over a pre-built buffer of frames "
            "(HEADERS decode includes HPACK decoding into `[HPACKHeader]`), `HTTP2FrameEncoder.writeHeaders` / "
            "`writeData` into a buffer; `HPACKEncoder.encode` / `HPACKDecoder.decode`.",
            "- **swift-nio-http2**: its frame codec is internal, so frames go through the public path: a frame-level "
            "server `NIOHTTP2Handler` (no multiplexer) on an `EmbeddedChannel`, fed bytes made by a client "
            "`NIOHTTP2Handler`: decode = bytes in → parse + connection/stream state machines + flow control → an "
            "`HTTP2Frame` read at the tail; encode = an `HTTP2Frame` written → state machines → bytes out. So NIO's "
            "frame rows include work Loop's rows leave out (Loop does it in HTTP2Connection): compare those rows "
            "with that in mind. HPACK rows are like for like (NIOHPACK `HPACKEncoder.encode(headers:to:)` / "
            "`HPACKDecoder.decodeHeaders(from:)`).",
            "- **Server request GET /hello** is like for like: one request's HEADERS in, response HEADERS + DATA out, "
            "through Loop's `HTTP2ConnectionHandler` + stream delegate vs `NIOHTTP2Handler` + inline multiplexer + "
            "stream channel, each on its library's `EmbeddedChannel`.",
            "",
            micro_table(micro_rows),
            "",
            "<details><summary>Full package-benchmark output</summary>",
            "",
            "```",
            micro_out.rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    broken = [(k, v) for k, v in results.items() if v.get("broken")]
    if broken or any(v.get("errors") for v in results.values()):
        lines += ["### h2load output of runs with errors", ""]
        for (scenario, name), v in results.items():
            if v.get("errors"):
                lines += [f"{scenario} {LABELS[name]}: {'; '.join(v['errors'])}", "", "```",
                          v.get("h2load_tail", "").rstrip(), v.get("server_output", "").rstrip(), "```", ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The HTTP/2 part: its report section, goals, console summary, and whether something broke."""
    threads = os.cpu_count() or 1
    log("== HTTP/2: building")
    binaries = build(args.skip_build)
    info["loop_commit"] = loop_commit()
    version = subprocess.run(["h2load", "--version"], text=True, capture_output=True).stdout.strip()
    info["h2load"] = version or "h2load"
    specs = scenarios(args.quick)
    with tempfile.TemporaryDirectory(prefix="bench-h2-") as tmp:
        peers = Peers(Path(tmp))
        log(f"== HTTP/2 load (h2load; Loop, NIO, nghttpd, h2o interleaved; {threads} server threads)")
        info["h2_load_before"] = load_average()
        results = load_runs(binaries, args.quick, threads, peers, args.h2_rounds)
        info["h2_load_after"] = load_average()
        allocs = None
        if not args.skip_callgrind:
            log(f"== HTTP/2 allocations per request (callgrind, {args.h2_counts[0]} and {args.h2_counts[1]} requests)")
            allocs = allocations(binaries, args.h2_counts, Path(tmp), peers.root)
    log("== HTTP/2 micro benchmarks (package-benchmark)")
    micro_error = None
    try:
        micro_out = micro_run(args.skip_micro)
    except BenchError as error:  # keep the load and callgrind results
        log(f"ERROR (HTTP/2 micro benchmarks): {error}")
        micro_error = str(error)
        micro_out = ""
    micro_rows = micro.per_op(micro_out, MICRO_TARGETS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    chart_ok = chart(results, RESULTS / "http2.png")
    goal_lines = goals(results, allocs, micro_rows)
    text = section(args, info, results, specs, allocs, micro_out, micro_rows, goal_lines, chart_ok, threads)
    console = [load_table(results, specs), "", ratio_table(results), "", rss_table(results, specs)]
    if allocs:
        console += ["", alloc_table(allocs, args.h2_counts)]
    if micro_rows:
        console += ["", micro_table(micro_rows)]
    broken = any(v.get("broken") for v in results.values()) or micro_error is not None
    if micro_error:
        text += f"\n\n### Micro benchmarks: not run\n\n{micro_error}\n"
    return PartResult(text, goal_lines, "\n".join(console), broken)
