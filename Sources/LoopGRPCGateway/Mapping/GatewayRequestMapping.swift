import Loop
import LoopGRPCProtobuf
import LoopGRPC
import SwiftProtobuf

/// Builds a route's request message from an HTTP request, by google.api.http's rules:
///
/// 1. The body, by the route's ``GatewayRequestBody``: `*` is the whole message as proto3
///    JSON; a field name is that top-level field's JSON (exactly one JSON value, decoded as
///    `{"field": <body>}`); none is no body. An empty body is an empty message. Unknown
///    fields are refused unless ``GatewayMappingOptions/jsonDecoding`` ignores them.
/// 2. The path's captures, each into its variable's field (over what the body set).
/// 3. The query's parameters, unless the body is `*`: each into the field it names (proto
///    or JSON names, dotted for nested messages, repeated names for repeated fields,
///    `name[key]` for map entries), except fields the path or the body binds, which are
///    skipped. Parameters naming no field are ignored (or refused, by
///    ``GatewayMappingOptions/unknownQueryParameters``).
///
/// Every failure is a `GRPCStatus` with INVALID_ARGUMENT (HTTP 400) saying what was wrong.
///
/// ```swift
/// let template = try GatewayPathTemplate("/v1/greetings/{name}")
/// let mapping = try GatewayRequestMapping<Loop_Demo_V1_HelloRequest>(template: template, body: .none)
/// let request = try mapping.request(captures: template.match("/v1/greetings/ada")!,
///                                   query: "language=FRENCH&tags=a&tags=b", body: nil)
/// // name "ada", language .french, tags ["a", "b"]
/// ```
public struct GatewayRequestMapping<Request: SwiftProtobuf.Message>: Sendable {
    public let template: GatewayPathTemplate
    public let body: GatewayRequestBody
    let fields: GatewayMessageFields<Request>
    let options: GatewayMappingOptions
    /// Each template variable's field, in the template's order.
    private let variableSteps: [[GatewayFieldInfo]]
    /// The body field, for `body: "field"`.
    private let bodyField: GatewayFieldInfo?
    /// Reads a whole-message body of the common flat shape without SwiftProtobuf's parser
    /// (``GatewayJSONBodyReader``: the same message, or nil and SwiftProtobuf parses it).
    private let bodyReader: GatewayJSONBodyReader?
    /// Field numbers of what the path and the body bind: query parameters under them are
    /// skipped.
    private let boundPaths: [[Int]]

    /// Checks the route's rules against `Request`: every variable names a singular field that
    /// text can set, the body field is a top-level field. Throws ``GatewayRouteError``.
    public init(template: GatewayPathTemplate, body: GatewayRequestBody, options: GatewayMappingOptions = GatewayMappingOptions())
    throws(GatewayRouteError) {
        var schemas = GatewaySchemas()
        try self.init(template: template, body: body, options: options, fields: GatewayMessageFields(learningInto: &schemas))
    }

    init(template: GatewayPathTemplate, body: GatewayRequestBody, options: GatewayMappingOptions,
         fields: GatewayMessageFields<Request>) throws(GatewayRouteError) {
        self.template = template
        self.body = body
        self.fields = fields
        self.options = options
        var variableSteps: [[GatewayFieldInfo]] = []
        for variable in template.variables {
            let steps: [GatewayFieldInfo]
            switch fields.resolve(variable.dottedPath, mapKey: false) {
            case .steps(let resolved): steps = resolved
            case .unknown(let status), .unsettable(let status):
                throw GatewayRouteError("path variable {\(variable.dottedPath)}: \(status.message)")
            }
            if let leaf = steps.last, leaf.cardinality != .singular {
                throw GatewayRouteError("path variable {\(variable.dottedPath)}: the field is \(leaf.typeDescription); a path binds a singular field")
            }
            variableSteps.append(steps)
        }
        self.variableSteps = variableSteps
        var boundPaths = variableSteps.map { $0.map(\.number) }
        if case .field(let name) = body {
            guard !name.contains("."), let field = fields.root.field(named: name) else {
                throw GatewayRouteError("body \"\(name)\": no top-level field \"\(name)\" in \(Request.protoMessageName)")
            }
            bodyField = field
            boundPaths.append([field.number])
        } else {
            bodyField = nil
        }
        bodyReader = body == .message ? GatewayJSONBodyReader(Request.self) : nil
        self.boundPaths = boundPaths
    }

    /// The request message for a request that matched ``template`` with `captures`, with
    /// its query string (after `?`, still encoded) and body.
    public func request(captures: GatewayPathCaptures, query: Substring?, body: ByteBuffer?) throws(GRPCStatus) -> Request {
        var message = try decodeBody(body)
        for (capture, steps) in zip(captures, variableSteps) {
            let assignment = GatewayFieldAssignment(steps: steps, values: [try capture.value()], mapKey: nil, displayPath: capture.fieldPath)
            try GatewayFieldDecoder.assign(assignment, to: &message)
        }
        if self.body != .message, let query, !query.isEmpty {
            try applyQuery(query, to: &message)
        }
        return message
    }

    // MARK: Body

    private func decodeBody(_ body: ByteBuffer?) throws(GRPCStatus) -> Request {
        guard let body, body.readableBytes > 0, self.body != .none else { return Request() }
        let blank = body.withUnsafeReadableBytes { GatewayJSONScanner.isBlank($0) }
        guard !blank else { return Request() }
        if let bodyField {
            // One value, so the wrapper object cannot gain sibling fields from the body.
            guard body.withUnsafeReadableBytes({ GatewayJSONScanner.isSingleValue($0) }) else {
                throw GRPCStatus(.invalidArgument, "invalid JSON body for field \(bodyField.protoName): not a single JSON value")
            }
            var wrapped: [UInt8] = []
            wrapped.reserveCapacity(body.readableBytes + bodyField.protoName.utf8.count + 5)
            wrapped.append(UInt8(ascii: "{"))
            GatewayJSONWriter.appendString(bodyField.protoName, to: &wrapped)
            wrapped.append(UInt8(ascii: ":"))
            body.withUnsafeReadableBytes { wrapped.append(contentsOf: $0) }
            wrapped.append(UInt8(ascii: "}"))
            return try parseJSON(wrapped, what: "JSON body for field \(bodyField.protoName)")
        }
        if let bodyReader, let message = bodyReader.read(body, as: Request.self) { return message }
        return try parseJSON(ProtobufBytes(body), what: "JSON body")
    }

    private func parseJSON(_ bytes: some SwiftProtobufContiguousBytes, what: String) throws(GRPCStatus) -> Request {
        do {
            return try Request(jsonUTF8Bytes: bytes, options: options.jsonDecoding)
        } catch {
            throw GRPCStatus(.invalidArgument, "invalid \(what): \(Self.describe(error))")
        }
    }

    /// SwiftProtobuf's JSON errors in words.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? JSONDecodingError else { return String(describing: error) }
        switch error {
        case .unknownField(let name): return "unknown field \"\(name)\""
        case .failure: return "malformed JSON"
        case .malformedNumber: return "malformed number"
        case .numberRange: return "number out of range for its field"
        case .malformedMap: return "malformed map"
        case .malformedBool: return "malformed bool (true or false)"
        case .malformedString: return "malformed string"
        case .invalidUTF8: return "invalid UTF-8"
        case .missingFieldNames: return "the message has no field names"
        case .schemaMismatch: return "a value does not match its field's type"
        case .unrecognizedEnumValue: return "unknown enum value"
        case .illegalNull: return "null where it is not allowed"
        case .unquotedMapKey: return "unquoted map key"
        case .leadingZero: return "number with a leading zero"
        case .truncated: return "truncated JSON"
        case .malformedDuration: return "malformed Duration"
        case .malformedTimestamp: return "malformed Timestamp"
        case .malformedFieldMask: return "malformed FieldMask"
        case .trailingGarbage: return "data after the JSON value"
        case .conflictingOneOf: return "two fields of one oneof"
        case .messageDepthLimit: return "messages nested too deeply"
        }
    }

    // MARK: Query

    private func applyQuery(_ query: Substring, to message: inout Request) throws(GRPCStatus) {
        // Values of one name (a repeated field's) are set together, in order of appearance.
        var names: [String] = []
        var valuesByName: [String: [String]] = [:]
        for (name, value) in try GatewayQueryString.parameters(query) {
            if valuesByName[name] == nil { names.append(name) }
            valuesByName[name, default: []].append(value)
        }
        for name in names {
            let (path, mapKey) = Self.splitMapKey(name)
            let steps: [GatewayFieldInfo]
            switch fields.resolve(path, mapKey: mapKey != nil) {
            case .steps(let resolved): steps = resolved
            case .unknown(let status):
                guard options.unknownQueryParameters == .reject else { continue }
                throw status
            case .unsettable(let status): throw status
            }
            let numbers = steps.map(\.number)
            guard !boundPaths.contains(where: { numbers.starts(with: $0) }) else { continue }
            let assignment = GatewayFieldAssignment(steps: steps, values: valuesByName[name] ?? [], mapKey: mapKey,
                                                   displayPath: String(path))
            try GatewayFieldDecoder.assign(assignment, to: &message)
        }
    }

    /// `labels[key]` → (`labels`, `key`), grpc-gateway's syntax for a map entry.
    private static func splitMapKey(_ name: String) -> (path: Substring, key: String?) {
        guard name.hasSuffix("]"), let open = name.firstIndex(of: "[") else { return (name[...], nil) }
        return (name[..<open], String(name[name.index(after: open)..<name.index(before: name.endIndex)]))
    }
}
