/// `grpc-message` coding: percent-encoding of UTF-8 bytes outside printable ASCII and of
/// `%` itself (PROTOCOL-HTTP2.md, "Status-Message").
public enum GRPCStatusMessage {
    /// Encodes a status message for the `grpc-message` header.
    public static func encode(_ message: String) -> String {
        var needsEncoding = false
        for byte in message.utf8 where byte < 0x20 || byte > 0x7E || byte == 0x25 {
            needsEncoding = true
            break
        }
        guard needsEncoding else { return message }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.utf8.count * 3)
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in message.utf8 {
            if byte < 0x20 || byte > 0x7E || byte == 0x25 {
                bytes.append(0x25)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a `grpc-message` value. Malformed escapes are kept as they are, as the spec
    /// asks ("the receiver should not fail on a malformed encoding").
    public static func decode(_ value: String) -> String {
        guard value.utf8.contains(0x25) else { return value }
        let input = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            if input[index] == 0x25, index + 2 < input.count,
               let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(input[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
