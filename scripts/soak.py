#!/usr/bin/env python3
"""Soak (issue #9): minutes of mixed good load plus a rotating attack mix against the release
HTTP2Server and InteropServer, sampling each server's RSS every second.

    python3 scripts/soak.py [--minutes 30] [--warmup-minutes 2] [--bound-mib 10] [--out .build/soak]
                            [--bin-dir .build/release]

`make soak` builds the two release products and runs this (SOAK_MINUTES, SOAK_ARGS). See
docs/soak.md for what runs, the outputs and how to read the verdict.

Servers (each --threads 2, 127.0.0.1, port 0: the kernel picks, read from the "listening on" line):
  HTTP2Server                    h2load load + the HTTP/2 attacks
  InteropServer                  grpc-go interop_client load + the grpc_* attacks
  HTTP2Server --max-streams 10   refused_streams_noread only (the attack expects that limit)

Good load (concurrent, rate-bounded, every request counted):
  h2load GET /hello                 -c 8 -m 10, runs of --h2load-seconds, back to back
  h2load rotation                   GET /echo-size/65536, GET /delay/50, POST /echo (16 KiB body)
  interop_client (2 loops)          large_unary, client_streaming, server_streaming, ping_pong,
                                    empty_stream, cancel_after_begin, cancel_after_first_response,
                                    timeout_on_sleeping_server
Attacks: every --attack-interval seconds the next attack of h2_attacker.py --list (rotating), its
outcome (GOAWAY code) recorded against what the attack tests expect.

Outputs in --out: rss.csv, rss.png, attacks.jsonl (each attack's JSON line and start time),
report.md (also printed). Exit 1 when a good request or call
failed, a server died, or a server's RSS grew more than --bound-mib between the first window after
warm-up and the last window; exit 2 when a peer or binary is missing.
"""

import argparse
import collections
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTACKER = os.path.join(ROOT, "Tests/LoopHTTP2Tests/Interop/Scripts/h2_attacker.py")
PEERS_DIR = os.environ.get("LOOP_PEERS_DIR", os.path.expanduser("~/.cache/loop-peers"))
INTEROP_CLIENT = os.path.join(PEERS_DIR, "bin", "interop_client")

GRPC_CASES = ["large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
              "cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server"]

# What the attack tests expect (AttackTests.swift, GRPCAttackTests.swift): the GOAWAY code, or
# None for attacks the server must ride out without closing (flow-control stalls, gzip bombs;
# grpc_zero_window's PINGs every 100 ms meet gRPC's PING policy: "too_many_pings").
EXPECTED = {
    "ping_flood": "ENHANCE_YOUR_CALM", "settings_flood": "ENHANCE_YOUR_CALM",
    "rapid_reset": "ENHANCE_YOUR_CALM", "made_you_reset": "ENHANCE_YOUR_CALM",
    "refused_streams_noread": "ENHANCE_YOUR_CALM", "cheap_frames": "ENHANCE_YOUR_CALM",
    "settings_window_churn": "ENHANCE_YOUR_CALM", "continuation_flood": "ENHANCE_YOUR_CALM",
    "hpack_bomb": "ENHANCE_YOUR_CALM", "requests_and_pings_noread": "ENHANCE_YOUR_CALM",
    "zero_window": None, "slowloris_headers": "ENHANCE_YOUR_CALM",
    "grpc_rapid_reset": "ENHANCE_YOUR_CALM", "grpc_made_you_reset": "ENHANCE_YOUR_CALM",
    "grpc_zero_window": "ENHANCE_YOUR_CALM", "grpc_length_prefix_bomb": "ENHANCE_YOUR_CALM", "grpc_gzip_bomb": None,
}
# grpc-go 1.33's cancel_after_begin races itself: cancel() is acted on by a goroutine while
# CloseAndRecv sends END_STREAM, so a fast server may answer OK first (the client then reads OK
# instead of CANCELLED). grpc-go's own interop_server fails it as often (5 of 600 runs beside 1 of
# 600 for InteropServer, same machine, same load), so it is counted apart, not as a failure.
CANCEL_RACE = "CloseAndRecv() got error code 0, want 1"

# How long each attack runs (the tests' durations): slowloris needs the 10 s header timeout.
ATTACK_SECONDS = {"slowloris_headers": 12}
DEFAULT_ATTACK_SECONDS = 2


def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Server:
    def __init__(self, name, argv):
        self.name = name
        self.argv = argv
        self.process = None
        self.port = None
        self.output = []
        self.died = None  # (elapsed seconds, return code)

    def start(self):
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line.rstrip())
            match = re.search(r"listening on [0-9.]+:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{self.name} did not report its port: {self.output}")
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        log(f"{self.name} (pid {self.process.pid}) on 127.0.0.1:{self.port}")

    def _drain(self):
        for line in self.process.stdout:
            if len(self.output) < 1000:
                self.output.append(line.rstrip())

    def rss_kib(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Tally:
    """Good-client counts per load kind: made, failed, and the first few failure notes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.made = collections.Counter()
        self.failed = collections.Counter()
        self.excused = collections.Counter()
        self.notes = collections.defaultdict(list)
        self.unit = {}

    def add(self, kind, unit, made, failed, note=None, excused=0):
        with self.lock:
            self.unit[kind] = unit
            self.made[kind] += made
            self.failed[kind] += failed
            self.excused[kind] += excused
            if note and len(self.notes[kind]) < 5:
                self.notes[kind].append(note)


class Soak:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.tally = Tally()
        self.attacks = []  # (elapsed, name, target, result dict)
        self.attacks_lock = threading.Lock()
        self.children = set()
        self.children_lock = threading.Lock()
        self.started = None
        bin_dir = args.bin_dir
        self.http2 = Server("HTTP2Server", [os.path.join(bin_dir, "HTTP2Server"), "--host", "127.0.0.1",
                                            "--port", "0", "--threads", "2"])
        self.interop = Server("InteropServer", [os.path.join(bin_dir, "InteropServer"), "--host", "127.0.0.1",
                                                "--port", "0", "--threads", "2"])
        self.limited = Server("HTTP2Server-max-streams-10",
                              [os.path.join(bin_dir, "HTTP2Server"), "--host", "127.0.0.1", "--port", "0",
                               "--threads", "2", "--max-streams", "10"])
        self.servers = [self.http2, self.interop, self.limited]
        self.body = os.path.join(args.out, "echo-body.bin")

    def elapsed(self):
        return time.monotonic() - self.started

    def run_child(self, argv, timeout):
        """Runs a client to completion (killed at `timeout`); returns (rc, stdout+stderr)."""
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        with self.children_lock:
            self.children.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
            return process.returncode, output
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return None, output
        finally:
            with self.children_lock:
                self.children.discard(process)

    # MARK: good load

    def h2load(self, kind, options, path, seconds):
        argv = ["h2load", *options, "-D", str(seconds)]
        if self.args.h2load_rps > 0:
            argv += ["--rps", str(self.args.h2load_rps)]
        argv.append(f"http://127.0.0.1:{self.http2.port}{path}")
        rc, output = self.run_child(argv, timeout=seconds + 60)
        if rc != 0 and self.stop.is_set():
            return  # cut short by the end of the soak: not a failure, not counted
        requests = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                             r"(\d+) failed, (\d+) errored, (\d+) timeout", output)
        codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
        if rc != 0 or not requests or not codes:
            # A run that could not even report counts as one failed request (connect refused, crash).
            tail = " | ".join(output.strip().splitlines()[-3:])
            self.tally.add(kind, "requests", 1, 1, f"t={self.elapsed():.0f}s h2load rc={rc}: {tail}")
            return
        total, succeeded, failed, errored, timeouts = (int(requests.group(i)) for i in (1, 4, 5, 6, 7))
        ok = int(codes.group(1))
        bad = max(total - ok, total - succeeded, failed + timeouts)
        note = None
        if bad:
            note = (f"t={self.elapsed():.0f}s {total} total, {succeeded} succeeded, {failed} failed, "
                    f"{errored} errored, {timeouts} timeout, {ok} 2xx")
        self.tally.add(kind, "requests", total, bad, note)

    def hello_loop(self):
        while not self.stop.is_set():
            self.h2load("h2load GET /hello", ["-c", "8", "-m", "10"], "/hello", self.args.h2load_seconds)

    def rotation_loop(self):
        runs = [
            ("h2load GET /echo-size/65536", ["-c", "4", "-m", "4"], "/echo-size/65536"),
            ("h2load GET /delay/50", ["-c", "4", "-m", "10"], "/delay/50"),
            ("h2load POST /echo (16 KiB)", ["-c", "4", "-m", "4", "-d", self.body], "/echo"),
        ]
        index = 0
        while not self.stop.is_set():
            kind, options, path = runs[index % len(runs)]
            self.h2load(kind, options, path, self.args.h2load_seconds)
            index += 1

    def grpc_loop(self, offset):
        index = offset
        while not self.stop.is_set():
            case = GRPC_CASES[index % len(GRPC_CASES)]
            index += 1
            rc, output = self.run_child([INTEROP_CLIENT, "--server_host=127.0.0.1",
                                         f"--server_port={self.interop.port}", f"--test_case={case}"], timeout=60)
            if rc != 0 and self.stop.is_set():
                return
            note = None
            if rc != 0:
                tail = " | ".join(output.strip().splitlines()[-3:])
                note = f"t={self.elapsed():.0f}s rc={rc}: {tail}"
            if rc != 0 and case == "cancel_after_begin" and CANCEL_RACE in output:
                self.tally.add(f"gRPC {case}", "calls (test-case runs)", 1, 0, note, excused=1)
            else:
                self.tally.add(f"gRPC {case}", "calls (test-case runs)", 1, 0 if rc == 0 else 1, note)
            self.stop.wait(self.args.grpc_pause)

    # MARK: attacks

    def attack_loop(self, names):
        index = 0
        while not self.stop.is_set():
            began = time.monotonic()
            name = names[index % len(names)]
            index += 1
            if name.startswith("grpc_"):
                target = self.interop
            elif name == "refused_streams_noread":
                target = self.limited
            else:
                target = self.http2
            seconds = ATTACK_SECONDS.get(name, DEFAULT_ATTACK_SECONDS)
            at = self.elapsed()
            rc, output = self.run_child([sys.executable, ATTACKER, str(target.port), name, str(seconds)],
                                        timeout=seconds + 30)
            if rc != 0 and self.stop.is_set():
                return
            try:
                result = json.loads(output.strip().splitlines()[-1])
            except (ValueError, IndexError):
                result = {"error": f"rc={rc}, no JSON: {output.strip()[-200:]}"}
            with self.attacks_lock:
                self.attacks.append((at, name, target.name, result))
                with open(os.path.join(self.args.out, "attacks.jsonl"), "a") as record:
                    record.write(json.dumps({"elapsed_s": round(at, 1), "target": target.name, **result}) + "\n")
            self.stop.wait(max(0.0, self.args.attack_interval - (time.monotonic() - began)))

    # MARK: run

    def run(self):
        os.makedirs(self.args.out, exist_ok=True)
        with open(self.body, "wb") as body:
            body.write(os.urandom(16_384))
        names = subprocess.run([sys.executable, ATTACKER, "--list"], capture_output=True, text=True,
                               check=True).stdout.split()
        if os.path.exists(os.path.join(self.args.out, "attacks.jsonl")):
            os.remove(os.path.join(self.args.out, "attacks.jsonl"))
        names = [name for name in names if name not in self.args.skip_attack]
        for server in self.servers:
            server.start()
        self.started = time.monotonic()
        duration = self.args.minutes * 60
        samples = []  # (elapsed, unix time, [kib per server])
        threads = [threading.Thread(target=self.hello_loop, daemon=True),
                   threading.Thread(target=self.rotation_loop, daemon=True),
                   threading.Thread(target=self.grpc_loop, args=(0,), daemon=True),
                   threading.Thread(target=self.grpc_loop, args=(len(GRPC_CASES) // 2,), daemon=True),
                   threading.Thread(target=self.attack_loop, args=(names,), daemon=True)]
        for thread in threads:
            thread.start()
        log(f"running {self.args.minutes} min ({len(names)} attacks rotating every {self.args.attack_interval} s)")
        next_sample = self.started
        last_progress = self.started
        try:
            while True:
                now = time.monotonic()
                elapsed = now - self.started
                samples.append((round(elapsed, 1), round(time.time(), 1), [s.rss_kib() for s in self.servers]))
                for server in self.servers:
                    if server.died is None and not server.alive():
                        server.died = (elapsed, server.process.returncode)
                        log(f"{server.name} DIED at {elapsed:.0f}s (rc {server.process.returncode})")
                if any(server.died for server in self.servers):
                    break
                if elapsed >= duration:
                    break
                if now - last_progress >= 60:
                    last_progress = now
                    self.progress(elapsed, samples[-1][2])
                next_sample += 1.0
                time.sleep(max(0.0, next_sample - time.monotonic()))
        except KeyboardInterrupt:
            log("interrupted: writing what there is")
        finally:
            self.stop.set()
            with self.children_lock:
                for child in list(self.children):
                    try:
                        os.killpg(child.pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            for thread in threads:
                thread.join(timeout=20)
            for server in self.servers:
                server.stop()
        return samples

    def progress(self, elapsed, kib):
        with self.tally.lock:
            made = sum(self.tally.made.values())
            failed = sum(self.tally.failed.values())
        rss = ", ".join(f"{s.name} {k / 1024:.1f} MiB" for s, k in zip(self.servers, kib) if k is not None)
        log(f"{elapsed / 60:.0f} min: {made} good requests/calls, {failed} failed, "
            f"{len(self.attacks)} attacks; RSS {rss}")


# MARK: outputs

def window_mib(samples, index, start, end):
    """(median, 10th percentile) RSS in MiB of the samples in [start, end)."""
    values = sorted(kib[index] for t, _, kib in samples if start <= t < end and kib[index] is not None)
    if not values:
        return None, None
    return statistics.median(values) / 1024, values[len(values) // 10] / 1024


def write_csv(path, servers, samples):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["elapsed_s", "unix_time"] + [f"{s.name}_rss_kib" for s in servers])
        for elapsed, unix, kib in samples:
            writer.writerow([elapsed, unix] + ["" if k is None else k for k in kib])


def write_png(path, servers, samples, warmup_s, windows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(10, 5))
    for index, server in enumerate(servers):
        points = [(t / 60, kib[index] / 1024) for t, _, kib in samples if kib[index] is not None]
        if points:
            axes.plot([p[0] for p in points], [p[1] for p in points], label=server.name, linewidth=1)
    axes.axvspan(0, warmup_s / 60, color="grey", alpha=0.2, label="warm-up")
    (b0, b1), (f0, f1) = windows
    axes.axvspan(b0 / 60, b1 / 60, color="tab:green", alpha=0.1, label="baseline window")
    axes.axvspan(f0 / 60, f1 / 60, color="tab:red", alpha=0.1, label="final window")
    axes.set_xlabel("minutes")
    axes.set_ylabel("RSS (MiB)")
    axes.set_title("Loop soak: server RSS (VmRSS, sampled every second)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)),
                        help="how long to run (default: $SOAK_MINUTES or 30)")
    parser.add_argument("--warmup-minutes", type=float, default=2,
                        help="RSS before this is warm-up, not judged (default 2)")
    parser.add_argument("--window-minutes", type=float, default=2,
                        help="length of the baseline window (right after warm-up) and of the final window whose "
                             "median RSS are compared; shortened to fit short runs (default 2)")
    parser.add_argument("--bound-mib", type=float, default=10,
                        help="the most a server's median RSS may grow from baseline to final window (default 10)")
    parser.add_argument("--out", default=os.path.join(ROOT, ".build/soak"), help="output directory")
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build/release"),
                        help="where HTTP2Server and InteropServer are (default .build/release)")
    parser.add_argument("--h2load-seconds", type=int, default=20, help="length of each h2load run (default 20)")
    parser.add_argument("--h2load-rps", type=int, default=100,
                        help="h2load --rps per client, bounding the load (0: unbounded; default 100)")
    parser.add_argument("--grpc-pause", type=float, default=0.2,
                        help="pause between interop_client runs in each of the two loops (default 0.2 s)")
    parser.add_argument("--attack-interval", type=float, default=5,
                        help="seconds from one attack's start to the next (default 5)")
    parser.add_argument("--skip-attack", action="append", default=[], metavar="ATTACK",
                        help="leave this attack out of the rotation (repeatable)")
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)

    missing = []
    for binary in ("HTTP2Server", "InteropServer"):
        if not os.access(os.path.join(args.bin_dir, binary), os.X_OK):
            missing.append(f"{os.path.join(args.bin_dir, binary)} (swift build -c release --product {binary})")
    if not shutil.which("h2load"):
        missing.append("h2load (Debian nghttp2-client: make test-deps)")
    if not os.access(INTEROP_CLIENT, os.X_OK):
        missing.append(f"{INTEROP_CLIENT} (grpc-go interop client: make peers)")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        missing.append("matplotlib (scripts/install-python-deps.sh matplotlib)")
    if missing:
        print("soak: missing:\n  " + "\n  ".join(missing) + "\nInstall the peers with `make test-deps peers` "
              "(or run `make soak`, which installs and builds everything).", file=sys.stderr)
        return 2
    if args.minutes <= args.warmup_minutes:
        parser.error("--minutes must be longer than --warmup-minutes")

    soak = Soak(args)
    samples = soak.run()
    servers = soak.servers
    end = samples[-1][0] if samples else 0
    warmup_s = args.warmup_minutes * 60
    window_s = min(args.window_minutes * 60, max(1.0, (end - warmup_s) / 2))
    windows = ((warmup_s, warmup_s + window_s), (end - window_s, end + 1))

    write_csv(os.path.join(args.out, "rss.csv"), servers, samples)
    write_png(os.path.join(args.out, "rss.png"), servers, samples, warmup_s, windows)

    failures = []
    lines = ["# Loop soak report", ""]
    lines.append(f"- Run: {end / 60:.1f} of {args.minutes:g} minutes, ended {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; "
                 f"binaries: `{args.bin_dir}`; warm-up {args.warmup_minutes:g} min; RSS bound {args.bound_mib:g} MiB.")
    lines.append(f"- Load: h2load `--rps {args.h2load_rps}` per client in {args.h2load_seconds} s runs; two "
                 f"interop_client loops; one attack every {args.attack_interval:g} s.")
    lines.append("")

    lines += ["## Servers and RSS", "",
              f"Baseline: median RSS over minutes {windows[0][0] / 60:.2f}–{windows[0][1] / 60:.2f}; "
              f"final: median over minutes {windows[1][0] / 60:.2f}–{end / 60:.2f}. "
              f"\"Flat after warm-up\" means final − baseline ≤ {args.bound_mib:g} MiB.", "",
              "The p10 columns (10th percentile of each window) show the floor between transient "
              "spikes (an attack holding memory for a while); the verdict uses the medians.", "",
              "| server | port | start MiB | baseline MiB | final MiB | growth MiB | p10 growth MiB | peak MiB "
              "| alive | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for index, server in enumerate(servers):
        values = [kib[index] / 1024 for _, _, kib in samples if kib[index] is not None]
        start = values[0] if values else None
        peak = max(values) if values else None
        peak_at = next((t for t, _, kib in samples if kib[index] is not None and kib[index] / 1024 == peak), None)
        baseline, baseline_floor = window_mib(samples, index, *windows[0])
        final, final_floor = window_mib(samples, index, *windows[1])
        growth = final - baseline if baseline is not None and final is not None else None
        floor_growth = final_floor - baseline_floor if growth is not None else None
        alive = "died at %.0f s (rc %s)" % server.died if server.died else "yes"
        if server.died:
            verdict = "FAIL (died)"
            failures.append(f"{server.name} died at {server.died[0]:.0f} s (rc {server.died[1]})")
        elif growth is None:
            verdict = "FAIL (no samples)"
            failures.append(f"{server.name}: no RSS samples in a window")
        elif growth > args.bound_mib:
            verdict = f"FAIL (grew {growth:.1f} MiB > {args.bound_mib:g})"
            failures.append(f"{server.name} RSS grew {growth:.1f} MiB after warm-up (bound {args.bound_mib:g} MiB)")
        else:
            verdict = "flat after warm-up"
        fmt = lambda v: "–" if v is None else f"{v:.1f}"  # noqa: E731
        lines.append(f"| {server.name} | {server.port} | {fmt(start)} | {fmt(baseline)} | {fmt(final)} | "
                     f"{'–' if growth is None else f'{growth:+.1f}'} | "
                     f"{'–' if floor_growth is None else f'{floor_growth:+.1f}'} | {fmt(peak)}{'' if peak_at is None else f' @ {peak_at / 60:.1f} min'} | {alive} | {verdict} |")
    lines.append("")

    tally = soak.tally
    lines += ["## Good clients", "",
              "Excused: cancel_after_begin runs lost to grpc-go's own cancellation race (the call ended OK, "
              "not CANCELLED: the client sent END_STREAM before its RST_STREAM; see CANCEL_RACE in soak.py).", "",
              "| load | unit | made | failed | excused |", "|---|---|---|---|---|"]
    for kind in sorted(tally.made, key=lambda k: (k.startswith("gRPC"), k)):
        lines.append(f"| {kind} | {tally.unit[kind]} | {tally.made[kind]} | {tally.failed[kind]} | "
                     f"{tally.excused[kind]} |")
        if tally.failed[kind]:
            failures.append(f"{kind}: {tally.failed[kind]} of {tally.made[kind]} failed")
    lines.append(f"| **total** | | {sum(tally.made.values())} | {sum(tally.failed.values())} | "
                 f"{sum(tally.excused.values())} |")
    notes = [(kind, note) for kind in tally.notes for note in tally.notes[kind]]
    if notes:
        lines += ["", "First failures and excused runs (up to 5 per load kind):", ""]
        lines += [f"- {kind}: `{note}`" for kind, note in notes]
    lines.append("")

    lines += ["## Attacks", "",
              "Outcome: the GOAWAY code the attacker got (`none`: the connection stayed open to the end, "
              "as expected for flow-control stalls and gzip bombs; `closed, no GOAWAY`; `error: ...`).", "",
              "| attack | server | runs | outcomes | expected | as expected |", "|---|---|---|---|---|---|"]
    by_attack = collections.OrderedDict()
    for _, name, target, result in soak.attacks:
        by_attack.setdefault((name, target), []).append(result)
    unexpected = 0
    for (name, target), results in by_attack.items():
        outcomes = collections.Counter()
        matching = 0
        for result in results:
            if result.get("error"):
                outcome = "error: " + result["error"][:60]
            elif result.get("goaway_code"):
                outcome = result["goaway_code"]
            elif result.get("closed"):
                outcome = "closed, no GOAWAY"
            else:
                outcome = "none"
            outcomes[outcome] += 1
            expected = EXPECTED.get(name, "?")
            if (expected is None and outcome == "none") or outcome == expected:
                matching += 1
        unexpected += len(results) - matching
        summary = ", ".join(f"{o} ×{n}" for o, n in outcomes.most_common())
        lines.append(f"| {name} | {target} | {len(results)} | {summary} | {EXPECTED.get(name) or 'none'} | "
                     f"{matching}/{len(results)} |")
    lines += ["", f"{len(soak.attacks)} attacks, {unexpected} with an unexpected outcome "
              "(reported, not part of the verdict: the attack tests judge those).", ""]

    lines += ["## Verdict", ""]
    if failures:
        lines.append("**FAIL**")
        lines.append("")
        lines += [f"- {failure}" for failure in failures]
    else:
        lines.append(f"**PASS**: every server alive, RSS flat after warm-up (within {args.bound_mib:g} MiB), "
                     f"{sum(tally.made.values())} good requests/calls and none failed.")
    lines += ["", "Files: `rss.csv` (RSS per server every second), `rss.png` (RSS over time, warm-up shaded)."]
    for server in servers:
        if server.died:
            lines += ["", f"Last output of {server.name}:", "", "```"] + server.output[-20:] + ["```"]
    report = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "report.md"), "w") as handle:
        handle.write(report)
    print(report)
    log(f"wrote {args.out}/report.md, rss.csv, rss.png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
