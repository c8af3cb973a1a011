import Loop

/// Which kind of message a parser reads: the rules of a head are the same (RFC 9112 §2, §5,
/// §6, §7), its first line and what a refusal answers differ.
enum HTTP1MessageKind: Sendable {
    case request
    case response

    /// A refusal: a request's carries the status to answer it with; a response's is always
    /// 502 (Bad Gateway, RFC 9110 §15.6.3: what a gateway answers for an invalid response).
    func error(_ status: Int, _ reason: String) -> HTTP1ParseError {
        HTTP1ParseError(status: self == .request ? status : 502, reason)
    }

    /// A malformed message: 400 for a request, 502 for a response.
    func malformed(_ reason: String) -> HTTP1ParseError { error(400, reason) }

    var name: String { self == .request ? "request" : "response" }
    var startLine: String { self == .request ? "request line" : "status line" }
}

/// The scanning shared by `HTTP1RequestParser` and `HTTP1ResponseParser`: finding the end of
/// a head or trailer section, field lines, chunk-size lines, Content-Length and
/// Transfer-Encoding. Strict in the same way for both (RFC 9112 §2.2, §5, §6.3, §7.1).
enum HTTP1Scanner {
    /// Progress of the search for the empty line that ends a head (or trailer section), kept
    /// between calls so a head that arrives a byte at a time is scanned once, not once per byte.
    struct HeadScan: Sendable {
        /// Offset from the reader index where the search goes on.
        var position = 0
        /// Offset where the current line starts.
        var lineStart = 0
        /// Lines finished (the start line included).
        var lines = 0
        /// Offset where the field lines start (past the start line).
        var fieldsStart = 0
    }

    /// Finds the end of a head (the offset just past its empty line), checking each line's
    /// end and the limits as it goes; nil when the head is not complete yet.
    static func findHeadEnd(_ buffer: ByteBuffer, _ scan: inout HeadScan, kind: HTTP1MessageKind, trailers: Bool,
                            limits: HTTP1Limits) throws(HTTP1ParseError) -> Int? {
        let startLineLimit = kind == .request ? limits.maxRequestLineLength : limits.maxStatusLineLength
        let startLineStatus = kind == .request ? 414 : 502
        return try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> Int? in
            var position = scan.position
            while position < raw.count {
                // Ordinary bytes (anything but LF, CR and NUL) need no decision: skip them in a
                // tight loop, no further than where the limit on the unfinished part would trip
                // (the byte there goes the long way, which throws).
                let limitEnd = scan.lines == 0 && !trailers ? scan.lineStart + startLineLimit + 2 : scan.fieldsStart + limits.maxFieldBytes + 2
                let stop = min(raw.count, max(position, limitEnd))
                while position < stop {
                    // Eight bytes at a time while none is below 0x0E (LF, CR and NUL are).
                    while position &+ 8 <= stop {
                        let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                        if (word &- 0x0E0E_0E0E_0E0E_0E0E) & ~word & 0x8080_8080_8080_8080 != 0 { break }
                        position &+= 8
                    }
                    guard position < stop else { break }
                    let byte = raw[position]
                    if byte <= 0x0D && (byte == 0x0A || byte == 0x0D || byte == 0) { break }
                    position += 1
                }
                guard position < raw.count else { break }
                let byte = raw[position]
                if byte == 0x0A {   // LF
                    guard position > scan.lineStart, raw[position - 1] == 0x0D else {
                        throw kind.malformed("line ended by a bare LF (RFC 9112 §2.2)")
                    }
                    let length = position - 1 - scan.lineStart
                    if length == 0 {
                        if scan.lines == 0 && !trailers {
                            // RFC 9112 §2.2: a server ignores an empty line before the request
                            // line; a status line has no such allowance.
                            guard kind == .request else { throw kind.malformed("empty line before the status line (RFC 9112 §4)") }
                            guard scan.lineStart < 4 else { throw kind.malformed("empty lines before the request line (RFC 9112 §2.2)") }
                            scan.lineStart = position + 1
                            position += 1
                            continue
                        }
                        scan.position = position + 1
                        return position + 1
                    }
                    if scan.lines == 0 && !trailers {
                        guard length <= startLineLimit else {
                            throw kind.error(startLineStatus, "\(kind.startLine) longer than \(startLineLimit) bytes")
                        }
                    } else {
                        let fields = trailers ? scan.lines + 1 : scan.lines
                        guard fields <= limits.maxFields else {
                            throw kind.error(431, "more than \(limits.maxFields) \(trailers ? "trailer" : "header") fields")
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
                        throw kind.malformed("bare CR in the message head (RFC 9112 §2.2)")
                    }
                } else if byte == 0 {
                    throw kind.malformed("NUL in the message head (RFC 9110 §5.5)")
                }
                position += 1
                // Limits on what is still incomplete: a start line or a field section that
                // never ends must not be buffered without bound.
                if scan.lines == 0 && !trailers {
                    if position - scan.lineStart > startLineLimit + 2 {
                        throw kind.error(startLineStatus, "\(kind.startLine) longer than \(startLineLimit) bytes")
                    }
                } else if position - scan.fieldsStart > limits.maxFieldBytes + 2 {
                    throw kind.error(431, "\(trailers ? "trailer" : "header") fields larger than \(limits.maxFieldBytes) bytes")
                }
            }
            scan.position = position
            return nil
        }
    }

    /// The offset of the CR ending the line that starts at `start` (the line is known to end).
    static func lineEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while raw[index] != 0x0D { index += 1 }
        return index
    }

    /// The field lines from `start` to the empty line ending at `end` (a head's or trailers').
    static func parseFields(_ raw: UnsafeRawBufferPointer, from start: Int, end: Int, into fields: inout HTTP1Fields,
                            kind: HTTP1MessageKind) throws(HTTP1ParseError) {
        var start = start
        while start < end - 2 {
            let lineEnd = lineEnd(raw, from: start)
            try parseField(raw, start, lineEnd, into: &fields, kind: kind)
            start = lineEnd + 2
        }
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5).
    static func parseField(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int, into fields: inout HTTP1Fields,
                           kind: HTTP1MessageKind) throws(HTTP1ParseError) {
        if raw[start] == 0x20 || raw[start] == 0x09 {
            throw kind.malformed("obsolete line folding (RFC 9112 §5.2)")
        }
        var index = start
        while index < end && isTokenCharacter(raw[index]) { index += 1 }
        guard index < end, raw[index] == 0x3A else {
            if index < end && (raw[index] == 0x20 || raw[index] == 0x09) {
                throw kind.malformed("whitespace between a field name and the colon (RFC 9112 §5.1)")
            }
            throw kind.malformed("malformed field line: the name must be a token followed by a colon (RFC 9112 §5)")
        }
        guard index > start else { throw kind.malformed("a field line with an empty name (RFC 9112 §5)") }
        let name = string(raw, start, index)
        var valueStart = index + 1
        var valueEnd = end
        while valueStart < valueEnd && (raw[valueStart] == 0x20 || raw[valueStart] == 0x09) { valueStart += 1 }
        while valueEnd > valueStart && (raw[valueEnd - 1] == 0x20 || raw[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        for position in valueStart..<valueEnd where !isFieldValueByte(raw[position]) {
            throw kind.malformed("control character in the value of \(name) (RFC 9110 §5.5)")
        }
        fields.add(name, string(raw, valueStart, valueEnd))
    }

    /// Whether a message with these fields is chunked (RFC 9112 §6.1, §6.3), refusing what
    /// request smuggling (and response splitting) uses: Transfer-Encoding with
    /// Content-Length, in HTTP/1.0, or with a coding other than a single chunked.
    static func isChunked(_ fields: HTTP1Fields, version: HTTP1Version, kind: HTTP1MessageKind) throws(HTTP1ParseError) -> Bool {
        guard fields.contains("transfer-encoding") else { return false }
        let encodings = fields.values("transfer-encoding")
        guard !fields.contains("content-length") else {
            throw kind.malformed("Transfer-Encoding with Content-Length (RFC 9112 §6.3)")
        }
        guard version == .http1_1 else {
            throw kind.malformed("Transfer-Encoding in an HTTP/1.0 \(kind.name) (RFC 9112 §6.1)")
        }
        let codings = encodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces.lowercased() } }
        guard codings.last == "chunked" else {
            throw kind.malformed("Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)")
        }
        guard codings.count == 1 else {
            throw kind.error(501, "transfer coding \(codings.dropLast().joined(separator: ", ")) is not supported (RFC 9112 §6.1)")
        }
        return true
    }

    /// The Content-Length (RFC 9112 §6.3), nil without one; a list, a sign, a second field
    /// or more than 18 digits is refused.
    static func contentLength(_ fields: HTTP1Fields, kind: HTTP1MessageKind) throws(HTTP1ParseError) -> Int? {
        guard let text = fields["content-length"] else { return nil }
        guard fields.count("content-length") == 1 else {
            throw kind.malformed("more than one Content-Length field (RFC 9112 §6.3)")
        }
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text) else {
            throw kind.malformed("invalid Content-Length \"\(text)\" (RFC 9112 §6.3)")
        }
        return length
    }

    /// chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1), consumed from `buffer`; nil when the
    /// line is not complete.
    static func parseChunkSize(_ buffer: inout ByteBuffer, limit: Int, kind: HTTP1MessageKind) throws(HTTP1ParseError) -> Int? {
        let parsed = try buffer.withParsedBytes { raw throws(HTTP1ParseError) -> (size: Int, consumed: Int)? in
            var index = 0
            var size = 0
            while index < raw.count, let digit = hexValue(raw[index]) {
                guard index < 15 else { throw kind.malformed("chunk size with more than 15 hex digits (RFC 9112 §7.1)") }
                size = size << 4 | digit
                index += 1
            }
            if index == raw.count {
                guard index <= limit else { throw kind.malformed("chunk-size line longer than \(limit) bytes") }
                return nil
            }
            guard index > 0 else { throw kind.malformed("invalid chunk size (RFC 9112 §7.1)") }
            // Extensions are ignored (RFC 9112 §7.1.1), but their line ends properly and is bounded.
            // Only BWS, then ";" (an extension) or the CRLF, may follow the size.
            while index < raw.count && (raw[index] == 0x20 || raw[index] == 0x09) { index += 1 }
            if index < raw.count && raw[index] != 0x3B && raw[index] != 0x0D {
                throw kind.malformed("invalid chunk size (RFC 9112 §7.1)")
            }
            while index < raw.count && raw[index] != 0x0D {
                guard isFieldValueByte(raw[index]) else {
                    throw kind.malformed("control character in a chunk extension (RFC 9112 §7.1.1)")
                }
                index += 1
                guard index <= limit else { throw kind.malformed("chunk-size line longer than \(limit) bytes") }
            }
            guard index + 1 < raw.count else { return nil }
            guard raw[index + 1] == 0x0A else { throw kind.malformed("bare CR after a chunk size (RFC 9112 §2.2)") }
            return (size, index + 2)
        }
        guard let parsed else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        return parsed.size
    }

    /// The CRLF that ends a chunk's data (RFC 9112 §7.1): false when it has not arrived yet.
    static func consumeChunkDataEnd(_ buffer: inout ByteBuffer, kind: HTTP1MessageKind) throws(HTTP1ParseError) -> Bool {
        guard buffer.readableBytes >= 2 else { return false }
        guard buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A else {
            throw kind.malformed("chunk data not followed by CRLF (RFC 9112 §7.1)")
        }
        buffer.moveReaderIndex(forwardBy: 2)
        return true
    }

    // MARK: Characters

    /// tchar (RFC 9110 §5.6.2): ALPHA, DIGIT and !#$%&'*+-.^_`|~, as a bitmap over ASCII
    /// (one test per byte of every field name). `HTTP1ScannerTests` checks it against the
    /// grammar for all 256 bytes.
    @inline(__always)
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        let bitmap: UInt64 = byte < 64 ? 0x03FF_6CFA_0000_0000 : 0x57FF_FFFF_C7FF_FFFE
        return byte < 128 && (bitmap >> UInt64(byte & 63)) & 1 == 1
    }

    /// A byte a field value (or reason phrase, or chunk extension) may hold: HTAB, SP, VCHAR
    /// and obs-text, no other control (RFC 9110 §5.5).
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 || byte == 0x09) && byte != 0x7F
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
