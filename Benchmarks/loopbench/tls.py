"""The TLS part (issue #12): Loop over TLS (OpenSSL, ALPN h2) vs h2o 2.2.5, nginx 1.22 and grpc-go 1.33.

Run by bench.py (`python3 Benchmarks/bench.py`, or `--only tls`). It writes the TLS section of
results/report.md (other sections kept).

  1. builds Loop's HTTP2Server and InteropServer (release, scratch path .build-bench) and starts
     each once with its TLS flags: a Loop that does not build, or whose servers do not listen with
     them (`HTTP2Server --tls-cert FILE --tls-key FILE`, `InteropServer --use_tls=true
     --tls_cert_file FILE --tls_key_file FILE`), is an error of the Loop rows: the peers' rows
     still run, and the part says something broke (exit 1). h2o and nginx are Debian's, grpc-go's
     interop_server comes from `make peers`;
  2. one throwaway certificate for every server, made at run time in a temporary directory
     (`openssl req -x509`, EC P-256 key, subjectAltName DNS:localhost + IP:127.0.0.1); the peers'
     configurations are written next to it. Every server is one process (h2o: plus its neverbleed
     helper, which signs handshakes) pinned to core 0 (SERVER_CPU) with one thread or worker, started
     fresh for each run; h2load is pinned to core 1 (CLIENT_CPU) and asks for TLS 1.3 with
     TLS_AES_128_GCM_SHA256 (`--tls13-ciphers`), so every server negotiates the same suite;
  3. workloads, interleaved (each round runs every workload on its servers, the order rotating from
     round to round), medians:
       TLS S1        h2load -c 8 -m 100 GET https://127.0.0.1:P/hello (13-byte body): req/s, server
                     CPU per request (Loop HTTP2Server, h2o, nginx)
       handshakes    batches of `h2load -n 100 -c 100 -m 1` GET /hello: every request on a connection
                     of its own, so one full handshake each (h2load never resumes a session);
                     handshakes/s = handshakes / the batches' h2load time, server CPU per handshake
                     (Loop HTTP2Server, nginx, h2o)
       gRPC unary    h2load -c 8 -m 100 POSTing the gRPC part's 11-byte SimpleRequest to
                     /grpc.testing.TestService/UnaryCall over TLS: calls/s, server CPU per call
                     (Loop InteropServer, grpc-go interop_server)
     Each S1 / gRPC run: untimed warm-up runs (growing until one lasts 0.4 s), then a timed run
     sized to last about --tls-duration seconds; a handshake run: one untimed batch, then batches
     for about --tls-duration seconds. Server CPU = utime+stime of every process in the server's
     session (/proc/*/stat, all threads) across the timed window. Errors: h2load's failed / errored /
     non-2xx requests, DATA bytes received (13 per request, 16 per call: a gRPC call that failed with
     a grpc-status has no message), the TLS version and ALPN protocol h2load reports; each gRPC run
     also makes one call with grpcio over TLS trusting the throwaway certificate;
  4. returns the report section, goal lines and console summary.
"""
from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .common import BenchError, gather_binaries, load_average, log, loop_commit, tool
from .goals import Goal, markdown
from .grpc import Bodies, aggregate_runs, expected_data_bytes, paired, peers_dir, verify
from .grpc_messages import WORKLOADS as GRPC_WORKLOADS
from .h2load import run_h2load
from .nginx import nginx_config as shared_nginx_config
from .processes import CLIENT_CPU, SERVER_CPU, PeerServer, Server, free_port, pinned, session_cpu_times
from .report import PartResult, command, fmt, get, ratio, valid

HELLO = b"Hello, world!"  # the HTTP/2 part's /hello body
GRPC_WORKLOAD = "unary-11B"  # the gRPC part's request and response

# workload -> the servers it runs on (the first is Loop's)
WORKLOAD_SERVERS = {
    "s1": ("Loop", "h2o", "nginx"),
    "handshake": ("Loop", "nginx", "h2o"),
    "grpc": ("Loop", "grpc-go"),
}
WORKLOAD_LABELS = {"s1": "TLS S1: GET /hello, h2load -c 8 -m 100",
                   "handshake": "new connections: one GET /hello per connection, batches of h2load -n 100 -c 100 -m 1",
                   "grpc": "gRPC unary 11 B over TLS, h2load -c 8 -m 100"}
SHORT = {"s1": "TLS S1", "handshake": "handshakes", "grpc": "gRPC unary"}
LABELS = {("s1", "Loop"): "Loop HTTP2Server", ("handshake", "Loop"): "Loop HTTP2Server",
          ("grpc", "Loop"): "Loop InteropServer"}
PEER_LABELS = {"h2o": "h2o", "nginx": "nginx", "grpc-go": "grpc-go 1.33"}

CONNECTIONS = 8
STREAMS = 100
# One batch of the handshake workload: that many connections at once, one request each. Below the
# listen backlog of every server (Loop's default 256, nginx 511), so no SYN waits for a retransmit.
BATCH = 100
# h2load's TLS 1.3 suites: the first of its default list only, so that a server preferring its own
# order (Loop's HTTP2Server picks TLS_AES_256_GCM_SHA384 from h2load's default list; h2o, nginx and
# grpc-go take the client's first) negotiates the same suite as the others.
TLS13_CIPHER = "TLS_AES_128_GCM_SHA256"
CAP = 2_000_000

# Goals (issue #12): TLS S1 server CPU per request <= 1.2x h2o's; new-connection handshakes/s >= nginx's;
# gRPC unary over TLS server CPU per call <= 0.5x grpc-go's.
GOAL_S1_CPU_VS_H2O = 1.2
GOAL_HANDSHAKES_VS_NGINX = 1.0
GOAL_GRPC_CPU_VS_GO = 0.5


def label(workload: str, name: str) -> str:
    return LABELS.get((workload, name)) or PEER_LABELS.get(name, name)


# ---------------------------------------------------------------------------------------------
# The certificate


class Certificate:
    """A throwaway self-signed EC P-256 certificate for localhost and 127.0.0.1, made with the
    openssl CLI into workdir (world-readable: h2o drops its privileges to nobody)."""

    def __init__(self, workdir: Path):
        self.cert = workdir / "cert.pem"
        self.key = workdir / "key.pem"
        self.argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-days", "2", "-subj", "/CN=localhost",
                     "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                     "-keyout", str(self.key), "-out", str(self.cert)]
        if shutil.which("openssl") is None:
            raise BenchError("the openssl command is not installed (apt-get install openssl)")
        proc = subprocess.run(self.argv, text=True, capture_output=True, timeout=60)
        if proc.returncode != 0 or not self.cert.exists() or not self.key.exists():
            raise BenchError(f"openssl req failed (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-1000:]}")
        workdir.chmod(0o755)
        for path in (self.cert, self.key):
            path.chmod(0o644)

    def command(self) -> str:
        return " ".join("CERT" if a == str(self.cert) else "KEY" if a == str(self.key) else a for a in self.argv)


# ---------------------------------------------------------------------------------------------
# Builds


def build(skip: bool) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """(binaries, peer versions, errors): an error keyed "Loop http" (HTTP2Server), "Loop grpc"
    (InteropServer) or a peer's name leaves its rows out."""
    if tool("h2load") is None:
        raise BenchError("h2load is not installed (apt-get install nghttp2-client)")
    return gather_binaries("TLS", skip, (("Loop http", "HTTP2Server"), ("Loop grpc", "InteropServer")),
                           ("grpc-go", peers_dir() / "bin" / "interop_server", "run `make peers`"), "`make test-deps`")


def row_error(errors: dict[str, str], workload: str, name: str) -> str | None:
    if name == "Loop":
        return errors.get("Loop grpc" if workload == "grpc" else "Loop http")
    return errors.get(name)


# ---------------------------------------------------------------------------------------------
# Servers


def h2o_config(port: int, cert: Certificate, root: Path) -> str:
    return f"""# loopbench TLS part: HTTPS (ALPN h2) on 127.0.0.1, one thread, GET /hello from file.dir, no access log.
listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {cert.cert}
    key-file: {cert.key}
    minimum-version: TLSv1.2
    # no OCSP stapling: a self-signed certificate has no responder (h2o would run fetch-ocsp-response)
    ocsp-update-interval: 0
num-threads: 1
hosts:
  "default":
    paths:
      /:
        file.dir: {root}
"""


def nginx_config(port: int, cert: Certificate, prefix: Path) -> str:
    return shared_nginx_config(prefix, "TLS part: HTTPS (ALPN h2) on 127.0.0.1, one process, GET /hello from memory, no access log.", f"""
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert.cert};
        ssl_certificate_key {cert.key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /hello {{
            default_type text/plain;
            return 200 "{HELLO.decode()}";
        }}
    }}
""")


class Peers:
    """The certificate, the document root (h2o) and the configurations (written per run, ports
    chosen per run) in one temporary directory."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.cert = Certificate(workdir)
        self.root = workdir / "www"
        self.root.mkdir()
        (self.root / "hello").write_bytes(HELLO)
        self.root.chmod(0o755)
        (self.root / "hello").chmod(0o644)
        self.bodies = Bodies(workdir)


def loop_argv(workload: str, binaries: dict, cert: Certificate) -> list[str]:
    if workload == "grpc":
        return [str(binaries["Loop grpc"]), "--host", "127.0.0.1", "--port", "0", "--threads", "1", "--use_tls=true",
                "--tls_cert_file", str(cert.cert), "--tls_key_file", str(cert.key)]
    return [str(binaries["Loop http"]), "--host", "127.0.0.1", "--port", "0", "--threads", "1",
            "--tls-cert", str(cert.cert), "--tls-key", str(cert.key)]


def start(workload: str, name: str, binaries: dict, peers: Peers):
    """The server pinned to SERVER_CPU with one thread (grpc-go: GOMAXPROCS follows the affinity)."""
    cert = peers.cert
    if name == "Loop":
        return Server(f"Loop-{workload}", pinned(SERVER_CPU, loop_argv(workload, binaries, cert)), 30)
    port = free_port()
    if name == "h2o":
        config = peers.workdir / f"h2o-{port}.conf"
        config.write_text(h2o_config(port, cert, peers.root))
        config.chmod(0o644)
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["h2o"]), "-c", str(config)]), port, cwd=peers.workdir)
    if name == "nginx":
        prefix = peers.workdir / f"nginx-{port}"
        prefix.mkdir()
        config = prefix / "nginx.conf"
        config.write_text(nginx_config(port, cert, prefix))
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["nginx"]), "-p", str(prefix), "-c", str(config),
                                                    "-e", str(prefix / "error.log")]), port)
    if name == "grpc-go":
        return PeerServer(name, pinned(SERVER_CPU, [str(binaries["grpc-go"]), f"--port={port}", "--use_tls=true",
                                                    f"--tls_cert_file={cert.cert}", f"--tls_key_file={cert.key}"]),
                          port)
    raise ValueError(name)


def probe_loop(binaries: dict, peers: Peers, errors: dict[str, str]) -> None:
    """Starts Loop's servers once with their TLS flags: an error of the Loop rows (recorded in
    errors) when one does not listen with them (a Loop without TLS)."""
    for key, workload, flags in (("Loop http", "s1", "--tls-cert FILE --tls-key FILE"),
                                 ("Loop grpc", "grpc", "--use_tls=true --tls_cert_file FILE --tls_key_file FILE")):
        if key in errors:
            continue
        try:
            server = start(workload, "Loop", binaries, peers)
        except BenchError as error:
            said = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
            why = next((line for line in said if "error" in line.lower()), said[-1] if said else str(error))
            errors[key] = f"Loop's {Path(binaries[key]).name} did not listen with `{flags}` ({why[:300]})"
            log(f"ERROR (TLS): {errors[key]}")
            continue
        server.stop(wait=10)


def ticket_probe(port: int) -> dict:
    """One full handshake with `openssl s_client -msg` (ALPN h2), stdin held open 0.5 s so the
    post-handshake messages arrive: the NewSessionTickets the server sends, the suite, ALPN."""
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-alpn", "h2", "-msg"]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", start_new_session=True)
        time.sleep(0.5)
        out, _ = proc.communicate(input="", timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
        return {}
    result = {"tickets": len(re.findall(r"NewSessionTicket", out))}
    m = re.search(r"New, (\S+), Cipher is (\S+)", out)
    if m:
        result["s_client"] = f"{m.group(1)} {m.group(2)}"
    return result


# ---------------------------------------------------------------------------------------------
# h2load over TLS


def parse_tls(text: str) -> dict:
    out = {}
    for key, pattern in (("tls_protocol", r"TLS Protocol: (\S+)"), ("tls_cipher", r"Cipher: (\S+)"),
                         ("tls_key", r"Server Temp Key: ([^\n]+)"), ("alpn", r"Application protocol: (\S+)")):
        m = re.search(pattern, text)
        if m:
            out[key] = m.group(1).strip()
    return out


def h2load(port: int, workload: str, peers: Peers, n: int, c: int, m: int, timeout: float) -> tuple[dict, str]:
    """h2load over https, pinned to CLIENT_CPU; errors also when it did not negotiate TLS 1.3 and h2,
    or when the DATA received is not n times the expected body."""
    argv = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m), f"--tls13-ciphers={TLS13_CIPHER}"]
    if workload == "grpc":
        w = GRPC_WORKLOADS[GRPC_WORKLOAD]
        argv += ["-d", str(peers.bodies.paths[GRPC_WORKLOAD]), "-H", "content-type: application/grpc",
                 "-H", "te: trailers", f"https://127.0.0.1:{port}{w['path']}"]
        per_request = expected_data_bytes(GRPC_WORKLOAD)
    else:
        argv.append(f"https://127.0.0.1:{port}/hello")
        per_request = len(HELLO)
    result, text = run_h2load(pinned(CLIENT_CPU, argv), n, timeout)
    result.update(parse_tls(text))
    if "succeeded" in result:
        if result.get("tls_protocol") != "TLSv1.3":
            result["errors"].append(f"TLS protocol {result.get('tls_protocol', 'not reported')}, expected TLSv1.3")
        if result.get("alpn") != "h2":
            result["errors"].append(f"ALPN protocol {result.get('alpn', 'not reported')}, expected h2")
        expected = n * per_request
        if result.get("data_bytes") != expected:
            result["errors"].append(f"DATA received {result.get('data_bytes')} bytes, expected {expected} "
                                    f"({n} x {per_request})")
    return result, text


def tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-16:])


# ---------------------------------------------------------------------------------------------
# Runs


MEDIAN_KEYS = ("req_per_sec", "cpu_us", "user_us", "sys_us", "latency_mean_us", "seconds", "client_cpu_us",
               "wall_rate")


def timed_streams(workload: str, server, peers: Peers, duration: float, record: dict) -> list[str]:
    """S1 and gRPC: warm-up runs growing until one lasts 0.4 s, then a timed run of about `duration`."""
    n = CONNECTIONS * STREAMS
    while True:
        warm, text = h2load(server.port, workload, peers, n, CONNECTIONS, STREAMS, timeout=120)
        if warm["errors"]:
            record["h2load_tail"] = tail(text)
            record.update({k: warm.get(k) for k in ("tls_protocol", "tls_cipher", "tls_key", "alpn")})
            return [f"warm-up: {e}" for e in warm["errors"]]
        if warm.get("seconds", 0) >= 0.4 or n >= CAP:
            break
        n = min(CAP, n * 4)
    rate = warm.get("req_per_sec") or 1000.0
    n = int(min(CAP, max(CONNECTIONS * STREAMS, rate * duration)))
    n -= n % CONNECTIONS
    user0, sys0 = session_cpu_times(server.pid)
    result, text = h2load(server.port, workload, peers, n, CONNECTIONS, STREAMS, timeout=max(120, 20 * duration))
    user1, sys1 = session_cpu_times(server.pid)
    done = result.get("succeeded", 0)
    record.update({k: result.get(k) for k in ("seconds", "req_per_sec", "latency_mean_us", "argv", "tls_protocol",
                                              "tls_cipher", "tls_key", "alpn")})
    record["requests"] = done
    if done:
        record["user_us"] = (user1 - user0) * 1e6 / done
        record["sys_us"] = (sys1 - sys0) * 1e6 / done
        record["cpu_us"] = record["user_us"] + record["sys_us"]
    if result["errors"]:
        record["h2load_tail"] = tail(text)
    return result["errors"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_handshakes(server, peers: Peers, duration: float, record: dict) -> list[str]:
    """One untimed batch, then batches of BATCH connections (one request each) for about `duration`
    seconds. handshakes/s = handshakes / the batches' h2load time (its "finished in": connect to
    the last response; wall_rate counts h2load's start-up too). client_cpu_us = h2load's CPU
    time (getrusage of the waited-for children) per handshake: above the server's, the client's core
    set the pace."""
    warm, text = h2load(server.port, "handshake", peers, BATCH, BATCH, 1, timeout=120)
    if warm["errors"]:
        record["h2load_tail"] = tail(text)
        record.update({k: warm.get(k) for k in ("tls_protocol", "tls_cipher", "tls_key", "alpn")})
        return [f"warm-up: {e}" for e in warm["errors"]]
    errors: list[str] = []
    handshakes, seconds, batches = 0, 0.0, 0
    client0 = children_cpu()
    user0, sys0 = session_cpu_times(server.pid)
    start_time = time.monotonic()
    while time.monotonic() - start_time < duration or batches == 0:
        result, text = h2load(server.port, "handshake", peers, BATCH, BATCH, 1, timeout=120)
        batches += 1
        handshakes += result.get("succeeded", 0)
        seconds += result.get("seconds") or 0.0
        record.update({k: result.get(k) for k in ("argv", "tls_protocol", "tls_cipher", "tls_key", "alpn")})
        if result["errors"]:
            errors += [f"batch {batches}: {e}" for e in result["errors"]]
            record["h2load_tail"] = tail(text)
            break
    time.sleep(0.1)  # the server's share of the last connections' closing
    user1, sys1 = session_cpu_times(server.pid)
    wall = time.monotonic() - start_time
    client = children_cpu() - client0
    record.update({"requests": handshakes, "batches": batches, "seconds": seconds, "wall_seconds": wall})
    if handshakes and seconds:
        record["req_per_sec"] = handshakes / seconds
        record["wall_rate"] = handshakes / wall
        record["client_cpu_us"] = client * 1e6 / handshakes
        record["user_us"] = (user1 - user0) * 1e6 / handshakes
        record["sys_us"] = (sys1 - sys0) * 1e6 / handshakes
        record["cpu_us"] = record["user_us"] + record["sys_us"]
    return errors


def one_run(workload: str, name: str, binaries: dict, peers: Peers, duration: float) -> dict:
    try:
        server = start(workload, name, binaries, peers)
    except BenchError as error:
        log(f"    {name:<8} did not start: {error}")
        return {"errors": [str(error)], "broken": True}
    record: dict = {}
    errors: list[str] = []
    try:
        if workload == "grpc":
            ok, detail = verify(server.port, GRPC_WORKLOAD, peers.cert.cert)
            record["verified"], record["verify_detail"] = ok, detail
            if not ok:
                errors.append(f"grpcio check: {detail}")
        if not errors:
            if workload == "handshake":
                errors += timed_handshakes(server, peers, duration, record)
                if not errors:
                    record.update(ticket_probe(server.port))
            else:
                errors += timed_streams(workload, server, peers, duration, record)
        if not server.alive():
            errors.append(f"{name} exited during the run (status {server.proc.returncode})")
            record["broken"] = True
            record["server_output"] = server.output()[-2000:]
        record["errors"] = errors
    finally:
        server.stop(wait=10)
    unit = "handshakes/s" if workload == "handshake" else "calls/s" if workload == "grpc" else "req/s"
    per = "handshake" if workload == "handshake" else "call" if workload == "grpc" else "req"
    extra = ""
    if workload == "handshake" and valid(record.get("client_cpu_us")):
        extra = f"  h2load {record['client_cpu_us']:.0f} us CPU/handshake  tickets {record.get('tickets', '?')}"
    elif valid(record.get("latency_mean_us")):
        extra = f"  mean latency {fmt(record['latency_mean_us'], ',.0f')} us"
    log(f"    {name:<8} {fmt(record.get('req_per_sec')):>9} {unit}  {fmt(record.get('cpu_us'), '.2f'):>7} us CPU/{per}"
        f"{extra}" + (f"  ERRORS: {'; '.join(errors)}" if errors else ""))
    if record.get("h2load_tail") and errors:
        log("      " + record["h2load_tail"].replace("\n", "\n      "))
    return record


def load_runs(binaries: dict, peers: Peers, rounds: int, duration: float, errors: dict[str, str]) -> dict:
    """Every workload on each of its servers that can run, `rounds` times, the server order rotating
    from round to round (as grpc.interleaved_runs); the medians (grpc.aggregate_runs)."""
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
                runs.setdefault((workload, name), []).append(one_run(workload, name, binaries, peers, duration))
    results = aggregate_runs(runs, MEDIAN_KEYS)
    for key, rs in runs.items():  # aggregate_runs keeps the last run's; tickets are the same in each
        results[key]["tickets_all"] = sorted({r["tickets"] for r in rs if "tickets" in r})
    return results


# ---------------------------------------------------------------------------------------------
# Tables, goals


def tls_cell(r: dict) -> str:
    if not r.get("tls_protocol"):
        return "n/a"
    return f"{r['tls_protocol']} {r.get('tls_cipher', '?')}, {r.get('tls_key', '?')}, ALPN {r.get('alpn', '?')}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def errors_cell(r: dict) -> str:
    return one_line("; ".join(dict.fromkeys(r.get("errors") or [])))[:300].replace("|", "\\|") or "0"


def s1_table(results: dict) -> str:
    rows = ["| server | req/s | server CPU µs/request | user + sys | ÷ h2o's | mean latency | TLS | errors |",
            "|---|---:|---:|---:|---:|---:|---|---|"]
    ref = get(results, "s1", "h2o", "cpu_us")
    for name in WORKLOAD_SERVERS["s1"]:
        r = results.get(("s1", name), {})
        rows.append(f"| {label('s1', name)} | {fmt(r.get('req_per_sec'))} | {fmt(r.get('cpu_us'), '.2f')} | "
                    f"{fmt(r.get('user_us'), '.2f')} + {fmt(r.get('sys_us'), '.2f')} | "
                    f"{'—' if name == 'h2o' else ratio(r.get('cpu_us'), ref)} | "
                    f"{fmt(r.get('latency_mean_us'), ',.0f')} µs | {tls_cell(r)} | {errors_cell(r)} |")
    return "\n".join(rows)


def handshake_table(results: dict) -> str:
    rows = ["| server | handshakes/s | ÷ nginx's | server CPU µs/handshake | user + sys | CPU ÷ nginx's | "
            "one core's capacity | h2load CPU µs/handshake | session tickets sent | handshakes (batches), last run | "
            "errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    ref_rate = get(results, "handshake", "nginx", "req_per_sec")
    ref_cpu = get(results, "handshake", "nginx", "cpu_us")
    for name in WORKLOAD_SERVERS["handshake"]:
        r = results.get(("handshake", name), {})
        capacity = f"{1e6 / r['cpu_us']:,.0f}/s" if valid(r.get("cpu_us")) and r["cpu_us"] else "n/a"
        tickets = ", ".join(str(t) for t in r.get("tickets_all") or []) or "n/a"
        count = f"{r['requests']:,} ({r.get('batches', 0)})" if r.get("requests") else "n/a"
        rows.append(f"| {label('handshake', name)} | {fmt(r.get('req_per_sec'))} | "
                    f"{'—' if name == 'nginx' else ratio(r.get('req_per_sec'), ref_rate)} | "
                    f"{fmt(r.get('cpu_us'), '.1f')} | {fmt(r.get('user_us'), '.1f')} + {fmt(r.get('sys_us'), '.1f')} | "
                    f"{'—' if name == 'nginx' else ratio(r.get('cpu_us'), ref_cpu)} | {capacity} | "
                    f"{fmt(r.get('client_cpu_us'), '.0f')} | {tickets} | {count} | {errors_cell(r)} |")
    return "\n".join(rows)


def grpc_table(results: dict) -> str:
    rows = ["| server | calls/s | server CPU µs/call | user + sys | ÷ grpc-go's | mean latency | TLS | errors | "
            "grpcio check |", "|---|---:|---:|---:|---:|---:|---|---|---|"]
    ref = get(results, "grpc", "grpc-go", "cpu_us")
    for name in WORKLOAD_SERVERS["grpc"]:
        r = results.get(("grpc", name), {})
        check = "OK" if r.get("verified_all") else ("; ".join(r.get("verify_details") or []) or "not run")
        rows.append(f"| {label('grpc', name)} | {fmt(r.get('req_per_sec'))} | {fmt(r.get('cpu_us'), '.2f')} | "
                    f"{fmt(r.get('user_us'), '.2f')} + {fmt(r.get('sys_us'), '.2f')} | "
                    f"{'—' if name == 'grpc-go' else ratio(r.get('cpu_us'), ref)} | "
                    f"{fmt(r.get('latency_mean_us'), ',.0f')} µs | {tls_cell(r)} | {errors_cell(r)} | {check} |")
    return "\n".join(rows)


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


def goals(results: dict, errors: dict[str, str]) -> list[Goal]:
    out: list[Goal] = []
    loop, h2o = get(results, "s1", "Loop", "cpu_us"), get(results, "s1", "h2o", "cpu_us")
    what = f"S1 server CPU per request (h2load -c {CONNECTIONS} -m {STREAMS}, one core) <= {GOAL_S1_CPU_VS_H2O:g}x h2o's: "
    if valid(loop) and valid(h2o):
        out.append(Goal("TLS", loop <= GOAL_S1_CPU_VS_H2O * h2o,
                        what + f"Loop {fmt(loop, '.2f')} µs vs h2o {fmt(h2o, '.2f')} µs (Loop/h2o = {ratio(loop, h2o)}"
                        f"{per_round_text(results, 's1', 'Loop', 'h2o', 'cpu_us')})"))
    else:
        out.append(Goal("TLS", None, what + not_measured(results, "s1", ("Loop", "h2o"), "cpu_us", errors)))

    loop, nginx = get(results, "handshake", "Loop", "req_per_sec"), get(results, "handshake", "nginx", "req_per_sec")
    what = "new-connection handshakes/s (one request per connection, TLS 1.3, one core) >= nginx's: "
    if valid(loop) and valid(nginx):
        lc, nc = get(results, "handshake", "Loop", "cpu_us"), get(results, "handshake", "nginx", "cpu_us")
        client = [get(results, "handshake", n, "client_cpu_us") for n in ("Loop", "nginx")]
        bound = ""
        if all(valid(c) for c in client) and valid(lc) and valid(nc) and min(client) >= max(lc, nc):
            bound = (f"; h2load spent {fmt(min(client), '.0f')}-{fmt(max(client), '.0f')} µs of CPU per handshake, more "
                     "than either server, so its core set both rates: the CPU per handshake compares the servers")
        out.append(Goal("TLS", loop >= GOAL_HANDSHAKES_VS_NGINX * nginx,
                        what + f"Loop {fmt(loop)}/s vs nginx {fmt(nginx)}/s (Loop/nginx = {ratio(loop, nginx)}"
                        f"{per_round_text(results, 'handshake', 'Loop', 'nginx', 'req_per_sec')}); server CPU per "
                        f"handshake Loop {fmt(lc, '.0f')} µs vs nginx {fmt(nc, '.0f')} µs (Loop/nginx = {ratio(lc, nc)}"
                        f"{per_round_text(results, 'handshake', 'Loop', 'nginx', 'cpu_us')}){bound}"))
    else:
        out.append(Goal("TLS", None, what + not_measured(results, "handshake", ("Loop", "nginx"), "req_per_sec", errors)))

    loop, go = get(results, "grpc", "Loop", "cpu_us"), get(results, "grpc", "grpc-go", "cpu_us")
    what = (f"gRPC unary server CPU per call (11 B, h2load -c {CONNECTIONS} -m {STREAMS}, one core) <= "
            f"{GOAL_GRPC_CPU_VS_GO:g}x grpc-go's: ")
    if valid(loop) and valid(go):
        out.append(Goal("TLS", loop <= GOAL_GRPC_CPU_VS_GO * go,
                        what + f"Loop {fmt(loop, '.2f')} µs vs grpc-go {fmt(go, '.2f')} µs (Loop/grpc-go = "
                        f"{ratio(loop, go)}{per_round_text(results, 'grpc', 'Loop', 'grpc-go', 'cpu_us')})"))
    else:
        out.append(Goal("TLS", None, what + not_measured(results, "grpc", ("Loop", "grpc-go"), "cpu_us", errors)))

    loop_errors = [e for w in WORKLOAD_SERVERS for e in (results.get((w, "Loop"), {}).get("errors") or [])]
    if "Loop http" in errors and "Loop grpc" in errors:
        out.append(Goal("TLS", None, f"Loop errors not measured ({one_line(errors['Loop http'])[:300]})"))
    else:
        out.append(Goal("TLS", not loop_errors, "Loop: 0 errors in every run (h2load status, DATA bytes, TLS 1.3 "
                                                "and ALPN h2, grpcio check over TLS)"
                        + ("" if not loop_errors else ": " + one_line("; ".join(dict.fromkeys(loop_errors)))[:600])))
    return out


def section(args, info: dict, results: dict, goal_lines: list[Goal], errors: dict[str, str], versions: dict,
            cert_command: str, duration: float) -> str:
    rounds = args.tls_rounds
    h2o_v, nginx_v = versions.get("h2o", "?"), versions.get("nginx", "?")
    lines = [
        "## TLS: Loop vs h2o, nginx, grpc-go (HTTPS, ALPN h2, TLS 1.3)",
        "",
        f"Generated {info['date']} by `{command(args)}`. Loop sources at `{info.get('loop_commit', 'unknown')}`. "
        f"{info.get('openssl', 'OpenSSL')}; {info.get('h2load', 'h2load')}. Load average before / after the runs: "
        f"{info.get('tls_load_before', 'n/a')} / {info.get('tls_load_after', 'n/a')}.",
        "",
        "Every server uses the same throwaway certificate, made at run time in a temporary directory (an EC P-256 key, "
        f"self-signed, subjectAltName DNS:localhost and IP:127.0.0.1: `{cert_command}`). Every server is one process "
        f"pinned to core {SERVER_CPU} (`taskset`) with one thread or worker, started fresh for each run: Loop "
        "`HTTP2Server --threads 1 --tls-cert CERT --tls-key KEY` and `InteropServer --threads 1 --use_tls=true "
        f"--tls_cert_file CERT --tls_key_file KEY` (OpenSSL); h2o {h2o_v} (`num-threads: 1`, an `ssl:` listener, "
        "`file.dir` serving the 13-byte file `hello`, as in the HTTP/2 part; it signs handshakes in its neverbleed "
        "helper process, whose CPU time is counted with the server's); nginx "
        f"{nginx_v} (`master_process off`, `worker_processes 1`, `listen ... ssl http2`, `ssl_protocols TLSv1.2 "
        "TLSv1.3`, `/hello` answered from memory with `return 200`, no access log); grpc-go 1.33 `interop_server "
        "--use_tls=true --tls_cert_file CERT --tls_key_file KEY` (Go's crypto/tls; GOMAXPROCS 1 from the affinity). "
        f"h2o, nginx and Loop use OpenSSL 3.0 (Debian's libssl3). The client, h2load, is pinned to core {CLIENT_CPU} "
        f"and offers TLS 1.3 with `--tls13-ciphers={TLS13_CIPHER}` only (h2load's first choice, and Loop's own first "
        "choice), so every server negotiates the same suite and X25519; each run checks that h2load reports TLS 1.3 "
        "and ALPN h2.",
        "",
        f"- **TLS S1**: `h2load -c {CONNECTIONS} -m {STREAMS} https://127.0.0.1:PORT/hello` (the HTTP/2 part's S1 over "
        "TLS; the 13-byte body).",
        f"- **handshakes**: batches of `h2load -n {BATCH} -c {BATCH} -m 1 https://127.0.0.1:PORT/hello`: each "
        "request on a connection of its own, so each is one full TLS 1.3 handshake (h2load never resumes a session; "
        f"{BATCH} connections at once stays under every server's listen backlog). handshakes/s = handshakes ÷ the "
        "batches' own h2load time (first connect to last response: h2load's start-up between batches left out). "
        "Server CPU per handshake covers accept, handshake, the request, the session tickets it sends "
        "(counted in each run with `openssl s_client -msg`) and the close; one core's capacity = 1 s ÷ that. h2load "
        "CPU per handshake = the client's utime+stime (getrusage of the h2load processes) ÷ handshakes: a TLS 1.3 "
        "client's share of a handshake (key share, certificate parse, signature check) costs about as much as the "
        "server's, so when it is the larger the client's core set the rate and CPU per handshake is the figure "
        "that compares the servers.",
        f"- **gRPC unary**: `h2load -c {CONNECTIONS} -m {STREAMS}` POSTing the gRPC part's 11-byte SimpleRequest "
        "(`content-type: application/grpc`, `te: trailers`) to `https://127.0.0.1:PORT/grpc.testing.TestService/"
        "UnaryCall`, an 11-byte SimpleResponse back; each run also makes one call with grpcio over TLS, trusting the "
        "throwaway certificate (status OK, exact response bytes).",
        "",
        f"{rounds} round(s); each round runs every workload on its servers, the order rotating between rounds; medians "
        "shown. TLS S1 and gRPC runs: untimed warm-up runs (growing until one lasts 0.4 s), then a timed run sized to "
        f"last about {duration:g} s; handshake runs: one untimed batch, then batches for about {duration:g} s. Server "
        "CPU = utime+stime of every process in the server's session (/proc/*/stat, all threads, 10 ms ticks) across "
        "the timed window ÷ requests (handshakes, calls). Errors count h2load's failed / errored / non-2xx requests, "
        "DATA bytes received (13 per request, 16 per call), the TLS version and ALPN protocol. The machine is shared "
        "and noisy: CPU per request is the stable figure.",
        "",
        "### TLS S1: GET /hello, 8 connections × 100 streams",
        "",
        s1_table(results),
        "",
        "### New connections: one full handshake per request",
        "",
        handshake_table(results),
        "",
        "### gRPC unary 11 B over TLS",
        "",
        grpc_table(results),
        "",
        "### Goals",
        "",
    ]
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
        lines += ["Per round (rate, server CPU µs per request / handshake / call): " + "; ".join(per_round) + ".", ""]
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
    fake = Certificate.__new__(Certificate)
    fake.cert, fake.key = Path("CERT"), Path("KEY")
    lines += ["### Configurations", "", "h2o (ports filled in per run):", "", "```",
              h2o_config(0, fake, Path("TMP/www")).rstrip().replace("port: 0", "port: PORT"), "```", "",
              "nginx:", "", "```", nginx_config(0, fake, Path("TMP")).rstrip().replace("127.0.0.1:0", "127.0.0.1:PORT"),
              "```", ""]
    return "\n".join(lines)


def run_part(args, info: dict) -> PartResult:
    """The TLS part: its report section, goals, console summary, and whether something broke."""
    duration = args.tls_duration
    log("== TLS: building")
    binaries, versions, errors = build(args.skip_build)
    info["loop_commit"] = loop_commit()
    info["h2load"] = subprocess.run(["h2load", "--version"], text=True, capture_output=True).stdout.strip() or "h2load"
    info["openssl"] = subprocess.run(["openssl", "version"], text=True, capture_output=True).stdout.strip() or "OpenSSL"
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as tmp:
        peers = Peers(Path(tmp))
        cert_command = peers.cert.command()
        probe_loop(binaries, peers, errors)
        log(f"== TLS load ({args.tls_rounds} round(s), ~{duration:g} s per run; servers on core {SERVER_CPU} with one "
            f"thread, h2load on core {CLIENT_CPU})")
        info["tls_load_before"] = load_average()
        results = load_runs(binaries, peers, args.tls_rounds, duration, errors)
        info["tls_load_after"] = load_average()
    for workload, names in WORKLOAD_SERVERS.items():
        for name in names:
            error = row_error(errors, workload, name)
            if error is not None:
                results[(workload, name)] = {"errors": [error], "broken": True}
    goal_lines = goals(results, errors)
    text = section(args, info, results, goal_lines, errors, versions, cert_command, duration)
    console = [s1_table(results), "", handshake_table(results), "", grpc_table(results)]
    broken = bool(errors) or any(v.get("broken") for v in results.values())
    return PartResult(text, goal_lines, "\n".join(console), broken)
