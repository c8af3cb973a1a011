import Loop

/// The upstream connections of one event loop: every downstream connection on that loop
/// forwards its streams through them, so a request never changes thread. Chooses the
/// upstream round-robin among the healthy ones (``HTTP2UpstreamBalancer``), multiplexes
/// streams on a connection up to the upstream's SETTINGS_MAX_CONCURRENT_STREAMS, opens
/// another connection past it, and marks an upstream down (with backoff) when connecting
/// to it fails; the requests that waited for it go to the next upstream.
final class HTTP2UpstreamPool {
    let loop: EventLoop
    let configuration: HTTP2ProxyConfiguration
    var balancer: HTTP2UpstreamBalancer
    private(set) var connections: [[HTTP2UpstreamConnection]]
    /// Requests waiting for a connection to each upstream.
    private var waiting: [[HTTP2ProxiedStream]]
    /// A health check is due once a connection to the upstream is ready.
    private var probeWanted: [Bool]
    private var probes: [HTTP2HealthCheckStream?]
    private var healthTimer: ScheduledCallback?
    var statistics = HTTP2ProxyStatistics()
    private static let clock = MonotonicClock()

    /// Call on `loop`.
    init(loop: EventLoop, configuration: HTTP2ProxyConfiguration) {
        precondition(loop.inEventLoop)
        self.loop = loop
        self.configuration = configuration
        let count = configuration.upstreams.count
        balancer = HTTP2UpstreamBalancer(count: count, initialBackoff: configuration.initialBackoff,
                                         maximumBackoff: configuration.maximumBackoff)
        connections = Array(repeating: [], count: count)
        waiting = Array(repeating: [], count: count)
        probeWanted = Array(repeating: false, count: count)
        probes = Array(repeating: nil, count: count)
        if let interval = configuration.healthCheckInterval { scheduleHealthChecks(every: interval, first: true) }
    }

    /// An upstream's name for messages: "host:port".
    func name(_ index: Int) -> String { configuration.upstreams[index].description }

    var now: UInt64 { Self.clock.nanoseconds() }

    // MARK: Requests

    /// Sends `stream` to the next upstream, now or once a connection to it is ready.
    func dispatch(_ stream: HTTP2ProxiedStream) {
        guard !stream.isFinished else { return }
        guard let index = balancer.next(now: now, excluding: stream.tried) else {
            stream.noUpstreamLeft()
            return
        }
        stream.tried.insert(index)
        stream.upstreamIndex = index
        for connection in connections[index] where connection.hasCapacity {
            if stream.start(on: connection) { return }
        }
        waiting[index].append(stream)
        if !connections[index].contains(where: { $0.isPending }) { connect(index) }
    }

    // MARK: Connections

    private func connect(_ index: Int) {
        statistics.connectsStarted += 1
        let connection = HTTP2UpstreamConnection(pool: self, upstream: index)
        connections[index].append(connection)
        let bound = LoopBound(connection, eventLoop: loop)
        let http2 = configuration.upstream
        ClientBootstrap(eventLoop: loop)
            .channelOption(.connectTimeout(configuration.connectTimeout))
            .channelInitializer { channel in
                let handler = HTTP2ConnectionHandler(configuration: http2, delegate: bound.value)
                bound.value.handler = handler
                try channel.pipeline.addHandler(handler, name: "http2")
            }
            .connect(to: configuration.upstreams[index])
            .whenComplete { result in
                let connection = bound.value
                switch result {
                case .success(let channel):
                    connection.channel = channel
                    channel.closeFuture.whenComplete { _ in bound.value.closed() }
                case .failure(let error):
                    connection.pool?.connectFailed(connection, reason: "\(error)")
                }
            }
    }

    func connectionReady(_ connection: HTTP2UpstreamConnection) {
        let index = connection.upstream
        balancer.succeeded(index)
        let pending = waiting[index]
        waiting[index] = []
        for stream in pending where !stream.isFinished {
            if !(connections[index].contains { $0.hasCapacity && stream.start(on: $0) }) {
                waiting[index].append(stream)
            }
        }
        if !waiting[index].isEmpty && !connections[index].contains(where: { $0.isPending }) { connect(index) }
        if probeWanted[index] {
            probeWanted[index] = false
            startProbe(index)
        }
    }

    func connectionGoingAway(_ connection: HTTP2UpstreamConnection) {
        let index = connection.upstream
        if !waiting[index].isEmpty && !connections[index].contains(where: { $0.isPending }) { connect(index) }
    }

    func connectionClosed(_ connection: HTTP2UpstreamConnection) {
        let index = connection.upstream
        let wasReady = connection.isReady
        connections[index].removeAll { $0 === connection }
        if !wasReady {
            connectFailed(connection, reason: "connection closed before the HTTP/2 handshake completed")
        } else if !waiting[index].isEmpty && !connections[index].contains(where: { $0.isPending }) {
            connect(index)
        }
    }

    func connectFailed(_ connection: HTTP2UpstreamConnection, reason: String) {
        let index = connection.upstream
        connections[index].removeAll { $0 === connection }
        statistics.connectFailures += 1
        balancer.failed(index, now: now)
        probeWanted[index] = false
        // Other attempts to this upstream may still be under way; the requests that waited
        // go elsewhere now (nothing of them was sent).
        let pending = waiting[index]
        waiting[index] = []
        let message = "upstream \(name(index)): \(reason)"
        for stream in pending where !stream.isFinished { stream.connectFailed(message) }
    }

    // MARK: Health checks

    private func scheduleHealthChecks(every interval: Duration, first: Bool) {
        healthTimer = loop.scheduleCallback(in: first ? .zero : interval) { [weak self] in
            guard let self else { return }
            for index in 0..<self.balancer.count { self.checkHealth(index) }
            self.scheduleHealthChecks(every: interval, first: false)
        }
    }

    private func checkHealth(_ index: Int) {
        if let outstanding = probes[index] {
            // No answer within the interval: the upstream is not healthy.
            probes[index] = nil
            outstanding.cancel()
            balancer.failed(index, now: now)
        }
        if connections[index].contains(where: { $0.hasCapacity }) {
            startProbe(index)
        } else {
            probeWanted[index] = true
            if !connections[index].contains(where: { $0.isPending }) { connect(index) }
        }
    }

    private func startProbe(_ index: Int) {
        guard let connection = connections[index].first(where: { $0.hasCapacity }) else { return }
        let probe = HTTP2HealthCheckStream(upstream: index, authority: name(index)) { [weak self] index, verdict in
            self?.probeFinished(index, verdict)
        }
        if probe.start(on: connection) { probes[index] = probe }
    }

    private func probeFinished(_ index: Int, _ verdict: HTTP2HealthProbe.Verdict) {
        probes[index] = nil
        statistics.healthChecks += 1
        if verdict == .serving {
            balancer.succeeded(index)
        } else {
            balancer.failed(index, now: now)
        }
    }

    /// Stops the health checks (the proxy is closing).
    func stop() {
        healthTimer?.cancel()
        healthTimer = nil
    }
}

/// Counters of one loop's proxying, summed over loops by ``HTTP2Proxy/statistics()``.
public struct HTTP2ProxyStatistics: Sendable, Equatable {
    /// Bytes forwarded whose flow-control credit is not returned yet: what the proxy holds.
    public var heldBytes = 0
    /// The most `heldBytes` ever was (per loop; summed over loops it is an upper bound).
    public var maxHeldBytes = 0
    public var upstreamStreamsOpened = 0
    /// Requests sent again after an upstream refused them.
    public var retries = 0
    /// Requests answered by the proxy itself (UNAVAILABLE, 502 or a reset).
    public var failedRequests = 0
    public var connectsStarted = 0
    public var connectFailures = 0
    public var healthChecks = 0

    public init() {}

    mutating func hold(_ bytes: Int) {
        heldBytes += bytes
        if heldBytes > maxHeldBytes { maxHeldBytes = heldBytes }
    }

    mutating func release(_ bytes: Int) { heldBytes -= bytes }

    static func + (lhs: HTTP2ProxyStatistics, rhs: HTTP2ProxyStatistics) -> HTTP2ProxyStatistics {
        var sum = lhs
        sum.heldBytes += rhs.heldBytes
        sum.maxHeldBytes += rhs.maxHeldBytes
        sum.upstreamStreamsOpened += rhs.upstreamStreamsOpened
        sum.retries += rhs.retries
        sum.failedRequests += rhs.failedRequests
        sum.connectsStarted += rhs.connectsStarted
        sum.connectFailures += rhs.connectFailures
        sum.healthChecks += rhs.healthChecks
        return sum
    }
}
