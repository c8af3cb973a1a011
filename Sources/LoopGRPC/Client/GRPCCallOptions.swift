/// Per-call settings: metadata, deadline, compression, message size limits.
///
/// ```swift
/// var options = GRPCCallOptions()
/// options.timeout = .seconds(2)
/// options.metadata.add("authorization", "Bearer token")
/// options.compression = .gzip
/// ```
public struct GRPCCallOptions: Sendable {
    /// Custom metadata sent with the request headers.
    public var metadata = GRPCMetadata()
    /// How long the call may take; sent as `grpc-timeout`, and the call fails with
    /// DEADLINE_EXCEEDED (and is cancelled on the wire) when it passes.
    public var timeout: Duration?
    /// The encoding request messages are compressed with; nil sends them uncompressed.
    public var compression: GRPCCompression?
    /// The largest response message accepted (after decompression).
    public var maxReceiveMessageSize = 4 * 1024 * 1024
    /// The largest request message sent.
    public var maxSendMessageSize = Int.max
    /// Wait for the channel to become ready instead of failing at once with UNAVAILABLE
    /// while it is in transient failure.
    public var waitForReady = false

    public init() {}
}

/// The response of a unary or client-streaming call, with its metadata.
public struct GRPCResponse<Message: Sendable>: Sendable {
    public var message: Message
    /// Metadata from the response headers.
    public var initialMetadata: GRPCMetadata
    /// Metadata from the trailers.
    public var trailingMetadata: GRPCMetadata

    public init(message: Message, initialMetadata: GRPCMetadata, trailingMetadata: GRPCMetadata) {
        self.message = message
        self.initialMetadata = initialMetadata
        self.trailingMetadata = trailingMetadata
    }
}
