"""python3 -m loopbench [flags] (from Benchmarks/): the same as python3 Benchmarks/bench.py."""
import sys

from .cli import main

sys.exit(main())
