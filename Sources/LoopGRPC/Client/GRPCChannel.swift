import Loop
import LoopHTTP2
import LoopTLS
import Synchronization

/// A client's channel to one gRPC server (`host:port` or a Unix domain socket, cleartext
/// HTTP/2). It connects on
/// the first call, counts a connection ready only once the server's SETTINGS arrived (the
/// readiness grpc-go relies on), reconnects with exponential backoff and jitter after a
/// failure, and opens another connection when the server's SETTINGS_MAX_CONCURRENT_STREAMS
/// is reached. Calls are methods in an extension (`unary`, `serverStreaming`, ...) that
/// generated clients wrap.
///
/// ```swift
/// let channel = GRPCChannel(host: "127.0.0.1", port: 50051, group: group)
/// let greeter = Helloworld_GreeterClient(channel: channel)
/// let reply = try await greeter.sayHello(.with { $0.name = "Loop" })
/// print(reply.message)
/// await channel.close()
/// ```
///
/// Over a Unix domain socket the `:authority` is `localhost` (as grpc-go sends for `unix:`
/// targets) unless `configuration.authority` says otherwise:
///
/// ```swift
/// let channel = GRPCChannel(endpoint: .unixDomainSocket(path: "/run/app/grpc.sock"), group: group)
/// ```
public final class GRPCChannel: Sendable {
    /// Where the channel connects.
    public let endpoint: Endpoint
    /// The host (for a Unix domain socket, its path).
    public let host: String
    /// The port (0 for a Unix domain socket).
    public let port: Int
    public let configuration: GRPCChannelConfiguration
    /// The `:authority` of every call: `configuration.authority`, else `host:port` or `localhost`.
    let authority: String
    let group: EventLoopGroup
    private let tlsContext: Result<TLSContext, any Error>?
    private let pool: Mutex<Pool>
    /// Calls by method and status (nil while the metrics factory is the no-op one).
    let callMetrics: GRPCClientMetrics?

    private struct Entry {
        let connection: GRPCClientConnection
        let channel: any Channel
        var activeCalls = 0
        var maxStreams: Int
        var usable = true
    }

    // @unchecked Sendable: Held only inside the channel's Mutex (`pool`); its entries' channels are
    // Sendable and their loop-bound connections are used on their loops only.
    private struct Pool: @unchecked Sendable {
        var state: GRPCConnectivityState = .idle
        var entries: [Entry] = []
        var connecting: EventLoopPromise<Void>?
        var failedAttempts = 0
        /// Connections in a row the server ended right after its handshake (at most
        /// ``Pool/closedBeforeUseLimit`` are retried at once, then it counts as a failure).
        var closedBeforeUse = 0
        static let closedBeforeUseLimit = 3
        var retryAt: ContinuousClock.Instant?
        var lastError = ""
        var retryScheduled = false
        /// The keepalive interval of new connections: the configured one, doubled for every
        /// GOAWAY "too_many_pings" (gRFC A8).
        var keepaliveInterval: Duration?
    }

    /// A channel to `host:port`; a host name's addresses are tried in order on each connect.
    public convenience init(host: String, port: Int, group: EventLoopGroup, configuration: GRPCChannelConfiguration = GRPCChannelConfiguration()) {
        self.init(endpoint: .hostAndPort(host: host, port: port), group: group, configuration: configuration)
    }

    /// A channel to a host and port or a Unix domain socket.
    public init(endpoint: Endpoint, group: EventLoopGroup, configuration: GRPCChannelConfiguration = GRPCChannelConfiguration()) {
        self.endpoint = endpoint
        switch endpoint {
        case .hostAndPort(let host, let port): (self.host, self.port) = (host, port)
        case .unixDomainSocket(let path): (self.host, self.port) = (path, 0)
        }
        self.authority = configuration.authority ?? configuration.tls?.serverHostOverride ?? endpoint.defaultAuthority
        self.group = group
        // The metrics factory is taken now, for the calls and the connections alike.
        let metricsFactory = GRPCMethodMetrics.resolve(configuration.metricsFactory)
        var configuration = configuration
        if let metricsFactory { configuration.metricsFactory = metricsFactory }
        self.callMetrics = metricsFactory.map { GRPCClientMetrics(factory: $0) }
        self.configuration = configuration
        var pool = Pool()
        pool.keepaliveInterval = configuration.http2.keepalive?.interval
        self.pool = Mutex(pool)
        // Made once: its files are read now, and its session cache serves every connection.
        // A configuration that cannot be used fails each connection attempt with its reason.
        self.tlsContext = configuration.tls.map { tls in
            Result { try TLSContext(tls.defaultingApplicationProtocols(to: ["h2"])) }
        }
    }

    /// The channel's connectivity now.
    public var connectivityState: GRPCConnectivityState { pool.withLock { $0.state } }

    /// Connections open now (for tests and diagnostics).
    public var connectionCount: Int { pool.withLock { $0.entries.count } }

    /// The keepalive interval the channel's next connections use (nil: keepalive is off):
    /// `configuration.http2.keepalive`'s, doubled each time a server answered the PINGs with
    /// GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings"), as gRPC clients do (gRFC A8).
    public var keepaliveInterval: Duration? { pool.withLock { $0.keepaliveInterval } }

    private func setState(_ state: GRPCConnectivityState, in pool: inout Pool) -> GRPCConnectivityState? {
        guard pool.state != state, pool.state != .shutdown else { return nil }
        pool.state = state
        return state
    }

    private func notify(_ state: GRPCConnectivityState?) {
        if let state, let callback = configuration.onStateChange { callback(state) }
    }

    /// Connects now instead of on the first call; returns when ready or throws UNAVAILABLE.
    public func connect() async throws {
        let connection = try await acquire(waitForReady: false)
        release(connection)
    }

    // MARK: Connections

    private enum Step {
        case use(GRPCClientConnection)
        case wait(EventLoopFuture<Void>)
        case connect(EventLoopPromise<Void>)
        case sleep(Duration)
        case fail(GRPCStatus)
    }

    /// A connection with a free stream slot, reserved for one call.
    func acquire(waitForReady: Bool) async throws -> GRPCClientConnection {
        while true {
            var changed: GRPCConnectivityState?
            let step = pool.withLock { pool -> Step in
                if pool.state == .shutdown { return .fail(GRPCStatus(.unavailable, "the channel was closed")) }
                if let index = pool.entries.firstIndex(where: { $0.usable && $0.activeCalls < $0.maxStreams }) {
                    pool.entries[index].activeCalls += 1
                    return .use(pool.entries[index].connection)
                }
                if let connecting = pool.connecting { return .wait(connecting.futureResult) }
                if pool.state == .transientFailure, let retryAt = pool.retryAt, ContinuousClock.now < retryAt {
                    guard waitForReady else {
                        return .fail(GRPCStatus(.unavailable, "cannot connect to \(endpoint): \(pool.lastError)"))
                    }
                    return .sleep(retryAt - ContinuousClock.now)
                }
                let promise = group.next().makePromise(of: Void.self)
                pool.connecting = promise
                if pool.entries.allSatisfy({ !$0.usable }) { changed = setState(.connecting, in: &pool) }
                return .connect(promise)
            }
            notify(changed)
            switch step {
            case .use(let connection):
                return connection
            case .wait(let future):
                try? await future.get()
            case .connect(let promise):
                await establish()
                promise.succeed(())
            case .sleep(let delay):
                try await Task.sleep(for: delay)
            case .fail(let status):
                throw status
            }
        }
    }

    /// A connection with a free slot, waiting at most until `deadline` (a call's deadline
    /// covers connecting, as in every gRPC implementation: DEADLINE_EXCEEDED, not the
    /// connection's own handshake timeout). The attempt under way goes on for later calls; a
    /// slot it reserves after the deadline is given back.
    func acquire(waitForReady: Bool, deadline: ContinuousClock.Instant?) async throws -> GRPCClientConnection {
        guard let deadline else { return try await acquire(waitForReady: waitForReady) }
        // The usual case, a ready connection with room: no race, no timer.
        let ready = pool.withLock { pool -> GRPCClientConnection? in
            guard pool.state != .shutdown,
                  let index = pool.entries.firstIndex(where: { $0.usable && $0.activeCalls < $0.maxStreams }) else { return nil }
            pool.entries[index].activeCalls += 1
            return pool.entries[index].connection
        }
        if let ready { return ready }
        let decided = FirstOfTwo()
        let endpoint = self.endpoint
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<GRPCClientConnection, any Error>) in
            let timer = Task {
                try await Task.sleep(until: deadline, clock: .continuous)
                guard decided.claim() else { return }
                continuation.resume(throwing: GRPCStatus(.deadlineExceeded, "the deadline passed while connecting to \(endpoint)"))
            }
            Task {
                let result: Result<GRPCClientConnection, any Error>
                do {
                    result = .success(try await self.acquire(waitForReady: waitForReady))
                } catch {
                    result = .failure(error)
                }
                guard decided.claim() else {
                    if case .success(let connection) = result { self.release(connection) }
                    return
                }
                timer.cancel()
                continuation.resume(with: result)
            }
        }
    }

    /// Frees the slot a call held.
    func release(_ connection: GRPCClientConnection) {
        pool.withLock { pool in
            if let index = pool.entries.firstIndex(where: { $0.connection === connection }) {
                pool.entries[index].activeCalls -= 1
            }
        }
    }

    /// One connection attempt; records the outcome in the pool.
    private func establish() async {
        do {
            let configuration = self.configuration
            let tls = try tlsContext?.get()
            var http2 = configuration.http2
            if let interval = pool.withLock({ $0.keepaliveInterval }) { http2.keepalive?.interval = interval }
            let connected = try await HTTP2Client.connectHandler(
                to: endpoint, group: group, configuration: http2,
                connectTimeout: configuration.connectTimeout, tls: tls
            ) { channel in
                GRPCClientConnection(loop: channel.eventLoop, configuration: configuration)
            }
            let connection = connected.handler.delegate as! GRPCClientConnection
            let handler = UncheckedTransfer(connected.handler)
            // What happened between the handshake and this hop (a busy machine can make it
            // long) is read here: a GOAWAY already received (too_many_pings among them) would
            // never reach the callbacks set now.
            let (maxStreams, toldTooManyPings, wentAway) = await onLoop(connection.loop) { () -> (Int, Bool, Bool) in
                connection.attach(handler.value)
                connection.onGoingAway = { [weak self] in self?.retire(connection, closed: false) }
                connection.onTooManyPings = { [weak self] in self?.slowDownKeepalive() }
                return (connection.maxConcurrentStreams, connection.toldTooManyPings, connection.goingAway)
            }
            if toldTooManyPings { slowDownKeepalive() }
            connected.channel.closeFuture.whenComplete { [weak self] _ in
                connection.detach()  // Breaks the cycles through the connection (runs on the loop).
                self?.retire(connection, closed: true)
            }
            var changed: GRPCConnectivityState?
            let closedAlready = wentAway || !connected.channel.isActive
            let retryAtOnce = pool.withLock { pool -> Bool in
                guard closedAlready, pool.state != .shutdown, pool.closedBeforeUse < Pool.closedBeforeUseLimit else { return false }
                // The server answered the handshake and ended the connection (or sent GOAWAY)
                // before any call could use it (its maximum age, too_many_pings): not a failed
                // attempt, so no backoff and no TRANSIENT_FAILURE; waiting calls connect again at
                // once (a few times in a row).
                pool.connecting = nil
                pool.closedBeforeUse += 1
                return true
            }
            if retryAtOnce { return }
            if closedAlready {
                throw GRPCStatus(.unavailable, "the server ended \(Pool.closedBeforeUseLimit + 1) connections in a row right after their handshake")
            }
            pool.withLock { pool in
                pool.connecting = nil
                pool.closedBeforeUse = 0
                pool.failedAttempts = 0
                pool.retryAt = nil
                if pool.state == .shutdown {
                    connected.channel.close()
                    return
                }
                pool.entries.append(Entry(connection: connection, channel: connected.channel, maxStreams: max(1, maxStreams)))
                changed = setState(.ready, in: &pool)
            }
            notify(changed)
        } catch {
            var changed: GRPCConnectivityState?
            var retryDelay: Duration?
            pool.withLock { pool in
                pool.connecting = nil
                pool.closedBeforeUse = 0
                let delay = configuration.backoff.delay(attempt: pool.failedAttempts, random: Double.random(in: 0..<1))
                pool.failedAttempts += 1
                pool.retryAt = ContinuousClock.now + delay
                pool.lastError = "\(error)"
                if pool.entries.allSatisfy({ !$0.usable }) {
                    changed = setState(.transientFailure, in: &pool)
                    if !pool.retryScheduled {
                        pool.retryScheduled = true
                        retryDelay = delay
                    }
                }
            }
            notify(changed)
            if let retryDelay { scheduleReconnect(after: retryDelay) }
        }
    }

    /// Reconnects in the background after `delay`, as gRPC channels do in transient failure.
    private func scheduleReconnect(after delay: Duration) {
        group.next().scheduleTask(in: delay) { [weak self] in
            guard let self else { return }
            Task {
                let attempt = self.pool.withLock { pool -> Bool in
                    pool.retryScheduled = false
                    return pool.state == .transientFailure && pool.connecting == nil
                }
                guard attempt else { return }
                if let connection = try? await self.acquire(waitForReady: true) { self.release(connection) }
            }
        }
    }

    /// A server said our keepalive PINGs come too often: the next connections wait twice as
    /// long (gRFC A8). Each such GOAWAY doubles the interval again.
    private func slowDownKeepalive() {
        pool.withLock { pool in
            if let interval = pool.keepaliveInterval { pool.keepaliveInterval = interval * 2 }
        }
    }

    /// A connection stopped taking calls (GOAWAY) or closed.
    private func retire(_ connection: GRPCClientConnection, closed: Bool) {
        var changed: GRPCConnectivityState?
        pool.withLock { pool in
            guard let index = pool.entries.firstIndex(where: { $0.connection === connection }) else { return }
            if closed { pool.entries.remove(at: index) } else { pool.entries[index].usable = false }
            if pool.state == .ready, pool.entries.allSatisfy({ !$0.usable }) {
                changed = setState(.idle, in: &pool)
            }
        }
        notify(changed)
    }

    /// Closes the channel: new calls fail with UNAVAILABLE; open connections shut down
    /// gracefully (calls in flight finish).
    public func close() async {
        var changed: GRPCConnectivityState?
        let entries = pool.withLock { pool -> [Entry] in
            changed = setState(.shutdown, in: &pool)
            pool.state = .shutdown
            return pool.entries
        }
        notify(changed)
        for entry in entries {
            let connection = entry.connection
            await onLoop(connection.loop) { connection.handler?.beginGracefulShutdown() }
            try? await entry.channel.closeFuture.get()
        }
    }
}

/// Which of two racers (a connection attempt, a deadline) answers a waiting call.
private final class FirstOfTwo: Sendable {
    private let taken = Mutex(false)

    /// True for the first caller only.
    func claim() -> Bool {
        taken.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}
