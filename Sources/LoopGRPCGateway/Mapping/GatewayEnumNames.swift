import SwiftProtobuf

/// Enum values by name and names by value, for any generated enum.
///
/// SwiftProtobuf keeps an enum's names in its `_protobuf_nameMap`, whose lookups are
/// internal to SwiftProtobuf; only its JSON codec uses them. So the names are reached
/// through that codec: a one-field message holding `[E]` (``GatewayEnumBox``) is decoded
/// from `{"values":["NAME"]}` to find a value (only for enum values given by name in a path
/// or query); names come from ``GatewayEnumJSONNames``, which asks the encoder once per value.
enum GatewayEnumNames<E: SwiftProtobuf.Enum> where E.RawValue == Int {
    /// The value named `name` (a proto name such as `FRENCH`; aliases too), or nil.
    static func value(named name: String) -> E? {
        var json: [UInt8] = []
        GatewayJSONWriter.append("{\"values\":[", to: &json)
        GatewayJSONWriter.appendString(name, to: &json)
        GatewayJSONWriter.append("]}", to: &json)
        guard let box = try? GatewayEnumBox<E>(jsonUTF8Bytes: json), box.values.count == 1 else { return nil }
        return box.values[0]
    }

    /// The proto name of `value`, or nil for a value the enum does not define.
    static func name(of value: E) -> String? {
        // "NAME" for a defined value; 7 for one the enum does not name.
        let json = GatewayEnumJSONNames.shared.json(for: value)
        guard json.count > 2, json[0] == UInt8(ascii: "\"") else { return nil }
        return String(decoding: json.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Whether `value` is one the enum defines (not a proto3 UNRECOGNIZED number).
    static func isDefined(_ value: E) -> Bool {
        name(of: value) != nil
    }
}

/// A message with one repeated enum field, `values` (1): the container
/// ``GatewayEnumNames`` hands to SwiftProtobuf's JSON codec. Written the way protoc-gen-swift
/// writes messages; generic, so its statics are computed.
struct GatewayEnumBox<E: SwiftProtobuf.Enum>: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase,
    SwiftProtobuf._ProtoNameProviding where E.RawValue == Int {
    static var protoMessageName: String { "loop.gateway.EnumBox" }
    static var _protobuf_nameMap: SwiftProtobuf._NameMap { SwiftProtobuf._NameMap(bytecode: "\0\u{1}values\0") }

    var values: [E] = []
    var unknownFields = SwiftProtobuf.UnknownStorage()

    init() {}

    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while let fieldNumber = try decoder.nextFieldNumber() {
            if fieldNumber == 1 { try decoder.decodeRepeatedEnumField(value: &values) }
        }
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        if !values.isEmpty { try visitor.visitPackedEnumField(value: values, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }

    static func == (lhs: GatewayEnumBox, rhs: GatewayEnumBox) -> Bool {
        lhs.values == rhs.values && lhs.unknownFields == rhs.unknownFields
    }
}
