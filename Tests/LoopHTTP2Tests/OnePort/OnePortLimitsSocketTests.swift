import Foundation
import InteropTestSupport
import Loop
import LoopHTTP1
import Testing
@testable import LoopHTTP2

/// The abusive side of a one-port HTTP2Server on real sockets: smuggling and malformed
/// requests (RFC 9112), limits, timeouts and bytes that are no HTTP. Each gets its exact
/// answer and the close, while a good client is served on another connection
/// (OnePortSocketTests.withGoodClient). Time: lower bounds from before the connect (the
/// server's clocks start later), upper bounds from after the first write, loose (the
/// machine is loaded).
@Suite(.serialized) struct OnePortLimitsSocketTests {
    typealias Server = OnePortSocketTests.Server

    /// What follows the bad request in the same write: it must never be answered.
    static let smuggled = "GET /n/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

    /// Sends `request` (with a smuggled request behind it) while a good client is served;
    /// expects `status` with our error head (`connection: close`) and then the close.
    static func expectRejected(_ request: String, status: Int, sourceLocation: SourceLocation = #_sourceLocation,
                               _ configure: (inout HTTP2Configuration, inout HTTP1Options) -> Void = { _, _ in }) async throws {
        let server = try await OnePortSocketTests.start(configure)
        try await OnePortSocketTests.withGoodClient(server, sourceLocation: sourceLocation) {
            let connection = try RawHTTP1Connection(port: server.port)
            try await connection.send(request + smuggled)
            let response = try await connection.readResponse()
            let reason = HTTP1ResponseEncoder.reasonPhrase(status)
            #expect(response.text.hasPrefix("HTTP/1.1 \(status) \(reason)\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                            + "content-length: \(response.body.count)\r\nconnection: close\r\n\r\n"),
                    "\(response)", sourceLocation: sourceLocation)
            #expect(response.body.count > 1 && response.body.last == UInt8(ascii: "\n"), "a reason: \(response)", sourceLocation: sourceLocation)
            let rest = try await connection.readUntilClosed()
            #expect(rest.isEmpty, "after the \(status): \(String(decoding: rest, as: UTF8.self).debugDescription)", sourceLocation: sourceLocation)
        }
        try await server.stop()
    }

    // MARK: Smuggling and malformed fields: 400 and close

    @Test func rfc9112Section6_3ContentLengthWithTransferEncodingIs400AndTheRequestBehindIsNotServed() async throws {
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
    }

    @Test func rfc9112Section6_3DuplicateContentLengthsAre400() async throws {
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello ", status: 400)
    }

    @Test func rfc9112Section6_3AnInvalidContentLengthIs400() async throws {
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", status: 400)
    }

    @Test func rfc9112Section7_1AnInvalidChunkSizeIs400() async throws {
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400)
    }

    @Test func rfc9112Section5_2ObsFoldIs400() async throws {
        try await Self.expectRejected("GET /n/1 HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", status: 400)
    }

    @Test func rfc9112Section2_2ABareCRIs400() async throws {
        try await Self.expectRejected("GET /n/1 HTTP/1.1\r\nHost: a\r\nX-Bare: one\rtwo\r\n\r\n", status: 400)
    }

    @Test func rfc9112Section5_1WhitespaceBeforeTheColonIs400() async throws {
        try await Self.expectRejected("GET /n/1 HTTP/1.1\r\nHost : a\r\n\r\n", status: 400)
    }

    // MARK: Limits

    @Test func rfc9112Section3ARequestLineOverTheLimitIs414() async throws {
        try await Self.expectRejected("GET /n/" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n", status: 414)
    }

    @Test func rfc6585Section5TooManyFieldsAre431() async throws {
        let fields = (0..<101).map { "X-\($0): v\r\n" }.joined()
        try await Self.expectRejected("GET /n/1 HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", status: 431)
    }

    @Test func rfc6585Section5FieldsOverTheSizeLimitAre431() async throws {
        try await Self.expectRejected("GET /n/1 HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 17 * 1024))\r\n\r\n", status: 431)
    }

    @Test func rfc9110Section15_5_14AContentLengthOverTheLimitIs413() async throws {
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" + String(repeating: "x", count: 2000), status: 413) { _, http1 in
            http1.limits.maxBodySize = 1024
        }
    }

    @Test func rfc9110Section15_5_14AChunkedBodyOverTheLimitIs413() async throws {
        let chunk = "400\r\n" + String(repeating: "x", count: 1024) + "\r\n"
        try await Self.expectRejected("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "0\r\n\r\n", status: 413) { _, http1 in
            http1.limits.maxBodySize = 1024
        }
    }

    // MARK: Timeouts

    @Test func aSilentConnectionIsClosedAfterTheDetectionTimeout() async throws {
        let server = try await OnePortSocketTests.start { _, http1 in http1.detectionTimeout = .milliseconds(300) }
        try await OnePortSocketTests.withGoodClient(server) {
            let beforeConnect = ContinuousClock.now
            let connection = try RawHTTP1Connection(port: server.port)
            let connected = ContinuousClock.now
            #expect(try await connection.readUntilClosed().isEmpty)
            #expect(ContinuousClock.now - beforeConnect >= .milliseconds(300), "closed after \(ContinuousClock.now - beforeConnect)")
            #expect(ContinuousClock.now - connected < .seconds(5), "closed after \(ContinuousClock.now - connected)")
        }
        try await server.stop()
    }

    /// The detectors' deadlines are one list per loop (DetectionDeadlines) with one timer for
    /// its head: connections that started at different times each get their own full wait,
    /// and one that decided in between (an HTTP/1.1 request, served) leaves the list without
    /// disturbing the others.
    @Test func staggeredSilentConnectionsEachWaitTheirOwnDetectionTimeout() async throws {
        let server = try await OnePortSocketTests.start { _, http1 in http1.detectionTimeout = .milliseconds(400) }
        try await OnePortSocketTests.withGoodClient(server) {
            var silent: [(connection: RawHTTP1Connection, connected: ContinuousClock.Instant)] = []
            for index in 0..<3 {
                if index > 0 { try await Task.sleep(for: .milliseconds(150)) }
                let beforeConnect = ContinuousClock.now
                silent.append((try RawHTTP1Connection(port: server.port), beforeConnect))
                if index == 1 {
                    // Decides at once: out of the list, answered, and the others still wait.
                    let speaker = try RawHTTP1Connection(port: server.port)
                    try await speaker.send("GET /n/hi HTTP/1.1\r\nHost: a\r\n\r\n")
                    let response = try await speaker.readResponse()
                    #expect(response.status == 200, "\(response)")
                }
            }
            for (index, entry) in silent.enumerated() {
                #expect(try await entry.connection.readUntilClosed().isEmpty)
                let waited = ContinuousClock.now - entry.connected
                #expect(waited >= .milliseconds(400), "silent connection \(index) closed after \(waited)")
                #expect(waited < .seconds(5), "silent connection \(index) closed after \(waited)")
            }
        }
        try await server.stop()
    }

    @Test func rfc9110Section15_5_9ATrickledHeadGets408AfterTheRequestHeadTimeout() async throws {
        let server = try await OnePortSocketTests.start { _, http1 in http1.requestHeadTimeout = .milliseconds(500) }
        try await OnePortSocketTests.withGoodClient(server) {
            let beforeConnect = ContinuousClock.now
            let connection = try RawHTTP1Connection(port: server.port)
            try await connection.send("GET /n/slow HTTP/1.1\r\n")
            let written = ContinuousClock.now
            // A byte every 20 ms, never the head's end (200 at most: 4 s).
            let trickle = Task {
                for _ in 0..<200 {
                    guard (try? await connection.send("H")) != nil else { return }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            let response = try await connection.readResponse()
            let elapsed = (ContinuousClock.now - beforeConnect, ContinuousClock.now - written)
            trickle.cancel()
            #expect(response.status == 408, "\(response)")
            #expect(response.text.hasPrefix("HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"), "\(response)")
            #expect(response.field("connection") == "close")
            #expect(response.bodyText.hasPrefix("the request head did not arrive within"), "\(response)")
            #expect(elapsed.0 >= .milliseconds(500) && elapsed.1 < .seconds(4), "408 after \(elapsed.0) (\(elapsed.1) after the first write)")
            _ = try await connection.readUntilClosed()
            _ = await trickle.value
        }
        try await server.stop()
    }

    // MARK: Bytes that are no HTTP

    /// A TLS 1.2 ClientHello record (RFC 8446 §5.1, §4.1.2): one cipher suite, no extensions.
    static let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x2F, 0x01, 0x00, 0x00, 0x2B, 0x03, 0x03]
        + [UInt8](repeating: 0x5A, count: 32) + [0x00, 0x00, 0x02, 0xC0, 0x2F, 0x01, 0x00, 0x00, 0x00]

    @Test func rfc8446Section5_1ATLSClientHelloOnTheCleartextPortIsClosed() async throws {
        let server = try await OnePortSocketTests.start()
        try await OnePortSocketTests.withGoodClient(server) {
            let connection = try RawHTTP1Connection(port: server.port)
            try await connection.send(Self.clientHello)
            let written = ContinuousClock.now
            #expect(try await connection.readUntilClosed().isEmpty, "nothing is answered")
            #expect(ContinuousClock.now - written < .seconds(5))
        }
        try await server.stop()
    }

    @Test(arguments: [[0x00, 0x01, 0x02, 0xFF, 0x0D, 0x0A], Array("get / HTTP/1.1\r\n\r\n".utf8), Array("\r\n\r\n".utf8)])
    func bytesThatAreNoHTTPAreClosed(_ garbage: [UInt8]) async throws {
        let server = try await OnePortSocketTests.start()
        try await OnePortSocketTests.withGoodClient(server) {
            let connection = try RawHTTP1Connection(port: server.port)
            try await connection.send(garbage)
            let written = ContinuousClock.now
            #expect(try await connection.readUntilClosed().isEmpty, "nothing is answered")
            #expect(ContinuousClock.now - written < .seconds(5))
        }
        try await server.stop()
    }

    /// A request line that is not HTTP/1.x: 505 (RFC 9112 §2.3) or 400, and the close.
    @Test func rfc9112Section2_3AnUnsupportedVersionIs505() async throws {
        try await Self.expectRejected("GET /n/1 HTTP/2.0\r\nHost: a\r\n\r\n", status: 505)
    }
}
