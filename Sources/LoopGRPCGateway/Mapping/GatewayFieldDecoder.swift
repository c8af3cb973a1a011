#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LoopGRPC
import SwiftProtobuf

/// A field's shape, as a describing decoder records it.
struct GatewayFieldShape {
    var kind: GatewayFieldKind
    var cardinality: GatewayFieldCardinality
}

/// One field path set from text: the resolved steps from the root message to the field,
/// the values (several for a repeated field), the map key for a map entry, and the path as
/// the client wrote it, for errors.
struct GatewayFieldAssignment {
    let steps: [GatewayFieldInfo]
    let values: [String]
    let mapKey: String?
    let displayPath: String
}

/// A `SwiftProtobuf.Decoder` that hands a message's generated `decodeMessage` one field
/// number, so the generated code itself says what the field is (it calls the decode method
/// of the field's type) without reflection, and then sets that field from text.
///
/// Three modes: describing (records the field's type, changes nothing), walking an
/// assignment's steps (a message step decodes the submessage with the next step, creating
/// it when absent; the last step parses the text), and parsing one leaf value (a map
/// entry's key or value, handed to SwiftProtobuf's `FieldType.decodeSingular`).
struct GatewayFieldDecoder: SwiftProtobuf.Decoder {
    private enum Mode {
        case describe(fieldNumber: Int)
        case walk(GatewayFieldAssignment, depth: Int)
        case leaf(values: [String], displayPath: String)
    }

    private let mode: Mode
    private var delivered = false
    /// What a describing decoder learnt.
    private(set) var shape: GatewayFieldShape?
    /// Whether the generated code called a decode method for the field.
    private(set) var decoded = false
    /// Whether the message field just decoded already had a value, so a oneof reporting a
    /// conflict is the same member being continued (`by_scalars.f_int32` after
    /// `by_scalars.f_bool`), not another member replacing it.
    private var messageWasPresent = false

    init(describing fieldNumber: Int) {
        mode = .describe(fieldNumber: fieldNumber)
    }

    private init(walking assignment: GatewayFieldAssignment, depth: Int) {
        mode = .walk(assignment, depth: depth)
    }

    private init(leaf values: [String], displayPath: String) {
        mode = .leaf(values: values, displayPath: displayPath)
    }

    /// Sets `assignment`'s field in `message`. Errors are INVALID_ARGUMENT naming the field.
    static func assign<M: SwiftProtobuf.Message>(_ assignment: GatewayFieldAssignment, to message: inout M) throws(GRPCStatus) {
        var decoder = GatewayFieldDecoder(walking: assignment, depth: 0)
        try decoder.run(on: &message)
    }

    private mutating func run<M: SwiftProtobuf.Message>(on message: inout M) throws(GRPCStatus) {
        do {
            try message.decodeMessage(decoder: &self)
        } catch let status as GRPCStatus {
            throw status
        } catch {
            throw GRPCStatus(.invalidArgument, "cannot set field \(displayPath): \(error)")
        }
        guard decoded else { throw GRPCStatus(.internal, "\(M.protoMessageName) did not decode field \(displayPath)") }
    }

    // MARK: Decoder: the one field number

    mutating func nextFieldNumber() throws -> Int? {
        guard !delivered else { return nil }
        delivered = true
        switch mode {
        case .describe(let number): return number
        case .walk(let assignment, let depth): return assignment.steps[depth].number
        case .leaf: return nil
        }
    }

    mutating func handleConflictingOneOf() throws {
        guard case .walk = mode, !messageWasPresent else { return }
        throw GRPCStatus(.invalidArgument, "field \(displayPath) is in a oneof that already has another field set")
    }

    // MARK: Text to values

    private var displayPath: String {
        switch mode {
        case .describe(let number): return "#\(number)"
        case .walk(let assignment, _): return assignment.displayPath
        case .leaf(_, let displayPath): return displayPath
        }
    }

    /// The text for the field, with the field's description for errors, once the walk
    /// reached its last step.
    private func leafValues() throws(GRPCStatus) -> [String] {
        switch mode {
        case .describe: return []
        case .leaf(let values, _): return values
        case .walk(let assignment, let depth):
            guard depth == assignment.steps.count - 1 else {
                throw GRPCStatus(.invalidArgument, "field \(displayPath) goes through a field that has no fields")
            }
            return assignment.values
        }
    }

    private func single(_ values: [String]) throws(GRPCStatus) -> String {
        guard values.count == 1 else {
            throw GRPCStatus(.invalidArgument, "field \(displayPath) takes one value, got \(values.count)")
        }
        return values[0]
    }

    private func invalid(_ text: String, _ type: String) -> GRPCStatus {
        GRPCStatus(.invalidArgument, "invalid value \"\(text)\" for field \(displayPath) (\(type))")
    }

    private func parse<T: GatewayScalarValue>(_ text: String, _ type: GatewayScalarType) throws(GRPCStatus) -> T {
        guard let value = T.parse(text) else { throw invalid(text, type.rawValue) }
        return value
    }

    private var isDescribing: Bool {
        if case .describe = mode { return true }
        return false
    }

    private mutating func singular<T: GatewayScalarValue>(_ type: GatewayScalarType, _ value: inout T) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .scalar(type), cardinality: .singular); return }
        value = try parse(try single(try leafValues()), type)
        decoded = true
    }

    private mutating func optional<T: GatewayScalarValue>(_ type: GatewayScalarType, _ value: inout T?) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .scalar(type), cardinality: .singular); return }
        value = try parse(try single(try leafValues()), type) as T
        decoded = true
    }

    private mutating func repeated<T: GatewayScalarValue>(_ type: GatewayScalarType, _ value: inout [T]) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .scalar(type), cardinality: .repeated); return }
        for text in try leafValues() { value.append(try parse(text, type)) }
        decoded = true
    }

    /// An enum value by name (`FRENCH`) or by number (`2`), either one the enum defines.
    private func parseEnum<E: SwiftProtobuf.Enum>(_ text: String) throws(GRPCStatus) -> E where E.RawValue == Int {
        if let number = Int(text, radix: 10) {
            guard let value = E(rawValue: number), GatewayEnumNames<E>.isDefined(value) else { throw invalid(text, "enum") }
            return value
        }
        guard let value = GatewayEnumNames<E>.value(named: text) else { throw invalid(text, "enum") }
        return value
    }

    private func enumShape<E: SwiftProtobuf.Enum>(_: E.Type, _ cardinality: GatewayFieldCardinality) -> GatewayFieldShape
    where E.RawValue == Int {
        GatewayFieldShape(kind: .enumeration(zeroName: GatewayEnumNames<E>.name(of: E())), cardinality: cardinality)
    }

    mutating func decodeSingularFloatField(value: inout Float) throws { try singular(.float, &value) }
    mutating func decodeSingularFloatField(value: inout Float?) throws { try optional(.float, &value) }
    mutating func decodeRepeatedFloatField(value: inout [Float]) throws { try repeated(.float, &value) }
    mutating func decodeSingularDoubleField(value: inout Double) throws { try singular(.double, &value) }
    mutating func decodeSingularDoubleField(value: inout Double?) throws { try optional(.double, &value) }
    mutating func decodeRepeatedDoubleField(value: inout [Double]) throws { try repeated(.double, &value) }
    mutating func decodeSingularInt32Field(value: inout Int32) throws { try singular(.int32, &value) }
    mutating func decodeSingularInt32Field(value: inout Int32?) throws { try optional(.int32, &value) }
    mutating func decodeRepeatedInt32Field(value: inout [Int32]) throws { try repeated(.int32, &value) }
    mutating func decodeSingularInt64Field(value: inout Int64) throws { try singular(.int64, &value) }
    mutating func decodeSingularInt64Field(value: inout Int64?) throws { try optional(.int64, &value) }
    mutating func decodeRepeatedInt64Field(value: inout [Int64]) throws { try repeated(.int64, &value) }
    mutating func decodeSingularUInt32Field(value: inout UInt32) throws { try singular(.uint32, &value) }
    mutating func decodeSingularUInt32Field(value: inout UInt32?) throws { try optional(.uint32, &value) }
    mutating func decodeRepeatedUInt32Field(value: inout [UInt32]) throws { try repeated(.uint32, &value) }
    mutating func decodeSingularUInt64Field(value: inout UInt64) throws { try singular(.uint64, &value) }
    mutating func decodeSingularUInt64Field(value: inout UInt64?) throws { try optional(.uint64, &value) }
    mutating func decodeRepeatedUInt64Field(value: inout [UInt64]) throws { try repeated(.uint64, &value) }
    mutating func decodeSingularSInt32Field(value: inout Int32) throws { try singular(.sint32, &value) }
    mutating func decodeSingularSInt32Field(value: inout Int32?) throws { try optional(.sint32, &value) }
    mutating func decodeRepeatedSInt32Field(value: inout [Int32]) throws { try repeated(.sint32, &value) }
    mutating func decodeSingularSInt64Field(value: inout Int64) throws { try singular(.sint64, &value) }
    mutating func decodeSingularSInt64Field(value: inout Int64?) throws { try optional(.sint64, &value) }
    mutating func decodeRepeatedSInt64Field(value: inout [Int64]) throws { try repeated(.sint64, &value) }
    mutating func decodeSingularFixed32Field(value: inout UInt32) throws { try singular(.fixed32, &value) }
    mutating func decodeSingularFixed32Field(value: inout UInt32?) throws { try optional(.fixed32, &value) }
    mutating func decodeRepeatedFixed32Field(value: inout [UInt32]) throws { try repeated(.fixed32, &value) }
    mutating func decodeSingularFixed64Field(value: inout UInt64) throws { try singular(.fixed64, &value) }
    mutating func decodeSingularFixed64Field(value: inout UInt64?) throws { try optional(.fixed64, &value) }
    mutating func decodeRepeatedFixed64Field(value: inout [UInt64]) throws { try repeated(.fixed64, &value) }
    mutating func decodeSingularSFixed32Field(value: inout Int32) throws { try singular(.sfixed32, &value) }
    mutating func decodeSingularSFixed32Field(value: inout Int32?) throws { try optional(.sfixed32, &value) }
    mutating func decodeRepeatedSFixed32Field(value: inout [Int32]) throws { try repeated(.sfixed32, &value) }
    mutating func decodeSingularSFixed64Field(value: inout Int64) throws { try singular(.sfixed64, &value) }
    mutating func decodeSingularSFixed64Field(value: inout Int64?) throws { try optional(.sfixed64, &value) }
    mutating func decodeRepeatedSFixed64Field(value: inout [Int64]) throws { try repeated(.sfixed64, &value) }
    mutating func decodeSingularBoolField(value: inout Bool) throws { try singular(.bool, &value) }
    mutating func decodeSingularBoolField(value: inout Bool?) throws { try optional(.bool, &value) }
    mutating func decodeRepeatedBoolField(value: inout [Bool]) throws { try repeated(.bool, &value) }
    mutating func decodeSingularStringField(value: inout String) throws { try singular(.string, &value) }
    mutating func decodeSingularStringField(value: inout String?) throws { try optional(.string, &value) }
    mutating func decodeRepeatedStringField(value: inout [String]) throws { try repeated(.string, &value) }
    mutating func decodeSingularBytesField(value: inout Data) throws { try singular(.bytes, &value) }
    mutating func decodeSingularBytesField(value: inout Data?) throws { try optional(.bytes, &value) }
    mutating func decodeRepeatedBytesField(value: inout [Data]) throws { try repeated(.bytes, &value) }

    mutating func decodeSingularEnumField<E: SwiftProtobuf.Enum>(value: inout E) throws where E.RawValue == Int {
        if isDescribing { shape = enumShape(E.self, .singular); return }
        value = try parseEnum(try single(try leafValues()))
        decoded = true
    }

    mutating func decodeSingularEnumField<E: SwiftProtobuf.Enum>(value: inout E?) throws where E.RawValue == Int {
        if isDescribing { shape = enumShape(E.self, .singular); return }
        value = try parseEnum(try single(try leafValues())) as E
        decoded = true
    }

    mutating func decodeRepeatedEnumField<E: SwiftProtobuf.Enum>(value: inout [E]) throws where E.RawValue == Int {
        if isDescribing { shape = enumShape(E.self, .repeated); return }
        for text in try leafValues() { value.append(try parseEnum(text)) }
        decoded = true
    }

    // MARK: Messages: a step through, or a well-known type set from text

    mutating func decodeSingularMessageField<M: SwiftProtobuf.Message>(value: inout M?) throws {
        switch mode {
        case .describe:
            shape = GatewayFieldShape(kind: .message(M.self), cardinality: .singular)
        case .walk(let assignment, let depth) where depth < assignment.steps.count - 1:
            messageWasPresent = value != nil
            var message = value ?? M()
            var child = GatewayFieldDecoder(walking: assignment, depth: depth + 1)
            try child.run(on: &message)
            value = message
            decoded = true
        case .walk, .leaf:
            let text = try single(try leafValues())
            guard let parsed = try GatewayWellKnownTypes.parse(M.self, from: text, field: displayPath) else {
                throw GRPCStatus(.invalidArgument,
                                 "field \(displayPath) is a message (\(M.protoMessageName)): set its fields, as \(displayPath).<field>")
            }
            messageWasPresent = false
            value = parsed
            decoded = true
        }
    }

    mutating func decodeRepeatedMessageField<M: SwiftProtobuf.Message>(value: inout [M]) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .message(M.self), cardinality: .repeated); return }
        guard GatewayWellKnownTypes.isLeaf(M.self) else {
            throw GRPCStatus(.invalidArgument, "field \(displayPath) is a repeated message (\(M.protoMessageName)): it cannot be set from text")
        }
        for text in try leafValues() {
            guard let parsed = try GatewayWellKnownTypes.parse(M.self, from: text, field: displayPath) else { continue }
            value.append(parsed)
        }
        decoded = true
    }

    mutating func decodeSingularGroupField<G: SwiftProtobuf.Message>(value: inout G?) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .group, cardinality: .singular); return }
        throw GRPCStatus(.invalidArgument, "field \(displayPath) is a group: it cannot be set from text")
    }

    mutating func decodeRepeatedGroupField<G: SwiftProtobuf.Message>(value: inout [G]) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .group, cardinality: .repeated); return }
        throw GRPCStatus(.invalidArgument, "field \(displayPath) is a group: it cannot be set from text")
    }

    // MARK: Maps: `field[key]=value`

    mutating func decodeMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type,
        value: inout _ProtobufMap<KeyType, ValueType>.BaseType
    ) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .map, cardinality: .map); return }
        let (key, text) = try mapEntry()
        var entryValue: ValueType.BaseType?
        var valueDecoder = GatewayFieldDecoder(leaf: [text], displayPath: "\(displayPath)[\(key.text)]")
        try ValueType.decodeSingular(value: &entryValue, from: &valueDecoder)
        try setEntry(&value, key: key, value: entryValue, keyType: KeyType.self)
    }

    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type,
        value: inout _ProtobufEnumMap<KeyType, ValueType>.BaseType
    ) throws where ValueType.RawValue == Int {
        if isDescribing { shape = GatewayFieldShape(kind: .map, cardinality: .map); return }
        let (key, text) = try mapEntry()
        var entryValue: ValueType?
        var valueDecoder = GatewayFieldDecoder(leaf: [text], displayPath: "\(displayPath)[\(key.text)]")
        try valueDecoder.decodeSingularEnumField(value: &entryValue)
        try setEntry(&value, key: key, value: entryValue, keyType: KeyType.self)
    }

    mutating func decodeMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type,
        value: inout _ProtobufMessageMap<KeyType, ValueType>.BaseType
    ) throws {
        if isDescribing { shape = GatewayFieldShape(kind: .map, cardinality: .map); return }
        throw GRPCStatus(.invalidArgument, "field \(displayPath) is a map of messages: it cannot be set from text")
    }

    /// The entry's key text and its one value, once the walk reached the map.
    private func mapEntry() throws(GRPCStatus) -> (key: (text: String, path: String), value: String) {
        let values = try leafValues()
        guard case .walk(let assignment, _) = mode, let key = assignment.mapKey else {
            throw GRPCStatus(.invalidArgument, "field \(displayPath) is a map: set an entry as \(displayPath)[key]=value")
        }
        return ((key, "\(displayPath) key"), try single(values))
    }

    private mutating func setEntry<KeyType: MapKeyType, Value>(
        _ map: inout [KeyType.BaseType: Value], key: (text: String, path: String), value: Value?, keyType: KeyType.Type
    ) throws {
        var entryKey: KeyType.BaseType?
        var keyDecoder = GatewayFieldDecoder(leaf: [key.text], displayPath: key.path)
        try KeyType.decodeSingular(value: &entryKey, from: &keyDecoder)
        guard let entryKey, let value else { throw GRPCStatus(.internal, "map entry \(displayPath)[\(key.text)] was not decoded") }
        map[entryKey] = value
        decoded = true
    }

    // MARK: Extensions: never asked for (the numbers come from the message's own fields)

    mutating func decodeExtensionField(values: inout ExtensionFieldValueSet, messageType: any SwiftProtobuf.Message.Type,
                                       fieldNumber: Int) throws {
        throw GRPCStatus(.invalidArgument, "field \(displayPath) is an extension: it cannot be set from text")
    }
}
