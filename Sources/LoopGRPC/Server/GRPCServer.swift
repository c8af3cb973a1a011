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
/// try await server.closeFuture.get()
/// ```
public final class GRPCServer: Sendable {
    /// The listening channel.
    public let channel: any Channel
    /// The paths served.
    public let paths: [String]

    private init(channel: any Channel, paths: [String]) {
        self.channel = channel
        self.paths = paths
    }

    /// The port the server listens on (useful after binding port 0; 0 on a Unix domain socket).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Completes when the server's listening channel has closed.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

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
        let channel = try await HTTP2Server.bind(endpoint, group: group, configuration: configuration.http2,
                                                 tls: configuration.tls) { channel in
            GRPCServerConnection(router: routes, configuration: fixed, loop: channel.eventLoop)
        }
        return GRPCServer(channel: channel, paths: router.paths)
    }

    /// Stops listening. Connections already open are served until they close.
    public func close() async throws {
        try await channel.close().get()
    }
}
