# Loop: the README's commands. Each target installs what is missing first.
SHELL := /bin/bash
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: all deps test-deps peers build run test bench clean

all: build

# Debian packages: libev for Loop; real HTTP/2 peers for the interop tests; gcc (cc) for the
# allocation-budget tests, which compile a malloc-counting LD_PRELOAD library; protoc for the
# README package that scripts/test-user-package.sh builds with the LoopGRPCGenerator plugin;
# haproxy and nginx for the gRPC proxy tests, which start them as child processes with
# generated configurations on 127.0.0.1 (LoopGRPCTests/Interop/Proxies; the system services
# the packages install are not used); openssl for the TLS tests' throwaway certificates
# (scripts/make-test-certs.sh) and s_client.
TEST_PEERS := nghttp2-client nghttp2-server curl h2o gcc protobuf-compiler haproxy nginx openssl
PYTHON_PEERS := h2 hyperframe hpack

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh $(TEST_PEERS)
	@scripts/install-python-deps.sh $(PYTHON_PEERS)

# Real gRPC peers for the gRPC interop tests: grpc-go 1.33 (Debian) interop client and server,
# compression_peer, abort_peer, keepalive_peer, issue #10's Go control stack (cmux_server: grpc-go +
# grpc-gateway 1.6.4 behind cmux on one port; dial_peer) and the shared .proto files, built into
# $LOOP_PEERS_DIR (~/.cache/loop-peers) (see scripts/install-grpc-peers.sh for the layout and for
# why grpc-gateway's -dev package is unpacked there rather than installed); grpcio for grpcio_peer.py.
GRPC_PYTHON_PEERS := grpc:grpcio grpc_tools:grpcio-tools

peers:
	@scripts/install-grpc-peers.sh
	@scripts/install-python-deps.sh $(GRPC_PYTHON_PEERS)

build: deps
	$(SWIFT) build -c release

# Builds release and starts the one-port demo (GatewayDemo) on $(HOST):$(PORT): gRPC, gRPC-Web,
# REST/JSON and /healthz over HTTP/1.1 and HTTP/2 (Ctrl-C drains and stops it).
run: build
	@echo "Starting GatewayDemo on $(HOST):$(PORT). From another shell, call it with:"
	@echo "  curl http://$(HOST):$(PORT)/v1/greetings/world                     (REST over HTTP/1.1)"
	@echo "  curl --http2-prior-knowledge http://$(HOST):$(PORT)/v1/greetings/world?language=FRENCH"
	@echo "  curl -X POST -d '{\"name\": \"you\", \"options\": {\"shout\": true}}' http://$(HOST):$(PORT)/v1/greetings"
	@echo "  curl -N http://$(HOST):$(PORT)/v1/greetings/world/stream?count=3    (newline-delimited JSON)"
	@echo "  .build/release/GatewayDemo hello --port $(PORT) --name you          (gRPC)"
	@exec .build/release/GatewayDemo --host $(HOST) --port $(PORT)

# Builds and runs every test (unit, sockets, interop with real peers, the README's own-service
# package built with the code-generation plugin, and the allocation
# budgets, which count mallocs per request in the release HTTP2Server, InteropServer, GRPCProxy
# and GatewayDemo: built here, one product per `swift build`).
test: test-deps peers
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product HTTP2Server
	$(SWIFT) build -c release --product InteropServer
	$(SWIFT) build -c release --product GRPCProxy
	$(SWIFT) build -c release --product GatewayDemo
	$(SWIFT) test
	SWIFT=$(SWIFT) scripts/test-user-package.sh

# h2spec (summerwind/h2spec v2.6.0, the HTTP/2 conformance suite) against the release HTTP2Server,
# H2SPEC_RUNS (20) times in a row; fails if any run has a failing test. Not part of `make test`:
# h2spec is not a Debian package. Give it H2SPEC=/path/to/h2spec, or H2SPEC_SRC=/path/to/source
# to build it with Debian's Go (docs/testing.md, "h2spec").
.PHONY: h2spec
h2spec: deps
	SWIFT=$(SWIFT) scripts/h2spec.sh

# Release benchmarks: micro (package-benchmark) and load (echo: Loop vs SwiftNIO; HTTP/2: vs
# swift-nio-http2, nghttpd, h2o; gRPC: vs grpc-swift-2, grpc-go, grpcio; gRPC through a proxy:
# GRPCProxy vs HAProxy, nginx; one port: GatewayDemo's REST vs cmux + grpc-gateway + grpc-go (cmux_server
# from `peers`), HTTP/1.1 vs h2o and nginx, the one-port detector's cost), interleaved. gcc compiles the
# C load clients (Benchmarks/loadgen).
# Writes Benchmarks/results/report.md and PNG charts (matplotlib). BENCH_ARGS="--only grpc --quick", for example.
# Fails when something broke (bench.py exits 1) or a goal FAILs (exits 3): see Benchmarks/README.md.
bench: deps peers
	@scripts/install-deps.sh valgrind binutils gcc nghttp2-client nghttp2-server h2o haproxy nginx
	@scripts/install-python-deps.sh matplotlib
	python3 Benchmarks/bench.py $(BENCH_ARGS)

# Soak (issue #9; not part of `make test`): $(SOAK_MINUTES) minutes of mixed good load (h2load against the
# release HTTP2Server, the grpc-go interop client against the release InteropServer) plus a rotating
# attack mix (h2_attacker.py), sampling each server's RSS every second. Writes .build/soak/rss.csv,
# rss.png and report.md; fails when a good request failed, a server died, or RSS grew more than
# 10 MiB after warm-up. SOAK_ARGS="--warmup-minutes 1 --bound-mib 20", for example: see docs/soak.md.
SOAK_MINUTES ?= 30
SOAK_ARGS ?=

.PHONY: soak
soak: deps test-deps peers
	@scripts/install-python-deps.sh matplotlib
	$(SWIFT) build -c release --product HTTP2Server
	$(SWIFT) build -c release --product InteropServer
	python3 scripts/soak.py --minutes $(SOAK_MINUTES) --out .build/soak --bin-dir .build/release $(SOAK_ARGS)

# DocC archives of the libraries (swift-docc-plugin; catalogs in Sources/<library>/<library>.docc),
# written to $(DOCS_DIR)/<library>.doccarchive. Fails on any DocC warning: --warnings-as-errors
# makes docc fail, and a "warning:" line left in its output fails the target too.
DOCS_TARGETS := Loop LoopTLS LoopHTTP2 LoopGRPC LoopGRPCProtobuf LoopServiceLifecycle LoopGRPCTracing LoopGRPCGateway
# SwiftPM's own warning about a dependency's stray files (swift-distributed-tracing 1.7.3 ships
# CMakeLists.txt in its Sources), printed when LoopGRPCTracing's dependencies build: not DocC's.
DOCS_IGNORED := ^warning: '[^']+': found [0-9]+ file\(s\) which are unhandled
DOCS_DIR := .build/docs

.PHONY: docs
docs: deps
	@mkdir -p $(DOCS_DIR)
	@for target in $(DOCS_TARGETS); do \
		log="$(DOCS_DIR)/$$target.log"; \
		echo "docs: $$target -> $(DOCS_DIR)/$$target.doccarchive"; \
		if ! $(SWIFT) package --allow-writing-to-directory $(DOCS_DIR) generate-documentation \
			--target "$$target" --output-path "$(DOCS_DIR)/$$target.doccarchive" --warnings-as-errors \
			>"$$log" 2>&1; then \
			grep -v -E '^\[[0-9]+/[0-9]+\]' "$$log" >&2; \
			echo "docs: $$target failed (full output: $$log)" >&2; \
			exit 1; \
		fi; \
		if grep -v -E "$(DOCS_IGNORED)" "$$log" | grep -q '^warning:'; then \
			grep -v -E "$(DOCS_IGNORED)" "$$log" | grep -A8 '^warning:' >&2; \
			echo "docs: DocC warnings in $$target (full output: $$log)" >&2; \
			exit 1; \
		fi; \
	done
	@echo "docs: no DocC warnings. Browse one: python3 -m http.server --directory $(DOCS_DIR)/Loop.doccarchive 8000,"
	@echo "      then http://127.0.0.1:8000/documentation/loop/"

# Regenerates the committed Swift code of the .proto files (messages with protoc-gen-swift,
# services with protoc-gen-loop-grpc, both built in release here): Health, InteropSupport, Greeter.
.PHONY: generate
generate:
	@SWIFT=$(SWIFT) scripts/generate-grpc.sh

# libFuzzer targets (Fuzz/, a package of its own): builds them in release with
# -sanitize=fuzzer,address and runs each for FUZZ_SECONDS (per target) on a scratch copy of its
# committed corpus in .build-fuzz; prints executions, exec/s and coverage per target; fails on
# any crash, broken invariant or leak (the input is kept in .build-fuzz/<target>/artifacts/).
# fuzz-regress replays the committed corpora and Fuzz/Regressions/ once. See docs/testing.md.
FUZZ_SECONDS ?= 300
FUZZ_MAX_LEN ?= 4096

.PHONY: fuzz fuzz-regress
fuzz: deps
	@SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) scripts/fuzz.sh

fuzz-regress: deps
	@SWIFT=$(SWIFT) scripts/fuzz.sh --regress

# The test suite under AddressSanitizer (LeakSanitizer on) and under ThreadSanitizer, in
# .build-asan and .build-tsan (the normal .build is untouched); suppressions with their reasons
# in Tests/Sanitizers/. Skips the tests that measure allocations, RSS or throughput (listed in
# scripts/test-sanitizers.sh). Slow: see docs/testing.md for the figures.
.PHONY: test-sanitizers
test-sanitizers: test-deps peers
	@SWIFT=$(SWIFT) scripts/test-sanitizers.sh

clean:
	rm -rf .build Benchmarks/.build
