/// Decodes a method's `google.api.http` option from protobuf bytes, without generated
/// google.api types: protoc hands a plugin the option as an unknown field of
/// `google.protobuf.MethodOptions` (extension field 72295728), whose payload is a
/// `google.api.HttpRule`. Every field of the rule is read; fields it does not know are
/// skipped, as protobuf parsers do.
///
/// ```swift
/// // MethodOptions holding `option (google.api.http) = { get: "/v1/items/{id}" }`.
/// let options: [UInt8] = [0x82, 0xD3, 0xE4, 0x93, 0x02, 0x10,  // field 72295728, 16 bytes
///                         0x12, 0x0E] + Array("/v1/items/{id}".utf8)  // get (2), 14 bytes
/// let rule = try GRPCHTTPRuleDecoder.rule(methodOptions: options, kind: .unary)
/// // rule == GRPCHTTPRule(method: .get, path: "/v1/items/{id}")
/// ```
///
/// Rules the gateway cannot serve are errors (``GRPCHTTPRuleError``), not dropped: a
/// `custom` HTTP method other than the five, additional bindings inside an additional
/// binding, a path that is not a template (no leading `/`, spaces), a body on a GET, and a
/// rule on a method whose client streams.
public enum GRPCHTTPRuleDecoder {
    /// The field number of the `google.api.http` extension of `google.protobuf.MethodOptions`.
    public static let extensionFieldNumber: UInt32 = 72_295_728

    /// `google.api.HttpRule`'s field numbers.
    private enum FieldNumber {
        static let selector: UInt32 = 1
        static let get: UInt32 = 2
        static let put: UInt32 = 3
        static let post: UInt32 = 4
        static let delete: UInt32 = 5
        static let patch: UInt32 = 6
        static let body: UInt32 = 7
        static let custom: UInt32 = 8
        static let additionalBindings: UInt32 = 11
        static let responseBody: UInt32 = 12
        /// `google.api.CustomHttpPattern`'s.
        static let customKind: UInt32 = 1
        static let customPath: UInt32 = 2
    }

    /// The rule in `methodOptions`, the serialized `MethodOptions` of a method of `kind` (or
    /// only its unknown fields); nil when it has none. The option written more than once is
    /// merged as protobuf merges a message field: the occurrences' bytes are read as one rule.
    public static func rule(methodOptions: [UInt8], kind: GRPCMethodKind) throws(GRPCHTTPRuleError) -> GRPCHTTPRule? {
        var reader = ProtobufWireReader(bytes: methodOptions)
        var ruleBytes: [UInt8]?
        do {
            while let field = try reader.nextField() {
                if field.number == extensionFieldNumber {
                    let payload = try reader.lengthDelimited(of: field)
                    ruleBytes = (ruleBytes ?? []) + payload
                } else {
                    try reader.skip(field)
                }
            }
        } catch {
            throw GRPCHTTPRuleError("the method's options are not valid protobuf: \(error)")
        }
        guard let ruleBytes else { return nil }
        let rule = try rule(httpRule: ruleBytes)
        guard !kind.isClientStreaming else {
            let shape = kind == .clientStreaming ? "client-streaming" : "bidirectional-streaming"
            throw GRPCHTTPRuleError(
                "a route to a \(shape) method: the gateway maps unary and server-streaming methods only"
            )
        }
        return rule
    }

    /// The rule in `httpRule`, a serialized `google.api.HttpRule`.
    public static func rule(httpRule: [UInt8]) throws(GRPCHTTPRuleError) -> GRPCHTTPRule {
        try decodeRule(ProtobufWireReader(bytes: httpRule), binding: nil)
    }

    /// Decodes one rule; `binding` is its index among its parent's additional bindings, nil
    /// for the rule of the method itself.
    private static func decodeRule(
        _ reader: ProtobufWireReader,
        binding: Int?
    ) throws(GRPCHTTPRuleError) -> GRPCHTTPRule {
        var reader = reader
        let place = binding.map { "additional_bindings[\($0)]: " } ?? ""
        var selector = ""
        var pattern: (method: GRPCHTTPMethod, path: String)?
        var body = ""
        var responseBody = ""
        var additionalBindings: [GRPCHTTPRule] = []
        do {
            while let field = try reader.nextField() {
                switch field.number {
                case FieldNumber.selector:
                    selector = try reader.string(of: field)
                case FieldNumber.get:
                    pattern = (.get, try reader.string(of: field))
                case FieldNumber.put:
                    pattern = (.put, try reader.string(of: field))
                case FieldNumber.post:
                    pattern = (.post, try reader.string(of: field))
                case FieldNumber.delete:
                    pattern = (.delete, try reader.string(of: field))
                case FieldNumber.patch:
                    pattern = (.patch, try reader.string(of: field))
                case FieldNumber.body:
                    body = try reader.string(of: field)
                case FieldNumber.responseBody:
                    responseBody = try reader.string(of: field)
                case FieldNumber.custom:
                    let custom = try decodeCustomPattern(ProtobufWireReader(bytes: reader.lengthDelimited(of: field)))
                    guard let method = GRPCHTTPMethod(token: custom.kind) else {
                        throw GRPCHTTPRuleError(
                            "\(place)custom method \(quoted(custom.kind)) is not supported: the gateway "
                                + "routes GET, PUT, POST, DELETE and PATCH"
                        )
                    }
                    pattern = (method, custom.path)
                case FieldNumber.additionalBindings:
                    guard binding == nil else {
                        throw GRPCHTTPRuleError(
                            "\(place)an additional binding has additional_bindings of its own; "
                                + "google.api.http allows them one level deep only"
                        )
                    }
                    let payload = try reader.lengthDelimited(of: field)
                    additionalBindings.append(
                        try decodeRule(ProtobufWireReader(bytes: payload), binding: additionalBindings.count)
                    )
                default:
                    try reader.skip(field)
                }
            }
        } catch let error as GRPCHTTPRuleError {
            throw error
        } catch {
            throw GRPCHTTPRuleError("\(place)not a valid HttpRule: \(error)")
        }
        guard let pattern else {
            throw GRPCHTTPRuleError("\(place)no HTTP method and path: set get, put, post, delete, patch or custom")
        }
        try checkPath(pattern.path, place: place)
        guard pattern.method != .get || body.isEmpty else {
            throw GRPCHTTPRuleError("\(place)a GET request has no body, yet the rule says body: \(quoted(body))")
        }
        return GRPCHTTPRule(
            selector: selector,
            method: pattern.method,
            path: pattern.path,
            body: body,
            responseBody: responseBody,
            additionalBindings: additionalBindings
        )
    }

    /// `google.api.CustomHttpPattern`: `kind` (the HTTP method) and `path`.
    private static func decodeCustomPattern(
        _ reader: ProtobufWireReader
    ) throws -> (kind: String, path: String) {
        var reader = reader
        var kind = ""
        var path = ""
        while let field = try reader.nextField() {
            switch field.number {
            case FieldNumber.customKind: kind = try reader.string(of: field)
            case FieldNumber.customPath: path = try reader.string(of: field)
            default: try reader.skip(field)
            }
        }
        return (kind, path)
    }

    /// A path template starts with `/` and has no spaces or control characters (the gateway
    /// checks the rest of its grammar when the route is added).
    private static func checkPath(_ path: String, place: String) throws(GRPCHTTPRuleError) {
        guard path.hasPrefix("/") else {
            throw GRPCHTTPRuleError("\(place)the path \(quoted(path)) does not start with \"/\"")
        }
        if path.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw GRPCHTTPRuleError("\(place)the path \(quoted(path)) has a space or a control character")
        }
    }

    /// `text` in double quotes, its control characters, quotes and backslashes escaped.
    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
