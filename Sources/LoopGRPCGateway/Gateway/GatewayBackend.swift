import Loop
import LoopGRPC
import LoopTLS

/// Where the gateway's calls go.
///
/// ```swift
/// let inProcess = GatewayBackend.local(GRPCLocalCaller(services: [Greetings()]))
/// let remote = GatewayBackend.remote(GRPCChannel(host: "10.0.0.7", port: 50051, group: group))
/// ```
public enum GatewayBackend: Sendable {
    /// Services on this server, called in process: no network hop, the messages handed to
    /// the handlers as they are (LoopGRPC's `GRPCLocalCaller`).
    case local(GRPCLocalCaller)
    /// A gRPC server elsewhere, through a channel (its own connections, retries, TLS).
    case remote(GRPCChannel)
}

/// What one gateway call carries to its backend: the metadata taken from the HTTP request
/// (``GatewayConfiguration/forwardedHeaders``, `grpc-metadata-*`), its deadline, and where the
/// HTTP request came from.
public struct GatewayCallOptions: Sendable {
    public var metadata = GRPCMetadata()
    public var deadline: ContinuousClock.Instant?
    public var userAgent: String?
    public var tls: TLSConnectionInfo?
    public var remoteAddress: SocketAddress?
    public var localAddress: SocketAddress?

    public init() {}

    var local: GRPCLocalCallOptions {
        // The request's task only answers the call: the deadline may cancel it (no task per call).
        GRPCLocalCallOptions(metadata: metadata, deadline: deadline, userAgent: userAgent, tls: tls,
                             remoteAddress: remoteAddress, localAddress: localAddress, deadlineCancelsCallingTask: true)
    }

    var remote: GRPCCallOptions {
        var options = GRPCCallOptions()
        options.metadata = metadata
        if let deadline { options.timeout = max(deadline - .now, .zero) }
        return options
    }
}

/// A unary call's JSON answer and the metadata the method sent.
public struct GatewayReply: Sendable {
    public var body: ByteBuffer
    public var initialMetadata: GRPCMetadata
    public var trailingMetadata: GRPCMetadata
}
