import CoreMetrics
import Logging
import LoopHTTP2
import LoopTLS

/// Settings of a `GRPCChannel`.
public struct GRPCChannelConfiguration: Sendable {
    /// The HTTP/2 settings of each connection, keepalive among them: off by default, as in
    /// grpc-go. With `http2.keepalive` set, a connection that has read nothing for the
    /// interval (while calls are open, or always with `permitWithoutCalls`) sends a PING, and
    /// one whose server sends nothing within the timeout after it is closed: its calls fail
    /// with UNAVAILABLE ("keepalive ping not acknowledged within 10.0 seconds") and the next
    /// call connects again. A server that finds the PINGs too frequent answers
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"); the channel then doubles the interval for
    /// its next connections (gRFC A8; ``GRPCChannel/keepaliveInterval``). gRPC servers
    /// accept PINGs every 5 minutes by default, and only while calls are open.
    ///
    /// ```swift
    /// var configuration = GRPCChannelConfiguration()
    /// configuration.http2.keepalive = .init(interval: .seconds(300), timeout: .seconds(10))
    /// ```
    public var http2 = HTTP2Configuration(role: .client)
    /// Bytes of unfinished response messages one connection may have granted at once: a
    /// message larger than half the stream window can only arrive if its bytes' credit goes
    /// back before it is complete, and these grants are limited per connection, so a server
    /// leaving unfinished large messages on many streams cannot make the client buffer them
    /// all (`GRPCPartialMessageBudget`, docs/architecture.md). A call past the limit waits
    /// for others to complete; one message is always granted when nothing else is, whatever
    /// its size within the call's `maxReceiveMessageSize`.
    ///
    /// The default, 64 MiB, lets sixteen maximum-size (4 MiB) responses arrive at once on one
    /// connection.
    ///
    /// ```swift
    /// var configuration = GRPCChannelConfiguration()
    /// configuration.maxPartialMessageBytesPerConnection = 128 << 20
    /// ```
    public var maxPartialMessageBytesPerConnection = 64 * 1024 * 1024
    /// How long a TCP connect may take.
    public var connectTimeout: Duration = .seconds(20)
    /// Reconnect delays after a failed attempt.
    public var backoff = GRPCBackoff()
    /// Interceptors run around every call, the first outermost.
    public var interceptors: [any GRPCClientInterceptor] = []
    /// The `user-agent` sent with every call.
    public var userAgent = "grpc-swift-loop/1.0"
    /// The `:authority` sent; when nil, `host:port`, or `localhost` over a Unix domain socket.
    public var authority: String?
    /// Called on every connectivity change (on a loop thread; keep it short).
    public var onStateChange: (@Sendable (GRPCConnectivityState) -> Void)?

    /// Connect with TLS (ALPN `h2` when its `applicationProtocols` is empty) instead of
    /// cleartext h2c. The channel makes one context from it and keeps it, so connections
    /// after the first resume the TLS session. `serverHostOverride` also becomes the
    /// `:authority` when `authority` is nil, as in gRPC's interop client.
    ///
    /// ```swift
    /// var configuration = GRPCChannelConfiguration()
    /// configuration.tls = .client(trustRoots: .pem(.file("ca.pem")))
    /// let channel = GRPCChannel(host: "api.internal", port: 443, group: group, configuration: configuration)
    /// ```
    public var tls: TLSConfiguration?

    /// Where the channel's connections log (``http2``'s logger, the same one): opened,
    /// ready and closed at debug, protocol violations and TLS failures at info and notice.
    /// The default logs nothing: a library does not print unless it is given a logger.
    ///
    /// ```swift
    /// configuration.logger = Logger(label: "greeter-client")
    /// ```
    public var logger: Logger {
        get { http2.logger }
        set { http2.logger = newValue }
    }

    /// Where the channel's metrics go (``http2``'s factory, the same one); nil:
    /// `MetricsSystem.factory` when the channel is made, which counts nothing until the
    /// application bootstraps it.
    public var metricsFactory: (any MetricsFactory)? {
        get { http2.metricsFactory }
        set { http2.metricsFactory = newValue }
    }

    public init() {}
}

/// Runs around every call a client makes: to add credentials, log, time or retry. A
/// streaming call's status comes inside `next` (and its body may catch it): register
/// ``GRPCCallOptions/onFinish(_:)`` in the options passed on to be told the status each
/// call ended with.
///
/// ```swift
/// struct AddToken: GRPCClientInterceptor {
///     func intercept<Result: Sendable>(path: String, options: GRPCCallOptions,
///                                      next: @Sendable (GRPCCallOptions) async throws -> Result) async throws -> Result {
///         var options = options
///         options.metadata.add("authorization", "Bearer secret")
///         return try await next(options)
///     }
/// }
/// ```
public protocol GRPCClientInterceptor: Sendable {
    // `@concurrent`: the closure's type stays what conforming types declare in modules built
    // without NonisolatedNonsendingByDefault (this package enables it; see Package.swift).
    func intercept<Result: Sendable>(
        path: String, options: GRPCCallOptions, next: @concurrent @Sendable (GRPCCallOptions) async throws -> Result
    ) async throws -> Result
}

extension Array where Element == any GRPCClientInterceptor {
    /// Runs `call` inside the interceptors, the first one outermost.
    func run<Result: Sendable>(
        path: String, options: GRPCCallOptions, from index: Int = 0,
        _ call: @escaping @Sendable (GRPCCallOptions) async throws -> Result
    ) async throws -> Result {
        guard index < count else { return try await call(options) }
        let rest = self
        return try await self[index].intercept(path: path, options: options) { options in
            try await rest.run(path: path, options: options, from: index + 1, call)
        }
    }
}
