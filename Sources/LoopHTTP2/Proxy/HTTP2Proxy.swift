import Loop

/// A reverse proxy for HTTP/2 and gRPC: accepts h2c connections and forwards each stream to
/// one of its upstreams, chosen round-robin among the healthy ones.
///
/// Event-loop native: each loop has its own upstream connections (an upstream pool),
/// and a downstream connection's streams go out through those of its own loop, so a
/// request never changes thread and no task is made per stream. Streams are multiplexed on
/// upstream connections up to the upstream's SETTINGS_MAX_CONCURRENT_STREAMS.
///
/// - Flow control end to end: DATA received on one side is consumed (its window credit
///   returned) only once it left the other side's queue, so a slow client slows the
///   backend, and the proxy holds at most one stream window per stream and direction.
/// - Headers, trailers and RST_STREAM codes pass unchanged both ways; connection-specific
///   fields never do (``HTTP2ProxyHeaders``).
/// - An upstream that cannot be reached is marked down with backoff and the request goes
///   to the next one; a stream the upstream refused (REFUSED_STREAM, or above its GOAWAY's
///   last stream id) is retried while the proxy still holds what it sent. When no upstream
///   can answer, a gRPC request gets a Trailers-Only `grpc-status: 14` (UNAVAILABLE) whose
///   `grpc-message` names the upstream and the error, any other request a 502.
///
/// ```swift
/// var configuration = HTTP2ProxyConfiguration(upstreams: [
///     .hostAndPort(host: "127.0.0.1", port: 50051), .hostAndPort(host: "127.0.0.1", port: 50052),
/// ])
/// configuration.healthCheckInterval = .seconds(5)      // grpc.health.v1.Health/Check
/// let proxy = try await HTTP2Proxy.bind(host: "0.0.0.0", port: 8080, group: group, configuration: configuration)
/// try await proxy.closeFuture.get()
/// ```
public final class HTTP2Proxy: Sendable {
    /// The listening channel.
    public let channel: any Channel
    private let pools: [UncheckedTransfer<HTTP2UpstreamPool>]

    private init(channel: any Channel, pools: [UncheckedTransfer<HTTP2UpstreamPool>]) {
        self.channel = channel
        self.pools = pools
    }

    /// The port listened on (useful after binding port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Completes when the listener closes.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Listens on `host:port` and proxies every connection to `configuration.upstreams`.
    public static func bind(host: String, port: Int, group: EventLoopGroup,
                            configuration: HTTP2ProxyConfiguration) async throws -> HTTP2Proxy {
        try await bind(.hostAndPort(host: host, port: port), group: group, configuration: configuration)
    }

    /// Listens on a host and port or a Unix domain socket.
    public static func bind(_ endpoint: Endpoint, group: EventLoopGroup,
                            configuration: HTTP2ProxyConfiguration) async throws -> HTTP2Proxy {
        precondition(!configuration.upstreams.isEmpty, "HTTP2Proxy needs at least one upstream")
        var pools: [UncheckedTransfer<HTTP2UpstreamPool>] = []
        var byLoop: [ObjectIdentifier: UncheckedTransfer<HTTP2UpstreamPool>] = [:]
        for loop in group.loops {
            let pool = await onLoop(loop) { UncheckedTransfer(HTTP2UpstreamPool(loop: loop, configuration: configuration)) }
            pools.append(pool)
            byLoop[ObjectIdentifier(loop)] = pool
        }
        let table = byLoop
        do {
            let server = try await HTTP2Server.bind(endpoint, group: group, configuration: configuration.downstream) { channel in
                // Runs on the connection's loop: its pool is that loop's.
                HTTP2ProxyDownstream(pool: table[ObjectIdentifier(channel.eventLoop)]!.value)
            }
            return HTTP2Proxy(channel: server.channel, pools: pools)
        } catch {
            for pool in pools { await onLoop(pool.value.loop) { pool.value.stop() } }
            throw error
        }
    }

    /// The counters of every loop, summed (each read on its loop).
    public func statistics() async -> HTTP2ProxyStatistics {
        var sum = HTTP2ProxyStatistics()
        for pool in pools {
            sum = sum + (await onLoop(pool.value.loop) { pool.value.statistics })
        }
        return sum
    }

    /// Stops listening and stops the health checks. Connections already open are served
    /// until they close.
    public func close() async throws {
        for pool in pools { await onLoop(pool.value.loop) { pool.value.stop() } }
        try await channel.close().get()
    }
}

/// Where an ``HTTP2Proxy`` forwards to and how.
///
/// ```swift
/// var configuration = HTTP2ProxyConfiguration(upstreams: [.hostAndPort(host: "10.0.0.2", port: 50051)])
/// configuration.connectTimeout = .seconds(1)
/// configuration.downstream.maxConcurrentStreams = 4000
/// ```
public struct HTTP2ProxyConfiguration: Sendable {
    /// The upstreams, taken in turn (round-robin) among the healthy ones.
    public var upstreams: [Endpoint]
    /// How often each loop sends `grpc.health.v1.Health/Check` to each upstream; nil: no
    /// health checks (an upstream is then marked down only when connecting to it fails).
    /// A check not answered within the interval counts as a failure.
    public var healthCheckInterval: Duration?
    /// How long connecting to an upstream may take.
    public var connectTimeout: Duration = .seconds(2)
    /// How long an upstream stays down after its first failure in a row; doubled per
    /// further failure, up to `maximumBackoff`. Once it is over, one request may try it.
    public var initialBackoff: Duration = .seconds(1)
    public var maximumBackoff: Duration = .seconds(30)
    /// The client-facing connections. Stream windows stay fixed (no BDP growth), so what
    /// the proxy holds per stream is bounded by `initialStreamWindowSize`.
    public var downstream: HTTP2Configuration
    /// The connections to upstreams (same window rule).
    public var upstream: HTTP2Configuration

    public init(upstreams: [Endpoint], healthCheckInterval: Duration? = nil) {
        self.upstreams = upstreams
        self.healthCheckInterval = healthCheckInterval
        var downstream = HTTP2Configuration(role: .server)
        downstream.maximumStreamWindowSize = nil
        self.downstream = downstream
        var upstream = HTTP2Configuration(role: .client)
        upstream.maximumStreamWindowSize = nil
        self.upstream = upstream
    }
}
