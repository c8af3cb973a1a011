#!/usr/bin/env python3
"""The gRPC part of the Loop benchmarks alone: `python3 Benchmarks/bench.py --only grpc`, but the
report's gRPC section says it was made by grpc_bench.py. The harness is the package loopbench/
(loopbench/grpc.py); `--help` lists the flags and the exit status.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopbench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(grpc_alone=True))
