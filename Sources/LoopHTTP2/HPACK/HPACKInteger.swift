import Loop

/// HPACK's prefixed integers (RFC 7541 §5.1).
enum HPACKInteger {
    /// Values above this are `HPACKError.integerOverflow` (well beyond any sane field).
    static let maximum = 1 << 30

    /// Writes `value` with an `prefixBits`-bit prefix; `flags` fills the byte's high bits.
    static func encode(_ value: Int, prefixBits: Int, flags: UInt8, into buffer: inout ByteBuffer) {
        let limit = (1 << prefixBits) - 1
        if value < limit {
            buffer.writeInteger(flags | UInt8(value))
            return
        }
        buffer.writeInteger(flags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            buffer.writeInteger(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        buffer.writeInteger(UInt8(rest))
    }

    /// Reads an integer whose first byte is at the reader index (its high bits are ignored).
    static func decode(prefixBits: Int, from buffer: inout ByteBuffer) throws -> Int {
        guard let first = buffer.readInteger(as: UInt8.self) else { throw HPACKError.truncated }
        let limit = (1 << prefixBits) - 1
        var value = Int(first) & limit
        guard value == limit else { return value }
        var shift = 0
        while true {
            guard let byte = buffer.readInteger(as: UInt8.self) else { throw HPACKError.truncated }
            value += Int(byte & 0x7F) << shift
            guard value <= maximum else { throw HPACKError.integerOverflow }
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift <= 28 else { throw HPACKError.integerOverflow }
        }
    }
}
