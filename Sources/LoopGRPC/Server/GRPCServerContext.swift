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

    // Used by the call.

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
