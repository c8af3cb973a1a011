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
        /// Content-Length bytes still to come.
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF that ends a chunk's data.
        case chunkDataEnd
        case trailers(HeadScan)
        /// A part was refused: nothing more is parsed.
        case failed(HTTP1ParseError)
    }

    /// Progress of the search for the empty line that ends a head (or trailer section), kept
    /// between calls so a head that arrives a byte at a time is scanned once, not once per byte.
    private struct HeadScan: Sendable {
        /// Offset from the reader index where the search goes on.
        var position = 0
        /// Offset where the current line starts.
        var lineStart = 0
        /// Lines finished (the request line included).
        var lines = 0
        /// Offset where the field lines start (past the request line).
        var fieldsStart = 0
    }

    public let limits: HTTP1Limits
    private var state = State.head(HeadScan())
    /// Body bytes of the current request so far (for chunked bodies' limit).
    private var bodyBytes = 0

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
            guard let end = try findHeadEnd(buffer, &scan, trailers: false) else {
                state = .head(scan)
                return nil
            }
            let head = try parseHead(buffer, end: end)
            buffer.moveReaderIndex(forwardBy: end)
            bodyBytes = 0
            switch head.framing {
            case .none: state = .body(remaining: 0)
            case .length(let length): state = .body(remaining: length)
            case .chunked: state = .chunkSize
            }
            return .head(head)
        case .body(let remaining):
            if remaining == 0 {
                state = .head(HeadScan())
                return .end(trailers: HTTP1Fields())
            }
            guard buffer.readableBytes > 0 else { return nil }
            let take = min(remaining, buffer.readableBytes)
            state = .body(remaining: remaining - take)
            return .body(buffer.readSlice(length: take)!)
        case .chunkSize:
            guard let size = try parseChunkSize(&buffer) else { return nil }
            if size == 0 {
                state = .trailers(HeadScan())
                return try step(&buffer)
            }
            bodyBytes += size
            guard bodyBytes <= limits.maxBodySize else {
                throw HTTP1ParseError(status: 413, "chunked body larger than \(limits.maxBodySize) bytes")
            }
            state = .chunkData(remaining: size)
            return try step(&buffer)
        case .chunkData(let remaining):
            guard buffer.readableBytes > 0 else { return nil }
            let take = min(remaining, buffer.readableBytes)
            state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            return .body(buffer.readSlice(length: take)!)
        case .chunkDataEnd:
            guard buffer.readableBytes >= 2 else { return nil }
            guard buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A else {
                throw .badRequest("chunk data not followed by CRLF (RFC 9112 §7.1)")
            }
            buffer.moveReaderIndex(forwardBy: 2)
            state = .chunkSize
            return try step(&buffer)
        case .trailers(var scan):
            guard let end = try findHeadEnd(buffer, &scan, trailers: true) else {
                state = .trailers(scan)
                return nil
            }
            let trailers = try buffer.withParsedBytes { raw throws(HTTP1ParseError) in
                var fields = HTTP1Fields()
                var start = 0
                while start < end - 2 {
                    let lineEnd = Self.lineEnd(raw, from: start)
                    try Self.parseField(raw, start, lineEnd, into: &fields)
                    start = lineEnd + 2
                }
                return fields
            }
            buffer.moveReaderIndex(forwardBy: end)
            state = .head(HeadScan())
            return .end(trailers: trailers)
        }
    }

    // MARK: The head

    /// Finds the end of a head (the offset just past its empty line), checking each line's
    /// end and the limits as it goes; nil when the head is not complete yet.
    private func findHeadEnd(_ buffer: ByteBuffer, _ scan: inout HeadScan, trailers: Bool) throws(HTTP1ParseError) -> Int? {
        try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> Int? in
            var position = scan.position
            while position < raw.count {
                let byte = raw[position]
                if byte == 0x0A {   // LF
                    guard position > scan.lineStart, raw[position - 1] == 0x0D else {
                        throw .badRequest("line ended by a bare LF (RFC 9112 §2.2)")
                    }
                    let length = position - 1 - scan.lineStart
                    if length == 0 {
                        // RFC 9112 §2.2: an empty line before the request line is ignored.
                        if scan.lines == 0 && !trailers {
                            guard scan.lineStart < 4 else { throw .badRequest("empty lines before the request line (RFC 9112 §2.2)") }
                            scan.lineStart = position + 1
                            position += 1
                            continue
                        }
                        scan.position = position + 1
                        return position + 1
                    }
                    if scan.lines == 0 && !trailers {
                        guard length <= limits.maxRequestLineLength else {
                            throw HTTP1ParseError(status: 414, "request line longer than \(limits.maxRequestLineLength) bytes")
                        }
                    } else {
                        let fields = trailers ? scan.lines + 1 : scan.lines
                        guard fields <= limits.maxFields else {
                            throw HTTP1ParseError(status: 431, "more than \(limits.maxFields) \(trailers ? "trailer" : "header") fields")
                        }
                    }
                    scan.lines += 1
                    scan.lineStart = position + 1
                    if scan.lines == 1 && !trailers { scan.fieldsStart = position + 1 }
                } else if byte == 0x0D {
                    // A CR must be followed by LF (RFC 9112 §2.2: a bare CR is invalid). At
                    // the end of what arrived, look again when more comes.
                    guard position + 1 < raw.count else { break }
                    if raw[position + 1] != 0x0A {
                        throw .badRequest("bare CR in the message head (RFC 9112 §2.2)")
                    }
                } else if byte == 0 {
                    throw .badRequest("NUL in the message head (RFC 9110 §5.5)")
                }
                position += 1
                // Limits on what is still incomplete: a request line or a field section
                // that never ends must not be buffered without bound.
                if scan.lines == 0 && !trailers {
                    if position - scan.lineStart > limits.maxRequestLineLength + 2 {
                        throw HTTP1ParseError(status: 414, "request line longer than \(limits.maxRequestLineLength) bytes")
                    }
                } else if position - scan.fieldsStart > limits.maxFieldBytes + 2 {
                    throw HTTP1ParseError(status: 431, "\(trailers ? "trailer" : "header") fields larger than \(limits.maxFieldBytes) bytes")
                }
            }
            scan.position = position
            return nil
        }
    }

    static func lineEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while raw[index] != 0x0D { index += 1 }
        return index
    }

    private func parseHead(_ buffer: ByteBuffer, end: Int) throws(HTTP1ParseError) -> HTTP1RequestHead {
        var head = try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> HTTP1RequestHead in
            var start = 0
            while raw[start] == 0x0D { start += 2 }   // ignored empty lines
            let lineEnd = Self.lineEnd(raw, from: start)
            var head = try Self.parseRequestLine(raw, start, lineEnd)
            start = lineEnd + 2
            while start < end - 2 {
                let fieldEnd = Self.lineEnd(raw, from: start)
                try Self.parseField(raw, start, fieldEnd, into: &head.fields)
                start = fieldEnd + 2
            }
            return head
        }
        head.framing = try framing(of: head)
        try checkHost(head)
        return head
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3).
    static func parseRequestLine(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(HTTP1ParseError) -> HTTP1RequestHead {
        var index = start
        while index < end && isTokenCharacter(raw[index]) { index += 1 }
        guard index > start, index < end, raw[index] == 0x20 else {
            throw .badRequest("malformed request line: the method must be a token followed by one space (RFC 9112 §3)")
        }
        let method = string(raw, start, index)
        let targetStart = index + 1
        index = targetStart
        while index < end && raw[index] > 0x20 && raw[index] != 0x7F { index += 1 }
        guard index > targetStart, index < end, raw[index] == 0x20 else {
            throw .badRequest("malformed request line: the target must be followed by one space and the version (RFC 9112 §3)")
        }
        let target = string(raw, targetStart, index)
        let version: HTTP1Version
        switch string(raw, index + 1, end) {
        case "HTTP/1.1": version = .http1_1
        case "HTTP/1.0": version = .http1_0
        case let other where other.count == 8 && other.hasPrefix("HTTP/") && other.dropFirst(5).first?.isNumber == true:
            throw HTTP1ParseError(status: 505, "HTTP version \(other) is not supported (RFC 9112 §2.3)")
        default:
            throw .badRequest("malformed request line: no HTTP version (RFC 9112 §3)")
        }
        return HTTP1RequestHead(method: method, target: target, version: version)
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5).
    static func parseField(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int, into fields: inout HTTP1Fields) throws(HTTP1ParseError) {
        if raw[start] == 0x20 || raw[start] == 0x09 {
            throw .badRequest("obsolete line folding (RFC 9112 §5.2)")
        }
        var index = start
        while index < end && isTokenCharacter(raw[index]) { index += 1 }
        guard index < end, raw[index] == 0x3A else {
            if index < end && (raw[index] == 0x20 || raw[index] == 0x09) {
                throw .badRequest("whitespace between a field name and the colon (RFC 9112 §5.1)")
            }
            throw .badRequest("malformed field line: the name must be a token followed by a colon (RFC 9112 §5)")
        }
        guard index > start else { throw .badRequest("a field line with an empty name (RFC 9112 §5)") }
        let name = string(raw, start, index)
        var valueStart = index + 1
        var valueEnd = end
        while valueStart < valueEnd && (raw[valueStart] == 0x20 || raw[valueStart] == 0x09) { valueStart += 1 }
        while valueEnd > valueStart && (raw[valueEnd - 1] == 0x20 || raw[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        for position in valueStart..<valueEnd {
            let byte = raw[position]
            guard byte >= 0x20 || byte == 0x09, byte != 0x7F else {
                throw .badRequest("control character in the value of \(name) (RFC 9110 §5.5)")
            }
        }
        fields.add(name, string(raw, valueStart, valueEnd))
    }

    /// The body's framing (RFC 9112 §6.1, §6.3), refusing what request smuggling uses.
    private func framing(of head: HTTP1RequestHead) throws(HTTP1ParseError) -> HTTP1BodyFraming {
        let encodings = head.fields.values("transfer-encoding")
        let lengths = head.fields.values("content-length")
        if !encodings.isEmpty {
            guard lengths.isEmpty else {
                throw .badRequest("Transfer-Encoding with Content-Length (RFC 9112 §6.3)")
            }
            guard head.version == .http1_1 else {
                throw .badRequest("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)")
            }
            let codings = encodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces.lowercased() } }
            guard codings.last == "chunked" else {
                throw .badRequest("Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)")
            }
            guard codings.count == 1 else {
                throw HTTP1ParseError(status: 501, "transfer coding \(codings.dropLast().joined(separator: ", ")) is not supported (RFC 9112 §6.1)")
            }
            return .chunked
        }
        guard !lengths.isEmpty else { return .none }
        guard lengths.count == 1 else {
            throw .badRequest("more than one Content-Length field (RFC 9112 §6.3)")
        }
        let text = lengths[0]
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text) else {
            throw .badRequest("invalid Content-Length \"\(text)\" (RFC 9112 §6.3)")
        }
        guard length <= limits.maxBodySize else {
            throw HTTP1ParseError(status: 413, "Content-Length \(length) is larger than \(limits.maxBodySize) bytes")
        }
        return length == 0 ? .none : .length(length)
    }

    /// An HTTP/1.1 request has exactly one Host field (RFC 9112 §3.2).
    private func checkHost(_ head: HTTP1RequestHead) throws(HTTP1ParseError) {
        let hosts = head.fields.values("host")
        if hosts.count > 1 { throw .badRequest("more than one Host field (RFC 9112 §3.2)") }
        if hosts.isEmpty && head.version == .http1_1 { throw .badRequest("an HTTP/1.1 request without Host (RFC 9112 §3.2)") }
    }

    // MARK: Chunks

    /// chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); nil when the line is not complete.
    private mutating func parseChunkSize(_ buffer: inout ByteBuffer) throws(HTTP1ParseError) -> Int? {
        let limit = limits.maxChunkLineLength
        let parsed = try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> (size: Int, consumed: Int)? in
            var index = 0
            var size = 0
            while index < raw.count, let digit = Self.hexValue(raw[index]) {
                guard index < 15 else { throw .badRequest("chunk size with more than 15 hex digits (RFC 9112 §7.1)") }
                size = size << 4 | digit
                index += 1
            }
            if index == raw.count {
                guard index <= limit else { throw .badRequest("chunk-size line longer than \(limit) bytes") }
                return nil
            }
            guard index > 0 else { throw .badRequest("invalid chunk size (RFC 9112 §7.1)") }
            // Extensions are ignored (RFC 9112 §7.1.1), but their line ends properly and is bounded.
            // Only BWS, then ";" (an extension) or the CRLF, may follow the size.
            while index < raw.count && (raw[index] == 0x20 || raw[index] == 0x09) { index += 1 }
            if index < raw.count && raw[index] != 0x3B && raw[index] != 0x0D {
                throw .badRequest("invalid chunk size (RFC 9112 §7.1)")
            }
            while index < raw.count && raw[index] != 0x0D {
                let byte = raw[index]
                guard byte >= 0x20 || byte == 0x09, byte != 0x7F else {
                    throw .badRequest("control character in a chunk extension (RFC 9112 §7.1.1)")
                }
                index += 1
                guard index <= limit else { throw .badRequest("chunk-size line longer than \(limit) bytes") }
            }
            guard index + 1 < raw.count else { return nil }
            guard raw[index + 1] == 0x0A else { throw .badRequest("bare CR after a chunk size (RFC 9112 §2.2)") }
            return (size, index + 2)
        }
        guard let parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        return parsed.size
    }

    // MARK: Characters

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    static func string(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<end]), as: UTF8.self)
    }
}

extension ByteBuffer {
    /// `withUnsafeReadableBytes` for a body that throws `HTTP1ParseError` (the former only
    /// rethrows untyped errors).
    func withParsedBytes<T>(_ body: (UnsafeRawBufferPointer) throws(HTTP1ParseError) -> T) throws(HTTP1ParseError) -> T {
        let result = withUnsafeReadableBytes { raw in Result { () throws(HTTP1ParseError) -> T in try body(raw) } }
        return try result.get()
    }
}
