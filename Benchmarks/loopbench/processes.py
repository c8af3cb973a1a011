"""Servers started and stopped with timeouts, CPU pinning, and what /proc says of a process."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .common import BenchError

# The load runs give the server core 0 and the load client core 1: with both sharing two cores
# the client's own kernel time set the pace; pinned, msgs/s is the server's capacity on one core.
SERVER_CPU = "0"
CLIENT_CPU = "1"


def pinned(cpu: str, argv: list[str]) -> list[str]:
    """argv run on one CPU with taskset (util-linux), when the machine has at least two."""
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", cpu] + argv


class ServerProcess:
    """A server process in a session of its own, its output in a temporary log file; ready
    when `ready()` (a subclass's) says so within the start-up timeout."""

    stop_wait = 10.0
    kill_group = False  # stop the whole process group (a server with helper processes)

    def __init__(self, name: str, argv: list[str], startup_timeout: float, *, env: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=env, cwd=cwd)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        out = self.output()
        self.stop()
        raise BenchError(self.not_started(out))

    def ready(self) -> bool:
        raise NotImplementedError

    def not_started(self, out: str) -> str:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        try:
            if self.kill_group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def stop(self, wait: float | None = None) -> int | None:
        """SIGTERM (callgrind writes its profile on it), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_wait if wait is None else wait)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        elif self.kill_group:  # the leader is gone; its helpers may not be
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass
        return self.proc.returncode


class Server(ServerProcess):
    """A server of ours started on port 0; `port` is read from its "listening on" line."""

    stop_wait = 60.0

    def __init__(self, name: str, argv: list[str], startup_timeout: float, env: dict[str, str] | None = None):
        self.port = 0
        super().__init__(name, argv, startup_timeout, env=env)

    def ready(self) -> bool:
        match = re.search(r"listening on (.*)", self.output())
        if match:
            port = re.search(r":(\d+)\b", match.group(1))
            if port:
                self.port = int(port.group(1))
                return True
        return False

    def not_started(self, out: str) -> str:
        return f"{self.name} server did not start listening (exit {self.proc.returncode}):\n{out[-2000:]}"


class PeerServer(ServerProcess):
    """A server on a port chosen here, ready when the port accepts; stopped with its whole
    process group (h2o starts a helper process)."""

    kill_group = True

    def __init__(self, name: str, argv: list[str], port: int, startup_timeout: float = 30, cwd: Path | None = None):
        self.port = port
        super().__init__(name, argv, startup_timeout, cwd=cwd)

    def ready(self) -> bool:
        return port_open(self.port)

    def not_started(self, out: str) -> str:
        return f"{self.name} did not start listening on port {self.port} (exit {self.proc.returncode}):\n{out[-2000:]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def cpu_times(pid: int) -> tuple[float, float]:
    """(utime, stime) of a process in seconds, all its threads (/proc/PID/stat fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def session_cpu_times(sid: int) -> tuple[float, float]:
    """(utime, stime) summed over the live processes of a session (/proc/*/stat field 6), all their
    threads: a server of ours or a peer started in a session of its own (ServerProcess), with the
    helpers it forked (h2o signs TLS handshakes in a neverbleed helper process)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid:
            user += int(fields[11])
            system += int(fields[12])
    return user / tick, system / tick


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set size in KiB (/proc/PID/status VmRSS; field="VmHWM": its peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {field} for pid {pid}")


def max_rss_kib(pid: int) -> int:
    """The peak resident set size of a live process so far, in KiB (VmHWM)."""
    return rss_kib(pid, "VmHWM")
