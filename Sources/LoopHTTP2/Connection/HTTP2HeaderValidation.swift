/// HTTP semantics rules for header lists (RFC 9113 §8.2, §8.3): a list that breaks them is
/// malformed, a stream error of type PROTOCOL_ERROR (§8.1.1).
enum HTTP2HeaderValidation {
    // No sets or dictionaries here: this runs for every request, and hashing header names
    // costs more than comparing the few short names by value.

    /// Checks a request head; returns why it is malformed, or nil.
    /// `checkingFields` false skips the per-field rules (§8.2) for a list whose maker checked
    /// them; the pseudo-header rules (§8.3) always apply.
    static func requestProblem(_ headers: [HPACKHeader], checkingFields: Bool = true) -> String? {
        var seen: UInt8 = 0  // one bit per pseudo-header
        var regularSeen = false
        var isConnect = false
        var pathIsEmpty = true
        for header in headers {
            if checkingFields, let problem = fieldProblem(header) { return problem }
            guard header.name.utf8.first == UInt8(ascii: ":") else {
                regularSeen = true
                continue
            }
            guard !regularSeen else { return "pseudo-header \(header.name) after a regular header (RFC 9113 §8.3)" }
            let bit = pseudoHeaderBit(header.name)
            guard bit != 0 else { return "unknown request pseudo-header \(header.name) (RFC 9113 §8.3)" }
            if bit == 1 { isConnect = header.value == "CONNECT" }
            if bit == 4 { pathIsEmpty = header.value.isEmpty }
            guard seen & bit == 0 else { return "duplicate \(header.name) (RFC 9113 §8.3.1)" }
            seen |= bit
        }
        guard seen & 1 != 0 else { return "request without :method (RFC 9113 §8.3.1)" }
        // :protocol exists only after SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §4), which we never send.
        guard seen & 16 == 0 else { return ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9113 §8.3, RFC 8441 §4)" }
        if isConnect {
            // CONNECT: :authority only (§8.5).
            guard seen & 8 != 0 else { return "CONNECT without :authority (RFC 9113 §8.5)" }
            guard seen & 6 == 0 else { return "CONNECT with :scheme or :path (RFC 9113 §8.5)" }
            return nil
        }
        guard seen & 2 != 0 else { return "request without :scheme (RFC 9113 §8.3.1)" }
        guard seen & 4 != 0, !pathIsEmpty else { return "request without a non-empty :path (RFC 9113 §8.3.1)" }
        return nil
    }

    /// Checks a response head or a trailer block.
    static func responseProblem(_ headers: [HPACKHeader], isTrailers: Bool) -> String? {
        var regularSeen = false
        var status = false
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.utf8.first == UInt8(ascii: ":") {
                guard !isTrailers else { return "pseudo-header \(header.name) in trailers (RFC 9113 §8.1)" }
                guard !regularSeen else { return "pseudo-header \(header.name) after a regular header (RFC 9113 §8.3)" }
                guard header.name == ":status", !status else { return "unexpected response pseudo-header \(header.name) (RFC 9113 §8.3.2)" }
                status = true
            } else {
                regularSeen = true
            }
        }
        if !isTrailers && !status { return "response without :status (RFC 9113 §8.3.2)" }
        return nil
    }

    /// The content-length of a head, nil when absent; differing or invalid values make the
    /// message malformed (RFC 9110 §8.6, RFC 9113 §8.1.1).
    static func contentLength(_ headers: [HPACKHeader], streamID: UInt32) throws(HTTP2ProtocolError) -> Int? {
        var length: Int?
        for header in headers where header.name.utf8.count == 14 && header.name == "content-length" {
            // The usual single value, without splitting (which allocates an array).
            if !header.value.utf8.contains(UInt8(ascii: ",")) {
                let value = header.value[...].trimmingSpaces
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let number = Int(value), length == nil || length == number else {
                    throw .stream(streamID, .protocolError, "invalid content-length \"\(header.value)\" (RFC 9113 §8.1.1)")
                }
                length = number
                continue
            }
            for part in header.value.split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.trimmingSpaces
                guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                      let value = Int(text), length == nil || length == value else {
                    throw .stream(streamID, .protocolError, "invalid content-length \"\(header.value)\" (RFC 9113 §8.1.1)")
                }
                length = value
            }
        }
        return length
    }

    /// The bit of a request pseudo-header (:method 1, :scheme 2, :path 4, :authority 8,
    /// :protocol 16), 0 for others. A string `switch` would hash the name; the length and
    /// one byte pick the single candidate to compare instead.
    private static func pseudoHeaderBit(_ name: String) -> UInt8 {
        let utf8 = name.utf8
        switch utf8.count {
        case 5: return name == ":path" ? 4 : 0
        case 7:
            let second = utf8[utf8.index(after: utf8.startIndex)]
            if second == UInt8(ascii: "m") { return name == ":method" ? 1 : 0 }
            return name == ":scheme" ? 2 : 0
        case 9: return name == ":protocol" ? 16 : 0
        case 10: return name == ":authority" ? 8 : 0
        default: return 0
        }
    }

    /// Checks a header list we are about to send (any kind: request, response, trailers)
    /// against the field rules (§8.2) and the pseudo-header order (§8.3).
    static func outgoingProblem(_ headers: [HPACKHeader]) -> String? {
        var regularSeen = false
        for header in headers {
            if let problem = fieldProblem(header) { return problem }
            if header.name.utf8.first == UInt8(ascii: ":") {
                guard !regularSeen else { return "pseudo-header \(header.name) after a regular header (RFC 9113 §8.3)" }
            } else {
                regularSeen = true
            }
        }
        return nil
    }

    private static func fieldProblem(_ header: HPACKHeader) -> String? {
        // Scan the contiguous UTF-8 directly: the view's index machinery costs several times more.
        // One pass per name and per value, a couple of compares per byte (this runs for every
        // field of every header list). Borrowed, not copied into a `var` for `withUTF8`:
        // the copy's retain and release were a measurable part of each request.
        let name = header.name
        let nameFault = withUTF8(of: name) { bytes -> NameFault? in
            // A pseudo-header's leading colon is the only colon allowed.
            let start = bytes.first == UInt8(ascii: ":") ? 1 : 0
            // Eight bytes at a time first: almost every name is clean, and one word test
            // replaces eight byte tests; a word that might hold a fault goes byte by byte.
            if !WordScan.mayHoldNameFault(bytes, from: start) { return nil }
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if byte &- UInt8(ascii: "A") < 26 { return .upperCase }
                // §8.2.1: nothing outside 0x21...0x7E, and no colon.
                if byte &- 0x21 >= 0x5E || byte == UInt8(ascii: ":") { return .invalidCharacter }
                index += 1
            }
            return nil
        }
        switch nameFault {
        case .upperCase?: return "upper-case header name \(name) (RFC 9113 §8.2.1)"
        case .invalidCharacter?: return "invalid character in header name \(name.debugDescription) (RFC 9113 §8.2.1)"
        case nil: break
        }
        let valueFault = withUTF8(of: header.value) { bytes -> ValueFault? in
            guard let first = bytes.first, let last = bytes.last else { return nil }
            // §8.2.1: a value must not start or end with SP or HTAB, nor contain NUL, LF or CR
            // (a gateway translating to HTTP/1.1 would otherwise pass on a smuggled line).
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return .surroundingWhitespace }
            // A value with no byte below 0x0E has none of the three: one test per eight bytes.
            if !WordScan.mayHoldControlByte(bytes) { return nil }
            for byte in bytes where byte < 0x0E && (byte == 0x00 || byte == 0x0A || byte == 0x0D) { return .lineBreakOrNul }
            return nil
        }
        switch valueFault {
        case .surroundingWhitespace?: return "leading or trailing whitespace in the value of \(name) (RFC 9113 §8.2.1)"
        case .lineBreakOrNul?: return "CR, LF or NUL in the value of \(name) (RFC 9113 §8.2.1)"
        case nil: break
        }
        let connectionSpecific: Bool
        switch name.utf8.count {
        case 2:
            if name == "te" && header.value != "trailers" { return "te header other than \"trailers\" (RFC 9113 §8.2.2)" }
            connectionSpecific = false
        case 7: connectionSpecific = name == "upgrade"
        case 10: connectionSpecific = name == "connection" || name == "keep-alive"
        case 16: connectionSpecific = name == "proxy-connection"
        case 17: connectionSpecific = name == "transfer-encoding"
        default: connectionSpecific = false
        }
        return connectionSpecific ? "connection-specific header \(name) (RFC 9113 §8.2.2)" : nil
    }
}

/// The string's UTF-8 without copying it (native and small strings are contiguous; others
/// are made so in a copy).
@inline(__always)
private func withUTF8<R>(of string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = string
    return copy.withUTF8(body)
}

private enum NameFault { case upperCase, invalidCharacter }

/// Word-at-a-time tests over header bytes (the classic SWAR bit tricks on 64-bit words):
/// each answers "might a byte of these be bad?" with no false negatives; a yes sends the
/// caller to its exact byte-by-byte check. Bytes past the last full word are tested one
/// by one.
enum WordScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` that is below `limit` (limit ≤ 128), and maybe of
    /// bytes above it too only when a byte below it exists (carries move upwards only).
    @inline(__always)
    private static func bytesBelow(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highs
    }

    /// Whether a byte of `word` is above `limit` (limit < 128), bytes ≥ 0x80 included.
    @inline(__always)
    private static func bytesAbove(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        ((word & ~highs) &+ ones &* UInt64(127 - limit) | word) & highs
    }

    /// The high bit of each byte of `word` strictly between `low` and `high` (low ≤ 127,
    /// high ≤ 128): the bytes' low seven bits are added and subtracted apart from their
    /// high bits, so no borrow or carry crosses a byte and the test is exact.
    @inline(__always)
    private static func bytesBetween(_ word: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        let low7 = word & ~highs
        return (ones &* UInt64(127 + UInt64(high)) &- low7) & ~word & (low7 &+ ones &* UInt64(127 - low)) & highs
    }

    /// Whether a byte of `bytes` may be a control byte (below 0x0E).
    @inline(__always)
    static func mayHoldControlByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index + 8 <= bytes.count {
            if bytesBelow(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self), 0x0E) != 0 { return true }
            index += 8
        }
        while index < bytes.count {
            if bytes[index] < 0x0E { return true }
            index += 1
        }
        return false
    }

    /// Whether a byte of `bytes` from `start` on may be bad in a field name: outside
    /// 0x21...0x7E, an upper-case letter, or a colon (RFC 9113 §8.2.1).
    @inline(__always)
    static func mayHoldNameFault(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let colons = ones &* UInt64(UInt8(ascii: ":"))
        var index = start
        while index + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let fault = bytesBelow(word, 0x21) | bytesAbove(word, 0x7E) | bytesBelow(word ^ colons, 1)
                | bytesBetween(word, 0x40, 0x5B)  // 'A'...'Z'
            if fault != 0 { return true }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte &- 0x21 >= 0x5E || byte == UInt8(ascii: ":") || byte &- UInt8(ascii: "A") < 26 { return true }
            index += 1
        }
        return false
    }
}
private enum ValueFault { case surroundingWhitespace, lineBreakOrNul }

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
