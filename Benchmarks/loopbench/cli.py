"""Loop benchmarks: echo (Loop vs SwiftNIO), HTTP/2 (Loop vs swift-nio-http2, nghttpd, h2o),
gRPC (Loop vs grpc-swift-2, grpc-go, grpcio), gRPC through a proxy (Loop's GRPCProxy vs HAProxy,
nginx), TLS (Loop vs h2o, nginx, grpc-go over HTTPS) and one port (Loop's REST gateway vs cmux +
grpc-gateway + grpc-go, HTTP/1.1 vs h2o and nginx, the one-port detector's cost).

Run from anywhere (the top-level `make bench` runs `python3 Benchmarks/bench.py`):

    python3 Benchmarks/bench.py                # every part (echo, HTTP/2, gRPC, proxy, TLS, one port)
    python3 Benchmarks/bench.py --quick        # smoke test: short runs, one round
    python3 Benchmarks/bench.py --only echo    # one part; the report keeps the other parts'
    python3 Benchmarks/bench.py --only http2   # sections from the previous run
    python3 Benchmarks/bench.py --only grpc    # (also: python3 Benchmarks/grpc_bench.py)
    python3 Benchmarks/bench.py --only proxy [--proxies haproxy,nginx]
    python3 Benchmarks/bench.py --only tls
    python3 Benchmarks/bench.py --only oneport

Each part builds what it runs, measures, and returns its section of results/report.md, its chart
(results/echo.png, http2.png, grpc.png, oneport.png; the proxy and TLS parts have none) and its goal lines (PASS,
FAIL, or SKIP when not measured); see loopbench/echo.py, http2.py, grpc.py, proxy.py, tls.py and oneport.py. At the
end every goal line of every part is printed
again as one summary.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import echo, grpc, http2, oneport, proxy, tls
from .common import RESULTS, BenchError, log, machine
from .goals import EXIT_BROKEN, EXIT_GOAL_FAILED, EXIT_INTERRUPTED, EXIT_OK, exit_code, summary
from .report import compose_report

EPILOG = f"""exit status:
  {EXIT_OK}    everything ran and no goal FAILed (SKIP: not measured, e.g. with --skip-callgrind)
  {EXIT_BROKEN}    something broke: a build, a server crash or stall, a load-client error, whatever
       the goals say (the parts that ran still write their sections of the report)
  2    bad arguments
  {EXIT_GOAL_FAILED}    everything ran, and at least one goal FAILed
  {EXIT_INTERRUPTED}  interrupted
--quick runs judge the goals too, on rougher figures (a tenth of the work), so they may exit
{EXIT_GOAL_FAILED}; a smoke test that asks only "did everything run?" takes {EXIT_OK} and {EXIT_GOAL_FAILED} alike.
"""

# (--only name, module, name in messages)
PARTS = (("echo", echo, "echo"), ("http2", http2, "HTTP/2"), ("grpc", grpc, "gRPC"), ("proxy", proxy, "proxy"),
         ("tls", tls, "TLS"), ("oneport", oneport, "one port"))


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs, one round (smoke test)")
    p.add_argument("--rounds", type=int, help="rounds per scenario (default 3, quick 1)")
    p.add_argument("--duration", type=float, help="timed seconds per run (default 5, quick 1.5)")
    p.add_argument("--warmup", type=float, help="warm-up seconds per run (default 1, quick 0.5)")
    p.add_argument("--counts", type=int, nargs=2, metavar=("N", "2N"),
                   help="callgrind message counts (default 20000 40000, quick 5000 10000)")
    p.add_argument("--skip-build", action="store_true", help="use the binaries already built")
    p.add_argument("--skip-callgrind", action="store_true", help="do not count instructions")
    p.add_argument("--skip-micro", action="store_true", help="do not run package-benchmark")
    p.add_argument("--only", choices=tuple(part for part, _, _ in PARTS), help="run one part (default: all)")
    p.add_argument("--h2-counts", type=int, nargs=2, metavar=("N", "2N"),
                   help="HTTP/2 callgrind request counts (default 5000 10000, quick 1000 2000)")
    p.add_argument("--h2-rounds", type=int, default=1,
                   help="HTTP/2 load: rounds per scenario, medians reported (default 1: one run, as the issue asks)")
    p.add_argument("--grpc-rounds", type=int, help="gRPC: rounds, medians reported (default 3, quick 1)")
    p.add_argument("--grpc-duration", type=float, help="gRPC: seconds per timed run (default 5, quick 1.5)")
    p.add_argument("--grpc-counts", type=int, nargs=2, metavar=("N", "M"),
                   help="gRPC callgrind call counts (default 10000 30000, quick 1000 3000)")
    p.add_argument("--proxies", metavar="LIST",
                   help="proxy part: which proxies, comma-separated from grpcproxy, haproxy, nginx (default: all; "
                        "the direct row always runs)")
    p.add_argument("--proxy-rounds", type=int, help="proxy part: rounds, medians reported (default 3, quick 1)")
    p.add_argument("--proxy-duration", type=float,
                   help="proxy part: seconds per timed run (default 5, quick 1.5)")
    p.add_argument("--tls-rounds", type=int, help="TLS part: rounds, medians reported (default 3, quick 1)")
    p.add_argument("--tls-duration", type=float,
                   help="TLS part: seconds per timed run (handshakes: of batches) (default 5, quick 1.5)")
    p.add_argument("--oneport-rounds", type=int, help="one-port part: rounds, medians reported (default 3, quick 1)")
    p.add_argument("--oneport-duration", type=float,
                   help="one-port part: seconds per timed run (default 5, quick 1.5)")
    p.add_argument("--oneport-counts", type=int, nargs=2, metavar=("N", "2N"),
                   help="one-port callgrind request counts (default 5000 10000, quick 1000 2000)")
    return p


def parse_args(argv: list[str] | None, grpc_alone: bool) -> argparse.Namespace:
    """The arguments with their defaults filled in (they depend on --quick and BENCH_QUICK=1)."""
    p = parser("grpc_bench.py" if grpc_alone else None)
    args = p.parse_args(argv)
    if grpc_alone:
        if args.only not in (None, "grpc"):
            p.error("grpc_bench.py runs the gRPC part only (bench.py runs the others)")
        args.only = "grpc"
    args.standalone = grpc_alone  # the report then says it was made by grpc_bench.py
    args.quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (1.5 if args.quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    args.counts = tuple(args.counts) if args.counts else ((5000, 10000) if args.quick else (20000, 40000))
    if args.counts[1] <= args.counts[0]:
        p.error("--counts: the second count must be larger")
    args.h2_counts = tuple(args.h2_counts) if args.h2_counts else ((1000, 2000) if args.quick else (5000, 10000))
    if args.h2_counts[1] <= args.h2_counts[0]:
        p.error("--h2-counts: the second count must be larger")
    args.grpc_rounds = args.grpc_rounds or (1 if args.quick else 3)
    args.grpc_duration = args.grpc_duration or (1.5 if args.quick else 5.0)
    args.grpc_counts = tuple(args.grpc_counts) if args.grpc_counts else ((1000, 3000) if args.quick else (10000, 30000))
    if args.grpc_counts[1] <= args.grpc_counts[0]:
        p.error("--grpc-counts: the second count must be larger")
    try:
        args.proxies = proxy.parse_proxies(args.proxies)
    except ValueError as error:
        p.error(str(error))
    args.proxy_rounds = args.proxy_rounds or (1 if args.quick else 3)
    args.proxy_duration = args.proxy_duration or (1.5 if args.quick else 5.0)
    args.tls_rounds = args.tls_rounds or (1 if args.quick else 3)
    args.tls_duration = args.tls_duration or (1.5 if args.quick else 5.0)
    args.oneport_rounds = args.oneport_rounds or (1 if args.quick else 3)
    args.oneport_duration = args.oneport_duration or (1.5 if args.quick else 5.0)
    args.oneport_counts = (tuple(args.oneport_counts) if args.oneport_counts else
                           ((1000, 2000) if args.quick else (5000, 10000)))
    if args.oneport_counts[1] <= args.oneport_counts[0]:
        p.error("--oneport-counts: the second count must be larger")
    return args


def main(argv: list[str] | None = None, grpc_alone: bool = False) -> int:
    """Runs the parts asked for, writes the report, prints the results and every goal; the exit
    status (see EPILOG)."""
    args = parse_args(argv, grpc_alone)
    info = machine()
    log(f"== machine: {info['nproc']} cores, {info['cpu']}, kernel {info['kernel']}, {info['swift']}")
    results = {}
    broken = False
    for part, module, name in PARTS:
        if args.only not in (None, part):
            continue
        try:
            results[part] = module.run_part(args, info)
            broken = broken or results[part].broken
        except BenchError as error:
            log(f"ERROR ({name}): {error}")
            broken = True
        except KeyboardInterrupt:
            log("interrupted")
            return EXIT_INTERRUPTED
    if not results:
        return EXIT_BROKEN
    texts = {part: (results[part].text if part in results else None) for part, _, _ in PARTS}
    report = compose_report(texts["echo"], texts["http2"], info, args, grpc=texts["grpc"], proxy=texts["proxy"],
                            tls=texts["tls"], oneport=texts["oneport"])
    log("")
    if "echo" in results:
        log(results["echo"].console)
        for goal in results["echo"].goals:
            log(goal.line())
        log("")
    if "http2" in results:
        log(results["http2"].console)
        log("")
        for goal in results["http2"].goals:
            log(goal.line())
    for part in ("grpc", "proxy", "tls", "oneport"):
        if part in results:
            log("")
            log(results[part].console)
            log("")
            for goal in results[part].goals:
                log(goal.line())
    log(f"\nreport: {report}")
    for part, chart in (("grpc", "grpc.png"), ("echo", "echo.png"), ("http2", "http2.png"), ("oneport", "oneport.png")):
        if part in results and (RESULTS / chart).exists():
            log(f"chart:  {RESULTS / chart}")
    goals = [goal for result in results.values() for goal in result.goals]
    log("")
    log(summary(goals))
    code = exit_code(goals, broken)
    if broken:
        log(f"exit {code}: something broke (see ERROR above)")
    elif code != EXIT_OK:
        log(f"exit {code}: a goal FAILed")
    return code


if __name__ == "__main__":
    sys.exit(main())
