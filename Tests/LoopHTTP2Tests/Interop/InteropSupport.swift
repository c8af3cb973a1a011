import Foundation
import InteropTestSupport
import Testing

// HTTP/2 support for the interop tests: real third-party peers (nghttp2, curl, h2o, Python
// hpack) against the HTTP2Server example and HTTP2Client. The generic helpers (peers,
// processes under hard timeouts, ports, temporary directories, deadlines) are in the
// InteropTestSupport target, shared with LoopGRPCTests.

// MARK: Peers

extension Peer {
    static let nghttp = Peer(name: "nghttp", package: "nghttp2-client")
    static let h2load = Peer(name: "h2load", package: "nghttp2-client")
    static let nghttpd = Peer(name: "nghttpd", package: "nghttp2-server")
    static let curl = Peer(name: "curl", package: "curl")
    static let h2o = Peer(name: "h2o", package: "h2o")
}

/// python3 with the PyPI module the raw-frame driver imports (hpack), or an error naming it.
func locatePythonWithHPACK() async throws -> String {
    try await locatePython(with: [PythonModule("hpack", package: "hpack")])
}

// MARK: The HTTP2Server example

/// The HTTP2Server example binary, built next to the test bundle.
func locateHTTP2ServerBinary() throws -> String {
    try locateBuiltProduct("HTTP2Server")
}

/// A running HTTP2Server example on 127.0.0.1 and a port the kernel picked (--port 0; the
/// port is read from its "listening on 127.0.0.1:PORT" line, so no port race).
final class DemoServer: Sendable {
    let process: BackgroundProcess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    private init(process: BackgroundProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(_ extraArguments: [String] = []) async throws -> DemoServer {
        let binary = try locateHTTP2ServerBinary()
        let process = try BackgroundProcess(binary, ["--host", "127.0.0.1", "--port", "0"] + extraArguments, name: "HTTP2Server")
        do {
            let port = try await process.waitForOutput(timeout: 20) { text -> Int? in
                guard let range = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
                return Int(text[range].split(separator: ":").last!)
            }
            return DemoServer(process: process, port: port)
        } catch {
            await process.stop()
            throw error
        }
    }

    /// Fails the test (without throwing) when the server is no longer running: it crashed
    /// or exited while the test drove it.
    func expectAlive(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !process.isRunning {
            Issue.record("HTTP2Server died \(context) (\(process.exitDescription)); its output:\n\(process.log.suffix(6000))",
                         sourceLocation: sourceLocation)
        }
    }
}

/// Starts the HTTP2Server example, runs `body`, checks that the server survived, and kills
/// it — also when `body` throws.
func withDemoServer<T>(_ arguments: [String] = [], _ body: (DemoServer) async throws -> T,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
    let server = try await DemoServer.start(arguments)
    do {
        let result = try await body(server)
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await server.process.stop()
        return result
    } catch {
        server.expectAlive("during the test", sourceLocation: sourceLocation)
        await server.process.stop()
        throw error
    }
}

/// The parent of every interop suite. `.serialized` applies to the suites nested in it, so
/// one peer process (or server) at a time runs on the 2-core machine. `swift test --filter
/// Interop` selects them all.
@Suite(.serialized) enum InteropTests {}
