"""h2load: running it with a deadline, parsing its summary, checking it for errors."""
from __future__ import annotations

import re
import subprocess
import tempfile
import time

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_h2load(out: str) -> dict:
    result: dict = {}
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", out)
    if m:
        result["seconds"] = float(m.group(1)) * UNITS[m.group(2)]
        result["req_per_sec"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    if m:
        total, _, done, ok, failed, errored, timeout = (int(g) for g in m.groups())
        result.update(total=total, done=done, succeeded=ok, failed=failed, errored=errored, timeout=timeout)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if m:
        result["non_2xx"] = sum(int(g) for g in m.groups()[1:])
    m = re.search(r"time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)", out)
    if m:
        result["latency_mean_us"] = float(m.group(5)) * UNITS[m.group(6)] * 1e6
        result["latency_min_us"] = float(m.group(1)) * UNITS[m.group(2)] * 1e6
        result["latency_max_us"] = float(m.group(3)) * UNITS[m.group(4)] * 1e6
    m = re.search(r"traffic:.*?\((\d+)\) total,.*?\((\d+)\) headers.*?\((\d+)\) data", out)
    if m:
        result["data_bytes"] = int(m.group(3))
    return result


def run_h2load(argv: list[str], n: int, timeout: float, on_tick=None) -> tuple[dict, str]:
    """Runs h2load (`argv`, asking for `n` requests), killed after `timeout` seconds; `on_tick` is
    called every 50 ms while it runs (RSS sampling). The parsed result with "errors": anything
    but n requests that all succeeded with a 2xx status."""
    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        timed_out = False
        if on_tick is None:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.kill()
                proc.wait()
        else:
            deadline = time.monotonic() + timeout
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    timed_out = True
                    proc.kill()
                    proc.wait()
                    break
                on_tick()
                time.sleep(0.05)
        out.seek(0)
        text = out.read()
    result = parse_h2load(text)
    result["exit"] = proc.returncode
    result["timed_out"] = timed_out
    errors = []
    if timed_out:
        errors.append(f"h2load did not finish in {timeout:.0f} s")
    if "succeeded" not in result:
        errors.append(f"h2load printed no result (exit {proc.returncode})")
    else:
        bad = result["failed"] + result["errored"] + result["timeout"] + result.get("non_2xx", 0)
        if bad or result["succeeded"] != n:
            errors.append(f"{result['succeeded']}/{n} succeeded, {result['failed']} failed, {result['errored']} "
                          f"errored, {result['timeout']} timeout, {result.get('non_2xx', 0)} non-2xx")
    result["errors"] = errors
    result["argv"] = " ".join(argv)
    return result, text


def h2load_tail(text: str) -> str:
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith(("progress:", "starting", "spawning",
                                                                            "Warm-up", "Main benchmark"))]
    return "\n".join(lines[-12:])
