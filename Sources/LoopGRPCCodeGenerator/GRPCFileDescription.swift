/// The services of one `.proto` file: what one generated `.grpc.swift` file is made from.
public struct GRPCFileDescription: Sendable, Hashable {
    /// The `.proto` file's path as protoc names it, e.g. `grpc/testing/test.proto`.
    public var protoPath: String
    /// The services, in the order of the `.proto` file.
    public var services: [GRPCServiceDescription]
    /// The access level of every generated declaration.
    public var visibility: GRPCVisibility
    /// The modules the generated file imports, in this order.
    public var imports: [String]

    /// The modules generated code needs: LoopGRPC and LoopGRPCProtobuf.
    public static let defaultImports = ["LoopGRPC", "LoopGRPCProtobuf"]

    /// The module the `<Service>Gateway` enums need, imported by a file with `google.api.http`
    /// rules only.
    public static let gatewayImport = "LoopGRPCGateway"

    /// Describes a file.
    public init(
        protoPath: String,
        services: [GRPCServiceDescription],
        visibility: GRPCVisibility = .internal,
        imports: [String] = GRPCFileDescription.defaultImports
    ) {
        self.protoPath = protoPath
        self.services = services
        self.visibility = visibility
        self.imports = imports
    }
}
