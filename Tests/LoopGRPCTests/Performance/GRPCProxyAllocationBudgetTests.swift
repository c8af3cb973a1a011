import Foundation
import InteropTestSupport
import Testing

/// The proxy's allocation budget: heap allocations per proxied unary call, counted in the
/// release GRPCProxy (`--threads 1`) between h2load (`-c 1 -m 10`, the 11-byte UnaryCall of
/// GRPCAllocationBudgetTests) and the release InteropServer. Both directions of a call go
/// through it: the downstream request and response, the upstream request and response.
/// Deterministic, so it gates `make test`, which builds both release programs first.
@Suite(.serialized) struct GRPCProxyAllocationBudgetTests {
    /// Allocating calls per proxied unary call, measured in the proxy alone (the server
    /// behind it is not counted): 5.401 (all malloc) — the proxied stream's object, and the
    /// header lists decoded on each side (request head, response head, trailers).
    static let budget = 5.4
    static let tolerance = 1.0

    @Test func allocationsPerProxiedUnaryCall() async throws {
        let h2load = try Peer.h2load.locate()
        let server = try locateReleaseProduct("InteropServer")
        let proxyBinary = try locateReleaseProduct("GRPCProxy")
        let counter = try await MallocCounter()
        let scratch = try TemporaryDirectory("grpc-proxy-alloc-budget")
        defer { scratch.remove() }
        let body = scratch.file("unary.grpc")
        try Data(GRPCAllocationBudgetTests.unaryRequest).write(to: URL(fileURLWithPath: body))

        let backend = try await startServer(server, name: "InteropServer (release)") {
            ["--host", "127.0.0.1", "--port", String($0), "--threads", "1"]
        }
        let measurement = try await withServer(backend) { backend in
            let proxy = try await startServer(proxyBinary, name: "GRPCProxy (release, allocations counted)", environment: counter.environment) {
                ["--listen", "127.0.0.1:\($0)", "--upstream", "127.0.0.1:\(backend.port)", "--threads", "1"]
            }
            return try await withServer(proxy) { proxy in
                try await GRPCAllocationBudgetTests.measureUnaryCalls(port: proxy.port, h2load: h2load, body: body, counter: counter,
                                                                      "the proxy's allocation measurement")
            }
        }
        let perCall = measurement.allocationsPerRequest
        let figure = String(format: "%.3f", perCall)
        print("[allocation budget] GRPCProxy, unary 11-byte UnaryCall: \(figure) allocations per proxied call "
              + "(budget \(Self.budget) ± \(Self.tolerance)); \(measurement); \(String(format: "%.2f", measurement.seconds)) s")
        #expect(isWithinBudget(perCall, budget: Self.budget, tolerance: Self.tolerance), """
            proxied unary call: \(figure) allocations per call, budget \(Self.budget) ± \(Self.tolerance) (\(measurement)). \
            Measured on \(proxyBinary); rebuild it with `swift build -c release --product GRPCProxy` (make test does).
            """)
    }
}
