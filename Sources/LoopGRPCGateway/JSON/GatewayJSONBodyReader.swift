#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Loop
import SwiftProtobuf

/// Reads the common shape of a REST request body straight into the request message: one flat
/// JSON object whose members are strings, `true`/`false`, integers and enum names, for
/// singular fields of those kinds. The message it makes is the one SwiftProtobuf's parser
/// makes from the same body (the generated `decodeMessage` sets the fields, presence and
/// oneofs included, through this reader's `SwiftProtobuf.Decoder`).
///
/// Any other body gets nil, and the caller hands it to SwiftProtobuf, which parses what this
/// reader leaves out (nesting, arrays, `null`, escapes in strings, numbers with a fraction or
/// an exponent or in quotes, enum numbers) and words every error: a key this reader does not
/// know (unknown, or a field of another kind), a key given twice, a second member of a oneof,
/// a value out of its field's range, bytes that are not UTF-8 or JSON.
///
/// ```swift
/// let reader = GatewayJSONBodyReader(Loop_Demo_V1_HelloRequest.self)
/// reader?.read(#"{"name":"world","language":"FRENCH"}"#.utf8, as: Loop_Demo_V1_HelloRequest.self)
/// ```
struct GatewayJSONBodyReader: Sendable {
    /// A key this reader takes: a field's JSON name or its proto name (SwiftProtobuf takes both).
    struct Key: Sendable {
        let bytes: [UInt8]
        let number: Int
    }

    private let keys: [Key]

    init?<M: SwiftProtobuf.Message>(_ type: M.Type) {
        guard !M.protoMessageName.hasPrefix("google.protobuf."),
              let schema = try? GatewayMessageSchema.learn(type) else { return nil }
        var keys: [Key] = []
        for field in schema.fields where field.cardinality == .singular {
            switch field.kind {
            case .scalar(let scalar):
                switch scalar {
                case .double, .float, .bytes: continue
                default: break
                }
            case .enumeration: break
            case .message, .map, .group: continue
            }
            keys.append(Key(bytes: Array(field.jsonName.utf8), number: field.number))
            if field.protoName != field.jsonName { keys.append(Key(bytes: Array(field.protoName.utf8), number: field.number)) }
        }
        self.keys = keys
    }

    /// The message `body` describes, or nil when the body is not of the shape this reader takes.
    func read<M: SwiftProtobuf.Message>(_ body: ByteBuffer, as type: M.Type) -> M? {
        body.withUnsafeReadableBytes { read($0, as: type) }
    }

    /// The message `bytes` describe, or nil (as above).
    func read<M: SwiftProtobuf.Message>(_ bytes: UnsafeRawBufferPointer, as: M.Type) -> M? {
        guard let members = parse(bytes) else { return nil }
        var message = M()
        guard !members.isEmpty else { return message }
        var decoder = MemberDecoder(members: members)
        do {
            try message.decodeMessage(decoder: &decoder)
        } catch {
            return nil
        }
        return decoder.next == members.count ? message : nil
    }

    // MARK: The JSON

    enum Value {
        case string(String)
        case bool(Bool)
        case integer(negative: Bool, magnitude: UInt64)
    }

    struct Member {
        let number: Int
        let value: Value
    }

    /// `{`, members of the accepted kinds, `}`, JSON whitespace around them, nothing after.
    private func parse(_ bytes: UnsafeRawBufferPointer) -> [Member]? {
        var cursor = Cursor(bytes: bytes)
        cursor.skipWhitespace()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        var members: [Member] = []
        members.reserveCapacity(4)
        cursor.skipWhitespace()
        if !cursor.take(UInt8(ascii: "}")) {
            while true {
                cursor.skipWhitespace()
                guard let key = cursor.plainString(), let number = field(named: key) else { return nil }
                guard !members.contains(where: { $0.number == number }) else { return nil }
                cursor.skipWhitespace()
                guard cursor.take(UInt8(ascii: ":")) else { return nil }
                cursor.skipWhitespace()
                guard let value = cursor.value() else { return nil }
                members.append(Member(number: number, value: value))
                cursor.skipWhitespace()
                if cursor.take(UInt8(ascii: ",")) { continue }
                guard cursor.take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        cursor.skipWhitespace()
        return cursor.atEnd ? members : nil
    }

    private func field(named key: UnsafeRawBufferPointer) -> Int? {
        for candidate in keys where candidate.bytes.count == key.count {
            if candidate.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) { return candidate.number }
        }
        return nil
    }

    struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A string without escapes or control characters: its bytes between the quotes.
        mutating func plainString() -> UnsafeRawBufferPointer? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1])
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        mutating func value() -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let raw = plainString() else { return nil }
                let utf8 = raw.bindMemory(to: UInt8.self)
                // ASCII needs no validating (the generic validation costs ~900 instructions a string).
                if utf8.allSatisfy({ $0 < 0x80 }) { return .string(String(decoding: utf8, as: UTF8.self)) }
                guard let string = String(validating: utf8, as: UTF8.self) else { return nil }
                return .string(string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer()
            default: return nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count,
                  memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0 else { return false }
            index += count
            // `truex` is not `true`.
            if index < bytes.count, isNumberOrWordByte(bytes[index]) { return false }
            return true
        }

        /// `-?(0|[1-9][0-9]*)` that fits 64 bits, not followed by a fraction or an exponent
        /// (those, and `-0`, are left to SwiftProtobuf).
        mutating func integer() -> Value? {
            let negative = take(UInt8(ascii: "-"))
            let start = index
            var magnitude: UInt64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let digit = UInt64(bytes[index] - UInt8(ascii: "0"))
                let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")), !(negative && magnitude == 0) else { return nil }
            if index < bytes.count, isNumberOrWordByte(bytes[index]) { return nil }
            return .integer(negative: negative, magnitude: magnitude)
        }

        func isNumberOrWordByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return true
            default:
                return false
            }
        }
    }
}

/// Hands the parsed members to a message's generated `decodeMessage`, one field number at a
/// time; a decode method that does not fit the member's value (or a oneof's second member)
/// throws, and the reader gives up.
private struct MemberDecoder: SwiftProtobuf.Decoder {
    let members: [GatewayJSONBodyReader.Member]
    var next = 0

    init(members: [GatewayJSONBodyReader.Member]) {
        self.members = members
    }

    struct GiveUp: Error {}

    mutating func nextFieldNumber() throws -> Int? {
        guard next < members.count else { return nil }
        next += 1
        return members[next - 1].number
    }

    /// SwiftProtobuf's JSON parser refuses a second member of a oneof, in words.
    mutating func handleConflictingOneOf() throws { throw GiveUp() }

    var current: GatewayJSONBodyReader.Value { members[next - 1].value }

    // MARK: Values

    func string() throws -> String {
        guard case .string(let string) = current else { throw GiveUp() }
        return string
    }

    func bool() throws -> Bool {
        guard case .bool(let bool) = current else { throw GiveUp() }
        return bool
    }

    func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        guard case .integer(let negative, let magnitude) = current else { throw GiveUp() }
        if negative {
            guard T.isSigned, magnitude <= UInt64(T.max) + 1 else { throw GiveUp() }
            return magnitude == UInt64(T.max) + 1 ? T.min : 0 - T(magnitude)
        }
        guard magnitude <= UInt64(T.max) else { throw GiveUp() }
        return T(magnitude)
    }

    func enumeration<E: SwiftProtobuf.Enum>(_: E.Type) throws -> E where E.RawValue == Int {
        guard case .string(let name) = current, let value: E = GatewayEnumJSONNames.shared.value(named: name) else { throw GiveUp() }
        return value
    }

    // MARK: Decoder: the kinds read

    mutating func decodeSingularInt32Field(value: inout Int32) throws { value = try integer(Int32.self) }
    mutating func decodeSingularInt32Field(value: inout Int32?) throws { value = try integer(Int32.self) }
    mutating func decodeSingularInt64Field(value: inout Int64) throws { value = try integer(Int64.self) }
    mutating func decodeSingularInt64Field(value: inout Int64?) throws { value = try integer(Int64.self) }
    mutating func decodeSingularUInt32Field(value: inout UInt32) throws { value = try integer(UInt32.self) }
    mutating func decodeSingularUInt32Field(value: inout UInt32?) throws { value = try integer(UInt32.self) }
    mutating func decodeSingularUInt64Field(value: inout UInt64) throws { value = try integer(UInt64.self) }
    mutating func decodeSingularUInt64Field(value: inout UInt64?) throws { value = try integer(UInt64.self) }
    mutating func decodeSingularSInt32Field(value: inout Int32) throws { value = try integer(Int32.self) }
    mutating func decodeSingularSInt32Field(value: inout Int32?) throws { value = try integer(Int32.self) }
    mutating func decodeSingularSInt64Field(value: inout Int64) throws { value = try integer(Int64.self) }
    mutating func decodeSingularSInt64Field(value: inout Int64?) throws { value = try integer(Int64.self) }
    mutating func decodeSingularFixed32Field(value: inout UInt32) throws { value = try integer(UInt32.self) }
    mutating func decodeSingularFixed32Field(value: inout UInt32?) throws { value = try integer(UInt32.self) }
    mutating func decodeSingularFixed64Field(value: inout UInt64) throws { value = try integer(UInt64.self) }
    mutating func decodeSingularFixed64Field(value: inout UInt64?) throws { value = try integer(UInt64.self) }
    mutating func decodeSingularSFixed32Field(value: inout Int32) throws { value = try integer(Int32.self) }
    mutating func decodeSingularSFixed32Field(value: inout Int32?) throws { value = try integer(Int32.self) }
    mutating func decodeSingularSFixed64Field(value: inout Int64) throws { value = try integer(Int64.self) }
    mutating func decodeSingularSFixed64Field(value: inout Int64?) throws { value = try integer(Int64.self) }
    mutating func decodeSingularBoolField(value: inout Bool) throws { value = try bool() }
    mutating func decodeSingularBoolField(value: inout Bool?) throws { value = try bool() }
    mutating func decodeSingularStringField(value: inout String) throws { value = try string() }
    mutating func decodeSingularStringField(value: inout String?) throws { value = try string() }
    mutating func decodeSingularEnumField<E: SwiftProtobuf.Enum>(value: inout E) throws where E.RawValue == Int {
        value = try enumeration(E.self)
    }
    mutating func decodeSingularEnumField<E: SwiftProtobuf.Enum>(value: inout E?) throws where E.RawValue == Int {
        value = try enumeration(E.self)
    }

    // MARK: Decoder: left to SwiftProtobuf

    mutating func decodeSingularFloatField(value: inout Float) throws { throw GiveUp() }
    mutating func decodeSingularFloatField(value: inout Float?) throws { throw GiveUp() }
    mutating func decodeRepeatedFloatField(value: inout [Float]) throws { throw GiveUp() }
    mutating func decodeSingularDoubleField(value: inout Double) throws { throw GiveUp() }
    mutating func decodeSingularDoubleField(value: inout Double?) throws { throw GiveUp() }
    mutating func decodeRepeatedDoubleField(value: inout [Double]) throws { throw GiveUp() }
    mutating func decodeRepeatedInt32Field(value: inout [Int32]) throws { throw GiveUp() }
    mutating func decodeRepeatedInt64Field(value: inout [Int64]) throws { throw GiveUp() }
    mutating func decodeRepeatedUInt32Field(value: inout [UInt32]) throws { throw GiveUp() }
    mutating func decodeRepeatedUInt64Field(value: inout [UInt64]) throws { throw GiveUp() }
    mutating func decodeRepeatedSInt32Field(value: inout [Int32]) throws { throw GiveUp() }
    mutating func decodeRepeatedSInt64Field(value: inout [Int64]) throws { throw GiveUp() }
    mutating func decodeRepeatedFixed32Field(value: inout [UInt32]) throws { throw GiveUp() }
    mutating func decodeRepeatedFixed64Field(value: inout [UInt64]) throws { throw GiveUp() }
    mutating func decodeRepeatedSFixed32Field(value: inout [Int32]) throws { throw GiveUp() }
    mutating func decodeRepeatedSFixed64Field(value: inout [Int64]) throws { throw GiveUp() }
    mutating func decodeRepeatedBoolField(value: inout [Bool]) throws { throw GiveUp() }
    mutating func decodeRepeatedStringField(value: inout [String]) throws { throw GiveUp() }
    mutating func decodeSingularBytesField(value: inout Data) throws { throw GiveUp() }
    mutating func decodeSingularBytesField(value: inout Data?) throws { throw GiveUp() }
    mutating func decodeRepeatedBytesField(value: inout [Data]) throws { throw GiveUp() }
    mutating func decodeRepeatedEnumField<E: SwiftProtobuf.Enum>(value: inout [E]) throws where E.RawValue == Int { throw GiveUp() }
    mutating func decodeSingularMessageField<M: SwiftProtobuf.Message>(value: inout M?) throws { throw GiveUp() }
    mutating func decodeRepeatedMessageField<M: SwiftProtobuf.Message>(value: inout [M]) throws { throw GiveUp() }
    mutating func decodeSingularGroupField<G: SwiftProtobuf.Message>(value: inout G?) throws { throw GiveUp() }
    mutating func decodeRepeatedGroupField<G: SwiftProtobuf.Message>(value: inout [G]) throws { throw GiveUp() }
    mutating func decodeMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: inout _ProtobufMap<KeyType, ValueType>.BaseType
    ) throws { throw GiveUp() }
    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: inout _ProtobufEnumMap<KeyType, ValueType>.BaseType
    ) throws where ValueType.RawValue == Int { throw GiveUp() }
    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: inout _ProtobufMessageMap<KeyType, ValueType>.BaseType
    ) throws { throw GiveUp() }
    mutating func decodeExtensionField(values: inout ExtensionFieldValueSet, messageType: any SwiftProtobuf.Message.Type,
                                       fieldNumber: Int) throws { throw GiveUp() }
}
