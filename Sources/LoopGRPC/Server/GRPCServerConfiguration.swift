import LoopHTTP2

/// Settings of a gRPC server.
public struct GRPCServerConfiguration: Sendable {
    /// The HTTP/2 settings (window sizes, concurrent streams, abuse limits).
    public var http2 = HTTP2Configuration(role: .server)
    /// The largest request message accepted (after decompression); larger ones end the
    /// call with RESOURCE_EXHAUSTED. gRPC's usual default, 4 MiB.
    public var maxReceiveMessageSize = 4 * 1024 * 1024
    /// The largest response message sent; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxSendMessageSize = Int.max
    /// Encodings accepted on requests; others are answered with UNIMPLEMENTED.
    public var acceptedEncodings: [GRPCCompression] = GRPCCompression.allCases
    /// Whether responses use the request's encoding (when it is not identity). gRPC
    /// implementations answer compressed requests compressed.
    public var compressResponsesLikeRequests = true
    /// Interceptors run around every call, the first outermost.
    public var interceptors: [any GRPCServerInterceptor] = []

    public init() {}
}
