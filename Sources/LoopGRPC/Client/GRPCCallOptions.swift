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
    /// Called with the status of each call made with these options (`onFinish`); empty, and
    /// so free, unless used.
    var finishObservers: [@Sendable (GRPCStatus) -> Void] = []

    public init() {}

    /// Calls `observer` once when a call made with these options has ended, with the status
    /// it ended with: the server's (from the trailers, with their metadata, or a Trailers-Only
    /// refusal such as UNIMPLEMENTED), or the one it ended with here: DEADLINE_EXCEEDED,
    /// CANCELLED (the task was cancelled, the body of a streaming call returned before the
    /// end or threw), UNAVAILABLE (no connection, or it closed), INTERNAL (the response broke
    /// the protocol, or could not be used although the server said OK: no message, or one
    /// that does not parse). It runs in the caller's task before the call returns or throws,
    /// also for a streaming call whose status arrives after `intercept` would otherwise have
    /// lost sight of it.
    ///
    /// An interceptor registers in the options it hands to `next`. If a later interceptor
    /// refuses (throws without calling `next`), no call is made and the observer is not
    /// called: `next` throws that refusal. If a later interceptor retries (calls `next` more
    /// than once), the observer hears every attempt.
    ///
    /// ```swift
    /// struct LogStatus: GRPCClientInterceptor {
    ///     func intercept<Result: Sendable>(path: String, options: GRPCCallOptions,
    ///                                      next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
    ///         var options = options
    ///         options.onFinish { status in print("\(path): \(status.code)") }
    ///         return try await next(options)
    ///     }
    /// }
    /// ```
    public mutating func onFinish(_ observer: @escaping @Sendable (GRPCStatus) -> Void) {
        finishObservers.append(observer)
    }

    var hasFinishObservers: Bool { !finishObservers.isEmpty }

    /// Hands `status` to the observers (see `onFinish`); made only if there are any.
    func callFinished(_ status: @autoclosure () -> GRPCStatus) {
        guard hasFinishObservers else { return }
        let status = status()
        for observer in finishObservers { observer(status) }
    }
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
