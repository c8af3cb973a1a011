import Foundation
import InteropTestSupport
import Testing

/// The HTTP2Server and Greeter examples run in a ServiceGroup: SIGTERM drains them. A request
/// in flight when the signal arrives still gets its whole response, and the program exits 0.
@Suite struct GracefulShutdownProgramsTests {
    /// `HTTP2Server`: GET /delay/1500 is in flight when SIGTERM arrives: it is answered, and
    /// the server exits 0 saying it shut down gracefully.
    @Test func sigtermDrainsHTTP2Server() async throws {
        let port = try freeLocalPort()
        // At debug level the server logs each connection's handshake: the signal is sent only
        // once curl's connection is ready, however slowly a loaded machine starts curl.
        let server = try BackgroundProcess(try locateBuiltProduct("HTTP2Server"), ["--port", "\(port)", "--threads", "1", "--log-level", "debug"],
                                           name: "HTTP2Server")
        try await withBackgroundProcess(server) { server in
            try await waitUntilAccepting(server, port: port, timeout: 30)
            let handshakesBefore = server.log.components(separatedBy: "HTTP/2 connection ready").count
            let started = ContinuousClock.now
            async let response = runProcess(try Peer(name: "curl", package: "curl").locate(), ["-sS", "--http2-prior-knowledge", "-o", "-", "-w", " %{http_code}",
                                                         "http://127.0.0.1:\(port)/delay/1500"], timeout: 30)
            _ = try await server.waitForOutput(timeout: 20) { log in
                log.components(separatedBy: "HTTP/2 connection ready").count > handshakesBefore ? true : nil
            }
            kill(server.process.processIdentifier, SIGTERM)
            let result = try await response
            #expect(result.status == 0, "curl: \(result.stderr)")
            #expect(result.stdout == "Hello, world! 200", "curl printed \(result.stdout)")
            #expect(try await waitForExit(server.process, timeout: 10), "HTTP2Server did not exit after SIGTERM")
            #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "\(server.exitDescription)")
            #expect(server.log.contains("HTTP2Server: shut down gracefully"), "output:\n\(server.log)")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    /// `Greeter serve`: SIGTERM ends it with exit status 0 once its connections are drained.
    @Test func sigtermDrainsGreeter() async throws {
        let port = try freeLocalPort()
        let server = try BackgroundProcess(try locateBuiltProduct("Greeter"), ["serve", "--port", "\(port)"], name: "Greeter")
        try await withBackgroundProcess(server) { server in
            try await waitUntilAccepting(server, port: port, timeout: 30)
            let greeted = try await runProcess(try locateBuiltProduct("Greeter"), ["greet", "--port", "\(port)", "--name", "drain"], timeout: 30)
            #expect(greeted.stdout.contains("Hello, drain"), "greet: \(greeted.stdout)\(greeted.stderr)")
            kill(server.process.processIdentifier, SIGTERM)
            #expect(try await waitForExit(server.process, timeout: 10), "Greeter did not exit after SIGTERM")
            #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0, "\(server.exitDescription)")
            #expect(server.log.contains("Greeter: shut down gracefully"), "output:\n\(server.log)")
        }
    }
}
