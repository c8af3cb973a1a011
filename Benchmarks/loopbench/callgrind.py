"""valgrind --tool=callgrind: servers run under it (with the sigsuspend shim), and its profiles
read: totals, calls per function and per call edge, allocation sites, exclusive costs."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .common import BENCH_DIR, LOADGEN_DIR, BenchError, run
from .processes import Server

SHIM_SRC = BENCH_DIR / "loadgen" / "sigsuspend_shim.c"
SHIM_LIB = LOADGEN_DIR / "sigsuspend_shim.so"

CALL_TARGETS = ("malloc", "swift_allocObject", "swift_retain", "swift_release")


# ---------------------------------------------------------------------------------------------
# Running servers under callgrind


def require_valgrind() -> None:
    if not shutil.which("valgrind"):
        raise BenchError("valgrind is not installed")


def build_shim() -> None:
    """Compiles loadgen/sigsuspend_shim.c when its library is missing or older than the source."""
    SHIM_LIB.parent.mkdir(parents=True, exist_ok=True)
    if not SHIM_LIB.exists() or SHIM_LIB.stat().st_mtime < SHIM_SRC.stat().st_mtime:
        run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(SHIM_LIB), str(SHIM_SRC)], BENCH_DIR,
            "compiling sigsuspend_shim.c")


def stripped_copy(binary: Path, workdir: Path, name: str) -> Path:
    """A `strip --strip-debug` copy of a binary in workdir/stripped (made once per workdir)."""
    stripped = workdir / "stripped"
    stripped.mkdir(parents=True, exist_ok=True)
    copy = stripped / binary.name
    if not copy.exists():
        shutil.copy2(binary, copy)
        run(["strip", "--strip-debug", str(copy)], workdir, f"stripping {name}")
    return copy


def valgrind_argv(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]


def swift_server(name: str, binary: Path, out: Path) -> Server:
    """One of the Swift servers (`--threads 1`, port 0) under callgrind, its profile written to `out`."""
    argv = valgrind_argv(out) + [str(binary), "--host", "127.0.0.1", "--port", "0", "--threads", "1"]
    # Swift's async main ends the main thread in sigsuspend() with a read-only mask, which
    # crashes valgrind 3.19: loadgen/sigsuspend_shim.c hands it a writable copy.
    env = dict(os.environ, LD_PRELOAD=str(SHIM_LIB))
    return Server(name, argv, 180, env=env)


def profile(name: str, out: Path, server, drive) -> None:
    """Runs `drive(server)` against a server started under callgrind, stops the server (callgrind
    writes `out` on SIGTERM) and checks that it lived through it and left a profile."""
    try:
        drive(server)
        if not server.alive():
            raise BenchError(f"{name} died under valgrind:\n{server.output()[-2000:]}")
    finally:
        server.stop(wait=120)
    if not out.exists():
        raise BenchError(f"callgrind wrote no profile for {name} ({out})")


# ---------------------------------------------------------------------------------------------
# Reading profiles


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


def callgrind_graph(path: Path) -> dict[tuple[str, str], int]:
    """Calls per (caller, callee) edge of a callgrind profile (mangled names, all threads)."""
    names: dict[str, str] = {}
    edges: dict[tuple[str, str], int] = {}
    current_fn = None
    callee = None
    ref = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")
    with path.open(errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                m = ref.match(line.rstrip("\n"))
                if not m:
                    continue
                if m.group(3):
                    names[m.group(2)] = m.group(3)
                name = names.get(m.group(2), "?")
                if m.group(1) == "fn":
                    current_fn, callee = name, None
                else:
                    callee = name
            elif line.startswith("calls=") and callee is not None:
                key = (current_fn, callee)
                edges[key] = edges.get(key, 0) + int(line[6:].split()[0])
                callee = None
    return edges


def call_totals(edges: dict[tuple[str, str], int], targets: tuple[str, ...] = CALL_TARGETS) -> dict[str, int]:
    """Calls to each of `targets`, from all callers."""
    totals = dict.fromkeys(targets, 0)
    for (_, callee), count in edges.items():
        if callee in totals:
            totals[callee] += count
    return totals


def runtime_frame(name: str) -> bool:
    """Allocation plumbing to look through: the Swift runtime and standard library (also its
    specialisations inside a module, which keep the $ss prefix), glibc's malloc family."""
    return (name.startswith(("$ss", "swift_", "_swift", "swift::", "$sSa", "$sSS", "$sSD", "$sSh", "$sSz")) or
            name in ("malloc", "_int_malloc", "realloc", "calloc") or "malloc.c:" in name)


def allocation_sites(edges: dict[tuple[str, str], int], leaf: str = "malloc", depth: int = 6) -> dict[str, float]:
    """Calls of `leaf`, attributed to the first caller outside the runtime and standard library
    (calls through a shared helper are split in proportion to that helper's callers); the key
    is "site → helper → ... → leaf"."""
    into: dict[str, dict[str, int]] = {}
    for (caller, callee), count in edges.items():
        into.setdefault(callee, {})[caller] = into.setdefault(callee, {}).get(caller, 0) + count
    sites: dict[str, float] = {}

    def walk(fn: str, count: float, chain: list[str], level: int):
        callers = into.get(fn, {})
        total = sum(callers.values())
        if level > 0 and (not runtime_frame(fn) or level >= depth or not total):
            helpers = [h for h in reversed(chain) if h not in ("malloc", "swift_slowAlloc")][:2]
            key = " → ".join([fn] + helpers)
            sites[key] = sites.get(key, 0.0) + count
            return
        if not total:
            sites[fn] = sites.get(fn, 0.0) + count
            return
        for caller, k in callers.items():
            if caller == fn:
                continue
            walk(caller, count * k / total, chain + [fn], level + 1)

    total_leaf = sum(into.get(leaf, {}).values())
    walk(leaf, float(total_leaf), [], 0)
    return sites


def exclusive_costs(path: Path) -> dict[str, int]:
    """Exclusive Ir per function (callgrind_annotate, every function)."""
    result = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", str(path)],
                            text=True, capture_output=True)
    costs: dict[str, int] = {}
    started = False
    for line in result.stdout.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started:
            continue
        m = re.match(r"^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?(.*)$", line)
        if m:
            name = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2).strip())
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def annotate(path: Path, top: int = 25) -> str:
    """The hottest functions (exclusive Ir) of a callgrind profile, as callgrind_annotate prints them."""
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


def demangle(names: list[str]) -> list[str]:
    if not names or not shutil.which("swift"):
        return names
    result = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names), text=True,
                            capture_output=True)
    out = result.stdout.splitlines()
    return out if result.returncode == 0 and len(out) == len(names) else names


def short(name: str, width: int = 150) -> str:
    name = re.sub(r"^\?\?\?:", "", name)
    return name if len(name) <= width else name[:width - 3] + "..."


def per_request_top(low: dict[str, int], high: dict[str, int], n: int, top: int) -> list[tuple[str, float]]:
    """The `top` largest (high − low) / n differences, names demangled (each part of a "a → b" chain)."""
    diffs = {k: (high.get(k, 0) - low.get(k, 0)) / n for k in set(low) | set(high)}
    best = sorted(((v, k) for k, v in diffs.items() if v > 0.005), reverse=True)[:top]
    parts = [k.split(" → ") for _, k in best]
    flat = demangle([p for chain in parts for p in chain])
    names, i = [], 0
    for chain in parts:
        names.append(" → ".join(flat[i:i + len(chain)]))
        i += len(chain)
    return [(short(name, 200), v) for name, (v, _) in zip(names, best)]
