#!/usr/bin/env python3
"""Loop benchmarks, the entry of `make bench`: echo (Loop vs SwiftNIO), HTTP/2 (Loop vs
swift-nio-http2, nghttpd, h2o), gRPC (Loop vs grpc-swift-2, grpc-go, grpcio) and gRPC through a
proxy (Loop's GRPCProxy vs HAProxy, nginx).

The harness is the package loopbench/ next to this file (one module per part, shared helpers);
`python3 Benchmarks/bench.py --help` lists the flags and the exit status (0 ran and passed,
1 something broke, 3 a goal FAILed).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopbench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
