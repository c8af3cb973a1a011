import LoopGRPC
import SwiftProtobuf

/// Sets a message's fields from text by field path, as path captures and query
/// parameters do: `name`, `options.shout` (each component a proto name or a JSON name),
/// `tags` with several values for a repeated field, `labels[key]` for a map entry.
/// Works for any message protoc-gen-swift generated, without reflection: the message's
/// own generated `decodeMessage` is handed just the wanted field by a custom `SwiftProtobuf.Decoder`.
///
/// Text is parsed by the field's type: integers in decimal (int64 too), floats including
/// `NaN` and `Infinity`, bools as `true`/`false` (or `1`/`0`, `t`/`f`), bytes as base64,
/// enums by name or number, the wrapper types, Timestamp and Duration as in proto3 JSON.
/// Bad text or a path that names no settable field is INVALID_ARGUMENT naming the field:
/// `invalid value "x" for field options.repeat (int64)`.
///
/// ```swift
/// let fields = try GatewayMessageFields<Loop_Demo_V1_HelloRequest>()
/// var request = Loop_Demo_V1_HelloRequest()
/// try fields.set("options.shout", to: ["true"], in: &request)
/// try fields.set("tags", to: ["a", "b"], in: &request)
/// try fields.set("language", to: ["FRENCH"], in: &request)
/// ```
public struct GatewayMessageFields<Message: SwiftProtobuf.Message>: Sendable {
    let schemas: GatewaySchemas
    let root: GatewayMessageSchema

    /// Learns `Message`'s fields (and those of the messages its fields go through).
    /// Throws ``GatewayRouteError`` for a message type that has no field names.
    public init() throws(GatewayRouteError) {
        var schemas = GatewaySchemas()
        try self.init(learningInto: &schemas)
    }

    /// Learns into a set of schemas shared by the routes of one ``GatewayRoutes``.
    init(learningInto schemas: inout GatewaySchemas) throws(GatewayRouteError) {
        root = try schemas.learn(Message.self, nested: true)
        self.schemas = schemas
    }

    /// Sets the field at `path` from `values`: one value for a singular field, any number
    /// (appended) for a repeated one.
    public func set(_ path: String, to values: [String], in message: inout Message) throws(GRPCStatus) {
        let steps = try resolve(path, mapKey: false).get()
        try GatewayFieldDecoder.assign(GatewayFieldAssignment(steps: steps, values: values, mapKey: nil, displayPath: path), to: &message)
    }

    /// Sets the entry `key` of the map field at `path` to `value`.
    public func set(_ path: String, key: String, to value: String, in message: inout Message) throws(GRPCStatus) {
        let steps = try resolve(path, mapKey: true).get()
        try GatewayFieldDecoder.assign(GatewayFieldAssignment(steps: steps, values: [value], mapKey: key, displayPath: path), to: &message)
    }

    /// Whether `path` names a field of the message (settable or not).
    public func contains(_ path: String) -> Bool {
        if case .unknown = resolve(path, mapKey: false) { return false }
        return true
    }

    /// What a field path resolves to: the steps from the root to the field, a path that
    /// names no field (a query parameter the gateway may ignore), or a field that cannot be
    /// set from text.
    enum Resolution {
        case steps([GatewayFieldInfo])
        case unknown(GRPCStatus)
        case unsettable(GRPCStatus)

        func get() throws(GRPCStatus) -> [GatewayFieldInfo] {
            switch self {
            case .steps(let steps): return steps
            case .unknown(let status), .unsettable(let status): throw status
            }
        }
    }

    /// Resolves a dotted field path; `mapKey` says whether a map key comes with it.
    func resolve(_ path: some StringProtocol, mapKey: Bool) -> Resolution {
        var schema = root
        var steps: [GatewayFieldInfo] = []
        let components = path.split(separator: ".", omittingEmptySubsequences: false)
        for (index, component) in components.enumerated() {
            guard let field = schema.field(named: component) else {
                return .unknown(GRPCStatus(.invalidArgument, "unknown field \(path): no field \"\(component)\" in \(schema.messageName)"))
            }
            steps.append(field)
            guard index < components.count - 1 else { break }
            let prefix = components[...index].joined(separator: ".")
            guard let nestedType = field.nestedMessageType, let nested = schemas[nestedType] else {
                return .unsettable(GRPCStatus(.invalidArgument,
                                              "field \(prefix) (\(field.typeDescription)) has no field \"\(components[index + 1])\""))
            }
            schema = nested
        }
        guard let leaf = steps.last else { return .unknown(GRPCStatus(.invalidArgument, "empty field path")) }
        switch (leaf.cardinality, leaf.kind) {
        case (.map, _):
            guard mapKey else {
                return .unsettable(GRPCStatus(.invalidArgument, "field \(path) is a map: set an entry as \(path)[key]=value"))
            }
            return .steps(steps)
        case (_, .message(let type)) where !GatewayWellKnownTypes.isLeaf(type):
            let reason = leaf.cardinality == .repeated
                ? "is a repeated message (\(type.protoMessageName)): it cannot be set from text"
                : "is a message (\(type.protoMessageName)): set its fields, as \(path).<field>"
            return .unsettable(GRPCStatus(.invalidArgument, "field \(path) \(reason)"))
        case (_, .group):
            return .unsettable(GRPCStatus(.invalidArgument, "field \(path) is a group: it cannot be set from text"))
        default:
            guard !mapKey else { return .unsettable(GRPCStatus(.invalidArgument, "field \(path) is not a map")) }
            return .steps(steps)
        }
    }
}
