"""Loop's benchmark harness (entry points: Benchmarks/bench.py, Benchmarks/grpc_bench.py, or
`python3 -m loopbench` from Benchmarks/).

Helpers, imported by the parts and never the other way round:
  common         paths, BenchError, log, commands and swift builds, the machine's description
  processes      servers started and stopped with timeouts, CPU pinning, /proc CPU time and RSS
  h2load         h2load run with a deadline, its output parsed and checked
  callgrind      servers under valgrind (with the sigsuspend shim), profiles read
  micro          package-benchmark run and its tables read
  report         number formatting, report.md put together from the parts
  charts         matplotlib helpers
  goals          goal lines, their summary, the exit status
One module per part: echo, http2, grpc (with grpc_messages, and grpc_verify run as a subprocess);
cli parses the arguments and runs them.
"""
