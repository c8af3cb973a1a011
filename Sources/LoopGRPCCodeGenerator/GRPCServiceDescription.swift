/// One gRPC service of a `.proto` file and its methods.
public struct GRPCServiceDescription: Sendable, Hashable {
    /// The service's name in the `.proto` file, e.g. `TestService`.
    public var name: String
    /// The proto package of the file, e.g. `grpc.testing`; empty when the file has none.
    public var protoPackage: String
    /// What the Swift names of the generated types start with, e.g. `Grpc_Testing_`: the
    /// same prefix protoc-gen-swift gives the file's messages.
    public var swiftPrefix: String
    /// The service's comment in the `.proto` file, without comment markers (see
    /// ``GRPCMethodDescription/documentation``); empty when it has none.
    public var documentation: String
    /// The methods, in the order of the `.proto` file.
    public var methods: [GRPCMethodDescription]

    /// Describes a service. Without `swiftPrefix`, the prefix is derived from the package
    /// as protoc-gen-swift does for a file without the `swift_prefix` option.
    public init(
        name: String,
        protoPackage: String = "",
        swiftPrefix: String? = nil,
        documentation: String = "",
        methods: [GRPCMethodDescription]
    ) {
        self.name = name
        self.protoPackage = protoPackage
        self.swiftPrefix = swiftPrefix ?? GRPCSwiftNames.typePrefix(protoPackage: protoPackage)
        self.documentation = documentation
        self.methods = methods
    }

    /// The service's full name, which starts the path of its methods: `grpc.testing.TestService`,
    /// or just the name when there is no package.
    public var fullName: String {
        protoPackage.isEmpty ? name : "\(protoPackage).\(name)"
    }

    /// The Swift base name of the generated types: the prefix and the service name with its
    /// first letter in upper case, e.g. `Grpc_Testing_TestService`.
    public var swiftBaseName: String {
        swiftPrefix + GRPCSwiftNames.typeName(name)
    }

    /// The enum holding the service's name and method paths, e.g.
    /// `Grpc_Testing_TestServiceMethods`.
    public var methodsEnumName: String { swiftBaseName + "Methods" }

    /// The protocol a server implements, e.g. `Grpc_Testing_TestServiceProvider`.
    public var providerName: String { swiftBaseName + "Provider" }

    /// The client stub, e.g. `Grpc_Testing_TestServiceClient`.
    public var clientName: String { swiftBaseName + "Client" }

    /// The enum of the service's REST routes, e.g. `Loop_Demo_V1_GreetingsGateway`: generated
    /// when ``hasHTTPRules``.
    public var gatewayName: String { swiftBaseName + "Gateway" }

    /// Whether a method has a `google.api.http` rule.
    public var hasHTTPRules: Bool { methods.contains { $0.httpRule != nil } }
}
