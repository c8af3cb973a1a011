import Foundation
import InteropTestSupport
import Testing

extension Peer {
    static let curl = Peer(name: "curl", package: "curl")
}

/// `Greeter serve --metrics-port`: swift-prometheus' registry bootstrapped as the metrics
/// backend and served at GET /metrics over HTTP/2. Two calls (one OK, one INVALID_ARGUMENT)
/// made with `Greeter greet`, then /metrics fetched with curl --http2-prior-knowledge must
/// count each under its method and code, with the connection and the call durations.
@Suite struct GreeterMetricsProgramTests {
    @Test func servesTheCallCountersByMethodAndCodeAtSlashMetrics() async throws {
        let curl = try Peer.curl.locate()
        let greeter = try locateBuiltProduct("Greeter")
        let server = try BackgroundProcess(greeter, ["serve", "--port", "0", "--metrics-port", "0", "--log-level", "debug"],
                                           name: "Greeter serve --metrics-port")
        try await withBackgroundProcess(server) { server in
            let (grpcPort, metricsPort) = try await server.waitForOutput(timeout: 30) { log -> (String, String)? in
                guard let listening = log.firstMatch(of: /Greeter listening on [^:]+:(\d+)/),
                      let metrics = log.firstMatch(of: /Greeter metrics at http:\/\/[^:]+:(\d+)\/metrics/) else { return nil }
                return (String(listening.1), String(metrics.1))
            }
            let hello = try await runProcess(greeter, ["greet", "--port", grpcPort, "--name", "you"], timeout: 30)
            #expect(hello.stdout == "Hello, you!\n", "\(hello.stdout)\(hello.stderr)")
            let empty = try await runProcess(greeter, ["greet", "--port", grpcPort, "--name", ""], timeout: 30)
            #expect(empty.status != 0)

            let scrape = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "http://127.0.0.1:\(metricsPort)/metrics"], timeout: 30)
            #expect(scrape.status == 0, "curl: \(scrape.stderr)")
            let lines = Set(scrape.stdout.split(separator: "\n").map(String.init))
            for expected in [
                #"loop_grpc_server_calls_started_total{method="/helloworld.Greeter/SayHello"} 2"#,
                #"loop_grpc_server_calls_finished_total{method="/helloworld.Greeter/SayHello",code="OK"} 1"#,
                #"loop_grpc_server_calls_finished_total{method="/helloworld.Greeter/SayHello",code="INVALID_ARGUMENT"} 1"#,
                #"loop_grpc_server_calls_finished_total{method="/helloworld.Greeter/SayHello",code="NOT_FOUND"} 0"#,
                #"loop_grpc_server_call_duration_seconds_count{method="/helloworld.Greeter/SayHello"} 2"#,
                "loop_http2_connections_accepted_total 2",
                "loop_http2_streams_opened_total 2",
            ] {
                #expect(lines.contains(expected), "/metrics lacks \(expected):\n\(scrape.stdout)")
            }
            // The scrape's own connection is not counted: the metrics port counts into the no-op factory.
            let again = try await runProcess(curl, ["-sS", "--http2-prior-knowledge", "http://127.0.0.1:\(metricsPort)/metrics"], timeout: 30)
            #expect(again.stdout.contains("loop_http2_connections_accepted_total 2\n"))
            // --log-level debug: the connections' lifecycle on standard error, with their metadata.
            #expect(server.log.contains("HTTP/2 connection accepted"))
            #expect(server.log.contains("loop.close_reason=graceful"))
        }
    }
}
