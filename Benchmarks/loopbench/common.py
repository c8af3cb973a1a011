"""Paths, errors, logging, commands and builds shared by every part."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
import shutil
import re
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
LOOP_SCRATCH = ROOT / ".build-bench"
# How every Swift server of the benchmarks is built, Loop's and the Swift peers' alike: release,
# with the Swift runtime and standard library linked in (`--static-swift-stdlib`), as servers
# are deployed on Linux (the Go peers are static binaries too). Linked dynamically, each
# retain, release and task-local access goes through the PLT or __tls_get_addr: GatewayDemo's
# REST GET measured 18.0 µs of CPU dynamic, 16.4 µs static (paired runs, h2load --h1 -c 8).
SWIFT_RELEASE_BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib"]
LOADGEN_DIR = BENCH_DIR / ".build-loadgen"


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


def run_retrying(cmd: list[str], cwd: Path, what: str, attempts: int = 3, timeout: float | None = None) -> str:
    """Runs a SwiftPM command (output captured), again when a source file changed under it (others
    edit Sources/ while this runs: "input file ... was modified during the build"); its output."""
    for attempt in range(1, attempts + 1):
        log(f"$ (cd {cwd} && {' '.join(cmd)})")
        try:
            result = subprocess.run(cmd, cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{what} did not finish in {timeout:.0f} s")
        if result.returncode == 0:
            return result.stdout
        if "was modified during the build" in result.stdout and attempt < attempts:
            log(f"  (a source file changed during the build: building again, attempt {attempt + 1}/{attempts})")
            time.sleep(5)
            continue
        log(result.stdout[-4000:])
        raise BenchError(f"{what} failed (exit {result.returncode})")
    raise AssertionError("unreachable")


def swift_build(args: list[str], cwd: Path, what: str, attempts: int = 3) -> None:
    """`swift build`, again when a source file changed under it."""
    run_retrying(args, cwd, what, attempts)


def swift_bin_path(args: list[str], cwd: Path, what: str) -> Path:
    """The bin directory of a `swift build` command line (`what`: whose build, for the error)."""
    return Path(run(args + ["--show-bin-path"], cwd, f"locating {what}", capture=True).strip().splitlines()[-1])


def build_swift(loop_product: str, package_products: list[str], skip: bool) -> dict[str, Path]:
    """Release builds of one of Loop's products, in its own scratch path (.build-bench, so it does
    not wait on the lock of someone building Loop), and of this package's products (Benchmarks/.build),
    unless `skip`; {product: binary}."""
    loop_args = SWIFT_RELEASE_BUILD + ["--product", loop_product, "--scratch-path", str(LOOP_SCRATCH)]
    package_args = {p: SWIFT_RELEASE_BUILD + ["--product", p] for p in package_products}
    if not skip:
        swift_build(loop_args, ROOT, f"building Loop's {loop_product}")
        for product, args in package_args.items():
            swift_build(args, BENCH_DIR, f"building {product}")
    loop_bin = swift_bin_path(loop_args, ROOT, "Loop's build")
    package_bin = swift_bin_path(package_args[package_products[0]], BENCH_DIR, "the Benchmarks build")
    binaries = {loop_product: loop_bin / loop_product, **{p: package_bin / p for p in package_products}}
    for product, path in binaries.items():
        if not path.exists():
            raise BenchError(f"{product} binary missing: {path}")
    return binaries


def build_loop(product: str, skip: bool) -> Path:
    """A release build of one of Loop's products in .build-bench (unless `skip`); its binary."""
    args = SWIFT_RELEASE_BUILD + ["--product", product, "--scratch-path", str(LOOP_SCRATCH)]
    if not skip:
        swift_build(args, ROOT, f"building Loop's {product}")
    path = swift_bin_path(args, ROOT, "Loop's build") / product
    if not path.exists():
        raise BenchError(f"{product} binary missing: {path}")
    return path


WEB_PEERS = (("h2o", "h2o", ["--version"], r"h2o version (\S+)"), ("nginx", "nginx", ["-v"], r"nginx/(\S+)"))


def gather_binaries(part: str, skip: bool, loop_products: tuple[tuple[str, str], ...], go: tuple[str, Path, str],
                    install_hint: str) -> tuple[dict[str, Path], dict[str, str], dict[str, str]]:
    """(binaries, peer versions, errors) for a part run against h2o, nginx and a Go peer: Loop's
    `loop_products` ((key, product) pairs) built, h2o and nginx found with their versions, the Go
    peer `go` = (key, binary, what to run when it is missing). A missing one is an error under
    its key (its rows are left out), logged for `part`."""
    binaries: dict[str, Path] = {}
    errors: dict[str, str] = {}
    versions: dict[str, str] = {}
    for key, product in loop_products:
        try:
            binaries[key] = build_loop(product, skip)
        except BenchError as error:
            errors[key] = str(error)
            log(f"ERROR ({part}): {error}")
    for name, exe, argv, pattern in WEB_PEERS:
        path = tool(exe)
        if path is None:
            errors[name] = f"{exe} is not installed (apt-get install {exe}; {install_hint} installs it)"
            log(f"ERROR ({part}): {errors[name]}")
            continue
        binaries[name] = path
        found = version([str(path)] + argv, pattern)
        if found:
            versions[name] = found
    key, binary, hint = go
    if binary.exists():
        binaries[key] = binary
    else:
        errors[key] = f"{binary.name} missing: {binary} ({hint})"
        log(f"ERROR ({part}): {errors[key]}")
    return binaries, versions, errors


def loop_commit() -> str:
    """The last commit that touched Loop's sources, marked when Sources/ has uncommitted changes."""
    commit = subprocess.run(["git", "log", "-1", "--format=%h %s", "--", "Sources", "Package.swift"], cwd=ROOT,
                            text=True, capture_output=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "Sources", "Package.swift"], cwd=ROOT, text=True,
                           capture_output=True).stdout.strip()
    return (commit[:100] or "unknown") + (" (plus uncommitted changes in Sources/)" if dirty else "")


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


def tool(name: str) -> Path | None:
    """A program on PATH, or in /usr/sbin (where Debian puts nginx and haproxy), or None."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    return Path(path) if path else None


def version(argv: list[str], pattern: str) -> str | None:
    """The first group of `pattern` in what `argv` prints (stdout and stderr), or None."""
    try:
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, proc.stdout + proc.stderr)
    return match.group(1) if match else None
