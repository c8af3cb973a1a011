import Foundation
import InteropTestSupport
import Testing

extension Peer {
    static let h2loadForBudget = Peer(name: "h2load", package: "nghttp2-client")
}

/// The REST gateway's allocation budget: heap allocations per REST request, counted in the
/// release GatewayDemo (`--threads 1`) under `h2load --h1 -c 1` (HTTP/1.1 keep-alive, one
/// request at a time), must stay within one of the budget. The path is the one-port stack's
/// whole: the HTTP/1.1 parser and bridge, the HTTP/2 connection, the async handler's task,
/// route matching, the request message from the path capture, the in-process call with its
/// deadline, the JSON answer. Counts are deterministic (timings are not), so this gates
/// `make test`, which builds the release GatewayDemo first. See docs/performance-notes.md.
@Suite(.serialized) struct GatewayAllocationBudgetTests {
    /// Allocating calls per `GET /v1/greetings/world` (malloc, calloc, realloc and the aligned
    /// ones). Measured 48.000 (45 malloc, 2 realloc: response buffers growing, 1
    /// posix_memalign: the request's task) when this test was added; 45.000 (43 malloc, 1
    /// realloc, 1 posix_memalign) since the bridge takes response frames as they are and keeps
    /// its lists' storage between requests, and empty buffers share one storage; 41.000 (40
    /// malloc, 1 posix_memalign) since the reply's JSON is written by the gateway's own writer
    /// straight into its buffer (GatewayJSONMessageWriter).
    static let budget = 41.0
    /// Allowed drift either way, inclusive: past it the test fails, also when allocations went
    /// away (then lower the budget).
    static let tolerance = 1.0
    /// N: requests in the first measured run (the second has 2N).
    static let requests = 4_000

    /// About 2 s against the release server; the hard deadline is 120 s.
    @Test func allocationsPerRESTRequest() async throws {
        let h2load = try Peer.h2loadForBudget.locate()
        let binary = try locateReleaseProduct("GatewayDemo")
        let counter = try await MallocCounter()
        let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0", "--threads", "1"],
                                            name: "GatewayDemo (release, allocations counted)", environment: counter.environment)
        let measurement = try await withBackgroundProcess(process) { process in
            let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                return Int(text[range].split(separator: ":").last!)
            }
            let url = "http://127.0.0.1:\(port)/v1/greetings/world"
            let measurement = try await withDeadline(120, "the gateway allocation measurement") {
                try await measureAllocations(counter: counter, requests: Self.requests, warmUp: 500) { n in
                    _ = try await runH2load(h2load, requests: n, ["--h1", "-c", "1", url])
                }
            }
            if !process.isRunning {
                Issue.record("GatewayDemo died during the measurement (\(process.exitDescription)):\n\(process.log.suffix(4000))")
            }
            return measurement
        }
        let perRequest = measurement.allocationsPerRequest
        let figure = String(format: "%.3f", perRequest)
        print("[allocation budget] REST gateway, GET /v1/greetings/world over HTTP/1.1: \(figure) allocations per request "
              + "(budget \(Self.budget) ± \(Self.tolerance)); \(measurement); \(String(format: "%.2f", measurement.seconds)) s")
        #expect(isWithinBudget(perRequest, budget: Self.budget, tolerance: Self.tolerance), """
            REST gateway path: \(figure) allocations per request, budget \(Self.budget) ± \(Self.tolerance) \
            (\(measurement)). More: find the new allocation (python3 Benchmarks/bench.py --only oneport counts malloc \
            calls per REST request with callgrind). Fewer: lower the budget in GatewayAllocationBudgetTests. Measured on \
            \(binary); after changing the sources, rebuild it with `swift build -c release --product GatewayDemo` (make test does).
            """)
    }
}
