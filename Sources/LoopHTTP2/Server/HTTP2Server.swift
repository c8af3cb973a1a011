import Loop

/// An HTTP/2 server over cleartext TCP or a Unix domain socket with prior knowledge (h2c), as `nghttp`,
/// `curl --http2-prior-knowledge`, `h2load` and gRPC clients speak it. It sends its SETTINGS
/// the moment a connection is accepted (the handshake rule, docs/architecture.md).
///
/// ```swift
/// let server = try await HTTP2Server.bind(host: "127.0.0.1", port: 8080, group: group) { request, response in
///     try await response.respond(HTTP2ResponseHead(status: 200), body: ByteBuffer(string: "Hello, world!"))
/// }
/// try await server.closeFuture.get()
/// ```
public enum HTTP2Server {
    /// Serves every request with an async `handler`.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        handler: @escaping @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void
    ) async throws -> any Channel {
        try await bind(.hostAndPort(host: host, port: port), group: group, configuration: configuration, handler: handler)
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
        handler: @escaping @Sendable (HTTP2ServerRequest, HTTP2ServerResponse) async throws -> Void
    ) async throws -> any Channel {
        try await bind(endpoint, group: group, configuration: configuration) { channel in
            HTTP2AsyncStreamDelegate(loop: channel.eventLoop, handler: handler)
        }
    }

    /// Serves streams with a stream-level delegate, one made per connection by `makeDelegate`
    /// (on the connection's loop). The fastest face: no task or object per request.
    public static func bind(
        host: String, port: Int, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        pipelineSetup: (@Sendable (any Channel) throws -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> any Channel {
        try await bind(.hostAndPort(host: host, port: port), group: group, configuration: configuration,
                       pipelineSetup: pipelineSetup, makeDelegate: makeDelegate)
    }

    /// Serves streams with a stream-level delegate on a host and port or a Unix domain socket.
    public static func bind(
        _ endpoint: Endpoint, group: EventLoopGroup,
        configuration: HTTP2Configuration = HTTP2Configuration(role: .server),
        pipelineSetup: (@Sendable (any Channel) throws -> Void)? = nil,
        makeDelegate: @escaping @Sendable (any Channel) -> any HTTP2StreamDelegate
    ) async throws -> any Channel {
        var configuration = configuration
        configuration.role = .server
        let fixed = configuration
        return try await ServerBootstrap(group: group)
            .serverOption(.backlog(1024))
            // A client that sends its requests and shuts down its writing side still gets its
            // responses (HTTP2Connection.peerClosedInput).
            .childOption(.allowRemoteHalfClosure(true))
            .childChannelInitializer { channel in
                try pipelineSetup?(channel)
                try channel.pipeline.addHandler(HTTP2ConnectionHandler(configuration: fixed, delegate: makeDelegate(channel)))
            }
            .bind(to: endpoint)
            .get()
    }
}
