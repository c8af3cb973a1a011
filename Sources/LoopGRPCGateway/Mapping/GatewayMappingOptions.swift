import SwiftProtobuf

/// How requests and responses are mapped between JSON and messages.
///
/// The defaults are proto3 JSON's, and grpc-gateway 1.6's where proto3 JSON leaves a
/// choice: lowerCamelCase names, int64 as strings, enums by name, fields at their default
/// value left out (SwiftProtobuf's encoder has no option to print them, and grpc-gateway
/// 1.6's `EmitDefaults` is false too; grpc-gateway 2 prints them), unknown JSON fields in a
/// body refused (400, as grpc-gateway 1.6's jsonpb does), unknown query parameters ignored
/// (grpc-gateway 1.6 and 2 both skip them: a query often carries parameters meant for
/// proxies or caches, such as `?_=1700000000` cache busters).
///
/// ```swift
/// var options = GatewayMappingOptions()
/// options.jsonEncoding.preserveProtoFieldNames = true  // grpc-gateway 1.6's OrigName
/// options.unknownQueryParameters = .reject
/// var routes = GatewayRoutes(options: options)
/// ```
public struct GatewayMappingOptions: Sendable {
    /// What to do with a query parameter that names no field of the request.
    public enum UnknownQueryParameters: Sendable {
        /// Skip it (grpc-gateway's behaviour).
        case ignore
        /// Answer INVALID_ARGUMENT (400) naming it.
        case reject
    }

    /// How response messages are written as JSON.
    public var jsonEncoding = JSONEncodingOptions()
    /// How request bodies are read (unknown fields refused unless `ignoreUnknownFields`).
    public var jsonDecoding = JSONDecodingOptions()
    public var unknownQueryParameters = UnknownQueryParameters.ignore

    public init() {}
}
