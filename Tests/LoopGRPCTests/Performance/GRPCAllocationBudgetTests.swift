import Foundation
import InteropTestSupport
import Testing

extension Peer {
    static let h2load = Peer(name: "h2load", package: "nghttp2-client")
}

/// The gRPC server's allocation budget: heap allocations per unary call, counted in the
/// release InteropServer (`--threads 1`) under h2load (`-c 1 -m 10`, UnaryCall with an 11-byte
/// SimpleRequest asking for an 11-byte SimpleResponse), must stay within one of the budget.
/// Allocation counts are deterministic (timings are not), so this gates `make test`, which
/// builds the release server first. See docs/performance-notes.md ("Allocation budgets").
@Suite(.serialized) struct GRPCAllocationBudgetTests {
    /// Allocating calls per unary call on the server (malloc, calloc, realloc and the aligned
    /// ones, counted by Tests/InteropTestSupport/MallocCounter/malloc_counter.c). Measured
    /// 10.200 (all of them malloc) since the package runs nonisolated async functions on their
    /// caller's executor (NonisolatedNonsendingByDefault, Package.swift; 11.200 before).
    static let budget = 10.2
    /// Allowed drift either way, inclusive (one more allocation per request still passes, two
    /// fail): past it the test fails, also when allocations went away (then lower the budget).
    static let tolerance = 1.0
    /// N: calls in the first measured run (the second has 2N).
    static let calls = 10_000

    /// The request body h2load sends (-d): one uncompressed length-prefixed message,
    /// grpc.testing.SimpleRequest {response_size: 7, payload: {body: 5 zero bytes}}, 11 bytes
    /// (grpc_bench.py's SMALL_REQUEST).
    static let unaryRequest: [UInt8] = [0, 0, 0, 0, 11, 0x10, 0x07, 0x1a, 0x07, 0x12, 0x05, 0, 0, 0, 0, 0]
    /// DATA bytes of one call's response: the 5-byte prefix and the 11-byte SimpleResponse.
    static let responseBytes = 16

    /// About 2 s against the release server; the hard deadline is 120 s.
    @Test func allocationsPerUnaryCall() async throws {
        let h2load = try Peer.h2load.locate()
        let binary = try locateReleaseProduct("InteropServer")
        let counter = try await MallocCounter()
        let scratch = try TemporaryDirectory("grpc-alloc-budget")
        defer { scratch.remove() }
        let body = scratch.file("unary.grpc")
        try Data(Self.unaryRequest).write(to: URL(fileURLWithPath: body))

        let server = try await startServer(binary, name: "InteropServer (release, allocations counted)",
                                           environment: counter.environment) {
            ["--host", "127.0.0.1", "--port", String($0), "--threads", "1"]
        }
        let measurement = try await withServer(server) { server in
            try await Self.measureUnaryCalls(port: server.port, h2load: h2load, body: body, counter: counter, "the gRPC allocation measurement")
        }
        let perCall = measurement.allocationsPerRequest
        let figure = String(format: "%.3f", perCall)
        print("[allocation budget] gRPC server, unary 11-byte UnaryCall: \(figure) allocations per call (budget \(Self.budget) ± \(Self.tolerance)); "
              + "\(measurement); \(String(format: "%.2f", measurement.seconds)) s")
        #expect(isWithinBudget(perCall, budget: Self.budget, tolerance: Self.tolerance), """
            gRPC unary call: \(figure) allocations per call, budget \(Self.budget) ± \(Self.tolerance) (\(measurement)). \
            More: find the new allocation (python3 Benchmarks/bench.py --only grpc lists malloc calls per call by site). \
            Fewer: lower the budget in GRPCAllocationBudgetTests. Measured on \(binary); after changing the sources, \
            rebuild it with `swift build -c release --product InteropServer` (make test does).
            """)
    }

    /// Runs `calls` (then 2 × `calls`) 11-byte UnaryCalls with h2load (`-c 1 -m 10`) at
    /// 127.0.0.1:`port` and counts the allocations `counter` saw per call; every call must
    /// bring its response message (h2load sees :status 200 even for a failed call).
    static func measureUnaryCalls(port: Int, h2load: String, body: String, counter: MallocCounter,
                                  _ what: String) async throws -> AllocationMeasurement {
        let arguments = ["-c", "1", "-m", "10", "-d", body, "-H", "content-type: application/grpc", "-H", "te: trailers",
                         "http://127.0.0.1:\(port)/grpc.testing.TestService/UnaryCall"]
        return try await withDeadline(120, what) {
            try await measureAllocations(counter: counter, requests: calls, warmUp: 1_000) { n in
                let run = try await runH2load(h2load, requests: n, arguments)
                guard run.dataBytes == n * responseBytes else {
                    throw InteropError("h2load received \(run.dataBytes) bytes of DATA for \(n) calls, expected "
                                       + "\(n * responseBytes): calls ended without their response\n\(run.output.suffix(2000))")
                }
            }
        }
    }
}
