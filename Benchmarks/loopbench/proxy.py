"""The proxy part (issue #11): gRPC unary calls through Loop's GRPCProxy, HAProxy 2.6 and nginx 1.22.

Run by bench.py (`python3 Benchmarks/bench.py`, or `--only proxy`; `--proxies haproxy,nginx` leaves
GRPCProxy out). It writes the proxy section of results/report.md (other sections kept).

  1. builds Loop's InteropServer and GRPCProxy (release, scratch path .build-bench) and this
     package's GRPCLoadClient (release); HAProxy and nginx are Debian's (`make bench` installs them).
     A GRPCProxy that does not build (or a Loop without that product) is an error of its row: the
     other rows still run, and the part says something broke (exit 1);
  2. the same backend for every row: Loop's `InteropServer --threads 1` (the gRPC part's Loop server),
     pinned to core 0 (SERVER_CPU) together with the client; the proxy alone on core 1 (CLIENT_CPU)
     with one thread (HAProxy `nbthread 1`, nginx one worker in a single process, GRPCProxy
     `--threads 1`); plus a "direct" row, the client calling the backend with no proxy (reference);
  3. workloads, the same as the gRPC part's unary ones, every process started fresh for each run,
     rows interleaved (each round runs every row, the order rotating from round to round), medians:
       h2load        h2load -c 8 -m 100 POST /grpc.testing.TestService/UnaryCall, an 11-byte
                     SimpleRequest answered by an 11-byte SimpleResponse
       load client   GRPCLoadClient (Loop's GRPCChannel, 8 connections, 800 concurrent calls), the
                     same call: calls/s, p50 / p99 latency
     Each run: one grpcio call through the path (h2load workload), untimed warm-up runs (growing
     until one lasts 0.4 s), then a timed run sized to last about --proxy-duration seconds. Proxy
     CPU per call = utime+stime of the proxy process (/proc/PID/stat, all threads) across the timed
     run / calls; the backend's the same way (h2load workload); the proxy's peak RSS (VmHWM) at the
     end of the run. Errors as in the gRPC part: h2load's failed / errored / non-2xx requests, the
     DATA bytes received must equal calls x the 16-byte response, the load client's failed calls;
  4. returns the report section, goal lines (GRPCProxy CPU per call <= HAProxy's) and console summary.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .common import LOOP_SCRATCH, ROOT, SWIFT_RELEASE_BUILD, BenchError, build_swift, load_average, log, loop_commit, swift_bin_path, \
    swift_build, tool, version
from .goals import Goal, markdown
from .grpc import CONNECTIONS, STREAMS, Bodies, aggregate_runs, h2load, interleaved_runs, load_client, paired, verify
from .processes import CLIENT_CPU, SERVER_CPU, PeerServer, Server, cpu_times, free_port, max_rss_kib, pinned
from .nginx import nginx_config as shared_nginx_config
from .report import PartResult, command, fmt, get, ratio, valid

DIRECT = "direct"
PROXIES = ("GRPCProxy", "HAProxy", "nginx")
ROWS = (DIRECT,) + PROXIES
# --proxies names (lower case) -> row names
PROXY_FLAGS = {p.lower(): p for p in PROXIES}

# The backend and the client share one core; the proxy has the other to itself.
BACKEND_CPU = SERVER_CPU
LOAD_CPU = SERVER_CPU
PROXY_CPU = CLIENT_CPU

# The gRPC part's unary workloads: h2load (the goal's) and Loop's load client (p50 / p99).
PROXY_WORKLOADS = ("unary-11B", "client-11B")
SHORT = {"unary-11B": "h2load", "client-11B": "load client"}

# nginx's grpc_pass opens one upstream connection per call in flight (it does not multiplex
# calls on an upstream HTTP/2 connection); keeping more idle ones than calls in flight (800)
# spares it closing and reopening connections between calls.
NGINX_KEEPALIVE = 1024

# Goal (issue #11): GRPCProxy's CPU per call <= HAProxy's.
GOAL_CPU_VS_HAPROXY = 1.0


def parse_proxies(text: str | None) -> tuple[str, ...]:
    """--proxies: a comma-separated subset of grpcproxy, haproxy, nginx (default: all), in ROWS order."""
    if not text:
        return PROXIES
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PROXY_FLAGS]
    if unknown or not names:
        raise ValueError(f"--proxies: unknown {', '.join(unknown) or '(none given)'}; choose from "
                         f"{', '.join(PROXY_FLAGS)}")
    return tuple(p for p in PROXIES if p.lower() in names)


# ---------------------------------------------------------------------------------------------
# Builds


def build_grpcproxy(skip: bool) -> Path:
    """Loop's GRPCProxy (release, .build-bench); a BenchError saying why not."""
    package = (ROOT / "Package.swift").read_text()
    if not re.search(r'name:\s*"GRPCProxy"', package):
        raise BenchError("Loop has no GRPCProxy product on this branch (Package.swift; "
                         "Sources/examples/GRPCProxy): its row cannot run")
    args = SWIFT_RELEASE_BUILD + ["--product", "GRPCProxy", "--scratch-path", str(LOOP_SCRATCH)]
    if not skip:
        swift_build(args, ROOT, "building Loop's GRPCProxy")
    path = swift_bin_path(args, ROOT, "Loop's build") / "GRPCProxy"
    if not path.exists():
        raise BenchError(f"GRPCProxy binary missing: {path}")
    return path


def build(skip: bool, proxies: tuple[str, ...]) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """(binaries, labels, build errors by row): a row whose proxy is missing has an error instead."""
    built = build_swift("InteropServer", ["GRPCLoadClient"], skip)
    binaries = {"backend": built["InteropServer"], "loadclient": built["GRPCLoadClient"]}
    labels = {DIRECT: "direct (no proxy)", "GRPCProxy": "Loop GRPCProxy", "HAProxy": "HAProxy", "nginx": "nginx"}
    errors: dict[str, str] = {}
    h2load_path = tool("h2load")
    if h2load_path is None:
        raise BenchError("h2load is not installed (apt-get install nghttp2-client)")
    if "GRPCProxy" in proxies:
        try:
            binaries["GRPCProxy"] = build_grpcproxy(skip)
        except BenchError as error:
            errors["GRPCProxy"] = str(error)
            log(f"ERROR (proxy): {error}")
    for name, exe, argv, pattern in (("HAProxy", "haproxy", ["-v"], r"HAProxy version (\d+\.\d+\.\d+)"),
                                     ("nginx", "nginx", ["-v"], r"nginx/(\d+\.\d+\.\d+)")):
        if name not in proxies:
            continue
        path = tool(exe)
        if path is None:
            errors[name] = f"{exe} is not installed (apt-get install {exe}; `make bench` installs it)"
            log(f"ERROR (proxy): {errors[name]}")
            continue
        binaries[name] = path
        v = version([str(path)] + argv, pattern)
        labels[name] = f"{name} {v}" if v else name
    return binaries, labels, errors


# ---------------------------------------------------------------------------------------------
# Proxies


def haproxy_config(port: int, upstream: int) -> str:
    return f"""# loopbench proxy part: gRPC (HTTP/2 cleartext) in, HTTP/2 to the backend; one thread, no logging.
global
    nbthread 1
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # calls from every client connection share the backend's HTTP/2 connections
    http-reuse always

frontend grpc_in
    bind 127.0.0.1:{port} proto h2
    default_backend grpc_out

backend grpc_out
    server s1 127.0.0.1:{upstream} proto h2
"""


def nginx_config(port: int, upstream: int, prefix: Path) -> str:
    return shared_nginx_config(prefix, "proxy part: gRPC (HTTP/2 cleartext) in, grpc_pass to the backend; one process, no access log.", f"""    keepalive_timeout 60s;

    upstream grpc_backend {{
        server 127.0.0.1:{upstream};
        # grpc_pass uses one upstream connection per call in flight: keep them open
        keepalive {NGINX_KEEPALIVE};
        keepalive_requests 100000000;
        keepalive_timeout 60s;
    }}

    server {{
        listen 127.0.0.1:{port} http2;
        location / {{
            grpc_pass grpc://grpc_backend;
        }}
    }}
""")


def start_backend(binaries: dict) -> Server:
    return Server("backend", pinned(BACKEND_CPU, [str(binaries["backend"]), "--host", "127.0.0.1", "--port", "0",
                                                  "--threads", "1"]), 30)


def start_proxy(name: str, binaries: dict, upstream: int, workdir: Path) -> PeerServer:
    """The proxy pinned to PROXY_CPU with one thread, listening on a free port, forwarding to
    127.0.0.1:upstream; its configuration (HAProxy, nginx) in workdir."""
    port = free_port()
    if name == "GRPCProxy":
        argv = [str(binaries["GRPCProxy"]), "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream}",
                "--threads", "1"]
    elif name == "HAProxy":
        config = workdir / f"haproxy-{port}.cfg"
        config.write_text(haproxy_config(port, upstream))
        argv = [str(binaries["HAProxy"]), "-db", "-f", str(config)]  # -db: foreground, one process
    elif name == "nginx":
        prefix = workdir / f"nginx-{port}"
        prefix.mkdir()
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(port, upstream, prefix))
        argv = [str(binaries["nginx"]), "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
    else:
        raise ValueError(name)
    return PeerServer(name, pinned(PROXY_CPU, argv), port)


# ---------------------------------------------------------------------------------------------
# Runs


MEDIAN_KEYS = ("calls_per_sec", "cpu_us_per_call", "user_us_per_call", "sys_us_per_call", "backend_cpu_us_per_call",
               "latency_mean_us", "p50_us", "p99_us", "max_rss_kib", "seconds")
CAP = 2_000_000


def timed_h2load(port: int, bodies: Bodies, duration: float, proxy_pid: int | None, backend_pid: int,
                 record: dict) -> list[str]:
    """Warm-up runs (growing until one lasts 0.4 s), then the timed run; fills record, returns errors."""
    errors: list[str] = []
    n = CONNECTIONS * STREAMS
    while True:
        warm, text = h2load(port, "unary-11B", bodies, n, timeout=120, cpu=LOAD_CPU)
        if warm["errors"]:
            record["h2load_tail"] = "\n".join(text.strip().splitlines()[-14:])
            return [f"warm-up: {e}" for e in warm["errors"]]
        if warm.get("seconds", 0) >= 0.4 or n >= CAP:
            break
        n = min(CAP, n * 4)
    rate = warm.get("req_per_sec") or 1000.0
    n = int(min(CAP, max(CONNECTIONS * STREAMS, rate * duration)))
    n -= n % CONNECTIONS
    p0 = cpu_times(proxy_pid) if proxy_pid else None
    b0 = cpu_times(backend_pid)
    result, text = h2load(port, "unary-11B", bodies, n, timeout=max(120, 20 * duration), cpu=LOAD_CPU)
    p1 = cpu_times(proxy_pid) if proxy_pid else None
    b1 = cpu_times(backend_pid)
    errors += result["errors"]
    calls = result.get("succeeded", 0)
    record.update({"calls": calls, "seconds": result.get("seconds"), "argv": result["argv"],
                   "calls_per_sec": result.get("req_per_sec"), "latency_mean_us": result.get("latency_mean_us")})
    if calls:
        if p0 is not None:
            record["user_us_per_call"] = (p1[0] - p0[0]) * 1e6 / calls
            record["sys_us_per_call"] = (p1[1] - p0[1]) * 1e6 / calls
            record["cpu_us_per_call"] = record["user_us_per_call"] + record["sys_us_per_call"]
        record["backend_cpu_us_per_call"] = ((b1[0] - b0[0]) + (b1[1] - b0[1])) * 1e6 / calls
    if result["errors"]:
        record["h2load_tail"] = "\n".join(text.strip().splitlines()[-14:])
    return errors


def timed_load_client(port: int, binaries: dict, duration: float, measured_pid: int, record: dict) -> list[str]:
    """A calibration run sizes the timed run; the load client reads measured_pid's CPU over its window."""
    calib = load_client(binaries["loadclient"], port, "client-11B", count=CONNECTIONS * STREAMS * 4,
                        warmup=CONNECTIONS * STREAMS, timeout=120, cpu=LOAD_CPU)
    if calib["errors"]:
        return [f"calibration: {e}" for e in calib["errors"]]
    rate = calib.get("calls_per_sec") or 1000.0
    count = int(min(CAP, max(CONNECTIONS * STREAMS, rate * duration)))
    result = load_client(binaries["loadclient"], port, "client-11B", count=count, warmup=CONNECTIONS * STREAMS,
                         server_pid=measured_pid, timeout=max(120, 20 * duration), cpu=LOAD_CPU)
    record.update({k: result.get(k) for k in ("calls", "seconds", "calls_per_sec", "p50_us", "p99_us", "argv")})
    record["latency_mean_us"] = result.get("mean_us")
    if result.get("calls") and result.get("server_cpu_sec") is not None:
        record["measured_cpu_us_per_call"] = result["server_cpu_sec"] * 1e6 / result["calls"]
    return result["errors"]


def one_run(workload: str, row: str, binaries: dict, bodies: Bodies, workdir: Path, duration: float) -> dict:
    record: dict = {}
    proxy = None
    try:
        backend = start_backend(binaries)
    except BenchError as error:
        log(f"    {row:<10} backend did not start: {error}")
        return {"errors": [str(error)], "broken": True}
    try:
        if row != DIRECT:
            try:
                proxy = start_proxy(row, binaries, backend.port, workdir)
            except BenchError as error:
                log(f"    {row:<10} did not start: {error}")
                return {"errors": [str(error)], "broken": True}
        port = proxy.port if proxy else backend.port
        errors: list[str] = []
        if workload == "unary-11B":
            ok, detail = verify(port, workload)
            record["verified"], record["verify_detail"] = ok, detail
            if not ok:
                errors.append(f"grpcio check: {detail}")
            if not errors:
                errors += timed_h2load(port, bodies, duration, proxy.pid if proxy else None, backend.pid, record)
        else:
            errors += timed_load_client(port, binaries, duration, proxy.pid if proxy else backend.pid, record)
            key = "cpu_us_per_call" if proxy else "backend_cpu_us_per_call"
            record[key] = record.pop("measured_cpu_us_per_call", None)
        for what, process in (("backend", backend), (row, proxy)):
            if process is not None and not process.alive():
                errors.append(f"{what} exited during the run (status {process.proc.returncode})")
                record["broken"] = True
                record.setdefault("server_output", "")
                record["server_output"] += f"{what}:\n{process.output()[-2000:]}\n"
        if proxy is not None and proxy.alive():
            record["max_rss_kib"] = max_rss_kib(proxy.pid)
        record["errors"] = errors
    finally:
        if proxy is not None:
            proxy.stop(wait=10)
        backend.stop(wait=10)
    extra = ""
    if record.get("p50_us") is not None:
        extra = f"  p50 {fmt(record['p50_us'], ',.0f')} us  p99 {fmt(record['p99_us'], ',.0f')} us"
    if record.get("max_rss_kib") is not None:
        extra += f"  max RSS {record['max_rss_kib']:,} KiB"
    log(f"    {row:<10} {fmt(record.get('calls_per_sec')):>9} calls/s  proxy {fmt(record.get('cpu_us_per_call'), '.2f'):>6}"
        f" us CPU/call  backend {fmt(record.get('backend_cpu_us_per_call'), '.2f'):>6} us CPU/call  mean latency "
        f"{fmt(record.get('latency_mean_us'), ',.0f')} us{extra}"
        + (f"  ERRORS: {'; '.join(record['errors'])}" if record.get("errors") else ""))
    if record.get("h2load_tail") and record.get("errors"):
        log("      " + record["h2load_tail"].replace("\n", "\n      "))
    return record


def load_runs(binaries: dict, bodies: Bodies, workdir: Path, rows: tuple[str, ...], rounds: int,
              duration: float) -> dict:
    runs = interleaved_runs(rows, rounds, {w: f"unary 11 B, {SHORT[w]}" for w in PROXY_WORKLOADS}, "order",
                            lambda workload, row: one_run(workload, row, binaries, bodies, workdir, duration))
    return aggregate_runs(runs, MEDIAN_KEYS)


# ---------------------------------------------------------------------------------------------
# Tables, goals


def us_cell(v) -> str:
    return f"{fmt(v, ',.0f')} µs" if valid(v) else "n/a"


def rss_cell(kib) -> str:
    return f"{kib / 1024:,.1f} MiB" if valid(kib) else "n/a"


def summary_table(results: dict, rows: tuple[str, ...], labels: dict) -> str:
    out = ["| path | calls/s (h2load) | proxy CPU µs/call | ÷ HAProxy's | backend CPU µs/call | mean latency | "
           "proxy max RSS | calls/s (load client) | p50 / p99 | proxy CPU µs/call (load client) | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    ha = get(results, "unary-11B", "HAProxy", "cpu_us_per_call")
    for row in rows:
        h = results.get(("unary-11B", row), {})
        c = results.get(("client-11B", row), {})
        errors = "; ".join(dict.fromkeys((h.get("errors") or []) + (c.get("errors") or []))) or "0"
        rss = max([v for v in (h.get("max_rss_kib"), c.get("max_rss_kib")) if valid(v)], default=None)
        pct = (f"{fmt(c.get('p50_us') / 1000, ',.1f')} / {fmt(c.get('p99_us') / 1000, ',.1f')} ms"
               if valid(c.get("p50_us")) and valid(c.get("p99_us")) else "n/a")
        proxy_cpu = "—" if row == DIRECT else fmt(h.get("cpu_us_per_call"), ".2f")
        client_cpu = "—" if row == DIRECT else fmt(c.get("cpu_us_per_call"), ".2f")
        vs = "—" if row in (DIRECT, "HAProxy") else ratio(h.get("cpu_us_per_call"), ha)
        out.append(f"| {labels[row]} | {fmt(h.get('calls_per_sec'))} | {proxy_cpu} | {vs} | "
                   f"{fmt(h.get('backend_cpu_us_per_call'), '.2f')} | {us_cell(h.get('latency_mean_us'))} | "
                   f"{'—' if row == DIRECT else rss_cell(rss)} | {fmt(c.get('calls_per_sec'))} | {pct} | {client_cpu} | "
                   f"{errors[:300]} |")
    return "\n".join(out)


def goals(results: dict, rows: tuple[str, ...], build_errors: dict) -> list[Goal]:
    out: list[Goal] = []
    g = get(results, "unary-11B", "GRPCProxy", "cpu_us_per_call")
    h = get(results, "unary-11B", "HAProxy", "cpu_us_per_call")
    ok = None if not valid(g) or not valid(h) else g <= GOAL_CPU_VS_HAPROXY * h
    what = (f"GRPCProxy CPU per unary call (11 B, h2load -c {CONNECTIONS} -m {STREAMS}, proxy on one core) <= "
            f"{GOAL_CPU_VS_HAPROXY:g}x HAProxy's: ")
    if ok is None:
        missing = [p for p in ("GRPCProxy", "HAProxy") if not valid(get(results, "unary-11B", p, "cpu_us_per_call"))]
        why = "; ".join(f"{p}: " + (build_errors.get(p) or ("not run (--proxies)" if p not in rows
                                                             else "no result (see errors)")) for p in missing)
        out.append(Goal("proxy", None, what + "not measured (" + why + ")"))
    else:
        med, ratios = paired(results, "unary-11B", "GRPCProxy", "HAProxy", "cpu_us_per_call")
        per_round = f"; per round {', '.join(f'{r:.2f}' for r in ratios)}" if len(ratios) > 1 else ""
        out.append(Goal("proxy", ok, what + f"GRPCProxy {fmt(g, '.2f')} µs vs HAProxy {fmt(h, '.2f')} µs "
                                     f"(GRPCProxy/HAProxy = {ratio(g, h)}{per_round})"))
    if "GRPCProxy" in rows and "GRPCProxy" not in build_errors:
        errs = [e for w in PROXY_WORKLOADS for e in (results.get((w, "GRPCProxy"), {}).get("errors") or [])]
        out.append(Goal("proxy", not errs, "GRPCProxy: 0 errors in every run (h2load status and DATA bytes, load "
                                           "client, grpcio check)" + ("" if not errs else ": " +
                                                                       "; ".join(dict.fromkeys(errs))[:600])))
    else:
        out.append(Goal("proxy", None, "GRPCProxy errors not measured (" +
                        (build_errors.get("GRPCProxy") or "not run: --proxies") + ")"))
    return out


def section(args, info: dict, results: dict, rows: tuple[str, ...], labels: dict, goal_lines: list[Goal],
            build_errors: dict, duration: float) -> str:
    rounds = args.proxy_rounds
    lines = [
        "## gRPC through a proxy: Loop GRPCProxy vs HAProxy, nginx",
        "",
        f"Generated {info['date']} by `{command(args)}`"
        + (f" (`--proxies {','.join(p.lower() for p in rows if p != DIRECT)}`)" if set(rows) != set(ROWS) else "")
        + f". Loop sources at `{info.get('loop_commit', 'unknown')}`. Load average before / after the runs: "
        f"{info.get('proxy_load_before', 'n/a')} / {info.get('proxy_load_after', 'n/a')}.",
        "",
        "The same backend for every path: Loop's `InteropServer --threads 1` (grpc.testing.TestService, the gRPC "
        f"part's Loop server), pinned to core {BACKEND_CPU} together with the client; the proxy alone on core "
        f"{PROXY_CPU} (`taskset`) with one thread, listening on h2c and forwarding over h2c: Loop's `GRPCProxy "
        f"--threads 1` (Sources/examples/GRPCProxy); HAProxy (`nbthread 1`, `mode http`, `proto h2` on both sides, "
        "`http-reuse always`, no logging); nginx (one process: `master_process off`, `worker_processes 1`, "
        f"`listen ... http2`, `grpc_pass` to an upstream with `keepalive {NGINX_KEEPALIVE}` — nginx opens one upstream "
        "connection per call in flight — `access_log off`). The \"direct\" row is the client calling the backend "
        "with no proxy. Every process is started fresh for each run. Same clients as the gRPC part's unary "
        f"workloads: `h2load -c {CONNECTIONS} -m {STREAMS}` POSTing one length-prefixed 11-byte SimpleRequest "
        "(`content-type: application/grpc`, `te: trailers`) to `/grpc.testing.TestService/UnaryCall` (an 11-byte "
        f"SimpleResponse back), and Loop's `GRPCLoadClient` ({CONNECTIONS} GRPCChannels, {CONNECTIONS * STREAMS} "
        "concurrent calls, the same request bytes): p50 / p99 latency.",
        "",
        f"{rounds} round(s); each round runs every path under both clients, the order rotating between rounds; "
        "medians shown. A run: one grpcio call through the path (status OK, exact response bytes; h2load runs), "
        f"untimed warm-up runs (growing until one lasts 0.4 s), then a timed run sized to last about {duration:g} s. "
        "Proxy CPU per call = utime+stime of the proxy process (/proc/PID/stat, all threads, 10 ms ticks) across "
        "the timed run ÷ calls; backend CPU per call the same for the backend (h2load runs); proxy max RSS = its "
        "VmHWM at the end of the run (the larger of the two clients' runs). With the backend and the client sharing "
        "one core, calls/s may be bounded by that core rather than by the proxy: CPU per call is the comparable "
        "figure. The machine is shared and noisy.",
        "",
        summary_table(results, rows, labels),
        "",
        "### Goals",
        "",
    ]
    lines += markdown(goal_lines)
    lines.append("")
    if rounds > 1:
        per_round = []
        for workload in PROXY_WORKLOADS:
            for row in rows:
                r = results.get((workload, row), {})
                cpu_key = "backend_cpu_us_per_call" if row == DIRECT else "cpu_us_per_call"
                rate = r.get("calls_per_sec_all") or []
                cpu = r.get(cpu_key + "_all") or []
                per_round.append(f"{SHORT[workload]} {row}: "
                                 + ", ".join(f"{fmt(a)}/s {fmt(b, '.2f')} µs" for a, b in zip(rate, cpu)))
        lines += ["Per round (calls/s, CPU µs/call of the proxy; of the backend for direct): "
                  + "; ".join(per_round) + ".", ""]
    if build_errors:
        lines += ["### Rows that could not run", ""]
        lines += [f"- {labels.get(k, k)}: {v}" for k, v in build_errors.items()]
        lines.append("")
    bad = [(k, v) for k, v in results.items() if v.get("errors")]
    if bad:
        lines += ["### Runs with errors", ""]
        for (workload, row), v in bad:
            lines += [f"{SHORT[workload]}, {labels[row]}: {'; '.join(dict.fromkeys(v['errors']))[:1000]}", ""]
            if v.get("h2load_tail") or v.get("server_output"):
                lines += ["```", (v.get("h2load_tail") or "").rstrip(), (v.get("server_output") or "").rstrip(),
                          "```", ""]
    lines += ["### Configurations", "", "HAProxy (ports filled in per run):", "", "```",
              haproxy_config(0, 0).rstrip().replace("127.0.0.1:0", "127.0.0.1:PORT"), "```", "",
              "nginx:", "", "```",
              nginx_config(0, 0, Path("TMP")).rstrip().replace("127.0.0.1:0", "127.0.0.1:PORT"), "```", "",
              "GRPCProxy: `GRPCProxy --listen 127.0.0.1:PORT --upstream 127.0.0.1:BACKEND --threads 1`.", ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The proxy part: its report section, goals, console summary, and whether something broke."""
    proxies = args.proxies
    duration = args.proxy_duration
    log("== proxy: building")
    binaries, labels, build_errors = build(args.skip_build, proxies)
    info["loop_commit"] = loop_commit()
    rows = (DIRECT,) + tuple(p for p in proxies if p not in build_errors)
    shown = (DIRECT,) + proxies
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
        workdir = Path(tmp)
        bodies = Bodies(workdir)
        log(f"== proxy load ({args.proxy_rounds} round(s), ~{duration:g} s per run; {', '.join(rows)} interleaved; "
            f"backend and client on core {BACKEND_CPU}, the proxy on core {PROXY_CPU})")
        info["proxy_load_before"] = load_average()
        results = load_runs(binaries, bodies, workdir, rows, args.proxy_rounds, duration)
        info["proxy_load_after"] = load_average()
    for row, error in build_errors.items():
        for workload in PROXY_WORKLOADS:
            results[(workload, row)] = {"errors": [error], "broken": True}
    goal_lines = goals(results, shown, build_errors)
    text = section(args, info, results, shown, labels, goal_lines, build_errors, duration)
    console = [summary_table(results, shown, labels)]
    broken = bool(build_errors) or any(v.get("broken") for v in results.values())
    return PartResult(text, goal_lines, "\n".join(console), broken)
