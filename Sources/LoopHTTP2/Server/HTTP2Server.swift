import Loop
import LoopTLS

/// An HTTP/2 server over TCP or a Unix domain socket: cleartext with prior knowledge (h2c), as
/// `nghttp`, `curl --http2-prior-knowledge`, `h2load` and gRPC clients speak it, or TLS with
/// `h2` chosen through ALPN (`tls:`). It sends its SETTINGS the moment a connection speaks
/// HTTP/2: on accept in cleartext, right behind the TLS handshake otherwise (the handshake
/// rule, docs/architecture.md).
///
/// ```swift
/// let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 8080, group: group) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello, world!"))
/// }
/// try await server.serve()   // returns once the server has shut down
/// ```
///
/// The server keeps track of its connections. ``beginGracefulShutdown(deadline:)`` stops
/// accepting, sends the two-phase GOAWAY (RFC 9113 §6.8) on every connection, lets the
/// requests in flight finish, closes each connection once it is idle, and closes the rest at
/// the deadline; ``serve()`` returns when the last connection closed. `LoopServiceLifecycle`
/// runs it under swift-service-lifecycle's `ServiceGroup` (SIGTERM drains it).
///
/// ```swift
/// // From a signal handler or another task:
/// server.beginGracefulShutdown(deadline: .now + .seconds(30))
/// ```
///
/// Over TLS (a client offering ALPN must offer `h2`; one offering nothing is served HTTP/2):
///
/// ```swift
/// let tls = TLSConfiguration.server(certificateChain: .file("cert.pem"), privateKey: .file("key.pem"))
/// let server = try await HTTP2Server.bind(host: "0.0.0.0", port: 8443, group: group, tls: tls) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello over TLS"))
/// }
/// ```
public final class HTTP2Server: Sendable {
    /// The listening channel.
    public let channel: any Channel
    let connections: HTTP2ServerConnections

    private init(channel: any Channel, connections: HTTP2ServerConnections) {
        self.channel = channel
        self.connections = connections
        channel.closeFuture.whenComplete { _ in connections.listenerClosed() }
    }

    /// The address the server listens on (its port, after binding port 0).
    public var localAddress: SocketAddress? { channel.localAddress }

    /// The port the server listens on (0 on a Unix domain socket).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Completes when the listening channel has closed (connections may still be open; see
    /// ``serve()`` for the server's whole end).
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Connections open now.
    public var connectionCount: Int { connections.count }

    /// Runs until the server has shut down: the listener closed and every connection ended
    /// (after ``beginGracefulShutdown(deadline:)``, or ``close()`` and the clients leaving).
    /// Cancelling the calling task closes the listener and every connection at once.
    ///
    /// ```swift
    /// try await withThrowingTaskGroup(of: Void.self) { group in
    ///     group.addTask { try await server.serve() }
    ///     // ... later:
    ///     server.beginGracefulShutdown(deadline: .now + .seconds(10))
    /// }
    /// ```
    public func serve() async throws {
        await withTaskCancellationHandler {
            await connections.waitUntilStopped()
        } onCancel: {
            self.beginGracefulShutdown(deadline: .now)
        }
    }

    /// Starts a graceful shutdown and returns at once: the listener closes (new connections
    /// are refused), every connection gets GOAWAY twice (RFC 9113 §6.8: first with the
    /// largest stream id and a PING, then, once the PING is acknowledged, with the last
    /// stream it accepted), streams in flight finish, and each connection closes once it has
    /// none. At `deadline` the connections still open are closed (nil: they may take as long
    /// as they need; cancel ``serve()`` or call again with a deadline to cut it short).
    ///
    /// ```swift
    /// server.beginGracefulShutdown(deadline: .now + .seconds(30))
    /// try await server.serve()
    /// ```
    public func beginGracefulShutdown(deadline: ContinuousClock.Instant? = nil) {
        channel.close()
        connections.beginGracefulShutdown(deadline: deadline, timerLoop: channel.eventLoop)
    }

    /// Stops listening. Connections already open are served until they close; ``serve()``
    /// returns then.
    public func close() async throws {
        do {
            try await channel.close().get()
        } catch ChannelError.alreadyClosed {
            // Closed already (a shutdown began): the listener is gone, as asked.
        }
    }


    /// Serves every request with an async `handler`.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        tls: TLSConfiguration? = nil,
        handler: @escaping @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void
    ) async throws -> HTTP2Server {
        try await bind(.hostAndPort(host: host, port: port), group: group, configuration: configuration, tls: tls, handler: handler)
    }

    /// Serves every request with an async `handler`, on a host and port or a Unix domain
    /// socket (its file is removed when the server closes; an existing file fails the bind).
    ///
    /// ```swift
    /// let server = try await HTTP2Server.bind(.unixDomainSocket(path: "/tmp/app.sock"), group: group) { request, response in
    ///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello"))
    /// }
    /// ```
    public static func bind(
        _ endpoint: Endpoint, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        tls: TLSConfiguration? = nil,
        handler: @escaping @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void
    ) async throws -> HTTP2Server {
        try await bind(endpoint, group: group, configuration: configuration, tls: tls) { channel in
            HTTP2AsyncStreamDelegate(loop: channel.eventLoop, handler: handler)
        }
    }

    /// Serves streams with a stream-level delegate, one made per connection by `makeDelegate`
    /// (on the connection's loop). The fastest face: no task or object per request.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        tls: TLSConfiguration? = nil,
        pipelineSetup: (@Sendable (any Channel) throws -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2Server {
        try await bind(.hostAndPort(host: host, port: port), group: group, configuration: configuration, tls: tls,
                       pipelineSetup: pipelineSetup, makeDelegate: makeDelegate)
    }

    /// Serves streams with a stream-level delegate on a host and port or a Unix domain socket.
    ///
    /// With `tls`, connections speak TLS (its `applicationProtocols` default to `["h2"]`);
    /// its certificates and keys are read once, here, and a configuration that cannot be used
    /// throws a `TLSError` naming the problem.
    public static func bind(
        _ endpoint: Endpoint, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        tls: TLSConfiguration? = nil,
        pipelineSetup: (@Sendable (any Channel) throws -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> HTTP2Server {
        var configuration = configuration
        configuration.role = .server
        let fixed = configuration
        // One set of metric handles for all of the server's connections.
        let metrics = HTTP2Metrics.make(factory: configuration.metricsFactory, role: .server)
        let http1 = configuration.http1
        let tlsContext = try tls.map { try TLSContext($0.defaultingApplicationProtocols(to: http1 == nil ? ["h2"] : ["h2", "http/1.1"])) }
        let connections = HTTP2ServerConnections()
        // One port: the detectors' deadlines, one list per loop (OnePort/DetectionDeadlines.swift).
        // (An array searched by identity: a group has a loop or a few, and hashing cost more.)
        let deadlines: [DetectionDeadlines] = http1.map { options in
            let limit = OnePortFront.detectionLimit(options, tls: tlsContext)
            return group.loops.map { DetectionDeadlines(loop: $0, timeout: limit) }
        } ?? []
        let listener = try await ServerBootstrap(group: group)
            .serverOption(.backlog(1024))
            // A client that sends its requests and shuts down its writing side still gets its
            // responses (HTTP2Connection.peerClosedInput).
            .childOption(.allowRemoteHalfClosure(true))
            .childChannelInitializer { channel in
                let handler = HTTP2ConnectionHandler(configuration: fixed, delegate: makeDelegate(channel), metrics: metrics)
                try connections.admit(channel, handler: handler)
                if let http1 {
                    // One port: the handler's front reads the first bytes and decides between
                    // TLS, HTTP/2 and HTTP/1.1, putting a TLSHandler or the HTTP/1.1 bridge in
                    // front of the handler if needed (OnePort/OnePortFront.swift).
                    try pipelineSetup?(channel)
                    handler.front = OnePortFront(http2: handler, options: http1, tls: tlsContext,
                                                 deadlines: deadlines.first { $0.loop === channel.eventLoop })
                    try channel.pipeline.addHandler(handler, name: "http2")
                } else {
                    if let tlsContext { try channel.pipeline.addHandler(TLSHandler(context: tlsContext), name: "tls") }
                    try pipelineSetup?(channel)
                    // Named: a generated name ("<type>-<n>") costs more than the rest of the add.
                    try channel.pipeline.addHandler(handler, name: "http2")
                }
            }
            .bind(to: endpoint)
            .get()
        return HTTP2Server(channel: listener, connections: connections)
    }
}
