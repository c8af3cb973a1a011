import Loop
@testable import LoopHTTP1
import Testing

/// The request parser, bytes in and parts out: what RFC 9112 requires, fed whole and a byte
/// at a time (the same parts either way), and every refusal with its status.
@Suite struct HTTP1RequestParserTests {
    enum Part: Equatable, CustomStringConvertible {
        case head(String, String, [String])
        case body(String)
        case end([String])

        var description: String {
            switch self {
            case .head(let method, let target, let fields): return "head(\(method) \(target) \(fields))"
            case .body(let text): return "body(\(text))"
            case .end(let trailers): return "end(\(trailers))"
            }
        }
    }

    /// Every part of `text`, fed whole; body pieces joined per request.
    static func parse(_ text: String, limits: HTTP1Limits = HTTP1Limits(), byteByByte: Bool = false) throws(HTTP1ParseError) -> [Part] {
        var parser = HTTP1RequestParser(limits: limits)
        var parts: [Part] = []
        var input = ByteBuffer()
        func drain() throws(HTTP1ParseError) {
            while let part = try parser.next(&input) {
                switch part {
                case .head(let head):
                    parts.append(.head(head.method, head.target, head.fields.map { "\($0.name)=\($0.value)" }))
                case .body(let bytes):
                    let text = String(decoding: bytes.readableBytesView, as: UTF8.self)
                    if case .body(let previous) = parts.last { parts[parts.count - 1] = .body(previous + text) } else { parts.append(.body(text)) }
                case .end(let trailers):
                    parts.append(.end(trailers.map { "\($0.name)=\($0.value)" }))
                }
            }
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
        return parts
    }

    /// Parses `text` whole and byte by byte; both must agree.
    static func parts(_ text: String, limits: HTTP1Limits = HTTP1Limits()) throws -> [Part] {
        let whole = try parse(text, limits: limits)
        let trickled = try parse(text, limits: limits, byteByByte: true)
        #expect(whole == trickled)
        return whole
    }

    /// The error `text` gets, fed whole and byte by byte (the same either way).
    static func refusal(_ text: String, limits: HTTP1Limits = HTTP1Limits()) -> HTTP1ParseError? {
        var errors: [HTTP1ParseError] = []
        for byteByByte in [false, true] {
            do {
                _ = try parse(text, limits: limits, byteByByte: byteByByte)
            } catch {
                errors.append(error)
            }
        }
        #expect(errors.count == 2, "fed whole and byte by byte, \(text.debugDescription) must fail both ways: \(errors)")
        #expect(errors.first == errors.last)
        return errors.first
    }

    // MARK: Accepted

    /// RFC 9112 §3: request-line; §5: field lines with OWS trimmed; no body without framing.
    @Test func aGetRequest_rfc9112_section3() throws {
        #expect(try Self.parts("GET /hello?x=1 HTTP/1.1\r\nHost: a.example\r\nAccept:  */* \r\n\r\n") == [
            .head("GET", "/hello?x=1", ["Host=a.example", "Accept=*/*"]), .end([]),
        ])
    }

    /// RFC 9112 §6.2: a Content-Length body, then the next request on the same connection
    /// (pipelining, §9.3.2): parts come out in order.
    @Test func pipelinedRequestsWithContentLength_rfc9112_section9_3_2() throws {
        let text = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(try Self.parts(text) == [
            .head("POST", "/a", ["Host=h", "Content-Length=5"]), .body("hello"), .end([]),
            .head("GET", "/b", ["Host=h"]), .end([]),
        ])
    }

    /// RFC 9112 §7.1: chunked body with extensions ignored, §7.1.2: trailer fields.
    @Test func chunkedBodyWithExtensionsAndTrailers_rfc9112_section7_1() throws {
        let text = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nx-checksum: 42\r\n\r\n"
        #expect(try Self.parts(text) == [
            .head("POST", "/c", ["Host=h", "Transfer-Encoding=chunked"]), .body("hello, world!!!"), .end(["x-checksum=42"]),
        ])
    }

    /// RFC 9112 §2.2: an empty line before the request line is ignored.
    @Test func leadingEmptyLineIsIgnored_rfc9112_section2_2() throws {
        #expect(try Self.parts("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == [.head("GET", "/", ["Host=h"]), .end([])])
    }

    /// RFC 9112 §9.3: persistence; RFC 9110 §10.1.1: Expect: 100-continue; RFC 7540 §3.2: Upgrade.
    @Test func keepAliveExpectAndUpgrade_rfc9112_section9_3() throws {
        var parser = HTTP1RequestParser()
        var input = ByteBuffer(string: "GET / HTTP/1.0\r\n\r\n")
        guard case .head(let old) = try parser.next(&input) else { Issue.record("no head"); return }
        #expect(!old.keepAlive)
        _ = try parser.next(&input)
        input.writeString("POST /u HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
        guard case .head(let head) = try parser.next(&input) else { Issue.record("no head"); return }
        #expect(head.keepAlive && head.expectsContinue && head.upgradeProtocols == ["h2c"])
        #expect(head.framing == .length(1) && head.path == "/u" && head.query == nil)
        _ = try parser.next(&input)
        input.writeString("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        _ = try parser.next(&input)
        guard case .head(let closing) = try parser.next(&input) else { Issue.record("no head"); return }
        #expect(!closing.keepAlive)
    }

    // MARK: Refused: smuggling

    /// RFC 9112 §6.3: Transfer-Encoding with Content-Length is refused, not resolved.
    @Test func transferEncodingWithContentLengthIs400_rfc9112_section6_3() {
        let error = Self.refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(error == HTTP1ParseError(status: 400, "Transfer-Encoding with Content-Length (RFC 9112 §6.3)"))
    }

    /// RFC 9112 §6.3: duplicate or invalid Content-Length.
    @Test(arguments: [
        ("Content-Length: 5\r\nContent-Length: 5\r\n", "more than one Content-Length field (RFC 9112 §6.3)"),
        ("Content-Length: 5, 5\r\n", "invalid Content-Length \"5, 5\" (RFC 9112 §6.3)"),
        ("Content-Length: +5\r\n", "invalid Content-Length \"+5\" (RFC 9112 §6.3)"),
        ("Content-Length: 0x5\r\n", "invalid Content-Length \"0x5\" (RFC 9112 §6.3)"),
        ("Content-Length: 99999999999999999999\r\n", "invalid Content-Length \"99999999999999999999\" (RFC 9112 §6.3)"),
        ("Content-Length: \r\n", "invalid Content-Length \"\" (RFC 9112 §6.3)"),
    ])
    func badContentLengthIs400_rfc9112_section6_3(field: String, reason: String) {
        #expect(Self.refusal("POST / HTTP/1.1\r\nHost: h\r\n\(field)\r\nhello") == HTTP1ParseError(status: 400, reason))
    }

    /// RFC 9112 §6.1, §6.3: chunked must be the final coding, only once; unknown codings 501;
    /// none in HTTP/1.0.
    @Test(arguments: [
        ("HTTP/1.1", "Transfer-Encoding: gzip\r\n", 400, "Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)"),
        ("HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n", 400, "Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)"),
        ("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n", 501, "transfer coding gzip is not supported (RFC 9112 §6.1)"),
        ("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501, "transfer coding chunked is not supported (RFC 9112 §6.1)"),
        ("HTTP/1.0", "Transfer-Encoding: chunked\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)"),
    ])
    func transferEncodingRules_rfc9112_section6_1(version: String, field: String, status: Int, reason: String) {
        #expect(Self.refusal("POST / \(version)\r\nHost: h\r\n\(field)\r\n0\r\n\r\n") == HTTP1ParseError(status: status, reason))
    }

    /// RFC 9112 §5.2 obs-fold, §5.1 whitespace before the colon, §2.2 bare CR and bare LF.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", "obsolete line folding (RFC 9112 §5.2)"),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace between a field name and the colon (RFC 9112 §5.1)"),
        ("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", "bare CR in the message head (RFC 9112 §2.2)"),
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", "line ended by a bare LF (RFC 9112 §2.2)"),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7F}b\r\n\r\n", "control character in the value of X (RFC 9110 §5.5)"),
        ("GET / HTTP/1.1\r\n: v\r\nHost: h\r\n\r\n", "a field line with an empty name (RFC 9112 §5)"),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "malformed request line: the target must be followed by one space and the version (RFC 9112 §3)"),
        ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "malformed request line: no HTTP version (RFC 9112 §3)"),
        ("GET /\r\n\r\n", "malformed request line: the target must be followed by one space and the version (RFC 9112 §3)"),
        ("GET / HTTP/1.1\r\n\r\n", "an HTTP/1.1 request without Host (RFC 9112 §3.2)"),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host field (RFC 9112 §3.2)"),
    ])
    func malformedHeadsAre400_rfc9112(text: String, reason: String) {
        #expect(Self.refusal(text) == HTTP1ParseError(status: 400, reason))
    }

    /// RFC 9112 §7.1: invalid chunk sizes and a chunk not followed by CRLF.
    @Test(arguments: [
        ("g\r\n", "invalid chunk size (RFC 9112 §7.1)"),
        ("-1\r\n", "invalid chunk size (RFC 9112 §7.1)"),
        ("5 x\r\nhello\r\n0\r\n\r\n", "invalid chunk size (RFC 9112 §7.1)"),
        ("1000000000000000\r\n", "chunk size with more than 15 hex digits (RFC 9112 §7.1)"),
        ("5\r\nhelloXX0\r\n\r\n", "chunk data not followed by CRLF (RFC 9112 §7.1)"),
        ("5\rhello", "bare CR after a chunk size (RFC 9112 §2.2)"),
    ])
    func badChunksAre400_rfc9112_section7_1(body: String, reason: String) {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        #expect(Self.refusal(text) == HTTP1ParseError(status: 400, reason))
    }

    // MARK: Refused: limits

    @Test func longRequestLineIs414() {
        var limits = HTTP1Limits()
        limits.maxRequestLineLength = 64
        let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(Self.refusal(long, limits: limits)?.status == 414)
        // Without its end: refused as soon as it passes the limit, not buffered.
        var parser = HTTP1RequestParser(limits: limits)
        var input = ByteBuffer(string: "GET /" + String(repeating: "a", count: 70))
        #expect(throws: HTTP1ParseError.self) { _ = try parser.next(&input) }
    }

    @Test func tooManyOrTooLargeFieldsAre431() {
        var limits = HTTP1Limits()
        limits.maxFields = 3
        limits.maxFieldBytes = 100
        let many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(Self.refusal(many, limits: limits) == HTTP1ParseError(status: 431, "more than 3 header fields"))
        let large = "GET / HTTP/1.1\r\nHost: h\r\nA: " + String(repeating: "x", count: 200) + "\r\n\r\n"
        #expect(Self.refusal(large, limits: limits) == HTTP1ParseError(status: 431, "header fields larger than 100 bytes"))
        let trailers = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(Self.refusal(trailers, limits: limits) == HTTP1ParseError(status: 431, "more than 3 trailer fields"))
    }

    @Test func largeBodiesAre413() {
        var limits = HTTP1Limits()
        limits.maxBodySize = 10
        #expect(Self.refusal("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits)?.status == 413)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n6\r\n"
        #expect(Self.refusal(chunked, limits: limits) == HTTP1ParseError(status: 413, "chunked body larger than 10 bytes"))
    }

    @Test func unsupportedVersionIs505_rfc9112_section2_3() {
        #expect(Self.refusal("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == HTTP1ParseError(status: 505, "HTTP version HTTP/2.0 is not supported (RFC 9112 §2.3)"))
    }

    /// After an error nothing more is parsed: the connection must close.
    @Test func anErrorIsFinal() {
        var parser = HTTP1RequestParser()
        var input = ByteBuffer(string: "GET / HTTP/1.1\r\nHost : h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(throws: HTTP1ParseError.self) { _ = try parser.next(&input) }
        #expect(throws: HTTP1ParseError.self) { _ = try parser.next(&input) }
    }
}
