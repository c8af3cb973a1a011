import Foundation
import InteropTestSupport
import Testing

/// Issue #10 with real peers on ONE port of the GatewayDemo: the Go stack's control (cmux's
/// plain matcher deadlocks grpc-go clients), grpc-go, grpcio, gRPC-Web over HTTP/1.1 and
/// HTTP/2, curl REST over HTTP/1.1 (keep-alive, pipelining), h2c upgrade and prior knowledge,
/// h2load both ways, and the failure paths.
@Suite(.serialized) struct GatewayDemoInteropTests {
    private static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path

    /// Runs `body` with a GatewayDemo (debug build) listening on a free port.
    private func withDemo<T>(_ extra: [String] = [], _ body: (Int) async throws -> T) async throws -> T {
        let port = try freeLocalPort()
        let demo = try BackgroundProcess(try locateBuiltProduct("GatewayDemo"), ["--port", "\(port)"] + extra, name: "GatewayDemo")
        return try await withBackgroundProcess(demo) { demo in
            try await waitUntilAccepting(demo, port: port, timeout: 30)
            return try await body(port)
        }
    }

    private func curl(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try Peer(name: "curl", package: "curl").locate(), ["-sS"] + arguments, timeout: 30)
    }

    /// The outcome lines of dial_peer: "RESULT <OK|CODE> <n> <first message>" and "TOTAL ok=… failed=…".
    private func dial(_ port: Int, dials: Int, extra: [String] = []) async throws -> ProcessResult {
        try await runProcess(try locateCachedPeer("dial_peer"),
                             ["-addr=127.0.0.1:\(port)", "-dials=\(dials)", "-deadline=3s", "-kind=both"] + extra, timeout: 120)
    }

    // MARK: The Go stack's control, then the one port

    /// The seed's stack: a grpc-go client dialing a cmux server with plain `Match` waits for the
    /// server's SETTINGS, which cmux holds back until it has read the client's HEADERS: every
    /// fresh connection fails with "timed out waiting for server handshake" (grpc-go 1.33 gives
    /// up on the handshake after its connect timeout, 1 s here, inside the call's 3 s deadline).
    /// The GatewayDemo sends its SETTINGS the moment it recognises the preface: 100 fresh dials,
    /// a unary and a server-streaming call on each, all succeed.
    @Test func cmuxWithPlainMatchDeadlocksGrpcGoAndTheOnePortServesEveryFreshDial() async throws {
        let cmux = try BackgroundProcess(try locateCachedPeer("cmux_server"), ["-port=0", "-match=plain"], name: "cmux_server")
        try await withBackgroundProcess(cmux) { cmux in
            let port = try await cmux.waitForOutput(timeout: 30) { text -> Int? in
                guard let range = text.range(of: #"listening on [0-9]+\n"#, options: .regularExpression) else { return nil }
                return Int(text[range].dropFirst("listening on ".count).dropLast())
            }
            let control = try await dial(port, dials: 20, extra: ["-connect_timeout=1s"])
            print("[one port] grpc-go against cmux (plain Match), 20 fresh dials × 2 calls:\n\(control.stdout)")
            #expect(control.stdout.contains("RESULT UNAVAILABLE 40 timed out waiting for server handshake"), "\(control.stdout)\(control.stderr)")
            #expect(control.stdout.contains("TOTAL ok=0 failed=40"))
        }
        try await withDemo { port in
            let result = try await dial(port, dials: 100)
            print("[one port] grpc-go against GatewayDemo, 100 fresh dials × 2 calls:\n\(result.stdout)")
            #expect(result.stdout.contains("RESULT OK 200"), "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("TOTAL ok=200 failed=0"))
        }
    }

    // MARK: gRPC clients

    @Test func grpcioCallsEveryKindOnTheOnePort() async throws {
        let python = try await locatePython(with: [PythonModule("grpc", package: "grpcio")], installHint: "make peers")
        try await withDemo { port in
            let result = try await runProcess(python, [Self.scripts + "/grpcio_greetings.py", "--port", "\(port)", "--calls", "20"], timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(#""ok": 40, "failed": []"#), "\(result.stdout)")
            #expect(result.stdout.contains(#""forbidden": "PERMISSION_DENIED: forbidden may not be greeted""#), "\(result.stdout)")
        }
    }

    /// gRPC-Web (PROTOCOL-WEB.md) over HTTP/1.1 and HTTP/2, binary and text (base64): the
    /// messages, the trailer frame's status, and a refused call's status in the trailer frame.
    @Test func grpcWebOverHTTP1AndHTTP2BinaryAndText() async throws {
        let python = try await locatePython(with: [PythonModule("h2", package: "h2")])
        try await withDemo { port in
            for transport in ["http1", "http2"] {
                for mode in ["binary", "text"] {
                    let common = [Self.scripts + "/grpcweb_client.py", "--port", "\(port)", "--transport", transport, "--mode", mode]
                    let unary = try await runProcess(python, common + ["--call", "unary", "--name", "web", "--repeat", "3"], timeout: 30)
                    #expect(unary.status == 0, "\(transport) \(mode): \(unary.stdout)\(unary.stderr)")
                    #expect(unary.stdout.contains(#""message": "Hello, web!""#), "\(unary.stdout)")
                    #expect(unary.stdout.contains(#""connections": 1"#), "three calls on one connection: \(unary.stdout)")
                    let stream = try await runProcess(python, common + ["--call", "stream", "--name", "web", "--count", "5"], timeout: 30)
                    #expect(stream.status == 0, "\(transport) \(mode): \(stream.stdout)\(stream.stderr)")
                    #expect(stream.stdout.contains(#""message": "Hello, web! #5""#) && stream.stdout.contains(#""grpc_status": 0"#), "\(stream.stdout)")
                    let denied = try await runProcess(python, common + ["--call", "unary", "--name", "forbidden"], timeout: 30)
                    #expect(denied.stdout.contains(#""grpc_status": 7"#) && denied.stdout.contains("forbidden may not be greeted"), "\(denied.stdout)")
                    #expect(denied.stdout.contains(#""errors": []"#), "\(denied.stdout)")
                }
            }
            let preflight = try await runProcess(python, [Self.scripts + "/grpcweb_client.py", "--port", "\(port)", "--call", "preflight",
                                                          "--origin", "http://app.example"], timeout: 30)
            #expect(preflight.stdout.contains(#""http_status": 204"#) && preflight.stdout.contains(#""access-control-allow-origin": "http://app.example""#),
                    "\(preflight.stdout)")
        }
    }

    // MARK: REST over every way in

    @Test func restOverHTTP1WithKeepAlive() async throws {
        try await withDemo { port in
            let base = "http://127.0.0.1:\(port)"
            let get = try await curl(["--http1.1", "-w", " %{http_code}", base + "/v1/greetings/ada?language=FRENCH&tags=a&tags=b&options.shout=true"])
            #expect(get.stdout == #"{"message":"BONJOUR, ADA!","tags":["a","b"],"language":"FRENCH"} 200"#, "\(get.stdout)\(get.stderr)")
            let post = try await curl(["--http1.1", "-w", " %{http_code}", "-H", "content-type: application/json",
                                       "-d", #"{"name":"bob","language":"GERMAN","options":{"repeat":"2"}}"#, base + "/v1/greetings"])
            #expect(post.stdout == #"{"message":"Hallo, bob! Hallo, bob!","language":"GERMAN"} 200"#, "\(post.stdout)\(post.stderr)")
            let stream = try await curl(["--http1.1", base + "/v1/greetings/cy/stream?count=3"])
            #expect(stream.stdout == """
                {"result":{"message":"Hello, cy! #1","sequence":"1"}}
                {"result":{"message":"Hello, cy! #2","sequence":"2"}}
                {"result":{"message":"Hello, cy! #3","sequence":"3"}}

                """, "\(stream.stdout)")
            // Three URLs on one keep-alive connection: curl connects once.
            let kept = try await curl(["--http1.1", "-w", "%{num_connects} ",
                                       "-o", "/dev/null", base + "/v1/greetings/a", "-o", "/dev/null", base + "/v1/greetings/b",
                                       "-o", "/dev/null", base + "/healthz"])
            #expect(kept.stdout == "1 0 0 ", "\(kept.stdout)\(kept.stderr)")
        }
    }

    /// RFC 9112 §9.3.2: pipelined requests in one write are answered in order.
    @Test func rfc9112Section9_3_2PipelinedRESTRequestsAreAnsweredInOrder() async throws {
        try await withDemo { port in
            let requests = (1...5).map { "GET /v1/greetings/p\($0) HTTP/1.1\r\nHost: demo\r\n\r\n" }.joined()
                + "GET /healthz HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n"
            let answer = try await exchange(port, requests)
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 7, "\(answer)")
            // Each body after the one before it.
            var rest = answer[...]
            for index in 1...5 {
                guard let found = rest.range(of: #"{"message":"Hello, p\#(index)!"}"#) else {
                    Issue.record("response \(index) missing or out of order: \(answer)")
                    break
                }
                rest = rest[found.upperBound...]
            }
            #expect(answer.contains("ok\n") && answer.contains("connection: close"), "\(answer)")
        }
    }

    @Test func restOverH2CUpgradeAndPriorKnowledge() async throws {
        try await withDemo { port in
            let url = "http://127.0.0.1:\(port)/v1/greetings/h2?language=GERMAN"
            let upgraded = try await curl(["--http2", "-w", " %{http_version}", url])
            #expect(upgraded.stdout == #"{"message":"Hallo, h2!","language":"GERMAN"} 2"#, "\(upgraded.stdout)\(upgraded.stderr)")
            let prior = try await curl(["--http2-prior-knowledge", "-w", " %{http_version}", url])
            #expect(prior.stdout == #"{"message":"Hallo, h2!","language":"GERMAN"} 2"#, "\(prior.stdout)\(prior.stderr)")
            let health = try await curl(["--http2-prior-knowledge", "http://127.0.0.1:\(port)/healthz"])
            #expect(health.stdout == "ok\n")
        }
    }

    @Test func h2loadOverHTTP1AndHTTP2OnTheOnePort() async throws {
        let h2load = try Peer(name: "h2load", package: "nghttp2-client").locate()
        try await withDemo { port in
            let url = "http://127.0.0.1:\(port)/v1/greetings/load"
            for arguments in [["--h1", "-n", "2000", "-c", "4"], ["-n", "2000", "-c", "4", "-m", "10"]] {
                let result = try await runProcess(h2load, arguments + [url], timeout: 120)
                #expect(result.stdout.contains("2000 succeeded, 0 failed, 0 errored"), "h2load \(arguments): \(result.stdout)\(result.stderr)")
                #expect(result.stdout.contains("status codes: 2000 2xx"), "\(result.stdout)")
            }
        }
    }

    // MARK: Failure paths

    @Test func statusesBecomeHTTPStatusesWithJSONBodies() async throws {
        try await withDemo { port in
            let base = "http://127.0.0.1:\(port)"
            let denied = try await curl(["-w", " %{http_code}", base + "/v1/greetings/forbidden"])
            #expect(denied.stdout == #"{"code":7,"message":"forbidden may not be greeted","details":[]} 403"#, "\(denied.stdout)")
            let empty = try await curl(["-w", " %{http_code}", "-d", "{}", base + "/v1/greetings"])
            #expect(empty.stdout == #"{"code":3,"message":"name must not be empty","details":[]} 400"#, "\(empty.stdout)")
            let badJSON = try await curl(["-w", " %{http_code}", "-d", #"{"name":"#, base + "/v1/greetings"])
            #expect(badJSON.stdout.hasPrefix(#"{"code":3,"message":"invalid JSON body: "#) && badJSON.stdout.hasSuffix(" 400"), "\(badJSON.stdout)")
            let unknownField = try await curl(["-w", " %{http_code}", "-d", #"{"name":"a","bogus":1}"#, base + "/v1/greetings"])
            #expect(unknownField.stdout.contains(#"unknown field \"bogus\""#) && unknownField.stdout.hasSuffix(" 400"), "\(unknownField.stdout)")
            let badEnum = try await curl(["-w", " %{http_code}", base + "/v1/greetings/a?language=KLINGON"])
            #expect(badEnum.stdout.hasPrefix(#"{"code":3,"#) && badEnum.stdout.hasSuffix(" 400"), "\(badEnum.stdout)")
            let streamRefused = try await curl(["-w", " %{http_code}", base + "/v1/greetings/a/stream?count=0"])
            #expect(streamRefused.stdout == #"{"error":{"grpc_code":3,"http_code":400,"message":"count must be between 1 and 1000","http_status":"Bad Request"}} 400"#,
                    "\(streamRefused.stdout)")
            let wrongMethod = try await curl(["-X", "DELETE", "-D", "-", "-o", "/dev/null", base + "/v1/greetings/a"])
            #expect(wrongMethod.stdout.hasPrefix("HTTP/1.1 405 ") && wrongMethod.stdout.contains("allow: GET"), "\(wrongMethod.stdout)")
        }
    }

    /// A gateway whose backend is down answers 503 with code 14 (UNAVAILABLE) in the JSON body,
    /// at once; one whose backend never answers, 504 (DEADLINE_EXCEEDED) at the deadline the
    /// request's grpc-timeout set.
    @Test func aBackendThatIsDownIs503AndOneThatHangsIs504AtTheDeadline() async throws {
        let closedPort = try freeLocalPort()
        try await withDemo(["--backend", "127.0.0.1:\(closedPort)"]) { port in
            let started = ContinuousClock.now
            let down = try await curl(["-H", "grpc-timeout: 2S", "-w", " %{http_code}", "http://127.0.0.1:\(port)/v1/greetings/a"])
            #expect(down.stdout.hasPrefix(#"{"code":14,"message":"cannot connect to 127.0.0.1:\#(closedPort)"#) && down.stdout.hasSuffix(" 503"),
                    "\(down.stdout)")
            #expect(ContinuousClock.now - started < .seconds(3))
        }
        // A listener that accepts and never answers (no SETTINGS, no response).
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(silent, 16)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(silent, $0, &length) } }
        let silentPort = Int(UInt16(bigEndian: address.sin_port))
        try await withDemo(["--backend", "127.0.0.1:\(silentPort)"]) { port in
            let started = ContinuousClock.now
            let hung = try await curl(["-H", "grpc-timeout: 1S", "-w", " %{http_code}", "http://127.0.0.1:\(port)/v1/greetings/a"])
            let elapsed = ContinuousClock.now - started
            #expect(hung.stdout.hasPrefix(#"{"code":4,"#) && hung.stdout.hasSuffix(" 504"), "\(hung.stdout)")
            #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10), "\(elapsed)")
        }
    }

    /// RFC 9112 §6.3 (request smuggling): Content-Length with Transfer-Encoding is refused with
    /// 400 and the connection closes; garbage bytes are closed; a good client on another
    /// connection is served all along.
    @Test func rfc9112Section6_3SmugglingIs400AndGarbageIsClosedWhileAGoodClientIsServed() async throws {
        try await withDemo { port in
            async let good = curl(["--http1.1", "-w", "%{http_code} "]
                                  + (1...50).flatMap { ["-o", "/dev/null", "http://127.0.0.1:\(port)/v1/greetings/good\($0)"] })
            let smuggled = try await exchange(port, "POST /v1/greetings HTTP/1.1\r\nHost: demo\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/greetings/x HTTP/1.1\r\nHost: demo\r\n\r\n")
            #expect(smuggled.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && smuggled.contains("connection: close"), "\(smuggled)")
            #expect(smuggled.components(separatedBy: "HTTP/1.1").count == 2, "nothing after the 400: \(smuggled)")
            for garbage in ["\u{00}\u{01}\u{02}junk", "\u{16}\u{03}\u{01}\u{00}\u{05}hello", "get / http/1.1\r\n\r\n"] {
                #expect(try await exchange(port, garbage).isEmpty, "closed without an answer: \(garbage.debugDescription)")
            }
            let served = try await good
            #expect(served.stdout == String(repeating: "200 ", count: 50), "\(served.stdout)\(served.stderr)")
        }
    }

    /// Writes `text` on a new connection and reads until the server closes it (10 s at most),
    /// on a thread of its own.
    private func exchange(_ port: Int, _ text: String) async throws -> String {
        try await onThread { try Self.blockingExchange(port, text) }
    }

    private static func blockingExchange(_ port: Int, _ text: String) throws -> String {
        let fd = connectRawTCP(port, receiveTimeout: 10)
        guard fd >= 0 else { throw InteropError("cannot connect to 127.0.0.1:\(port)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { break }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }
}
