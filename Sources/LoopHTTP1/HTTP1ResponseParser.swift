import Loop

/// One part of a response, in order: the head, body pieces, the end (with trailers for a
/// chunked body). An interim (1xx) head comes alone, before the final head of the same
/// request.
public enum HTTP1ResponsePart: Sendable, Equatable {
    case head(HTTP1ResponseHead)
    case body(ByteBuffer)
    case end(trailers: HTTP1Fields)
}

/// Parses HTTP/1.1 responses (RFC 9112) from bytes, I/O-free: the client side of
/// `HTTP1RequestParser`. Tell it the method of each request sent (`expectResponse(to:)`), in
/// order: a response to HEAD has no body whatever its fields say, and a 2xx to CONNECT turns
/// the connection into a tunnel (RFC 9112 §6.3). Then append what the socket read to a buffer
/// and take parts out until it needs more; at EOF call `finish()`, which ends a body delimited
/// by the close. As strict as the request parser (the same scanning code): every error is
/// final, the connection must close.
///
/// ```
///  head ─1xx (not 101)──▶ head …                  (interim, RFC 9110 §15.2)
///    │──HEAD, 204, 304, no body───────────────────▶ end ─▶ head …
///    │──101, 2xx to CONNECT──────────────────────▶ end ─▶ (another protocol)
///    │──Content-Length──▶ body(remaining) ─0 left─▶ end
///    │──chunked─────────▶ chunks ─▶ trailers ─────▶ end
///    └──neither─────────▶ body … ──finish()───────▶ end ─▶ (closed)
/// ```
///
/// ```swift
/// var parser = HTTP1ResponseParser()
/// parser.expectResponse(to: "GET")
/// var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
/// while let part = try parser.next(&input) {
///     switch part {
///     case .head(let head): print(head.status, head.keepAlive)
///     case .body(let bytes): print(bytes.readableBytes)
///     case .end: print("complete")
///     }
/// }
/// // At EOF: `try parser.finish()` gives the `.end` of a close-delimited body.
/// ```
public struct HTTP1ResponseParser: Sendable {
    private typealias HeadScan = HTTP1Scanner.HeadScan

    private enum State: Sendable {
        /// Waiting for a complete head.
        case head(HeadScan)
        /// The current response's body (or its end, when it has none).
        case body(HTTP1BodyDecoder)
        /// After 101 or a 2xx to CONNECT: the bytes left belong to another protocol.
        case switched
        /// `finish()` was called.
        case closed
        /// A part was refused: nothing more is parsed.
        case failed(HTTP1ParseError)
    }

    public let limits: HTTP1Limits
    private var state = State.head(HeadScan())
    /// The methods of the requests whose (final) responses are still to come, oldest first.
    private var methods: [String] = []
    /// The current response ends HTTP/1.1 on the connection (101, 2xx to CONNECT).
    private var switchesProtocols = false

    public init(limits: HTTP1Limits = HTTP1Limits()) {
        self.limits = limits
    }

    /// Records that a request with `method` was sent: its response comes after those of the
    /// requests recorded before (pipelining, RFC 9112 §9.3.2).
    public mutating func expectResponse(to method: String) {
        methods.append(method)
    }

    /// Requests whose final response has not started yet.
    public var pendingResponses: Int { methods.count }

    /// True between responses (nothing of the next one parsed yet).
    public var isIdle: Bool {
        if case .head(let scan) = state { return scan.position == 0 }
        return false
    }

    /// True after a 101 (Switching Protocols) or a 2xx to CONNECT has ended: the bytes left in
    /// the buffer, and all that follow, belong to the new protocol or the tunnel.
    public var hasSwitchedProtocols: Bool {
        if case .switched = state { return true }
        return false
    }

    /// The next part from `buffer` (consuming its bytes), or nil when more bytes are needed
    /// (or nothing more is HTTP/1.1: see `hasSwitchedProtocols`).
    /// - Throws: `HTTP1ParseError` (status 502) naming the rule or limit; the connection must close.
    public mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> HTTP1ResponsePart? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// The connection reached EOF: the `.end` of a body delimited by the close, nil when
    /// between responses with none expected (or after the protocol switched).
    /// - Throws: `HTTP1ParseError` when a response was cut short or never came (RFC 9112 §8).
    public mutating func finish() throws(HTTP1ParseError) -> HTTP1ResponsePart? {
        let error: HTTP1ParseError
        switch state {
        case .failed(let failure):
            throw failure
        case .closed, .switched:
            return nil
        case .body(let decoder) where decoder.isUntilClose:
            state = .closed
            return .end(trailers: HTTP1Fields())
        case .body(let decoder) where decoder.isAtEnd:
            // The end of a complete response not taken yet: give it; call again for EOF.
            var nothing = ByteBuffer()
            return try next(&nothing)
        case .head(let scan) where scan.position == 0:
            if methods.isEmpty {
                state = .closed
                return nil
            }
            error = HTTP1ParseError(status: 502, "the connection closed before the response to \(methods[0]) (RFC 9112 §8)")
        default:
            error = HTTP1ParseError(status: 502, "the connection closed in the middle of a response (RFC 9112 §8)")
        }
        state = .failed(error)
        throw error
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> HTTP1ResponsePart? {
        switch state {
        case .failed(let error):
            throw error
        case .closed, .switched:
            return nil
        case .head(var scan):
            guard let end = try HTTP1Scanner.findHeadEnd(buffer, &scan, kind: .response, trailers: false, limits: limits) else {
                state = .head(scan)
                return nil
            }
            guard let method = methods.first else {
                throw HTTP1ParseError(status: 502, "a response without a request (RFC 9112 §9.3)")
            }
            var head = try parseHead(buffer, end: end)
            buffer.moveReaderIndex(forwardBy: end)
            if head.isInformational && head.status != 101 {
                // Interim (RFC 9110 §15.2): the final response to the same request follows.
                state = .head(HeadScan())
                return .head(head)
            }
            methods.removeFirst()
            head.framing = try framing(of: head, method: method)
            switchesProtocols = head.status == 101 || (method == "CONNECT" && (200..<300).contains(head.status))
            let body: HTTP1BodyDecoder.State
            switch head.framing {
            case .none: body = .length(remaining: 0)
            case .length(let length): body = .length(remaining: length)
            case .chunked: body = .chunkSize
            case .untilClose: body = .untilClose
            }
            state = .body(HTTP1BodyDecoder(body, kind: .response, limits: limits))
            return .head(head)
        case .body(var decoder):
            let part = try decoder.next(&buffer)
            switch part {
            case .body(let bytes):
                state = .body(decoder)
                return .body(bytes)
            case .end(let trailers):
                state = switchesProtocols ? .switched : .head(HeadScan())
                return .end(trailers: trailers)
            case nil:
                state = .body(decoder)
                return nil
            }
        }
    }

    // MARK: The head

    private func parseHead(_ buffer: ByteBuffer, end: Int) throws(HTTP1ParseError) -> HTTP1ResponseHead {
        try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> HTTP1ResponseHead in
            let lineEnd = HTTP1Scanner.lineEnd(raw, from: 0)
            var head = try Self.parseStatusLine(raw, 0, lineEnd)
            try HTTP1Scanner.parseFields(raw, from: lineEnd + 2, end: end, into: &head.fields, kind: .response)
            return head
        }
    }

    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4); the SP
    /// before an empty reason phrase may be missing, as many servers leave it out.
    static func parseStatusLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1ParseError) -> HTTP1ResponseHead {
        guard end - start >= 12, raw[start + 8] == 0x20 else {
            throw HTTP1ParseError(status: 502, "malformed status line: the version must be followed by one space and a status code (RFC 9112 §4)")
        }
        let version: HTTP1Version
        switch HTTP1Scanner.string(raw, start, start + 8) {
        case "HTTP/1.1": version = .http1_1
        case "HTTP/1.0": version = .http1_0
        case let other where other.hasPrefix("HTTP/") && raw[start + 5].isDigit && raw[start + 6] == 0x2E && raw[start + 7].isDigit:
            throw HTTP1ParseError(status: 502, "HTTP version \(other) is not supported (RFC 9112 §2.3)")
        default:
            throw HTTP1ParseError(status: 502, "malformed status line: no HTTP version (RFC 9112 §4)")
        }
        var status = 0
        for index in (start + 9)..<(start + 12) {
            guard raw[index].isDigit else {
                throw HTTP1ParseError(status: 502, "malformed status line: the status code must be 3 digits (RFC 9112 §4)")
            }
            status = status * 10 + Int(raw[index] - 0x30)
        }
        guard (100...599).contains(status) else {
            throw HTTP1ParseError(status: 502, "status code \(status) outside 100…599 (RFC 9110 §15)")
        }
        var reason = ""
        if end > start + 12 {
            guard raw[start + 12] == 0x20 else {
                throw HTTP1ParseError(status: 502, "malformed status line: the status code must be 3 digits (RFC 9112 §4)")
            }
            for index in (start + 13)..<end where !HTTP1Scanner.isFieldValueByte(raw[index]) {
                throw HTTP1ParseError(status: 502, "control character in the reason phrase (RFC 9112 §4)")
            }
            reason = HTTP1Scanner.string(raw, start + 13, end)
        }
        return HTTP1ResponseHead(status: status, version: version, reason: reason)
    }

    /// The body's framing (RFC 9112 §6.3). The fields are checked even when the response has
    /// no body: a server that sends Transfer-Encoding with Content-Length, or two lengths, is
    /// not to be trusted with the next response either.
    private func framing(of head: HTTP1ResponseHead, method: String) throws(HTTP1ParseError) -> HTTP1ResponseHead.Framing {
        let chunked = try HTTP1Scanner.isChunked(head.fields, version: head.version, kind: .response)
        let length = try HTTP1Scanner.contentLength(head.fields, kind: .response)
        // §6.3 ¶1: HEAD, 1xx, 204, 304 end at the head; ¶2: a 2xx to CONNECT starts a tunnel.
        if method == "HEAD" || head.isInformational || head.status == 204 || head.status == 304 {
            return .none
        }
        if method == "CONNECT" && (200..<300).contains(head.status) { return .none }
        if chunked { return .chunked }
        guard let length else { return .untilClose }
        guard length <= limits.maxBodySize else {
            throw HTTP1ParseError(status: 502, "Content-Length \(length) is larger than \(limits.maxBodySize) bytes")
        }
        return length == 0 ? .none : .length(length)
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= 0x30 && self <= 0x39 }
}
