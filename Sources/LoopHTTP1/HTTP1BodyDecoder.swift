import Loop

/// A message body as its framing delimits it (RFC 9112 §6.3): Content-Length bytes, chunks
/// up to the last chunk and its trailer section (§7.1), or everything until the connection
/// closes (responses only). The body half of ``HTTP1RequestParser`` and
/// ``HTTP1ResponseParser``, I/O-free: bytes in, body slices and the end out.
///
/// ```
///  length(n) ──n bytes──▶ end
///  chunkSize ──size > 0──▶ chunkData(size) ──▶ chunkDataEnd (CRLF) ──▶ chunkSize
///      └──size 0──▶ trailers ──empty line──▶ end(trailers)
///  untilClose ──bytes──▶ untilClose (the connection's close is the end)
/// ```
struct HTTP1BodyDecoder: Sendable {
    enum State: Sendable {
        /// Content-Length bytes still to come (0: the end is due).
        case length(remaining: Int)
        /// A body delimited by the connection's close.
        case untilClose
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF that ends a chunk's data.
        case chunkDataEnd
        case trailers(HTTP1Scanner.HeadScan)
    }

    enum Part: Sendable {
        case body(ByteBuffer)
        case end(trailers: HTTP1Fields)
    }

    private(set) var state: State
    private let kind: HTTP1MessageKind
    private let limits: HTTP1Limits
    /// Bytes of a chunked or close-delimited body so far (their size limit; a Content-Length
    /// is checked against it with the head).
    private var bodyBytes = 0

    /// A body with no bytes (`.length(remaining: 0)`), of a known length, chunked, or until the close.
    init(_ state: State, kind: HTTP1MessageKind, limits: HTTP1Limits) {
        self.state = state
        self.kind = kind
        self.limits = limits
    }

    /// The body ends with the connection.
    var isUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// Nothing more is due but the end (a Content-Length body read to its length).
    var isAtEnd: Bool {
        if case .length(remaining: 0) = state { return true }
        return false
    }

    /// The next body slice or the end, consuming `buffer`'s bytes; nil when more are needed.
    /// - Throws: `HTTP1ParseError` (a bad chunk line or CRLF, malformed trailers, the size
    ///   limit: 413 for a request, 502 for a response).
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Part? {
        while true {
            switch state {
            case .length(let remaining):
                if remaining == 0 { return .end(trailers: HTTP1Fields()) }
                guard buffer.readableBytes > 0 else { return nil }
                let take = min(remaining, buffer.readableBytes)
                state = .length(remaining: remaining - take)
                return .body(buffer.readSlice(length: take)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                try count(buffer.readableBytes, "body")
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try HTTP1Scanner.parseChunkSize(&buffer, limit: limits.maxChunkLineLength, kind: kind) else { return nil }
                if size == 0 {
                    state = .trailers(HTTP1Scanner.HeadScan())
                } else {
                    try count(size, "chunked body")
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let take = min(remaining, buffer.readableBytes)
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                return .body(buffer.readSlice(length: take)!)
            case .chunkDataEnd:
                guard try HTTP1Scanner.consumeChunkDataEnd(&buffer, kind: kind) else { return nil }
                state = .chunkSize
            case .trailers(var scan):
                guard let end = try HTTP1Scanner.findHeadEnd(buffer, &scan, kind: kind, trailers: true, limits: limits) else {
                    state = .trailers(scan)
                    return nil
                }
                let kind = self.kind
                let trailers = try buffer.withParsedBytes { raw throws(HTTP1ParseError) in
                    var fields = HTTP1Fields()
                    try HTTP1Scanner.parseFields(raw, from: 0, end: end, into: &fields, kind: kind)
                    return fields
                }
                buffer.moveReaderIndex(forwardBy: end)
                state = .length(remaining: 0)
                return .end(trailers: trailers)
            }
        }
    }

    /// Counts body bytes against ``HTTP1Limits/maxBodySize``.
    private mutating func count(_ bytes: Int, _ what: String) throws(HTTP1ParseError) {
        bodyBytes += bytes
        guard bodyBytes <= limits.maxBodySize else {
            throw kind.error(413, "\(what) larger than \(limits.maxBodySize) bytes")
        }
    }
}
