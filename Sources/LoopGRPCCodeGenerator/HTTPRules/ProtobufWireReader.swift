/// Reads protobuf's binary wire format field by field, for the few messages the generator
/// decodes itself (options it finds as unknown fields, such as `google.api.http`): varints,
/// length-delimited fields, and skipping everything else. A reader of a length-delimited
/// payload (`ProtobufWireReader(bytes: payload)`) keeps the payload's indices, so offsets in
/// errors always count from the start of the outermost bytes.
///
/// ```swift
/// var reader = ProtobufWireReader(bytes: [0x12, 0x02, 0x2F, 0x76])  // field 2: "/v"
/// while let field = try reader.nextField() {
///     let payload = try reader.lengthDelimited(of: field)            // [0x2F, 0x76]
/// }
/// ```
struct ProtobufWireReader {
    /// How a field's value is encoded on the wire.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// A field's number and wire type; the value follows in the reader.
    struct Field {
        var number: UInt32
        var wireType: WireType
        /// Where the field's tag starts.
        var offset: Int
    }

    /// What makes bytes unreadable as the wire format.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private let bytes: ArraySlice<UInt8>
    /// The offset of the next byte to read.
    private(set) var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    init(bytes: [UInt8]) {
        self.init(bytes: bytes[...])
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset == bytes.endIndex }

    /// The next field's tag, or nil at the end of the bytes.
    mutating func nextField() throws(Malformed) -> Field? {
        guard !isAtEnd else { return nil }
        let start = offset
        let tag = try varint()
        guard tag <= UInt64(UInt32.max) else {
            throw Malformed(description: "the tag at byte \(start) is larger than 32 bits")
        }
        let number = UInt32(truncatingIfNeeded: tag >> 3)
        guard number != 0 else {
            throw Malformed(description: "the tag at byte \(start) has field number 0")
        }
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw Malformed(description: "the tag at byte \(start) has wire type \(tag & 7), which does not exist")
        }
        return Field(number: number, wireType: wireType, offset: start)
    }

    /// A base-128 varint: at most ten bytes, low groups first.
    mutating func varint() throws(Malformed) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.endIndex {
            let byte = bytes[offset]
            offset += 1
            if shift == 63, byte > 1 {
                throw Malformed(description: "the varint at byte \(start) does not fit in 64 bits")
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Malformed(description: "the varint at byte \(start) is cut short by the end of the bytes")
    }

    /// The payload of `field`, which must be length-delimited (a string, bytes or a message).
    mutating func lengthDelimited(of field: Field) throws(Malformed) -> ArraySlice<UInt8> {
        guard field.wireType == .lengthDelimited else {
            throw Malformed(
                description: "field \(field.number) at byte \(field.offset) has wire type "
                    + "\(field.wireType.rawValue), not 2 (length-delimited)"
            )
        }
        let lengthOffset = offset
        let length = try varint()
        guard length <= UInt64(bytes.endIndex - offset) else {
            throw Malformed(
                description: "the length \(length) at byte \(lengthOffset) runs past the end of the bytes "
                    + "(\(bytes.endIndex - offset) left)"
            )
        }
        let end = offset + Int(length)
        defer { offset = end }
        return bytes[offset..<end]
    }

    /// The payload of `field` as a UTF-8 string, as protobuf's `string` fields must be.
    mutating func string(of field: Field) throws(Malformed) -> String {
        let payload = try lengthDelimited(of: field)
        guard let text = String(validating: payload, as: UTF8.self) else {
            throw Malformed(description: "field \(field.number) at byte \(field.offset) is not valid UTF-8")
        }
        return text
    }

    /// Reads past the value of `field`, whatever its wire type (a group up to its end).
    mutating func skip(_ field: Field) throws(Malformed) {
        switch field.wireType {
        case .varint:
            _ = try varint()
        case .fixed64:
            try advance(by: 8, for: field)
        case .fixed32:
            try advance(by: 4, for: field)
        case .lengthDelimited:
            _ = try lengthDelimited(of: field)
        case .startGroup:
            while true {
                guard let inner = try nextField() else {
                    throw Malformed(description: "the group \(field.number) at byte \(field.offset) has no end")
                }
                if inner.wireType == .endGroup {
                    guard inner.number == field.number else {
                        throw Malformed(
                            description: "the group \(field.number) at byte \(field.offset) ends with "
                                + "the end of group \(inner.number)"
                        )
                    }
                    return
                }
                try skip(inner)
            }
        case .endGroup:
            throw Malformed(description: "an end of group \(field.number) at byte \(field.offset) without its start")
        }
    }

    private mutating func advance(by count: Int, for field: Field) throws(Malformed) {
        guard bytes.endIndex - offset >= count else {
            throw Malformed(description: "field \(field.number) at byte \(field.offset) is cut short by the end of the bytes")
        }
        offset += count
    }
}
