#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Loop
import SwiftProtobuf

/// Writes a response message as proto3 JSON straight into a `ByteBuffer`, byte for byte what
/// SwiftProtobuf's encoder writes with the same options, for the common shape of a REST reply:
/// a message whose fields are strings, bools, integers and enums, singular or repeated.
///
/// SwiftProtobuf's `jsonUTF8Bytes()` spends most of its time around the fields rather than on
/// them (looking up the message's name table and extensions through the runtime's dynamic
/// casts, a visitor copied and destroyed, the result copied into the buffer); this writer
/// learns the names once, from the type's ``GatewayMessageSchema``, and only visits.
///
/// A type with any other kind of field (a nested message, a map, floating point, bytes,
/// groups), extensions, a well-known type's own JSON form, or options that change integers
/// or enums (`alwaysPrintInt64sAsNumbers`, `alwaysPrintEnumsAsInts`) gets no writer
/// (`init` returns nil) and stays with SwiftProtobuf; so does a message whose traversal
/// reaches anything unexpected (`write` returns nil).
///
/// ```swift
/// let writer = GatewayJSONMessageWriter(Loop_Demo_V1_HelloReply.self, options: JSONEncodingOptions())
/// writer?.write(.with { $0.message = "Hi" })   // {"message":"Hi"}
/// ```
struct GatewayJSONMessageWriter: Sendable {
    /// `"name":` of each field, by ascending field number.
    private let keys: [Key]

    struct Key: Sendable {
        let number: Int
        let bytes: [UInt8]
    }

    init?<M: SwiftProtobuf.Message>(_ type: M.Type, options: JSONEncodingOptions) {
        guard !options.alwaysPrintInt64sAsNumbers, !options.alwaysPrintEnumsAsInts,
              !(type is any ExtensibleMessage.Type),
              // google.protobuf.* messages with a JSON form of their own (Timestamp, Struct, …).
              !M.protoMessageName.hasPrefix("google.protobuf."),
              let schema = try? GatewayMessageSchema.learn(type) else { return nil }
        var keys: [Key] = []
        for field in schema.fields {
            switch field.kind {
            case .scalar(let scalar):
                switch scalar {
                case .double, .float, .bytes: return nil
                default: break
                }
            case .enumeration: break
            case .message, .map, .group: return nil
            }
            guard field.cardinality != .map else { return nil }
            let name = options.preserveProtoFieldNames ? field.protoName : field.jsonName
            // Names go out as they are: one that JSON would need to escape stays with SwiftProtobuf.
            guard name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return nil }
            keys.append(Key(number: field.number, bytes: Array("\"\(name)\":".utf8)))
        }
        self.keys = keys.sorted { $0.number < $1.number }
    }

    /// The message's JSON, or nil when its traversal met something this writer does not write.
    func write<M: SwiftProtobuf.Message>(_ message: M) -> ByteBuffer? {
        var visitor = Visitor(keys: keys)
        visitor.out.writeInteger(UInt8(ascii: "{"))
        do {
            try message.traverse(visitor: &visitor)
        } catch {
            return nil
        }
        guard !visitor.failed else { return nil }
        visitor.out.writeInteger(UInt8(ascii: "}"))
        return visitor.out
    }

    /// Thrown to stop a traversal that met a field this writer does not write.
    struct Unsupported: Error {}

    struct Visitor: SwiftProtobuf.Visitor {
        var out = ByteBuffer(capacity: 128)
        let keys: [Key]
        /// Where the last key was found: generated traversals go in field-number order.
        var cursor = 0
        var separator = false
        var failed = false

        init(keys: [Key]) {
            self.keys = keys
        }

        /// Writes `,` when needed and the field's `"name":`.
        mutating func startField(_ number: Int) throws {
            var index = cursor
            while index < keys.count, keys[index].number != number { index += 1 }
            if index == keys.count {
                guard let found = keys.firstIndex(where: { $0.number == number }) else { throw fail() }
                index = found
            }
            cursor = index
            if separator { out.writeInteger(UInt8(ascii: ",")) }
            separator = true
            _ = keys[index].bytes.withUnsafeBytes { out.writeBytes($0) }
        }

        mutating func fail() -> Unsupported {
            failed = true
            return Unsupported()
        }

        // MARK: Values

        mutating func putSigned(_ value: Int64, quoted: Bool) {
            if quoted { out.writeInteger(UInt8(ascii: "\"")) }
            if value < 0 { out.writeInteger(UInt8(ascii: "-")) }
            putDigits(value.magnitude)
            if quoted { out.writeInteger(UInt8(ascii: "\"")) }
        }

        mutating func putUnsigned(_ value: UInt64, quoted: Bool) {
            if quoted { out.writeInteger(UInt8(ascii: "\"")) }
            putDigits(value)
            if quoted { out.writeInteger(UInt8(ascii: "\"")) }
        }

        mutating func putDigits(_ value: UInt64) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var value = value
                var start = 20
                repeat {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                } while value != 0
                _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[start...]))
            }
        }

        mutating func putBool(_ value: Bool) {
            _ = value ? out.writeString("true") : out.writeString("false")
        }

        mutating func putString(_ value: String) {
            out.writeInteger(UInt8(ascii: "\""))
            var value = value
            value.withUTF8 { GatewayJSONMessageWriter.appendEscaped($0, to: &out) }
            out.writeInteger(UInt8(ascii: "\""))
        }

        mutating func putEnum<E: SwiftProtobuf.Enum>(_ value: E) {
            _ = GatewayEnumJSONNames.shared.json(for: value).withUnsafeBytes { out.writeBytes($0) }
        }

        mutating func putArray<T>(_ values: [T], _ put: (inout Visitor, T) -> Void) {
            out.writeInteger(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.writeInteger(UInt8(ascii: ",")) }
                put(&self, value)
            }
            out.writeInteger(UInt8(ascii: "]"))
        }

        // MARK: Visitor: what this writer writes

        mutating func visitSingularInt32Field(value: Int32, fieldNumber: Int) throws {
            try startField(fieldNumber); putSigned(Int64(value), quoted: false)
        }
        mutating func visitSingularSInt32Field(value: Int32, fieldNumber: Int) throws {
            try visitSingularInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularSFixed32Field(value: Int32, fieldNumber: Int) throws {
            try visitSingularInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularUInt32Field(value: UInt32, fieldNumber: Int) throws {
            try startField(fieldNumber); putUnsigned(UInt64(value), quoted: false)
        }
        mutating func visitSingularFixed32Field(value: UInt32, fieldNumber: Int) throws {
            try visitSingularUInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {
            try startField(fieldNumber); putSigned(value, quoted: true)
        }
        mutating func visitSingularSInt64Field(value: Int64, fieldNumber: Int) throws {
            try visitSingularInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularSFixed64Field(value: Int64, fieldNumber: Int) throws {
            try visitSingularInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {
            try startField(fieldNumber); putUnsigned(value, quoted: true)
        }
        mutating func visitSingularFixed64Field(value: UInt64, fieldNumber: Int) throws {
            try visitSingularUInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {
            try startField(fieldNumber); putBool(value)
        }
        mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {
            try startField(fieldNumber); putString(value)
        }
        mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {
            try startField(fieldNumber); putEnum(value)
        }

        mutating func visitRepeatedInt32Field(value: [Int32], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putSigned(Int64($1), quoted: false) }
        }
        mutating func visitRepeatedSInt32Field(value: [Int32], fieldNumber: Int) throws {
            try visitRepeatedInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedSFixed32Field(value: [Int32], fieldNumber: Int) throws {
            try visitRepeatedInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedUInt32Field(value: [UInt32], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putUnsigned(UInt64($1), quoted: false) }
        }
        mutating func visitRepeatedFixed32Field(value: [UInt32], fieldNumber: Int) throws {
            try visitRepeatedUInt32Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedInt64Field(value: [Int64], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putSigned($1, quoted: true) }
        }
        mutating func visitRepeatedSInt64Field(value: [Int64], fieldNumber: Int) throws {
            try visitRepeatedInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedSFixed64Field(value: [Int64], fieldNumber: Int) throws {
            try visitRepeatedInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedUInt64Field(value: [UInt64], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putUnsigned($1, quoted: true) }
        }
        mutating func visitRepeatedFixed64Field(value: [UInt64], fieldNumber: Int) throws {
            try visitRepeatedUInt64Field(value: value, fieldNumber: fieldNumber)
        }
        mutating func visitRepeatedBoolField(value: [Bool], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putBool($1) }
        }
        mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putString($1) }
        }
        mutating func visitRepeatedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
            try startField(fieldNumber); putArray(value) { $0.putEnum($1) }
        }
        // Packed fields are repeated ones in JSON (SwiftProtobuf's defaults forward them to the
        // repeated methods above).

        /// JSON carries no unknown fields.
        mutating func visitUnknown(bytes: Data) throws {}

        // MARK: Visitor: left to SwiftProtobuf

        mutating func visitSingularFloatField(value: Float, fieldNumber: Int) throws { throw fail() }
        mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws { throw fail() }
        mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws { throw fail() }
        mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws { throw fail() }
        mutating func visitSingularGroupField<G: SwiftProtobuf.Message>(value: G, fieldNumber: Int) throws { throw fail() }
        mutating func visitRepeatedFloatField(value: [Float], fieldNumber: Int) throws { throw fail() }
        mutating func visitRepeatedDoubleField(value: [Double], fieldNumber: Int) throws { throw fail() }
        mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws { throw fail() }
        mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws { throw fail() }
        mutating func visitRepeatedGroupField<G: SwiftProtobuf.Message>(value: [G], fieldNumber: Int) throws { throw fail() }
        mutating func visitMapField<KeyType, ValueType: MapValueType>(
            fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws { throw fail() }
        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws where ValueType.RawValue == Int { throw fail() }
        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws { throw fail() }
        mutating func visitExtensionFields(fields: ExtensionFieldValueSet, start: Int, end: Int) throws { throw fail() }
    }

    /// Appends a string's UTF-8 escaped as SwiftProtobuf's encoder escapes it: `\"`, `\\`,
    /// `\b \t \n \f \r`, and `\u00XX` (upper-case hex) for the other C0 controls, DEL and the
    /// C1 controls (U+0080–U+009F, in UTF-8 `C2 80`–`C2 9F`); everything else as it is.
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteBuffer) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var runStart = 0
        var index = 0
        func flush(_ end: Int, _ out: inout ByteBuffer) {
            if end > runStart { _ = out.writeBytes(UnsafeRawBufferPointer(start: base + runStart, count: end - runStart)) }
        }
        while index < count {
            let byte = base[index]
            if byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if byte >= 0x80 {
                // A C1 control is two bytes, C2 then 80…9F; every other non-ASCII byte is copied.
                if byte == 0xC2, index + 1 < count, base[index + 1] >= 0x80, base[index + 1] <= 0x9F {
                    flush(index, &out)
                    appendHexEscape(base[index + 1], to: &out)
                    index += 2
                    runStart = index
                } else {
                    index += 1
                }
                continue
            }
            flush(index, &out)
            switch byte {
            case 0x08: _ = out.writeString("\\b")
            case 0x09: _ = out.writeString("\\t")
            case 0x0A: _ = out.writeString("\\n")
            case 0x0C: _ = out.writeString("\\f")
            case 0x0D: _ = out.writeString("\\r")
            case UInt8(ascii: "\""): _ = out.writeString("\\\"")
            case UInt8(ascii: "\\"): _ = out.writeString("\\\\")
            default: appendHexEscape(byte, to: &out)
            }
            index += 1
            runStart = index
        }
        flush(count, &out)
    }

    /// `\u00XX` for a code point below 0x100.
    static func appendHexEscape(_ value: UInt8, to out: inout ByteBuffer) {
        let hex: StaticString = "0123456789ABCDEF"
        _ = out.writeString("\\u00")
        hex.withUTF8Buffer { digits in
            out.writeInteger(digits[Int(value >> 4)])
            out.writeInteger(digits[Int(value & 0x0F)])
        }
    }
}
