# Loop: the README's commands. Each target installs what is missing first.
SHELL := /bin/bash
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 9999

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release

# Builds release and starts the demo server on $(HOST):$(PORT) (Ctrl-C stops it).
run: build
	@echo "Starting EchoServer on $(HOST):$(PORT)"
	@echo "Call it from another shell:  swift run -c release EchoClient --host $(HOST) --port $(PORT) --message hello"
	@exec .build/release/EchoServer --host $(HOST) --port $(PORT)

# Builds and runs every test (unit, sockets, and interop with real peers).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

# Release benchmarks: micro (package-benchmark) and load (Loop vs SwiftNIO, interleaved).
# Writes Benchmarks/results/report.md and a PNG chart.
bench: deps
	@scripts/install-deps.sh valgrind binutils
	python3 Benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf .build Benchmarks/.build
