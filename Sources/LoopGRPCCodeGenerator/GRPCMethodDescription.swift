/// One method (RPC) of a gRPC service, as the code generator needs it.
public struct GRPCMethodDescription: Sendable, Hashable {
    /// The method's name in the `.proto` file, e.g. `UnaryCall`; the last part of its path.
    public var name: String
    /// The Swift type of the request message, e.g. `Grpc_Testing_SimpleRequest`.
    public var inputType: String
    /// The Swift type of the response message, e.g. `Grpc_Testing_SimpleResponse`.
    public var outputType: String
    /// Whether the client sends a stream of requests.
    public var isClientStreaming: Bool
    /// Whether the server sends a stream of responses.
    public var isServerStreaming: Bool
    /// The method's comment in the `.proto` file, without comment markers: one string,
    /// lines separated by `"\n"`, usually each starting with a space as protoc reports them.
    /// Empty when the method has none.
    public var documentation: String
    /// The method's `google.api.http` option: its REST routes, rendered into the service's
    /// `<Service>Gateway` enum. Nil when it has none (or routes are not generated).
    public var httpRule: GRPCHTTPRule?

    /// Describes a method.
    public init(
        name: String,
        inputType: String,
        outputType: String,
        isClientStreaming: Bool = false,
        isServerStreaming: Bool = false,
        documentation: String = "",
        httpRule: GRPCHTTPRule? = nil
    ) {
        self.name = name
        self.inputType = inputType
        self.outputType = outputType
        self.isClientStreaming = isClientStreaming
        self.isServerStreaming = isServerStreaming
        self.documentation = documentation
        self.httpRule = httpRule
    }

    /// Unary, client streaming, server streaming or bidirectional streaming.
    public var kind: GRPCMethodKind {
        GRPCMethodKind(clientStreaming: isClientStreaming, serverStreaming: isServerStreaming)
    }

    /// The Swift name of the method's functions and of its path constant: the proto name in
    /// lower camel case (`UnaryCall` → `unaryCall`), not yet escaped (see
    /// ``swiftIdentifier``).
    public var swiftName: String { GRPCSwiftNames.lowerCamelCase(name) }

    /// ``swiftName`` as it must be written in a declaration: in backticks when it is a Swift
    /// keyword (`Return` → `` `return` ``).
    public var swiftIdentifier: String { GRPCSwiftNames.escapedIdentifier(swiftName) }

    /// The method's full name: `<service full name>/<method name>`, e.g.
    /// `grpc.testing.TestService/UnaryCall`.
    public func fullName(in service: GRPCServiceDescription) -> String {
        "\(service.fullName)/\(name)"
    }

    /// The HTTP/2 `:path` of a call: `/<service full name>/<method name>`.
    public func path(in service: GRPCServiceDescription) -> String {
        "/\(fullName(in: service))"
    }
}
