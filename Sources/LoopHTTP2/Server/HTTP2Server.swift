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
/// try await server.closeFuture.get()
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
public enum HTTP2Server {
    /// Serves every request with an async `handler`.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        tls: TLSConfiguration? = nil,
        handler: @escaping @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void
    ) async throws -> any Channel {
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
    ) async throws -> any Channel {
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
    ) async throws -> any Channel {
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
    ) async throws -> any Channel {
        var configuration = configuration
        configuration.role = .server
        let fixed = configuration
        // One set of metric handles for all of the server's connections.
        let metrics = HTTP2Metrics.make(factory: configuration.metricsFactory, role: .server)
        let tlsContext = try tls.map { try TLSContext($0.defaultingApplicationProtocols(to: ["h2"])) }
        return try await ServerBootstrap(group: group)
            .serverOption(.backlog(1024))
            // A client that sends its requests and shuts down its writing side still gets its
            // responses (HTTP2Connection.peerClosedInput).
            .childOption(.allowRemoteHalfClosure(true))
            .childChannelInitializer { channel in
                if let tlsContext { try channel.pipeline.addHandler(TLSHandler(context: tlsContext), name: "tls") }
                try pipelineSetup?(channel)
                try channel.pipeline.addHandler(HTTP2ConnectionHandler(configuration: fixed, delegate: makeDelegate(channel),
                                                                       metrics: metrics))
            }
            .bind(to: endpoint)
            .get()
    }
}
