import Loop
@testable import LoopHTTP1
import Testing

/// The response parser, bytes in and parts out: what RFC 9112 asks of a client, fed whole and
/// a byte at a time (the same parts either way), and every refusal (502) with its reason.
@Suite struct HTTP1ResponseParserTests {
    enum Part: Equatable, CustomStringConvertible {
        case head(Int, [String])
        case body(String)
        case end([String])

        var description: String {
            switch self {
            case .head(let status, let fields): return "head(\(status) \(fields))"
            case .body(let text): return "body(\(text))"
            case .end(let trailers): return "end(\(trailers))"
            }
        }
    }

    /// Every part of `text`, the responses to `methods`; body pieces joined; `finish()` at the end.
    static func parse(_ text: String, methods: [String] = ["GET"], limits: HTTP1Limits = HTTP1Limits(),
                      byteByByte: Bool = false, finish: Bool = true) throws(HTTP1ParseError) -> [Part] {
        var parser = HTTP1ResponseParser(limits: limits)
        for method in methods { parser.expectResponse(to: method) }
        var parts: [Part] = []
        var input = ByteBuffer()
        func add(_ part: HTTP1ResponsePart) {
            switch part {
            case .head(let head):
                parts.append(.head(head.status, head.fields.map { "\($0.name)=\($0.value)" }))
            case .body(let bytes):
                let text = String(decoding: bytes.readableBytesView, as: UTF8.self)
                if case .body(let previous) = parts.last { parts[parts.count - 1] = .body(previous + text) } else { parts.append(.body(text)) }
            case .end(let trailers):
                parts.append(.end(trailers.map { "\($0.name)=\($0.value)" }))
            }
        }
        func drain() throws(HTTP1ParseError) {
            while let part = try parser.next(&input) { add(part) }
        }
        if byteByByte {
            for byte in text.utf8 {
                input.writeInteger(byte)
                try drain()
            }
        } else {
            input.writeString(text)
            try drain()
        }
        if finish, let part = try parser.finish() { add(part) }
        return parts
    }

    /// Parses `text` whole and byte by byte; both must agree.
    static func parts(_ text: String, methods: [String] = ["GET"], limits: HTTP1Limits = HTTP1Limits()) throws -> [Part] {
        let whole = try parse(text, methods: methods, limits: limits)
        let trickled = try parse(text, methods: methods, limits: limits, byteByByte: true)
        #expect(whole == trickled)
        return whole
    }

    /// The error `text` gets, fed whole and byte by byte (the same either way).
    static func refusal(_ text: String, methods: [String] = ["GET"], limits: HTTP1Limits = HTTP1Limits()) -> HTTP1ParseError? {
        var errors: [HTTP1ParseError] = []
        for byteByByte in [false, true] {
            do {
                _ = try parse(text, methods: methods, limits: limits, byteByByte: byteByByte)
            } catch {
                errors.append(error)
            }
        }
        #expect(errors.count == 2, "fed whole and byte by byte, \(text.debugDescription) must fail both ways: \(errors)")
        #expect(errors.first == errors.last)
        return errors.first
    }

    /// The first head of `text` (a response to `method`).
    static func head(_ text: String, method: String = "GET") throws -> HTTP1ResponseHead? {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(to: method)
        var input = ByteBuffer(string: text)
        guard case .head(let head) = try parser.next(&input) else { return nil }
        return head
    }

    // MARK: Accepted

    /// RFC 9112 §4: status-line; §6.2: a Content-Length body; §9.3.2: pipelined responses in order.
    @Test func pipelinedResponsesWithContentLength_rfc9112_section9_3_2() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        #expect(try Self.parts(text, methods: ["GET", "GET"]) == [
            .head(200, ["Content-Length=5"]), .body("hello"), .end([]),
            .head(404, ["Content-Length=0"]), .end([]),
        ])
    }

    /// RFC 9112 §4: the version, the 3-digit status and the reason phrase (optional, empty
    /// with or without its space).
    @Test func statusLine_rfc9112_section4() throws {
        let ok = try #require(try Self.head("HTTP/1.1 200 OK, fine\r\nContent-Length: 0\r\n\r\n"))
        #expect(ok.status == 200 && ok.version == .http1_1 && ok.reason == "OK, fine" && ok.framing == .none)
        let bare = try #require(try Self.head("HTTP/1.0 503\r\nContent-Length: 0\r\n\r\n"))
        #expect(bare.status == 503 && bare.version == .http1_0 && bare.reason == "")
        let space = try #require(try Self.head("HTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n"))
        #expect(space.status == 201 && space.reason == "")
    }

    /// RFC 9112 §7.1: a chunked body with extensions ignored, §7.1.2: trailer fields.
    @Test func chunkedBodyWithTrailers_rfc9112_section7_1() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\ngrpc-status: 0\r\n\r\n"
        #expect(try Self.parts(text) == [
            .head(200, ["Transfer-Encoding=chunked"]), .body("hello, world"), .end(["grpc-status=0"]),
        ])
    }

    /// RFC 9112 §6.3 ¶8: neither Content-Length nor Transfer-Encoding: the body runs until the
    /// close, and `finish()` ends it; such a connection is not kept.
    @Test func closeDelimitedBody_rfc9112_section6_3() throws {
        #expect(try Self.parts("HTTP/1.1 200 OK\r\n\r\nall of it") == [.head(200, []), .body("all of it"), .end([])])
        #expect(try Self.parts("HTTP/1.0 200 OK\r\n\r\n") == [.head(200, []), .end([])])
        let head = try #require(try Self.head("HTTP/1.1 200 OK\r\n\r\nabc"))
        #expect(head.framing == .untilClose && !head.keepAlive)
    }

    /// RFC 9112 §6.3 ¶1: responses to HEAD, and 1xx, 204, 304, have no body whatever their
    /// fields say; the next response follows at once.
    @Test func bodilessResponses_rfc9112_section6_3() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        #expect(try Self.parts(text, methods: ["HEAD", "GET", "GET", "GET"]) == [
            .head(200, ["Content-Length=5"]), .end([]),
            .head(204, []), .end([]),
            .head(304, ["Content-Length=9"]), .end([]),
            .head(200, ["Content-Length=2"]), .body("ok"), .end([]),
        ])
    }

    /// RFC 9110 §15.2: interim 1xx responses come as their own heads before the final one.
    @Test func interimResponsesBeforeTheFinalOne_rfc9110_section15_2() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
        #expect(try Self.parts(text) == [
            .head(100, []), .head(103, ["Link=</a.css>; rel=preload"]), .head(200, ["Content-Length=1"]), .body("x"), .end([]),
        ])
    }

    /// RFC 9110 §15.2.2 (101) and RFC 9112 §6.3 ¶2 (2xx to CONNECT): the response ends at its
    /// head and the bytes after it belong to the new protocol, left in the buffer.
    @Test func switchingProtocolsAndConnect_rfc9112_section6_3() throws {
        for (text, method) in [("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nPRI", "GET"),
                               ("HTTP/1.1 200 Connection Established\r\nContent-Length: 9\r\n\r\nPRI", "CONNECT")] {
            var parser = HTTP1ResponseParser()
            parser.expectResponse(to: method)
            var input = ByteBuffer(string: text)
            guard case .head = try parser.next(&input) else { Issue.record("no head"); continue }
            #expect(try parser.next(&input) == .end(trailers: HTTP1Fields()))
            #expect(try parser.next(&input) == nil)
            #expect(parser.hasSwitchedProtocols)
            #expect(String(decoding: input.readableBytesView, as: UTF8.self) == "PRI")
        }
        // A CONNECT refused keeps HTTP/1.1, and its body.
        #expect(try Self.parts("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", methods: ["CONNECT"]) == [
            .head(403, ["Content-Length=2"]), .body("no"), .end([]),
        ])
    }

    /// RFC 9112 §9.3: persistence. HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive.
    @Test func keepAlive_rfc9112_section9_3() throws {
        #expect(try Self.head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?.keepAlive == true)
        #expect(try Self.head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")?.keepAlive == false)
        #expect(try Self.head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")?.keepAlive == false)
        #expect(try Self.head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")?.keepAlive == true)
    }

    /// Between responses the parser is idle; EOF there is clean.
    @Test func idleAndFinish_rfc9112_section9_6() throws {
        var parser = HTTP1ResponseParser()
        #expect(parser.isIdle)
        parser.expectResponse(to: "GET")
        #expect(parser.pendingResponses == 1)
        var input = ByteBuffer(string: "HTTP/1.1 204 No Content\r\n\r\n")
        _ = try parser.next(&input)
        #expect(!parser.isIdle && parser.pendingResponses == 0)
        _ = try parser.next(&input)
        #expect(parser.isIdle)
        #expect(try parser.finish() == nil)
        // EOF right after a head whose end was not taken yet: the end, then nothing.
        var late = HTTP1ResponseParser()
        late.expectResponse(to: "GET")
        var bodiless = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        _ = try late.next(&bodiless)
        #expect(try late.finish() == .end(trailers: HTTP1Fields()))
        #expect(try late.finish() == nil)
    }

    // MARK: Refused: framing

    /// RFC 9112 §8: a response cut short by the close, or never sent, is an error.
    @Test func incompleteResponses_rfc9112_section8() {
        let cut = "the connection closed in the middle of a response (RFC 9112 §8)"
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel") == HTTP1ParseError(status: 502, cut))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n") == HTTP1ParseError(status: 502, cut))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nContent-") == HTTP1ParseError(status: 502, cut))
        #expect(Self.refusal("") == HTTP1ParseError(status: 502, "the connection closed before the response to GET (RFC 9112 §8)"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\n\r\n", methods: []) == HTTP1ParseError(status: 502, "a response without a request (RFC 9112 §9.3)"))
    }

    /// RFC 9112 §6.3: Transfer-Encoding with Content-Length, duplicate or invalid
    /// Content-Length, codings other than chunked, Transfer-Encoding in HTTP/1.0: refused
    /// (even where the response has no body).
    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding with Content-Length (RFC 9112 §6.3)"),
        ("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", "Transfer-Encoding with Content-Length (RFC 9112 §6.3)"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "more than one Content-Length field (RFC 9112 §6.3)"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "invalid Content-Length \"5, 5\" (RFC 9112 §6.3)"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length \"-1\" (RFC 9112 §6.3)"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "transfer coding gzip is not supported (RFC 9112 §6.1)"),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1)"),
    ])
    func smugglingFramingIsRefused_rfc9112_section6_3(text: String, reason: String) {
        #expect(Self.refusal(text) == HTTP1ParseError(status: 502, reason))
    }

    /// RFC 9112 §4 status line, §5.2 obs-fold, §5.1 whitespace before the colon, §2.2 bare CR
    /// and bare LF, RFC 9110 §5.5 controls, §15 the status range, §2.3 the version.
    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", "obsolete line folding (RFC 9112 §5.2)"),
        ("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "whitespace between a field name and the colon (RFC 9112 §5.1)"),
        ("HTTP/1.1 200 OK\r\nX: y\rZ: w\r\n\r\n", "bare CR in the message head (RFC 9112 §2.2)"),
        ("HTTP/1.1 200 OK\nX: y\r\n\r\n", "line ended by a bare LF (RFC 9112 §2.2)"),
        ("HTTP/1.1 200 OK\r\nX: a\u{1}b\r\n\r\n", "control character in the value of X (RFC 9110 §5.5)"),
        ("HTTP/1.1 200 O\u{1}K\r\n\r\n", "control character in the reason phrase (RFC 9112 §4)"),
        ("\r\nHTTP/1.1 200 OK\r\n\r\n", "empty line before the status line (RFC 9112 §4)"),
        ("HTTP/1.1 20 OK\r\n\r\n", "malformed status line: the status code must be 3 digits (RFC 9112 §4)"),
        ("HTTP/1.1 2000 OK\r\n\r\n", "malformed status line: the status code must be 3 digits (RFC 9112 §4)"),
        ("HTTP/1.1 600 Odd\r\n\r\n", "status code 600 outside 100…599 (RFC 9110 §15)"),
        ("HTTP/1.1  200 OK\r\n\r\n", "malformed status line: the status code must be 3 digits (RFC 9112 §4)"),
        ("HTTP/1.1\r\n\r\n", "malformed status line: the version must be followed by one space and a status code (RFC 9112 §4)"),
        ("HTTP/2.0 200 OK\r\n\r\n", "HTTP version HTTP/2.0 is not supported (RFC 9112 §2.3)"),
        ("http/1.1 200 OK\r\n\r\n", "malformed status line: no HTTP version (RFC 9112 §4)"),
    ])
    func malformedHeadsAreRefused_rfc9112_section4(text: String, reason: String) {
        #expect(Self.refusal(text) == HTTP1ParseError(status: 502, reason))
    }

    /// RFC 9112 §7.1: invalid chunk sizes and a chunk not followed by CRLF.
    @Test(arguments: [
        ("g\r\n", "invalid chunk size (RFC 9112 §7.1)"),
        ("5\r\nhelloXX0\r\n\r\n", "chunk data not followed by CRLF (RFC 9112 §7.1)"),
        ("5\rhello", "bare CR after a chunk size (RFC 9112 §2.2)"),
    ])
    func badChunksAreRefused_rfc9112_section7_1(body: String, reason: String) {
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body) == HTTP1ParseError(status: 502, reason))
    }

    // MARK: Refused: limits

    @Test func limitsNameWhatWasExceeded() throws {
        var limits = HTTP1Limits()
        limits.maxStatusLineLength = 32
        limits.maxFields = 2
        limits.maxFieldBytes = 64
        limits.maxBodySize = 10
        let long = "HTTP/1.1 200 " + String(repeating: "a", count: 40) + "\r\n\r\n"
        #expect(Self.refusal(long, limits: limits) == HTTP1ParseError(status: 502, "status line longer than 32 bytes"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits) == HTTP1ParseError(status: 502, "more than 2 header fields"))
        let large = "HTTP/1.1 200 OK\r\nA: " + String(repeating: "x", count: 100) + "\r\n\r\n"
        #expect(Self.refusal(large, limits: limits) == HTTP1ParseError(status: 502, "header fields larger than 64 bytes"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limits: limits) == HTTP1ParseError(status: 502, "Content-Length 11 is larger than 10 bytes"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n6\r\n", limits: limits)
                == HTTP1ParseError(status: 502, "chunked body larger than 10 bytes"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "z", count: 11), limits: limits)
                == HTTP1ParseError(status: 502, "body larger than 10 bytes"))
        #expect(Self.refusal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits)
                == HTTP1ParseError(status: 502, "more than 2 trailer fields"))
        // A HEAD response's Content-Length is not a body: no limit applies.
        #expect(try Self.parts("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", methods: ["HEAD"], limits: limits) == [
            .head(200, ["Content-Length=99"]), .end([]),
        ])
    }

    /// After an error nothing more is parsed: the connection must close.
    @Test func anErrorIsFinal() {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(to: "GET")
        parser.expectResponse(to: "GET")
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nX : y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(throws: HTTP1ParseError.self) { _ = try parser.next(&input) }
        #expect(throws: HTTP1ParseError.self) { _ = try parser.next(&input) }
        #expect(throws: HTTP1ParseError.self) { _ = try parser.finish() }
    }

    // MARK: Round trip

    /// The server's `HTTP1ResponseEncoder` output, through this parser: Content-Length,
    /// chunked with trailers, HTTP/1.0 close-delimited, HEAD, 204 (RFC 9112 §6).
    @Test func responseEncoderRoundTrip_rfc9112_section6() throws {
        func encoded(_ version: HTTP1Version, _ method: String, status: Int, length: Int?, body: [String], trailers: HTTP1Fields = HTTP1Fields()) -> String {
            var encoder = HTTP1ResponseEncoder(version: version, requestMethod: method)
            var out = ByteBuffer()
            encoder.writeHead(HTTP1ResponseHead(status: status, fields: HTTP1Fields([("x", "1")])), contentLength: length, keepAlive: true, into: &out)
            for piece in body { encoder.writeBody(ByteBuffer(string: piece), into: &out) }
            encoder.writeEnd(trailers: trailers, into: &out)
            return String(decoding: out.readableBytesView, as: UTF8.self)
        }
        let text = encoded(.http1_1, "GET", status: 200, length: 5, body: ["hel", "lo"])
            + encoded(.http1_1, "POST", status: 201, length: nil, body: ["a", "bc"], trailers: HTTP1Fields([("grpc-status", "0")]))
            + encoded(.http1_1, "HEAD", status: 200, length: 7, body: [])
            + encoded(.http1_1, "GET", status: 204, length: nil, body: [])
            + encoded(.http1_0, "GET", status: 200, length: nil, body: ["until ", "close"])
        #expect(try Self.parts(text, methods: ["GET", "POST", "HEAD", "GET", "GET"]) == [
            .head(200, ["x=1", "content-length=5"]), .body("hello"), .end([]),
            .head(201, ["x=1", "transfer-encoding=chunked"]), .body("abc"), .end(["grpc-status=0"]),
            .head(200, ["x=1", "content-length=7"]), .end([]),
            .head(204, ["x=1"]), .end([]),
            .head(200, ["x=1", "connection=close"]), .body("until close"), .end([]),
        ])
    }
}
