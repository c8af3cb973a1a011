"""The one-port part (issue #10): REST/JSON through Loop's GatewayDemo vs the Go stack (cmux +
grpc-gateway 1.6.4 + grpc-go 1.33), HTTP/1.1 keep-alive GET vs h2o and nginx, and the cost of
the one-port detector on new connections.

Run by bench.py (`python3 Benchmarks/bench.py`, or `--only oneport`). It writes the one-port
section of results/report.md (other sections kept) and results/oneport.png.

  1. builds Loop's GatewayDemo and HTTP2Server (release, scratch path .build-bench) and the C
     client loadgen/h2_connect_load.c (gcc -O2); the Go stack's cmux_server comes from
     `make peers` (scripts/install-grpc-peers.sh), h2o and nginx are Debian's. A server that is
     missing is an error of its rows: the other rows still run, and the part says something broke;
  2. every server is one process pinned to core 0 (SERVER_CPU), started fresh for each run; the
     client is pinned to core 1 (CLIENT_CPU):
       REST GET      GatewayDemo vs `cmux_server -match=matchwithwriters` (GOMAXPROCS=1):
                     h2load --h1 -c 8 GET /v1/greetings/world
       REST POST     the same servers: h2load --h1 -c 8 POST /v1/greetings, body
                     {"name":"world","language":"FRENCH"}, content-type application/json
       HTTP/1.1      `HTTP2Server --http1 --threads 1` vs h2o (num-threads 1, file.dir with the
                     13-byte "hello", as the HTTP/2 part) and nginx (one process, `return 200`):
                     h2load --h1 -c 8 GET /hello
       new conns     `HTTP2Server --threads 1` with `--http1` (the detector in front of every
                     connection) and without (h2c with prior knowledge only): h2_connect_load, a
                     new HTTP/2 connection for every GET /hello, 4 connections in flight
     h2load --h1 keeps its 8 connections alive (one request in flight on each). Each h2load run:
     untimed warm-up runs growing until one lasts 0.4 s, then a timed run sized to last about
     --oneport-duration seconds; a new-connection run the same with h2_connect_load. Server CPU =
     utime+stime of every process in the server's session (/proc/*/stat, all threads) across the
     timed run ÷ requests (connections). Each REST and HTTP/1.1 run first checks one answer of the
     server (status 200, the JSON or text body; both REST servers must send the same JSON), then
     h2load's status codes and DATA bytes (the checked body's length per request); h2_connect_load
     checks :status 200 and 13 DATA bytes on every connection. Rounds interleave the servers (each
     round runs every workload on its servers, the order rotating), medians reported;
  3. allocations and instructions per request with callgrind on stripped copies of GatewayDemo
     (REST GET and POST) and HTTP2Server --http1 (GET /hello), h2load --h1 -c 1, N and 2N
     requests: (count(2N) - count(N)) / N, with the hottest functions;
  4. returns the report section, goal lines and console summary.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import resource
import subprocess
import tempfile
from pathlib import Path

from . import callgrind, charts
from .callgrind import CALL_TARGETS
from .common import BENCH_DIR, LOADGEN_DIR, RESULTS, BenchError, gather_binaries, load_average, log, loop_commit, \
    run, tool
from .goals import Goal, markdown
from .grpc import aggregate_runs, paired, peers_dir
from .h2load import h2load_tail, run_h2load
from .http2 import Peers as HTTP2Peers
from .nginx import nginx_config as shared_nginx_config
from .processes import CLIENT_CPU, SERVER_CPU, PeerServer, Server, free_port, pinned, session_cpu_times
from .report import PartResult, command, fmt, get, ratio, valid

HELLO = b"Hello, world!"  # HTTP2Server's /hello, h2o's file, nginx's return

# The REST calls: the same request to both gateways, the JSON both must answer.
REST = {
    "rest-get": {"method": "GET", "path": "/v1/greetings/world", "body": None,
                 "expect": {"message": "Hello, world!"}},
    "rest-post": {"method": "POST", "path": "/v1/greetings", "body": b'{"name":"world","language":"FRENCH"}',
                  "expect": {"message": "Bonjour, world!", "language": "FRENCH"}},
}

# workload -> its servers (the first is Loop's)
WORKLOAD_SERVERS = {
    "rest-get": ("Loop", "Go"),
    "rest-post": ("Loop", "Go"),
    "h1": ("Loop", "h2o", "nginx"),
    "connect": ("detector", "plain"),
}
WORKLOAD_LABELS = {
    "rest-get": "REST GET /v1/greetings/world, h2load --h1 -c 8",
    "rest-post": "REST POST /v1/greetings (JSON body), h2load --h1 -c 8",
    "h1": "HTTP/1.1 keep-alive GET /hello, h2load --h1 -c 8",
    "connect": "new connections: one HTTP/2 GET /hello per connection, h2_connect_load --concurrency 4",
}
SHORT = {"rest-get": "REST GET", "rest-post": "REST POST", "h1": "HTTP/1.1", "connect": "new connections"}
LABELS = {
    ("rest-get", "Loop"): "Loop GatewayDemo", ("rest-post", "Loop"): "Loop GatewayDemo",
    ("h1", "Loop"): "Loop HTTP2Server --http1",
    ("connect", "detector"): "HTTP2Server --http1 (one-port detector)",
    ("connect", "plain"): "HTTP2Server (h2c prior knowledge only)",
}
PEER_LABELS = {"Go": "Go: cmux + grpc-gateway 1.6.4 + grpc-go 1.33", "h2o": "h2o", "nginx": "nginx"}

CONNECTIONS = 8  # h2load --h1 -c
CONNECT_CONCURRENCY = 4  # h2_connect_load: connections in flight
CAP = 2_000_000
CONNECT_SRC = BENCH_DIR / "loadgen" / "h2_connect_load.c"
CONNECT_BIN = LOADGEN_DIR / "h2_connect_load"

# Goals (issue #10): REST server CPU per request <= 0.3x the Go stack's (GET and POST); HTTP/1.1
# keep-alive GET CPU per request <= 1.5x h2o's; the detector's cost: new connections with it
# cost at most 5 % more server CPU than without. Checked one-sided since 2026-11-27: a
# connection the detector tells is HTTP/2 answers the preface with its SETTINGS in one write
# (the plain h2c port sends SETTINGS on accept, a write of its own), so with the detector a
# connection costs less (0.94-0.96x, instructions equal); the two-sided "within 5 %" failed on
# that saving, which is no cost of detection.
GOAL_REST_VS_GO = 0.3
GOAL_H1_VS_H2O = 1.5
GOAL_DETECTOR = 0.05


def label(workload: str, name: str) -> str:
    return LABELS.get((workload, name)) or PEER_LABELS.get(name, name)


# ---------------------------------------------------------------------------------------------
# Builds


def build_connect_load() -> Path:
    CONNECT_BIN.parent.mkdir(parents=True, exist_ok=True)
    if not CONNECT_BIN.exists() or CONNECT_BIN.stat().st_mtime < CONNECT_SRC.stat().st_mtime:
        run(["gcc", "-O2", "-Wall", "-o", str(CONNECT_BIN), str(CONNECT_SRC)], BENCH_DIR,
            "compiling h2_connect_load.c")
    return CONNECT_BIN


def build(skip: bool) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """(binaries, peer versions, errors): an error keyed "Loop gateway" (GatewayDemo), "Loop http"
    (HTTP2Server), or a peer's name leaves its rows out."""
    if tool("h2load") is None:
        raise BenchError("h2load is not installed (apt-get install nghttp2-client)")
    binaries, versions, errors = gather_binaries(
        "one port", skip, (("Loop gateway", "GatewayDemo"), ("Loop http", "HTTP2Server")),
        ("Go", peers_dir() / "bin" / "cmux_server", "run `make peers`, i.e. scripts/install-grpc-peers.sh"), "`make bench`")
    binaries["connect_load"] = build_connect_load()
    callgrind.build_shim()
    return binaries, versions, errors


def row_error(errors: dict[str, str], workload: str, name: str) -> str | None:
    if workload in REST and name == "Loop":
        return errors.get("Loop gateway")
    if name in ("Loop", "detector", "plain"):
        return errors.get("Loop http")
    return errors.get(name)


# ---------------------------------------------------------------------------------------------
# Servers


class GoServer(Server):
    """cmux_server on port 0: ready at its "listening on PORT" line."""

    def ready(self) -> bool:
        match = re.search(r"listening on (\d+)", self.output())
        if match:
            self.port = int(match.group(1))
            return True
        return False


def nginx_config(port: int, prefix: Path) -> str:
    return shared_nginx_config(prefix, "one-port part: HTTP/1.1 on 127.0.0.1, one process, GET /hello from memory, no access log.", f"""
    server {{
        listen 127.0.0.1:{port};
        location = /hello {{
            default_type text/plain;
            return 200 "{HELLO.decode()}";
        }}
    }}
""")


def loop_argv(workload: str, name: str, binaries: dict) -> list[str]:
    if workload in REST:
        # One event loop, as every server here has one thread (Go: GOMAXPROCS=1).
        return [str(binaries["Loop gateway"]), "--host", "127.0.0.1", "--port", "0", "--threads", "1"]
    argv = [str(binaries["Loop http"]), "--host", "127.0.0.1", "--port", "0", "--threads", "1"]
    return argv if name == "plain" else argv + ["--http1"]


def start(workload: str, name: str, binaries: dict, workdir: Path, peers: HTTP2Peers):
    """The server pinned to SERVER_CPU, one thread (Go: GOMAXPROCS=1)."""
    if name in ("Loop", "detector", "plain"):
        return Server(f"{name}-{workload}", pinned(SERVER_CPU, loop_argv(workload, name, binaries)), 30)
    if name == "Go":
        return GoServer("cmux_server", pinned(SERVER_CPU, [str(binaries["Go"]), "-match=matchwithwriters",
                                                            "-host=127.0.0.1", "-port=0"]), 30,
                        env=dict(os.environ, GOMAXPROCS="1"))
    port = free_port()
    if name == "h2o":
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["h2o"]), "-c", str(peers.h2o_config(port, 1))]),
                          port, cwd=workdir)
    if name == "nginx":
        prefix = workdir / f"nginx-{port}"
        prefix.mkdir()
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(port, prefix))
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["nginx"]), "-p", str(prefix), "-c", str(config),
                                                    "-e", str(prefix / "error.log")]), port)
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# Checks of one answer


def fetch(port: int, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
    """One HTTP/1.1 request: (status, content-type, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


def check_answer(workload: str, port: int) -> tuple[bool, str, bytes]:
    """(ok, what was wrong or the body, body): REST answers the expected JSON, HTTP/1.1 "Hello, world!"."""
    try:
        if workload in REST:
            spec = REST[workload]
            status, ctype, body = fetch(port, spec["method"], spec["path"], spec["body"])
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if status != 200 or not ctype.lower().startswith("application/json") or parsed != spec["expect"]:
                return False, f"{spec['method']} {spec['path']}: {status} {ctype!r} {body[:200]!r}", body
            return True, body.decode(errors="replace"), body
        status, _, body = fetch(port, "GET", "/hello", None)
        if status != 200 or body != HELLO:
            return False, f"GET /hello: {status} {body[:200]!r}", body
        return True, body.decode(errors="replace"), body
    except (OSError, http.client.HTTPException) as error:
        return False, f"HTTP/1.1 request failed: {error!r}", b""


def h1_refused(port: int) -> tuple[bool, str]:
    """Whether an h2c-only server does NOT answer HTTP/1.1 (the row without the detector really is)."""
    try:
        status, _, body = fetch(port, "GET", "/hello", None)
    except (OSError, http.client.HTTPException) as error:
        return True, f"HTTP/1.1 refused ({type(error).__name__})"
    return status != 200, f"HTTP/1.1 answered {status} {body[:60]!r}"


# ---------------------------------------------------------------------------------------------
# Load


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def h1load(port: int, workload: str, workdir: Path, n: int, per_request: int, timeout: float) -> tuple[dict, str]:
    """h2load --h1 -c CONNECTIONS pinned to CLIENT_CPU; errors also when the DATA received is not
    n x the checked body's length."""
    argv = ["h2load", "--h1", "-n", str(n), "-c", str(CONNECTIONS)]
    if workload in REST:
        spec = REST[workload]
        if spec["body"] is not None:
            body = workdir / f"{workload}.json"
            if not body.exists():
                body.write_bytes(spec["body"])
            argv += ["-d", str(body), "-H", "content-type: application/json"]
        argv.append(f"http://127.0.0.1:{port}{spec['path']}")
    else:
        argv.append(f"http://127.0.0.1:{port}/hello")
    result, text = run_h2load(pinned(CLIENT_CPU, argv), n, timeout)
    if "succeeded" in result and result.get("data_bytes") != n * per_request:
        result["errors"].append(f"DATA received {result.get('data_bytes')} bytes, expected {n * per_request} "
                                f"({n} x {per_request})")
    return result, text


def connect_load(binary: Path, port: int, count: int, timeout: float) -> dict:
    """h2_connect_load pinned to CLIENT_CPU: its RESULT line, "errors" when a connection failed."""
    argv = pinned(CLIENT_CPU, [str(binary), "--port", str(port), "--path", "/hello", "--count", str(count),
                               "--concurrency", str(CONNECT_CONCURRENCY), "--expect-bytes", str(len(HELLO))])
    try:
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"errors": [f"h2_connect_load did not finish in {timeout:.0f} s"], "argv": " ".join(argv)}
    out: dict = {"argv": " ".join(argv[argv.index(str(binary)):]).replace(str(binary), "h2_connect_load"),
                 "errors": []}
    m = re.search(r"RESULT (.*)", proc.stdout)
    if m:
        for key, value in (kv.split("=", 1) for kv in m.group(1).split()):
            out[key] = float(value)
    if proc.returncode != 0 or not m or int(out.get("ok", 0)) != count:
        out["errors"].append(f"h2_connect_load exit {proc.returncode}: {proc.stderr.strip()[-300:] or 'no result'}"
                             f" ({int(out.get('ok', 0))}/{count} connections ok)")
    return out


def tail(text: str) -> str:
    return h2load_tail(text)


MEDIAN_KEYS = ("req_per_sec", "cpu_us", "user_us", "sys_us", "latency_mean_us", "seconds", "client_cpu_us")


def timed_h1(workload: str, server, workdir: Path, duration: float, per_request: int, record: dict) -> list[str]:
    n = CONNECTIONS * 100
    while True:
        warm, text = h1load(server.port, workload, workdir, n, per_request, timeout=120)
        if warm["errors"]:
            record["h2load_tail"] = tail(text)
            return [f"warm-up: {e}" for e in warm["errors"]]
        if warm.get("seconds", 0) >= 0.4 or n >= CAP:
            break
        n = min(CAP, n * 4)
    rate = warm.get("req_per_sec") or 1000.0
    n = int(min(CAP, max(CONNECTIONS * 100, rate * duration)))
    n -= n % CONNECTIONS
    client0 = children_cpu()
    user0, sys0 = session_cpu_times(server.pid)
    result, text = h1load(server.port, workload, workdir, n, per_request, timeout=max(120, 20 * duration))
    user1, sys1 = session_cpu_times(server.pid)
    client = children_cpu() - client0
    done = result.get("succeeded", 0)
    record.update({k: result.get(k) for k in ("seconds", "req_per_sec", "latency_mean_us", "argv")})
    record["argv"] = (record.get("argv") or "").replace(f"taskset -c {CLIENT_CPU} ", "")
    record["requests"] = done
    if done:
        record["user_us"] = (user1 - user0) * 1e6 / done
        record["sys_us"] = (sys1 - sys0) * 1e6 / done
        record["cpu_us"] = record["user_us"] + record["sys_us"]
        record["client_cpu_us"] = client * 1e6 / done
    if result["errors"]:
        record["h2load_tail"] = tail(text)
    return result["errors"]


def timed_connect(server, binaries: dict, duration: float, record: dict) -> list[str]:
    n = 500
    while True:
        warm = connect_load(binaries["connect_load"], server.port, n, timeout=120)
        if warm["errors"]:
            return [f"warm-up: {e}" for e in warm["errors"]]
        if warm.get("seconds", 0) >= 0.4 or n >= CAP:
            break
        n = min(CAP, n * 4)
    rate = warm.get("rate") or 1000.0
    n = int(min(CAP, max(1000, rate * duration)))
    user0, sys0 = session_cpu_times(server.pid)
    result = connect_load(binaries["connect_load"], server.port, n, timeout=max(120, 20 * duration))
    user1, sys1 = session_cpu_times(server.pid)
    done = int(result.get("ok", 0))
    record.update({"seconds": result.get("seconds"), "req_per_sec": result.get("rate"), "argv": result["argv"],
                   "requests": done, "client_cpu_us": result.get("client_cpu_us")})
    if done:
        record["user_us"] = (user1 - user0) * 1e6 / done
        record["sys_us"] = (sys1 - sys0) * 1e6 / done
        record["cpu_us"] = record["user_us"] + record["sys_us"]
    return result["errors"]


def one_run(workload: str, name: str, binaries: dict, workdir: Path, peers: HTTP2Peers, duration: float) -> dict:
    try:
        server = start(workload, name, binaries, workdir, peers)
    except BenchError as error:
        log(f"    {name:<8} did not start: {error}")
        return {"errors": [str(error)], "broken": True}
    record: dict = {}
    errors: list[str] = []
    try:
        if workload == "connect":
            # The row with the detector must speak HTTP/1.1 on the port, the one without must not.
            if name == "detector":
                ok, detail, _ = check_answer("h1", server.port)
            else:
                ok, detail = h1_refused(server.port)
            record["verified"], record["verify_detail"] = ok, detail
            if not ok:
                errors.append(f"HTTP/1.1 check: {detail}")
            if not errors:
                errors += timed_connect(server, binaries, duration, record)
        else:
            ok, detail, body = check_answer(workload, server.port)
            record["verified"], record["verify_detail"], record["body"] = ok, detail, body.decode(errors="replace")
            if not ok:
                errors.append(f"response check: {detail}")
            else:
                errors += timed_h1(workload, server, workdir, duration, len(body), record)
        if not server.alive():
            errors.append(f"{name} exited during the run (status {server.proc.returncode})")
            record["broken"] = True
            record["server_output"] = server.output()[-2000:]
        record["errors"] = errors
    finally:
        server.stop(wait=10)
    per = "conn" if workload == "connect" else "req"
    unit = "conn/s" if workload == "connect" else "req/s"
    log(f"    {name:<8} {fmt(record.get('req_per_sec')):>9} {unit}  {fmt(record.get('cpu_us'), '.2f'):>7} us CPU/{per}"
        f"  client {fmt(record.get('client_cpu_us'), '.1f')} us CPU/{per}"
        + (f"  ERRORS: {'; '.join(errors)}" if errors else ""))
    if record.get("h2load_tail") and errors:
        log("      " + record["h2load_tail"].replace("\n", "\n      "))
    return record


def load_runs(binaries: dict, workdir: Path, peers: HTTP2Peers, rounds: int, duration: float,
              errors: dict[str, str]) -> dict:
    """Every workload on each of its servers that can run, `rounds` times, the server order rotating
    from round to round (as tls.load_runs); the medians (grpc.aggregate_runs)."""
    runs: dict[tuple[str, str], list[dict]] = {}
    for rnd in range(rounds):
        log(f"  round {rnd + 1}/{rounds}")
        for workload, names in WORKLOAD_SERVERS.items():
            names = tuple(n for n in names if row_error(errors, workload, n) is None)
            if not names:
                continue
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            log(f"   {WORKLOAD_LABELS[workload]} ({', '.join(order)})")
            for name in order:
                runs.setdefault((workload, name), []).append(one_run(workload, name, binaries, workdir, peers,
                                                                     duration))
    results = aggregate_runs(runs, MEDIAN_KEYS)
    for key, rs in runs.items():
        results[key]["bodies"] = sorted({r["body"] for r in rs if r.get("body")})
    return results


# ---------------------------------------------------------------------------------------------
# Allocations and instructions per request (callgrind)


# (key, binary key, workload, extra flags). The "connect" rows count per new connection (one GET
# each, h2_connect_load), with a fifth of the requests' counts: the detector's cost in instructions.
CALLGRIND_RUNS = (("GatewayDemo REST GET", "Loop gateway", "rest-get", ["--threads", "1"]),
                  ("GatewayDemo REST POST", "Loop gateway", "rest-post", ["--threads", "1"]),
                  ("HTTP2Server --http1 GET /hello", "Loop http", "h1", ["--threads", "1", "--http1"]),
                  ("HTTP2Server --http1, new connection", "Loop http", "connect", ["--threads", "1", "--http1"]),
                  ("HTTP2Server, new connection", "Loop http", "connect", ["--threads", "1"]))


def allocations(binaries: dict, counts: tuple[int, int], workdir: Path, errors: dict[str, str]) -> dict:
    callgrind.require_valgrind()
    results = {}
    for index, (key, binary_key, workload, flags) in enumerate(CALLGRIND_RUNS):
        if binary_key in errors:
            continue
        binary = callgrind.stripped_copy(binaries[binary_key], workdir, binary_key)
        low, high = counts if workload != "connect" else (max(100, counts[0] // 5), max(200, counts[1] // 5))
        data = {}
        for count in (low, high):
            out = workdir / f"callgrind.oneport.{index}.{workload}.{count}.out"
            argv = callgrind.valgrind_argv(out) + [str(binary), "--host", "127.0.0.1", "--port", "0"] + flags
            server = Server(f"callgrind-{workload}", argv, 180, env=dict(os.environ, LD_PRELOAD=str(callgrind.SHIM_LIB)))

            def drive(server):
                if workload == "connect":
                    result = connect_load(binaries["connect_load"], server.port, count, timeout=1200)
                    if result["errors"]:
                        raise BenchError(f"h2_connect_load against {key} under valgrind: {'; '.join(result['errors'])}")
                    return
                ok, detail, body = check_answer(workload, server.port)
                if not ok:
                    raise BenchError(f"{key} under valgrind: {detail}")
                spec_n = count - 1  # the check above was one request
                argv = ["h2load", "--h1", "-n", str(spec_n), "-c", "1"]
                if workload in REST and REST[workload]["body"] is not None:
                    path = workdir / f"{workload}.json"
                    path.write_bytes(REST[workload]["body"])
                    argv += ["-d", str(path), "-H", "content-type: application/json"]
                argv.append(f"http://127.0.0.1:{server.port}{REST[workload]['path'] if workload in REST else '/hello'}")
                result, text = run_h2load(argv, spec_n, 1200)
                if result["errors"]:
                    raise BenchError(f"h2load against {key} under valgrind: {'; '.join(result['errors'])}\n"
                                     f"{h2load_tail(text)}")
            callgrind.profile(key, out, server, drive)
            edges = callgrind.callgrind_graph(out)
            totals = callgrind.call_totals(edges)
            data[count] = {"ir": callgrind.callgrind_total(out), "calls": totals,
                           "sites": callgrind.allocation_sites(edges), "exclusive": callgrind.exclusive_costs(out)}
            log(f"  callgrind {key:<36} {count:>6} {'connections' if workload == 'connect' else 'requests'}: "
                f"{data[count]['ir']:>14,} Ir, "
                f"{totals['malloc']:,} malloc calls")
        d = high - low
        entry = {
            "counts": (low, high),
            "ir": {c: data[c]["ir"] for c in (low, high)},
            "ir_per_req": (data[high]["ir"] - data[low]["ir"]) / d,
            "calls_per_req": {f: (data[high]["calls"][f] - data[low]["calls"][f]) / d for f in CALL_TARGETS},
            "top": callgrind.per_request_top(data[low]["exclusive"], data[high]["exclusive"], d, 25),
            "malloc_sites": callgrind.per_request_top(data[low]["sites"], data[high]["sites"], d, 15),
        }
        if workload == "connect":  # every function's Ir per connection, for the detector's difference
            ex_low, ex_high = data[low]["exclusive"], data[high]["exclusive"]
            entry["exclusive_per"] = {k: (ex_high.get(k, 0) - ex_low.get(k, 0)) / d for k in set(ex_low) | set(ex_high)}
        results[key] = entry
        per = "connection" if workload == "connect" else "request"
        log(f"  {key}: {entry['ir_per_req']:,.0f} Ir/{per}, " +
            ", ".join(f"{f} {v:.2f}" for f, v in entry["calls_per_req"].items()) + f" per {per}")
    return results


# ---------------------------------------------------------------------------------------------
# Tables, goals, chart


def one_line(text: str) -> str:
    return " ".join(text.split())


def errors_cell(r: dict) -> str:
    return one_line("; ".join(dict.fromkeys(r.get("errors") or [])))[:300].replace("|", "\\|") or "0"


def body_cell(r: dict) -> str:
    bodies = r.get("bodies") or []
    return " / ".join(f"`{b}`" for b in bodies).replace("|", "\\|") or "n/a"


def rest_table(results: dict) -> str:
    rows = ["| call | server | req/s | server CPU µs/request | user + sys | ÷ Go's | h2load CPU µs/request | "
            "answer checked | errors |", "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for workload in ("rest-get", "rest-post"):
        ref = get(results, workload, "Go", "cpu_us")
        for name in WORKLOAD_SERVERS[workload]:
            r = results.get((workload, name), {})
            rows.append(f"| {SHORT[workload]} | {label(workload, name)} | {fmt(r.get('req_per_sec'))} | "
                        f"{fmt(r.get('cpu_us'), '.2f')} | {fmt(r.get('user_us'), '.2f')} + {fmt(r.get('sys_us'), '.2f')} | "
                        f"{'—' if name == 'Go' else ratio(r.get('cpu_us'), ref)} | {fmt(r.get('client_cpu_us'), '.2f')} | "
                        f"{body_cell(r)} | {errors_cell(r)} |")
    return "\n".join(rows)


def h1_table(results: dict, versions: dict) -> str:
    rows = ["| server | req/s | server CPU µs/request | user + sys | ÷ h2o's | h2load CPU µs/request | errors |",
            "|---|---:|---:|---:|---:|---:|---|"]
    ref = get(results, "h1", "h2o", "cpu_us")
    for name in WORKLOAD_SERVERS["h1"]:
        r = results.get(("h1", name), {})
        shown = label("h1", name) + (f" {versions[name]}" if name in versions else "")
        rows.append(f"| {shown} | {fmt(r.get('req_per_sec'))} | {fmt(r.get('cpu_us'), '.2f')} | "
                    f"{fmt(r.get('user_us'), '.2f')} + {fmt(r.get('sys_us'), '.2f')} | "
                    f"{'—' if name == 'h2o' else ratio(r.get('cpu_us'), ref)} | {fmt(r.get('client_cpu_us'), '.2f')} | "
                    f"{errors_cell(r)} |")
    return "\n".join(rows)


def connect_table(results: dict) -> str:
    rows = ["| server | connections/s | ÷ without | server CPU µs/connection | user + sys | ÷ without | "
            "client CPU µs/connection | HTTP/1.1 on the port | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    ref_rate = get(results, "connect", "plain", "req_per_sec")
    ref_cpu = get(results, "connect", "plain", "cpu_us")
    for name in WORKLOAD_SERVERS["connect"]:
        r = results.get(("connect", name), {})
        rows.append(f"| {label('connect', name)} | {fmt(r.get('req_per_sec'))} | "
                    f"{'—' if name == 'plain' else ratio(r.get('req_per_sec'), ref_rate)} | {fmt(r.get('cpu_us'), '.2f')} | "
                    f"{fmt(r.get('user_us'), '.2f')} + {fmt(r.get('sys_us'), '.2f')} | "
                    f"{'—' if name == 'plain' else ratio(r.get('cpu_us'), ref_cpu)} | "
                    f"{fmt(r.get('client_cpu_us'), '.1f')} | {'; '.join(r.get('verify_details') or []) or 'n/a'} | "
                    f"{errors_cell(r)} |")
    return "\n".join(rows)


def alloc_table(allocs: dict) -> str:
    rows = ["| server, request (connection) | client | Ir / request | malloc / request | swift_allocObject / request | "
            "swift_retain / request | swift_release / request |", "|---|---|---:|---:|---:|---:|---:|"]
    for key, _, workload, _ in CALLGRIND_RUNS:
        a = allocs.get(key)
        if not a:
            continue
        c = a["calls_per_req"]
        low, high = a["counts"]
        client = (f"h2_connect_load `--count {low:,}/{high:,}`" if workload == "connect" else
                  f"h2load `--h1 -n {low:,}/{high:,} -c 1`")
        rows.append(f"| {key} | {client} | {a['ir_per_req']:,.0f} | {c['malloc']:.2f} | "
                    f"{c['swift_allocObject']:.2f} | {c['swift_retain']:.2f} | {c['swift_release']:.2f} |")
    return "\n".join(rows)


def exact(a, b) -> str:
    """a/b with three decimals (goal lines: a ratio just over its bound does not print as the bound)."""
    return f"{a / b:.3f}x" if valid(a) and valid(b) and b else "n/a"


CONNECT_WITH, CONNECT_WITHOUT = "HTTP2Server --http1, new connection", "HTTP2Server, new connection"


def detector_delta(allocs: dict | None, top: int = 12) -> tuple[float, list[tuple[str, float]]] | None:
    """(Ir per connection with the detector − without, the functions that differ most, demangled)."""
    if not allocs or CONNECT_WITH not in allocs or CONNECT_WITHOUT not in allocs:
        return None
    a, b = allocs[CONNECT_WITH]["exclusive_per"], allocs[CONNECT_WITHOUT]["exclusive_per"]
    diffs = sorted(((a.get(k, 0) - b.get(k, 0), k) for k in set(a) | set(b)), key=lambda t: -abs(t[0]))[:top]
    names = callgrind.demangle([k for _, k in diffs])
    total = allocs[CONNECT_WITH]["ir_per_req"] - allocs[CONNECT_WITHOUT]["ir_per_req"]
    return total, [(callgrind.short(n, 200), v) for n, (v, _) in zip(names, diffs) if abs(v) >= 0.5]


def per_round_text(results: dict, workload: str, a: str, b: str, key: str) -> str:
    med, ratios = paired(results, workload, a, b, key)
    if med is None or len(ratios) < 2:
        return ""
    return f"; per round {', '.join(f'{r:.2f}' for r in ratios)}, median {med:.2f}x"


def not_measured(results: dict, workload: str, names: tuple[str, ...], key: str, errors: dict[str, str]) -> str:
    why = []
    for name in names:
        if valid(get(results, workload, name, key)):
            continue
        error = row_error(errors, workload, name)
        runs = results.get((workload, name), {}).get("errors") or []
        why.append(f"{label(workload, name)}: " + (error or ("; ".join(dict.fromkeys(runs)) if runs else "no result")))
    return "not measured (" + one_line("; ".join(why))[:600] + ")"


def goals(results: dict, errors: dict[str, str], allocs: dict | None = None) -> list[Goal]:
    out: list[Goal] = []
    for workload in ("rest-get", "rest-post"):
        loop, go = get(results, workload, "Loop", "cpu_us"), get(results, workload, "Go", "cpu_us")
        spec = REST[workload]
        what = (f"{SHORT[workload]} {spec['path']} server CPU per request (h2load --h1 -c {CONNECTIONS}, one core) <= "
                f"{GOAL_REST_VS_GO:g}x the Go stack's (cmux + grpc-gateway + grpc-go): ")
        if valid(loop) and valid(go):
            out.append(Goal("one port", loop <= GOAL_REST_VS_GO * go,
                            what + f"GatewayDemo {fmt(loop, '.2f')} µs vs Go {fmt(go, '.2f')} µs (Loop/Go = "
                            f"{exact(loop, go)}{per_round_text(results, workload, 'Loop', 'Go', 'cpu_us')})"))
        else:
            out.append(Goal("one port", None, what + not_measured(results, workload, ("Loop", "Go"), "cpu_us", errors)))

    loop, h2o = get(results, "h1", "Loop", "cpu_us"), get(results, "h1", "h2o", "cpu_us")
    what = (f"HTTP/1.1 keep-alive GET /hello server CPU per request (h2load --h1 -c {CONNECTIONS}, one core) <= "
            f"{GOAL_H1_VS_H2O:g}x h2o's: ")
    if valid(loop) and valid(h2o):
        nginx = get(results, "h1", "nginx", "cpu_us")
        out.append(Goal("one port", loop <= GOAL_H1_VS_H2O * h2o,
                        what + f"Loop {fmt(loop, '.2f')} µs vs h2o {fmt(h2o, '.2f')} µs (Loop/h2o = {exact(loop, h2o)}"
                        f"{per_round_text(results, 'h1', 'Loop', 'h2o', 'cpu_us')}); nginx {fmt(nginx, '.2f')} µs "
                        f"(Loop/nginx = {ratio(loop, nginx)})"))
    else:
        out.append(Goal("one port", None, what + not_measured(results, "h1", ("Loop", "h2o"), "cpu_us", errors)))

    det, plain = get(results, "connect", "detector", "cpu_us"), get(results, "connect", "plain", "cpu_us")
    what = (f"new HTTP/2 connections (one GET each, one core): the one-port detector's cost, server CPU per connection "
            f"with it (--http1) at most {GOAL_DETECTOR * 100:g} % above without: ")
    if valid(det) and valid(plain):
        rd, rp = get(results, "connect", "detector", "req_per_sec"), get(results, "connect", "plain", "req_per_sec")
        out.append(Goal("one port", det / plain - 1 <= GOAL_DETECTOR,
                        what + f"{fmt(det, '.2f')} µs vs {fmt(plain, '.2f')} µs (with/without = {exact(det, plain)}"
                        f"{per_round_text(results, 'connect', 'detector', 'plain', 'cpu_us')}); connections/s "
                        f"{fmt(rd)} vs {fmt(rp)} (with/without = {exact(rd, rp)}"
                        f"{per_round_text(results, 'connect', 'detector', 'plain', 'req_per_sec')})"
                        + ("" if not allocs or CONNECT_WITH not in allocs or CONNECT_WITHOUT not in allocs else
                           f"; callgrind: {allocs[CONNECT_WITH]['ir_per_req']:,.0f} vs "
                           f"{allocs[CONNECT_WITHOUT]['ir_per_req']:,.0f} instructions per connection (with/without = "
                           f"{exact(allocs[CONNECT_WITH]['ir_per_req'], allocs[CONNECT_WITHOUT]['ir_per_req'])})")))
    else:
        out.append(Goal("one port", None, what + not_measured(results, "connect", ("detector", "plain"), "cpu_us",
                                                               errors)))

    loop_errors = [e for (w, n), r in results.items() if n in ("Loop", "detector", "plain")
                   for e in (r.get("errors") or []) if row_error(errors, w, n) is None]
    if "Loop gateway" in errors and "Loop http" in errors:
        out.append(Goal("one port", None, f"Loop errors not measured ({one_line(errors['Loop http'])[:300]})"))
    else:
        out.append(Goal("one port", not loop_errors,
                        "Loop: 0 errors in every run (the checked answer: same JSON as the Go stack's, h2load status "
                        "and DATA bytes, h2_connect_load's :status and DATA bytes)"
                        + ("" if not loop_errors else ": " + one_line("; ".join(dict.fromkeys(loop_errors)))[:600])))
    return out


COLORS = {"Loop": "#2b7bba", "Go": "#e8772e", "h2o": "#9467bd", "nginx": "#5aa05a", "detector": "#2b7bba",
          "plain": "#8fbfe0"}


def chart(results: dict, path: Path) -> bool:
    plt = charts.pyplot("one-port chart")
    if plt is None:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(14, 5))
    panels = [
        (axes[0], ("rest-get", "rest-post"), ("Loop", "Go"), "server CPU µs / request", "REST/JSON gateway"),
        (axes[1], ("h1",), ("Loop", "h2o", "nginx"), "server CPU µs / request", "HTTP/1.1 keep-alive GET /hello"),
        (axes[2], ("connect",), ("detector", "plain"), "server CPU µs / connection",
         "New HTTP/2 connections"),
    ]
    for ax, workloads, names, ylabel, title in panels:
        present = [n for n in names if any(valid(get(results, w, n, "cpu_us")) for w in workloads)]
        charts.grouped_bars(ax, workloads, present, lambda w, n: get(results, w, n, "cpu_us"), COLORS, 0.25,
                            lambda v: f"{v:.1f}")
        ax.set_xticklabels([SHORT[w] for w in workloads])
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.12)
    names = ["Loop", "Go", "h2o", "nginx", "detector", "plain"]
    labels = {"Loop": "Loop (GatewayDemo; HTTP2Server --http1)", "Go": "Go: cmux + grpc-gateway + grpc-go",
              "h2o": "h2o", "nginx": "nginx", "detector": "HTTP2Server with the detector (--http1)",
              "plain": "HTTP2Server without (h2c only)"}
    charts.save_with_legend(fig, path, names, COLORS, labels, "One port: server CPU on one core (lower is better)")
    return True


def section(args, info: dict, results: dict, goal_lines: list[Goal], errors: dict[str, str], versions: dict,
            allocs: dict | None, chart_ok: bool, duration: float) -> str:
    rounds = args.oneport_rounds
    h2o_v, nginx_v = versions.get("h2o", "?"), versions.get("nginx", "?")
    lines = [
        "## One port: Loop's gateway vs cmux + grpc-gateway + grpc-go, HTTP/1.1 vs h2o and nginx, the detector's cost",
        "",
        f"Generated {info['date']} by `{command(args)}`. Loop sources at `{info.get('loop_commit', 'unknown')}`. "
        f"{info.get('h2load', 'h2load')}. Load average before / after the runs: "
        f"{info.get('oneport_load_before', 'n/a')} / {info.get('oneport_load_after', 'n/a')}.",
        "",
        f"Every server is one process pinned to core {SERVER_CPU} (`taskset`), started fresh for each run; the client "
        f"is pinned to core {CLIENT_CPU}. Servers: Loop's `GatewayDemo --host 127.0.0.1 --port 0 --threads 1` (REST routes of "
        "greetings.proto served in process through `GRPCLocalCaller`, one event loop); the Go "
        "stack `cmux_server -match=matchwithwriters -host=127.0.0.1 -port=0` with `GOMAXPROCS=1` (grpc-go 1.33 and "
        "grpc-gateway 1.6.4 behind cmux 0.1.5 on one port, all Debian's, built by `make peers`; grpc-gateway 1.6.4 "
        "reaches the service through a grpc-go client connection to the same port, as that stack is deployed, so "
        "each REST request is also one gRPC call over loopback inside the process); Loop's `HTTP2Server --threads 1 "
        f"--http1` (and without `--http1` for the detector's cost); h2o {h2o_v} (`num-threads: 1`, `file.dir` with the "
        f"13-byte file `hello`, the HTTP/2 part's configuration); nginx {nginx_v} (`master_process off`, "
        "`worker_processes 1`, `location = /hello { return 200 \"Hello, world!\"; }`, no access log).",
        "",
        f"- **REST GET / POST**: `h2load --h1 -c {CONNECTIONS}` (HTTP/1.1, {CONNECTIONS} keep-alive connections, one "
        "request in flight on each) `GET /v1/greetings/world`, and `POST /v1/greetings` with the body "
        "`{\"name\":\"world\",\"language\":\"FRENCH\"}` (`-d FILE -H 'content-type: application/json'`). Each run first "
        "makes one request with Python's http.client and checks status 200, content-type application/json and the JSON "
        "(`{\"message\":\"Hello, world!\"}`, `{\"message\":\"Bonjour, world!\",\"language\":\"FRENCH\"}`: both servers "
        "must answer the same); h2load's DATA bytes must then be requests × that body's length.",
        f"- **HTTP/1.1**: `h2load --h1 -c {CONNECTIONS} GET /hello` (13-byte body; checked once per run, then DATA "
        "bytes).",
        f"- **new connections**: `Benchmarks/loadgen/h2_connect_load.c` (C, epoll, {CONNECT_CONCURRENCY} connections in "
        "flight): every request on a connection of its own — connect, client preface + SETTINGS + HEADERS "
        "(GET /hello), SETTINGS ACK, read to the end of stream 1 (checking :status 200 and 13 DATA bytes), close. "
        "h2load has no mode that reconnects per request. The server with the detector (`--http1`) must answer "
        "HTTP/1.1 on its port (checked each run), the one without must not (checked too).",
        "",
        f"{rounds} round(s); each round runs every workload on its servers, the order rotating between rounds; medians "
        "shown, and each goal's ratio per round. Each run: untimed warm-up runs (growing until one lasts 0.4 s), then "
        f"a timed run sized to last about {duration:g} s. Server CPU = utime+stime of every process in the server's "
        "session (/proc/*/stat, all threads, 10 ms ticks) across the timed run ÷ requests (connections); client CPU = "
        "the load client's own utime+stime ÷ requests. The machine is shared and noisy: CPU per request is the "
        "comparable figure, req/s moves with the neighbours' load.",
        "",
        "### REST/JSON: GatewayDemo vs the Go stack",
        "",
        rest_table(results),
        "",
        "### HTTP/1.1 keep-alive GET /hello",
        "",
        h1_table(results, versions),
        "",
        "### New connections: the one-port detector's cost",
        "",
        connect_table(results),
        "",
    ]
    if chart_ok:
        lines += ["![one-port results](oneport.png)", ""]
    lines += ["### Goals", ""]
    lines += markdown(goal_lines)
    lines.append("")
    if rounds > 1:
        per_round = []
        for workload, names in WORKLOAD_SERVERS.items():
            for name in names:
                r = results.get((workload, name), {})
                rate, cpu = r.get("req_per_sec_all") or [], r.get("cpu_us_all") or []
                if rate:
                    per_round.append(f"{SHORT[workload]} {label(workload, name)}: "
                                     + ", ".join(f"{fmt(a)}/s {fmt(b, '.2f')} µs" for a, b in zip(rate, cpu)))
        lines += ["Per round (rate, server CPU µs per request / connection): " + "; ".join(per_round) + ".", ""]
    if allocs:
        low, high = args.oneport_counts
        lines += [
            "### Allocations and instructions per request (callgrind)",
            "",
            f"`valgrind --tool=callgrind` on `strip --strip-debug` copies of the release GatewayDemo and HTTP2Server "
            f"(`--threads 1 --http1`), under `h2load --h1 -c 1` with N = {low:,} and {high:,} requests (the first one "
            f"the answer check): (count({high:,}) − count({low:,})) ÷ {high - low:,}, so start-up and connection set-up "
            "cancel; and `HTTP2Server --threads 1` with and without `--http1` under h2_connect_load (one GET per new "
            f"connection) with a fifth of those counts: per connection. Instructions only: the kernel's share "
            "(syscalls, loopback TCP) is not in them.",
            "",
            alloc_table(allocs),
            "",
        ]
        delta = detector_delta(allocs)
        if delta:
            total, top = delta
            lines += [f"The detector's instructions per new connection (with `--http1` − without): {total:+,.0f} Ir. "
                      "Functions whose exclusive Ir per connection differ most:", "", "```"]
            lines += [f"{v:>+10,.1f}  {n}" for n, v in top]
            lines += ["```", ""]
        for key, _, workload, _ in CALLGRIND_RUNS:
            a = allocs.get(key)
            if not a or workload == "connect":
                continue
            lines += [f"#### {key}: top exclusive functions per request (Ir)", "", "```"]
            lines += [f"{v:>10,.1f}  {n}" for n, v in a["top"]]
            lines += ["```", "", f"malloc calls per request by allocation site ({key}):", "", "```"]
            lines += [f"{v:>8.2f}  {n}" for n, v in a["malloc_sites"]]
            lines += ["```", ""]
    if errors:
        lines += ["### Rows that could not run", ""]
        lines += [f"- {k}: {v}" for k, v in errors.items()]
        lines.append("")
    bad = [(k, v) for k, v in results.items() if v.get("errors") and row_error(errors, *k) is None]
    if bad:
        lines += ["### Runs with errors", ""]
        for (workload, name), v in bad:
            lines += [f"{SHORT[workload]}, {label(workload, name)}: {'; '.join(dict.fromkeys(v['errors']))[:1000]}", ""]
            if v.get("h2load_tail") or v.get("server_output"):
                lines += ["```", (v.get("h2load_tail") or "").rstrip(), (v.get("server_output") or "").rstrip(),
                          "```", ""]
    lines += ["### Configurations", "", "nginx (ports filled in per run):", "", "```",
              nginx_config(0, Path("TMP")).rstrip().replace("127.0.0.1:0", "127.0.0.1:PORT"), "```", "",
              "h2o: the HTTP/2 part's configuration with `num-threads: 1`.", ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The one-port part: its report section, goals, console summary, and whether something broke."""
    duration = args.oneport_duration
    log("== one port: building")
    binaries, versions, errors = build(args.skip_build)
    info["loop_commit"] = loop_commit()
    info["h2load"] = subprocess.run(["h2load", "--version"], text=True, capture_output=True).stdout.strip() or "h2load"
    allocs = None
    with tempfile.TemporaryDirectory(prefix="bench-oneport-") as tmp:
        workdir = Path(tmp)
        peers = HTTP2Peers(workdir)
        log(f"== one-port load ({args.oneport_rounds} round(s), ~{duration:g} s per run; servers on core {SERVER_CPU}, "
            f"clients on core {CLIENT_CPU})")
        info["oneport_load_before"] = load_average()
        results = load_runs(binaries, workdir, peers, args.oneport_rounds, duration, errors)
        info["oneport_load_after"] = load_average()
        if not args.skip_callgrind:
            log(f"== one-port allocations per request (callgrind, {args.oneport_counts[0]} and "
                f"{args.oneport_counts[1]} requests)")
            try:
                allocs = allocations(binaries, args.oneport_counts, workdir, errors)
            except BenchError as error:
                log(f"ERROR (one port, callgrind): {error}")
                errors["callgrind"] = str(error)
    for workload, names in WORKLOAD_SERVERS.items():
        for name in names:
            error = row_error(errors, workload, name)
            if error is not None:
                results[(workload, name)] = {"errors": [error], "broken": True}
    RESULTS.mkdir(parents=True, exist_ok=True)
    chart_ok = chart(results, RESULTS / "oneport.png")
    goal_lines = goals(results, errors, allocs)
    text = section(args, info, results, goal_lines, errors, versions, allocs, chart_ok, duration)
    console = [rest_table(results), "", h1_table(results, versions), "", connect_table(results)]
    if allocs:
        console += ["", alloc_table(allocs)]
    broken = bool(errors) or any(v.get("broken") for v in results.values())
    return PartResult(text, goal_lines, "\n".join(console), broken)
