import Loop

/// One part of a request, in order: the head, body pieces, the end (with trailers for a
/// chunked body).
public enum HTTP1RequestPart: Sendable, Equatable {
    case head(HTTP1RequestHead)
    case body(ByteBuffer)
    case end(trailers: HTTP1Fields)
}

/// Parses HTTP/1.1 requests (RFC 9112) from bytes, I/O-free: append what the socket read
/// to a buffer and take parts out until it needs more. Pipelined requests come out one
/// after the other. Strict where request smuggling lives: every error is final (answer its
/// status, then close), because after a framing error the next request's start is unknown.
///
/// ```
///  head ──no body──────────────────────────────────────────────▶ end ─▶ head …
///    │──Content-Length──▶ body(remaining) ──0 left────────────▶ end
///    └──chunked─────────▶ chunk-size ─▶ chunk-data ─▶ CRLF ─┐
///                            ▲  │ size 0                   │
///                            │  └──────▶ trailers ──▶ end  │
///                            └─────────────────────────────┘
/// ```
///
/// ```swift
/// var parser = HTTP1RequestParser()
/// var input = ByteBuffer(string: "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
/// while let part = try parser.next(&input) {
///     switch part {
///     case .head(let head): print(head.method, head.target)
///     case .body(let bytes): print(bytes.readableBytes)
///     case .end: print("complete")
///     }
/// }
/// ```
public struct HTTP1RequestParser: Sendable {
    private enum State: Sendable {
        /// Waiting for a complete head; `scan` remembers how far it looked.
        case head(HeadScan)
        /// The current request's body (or its end, when it has none).
        case body(HTTP1BodyDecoder)
        /// A part was refused: nothing more is parsed.
        case failed(HTTP1ParseError)
    }

    private typealias HeadScan = HTTP1Scanner.HeadScan

    public let limits: HTTP1Limits
    private var state = State.head(HeadScan())

    public init(limits: HTTP1Limits = HTTP1Limits()) {
        self.limits = limits
    }

    /// True between requests (nothing of the next one parsed yet): where a connection may
    /// close cleanly.
    public var isIdle: Bool {
        if case .head(let scan) = state { return scan.position == 0 }
        return false
    }

    /// The next part from `buffer` (consuming its bytes), or nil when more bytes are needed.
    /// - Throws: `HTTP1ParseError` with the status to answer; the connection must close.
    public mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> HTTP1RequestPart? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> HTTP1RequestPart? {
        switch state {
        case .failed(let error):
            throw error
        case .head(var scan):
            guard let end = try HTTP1Scanner.findHeadEnd(buffer, &scan, kind: .request, trailers: false, limits: limits) else {
                state = .head(scan)
                return nil
            }
            let head = try parseHead(buffer, end: end)
            buffer.moveReaderIndex(forwardBy: end)
            let body: HTTP1BodyDecoder.State
            switch head.framing {
            case .none: body = .length(remaining: 0)
            case .length(let length): body = .length(remaining: length)
            case .chunked: body = .chunkSize
            }
            state = .body(HTTP1BodyDecoder(body, kind: .request, limits: limits))
            return .head(head)
        case .body(var decoder):
            let part = try decoder.next(&buffer)
            switch part {
            case .body(let bytes):
                state = .body(decoder)
                return .body(bytes)
            case .end(let trailers):
                state = .head(HeadScan())
                return .end(trailers: trailers)
            case nil:
                state = .body(decoder)
                return nil
            }
        }
    }

    // MARK: The head

    private func parseHead(_ buffer: ByteBuffer, end: Int) throws(HTTP1ParseError) -> HTTP1RequestHead {
        var head = try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> HTTP1RequestHead in
            var start = 0
            while raw[start] == 0x0D { start += 2 }   // ignored empty lines
            let lineEnd = HTTP1Scanner.lineEnd(raw, from: start)
            var head = try Self.parseRequestLine(raw, start, lineEnd)
            try HTTP1Scanner.parseFields(raw, from: lineEnd + 2, end: end, into: &head.fields, kind: .request)
            return head
        }
        head.framing = try framing(of: head)
        try checkHost(head)
        return head
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3).
    static func parseRequestLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1ParseError) -> HTTP1RequestHead {
        var index = start
        while index < end && HTTP1Scanner.isTokenCharacter(raw[index]) { index += 1 }
        guard index > start, index < end, raw[index] == 0x20 else {
            throw .badRequest("malformed request line: the method must be a token followed by one space (RFC 9112 §3)")
        }
        let method = HTTP1Scanner.string(raw, start, index)
        let targetStart = index + 1
        index = targetStart
        while index < end && raw[index] > 0x20 && raw[index] != 0x7F { index += 1 }
        guard index > targetStart, index < end, raw[index] == 0x20 else {
            throw .badRequest("malformed request line: the target must be followed by one space and the version (RFC 9112 §3)")
        }
        let target = HTTP1Scanner.string(raw, targetStart, index)
        let version: HTTP1Version
        // The two versions served, compared as one 8-byte word (no String, no iterator).
        let versionStart = index + 1
        let word = end - versionStart == 8 ? raw.loadUnaligned(fromByteOffset: versionStart, as: UInt64.self) : 0
        if word == Self.http11Word {
            version = .http1_1
        } else if word == Self.http10Word {
            version = .http1_0
        } else {
            version = try Self.unsupportedVersion(HTTP1Scanner.string(raw, index + 1, end))
        }
        var head = HTTP1RequestHead(method: method, target: target, version: version)
        head.fields.reserveCapacity(8)
        return head
    }

    /// "HTTP/1.1" and "HTTP/1.0" as the 8-byte words they are in memory.
    static let http11Word = Self.word("HTTP/1.1")
    static let http10Word = Self.word("HTTP/1.0")

    private static func word(_ text: StaticString) -> UInt64 {
        text.withUTF8Buffer { UnsafeRawBufferPointer($0).loadUnaligned(as: UInt64.self) }
    }

    private static func unsupportedVersion(_ text: String) throws(HTTP1ParseError) -> HTTP1Version {
        switch text {
        case let other where other.count == 8 && other.hasPrefix("HTTP/") && other.dropFirst(5).first?.isNumber == true:
            throw HTTP1ParseError(status: 505, "HTTP version \(other) is not supported (RFC 9112 §2.3)")
        default:
            throw .badRequest("malformed request line: no HTTP version (RFC 9112 §3)")
        }
    }

    /// The body's framing (RFC 9112 §6.1, §6.3), refusing what request smuggling uses.
    private func framing(of head: HTTP1RequestHead) throws(HTTP1ParseError) -> HTTP1BodyFraming {
        if try HTTP1Scanner.isChunked(head.fields, version: head.version, kind: .request) { return .chunked }
        guard let length = try HTTP1Scanner.contentLength(head.fields, kind: .request) else { return .none }
        guard length <= limits.maxBodySize else {
            throw HTTP1ParseError(status: 413, "Content-Length \(length) is larger than \(limits.maxBodySize) bytes")
        }
        return length == 0 ? .none : .length(length)
    }

    /// An HTTP/1.1 request has exactly one Host field (RFC 9112 §3.2).
    private func checkHost(_ head: HTTP1RequestHead) throws(HTTP1ParseError) {
        let hosts = head.fields.count("host")
        if hosts > 1 { throw .badRequest("more than one Host field (RFC 9112 §3.2)") }
        if hosts == 0 && head.version == .http1_1 { throw .badRequest("an HTTP/1.1 request without Host (RFC 9112 §3.2)") }
    }
}
