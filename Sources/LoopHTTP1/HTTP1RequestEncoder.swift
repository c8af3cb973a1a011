import Loop

/// Writes HTTP/1.1 requests (RFC 9112), I/O-free: the client side of `HTTP1ResponseEncoder`.
/// The head's `framing` says how the body goes: nothing (`.none`), Content-Length
/// (`.length`), or chunked with trailers (`.chunked`, HTTP/1.1 only). What would let a
/// request be split or smuggled is refused with `HTTP1EncodeError` before a byte is written:
/// a method that is not a token, a target with a space or control character, a field name
/// that is not a token, a value with CR, LF, NUL or another control character (RFC 9110
/// §5.5), Content-Length or Transfer-Encoding among the fields (the encoder writes them), an
/// HTTP/1.1 request without exactly one Host (RFC 9112 §3.2), a body longer or shorter than
/// its Content-Length.
///
/// ```swift
/// var encoder = HTTP1RequestEncoder()
/// var out = ByteBuffer()
/// let head = HTTP1RequestHead(method: "POST", target: "/upload", fields: HTTP1Fields([("host", "example.com")]),
///                             framing: .chunked)
/// try encoder.writeHead(head, into: &out)
/// try encoder.writeBody(ByteBuffer(string: "hello"), into: &out)
/// try encoder.writeEnd(trailers: HTTP1Fields([("x-checksum", "42")]), into: &out)
/// // Tell the response parser what was asked: parser.expectResponse(to: head.method)
/// ```
public struct HTTP1RequestEncoder: Sendable {
    /// What the body still takes.
    public enum Framing: Sendable, Equatable {
        /// No body (before a head, after the end, or a request without one).
        case none
        /// Content-Length bytes still to write.
        case length(remaining: Int)
        case chunked
    }

    public private(set) var framing: Framing = .none

    public init() {}

    /// Writes the request line, the fields and the framing field of `head.framing`
    /// ("content-length" or "transfer-encoding: chunked").
    /// - Throws: `HTTP1EncodeError` for a request that is not valid HTTP/1.1 (nothing written).
    public mutating func writeHead(_ head: HTTP1RequestHead, into out: inout ByteBuffer) throws(HTTP1EncodeError) {
        try Self.check(head)
        out.writeString(head.method)
        out.writeString(" ")
        out.writeString(head.target)
        out.writeString(head.version == .http1_1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n")
        out.writeFieldLines(head.fields)
        switch head.framing {
        case .none:
            framing = .none
        case .length(let length):
            out.writeString("content-length: ")
            out.writeDecimal(length)
            out.writeString("\r\n")
            framing = .length(remaining: length)
        case .chunked:
            out.writeString("transfer-encoding: chunked\r\n")
            framing = .chunked
        }
        out.writeString("\r\n")
    }

    /// Writes a piece of the body (a chunk of its own for a chunked body; nothing for an
    /// empty piece).
    /// - Throws: `HTTP1EncodeError` for a body past its Content-Length or a request without one.
    public mutating func writeBody(_ bytes: ByteBuffer, into out: inout ByteBuffer) throws(HTTP1EncodeError) {
        guard bytes.readableBytes > 0 else { return }
        switch framing {
        case .none:
            throw HTTP1EncodeError("a body for a request framed without one (RFC 9112 §6.3)")
        case .length(let remaining):
            guard bytes.readableBytes <= remaining else {
                throw HTTP1EncodeError("a body longer than its Content-Length (RFC 9112 §6.2)")
            }
            framing = .length(remaining: remaining - bytes.readableBytes)
            out.writeImmutableBuffer(bytes)
        case .chunked:
            out.writeChunk(bytes)
        }
    }

    /// Ends the body: the last chunk and `trailers` for a chunked body (RFC 9112 §7.1.2).
    /// - Throws: `HTTP1EncodeError` for a body shorter than its Content-Length, trailers
    ///   without a chunked body, or an invalid trailer field.
    public mutating func writeEnd(trailers: HTTP1Fields = HTTP1Fields(), into out: inout ByteBuffer) throws(HTTP1EncodeError) {
        switch framing {
        case .none:
            guard trailers.isEmpty else { throw HTTP1EncodeError("trailers need a chunked body (RFC 9112 §7.1.2)") }
        case .length(let remaining):
            guard trailers.isEmpty else { throw HTTP1EncodeError("trailers need a chunked body (RFC 9112 §7.1.2)") }
            guard remaining == 0 else {
                throw HTTP1EncodeError("a body \(remaining) bytes shorter than its Content-Length (RFC 9112 §6.2)")
            }
        case .chunked:
            try Self.check(trailers)
            out.writeLastChunk(trailers: trailers)
        }
        framing = .none
    }

    // MARK: Checks

    /// Everything that would make the head invalid or let it split into two requests.
    static func check(_ head: HTTP1RequestHead) throws(HTTP1EncodeError) {
        guard !head.method.isEmpty, head.method.utf8.allSatisfy(HTTP1Scanner.isTokenCharacter) else {
            throw HTTP1EncodeError("method \(head.method.debugDescription) is not a token (RFC 9112 §3.1)")
        }
        guard !head.target.isEmpty, head.target.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw HTTP1EncodeError("request target \(head.target.debugDescription) is empty or has a space or control character (RFC 9112 §3.2)")
        }
        try check(head.fields)
        for name in ["content-length", "transfer-encoding"] where !head.fields.values(name).isEmpty {
            throw HTTP1EncodeError("\(name) among the fields: the encoder writes it from the head's framing (RFC 9112 §6.3)")
        }
        let hosts = head.fields.values("host").count
        guard hosts <= 1 else { throw HTTP1EncodeError("more than one Host field (RFC 9112 §3.2)") }
        guard hosts == 1 || head.version == .http1_0 else { throw HTTP1EncodeError("an HTTP/1.1 request without Host (RFC 9112 §3.2)") }
        if head.framing == .chunked && head.version == .http1_0 {
            throw HTTP1EncodeError("a chunked body in an HTTP/1.0 request (RFC 9112 §6.1)")
        }
    }

    /// Field names are tokens, values hold no CR, LF, NUL or other control (RFC 9110 §5.1, §5.5).
    static func check(_ fields: HTTP1Fields) throws(HTTP1EncodeError) {
        for field in fields {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTP1Scanner.isTokenCharacter) else {
                throw HTTP1EncodeError("field name \(field.name.debugDescription) is not a token (RFC 9110 §5.1)")
            }
            guard field.value.utf8.allSatisfy(HTTP1Scanner.isFieldValueByte) else {
                throw HTTP1EncodeError("control character in the value of \(field.name) (RFC 9110 §5.5)")
            }
        }
    }
}
