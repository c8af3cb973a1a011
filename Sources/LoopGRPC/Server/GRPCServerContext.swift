import Loop
import Synchronization
import LoopTLS

/// What a server handler knows about its call: the method, the client's metadata, the
/// deadline, whether the call was cancelled; and the metadata to answer with.
///
/// ```swift
/// func sayHello(request: HelloRequest, context: GRPCServerContext) async throws -> HelloReply {
///     if context.requestMetadata["authorization"] == nil { throw GRPCStatus(.unauthenticated) }
///     context.addTrailingMetadata("served-by", "loop")
///     return HelloReply.with { $0.message = "Hello, \(request.name)" }
/// }
/// ```
public final class GRPCServerContext: Sendable {
    /// The method's path, `/package.Service/Method`.
    public let path: String
    /// Custom metadata the client sent (reserved headers left out).
    public let requestMetadata: GRPCMetadata
    /// When the client stops waiting (from `grpc-timeout`), if it set a deadline.
    public let deadline: ContinuousClock.Instant?
    /// The client's `user-agent`, if any.
    public let userAgent: String?
    /// What the connection's TLS handshake agreed on, with the client's certificate under
    /// mutual TLS; nil in cleartext.
    ///
    /// ```swift
    /// guard let names = context.tls?.peerCertificate?.names, names.contains("billing.internal") else {
    ///     throw GRPCStatus(.permissionDenied, "this method is for the billing service")
    /// }
    /// ```
    public let tls: TLSConnectionInfo?
    /// The client's address (IP and port, or a Unix domain socket); nil when unknown.
    ///
    /// ```swift
    /// logger.info("call from \(context.remoteAddress.map { "\($0)" } ?? "unknown")")
    /// ```
    public let remoteAddress: SocketAddress?
    /// The address the call arrived on.
    public let localAddress: SocketAddress?

    private struct State {
        var initialMetadata = GRPCMetadata()
        var trailingMetadata = GRPCMetadata()
        var cancelled = false
        var initialMetadataSent = false
        /// Called once with the final status (`onFinish`); empty, and so free, unless used.
        var finishObservers: [@Sendable (GRPCStatus) -> Void] = []
        /// How the call ended, once it has (see `ended(_:withTrailingMetadata:)`).
        var end: End?
    }

    /// How a call ended: the status it ended with and, if that went out in trailers, the
    /// trailing metadata at that moment (the status the client got is made from both only
    /// when someone asks, so a call nobody observes pays nothing for it).
    private struct End {
        var status: GRPCStatus
        var sentTrailingMetadata: GRPCMetadata?

        var finalStatus: GRPCStatus {
            guard let metadata = sentTrailingMetadata else { return status }
            return GRPCResponseHead.sentStatus(for: status, adding: metadata)
        }
    }
    private let state = Mutex(State())

    init(path: String, requestMetadata: GRPCMetadata, deadline: ContinuousClock.Instant?, userAgent: String?,
         tls: TLSConnectionInfo? = nil, remoteAddress: SocketAddress? = nil, localAddress: SocketAddress? = nil) {
        self.tls = tls
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.path = path
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.userAgent = userAgent
    }

    /// The service part of the path, `package.Service`.
    public var serviceName: Substring {
        let trimmed = path.dropFirst()
        return trimmed.prefix { $0 != "/" }
    }

    /// The method part of the path.
    public var methodName: Substring {
        path.split(separator: "/", omittingEmptySubsequences: true).last ?? ""
    }

    /// Whether the client cancelled the call, or its deadline passed.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Adds metadata to the response headers. Only effective before the first response
    /// message (or the end of the call) is sent.
    public func addInitialMetadata(_ key: String, _ value: String) {
        state.withLock { $0.initialMetadata.add(key, value) }
    }

    /// Adds metadata to the response headers (see `addInitialMetadata(_:_:)`).
    public func addInitialMetadata(_ metadata: GRPCMetadata) {
        state.withLock { $0.initialMetadata.merge(metadata) }
    }

    /// Adds metadata to the trailers sent with the status.
    public func addTrailingMetadata(_ key: String, _ value: String) {
        state.withLock { $0.trailingMetadata.add(key, value) }
    }

    /// Adds metadata to the trailers sent with the status.
    public func addTrailingMetadata(_ metadata: GRPCMetadata) {
        state.withLock { $0.trailingMetadata.merge(metadata) }
    }

    /// Calls `observer` once, when the call has ended, with the status the client got: the
    /// status in the trailers with the trailing metadata sent along (OK; the handler's thrown
    /// status; UNKNOWN for another error; DEADLINE_EXCEEDED when the deadline passed;
    /// RESOURCE_EXHAUSTED for a response over `maxSendMessageSize`; INTERNAL for metadata
    /// that could not be sent; an interceptor's refusal), or CANCELLED when the client reset
    /// the stream or the connection closed first and no status could be sent.
    ///
    /// This is how an interceptor sees the status a call really ends with, which is decided
    /// after its `intercept` returned or threw (the response is framed and sent after it, the
    /// deadline timer and the client's reset run on their own). The observer runs on the
    /// connection's event loop as the trailers go out: keep it short and do not block. Calls
    /// answered before any interceptor runs (an unknown method, a malformed request head)
    /// have no context and are not observed. Registered after the end, it runs at once.
    ///
    /// ```swift
    /// struct LogStatus: GRPCServerInterceptor {
    ///     func intercept<Result: Sendable>(context: GRPCServerContext, next: @Sendable () async throws -> Result) async throws -> Result {
    ///         let path = context.path, start = ContinuousClock.now
    ///         context.onFinish { status in
    ///             print("\(path) \(status.code) in \(ContinuousClock.now - start)")
    ///         }
    ///         return try await next()
    ///     }
    /// }
    /// ```
    public func onFinish(_ observer: @escaping @Sendable (GRPCStatus) -> Void) {
        let end = state.withLock { state -> End? in
            if state.end == nil { state.finishObservers.append(observer) }
            return state.end
        }
        if let end { observer(end.finalStatus) }
    }

    // Used by the call.

    /// The call ended with `status`, sent with the trailing metadata (`withTrailingMetadata`),
    /// or sent alone or not at all (the stream was gone first). Only the first end counts.
    func ended(_ status: GRPCStatus, withTrailingMetadata: Bool) {
        let (end, observers) = state.withLock { state -> (End?, [@Sendable (GRPCStatus) -> Void]) in
            guard state.end == nil else { return (nil, []) }
            let end = End(status: status, sentTrailingMetadata: withTrailingMetadata ? state.trailingMetadata : nil)
            state.end = end
            let observers = state.finishObservers
            state.finishObservers = []
            return (end, observers)
        }
        guard let end, !observers.isEmpty else { return }
        let final = end.finalStatus
        for observer in observers { observer(final) }
    }

    func markCancelled() { state.withLock { $0.cancelled = true } }

    /// The initial metadata to send now; later additions are ignored.
    func takeInitialMetadata() -> GRPCMetadata {
        state.withLock {
            $0.initialMetadataSent = true
            return $0.initialMetadata
        }
    }

    var trailingMetadata: GRPCMetadata { state.withLock { $0.trailingMetadata } }
}
