/// Percent-decoding (RFC 3986 §2.1) of path segments, captures and query components.
/// Malformed escapes ("%", "%4", "%zz") and decoded bytes that are not UTF-8 make the
/// decoding fail rather than pass through, so a client's mistake is answered, not guessed at.
enum GatewayPercentDecoding {
    /// The bytes of `raw` decoded. `keepEncodedSlash` leaves `%2F`/`%2f` as they are (a
    /// multi-segment capture); `plusAsSpace` turns "+" into a space (query strings,
    /// application/x-www-form-urlencoded). Nil for a malformed escape.
    static func decode(_ raw: some Collection<UInt8>, keepEncodedSlash: Bool, plusAsSpace: Bool = false) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index != raw.endIndex {
            let byte = raw[index]
            raw.formIndex(after: &index)
            if byte == UInt8(ascii: "+"), plusAsSpace {
                output.append(UInt8(ascii: " "))
                continue
            }
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                continue
            }
            guard index != raw.endIndex, let high = hexValue(raw[index]) else { return nil }
            let second = raw.index(after: index)
            guard second != raw.endIndex, let low = hexValue(raw[second]) else { return nil }
            let decoded = high << 4 | low
            if decoded == UInt8(ascii: "/"), keepEncodedSlash {
                output.append(byte)
                output.append(raw[index])
                output.append(raw[second])
            } else {
                output.append(decoded)
            }
            index = raw.index(after: second)
        }
        return output
    }

    /// `raw` decoded into a string; nil for a malformed escape or bytes that are not UTF-8.
    /// Text with nothing to decode is copied as it is.
    static func decodeString(_ raw: Substring.UTF8View, keepEncodedSlash: Bool, plusAsSpace: Bool = false) -> String? {
        let needsDecoding = raw.contains { $0 == UInt8(ascii: "%") || ($0 == UInt8(ascii: "+") && plusAsSpace) }
        guard needsDecoding else { return String(Substring(raw)) }
        guard let bytes = decode(raw, keepEncodedSlash: keepEncodedSlash, plusAsSpace: plusAsSpace) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
