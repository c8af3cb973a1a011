/// Keepalive PINGs, the peer's PING policy and the connection's maximum age, as gRPC defines
/// them and grpc-go configures them (gRFC A8 "Client-side Keepalive", A9 "Server-side
/// Connection Management"; `keepalive.ClientParameters`, `ServerParameters`,
/// `EnforcementPolicy`). No I/O and no timer: the connection reports reads, PINGs received
/// and HEADERS or DATA sent, and the handler's one timer per connection asks
/// ``nextDeadline(openStreams:)`` and, when it fires, ``due(now:openStreams:)``.
///
/// | concern | configured by | what happens |
/// |---|---|---|
/// | keepalive | ``HTTP2Configuration/keepalive`` | after `interval` without reading anything, a PING (RFC 9113 §6.7); nothing read within `timeout` after it: the peer is gone, the connection is closed without GOAWAY |
/// | PING policy | ``HTTP2Configuration/pingPolicy`` | a PING sooner than `minInterval` after the previous one (2 hours while no stream is open, unless permitted) is a strike; past `maxStrikes`, GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings") (§6.8) and close; HEADERS or DATA we send forgive the strikes |
/// | maximum age | ``HTTP2Configuration/maxConnectionAge`` (servers) | past the age ±10 %, the graceful shutdown: GOAWAY(NO_ERROR, "max_age") and a PING, then the last stream (§6.8) |
/// | grace | ``HTTP2Configuration/maxConnectionAgeGrace`` | that long after the age, whatever is still open is closed with GOAWAY(NO_ERROR) |
///
/// Times are monotonic nanoseconds (`now`), as in ``HTTP2Timeouts``; tests drive a fake clock.
///
/// Why these rules:
/// - Keepalive starts once the handshake is done (the peer's SETTINGS arrived); before, the
///   handshake timeout watches the connection. The interval counts from the last byte read,
///   never from the last PING sent (A8): a client configured exactly like the server's
///   policy is then never struck.
///   Anything read after the PING shows the peer alive (grpc-go checks "activity", not the
///   ACK). Without `permitWithoutCalls` no PING goes out while no stream is open; the first
///   stream after a quiet spell longer than the interval gets one at once (A8: a dead
///   connection is found within the timeout, not the interval plus the timeout).
/// - The policy counts as grpc-go's server does (`handlePing`): every PING is compared with
///   the previous PING, whether or not that one was struck; the first PING after we sent
///   HEADERS or DATA is not checked and clears the strikes (A8: PINGs have other uses, such
///   as BDP estimation, which follow the data they measure). A PING with no open stream,
///   when such PINGs are not permitted, must come 2 hours after the previous one (TCP
///   keepalive's minimum, RFC 1122). The glitch budget (``HTTP2AbuseLimits``) charges PINGs
///   as before: the policy is the gRPC rule on top of it, not a replacement.
/// - The age is jittered ±10 % per connection (A9), so connections opened in a burst do
///   not all end in one; the grace counts from the first GOAWAY, as grpc-go's does.
///
/// ```swift
/// var configuration = HTTP2Configuration(role: .server)
/// configuration.keepalive = .init(interval: .seconds(60), timeout: .seconds(20))
/// var keepalive = HTTP2Keepalive(configuration: configuration, ageJitter: 0)
/// keepalive.start(now: clock)
/// keepalive.received(now: clock)                        // bytes from the peer
/// if keepalive.due(now: clock, openStreams: 1) == .ping { /* send PING(HTTP2Keepalive.pingData) */ }
/// ```
struct HTTP2Keepalive {
    /// What the connection must do now.
    enum Action: Equatable {
        /// Send a keepalive PING with ``HTTP2Keepalive/pingData``.
        case ping
        /// Nothing arrived within the timeout after our PING: close the connection (no
        /// GOAWAY) and fail its streams with `reason`.
        case unresponsive(reason: String)
        /// The maximum age passed: begin the graceful shutdown, GOAWAY debug data "max_age".
        case maxAge
        /// The grace after the maximum age passed: close with GOAWAY(NO_ERROR) and `reason`.
        case graceOver(reason: String)
    }

    /// Opaque data of our keepalive PINGs ("LoopKeep"), so their ACKs are not reported as
    /// the application's.
    static let pingData: UInt64 = 0x4C6F_6F70_4B65_6570
    /// GOAWAY debug data for too many PINGs, as gRPC clients look for it (A8).
    static let tooManyPings = "too_many_pings"
    /// GOAWAY debug data of the graceful shutdown at the maximum age (A9).
    static let maxAgeDebugData = "max_age"
    /// How far apart PINGs must be while no stream is open, when the policy does not permit
    /// them (A8: 2 hours, TCP keepalive's least interval).
    static let withoutCallsInterval: UInt64 = 7200 * 1_000_000_000

    // Keepalive.
    private let interval: UInt64?
    private let timeout: UInt64
    private let timeoutLimit: Duration
    private let pingsWithoutCalls: Bool
    private var lastReadAt: UInt64 = 0
    /// The peer's SETTINGS arrived: keepalive runs from here (before, the handshake timeout
    /// watches the connection).
    private var handshakeDone = false
    /// When our PING left, while nothing has been read since.
    private(set) var pingSentAt: UInt64?

    // The peer's PINGs.
    private let policy: HTTP2Configuration.PingPolicy?
    private let minInterval: UInt64
    private var lastPingReceivedAt: UInt64?
    /// PINGs the peer sent too early, since the strikes were last forgiven.
    private(set) var strikes = 0
    /// We sent HEADERS or DATA since the last PING: the next one is not checked.
    private var strikesForgiven = false

    // Age.
    private let age: UInt64?
    private let grace: UInt64?
    private let graceLimit: Duration?
    private var ageDeadline: UInt64?
    private var graceDeadline: UInt64?

    /// - Parameter ageJitter: the fraction added to the maximum age, within −0.1...0.1
    ///   (``randomAgeJitter()`` in production, fixed in tests).
    init(configuration: HTTP2Configuration, ageJitter: Double) {
        interval = configuration.keepalive.map { Self.nanoseconds($0.interval) }
        timeout = configuration.keepalive.map { Self.nanoseconds($0.timeout) } ?? 0
        timeoutLimit = configuration.keepalive?.timeout ?? .zero
        pingsWithoutCalls = configuration.keepalive?.permitWithoutCalls ?? false
        policy = configuration.pingPolicy
        minInterval = configuration.pingPolicy.map { Self.nanoseconds($0.minInterval) } ?? 0
        // The age is a server's rule (A9): a client's GOAWAY would only stop its own requests.
        if configuration.role == .server, let limit = configuration.maxConnectionAge {
            let jitter = min(max(ageJitter, -0.1), 0.1)
            let jittered = Double(Self.nanoseconds(limit)) * (1 + jitter)
            age = jittered < Double(UInt64.max) ? UInt64(jittered) : .max
            grace = configuration.maxConnectionAgeGrace.map(Self.nanoseconds)
            graceLimit = configuration.maxConnectionAgeGrace
        } else {
            age = nil
            grace = nil
            graceLimit = nil
        }
    }

    /// A jitter for ``init(configuration:ageJitter:)``: uniform in −10 %...+10 % (A9).
    static func randomAgeJitter() -> Double { Double.random(in: -0.1...0.1) }

    /// True when nothing here is configured: the connection keeps no deadline for it.
    var isEmpty: Bool { interval == nil && policy == nil && age == nil }

    /// The connection started at `now`: the first interval and the age count from here.
    mutating func start(now: UInt64) {
        lastReadAt = now
        if let age { ageDeadline = Self.adding(now, age) }
    }

    // MARK: Keepalive

    /// The handshake is done (the peer's SETTINGS arrived, after the bytes that carried them
    /// were reported to ``received(now:)``): keepalive PINGs may go out from now on.
    mutating func handshakeCompleted() {
        handshakeDone = true
    }

    /// Bytes arrived from the peer at `now`: it is alive, and the interval starts over.
    @inline(__always)
    mutating func received(now: UInt64) {
        lastReadAt = now
        pingSentAt = nil
    }

    // MARK: The peer's PINGs

    /// We sent HEADERS or DATA: the next PING is not checked and clears the strikes.
    @inline(__always)
    mutating func sentHeadersOrData() {
        strikesForgiven = true
    }

    /// The peer sent a PING (not an ACK) at `now`, with `openStreams` streams open.
    /// - Returns: true when it is one strike too many: answer with
    ///   GOAWAY(ENHANCE_YOUR_CALM, ``tooManyPings``) and close.
    mutating func pingReceived(now: UInt64, openStreams: Int) -> Bool {
        guard let policy else { return false }
        defer { lastPingReceivedAt = now }
        if strikesForgiven {
            strikesForgiven = false
            strikes = 0
            return false
        }
        let least = openStreams == 0 && !policy.permitWithoutCalls ? Self.withoutCallsInterval : minInterval
        if let last = lastPingReceivedAt, now &- last < least { strikes += 1 }
        return strikes > policy.maxStrikes
    }

    // MARK: Deadlines

    /// The earliest time ``due(now:openStreams:)`` has something to do, if any.
    func nextDeadline(openStreams: Int) -> UInt64? {
        var earliest = keepaliveDeadline(openStreams: openStreams)
        if let deadline = ageDeadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        if let deadline = graceDeadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        return earliest
    }

    private func keepaliveDeadline(openStreams: Int) -> UInt64? {
        guard let interval, handshakeDone else { return nil }
        if let pingSentAt { return Self.adding(pingSentAt, timeout) }
        guard openStreams > 0 || pingsWithoutCalls else { return nil }
        return Self.adding(lastReadAt, interval)
    }

    /// What must happen at `now`, one action per call (call again until nil); the action
    /// is taken as done.
    mutating func due(now: UInt64, openStreams: Int) -> Action? {
        if let sent = pingSentAt, now >= Self.adding(sent, timeout) {
            pingSentAt = nil
            return .unresponsive(reason: "keepalive ping not acknowledged within \(timeoutLimit)")
        }
        if let deadline = graceDeadline, now >= deadline {
            graceDeadline = nil
            return .graceOver(reason: "max connection age grace of \(graceLimit ?? .zero) passed")
        }
        if let deadline = ageDeadline, now >= deadline {
            ageDeadline = nil
            graceDeadline = grace.map { Self.adding(now, $0) }
            return .maxAge
        }
        if pingSentAt == nil, let deadline = keepaliveDeadline(openStreams: openStreams), now >= deadline {
            pingSentAt = now
            return .ping
        }
        return nil
    }

    /// `a + b`, or the end of time rather than a wrap (a limit of years must not pass at once).
    static func adding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : adding(whole, UInt64(max(attoseconds, 0) / 1_000_000_000))
    }
}
