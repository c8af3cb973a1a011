/// The little JSON structure the gateway needs around SwiftProtobuf's parser and encoder:
/// where one value ends (so a body bound to one field is exactly one value and cannot
/// smuggle sibling fields into the wrapper object), and where a top-level key's value is in
/// an object SwiftProtobuf wrote (a response field). It checks structure only (brackets,
/// strings, escapes); SwiftProtobuf validates everything else.
enum GatewayJSONScanner {
    /// Whether `bytes` hold exactly one JSON value, with only whitespace around it.
    static func isSingleValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = skipWhitespace(bytes, from: 0)
        guard let end = valueEnd(bytes, from: index) else { return false }
        index = skipWhitespace(bytes, from: end)
        return index == bytes.count
    }

    /// Whether `bytes` are empty or only whitespace (an absent body).
    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        skipWhitespace(bytes, from: 0) == bytes.count
    }

    /// The range of the value of `key` in the top-level object of `json`, or nil when the
    /// object has no such key (or `json` is not an object).
    static func valueRange(ofKey key: String, in json: [UInt8]) -> Range<Int>? {
        json.withUnsafeBytes { bytes in
            let key = Array(key.utf8)
            var index = skipWhitespace(bytes, from: 0)
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
            index += 1
            while true {
                index = skipWhitespace(bytes, from: index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                guard let keyEnd = stringEnd(bytes, from: index) else { return nil }
                let name = bytes[(index + 1)..<(keyEnd - 1)]
                index = skipWhitespace(bytes, from: keyEnd)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                let valueStart = skipWhitespace(bytes, from: index + 1)
                guard let valueEnd = valueEnd(bytes, from: valueStart) else { return nil }
                if name.elementsEqual(key) { return valueStart..<valueEnd }
                index = skipWhitespace(bytes, from: valueEnd)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
    }

    /// The index just past the value starting at `start`, or nil when it is not a complete
    /// value. Objects and arrays must close with their own bracket.
    static func valueEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var closers: [UInt8] = [bytes[start] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")]
            var index = start + 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, from: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"):
                    closers.append(UInt8(ascii: "}"))
                case UInt8(ascii: "["):
                    closers.append(UInt8(ascii: "]"))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard closers.popLast() == bytes[index] else { return nil }
                    if closers.isEmpty { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return nil
        default:
            // A number, true, false or null: letters, digits, sign, point and exponent.
            var index = start
            while index < bytes.count, isScalarByte(bytes[index]) { index += 1 }
            return index > start ? index : nil
        }
    }

    /// The index just past the string starting at `start` (a quote), escapes skipped.
    private static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    private static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    private static func isScalarByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
