import Loop
import LoopHTTP2

/// A gRPC server over HTTP/2 on TCP or a Unix domain socket: cleartext h2c, as grpc-go, grpcio
/// and grpc-swift clients speak it without TLS, or TLS with ALPN `h2` (`GRPCServerConfiguration.tls`).
/// It sends its SETTINGS as soon as a connection speaks HTTP/2 (the handshake rule,
/// docs/architecture.md), so clients that wait for them never stall.
///
/// ```swift
/// let group = EventLoopGroup()
/// let server = try await GRPCServer.bind(host: "127.0.0.1", port: 50051, group: group, services: [Greeter()])
/// print("listening on \(server.port)")
/// try await server.serve()   // returns once the server has shut down
/// ```
///
/// The server keeps track of its connections: ``beginGracefulShutdown(deadline:)`` stops
/// accepting, sends GOAWAY twice on every connection (RFC 9113 §6.8), lets the calls in
/// flight finish with their real status, and closes what is left at the deadline.
/// ``withGRPCServer(host:port:group:services:configuration:shutdownTimeout:isolation:_:)`` scopes a
/// server to a block; `LoopServiceLifecycle` runs it in a swift-service-lifecycle
/// `ServiceGroup`, where SIGTERM drains it.
public final class GRPCServer: Sendable {
    /// The HTTP/2 server underneath (its listener and connections).
    public let server: HTTP2Server
    /// The paths served.
    public let paths: [String]

    private init(server: HTTP2Server, paths: [String]) {
        self.server = server
        self.paths = paths
    }

    /// The listening channel.
    public var channel: any Channel { server.channel }

    /// The port the server listens on (useful after binding port 0; 0 on a Unix domain socket).
    public var port: Int { server.port }

    /// Completes when the server's listening channel has closed (connections may still be
    /// open; ``serve()`` returns when they have ended too).
    public var closeFuture: EventLoopFuture<Void> { server.closeFuture }

    /// Connections open now.
    public var connectionCount: Int { server.connectionCount }

    /// Runs until the server has shut down: the listener closed and every connection ended.
    /// Cancelling the calling task closes everything at once (calls in flight end
    /// CANCELLED); use ``beginGracefulShutdown(deadline:)`` to drain instead.
    public func serve() async throws {
        try await server.serve()
    }

    /// Starts a graceful shutdown and returns at once: no new connections, GOAWAY on every
    /// connection (two-phase, so no call the client sent meanwhile is lost), calls in flight
    /// finish and their connections close when idle; at `deadline` (if any) the rest are
    /// closed and their calls end. ``serve()`` returns when it is over.
    ///
    /// ```swift
    /// server.beginGracefulShutdown(deadline: .now + .seconds(30))
    /// try await server.serve()
    /// ```
    public func beginGracefulShutdown(deadline: ContinuousClock.Instant? = nil) {
        server.beginGracefulShutdown(deadline: deadline)
    }

    /// Binds and starts serving `services`.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup, services: [any GRPCService],
        configuration: GRPCServerConfiguration = GRPCServerConfiguration()
    ) async throws -> GRPCServer {
        try await bind(.hostAndPort(host: host, port: port), group: group, services: services, configuration: configuration)
    }

    /// Binds a host and port or a Unix domain socket and starts serving `services`. A Unix
    /// domain socket's file is removed when the server closes; an existing file fails the
    /// bind (EADDRINUSE naming the path).
    ///
    /// ```swift
    /// let server = try await GRPCServer.bind(.unixDomainSocket(path: "/run/app/grpc.sock"), group: group, services: [Greeter()])
    /// ```
    public static func bind(
        _ endpoint: Endpoint, group: EventLoopGroup, services: [any GRPCService],
        configuration: GRPCServerConfiguration = GRPCServerConfiguration()
    ) async throws -> GRPCServer {
        var router = GRPCRouter()
        for service in services { service.register(with: &router) }
        return try await bind(endpoint, group: group, router: router, configuration: configuration)
    }

    /// Binds and starts serving the methods of `router`.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup, router: GRPCRouter,
        configuration: GRPCServerConfiguration = GRPCServerConfiguration()
    ) async throws -> GRPCServer {
        try await bind(.hostAndPort(host: host, port: port), group: group, router: router, configuration: configuration)
    }

    /// Binds a host and port or a Unix domain socket and starts serving the methods of `router`.
    public static func bind(
        _ endpoint: Endpoint, group: EventLoopGroup, router: GRPCRouter,
        configuration: GRPCServerConfiguration = GRPCServerConfiguration()
    ) async throws -> GRPCServer {
        var configuration = configuration
        var router = router
        // One factory for the server's HTTP/2 and gRPC metrics, taken now; none if it is the no-op one.
        if let factory = GRPCMethodMetrics.resolve(configuration.metricsFactory) {
            configuration.metricsFactory = factory
            router.makeMetrics(factory: factory)
        }
        let fixed = configuration
        let routes = router
        let server = try await HTTP2Server.bind(endpoint, group: group, configuration: configuration.http2,
                                                tls: configuration.tls) { channel in
            GRPCServerConnection(router: routes, configuration: fixed, loop: channel.eventLoop)
        }
        return GRPCServer(server: server, paths: router.paths)
    }

    /// Stops listening. Connections already open are served until they close.
    public func close() async throws {
        try await server.close()
    }
}
