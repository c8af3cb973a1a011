/// How a ``GRPCGateway`` turns HTTP requests into calls.
///
/// ```swift
/// var configuration = GatewayConfiguration()
/// configuration.defaultTimeout = .seconds(5)
/// configuration.forwardedHeaders.append("x-tenant")
/// ```
public struct GatewayConfiguration: Sendable {
    /// The deadline of a call whose request names none (`grpc-timeout`, in gRPC's format:
    /// `500m`, `5S`); nil: no deadline.
    public var defaultTimeout: Duration? = .seconds(30)
    /// Request header fields passed to the call as metadata under their own names, besides
    /// every `grpc-metadata-NAME` field (passed as NAME, as grpc-gateway does).
    public var forwardedHeaders = ["authorization", "x-request-id"]
    /// The largest request body read; a larger one is answered 413.
    public var maxRequestBodySize = 4 * 1024 * 1024
    /// Request bytes the gateway holds at once across all the requests it is reading (a body is
    /// read whole before its call): past it a request is answered 429 (RESOURCE_EXHAUSTED)
    /// instead of growing memory, whatever the clients open (HTTP/2 lets one connection have
    /// many requests in flight).
    public var maxBufferedRequestBytes = 64 * 1024 * 1024

    public init() {}
}
