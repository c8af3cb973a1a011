import Loop
@testable import LoopHTTP1
import Testing

/// The request encoder: the request line, fields and framing RFC 9112 asks for, bytes out,
/// and the refusals that keep a request from being split or smuggled.
@Suite struct HTTP1RequestEncoderTests {
    static func encode(_ head: HTTP1RequestHead, body: [String] = [], trailers: HTTP1Fields = HTTP1Fields()) throws(HTTP1EncodeError) -> String {
        var encoder = HTTP1RequestEncoder()
        var out = ByteBuffer()
        try encoder.writeHead(head, into: &out)
        for piece in body { try encoder.writeBody(ByteBuffer(string: piece), into: &out) }
        try encoder.writeEnd(trailers: trailers, into: &out)
        return String(decoding: out.readableBytesView, as: UTF8.self)
    }

    static func refusal(_ head: HTTP1RequestHead, body: [String] = [], trailers: HTTP1Fields = HTTP1Fields()) -> HTTP1EncodeError? {
        do {
            _ = try encode(head, body: body, trailers: trailers)
            return nil
        } catch {
            return error
        }
    }

    static let host = HTTP1Fields([("host", "example.com")])

    /// RFC 9112 §3: request-line, then the fields; no body and no framing field.
    @Test func requestLineAndFields_rfc9112_section3() throws {
        let head = HTTP1RequestHead(method: "GET", target: "/a?b=c", fields: HTTP1Fields([("Host", "h"), ("Accept", "*/*")]))
        #expect(try Self.encode(head) == "GET /a?b=c HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n")
        let old = HTTP1RequestHead(method: "GET", target: "/", version: .http1_0)
        #expect(try Self.encode(old) == "GET / HTTP/1.0\r\n\r\n")
    }

    /// RFC 9112 §6.2: a Content-Length body, exactly its length.
    @Test func contentLengthBody_rfc9112_section6_2() throws {
        let head = HTTP1RequestHead(method: "POST", target: "/", fields: Self.host, framing: .length(5))
        #expect(try Self.encode(head, body: ["hel", "", "lo"]) == "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nhello")
        #expect(Self.refusal(head, body: ["hello!"]) == HTTP1EncodeError("a body longer than its Content-Length (RFC 9112 §6.2)"))
        #expect(Self.refusal(head, body: ["hell"]) == HTTP1EncodeError("a body 1 bytes shorter than its Content-Length (RFC 9112 §6.2)"))
        let empty = HTTP1RequestHead(method: "GET", target: "/", fields: Self.host)
        #expect(Self.refusal(empty, body: ["x"]) == HTTP1EncodeError("a body for a request framed without one (RFC 9112 §6.3)"))
    }

    /// RFC 9112 §7.1: a chunked body, one chunk per piece; §7.1.2: trailers, checked like fields.
    @Test func chunkedBodyWithTrailers_rfc9112_section7_1() throws {
        let head = HTTP1RequestHead(method: "POST", target: "/up", fields: Self.host, framing: .chunked)
        #expect(try Self.encode(head, body: ["hello", "", "0123456789abcdef"], trailers: HTTP1Fields([("x-sum", "42")])) ==
            "POST /up HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nx-sum: 42\r\n\r\n")
        #expect(Self.refusal(head, trailers: HTTP1Fields([("x-sum", "4\r\n2")])) == HTTP1EncodeError("control character in the value of x-sum (RFC 9110 §5.5)"))
        let length = HTTP1RequestHead(method: "POST", target: "/", fields: Self.host, framing: .length(0))
        #expect(Self.refusal(length, trailers: HTTP1Fields([("x", "1")])) == HTTP1EncodeError("trailers need a chunked body (RFC 9112 §7.1.2)"))
        let old = HTTP1RequestHead(method: "POST", target: "/", version: .http1_0, framing: .chunked)
        #expect(Self.refusal(old) == HTTP1EncodeError("a chunked body in an HTTP/1.0 request (RFC 9112 §6.1)"))
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host.
    @Test func hostIsRequired_rfc9112_section3_2() {
        #expect(Self.refusal(HTTP1RequestHead(method: "GET", target: "/")) == HTTP1EncodeError("an HTTP/1.1 request without Host (RFC 9112 §3.2)"))
        let two = HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("Host", "a"), ("host", "b")]))
        #expect(Self.refusal(two) == HTTP1EncodeError("more than one Host field (RFC 9112 §3.2)"))
    }

    /// RFC 9112 §3, RFC 9110 §5.5: CR, LF, NUL (request splitting) and other controls are
    /// refused in the method, the target, field names and values; nothing is written.
    @Test(arguments: [
        (HTTP1RequestHead(method: "GET\r\nX", target: "/", fields: HTTP1Fields([("host", "h")])), "method \"GET\\r\\nX\" is not a token (RFC 9112 §3.1)"),
        (HTTP1RequestHead(method: "", target: "/", fields: HTTP1Fields([("host", "h")])), "method \"\" is not a token (RFC 9112 §3.1)"),
        (HTTP1RequestHead(method: "GET", target: "/a HTTP/1.1\r\nHost: evil\r\n\r\nGET /b", fields: HTTP1Fields([("host", "h")])),
         "request target \"/a HTTP/1.1\\r\\nHost: evil\\r\\n\\r\\nGET /b\" is empty or has a space or control character (RFC 9112 §3.2)"),
        (HTTP1RequestHead(method: "GET", target: "/\0", fields: HTTP1Fields([("host", "h")])), "request target \"/\\0\" is empty or has a space or control character (RFC 9112 §3.2)"),
        (HTTP1RequestHead(method: "GET", target: "", fields: HTTP1Fields([("host", "h")])), "request target \"\" is empty or has a space or control character (RFC 9112 §3.2)"),
        (HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("host", "h"), ("X\r\nY", "1")])), "field name \"X\\r\\nY\" is not a token (RFC 9110 §5.1)"),
        (HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("host", "h"), ("X Y", "1")])), "field name \"X Y\" is not a token (RFC 9110 §5.1)"),
        (HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("host", "h"), ("X", "1\r\nContent-Length: 5")])), "control character in the value of X (RFC 9110 §5.5)"),
        (HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("host", "h"), ("X", "a\nb")])), "control character in the value of X (RFC 9110 §5.5)"),
        (HTTP1RequestHead(method: "GET", target: "/", fields: HTTP1Fields([("host", "h\0")])), "control character in the value of host (RFC 9110 §5.5)"),
        (HTTP1RequestHead(method: "POST", target: "/", fields: HTTP1Fields([("host", "h"), ("Content-Length", "5")]), framing: .chunked),
         "content-length among the fields: the encoder writes it from the head's framing (RFC 9112 §6.3)"),
        (HTTP1RequestHead(method: "POST", target: "/", fields: HTTP1Fields([("host", "h"), ("Transfer-Encoding", "chunked")])),
         "transfer-encoding among the fields: the encoder writes it from the head's framing (RFC 9112 §6.3)"),
    ])
    func requestSplittingIsRefused_rfc9112_section3(head: HTTP1RequestHead, reason: String) {
        var encoder = HTTP1RequestEncoder()
        var out = ByteBuffer()
        #expect(throws: HTTP1EncodeError(reason)) { try encoder.writeHead(head, into: &out) }
        #expect(out.readableBytes == 0)
    }

    /// Requests written by the encoder read back through the server's `HTTP1RequestParser`,
    /// whole and byte by byte: no body, Content-Length, chunked with trailers, HTTP/1.0 (RFC 9112 §6).
    @Test func requestParserRoundTrip_rfc9112_section6() throws {
        let text = try Self.encode(HTTP1RequestHead(method: "GET", target: "/x?y=1", fields: HTTP1Fields([("Host", "h"), ("Accept", "*/*")])))
            + Self.encode(HTTP1RequestHead(method: "PUT", target: "/p", fields: Self.host, framing: .length(6)), body: ["abc", "def"])
            + Self.encode(HTTP1RequestHead(method: "POST", target: "/c", fields: Self.host, framing: .chunked), body: ["one", "two"],
                          trailers: HTTP1Fields([("x-sum", "6")]))
            + Self.encode(HTTP1RequestHead(method: "OPTIONS", target: "*", version: .http1_0))
        #expect(try HTTP1RequestParserTests.parts(text) == [
            .head("GET", "/x?y=1", ["Host=h", "Accept=*/*"]), .end([]),
            .head("PUT", "/p", ["host=example.com", "content-length=6"]), .body("abcdef"), .end([]),
            .head("POST", "/c", ["host=example.com", "transfer-encoding=chunked"]), .body("onetwo"), .end(["x-sum=6"]),
            .head("OPTIONS", "*", []), .end([]),
        ])
    }
}
