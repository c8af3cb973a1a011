import Synchronization
import SwiftProtobuf

/// Each enum value's proto3 JSON (`"NAME"`, or the number for a value the enum does not
/// define), learnt from SwiftProtobuf's encoder the first time it is written: enum names are
/// reachable only through SwiftProtobuf's codecs (see ``GatewayEnumNames``).
///
/// Only names are kept, so what is kept is bounded by the program's enums, whatever numbers
/// requests or replies carry (an undefined value is asked about each time), and by ``limit``.
final class GatewayEnumJSONNames: Sendable {
    static let shared = GatewayEnumJSONNames()
    static let limit = 4096

    private struct ValueKey: Hashable {
        let type: ObjectIdentifier
        let rawValue: Int
    }

    private let known = Mutex<[ValueKey: [UInt8]]>([:])

    /// How many names are kept.
    var count: Int { known.withLock { $0.count } }

    func json<E: SwiftProtobuf.Enum>(for value: E) -> [UInt8] {
        let key = ValueKey(type: ObjectIdentifier(E.self), rawValue: value.rawValue)
        if let found = known.withLock({ $0[key] }) { return found }
        let json = Self.learn(value)
        if json.first == UInt8(ascii: "\"") {
            known.withLock { if $0.count < Self.limit { $0[key] = json } }
        }
        return json
    }

    private struct NameKey: Hashable {
        let type: ObjectIdentifier
        let name: String
    }

    private let values = Mutex<[NameKey: Int]>([:])

    /// The value named `name` (what SwiftProtobuf's JSON parser takes for it), or nil. Names
    /// found are kept (at most ``limit``); a name the enum does not have is asked about each time.
    func value<E: SwiftProtobuf.Enum>(named name: String) -> E? where E.RawValue == Int {
        let key = NameKey(type: ObjectIdentifier(E.self), name: name)
        if let found = values.withLock({ $0[key] }) { return E(rawValue: found) }
        guard let value = GatewayEnumNames<E>.value(named: name) else { return nil }
        values.withLock { if $0.count < Self.limit { $0[key] = value.rawValue } }
        return value
    }

    /// The value's JSON as SwiftProtobuf writes it inside `{"values":[…]}`.
    private static func learn<E: SwiftProtobuf.Enum>(_ value: E) -> [UInt8] {
        var box = GatewayEnumWriteBox<E>()
        box.values = [value]
        guard let json: [UInt8] = try? box.jsonUTF8Bytes(),
              let range = GatewayJSONScanner.valueRange(ofKey: "values", in: json), json[range].count > 2 else {
            return Array(String(value.rawValue).utf8)
        }
        return Array(json[range].dropFirst().dropLast())
    }
}

/// A message with one repeated enum field, written only (never decoded, so it needs no
/// `RawValue == Int` as ``GatewayEnumBox`` does): how ``GatewayEnumJSONNames`` asks
/// SwiftProtobuf for a value's JSON.
struct GatewayEnumWriteBox<E: SwiftProtobuf.Enum>: SwiftProtobuf.Message, SwiftProtobuf._MessageImplementationBase,
    SwiftProtobuf._ProtoNameProviding {
    static var protoMessageName: String { "loop.gateway.EnumWriteBox" }
    static var _protobuf_nameMap: SwiftProtobuf._NameMap { SwiftProtobuf._NameMap(bytecode: "\0\u{1}values\0") }

    var values: [E] = []
    var unknownFields = SwiftProtobuf.UnknownStorage()

    init() {}

    /// Never decoded: it only carries a value to SwiftProtobuf's JSON encoder.
    mutating func decodeMessage<D: SwiftProtobuf.Decoder>(decoder: inout D) throws {
        while try decoder.nextFieldNumber() != nil {}
    }

    func traverse<V: SwiftProtobuf.Visitor>(visitor: inout V) throws {
        if !values.isEmpty { try visitor.visitPackedEnumField(value: values, fieldNumber: 1) }
    }

    static func == (lhs: GatewayEnumWriteBox, rhs: GatewayEnumWriteBox) -> Bool {
        lhs.values == rhs.values
    }
}
