import Loop

/// Runs `body` with a server serving `services` on `endpoint`; when `body` returns or
/// throws, the server shuts down gracefully (calls in flight get up to `shutdownTimeout` to
/// finish) and this returns once it has. Cancelling the calling task closes the server at
/// once.
///
/// ```swift
/// try await withGRPCServer(.hostAndPort(host: "127.0.0.1", port: 50051), group: group, services: [Greeter()]) { server in
///     print("listening on \(server.port)")
///     try await server.serve()          // or: run a test against it, then return
/// }
/// ```
public func withGRPCServer<Result>(
    _ endpoint: Endpoint, group: EventLoopGroup, services: [any GRPCService],
    configuration: GRPCServerConfiguration = GRPCServerConfiguration(),
    shutdownTimeout: Duration = .seconds(30),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCServer) async throws -> Result
) async throws -> Result {
    let server = try await GRPCServer.bind(endpoint, group: group, services: services, configuration: configuration)
    let outcome: Swift.Result<Result, any Error>
    do {
        outcome = .success(try await body(server))
    } catch {
        outcome = .failure(error)
    }
    server.beginGracefulShutdown(deadline: .now + shutdownTimeout)
    try? await server.serve()
    return try outcome.get()
}

/// ``withGRPCServer(_:group:services:configuration:shutdownTimeout:isolation:_:)`` on
/// `host:port`.
///
/// ```swift
/// try await withGRPCServer(host: "0.0.0.0", port: 50051, group: group, services: [Greeter()]) { server in
///     try await server.serve()
/// }
/// ```
public func withGRPCServer<Result>(
    host: String, port: Int, group: EventLoopGroup, services: [any GRPCService],
    configuration: GRPCServerConfiguration = GRPCServerConfiguration(),
    shutdownTimeout: Duration = .seconds(30),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCServer) async throws -> Result
) async throws -> Result {
    try await withGRPCServer(.hostAndPort(host: host, port: port), group: group, services: services,
                             configuration: configuration, shutdownTimeout: shutdownTimeout, isolation: isolation, body)
}

/// Runs `body` with a channel to `endpoint`, and closes the channel when `body` returns or
/// throws (calls still in flight finish first).
///
/// ```swift
/// let reply = try await withGRPCChannel(.hostAndPort(host: "127.0.0.1", port: 50051), group: group) { channel in
///     try await Helloworld_GreeterClient(channel: channel).sayHello(.with { $0.name = "Loop" })
/// }
/// ```
public func withGRPCChannel<Result>(
    _ endpoint: Endpoint, group: EventLoopGroup,
    configuration: GRPCChannelConfiguration = GRPCChannelConfiguration(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCChannel) async throws -> Result
) async throws -> Result {
    let channel = GRPCChannel(endpoint: endpoint, group: group, configuration: configuration)
    let outcome: Swift.Result<Result, any Error>
    do {
        outcome = .success(try await body(channel))
    } catch {
        outcome = .failure(error)
    }
    await channel.close()
    return try outcome.get()
}

/// ``withGRPCChannel(_:group:configuration:isolation:_:)`` to `host:port`.
///
/// ```swift
/// try await withGRPCChannel(host: "127.0.0.1", port: 50051, group: group) { channel in
///     _ = try await Helloworld_GreeterClient(channel: channel).sayHello(.with { $0.name = "Loop" })
/// }
/// ```
public func withGRPCChannel<Result>(
    host: String, port: Int, group: EventLoopGroup,
    configuration: GRPCChannelConfiguration = GRPCChannelConfiguration(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GRPCChannel) async throws -> Result
) async throws -> Result {
    try await withGRPCChannel(.hostAndPort(host: host, port: port), group: group, configuration: configuration,
                              isolation: isolation, body)
}
