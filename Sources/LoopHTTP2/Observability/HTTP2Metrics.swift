import CoreMetrics
import Synchronization

/// The metrics of HTTP/2 connections, through swift-metrics: one set per server or client
/// (HTTP2Server, HTTP2Client, GRPCServer, GRPCChannel and HTTP2Proxy make theirs once, when
/// they bind or are created), shared by all of its connections. Handles are made once: the
/// unlabeled ones at once, a labeled one (a reset code, a close reason, an abuse limit) the
/// first time its label value occurs. Nothing is made or counted when the factory is
/// swift-metrics' no-op one (the global `MetricsSystem` before it is bootstrapped).
///
/// Servers (`role: .server`):
///
/// | metric | type | labels |
/// |---|---|---|
/// | `loop_http2_connections_accepted_total` | counter | |
/// | `loop_http2_connections_open` | gauge | |
/// | `loop_http2_connections_closed_total` | counter | `reason` (``HTTP2CloseReason``) |
/// | `loop_http2_streams_opened_total` | counter | |
/// | `loop_http2_resets_sent_total` | counter | `code` (`PROTOCOL_ERROR`, ...) |
/// | `loop_http2_resets_received_total` | counter | `code` |
/// | `loop_http2_abuse_limit_trips_total` | counter | `limit` (``HTTP2AbuseLimit``) |
///
/// Clients count the same under `loop_http2_client_` (`connections_opened_total` for
/// `connections_accepted_total`).
///
/// ```swift
/// var configuration = HTTP2Configuration(role: .server)
/// configuration.metricsFactory = PrometheusMetricsFactory(registry: registry)   // or MetricsSystem.bootstrap(...)
/// ```
public final class HTTP2Metrics: Sendable {
    let connectionsOpened: Counter
    let connectionsOpen: Meter
    let streamsOpened: Counter
    private let closed: LabeledCounters
    private let resetsSent: LabeledCounters
    private let resetsReceived: LabeledCounters
    private let abuseLimitTrips: LabeledCounters

    /// Makes the handles through `factory` for connections of `role`.
    public init(factory: any MetricsFactory, role: HTTP2Configuration.Role) {
        let prefix = role == .server ? "loop_http2_" : "loop_http2_client_"
        connectionsOpened = Counter(label: prefix + (role == .server ? "connections_accepted_total" : "connections_opened_total"),
                                    dimensions: [], factory: factory)
        connectionsOpen = Meter(label: prefix + "connections_open", dimensions: [], factory: factory)
        streamsOpened = Counter(label: prefix + "streams_opened_total", dimensions: [], factory: factory)
        closed = LabeledCounters(factory, prefix + "connections_closed_total", "reason", count: HTTP2CloseReason.allCases.count)
        resetsSent = LabeledCounters(factory, prefix + "resets_sent_total", "code", count: HTTP2ConnectionCounters.codeSlots)
        resetsReceived = LabeledCounters(factory, prefix + "resets_received_total", "code", count: HTTP2ConnectionCounters.codeSlots)
        abuseLimitTrips = LabeledCounters(factory, prefix + "abuse_limit_trips_total", "limit", count: HTTP2AbuseLimit.allCases.count)
    }

    /// The metrics for connections of `role` through `factory` (nil: `MetricsSystem.factory`,
    /// which is task-local aware), or nil when that factory is the no-op one.
    public static func make(factory: (any MetricsFactory)?, role: HTTP2Configuration.Role) -> HTTP2Metrics? {
        let factory = factory ?? MetricsSystem.factory
        if factory is NOOPMetricsHandler { return nil }
        return HTTP2Metrics(factory: factory, role: role)
    }

    func connectionClosed(_ reason: HTTP2CloseReason) {
        closed.increment(reason.index, by: 1) { HTTP2CloseReason.allCases[$0].rawValue }
    }

    func abuseLimitTripped(_ limit: HTTP2AbuseLimit) {
        abuseLimitTrips.increment(limit.index, by: 1) { HTTP2AbuseLimit.allCases[$0].rawValue }
    }

    /// Adds what a connection counted since the last report and clears it.
    func report(_ counters: inout HTTP2ConnectionCounters) {
        if counters.streamsOpened > 0 { streamsOpened.increment(by: counters.streamsOpened) }
        for slot in 0..<HTTP2ConnectionCounters.codeSlots {
            if counters.resetsSent[slot] > 0 {
                resetsSent.increment(slot, by: counters.resetsSent[slot], HTTP2ConnectionCounters.codeLabel)
            }
            if counters.resetsReceived[slot] > 0 {
                resetsReceived.increment(slot, by: counters.resetsReceived[slot], HTTP2ConnectionCounters.codeLabel)
            }
        }
        counters = HTTP2ConnectionCounters()
    }
}

/// Counters of one metric, one per value of its label, each made the first time its value
/// occurs (so a server that never resets a stream exports no reset series).
final class LabeledCounters: Sendable {
    private let factory: any MetricsFactory
    private let label: String
    private let dimension: String
    private let counters: Mutex<[Counter?]>

    init(_ factory: any MetricsFactory, _ label: String, _ dimension: String, count: Int) {
        self.factory = factory
        self.label = label
        self.dimension = dimension
        self.counters = Mutex([Counter?](repeating: nil, count: count))
    }

    func increment(_ index: Int, by amount: Int, _ value: (Int) -> String) {
        let counter = counters.withLock { counters in
            if let counter = counters[index] { return counter }
            let counter = Counter(label: label, dimensions: [(dimension, value(index))], factory: factory)
            counters[index] = counter
            return counter
        }
        counter.increment(by: amount)
    }
}

/// Why a connection closed: the `reason` label of `loop_http2_connections_closed_total`.
public enum HTTP2CloseReason: String, Sendable, CaseIterable {
    /// Drained after a GOAWAY (either side's) or the peer's half-close: every stream finished.
    case graceful
    /// The socket closed without a GOAWAY of ours (the peer closed it, or the application did).
    case peerClosed = "peer_closed"
    /// No open stream for ``HTTP2Configuration/idleTimeout``.
    case idleTimeout = "idle_timeout"
    /// The peer's SETTINGS did not come within ``HTTP2Configuration/handshakeTimeout``.
    case handshakeTimeout = "handshake_timeout"
    /// The peer broke the protocol: GOAWAY with the RFC's code (not ENHANCE_YOUR_CALM).
    case protocolError = "protocol_error"
    /// An abuse limit tripped: GOAWAY(ENHANCE_YOUR_CALM) (see ``HTTP2AbuseLimit``).
    case abuseLimit = "abuse_limit"
    /// TLS failed: the handshake, a record, or ALPN chose another protocol.
    case tlsError = "tls_error"
    /// Another error reached the handler (a socket error).
    case error

    var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// Which abuse limit closed a connection with ENHANCE_YOUR_CALM: the `limit` label of
/// `loop_http2_abuse_limit_trips_total`.
public enum HTTP2AbuseLimit: String, Sendable, CaseIterable {
    /// ``HTTP2Configuration/glitchBudget`` (rapid reset, MadeYouReset, control-frame floods).
    case glitchBudget = "glitch_budget"
    /// ``HTTP2Configuration/maxContinuationFrames`` (CONTINUATION floods).
    case continuationFrames = "continuation_frames"
    /// ``HTTP2Configuration/maxHeaderBlockSize``.
    case headerBlockSize = "header_block_size"
    /// ``HTTP2Configuration/headerBlockTimeout`` (slow header blocks).
    case headerBlockTimeout = "header_block_timeout"
    /// ``HTTP2Configuration/writeStallTimeout`` (a peer that does not read).
    case writeStallTimeout = "write_stall_timeout"

    var index: Int { Self.allCases.firstIndex(of: self)! }
}
