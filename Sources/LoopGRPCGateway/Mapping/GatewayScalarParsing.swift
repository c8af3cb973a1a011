#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The protobuf scalar types, named as in .proto files (for error messages and field
/// descriptions).
enum GatewayScalarType: String, Sendable {
    case double, float, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes

    /// proto3 JSON writes these as strings (int64 as "1", not 1).
    var isSixtyFourBit: Bool {
        switch self {
        case .int64, .uint64, .sint64, .fixed64, .sfixed64: return true
        default: return false
        }
    }
}

/// A Swift type a scalar field is stored in, parsed from the text of a path capture or a
/// query parameter. The rules are grpc-gateway's (Go's strconv): integers in decimal with
/// an optional sign, floats in decimal or exponent form plus proto3 JSON's "NaN",
/// "Infinity" and "-Infinity", bools as strconv.ParseBool spells them, bytes as base64
/// (standard or URL-safe alphabet, padding optional).
protocol GatewayScalarValue {
    static func parse(_ text: String) -> Self?
}

extension Int32: GatewayScalarValue {
    static func parse(_ text: String) -> Int32? { Int32(text, radix: 10) }
}

extension Int64: GatewayScalarValue {
    static func parse(_ text: String) -> Int64? { Int64(text, radix: 10) }
}

extension UInt32: GatewayScalarValue {
    static func parse(_ text: String) -> UInt32? { text.hasPrefix("+") ? nil : UInt32(text, radix: 10) }
}

extension UInt64: GatewayScalarValue {
    static func parse(_ text: String) -> UInt64? { text.hasPrefix("+") ? nil : UInt64(text, radix: 10) }
}

extension Double: GatewayScalarValue {
    static func parse(_ text: String) -> Double? {
        GatewayScalarParsing.parseFloatingPoint(text)
    }
}

extension Float: GatewayScalarValue {
    static func parse(_ text: String) -> Float? {
        GatewayScalarParsing.parseFloatingPoint(text)
    }
}

extension Bool: GatewayScalarValue {
    /// strconv.ParseBool's spellings: 1, t, T, TRUE, true, True and their false twins.
    static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}

extension String: GatewayScalarValue {
    static func parse(_ text: String) -> String? { text }
}

extension Data: GatewayScalarValue {
    static func parse(_ text: String) -> Data? {
        GatewayScalarParsing.base64Decode(text).map { Data($0) }
    }
}

enum GatewayScalarParsing {
    /// Decimal or exponent notation, or "NaN", "Infinity", "-Infinity". Hexadecimal floats
    /// and "inf"/"nan" spellings are refused (neither protobuf's JSON nor strconv needs
    /// them), and so is a finite number too large for the type (strconv's ERANGE), rather
    /// than becoming infinity.
    static func parseFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(_ text: String) -> F? {
        switch text {
        case "NaN": return .nan
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                 UInt8(ascii: "+"), UInt8(ascii: "-"):
                continue
            default:
                return nil
            }
        }
        guard let value = F(text), value.isFinite else { return nil }
        return value
    }

    /// Base64 in the standard ("+/") or URL-safe ("-_") alphabet, with or without "="
    /// padding; nil for anything else.
    static func base64Decode(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        guard bytes.count % 4 != 1, text.utf8.count - bytes.count <= 2 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            guard let value = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    /// Standard base64 with padding (RFC 4648 §4), for bytes written into JSON.
    static func base64Encode(_ bytes: some Collection<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 0x3F)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 0x3F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
