import Loop
@testable import LoopHTTP1
import Testing

/// The response encoder: the framing RFC 9112 §6 asks for, bytes out.
@Suite struct HTTP1ResponseEncoderTests {
    static func encode(version: HTTP1Version = .http1_1, method: String = "GET", status: Int = 200, length: Int?,
                       keepAlive: Bool = true, body: [String] = [], trailers: HTTP1Fields = HTTP1Fields()) -> (String, Bool) {
        var encoder = HTTP1ResponseEncoder(version: version, requestMethod: method)
        var out = ByteBuffer()
        let kept = encoder.writeHead(HTTP1ResponseHead(status: status, fields: HTTP1Fields([("x", "1")])), contentLength: length,
                                     keepAlive: keepAlive, into: &out)
        for piece in body { encoder.writeBody(ByteBuffer(string: piece), into: &out) }
        encoder.writeEnd(trailers: trailers, into: &out)
        return (String(decoding: out.readableBytesView, as: UTF8.self), kept)
    }

    /// RFC 9112 §6.2: a known length is sent as Content-Length.
    @Test func knownLengthUsesContentLength_rfc9112_section6_2() {
        #expect(Self.encode(length: 5, body: ["hel", "lo"]) == ("HTTP/1.1 200 OK\r\nx: 1\r\ncontent-length: 5\r\n\r\nhello", true))
    }

    /// RFC 9112 §7.1: an unknown length is chunked for HTTP/1.1, with trailers (§7.1.2).
    @Test func unknownLengthIsChunkedWithTrailers_rfc9112_section7_1() {
        let (text, kept) = Self.encode(length: nil, body: ["hello", "", "world!"], trailers: HTTP1Fields([("grpc-status", "0")]))
        #expect(text == "HTTP/1.1 200 OK\r\nx: 1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n0\r\ngrpc-status: 0\r\n\r\n")
        #expect(kept)
    }

    /// RFC 9112 §6.3: an HTTP/1.0 client without a length gets a body ended by the close.
    @Test func http10WithoutLengthClosesTheConnection_rfc9112_section6_3() {
        #expect(Self.encode(version: .http1_0, length: nil, body: ["abc"]) == ("HTTP/1.0 200 OK\r\nx: 1\r\nconnection: close\r\n\r\nabc", false))
        #expect(Self.encode(version: .http1_0, length: 3, body: ["abc"]).0 == "HTTP/1.0 200 OK\r\nx: 1\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\nabc")
    }

    /// RFC 9112 §6.3: HEAD, 204 and 304 responses carry no body.
    @Test func headAnd204CarryNoBody_rfc9112_section6_3() {
        #expect(Self.encode(method: "HEAD", length: 5, body: ["hello"]).0 == "HTTP/1.1 200 OK\r\nx: 1\r\ncontent-length: 5\r\n\r\n")
        #expect(Self.encode(status: 204, length: nil, body: ["x"]).0 == "HTTP/1.1 204 No Content\r\nx: 1\r\n\r\n")
        #expect(Self.encode(status: 404, length: 0, keepAlive: false).0 == "HTTP/1.1 404 Not Found\r\nx: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    }

    /// RFC 9110 §15.2.1: 100 (Continue).
    @Test func continueLine_rfc9110_section15_2_1() {
        var out = ByteBuffer()
        HTTP1ResponseEncoder.writeContinue(into: &out)
        #expect(String(decoding: out.readableBytesView, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
    }
}
